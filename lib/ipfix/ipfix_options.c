/* Builders for the options templates of RFC 7011 section 4 and the interface options
 * record. Each template lists its fields once; the encoder writes them in that order,
 * and the unit tests decode every record through the template to prove they agree. */
#include <string.h>

#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_options.h"

void
dpfix_ipfix_metering_stats_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 2);
	dpfix_ipfix_template_add(t, 0, IE_observationDomainId, 4);
	dpfix_ipfix_template_add(t, 0, IE_meteringProcessId, 4);
	dpfix_ipfix_template_add(t, 0, IE_exportedMessageTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_exportedFlowRecordTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_exportedOctetTotalCount, 8);
}

uint32_t
dpfix_ipfix_metering_stats_record(const struct dpfix_ipfix_metering_stats *s, uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->observation_domain, 4);
	p = dpfix_put_be(p, s->metering_process, 4);
	p = dpfix_put_be(p, s->messages, 8);
	p = dpfix_put_be(p, s->flow_records, 8);
	p = dpfix_put_be(p, s->octets, 8);
	return (uint32_t)(p - out);
}

void
dpfix_ipfix_metering_reliability_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 2);
	dpfix_ipfix_template_add(t, 0, IE_observationDomainId, 4);
	dpfix_ipfix_template_add(t, 0, IE_meteringProcessId, 4);
	dpfix_ipfix_template_add(t, 0, IE_ignoredPacketTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_ignoredOctetTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowStartMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndMilliseconds, 8);
}

uint32_t
dpfix_ipfix_metering_reliability_record(const struct dpfix_ipfix_metering_reliability *s,
		uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->observation_domain, 4);
	p = dpfix_put_be(p, s->metering_process, 4);
	p = dpfix_put_be(p, s->ignored_packets, 8);
	p = dpfix_put_be(p, s->ignored_octets, 8);
	p = dpfix_put_be(p, s->first_ignored_ms, 8);
	p = dpfix_put_be(p, s->last_ignored_ms, 8);
	return (uint32_t)(p - out);
}

void
dpfix_ipfix_exporting_reliability_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_exportingProcessId, 4);
	dpfix_ipfix_template_add(t, 0, IE_notSentFlowTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_notSentPacketTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_notSentOctetTotalCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowStartMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndMilliseconds, 8);
}

uint32_t
dpfix_ipfix_exporting_reliability_record(const struct dpfix_ipfix_exporting_reliability *s,
		uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->exporting_process, 4);
	p = dpfix_put_be(p, s->not_sent_flows, 8);
	p = dpfix_put_be(p, s->not_sent_packets, 8);
	p = dpfix_put_be(p, s->not_sent_octets, 8);
	p = dpfix_put_be(p, s->first_not_sent_ms, 8);
	p = dpfix_put_be(p, s->last_not_sent_ms, 8);
	return (uint32_t)(p - out);
}

void
dpfix_ipfix_flow_keys_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_templateId, 2);
	dpfix_ipfix_template_add(t, 0, IE_flowKeyIndicator, 8);
}

uint32_t
dpfix_ipfix_flow_keys_record(const struct dpfix_ipfix_flow_keys *s, uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->template_id, 2);
	p = dpfix_put_be(p, s->flow_key_indicator, 8);
	return (uint32_t)(p - out);
}

uint64_t
dpfix_ipfix_flow_key_indicator(const struct dpfix_ipfix_template *t, const uint16_t *keys, size_t n)
{
	uint64_t bits = 0;

	for (uint16_t i = 0; i < t->field_count && i < 64; i++) {
		if (t->fields[i].pen != 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (t->fields[i].id == keys[k])
				bits |= 1ull << i;
	}
	return bits;
}

void
dpfix_ipfix_interface_info_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_ingressInterface, 4);
	dpfix_ipfix_template_add(t, 0, IE_interfaceName, DPFIX_IPFIX_VARLEN);
	dpfix_ipfix_template_add(t, 0, IE_interfaceDescription, DPFIX_IPFIX_VARLEN);
}

/* A string in the one-byte length form; cut to 254 bytes without splitting a UTF-8
 * character, so the collector never sees half a character. */
static uint8_t *
put_string(uint8_t *p, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > 254) {
		n = 254;
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
			n--;
	}
	*p++ = (uint8_t)n;
	if (n != 0)
		memcpy(p, s, n);
	return p + n;
}

uint32_t
dpfix_ipfix_interface_info_record(const struct dpfix_ipfix_interface_info *s, uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->ingress_interface, 4);
	p = put_string(p, s->name);
	p = put_string(p, s->description);
	return (uint32_t)(p - out);
}
