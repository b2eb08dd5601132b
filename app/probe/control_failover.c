/* Failover between collectors (collector_mode = failover, issue 12): export goes to
 * the first collector that works, the first `collector` line being the primary. When
 * the session in use fails (the collector closed it, reset it, or was found dead) the
 * reconnection goes to the next collector in the list, the one that failed being tried
 * last; while export is on a backup, the primary is tried every failback_interval with
 * a planned hand-off (control_rollover.c), so export comes back to it without a stall as
 * soon as it answers again. */
#include <stdio.h>

#include "probe.h"
#include "probe_log.h"

int
failover_setup(struct session_control *c, const struct probe_settings *s, char *err,
		size_t errlen)
{
	c->nb_endpoints = s->nb_collectors;
	for (unsigned int i = 0; i < s->nb_collectors; i++) {
		char why[DPFIX_SESSION_ERRLEN];

		if (dpfix_endpoint_parse(s->collectors[i], &c->endpoints[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s", why);
			return -EINVAL;
		}
	}
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
	if (c->in_use == 0)
		PROBE_LOG(WARNING, "export: back on the primary collector, %s", session_name);
	else
		PROBE_LOG(WARNING, "export: failed over to collector %u of %u, %s", c->in_use + 1,
				c->nb_endpoints, session_name);
}

void
failover_session_failed(struct session_control *c)
{
	c->target = c->in_use;
	failover_next(c);
}

void
failover_failback_failed(struct session_control *c, const char *why)
{
	if (!c->failback_said)
		PROBE_LOG(WARNING, "export: the primary collector does not answer yet (%s); export "
				"stays on collector %u of %u and tries it again every failback_interval",
				why, c->in_use + 1, c->nb_endpoints);
	c->failback_said = 1;
	c->target = c->in_use;
	c->endpoint = c->endpoints[c->in_use];
}

int
failover_failback_due(struct session_control *c, const struct probe_settings *s,
		uint64_t now_ns)
{
	if (c->in_use == 0 || c->nb_endpoints < 2)
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
