/* Unit tests for lib/parse: frames built byte by byte for every header kind (Ethernet,
 * 802.1Q/QinQ, MPLS, IPv4 with options and fragments, IPv6 with extension headers,
 * TCP, UDP, SCTP, ICMP, ICMPv6, GRE, VXLAN), the configurable key fields, every result
 * code, and truncation at every byte of each kind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "frame_build.h"
#include "unit_test.h"

#define PORT 3  /* the ingress port every test frame arrives on */

static const struct dpfix_parse_config cfg_default = {.vxlan_port = DPFIX_VXLAN_PORT};
static const struct dpfix_parse_config cfg_vxlan = {
	.vxlan_inner = 1, .vxlan_port = DPFIX_VXLAN_PORT,
};

/* Parses exactly len bytes copied to a buffer of that size, so an overread lands
 * outside the allocation where a sanitizer or malloc checking can see it; the frame
 * was wire_len bytes long. */
static enum dpfix_parse_result
parse_exact_wire(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		uint32_t wire_len, struct dpfix_packet_info *info)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum dpfix_parse_result r;

	if (copy == NULL) {
		CHECK(!"out of memory");
		return DPFIX_PARSE_RESULT_COUNT;
	}
	memcpy(copy, frame, len);
	r = dpfix_parse_ethernet(cfg, copy, len, wire_len, PORT, info);
	free(copy);
	return r;
}

/* A frame received whole. */
static enum dpfix_parse_result
parse_exact_cfg(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		struct dpfix_packet_info *info)
{
	return parse_exact_wire(cfg, frame, len, len, info);
}

static enum dpfix_parse_result
parse_cfg(const struct dpfix_parse_config *cfg, const struct frame *f,
		struct dpfix_packet_info *info)
{
	return parse_exact_cfg(cfg, f->b, f->len, info);
}

/* Parses with the given key fields and VXLAN left closed. */
static enum dpfix_parse_result
parse(const struct frame *f, uint32_t key_fields, struct dpfix_packet_info *info)
{
	struct dpfix_parse_config cfg = cfg_default;

	cfg.key_fields = key_fields;
	return parse_cfg(&cfg, f, info);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Result codes the tests below have produced; every code must be seen once. */
static int results_seen[DPFIX_PARSE_RESULT_COUNT];

static void
expect_result_wire(const struct dpfix_parse_config *cfg, const struct frame *f,
		uint32_t wire_len, enum dpfix_parse_result want, int line)
{
	struct dpfix_packet_info info;
	enum dpfix_parse_result r = parse_exact_wire(cfg, f->b, f->len, wire_len, &info);

	if (r != want)
		fprintf(stderr, "  line %d: frame of %u bytes (wire %d): got %s, wanted %s\n", line,
				f->len, (int)wire_len, dpfix_parse_result_name(r),
				dpfix_parse_result_name(want));
	CHECK(r == want);
	if ((unsigned int)r < DPFIX_PARSE_RESULT_COUNT)
		results_seen[r]++;
}

#define expect_result(f, want) \
	expect_result_wire(&cfg_default, (f), (f)->len, (want), __LINE__)
#define expect_result_vxlan(f, want) \
	expect_result_wire(&cfg_vxlan, (f), (f)->len, (want), __LINE__)
/* The frame was cut by a capture's snapshot length and its wire length is unknown, so
 * the IP lengths are believed: what remains to check is the headers at hand. */
#define expect_result_cut(f, want) \
	expect_result_wire(&cfg_default, (f), DPFIX_WIRE_LEN_UNKNOWN, (want), __LINE__)

/* ---- well-formed packets ---- */

static void
test_ipv4_tcp(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0x28, 61, 0, IPV4_DF);
	tcp(&f, 43210, 443, TCP_SYN | TCP_ACK);
	payload(&f, 100);
	ip_end(&f);

	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	results_seen[DPFIX_PARSE_OK]++;
	CHECK_EQ_U64(info.key.ip_version, 4);
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	CHECK(memcmp(info.key.src_addr, v4_src, 4) == 0);
	CHECK(memcmp(info.key.dst_addr, v4_dst, 4) == 0);
	/* IPv4 leaves the rest of the 16-byte address fields zero, so keys compare as bytes. */
	CHECK(all_zero(info.key.src_addr + 4, 12));
	CHECK(all_zero(info.key.dst_addr + 4, 12));
	CHECK_EQ_U64(info.key.src_port, 43210);
	CHECK_EQ_U64(info.key.dst_port, 443);
	/* The optional key fields stay zero unless configured. */
	CHECK_EQ_U64(info.key.vlan_id, 0);
	CHECK_EQ_U64(info.key.dscp, 0);
	CHECK_EQ_U64(info.key.mpls_top, 0);
	CHECK_EQ_U64(info.key.ingress_port, 0);
	CHECK_EQ_U64(info.key.reserved, 0);
	CHECK_EQ_U64(info.vlan_id, 0);
	CHECK_EQ_U64(info.mpls_top, 0);
	CHECK_EQ_U64(info.ip_octets, 20 + 20 + 100);
	CHECK_EQ_U64(info.tcp_flags, TCP_SYN | TCP_ACK);
	CHECK_EQ_U64(info.tos, 0x28);
	CHECK_EQ_U64(info.dscp, 0x28 >> 2);
	CHECK_EQ_U64(info.ttl, 61);
	CHECK_EQ_U64(info.ingress_port, PORT);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_NONE);
	/* Where the IP packet lies, for hash-based selection. */
	CHECK_EQ_U64(info.l3_offset, 14);
	CHECK_EQ_U64(info.ip_header_len, 20);
}

/* octetDeltaCount counts the IP packet: padding of a short frame is not part of it. */
static void
test_ipv4_udp_padding(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 53, 33333, 2);
	payload(&f, 2);
	ip_end(&f);
	eth_pad(&f);
	CHECK_EQ_U64(f.len, 60);

	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 20 + 8 + 2);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 53);
	CHECK_EQ_U64(info.key.dst_port, 33333);
	CHECK_EQ_U64(info.tcp_flags, 0);
}

static void
test_ipv4_options(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* Every header length from 24 to the maximum of 60 bytes. */
	for (uint32_t opts = 4; opts <= 40; opts += 4) {
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, PROTO_UDP, 0, 1, opts, 0);
		udp(&f, (uint16_t)(1000 + opts), 2000, 10);
		payload(&f, 10);
		ip_end(&f);

		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.src_port, 1000 + opts);
		CHECK_EQ_U64(info.key.dst_port, 2000);
		CHECK_EQ_U64(info.ip_octets, 20 + opts + 18);
		CHECK_EQ_U64(info.ip_header_len, 20 + opts);
	}

	/* Options and TCP: the flags come from after the options. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 255, 12, 0);
	tcp(&f, 22, 50000, TCP_FIN | TCP_ACK | TCP_PSH);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.tcp_flags, TCP_FIN | TCP_ACK | TCP_PSH);
	CHECK_EQ_U64(info.key.src_port, 22);
	CHECK_EQ_U64(info.ttl, 255);
}

/* TCP options: the data offset may be up to 15 words if the packet holds them. */
static void
test_tcp_options(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	f.b[f.ip_off + 20 + 12] = 15 << 4;
	payload(&f, 40);        /* the 40 bytes of options */
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.tcp_flags, TCP_SYN);
}

static void
test_icmp(void)
{
	static const struct {
		uint8_t type, code;
	} cases[] = {{8, 0}, {0, 0}, {3, 1}, {11, 0}, {255, 255}};
	struct frame f;
	struct dpfix_packet_info info;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
		icmp(&f, cases[i].type, cases[i].code);
		payload(&f, 56);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_ICMP);
		CHECK_EQ_U64(info.key.src_port, 0);
		CHECK_EQ_U64(info.key.dst_port, (uint16_t)(cases[i].type << 8 | cases[i].code));
		CHECK_EQ_U64(info.ip_octets, 20 + 8 + 56);
	}

	/* ICMPv6 echo request and reply keep apart the same way; so do neighbour discovery
	 * messages. */
	for (uint8_t type = 128; type <= 136; type++) {
		eth(&f);
		ethertype(&f, ETH_IPV6);
		ipv6(&f, PROTO_ICMPV6, 0, 255);
		icmp(&f, type, 0);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_ICMPV6);
		CHECK_EQ_U64(info.key.src_port, 0);
		CHECK_EQ_U64(info.key.dst_port, (uint16_t)(type << 8));
		CHECK_EQ_U64(info.ip_octets, 40 + 8);
	}
}

static void
test_sctp(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_SCTP, 0, 64, 0, 0);
	sctp(&f, 2905, 2906);
	payload(&f, 20);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_SCTP);
	CHECK_EQ_U64(info.key.src_port, 2905);
	CHECK_EQ_U64(info.key.dst_port, 2906);
	CHECK_EQ_U64(info.ip_octets, 20 + 12 + 20);

	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_SCTP, 0, 64);
	sctp(&f, 36412, 38412);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.src_port, 36412);
	CHECK_EQ_U64(info.key.dst_port, 38412);
}

/* A protocol without ports is metered by addresses and protocol alone. */
static void
test_portless_protocols(void)
{
	static const uint8_t protos[] = {PROTO_IPIP, PROTO_ESP, 41, 89, 103, 112, 255};
	struct frame f;
	struct dpfix_packet_info info;

	for (size_t i = 0; i < sizeof(protos); i++) {
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, protos[i], 0, 64, 0, 0);
		payload(&f, 1);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, protos[i]);
		CHECK_EQ_U64(info.key.src_port, 0);
		CHECK_EQ_U64(info.key.dst_port, 0);
		CHECK_EQ_U64(info.ip_octets, 21);
	}
	/* A header with no payload at all is a valid (odd) packet for such a protocol. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, 253, 0, 64, 8, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 28);
}

static void
test_gre(void)
{
	/* Version 0 with every combination of checksum, key and sequence fields, and
	 * bits 6-12 (ignored on receipt, RFC 2784). */
	static const uint16_t v0_flags[] = {0x0000, 0x8000, 0x2000, 0x1000, 0xb000, 0x0078, 0x0200};
	struct frame f;
	struct dpfix_packet_info info;

	for (size_t i = 0; i < sizeof(v0_flags) / sizeof(v0_flags[0]); i++) {
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
		gre(&f, v0_flags[i], ETH_IPV4);
		payload(&f, 30);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_GRE);
		CHECK_EQ_U64(info.key.src_port, 0);
		CHECK_EQ_U64(info.key.dst_port, 0);
		CHECK_EQ_U64(info.ip_octets, f.len - 14);
	}
	/* Version 1 (PPTP): key required, sequence and acknowledgement optional. */
	for (uint16_t extra = 0; extra < 4; extra++) {
		eth(&f);
		ethertype(&f, ETH_IPV6);
		ipv6(&f, PROTO_GRE, 0, 64);
		gre(&f, (uint16_t)(0x2001 | (extra & 1 ? 0x1000 : 0) | (extra & 2 ? 0x0080 : 0)), 0x880b);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_GRE);
	}
	/* Unfragmented GRE with nothing after the header is still a packet. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	gre(&f, 0x2000, 0x6558);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
}

static void
test_ipv6_tcp(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_TCP, 0xb8, 57);
	tcp(&f, 5555, 80, TCP_PSH | TCP_ACK);
	payload(&f, 300);
	ip_end(&f);

	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.ip_version, 6);
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	CHECK(memcmp(info.key.src_addr, v6_src, 16) == 0);
	CHECK(memcmp(info.key.dst_addr, v6_dst, 16) == 0);
	CHECK_EQ_U64(info.key.src_port, 5555);
	CHECK_EQ_U64(info.key.dst_port, 80);
	CHECK_EQ_U64(info.ip_octets, 40 + 20 + 300);
	CHECK_EQ_U64(info.tcp_flags, TCP_PSH | TCP_ACK);
	CHECK_EQ_U64(info.tos, 0xb8);
	CHECK_EQ_U64(info.dscp, 46);    /* EF */
	CHECK_EQ_U64(info.ttl, 57);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_NONE);
}

static void
test_ipv6_extension_headers(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* Hop-by-hop, then a first fragment (offset 0, more to come): ports are there. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_FRAGMENT, 0);
	ipv6_frag(&f, PROTO_UDP, 0, 1);
	udp(&f, 4739, 4740, 100);
	payload(&f, 100);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 4739);
	CHECK_EQ_U64(info.key.dst_port, 4740);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_FIRST);
	CHECK_EQ_U64(info.frag_id, 0xdeadbeef);
	CHECK_EQ_U64(info.frag_offset, 0);
	CHECK_EQ_U64(info.frag_more, 1);
	CHECK_EQ_U64(info.frag_len, 8 + 100);
	CHECK_EQ_U64(info.ip_octets, 40 + 8 + 8 + 8 + 100);
	CHECK_EQ_U64(info.l3_offset, 14);
	CHECK_EQ_U64(info.ip_header_len, 40 + 8 + 8); /* up to the UDP header */

	/* Longer option headers (hop-by-hop 24 bytes, routing 16, destination 8). */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_ROUTING, 2);
	ipv6_opts(&f, PROTO_DSTOPTS, 1);
	ipv6_opts(&f, PROTO_TCP, 0);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	CHECK_EQ_U64(info.key.src_port, 1);
	CHECK_EQ_U64(info.key.dst_port, 2);
	CHECK_EQ_U64(info.tcp_flags, TCP_SYN);
	CHECK_EQ_U64(info.ip_octets, 40 + 24 + 16 + 8 + 20);
	CHECK_EQ_U64(info.ip_header_len, 40 + 24 + 16 + 8);

	/* AH counts its length in 4-byte units: 12 bytes plus a 16-byte ICV here. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_AH, 0, 64);
	ipv6_ah(&f, PROTO_UDP, 4);
	udp(&f, 500, 4500, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 500);
	CHECK_EQ_U64(info.key.dst_port, 4500);

	/* ESP ends the chain: its payload is encrypted, so no ports. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_DSTOPTS, 0, 64);
	ipv6_opts(&f, PROTO_ESP, 0);
	udp(&f, 1, 2, 0);       /* bytes that would look like ports */
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_ESP);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);

	/* "No next header" ends it too, with nothing after. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_NONE, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_NONE);

	/* An atomic fragment (offset 0, no more fragments, RFC 6946) is a whole packet. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_TCP, 0, 0);
	tcp(&f, 7, 9, TCP_RST);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_NONE);
	CHECK_EQ_U64(info.key.src_port, 7);
	CHECK_EQ_U64(info.tcp_flags, TCP_RST);

	/* Exactly 8 extension headers are followed. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_DSTOPTS, 0);
	for (int i = 0; i < 6; i++)
		ipv6_opts(&f, i < 5 ? PROTO_DSTOPTS : PROTO_ROUTING, 0);
	ipv6_opts(&f, PROTO_UDP, 0);
	udp(&f, 11, 12, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.dst_port, 12);
}

static void
test_fragments(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* IPv4 later fragment: no transport header, so the ports stay 0. The payload
	 * looks like a UDP header on purpose: it must not be read as one. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 185 /* offset 1480 bytes */);
	ipv4_set_id(&f, 0x4321);
	udp(&f, 1111, 2222, 0);
	payload(&f, 40);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_LATER);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);
	CHECK_EQ_U64(info.ip_octets, 20 + 48);
	CHECK_EQ_U64(info.frag_id, 0x4321);
	CHECK_EQ_U64(info.frag_offset, 1480);
	CHECK_EQ_U64(info.frag_len, 48);
	CHECK_EQ_U64(info.frag_more, 0);
	CHECK_EQ_U64(info.ip_header_len, 20);

	/* A middle fragment has the more-fragments bit. */
	set16(&f, f.ip_off + 6, IPV4_MF | 1);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_LATER);
	CHECK_EQ_U64(info.frag_offset, 8);
	CHECK_EQ_U64(info.frag_more, 1);
	CHECK_EQ_U64(info.key.src_port, 0);

	/* The first fragment (MF set, offset 0) carries the ports; its UDP length covers
	 * the whole datagram, more than this fragment holds. */
	set16(&f, f.ip_off + 6, IPV4_MF | IPV4_DF);
	set16(&f, f.ip_off + 20 + 4, 1000);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_FIRST);
	CHECK_EQ_U64(info.frag_offset, 0);
	CHECK_EQ_U64(info.frag_more, 1);
	CHECK_EQ_U64(info.key.src_port, 1111);
	CHECK_EQ_U64(info.key.dst_port, 2222);
	/* Unfragmented, that UDP length would be a lie. */
	set16(&f, f.ip_off + 6, 0);
	expect_result(&f, DPFIX_PARSE_BAD_UDP_LENGTH);

	/* The last fragment may end exactly at 65535 bytes of payload. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, (uint16_t)((65535 - 15) / 8));
	payload(&f, 15);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.frag_offset + info.frag_len, 65535);

	/* IPv6 later fragment after hop-by-hop: protocol from the fragment header. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_FRAGMENT, 0);
	ipv6_frag_id(&f, PROTO_UDP, 185, 0, 0x01020304);
	udp(&f, 1111, 2222, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_LATER);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);
	CHECK_EQ_U64(info.ip_octets, 40 + 8 + 8 + 8);
	CHECK_EQ_U64(info.frag_id, 0x01020304);
	CHECK_EQ_U64(info.frag_offset, 1480);
	CHECK_EQ_U64(info.frag_len, 8);
	CHECK_EQ_U64(info.frag_more, 0);
	CHECK_EQ_U64(info.ip_header_len, 40 + 8 + 8); /* the fragment's data follows */

	/* A later fragment whose payload is shorter than any transport header is still
	 * a valid packet: nothing after the fragment header is read. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_TCP, 1, 1);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_LATER);
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	CHECK_EQ_U64(info.frag_len, 0);

	/* The fragment header's next header may be another extension header. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_DSTOPTS, 2, 0);
	payload(&f, 16);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_DSTOPTS);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_LATER);
}

static void
test_vlan(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* 802.1Q with priority bits: only the 12-bit VLAN id is taken. */
	eth(&f);
	vlan(&f, TPID_8021Q, 5, 100);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 10, 20, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.vlan_id, 100);
	CHECK_EQ_U64(info.key.vlan_id, 0);
	CHECK_EQ_U64(info.key.src_port, 10);
	CHECK_EQ_U64(info.ip_octets, 28);
	CHECK_EQ_U64(info.l3_offset, 18);
	CHECK(parse(&f, DPFIX_KEY_VLAN, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.vlan_id, 100);
	CHECK_EQ_U64(info.key.vlan_id, 100);

	/* QinQ: the outer (service) tag is the one reported, whichever TPID it has. */
	static const uint16_t outer_tpids[] = {TPID_QINQ, TPID_QINQ_OLD, TPID_8021Q};
	for (size_t i = 0; i < 3; i++) {
		eth(&f);
		vlan(&f, outer_tpids[i], 0, 200);
		vlan(&f, TPID_8021Q, 7, 4095);
		ethertype(&f, ETH_IPV6);
		ipv6(&f, PROTO_TCP, 0, 64);
		tcp(&f, 7, 8, TCP_ACK);
		ip_end(&f);
		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.vlan_id, 200);
		CHECK_EQ_U64(info.key.vlan_id, 0);
		CHECK_EQ_U64(info.key.ip_version, 6);
		CHECK_EQ_U64(info.key.dst_port, 8);
		CHECK(parse(&f, DPFIX_KEY_VLAN, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.vlan_id, 200);
	}

	/* Up to four tags are followed (0x9100 stacks carry three or more). */
	eth(&f);
	vlan(&f, TPID_QINQ_OLD, 0, 1);
	vlan(&f, TPID_QINQ_OLD, 0, 2);
	vlan(&f, TPID_QINQ, 0, 3);
	vlan(&f, TPID_8021Q, 0, 4);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	icmp(&f, 8, 0);
	ip_end(&f);
	CHECK(parse(&f, DPFIX_KEY_VLAN, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.vlan_id, 1);
	CHECK_EQ_U64(info.key.dst_port, 0x0800);

	/* Keys with and without the VLAN differ exactly in vlan_id. */
	{
		struct dpfix_packet_info a, b;

		CHECK(parse(&f, 0, &a) == DPFIX_PARSE_OK);
		CHECK(parse(&f, DPFIX_KEY_VLAN, &b) == DPFIX_PARSE_OK);
		b.key.vlan_id = 0;
		CHECK(memcmp(&a.key, &b.key, sizeof(a.key)) == 0);
	}

	/* An untagged frame has VLAN 0 in the key even when the key includes it. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 10, 20, 0);
	ip_end(&f);
	CHECK(parse(&f, DPFIX_KEY_VLAN, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.vlan_id, 0);
	CHECK_EQ_U64(info.vlan_id, 0);
}

static void
test_mpls(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* One label, IPv4 beneath: the top entry without its TTL is kept. */
	eth(&f);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 16001, 5, 1, 63);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1000, 80, TCP_SYN);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.mpls_top, 16001u << 4 | 5 << 1 | 1);
	CHECK_EQ_U64(info.key.mpls_top, 0);
	CHECK_EQ_U64(info.key.ip_version, 4);
	CHECK_EQ_U64(info.key.src_port, 1000);
	CHECK_EQ_U64(info.ip_octets, 40);
	CHECK(parse(&f, DPFIX_KEY_MPLS, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.mpls_top, 16001u << 4 | 5 << 1 | 1);

	/* A VLAN, then three labels (multicast ethertype), IPv6 beneath: the top label is
	 * the first one, whose bottom-of-stack bit is clear. */
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 77);
	ethertype(&f, ETH_MPLS_MC);
	mpls(&f, 0xfffff, 0, 0, 255);
	mpls(&f, 24, 1, 0, 255);
	mpls(&f, 2 /* IPv6 explicit null */, 0, 1, 255);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 5000, 6000, 0);
	ip_end(&f);
	CHECK(parse(&f, DPFIX_KEY_MPLS | DPFIX_KEY_VLAN, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.mpls_top, 0xfffffu << 4);
	CHECK_EQ_U64(info.key.mpls_top, 0xfffffu << 4);
	CHECK_EQ_U64(info.key.vlan_id, 77);
	CHECK_EQ_U64(info.key.ip_version, 6);
	CHECK_EQ_U64(info.key.dst_port, 6000);
	CHECK_EQ_U64(info.l3_offset, 14 + 4 + 3 * 4);
	CHECK_EQ_U64(info.ip_header_len, 40);

	/* Eight labels are followed; IPv4 explicit null at the bottom. */
	eth(&f);
	ethertype(&f, ETH_MPLS);
	for (int i = 0; i < 8; i++)
		mpls(&f, i == 7 ? 0 : 100u + (uint32_t)i, 0, i == 7, 64);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.mpls_top, 100u << 4);
}

/* VXLAN: off by default (the tunnel is a UDP flow); with vxlan_inner, the inner
 * packet is metered and the outer VLAN and MPLS label are kept. */
static void
test_vxlan(void)
{
	struct frame inner, f;
	struct dpfix_packet_info info;

	eth(&inner);
	vlan(&inner, TPID_8021Q, 0, 999);  /* the tenant's tag: not the link's VLAN */
	ethertype(&inner, ETH_IPV4);
	ipv4(&inner, PROTO_TCP, 0x20, 33, 0, 0);
	tcp(&inner, 34567, 22, TCP_ACK);
	payload(&inner, 10);
	ip_end(&inner);

	eth(&f);
	vlan(&f, TPID_8021Q, 0, 10);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 30, 0, 1, 64);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 49152, 4789, (uint16_t)(8 + inner.len));
	vxlan(&f, 5000, &inner);
	ip_end(&f);

	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.ip_version, 6);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.dst_port, 4789);
	CHECK_EQ_U64(info.ip_octets, 40 + 8 + 8 + inner.len);
	CHECK_EQ_U64(info.l3_offset, 14 + 4 + 4);

	CHECK(parse_cfg(&cfg_vxlan, &f, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.ip_version, 4);
	CHECK(memcmp(info.key.src_addr, v4_src, 4) == 0);
	CHECK(all_zero(info.key.src_addr + 4, 12)); /* nothing left of the outer IPv6 */
	CHECK(all_zero(info.key.dst_addr + 4, 12));
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	CHECK_EQ_U64(info.key.src_port, 34567);
	CHECK_EQ_U64(info.key.dst_port, 22);
	CHECK_EQ_U64(info.tcp_flags, TCP_ACK);
	CHECK_EQ_U64(info.ip_octets, 20 + 20 + 10);
	CHECK_EQ_U64(info.tos, 0x20);
	CHECK_EQ_U64(info.ttl, 33);
	CHECK_EQ_U64(info.vlan_id, 10);
	CHECK_EQ_U64(info.mpls_top, 30u << 4 | 1);
	CHECK_EQ_U64(info.ingress_port, PORT);
	/* The inner IP header: after the outer headers, VXLAN's 8 and the inner L2. */
	CHECK_EQ_U64(info.l3_offset, 14 + 4 + 4 + 40 + 8 + 8 + inner.ip_off);
	CHECK_EQ_U64(info.ip_header_len, 20);

	/* Key fields come from the same places. */
	{
		struct dpfix_parse_config cfg = cfg_vxlan;

		cfg.key_fields = DPFIX_KEY_VLAN | DPFIX_KEY_MPLS | DPFIX_KEY_DSCP;
		CHECK(parse_cfg(&cfg, &f, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.vlan_id, 10);
		CHECK_EQ_U64(info.key.mpls_top, 30u << 4 | 1);
		CHECK_EQ_U64(info.key.dscp, 8);
	}

	/* Another port is just UDP; so is VXLAN when the configured port differs. */
	set16(&f, f.ip_off + 40 + 2, 4790);
	CHECK(parse_cfg(&cfg_vxlan, &f, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	{
		struct dpfix_parse_config cfg = cfg_vxlan;

		cfg.vxlan_port = 4790;
		CHECK(parse_cfg(&cfg, &f, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
	}
	set16(&f, f.ip_off + 40 + 2, 4789);

	/* A VXLAN packet inside VXLAN is metered as the inner tunnel's UDP flow. */
	{
		struct frame mid;

		eth(&mid);
		ethertype(&mid, ETH_IPV4);
		ipv4(&mid, PROTO_UDP, 0, 64, 0, 0);
		udp(&mid, 1234, 4789, (uint16_t)(8 + inner.len));
		vxlan(&mid, 6000, &inner);
		ip_end(&mid);
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
		udp(&f, 4321, 4789, (uint16_t)(8 + mid.len));
		vxlan(&f, 7000, &mid);
		ip_end(&f);
		CHECK(parse_cfg(&cfg_vxlan, &f, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
		CHECK_EQ_U64(info.key.src_port, 1234);
		CHECK_EQ_U64(info.ip_octets, mid.len - 14);
	}

	/* A fragmented outer packet is not opened: its inner frame is incomplete. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, IPV4_MF);
	udp(&f, 4321, 4789, 2000);
	vxlan(&f, 7000, &inner);
	ip_end(&f);
	CHECK(parse_cfg(&cfg_vxlan, &f, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.dst_port, 4789);
	CHECK_EQ_U64(info.fragment, DPFIX_FRAG_FIRST);

	/* Inner frames that are not IP, or malformed, are classified as such. */
	eth(&inner);
	ethertype(&inner, ETH_ARP);
	payload(&inner, 28);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 4321, 4789, (uint16_t)(8 + inner.len));
	vxlan(&f, 7000, &inner);
	ip_end(&f);
	expect_result_vxlan(&f, DPFIX_PARSE_NOT_IP);
	expect_result(&f, DPFIX_PARSE_OK);
}

/* The key holds exactly the configured fields; the info always has them all. */
static void
test_key_fields(void)
{
	struct frame f;
	struct dpfix_packet_info base, info;

	eth(&f);
	vlan(&f, TPID_QINQ, 0, 300);
	vlan(&f, TPID_8021Q, 0, 301);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 1000, 3, 1, 9);
	ipv4(&f, PROTO_UDP, 0xb9 /* DSCP 46, ECN 1 */, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &base) == DPFIX_PARSE_OK);

	for (uint32_t fields = 0; fields < 1u << DPFIX_KEY_FIELD_COUNT; fields++) {
		struct dpfix_flow_key want = base.key;

		CHECK(parse(&f, fields, &info) == DPFIX_PARSE_OK);
		if (fields & DPFIX_KEY_VLAN)
			want.vlan_id = 300;
		if (fields & DPFIX_KEY_DSCP)
			want.dscp = 46;
		if (fields & DPFIX_KEY_MPLS)
			want.mpls_top = 1000u << 4 | 3 << 1 | 1;
		if (fields & DPFIX_KEY_INGRESS_PORT)
			want.ingress_port = PORT;
		CHECK(memcmp(&info.key, &want, sizeof(want)) == 0);
		/* Everything but the key is the same whatever the key holds. */
		CHECK(memcmp((const uint8_t *)&info + sizeof(info.key),
				(const uint8_t *)&base + sizeof(base.key),
				sizeof(info) - sizeof(info.key)) == 0);
		CHECK_EQ_U64(info.vlan_id, 300);
		CHECK_EQ_U64(info.dscp, 46);
		CHECK_EQ_U64(info.tos, 0xb9);
		CHECK_EQ_U64(info.mpls_top, 1000u << 4 | 3 << 1 | 1);
		CHECK_EQ_U64(info.ingress_port, PORT);
	}
	/* Config names follow the bits. */
	CHECK(strcmp(dpfix_key_field_names[DPFIX_KEY_BIT_VLAN], "vlan") == 0);
	CHECK(strcmp(dpfix_key_field_names[DPFIX_KEY_BIT_DSCP], "dscp") == 0);
	CHECK(strcmp(dpfix_key_field_names[DPFIX_KEY_BIT_MPLS], "mpls") == 0);
	CHECK(strcmp(dpfix_key_field_names[DPFIX_KEY_BIT_INGRESS_PORT], "ingress_port") == 0);
	CHECK(dpfix_key_field_names[DPFIX_KEY_FIELD_COUNT] == NULL);
}

static void
test_skipped(void)
{
	struct frame f;

	/* ARP request. */
	eth(&f);
	ethertype(&f, ETH_ARP);
	put16(&f, 1);
	put16(&f, ETH_IPV4);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 1);
	payload(&f, 20);
	expect_result(&f, DPFIX_PARSE_NOT_IP);

	/* ARP inside a VLAN, LLDP, and an 802.3 length field. */
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 10);
	ethertype(&f, ETH_ARP);
	payload(&f, 28);
	expect_result(&f, DPFIX_PARSE_NOT_IP);
	eth(&f);
	ethertype(&f, 0x88cc);
	expect_result(&f, DPFIX_PARSE_NOT_IP);
	eth(&f);
	ethertype(&f, 46);
	payload(&f, 46);
	expect_result(&f, DPFIX_PARSE_NOT_IP);

	/* Five tags are more than the parser follows. */
	eth(&f);
	for (int i = 0; i < 5; i++)
		vlan(&f, TPID_8021Q, 0, (uint16_t)i);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_VLAN_TOO_DEEP);

	/* Nine labels, likewise. */
	eth(&f);
	ethertype(&f, ETH_MPLS);
	for (int i = 0; i < 9; i++)
		mpls(&f, 100, 0, i == 8, 64);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_MPLS_TOO_DEEP);

	/* MPLS carrying Ethernet (a pseudowire control word starts with nibble 0). */
	eth(&f);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 100, 0, 1, 64);
	put32(&f, 0);
	payload(&f, 60);
	expect_result(&f, DPFIX_PARSE_MPLS_NOT_IP);

	/* Nine extension headers. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	for (int i = 0; i < 9; i++)
		ipv6_opts(&f, i < 8 ? PROTO_DSTOPTS : PROTO_UDP, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_IPV6_EXT_TOO_DEEP);
}

/* ---- malformed packets: one case (at least) for every result code ---- */

static void
test_malformed_l2_l3(void)
{
	struct frame f;

	/* TRUNCATED_L2: no room for the ethertype, or for a VLAN tag. */
	eth(&f);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	put8(&f, 0x08);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 1);
	f.len -= 1;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	vlan(&f, TPID_QINQ, 0, 1);
	vlan(&f, TPID_8021Q, 0, 2);
	put8(&f, 0x08);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_L2);

	/* TRUNCATED_MPLS: inside a label, or no payload after the bottom label. */
	eth(&f);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 100, 0, 0, 64);
	put16(&f, 0);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_MPLS);
	eth(&f);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 100, 0, 1, 64);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_MPLS);

	/* TRUNCATED_IPV4: under 20 bytes, or under the length IHL announces. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV4);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 40, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.len = f.ip_off + 59;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV4);

	/* BAD_IPV4_VERSION: ethertype IPv4, version field 6 (or 0). */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.b[f.ip_off] = 0x65;
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_VERSION);
	f.b[f.ip_off] = 0x05;
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_VERSION);

	/* BAD_IPV4_HEADER_LENGTH: every IHL below 5. */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		f.b[f.ip_off] = (uint8_t)(0x40 | ihl);
		expect_result(&f, DPFIX_PARSE_BAD_IPV4_HEADER_LENGTH);
	}

	/* BAD_IPV4_TOTAL_LENGTH: total length below the header length. */
	f.b[f.ip_off] = 0x45;
	set16(&f, f.ip_off + 2, 19);
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);
	set16(&f, f.ip_off + 2, 0);
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 8, 0);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 2, 27);
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);

	/* BAD_IPV4_FRAGMENT: offset plus payload past 65535 (the "ping of death"). */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, (uint16_t)((65535 - 15) / 8));
	payload(&f, 16);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_BAD_IPV4_FRAGMENT);

	/* TRUNCATED_IPV6 and BAD_IPV6_VERSION. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.len = f.ip_off + 39;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV6);
	f.len = f.ip_off + 48;
	f.b[f.ip_off] = 0x40;
	expect_result(&f, DPFIX_PARSE_BAD_IPV6_VERSION);
	f.b[f.ip_off] = 0x00;
	expect_result(&f, DPFIX_PARSE_BAD_IPV6_VERSION);

	/* TRUNCATED_IPV6_EXT: a header cut short, one whose length runs past the packet,
	 * and a fragment header cut short. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_UDP, 0);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	expect_result_cut(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_DSTOPTS, 0, 64);
	put8(&f, PROTO_UDP);
	put8(&f, 255);          /* claims 2048 bytes; the frame ends after 16 */
	payload(&f, 14);
	set16(&f, f.ip_off + 4, 2048 + 8);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	expect_result_cut(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_UDP, 0, 1);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	expect_result_cut(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	/* The IPv6 payload length, not just the frame, bounds the chain. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_ROUTING, 0, 64);
	ipv6_opts(&f, PROTO_UDP, 1);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 4, 15);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_IPV6_EXT);

	/* BAD_IPV6_HOPOPTS: hop-by-hop anywhere but first. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_DSTOPTS, 0, 64);
	ipv6_opts(&f, PROTO_HOPOPTS, 0);
	ipv6_opts(&f, PROTO_UDP, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_BAD_IPV6_HOPOPTS);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_HOPOPTS, 0, 0);
	ipv6_opts(&f, PROTO_UDP, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_BAD_IPV6_HOPOPTS);

	/* IPV4/IPV6_LENGTH_PAST_FRAME: more than the frame holds; a header the parser reads
	 * that is cut short is reported as such first. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	set16(&f, f.ip_off + 4, 9);
	expect_result(&f, DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME);
	expect_result_cut(&f, DPFIX_PARSE_OK);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	set16(&f, f.ip_off + 2, 29);
	expect_result(&f, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	f.len -= 1;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_UDP);

	/* BAD_IPV6_FRAGMENT: offset plus fragment payload past 65535. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_UDP, 8190, 0);
	payload(&f, 16);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_BAD_IPV6_FRAGMENT);
}

static void
test_malformed_l4(void)
{
	struct frame f;

	/* TRUNCATED_TCP: the frame ends inside the transport header... */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	f.len = f.ip_off + 20 + 13;
	expect_result(&f, DPFIX_PARSE_TRUNCATED_TCP);
	/* The IP total length goes past the frame too; the header cut is what shows. */
	expect_result_cut(&f, DPFIX_PARSE_TRUNCATED_TCP);
	f.len = f.ip_off + 20 + 14;
	expect_result(&f, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	expect_result_cut(&f, DPFIX_PARSE_OK);
	/* ...or the IP total length does, even though the frame (padding) goes on. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	set16(&f, f.ip_off + 2, 20 + 10);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_TCP);
	/* A tiny first fragment (RFC 1858) cannot hold the TCP header either. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, IPV4_MF);
	tcp(&f, 1, 2, TCP_SYN);
	set16(&f, f.ip_off + 2, 20 + 8);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_TCP);

	/* BAD_TCP_HEADER_LENGTH: data offset below 5, or past the IP payload. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_TCP, 0, 64);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	f.b[f.ip_off + 40 + 12] = 4 << 4;
	expect_result(&f, DPFIX_PARSE_BAD_TCP_HEADER_LENGTH);
	f.b[f.ip_off + 40 + 12] = 0;
	expect_result(&f, DPFIX_PARSE_BAD_TCP_HEADER_LENGTH);
	f.b[f.ip_off + 40 + 12] = 6 << 4;
	expect_result(&f, DPFIX_PARSE_BAD_TCP_HEADER_LENGTH);

	/* TRUNCATED_UDP and BAD_UDP_LENGTH. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 2, 20 + 7);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_UDP);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 4, 3);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_UDP);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	payload(&f, 10);
	ip_end(&f);
	set16(&f, f.ip_off + 20 + 4, 7);
	expect_result(&f, DPFIX_PARSE_BAD_UDP_LENGTH);
	set16(&f, f.ip_off + 20 + 4, 19);
	expect_result(&f, DPFIX_PARSE_BAD_UDP_LENGTH);
	set16(&f, f.ip_off + 20 + 4, 18);
	expect_result(&f, DPFIX_PARSE_OK);
	set16(&f, f.ip_off + 20 + 4, 8);  /* shorter than the IP payload: allowed */
	expect_result(&f, DPFIX_PARSE_OK);

	/* TRUNCATED_SCTP. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_SCTP, 0, 64, 0, 0);
	put16(&f, 2905);
	put8(&f, 1);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_SCTP);

	/* TRUNCATED_ICMP: one byte of ICMP, or of ICMPv6. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	put8(&f, 8);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_ICMP);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_ICMPV6, 0, 64);
	put8(&f, 128);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_ICMP);

	/* TRUNCATED_GRE: inside the flag word, or optional fields past the packet. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	put16(&f, 0);
	put8(&f, 0x08);
	ip_end(&f);
	expect_result(&f, DPFIX_PARSE_TRUNCATED_GRE);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	gre(&f, 0xb000, ETH_IPV4);
	ip_end(&f);
	set16(&f, f.ip_off + 2, (uint16_t)(20 + 4 + 11));
	expect_result(&f, DPFIX_PARSE_TRUNCATED_GRE);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	gre(&f, 0x3081, 0x880b);
	ip_end(&f);
	set16(&f, f.ip_off + 2, (uint16_t)(20 + 15));
	expect_result(&f, DPFIX_PARSE_TRUNCATED_GRE);

	/* BAD_GRE_HEADER: version 0 with routing (bit 1), strict source route (bit 4) or
	 * recursion (bit 5) set; version 1 without the key, with the checksum, or not
	 * carrying PPP; versions 2 to 7. */
	static const struct {
		uint16_t flags, proto;
	} bad[] = {
		{0x4000, ETH_IPV4}, {0x0800, ETH_IPV4}, {0x0400, ETH_IPV4},
		{0x0001, 0x880b}, {0xa001, 0x880b}, {0x2001, ETH_IPV4}, {0x2041, 0x880b},
		{0x0002, ETH_IPV4}, {0x0007, ETH_IPV4},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eth(&f);
		ethertype(&f, ETH_IPV4);
		ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
		gre(&f, bad[i].flags, bad[i].proto);
		payload(&f, 20);
		ip_end(&f);
		expect_result(&f, DPFIX_PARSE_BAD_GRE_HEADER);
	}
}

static void
test_malformed_vxlan(void)
{
	struct frame inner, f;

	eth(&inner);
	ethertype(&inner, ETH_IPV4);
	ipv4(&inner, PROTO_UDP, 0, 64, 0, 0);
	udp(&inner, 1, 2, 0);
	ip_end(&inner);

	/* TRUNCATED_VXLAN: the UDP payload is shorter than the VXLAN header. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 4789, 7);
	payload(&f, 7);
	ip_end(&f);
	expect_result_vxlan(&f, DPFIX_PARSE_TRUNCATED_VXLAN);
	expect_result(&f, DPFIX_PARSE_OK);

	/* BAD_VXLAN_FLAGS: the I flag is clear. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 4789, (uint16_t)(8 + inner.len));
	vxlan(&f, 1, &inner);
	ip_end(&f);
	expect_result_vxlan(&f, DPFIX_PARSE_OK);
	f.b[f.ip_off + 28] = 0x00;
	expect_result_vxlan(&f, DPFIX_PARSE_BAD_VXLAN_FLAGS);
	f.b[f.ip_off + 28] = 0xf7;
	expect_result_vxlan(&f, DPFIX_PARSE_BAD_VXLAN_FLAGS);
	/* Other flag bits are ignored on receipt (RFC 7348 5). */
	f.b[f.ip_off + 28] = 0xff;
	expect_result_vxlan(&f, DPFIX_PARSE_OK);

	/* A malformed inner packet is counted by its own reason. */
	inner.len -= 1;
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 4789, (uint16_t)(8 + inner.len));
	vxlan(&f, 1, &inner);
	ip_end(&f);
	expect_result_vxlan(&f, DPFIX_PARSE_TRUNCATED_UDP);
}

/* Runs after every other test: each result code must have been produced. */
static void
test_every_result_covered(void)
{
	for (unsigned int r = 0; r < DPFIX_PARSE_RESULT_COUNT; r++) {
		if (results_seen[r] == 0)
			fprintf(stderr, "  result %s never produced\n",
					dpfix_parse_result_name((enum dpfix_parse_result)r));
		CHECK(results_seen[r] > 0);
	}
}

static void
test_result_names(void)
{
#define EXPECT_NAME(name, kind, text) \
	CHECK(strcmp(dpfix_parse_result_name(DPFIX_PARSE_##name), #name) == 0); \
	CHECK(strcmp(dpfix_parse_result_text(DPFIX_PARSE_##name), text) == 0); \
	CHECK(dpfix_parse_result_kind(DPFIX_PARSE_##name) == DPFIX_PARSE_KIND_##kind);
	DPFIX_PARSE_RESULTS(EXPECT_NAME)
#undef EXPECT_NAME
	CHECK(strcmp(dpfix_parse_result_name(DPFIX_PARSE_RESULT_COUNT), "UNKNOWN") == 0);
	CHECK(strcmp(dpfix_parse_result_text(DPFIX_PARSE_RESULT_COUNT), "unknown") == 0);
	CHECK(dpfix_parse_result_kind(DPFIX_PARSE_OK) == DPFIX_PARSE_KIND_OK);
	CHECK(dpfix_parse_result_kind(DPFIX_PARSE_NOT_IP) == DPFIX_PARSE_KIND_SKIPPED);
	CHECK(dpfix_parse_result_kind(DPFIX_PARSE_TRUNCATED_L2) == DPFIX_PARSE_KIND_MALFORMED);
}

/* ---- truncation at every length ---- */

/* A complete frame and, in order, where each header ends: cut before bound[i] (and at
 * or after bound[i-1]), the frame must give result[i]; from the last bound on, OK.
 * A bound is the shortest prefix that holds every byte the parser reads from that
 * header (through the TCP flags, the UDP length, the SCTP ports, the ICMP type and
 * code, the GRE flag word and protocol, the VXLAN header). */
#define MAX_LAYERS 12
struct layered_frame {
	const char *name;
	const struct dpfix_parse_config *cfg;
	struct frame f;
	unsigned int layers;
	uint32_t bound[MAX_LAYERS];
	enum dpfix_parse_result result[MAX_LAYERS];
};

static void
layer(struct layered_frame *lf, uint32_t bound, enum dpfix_parse_result r)
{
	lf->bound[lf->layers] = bound;
	lf->result[lf->layers] = r;
	lf->layers++;
}

static void
start(struct layered_frame *lf, const char *name, const struct dpfix_parse_config *cfg)
{
	lf->name = name;
	lf->cfg = cfg;
	lf->layers = 0;
	eth(&lf->f);
}

/* Where the outer IP packet ends by its length field; past_frame: the result for a
 * frame that holds the headers but not the packet. */
static void
outer_ip_packet(const struct frame *f, uint32_t *packet_end, enum dpfix_parse_result *past_frame)
{
	uint32_t length_field = (uint32_t)f->b[f->ip_off + (f->ip_version == 4 ? 2 : 4)] << 8 |
			f->b[f->ip_off + (f->ip_version == 4 ? 3 : 5)];

	*packet_end = f->ip_off + length_field + (f->ip_version == 4 ? 0 : 40);
	*past_frame = f->ip_version == 4 ? DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME :
			DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME;
}

/* Parses the frame cut at every length, as a capture's snapshot length cuts it (its
 * wire length known, or not): each length gives the result of the layer it cuts, and
 * once the headers are in, the same packet info. Then as a frame that was that short
 * on the wire: once the headers are in, one that does not hold the packet its IP
 * length field announces is malformed. */
static void
truncate_all(const struct layered_frame *lf)
{
	struct dpfix_packet_info full, info;
	enum dpfix_parse_result r, past_frame = DPFIX_PARSE_OK;
	uint32_t packet_end = 0, headers_end = 0;

	CHECK(parse_cfg(lf->cfg, &lf->f, &full) == DPFIX_PARSE_OK);
	outer_ip_packet(&lf->f, &packet_end, &past_frame);
	CHECK(packet_end <= lf->f.len);
	/* The outer packet's headers: all of them, or up to VXLAN's, once the inner frame
	 * is to be opened (the outer packet must fit the frame before that). */
	for (unsigned int i = 0; i < lf->layers; i++) {
		headers_end = lf->bound[i];
		if (lf->result[i] == DPFIX_PARSE_TRUNCATED_VXLAN)
			break;
	}
	for (uint32_t len = 0; len <= lf->f.len; len++) {
		enum dpfix_parse_result want = DPFIX_PARSE_OK;
		const uint32_t wires[] = {lf->f.len, DPFIX_WIRE_LEN_UNKNOWN, len};

		for (unsigned int i = 0; i < lf->layers; i++) {
			if (len < lf->bound[i]) {
				want = lf->result[i];
				break;
			}
		}
		for (unsigned int w = 0; w < 3; w++) {
			if (w == 2 && len >= headers_end && len < packet_end)
				want = past_frame;
			memset(&info, 0xa5, sizeof(info));
			r = parse_exact_wire(lf->cfg, lf->f.b, len, wires[w], &info);
			if (r != want)
				fprintf(stderr, "  %s cut to %u of %u bytes (wire %d): got %s, wanted %s\n",
						lf->name, len, lf->f.len, (int)wires[w],
						dpfix_parse_result_name(r), dpfix_parse_result_name(want));
			CHECK(r == want);
			/* Once the headers are in, the result does not depend on the payload. */
			if (r == DPFIX_PARSE_OK && want == DPFIX_PARSE_OK)
				CHECK(memcmp(&info, &full, sizeof(info)) == 0);
		}
	}
}

static void
test_truncation(void)
{
	static struct layered_frame lf;
	struct frame *f = &lf.f;
	uint32_t l3;

	start(&lf, "IPv4/TCP", &cfg_default);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_TCP, 0, 64, 0, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	tcp(f, 1, 2, TCP_SYN);
	layer(&lf, f->len - 6, DPFIX_PARSE_TRUNCATED_TCP);
	payload(f, 6);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "802.1Q/IPv4 with options/UDP", &cfg_default);
	vlan(f, TPID_8021Q, 0, 42);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_UDP, 0, 64, 40, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	udp(f, 1, 2, 4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_UDP);
	payload(f, 4);
	ip_end(f);
	eth_pad(f);
	truncate_all(&lf);

	start(&lf, "QinQ/IPv4/ICMP", &cfg_default);
	vlan(f, TPID_QINQ, 0, 42);
	vlan(f, TPID_8021Q, 0, 43);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_ICMP, 0, 64, 4, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	icmp(f, 3, 3);
	layer(&lf, f->len - 6, DPFIX_PARSE_TRUNCATED_ICMP);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv4/SCTP", &cfg_default);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_SCTP, 0, 64, 0, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	sctp(f, 1, 2);
	layer(&lf, f->len - 8, DPFIX_PARSE_TRUNCATED_SCTP);
	payload(f, 16);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv4/GRE with key and sequence", &cfg_default);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_GRE, 0, 64, 0, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	layer(&lf, f->len + 4, DPFIX_PARSE_TRUNCATED_GRE);
	gre(f, 0x3000, ETH_IPV6);
	payload(f, 40);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv4 later fragment", &cfg_default);
	ethertype(f, ETH_IPV4);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv4(f, PROTO_TCP, 0, 64, 0, 100);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	payload(f, 30);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "MPLS x2/IPv4/TCP", &cfg_default);
	ethertype(f, ETH_MPLS);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	mpls(f, 1, 0, 0, 1);
	mpls(f, 2, 0, 1, 1);
	l3 = f->len;
	layer(&lf, l3 + 1, DPFIX_PARSE_TRUNCATED_MPLS);
	ipv4(f, PROTO_TCP, 0, 64, 0, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
	tcp(f, 1, 2, TCP_SYN);
	layer(&lf, f->len - 6, DPFIX_PARSE_TRUNCATED_TCP);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv6/TCP", &cfg_default);
	ethertype(f, ETH_IPV6);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv6(f, PROTO_TCP, 0, 64);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6);
	tcp(f, 1, 2, TCP_SYN | TCP_ACK);
	layer(&lf, f->len - 6, DPFIX_PARSE_TRUNCATED_TCP);
	payload(f, 3);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "QinQ/IPv6/hop-by-hop/routing/fragment/UDP", &cfg_default);
	vlan(f, TPID_QINQ, 0, 1000);
	vlan(f, TPID_8021Q, 0, 2000);
	ethertype(f, ETH_IPV6);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv6(f, PROTO_HOPOPTS, 0, 64);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6);
	ipv6_opts(f, PROTO_ROUTING, 1);
	ipv6_opts(f, PROTO_FRAGMENT, 0);
	ipv6_frag(f, PROTO_UDP, 0, 1);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	udp(f, 1, 2, 8);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_UDP);
	payload(f, 8);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv6/AH/UDP", &cfg_default);
	ethertype(f, ETH_IPV6);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv6(f, PROTO_AH, 0, 64);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6);
	ipv6_ah(f, PROTO_UDP, 3);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	udp(f, 1, 2, 0);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_UDP);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv6/fragment (later)", &cfg_default);
	ethertype(f, ETH_IPV6);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv6(f, PROTO_FRAGMENT, 0, 64);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6);
	ipv6_frag(f, PROTO_UDP, 10, 1);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6_EXT);
	payload(f, 16);
	ip_end(f);
	truncate_all(&lf);

	start(&lf, "IPv6/ICMPv6", &cfg_default);
	ethertype(f, ETH_IPV6);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
	ipv6(f, PROTO_ICMPV6, 0, 64);
	layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV6);
	icmp(f, 128, 0);
	layer(&lf, f->len - 6, DPFIX_PARSE_TRUNCATED_ICMP);
	payload(f, 8);
	ip_end(f);
	truncate_all(&lf);

	{
		struct frame inner;

		eth(&inner);
		vlan(&inner, TPID_8021Q, 0, 5);
		ethertype(&inner, ETH_IPV6);
		ipv6(&inner, PROTO_TCP, 0, 64);
		tcp(&inner, 80, 1025, TCP_ACK);
		ip_end(&inner);

		start(&lf, "VLAN/IPv4/UDP/VXLAN/VLAN/IPv6/TCP", &cfg_vxlan);
		vlan(f, TPID_8021Q, 0, 6);
		ethertype(f, ETH_IPV4);
		layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_L2);
		ipv4(f, PROTO_UDP, 0, 64, 0, 0);
		layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_IPV4);
		udp(f, 1, 4789, (uint16_t)(8 + inner.len));
		layer(&lf, f->len, DPFIX_PARSE_TRUNCATED_UDP);
		layer(&lf, f->len + 8, DPFIX_PARSE_TRUNCATED_VXLAN);
		l3 = f->len + 8;
		layer(&lf, l3 + 18, DPFIX_PARSE_TRUNCATED_L2);
		layer(&lf, l3 + 18 + 40, DPFIX_PARSE_TRUNCATED_IPV6);
		layer(&lf, l3 + 18 + 40 + 14, DPFIX_PARSE_TRUNCATED_TCP);
		vxlan(f, 42, &inner);
		ip_end(f);
		truncate_all(&lf);
	}
}

/* Random bytes behind valid and random ethertypes: any result, never a crash or an
 * overread (the copies are exactly as long as the length passed). */
static void
test_random_frames(void)
{
	static const uint16_t types[] = {ETH_IPV4, ETH_IPV6, TPID_8021Q, TPID_QINQ, ETH_MPLS, ETH_ARP};
	uint8_t buf[256];
	uint32_t state = 12345;
	struct dpfix_packet_info info;

	for (int i = 0; i < 200000; i++) {
		uint32_t len;
		enum dpfix_parse_result r;
		unsigned int t = (unsigned int)i % 6;

		for (size_t j = 0; j < sizeof(buf); j++) {
			state = state * 1103515245u + 12345u;
			buf[j] = (uint8_t)(state >> 16);
		}
		len = (state >> 8) % sizeof(buf);
		buf[12] = (uint8_t)(types[t] >> 8);
		buf[13] = (uint8_t)types[t];
		if ((t == 2 || t == 3) && i % 4 != 0) {
			buf[16] = (uint8_t)(types[i % 2] >> 8); /* inner ethertype IPv4 or IPv6 */
			buf[17] = (uint8_t)types[i % 2];
		}
		/* Steer the IP version nibble to the one that matches most of the time, and
		 * the protocol towards those with more to parse. */
		if (i % 3 != 0) {
			buf[14] = (uint8_t)((t == 1 ? 0x60 : 0x40) | (buf[14] & 0x0f));
			buf[18] = (uint8_t)((t == 1 ? 0x60 : 0x40) | (buf[18] & 0x0f));
			buf[22] = (uint8_t)((t == 1 ? 0x60 : 0x40) | (buf[22] & 0x0f));
			buf[14 + 9] = (uint8_t[]){PROTO_TCP, PROTO_UDP, PROTO_GRE, PROTO_ICMP}[i % 4];
			buf[14 + 6] = (uint8_t[]){PROTO_HOPOPTS, PROTO_FRAGMENT, PROTO_UDP, PROTO_AH}[i % 4];
		}
		r = parse_exact_cfg(i & 1 ? &cfg_vxlan : &cfg_default, buf, len, &info);
		CHECK((unsigned int)r < DPFIX_PARSE_RESULT_COUNT);
		if (r == DPFIX_PARSE_OK) {
			CHECK(info.key.ip_version == 4 || info.key.ip_version == 6);
			CHECK(info.fragment <= DPFIX_FRAG_LATER);
			CHECK(info.key.reserved == 0);
		}
	}
}

int
main(void)
{
	RUN_TEST(test_ipv4_tcp);
	RUN_TEST(test_ipv4_udp_padding);
	RUN_TEST(test_ipv4_options);
	RUN_TEST(test_tcp_options);
	RUN_TEST(test_icmp);
	RUN_TEST(test_sctp);
	RUN_TEST(test_portless_protocols);
	RUN_TEST(test_gre);
	RUN_TEST(test_ipv6_tcp);
	RUN_TEST(test_ipv6_extension_headers);
	RUN_TEST(test_fragments);
	RUN_TEST(test_vlan);
	RUN_TEST(test_mpls);
	RUN_TEST(test_vxlan);
	RUN_TEST(test_key_fields);
	RUN_TEST(test_skipped);
	RUN_TEST(test_malformed_l2_l3);
	RUN_TEST(test_malformed_l4);
	RUN_TEST(test_malformed_vxlan);
	RUN_TEST(test_result_names);
	RUN_TEST(test_truncation);
	RUN_TEST(test_random_frames);
	RUN_TEST(test_every_result_covered);
	return unit_test_summary();
}
