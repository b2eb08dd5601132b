/* The control lcore's heartbeats (doc/heartbeats.md): it decides when the current
 * session gets a request and finds its collector dead (lib/session's dpfix_peer_watch);
 * the export lcore sends the requests on the session and reports the answers
 * (export_handoff.h), since only it may touch the session. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "probe_log.h"

void
heartbeats_describe(const struct export_lane *l)
{
	const struct session_control *c = &l->control;
	const struct probe_settings *s = l->x->settings;
	const char *transport = c->endpoint.transport;

	/* Replicate: a line per collector, each with its own liveness. */
	if (l->x->nb_lanes > 1)
		printf("dpfix-probe: collector %u: ", l->index + 1);
	else
		printf("dpfix-probe: ");

	if (c->heartbeats)
		printf("liveness: heartbeats every %.3g s, the collector dead after %u "
				"in a row unanswered\n", s->heartbeat_interval_ms / 1000.0, s->heartbeat_misses);
	else if (s->heartbeat_interval_ms == 0)
		printf("liveness: heartbeats off (heartbeat_interval 0)%s\n",
				strcmp(transport, "udp") == 0 ? ": a dead collector goes unnoticed over UDP" :
				strcmp(transport, "tcp") == 0 ? ": TCP notices a dead collector (its timeouts)" :
				": SCTP's own heartbeats notice a dead collector");
	else if (liveness_by_session(l))
		printf("liveness: the collector did not agree on heartbeats (not a dpfix "
				"collector): a fresh session every %.3g s checks it (a planned hand-off; the "
				"collector dead if it cannot be opened)%s\n",
				LIVENESS_SESSION_FACTOR * s->heartbeat_interval_ms * s->heartbeat_misses / 1000.0,
				strcmp(transport, "udp") == 0 ? "" : strcmp(transport, "tcp") == 0 ?
				"; TCP keepalive and TCP_USER_TIMEOUT meanwhile" :
				"; SCTP's own heartbeats meanwhile");
	else
		printf("liveness: no heartbeats without (D)TLS, where they cannot be "
				"agreed: %s\n", strcmp(transport, "udp") == 0 ?
				"a dead collector goes unnoticed over UDP" :
				strcmp(transport, "tcp") == 0 ? "TCP keepalive and TCP_USER_TIMEOUT notice a "
				"dead collector" : "SCTP's own heartbeats notice a dead collector");
}

/* A new session offered (or the first): it gets a watch of its own if it agreed on
 * heartbeats. Ids go on counting across sessions, so an answer on an old one that comes
 * late matches nothing. */
static void
watch_current(struct session_control *c, const struct probe_settings *s, uint64_t now_ns)
{
	struct dpfix_peer_watch_params p = {
		.interval_ns = s->heartbeat_interval_ms * 1000000ull,
		.misses = s->heartbeat_misses,
	};

	c->watch_serial = c->serial;
	dpfix_peer_watch_start(&c->watch, &p, c->next_heartbeat_id + 1, now_ns);
}

void
heartbeats_task(struct export_lane *l, uint64_t now_ns)
{
	struct session_control *c = &l->control;
	struct handoff_msg m = {.kind = HANDOFF_HEARTBEAT};
	char why[DPFIX_SESSION_ERRLEN];

	/* A session offered that agreed, and not failed or found dead since. */
	if (c->waiting || c->dropped || !c->heartbeats || c->serial == c->dead_serial)
		return;
	if (c->watch_serial != c->serial)
		watch_current(c, l->x->settings, now_ns);
	m.serial = c->serial;
	while (dpfix_peer_watch_next(&c->watch, now_ns, &m.id)) {
		c->next_heartbeat_id = m.id;
		if (handoff_post(&l->handoff.to_export, &m) < 0)
			PROBE_LOG(ERR, "export: the hand-off to the export lcore is full: a heartbeat "
					"request is not sent (a defect)");
	}
	if (!dpfix_peer_watch_dead(&c->watch, now_ns))
		return;
	snprintf(why, sizeof(why), "%u heartbeats in a row unanswered (every %.3g s), nothing "
			"heard for %.1f s", l->x->settings->heartbeat_misses,
			l->x->settings->heartbeat_interval_ms / 1000.0,
			(now_ns - dpfix_peer_watch_last_heard(&c->watch)) / 1e9);
	sessions_collector_dead(l, c->serial, why, now_ns);
}

void
heartbeats_answered(struct export_lane *l, const struct handoff_msg *m, uint64_t now_ns)
{
	struct session_control *c = &l->control;

	if (m->serial == c->watch_serial)
		dpfix_peer_watch_answered(&c->watch, m->id, now_ns);
}
