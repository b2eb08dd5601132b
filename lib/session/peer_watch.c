/* The state machine of dpfix_peer_watch.h: liveness requests on a cadence, answers
 * matched by id, a collector dead once heartbeat_misses of them in a row went
 * unanswered; and on a datagram path RFC 8899's search for the largest packet that gets
 * through: the largest size first, then halving the range between what passed and what
 * did not, each size tried up to MAX_PROBES times; liveness requests padded to the size
 * in use confirm it all along, and a run of them lost at a size above the base (the path
 * shrank, no ICMP said so) falls back to the base. */
#include <string.h>

#include "dpfix_peer_watch.h"

#define PROBE_WAIT_MIN_NS 100000000ull  /* no answer to a probe after this long: lost */

static int
pmtu_on(const struct dpfix_peer_watch *w)
{
	return w->pmtu != DPFIX_PMTU_OFF;
}

static void
set_path_mtu(struct dpfix_peer_watch *w, uint32_t mtu, const char *why)
{
	if (mtu == w->path_mtu)
		return;
	w->path_mtu = mtu;
	w->mtu_changed = 1;
	w->mtu_why = why;
}

/* The next size to try, or the search is over. */
static void
next_candidate(struct dpfix_peer_watch *w, uint64_t now_ns)
{
	w->tries = 0;
	w->probe_id = 0;
	if (w->high - w->low <= DPFIX_PEER_WATCH_MTU_STEP) {
		w->pmtu = DPFIX_PMTU_DONE;
		w->raise_ns = now_ns + DPFIX_PEER_WATCH_RAISE_NS;
		return;
	}
	w->pmtu = DPFIX_PMTU_SEARCHING;
	w->candidate = w->low + (w->high - w->low) / 2;
}

/* A search from what passes now up to max_mtu, the largest first. */
static void
start_search(struct dpfix_peer_watch *w, uint64_t now_ns)
{
	w->low = w->path_mtu;
	w->high = w->p.max_mtu + 1;
	next_candidate(w, now_ns);
	if (w->pmtu == DPFIX_PMTU_SEARCHING)
		w->candidate = w->p.max_mtu;
}

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
	if (p->max_mtu > p->base_mtu && p->base_mtu != 0) {
		w->pmtu = DPFIX_PMTU_BASE;
		w->path_mtu = p->base_mtu;
	}
}

static void
remember(struct dpfix_peer_watch *w, uint32_t id, uint32_t ip_size, int probe, uint64_t now_ns)
{
	unsigned int slot = w->sent_count++ % DPFIX_PEER_WATCH_KEPT;

	w->sent[slot].id = id;
	w->sent[slot].ip_size = ip_size;
	w->sent[slot].sent_ns = now_ns;
	w->sent[slot].probe = probe;
}

static uint64_t
probe_wait(const struct dpfix_peer_watch *w)
{
	uint64_t wait = 4 * w->srtt_ns;

	if (wait < PROBE_WAIT_MIN_NS)
		wait = PROBE_WAIT_MIN_NS;
	return wait < w->p.interval_ns / 2 || w->p.interval_ns == 0 ? wait : w->p.interval_ns / 2;
}

/* Liveness requests after the last answer that have waited half an interval; of those,
 * how many went at a size above the base (the last in a row). */
static uint32_t
unanswered(const struct dpfix_peer_watch *w, uint64_t now_ns, uint32_t *above_base)
{
	unsigned int kept = w->sent_count < DPFIX_PEER_WATCH_KEPT ? w->sent_count :
			DPFIX_PEER_WATCH_KEPT;
	uint32_t n = 0;

	*above_base = 0;
	/* From the oldest kept to the newest: a request at the base breaks the run. */
	for (unsigned int k = 0; k < kept; k++) {
		unsigned int i = (w->sent_count - kept + k) % DPFIX_PEER_WATCH_KEPT;

		if (w->sent[i].probe || w->sent[i].id <= w->last_answered_id ||
				now_ns - w->sent[i].sent_ns < w->p.interval_ns / 2)
			continue;
		n++;
		*above_base = w->sent[i].ip_size > w->p.base_mtu ? *above_base + 1 : 0;
	}
	return n;
}

/* What the clock says: a probe lost, a search to start again, a black hole. */
static void
evaluate(struct dpfix_peer_watch *w, uint64_t now_ns)
{
	uint32_t above_base;

	if (!pmtu_on(w))
		return;
	if (w->pmtu == DPFIX_PMTU_SEARCHING && w->probe_id != 0 &&
			now_ns - w->probe_sent_ns >= probe_wait(w)) {
		w->probe_id = 0;
		if (++w->tries >= DPFIX_PEER_WATCH_MAX_PROBES) {
			w->high = w->candidate;
			next_candidate(w, now_ns);
		}
	}
	if (w->pmtu == DPFIX_PMTU_DONE && now_ns >= w->raise_ns)
		start_search(w, now_ns);
	unanswered(w, now_ns, &above_base);
	if (w->path_mtu > w->p.base_mtu && above_base >= DPFIX_PEER_WATCH_BLACK_HOLE_MISSES) {
		/* RFC 8899 4.3: back to the base, which the next request confirms. */
		set_path_mtu(w, w->p.base_mtu, "black hole suspected: heartbeats of that size "
				"went unanswered");
		w->pmtu = DPFIX_PMTU_BASE;
		w->probe_id = 0;
	}
}

int
dpfix_peer_watch_next(struct dpfix_peer_watch *w, uint64_t now_ns, uint32_t *id,
		uint32_t *ip_size)
{
	if (w->dead)
		return 0;
	evaluate(w, now_ns);
	if (now_ns >= w->next_request_ns) {
		*id = w->next_id++;
		*ip_size = w->path_mtu;     /* 0 without PLPMTUD: the smallest */
		remember(w, *id, *ip_size, 0, now_ns);
		/* On the cadence; one that fell far behind (the caller was held up) starts over. */
		w->next_request_ns += w->p.interval_ns;
		if (w->next_request_ns <= now_ns)
			w->next_request_ns = now_ns + w->p.interval_ns;
		return 1;
	}
	if (w->pmtu == DPFIX_PMTU_SEARCHING && w->probe_id == 0) {
		*id = w->next_id++;
		*ip_size = w->candidate;
		remember(w, *id, *ip_size, 1, now_ns);
		w->probe_id = *id;
		w->probe_sent_ns = now_ns;
		return 1;
	}
	return 0;
}

void
dpfix_peer_watch_answered(struct dpfix_peer_watch *w, uint32_t id, uint64_t now_ns)
{
	unsigned int kept = w->sent_count < DPFIX_PEER_WATCH_KEPT ? w->sent_count :
			DPFIX_PEER_WATCH_KEPT;

	/* Ids are this watch's from its first to the last sent (no wrap within a watch:
	 * 2^32 requests would take decades at the shortest interval). */
	if (id < w->next_id - (uint32_t)w->sent_count || id >= w->next_id)
		return;
	if (id > w->last_answered_id) {
		w->last_answered_id = id;
		w->last_answer_ns = now_ns;
	}
	for (unsigned int k = 0; k < kept; k++) {
		unsigned int i = (w->sent_count - 1 - k) % DPFIX_PEER_WATCH_KEPT;
		uint64_t rtt;

		if (w->sent[i].id != id)
			continue;
		rtt = now_ns - w->sent[i].sent_ns;
		w->srtt_ns = w->srtt_ns == 0 ? rtt : (7 * w->srtt_ns + rtt) / 8;
		if (!pmtu_on(w))
			return;
		/* Whatever size it was padded to passes: a late answer to a probe given up
		 * counts too. */
		if (w->sent[i].ip_size > w->path_mtu)
			set_path_mtu(w, w->sent[i].ip_size, "confirmed by a probe");
		if (w->sent[i].ip_size >= w->path_mtu && w->pmtu == DPFIX_PMTU_BASE)
			start_search(w, now_ns);
		else if (w->pmtu == DPFIX_PMTU_SEARCHING && w->sent[i].probe &&
				w->sent[i].ip_size > w->low) {
			w->low = w->sent[i].ip_size;
			if (w->high <= w->low)
				w->high = w->p.max_mtu + 1;
			next_candidate(w, now_ns);
		}
		return;
	}
}

int
dpfix_peer_watch_dead(struct dpfix_peer_watch *w, uint64_t now_ns)
{
	uint32_t above_base;

	if (w->dead)
		return 1;
	/* An answer to a request tells that the collector was alive when it read it: the
	 * requests sent before it that got none were lost, not ignored. Those after it count
	 * once they have waited half an interval: (misses - 0.5) to (misses + 0.5) intervals
	 * after the collector's last answer, wherever in the cadence it stopped. */
	w->dead = unanswered(w, now_ns, &above_base) >= w->p.misses;
	return w->dead;
}

int
dpfix_peer_watch_path_mtu_changed(struct dpfix_peer_watch *w, uint32_t *mtu, const char **why)
{
	if (!w->mtu_changed)
		return 0;
	w->mtu_changed = 0;
	*mtu = w->path_mtu;
	*why = w->mtu_why;
	return 1;
}

uint32_t
dpfix_peer_watch_path_mtu(const struct dpfix_peer_watch *w)
{
	return w->path_mtu;
}

enum dpfix_pmtu_state
dpfix_peer_watch_pmtu_state(const struct dpfix_peer_watch *w)
{
	return w->pmtu;
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
