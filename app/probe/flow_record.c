/* The probe's flow records on the wire (flow_record.h): the data template and the
 * encoder, in the same field order. */
#include <string.h>

#include "dpfix_ipfix_bytes.h"
#include "flow_record.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

/* Fields of both flow templates; the address elements differ by IP version. */
void
probe_flow_template(struct dpfix_ipfix_template *t, uint16_t id, int v6, int biflow,
		int sampling)
{
	dpfix_ipfix_template_init(t, id, 0);
	dpfix_ipfix_template_add(t, 0, v6 ? IE_sourceIPv6Address : IE_sourceIPv4Address, v6 ? 16 : 4);
	dpfix_ipfix_template_add(t, 0, v6 ? IE_destinationIPv6Address : IE_destinationIPv4Address,
			v6 ? 16 : 4);
	dpfix_ipfix_template_add(t, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(t, 0, IE_ipClassOfService, 1);
	dpfix_ipfix_template_add(t, 0, IE_tcpControlBits, 2);
	dpfix_ipfix_template_add(t, 0, v6 ? IE_icmpTypeCodeIPv6 : IE_icmpTypeCodeIPv4, 2);
	dpfix_ipfix_template_add(t, 0, IE_vlanId, 2);
	dpfix_ipfix_template_add(t, 0, IE_ingressInterface, 4);
	dpfix_ipfix_template_add(t, 0, IE_minimumTTL, 1);
	dpfix_ipfix_template_add(t, 0, IE_maximumTTL, 1);
	dpfix_ipfix_template_add(t, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_packetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowStartMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndReason, 1);
	dpfix_ipfix_template_add(t, 0, IE_mplsTopLabelStackSection, 3);
	if (biflow) {
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_octetDeltaCount, 8);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_packetDeltaCount, 8);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_tcpControlBits, 2);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_minimumTTL, 1);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_maximumTTL, 1);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_flowStartMilliseconds, 8);
		dpfix_ipfix_template_add(t, DPFIX_IPFIX_PEN_REVERSE, IE_flowEndMilliseconds, 8);
	}
	if (sampling)
		dpfix_ipfix_template_add(t, 0, IE_selectorId, 8);
}

uint32_t
probe_flow_encode(const struct dpfix_flow_record *rec, int biflow, int sampling,
		uint64_t selector_id, uint8_t *out)
{
	const struct dpfix_flow_key *k = &rec->key;
	size_t alen = k->ip_version == 6 ? 16 : 4;
	int icmp = k->protocol == IPPROTO_ICMP_ || k->protocol == IPPROTO_ICMPV6_;
	uint8_t *p = out;

	memcpy(p, k->src_addr, alen);
	p += alen;
	memcpy(p, k->dst_addr, alen);
	p += alen;
	p = dpfix_put_be(p, icmp ? 0 : k->src_port, 2);
	p = dpfix_put_be(p, icmp ? 0 : k->dst_port, 2);
	*p++ = k->protocol;
	*p++ = rec->tos;
	p = dpfix_put_be(p, rec->tcp_flags, 2);
	p = dpfix_put_be(p, icmp ? k->dst_port : 0, 2);
	p = dpfix_put_be(p, rec->vlan_id, 2);
	p = dpfix_put_be(p, rec->ingress_port, 4);
	*p++ = rec->min_ttl;
	*p++ = rec->max_ttl;
	p = dpfix_put_be(p, rec->octets, 8);
	p = dpfix_put_be(p, rec->packets, 8);
	p = dpfix_put_be(p, rec->first_ns / 1000000, 8);
	p = dpfix_put_be(p, rec->last_ns / 1000000, 8);
	*p++ = rec->end_reason;
	*p++ = (uint8_t)(rec->mpls_top >> 16);      /* label(20) TC(3) S(1), 3 octets */
	p = dpfix_put_be(p, (uint16_t)rec->mpls_top, 2);
	if (biflow) {
		/* A direction that saw no packet has no times: 0, with zero counts beside
		 * them. */
		p = dpfix_put_be(p, rec->rev_octets, 8);
		p = dpfix_put_be(p, rec->rev_packets, 8);
		p = dpfix_put_be(p, rec->rev_tcp_flags, 2);
		*p++ = rec->rev_min_ttl;
		*p++ = rec->rev_max_ttl;
		p = dpfix_put_be(p, rec->rev_first_ns / 1000000, 8);
		p = dpfix_put_be(p, rec->rev_last_ns / 1000000, 8);
	}
	if (sampling)
		p = dpfix_put_be(p, selector_id, 8);
	return (uint32_t)(p - out);
}
