/* The flow record's schema (dpfix_flow_schema.h): its groups made from their lists,
 * and the flow template composed of them. */
#include <errno.h>

#include "dpfix_flow_schema.h"

DPFIX_IPFIX_GROUP_DEFINE(flow_ipv4, struct dpfix_flow_record, 0, DPFIX_FLOW_FIELDS_IPV4);
DPFIX_IPFIX_GROUP_DEFINE(flow_ipv6, struct dpfix_flow_record, 0, DPFIX_FLOW_FIELDS_IPV6);
DPFIX_IPFIX_GROUP_DEFINE(flow_reverse, struct dpfix_flow_record, 0, DPFIX_FLOW_REVERSE_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(flow_selector, struct dpfix_flow_record, 0, DPFIX_FLOW_SELECTOR_FIELDS);

int
dpfix_flow_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		const struct dpfix_flow_schema_params *p)
{
	int ret;

	if (p->ip_version != 4 && p->ip_version != 6)
		return -EINVAL;
	dpfix_ipfix_schema_init(s, template_id);
	ret = dpfix_ipfix_schema_add(s, p->ip_version == 6 ? &flow_ipv6 : &flow_ipv4, NULL);
	if (ret == 0 && p->biflow)
		ret = dpfix_ipfix_schema_add(s, &flow_reverse, NULL);
	if (ret == 0 && p->selectors != NULL)
		ret = dpfix_ipfix_schema_add(s, &flow_selector, p->selectors);
	return ret;
}
