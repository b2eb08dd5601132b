/* The probe's flow records on the wire: the data template of each IP version and the
 * encoding of a metered flow in it. One definition for the exporter and for
 * bench/bench_decode, so the benchmark decodes exactly what the probe sends. */
#ifndef PROBE_FLOW_RECORD_H
#define PROBE_FLOW_RECORD_H

#include <stdint.h>

#include "dpfix_flow.h"
#include "dpfix_ipfix.h"

/* The longest record probe_flow_encode() writes: IPv6, biflow and selectorId. */
#define PROBE_FLOW_RECORD_MAX 160

/* The fields of the flow template (id) for IPv4 or IPv6 (v6). With biflow, the other
 * direction's counters, flags, TTLs and times follow as RFC 5103 reverse elements;
 * with sampling, selectorId ends the record. */
void probe_flow_template(struct dpfix_ipfix_template *t, uint16_t id, int v6, int biflow,
		int sampling);
/* Writes rec in the template's field order (selector_id when sampling); returns the
 * record's length. */
uint32_t probe_flow_encode(const struct dpfix_flow_record *rec, int biflow, int sampling,
		uint64_t selector_id, uint8_t *out);

#endif
