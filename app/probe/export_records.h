/* The records the probe exports, each kind a schema (lib/ipfix): its flow records, the
 * options records of RFC 7011 4 (its statistics, flow keys, interface names) and with
 * sampling those of PSAMP (RFC 5476 6.5), and the values of the options records. */
#ifndef EXPORT_RECORDS_H
#define EXPORT_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_export.h"

struct exporter_ctx;
struct probe_records;
struct dpfix_measure_layout;

/* Makes the schema of every kind this configuration exports and adds it to domain d,
 * in template-id order. NULL with err filled in. */
struct probe_records *probe_records_create(const struct exporter_ctx *x,
		struct dpfix_export_domain *d, char *err, size_t errlen);
void probe_records_free(struct probe_records *r);
/* The longest flow record (with measures, their strings at their bounds) must fit an
 * empty message of max_message bytes, or it could never be sent: -EMSGSIZE with err
 * saying by how much to raise export_mtu. */
int probe_records_check_room(const struct probe_records *r, uint32_t max_message, char *err,
		size_t errlen);
/* The flow records' schemas: [0] IPv4, [1] IPv6 (with measures, the measured ones). */
void probe_records_flow_schemas(const struct probe_records *r,
		const struct dpfix_ipfix_schema *schemas[2]);
/* Where the measures' values are in a flow's extension (no measure: size 0). */
const struct dpfix_measure_layout *probe_records_measure_layout(const struct probe_records *r);
/* lib/export's write_options, ctx the export_lane: the probe's statistics (RFC 7011
 * 4.1-4.4), the flow keys, one record per port naming it, and the selectors'. */
void probe_records_write_options(struct dpfix_export *export, void *ctx, uint64_t now_ns);

#endif
