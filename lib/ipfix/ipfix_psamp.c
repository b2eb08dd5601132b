/* The PSAMP options records (dpfix_ipfix_psamp.h): each schema made from its field
 * lists, the selector report's from the common part and its algorithm's parameters. */
#include <errno.h>

#include "dpfix_ipfix_psamp.h"

DPFIX_IPFIX_GROUP_DEFINE(report, struct dpfix_ipfix_selector_report, 1,
		DPFIX_IPFIX_SELECTOR_REPORT_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(report_systematic, struct dpfix_ipfix_selector_report, 0,
		DPFIX_IPFIX_SELECTOR_SYSTEMATIC_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(report_random, struct dpfix_ipfix_selector_report, 0,
		DPFIX_IPFIX_SELECTOR_RANDOM_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(report_hash, struct dpfix_ipfix_selector_report, 0,
		DPFIX_IPFIX_SELECTOR_HASH_FIELDS);

int
dpfix_ipfix_selector_report_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		uint16_t algorithm)
{
	const struct dpfix_ipfix_group *parameters;
	int ret;

	switch (algorithm) {
	case DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT:
		parameters = &report_systematic;
		break;
	case DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N:
		parameters = &report_random;
		break;
	case DPFIX_IPFIX_SELECTOR_HASH_BOB:
	case DPFIX_IPFIX_SELECTOR_HASH_IPSX:
	case DPFIX_IPFIX_SELECTOR_HASH_CRC:
		parameters = &report_hash;
		break;
	default:
		return -EINVAL;
	}
	dpfix_ipfix_schema_init(s, template_id);
	ret = dpfix_ipfix_schema_add(s, &report, NULL);
	return ret < 0 ? ret : dpfix_ipfix_schema_add(s, parameters, NULL);
}

DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_selector_stats_schema, struct dpfix_ipfix_selector_stats, 1,
		DPFIX_IPFIX_SELECTOR_STATS_FIELDS)
DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_ipfix_selection_sequence_schema,
		struct dpfix_ipfix_selection_sequence, 1, DPFIX_IPFIX_SELECTION_SEQUENCE_FIELDS)
