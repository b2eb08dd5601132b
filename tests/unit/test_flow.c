/* Unit tests for lib/flow on a real (hugepage-free) DPDK EAL: metering per key, bursts,
 * idle, active and TCP end expiry, back-pressure from the export callback, eviction
 * from a full table, biflow pairing, a random trace against a reference model, and
 * keys crafted to collide (the index's own header, flow_index.h, computes where a key
 * goes). */
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

static void
sink_reset(struct sink *s, int64_t budget)
{
	s->n = 0;
	s->budget = budget;
	s->refused = 0;
}

static int
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
	p->mpls_top = key << 4 | 1;
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

#define NEVER 1000000000000ull      /* a timeout no test reaches */

static struct dpfix_flow_table *
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

static struct dpfix_flow_table *
table(const char *name, uint32_t capacity)
{
	return table_with(name, capacity, NEVER, NEVER, NEVER, 0);
}

static void
meter(struct dpfix_flow_table *t, const struct dpfix_packet_info *p, uint64_t time_ns)
{
	dpfix_flow_table_update_bulk(t, p, &time_ns, 1, 0);
}

/* Expected totals per key, computed alongside the packets. */
struct expect {
	uint64_t packets, octets, first, last;
	uint8_t flags, min_ttl, max_ttl, tos;
	uint16_t vlan;
	uint32_t mpls;
};

static void
expect_add(struct expect *e, const struct dpfix_packet_info *p, uint64_t t)
{
	if (e->packets == 0) {
		e->first = e->last = t;
		e->min_ttl = e->max_ttl = p->ttl;
		e->tos = p->tos;
		e->vlan = p->vlan_id;
		e->mpls = p->mpls_top;
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
	CHECK_EQ_U64(r->mpls_top, e->mpls);
	CHECK_EQ_U64(r->ingress_port, port);
	CHECK_EQ_U64(r->end_reason, reason);
}

static void
test_create(void)
{
	struct dpfix_flow_table *t;

	struct dpfix_flow_params bad = {.name = "ft_bad", .capacity = 0, .socket = SOCKET_ID_ANY,
		.idle_ns = 1, .active_ns = 1, .emit = sink_emit};

	CHECK(dpfix_flow_table_create(&bad) == NULL);
	bad.capacity = 16;
	bad.emit = NULL;
	CHECK(dpfix_flow_table_create(&bad) == NULL);
	bad.emit = sink_emit;
	bad.idle_ns = 0;
	CHECK(dpfix_flow_table_create(&bad) == NULL);
	t = table("ft_create", CAPACITY);
	if (t == NULL)
		return;
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
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
	dpfix_flow_table_update_bulk(t, pkts, times, n, 3);
	st = dpfix_flow_table_stats(t);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);
	CHECK_EQ_U64(st->flows_created, 3);
	CHECK_EQ_U64(st->table_full, 0);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
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
	dpfix_flow_table_update_bulk(t, pkts, times, 1, 3);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);
	CHECK_EQ_U64(st->flows_created, 4);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
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
		pkts[i].key.protocol = 17; /* any flags, without TCP's end-of-connection rules */
		times[i] = 10000 + i;
		expect_add(&e[key], &pkts[i], times[i]);
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 32, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);
	CHECK_EQ_U64(st->flows_created, 3);

	/* 1000 packets in one call (31 bursts and a bit): keys 10..49, and key 50 only
	 * at index 31 (end of a burst, new) and 32 (start of the next). */
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t key = 10 + (i * 7) % 40;

		if (i == 31 || i == 32)
			key = 50;
		make_packet(&pkts[i], key, 40 + i % 1460, (uint8_t)(i & 0x3f), (uint8_t)(i % 251 + 1));
		pkts[i].key.protocol = 17;
		times[i] = 20000 + i;
		expect_add(&e[key], &pkts[i], times[i]);
		n++;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, n, 1);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3 + 41);
	CHECK_EQ_U64(st->flows_created, 3 + 41);
	CHECK_EQ_U64(st->table_full, 0);

	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
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

/* Expiry is never early and at most one granule late. */
static void
test_idle_expiry(void)
{
	const uint64_t idle = 500, active = 1000000;
	struct dpfix_flow_table *t = table_with("ft_idle", CAPACITY, idle, active, idle, 0);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info p[2];
	uint64_t times[2] = {1000, 1200}, g;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	g = dpfix_flow_table_granularity_ns(t);
	CHECK(g >= 1 && g <= active / 1000);
	make_packet(&p[0], 1, 100, 0x02, 64);
	make_packet(&p[1], 2, 100, 0x02, 64);
	dpfix_flow_table_update_bulk(t, p, times, 2, 0);

	/* Key 1 last seen at 1000: alive until 1499, ended by 1500 + g. */
	sink_reset(&sink, -1);
	for (uint64_t now = 1000; now < 1500; now += 7)
		CHECK_EQ_U64(dpfix_flow_table_expire(t, now, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1499, CAPACITY), 0);
	CHECK_EQ_U64(sink.n, 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1500 + g, CAPACITY), 1);
	CHECK(sink.n == 1 && key_number(&sink.rec[0].key) == 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);
	CHECK_EQ_U64(st->flows_expired_idle, 1);

	/* A packet refreshes key 2: idle is measured from the last one. */
	meter(t, &p[1], 1600);
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 2099, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 2100 + g, CAPACITY), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK(sink.n == 1 && sink.rec[0].first_ns == 1200 && sink.rec[0].last_ns == 1600);
	CHECK(sink.n == 1 && sink.rec[0].packets == 2);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_idle, 2);
	dpfix_flow_table_free(t);
}

/* Timeouts changed while flows are open (SIGHUP): shorter ones reach the open flows,
 * which sit in the wheel at their old expiry; longer ones put them off. */
static void
test_set_timeouts(void)
{
	const uint64_t sec = 1000000000ull;
	struct dpfix_flow_table *t = table_with("ft_set", CAPACITY, 60 * sec, 120 * sec, 2 * sec, 0);
	struct dpfix_packet_info p;
	uint64_t now = 10 * sec;

	if (t == NULL)
		return;
	CHECK_EQ_U64(dpfix_flow_table_set_timeouts(t, 0, sec, sec), (uint64_t)-ERANGE);
	for (uint32_t k = 0; k < 1000; k++) {
		make_packet(&p, k, 100, 0x10, 64);
		meter(t, &p, now + k);
	}
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, now + 5 * sec, CAPACITY), 0);
	/* idle 60 s -> 1 s: all end by idle within the expiry passes' bound of work. */
	CHECK_EQ_U64(dpfix_flow_table_set_timeouts(t, sec, 120 * sec, 2 * sec), 0);
	for (int round = 0; round < 100 && dpfix_flow_table_count(t) > 0; round++)
		dpfix_flow_table_expire(t, now + 6 * sec, 64);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(sink.n, 1000);
	CHECK(sink.n > 0 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	/* 1 s -> 300 s (beyond the wheel's span at creation): a new flow lives on. */
	CHECK_EQ_U64(dpfix_flow_table_set_timeouts(t, 300 * sec, 600 * sec, 2 * sec), 0);
	make_packet(&p, 1, 100, 0x10, 64);
	meter(t, &p, now + 7 * sec);
	sink_reset(&sink, -1);
	for (uint64_t at = now + 8 * sec; at < now + 300 * sec; at += 3 * sec)
		dpfix_flow_table_expire(t, at, CAPACITY);
	CHECK_EQ_U64(sink.n, 0);
	dpfix_flow_table_expire(t, now + 310 * sec, CAPACITY);
	CHECK_EQ_U64(sink.n, 1);
	dpfix_flow_table_free(t);
}

static void
test_active_expiry(void)
{
	const uint64_t idle = 500, active = 1000;
	struct dpfix_flow_table *t = table_with("ft_active", CAPACITY, idle, active, idle, 0);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info p;
	uint64_t now, g;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	g = dpfix_flow_table_granularity_ns(t);
	make_packet(&p, 1, 100, 0x10, 64);

	/* A packet every 100 ns from 0 keeps the flow from going idle; it ends as active
	 * once now reaches first + active. */
	sink_reset(&sink, -1);
	for (now = 0; now < 1000; now += 100) {
		meter(t, &p, now);
		CHECK_EQ_U64(dpfix_flow_table_expire(t, now, CAPACITY), 0);
	}
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 999, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1000 + g, CAPACITY), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_ACTIVE);
	CHECK(sink.n == 1 && sink.rec[0].packets == 10 && sink.rec[0].octets == 1000);
	CHECK(sink.n == 1 && sink.rec[0].first_ns == 0 && sink.rec[0].last_ns == 900);
	CHECK_EQ_U64(st->flows_expired_active, 1);
	CHECK_EQ_U64(st->flows_expired_idle, 0);

	/* Traffic goes on in a new flow, counted from zero. */
	meter(t, &p, 1100);
	CHECK_EQ_U64(st->flows_created, 2);

	/* Long after both timeouts: the one that came first (idle at 1600) is the reason. */
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 5000, CAPACITY), 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	CHECK(sink.n == 1 && sink.rec[0].packets == 1);
	dpfix_flow_table_free(t);
}

/* One call looks at no more than max_work flows and the next goes on from there. */
static void
test_bounded_expiry(void)
{
	static struct dpfix_packet_info pkts[300];
	static uint64_t times[300];
	struct dpfix_flow_table *t = table_with("ft_bounded", CAPACITY, 10, 1000000, 10, 0);
	uint32_t total = 0, calls = 0;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 300; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = 0;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 300, 0);
	sink_reset(&sink, -1);
	while (calls < 1000 && total < 300) {
		uint32_t n = dpfix_flow_table_expire(t, 100000, 64);

		CHECK(n <= 64);
		total += n;
		calls++;
	}
	CHECK(calls >= 300 / 64);
	CHECK_EQ_U64(total, 300);
	CHECK_EQ_U64(sink.n, 300);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	for (uint32_t k = 0; k < 300; k++)
		CHECK(find_emitted(&sink, k) != NULL);
	dpfix_flow_table_free(t);
}

/* Packet time jumps by hours: every flow still ends, once, for idle. */
static void
test_time_jump(void)
{
	static struct dpfix_packet_info pkts[500];
	static uint64_t times[500];
	const uint64_t sec = 1000000000ull, t0 = 1700000000 * sec;
	struct dpfix_flow_table *t = table_with("ft_jump", CAPACITY, 15 * sec, 120 * sec, 2 * sec, 0);
	uint32_t calls = 0;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 500; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = t0 + i * (sec / 10);
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 500, 0);
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, t0 + 10 * sec, 64), 0);
	while (dpfix_flow_table_count(t) != 0 && calls++ < 100000)
		dpfix_flow_table_expire(t, t0 + 5 * 3600 * sec, 64);
	CHECK_EQ_U64(sink.n, 500);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_expired_idle, 500);
	for (uint32_t k = 0; k < 500; k++)
		CHECK(find_emitted(&sink, k) != NULL);
	dpfix_flow_table_free(t);
}

/* The expiry pass ran on the clock before the first packet, whose capture time is a
 * year older: the flows still expire on packet time. */
static void
test_capture_older_than_clock(void)
{
	const uint64_t sec = 1000000000ull, clock = 1763900000 * sec;
	const uint64_t capture = clock - 365 * 86400 * sec;
	struct dpfix_flow_table *t = table_with("ft_older", CAPACITY, 15 * sec, 120 * sec, 2 * sec, 0);
	struct dpfix_packet_info p;

	if (t == NULL)
		return;
	sink_reset(&sink, -1);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, clock, 64), 0);
	make_packet(&p, 1, 100, 0, 64);
	meter(t, &p, capture);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, capture + 14 * sec, 64), 0);
	for (int i = 0; i < 200 && sink.n == 0; i++)
		dpfix_flow_table_expire(t, capture + 16 * sec, 64);
	CHECK_EQ_U64(sink.n, 1);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_IDLE);
	dpfix_flow_table_free(t);
}

/* The export ring is full: the flow stays, is counted as deferred, and comes out
 * later exactly once. */
static void
test_emit_refused(void)
{
	static struct dpfix_packet_info pkts[100];
	static uint64_t times[100];
	struct dpfix_flow_table *t = table_with("ft_refused", CAPACITY, 100, 1000000, 100, 0);
	const struct dpfix_flow_stats *st;
	uint64_t seen_packets = 0;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	for (uint32_t i = 0; i < 100; i++) {
		make_packet(&pkts[i], i % 10, 100, 0, 64);
		times[i] = i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 100, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);

	/* Nothing accepted. */
	sink_reset(&sink, 0);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == -EAGAIN);
	CHECK_EQ_U64(sink.n, 0);
	CHECK_EQ_U64(st->emit_deferred, 1);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);

	/* Room for 4. */
	sink_reset(&sink, 4);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == -EAGAIN);
	CHECK_EQ_U64(sink.n, 4);
	CHECK_EQ_U64(st->emit_deferred, 2);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 6);
	for (uint32_t i = 0; i < sink.n; i++)
		seen_packets += sink.rec[i].packets;

	/* Room for all: the other 6, none twice. */
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 6);
	for (uint32_t i = 0; i < sink.n; i++)
		seen_packets += sink.rec[i].packets;
	CHECK_EQ_U64(seen_packets, 100);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(st->flows_expired_forced, 10);

	/* The same through expiry: refused flows wait, and all come out once. */
	dpfix_flow_table_update_bulk(t, pkts, times, 100, 0);
	sink_reset(&sink, 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 10000, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 10);
	CHECK_EQ_U64(st->emit_deferred, 3);
	sink_reset(&sink, 3);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 10000, CAPACITY), 3);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 7);
	{
		uint32_t got = sink.n;
		static struct dpfix_flow_record first[3];

		memcpy(first, sink.rec, sizeof(first));
		sink_reset(&sink, -1);
		for (int i = 0; i < 2; i++)
			dpfix_flow_table_expire(t, 10000, CAPACITY);
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

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 20; i++) {
		make_packet(&pkts[i], i, 100, 0, 64);
		times[i] = i;
	}
	dpfix_flow_table_update_bulk(t, pkts, times, 10, 0);
	sink_reset(&sink, 5);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == -EAGAIN);
	dpfix_flow_table_update_bulk(t, pkts + 10, times + 10, 10, 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 15);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 0);
	CHECK_EQ_U64(sink.n, 15);
	dpfix_flow_table_free(t);
}

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

/* The pipeline notes each packet's candidate record (the first under its signature)
 * before any packet of the burst is counted. By a packet's turn, an earlier packet of
 * the burst may have evicted that flow and taken its record for another key: the
 * candidate's key must be checked, and the packet start a flow of its own. */
static void
test_stale_candidate(void)
{
	const uint64_t s = 1000000000ull;
	struct dpfix_flow_table *t = table_with("ft_stale", 8, NEVER, 2 * NEVER, NEVER, 0);
	struct dpfix_packet_info k, pkts[3];
	uint64_t times[3] = {10 * s, 10 * s, 10 * s}, packets0 = 0;
	uint32_t records0 = 0;
	const struct dpfix_flow_record *r100;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < 8; i++) {
		make_packet(&k, i, 100, 0, 64);
		meter(t, &k, (1 + i) * s);
	}
	sink_reset(&sink, -1);
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

/* An ended flow's index entry is removed some ends later. Meanwhile its record may be
 * reused by a flow with the same bucket and signature: two identical entries, one of
 * which the delayed removal takes. The new flow must still be found, once. Keys A and
 * B agree on the top 20 bits of the hash, so on bucket and signature in any index of
 * up to 16 buckets (an 8-flow table has 8). */
static void
test_reused_record_same_hash(void)
{
	const uint64_t s = 1000000000ull;
	/* An active timeout beyond the idle one: were they equal, a flow's end would stay
	 * at its first packet + active_ns, and B, seen again and again, would be evicted. */
	struct dpfix_flow_table *t = table_with("ft_twin", 8, NEVER, 2 * NEVER, NEVER, 0);
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

/* Timeouts checked as packets arrive: a packet that finds its flow idle or active past
 * the timeout ends that record (with the right reason) and starts a new one, however
 * long the expiry pass has not run. A refused emit keeps metering into the old record. */
static void
test_expiry_on_packet(void)
{
	struct dpfix_flow_table *t = table_with("ft_on_packet", CAPACITY, 100, 150, 100, 0);
	static const uint64_t times[] = {0, 10, 200, 250, 300, 360};
	struct dpfix_packet_info p;

	if (t == NULL)
		return;
	sink_reset(&sink, -1);
	make_packet(&p, 7, 100, 0, 64);
	for (unsigned int i = 0; i < 6; i++)
		meter(t, &p, times[i]);
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
	meter(t, &p, 1000);
	CHECK_EQ_U64(sink.refused, 1);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->emit_deferred, 1);
	sink_reset(&sink, -1);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 1);
	CHECK_EQ_U64(sink.rec[0].packets, 2);
	CHECK_EQ_U64(dpfix_flow_table_stats(t)->flows_created, 3);
	dpfix_flow_table_free(t);
}

/* Packets older than their record's start never stretch it past its timeouts: within
 * them the start moves back (reordering), beyond them the packet counts at the start
 * and in late_packets. (Before, one packet 99 s early made a record span 99 s with a
 * 15 s idle timeout, and one 10 years early a 10-year record.) */
static void
test_late_packets(void)
{
	const uint64_t s = 1000000000ull, idle = 15 * s, active = 120 * s;
	struct dpfix_flow_table *t = table_with("ft_late", CAPACITY, idle, active, idle, 0);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info p;
	const uint64_t t0 = 1700000000ull * s;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	sink_reset(&sink, -1);
	/* 99 s early, with a 15 s idle timeout: at the start, counted late. */
	make_packet(&p, 1, 100, 0, 64);
	meter(t, &p, t0 + 100 * s);
	meter(t, &p, t0 + 1 * s);
	/* 10 years early. */
	make_packet(&p, 2, 100, 0, 64);
	meter(t, &p, t0 + 5 * s);
	meter(t, &p, t0 - 3650 * 86400 * s);
	CHECK_EQ_U64(st->late_packets, 2);
	/* Reordered by 5 s: the start moves back, nothing is late. */
	make_packet(&p, 3, 100, 0, 64);
	meter(t, &p, t0 + 10 * s);
	meter(t, &p, t0 + 5 * s);
	CHECK_EQ_U64(st->late_packets, 2);
	/* The active timeout bounds it too: a record of 300..400 s may start back at
	 * 285 s (115 s span) but not at 279 s (121 s), nor 15 s before its start. */
	make_packet(&p, 4, 100, 0, 64);
	for (uint64_t k = 300; k <= 400; k += 10)
		meter(t, &p, t0 + k * s);
	meter(t, &p, t0 + 290 * s);
	meter(t, &p, t0 + 275 * s);      /* 15 s before 290: late */
	meter(t, &p, t0 + 285 * s);
	meter(t, &p, t0 + 279 * s);      /* 121 s before 400: late */
	CHECK_EQ_U64(st->late_packets, 4);
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 4);
	for (uint32_t k = 1; k <= 4; k++) {
		const struct dpfix_flow_record *r = find_emitted(&sink, k);
		static const uint64_t first[] = {0, 100, 5, 5, 285}, last[] = {0, 100, 5, 10, 400};
		static const uint64_t packets[] = {0, 2, 2, 2, 15};

		CHECK(r != NULL);
		if (r == NULL)
			continue;
		CHECK_EQ_U64(r->first_ns, t0 + first[k] * s);
		CHECK_EQ_U64(r->last_ns, t0 + last[k] * s);
		CHECK_EQ_U64(r->packets, packets[k]);
		CHECK(r->last_ns - r->first_ns < active);
	}
	/* After a start moved back, the active timeout runs from the new start: a packet
	 * at 990 + 120 s begins a new record. */
	sink_reset(&sink, -1);
	make_packet(&p, 5, 100, 0, 64);
	meter(t, &p, t0 + 1000 * s);
	meter(t, &p, t0 + 990 * s);
	for (uint64_t k = 1005; k <= 1110; k += 5)
		meter(t, &p, t0 + k * s);
	CHECK_EQ_U64(sink.n, 1);
	CHECK(sink.n == 1 && sink.rec[0].first_ns == t0 + 990 * s &&
			sink.rec[0].last_ns == t0 + 1105 * s &&
			sink.rec[0].end_reason == DPFIX_FLOW_END_ACTIVE);
	dpfix_flow_table_free(t);

	/* Biflow: the forward direction is the first packet's, so an earlier reverse
	 * packet counts at the record's start; far earlier, it is late too. */
	t = table_with("ft_late_bi", CAPACITY, idle, active, idle, 1);
	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	sink_reset(&sink, -1);
	make_packet(&p, 6, 100, 0, 64);
	meter(t, &p, t0 + 100 * s);
	{
		struct dpfix_packet_info rp = p;

		dpfix_flow_key_reverse(&p.key, &rp.key);
		meter(t, &rp, t0 + 95 * s);
		CHECK_EQ_U64(st->late_packets, 0);
		meter(t, &rp, t0 + 50 * s);
		CHECK_EQ_U64(st->late_packets, 1);
	}
	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK(sink.n == 1 && sink.rec[0].packets == 1 && sink.rec[0].rev_packets == 2 &&
			sink.rec[0].first_ns == t0 + 100 * s && sink.rec[0].rev_first_ns == t0 + 100 * s &&
			sink.rec[0].rev_last_ns == t0 + 100 * s);
	dpfix_flow_table_free(t);
}

/* TCP FIN or RST: the flow ends (reason 3) once it has been tcp_end quiet, not idle;
 * packets within the wait still count. */
static void
test_tcp_end(void)
{
	const uint64_t idle = 10000, tcp_end = 300;
	struct dpfix_flow_table *t = table_with("ft_tcp_end", CAPACITY, idle, 1000000, tcp_end, 0);
	const struct dpfix_flow_stats *st;
	struct dpfix_packet_info syn, data, fin, ack, rst, syn2;
	uint64_t g;

	if (t == NULL)
		return;
	st = dpfix_flow_table_stats(t);
	g = dpfix_flow_table_granularity_ns(t);
	make_packet(&syn, 1, 60, 0x02, 64);
	make_packet(&data, 1, 1500, 0x18, 64);
	make_packet(&fin, 1, 52, 0x11, 64);
	make_packet(&ack, 1, 52, 0x10, 64);
	make_packet(&rst, 2, 40, 0x04, 64);
	make_packet(&syn2, 1, 60, 0x02, 64);

	sink_reset(&sink, -1);
	meter(t, &syn, 1000);
	meter(t, &data, 1100);
	meter(t, &fin, 1200);
	meter(t, &ack, 1400);           /* within the wait: same record */
	meter(t, &rst, 1000);           /* another flow, reset at once */
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1299, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1300 + g, CAPACITY), 1);
	CHECK(sink.n == 1 && key_number(&sink.rec[0].key) == 2);
	CHECK(sink.n == 1 && sink.rec[0].end_reason == DPFIX_FLOW_END_OF_FLOW);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1699, CAPACITY), 0);
	CHECK_EQ_U64(dpfix_flow_table_expire(t, 1700 + g, CAPACITY), 1);
	CHECK_EQ_U64(sink.n, 2);
	if (sink.n == 2) {
		CHECK_EQ_U64(key_number(&sink.rec[1].key), 1);
		CHECK_EQ_U64(sink.rec[1].end_reason, DPFIX_FLOW_END_OF_FLOW);
		CHECK_EQ_U64(sink.rec[1].packets, 4);
		CHECK_EQ_U64(sink.rec[1].octets, 60 + 1500 + 52 + 52);
		CHECK_EQ_U64(sink.rec[1].tcp_flags, 0x1b);
		CHECK_EQ_U64(sink.rec[1].last_ns, 1400);
	}
	CHECK_EQ_U64(st->flows_ended_tcp, 2);

	/* A packet after the wait ends the record too, with no expiry pass in between;
	 * one within the wait (a new SYN included) still counts in it. */
	sink_reset(&sink, -1);
	meter(t, &syn, 5000);
	meter(t, &fin, 5100);
	meter(t, &syn2, 5150);
	meter(t, &fin, 5200);
	CHECK_EQ_U64(sink.n, 0);
	meter(t, &ack, 5600);
	CHECK_EQ_U64(sink.n, 1);
	CHECK(sink.n == 1 && sink.rec[0].packets == 4 && sink.rec[0].first_ns == 5000 &&
			sink.rec[0].last_ns == 5200 && sink.rec[0].end_reason == DPFIX_FLOW_END_OF_FLOW);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);
	CHECK_EQ_U64(st->flows_ended_tcp, 3);
	dpfix_flow_table_free(t);
}

static void
swap_direction(struct dpfix_packet_info *p)
{
	struct dpfix_flow_key k;

	dpfix_flow_key_reverse(&p->key, &k);
	p->key = k;
}

/* test_extension's on_packet: packets forward and reverse, and the frame length seen. */
static void
count_in_ext(void *ctx, const struct dpfix_flow_record *rec, void *ext, int reverse,
		const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns)
{
	uint64_t *e = ext;

	(void)p;
	(void)now_ns;
	(*(uint64_t *)ctx)++;
	e[reverse]++;
	e[2] += frame != NULL ? frame->len : 1000;
	/* Called once the packet is counted in its record. */
	CHECK(e[0] == rec->packets && e[1] == rec->rev_packets);
}

/* The per-flow extension: zeroed when a record starts (a new flow, a restart after its
 * timeout), given to on_packet after each packet with its direction and frame, emitted
 * with its record; dpfix_flow_table_find gives a live flow's record and extension. */
static void
test_extension(void)
{
	uint64_t calls = 0;
	struct dpfix_flow_frame frame = {(const uint8_t *)"x", 60};
	struct dpfix_packet_info a, b, rev;
	struct dpfix_flow_table *t;
	void *ext;
	uint64_t now;

	for (int biflow = 0; biflow < 2; biflow++) {
		t = dpfix_flow_table_create(&(struct dpfix_flow_params){
			.name = biflow ? "ft_ext_bi" : "ft_ext", .capacity = CAPACITY, .socket = -1,
			.idle_ns = 1000, .active_ns = 100000, .tcp_end_ns = 1000, .biflow = biflow,
			.emit = sink_emit, .emit_ctx = &sink, .hash_seed = HASH_SEED, .ext_size = 24,
			.on_packet = count_in_ext, .on_packet_ctx = &calls});
		CHECK(t != NULL);
		if (t == NULL)
			return;
		CHECK_EQ_U64(dpfix_flow_table_ext_stride(t), 32);
		sink_reset(&sink, -1);
		calls = 0;
		make_packet(&a, 1, 100, 0x10, 64);
		make_packet(&b, 2, 100, 0x10, 64);
		rev = a;
		swap_direction(&rev);
		meter(t, &a, 10);
		meter(t, &a, 20);
		now = 30;
		dpfix_flow_table_update_bulk_frames(t, &rev, &frame, &now, 1, 0);
		meter(t, &b, 40);
		CHECK(dpfix_flow_table_find(t, &a.key, &ext) != NULL && ext != NULL);
		CHECK_EQ_U64(((uint64_t *)ext)[0], 2);
		CHECK_EQ_U64(((uint64_t *)ext)[2], biflow ? 2060 : 2000);
		/* In a biflow only the record's forward direction finds it; a uniflow's reverse
		 * key is a flow of its own. */
		CHECK((dpfix_flow_table_find(t, &rev.key, &ext) == NULL) == biflow);
		/* b after its idle timeout: its record ends, the new one starts from zero. */
		meter(t, &b, 2000);
		CHECK_EQ_U64(calls, 5);
		CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
		CHECK_EQ_U64(sink.n, biflow ? 3 : 4);
		for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++) {
			const struct dpfix_flow_record *r = &sink.rec[i];
			/* The one packet given with its frame: a's reverse. */
			int framed = biflow ? key_number(&r->key) == 1 : r->key.src_addr[0] == 192;

			CHECK_EQ_U64(sink.ext[i][0], r->packets);
			CHECK_EQ_U64(sink.ext[i][1], r->rev_packets);
			CHECK_EQ_U64(sink.ext[i][2], 1000 * (r->packets + r->rev_packets) - (framed ? 940 : 0));
		}
		dpfix_flow_table_free(t);
	}
	/* An extension needs its callback. */
	CHECK(dpfix_flow_table_create(&(struct dpfix_flow_params){.name = "ft_ext_bad",
		.capacity = 16, .socket = -1, .idle_ns = 1, .active_ns = 1, .emit = sink_emit,
		.ext_size = 8}) == NULL);
}

/* Biflow: both directions in one record, forward being the first packet's. */
static void
test_biflow(void)
{
	struct dpfix_flow_table *t = table_with("ft_biflow", CAPACITY, 1000, 100000, 1000, 1);
	struct dpfix_packet_info fwd, rev, echo, reply, other;
	const struct dpfix_flow_record *r;

	if (t == NULL)
		return;
	make_packet(&fwd, 3, 100, 0x02, 60);
	rev = fwd;
	swap_direction(&rev);
	rev.ip_octets = 1500;
	rev.tcp_flags = 0x12;
	rev.ttl = 120;
	sink_reset(&sink, -1);
	/* The reverse direction comes first here: it is the forward one of the record. */
	meter(t, &rev, 10);
	meter(t, &fwd, 20);
	meter(t, &rev, 30);
	fwd.ttl = 58;
	fwd.tcp_flags = 0x10;
	meter(t, &fwd, 40);
	meter(t, &fwd, 50);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);

	/* ICMP echo request and reply pair up; an unrelated type does not. */
	make_packet(&echo, 9, 84, 0, 64);
	echo.key.protocol = 1;
	echo.key.src_port = 0;
	echo.key.dst_port = 8 << 8;
	reply = echo;
	swap_direction(&reply);
	CHECK_EQ_U64(reply.key.dst_port, 0);
	CHECK(memcmp(reply.key.src_addr, echo.key.dst_addr, 16) == 0);
	other = reply;
	other.key.dst_port = 3 << 8 | 1;
	meter(t, &echo, 100);
	meter(t, &reply, 110);
	meter(t, &other, 120);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);

	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 3);
	r = NULL;
	for (uint32_t i = 0; i < sink.n; i++)
		if (sink.rec[i].key.protocol == 6)
			r = &sink.rec[i];
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK(memcmp(&r->key, &rev.key, sizeof(r->key)) == 0);
		CHECK_EQ_U64(r->packets, 2);
		CHECK_EQ_U64(r->octets, 3000);
		CHECK_EQ_U64(r->first_ns, 10);
		CHECK_EQ_U64(r->last_ns, 30);
		CHECK_EQ_U64(r->tcp_flags, 0x12);
		CHECK_EQ_U64(r->min_ttl, 120);
		CHECK_EQ_U64(r->rev_packets, 3);
		CHECK_EQ_U64(r->rev_octets, 300);
		CHECK_EQ_U64(r->rev_first_ns, 20);
		CHECK_EQ_U64(r->rev_last_ns, 50);
		CHECK_EQ_U64(r->rev_tcp_flags, 0x12);
		CHECK_EQ_U64(r->rev_min_ttl, 58);
		CHECK_EQ_U64(r->rev_max_ttl, 60);
	}
	for (uint32_t i = 0; i < sink.n; i++) {
		if (sink.rec[i].key.protocol != 1)
			continue;
		if (sink.rec[i].key.dst_port == 8 << 8)
			CHECK(sink.rec[i].packets == 1 && sink.rec[i].rev_packets == 1);
		else
			CHECK(sink.rec[i].packets == 1 && sink.rec[i].rev_packets == 0);
	}
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
	RUN_TEST(test_create);
	RUN_TEST(test_metering);
	RUN_TEST(test_bursts);
	RUN_TEST(test_idle_expiry);
	RUN_TEST(test_set_timeouts);
	RUN_TEST(test_active_expiry);
	RUN_TEST(test_bounded_expiry);
	RUN_TEST(test_time_jump);
	RUN_TEST(test_capture_older_than_clock);
	RUN_TEST(test_emit_refused);
	RUN_TEST(test_expiry_on_packet);
	RUN_TEST(test_flush_resumed_after_new_flows);
	RUN_TEST(test_table_full_evicts);
	RUN_TEST(test_flood);
	RUN_TEST(test_churn);
	RUN_TEST(test_crc_collisions_spread);
	RUN_TEST(test_hash_ipv4_shortcut);
	RUN_TEST(test_stale_candidate);
	RUN_TEST(test_reused_record_same_hash);
	RUN_TEST(test_tcp_end);
	RUN_TEST(test_late_packets);
	RUN_TEST(test_biflow);
	RUN_TEST(test_extension);
	RUN_TEST(test_model);
	RUN_TEST(test_symmetric_rss_key);
	ret = unit_test_summary();
	rte_eal_cleanup();
	return ret;
}
