/* Unit tests for lib/parse: an IP packet's length fields against the bytes the frame
 * carries. A frame whose IPv4 total length or IPv6 payload length claims more than it
 * holds (directly, or inside VXLAN, whose inner frame is what the UDP length says) is
 * malformed, so tiny frames never meter large octet counts; a frame cut by a capture
 * whose wire length is unknown is believed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "frame_build.h"
#include "unit_test.h"

static const struct dpfix_parse_config cfg_default = {.vxlan_port = DPFIX_VXLAN_PORT};
static const struct dpfix_parse_config cfg_vxlan = {
	.vxlan_inner = 1, .vxlan_port = DPFIX_VXLAN_PORT,
};

/* Parses exactly f->len bytes copied to a buffer of that size (an overread is caught
 * by ASan), the frame having been wire_len bytes long. */
static enum dpfix_parse_result
parse_wire(const struct dpfix_parse_config *cfg, const struct frame *f, uint32_t wire_len,
		struct dpfix_packet_info *info)
{
	uint8_t *copy = malloc(f->len > 0 ? f->len : 1);
	enum dpfix_parse_result r;

	if (copy == NULL) {
		CHECK(!"out of memory");
		return DPFIX_PARSE_RESULT_COUNT;
	}
	memcpy(copy, f->b, f->len);
	r = dpfix_parse_ethernet(cfg, copy, f->len, wire_len, 0, info);
	free(copy);
	return r;
}

#define CHECK_RESULT(cfg, f, wire, want) do { \
	enum dpfix_parse_result r_ = parse_wire((cfg), (f), (wire), &info); \
	if (r_ != (want)) \
		fprintf(stderr, "  line %d: got %s, wanted %s\n", __LINE__, \
				dpfix_parse_result_name(r_), dpfix_parse_result_name(want)); \
	CHECK(r_ == (want)); \
} while (0)

/* A 60-byte frame whose IPv4 header claims 65535 bytes: malformed, not 65535 octets;
 * believed only when the frame was cut and its wire length is unknown, or when the
 * rest of it is there (a frame in chained mbufs: wire length known). */
static void
test_ipv4_total_length(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1000, 53, 18);
	payload(&f, 18);
	ip_end(&f);
	CHECK_EQ_U64(f.len, 60);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 46);

	set16(&f, f.ip_off + 2, 65535);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	CHECK_RESULT(&cfg_default, &f, 14 + 65534, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	CHECK_RESULT(&cfg_default, &f, 14 + 65535, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 65535);
	CHECK_RESULT(&cfg_default, &f, DPFIX_WIRE_LEN_UNKNOWN, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 65535);

	/* One byte more than the frame holds, and exactly what it holds. */
	set16(&f, f.ip_off + 2, 47);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	set16(&f, f.ip_off + 2, 46);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	/* Ethernet padding after a short packet is no part of it. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1000, 53, 0);
	ip_end(&f);
	eth_pad(&f);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 28);

	/* Behind VLAN tags and an MPLS label stack alike. */
	eth(&f);
	vlan(&f, TPID_QINQ, 0, 7);
	vlan(&f, TPID_8021Q, 0, 8);
	ethertype(&f, ETH_MPLS);
	mpls(&f, 100, 0, 1, 64);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	set16(&f, f.ip_off + 2, 41);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
}

static void
test_ipv6_payload_length(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1000, 53, 4);
	payload(&f, 4);
	ip_end(&f);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 52);
	set16(&f, f.ip_off + 4, 65535);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME);
	set16(&f, f.ip_off + 4, 13);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME);
	/* Cut by a capture: believed (and the UDP length checked against it). */
	set16(&f, f.ip_off + 4, 65535);
	set16(&f, f.ip_off + 40 + 4, 65535);
	CHECK_RESULT(&cfg_default, &f, DPFIX_WIRE_LEN_UNKNOWN, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 65535 + 40);

	/* A later fragment claiming more than it carries: its length would count
	 * towards the datagram's reassembly. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag(&f, PROTO_UDP, 185, 1);
	payload(&f, 8);
	ip_end(&f);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.frag_len, 8);
	set16(&f, f.ip_off + 4, 8 + 1480);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME);
}

/* The TCP data offset is checked against a payload that is really there. */
static void
test_tcp_data_offset(void)
{
	struct frame f;
	struct dpfix_packet_info info;

	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 64, 0, 0);
	tcp(&f, 1, 2, TCP_SYN);
	ip_end(&f);
	f.b[f.ip_off + 20 + 12] = 10 << 4;      /* 40-byte header, 20 there */
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_BAD_TCP_HEADER_LENGTH);
	set16(&f, f.ip_off + 2, 60);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	/* Cut by a capture after the fixed header: the options may have been there. */
	CHECK_RESULT(&cfg_default, &f, DPFIX_WIRE_LEN_UNKNOWN, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 60);
}

/* Builds IPv4/UDP/VXLAN around inner, the UDP length saying udp_len. */
static void
vxlan_frame(struct frame *f, const struct frame *inner, uint16_t udp_len)
{
	eth(f);
	ethertype(f, ETH_IPV4);
	ipv4(f, PROTO_UDP, 0, 64, 0, 0);
	udp(f, 49152, 4789, (uint16_t)(8 + inner->len));
	vxlan(f, 77, inner);
	ip_end(f);
	set16(f, f->ip_off + 20 + 4, udp_len);
}

/* The inner packet of VXLAN: its lengths against the UDP datagram, whose length (not
 * the frame's) bounds the inner frame. */
static void
test_vxlan_inner(void)
{
	struct frame inner4, inner6, f;
	struct dpfix_packet_info info;

	eth(&inner4);
	ethertype(&inner4, ETH_IPV4);
	ipv4(&inner4, PROTO_TCP, 0, 64, 0, 0);
	tcp(&inner4, 80, 1025, TCP_ACK);
	payload(&inner4, 10);
	ip_end(&inner4);
	eth(&inner6);
	ethertype(&inner6, ETH_IPV6);
	ipv6(&inner6, PROTO_UDP, 0, 64);
	udp(&inner6, 5, 6, 10);
	payload(&inner6, 10);
	ip_end(&inner6);

	vxlan_frame(&f, &inner4, (uint16_t)(16 + inner4.len));
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 50);
	/* The inner IPv4 claims 65535 bytes: the tunnel itself is sound (metered as a
	 * UDP flow without vxlan_inner); its content is not. */
	set16(&f, f.ip_off + 28 + 8 + 14 + 2, 65535);
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 20 + 8 + 8 + inner4.len);
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	CHECK_RESULT(&cfg_vxlan, &f, DPFIX_WIRE_LEN_UNKNOWN, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);

	vxlan_frame(&f, &inner6, (uint16_t)(16 + inner6.len));
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_OK);
	CHECK_EQ_U64(info.ip_octets, 58);
	set16(&f, f.ip_off + 28 + 8 + 14 + 4, 65535);
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME);

	/* A UDP length short of the bytes that follow: the inner frame ends with the
	 * datagram, and its IPv4 packet, whole in the frame, is not in the datagram. */
	vxlan_frame(&f, &inner4, (uint16_t)(16 + inner4.len - 1));
	CHECK_RESULT(&cfg_default, &f, f.len, DPFIX_PARSE_OK);
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME);
	/* No room in the datagram for the VXLAN header, though the frame has one. */
	vxlan_frame(&f, &inner4, 8 + 7);
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_TRUNCATED_VXLAN);
	/* A datagram longer than its IP packet is malformed as before. */
	vxlan_frame(&f, &inner4, (uint16_t)(16 + inner4.len + 1));
	CHECK_RESULT(&cfg_vxlan, &f, f.len, DPFIX_PARSE_BAD_UDP_LENGTH);
}

/* Random frames, whole (wire length = bytes at hand): whatever parses is never
 * metered for more octets than the frame carries after the metered IP header. */
static void
test_random_frames_octets(void)
{
	static const uint16_t types[] = {ETH_IPV4, ETH_IPV6, TPID_8021Q, ETH_MPLS};
	uint8_t buf[160];
	uint32_t state = 777;
	unsigned int ok = 0;

	for (int i = 0; i < 200000; i++) {
		struct frame f;
		struct dpfix_packet_info info;
		unsigned int t = (unsigned int)i % 4;

		for (size_t j = 0; j < sizeof(buf); j++) {
			state = state * 1103515245u + 12345u;
			buf[j] = (uint8_t)(state >> 16);
		}
		memset(&f, 0, sizeof(f));
		memcpy(f.b, buf, sizeof(buf));
		f.len = 14 + (state >> 8) % (sizeof(buf) - 14);
		f.b[12] = (uint8_t)(types[t] >> 8);
		f.b[13] = (uint8_t)types[t];
		f.b[14] = (uint8_t)((t == 1 ? 0x60 : 0x45));
		if (t == 2) {
			f.b[16] = 0x08;
			f.b[17] = 0x00;
			f.b[18] = 0x45;
		}
		/* Lengths the frame can hold, most of the time. */
		if (i % 2 == 0 && t == 0 && f.len > 14)
			set16(&f, 16, (uint16_t)(20 + (state >> 4) % (f.len - 14)));
		if (parse_wire(i & 1 ? &cfg_vxlan : &cfg_default, &f, f.len, &info) != DPFIX_PARSE_OK)
			continue;
		ok++;
		CHECK(info.l3_offset + info.ip_octets <= f.len);
	}
	CHECK(ok > 1000);
}

int
main(void)
{
	RUN_TEST(test_ipv4_total_length);
	RUN_TEST(test_ipv6_payload_length);
	RUN_TEST(test_tcp_data_offset);
	RUN_TEST(test_vxlan_inner);
	RUN_TEST(test_random_frames_octets);
	return unit_test_summary();
}
