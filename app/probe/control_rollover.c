/* The control lcore's part of planned hand-offs: when one is due (session_lifetime,
 * session_bytes, or the operator's /dpfix/hand_off), a new session to the collector is
 * opened a step a tick (never waiting: with two lcores the export runs here too) and
 * offered to the export lcore, which keeps data on the old one until the new one has
 * passed its probation and then switches (dpfix_export_hand_off). A hand-off that fails
 * leaves export on the old session and is tried again a second later. With failover, a
 * hand-off to the primary collector is how export comes back to it (control_failover.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "probe.h"
#include "probe_log.h"

/* A failed attempt is tried again this much later (the old session goes on meanwhile). */
#define ROLLOVER_RETRY_NS 1000000000ull

static struct exporter_ctx *telemetry_exporter;

/* /dpfix/hand_off: the operator asks for a hand-off now (done at the next tick), on
 * every collector's session (replicate: each its own). */
static int
telemetry_hand_off(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	for (unsigned int k = 0; k < telemetry_exporter->nb_lanes; k++)
		atomic_store(&telemetry_exporter->lanes[k].rollover.requested, 1);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "hand_off_requested", 1);
	return 0;
}

void
rollover_init(struct exporter_ctx *x, uint64_t now_ns)
{
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct session_rollover *r = &x->lanes[k].rollover;

		r->since_ns = now_ns;
		r->sessions_seen = x->lanes[k].control.sessions_opened;
	}
	telemetry_exporter = x;
	/* (help: at most 127 characters, or the command is not registered) */
	if (rte_telemetry_register_cmd("/dpfix/hand_off", telemetry_hand_off,
			"Hand export over to a new session now; the old one carries data until "
			"it is up. No parameters.") != 0)
		PROBE_LOG(WARNING, "telemetry: /dpfix/hand_off could not be registered");
}

/* Seed 002 3.1.3, alternative 2: a handshake needs the collector alive. */
int
liveness_by_session(const struct export_lane *l)
{
	const struct session_control *c = &l->control;

	return !c->heartbeats && c->endpoint.security != DPFIX_SECURITY_NONE &&
			l->x->settings->heartbeat_interval_ms != 0;
}

/* What asks for a hand-off now, or NULL (r->liveness: a liveness check). */
static const char *
due(struct export_lane *l, uint64_t now_ns, char *buf, size_t len)
{
	const struct probe_settings *s = l->x->settings;
	struct session_rollover *r = &l->rollover;
	struct exporter_counters xc;

	r->liveness = 0;
	if (atomic_exchange(&r->requested, 0)) {
		snprintf(buf, len, "the operator's /dpfix/hand_off");
		return buf;
	}
	if (s->session_lifetime_ms != 0 && now_ns - r->since_ns >= s->session_lifetime_ms * 1000000ull) {
		snprintf(buf, len, "session_lifetime %.3g s", s->session_lifetime_ms / 1e3);
		return buf;
	}
	if (liveness_by_session(l) &&
			now_ns - r->since_ns >= LIVENESS_SESSION_FACTOR * s->heartbeat_interval_ms *
			s->heartbeat_misses * 1000000ull) {
		r->liveness = 1;
		snprintf(buf, len, "liveness check (no heartbeats agreed)");
		return buf;
	}
	if (s->session_bytes != 0) {
		lane_counters(l, &xc);
		if (xc.bytes_sent - r->bytes_base >= s->session_bytes) {
			snprintf(buf, len, "session_bytes %" PRIu64, s->session_bytes);
			return buf;
		}
	}
	return NULL;
}

/* A session in use that came up otherwise (the first, a replacement) starts the clock. */
static void
session_started(struct export_lane *l, uint64_t now_ns)
{
	struct session_rollover *r = &l->rollover;
	struct exporter_counters xc;

	lane_counters(l, &xc);
	r->since_ns = now_ns;
	r->bytes_base = xc.bytes_sent;
	r->sessions_seen = l->control.sessions_opened;
}

static void
attempt_failed(struct export_lane *l, const char *why, uint64_t now_ns)
{
	struct session_rollover *r = &l->rollover;

	if (r->failback) {
		r->failback = 0;
		failover_failback_failed(&l->control, why);
		return;
	}
	if (r->liveness) {
		char dead[DPFIX_SESSION_ERRLEN + 64];

		/* The collector cannot take a new session: it is dead to us. */
		snprintf(dead, sizeof(dead), "a fresh session to check its liveness failed: %s", why);
		r->liveness = 0;
		sessions_collector_dead(l, l->control.serial, dead, now_ns);
		return;
	}
	r->failed++;
	r->retry_ns = now_ns + ROLLOVER_RETRY_NS;
	PROBE_LOG(WARNING, "export: hand-off (%s) failed: %s; export goes on on the session in "
			"use, next try in %.0f s", r->reason, why, ROLLOVER_RETRY_NS / 1e9);
}

static void
abandon(struct session_rollover *r)
{
	if (r->opening != NULL)
		dpfix_session_close(r->opening);
	r->opening = NULL;
	r->failback = 0;
}

void
rollover_task(struct export_lane *l, uint64_t now_ns)
{
	struct session_control *c = &l->control;
	struct session_rollover *r = &l->rollover;
	char err[DPFIX_SESSION_ERRLEN], why[48];
	int ret;

	if (r->sessions_seen != c->sessions_opened)
		session_started(l, now_ns);
	/* No session in use (a reconnection's business), or the end near: none. */
	if (c->waiting || c->dropped || exporter_input_over(l->x) ||
			atomic_load_explicit(&probe_stop, memory_order_relaxed)) {
		abandon(r);
		return;
	}
	if (r->offered)
		return;
	if (r->opening == NULL) {
		if (failover_failback_due(c, l->x->settings, now_ns)) {
			r->failback = 1;
			snprintf(why, sizeof(why), "back to the primary collector");
		} else if (now_ns < r->retry_ns || due(l, now_ns, why, sizeof(why)) == NULL) {
			return;
		}
		snprintf(r->reason, sizeof(r->reason), "%s", why);
		r->opening = dpfix_session_open_start(&c->endpoint, &c->params, err, sizeof(err));
		if (r->opening == NULL) {
			attempt_failed(l, err, now_ns);
			return;
		}
	}
	ret = dpfix_session_open_step(r->opening, err, sizeof(err));
	if (ret == -EINPROGRESS)
		return;
	if (ret < 0) {
		r->opening = NULL; /* freed by the step */
		attempt_failed(l, err, now_ns);
		return;
	}
	r->offered = 1;
	snprintf(r->name, sizeof(r->name), "%s", dpfix_session_name(r->opening));
	handoff_post(&l->handoff.to_export, &(struct handoff_msg){.kind = HANDOFF_HAND_OFF,
		.serial = sessions_hand_off_serial(c, r->opening), .session = r->opening});
	r->opening = NULL;
}

void
rollover_answered(struct export_lane *l, const struct handoff_msg *m, uint64_t now_ns)
{
	struct session_control *c = &l->control;
	struct session_rollover *r = &l->rollover;

	r->offered = 0;
	if (m->why[0] != '\0') {
		attempt_failed(l, m->why, now_ns);
		return;
	}
	/* The export lcore uses it now (a hand-off, or the replacement of one that had
	 * just failed, whose reconnection is then not needed). */
	c->waiting = 0;
	c->sessions_opened++;
	sessions_handed_off(c, m->serial);
	snprintf(c->session_name, sizeof(c->session_name), "%s", r->name);
	session_started(l, now_ns);
	r->failback = 0;
	failover_used(c, c->session_name);
	PROBE_LOG(INFO, "export: handed over to %s (%s); the old session ends in order",
			c->session_name, r->reason);
}

void
rollover_fini(struct export_lane *l)
{
	abandon(&l->rollover);
}
