/* Selection: an Intermediate Process that passes on the records a filter expression
 * matches (mediate_filter.h) and drops the others, counting both. Where each element
 * of the expression lies is worked out once per layout. Options records pass it by. */
#include <errno.h>
#include <stdlib.h>

#include "mediate_filter.h"
#include "mediate_private.h"

struct select_state {
	struct med_filter *filter;
	uint64_t dropped;
};

static int
select_create(struct med_process *p, const char *text, char *err, size_t errlen)
{
	struct select_state *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->filter = med_filter_parse(text, err, errlen);
	if (s->filter == NULL) {
		free(s);
		return -EINVAL;
	}
	p->state = s;
	return 0;
}

/* For each comparison, the field of l it reads (-1: l has no such element). */
static int16_t *
resolve(const struct select_state *s, const struct med_layout *l)
{
	unsigned int n = med_filter_leaves(s->filter);
	int16_t *field_of = malloc((n + 1) * sizeof(*field_of));

	if (field_of == NULL)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		const struct dpfix_ipfix_ie *ie = med_filter_leaf_element(s->filter, i);

		field_of[i] = (int16_t)med_layout_find(l, ie->pen, ie->id);
	}
	return field_of;
}

static void
select_record(struct med_process *p, const struct med_record *r)
{
	struct select_state *s = p->state;
	int16_t *field_of = r->layout->proc[p->stage];

	if (field_of == NULL) {
		field_of = resolve(s, r->layout);
		if (field_of == NULL) {
			/* Out of memory: the record goes on rather than being lost. */
			med_emit(p, r);
			return;
		}
		r->layout->proc[p->stage] = field_of;
	}
	if (med_filter_match(s->filter, field_of, r->data, r->offsets, r->lengths))
		med_emit(p, r);
	else
		s->dropped++;
}

static void
select_counters(const struct med_process *p, void (*fn)(void *arg, const char *name,
		uint64_t value), void *arg)
{
	const struct select_state *s = p->state;

	fn(arg, "records_not_selected", s->dropped);
}

static void
select_free(struct med_process *p)
{
	struct select_state *s = p->state;

	if (s != NULL)
		med_filter_free(s->filter);
	free(s);
	p->state = NULL;
}

const struct med_process_ops med_select_ops = {
	.create = select_create,
	.record = select_record,
	.counters = select_counters,
	.free = select_free,
};
