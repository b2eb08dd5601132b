/* Record schemas (dpfix_ipfix_schema.h): groups of fields composed into one record
 * kind, the template made from them, and records encoded straight into a message. */
#include <errno.h>
#include <stddef.h>

#include "dpfix_ipfix_schema.h"

void
dpfix_ipfix_schema_init(struct dpfix_ipfix_schema *s, uint16_t template_id)
{
	memset(s, 0, offsetof(struct dpfix_ipfix_schema, groups));
	s->template_id = template_id;
}

/* Whether len is a length the field's element may have on the wire; elements the
 * registry does not know (an enterprise's, not loaded) are taken as they come. */
static int
length_suits_element(const struct dpfix_ipfix_field_spec *f)
{
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

	return ie == NULL || dpfix_ipfix_type_length_valid(ie->type, f->length);
}

int
dpfix_ipfix_schema_add(struct dpfix_ipfix_schema *s, const struct dpfix_ipfix_group *g,
		const void *ctx)
{
	uint32_t min_length = 0;

	if (g->scope_count > g->field_count || (g->scope_count != 0 && s->group_count != 0))
		return -EINVAL;
	for (uint16_t i = 0; i < g->field_count; i++) {
		if (!length_suits_element(&g->fields[i]))
			return -EINVAL;
		min_length += g->fields[i].length == DPFIX_IPFIX_VARLEN ? 1 : g->fields[i].length;
	}
	if (s->group_count == DPFIX_IPFIX_SCHEMA_MAX_GROUPS ||
			s->field_count + g->field_count > DPFIX_IPFIX_MAX_FIELDS ||
			s->max_length + g->max_length > DPFIX_IPFIX_SCHEMA_MAX_LENGTH)
		return -ENOSPC;
	s->groups[s->group_count] = *g;
	s->groups[s->group_count].ctx = ctx;
	s->group_count++;
	s->field_count += g->field_count;
	s->scope_count += g->scope_count;
	s->min_length += min_length;
	s->max_length += g->max_length;
	return 0;
}

void
dpfix_ipfix_schema_template(const struct dpfix_ipfix_schema *s, struct dpfix_ipfix_template *t)
{
	dpfix_ipfix_template_init(t, s->template_id, s->scope_count);
	for (uint16_t i = 0; i < s->group_count; i++)
		for (uint16_t k = 0; k < s->groups[i].field_count; k++) {
			const struct dpfix_ipfix_field_spec *f = &s->groups[i].fields[k];

			/* Fits: dpfix_ipfix_schema_add kept the count within the maximum. */
			dpfix_ipfix_template_add(t, f->pen, f->id, f->length);
		}
}
