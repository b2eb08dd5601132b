/* Flow table on rte_hash (single writer, bulk lookup) with a preallocated record
 * array. Records never move, so the hash stores a record index as its data. */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dpfix_flow.h"

#define LOOKUP_BURST 32

struct dpfix_flow_table {
	struct rte_hash *hash;
	struct dpfix_flow_record *records;
	uint32_t *free_slots;   /* stack of unused record indexes */
	uint32_t free_count;
	uint32_t capacity;
	uint32_t scan_cursor;   /* where the incremental expiry scan resumes */
	uint32_t flush_cursor;
	struct dpfix_flow_stats stats;
};

struct dpfix_flow_table *
dpfix_flow_table_create(const char *name, uint32_t capacity, int socket)
{
	struct dpfix_flow_table *t;
	struct rte_hash_parameters params = {
		.name = name,
		/* rte_hash needs headroom over the live-entry count to avoid early
		 * "full" under cuckoo displacement; the records bound the flow count. */
		.entries = capacity + capacity / 4 + 64,
		.key_len = sizeof(struct dpfix_flow_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	if (capacity == 0)
		return NULL;
	t = rte_zmalloc_socket(name, sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return NULL;
	t->capacity = capacity;
	t->records = rte_zmalloc_socket(name, sizeof(*t->records) * capacity, RTE_CACHE_LINE_SIZE,
			socket);
	t->free_slots = rte_malloc_socket(name, sizeof(*t->free_slots) * capacity, 0, socket);
	t->hash = rte_hash_create(&params);
	if (t->records == NULL || t->free_slots == NULL || t->hash == NULL) {
		dpfix_flow_table_free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < capacity; i++)
		t->free_slots[i] = capacity - 1 - i;
	t->free_count = capacity;
	return t;
}

void
dpfix_flow_table_free(struct dpfix_flow_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t->records);
	rte_free(t->free_slots);
	rte_free(t);
}

static inline void
record_update(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now_ns)
{
	r->packets++;
	r->octets += p->ip_octets;
	if (now_ns > r->last_ns)
		r->last_ns = now_ns;
	if (now_ns < r->first_ns)
		r->first_ns = now_ns;
	r->tcp_flags |= p->tcp_flags;
	if (p->ttl < r->min_ttl)
		r->min_ttl = p->ttl;
	if (p->ttl > r->max_ttl)
		r->max_ttl = p->ttl;
}

/* A fresh record for the packet p; record_update then counts the packet. */
static void
record_init(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now_ns,
		uint16_t port)
{
	memset(r, 0, sizeof(*r));
	r->key = p->key;
	r->first_ns = r->last_ns = now_ns;
	r->vlan_id = p->vlan_id;
	r->ingress_port = port;
	r->tos = p->tos;
	r->min_ttl = r->max_ttl = p->ttl;
	r->in_use = 1;
}

static struct dpfix_flow_record *
record_create(struct dpfix_flow_table *t, const struct dpfix_packet_info *p, uint64_t now_ns,
		uint16_t port)
{
	struct dpfix_flow_record *r;
	uint32_t slot;

	if (t->free_count == 0)
		return NULL;
	slot = t->free_slots[t->free_count - 1];
	if (rte_hash_add_key_data(t->hash, &p->key, (void *)(uintptr_t)slot) < 0)
		return NULL;
	t->free_count--;
	r = &t->records[slot];
	record_init(r, p, now_ns, port);
	t->stats.flows_created++;
	return r;
}

/* Offers the record to emit; on acceptance removes it from the table. */
static int
record_end(struct dpfix_flow_table *t, uint32_t slot, uint8_t reason, dpfix_flow_emit_t emit,
		void *ctx)
{
	struct dpfix_flow_record *r = &t->records[slot];

	r->end_reason = reason;
	if (!emit(ctx, r)) {
		t->stats.emit_deferred++;
		return 0;
	}
	rte_hash_del_key(t->hash, &r->key);
	r->in_use = 0;
	t->free_slots[t->free_count++] = slot;
	switch (reason) {
	case DPFIX_FLOW_END_IDLE:
		t->stats.flows_expired_idle++;
		break;
	case DPFIX_FLOW_END_ACTIVE:
		t->stats.flows_expired_active++;
		break;
	default:
		t->stats.flows_expired_forced++;
		break;
	}
	return 1;
}

/* Ends the record in place and restarts it for the packet at now_ns, keeping its slot
 * and hash entry. Returns 0 (record kept as it was) if emit refused. */
static int
record_restart(struct dpfix_flow_table *t, struct dpfix_flow_record *r,
		const struct dpfix_packet_info *p, uint64_t now_ns, uint16_t port,
		const struct dpfix_flow_expiry *expiry)
{
	uint8_t reason;

	if (now_ns >= r->last_ns + expiry->idle_ns)
		reason = DPFIX_FLOW_END_IDLE;
	else if (now_ns >= r->first_ns + expiry->active_ns)
		reason = DPFIX_FLOW_END_ACTIVE;
	else
		return 1;
	r->end_reason = reason;
	if (!expiry->emit(expiry->ctx, r)) {
		t->stats.emit_deferred++;
		return 0; /* keep metering into the old record rather than lose it */
	}
	if (reason == DPFIX_FLOW_END_IDLE)
		t->stats.flows_expired_idle++;
	else
		t->stats.flows_expired_active++;
	t->stats.flows_created++;
	record_init(r, p, now_ns, port);
	return 1;
}

void
dpfix_flow_table_update_bulk(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const uint64_t *times_ns, uint32_t n, uint16_t port, const struct dpfix_flow_expiry *expiry)
{
	const void *keys[LOOKUP_BURST];
	void *data[LOOKUP_BURST];

	while (n > 0) {
		uint32_t batch = n < LOOKUP_BURST ? n : LOOKUP_BURST;
		uint64_t hits = 0;

		for (uint32_t i = 0; i < batch; i++)
			keys[i] = &pkts[i].key;
		rte_hash_lookup_bulk_data(t->hash, keys, batch, &hits, data);
		for (uint32_t i = 0; i < batch; i++) {
			if (hits & (1ULL << i))
				rte_prefetch0(&t->records[(uintptr_t)data[i]]);
		}
		for (uint32_t i = 0; i < batch; i++) {
			struct dpfix_flow_record *r;
			void *slot;

			if (hits & (1ULL << i))
				r = &t->records[(uintptr_t)data[i]];
			else if (rte_hash_lookup_data(t->hash, keys[i], &slot) >= 0)
				r = &t->records[(uintptr_t)slot]; /* created earlier in this burst */
			else
				r = NULL;
			if (r != NULL && expiry != NULL) {
				record_restart(t, r, &pkts[i], times_ns[i], port, expiry);
			} else if (r == NULL) {
				r = record_create(t, &pkts[i], times_ns[i], port);
				if (r == NULL) {
					t->stats.table_full++;
					continue;
				}
			}
			record_update(r, &pkts[i], times_ns[i]);
		}
		pkts += batch;
		times_ns += batch;
		n -= batch;
	}
}

uint32_t
dpfix_flow_table_expire(struct dpfix_flow_table *t, uint64_t now_ns, uint64_t idle_ns,
		uint64_t active_ns, uint32_t max_slots, dpfix_flow_emit_t emit, void *ctx)
{
	uint32_t expired = 0;

	if (max_slots > t->capacity)
		max_slots = t->capacity;
	for (uint32_t i = 0; i < max_slots; i++) {
		uint32_t slot = t->scan_cursor;
		struct dpfix_flow_record *r = &t->records[slot];
		uint8_t reason = 0;

		t->scan_cursor = slot + 1 == t->capacity ? 0 : slot + 1;
		if (!r->in_use)
			continue;
		if (now_ns >= r->last_ns + idle_ns)
			reason = DPFIX_FLOW_END_IDLE;
		else if (now_ns >= r->first_ns + active_ns)
			reason = DPFIX_FLOW_END_ACTIVE;
		if (reason == 0)
			continue;
		if (!record_end(t, slot, reason, emit, ctx)) {
			/* Consumer is full: resume at this slot next time. */
			t->scan_cursor = slot;
			break;
		}
		expired++;
	}
	return expired;
}

int
dpfix_flow_table_flush(struct dpfix_flow_table *t, uint8_t reason, dpfix_flow_emit_t emit,
		void *ctx)
{
	/* Resumable: after -EAGAIN new flows may have taken slots behind the cursor,
	 * so sweep again until a whole pass finds the table empty. */
	while (dpfix_flow_table_count(t) != 0) {
		for (; t->flush_cursor < t->capacity; t->flush_cursor++) {
			if (t->records[t->flush_cursor].in_use &&
					!record_end(t, t->flush_cursor, reason, emit, ctx))
				return -EAGAIN;
		}
		t->flush_cursor = 0;
	}
	return 0;
}

uint32_t
dpfix_flow_table_count(const struct dpfix_flow_table *t)
{
	return t->capacity - t->free_count;
}

const struct dpfix_flow_stats *
dpfix_flow_table_stats(const struct dpfix_flow_table *t)
{
	return &t->stats;
}
