/* Options records through the Mediator (RFC 7119 5.3, 6): an exporter's options records
 * go on with their scope mapped (templateId to the outgoing template's id,
 * observationDomainId to the outgoing domain), or are dropped where a process made
 * them untrue (Flow Keys past an aggregation); its Flow Keys records are learned for the
 * processes that need keys. The Mediator's own, per outgoing domain: Metering and
 * Exporting Process Reliability Statistics (RFC 7011 4.2, 4.3), the Flow Keys of the
 * records its processes make (RFC 7011 4.4), and what anonymisation did to which
 * element of which template (RFC 6235 6.1). */
#include <errno.h>
#include <string.h>

#include "dpfix_ipfix_options.h"
#include "mediate_private.h"

/* RFC 6235 6.1: the Anonymization Options Template. */
struct anonymisation_record {
	uint16_t template_id;
	uint16_t ie;
	uint16_t index;
	uint16_t flags;
	uint16_t technique;
};

#define ANONYMISATION_FIELDS(X) \
	X(0, IE_templateId, 2, UINT, r->template_id) \
	X(0, IE_informationElementId, 2, UINT, r->ie) \
	X(0, IE_informationElementIndex, 2, UINT, r->index) \
	X(0, IE_anonymizationFlags, 2, UINT, r->flags) \
	X(0, IE_anonymizationTechnique, 2, UINT, r->technique)

DPFIX_IPFIX_SCHEMA_DEFINE(anonymisation_schema, struct anonymisation_record, 3,
		ANONYMISATION_FIELDS)

enum {
	SCHEMA_METERING_RELIABILITY,
	SCHEMA_EXPORTING_RELIABILITY,
	SCHEMA_FLOW_KEYS,
	SCHEMA_ANONYMISATION,
};

int
med_options_add_schemas(struct dpfix_mediate *m, struct dpfix_export_domain *xd)
{
	struct dpfix_ipfix_schema *s = m->options_schemas;
	int ret = 0;

	if (s[SCHEMA_METERING_RELIABILITY].template_id == 0) {
		dpfix_ipfix_metering_reliability_schema(&s[SCHEMA_METERING_RELIABILITY],
				MED_TID_METERING_RELIABILITY);
		dpfix_ipfix_exporting_reliability_schema(&s[SCHEMA_EXPORTING_RELIABILITY],
				MED_TID_EXPORTING_RELIABILITY);
		dpfix_ipfix_flow_keys_schema(&s[SCHEMA_FLOW_KEYS], MED_TID_FLOW_KEYS);
		anonymisation_schema(&s[SCHEMA_ANONYMISATION], MED_TID_ANONYMISATION);
	}
	for (unsigned int i = 0; i < 4 && ret == 0; i++)
		ret = dpfix_export_add_schema_now(xd, &s[i], m->now_ns);
	return ret;
}

void
med_options_write(struct dpfix_export *x, void *ctx, uint64_t now_ns)
{
	struct med_collector *c = ctx;
	struct dpfix_mediate *m = c->m;
	const struct dpfix_export_stats *xs = dpfix_export_stats(x);
	struct dpfix_ipfix_schema *s = m->options_schemas;

	for (struct med_out_domain *d = m->domains; d != NULL; d = d->next) {
		struct dpfix_export_domain *xd = d->xd[c->index];
		struct dpfix_ipfix_metering_reliability mr = {
			.observation_domain = d->id,
			.ignored_packets = m->lost_packets, .ignored_octets = m->lost_octets,
			.first_ignored_ms = m->first_lost_ms, .last_ignored_ms = m->last_lost_ms,
		};
		struct dpfix_ipfix_exporting_reliability er = {
			.exporting_process = c->index,
			.not_sent_flows = xs->records_lost + c->backlog_drops,
			.not_sent_packets = xs->packets_lost, .not_sent_octets = xs->octets_lost,
		};

		dpfix_export_option(xd, &s[SCHEMA_METERING_RELIABILITY], &mr, now_ns);
		dpfix_export_option(xd, &s[SCHEMA_EXPORTING_RELIABILITY], &er, now_ns);
		for (unsigned int b = 0; b < 256; b++)
			for (const struct med_out_template *t = d->buckets[b]; t != NULL; t = t->next) {
				if (t->refs == 0)
					continue;
				if (t->flow_key_indicator != 0) {
					struct dpfix_ipfix_flow_keys fk = {.template_id = t->id,
						.flow_key_indicator = t->flow_key_indicator};

					dpfix_export_option(xd, &s[SCHEMA_FLOW_KEYS], &fk, now_ns);
				}
				for (uint16_t k = 0; k < t->note_count; k++) {
					const struct med_anon_note *n = &t->notes[k];
					struct anonymisation_record ar = {.template_id = t->id, .ie = n->ie,
						.index = n->field, .flags = n->flags, .technique = n->technique};

					dpfix_export_option(xd, &s[SCHEMA_ANONYMISATION], &ar, now_ns);
				}
			}
	}
}

/* The field of element id in an options record's scope, or -1. */
static int
scope_field(const struct med_layout *l, uint16_t id)
{
	for (uint16_t i = 0; i < l->t.scope_count; i++)
		if (l->t.fields[i].pen == 0 && l->t.fields[i].id == id)
			return i;
	return -1;
}

/* The exporter's layout an options record's templateId scope names, or NULL. */
static struct med_layout *
scope_layout(struct dpfix_mediate *m, const struct med_record *r, int field)
{
	if (field < 0 || r->origin == NULL)
		return NULL;
	return med_input_layout(m, r->origin->session_id, r->domain,
			(uint16_t)med_record_unsigned(r, field));
}

void
med_options_learn(struct dpfix_mediate *m, const struct med_record *r)
{
	int keys = med_layout_find(r->layout, 0, IE_flowKeyIndicator);
	struct med_layout *target = scope_layout(m, r, scope_field(r->layout, IE_templateId));
	uint64_t indicator;

	if (keys < 0 || target == NULL)
		return;
	indicator = med_record_unsigned(r, keys);

	/* Keys said after the template's records went out: where the Mediator says them
	 * itself, its records map again at the next one, to a template with them. */
	if (indicator != target->flow_key_indicator && m->keys_changed)
		med_layout_unmap(m, target);
	target->flow_key_indicator = indicator;
}

void
med_options_forward(struct dpfix_mediate *m, const struct med_record *r)
{
	int tid_field = scope_field(r->layout, IE_templateId);
	int domain_field = scope_field(r->layout, IE_observationDomainId);
	struct med_record out = *r;

	if (m->keys_changed && med_layout_find(r->layout, 0, IE_flowKeyIndicator) >= 0) {
		m->stats.options_invalidated++;
		return;
	}
	if (tid_field >= 0 || (domain_field >= 0 && !m->params.keep_domains)) {
		memcpy(m->scratch, r->data, r->len);
		out.data = m->scratch;
	}
	if (tid_field >= 0) {
		struct med_layout *target = scope_layout(m, r, tid_field);
		struct med_record of_target = {.layout = target, .origin = r->origin,
			.domain = r->domain};
		struct med_out_template *t = target != NULL && target->t.scope_count == 0 ?
				med_out_template_of(m, &of_target) : NULL;

		if (t == NULL || dpfix_ipfix_put_unsigned(m->scratch + r->offsets[tid_field],
				r->lengths[tid_field], t->id) < 0) {
			m->stats.options_unmapped++;
			return;
		}
	}
	if (domain_field >= 0 && !m->params.keep_domains &&
			dpfix_ipfix_put_unsigned(m->scratch + r->offsets[domain_field],
				r->lengths[domain_field], m->params.domain) < 0) {
		m->stats.options_unmapped++;
		return;
	}
	m->stats.options_forwarded++;
	med_output_mapped(m, &out);
}
