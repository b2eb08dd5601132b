/* Unit tests for lib/parse (part of the test_parse program): encapsulations, 802.1Q and
 * QinQ, MPLS, GRE and VXLAN (outer or inner key). */
#define UNIT_TEST_PART
#include "parse_test.h"
#include "unit_test.h"

void
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

void
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

void
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
void
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
