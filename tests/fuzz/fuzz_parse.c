/* libFuzzer target for the packet parser, the fragment map and the payload readers of
 * the measures. The input's first byte picks the configuration (low 4 bits: the
 * optional key fields; bit 4: VXLAN opened; bit 5: the frame was cut by a capture
 * whose wire length is unknown); the rest is one Ethernet frame, exactly as long as the
 * input, so any read past its end is caught by ASan. A frame not cut is never metered
 * for more octets than it holds. A parsed packet must satisfy the parser's promises, and
 * a fragment then goes through a deliberately tiny map so replacement runs often. Its
 * payload goes through every payload reader (HTTP, TLS, DNS over UDP and TCP, RTP, SSH,
 * QUIC), and its headers through the GRE key and VXLAN outer readers: results in range,
 * values NUL-terminated within their bounds. The general parser (without the fast path
 * for plain IPv4 TCP and UDP) must give the same result and info. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_frag.h"
#include "dpfix_parse.h"
#include "dpfix_payload.h"

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

/* The measures' readers on the parsed packet's payload and headers. */
static void
check_payload(const struct dpfix_parse_config *cfg, const struct dpfix_packet_info *info,
		const uint8_t *frame, uint32_t len)
{
	struct dpfix_http_fields http = {0};
	struct dpfix_tls_fields tls = {0};
	struct dpfix_dns_fields dns = {0};
	struct dpfix_rtp_header rtp;
	struct dpfix_vxlan_outer outer;
	const uint8_t *pl = NULL;
	uint32_t n = dpfix_payload_locate(info, frame, len, &pl), key;
	int cut = 0;

	CHECK(n == 0 || (pl >= frame && pl + n <= frame + len));
	CHECK(dpfix_payload_http(pl, n, &http, &cut) < DPFIX_PAYLOAD_RESULT_COUNT);
	CHECK(strlen(http.method) <= DPFIX_HTTP_METHOD_MAX && strlen(http.host) <= DPFIX_HTTP_HOST_MAX);
	CHECK(strlen(http.target) <= DPFIX_HTTP_TARGET_MAX);
	CHECK(strlen(http.user_agent) <= DPFIX_HTTP_USER_AGENT_MAX);
	CHECK(dpfix_payload_tls_client_hello(pl, n, &tls, &cut) < DPFIX_PAYLOAD_RESULT_COUNT);
	CHECK(strlen(tls.sni) <= DPFIX_TLS_SNI_MAX && strlen(tls.alpn) <= DPFIX_TLS_ALPN_MAX);
	for (int tcp = 0; tcp < 2; tcp++) {
		enum dpfix_payload_result r = dpfix_payload_dns(pl, n, tcp, &dns, &cut);

		CHECK(r < DPFIX_PAYLOAD_RESULT_COUNT && strlen(dns.qname) <= DPFIX_DNS_NAME_MAX);
		CHECK(r != DPFIX_PAYLOAD_DNS_MESSAGE || dns.qname[0] != '\0' || n >= 12);
	}
	CHECK(dpfix_payload_rtp(pl, n, &rtp) >= -1);
	(void)dpfix_payload_is_tls(pl, n);
	(void)dpfix_payload_is_ssh(pl, n);
	(void)dpfix_payload_is_quic(pl, n);
	(void)dpfix_payload_gre_key(info, frame, len, &key);
	if (dpfix_parse_vxlan_outer(cfg, frame, len, &outer))
		CHECK(outer.ip_version == 4 || outer.ip_version == 6);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpfix_parse_config cfg = {.vxlan_port = DPFIX_VXLAN_PORT};
	struct dpfix_packet_info info, general;
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
	CHECK(dpfix_parse_ethernet_general(&cfg, frame, len, wire_len, 5, &general) == r);
	CHECK(r != DPFIX_PARSE_OK || memcmp(&info, &general, sizeof(info)) == 0);
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
		check_payload(&cfg, &info, frame, len);
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
