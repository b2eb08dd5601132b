/* Unit tests for lib/flow on a real (hugepage-free) DPDK EAL: metering per key, bursts,
 * idle, active and TCP end expiry, timeouts changed while flows are open, back-pressure
 * from the export callback, and late packets. */
#include "flow_test.h"
#include "unit_test.h"

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
	RUN_TEST(test_tcp_end);
	RUN_TEST(test_late_packets);
	ret = unit_test_summary();
	rte_eal_cleanup();
	return ret;
}
