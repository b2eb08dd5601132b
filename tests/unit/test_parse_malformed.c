/* Unit tests for lib/parse (part of the test_parse program): malformed layer 2, 3 and 4
 * headers and VXLAN, truncation at every byte of each kind of frame, and random frames. */
#define UNIT_TEST_PART
#include "parse_test.h"
#include "unit_test.h"

/* ---- malformed packets: one case (at least) for every result code ---- */

void
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

void
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

void
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

void
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
void
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
