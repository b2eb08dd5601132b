/* A metered flow (struct dpfix_flow_record) as an IPFIX record: the lists of its
 * fields, kept beside the record they read, in groups a flow template is made of
 * (dpfix_ipfix_schema.h): the flow itself for IPv4 or IPv6, then optionally the
 * reverse direction (RFC 5103 biflow), then optionally the selectorId of the packet
 * selector that chose its packets (RFC 5477). */
#ifndef DPFIX_FLOW_SCHEMA_H
#define DPFIX_FLOW_SCHEMA_H

#include <stdint.h>

#include "dpfix_flow.h"
#include "dpfix_ipfix_schema.h"

#define DPFIX_FLOW_IPPROTO_ICMP 1
#define DPFIX_FLOW_IPPROTO_ICMPV6 58

/* ICMP and ICMPv6 flows carry type and code in the key's destination port; on the
 * wire they go in icmpTypeCode, and both transport ports are 0. */
static inline int
dpfix_flow_is_icmp(const struct dpfix_flow_record *r)
{
	return r->key.protocol == DPFIX_FLOW_IPPROTO_ICMP ||
			r->key.protocol == DPFIX_FLOW_IPPROTO_ICMPV6;
}

#define DPFIX_FLOW_ADDRESS_LEN_IPv4 4
#define DPFIX_FLOW_ADDRESS_LEN_IPv6 16

/* The flow, for IP version V (IPv4 or IPv6: the address and ICMP elements differ). */
#define DPFIX_FLOW_FIELDS(X, V) \
	X(0, IE_source##V##Address, DPFIX_FLOW_ADDRESS_LEN_##V, OCTETS, r->key.src_addr) \
	X(0, IE_destination##V##Address, DPFIX_FLOW_ADDRESS_LEN_##V, OCTETS, r->key.dst_addr) \
	X(0, IE_sourceTransportPort, 2, UINT, dpfix_flow_is_icmp(r) ? 0 : r->key.src_port) \
	X(0, IE_destinationTransportPort, 2, UINT, dpfix_flow_is_icmp(r) ? 0 : r->key.dst_port) \
	X(0, IE_protocolIdentifier, 1, UINT, r->key.protocol) \
	X(0, IE_ipClassOfService, 1, UINT, r->tos) \
	X(0, IE_tcpControlBits, 2, UINT, r->tcp_flags) \
	X(0, IE_icmpTypeCode##V, 2, UINT, dpfix_flow_is_icmp(r) ? r->key.dst_port : 0) \
	X(0, IE_vlanId, 2, UINT, r->vlan_id) \
	X(0, IE_ingressInterface, 4, UINT, r->ingress_port) \
	X(0, IE_minimumTTL, 1, UINT, r->min_ttl) \
	X(0, IE_maximumTTL, 1, UINT, r->max_ttl) \
	X(0, IE_octetDeltaCount, 8, UINT, r->octets) \
	X(0, IE_packetDeltaCount, 8, UINT, r->packets) \
	X(0, IE_flowStartMilliseconds, 8, UINT, r->first_ns / 1000000) \
	X(0, IE_flowEndMilliseconds, 8, UINT, r->last_ns / 1000000) \
	X(0, IE_flowEndReason, 1, UINT, r->end_reason) \
	/* label(20) TC(3) S(1): the entry's 3 octets */ \
	X(0, IE_mplsTopLabelStackSection, 3, UINT, r->mpls_top)

#define DPFIX_FLOW_FIELDS_IPV4(X) DPFIX_FLOW_FIELDS(X, IPv4)
#define DPFIX_FLOW_FIELDS_IPV6(X) DPFIX_FLOW_FIELDS(X, IPv6)

/* RFC 5103: the other direction. One that saw no packet has zero counts and times. */
#define DPFIX_FLOW_REVERSE_FIELDS(X) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_octetDeltaCount, 8, UINT, r->rev_octets) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_packetDeltaCount, 8, UINT, r->rev_packets) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_tcpControlBits, 2, UINT, r->rev_tcp_flags) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_minimumTTL, 1, UINT, r->rev_min_ttl) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_maximumTTL, 1, UINT, r->rev_max_ttl) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_flowStartMilliseconds, 8, UINT, r->rev_first_ns / 1000000) \
	X(DPFIX_IPFIX_PEN_REVERSE, IE_flowEndMilliseconds, 8, UINT, r->rev_last_ns / 1000000)

/* Where a flow's selectorId comes from: the selector of its ingress port. */
struct dpfix_flow_selectors {
	const uint64_t *of_port;    /* selectorId by port; 0: the port meters every packet */
	uint32_t ports;             /* entries in of_port; ports past them have 0 */
};

static inline uint64_t
dpfix_flow_selector_id(const struct dpfix_flow_selectors *s, const struct dpfix_flow_record *r)
{
	return r->ingress_port < s->ports ? s->of_port[r->ingress_port] : 0;
}

#define DPFIX_FLOW_SELECTOR_FIELDS(X) \
	X(0, IE_selectorId, 8, UINT, dpfix_flow_selector_id(g->ctx, r))

/* The longest flow record: IPv6, both directions and selectorId. */
#define DPFIX_FLOW_RECORD_MAX \
	(DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_FLOW_FIELDS_IPV6) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_FLOW_REVERSE_FIELDS) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_FLOW_SELECTOR_FIELDS))

struct dpfix_flow_schema_params {
	int ip_version;             /* 4 or 6 */
	int biflow;                 /* the reverse direction follows */
	/* Non-NULL: selectorId ends the record, read from here (kept by the caller for
	 * as long as the schema is used). */
	const struct dpfix_flow_selectors *selectors;
};

/* Makes s the schema of flow records with template id template_id; its records are
 * struct dpfix_flow_record, encoded by dpfix_ipfix_schema_encode or straight into a
 * message by dpfix_ipfix_msg_add_encoded. -EINVAL for an IP version other than 4 or
 * 6; else as dpfix_ipfix_schema_add. More groups (further measurements) may be added
 * to s afterwards. */
int dpfix_flow_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		const struct dpfix_flow_schema_params *p);

#endif
