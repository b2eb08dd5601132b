/* libFuzzer target for the packet parser and the fragment map. The input's first byte
 * picks the configuration (low 4 bits: the optional key fields; bit 4: VXLAN opened;
 * bit 5: the frame was cut by a capture whose wire length is unknown); the rest is one
 * Ethernet frame, exactly as long as the input, so any read past its end is caught by
 * ASan. A frame not cut is never metered for more octets than it holds. A parsed packet must satisfy the parser's promises, and a
 * fragment then goes through a deliberately tiny map so replacement runs often. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_frag.h"
#include "dpfix_parse.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static struct dpfix_frag_map *frags;
static uint64_t now_ns;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpfix_parse_config cfg = {.vxlan_port = DPFIX_VXLAN_PORT};
	struct dpfix_packet_info info;
	enum dpfix_parse_result r;
	uint32_t len, wire_len;
	uint8_t *frame;

	if (frags == NULL) {
		void *mem = aligned_alloc(64, (dpfix_frag_map_memsize(8) + 63) / 64 * 64);

		frags = dpfix_frag_map_init(mem, 8, 1000000, 7);
	}
	if (size < 1)
		return 0;
	cfg.key_fields = data[0] & 0x0f;
	cfg.vxlan_inner = (data[0] >> 4) & 1;
	/* A copy of exactly the frame's length: libFuzzer's buffer has no slack either,
	 * but the frame starts one byte in. */
	frame = malloc(size - 1 > 0 ? size - 1 : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, size - 1);
	len = (uint32_t)(size - 1);
	wire_len = (data[0] >> 5) & 1 ? DPFIX_WIRE_LEN_UNKNOWN : len;
	r = dpfix_parse_ethernet(&cfg, frame, len, wire_len, 5, &info);
	CHECK((unsigned int)r < DPFIX_PARSE_RESULT_COUNT);
	CHECK(dpfix_parse_result_name(r) != NULL);
	if (r == DPFIX_PARSE_OK) {
		CHECK(dpfix_parse_result_kind(r) == DPFIX_PARSE_KIND_OK);
		CHECK(info.key.ip_version == 4 || info.key.ip_version == 6);
		if (info.key.ip_version == 4) {
			CHECK(all_zero(info.key.src_addr + 4, 12));
			CHECK(all_zero(info.key.dst_addr + 4, 12));
			CHECK(info.ip_octets >= 20);
		} else {
			CHECK(info.ip_octets >= 40);
		}
		CHECK(info.ip_octets <= 65535 + 40);
		if (wire_len == len)
			CHECK(info.l3_offset + info.ip_octets <= len);
		CHECK(info.key.reserved == 0);
		CHECK(info.dscp == info.tos >> 2);
		CHECK(info.ingress_port == 5);
		CHECK(info.vlan_id <= 4095);
		CHECK(info.mpls_top < 1u << 24);
		CHECK((cfg.key_fields & DPFIX_KEY_VLAN) ? info.key.vlan_id == info.vlan_id :
				info.key.vlan_id == 0);
		CHECK((cfg.key_fields & DPFIX_KEY_DSCP) ? info.key.dscp == info.dscp :
				info.key.dscp == 0);
		CHECK((cfg.key_fields & DPFIX_KEY_MPLS) ? info.key.mpls_top == info.mpls_top :
				info.key.mpls_top == 0);
		CHECK((cfg.key_fields & DPFIX_KEY_INGRESS_PORT) ? info.key.ingress_port == 5 :
				info.key.ingress_port == 0);
		CHECK(info.fragment <= DPFIX_FRAG_LATER);
		if (info.fragment == DPFIX_FRAG_LATER)
			CHECK(info.key.src_port == 0 && info.key.dst_port == 0 && info.tcp_flags == 0);
		if (info.fragment != DPFIX_FRAG_NONE) {
			CHECK((uint32_t)info.frag_offset + info.frag_len <= 65535);
			CHECK(info.fragment == DPFIX_FRAG_FIRST ? info.frag_offset == 0 && info.frag_more :
					info.frag_offset != 0);
			now_ns += 1000;
			dpfix_frag_map_attribute(frags, &info, now_ns);
			CHECK(info.key.ip_version == 4 || info.key.ip_version == 6);
		}
	} else {
		CHECK(dpfix_parse_result_kind(r) != DPFIX_PARSE_KIND_OK);
	}
	free(frame);
	return 0;
}
