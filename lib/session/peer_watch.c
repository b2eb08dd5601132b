/* The state machine of dpfix_peer_watch.h: requests on a cadence, answers matched by
 * id, a collector dead once heartbeat_misses of them in a row went unanswered. */
#include <string.h>

#include "dpfix_peer_watch.h"

void
dpfix_peer_watch_start(struct dpfix_peer_watch *w, const struct dpfix_peer_watch_params *p,
		uint32_t first_id, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->p = *p;
	if (w->p.misses == 0)
		w->p.misses = 1;
	if (w->p.misses > DPFIX_PEER_WATCH_KEPT)
		w->p.misses = DPFIX_PEER_WATCH_KEPT;
	w->next_id = first_id != 0 ? first_id : 1;
	w->last_answered_id = w->next_id - 1;
	w->next_request_ns = now_ns;
	w->last_answer_ns = now_ns;
}

static void
remember(struct dpfix_peer_watch *w, uint32_t id, uint64_t now_ns)
{
	unsigned int slot = w->sent_count++ % DPFIX_PEER_WATCH_KEPT;

	w->sent[slot].id = id;
	w->sent[slot].sent_ns = now_ns;
}

/* Requests after the last answer that have waited half an interval. */
static uint32_t
unanswered(const struct dpfix_peer_watch *w, uint64_t now_ns)
{
	unsigned int kept = w->sent_count < DPFIX_PEER_WATCH_KEPT ? w->sent_count :
			DPFIX_PEER_WATCH_KEPT;
	uint32_t n = 0;

	for (unsigned int k = 0; k < kept; k++) {
		unsigned int i = (w->sent_count - kept + k) % DPFIX_PEER_WATCH_KEPT;

		if (w->sent[i].id <= w->last_answered_id ||
				now_ns - w->sent[i].sent_ns < w->p.interval_ns / 2)
			continue;
		n++;
	}
	return n;
}

int
dpfix_peer_watch_next(struct dpfix_peer_watch *w, uint64_t now_ns, uint32_t *id)
{
	if (w->dead || now_ns < w->next_request_ns)
		return 0;
	*id = w->next_id++;
	remember(w, *id, now_ns);
	/* On the cadence; one that fell far behind (the caller was held up) starts over. */
	w->next_request_ns += w->p.interval_ns;
	if (w->next_request_ns <= now_ns)
		w->next_request_ns = now_ns + w->p.interval_ns;
	return 1;
}

void
dpfix_peer_watch_answered(struct dpfix_peer_watch *w, uint32_t id, uint64_t now_ns)
{
	/* Ids are this watch's from its first to the last sent (no wrap within a watch:
	 * 2^32 requests would take decades at the shortest interval). */
	if (id < w->next_id - (uint32_t)w->sent_count || id >= w->next_id)
		return;
	if (id > w->last_answered_id) {
		w->last_answered_id = id;
		w->last_answer_ns = now_ns;
	}
}

int
dpfix_peer_watch_dead(struct dpfix_peer_watch *w, uint64_t now_ns)
{
	if (w->dead)
		return 1;
	/* An answer to a request tells that the collector was alive when it read it: the
	 * requests sent before it that got none were lost, not ignored. Those after it count
	 * once they have waited half an interval: (misses - 0.5) to (misses + 0.5) intervals
	 * after the collector's last answer, wherever in the cadence it stopped. */
	w->dead = unanswered(w, now_ns) >= w->p.misses;
	return w->dead;
}

uint64_t
dpfix_peer_watch_last_heard(const struct dpfix_peer_watch *w)
{
	return w->last_answer_ns;
}

uint64_t
dpfix_peer_watch_next_due(const struct dpfix_peer_watch *w)
{
	return w->next_request_ns;
}
