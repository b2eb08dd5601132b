/* Unit tests for lib/flow on a real (hugepage-free) DPDK EAL: metering per key, bursts,
 * idle and active expiry, back-pressure from the export callback, and a full table. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "dpfix_flow.h"
#include "unit_test.h"

#define CAPACITY 1024
#define MAX_EMITTED 4096

/* What the emit callback saw, and how much more it will take. */
struct sink {
	uint32_t n;
	int64_t budget;         /* records still accepted; negative: unlimited */
	uint32_t refused;
	struct dpfix_flow_record rec[MAX_EMITTED];
};

static struct sink sink;

static void
sink_reset(struct sink *s, int64_t budget)
{
	s->n = 0;
	s->budget = budget;
	s->refused = 0;
}

static int
sink_emit(void *ctx, const struct dpfix_flow_record *rec)
{
	struct sink *s = ctx;

	if (s->budget == 0) {
		s->refused++;
		return 0;
	}
	if (s->budget > 0)
		s->budget--;
	if (s->n < MAX_EMITTED)
		s->rec[s->n] = *rec;
	s->n++;
	return 1;
}

/* Flow keys by number: distinct numbers give distinct IPv4 5-tuples. */
static void
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
}

static uint32_t
key_number(const struct dpfix_flow_key *k)
{
	return (uint32_t)k->src_addr[1] << 16 | (uint32_t)k->src_addr[2] << 8 | k->src_addr[3];
}

static const struct dpfix_flow_record *
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

static struct dpfix_flow_table *
table(const char *name, uint32_t capacity)
{
	struct dpfix_flow_table *t = dpfix_flow_table_create(name, capacity, SOCKET_ID_ANY);

	CHECK(t != NULL);
	return t;
}

/* Expected totals per key, computed alongside the packets. */
struct expect {
	uint64_t packets, octets, first, last;
	uint8_t flags, min_ttl, max_ttl, tos;
	uint16_t vlan;
};

static void
expect_add(struct expect *e, const struct dpfix_packet_info *p, uint64_t t)
{
	if (e->packets == 0) {
		e->first = e->last = t;
		e->min_ttl = e->max_ttl = p->ttl;
		e->tos = p->tos;
		e->vlan = p->vlan_id;
	}
	e->packets++;
	e->octets += p->ip_octets;
	e->flags |= p->tcp_flags;
	if (t < e->first)
		e->first = t;
	if (t > e->last)
		e->last = t;
	if (p->ttl < e->min_ttl)
		e->min_ttl = p->ttl;
	if (p->ttl > e->max_ttl)
		e->max_ttl = p->ttl;
}

static void
check_record(const struct dpfix_flow_record *r, const struct expect *e, uint16_t port,
		uint8_t reason)
{
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_EQ_U64(r->packets, e->packets);
	CHECK_EQ_U64(r->octets, e->octets);
	CHECK_EQ_U64(r->first_ns, e->first);
	CHECK_EQ_U64(r->last_ns, e->last);
	CHECK_EQ_U64(r->tcp_flags, e->flags);
	CHECK_EQ_U64(r->min_ttl, e->min_ttl);
	CHECK_EQ_U64(r->max_ttl, e->max_ttl);
	CHECK_EQ_U64(r->tos, e->tos);
	CHECK_EQ_U64(r->vlan_id, e->vlan);
	CHECK_EQ_U64(r->ingress_port, port);
	CHECK_EQ_U64(r->end_reason, reason);
}

static void
test_create(void)
{
	struct dpfix_flow_table *t;

	CHECK(dpfix_flow_table_create("ft_zero", 0, SOCKET_ID_ANY) == NULL);
	t = table("ft_create", CAPACITY);
	if (t == NULL)
		return;
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, 0);
	dpfix_flow_table_free(t);
	dpfix_flow_table_free(NULL);
}

static void
test_metering(void)
{
	/* key, octets, flags, ttl, time: keys 1..3, times out of order on purpose. */
	static const struct {
		uint32_t key, octets;
		uint8_t flags, ttl;
		uint64_t t;
	} pk[] = {
		{1, 60, 0x02, 64, 1000}, {2, 1500, 0x10, 50, 1001}, {1, 52, 0x12, 63, 1002},
		{3, 40, 0x00, 1, 1003}, {1, 1400, 0x18, 200, 999}, {2, 40, 0x01, 51, 5000},
		{1, 40, 0x11, 64, 1004},
	};
	const uint32_t n = sizeof(pk) / sizeof(pk[0]);
	struct dpfix_packet_info pkts[sizeof(pk) / sizeof(pk[0])];
	uint64_t times[sizeof(pk) / sizeof(pk[0])];
	struct expect e[4];
	struct dpfix_flow_table *t = table("ft_metering", CAPACITY);
	const struct dpfix_flow_stats *st;

	if (t == NULL)
		return;
	memset(e, 0, sizeof(e));
	for (uint32_t i = 0; i < n; i++) {
		make_packet(&pkts[i], pk[i].key, pk[i].octets, pk[i].flags, pk[i].ttl);
		times[i] = pk[i].t;
		expect_add(&e[pk[i].key], &pkts[i], pk[i].t);
	}
	dpfix_flow_table_update_bulk(t, pkts, times, n, 3, NULL);
	st = dpfix_flow_table_stats(t);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);
	CHECK_EQ_U64(st->flows_created, 3);
	CHECK_EQ_U64(st->table_full, 0);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, 3);
	for (uint32_t k = 1; k <= 3; k++) {
		const struct dpfix_flow_record *r = find_emitted(&sink, k);

		check_record(r, &e[k], 3, DPFIX_FLOW_END_FORCED);
		if (r != NULL)
			CHECK(memcmp(&r->key, &pkts[k == 1 ? 0 : k == 2 ? 1 : 3].key, sizeof(r->key)) == 0);
	}
	/* The first packet of key 1 came at 1000, but one at 999 arrived later. */
	CHECK(find_emitted(&sink, 1) != NULL && find_emitted(&sink, 1)->first_ns == 999);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_forced, 3);

	/* An emptied table starts over: the same key is a new flow. */
	dpfix_flow_table_update_bulk(t, pkts, times, 1, 3, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);
	CHECK_EQ_U64(st->flows_created, 4);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK(sink.n == 1 && sink.rec[0].packets == 1 && sink.rec[0].octets == 60);
	dpfix_flow_table_free(t);
}

/* Bursts: a new key repeated inside one lookup burst of 32, a key first seen as the
 * burst's last packet and again at the start of the next, and calls far above 32. */
static void
test_bursts(void)
{
	static struct dpfix_packet_info pkts[1000];
	static uint64_t times[1000];
	static struct expect e[64];
	struct dpfix_flow_table *t = table("ft_bursts", CAPACITY);
	const struct dpfix_flow_stats *st;
	uint32_t n = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	memset(e, 0, sizeof(e));

	/* One burst of exactly 32: key 7 new, 21 times, mixed with keys 8 and 9. */
	for (uint32_t i = 0; i < 32; i++) {
		uint32_t key = i % 3 == 0 ? 8 + (i / 3) % 2 : 7;

		make_packet(&pkts[i], key, 100 + i, (uint8_t)(1u << (i % 8)), (uint8_t)(10 + i));
		times[i] = 10000 + i;
		expect_add(&e[key], &pkts[i], times[i]);
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 32, 0, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);
	CHECK_EQ_U64(st->flows_created, 3);

	/* 1000 packets in one call (31 bursts and a bit): keys 10..49, and key 50 only
	 * at index 31 (end of a burst, new) and 32 (start of the next). */
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t key = 10 + (i * 7) % 40;

		if (i == 31 || i == 32)
			key = 50;
		make_packet(&pkts[i], key, 40 + i % 1460, (uint8_t)(i & 0x3f), (uint8_t)(i % 251 + 1));
		times[i] = 20000 + i;
		expect_add(&e[key], &pkts[i], times[i]);
		n++;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, n, 1, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3 + 41);
	CHECK_EQ_U64(st->flows_created, 3 + 41);
	CHECK_EQ_U64(st->table_full, 0);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, 44);
	check_record(find_emitted(&sink, 7), &e[7], 0, DPFIX_FLOW_END_FORCED);
	check_record(find_emitted(&sink, 8), &e[8], 0, DPFIX_FLOW_END_FORCED);
	check_record(find_emitted(&sink, 9), &e[9], 0, DPFIX_FLOW_END_FORCED);
	for (uint32_t k = 10; k <= 50; k++)
		check_record(find_emitted(&sink, k), &e[k], 1, DPFIX_FLOW_END_FORCED);
	{
		uint64_t total = 0;

		for (uint32_t i = 0; i < sink.n; i++)
			total += sink.rec[i].packets;
		CHECK_EQ_U64(total, 32 + 1000);
	}
	dpfix_flow_table_free(t);
}

static void
test_idle_expiry(void)
{
	const uint64_t idle = 500, active = 1000000;
	struct dpfix_flow_table *t = table("ft_idle", CAPACITY);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info p[2];
	uint64_t times[2] = {1000, 1200};

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	make_packet(&p[0], 1, 100, 0x02, 64);
	make_packet(&p[1], 2, 100, 0x02, 64);
	dpfix_flow_table_update_bulk(t, p, times, 2, 0, NULL);

	/* Key 1 last seen at 1000: still alive at 1499, idle at 1500 exactly. */
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1499, idle, active, CAPACITY, sink_emit, &sink), 0);
	CHECK_EQ_U64(sink.n, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 2);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1500, idle, active, CAPACITY, sink_emit, &sink), 1);
	CHECK_EQ_U64(sink.n, 1);
	CHECK(sink.n == 1 && key_number(&sink.rec[0].key) == 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);
	CHECK_EQ_U64(st->flows_expired_idle, 1);

	/* A packet refreshes key 2: idle is measured from the last one. */
	times[0] = 1600;
	dpfix_flow_table_update_bulk(t, &p[1], times, 1, 0, NULL);
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 2099, idle, active, CAPACITY, sink_emit, &sink), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 2100, idle, active, CAPACITY, sink_emit, &sink), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK(sink.n == 1 && sink.rec[0].first_ns == 1200 && sink.rec[0].last_ns == 1600);
	CHECK(sink.n == 1 && sink.rec[0].packets == 2);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_idle, 2);
	dpfix_flow_table_free(t);
}

static void
test_active_expiry(void)
{
	const uint64_t idle = 500, active = 1000;
	struct dpfix_flow_table *t = table("ft_active", CAPACITY);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info p;
	uint64_t now;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	make_packet(&p, 1, 100, 0x10, 64);

	/* A packet every 100 ns from 0 keeps the flow from going idle; it ends as active
	 * once now reaches first + active. */
	sink_reset(&sink, -1);
	for (now = 0; now < 1000; now += 100) {
		dpfix_flow_table_update_bulk(t, &p, &now, 1, 0, NULL);
		CHECK_EQ_U64(dpfix_flow_table_expire(t, now, idle, active, CAPACITY, sink_emit, &sink), 0);
	}
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 999, idle, active, CAPACITY, sink_emit, &sink), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1000, idle, active, CAPACITY, sink_emit, &sink), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_ACTIVE);
	CHECK(sink.n == 1 && sink.rec[0].packets == 10 && sink.rec[0].octets == 1000);
	CHECK(sink.n == 1 && sink.rec[0].first_ns == 0 && sink.rec[0].last_ns == 900);
	CHECK_EQ_U64(st->flows_expired_active, 1);
	CHECK_EQ_U64(st->flows_expired_idle, 0);

	/* Traffic goes on in a new flow, counted from zero. */
	now = 1000;
	dpfix_flow_table_update_bulk(t, &p, &now, 1, 0, NULL);
	CHECK_EQ_U64(st->flows_created, 2);

	/* Both timeouts due at once: idle wins (the flow has ended, not just run long). */
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 5000, idle, active, CAPACITY, sink_emit, &sink), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK(sink.n == 1 && sink.rec[0].packets == 1);
	dpfix_flow_table_free(t);
}

/* Expiry looks at max_slots slots per call and resumes where it stopped. */
static void
test_incremental_expiry(void)
{
	static struct dpfix_packet_info pkts[300];
	static uint64_t times[300];
	struct dpfix_flow_table *t = table("ft_incremental", CAPACITY);
	uint32_t total = 0, calls = 0;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 300; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = 0;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 300, 0, NULL);
	sink_reset(&sink, -1);
	/* 64 slots per call cover the 1024 slots in 16 calls. */
	while (calls < 16) {
		uint32_t n = dpfix_flow_table_expire(t, 1000, 10, 1000000, 64, sink_emit, &sink);

		CHECK(n <= 64);
		total += n;
		calls++;
	}
	CHECK_EQ_U64(total, 300);
	CHECK_EQ_U64(sink.n, 300);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	for (uint32_t k = 0; k < 300; k++)
		CHECK(find_emitted(&sink, k) != NULL);
	dpfix_flow_table_free(t);
}

/* The export ring is full: the flow stays, is counted as deferred, and comes out
 * later exactly once. */
static void
test_emit_refused(void)
{
	static struct dpfix_packet_info pkts[100];
	static uint64_t times[100];
	struct dpfix_flow_table *t = table("ft_refused", CAPACITY);
	const struct dpfix_flow_stats *st;
	uint64_t seen_packets = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t i = 0; i < 100; i++) {
		make_packet(&pkts[i], i % 10, 100, 0, 64);
		times[i] = i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 100, 0, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);

	/* Nothing accepted. */
	sink_reset(&sink, 0);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == -EAGAIN);
	CHECK_EQ_U64(sink.n, 0);
	CHECK_EQ_U64(st->emit_deferred, 1);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);

	/* Room for 4. */
	sink_reset(&sink, 4);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == -EAGAIN);
	CHECK_EQ_U64(sink.n, 4);
	CHECK_EQ_U64(st->emit_deferred, 2);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 6);
	for (uint32_t i = 0; i < sink.n; i++)
		seen_packets += sink.rec[i].packets;

	/* Room for all: the other 6, none twice. */
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, 6);
	for (uint32_t i = 0; i < sink.n; i++)
		seen_packets += sink.rec[i].packets;
	CHECK_EQ_U64(seen_packets, 100);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_forced, 10);

	/* The same through expiry: refused flows wait, and all come out once. */
	dpfix_flow_table_update_bulk(t, pkts, times, 100, 0, NULL);
	sink_reset(&sink, 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 10000, 100, 1000000, CAPACITY, sink_emit, &sink), 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);
	CHECK_EQ_U64(st->emit_deferred, 3);
	sink_reset(&sink, 3);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 10000, 100, 1000000, CAPACITY, sink_emit, &sink), 3);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 7);
	{
		uint32_t got = sink.n;
		static struct dpfix_flow_record first[3];

		memcpy(first, sink.rec, sizeof(first));
		sink_reset(&sink, -1);
		for (int i = 0; i < 2; i++)
			dpfix_flow_table_expire(t, 10000, 100, 1000000, CAPACITY, sink_emit, &sink);
		CHECK_EQ_U64(got + sink.n, 10);
		for (uint32_t i = 0; i < 3; i++)
			CHECK(find_emitted(&sink, key_number(&first[i].key)) == NULL);
		for (uint32_t k = 0; k < 10; k++) {
			int found = find_emitted(&sink, k) != NULL;

			for (uint32_t i = 0; i < 3; i++)
				found += key_number(&first[i].key) == k;
			CHECK(found == 1);
		}
	}
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_idle, 10);
	dpfix_flow_table_free(t);
}

/* A flush that had to stop, then new flows before it is called again: the flows
 * created meanwhile must come out too ("0 when the table is empty"). */
static void
test_flush_resumed_after_new_flows(void)
{
	static struct dpfix_packet_info pkts[20];
	static uint64_t times[20];
	struct dpfix_flow_table *t = table("ft_resume", CAPACITY);
	int ret;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 20; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 10, 0, NULL);
	sink_reset(&sink, 5);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == -EAGAIN);
	dpfix_flow_table_update_bulk(t, pkts + 10, times + 10, 10, 0, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 15);
	sink_reset(&sink, -1);
	ret = dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink);
	CHECK(ret == 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(sink.n, 15);
	dpfix_flow_table_free(t);
}

static void
test_table_full(void)
{
	static struct dpfix_packet_info pkts[1100];
	static uint64_t times[1100];
	struct dpfix_flow_table *t = table("ft_full", CAPACITY);
	const struct dpfix_flow_stats *st;
	uint64_t packets = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t i = 0; i < 1100; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 1100, 0, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);
	CHECK_EQ_U64(st->flows_created, CAPACITY);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY);

	/* Flows already in the table keep being metered; new ones still do not fit. */
	dpfix_flow_table_update_bulk(t, pkts, times, 10, 0, NULL);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY);
	dpfix_flow_table_update_bulk(t, pkts + 1050, times + 1050, 10, 0, NULL);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY + 10);
	CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, CAPACITY);
	for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++)
		packets += sink.rec[i].packets;
	CHECK_EQ_U64(packets, CAPACITY + 10);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);

	/* Emptied, the table takes the keys that were refused before. */
	dpfix_flow_table_update_bulk(t, pkts + CAPACITY, times + CAPACITY, 1100 - CAPACITY, 0, NULL);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1100 - CAPACITY);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY + 10);
	dpfix_flow_table_free(t);
}

/* Fill, drain, refill many times: no slot is lost or handed out twice. */
static void
test_churn(void)
{
	static struct dpfix_packet_info pkts[CAPACITY];
	static uint64_t times[CAPACITY];
	struct dpfix_flow_table *t = table("ft_churn", CAPACITY);
	const struct dpfix_flow_stats *st;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < CAPACITY; i++) {
			make_packet(&pkts[i], round * CAPACITY + i, 100, 0, 64);
			times[i] = round * 10000 + i;
		}
		dpfix_flow_table_update_bulk(t, pkts, times, CAPACITY, 0, NULL);
		CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);
		sink_reset(&sink, -1);
		/* Drain half by expiry and the rest by flush. */
		dpfix_flow_table_expire(t, round * 10000 + CAPACITY / 2 - 1 + 100, 100, 1000000, CAPACITY,
				sink_emit, &sink);
		CHECK_EQ_U64(sink.n, CAPACITY / 2);
		CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
		CHECK_EQ_U64(sink.n, CAPACITY);
		CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	}
	CHECK_EQ_U64(st->flows_created, 20 * CAPACITY);
	CHECK_EQ_U64(st->table_full, 0);
	CHECK_EQ_U64(st->flows_expired_idle + st->flows_expired_forced, 20 * CAPACITY);
	dpfix_flow_table_free(t);
}

/* Timeouts checked as packets arrive: a packet that finds its flow idle or active past
 * the timeout ends that record (with the right reason) and starts a new one, however
 * long the expiry scan has not run. A refused emit keeps metering into the old record. */
static void
test_expiry_on_packet(void)
{
	struct dpfix_flow_table *t = table("ft_on_packet", CAPACITY);
	struct dpfix_flow_expiry expiry = {.idle_ns = 100, .active_ns = 150, .emit = sink_emit,
		.ctx = &sink};
	static const uint64_t times[] = {0, 10, 200, 250, 300, 360};
	struct dpfix_packet_info p;

	if (t == NULL)
		return;
	sink_reset(&sink, -1);
	make_packet(&p, 7, 100, 0, 64);
	for (unsigned int i = 0; i < 6; i++)
		dpfix_flow_table_update_bulk(t, &p, &times[i], 1, 0, &expiry);
	/* 0,10 | idle gap to 200 | 200,250,300 | 360 is 160 after 200: active */
	CHECK_EQ_U64(sink.n, 2);
	CHECK_EQ_U64(sink.rec[0].packets, 2);
	CHECK_EQ_U64(sink.rec[0].end_reason, DPFIX_FLOW_END_IDLE);
	CHECK_EQ_U64(sink.rec[0].last_ns, 10);
	CHECK_EQ_U64(sink.rec[1].packets, 3);
	CHECK_EQ_U64(sink.rec[1].first_ns, 200);
	CHECK_EQ_U64(sink.rec[1].end_reason, DPFIX_FLOW_END_ACTIVE);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);

	/* The consumer is full: the packet is counted in the old record, not lost. */
	sink_reset(&sink, 0);
	{
		uint64_t late = 1000;

		dpfix_flow_table_update_bulk(t, &p, &late, 1, 0, &expiry);
	}
	CHECK_EQ_U64(sink.refused, 1);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->emit_deferred, 1);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED, sink_emit, &sink) == 0);
	CHECK_EQ_U64(sink.n, 1);
	CHECK_EQ_U64(sink.rec[0].packets, 2);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, 3);
	dpfix_flow_table_free(t);
}

int
main(void)
{
	char *eal_args[] = {"test_flow", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"-l", "0", "--log-level=lib.eal:error"};
	int ret;

	ret = rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])), eal_args);
	if (ret < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	RUN_TEST(test_create);
	RUN_TEST(test_metering);
	RUN_TEST(test_bursts);
	RUN_TEST(test_idle_expiry);
	RUN_TEST(test_active_expiry);
	RUN_TEST(test_incremental_expiry);
	RUN_TEST(test_emit_refused);
	RUN_TEST(test_expiry_on_packet);
	RUN_TEST(test_flush_resumed_after_new_flows);
	RUN_TEST(test_table_full);
	RUN_TEST(test_churn);
	ret = unit_test_summary();
	rte_eal_cleanup();
	return ret;
}
