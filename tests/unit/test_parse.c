/* Unit tests for lib/parse: well-formed frames built byte by byte (Ethernet, IPv4 with
 * options and fragments, IPv6 with extension headers, TCP, UDP, SCTP, ICMP, ICMPv6,
 * protocols without ports), the configurable key fields, what is skipped, and every
 * result code's name and that each was produced. The program's main runs the tests of
 * test_parse_tunnels.c and test_parse_malformed.c too. */
#include "parse_test.h"
#include "unit_test.h"

int results_seen[DPFIX_PARSE_RESULT_COUNT];

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
