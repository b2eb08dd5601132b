/* The control lcore's part of session life: it opens every session (a handshake never
 * holds up export), offers each to the export lcore, learns from its reports what became
 * of them, waits before the next attempt while attempts keep failing (a backoff that a
 * collector refusing every session cannot reset, doc/sessions.md), and decides when no
 * session will come. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include "probe.h"
#include "probe_log.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
/* A session that lasted less than this counts as a failed connection attempt: the
 * backoff goes on growing instead of starting over at RECONNECT_MIN_MS. */
#define SESSION_STABLE_NS 10000000000ull
/* At the longest backoff, a failed attempt whose reason has not changed is logged only
 * every this many. */
#define LOG_FAILURES_EVERY 10
/* Input over and no session: wait this long for one, then drop what is left. */
#define SHUTDOWN_GRACE_NS 5000000000ull

int
sessions_setup(struct session_control *c, const struct probe_settings *s, int collector,
		char *err, size_t errlen)
{
	if (failover_setup(c, s, collector, err, errlen) < 0)
		return -EINVAL;
	c->params = (struct dpfix_session_params){
		.mtu = s->export_mtu,
		.path_mtu_discovery = (uint8_t)s->path_mtu_discovery,
		.connect_timeout_ms = 5000,
		.sctp_udp_port = (uint16_t)s->sctp_udp_port,
		.sctp_data_unordered = (uint8_t)s->sctp_data_unordered,
		.sctp_data_pr_ttl_ms = (uint32_t)s->sctp_data_lifetime_ms,
		.heartbeat_interval_ms = (uint32_t)s->heartbeat_interval_ms,
		.heartbeat_misses = s->heartbeat_misses,
		.security = s->security,
	};
	return 0;
}

void
sessions_first_opened(struct session_control *c, const struct dpfix_session *session)
{
	c->in_use = c->target;
	if (session == NULL)
		return;
	c->sessions_opened = 1;
	c->serial = c->serials_given = 1;
	c->heartbeats = dpfix_session_heartbeats(session);
	snprintf(c->session_name, sizeof(c->session_name), "%s", dpfix_session_name(session));
}

struct dpfix_session *
sessions_open_first(struct session_control *c, const struct probe_settings *s,
		int collector, char *err, size_t errlen)
{
	struct dpfix_session *session = NULL;

	if (sessions_setup(c, s, collector, err, errlen) < 0)
		return NULL;
	/* The first collector that takes a session (failover: the primary, if it works). */
	for (unsigned int i = 0; i < c->nb_endpoints; i++) {
		session = dpfix_session_open(&c->endpoint, &c->params, err, errlen);
		if (session != NULL || c->nb_endpoints == 1)
			break;
		PROBE_LOG(WARNING, "export: collector %u of %u: %s", i + 1, c->nb_endpoints, err);
		failover_next(c);
	}
	sessions_first_opened(c, session);
	return session;
}

void
sessions_open_side_by_side(struct exporter_ctx *x, struct dpfix_session **sessions,
		char (*errs)[DPFIX_SESSION_ERRLEN])
{
	unsigned int pending;

	for (unsigned int k = 0; k < x->nb_lanes; k++)
		sessions[k] = dpfix_session_open_start(&x->lanes[k].control.endpoint,
				&x->lanes[k].control.params, errs[k], DPFIX_SESSION_ERRLEN);
	do {
		pending = 0;
		for (unsigned int k = 0; k < x->nb_lanes; k++) {
			int ret;

			if (sessions[k] == NULL)
				continue;
			/* (One that is up says 0 at once.) */
			ret = dpfix_session_open_step(sessions[k], errs[k], DPFIX_SESSION_ERRLEN);
			if (ret == -EINPROGRESS)
				pending++;
			else if (ret < 0)
				sessions[k] = NULL; /* freed by the step */
		}
		if (pending != 0)
			usleep(500);
	} while (pending != 0);
	for (unsigned int k = 0; k < x->nb_lanes; k++)
		sessions_first_opened(&x->lanes[k].control, sessions[k]);
}

/* A connection attempt failed: the open did, or the session it gave did not last. The
 * wait before the next one doubles, up to RECONNECT_MAX_MS. Said when the wait or the
 * reason changes, and at the longest wait every LOG_FAILURES_EVERY failures, so a
 * collector that refuses every time leaves a few lines, each with the count. */
static void
attempt_failed(struct session_control *c, uint64_t now_ms, const char *why)
{
	uint64_t previous = c->backoff_ms;
	unsigned int in_row = ++c->attempts_failed_in_row;
	int new_reason = strcmp(why, c->last_failure) != 0;

	c->connect_failures++;
	c->backoff_ms = previous == 0 ? RECONNECT_MIN_MS :
			RTE_MIN(previous * 2, (uint64_t)RECONNECT_MAX_MS);
	c->next_attempt_ms = now_ms + c->backoff_ms;
	if (!new_reason && c->backoff_ms == previous && in_row % LOG_FAILURES_EVERY != 0)
		return;
	snprintf(c->last_failure, sizeof(c->last_failure), "%s", why);
	PROBE_LOG(WARNING, "export: %s; %u failed attempt%s in a row, %s; next try in %.1f s%s",
			why, in_row, in_row == 1 ? "" : "s", c->records_wait,
			c->backoff_ms / 1000.0,
			c->backoff_ms == RECONNECT_MAX_MS && previous != RECONNECT_MAX_MS ?
			" (the longest wait: from now on, every 10th failure is logged, or a new reason)" :
			"");
}

/* The collector of session serial is dead: said in one line, counted, whichever watch
 * found it (the heartbeats, a liveness session, the transport's own). */
static void
said_dead(struct session_control *c, uint64_t serial, const char *why)
{
	c->dead_serial = serial;
	c->collectors_dead++;
	PROBE_LOG(WARNING, "export: collector %s is dead: %s; %s while the control lcore "
			"reconnects", c->session_name, why, c->records_wait);
}

/* The export lcore stopped using the session it had: one whose transport found the
 * collector dead is said as a dead collector; one that had lasted is said here (unless
 * its collector was said to be dead already) and replaced at once (the collector
 * worked); one that had not is a failed attempt. */
static void
session_failed(struct session_control *c, const struct handoff_msg *m, uint64_t now_ms)
{
	if (m->serial != c->serial)
		return; /* not the current one: its replacement is on the way */
	if (m->dead && m->serial != c->dead_serial)
		said_dead(c, m->serial, m->why);
	c->waiting = 1;
	failover_session_failed(c); /* the next collector, if there are several */
	if (m->lasted_ns >= SESSION_STABLE_NS) {
		if (m->serial != c->dead_serial)
			PROBE_LOG(WARNING, "export: session %s is down (%s); %s while the control "
					"lcore reconnects", c->session_name, m->why, c->records_wait);
		c->attempts_failed_in_row = 0;
		c->backoff_ms = 0;
		c->next_attempt_ms = 0;
		c->last_failure[0] = '\0';
	} else {
		char why[3 * DPFIX_SESSION_ERRLEN];

		snprintf(why, sizeof(why), "session %s is down after %.1f s (%s)", c->session_name,
				m->lasted_ns / 1e9, m->why);
		attempt_failed(c, now_ms, why);
	}
}

/* A replacement passed its probation: export goes on. */
static void
session_trusted(const struct session_control *c)
{
	unsigned int failed = c->attempts_failed_in_row;

	if (c->sessions_opened < 2)
		return;
	if (failed == 0)
		PROBE_LOG(INFO, "export: resumed on %s", c->session_name);
	else
		PROBE_LOG(INFO, "export: resumed on %s after %u failed attempt%s",
				c->session_name, failed, failed == 1 ? "" : "s");
}

/* With input over and no session, the records left wait at most SHUTDOWN_GRACE_NS
 * (from the first time it was so, however many attempts fail meanwhile); then they are
 * dropped and counted, so shutdown is bounded and the loss is not silent. A stop
 * (signal) counts as the end of input: a worker's last records, or one reading a file
 * and waiting for ring room, need the export to make it. */
static int
give_up(struct export_lane *l, uint64_t now_ns)
{
	struct session_control *c = &l->control;

	if (!exporter_input_over(l->x) && !atomic_load_explicit(&probe_stop, memory_order_relaxed))
		return 0;
	if (c->grace_end_ns == 0)
		c->grace_end_ns = now_ns + SHUTDOWN_GRACE_NS;
	if (now_ns < c->grace_end_ns)
		return 0;
	PROBE_LOG(WARNING, "export: input is over and no session to %s came up within "
			"%.0f s: the records left are dropped and counted as lost", c->session_name,
			SHUTDOWN_GRACE_NS / 1e9);
	c->dropped = 1;
	handoff_post(&l->handoff.to_export, &(struct handoff_msg){.kind = HANDOFF_DROP});
	return 1;
}

void
sessions_liveness(struct export_lane *l, uint64_t now_ns)
{
	struct handoff_msg m;

	while (handoff_take(&l->handoff.to_control, &m)) {
		if (m.kind == HANDOFF_FAILED)
			session_failed(&l->control, &m, now_ns / 1000000);
		else if (m.kind == HANDOFF_TRUSTED)
			session_trusted(&l->control);
		else if (m.kind == HANDOFF_ANSWERED)
			heartbeats_answered(l, &m, now_ns);
		else if (m.kind == HANDOFF_RETIRED && m.failed)
			dpfix_session_abort(m.session); /* its collector may be gone: no wait */
		else if (m.kind == HANDOFF_RETIRED)
			dpfix_session_close(m.session);
		else if (m.kind == HANDOFF_HANDED_OFF)
			rollover_answered(l, &m, now_ns);
	}
}

uint64_t
sessions_hand_off_serial(struct session_control *c, const struct dpfix_session *s)
{
	c->hand_off_serial = ++c->serials_given;
	c->hand_off_heartbeats = dpfix_session_heartbeats(s);
	return c->hand_off_serial;
}

void
sessions_handed_off(struct session_control *c, uint64_t serial)
{
	if (serial != c->hand_off_serial)
		return;
	c->serial = serial;
	c->heartbeats = c->hand_off_heartbeats;
}

void
sessions_collector_dead(struct export_lane *l, uint64_t serial, const char *why,
		uint64_t now_ns)
{
	struct session_control *c = &l->control;
	struct handoff_msg m = {.kind = HANDOFF_DEAD, .serial = serial};
	(void)now_ns;

	if (serial != c->serial || serial == c->dead_serial)
		return;
	said_dead(c, serial, why);
	snprintf(m.why, sizeof(m.why), "its collector stopped answering heartbeats");
	handoff_post(&l->handoff.to_export, &m);
}

/* A replacement's handshake ended (s NULL: it failed, err says why): offered to the
 * export lcore, or a failed attempt. */
static void
reconnected(struct export_lane *l, struct dpfix_session *s, const char *err, uint64_t now_ms)
{
	struct session_control *c = &l->control;

	if (s == NULL) {
		char why[2 * DPFIX_SESSION_ERRLEN];

		snprintf(why, sizeof(why), "reconnect failed: %s", err);
		attempt_failed(c, now_ms, why);
		failover_next(c);
		return;
	}
	c->waiting = 0;
	c->sessions_opened++;
	c->serial = ++c->serials_given;
	c->heartbeats = dpfix_session_heartbeats(s);
	snprintf(c->session_name, sizeof(c->session_name), "%s", dpfix_session_name(s));
	failover_used(c, c->session_name);
	handoff_post(&l->handoff.to_export, &(struct handoff_msg){.kind = HANDOFF_OFFER,
		.serial = c->serial, .session = s});
}

void
sessions_first_failed(struct export_lane *l, const char *why, uint64_t now_ns)
{
	struct session_control *c = &l->control;

	c->waiting = 1;
	snprintf(c->session_name, sizeof(c->session_name), "%s", lane_collector(l));
	attempt_failed(c, now_ns / 1000000, why);
}

void
sessions_reconnect(struct export_lane *l, uint64_t now_ns)
{
	struct session_control *c = &l->control;
	uint64_t now_ms = now_ns / 1000000;
	char err[DPFIX_SESSION_ERRLEN];
	int ret;

	/* No replacement wanted any more (a hand-off's session came first), or none will
	 * come: one half open is let go. */
	if (!c->waiting || c->dropped || give_up(l, now_ns)) {
		if (c->opening != NULL)
			dpfix_session_abort(c->opening);
		c->opening = NULL;
		return;
	}
	if (c->opening == NULL) {
		if (now_ms < c->next_attempt_ms)
			return;
		/* (A TCP or SCTP connect to an address that does not answer waits here, up to
		 * connect_timeout; the handshake that follows never does.) */
		c->opening = dpfix_session_open_start(&c->endpoint, &c->params, err, sizeof(err));
		if (c->opening == NULL) {
			reconnected(l, NULL, err, now_ms);
			return;
		}
	}
	ret = dpfix_session_open_step(c->opening, err, sizeof(err));
	if (ret == -EINPROGRESS)
		return;
	reconnected(l, ret == 0 ? c->opening : NULL, err, now_ms); /* failed: freed by the step */
	c->opening = NULL;
}

void
sessions_fini(struct export_lane *l)
{
	struct handoff_msg m;

	rollover_fini(l);
	if (l->control.opening != NULL)
		dpfix_session_abort(l->control.opening);
	l->control.opening = NULL;
	/* Sessions in flight when the lcores stopped: offered and not taken up, or retired
	 * and not closed yet. */
	while (handoff_take(&l->handoff.to_export, &m))
		if (m.session != NULL)
			dpfix_session_close(m.session);
	while (handoff_take(&l->handoff.to_control, &m))
		if (m.kind == HANDOFF_RETIRED && m.failed)
			dpfix_session_abort(m.session);
		else if (m.kind == HANDOFF_RETIRED)
			dpfix_session_close(m.session);
}
