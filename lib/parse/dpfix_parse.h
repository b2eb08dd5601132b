/* Packet parsing: Ethernet/VLAN/IPv4/IPv6 and TCP/UDP/ICMP headers into a flow key and
 * the per-packet fields a flow record needs. Never reads past the given length. */
#ifndef DPFIX_PARSE_H
#define DPFIX_PARSE_H

#include <stdint.h>

/* The flow key. Addresses are in network order; IPv4 uses the first 4 bytes and
 * leaves the rest zero. ICMP flows carry type << 8 | code in dst_port (src_port 0),
 * the NetFlow convention that keeps echo requests and replies apart. Fixed size and
 * fully zeroed before filling, so it can be hashed and compared as bytes. */
struct dpfix_flow_key {
	_Alignas(8) uint8_t src_addr[16]; /* 8-aligned: the hash reads it in 8-byte words */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t vlan_id;      /* 0 unless the key includes the VLAN */
	uint8_t protocol;
	uint8_t ip_version;    /* 4 or 6 */
};

/* What one packet contributes to its flow. */
struct dpfix_packet_info {
	struct dpfix_flow_key key;
	uint32_t ip_octets;     /* IP total length: octetDeltaCount counts the IP layer */
	uint16_t vlan_id;       /* outer VLAN id, 0 if untagged */
	uint8_t tcp_flags;
	uint8_t tos;            /* IPv4 TOS or IPv6 traffic class */
	uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
	uint8_t is_fragment;    /* a non-first fragment: ports unknown, left 0 */
};

/* Outcomes other than a packet that belongs to a flow, one counter each. */
#define DPFIX_PARSE_RESULTS(X) \
	X(OK, "parsed") \
	X(NOT_IP, "not IPv4 or IPv6") \
	X(TRUNCATED_L2, "Ethernet or VLAN header cut short") \
	X(TRUNCATED_IPV4, "IPv4 header cut short") \
	X(BAD_IPV4_VERSION, "IPv4 ethertype with another IP version") \
	X(BAD_IPV4_HEADER_LENGTH, "IPv4 header length below 20 bytes") \
	X(BAD_IPV4_TOTAL_LENGTH, "IPv4 total length below its header length") \
	X(TRUNCATED_IPV6, "IPv6 header cut short") \
	X(BAD_IPV6_VERSION, "IPv6 ethertype with another IP version") \
	X(TRUNCATED_L4, "TCP, UDP or ICMP header cut short")

enum dpfix_parse_result {
#define DPFIX_PARSE_ENUM(name, text) DPFIX_PARSE_##name,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_ENUM)
#undef DPFIX_PARSE_ENUM
	DPFIX_PARSE_RESULT_COUNT
};

/* Human-readable reason for a result, for logs and statistics. */
const char *dpfix_parse_result_name(enum dpfix_parse_result r);
const char *dpfix_parse_result_text(enum dpfix_parse_result r);

/* Parses an Ethernet frame of len bytes. On DPFIX_PARSE_OK, info is complete.
 * key_vlan: put the outer VLAN id into the key. */
enum dpfix_parse_result dpfix_parse_ethernet(const uint8_t *frame, uint32_t len, int key_vlan,
		struct dpfix_packet_info *info);

#endif
