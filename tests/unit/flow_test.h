/* What the lib/flow unit tests share: tables with the tests' timeouts, packets built by
 * key number, and the emit callback's sink of the records it is given. */
#ifndef FLOW_TEST_H
#define FLOW_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>
#include <rte_thash.h>

#include "crc_collisions.h"
#include "dpfix_flow.h"
#include "flow_index.h"
#include "unit_test.h"

#define CAPACITY 1024
#define HASH_SEED 0x5eed
#define MAX_EMITTED 4096

/* What the emit callback saw, and how much more it will take. */
struct sink {
	uint32_t n;
	int64_t budget;         /* records still accepted; negative: unlimited */
	uint32_t refused;
	struct dpfix_flow_record rec[MAX_EMITTED];
	uint64_t ext[MAX_EMITTED][3];   /* test_extension's extension of each record */
};

static struct sink sink;

static inline void
sink_reset(struct sink *s, int64_t budget)
{
	s->n = 0;
	s->budget = budget;
	s->refused = 0;
}

static inline int
sink_emit(void *ctx, const struct dpfix_flow_record *rec, const void *ext)
{
	struct sink *s = ctx;

	if (s->budget == 0) {
		s->refused++;
		return 0;
	}
	if (s->budget > 0)
		s->budget--;
	if (s->n < MAX_EMITTED) {
		s->rec[s->n] = *rec;
		if (ext != NULL)
			memcpy(s->ext[s->n], ext, sizeof(s->ext[0]));
	}
	s->n++;
	return 1;
}

/* Flow keys by number: distinct numbers give distinct IPv4 5-tuples. */
static inline void
make_packet(struct dpfix_packet_info *p, uint32_t key, uint32_t ip_octets, uint8_t tcp_flags,
		uint8_t ttl)
{
	memset(p, 0, sizeof(*p));
	p->key.ip_version = 4;
	p->key.protocol = 6;
	p->key.src_addr[0] = 10;
	p->key.src_addr[1] = (uint8_t)(key >> 16);
	p->key.src_addr[2] = (uint8_t)(key >> 8);
	p->key.src_addr[3] = (uint8_t)key;
	p->key.dst_addr[0] = 192;
	p->key.dst_addr[1] = 0;
	p->key.dst_addr[2] = 2;
	p->key.dst_addr[3] = 1;
	p->key.src_port = (uint16_t)(1024 + key % 50000);
	p->key.dst_port = 80;
	p->ip_octets = ip_octets;
	p->tcp_flags = tcp_flags;
	p->ttl = ttl;
	p->tos = (uint8_t)(key & 0xfc);
	p->vlan_id = (uint16_t)(key % 4096);
	p->mpls_top = key << 4 | 1;
}

static inline uint32_t
key_number(const struct dpfix_flow_key *k)
{
	return (uint32_t)k->src_addr[1] << 16 | (uint32_t)k->src_addr[2] << 8 | k->src_addr[3];
}

static inline const struct dpfix_flow_record *
find_emitted(const struct sink *s, uint32_t key)
{
	const struct dpfix_flow_record *found = NULL;

	for (uint32_t i = 0; i < s->n && i < MAX_EMITTED; i++) {
		if (key_number(&s->rec[i].key) == key) {
			if (found != NULL)
				return NULL; /* emitted twice: as bad as not at all */
			found = &s->rec[i];
		}
	}
	return found;
}

#define NEVER 1000000000000ull      /* a timeout no test reaches */

static inline struct dpfix_flow_table *
table_with(const char *name, uint32_t capacity, uint64_t idle, uint64_t active, uint64_t tcp_end,
		int biflow)
{
	struct dpfix_flow_table *t = dpfix_flow_table_create(&(struct dpfix_flow_params){
		.name = name, .capacity = capacity, .socket = SOCKET_ID_ANY, .idle_ns = idle,
		.active_ns = active, .tcp_end_ns = tcp_end, .biflow = biflow, .emit = sink_emit,
		.emit_ctx = &sink, .hash_seed = HASH_SEED,
	});

	CHECK(t != NULL);
	return t;
}

static inline struct dpfix_flow_table *
table(const char *name, uint32_t capacity)
{
	return table_with(name, capacity, NEVER, NEVER, NEVER, 0);
}

static inline void
meter(struct dpfix_flow_table *t, const struct dpfix_packet_info *p, uint64_t time_ns)
{
	dpfix_flow_table_update_bulk(t, p, &time_ns, 1, 0);
}

#endif
