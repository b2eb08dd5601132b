/* Unit tests for lib/parse: frames built byte by byte (Ethernet, 802.1Q, QinQ, IPv4 with
 * options, IPv6 with extension headers, TCP/UDP/ICMP), every result code, every truncation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "unit_test.h"

#define TPID_8021Q 0x8100
#define TPID_QINQ 0x88a8
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP 0x0806

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_GRE 47
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_PSH 0x08
#define TCP_FIN 0x01

/* A frame under construction. The IP header's length field is filled in by ip_end,
 * so whatever follows it (Ethernet padding) is outside the IP packet. */
struct frame {
	uint8_t b[1024];
	uint32_t len;
	uint32_t ip_off;        /* where the IP header starts */
	uint32_t ip_hdr_len;    /* IPv4 header with options, or the fixed IPv6 header */
	uint8_t ip_version;
};

static const uint8_t v4_src[4] = {192, 0, 2, 1};
static const uint8_t v4_dst[4] = {198, 51, 100, 7};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0, 0, 0, 0, 0, 0, 0,
	0xab, 0xcd};

static void
put8(struct frame *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put_bytes(struct frame *f, const uint8_t *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* Destination and source MAC; the ethertype (or first TPID) comes next. */
static void
eth(struct frame *f)
{
	static const uint8_t macs[12] = {0x00, 0x1b, 0x21, 0x01, 0x02, 0x03,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};

	memset(f, 0, sizeof(*f));
	put_bytes(f, macs, sizeof(macs));
}

/* A VLAN tag: its TPID where an ethertype would be, then the TCI. */
static void
vlan(struct frame *f, uint16_t tpid, uint8_t pcp, uint16_t vid)
{
	put16(f, tpid);
	put16(f, (uint16_t)(pcp << 13 | vid));
}

static void
ethertype(struct frame *f, uint16_t type)
{
	put16(f, type);
}

/* IPv4 header with options_len bytes of options (multiple of 4; NOPs ending in EOL). */
static void
ipv4(struct frame *f, uint8_t proto, uint8_t tos, uint8_t ttl, uint32_t options_len,
		uint16_t frag)
{
	f->ip_off = f->len;
	f->ip_hdr_len = 20 + options_len;
	f->ip_version = 4;
	put8(f, (uint8_t)(0x40 | f->ip_hdr_len / 4));
	put8(f, tos);
	put16(f, 0);            /* total length: ip_end */
	put16(f, 0x1234);       /* identification */
	put16(f, frag);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);            /* checksum: the parser does not look at it */
	put_bytes(f, v4_src, 4);
	put_bytes(f, v4_dst, 4);
	for (uint32_t i = 0; i < options_len; i++)
		put8(f, i + 1 == options_len ? 0 : 1);
}

static void
ipv6(struct frame *f, uint8_t next, uint8_t tclass, uint8_t hop_limit)
{
	f->ip_off = f->len;
	f->ip_hdr_len = 40;
	f->ip_version = 6;
	put8(f, (uint8_t)(0x60 | tclass >> 4));
	put8(f, (uint8_t)(tclass << 4 | 0x0a)); /* flow label 0xabcde */
	put16(f, 0xbcde);
	put16(f, 0);            /* payload length: ip_end */
	put8(f, next);
	put8(f, hop_limit);
	put_bytes(f, v6_src, 16);
	put_bytes(f, v6_dst, 16);
}

/* Hop-by-hop, routing or destination options header of (units + 1) * 8 bytes. */
static void
ipv6_opts(struct frame *f, uint8_t next, uint8_t units)
{
	uint32_t n = ((uint32_t)units + 1) * 8;

	put8(f, next);
	put8(f, units);
	/* One PadN option covering the rest. */
	put8(f, 1);
	put8(f, (uint8_t)(n - 4));
	for (uint32_t i = 4; i < n; i++)
		put8(f, 0);
}

/* Fragment header; offset in 8-byte units. */
static void
ipv6_frag(struct frame *f, uint8_t next, uint16_t offset, int more)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	put16(f, 0xdead);
	put16(f, 0xbeef);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 0x0102);       /* sequence number */
	put16(f, 0x0304);
	put16(f, 0);            /* acknowledgement number */
	put16(f, 0);
	put8(f, 5 << 4);        /* data offset: 20 bytes */
	put8(f, flags);
	put16(f, 65535);        /* window */
	put16(f, 0);            /* checksum */
	put16(f, 0);            /* urgent pointer */
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
}

/* ICMP and ICMPv6 share the layout: type, code, checksum, 4 bytes of rest. */
static void
icmp(struct frame *f, uint8_t type, uint8_t code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, 0x0001);       /* echo identifier */
	put16(f, 0x0002);       /* echo sequence */
}

static void
payload(struct frame *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(f, (uint8_t)(0xa0 + i));
}

/* Ends the IP packet here: fills in its length field. */
static void
ip_end(struct frame *f)
{
	if (f->ip_version == 4)
		set16(f, f->ip_off + 2, (uint16_t)(f->len - f->ip_off));
	else
		set16(f, f->ip_off + 4, (uint16_t)(f->len - f->ip_off - 40));
}

/* Ethernet padding up to the 60-byte minimum frame (without FCS). */
static void
eth_pad(struct frame *f)
{
	while (f->len < 60)
		put8(f, 0);
}

/* Parses exactly len bytes copied to a buffer of that size, so an overread lands
 * outside the allocation where a sanitizer or malloc checking can see it. */
static enum dpfix_parse_result
parse_exact(const uint8_t *frame, uint32_t len, int key_vlan, struct dpfix_packet_info *info)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum dpfix_parse_result r;

	if (copy == NULL) {
		CHECK(!"out of memory");
		return DPFIX_PARSE_RESULT_COUNT;
	}
	memcpy(copy, frame, len);
	r = dpfix_parse_ethernet(copy, len, key_vlan, info);
	free(copy);
	return r;
}

static enum dpfix_parse_result
parse(const struct frame *f, int key_vlan, struct dpfix_packet_info *info)
{
	return parse_exact(f->b, f->len, key_vlan, info);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Result codes the tests below have produced; every code must be seen once. */
static int results_seen[DPFIX_PARSE_RESULT_COUNT];

static void
expect_result(const struct frame *f, int key_vlan, enum dpfix_parse_result want)
{
	struct dpfix_packet_info info;
	enum dpfix_parse_result r = parse(f, key_vlan, &info);

	if (r != want)
		fprintf(stderr, "  frame of %u bytes: got %s, wanted %s\n", f->len,
				dpfix_parse_result_name(r), dpfix_parse_result_name(want));
	CHECK(r == want);
	if ((unsigned int)r < DPFIX_PARSE_RESULT_COUNT)
		results_seen[r]++;
}

/* ---- well-formed packets ---- */

static void
test_ipv4_tcp(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0x28, 61, 0, 0x4000 /* DF */);
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
	CHECK_EQ_U64(info.key.vlan_id, 0);
	CHECK_EQ_U64(info.vlan_id, 0);
	CHECK_EQ_U64(info.ip_octets, 20 + 20 + 100);
	CHECK_EQ_U64(info.tcp_flags, TCP_SYN | TCP_ACK);
	CHECK_EQ_U64(info.tos, 0x28);
	CHECK_EQ_U64(info.ttl, 61);
	CHECK_EQ_U64(info.is_fragment, 0);
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
		udp(&f, 1000 + opts, 2000, 10);
		payload(&f, 10);
		ip_end(&f);

		CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(info.key.src_port, 1000 + opts);
		CHECK_EQ_U64(info.key.dst_port, 2000);
		CHECK_EQ_U64(info.ip_octets, 20 + opts + 18);
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

	/* ICMPv6 echo request and reply keep apart the same way. */
	for (uint8_t type = 128; type <= 129; type++) {
		eth(&f);
		ethertype(&f, ETH_IPV6);
		ipv6(&f, PROTO_ICMPV6, 0, 64);
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
test_other_transports(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* SCTP ports sit where UDP's do. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_SCTP, 0, 64, 0, 0);
	udp(&f, 2905, 2906, 20);
	payload(&f, 20);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_SCTP);
	CHECK_EQ_U64(info.key.src_port, 2905);
	CHECK_EQ_U64(info.key.dst_port, 2906);

	/* A protocol without ports is metered by addresses and protocol alone. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	payload(&f, 1);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.protocol, PROTO_GRE);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);
	CHECK_EQ_U64(info.ip_octets, 21);
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
	CHECK_EQ_U64(info.ttl, 57);
	CHECK_EQ_U64(info.is_fragment, 0);
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
	CHECK_EQ_U64(info.is_fragment, 0);
	CHECK_EQ_U64(info.ip_octets, 40 + 8 + 8 + 8 + 100);

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
	udp(&f, 1111, 2222, 0);
	payload(&f, 40);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.is_fragment, 1);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);
	CHECK_EQ_U64(info.ip_octets, 20 + 48);

	/* The last fragment (no more-fragments bit) and one with the MF bit are both later. */
	set16(&f, f.ip_off + 6, 0x2000 | 1);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.is_fragment, 1);
	CHECK_EQ_U64(info.key.src_port, 0);

	/* The first fragment (MF set, offset 0) carries the ports. */
	set16(&f, f.ip_off + 6, 0x2000);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.is_fragment, 0);
	CHECK_EQ_U64(info.key.src_port, 1111);
	CHECK_EQ_U64(info.key.dst_port, 2222);

	/* IPv6 later fragment after hop-by-hop: protocol from the fragment header. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_FRAGMENT, 0);
	ipv6_frag(&f, PROTO_UDP, 185, 0);
	udp(&f, 1111, 2222, 0);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.is_fragment, 1);
	CHECK_EQ_U64(info.key.protocol, PROTO_UDP);
	CHECK_EQ_U64(info.key.src_port, 0);
	CHECK_EQ_U64(info.key.dst_port, 0);
	CHECK_EQ_U64(info.ip_octets, 40 + 8 + 8 + 8);

	/* A later fragment whose payload is shorter than any transport header is still
	 * a valid packet: nothing after the fragment header is read. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_TCP, 1, 1);
	ip_end(&f);
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.is_fragment, 1);
	CHECK_EQ_U64(info.key.protocol, PROTO_TCP);
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
	CHECK(parse(&f, 1, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.vlan_id, 100);
	CHECK_EQ_U64(info.key.vlan_id, 100);

	/* QinQ: the outer (service) tag is the one reported. */
	eth(&f);
	vlan(&f, TPID_QINQ, 0, 200);
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
	CHECK(parse(&f, 1, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.vlan_id, 200);

	/* Two 802.1Q tags (the pre-standard QinQ) parse the same way. */
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 1);
	vlan(&f, TPID_8021Q, 0, 2);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	icmp(&f, 8, 0);
	ip_end(&f);
	CHECK(parse(&f, 1, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.vlan_id, 1);
	CHECK_EQ_U64(info.key.dst_port, 0x0800);

	/* Keys with and without the VLAN differ exactly in vlan_id. */
	{
		struct dpfix_packet_info a, b;

		CHECK(parse(&f, 0, &a) == DPFIX_PARSE_OK);
		CHECK(parse(&f, 1, &b) == DPFIX_PARSE_OK);
		b.key.vlan_id = 0;
		CHECK(memcmp(&a.key, &b.key, sizeof(a.key)) == 0);
	}

	/* An untagged frame has VLAN 0 in the key even when the key includes it. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 10, 20, 0);
	ip_end(&f);
	CHECK(parse(&f, 1, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.key.vlan_id, 0);
	CHECK_EQ_U64(info.vlan_id, 0);
}

static void
test_not_ip(void)
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
	expect_result(&f, 0, DPFIX_PARSE_NOT_IP);

	/* ARP inside a VLAN, and a bare Ethernet header. */
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 10);
	ethertype(&f, ETH_ARP);
	payload(&f, 28);
	expect_result(&f, 1, DPFIX_PARSE_NOT_IP);
	eth(&f);
	ethertype(&f, 0x88cc /* LLDP */);
	expect_result(&f, 0, DPFIX_PARSE_NOT_IP);

	/* Three tags are more than the parser follows: not taken for IP. */
	eth(&f);
	vlan(&f, TPID_QINQ, 0, 1);
	vlan(&f, TPID_8021Q, 0, 2);
	vlan(&f, TPID_8021Q, 0, 3);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	expect_result(&f, 0, DPFIX_PARSE_NOT_IP);
}

/* ---- malformed packets: one case (at least) for every result code ---- */

static void
test_malformed(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	/* TRUNCATED_L2: no room for the ethertype, or for a VLAN tag. */
	eth(&f);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	put8(&f, 0x08);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	vlan(&f, TPID_8021Q, 0, 1);
	f.len -= 1;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L2);
	eth(&f);
	vlan(&f, TPID_QINQ, 0, 1);
	vlan(&f, TPID_8021Q, 0, 2);
	put8(&f, 0x08);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L2);

	/* TRUNCATED_IPV4: under 20 bytes, or under the length IHL announces. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_IPV4);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 40, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.len = f.ip_off + 59;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_IPV4);

	/* BAD_IPV4_VERSION: ethertype IPv4, version field 6 (or 0). */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.b[f.ip_off] = 0x65;
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_VERSION);
	f.b[f.ip_off] = 0x05;
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_VERSION);

	/* BAD_IPV4_HEADER_LENGTH: every IHL below 5. */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		f.b[f.ip_off] = (uint8_t)(0x40 | ihl);
		expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_HEADER_LENGTH);
	}

	/* BAD_IPV4_TOTAL_LENGTH: total length below the header length. */
	f.b[f.ip_off] = 0x45;
	set16(&f, f.ip_off + 2, 19);
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);
	set16(&f, f.ip_off + 2, 0);
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 8, 0);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 2, 27);
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH);
	/* A header with no payload at all is a valid (odd) packet for a portless protocol. */
	set16(&f, f.ip_off + 2, 28);
	f.b[f.ip_off + 9] = PROTO_GRE;
	CHECK(parse(&f, 0, &info) == DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 28);

	/* TRUNCATED_IPV6 and BAD_IPV6_VERSION. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1, 2, 0);
	ip_end(&f);
	f.len = f.ip_off + 39;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_IPV6);
	f.len = f.ip_off + 48;
	f.b[f.ip_off] = 0x40;
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV6_VERSION);
	f.b[f.ip_off] = 0x00;
	expect_result(&f, 0, DPFIX_PARSE_BAD_IPV6_VERSION);

	/* TRUNCATED_L4: the frame ends inside the transport header... */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	f.len = f.ip_off + 20 + 13;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);

	/* ...or the IP total length does, even though the frame (padding) goes on. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	set16(&f, f.ip_off + 2, 20 + 10);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 2, 20 + 3);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);

	/* IPv6: payload length too short for the transport header, frame padded on. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1, 2, 0);
	set16(&f, f.ip_off + 4, 3);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);

	/* IPv6 extension header cut short, and one whose length runs past the packet. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_HOPOPTS, 0, 64);
	ipv6_opts(&f, PROTO_UDP, 0);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_DSTOPTS, 0, 64);
	put8(&f, PROTO_UDP);
	put8(&f, 255);          /* claims 2048 bytes; the frame ends after 16 */
	payload(&f, 14);
	set16(&f, f.ip_off + 4, 2048 + 8);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_UDP, 0, 1);
	ip_end(&f);
	f.len -= 1;
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);

	/* ICMP with a single byte. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	put8(&f, 8);
	ip_end(&f);
	expect_result(&f, 0, DPFIX_PARSE_TRUNCATED_L4);
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
#define EXPECT_NAME(name, text) \
	CHECK(strcmp(dpfix_parse_result_name(DPFIX_PARSE_##name), #name) == 0); \
	CHECK(strcmp(dpfix_parse_result_text(DPFIX_PARSE_##name), text) == 0);
	DPFIX_PARSE_RESULTS(EXPECT_NAME)
#undef EXPECT_NAME
	CHECK(strcmp(dpfix_parse_result_name(DPFIX_PARSE_RESULT_COUNT), "UNKNOWN") == 0);
	CHECK(strcmp(dpfix_parse_result_text(DPFIX_PARSE_RESULT_COUNT), "unknown") == 0);
}

/* ---- truncation at every length ---- */

/* A complete frame and where its layers start; need is the shortest prefix that
 * holds every byte the parser reads (through the TCP flags, the UDP/SCTP ports,
 * the ICMP type and code, or the last IPv6 extension header of a later fragment). */
struct layered_frame {
	const char *name;
	struct frame f;
	uint32_t l3;            /* first byte of the IP header */
	uint32_t l3_end;        /* end of the fixed (v6) or IHL-sized (v4) IP header */
	uint32_t need;
};

static void
truncate_all(const struct layered_frame *lf, int key_vlan)
{
	struct dpfix_packet_info full, info;
	enum dpfix_parse_result r;

	CHECK(parse(&lf->f, key_vlan, &full) == DPFIX_PARSE_OK);
	for (uint32_t len = 0; len <= lf->f.len; len++) {
		enum dpfix_parse_result want;

		if (len < lf->l3)
			want = DPFIX_PARSE_TRUNCATED_L2;
		else if (len < lf->l3_end)
			want = lf->f.ip_version == 4 ? DPFIX_PARSE_TRUNCATED_IPV4 :
					DPFIX_PARSE_TRUNCATED_IPV6;
		else if (len < lf->need)
			want = DPFIX_PARSE_TRUNCATED_L4;
		else
			want = DPFIX_PARSE_OK;
		memset(&info, 0xa5, sizeof(info));
		r = parse_exact(lf->f.b, len, key_vlan, &info);
		if (r != want)
			fprintf(stderr, "  %s cut to %u of %u bytes: got %s, wanted %s\n", lf->name, len,
					lf->f.len, dpfix_parse_result_name(r), dpfix_parse_result_name(want));
		CHECK(r == want);
		/* Once the headers are in, the result does not depend on the payload. */
		if (r == DPFIX_PARSE_OK && want == DPFIX_PARSE_OK)
			CHECK(memcmp(&info, &full, sizeof(info)) == 0);
	}
}

static void
test_truncation(void)
{
	static struct layered_frame lf;
	struct frame *f = &lf.f;

	lf.name = "IPv4/TCP";
	eth(f);
	ethertype(f, ETH_IPV4);
	lf.l3 = f->len;
	ipv4(f, PROTO_TCP, 0, 64, 0, 0);
	lf.l3_end = f->len;
	tcp(f, 1, 2, TCP_SYN);
	lf.need = lf.l3_end + 14;
	payload(f, 6);
	ip_end(f);
	truncate_all(&lf, 0);

	lf.name = "802.1Q/IPv4 with options/UDP";
	eth(f);
	vlan(f, TPID_8021Q, 0, 42);
	ethertype(f, ETH_IPV4);
	lf.l3 = f->len;
	ipv4(f, PROTO_UDP, 0, 64, 40, 0);
	lf.l3_end = f->len;
	udp(f, 1, 2, 4);
	lf.need = lf.l3_end + 4;
	payload(f, 4);
	ip_end(f);
	eth_pad(f);
	truncate_all(&lf, 1);

	lf.name = "QinQ/IPv4/ICMP";
	eth(f);
	vlan(f, TPID_QINQ, 0, 42);
	vlan(f, TPID_8021Q, 0, 43);
	ethertype(f, ETH_IPV4);
	lf.l3 = f->len;
	ipv4(f, PROTO_ICMP, 0, 64, 4, 0);
	lf.l3_end = f->len;
	icmp(f, 3, 3);
	lf.need = lf.l3_end + 2;
	ip_end(f);
	truncate_all(&lf, 1);

	lf.name = "IPv4 later fragment";
	eth(f);
	ethertype(f, ETH_IPV4);
	lf.l3 = f->len;
	ipv4(f, PROTO_TCP, 0, 64, 0, 100);
	lf.l3_end = f->len;
	lf.need = lf.l3_end;
	payload(f, 30);
	ip_end(f);
	truncate_all(&lf, 0);

	lf.name = "IPv6/TCP";
	eth(f);
	ethertype(f, ETH_IPV6);
	lf.l3 = f->len;
	ipv6(f, PROTO_TCP, 0, 64);
	lf.l3_end = f->len;
	tcp(f, 1, 2, TCP_SYN | TCP_ACK);
	lf.need = lf.l3_end + 14;
	payload(f, 3);
	ip_end(f);
	truncate_all(&lf, 0);

	lf.name = "QinQ/IPv6/hop-by-hop/routing/fragment/UDP";
	eth(f);
	vlan(f, TPID_QINQ, 0, 1000);
	vlan(f, TPID_8021Q, 0, 2000);
	ethertype(f, ETH_IPV6);
	lf.l3 = f->len;
	ipv6(f, PROTO_HOPOPTS, 0, 64);
	lf.l3_end = f->len;
	ipv6_opts(f, PROTO_ROUTING, 1);
	ipv6_opts(f, PROTO_FRAGMENT, 0);
	ipv6_frag(f, PROTO_UDP, 0, 1);
	udp(f, 1, 2, 8);
	lf.need = f->len - 4;
	payload(f, 8);
	ip_end(f);
	truncate_all(&lf, 1);

	lf.name = "IPv6/fragment (later)";
	eth(f);
	ethertype(f, ETH_IPV6);
	lf.l3 = f->len;
	ipv6(f, PROTO_FRAGMENT, 0, 64);
	lf.l3_end = f->len;
	ipv6_frag(f, PROTO_UDP, 10, 1);
	lf.need = f->len;
	payload(f, 16);
	ip_end(f);
	truncate_all(&lf, 0);

	lf.name = "IPv6/ICMPv6";
	eth(f);
	ethertype(f, ETH_IPV6);
	lf.l3 = f->len;
	ipv6(f, PROTO_ICMPV6, 0, 64);
	lf.l3_end = f->len;
	icmp(f, 128, 0);
	lf.need = lf.l3_end + 2;
	payload(f, 8);
	ip_end(f);
	truncate_all(&lf, 0);
}

/* Random bytes behind valid and random ethertypes: any result, never a crash or an
 * overread (the copies are exactly as long as the length passed). */
static void
test_random_frames(void)
{
	static const uint16_t types[] = {ETH_IPV4, ETH_IPV6, TPID_8021Q, TPID_QINQ, ETH_ARP};
	uint8_t buf[256];
	uint32_t state = 12345;
	struct dpfix_packet_info info;

	for (int i = 0; i < 200000; i++) {
		uint32_t len;
		enum dpfix_parse_result r;

		for (size_t j = 0; j < sizeof(buf); j++) {
			state = state * 1103515245u + 12345u;
			buf[j] = (uint8_t)(state >> 16);
		}
		len = (state >> 8) % sizeof(buf);
		buf[12] = (uint8_t)(types[i % 5] >> 8);
		buf[13] = (uint8_t)types[i % 5];
		if ((i % 5 == 2 || i % 5 == 3) && i % 4 != 0) {
			buf[16] = (uint8_t)(types[i % 2] >> 8); /* inner ethertype IPv4 or IPv6 */
			buf[17] = (uint8_t)types[i % 2];
		}
		/* Steer the IP version nibble to the one that matches most of the time. */
		if (i % 3 != 0) {
			buf[14] = (uint8_t)((i % 5 == 1 ? 0x60 : 0x40) | (buf[14] & 0x0f));
			buf[18] = (uint8_t)((i % 5 == 1 ? 0x60 : 0x40) | (buf[18] & 0x0f));
			buf[22] = (uint8_t)((i % 5 == 1 ? 0x60 : 0x40) | (buf[22] & 0x0f));
		}
		r = parse_exact(buf, len, i & 1, &info);
		CHECK((unsigned int)r < DPFIX_PARSE_RESULT_COUNT);
		if (r == DPFIX_PARSE_OK)
			CHECK(info.key.ip_version == 4 || info.key.ip_version == 6);
	}
}

int
main(void)
{
	RUN_TEST(test_ipv4_tcp);
	RUN_TEST(test_ipv4_udp_padding);
	RUN_TEST(test_ipv4_options);
	RUN_TEST(test_icmp);
	RUN_TEST(test_other_transports);
	RUN_TEST(test_ipv6_tcp);
	RUN_TEST(test_ipv6_extension_headers);
	RUN_TEST(test_fragments);
	RUN_TEST(test_vlan);
	RUN_TEST(test_not_ip);
	RUN_TEST(test_malformed);
	RUN_TEST(test_result_names);
	RUN_TEST(test_truncation);
	RUN_TEST(test_random_frames);
	RUN_TEST(test_every_result_covered);
	return unit_test_summary();
}
