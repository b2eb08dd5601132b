/* Layouts: the kinds of record the Mediator handles (an exporter's template, or one a
 * process makes), with where each field lies, shared by reference counts; and the
 * origins records come from. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mediate_private.h"

struct med_layout *
med_layout_new(const struct dpfix_ipfix_template *t)
{
	struct med_layout *l = malloc(sizeof(*l));
	uint32_t offset = 0;

	if (l == NULL)
		return NULL;
	memset(l, 0, offsetof(struct med_layout, t));
	l->t = *t;
	l->refs = 1;
	l->packets_field = l->octets_field = -1;
	l->offsets = malloc((t->field_count + 1u) * sizeof(l->offsets[0]));
	l->lengths = malloc((t->field_count + 1u) * sizeof(l->lengths[0]));
	if (l->offsets == NULL || l->lengths == NULL) {
		free(l->offsets);
		free(l->lengths);
		free(l);
		return NULL;
	}
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];

		l->lengths[i] = f->length;
		l->offsets[i] = offset;
		offset += f->length == DPFIX_IPFIX_VARLEN ? 0 : f->length;
		if (f->pen != 0)
			continue;
		if (f->id == IE_packetDeltaCount && l->packets_field < 0)
			l->packets_field = i;
		else if (f->id == IE_octetDeltaCount && l->octets_field < 0)
			l->octets_field = i;
	}
	l->fixed_length = t->varlen_count == 0 ? offset : 0;
	return l;
}

void
med_layout_get(struct med_layout *l)
{
	l->refs++;
}

void
med_layout_put(struct dpfix_mediate *m, struct med_layout *l)
{
	if (l == NULL || --l->refs != 0)
		return;
	for (unsigned int i = 0; i < m->nb_procs; i++) {
		if (l->proc[i] == NULL)
			continue;
		if (m->procs[i].ops->layout_gone != NULL)
			m->procs[i].ops->layout_gone(&m->procs[i], l);
		else
			free(l->proc[i]);
		l->proc[i] = NULL;
	}
	med_layout_unmap(m, l);
	free(l->offsets);
	free(l->lengths);
	free(l);
}

int
med_layout_find(const struct med_layout *l, uint32_t pen, uint16_t id)
{
	for (uint16_t i = 0; i < l->t.field_count; i++)
		if (l->t.fields[i].id == id && l->t.fields[i].pen == pen)
			return i;
	return -1;
}

uint64_t
med_record_unsigned(const struct med_record *r, int field)
{
	if (field < 0)
		return 0;
	return dpfix_ipfix_read_unsigned(r->data + r->offsets[field], r->lengths[field]);
}

void
med_origin_put(struct med_origin *o)
{
	if (o != NULL && --o->refs == 0)
		free(o);
}
