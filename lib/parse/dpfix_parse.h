/* Packet parsing: Ethernet, VLAN/QinQ, MPLS, IPv4, IPv6 and its extension headers, TCP,
 * UDP, SCTP, ICMP, ICMPv6, GRE and optionally VXLAN's inner packet, into a flow key and
 * the per-packet fields a flow record needs. Stateless; never reads past the given length. */
#ifndef DPFIX_PARSE_H
#define DPFIX_PARSE_H

#include <stdint.h>

/* Optional flow key fields, chosen by the `flow_key` option; the default key is IP
 * version, addresses, protocol and ports (or ICMP type/code). X(NAME, name, help):
 * the bit is DPFIX_KEY_NAME, the config name is name. */
#define DPFIX_KEY_FIELDS(X) \
	X(VLAN, vlan, "outer VLAN id") \
	X(DSCP, dscp, "DSCP, the upper 6 bits of the IPv4 TOS or IPv6 traffic class") \
	X(MPLS, mpls, "top MPLS label stack entry: label, traffic class, bottom-of-stack bit") \
	X(INGRESS_PORT, ingress_port, "the DPDK port the packet arrived on")

enum dpfix_key_field_bit {
#define DPFIX_KEY_BIT_ENUM(NAME, name, help) DPFIX_KEY_BIT_##NAME,
	DPFIX_KEY_FIELDS(DPFIX_KEY_BIT_ENUM)
#undef DPFIX_KEY_BIT_ENUM
	DPFIX_KEY_FIELD_COUNT
};

#define DPFIX_KEY_VLAN (1u << DPFIX_KEY_BIT_VLAN)
#define DPFIX_KEY_DSCP (1u << DPFIX_KEY_BIT_DSCP)
#define DPFIX_KEY_MPLS (1u << DPFIX_KEY_BIT_MPLS)
#define DPFIX_KEY_INGRESS_PORT (1u << DPFIX_KEY_BIT_INGRESS_PORT)

/* Config names of the optional key fields, indexed by bit, NULL-terminated. */
extern const char *const dpfix_key_field_names[];

/* The flow key. Addresses are in network order; IPv4 uses the first 4 bytes and
 * leaves the rest zero. ICMP flows carry type << 8 | code in dst_port (src_port 0),
 * the NetFlow convention that keeps echo requests and replies apart. The optional
 * fields are zero unless the configuration puts them in the key. Fixed size, no
 * implicit padding, fully zeroed before filling: it is hashed and compared as bytes. */
struct dpfix_flow_key {
	_Alignas(8) uint8_t src_addr[16]; /* 8-aligned: the hash reads it in 8-byte words */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t protocol;
	uint8_t ip_version;     /* 4 or 6 */
	uint16_t vlan_id;       /* DPFIX_KEY_VLAN */
	uint32_t mpls_top;      /* DPFIX_KEY_MPLS: as dpfix_packet_info.mpls_top */
	uint16_t ingress_port;  /* DPFIX_KEY_INGRESS_PORT */
	uint8_t dscp;           /* DPFIX_KEY_DSCP */
	uint8_t reserved;       /* always 0 */
};

_Static_assert(sizeof(struct dpfix_flow_key) == 48, "flow key has padding or grew");

/* Fragment position of a packet. */
enum dpfix_fragment {
	DPFIX_FRAG_NONE = 0,    /* not fragmented (an IPv6 atomic fragment counts as not) */
	DPFIX_FRAG_FIRST = 1,   /* offset 0, more to come: the transport header is here */
	DPFIX_FRAG_LATER = 2,   /* offset > 0: no transport header, ports left 0 */
};

/* What one packet contributes to its flow. Every field is filled whatever the key
 * holds; the key carries only the configured fields. */
struct dpfix_packet_info {
	struct dpfix_flow_key key;
	uint32_t ip_octets;     /* IP total length: octetDeltaCount counts the IP layer */
	/* Top MPLS label stack entry without its TTL, label << 4 | TC << 1 | S, the value
	 * of mplsTopLabelStackSection; 0 without MPLS (a real entry is never 0: label 0,
	 * IPv4 explicit null, is only valid at the bottom, so S is set). */
	uint32_t mpls_top;
	uint16_t vlan_id;       /* outer VLAN id, 0 if untagged */
	uint16_t ingress_port;  /* the port passed to the parser */
	/* Where the metered IP packet lies in the frame (the inner one with VXLAN), for
	 * selectors that hash packet content: l3_offset is its IP header's first byte;
	 * ip_header_len counts that header with IPv4 options or the IPv6 extension
	 * headers the parser followed, so the upper-layer data (or a later fragment's
	 * data) starts at l3_offset + ip_header_len. */
	uint16_t l3_offset;
	uint16_t ip_header_len;
	uint8_t tcp_flags;
	uint8_t tos;            /* IPv4 TOS or IPv6 traffic class */
	uint8_t dscp;           /* tos >> 2 */
	uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
	/* Fragments (enum dpfix_fragment); the rest is valid when fragment != NONE. */
	uint8_t fragment;
	uint8_t frag_more;      /* more fragments follow */
	uint16_t frag_offset;   /* bytes */
	uint16_t frag_len;      /* payload bytes this fragment carries */
	uint32_t frag_id;       /* IPv4 identification or IPv6 fragment identification */
};

/* Outcomes of parsing one frame, one counter each. X(NAME, kind, text): kind is OK for
 * a metered packet, SKIPPED for a well-formed packet the probe does not meter (not IP,
 * or deeper than the parser's bounds), MALFORMED for a packet that breaks its protocol
 * or is cut short. Malformed reasons name the header that failed. */
#define DPFIX_PARSE_RESULTS(X) \
	X(OK, OK, "parsed") \
	X(NOT_IP, SKIPPED, "not IPv4 or IPv6") \
	X(MPLS_NOT_IP, SKIPPED, "MPLS payload neither IPv4 nor IPv6 (pseudowire)") \
	X(VLAN_TOO_DEEP, SKIPPED, "more than 4 VLAN tags") \
	X(MPLS_TOO_DEEP, SKIPPED, "more than 8 MPLS labels") \
	X(IPV6_EXT_TOO_DEEP, SKIPPED, "more than 8 IPv6 extension headers") \
	X(TRUNCATED_L2, MALFORMED, "Ethernet or VLAN header cut short") \
	X(TRUNCATED_MPLS, MALFORMED, "MPLS label stack cut short") \
	X(TRUNCATED_IPV4, MALFORMED, "IPv4 header cut short") \
	X(BAD_IPV4_VERSION, MALFORMED, "IPv4 ethertype with another IP version") \
	X(BAD_IPV4_HEADER_LENGTH, MALFORMED, "IPv4 header length below 20 bytes") \
	X(BAD_IPV4_TOTAL_LENGTH, MALFORMED, "IPv4 total length below its header length") \
	X(BAD_IPV4_FRAGMENT, MALFORMED, "IPv4 fragment reaching past 65535 bytes") \
	X(IPV4_LENGTH_PAST_FRAME, MALFORMED, "IPv4 total length more than the frame (or " \
			"the VXLAN datagram) carries") \
	X(TRUNCATED_IPV6, MALFORMED, "IPv6 header cut short") \
	X(BAD_IPV6_VERSION, MALFORMED, "IPv6 ethertype with another IP version") \
	X(TRUNCATED_IPV6_EXT, MALFORMED, "IPv6 extension header cut short") \
	X(BAD_IPV6_HOPOPTS, MALFORMED, "IPv6 hop-by-hop options not right after the IPv6 header") \
	X(BAD_IPV6_FRAGMENT, MALFORMED, "IPv6 fragment reaching past 65535 bytes") \
	X(IPV6_LENGTH_PAST_FRAME, MALFORMED, "IPv6 payload length more than the frame (or " \
			"the VXLAN datagram) carries") \
	X(TRUNCATED_TCP, MALFORMED, "TCP header cut short") \
	X(BAD_TCP_HEADER_LENGTH, MALFORMED, "TCP data offset below 5 or past the IP payload") \
	X(TRUNCATED_UDP, MALFORMED, "UDP header cut short") \
	X(BAD_UDP_LENGTH, MALFORMED, "UDP length below 8 or past the IP payload") \
	X(TRUNCATED_SCTP, MALFORMED, "SCTP header cut short") \
	X(TRUNCATED_ICMP, MALFORMED, "ICMP or ICMPv6 header cut short") \
	X(TRUNCATED_GRE, MALFORMED, "GRE header cut short") \
	X(BAD_GRE_HEADER, MALFORMED, "GRE version or reserved bits invalid (RFC 2784, 2637)") \
	X(TRUNCATED_VXLAN, MALFORMED, "VXLAN header cut short, or past the UDP length") \
	X(BAD_VXLAN_FLAGS, MALFORMED, "VXLAN header without the valid-VNI flag")

enum dpfix_parse_result {
#define DPFIX_PARSE_ENUM(name, kind, text) DPFIX_PARSE_##name,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_ENUM)
#undef DPFIX_PARSE_ENUM
	DPFIX_PARSE_RESULT_COUNT
};

enum dpfix_parse_kind {
	DPFIX_PARSE_KIND_OK,
	DPFIX_PARSE_KIND_SKIPPED,
	DPFIX_PARSE_KIND_MALFORMED,
};

/* Name ("TRUNCATED_TCP"), readable reason, and kind of a result. */
const char *dpfix_parse_result_name(enum dpfix_parse_result r);
const char *dpfix_parse_result_text(enum dpfix_parse_result r);
enum dpfix_parse_kind dpfix_parse_result_kind(enum dpfix_parse_result r);

#define DPFIX_VXLAN_PORT 4789

/* What the parser is asked to do; fixed at start-up. */
struct dpfix_parse_config {
	uint32_t key_fields;    /* DPFIX_KEY_* bits */
	/* Meter the inner packet of VXLAN (UDP to vxlan_port) instead of the tunnel. */
	uint8_t vxlan_inner;
	uint16_t vxlan_port;
};

/* wire_len of a frame cut by a capture's snapshot length whose length on the wire is
 * not known: its IP header's lengths are then believed (up to 65535 bytes). */
#define DPFIX_WIRE_LEN_UNKNOWN UINT32_MAX

/* Parses an Ethernet frame that arrived on port, of which the len bytes at frame are
 * at hand. wire_len (at least len) is the frame's length as received: len for a whole
 * frame; more when only its first len bytes are given (the rest in chained mbufs), or
 * DPFIX_WIRE_LEN_UNKNOWN. An IP packet whose length field claims more than the frame
 * holds (once the headers read are whole: a header cut short is reported as such) is
 * malformed, IPV4/IPV6_LENGTH_PAST_FRAME: its octets are never taken on trust. On DPFIX_PARSE_OK, info is complete (a later fragment has ports 0: see
 * dpfix_frag.h); otherwise its content is unspecified. */
enum dpfix_parse_result dpfix_parse_ethernet(const struct dpfix_parse_config *cfg,
		const uint8_t *frame, uint32_t len, uint32_t wire_len, uint16_t port,
		struct dpfix_packet_info *info);

/* The same parse without dpfix_parse_ethernet's fast path for plain IPv4 TCP and UDP:
 * the same result and info for every frame. For tests that compare the two. */
enum dpfix_parse_result dpfix_parse_ethernet_general(const struct dpfix_parse_config *cfg,
		const uint8_t *frame, uint32_t len, uint32_t wire_len, uint16_t port,
		struct dpfix_packet_info *info);

#endif
