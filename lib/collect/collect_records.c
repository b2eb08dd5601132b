/* lib/collect's decoded records and templates: counted into the totals (packet and
 * octet fields located once per data set) and handed to the sinks that take them. */
#include <string.h>

#include "collect_private.h"

static void
locate_counters(struct collect_counter_layout *l, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	l->packets_at = l->octets_at = 0;
	l->packets_len = l->octets_len = 0;
	if (dpfix_ipfix_record_fields(t, rec, len, l->offsets, l->lengths) < 0)
		return;
	/* A layout with variable-length fields differs per record; the first occurrence of
	 * each counter in a template is the one counted. */
	for (uint16_t i = t->field_count; i-- > 0;) {
		if (t->fields[i].pen != 0)
			continue;
		if (t->fields[i].id == IE_packetDeltaCount) {
			l->packets_at = l->offsets[i];
			l->packets_len = l->lengths[i];
		} else if (t->fields[i].id == IE_octetDeltaCount) {
			l->octets_at = l->offsets[i];
			l->octets_len = l->lengths[i];
		}
	}
}

void
collect_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	struct collect_session *s = ctx;
	struct dpfix_collect *c = s->owner;

	if (t->scope_count != 0) {
		c->stats.options_records++;
	} else {
		struct collect_counter_layout *l = &c->layout;

		c->stats.flow_records++;
		if (rec != l->next)
			locate_counters(l, t, rec, len);
		c->stats.packets += dpfix_ipfix_read_unsigned(rec + l->packets_at, l->packets_len);
		c->stats.octets += dpfix_ipfix_read_unsigned(rec + l->octets_at, l->octets_len);
		l->next = t->varlen_count == 0 ? rec + len : NULL;
	}
	for (unsigned int k = 0; k < c->nb_record_sinks; k++)
		c->record_sinks[k].ops->record(c->record_sinks[k].ctx, &s->info, h, t, rec, len);
}

void
collect_template(void *ctx, uint32_t domain, uint16_t template_id,
		const struct dpfix_ipfix_template *t)
{
	struct collect_session *s = ctx;
	struct dpfix_collect *c = s->owner;

	if (!s->started)
		return;
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->template_event != NULL)
			c->sinks[k].ops->template_event(c->sinks[k].ctx, &s->info, domain, template_id, t);
}
