/* The export lcore: drains the workers' rings and hands each flow record to the
 * Exporting Process (lib/export), which owns all IPFIX state; takes up the sessions the
 * control lcore offers and reports what becomes of them (export_handoff.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "export_records.h"
#include "probe.h"
#include "probe_log.h"

/* A collector that refuses a session (a TLS alert to a plaintext exporter, a reset
 * right after accepting) does so as soon as it reads the first message: a new session
 * gets its templates and options records at once, and flow records only once it has
 * stayed up this long, so none go into a session about to be refused uncounted. */
#define PROBATION_NS 500000000ull

/* Backlog records handed to a lane in one round: the rings are drained between. */
#define BACKLOG_FEED_MAX 1024

/* Lane l's Exporting Process, with its first session s (the lane's to take up). Without
 * one (replicate: its collector took none) first_err says why, and the lane reconnects. */
static int
lane_init(struct export_lane *l, struct dpfix_session *s, const char *first_err, char *err,
		size_t errlen)
{
	const struct probe_settings *st = l->x->settings;
	int ret;

	l->export = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = st->template_refresh_ms * 1000000ull,
		.flush_ns = st->export_flush_ms * 1000000ull,
		.options_interval_ns = st->options_interval_ms * 1000000ull,
		.write_options = probe_records_write_options,
		.ctx = l,
		.probation_ns = PROBATION_NS,
		/* PR-SCTP gives records up on purpose (and an answer behind them does not
		 * say they arrived): no replay with sctp_data_lifetime. */
		.replay_bytes = st->sctp_data_lifetime_ms != 0 ? 0 : st->replay_buffer,
		/* Replicate: a collector whose transport is full never slows the others; its
		 * records wait in its backlog (doc/sessions.md). */
		.hold_when_full = l->x->nb_lanes > 1,
	}, err, errlen);
	if (l->export == NULL)
		ret = -ENOMEM;
	else if ((ret = dpfix_export_add_domain(l->export, st->observation_domain,
			&l->domain)) < 0)
		snprintf(err, errlen, "the observation domain: %s", strerror(-ret));
	else if ((l->records = probe_records_create(l->x, l->domain, err, errlen)) == NULL)
		ret = -EINVAL;
	if (ret == 0)
		probe_records_flow_schemas(l->records, l->flow_schema);
	if (ret == 0 && s != NULL)
		ret = probe_records_check_room(l->records, dpfix_session_max_message(s), err,
				errlen);
	if (ret == 0 && l->x->nb_lanes > 1)
		ret = lane_backlog_init(l, st->replicate_backlog, l->x->ring_elem_size, err,
				errlen);
	if (ret < 0) {
		dpfix_session_close(s);
		return ret;
	}
	/* Its templates go now, before any worker starts. */
	if (s != NULL) {
		dpfix_export_take_up(l->export, s, probe_clock_now_ns());
		l->session_serial = 1;
	} else {
		sessions_first_failed(l, first_err, probe_clock_now_ns());
	}
	/* The first session's fate is reported as a later one's is (l->reported stays
	 * DPFIX_EXPORT_NO_SESSION): its templates' send may have failed already (a
	 * collector that reset it meanwhile), and the control lcore must hear so to
	 * reconnect. */
	return 0;
}

int
exporter_init(struct exporter_ctx *x, char *err, size_t errlen)
{
	const struct probe_settings *st = x->settings;
	int replicate = st->collector_mode == PROBE_COLLECTORS_REPLICATE;
	static char first_err[PROBE_MAX_COLLECTORS][DPFIX_SESSION_ERRLEN];
	struct dpfix_session *first[PROBE_MAX_COLLECTORS] = {NULL};
	unsigned int up = 0, last_failed = 0;

	x->nb_lanes = replicate ? st->nb_collectors : 1;
	/* Records are encoded where they are in the rings: a record and, with measures,
	 * its extension. */
	x->ring_elem_size = x->workers[0].ring_elem_size;
	for (unsigned int i = 0; i < x->nb_lanes; i++) {
		struct export_lane *l = &x->lanes[i];

		l->x = x;
		l->index = i;
		l->control.records_wait = replicate ? "its records wait in its backlog, the "
				"other collectors get theirs" : "records wait in the rings";
	}
	/* Failover: the first collector that takes a session, which must be there at
	 * start; replicate: every collector's, side by side, and it goes on without those
	 * that took none (not with one that does not parse). */
	if (!replicate) {
		first[0] = sessions_open_first(&x->lanes[0].control, st, -1, err, errlen);
		if (first[0] == NULL)
			return -EINVAL;
	} else {
		for (unsigned int i = 0; i < x->nb_lanes; i++)
			if (sessions_setup(&x->lanes[i].control, st, (int)i, err, errlen) < 0)
				return -EINVAL;
		sessions_open_side_by_side(x, first, first_err);
	}
	for (unsigned int i = 0; i < x->nb_lanes; i++) {
		struct export_lane *l = &x->lanes[i];
		int ret = lane_init(l, first[i], first_err[i], err, errlen);

		first[i] = NULL; /* the lane's now, closed by it on an error */
		if (ret < 0) {
			for (unsigned int k = i + 1; k < x->nb_lanes; k++)
				dpfix_session_close(first[k]);
			return ret;
		}
		if (dpfix_export_session(l->export) != NULL) {
			up++;
			continue;
		}
		last_failed = i;
		PROBE_LOG(WARNING, "export: collector %u of %u (%s) took no session at start: "
				"%s; it is tried again, the others are exported to meanwhile", i + 1,
				x->nb_lanes, st->collectors[i], first_err[i]);
	}
	if (up == 0) {
		snprintf(err, errlen, "%s", first_err[last_failed]);
		return -EINVAL;
	}
	return 0;
}

/* What the control lcore must know of the current session: trusted, or failed. */
static void
report_state(struct export_lane *l)
{
	enum dpfix_export_state state = dpfix_export_state(l->export);
	struct handoff_msg m = {.kind = HANDOFF_TRUSTED, .serial = l->session_serial};

	/* A probation is no news: a take-up's ends in trust or failure, and after a
	 * hand-off's switch over SCTP (its data waits for its templates' acknowledgement)
	 * the session is one the control lcore knows already: no "resumed on" for it. */
	if (state == l->reported || state == DPFIX_EXPORT_PROBATION)
		return;
	l->reported = state;
	if (state == DPFIX_EXPORT_FAILED) {
		snprintf(m.why, sizeof(m.why), "%s",
				dpfix_export_failure(l->export, &m.lasted_ns));
		m.dead = dpfix_export_failed_unanswered(l->export);
		m.kind = HANDOFF_FAILED;
	}
	else if (state != DPFIX_EXPORT_TRUSTED)
		return;
	handoff_post(&l->handoff.to_control, &m);
}

/* What the control lcore says: sessions it offers, taken up between messages (the one
 * replaced goes back to it to be closed), heartbeats to send, a collector found dead.
 * What it says of a session replaced meanwhile is stale, and dropped. */
static void
take_offers(struct export_lane *l, uint64_t now_ns)
{
	struct handoff_msg m;

	while (handoff_take(&l->handoff.to_export, &m)) {
		struct dpfix_session *old;
		int old_failed;

		if (m.kind == HANDOFF_DROP) {
			dpfix_export_drop(l->export, now_ns);
			continue;
		}
		if (m.kind == HANDOFF_HEARTBEAT && m.serial == l->session_serial) {
			dpfix_export_heartbeat(l->export, m.id, now_ns);
			continue;
		}
		if (m.kind == HANDOFF_DEAD && m.serial == l->session_serial) {
			dpfix_export_fail(l->export, m.why, now_ns);
			continue;
		}
		if (m.kind != HANDOFF_OFFER && m.kind != HANDOFF_HAND_OFF)
			continue;
		old_failed = dpfix_export_state(l->export) == DPFIX_EXPORT_FAILED;
		if (m.kind == HANDOFF_HAND_OFF) {
			enum dpfix_export_state was = dpfix_export_state(l->export);

			old = dpfix_export_hand_off(l->export, m.session, now_ns);
			/* Its outcome is reported even when it is at once (UDP, a take-up). */
			l->hand_off_reported = DPFIX_EXPORT_HANDOFF_UNDER_WAY;
			l->hand_off_serial = m.serial; /* in use once it is done */
			if (was == DPFIX_EXPORT_TRUSTED || was == DPFIX_EXPORT_PROBATION)
				continue;
			/* It was a take-up. */
		} else {
			old = dpfix_export_take_up(l->export, m.session, now_ns);
		}
		if (old != NULL)
			handoff_post(&l->handoff.to_control, &(struct handoff_msg){
				.kind = HANDOFF_RETIRED, .serial = l->session_serial, .session = old,
				.failed = old_failed});
		l->session_serial = m.serial;
		l->reported = DPFIX_EXPORT_NO_SESSION; /* a new session: report it afresh */
	}
}

/* A hand-off's outcome, once: done (the new session in use from now on), or failed
 * (the old session goes on). */
static void
report_hand_off(struct export_lane *l)
{
	const char *why;
	enum dpfix_export_hand_off state = dpfix_export_hand_off_state(l->export, &why);
	struct handoff_msg m = {.kind = HANDOFF_HANDED_OFF, .serial = l->hand_off_serial};

	if (state == l->hand_off_reported)
		return;
	l->hand_off_reported = state;
	if (state != DPFIX_EXPORT_HANDOFF_DONE && state != DPFIX_EXPORT_HANDOFF_FAILED)
		return;
	if (state == DPFIX_EXPORT_HANDOFF_FAILED)
		snprintf(m.why, sizeof(m.why), "%s", why);
	else
		l->session_serial = l->hand_off_serial;
	handoff_post(&l->handoff.to_control, &m);
}

/* The heartbeats the collector answered, for the control lcore to judge. */
static void
report_answers(struct export_lane *l)
{
	struct handoff_msg m = {.kind = HANDOFF_ANSWERED, .serial = l->session_serial};

	while (dpfix_export_heartbeat_answered(l->export, &m.id))
		handoff_post(&l->handoff.to_control, &m);
}

/* Whether the lane's Exporting Process takes records now (or counts them lost). */
static int
lane_takes(const struct export_lane *l)
{
	enum dpfix_export_state state = dpfix_export_state(l->export);

	return state == DPFIX_EXPORT_TRUSTED || state == DPFIX_EXPORT_DROPPING;
}

/* Offers the n records at elems (ring elements) in turn to every lane. One lane stops at
 * the first record it cannot take now (it stays in the ring with those behind it); with
 * several, a lane that cannot take a record (or whose backlog holds older ones) gets it
 * in its backlog, so the others go on. Returns how many were handed over. */
static unsigned int
export_elements(struct exporter_ctx *x, const uint8_t *elems, unsigned int n, uint64_t now_ns)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const uint8_t *elem = elems + (size_t)i * x->ring_elem_size;

		if (x->nb_lanes == 1) {
			if (lane_export_record(&x->lanes[0], elem, now_ns) != 0)
				break;
			continue;
		}
		for (unsigned int k = 0; k < x->nb_lanes; k++) {
			struct export_lane *l = &x->lanes[k];

			if (l->backlog.count != 0 || lane_export_record(l, elem, now_ns) != 0)
				lane_backlog_push(l, elem, x->ring_elem_size, now_ns);
		}
	}
	return i;
}

/* Offers up to EXPORT_BURST records of ring, encoded where they lie in it (a copy out,
 * as rte_ring_sc_dequeue_burst_elem makes in four-byte words, was 144 instructions a
 * record: bench/RESULTS.md); those taken leave the ring, the first refused and those
 * behind it stay there for a session. Returns how many were taken, *offered how many
 * there were. */
static unsigned int
export_ring(struct exporter_ctx *x, struct rte_ring *ring, uint64_t now_ns, unsigned int *offered)
{
	struct rte_ring_zc_data zcd;
	unsigned int n = rte_ring_dequeue_zc_burst_elem_start(ring, x->ring_elem_size, EXPORT_BURST,
			&zcd, NULL);
	unsigned int taken;

	*offered = n;
	if (n == 0)
		return 0;
	/* The elements may wrap round the ring's end: then the rest are at ptr2. */
	taken = export_elements(x, zcd.ptr1, zcd.n1, now_ns);
	if (taken == zcd.n1 && n > zcd.n1)
		taken += export_elements(x, zcd.ptr2, n - zcd.n1, now_ns);
	rte_ring_dequeue_zc_elem_finish(ring, taken);
	return taken;
}

int
exporter_input_over(const struct exporter_ctx *x)
{
	for (unsigned int w = 0; w < x->nb_workers; w++)
		if (!atomic_load(&x->workers[w].done))
			return 0;
	return 1;
}

/* A lane's round: what the control lcore says, lib/export's timers, what to report;
 * then its backlog while it takes records. Returns the backlog records handed over. */
static unsigned int
lane_poll(struct export_lane *l, uint64_t now_ns)
{
	take_offers(l, now_ns);
	dpfix_export_poll(l->export, now_ns);
	report_hand_off(l);
	report_answers(l);
	report_state(l);
	if (l->backlog.count == 0 || !lane_takes(l))
		return 0;
	return lane_backlog_feed(l, l->x->ring_elem_size, BACKLOG_FEED_MAX, now_ns);
}

unsigned int
exporter_poll(struct exporter_ctx *x)
{
	uint64_t now_ns = probe_clock_now_ns();
	unsigned int handled = 0, taking = 0, settled = 0;
	int all_done = 1, refused = 0;

	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct export_lane *l = &x->lanes[k];

		handled += lane_poll(l, now_ns);
		if (lane_takes(l)) {
			taking++;
			settled += l->backlog.count == 0;
		}
	}
	if (taking == 0)
		return handled; /* records wait in the rings for a session */
	for (unsigned int w = 0; w < x->nb_workers; w++) {
		struct worker_ctx *wk = &x->workers[w];
		/* Read done before draining: a worker sets it after its last enqueue. */
		int done = atomic_load(&wk->done);

		/* Once a record is refused, the others wait too. */
		while (!refused) {
			unsigned int n, taken = export_ring(x, wk->ring, now_ns, &n);

			handled += taken;
			refused = taken < n;
			if (n < EXPORT_BURST)
				break;
		}
		if (!done || rte_ring_count(wk->ring) != 0)
			all_done = 0;
	}
	/* The end: every record handed to every lane, and every lane's session (or its
	 * drop) has taken its backlog. */
	if (settled != x->nb_lanes)
		all_done = 0;
	if (all_done) {
		for (unsigned int k = 0; k < x->nb_lanes; k++)
			dpfix_export_flush(x->lanes[k].export, now_ns);
		atomic_store(&x->done, 1);
	}
	for (unsigned int k = 0; k < x->nb_lanes; k++)
		report_state(&x->lanes[k]);
	return handled;
}

int
exporter_main(void *arg)
{
	struct exporter_ctx *x = arg;

	while (!atomic_load(&x->done)) {
		if (exporter_poll(x) == 0)
			rte_delay_us_sleep(50); /* idle: leave the core to others */
	}
	return 0;
}

void
exporter_end(struct exporter_ctx *x)
{
	for (unsigned int k = 0; k < x->nb_lanes; k++)
		if (x->lanes[k].export != NULL)
			dpfix_export_end(x->lanes[k].export, probe_clock_now_ns());
}

void
exporter_fini(struct exporter_ctx *x)
{
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct export_lane *l = &x->lanes[k];

		sessions_fini(l);
		dpfix_export_free(l->export);
		l->export = NULL;
		probe_records_free(l->records);
		l->records = NULL;
		lane_backlog_free(l);
	}
}

const char *
lane_collector(const struct export_lane *l)
{
	const struct probe_settings *s = l->x->settings;
	unsigned int i = l->x->nb_lanes > 1 ? l->index : l->control.in_use;

	return s->collectors[i < s->nb_collectors ? i : 0];
}

void
lane_counters(const struct export_lane *l, struct exporter_counters *c)
{
	const struct dpfix_export_stats *es;

	*c = (struct exporter_counters){0};
	if (l->export == NULL)
		return;
	es = dpfix_export_stats(l->export);
#define COPY_COUNTER(name, text) c->name = es->name;
	DPFIX_EXPORT_COUNTERS(COPY_COUNTER)
#undef COPY_COUNTER
	c->connect_failures = l->control.connect_failures;
	c->failovers = l->control.failovers;
	c->collectors_dead = l->control.collectors_dead;
	c->backlog_records = l->backlog.count;
	c->backlog_lost = l->backlog_lost;
	c->bytes_sent = es->bytes_sent;
}

void
exporter_counters(const struct exporter_ctx *x, struct exporter_counters *c)
{
	*c = (struct exporter_counters){0};
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct exporter_counters lc;
		uint64_t mtu = c->path_mtu;

		lane_counters(&x->lanes[k], &lc);
#define ADD_COUNTER(name, text) c->name += lc.name;
		EXPORTER_COUNTERS(ADD_COUNTER)
#undef ADD_COUNTER
		c->bytes_sent += lc.bytes_sent;
		/* A gauge: the smallest lane's. */
		c->path_mtu = k == 0 || lc.path_mtu < mtu ? lc.path_mtu : mtu;
	}
}
