/* The flow table: records in one preallocated array, found through the hash index
 * (flow_index.h), ended through the timer wheel (flow_wheel.h). Metering a burst is
 * a three-stage pipeline: hash and prefetch buckets, match signatures and prefetch
 * records, then compare keys and count; a caller may run the stages apart, to overlap
 * one batch's memory accesses with its other work. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dpfix_flow.h"
#include "flow_index.h"
#include "flow_key.h"
#include "flow_wheel.h"

#define NO_RECORD UINT32_MAX
#define WHEEL_SLOTS 8192
/* At most this many flows are looked at to find one to evict. Those passed over are
 * filed where the expiry pass would have put them, so the work is not wasted. */
#define EVICT_CANDIDATES 16
/* Index entries of ended flows are removed this many ends later, so the bucket,
 * prefetched when the flow ends, has arrived by then (a power of 2). */
#define DEFERRED_DELS 16

#define IPPROTO_TCP_ 6
#define TCP_FIN 0x01
#define TCP_RST 0x04

/* A free record's key.reserved: a packet's key has 0 there, so it matches no packet. */
#define KEY_FREE 0xff

/* A live record's end_reason byte holds its state. */
enum {
	STATE_IN_USE = 0x40,
	STATE_TCP_END = 0x80,   /* a FIN or RST was seen: ends after tcp_end_ns quiet */
};

_Static_assert(sizeof(struct dpfix_flow_record) == 128, "flow record must be two cache lines");
_Static_assert(offsetof(struct dpfix_flow_record, last_ns) == 64,
		"key, packets and octets must fill the first cache line");

struct dpfix_flow_table {
	struct flow_index index;
	struct flow_wheel wheel;
	struct dpfix_flow_record *records;
	uint32_t *free_slots;   /* stack of unused record numbers */
	uint32_t free_count;
	uint32_t capacity;
	uint64_t idle_ns;
	uint64_t active_ns;
	uint64_t tcp_end_ns;
	/* After timeouts were shortened: the wheel slots [refile_next, refile_end) still
	 * hold flows filed for the old, later expiries; the expiry pass moves them. */
	uint64_t refile_next, refile_end;
	int biflow;
	dpfix_flow_emit_t emit;
	void *emit_ctx;
	/* The per-flow extensions (dpfix_flow_params.ext_size), record r's at
	 * ext + r * ext_stride; NULL without. */
	uint8_t *ext;
	uint32_t ext_size, ext_stride;
	dpfix_flow_packet_fn on_packet;
	void *on_packet_ctx;
	/* Index entries still to remove, of records already free. Until then such an
	 * entry points to a record that is free (its key spoilt so that no packet's key
	 * matches it) or reused by another flow: harmless either way, since a lookup
	 * compares the key the record holds. */
	struct {
		struct flow_hash h;
		uint32_t rec;
	} dels[DEFERRED_DELS];
	uint32_t dels_done, dels_added;
	struct dpfix_flow_stats stats;
};

const uint8_t dpfix_flow_symmetric_rss_key[DPFIX_FLOW_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

void
dpfix_flow_key_reverse(const struct dpfix_flow_key *k, struct dpfix_flow_key *out)
{
	key_reverse(k, out);
}

/* The index hashes a biflow by the smaller of its two orientations, so both
 * directions land in the same bucket. biflow: the table's (a constant where inlined). */
static inline struct flow_hash
key_hash(const struct dpfix_flow_table *t, const struct dpfix_flow_key *k,
		const struct dpfix_flow_key *rk, const int biflow)
{
	if (biflow && memcmp(rk, k, sizeof(*k)) < 0)
		return flow_index_hash(&t->index, rk);
	return flow_index_hash(&t->index, k);
}

/* Record number holding k (or, with biflow, its reverse rk), else NO_RECORD. */
static inline uint32_t
lookup(const struct dpfix_flow_table *t, struct flow_hash h, const struct dpfix_flow_key *k,
		const struct dpfix_flow_key *rk, int *reverse, const int biflow)
{
	uint32_t b = h.bucket;

	for (;;) {
		const struct flow_bucket *bk = &t->index.buckets[b];
		uint32_t m = flow_bucket_match(bk, h.sig);

		while (m != 0) {
			uint32_t r = bk->rec[__builtin_ctz(m) / 2];
			const struct dpfix_flow_key *rec_key = &t->records[r].key;

			if (key_equal(rec_key, k)) {
				*reverse = 0;
				return r;
			}
			if (biflow && key_equal(rec_key, rk)) {
				*reverse = 1;
				return r;
			}
			m &= m - 1;
		}
		if (bk->overflow == 0)
			return NO_RECORD;
		b = (b + 1) & t->index.mask;
	}
}

/* When the flow ends if no packet comes, and for which reason. */
static inline uint64_t
flow_due(const struct dpfix_flow_table *t, const struct dpfix_flow_record *r, uint8_t *reason)
{
	uint64_t last = RTE_MAX(r->last_ns, r->rev_last_ns);
	uint64_t quiet_end = last + ((r->end_reason & STATE_TCP_END) ? t->tcp_end_ns : t->idle_ns);
	uint64_t active_end = r->first_ns + t->active_ns;

	if (quiet_end <= active_end) {
		*reason = (r->end_reason & STATE_TCP_END) ? DPFIX_FLOW_END_OF_FLOW : DPFIX_FLOW_END_IDLE;
		return quiet_end;
	}
	*reason = DPFIX_FLOW_END_ACTIVE;
	return active_end;
}

static void
count_end(struct dpfix_flow_table *t, uint8_t reason)
{
	switch (reason) {
	case DPFIX_FLOW_END_IDLE:
		t->stats.flows_expired_idle++;
		break;
	case DPFIX_FLOW_END_ACTIVE:
		t->stats.flows_expired_active++;
		break;
	case DPFIX_FLOW_END_OF_FLOW:
		t->stats.flows_ended_tcp++;
		break;
	case DPFIX_FLOW_END_LACK_OF_RESOURCES:
		t->stats.flows_evicted++;
		break;
	default:
		t->stats.flows_expired_forced++;
		break;
	}
}

static inline void *
ext_of(const struct dpfix_flow_table *t, uint32_t r)
{
	return t->ext + (size_t)r * t->ext_stride;
}

/* Offers the record to emit with its end reason; if refused, it lives on as it was. */
static inline int
offer(struct dpfix_flow_table *t, struct dpfix_flow_record *rec, uint8_t reason)
{
	uint8_t state = rec->end_reason;

	rec->end_reason = reason;
	if (t->emit(t->emit_ctx, rec,
			t->ext != NULL ? ext_of(t, (uint32_t)(rec - t->records)) : NULL))
		return 1;
	rec->end_reason = state;
	t->stats.emit_deferred++;
	return 0;
}

/* Removes the oldest deferred index entry. */
static inline void
del_oldest(struct dpfix_flow_table *t)
{
	uint32_t i = t->dels_done++ & (DEFERRED_DELS - 1);

	flow_index_del(&t->index, t->dels[i].h, t->dels[i].rec);
}

static void
dels_finish(struct dpfix_flow_table *t)
{
	while (t->dels_done != t->dels_added)
		del_oldest(t);
}

/* Offers record r (already out of the wheel) to emit; on acceptance frees it and
 * files its index entry for removal. Returns 0 if emit refused: the caller puts it
 * back. */
static int
flow_end(struct dpfix_flow_table *t, uint32_t r, uint8_t reason)
{
	struct dpfix_flow_record *rec = &t->records[r];
	struct flow_hash h = {t->wheel.links[r].bucket, t->wheel.links[r].sig};
	uint32_t i;

	if (!offer(t, rec, reason))
		return 0;
	count_end(t, reason);
	rte_prefetch0(&t->index.buckets[h.bucket]);
	if (t->dels_added - t->dels_done == DEFERRED_DELS)
		del_oldest(t);
	i = t->dels_added++ & (DEFERRED_DELS - 1);
	t->dels[i].h = h;
	t->dels[i].rec = r;
	rec->key.reserved = KEY_FREE;
	t->free_slots[t->free_count++] = r;
	return 1;
}

/* A fresh record for packet p (its direction is the forward one); the counting
 * functions then count the packet. */
static inline void
record_init(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now_ns,
		uint16_t port)
{
	memset(r, 0, sizeof(*r));
	r->key = p->key;
	r->first_ns = r->last_ns = now_ns;
	r->vlan_id = p->vlan_id;
	r->ingress_port = port;
	r->mpls_top = p->mpls_top;
	r->tos = p->tos;
	r->min_ttl = r->max_ttl = p->ttl;
	r->end_reason = STATE_IN_USE;
}

static inline void
count_forward(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now_ns)
{
	r->packets++;
	r->octets += p->ip_octets;
	if (now_ns > r->last_ns)
		r->last_ns = now_ns;
	r->tcp_flags |= p->tcp_flags;
	if (p->ttl < r->min_ttl)
		r->min_ttl = p->ttl;
	if (p->ttl > r->max_ttl)
		r->max_ttl = p->ttl;
}

static inline void
count_reverse(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now_ns)
{
	if (r->rev_packets == 0) {
		r->rev_first_ns = r->rev_last_ns = now_ns;
		r->rev_min_ttl = r->rev_max_ttl = p->ttl;
	}
	r->rev_packets++;
	r->rev_octets += p->ip_octets;
	if (now_ns > r->rev_last_ns)
		r->rev_last_ns = now_ns;
	if (now_ns < r->rev_first_ns)
		r->rev_first_ns = now_ns;
	r->rev_tcp_flags |= p->tcp_flags;
	if (p->ttl < r->rev_min_ttl)
		r->rev_min_ttl = p->ttl;
	if (p->ttl > r->rev_max_ttl)
		r->rev_max_ttl = p->ttl;
}

/* Finds room for one more flow: ends the flow nearest its expiry. A candidate
 * whose expiry is later than its slot says (it saw packets since it was filed) is
 * filed where it belongs and the next one looked at; one already past its expiry
 * ends for that reason rather than as an eviction. Returns 0 if nothing could be
 * ended (the export ring is full). */
static __rte_always_inline int
evict_one(struct dpfix_flow_table *t, uint64_t now_ns)
{
	struct flow_wheel *wh = &t->wheel;

	for (unsigned int tries = 1;; tries++) {
		uint64_t s = flow_wheel_first_busy(wh);
		uint32_t r;
		uint64_t due;
		uint8_t reason;

		if (s == UINT64_MAX)
			return 0;
		r = flow_wheel_pop(wh, s);
		/* The next candidate is wanted soon: by this eviction if this one is passed
		 * over, else by the next one (in a flood, the next packet). */
		if (!(wh->links[r].next & FLOW_WHEEL_END)) {
			rte_prefetch0(&t->records[wh->links[r].next]);
			rte_prefetch0(&wh->links[wh->links[r].next]);
		}
		due = flow_due(t, &t->records[r], &reason);
		if (due > now_ns) {
			if (tries < EVICT_CANDIDATES && flow_wheel_slot_of(wh, due) > s) {
				flow_wheel_add(wh, r, due);
				continue;
			}
			reason = DPFIX_FLOW_END_LACK_OF_RESOURCES;
		}
		if (!flow_end(t, r, reason)) {
			flow_wheel_push_front(wh, r, s);
			return 0;
		}
		return 1;
	}
}

/* A packet for a new flow that found no room: counted, not metered. */
static __attribute__((noinline, cold)) void
ignore_packet(struct dpfix_flow_table *t, const struct dpfix_packet_info *p, uint64_t now_ns)
{
	t->stats.ignored_packets++;
	t->stats.ignored_octets += p->ip_octets;
	if (t->stats.first_ignored_ns == 0 || now_ns < t->stats.first_ignored_ns)
		t->stats.first_ignored_ns = now_ns;
	if (now_ns > t->stats.last_ignored_ns)
		t->stats.last_ignored_ns = now_ns;
}

/* Inlined into each instance of the pipeline, as it was into the only one. */
static __rte_always_inline uint32_t
flow_create(struct dpfix_flow_table *t, struct flow_hash h, const struct dpfix_packet_info *p,
		uint64_t now_ns, uint16_t port)
{
	uint32_t r;

	if (t->free_count == 0) {
		t->stats.table_full++;
		if (!evict_one(t, now_ns)) {
			ignore_packet(t, p, now_ns);
			return NO_RECORD;
		}
	}
	/* An empty wheel starts at this packet's time: the expiry pass may have run ahead
	 * on the clock before the first packet of a capture with older timestamps, and
	 * flows filed behind the cursor would wait until packet time caught up. */
	if (t->free_count == t->capacity)
		t->wheel.cursor = t->wheel.evict_hint = flow_wheel_slot_of(&t->wheel, now_ns);
	r = t->free_slots[--t->free_count];
	record_init(&t->records[r], p, now_ns, port);
	flow_index_add(&t->index, h, r);
	t->wheel.links[r].bucket = h.bucket;
	t->wheel.links[r].sig = h.sig;
	flow_wheel_add(&t->wheel, r, now_ns + t->idle_ns);
	t->stats.flows_created++;
	return r;
}

/* A packet for a flow whose time is up ends the record and starts a new one in the
 * same place. Returns nonzero if the record was restarted. If emit refuses, the
 * packet is counted in the old record rather than lost. */
static inline int
restart_if_ended(struct dpfix_flow_table *t, struct dpfix_flow_record *rec,
		const struct dpfix_packet_info *p, uint64_t now_ns, uint16_t port)
{
	uint8_t reason;
	uint64_t due = flow_due(t, rec, &reason);

	if (now_ns < due)
		return 0;
	if (!offer(t, rec, reason))
		return 0;
	count_end(t, reason);
	t->stats.flows_created++;
	record_init(rec, p, now_ns, port);
	return 1;
}

/* A packet older than its record's start: reordered between ports or queues, or a
 * capture whose clock stepped back. It may move the record's start back only while
 * the record still keeps its timeouts: less than idle_ns before the start (no longer
 * quiet gap) and less than active_ns before its last packet (no longer span), and only
 * in the forward direction (that of the record's first packet, in a biflow). Any other
 * late packet is counted at the record's start, and one beyond the timeouts in
 * late_packets. Returns the time to count the packet at. Out of line: rare. */
static __attribute__((noinline, cold)) uint64_t
late_packet(struct dpfix_flow_table *t, uint32_t r, int reverse, uint64_t now_ns)
{
	struct dpfix_flow_record *rec = &t->records[r];
	uint64_t last = RTE_MAX(rec->last_ns, rec->rev_last_ns);
	uint8_t reason;

	if (rec->first_ns - now_ns >= t->idle_ns || last - now_ns >= t->active_ns) {
		t->stats.late_packets++;
		return rec->first_ns;
	}
	if (reverse)
		return rec->first_ns;
	rec->first_ns = now_ns;
	/* Its active timeout came closer: file it again. */
	flow_wheel_remove(&t->wheel, r);
	flow_wheel_add(&t->wheel, r, flow_due(t, rec, &reason));
	return now_ns;
}

/* Meters packet p. with_ext and biflow are constants. with_ext: the table's extensions
 * are kept (each record's zeroed when it starts, on_packet called with frame once the
 * packet is counted), or the table has none and the code for them is not there.
 * biflow: the table's, so a uniflow table's instance tests no reverse direction. */
static __rte_always_inline void
meter_one(struct dpfix_flow_table *t, const struct dpfix_packet_info *p,
		const struct dpfix_flow_key *rk, struct flow_hash h, uint32_t cand, uint64_t now_ns,
		uint16_t port, const int with_ext, const int biflow, const struct dpfix_flow_frame *frame)
{
	struct dpfix_flow_record *rec;
	const uint64_t packet_ns = now_ns;
	int reverse = 0;
	uint32_t r;

	/* The record the pipeline's second stage found first under the signature (all
	 * of them were prefetched) is this packet's, unless its key says otherwise; it
	 * may have ended or been reused by the burst's packets since: its key tells. */
	if (cand != NO_RECORD && key_equal(&t->records[cand].key, &p->key)) {
		r = cand;
	} else if (cand != NO_RECORD && biflow && key_equal(&t->records[cand].key, rk)) {
		r = cand;
		reverse = 1;
	} else {
		r = lookup(t, h, &p->key, rk, &reverse, biflow);
	}
	if (r == NO_RECORD) {
		r = flow_create(t, h, p, now_ns, port);
		if (r == NO_RECORD)
			return;
		rec = &t->records[r];
		if (with_ext)
			memset(ext_of(t, r), 0, t->ext_size);
	} else {
		rec = &t->records[r];
		if (restart_if_ended(t, rec, p, now_ns, port)) {
			reverse = 0;
			if (with_ext)
				memset(ext_of(t, r), 0, t->ext_size);
		} else if (unlikely(now_ns < rec->first_ns)) {
			now_ns = late_packet(t, r, reverse, now_ns);
		}
	}
	if (reverse)
		count_reverse(rec, p, now_ns);
	else
		count_forward(rec, p, now_ns);
	if (p->key.protocol == IPPROTO_TCP_ && (p->tcp_flags & (TCP_FIN | TCP_RST)) &&
			!(rec->end_reason & STATE_TCP_END)) {
		uint8_t reason;

		/* Its end came closer: file it again, once per flow. */
		rec->end_reason |= STATE_TCP_END;
		flow_wheel_remove(&t->wheel, r);
		flow_wheel_add(&t->wheel, r, flow_due(t, rec, &reason));
	}
	if (with_ext)
		t->on_packet(t->on_packet_ctx, rec, ext_of(t, r), reverse, p, frame, packet_ns);
}

/* The pipeline's first stage: hash each packet's key, prefetch its home bucket. */
static __rte_always_inline void
lookup_start(const struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts, uint32_t n,
		struct dpfix_flow_lookup *lk, const int biflow)
{
	for (uint32_t i = 0; i < n; i++) {
		struct flow_hash h;

		if (biflow)
			key_reverse(&pkts[i].key, &lk->rkeys[i]);
		h = key_hash(t, &pkts[i].key, &lk->rkeys[i], biflow);
		lk->bucket[i] = h.bucket;
		lk->sig[i] = h.sig;
		rte_prefetch0(&t->index.buckets[h.bucket]);
	}
	lk->n = n;
}

/* The second, for packet i: match the signature in its bucket, prefetch the records
 * it names. */
static __rte_always_inline void
lookup_continue_one(const struct dpfix_flow_table *t, struct dpfix_flow_lookup *lk, uint32_t i,
		const int with_ext)
{
	const struct flow_bucket *bk = &t->index.buckets[lk->bucket[i]];
	uint32_t m = flow_bucket_match(bk, lk->sig[i]);

	lk->cand[i] = m != 0 ? bk->rec[__builtin_ctz(m) / 2] : NO_RECORD;
	while (m != 0) {
		const struct dpfix_flow_record *rec = &t->records[bk->rec[__builtin_ctz(m) / 2]];

		rte_prefetch0(rec);
		rte_prefetch0((const char *)rec + RTE_CACHE_LINE_SIZE);
		if (with_ext)
			rte_prefetch0(ext_of(t, bk->rec[__builtin_ctz(m) / 2]));
		m &= m - 1;
	}
}

/* The third: meter the packets lk was started for; with_ext as for meter_one (frames
 * may be NULL then). Between them, the second stage of next's packets (NULL: none),
 * so that their prefetches go out among the work rather than all at once and stall
 * on the core's few outstanding misses. Returns how many packets were ignored. */
static __rte_always_inline uint32_t
meter_looked_up(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const struct dpfix_flow_frame *frames, const struct dpfix_flow_lookup *lk,
		const uint64_t *times_ns, uint16_t port, struct dpfix_flow_lookup *next,
		const int with_ext, const int biflow)
{
	uint64_t ignored = t->stats.ignored_packets;
	uint32_t i = 0;

	for (; i < lk->n; i++) {
		meter_one(t, &pkts[i], &lk->rkeys[i], (struct flow_hash){lk->bucket[i], lk->sig[i]},
				lk->cand[i], times_ns[i], port, with_ext, biflow,
				frames != NULL ? &frames[i] : NULL);
		if (next != NULL && i < next->n)
			lookup_continue_one(t, next, i, with_ext);
	}
	for (; next != NULL && i < next->n; i++)
		lookup_continue_one(t, next, i, with_ext);
	return (uint32_t)(t->stats.ignored_packets - ignored);
}

/* The three stages, batch after batch. */
static __rte_always_inline uint32_t
update_bulk(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const struct dpfix_flow_frame *frames, const uint64_t *times_ns, uint32_t n,
		uint16_t port, const int with_ext, const int biflow)
{
	struct dpfix_flow_lookup lk;
	uint32_t ignored = 0;

	while (n > 0) {
		uint32_t batch = n < DPFIX_FLOW_LOOKUP_BATCH ? n : DPFIX_FLOW_LOOKUP_BATCH;

		lookup_start(t, pkts, batch, &lk, biflow);
		for (uint32_t i = 0; i < batch; i++)
			lookup_continue_one(t, &lk, i, with_ext);
		ignored += meter_looked_up(t, pkts, frames, &lk, times_ns, port, NULL, with_ext,
				biflow);
		pkts += batch;
		if (frames != NULL)
			frames += batch;
		times_ns += batch;
		n -= batch;
	}
	return ignored;
}

/* Each entry point holds the pipeline's instances for its case, uniflow and biflow:
 * the ones without extensions are compiled alone (the others are kept out of them). */
__attribute__((noinline)) uint32_t
dpfix_flow_table_update_bulk_frames(struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, const struct dpfix_flow_frame *frames,
		const uint64_t *times_ns, uint32_t n, uint16_t port);

uint32_t
dpfix_flow_table_update_bulk(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const uint64_t *times_ns, uint32_t n, uint16_t port)
{
	if (unlikely(t->ext != NULL))
		return dpfix_flow_table_update_bulk_frames(t, pkts, NULL, times_ns, n, port);
	if (t->biflow)
		return update_bulk(t, pkts, NULL, times_ns, n, port, 0, 1);
	return update_bulk(t, pkts, NULL, times_ns, n, port, 0, 0);
}

__attribute__((noinline)) uint32_t
dpfix_flow_table_update_bulk_frames(struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, const struct dpfix_flow_frame *frames,
		const uint64_t *times_ns, uint32_t n, uint16_t port)
{
	if (t->ext == NULL)
		return dpfix_flow_table_update_bulk(t, pkts, times_ns, n, port);
	if (t->biflow)
		return update_bulk(t, pkts, frames, times_ns, n, port, 1, 1);
	return update_bulk(t, pkts, frames, times_ns, n, port, 1, 0);
}

/* The stages one at a time, for a caller that overlaps them with other work; a table
 * without extensions (the measures need each packet's frame at metering). */
void
dpfix_flow_table_lookup_start(const struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, uint32_t n, struct dpfix_flow_lookup *lk)
{
	if (t->biflow)
		lookup_start(t, pkts, n, lk, 1);
	else
		lookup_start(t, pkts, n, lk, 0);
}

void
dpfix_flow_table_lookup_continue(const struct dpfix_flow_table *t, struct dpfix_flow_lookup *lk)
{
	for (uint32_t i = 0; i < lk->n; i++)
		lookup_continue_one(t, lk, i, 0);
}

uint32_t
dpfix_flow_table_update_looked_up(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const struct dpfix_flow_lookup *lk, const uint64_t *times_ns, uint16_t port,
		struct dpfix_flow_lookup *next)
{
	if (t->biflow)
		return meter_looked_up(t, pkts, NULL, lk, times_ns, port, next, 0, 1);
	return meter_looked_up(t, pkts, NULL, lk, times_ns, port, next, 0, 0);
}

const struct dpfix_flow_record *
dpfix_flow_table_find(struct dpfix_flow_table *t, const struct dpfix_flow_key *k, void **ext)
{
	struct dpfix_flow_key rk;
	int reverse = 0;
	uint32_t r;

	key_reverse(k, &rk);
	r = lookup(t, key_hash(t, k, &rk, t->biflow), k, &rk, &reverse, t->biflow);
	if (r == NO_RECORD || reverse) {
		*ext = NULL;
		return NULL;
	}
	*ext = t->ext != NULL ? ext_of(t, r) : NULL;
	return &t->records[r];
}

uint32_t
dpfix_flow_table_ext_stride(const struct dpfix_flow_table *t)
{
	return t->ext != NULL ? t->ext_stride : 0;
}

int
dpfix_flow_table_set_timeouts(struct dpfix_flow_table *t, uint64_t idle_ns, uint64_t active_ns,
		uint64_t tcp_end_ns)
{
	tcp_end_ns = RTE_MIN(tcp_end_ns, idle_ns);
	if (idle_ns == 0 || active_ns == 0)
		return -ERANGE;
	/* Longer timeouts need nothing more: a flow found not yet due is moved on (beyond
	 * the wheel's span, to its last slot). Shorter ones bring expiries forward, which
	 * the slots the flows sit in do not know: they are walked once (refile). */
	if (idle_ns < t->idle_ns || active_ns < t->active_ns || tcp_end_ns < t->tcp_end_ns) {
		t->refile_next = t->wheel.cursor + 1;
		t->refile_end = t->wheel.cursor + t->wheel.nb_slots;
	}
	t->idle_ns = idle_ns;
	t->active_ns = active_ns;
	t->tcp_end_ns = tcp_end_ns;
	return 0;
}

/* Moves the flows of slots after the cursor whose expiry now falls in an earlier slot,
 * whole slots at a time, until about max_work flows were looked at. */
static uint32_t
refile_some(struct dpfix_flow_table *t, uint32_t max_work)
{
	struct flow_wheel *wh = &t->wheel;
	uint32_t work = 0;

	if (t->refile_next <= wh->cursor)
		t->refile_next = wh->cursor + 1;
	while (t->refile_next < t->refile_end && work < max_work) {
		uint64_t s = t->refile_next++;
		uint32_t r = wh->heads[(uint32_t)s & (wh->nb_slots - 1)];

		while (r != FLOW_WHEEL_NONE) {
			uint32_t next = wh->links[r].next;
			uint8_t reason;
			uint64_t due = flow_due(t, &t->records[r], &reason);

			work++;
			/* Filed before s (at the cursor at the earliest, never s itself). */
			if (flow_wheel_slot_of(wh, due) < s) {
				flow_wheel_remove(wh, r);
				flow_wheel_add(wh, r, due);
			}
			r = (next & FLOW_WHEEL_END) ? FLOW_WHEEL_NONE : next;
		}
	}
	return work;
}

uint32_t
dpfix_flow_table_expire(struct dpfix_flow_table *t, uint64_t now_ns, uint32_t max_work)
{
	struct flow_wheel *wh = &t->wheel;
	uint64_t now_slot = flow_wheel_slot_of(wh, now_ns);
	uint32_t ended = 0, work = 0;

	/* Far behind (a jump in packet time): every filed flow is in the last
	 * nb_slots slots' lists read as the slots up to now, which is never later
	 * than where it was filed, so nothing is missed. */
	if (now_slot >= wh->cursor + wh->nb_slots)
		wh->cursor = now_slot - wh->nb_slots + 1;
	if (unlikely(t->refile_next < t->refile_end))
		work += refile_some(t, max_work);
	/* A slot is worked once its whole time has passed, so a flow found not yet
	 * due always moves to a later slot. */
	while (wh->cursor < now_slot && work < max_work) {
		uint32_t r = flow_wheel_pop(wh, wh->cursor);
		uint64_t due;
		uint8_t reason;

		work++;
		if (r == FLOW_WHEEL_NONE) {
			wh->cursor++;
			continue;
		}
		due = flow_due(t, &t->records[r], &reason);
		if (due > now_ns) {
			flow_wheel_add(wh, r, due);
			continue;
		}
		if (!flow_end(t, r, reason)) {
			flow_wheel_push_front(wh, r, wh->cursor);
			break;
		}
		ended++;
	}
	return ended;
}

int
dpfix_flow_table_flush(struct dpfix_flow_table *t, uint8_t reason)
{
	struct flow_wheel *wh = &t->wheel;

	for (uint64_t s = wh->cursor; s < wh->cursor + wh->nb_slots; s++) {
		uint32_t r;

		while ((r = flow_wheel_pop(wh, s)) != FLOW_WHEEL_NONE) {
			if (!flow_end(t, r, reason)) {
				flow_wheel_push_front(wh, r, s);
				return -EAGAIN;
			}
		}
	}
	dels_finish(t);
	return 0;
}

struct dpfix_flow_table *
dpfix_flow_table_create(const struct dpfix_flow_params *p)
{
	struct dpfix_flow_table *t;
	uint64_t span, buckets;

	if (p->capacity == 0 || p->capacity >= FLOW_WHEEL_END || p->emit == NULL ||
			p->idle_ns == 0 || p->active_ns == 0)
		return NULL;
	t = rte_zmalloc_socket(p->name, sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket);
	if (t == NULL)
		return NULL;
	t->capacity = p->capacity;
	t->idle_ns = p->idle_ns;
	t->active_ns = p->active_ns;
	t->tcp_end_ns = RTE_MIN(p->tcp_end_ns, p->idle_ns);
	t->biflow = p->biflow;
	t->emit = p->emit;
	t->emit_ctx = p->emit_ctx;
	if (p->ext_size != 0) {
		if (p->on_packet == NULL) {
			rte_free(t);
			return NULL;
		}
		/* A power of 2 up to a cache line, whole cache lines beyond: no extension
		 * straddles more lines than its size needs. */
		t->ext_size = p->ext_size;
		t->ext_stride = p->ext_size <= RTE_CACHE_LINE_SIZE ? rte_align32pow2(p->ext_size) :
				RTE_ALIGN_CEIL(p->ext_size, RTE_CACHE_LINE_SIZE);
		t->on_packet = p->on_packet;
		t->on_packet_ctx = p->on_packet_ctx;
		t->ext = rte_zmalloc_socket(p->name, (size_t)p->capacity * t->ext_stride,
				RTE_CACHE_LINE_SIZE, p->socket);
		if (t->ext == NULL) {
			rte_free(t);
			return NULL;
		}
	}

	/* At most two thirds of the index's ways in use keeps probes short; entries of
	 * ended flows awaiting removal take ways too. */
	buckets = rte_align64pow2((((uint64_t)p->capacity + DEFERRED_DELS) * 3 / 2 +
			FLOW_INDEX_WAYS - 1) / FLOW_INDEX_WAYS);
	flow_index_init(&t->index, rte_zmalloc_socket(p->name, buckets * sizeof(struct flow_bucket),
			RTE_CACHE_LINE_SIZE, p->socket), (uint32_t)buckets, p->hash_seed);
	t->records = rte_zmalloc_socket(p->name, (size_t)p->capacity * sizeof(*t->records),
			2 * RTE_CACHE_LINE_SIZE, p->socket);
	t->free_slots = rte_malloc_socket(p->name, sizeof(uint32_t) * p->capacity, 0, p->socket);
	t->wheel.links = rte_malloc_socket(p->name, sizeof(struct flow_wheel_link) * p->capacity,
			0, p->socket);
	t->wheel.heads = rte_malloc_socket(p->name, sizeof(uint32_t) * WHEEL_SLOTS, 0, p->socket);
	t->wheel.tails = rte_malloc_socket(p->name, sizeof(uint32_t) * WHEEL_SLOTS, 0, p->socket);
	if (t->index.buckets == NULL || t->records == NULL || t->free_slots == NULL ||
			t->wheel.links == NULL || t->wheel.heads == NULL || t->wheel.tails == NULL) {
		dpfix_flow_table_free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < p->capacity; i++)
		t->free_slots[i] = p->capacity - 1 - i;
	t->free_count = p->capacity;

	/* The wheel spans the longest timeout, so a flow is filed at most one turn ahead. */
	t->wheel.nb_slots = WHEEL_SLOTS;
	span = RTE_MAX(p->idle_ns, p->active_ns);
	while ((span >> t->wheel.slot_shift) >= WHEEL_SLOTS - 1)
		t->wheel.slot_shift++;
	for (uint32_t i = 0; i < WHEEL_SLOTS; i++)
		t->wheel.heads[i] = t->wheel.tails[i] = FLOW_WHEEL_NONE;
	return t;
}

void
dpfix_flow_table_free(struct dpfix_flow_table *t)
{
	if (t == NULL)
		return;
	rte_free(t->index.buckets);
	rte_free(t->records);
	rte_free(t->free_slots);
	rte_free(t->wheel.links);
	rte_free(t->wheel.heads);
	rte_free(t->wheel.tails);
	rte_free(t->ext);
	rte_free(t);
}

uint32_t
dpfix_flow_table_count(const struct dpfix_flow_table *t)
{
	return t->capacity - t->free_count;
}

uint32_t
dpfix_flow_table_capacity(const struct dpfix_flow_table *t)
{
	return t->capacity;
}

uint64_t
dpfix_flow_table_granularity_ns(const struct dpfix_flow_table *t)
{
	return 1ull << t->wheel.slot_shift;
}

const struct dpfix_flow_stats *
dpfix_flow_table_stats(const struct dpfix_flow_table *t)
{
	return &t->stats;
}
