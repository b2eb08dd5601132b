/* The options records of RFC 7011 section 4 and the interface options record: each
 * schema made from its one list of fields (dpfix_ipfix_options.h), scope first. */
#include "dpfix_ipfix_options.h"

DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_metering_stats_schema, struct dpfix_ipfix_metering_stats,
		2, DPFIX_IPFIX_METERING_STATS_FIELDS)
DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_metering_reliability_schema,
		struct dpfix_ipfix_metering_reliability, 2, DPFIX_IPFIX_METERING_RELIABILITY_FIELDS)
DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_exporting_reliability_schema,
		struct dpfix_ipfix_exporting_reliability, 1, DPFIX_IPFIX_EXPORTING_RELIABILITY_FIELDS)
DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_flow_keys_schema, struct dpfix_ipfix_flow_keys, 1,
		DPFIX_IPFIX_FLOW_KEYS_FIELDS)
DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_interface_info_schema, struct dpfix_ipfix_interface_info,
		1, DPFIX_IPFIX_INTERFACE_INFO_FIELDS)

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
