/* Exporting side's template state: which templates exist, which the current session
 * has, when UDP needs them again, and their withdrawal (RFC 7011 8, 8.1, 8.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix_export.h"

void
dpfix_ipfix_tm_init(struct dpfix_ipfix_template_manager *tm, uint64_t refresh_ns)
{
	memset(tm, 0, sizeof(*tm));
	tm->refresh_ns = refresh_ns;
}

void
dpfix_ipfix_tm_free(struct dpfix_ipfix_template_manager *tm)
{
	for (uint16_t i = 0; i < tm->count; i++)
		free(tm->entries[i]);
	free(tm->entries);
	tm->entries = NULL;
	tm->count = tm->capacity = tm->unsent = 0;
}

static struct dpfix_ipfix_tm_entry *
find(const struct dpfix_ipfix_template_manager *tm, uint16_t id, uint16_t *index)
{
	for (uint16_t i = 0; i < tm->count; i++)
		if (tm->entries[i]->t.id == id) {
			if (index != NULL)
				*index = i;
			return tm->entries[i];
		}
	return NULL;
}

/* Marks e sent or not, keeping the count of unsent entries. */
static void
set_sent(struct dpfix_ipfix_template_manager *tm, struct dpfix_ipfix_tm_entry *e, int sent)
{
	if (e->sent == sent)
		return;
	e->sent = (uint8_t)sent;
	if (sent)
		tm->unsent--;
	else
		tm->unsent++;
}

int
dpfix_ipfix_tm_add(struct dpfix_ipfix_template_manager *tm, const struct dpfix_ipfix_template *t)
{
	struct dpfix_ipfix_tm_entry *e;

	if (find(tm, t->id, NULL) != NULL)
		return -EEXIST;
	if (tm->count == DPFIX_IPFIX_TM_MAX)
		return -ENOSPC;
	if (tm->count == tm->capacity) {
		uint16_t cap = tm->capacity == 0 ? 16 : tm->capacity * 2;
		struct dpfix_ipfix_tm_entry **grown;

		if (cap > DPFIX_IPFIX_TM_MAX)
			cap = DPFIX_IPFIX_TM_MAX;
		grown = realloc(tm->entries, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		tm->entries = grown;
		tm->capacity = cap;
	}
	e = malloc(sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->t = *t;
	e->sent = 1;
	set_sent(tm, e, 0);
	tm->entries[tm->count++] = e;
	return 0;
}

const struct dpfix_ipfix_template *
dpfix_ipfix_tm_get(const struct dpfix_ipfix_template_manager *tm, uint16_t id)
{
	const struct dpfix_ipfix_tm_entry *e = find(tm, id, NULL);

	return e != NULL ? &e->t : NULL;
}

void
dpfix_ipfix_tm_session(struct dpfix_ipfix_template_manager *tm, int reliable)
{
	tm->reliable = reliable;
	for (uint16_t i = 0; i < tm->count; i++)
		set_sent(tm, tm->entries[i], 0);
}

static int
refresh_due(const struct dpfix_ipfix_template_manager *tm, uint64_t now_ns)
{
	return !tm->reliable && now_ns - tm->refreshed_ns >= tm->refresh_ns;
}

/* Constant time: it is asked before every data message. */
int
dpfix_ipfix_tm_due(const struct dpfix_ipfix_template_manager *tm, uint64_t now_ns)
{
	return tm->unsent != 0 || (tm->count > 0 && refresh_due(tm, now_ns));
}

int
dpfix_ipfix_tm_write(struct dpfix_ipfix_template_manager *tm, struct dpfix_ipfix_msg *m,
		uint64_t now_ns)
{
	int pending = 0;

	/* A UDP refresh sends every template again (RFC 7011 8.4). */
	if (refresh_due(tm, now_ns))
		for (uint16_t i = 0; i < tm->count; i++)
			set_sent(tm, tm->entries[i], 0);
	for (uint16_t i = 0; i < tm->count && tm->unsent != 0; i++) {
		struct dpfix_ipfix_tm_entry *e = tm->entries[i];

		if (e->sent)
			continue;
		if (pending == 0 && dpfix_ipfix_msg_add_template(m, &e->t) == 0)
			set_sent(tm, e, 1);
		else
			pending++;
	}
	if (pending == 0)
		tm->refreshed_ns = now_ns;
	return pending;
}

int
dpfix_ipfix_tm_remove(struct dpfix_ipfix_template_manager *tm, uint16_t id,
		struct dpfix_ipfix_msg *m)
{
	uint16_t index;
	struct dpfix_ipfix_tm_entry *e = find(tm, id, &index);
	uint16_t set_id;

	if (e == NULL)
		return -ENOENT;
	set_id = e->t.scope_count ? DPFIX_IPFIX_SET_OPTIONS_TEMPLATE : DPFIX_IPFIX_SET_TEMPLATE;
	/* Withdrawals exist on TCP and SCTP only; on UDP the template just expires. */
	if (tm->reliable && e->sent && dpfix_ipfix_msg_add_withdrawal(m, set_id, id) < 0)
		return -ENOSPC;
	set_sent(tm, e, 1);
	free(e);
	tm->entries[index] = tm->entries[--tm->count];
	return 0;
}

int
dpfix_ipfix_tm_withdraw_all(struct dpfix_ipfix_template_manager *tm, int kinds,
		struct dpfix_ipfix_msg *m)
{
	int want[2] = {0, 0}, written = 0;
	struct dpfix_ipfix_msg before = *m;

	if (!tm->reliable)
		return 0;
	for (uint16_t i = 0; i < tm->count; i++) {
		int options = tm->entries[i]->t.scope_count != 0;

		if (tm->entries[i]->sent && (kinds & (options ? DPFIX_IPFIX_TM_OPTIONS : DPFIX_IPFIX_TM_DATA)))
			want[options] = 1;
	}
	for (int options = 0; options < 2; options++) {
		uint16_t set_id = options ? DPFIX_IPFIX_SET_OPTIONS_TEMPLATE : DPFIX_IPFIX_SET_TEMPLATE;

		if (!want[options])
			continue;
		if (dpfix_ipfix_msg_add_withdrawal(m, set_id, set_id) < 0) {
			*m = before;
			return -ENOSPC;
		}
		written++;
	}
	for (uint16_t i = 0; i < tm->count; i++)
		if (want[tm->entries[i]->t.scope_count != 0])
			set_sent(tm, tm->entries[i], 0);
	return written;
}
