/* Unit tests for the fragment map (lib/parse/dpfix_frag.c), on fragments made by the
 * parser from built frames: attribution in order and out of order, IPv4 and IPv6
 * identity rules, completion by byte ranges (repeated and overlapping fragments, more
 * pieces than an entry records), timeout, a full map, and that nothing is ever dropped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_frag.h"
#include "dpfix_parse.h"
#include "frame_build.h"
#include "unit_test.h"

#define SEC 1000000000ull
#define TIMEOUT (30 * SEC)

static const struct dpfix_parse_config cfg = {.vxlan_port = DPFIX_VXLAN_PORT};

static struct dpfix_frag_map *
map_new(uint32_t entries)
{
	void *mem = aligned_alloc(64, (dpfix_frag_map_memsize(entries) + 63) / 64 * 64);

	CHECK(mem != NULL);
	return dpfix_frag_map_init(mem, entries, TIMEOUT, 12345);
}

/* An IPv4 UDP fragment: offset and length in bytes (multiples of 8 but the last). The
 * first fragment carries the UDP header as the first 8 bytes of its payload. */
static struct dpfix_packet_info
v4_fragment(uint16_t id, uint8_t proto, uint16_t offset, uint16_t len, int more,
		uint8_t src_last)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, proto, 0, 64, 0, (uint16_t)((more ? IPV4_MF : 0) | offset / 8));
	ipv4_set_id(&f, id);
	f.b[f.ip_off + 15] = src_last;
	if (offset == 0 && proto == PROTO_UDP) {
		udp(&f, 5353, 53, 3000);
		payload(&f, len - 8u);
	} else if (offset == 0 && proto == PROTO_ICMP) {
		icmp(&f, 8, 0);
		payload(&f, len - 8u);
	} else {
		payload(&f, len);
	}
	ip_end(&f);
	CHECK(dpfix_parse_ethernet(&cfg, f.b, f.len, f.len, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, offset == 0 ? DPFIX_FRAG_FIRST : DPFIX_FRAG_LATER);
	return info;
}

/* An IPv6 fragment; the first carries a destination-options header and then TCP, so
 * its later fragments name the options header, not TCP, as their next header. */
static struct dpfix_packet_info
v6_fragment(uint32_t id, uint16_t offset, uint16_t len, int more)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag_id(&f, PROTO_DSTOPTS, (uint16_t)(offset / 8), more, id);
	if (offset == 0) {
		ipv6_opts(&f, PROTO_TCP, 0);
		tcp(&f, 44444, 443, TCP_ACK);
		payload(&f, len - 28u);
	} else {
		payload(&f, len);
	}
	ip_end(&f);
	CHECK(dpfix_parse_ethernet(&cfg, f.b, f.len, f.len, 0, &info) == DPFIX_PARSE_OK);
	return info;
}

static void
test_in_order(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint64_t t = 1000 * SEC;

	p = v4_fragment(7, PROTO_UDP, 0, 1480, 1, 1);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(p.key.src_port, 5353);   /* untouched: it carries its own ports */
	p = v4_fragment(7, PROTO_UDP, 1480, 1480, 1, 1);
	dpfix_frag_map_attribute(m, &p, t + 1);
	CHECK_EQ_U64(p.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(p.key.dst_port, 53);
	p = v4_fragment(7, PROTO_UDP, 2960, 48, 0, 1);
	dpfix_frag_map_attribute(m, &p, t + 2);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(p.ip_octets, 20 + 48);
	CHECK_EQ_U64(s->fragments_first, 1);
	CHECK_EQ_U64(s->fragments_later, 2);
	CHECK_EQ_U64(s->fragments_attributed, 2);
	CHECK_EQ_U64(s->fragments_unattributed, 0);
	CHECK_EQ_U64(s->fragments_out_of_order, 0);

	/* The datagram was whole, so its entry is gone: a straggler (duplicate) of it is
	 * unattributed. */
	p = v4_fragment(7, PROTO_UDP, 1480, 1480, 1, 1);
	dpfix_frag_map_attribute(m, &p, t + 3);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(s->fragments_unattributed, 1);

	/* ICMP fragments carry the type and code on to the later fragments. */
	p = v4_fragment(8, PROTO_ICMP, 0, 1480, 1, 1);
	dpfix_frag_map_attribute(m, &p, t + 4);
	p = v4_fragment(8, PROTO_ICMP, 1480, 100, 0, 1);
	dpfix_frag_map_attribute(m, &p, t + 5);
	CHECK_EQ_U64(p.key.dst_port, 8 << 8);
	free(m);
}

static void
test_out_of_order(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint64_t t = 5 * SEC;

	/* Last, middle, then first: the two that came early stay unattributed (they are
	 * metered already), the datagram is counted out of order, and is then complete. */
	p = v4_fragment(9, PROTO_UDP, 2960, 100, 0, 2);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(p.key.protocol, PROTO_UDP);
	p = v4_fragment(9, PROTO_UDP, 1480, 1480, 1, 2);
	dpfix_frag_map_attribute(m, &p, t + 1);
	CHECK_EQ_U64(p.key.src_port, 0);
	p = v4_fragment(9, PROTO_UDP, 0, 1480, 1, 2);
	dpfix_frag_map_attribute(m, &p, t + 2);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_out_of_order, 1);
	CHECK_EQ_U64(s->fragments_unattributed, 2);
	CHECK_EQ_U64(s->fragments_attributed, 0);

	/* First in the middle: what comes after it is attributed. */
	p = v4_fragment(10, PROTO_UDP, 1480, 1480, 1, 2);
	dpfix_frag_map_attribute(m, &p, t + 3);
	p = v4_fragment(10, PROTO_UDP, 0, 1480, 1, 2);
	dpfix_frag_map_attribute(m, &p, t + 4);
	p = v4_fragment(10, PROTO_UDP, 2960, 8, 0, 2);
	dpfix_frag_map_attribute(m, &p, t + 5);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_out_of_order, 2);
	CHECK_EQ_U64(s->fragments_unattributed, 3);
	CHECK_EQ_U64(s->fragments_attributed, 1);
	CHECK_EQ_U64(s->fragments_first, 2);
	CHECK_EQ_U64(s->fragments_later, 4);
	free(m);
}

/* IPv4 datagrams are told apart by addresses, protocol and identification. */
static void
test_ipv4_identity(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);

	p = v4_fragment(11, PROTO_UDP, 0, 1480, 1, 3);
	dpfix_frag_map_attribute(m, &p, SEC);
	/* Same id, another protocol / source / id: not this datagram. */
	p = v4_fragment(11, 103, 1480, 16, 0, 3);
	dpfix_frag_map_attribute(m, &p, SEC);
	CHECK_EQ_U64(p.key.protocol, 103);
	CHECK_EQ_U64(p.key.src_port, 0);
	p = v4_fragment(11, PROTO_UDP, 1480, 16, 0, 4);
	dpfix_frag_map_attribute(m, &p, SEC);
	CHECK_EQ_U64(p.key.src_port, 0);
	p = v4_fragment(12, PROTO_UDP, 1480, 16, 0, 3);
	dpfix_frag_map_attribute(m, &p, SEC);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(s->fragments_unattributed, 3);
	p = v4_fragment(11, PROTO_UDP, 1480, 16, 0, 3);
	dpfix_frag_map_attribute(m, &p, SEC);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_attributed, 1);
	free(m);
}

/* IPv6: the later fragments name the first header after the fragment header; the
 * datagram is found by addresses and identification, and the flow's protocol (TCP)
 * and ports come from the first fragment. */
static void
test_ipv6(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);

	p = v6_fragment(0xabcdef01, 0, 1448, 1);
	CHECK_EQ_U64(p.key.protocol, PROTO_TCP);
	CHECK_EQ_U64(p.fragment, DPFIX_FRAG_FIRST);
	dpfix_frag_map_attribute(m, &p, SEC);
	p = v6_fragment(0xabcdef01, 1448, 500, 0);
	CHECK_EQ_U64(p.key.protocol, PROTO_DSTOPTS);
	dpfix_frag_map_attribute(m, &p, 2 * SEC);
	CHECK_EQ_U64(p.key.protocol, PROTO_TCP);
	CHECK_EQ_U64(p.key.src_port, 44444);
	CHECK_EQ_U64(p.key.dst_port, 443);
	CHECK_EQ_U64(s->fragments_attributed, 1);

	/* Another identification is another datagram. */
	p = v6_fragment(0xabcdef02, 1448, 500, 0);
	dpfix_frag_map_attribute(m, &p, 2 * SEC);
	CHECK_EQ_U64(p.key.protocol, PROTO_DSTOPTS);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(s->fragments_unattributed, 1);
	free(m);
}

static void
test_timeout(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);

	p = v4_fragment(20, PROTO_UDP, 0, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, 100 * SEC);
	/* Each fragment renews the datagram. */
	p = v4_fragment(20, PROTO_UDP, 1480, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, 100 * SEC + TIMEOUT - 1);
	CHECK_EQ_U64(p.key.src_port, 5353);
	p = v4_fragment(20, PROTO_UDP, 2960, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, 100 * SEC + 2 * TIMEOUT - 2);
	CHECK_EQ_U64(p.key.src_port, 5353);
	/* After the timeout without a fragment, it is forgotten. */
	p = v4_fragment(20, PROTO_UDP, 4440, 8, 0, 5);
	dpfix_frag_map_attribute(m, &p, 100 * SEC + 3 * TIMEOUT - 2);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(s->fragments_attributed, 2);
	CHECK_EQ_U64(s->fragments_unattributed, 1);
	/* A timed-out entry is reused without counting a replacement. */
	CHECK_EQ_U64(s->fragment_map_replaced, 0);
	free(m);
}

/* The smallest map is one bucket of 4: a fifth datagram in flight replaces the least
 * recently seen one, which is counted; the other four keep their attribution. */
static void
test_full_map(void)
{
	struct dpfix_frag_map *m = map_new(1);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);

	CHECK_EQ_U64(dpfix_frag_map_capacity(m), 4);
	for (uint16_t id = 1; id <= 4; id++) {
		p = v4_fragment(id, PROTO_UDP, 0, 1480, 1, 6);
		dpfix_frag_map_attribute(m, &p, id * SEC);
	}
	/* Datagram 1 is renewed, so 2 is now the least recently seen. */
	p = v4_fragment(1, PROTO_UDP, 1480, 1480, 1, 6);
	dpfix_frag_map_attribute(m, &p, 5 * SEC);
	CHECK_EQ_U64(p.key.src_port, 5353);
	p = v4_fragment(5, PROTO_UDP, 0, 1480, 1, 6);
	dpfix_frag_map_attribute(m, &p, 6 * SEC);
	CHECK_EQ_U64(s->fragment_map_replaced, 1);
	for (uint16_t id = 1; id <= 5; id++) {
		if (id == 2)
			continue;
		p = v4_fragment(id, PROTO_UDP, 2960, 8, 1, 6);
		dpfix_frag_map_attribute(m, &p, 7 * SEC);
		CHECK_EQ_U64(p.key.src_port, 5353);
	}
	p = v4_fragment(2, PROTO_UDP, 2960, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, 8 * SEC);
	CHECK_EQ_U64(p.key.src_port, 0);
	CHECK_EQ_U64(s->fragments_unattributed, 1);
	CHECK_EQ_U64(s->fragment_map_replaced, 2); /* its own entry displaced another */

	/* Whole datagrams leave the map at once, so a steady stream of them never
	 * replaces anything however small the map. */
	free(m);
	m = map_new(1);
	s = dpfix_frag_map_stats(m);
	for (uint16_t id = 0; id < 1000; id++) {
		p = v4_fragment(id, PROTO_UDP, 0, 1480, 1, 7);
		dpfix_frag_map_attribute(m, &p, SEC + id);
		p = v4_fragment(id, PROTO_UDP, 1480, 100, 0, 7);
		dpfix_frag_map_attribute(m, &p, SEC + id);
		CHECK_EQ_U64(p.key.src_port, 5353);
	}
	CHECK_EQ_U64(s->fragment_map_replaced, 0);
	CHECK_EQ_U64(s->fragments_attributed, 1000);
	free(m);
}

static void
test_sizes(void)
{
	struct dpfix_frag_map *m;

	CHECK(dpfix_frag_map_memsize(4096) >= 4096 * 128);
	CHECK(dpfix_frag_map_memsize(4096) < 4096 * 128 + 4096);
	m = map_new(4096);
	CHECK_EQ_U64(dpfix_frag_map_capacity(m), 4096);
	free(m);
	m = map_new(5000);
	CHECK_EQ_U64(dpfix_frag_map_capacity(m), 8192);
	free(m);
}

/* A repeated fragment adds no bytes: the datagram is whole only when every byte has
 * come, so the real fragment after a duplicate still joins its flow. (Counting bytes
 * declared it whole at the duplicate and put the last real fragment in a flow of
 * ports 0.) */
static void
test_duplicates(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint64_t t = 7 * SEC;

	/* The last fragment first, then the first one twice, then the middle one. */
	p = v4_fragment(20, PROTO_UDP, 2960, 48, 0, 5);
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(20, PROTO_UDP, 0, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 1);
	p = v4_fragment(20, PROTO_UDP, 0, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 2);
	CHECK_EQ_U64(s->fragments_overlapping, 1);
	p = v4_fragment(20, PROTO_UDP, 1480, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 3);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(p.key.dst_port, 53);
	CHECK_EQ_U64(s->fragments_attributed, 1);
	/* Now it was whole and is forgotten: one more copy is a straggler. */
	p = v4_fragment(20, PROTO_UDP, 1480, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 4);
	CHECK_EQ_U64(p.key.src_port, 0);

	/* A later fragment repeated before the one that completes the datagram. */
	p = v4_fragment(21, PROTO_UDP, 0, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 5);
	for (int i = 0; i < 3; i++) {
		p = v4_fragment(21, PROTO_UDP, 1480, 1480, 1, 5);
		dpfix_frag_map_attribute(m, &p, t + 6);
		CHECK_EQ_U64(p.key.src_port, 5353);
	}
	p = v4_fragment(21, PROTO_UDP, 4440, 8, 0, 5);   /* the last, after a hole */
	dpfix_frag_map_attribute(m, &p, t + 7);
	p = v4_fragment(21, PROTO_UDP, 2960, 1480, 1, 5); /* the hole */
	dpfix_frag_map_attribute(m, &p, t + 8);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_overlapping, 3);
	p = v4_fragment(21, PROTO_UDP, 2960, 1480, 1, 5);
	dpfix_frag_map_attribute(m, &p, t + 9);
	CHECK_EQ_U64(p.key.src_port, 0);               /* whole before it came */

	/* IPv6 alike: the first fragment twice, then the last. */
	p = v6_fragment(0x77, 0, 1232, 1);
	dpfix_frag_map_attribute(m, &p, t + 10);
	p = v6_fragment(0x77, 0, 1232, 1);
	dpfix_frag_map_attribute(m, &p, t + 11);
	CHECK_EQ_U64(s->fragments_overlapping, 4);
	p = v6_fragment(0x77, 1232, 100, 0);
	dpfix_frag_map_attribute(m, &p, t + 12);
	CHECK_EQ_U64(p.key.src_port, 44444);
	CHECK_EQ_U64(p.key.protocol, PROTO_TCP);
	free(m);
}

/* Fragments that overlap without repeating: their bytes count once. */
static void
test_overlaps(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint64_t t = 9 * SEC;

	p = v4_fragment(30, PROTO_UDP, 0, 1480, 1, 6);           /* [0, 1480) */
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(30, PROTO_UDP, 2000, 1000, 0, 6);        /* [2000, 3000), last */
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(30, PROTO_UDP, 1000, 1008, 1, 6);        /* [1000, 2008): both */
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_overlapping, 1);
	/* [0, 3000) whole: gone. */
	p = v4_fragment(30, PROTO_UDP, 1480, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(p.key.src_port, 0);

	/* Touching ranges merge without counting an overlap; one inside another does. */
	p = v4_fragment(31, PROTO_UDP, 0, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(31, PROTO_UDP, 16, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(31, PROTO_UDP, 8, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(s->fragments_overlapping, 1);
	p = v4_fragment(31, PROTO_UDP, 8, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(s->fragments_overlapping, 2);
	p = v4_fragment(31, PROTO_UDP, 24, 5, 0, 6);
	dpfix_frag_map_attribute(m, &p, t);
	p = v4_fragment(31, PROTO_UDP, 8, 8, 1, 6);
	dpfix_frag_map_attribute(m, &p, t);
	CHECK_EQ_U64(p.key.src_port, 0);               /* [0, 29) was whole */
	free(m);
}

/* A datagram in more pieces at once than an entry records: the fragment that needs one
 * more range is counted untracked, attribution goes on, and the entry lasts until its
 * timeout (it can no longer tell when it is whole). */
static void
test_too_many_pieces(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint64_t t = 11 * SEC;

	p = v4_fragment(40, PROTO_UDP, 0, 16, 1, 7);             /* range 1: [0, 16) */
	dpfix_frag_map_attribute(m, &p, t);
	for (uint16_t k = 1; k <= 16; k++) {                    /* [32k, 32k + 16) */
		p = v4_fragment(40, PROTO_UDP, (uint16_t)(32 * k), 16, 1, 7);
		dpfix_frag_map_attribute(m, &p, t);
		CHECK_EQ_U64(p.key.src_port, 5353);
		CHECK_EQ_U64(s->fragments_untracked, k == 16 ? 1 : 0);
	}
	/* Fill every hole and send the last fragment: all attributed, never "whole". */
	for (uint16_t k = 0; k <= 16; k++) {
		p = v4_fragment(40, PROTO_UDP, (uint16_t)(32 * k + 16), 16, k < 16, 7);
		dpfix_frag_map_attribute(m, &p, t + k);
		CHECK_EQ_U64(p.key.src_port, 5353);
	}
	p = v4_fragment(40, PROTO_UDP, 512, 16, 1, 7);
	dpfix_frag_map_attribute(m, &p, t + 20);
	CHECK_EQ_U64(p.key.src_port, 5353);
	CHECK_EQ_U64(s->fragments_untracked, 1);
	/* The timeout ends it. */
	p = v4_fragment(40, PROTO_UDP, 512, 16, 1, 7);
	dpfix_frag_map_attribute(m, &p, t + 20 + TIMEOUT);
	CHECK_EQ_U64(p.key.src_port, 0);
	free(m);
}

/* Many interleaved datagrams in a map much smaller than them: every fragment comes out
 * metered (valid, with a flow key), and the counters add up. */
static void
test_pressure(void)
{
	struct dpfix_frag_map *m = map_new(64);
	struct dpfix_packet_info p;
	const struct dpfix_frag_stats *s = dpfix_frag_map_stats(m);
	uint32_t state = 99, n = 0;

	for (int i = 0; i < 20000; i++) {
		uint16_t id;
		int kind;

		state = state * 1103515245u + 12345u;
		id = (uint16_t)((state >> 16) % 500);
		kind = (int)(state >> 8) % 3;
		p = v4_fragment(id, PROTO_UDP, (uint16_t)(kind * 1480), 1480,
				kind != 2, 8);
		dpfix_frag_map_attribute(m, &p, SEC + (uint64_t)i);
		CHECK(p.key.src_port == 0 || p.key.src_port == 5353);
		CHECK_EQ_U64(p.key.protocol, PROTO_UDP);
		n++;
	}
	CHECK_EQ_U64(s->fragments_first + s->fragments_later, n);
	CHECK_EQ_U64(s->fragments_attributed + s->fragments_unattributed, s->fragments_later);
	CHECK(s->fragment_map_replaced > 0);
	free(m);
}

int
main(void)
{
	RUN_TEST(test_in_order);
	RUN_TEST(test_out_of_order);
	RUN_TEST(test_ipv4_identity);
	RUN_TEST(test_ipv6);
	RUN_TEST(test_timeout);
	RUN_TEST(test_full_map);
	RUN_TEST(test_sizes);
	RUN_TEST(test_duplicates);
	RUN_TEST(test_overlaps);
	RUN_TEST(test_too_many_pieces);
	RUN_TEST(test_pressure);
	return unit_test_summary();
}
