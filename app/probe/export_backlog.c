/* A collector's backlog (collector_mode replicate): while one collector's session cannot
 * take records (reconnecting, on probation) the others go on, and its records wait here,
 * in order, for its next session; once it is full they are counted lost for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "probe_log.h"

int
lane_backlog_init(struct export_lane *l, uint64_t bytes, uint32_t elem_size, char *err,
		size_t errlen)
{
	uint64_t n = bytes / elem_size;

	l->backlog.capacity = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	if (l->backlog.capacity == 0)
		return 0;
	l->backlog.elems = malloc((size_t)l->backlog.capacity * elem_size);
	if (l->backlog.elems == NULL) {
		snprintf(err, errlen, "out of memory for collector %u's backlog (replicate_backlog "
				"%llu bytes)", l->index + 1, (unsigned long long)bytes);
		return -ENOMEM;
	}
	return 0;
}

void
lane_backlog_free(struct export_lane *l)
{
	free(l->backlog.elems);
	l->backlog = (struct lane_backlog){0};
}

void
lane_backlog_push(struct export_lane *l, const uint8_t *elem, uint32_t elem_size,
		uint64_t now_ns)
{
	struct lane_backlog *b = &l->backlog;

	if (b->count == b->capacity) {
		const struct dpfix_flow_record *r = (const void *)elem;

		/* Said once an outage: the backlog empties before it can fill again. */
		if (!b->full_said)
			PROBE_LOG(WARNING, "export: collector %u (%s): its backlog of %u records is "
					"full; its records are counted lost until its session takes them",
					l->index + 1, lane_collector(l), b->capacity);
		b->full_said = 1;
		l->backlog_lost++;
		dpfix_export_lost(l->export, 1, r->packets, r->octets, now_ns);
		return;
	}
	memcpy(b->elems + (size_t)((b->head + b->count) % b->capacity) * elem_size, elem,
			elem_size);
	b->count++;
}

unsigned int
lane_backlog_feed(struct export_lane *l, uint32_t elem_size, unsigned int max, uint64_t now_ns)
{
	struct lane_backlog *b = &l->backlog;
	unsigned int n = 0;

	while (b->count != 0 && n < max &&
			lane_export_record(l, b->elems + (size_t)b->head * elem_size, now_ns) == 0) {
		b->head = (b->head + 1) % b->capacity;
		b->count--;
		n++;
	}
	if (b->count == 0)
		b->full_said = 0;
	return n;
}
