/* Failover between collectors (collector_mode = failover, issue 12): export goes to
 * the first collector that works, the first `collector` line being the primary. When
 * the session in use fails (the collector closed it, reset it, or was found dead) the
 * reconnection goes to the next collector in the list, the one that failed being tried
 * last; while export is on a backup, the primary is tried every failback_interval with
 * a planned hand-off (control_rollover.c), so export comes back to it without a stall as
 * soon as it answers again. A SIGHUP may change the list: export stays on the collector
 * in use if it is still in it, else moves to the new primary by a hand-off. */
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "probe_log.h"

int
failover_setup(struct session_control *c, const struct probe_settings *s, int collector,
		char *err, size_t errlen)
{
	unsigned int first = collector < 0 ? 0 : (unsigned int)collector;
	unsigned int n = collector < 0 ? s->nb_collectors : 1;

	for (unsigned int i = 0; i < n; i++) {
		char why[DPFIX_SESSION_ERRLEN];

		if (dpfix_endpoint_parse(s->collectors[first + i], &c->endpoints[i], why,
				sizeof(why)) < 0) {
			snprintf(err, errlen, "%s", why);
			return -EINVAL;
		}
	}
	c->nb_endpoints = n;
	c->target = c->in_use = 0;
	c->endpoint = c->endpoints[0];
	return 0;
}

void
failover_next(struct session_control *c)
{
	if (c->nb_endpoints < 2)
		return;
	c->target = (c->target + 1) % c->nb_endpoints;
	c->endpoint = c->endpoints[c->target];
}

void
failover_used(struct session_control *c, const char *session_name)
{
	unsigned int was = c->in_use;

	c->in_use = c->target;
	if (c->in_use == was)
		return;
	c->failovers++;
	c->failback_said = 0;
	if (was >= PROBE_MAX_COLLECTORS)
		PROBE_LOG(WARNING, "export: on the primary collector of the new list, %s",
				session_name);
	else if (c->in_use == 0)
		PROBE_LOG(WARNING, "export: back on the primary collector, %s", session_name);
	else
		PROBE_LOG(WARNING, "export: failed over to collector %u of %u, %s", c->in_use + 1,
				c->nb_endpoints, session_name);
}

void
failover_session_failed(struct session_control *c)
{
	if (c->in_use >= c->nb_endpoints) { /* it left the list (SIGHUP): the primary */
		c->target = 0;
		c->endpoint = c->endpoints[0];
		return;
	}
	c->target = c->in_use;
	failover_next(c);
}

void
failover_reload(struct session_control *c, const struct probe_settings *running,
		const struct probe_settings *next, char *said, size_t len)
{
	const char *url = running->collectors[c->in_use < running->nb_collectors ? c->in_use : 0];
	unsigned int keep = PROBE_MAX_COLLECTORS;

	for (unsigned int i = 0; i < next->nb_collectors; i++) {
		if (dpfix_endpoint_parse(next->collectors[i], &c->endpoints[i], said, len) < 0)
			return; /* checked when the config was read: not reached */
		if (keep == PROBE_MAX_COLLECTORS && strcmp(next->collectors[i], url) == 0)
			keep = i;
	}
	c->nb_endpoints = next->nb_collectors;
	c->failback_said = 0;
	c->next_failback_ns = 0;
	if (keep != PROBE_MAX_COLLECTORS) {
		/* Export stays where it is; a backup still goes back to the primary. */
		c->in_use = c->target = keep;
		c->endpoint = c->endpoints[keep];
		snprintf(said, len, "collectors (%u; export stays on %s, now collector %u)",
				c->nb_endpoints, url, keep + 1);
		return;
	}
	/* The one in use left the list: a hand-off to the new primary at once. */
	c->in_use = PROBE_MAX_COLLECTORS;
	c->target = 0;
	c->endpoint = c->endpoints[0];
	c->failback_now = 1;
	snprintf(said, len, "collectors (%u; export moves from %s to %s by a hand-off)",
			c->nb_endpoints, url, next->collectors[0]);
}

void
failover_failback_failed(struct session_control *c, const char *why)
{
	if (!c->failback_said)
		PROBE_LOG(WARNING, "export: the primary collector does not answer yet (%s); export "
				"stays on collector %u of %u and tries it again every failback_interval",
				why, c->in_use + 1, c->nb_endpoints);
	c->failback_said = 1;
	/* (One that left the list stays in use until the new primary answers.) */
	c->target = c->in_use < c->nb_endpoints ? c->in_use : 0;
	c->endpoint = c->endpoints[c->target];
}

int
failover_failback_due(struct session_control *c, const struct probe_settings *s,
		uint64_t now_ns)
{
	if (c->failback_now) {
		c->failback_now = 0;
		c->next_failback_ns = now_ns + s->failback_interval_ms * 1000000ull;
		c->target = 0;
		c->endpoint = c->endpoints[0];
		return 1;
	}
	if (c->in_use == 0 || (c->nb_endpoints < 2 && c->in_use < c->nb_endpoints))
		return 0;
	if (c->next_failback_ns == 0)
		c->next_failback_ns = now_ns + s->failback_interval_ms * 1000000ull;
	if (now_ns < c->next_failback_ns)
		return 0;
	c->next_failback_ns = now_ns + s->failback_interval_ms * 1000000ull;
	c->target = 0;
	c->endpoint = c->endpoints[0];
	return 1;
}
