/* One-line renderings of records for people: "name=value" pairs, values as JSON
 * writes them, keys as the JSON objects name them. The collector and dpfix-dump print
 * records this way. */
#include <errno.h>
#include <stdio.h>

#include "dpfix_ipfix.h"

int
dpfix_ipfix_field_name(const struct dpfix_ipfix_field_spec *f, char *out, size_t outlen)
{
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

	if (ie != NULL)
		return snprintf(out, outlen, "%s", ie->name);
	if (f->pen != 0)
		return snprintf(out, outlen, "%u:%u", f->pen, f->id);
	return snprintf(out, outlen, "_ie%u", f->id);
}

int
dpfix_ipfix_record_to_text(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out)
{
	static __thread uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static __thread uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	char name[128], value[1024 * 3];

	if (dpfix_ipfix_record_fields(t, record, len, offsets, lengths) < 0)
		return -EBADMSG;
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

		dpfix_ipfix_field_name(f, name, sizeof(name));
		dpfix_ipfix_format_json_value(ie != NULL ? ie->type : DPFIX_IPFIX_OCTET_ARRAY,
				record + offsets[i], lengths[i], value, sizeof(value));
		fprintf(out, "%s%s=%s", i > 0 ? " " : "", name, value);
	}
	fputc('\n', out);
	return 0;
}
