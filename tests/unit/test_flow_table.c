/* Unit tests for lib/flow's table and index: eviction from a full table, floods and
 * churn, keys crafted to collide (the index's own header, flow_index.h, computes where a
 * key goes), a random trace against a reference model, and the symmetric RSS key. */
#include "flow_test.h"
#include "unit_test.h"

/* A full table: each new flow evicts the flow nearest its expiry (reason 5), flows
 * seen again recently are passed over, and nothing is lost. */
static void
test_table_full_evicts(void)
{
	static struct dpfix_packet_info pkts[1100];
	static uint64_t times[1100];
	const uint64_t ms = 1000000;
	struct dpfix_flow_table *t = table_with("ft_full", CAPACITY, 10000 * ms, 20000 * ms,
			10000 * ms, 0);
	const struct dpfix_flow_stats *st;
	uint64_t packets = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t i = 0; i < 1100; i++) {
		make_packet(&pkts[i], i, 100 + i, 0, 64);
		times[i] = i * ms;
	}
	sink_reset(&sink, -1);
	dpfix_flow_table_update_bulk(t, pkts, times, CAPACITY, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);
	/* Flows 0..9 see a packet again just before the table overflows. */
	for (uint32_t i = 0; i < 10; i++)
		meter(t, &pkts[i], (CAPACITY - 1) * ms + i);
	dpfix_flow_table_update_bulk(t, pkts + CAPACITY, times + CAPACITY, 1100 - CAPACITY, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);
	CHECK_EQ_U64(st->flows_created, 1100);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY);
	CHECK_EQ_U64(st->flows_evicted, 1100 - CAPACITY);
	CHECK_EQ_U64(st->ignored_packets, 0);
	/* The evicted are the oldest flows not seen again: 10 .. 85. */
	CHECK_EQ_U64(sink.n, 1100 - CAPACITY);
	for (uint32_t k = 10; k < 10 + 1100 - CAPACITY; k++) {
		const struct dpfix_flow_record *r = find_emitted(&sink, k);

		CHECK(r != NULL && r->end_reason == DPFIX_FLOW_END_LACK_OF_RESOURCES);
		CHECK(r != NULL && r->packets == 1 && r->octets == 100 + k && r->first_ns == k * ms);
	}

	/* The export ring is full too: a new flow cannot be metered, and is counted. */
	sink_reset(&sink, 0);
	make_packet(&pkts[0], 5000, 1234, 0, 64);
	meter(t, &pkts[0], 2000 * ms);
	meter(t, &pkts[0], 2001 * ms);
	meter(t, &pkts[0], 1999 * ms);
	CHECK_EQ_U64(st->ignored_packets, 3);
	CHECK_EQ_U64(st->ignored_octets, 3 * 1234);
	/* Their time window, for the Metering Process Reliability record. */
	CHECK_EQ_U64(st->first_ignored_ns, 1999 * ms);
	CHECK_EQ_U64(st->last_ignored_ns, 2001 * ms);
	CHECK_EQ_U64(st->table_full, 1100 - CAPACITY + 3);
	CHECK_EQ_U64(st->flows_evicted, 1100 - CAPACITY);
	CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, CAPACITY);
	for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++)
		packets += sink.rec[i].packets;
	CHECK_EQ_U64(packets, CAPACITY + 10);
	for (uint32_t k = 0; k < 10; k++)
		CHECK(find_emitted(&sink, k) != NULL && find_emitted(&sink, k)->packets == 2);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	dpfix_flow_table_free(t);
}

/* A flood: every packet a new flow, many times the capacity; memory stays the
 * table's, and every flow comes out exactly once with its packet. */
static void
test_flood(void)
{
	static struct dpfix_packet_info pkts[256];
	static uint64_t times[256];
	struct dpfix_flow_table *t = table_with("ft_flood", CAPACITY, NEVER, NEVER, NEVER, 0);
	const struct dpfix_flow_stats *st;
	uint64_t emitted = 0, emitted_packets = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t round = 0; round < 40; round++) {
		for (uint32_t i = 0; i < 256; i++) {
			make_packet(&pkts[i], round * 256 + i, 64, 0, 64);
			times[i] = (round * 256 + i) * 1000ull;
		}
		sink_reset(&sink, -1);
		dpfix_flow_table_update_bulk(t, pkts, times, 256, 0);
		emitted += sink.n;
		for (uint32_t i = 0; i < sink.n; i++)
			emitted_packets += sink.rec[i].packets;
	}
	CHECK_EQ_U64(st->flows_created, 40 * 256);
	CHECK_EQ_U64(st->flows_evicted, 40 * 256 - CAPACITY);
	CHECK_EQ_U64(emitted, 40 * 256 - CAPACITY);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	emitted_packets += sink.n;
	CHECK_EQ_U64(emitted_packets, 40 * 256);
	/* What is left are the newest flows. */
	for (uint32_t k = 40 * 256 - CAPACITY; k < 40 * 256; k++)
		CHECK(find_emitted(&sink, k) != NULL);
	dpfix_flow_table_free(t);
}

/* Hash flooding: keys with one CRC32C (which a CRC seed does not change: CRC is linear)
 * all shared one bucket chain and signature in the index before it was keyed, and in
 * rte_hash with its CRC. Under the keyed hash they spread like any keys, and each is
 * metered exactly. */
#define FLOOD_KEYS 4096

static void
test_crc_collisions_spread(void)
{
	static const unsigned int bytes[] = {0, 1, 2, 3, 17, 18, 19, 33, 34, 35};
	static struct dpfix_flow_key keys[FLOOD_KEYS];
	static struct dpfix_packet_info pkts[FLOOD_KEYS];
	static uint64_t times[FLOOD_KEYS];
	static uint32_t per_bucket[1024];
	struct dpfix_packet_info base;
	struct flow_index ix;
	struct dpfix_flow_table *t;
	uint32_t most = 0, same_crc = 0;
	uint64_t packets = 0;

	make_packet(&base, 0, 100, 0, 64);
	CHECK_EQ_U64(crc_collisions(&base.key, bytes, RTE_DIM(bytes), keys, FLOOD_KEYS), FLOOD_KEYS);
	for (uint32_t i = 0; i < FLOOD_KEYS; i++)
		same_crc += rte_hash_crc(&keys[i], sizeof(keys[i]), 0) == rte_hash_crc(&keys[0],
				sizeof(keys[0]), 0) && rte_hash_crc(&keys[i], sizeof(keys[i]), 0x12345678) ==
				rte_hash_crc(&keys[0], sizeof(keys[0]), 0x12345678);
	CHECK_EQ_U64(same_crc, FLOOD_KEYS);

	/* The index of a FLOOD_KEYS table has 1024 buckets: about 4 keys each. */
	flow_index_init(&ix, NULL, RTE_DIM(per_bucket), HASH_SEED);
	memset(per_bucket, 0, sizeof(per_bucket));
	for (uint32_t i = 0; i < FLOOD_KEYS; i++) {
		uint32_t b = flow_index_hash(&ix, &keys[i]).bucket;

		if (++per_bucket[b] > most)
			most = per_bucket[b];
	}
	CHECK(most <= 16);

	t = table("ft_crc_flood", FLOOD_KEYS);
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < FLOOD_KEYS; i++) {
		pkts[i] = base;
		pkts[i].key = keys[i];
		times[i] = 1000 + i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, FLOOD_KEYS, 0);
	dpfix_flow_table_update_bulk(t, pkts, times, FLOOD_KEYS, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), FLOOD_KEYS);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, FLOOD_KEYS);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, FLOOD_KEYS);
	for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++) {
		CHECK_EQ_U64(sink.rec[i].packets, 2);
		packets += sink.rec[i].packets;
	}
	CHECK_EQ_U64(packets, 2 * FLOOD_KEYS);
	dpfix_flow_table_free(t);
}

/* The index hashes an IPv4 key without its zero address words (flow_index_hash): the
 * value must be the pair-multiply-shift sum over the whole key, as an IPv6 key's is. */
static void
test_hash_ipv4_shortcut(void)
{
	struct flow_index ix;
	uint64_t x = 0x1234567;
	uint32_t differ = 0;

	flow_index_init(&ix, NULL, 1u << 20, HASH_SEED);
	for (uint32_t i = 0; i < 10000; i++) {
		struct dpfix_flow_key k;
		uint8_t bytes[sizeof(k)];
		uint64_t w[sizeof(k) / 8], sum = ix.key[FLOW_INDEX_KEY_WORDS - 1];
		struct flow_hash h;

		/* Random bytes (xorshift), then an IPv4 key's shape for most. */
		for (size_t b = 0; b < sizeof(bytes); b++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			bytes[b] = (uint8_t)x;
		}
		memcpy(&k, bytes, sizeof(k));
		k.ip_version = i % 4 == 0 ? 6 : 4;
		if (k.ip_version == 4) {
			memset(k.src_addr + 4, 0, 12);
			memset(k.dst_addr + 4, 0, 12);
		}
		memcpy(w, &k, sizeof(w));
		for (unsigned int j = 0; j < RTE_DIM(w); j++)
			sum += (ix.key[2 * j] + (w[j] >> 32)) * (ix.key[2 * j + 1] + (uint32_t)w[j]);
		h = flow_index_hash(&ix, &k);
		differ += h.bucket != (uint32_t)(sum >> ix.shift) ||
				h.sig != (uint16_t)((uint16_t)(sum >> (ix.shift - 16)) +
				((uint16_t)(sum >> (ix.shift - 16)) == FLOW_INDEX_EMPTY_SIG));
	}
	CHECK_EQ_U64(differ, 0);
}

#define SECOND 1000000000ull

/* A table of 8 flows whose timeouts no test reaches, the active one beyond the idle:
 * were they equal, a flow's end would stay at its first packet + active, and a flow
 * seen again and again would still be evicted as the oldest. */
static struct dpfix_flow_table *
table_of_8(const char *name)
{
	return table_with(name, 8, NEVER, 2 * NEVER, NEVER, 0);
}

/* A table_of_8, full: keys 0 to 7 of 100 octets first seen at 1 to 8 s, key 0 the
 * oldest, the next to be evicted. The sink is emptied. NULL if it cannot be made. */
static struct dpfix_flow_table *
full_table_of_8(const char *name)
{
	struct dpfix_flow_table *t = table_of_8(name);
	struct dpfix_packet_info k;

	if (t == NULL)
		return NULL;
	for (uint32_t i = 0; i < 8; i++) {
		make_packet(&k, i, 100, 0, 64);
		meter(t, &k, (1 + i) * SECOND);
	}
	sink_reset(&sink, -1);
	return t;
}

/* The pipeline notes each packet's candidate record (the first under its signature)
 * before any packet of the burst is counted. By a packet's turn, an earlier packet of
 * the burst may have evicted that flow and taken its record for another key: the
 * candidate's key must be checked, and the packet start a flow of its own. */
static void
test_stale_candidate(void)
{
	const uint64_t s = SECOND;
	struct dpfix_flow_table *t = full_table_of_8("ft_stale");
	struct dpfix_packet_info pkts[3];
	uint64_t times[3] = {10 * s, 10 * s, 10 * s}, packets0 = 0;
	uint32_t records0 = 0;
	const struct dpfix_flow_record *r100;

	if (t == NULL)
		return;
	make_packet(&pkts[0], 100, 200, 0, 64);    /* new: evicts key 0, takes its record */
	make_packet(&pkts[1], 0, 300, 0, 64);      /* its candidate now holds key 100 */
	make_packet(&pkts[2], 100, 400, 0, 64);
	dpfix_flow_table_update_bulk(t, pkts, times, 3, 0);
	CHECK_EQ_U64(sink.n, 2);                   /* keys 0 and 1 evicted */
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	r100 = find_emitted(&sink, 100);
	CHECK(r100 != NULL && r100->packets == 2 && r100->octets == 600);
	for (uint32_t i = 0; i < sink.n; i++) {
		if (key_number(&sink.rec[i].key) == 0) {
			records0++;
			packets0 += sink.rec[i].packets;
		}
	}
	CHECK_EQ_U64(records0, 2);
	CHECK_EQ_U64(packets0, 2);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, 8 + 2);
	dpfix_flow_table_free(t);
}

/* The pipeline's stages run apart, as the worker runs them to overlap one burst's
 * look-ups with the burst before: batch B's look-ups are begun, then batch A changes
 * the table before B is metered (its new flow evicts key 0 and takes its record for
 * key 100), so what B's look-ups found is stale (key 0's record holds key 100) or
 * missing (key 100 was not in the table): a hint, checked against the records' keys.
 * Then C's look-ups are continued among D's packets (update_looked_up's next). */
static void
test_split_stages_stale(void)
{
	const uint64_t s = SECOND;
	struct dpfix_flow_table *t = full_table_of_8("ft_split");
	static struct dpfix_flow_lookup la, lb, lc, ld;
	struct dpfix_packet_info a[1], b[2], c[3], d[1];
	uint64_t times[3] = {10 * s, 10 * s, 10 * s};
	const struct dpfix_flow_record *r100, *r5;
	uint64_t packets0 = 0;

	if (t == NULL)
		return;
	make_packet(&b[0], 0, 300, 0, 64);
	make_packet(&b[1], 100, 400, 0, 64);
	dpfix_flow_table_lookup_start(t, b, 2, &lb);
	dpfix_flow_table_lookup_continue(t, &lb);
	CHECK(lb.cand[0] != UINT32_MAX && lb.cand[1] == UINT32_MAX);
	make_packet(&a[0], 100, 200, 0, 64);
	dpfix_flow_table_lookup_start(t, a, 1, &la);
	dpfix_flow_table_lookup_continue(t, &la);
	CHECK_EQ_U64(dpfix_flow_table_update_looked_up(t, a, &la, times, 0, NULL), 0);
	CHECK_EQ_U64(dpfix_flow_table_update_looked_up(t, b, &lb, times, 0, NULL), 0);
	CHECK_EQ_U64(sink.n, 2);                   /* keys 0 and 1 evicted */
	/* C (keys 5, 0, 5) continued among D's one packet (key 6): each meters where it
	 * belongs. */
	make_packet(&c[0], 5, 10, 0, 64);
	make_packet(&c[1], 0, 20, 0, 64);
	make_packet(&c[2], 5, 30, 0, 64);
	make_packet(&d[0], 6, 40, 0, 64);
	dpfix_flow_table_lookup_start(t, d, 1, &ld);
	dpfix_flow_table_lookup_continue(t, &ld);
	dpfix_flow_table_lookup_start(t, c, 3, &lc);
	CHECK_EQ_U64(dpfix_flow_table_update_looked_up(t, d, &ld, times, 0, &lc), 0);
	CHECK_EQ_U64(dpfix_flow_table_update_looked_up(t, c, &lc, times, 0, NULL), 0);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, 8 + 2);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	r100 = find_emitted(&sink, 100);
	CHECK(r100 != NULL && r100->packets == 2 && r100->octets == 600);
	r5 = find_emitted(&sink, 5);
	CHECK(r5 != NULL && r5->packets == 3 && r5->octets == 140);
	for (uint32_t i = 0; i < sink.n; i++)
		if (key_number(&sink.rec[i].key) == 0)
			packets0 += sink.rec[i].packets;
	CHECK_EQ_U64(packets0, 3);                 /* 1 before its eviction, 2 after */
	dpfix_flow_table_free(t);
}

/* An ended flow's index entry is removed some ends later. Meanwhile its record may be
 * reused by a flow with the same bucket and signature: two identical entries, one of
 * which the delayed removal takes. The new flow must still be found, once. Keys A and
 * B agree on the top 20 bits of the hash, so on bucket and signature in any index of
 * up to 16 buckets (an 8-flow table has 8). */
static void
test_reused_record_same_hash(void)
{
	const uint64_t s = SECOND;
	struct dpfix_flow_table *t = table_of_8("ft_twin");
	struct dpfix_packet_info a, b, k;
	struct flow_index ix;
	struct flow_hash ha, hb;
	uint32_t bkey = 1;
	const struct dpfix_flow_record *ra, *rb;

	if (t == NULL)
		return;
	flow_index_init(&ix, NULL, 16, HASH_SEED);
	make_packet(&a, 0, 100, 0, 64);
	ha = flow_index_hash(&ix, &a.key);
	do {
		make_packet(&b, bkey++, 200, 0, 64);
		hb = flow_index_hash(&ix, &b.key);
	} while ((hb.bucket != ha.bucket || hb.sig != ha.sig) && bkey < (1u << 24));
	CHECK(hb.bucket == ha.bucket && hb.sig == ha.sig);

	sink_reset(&sink, -1);
	meter(t, &a, 1 * s);
	for (uint32_t i = 0; i < 7; i++) {
		make_packet(&k, 100000 + i, 300, 0, 64);
		meter(t, &k, 2 * s);
	}
	/* Full: B evicts A, the oldest, and takes its record. */
	meter(t, &b, 3 * s);
	CHECK(sink.n == 1 && key_number(&sink.rec[0].key) == 0);
	/* 20 more ends, so A's entry is removed; B, seen before each, is never evicted. */
	for (uint32_t i = 0; i < 20; i++) {
		meter(t, &b, (4 + i) * s);
		make_packet(&k, 200000 + i, 300, 0, 64);
		meter(t, &k, (4 + i) * s + 1);
	}
	meter(t, &b, 30 * s);
	CHECK_EQ_U64(sink.n, 21);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, 1 + 7 + 1 + 20);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 8);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	ra = find_emitted(&sink, 0);
	rb = find_emitted(&sink, bkey - 1);
	CHECK(ra != NULL && ra->packets == 1 && ra->end_reason == DPFIX_FLOW_END_LACK_OF_RESOURCES);
	CHECK(rb != NULL && rb->packets == 22 && rb->octets == 22 * 200);
	CHECK_EQ_U64(sink.n, 29);
	/* The index is consistent after all: both keys meter again as new flows. */
	meter(t, &a, 31 * s);
	meter(t, &b, 31 * s);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 2);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 2);
	dpfix_flow_table_free(t);
}

/* Fill, drain, refill many times: no slot is lost or handed out twice. */
static void
test_churn(void)
{
	static struct dpfix_packet_info pkts[CAPACITY];
	static uint64_t times[CAPACITY];
	struct dpfix_flow_table *t = table_with("ft_churn", CAPACITY, 100, 1000000, 100, 0);
	const struct dpfix_flow_stats *st;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < CAPACITY; i++) {
			make_packet(&pkts[i], round * CAPACITY + i, 100, 0, 64);
			times[i] = round * 100000 + i;
		}
		dpfix_flow_table_update_bulk(t, pkts, times, CAPACITY, 0);
		CHECK_EQ_U64(dpfix_flow_table_count(t), CAPACITY);
		sink_reset(&sink, -1);
		/* Expire up to about half, flush the rest. */
		dpfix_flow_table_expire(t, round * 100000 + CAPACITY / 2 + 100, CAPACITY * 4);
		CHECK(sink.n <= CAPACITY / 2 + 1);
		CHECK(sink.n + dpfix_flow_table_count(t) == CAPACITY);
		CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
		CHECK_EQ_U64(sink.n, CAPACITY);
		CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	}
	CHECK_EQ_U64(st->flows_created, 20 * CAPACITY);
	CHECK_EQ_U64(st->table_full, 0);
	CHECK_EQ_U64(st->flows_expired_idle + st->flows_expired_forced, 20 * CAPACITY);
	dpfix_flow_table_free(t);
}

/* A random trace through a small table against an independent model of the rules:
 * per key, a packet starts a new record when the flow has been quiet for idle (or
 * tcp_end after a FIN/RST) or active since its first packet. Totals per key and the
 * number of records must agree exactly. */
#define MODEL_KEYS 400
static void
test_model(void)
{
	const uint64_t idle = 5000, active = 20000, tcp_end = 700;
	static struct dpfix_packet_info pkts[32];
	static uint64_t times[32];
	static struct {
		uint64_t first, last, packets, octets, records;
		int ended;
		int live;
	} m[MODEL_KEYS];
	static uint64_t got_packets[MODEL_KEYS], got_octets[MODEL_KEYS], got_records[MODEL_KEYS];
	struct dpfix_flow_table *t = table_with("ft_model", 1024, idle, active, tcp_end, 0);
	uint64_t now = 1000000, rnd = 88172645463325252ull;

	if (t == NULL)
		return;
	memset(m, 0, sizeof(m));
	memset(got_packets, 0, sizeof(got_packets));
	memset(got_octets, 0, sizeof(got_octets));
	memset(got_records, 0, sizeof(got_records));
	for (uint32_t round = 0; round < 3000; round++) {
		sink_reset(&sink, -1);
		for (uint32_t i = 0; i < 32; i++) {
			uint32_t k;
			uint8_t flags;

			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			k = (uint32_t)(rnd % MODEL_KEYS);
			flags = (rnd >> 20) % 50 == 0 ? 0x11 : (rnd >> 20) % 97 == 0 ? 0x04 : 0x10;
			now += (rnd >> 40) % 7;
			make_packet(&pkts[i], k, 40 + (uint32_t)(rnd >> 50) % 1000, flags, 64);
			times[i] = now;
			if (!m[k].live || now - m[k].last >= (m[k].ended ? tcp_end : idle) ||
					now - m[k].first >= active) {
				m[k].records++;
				m[k].first = now;
				m[k].ended = 0;
				m[k].live = 1;
			}
			m[k].last = now;
			m[k].packets++;
			m[k].octets += pkts[i].ip_octets;
			if (flags & 0x05)
				m[k].ended = 1;
		}
		dpfix_flow_table_update_bulk(t, pkts, times, 32, 0);
		if (round % 3 == 0)
			dpfix_flow_table_expire(t, now, 64);
		for (uint32_t i = 0; i < sink.n; i++) {
			uint32_t k = key_number(&sink.rec[i].key);

			got_packets[k] += sink.rec[i].packets;
			got_octets[k] += sink.rec[i].octets;
			got_records[k]++;
		}
	}
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	for (uint32_t i = 0; i < sink.n; i++) {
		uint32_t k = key_number(&sink.rec[i].key);

		got_packets[k] += sink.rec[i].packets;
		got_octets[k] += sink.rec[i].octets;
		got_records[k]++;
	}
	for (uint32_t k = 0; k < MODEL_KEYS; k++) {
		CHECK_EQ_U64(got_packets[k], m[k].packets);
		CHECK_EQ_U64(got_octets[k], m[k].octets);
		CHECK_EQ_U64(got_records[k], m[k].records);
	}
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_evicted, 0);
	CHECK(dpfix_flow_table_stats(t)->flows_ended_tcp > 0);
	CHECK(dpfix_flow_table_stats(t)->flows_expired_active > 0);
	dpfix_flow_table_free(t);
}

/* The probe's RSS key is symmetric: DPDK's software Toeplitz (what NICs compute) gives
 * a tuple and its reverse the same hash, for IPv4 and IPv6 with and without ports. A
 * usual asymmetric key (Microsoft's, DPDK's default) does not: the check can fail. */
static uint32_t
rss_pair_mismatches(const uint8_t *key, int v6, int with_ports, uint32_t trials)
{
	uint64_t rnd = 0x2545f4914f6cdd1dull;
	uint32_t mismatches = 0;

	for (uint32_t n = 0; n < trials; n++) {
		uint32_t t[RTE_THASH_V6_L4_LEN], r[RTE_THASH_V6_L4_LEN];
		uint32_t words = v6 ? 4 : 1, len;     /* per address */

		for (uint32_t i = 0; i < 2 * words; i++) {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			t[i] = (uint32_t)rnd;
		}
		/* Layout of rte_softrss's input: source address words, destination address
		 * words, then source port << 16 | destination port. */
		for (uint32_t i = 0; i < words; i++) {
			r[i] = t[words + i];
			r[words + i] = t[i];
		}
		t[2 * words] = (uint32_t)(rnd >> 32);
		r[2 * words] = t[2 * words] << 16 | t[2 * words] >> 16;
		len = 2 * words + (with_ports ? 1 : 0);
		mismatches += rte_softrss(t, len, key) != rte_softrss(r, len, key);
	}
	return mismatches;
}

static void
test_symmetric_rss_key(void)
{
	static const uint8_t microsoft_key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};

	for (int v6 = 0; v6 <= 1; v6++)
		for (int ports = 0; ports <= 1; ports++) {
			CHECK_EQ_U64(rss_pair_mismatches(dpfix_flow_symmetric_rss_key, v6, ports, 2000), 0);
			CHECK(rss_pair_mismatches(microsoft_key, v6, ports, 2000) > 1900);
		}
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
	RUN_TEST(test_table_full_evicts);
	RUN_TEST(test_flood);
	RUN_TEST(test_churn);
	RUN_TEST(test_crc_collisions_spread);
	RUN_TEST(test_hash_ipv4_shortcut);
	RUN_TEST(test_stale_candidate);
	RUN_TEST(test_split_stages_stale);
	RUN_TEST(test_reused_record_same_hash);
	RUN_TEST(test_model);
	RUN_TEST(test_symmetric_rss_key);
	ret = unit_test_summary();
	rte_eal_cleanup();
	return ret;
}
