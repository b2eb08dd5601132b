/* Unit tests for lib/parse: dpfix_parse_ethernet's fast path for plain IPv4 TCP and UDP
 * gives every frame the result and packet info the general parser gives it. Frames of
 * each kind the fast path takes, then each of their header bytes set to values that
 * matter (versions, header and length fields, protocols, fragment bits, VXLAN's port),
 * each cut at every length, under several configurations, both ways compared. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "frame_build.h"
#include "unit_test.h"

#define PORT 3

static const struct dpfix_parse_config configs[] = {
	{.vxlan_port = DPFIX_VXLAN_PORT},
	{.vxlan_inner = 1, .vxlan_port = DPFIX_VXLAN_PORT},
	{.key_fields = DPFIX_KEY_VLAN | DPFIX_KEY_DSCP | DPFIX_KEY_MPLS | DPFIX_KEY_INGRESS_PORT,
		.vxlan_port = DPFIX_VXLAN_PORT},
};

static uint64_t compared, differ, parsed_ok;

/* Both parsers on exactly len bytes (a copy of that size: an overread is caught by
 * ASan), with the whole frame's length and with an unknown one. */
static void
compare(const uint8_t *frame, uint32_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL) {
		CHECK(!"out of memory");
		return;
	}
	memcpy(copy, frame, len);
	for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		for (int unknown = 0; unknown < 2; unknown++) {
			uint32_t wire_len = unknown ? DPFIX_WIRE_LEN_UNKNOWN : len;
			struct dpfix_packet_info fast, general;
			enum dpfix_parse_result rf, rg;

			memset(&fast, 0xa5, sizeof(fast));
			memset(&general, 0x5a, sizeof(general));
			rf = dpfix_parse_ethernet(&configs[c], copy, len, wire_len, PORT, &fast);
			rg = dpfix_parse_ethernet_general(&configs[c], copy, len, wire_len, PORT,
					&general);
			compared++;
			parsed_ok += rg == DPFIX_PARSE_OK;
			if (rf != rg || (rf == DPFIX_PARSE_OK && memcmp(&fast, &general, sizeof(fast)))) {
				if (differ++ < 5)
					fprintf(stderr, "  fast %s, general %s: length %u, config %zu\n",
							dpfix_parse_result_name(rf),
							dpfix_parse_result_name(rg), len, c);
			}
		}
	}
	free(copy);
}

/* The frame, each header byte set to each value of interest, each cut at every length. */
static void
compare_mutations(const struct frame *f)
{
	static const uint8_t values[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x11, 0x12, 0x14, 0x1c,
		0x20, 0x28, 0x3f, 0x40, 0x44, 0x45, 0x46, 0x4f, 0x50, 0x60, 0x81, 0x86, 0xb5,
		0xdd, 0xff};
	struct frame m;

	for (uint32_t len = 0; len <= f->len; len++)
		compare(f->b, len);
	for (uint32_t at = 12; at < f->len && at < 64; at++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			m = *f;
			m.b[at] = values[v];
			compare(m.b, m.len);
			compare(m.b, m.len - 1);
			compare(m.b, 54);
		}
	}
}

static void
test_fast_path_agrees(void)
{
	struct frame f;

	/* UDP in a minimum frame (Ethernet padding after the IP packet). */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0x2e, 64, 0, IPV4_DF);
	udp(&f, 5353, 4000, 18);
	payload(&f, 18);
	ip_end(&f);
	compare_mutations(&f);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1000, 2000, 0);
	ip_end(&f);
	eth_pad(&f);
	compare_mutations(&f);
	/* TCP without and with options and payload. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0, 63, 0, 0);
	tcp(&f, 443, 51000, TCP_SYN | TCP_ACK);
	ip_end(&f);
	eth_pad(&f);
	compare_mutations(&f);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_TCP, 0x10, 128, 0, IPV4_DF);
	tcp(&f, 80, 40000, TCP_PSH | TCP_ACK);
	f.b[f.len - 8] = 6 << 4;        /* data offset 24: 4 bytes of options */
	payload(&f, 4 + 30);
	ip_end(&f);
	compare_mutations(&f);
	/* VXLAN (UDP to its port) and ICMP: the general parser's. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 1000, DPFIX_VXLAN_PORT, 30);
	payload(&f, 30);
	ip_end(&f);
	compare_mutations(&f);
	printf("  %llu parses compared, %llu parsed\n", (unsigned long long)compared,
			(unsigned long long)parsed_ok);
	CHECK_EQ_U64(differ, 0);
	CHECK(parsed_ok > compared / 4);
}

int
main(void)
{
	RUN_TEST(test_fast_path_agrees);
	return unit_test_summary();
}
