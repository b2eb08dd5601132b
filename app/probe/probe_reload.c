/* Reload on SIGHUP. Live: the flow timeouts (each worker applies them to its own table
 * between bursts; open flows take them too), the progress interval, the log level, the
 * planned hand-off triggers and the collectors (failover's list: export stays on the
 * collector in use if it is still listed, else moves to the new primary by a hand-off).
 * Packet selection changes live when the same ports sample with the same algorithms
 * (each worker starts its selectors over with the new parameters between bursts; the
 * templates stay); other selection changes need new templates. Everything else is
 * compared and, if changed, named as needing a restart: the sessions' security,
 * collector_mode, sizes, flow key and ports. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "probe_reload.h"

atomic_int probe_reload_requested;

static int saved_argc;
static char **saved_argv;

void
probe_reload_init(int argc, char **argv)
{
	saved_argc = argc;
	saved_argv = argv;
}

void
probe_apply_log_level(const struct probe_settings *s)
{
	if (s->log_level != 0)
		rte_log_set_global_level(s->log_level);
}

/* New selectors apply live where the same ports sample with the same algorithms: the
 * templates (the flow records' selectorId, each algorithm's selector report) stay. */
static int
sampling_live(const struct probe_settings *a, const struct probe_settings *b)
{
	for (unsigned int p = 0; p <= PROBE_MAX_PORTS; p++)
		if (a->sampling[p].set != b->sampling[p].set || (a->sampling[p].set &&
				a->sampling[p].params.algorithm != b->sampling[p].params.algorithm))
			return 0;
	return 1;
}

/* Each worker's selectors start over with next's parameters (their counts go on). */
static void
post_sampling(const struct probe_settings *next, struct worker_ctx *workers,
		unsigned int nb_workers)
{
	for (unsigned int i = 0; i < nb_workers; i++) {
		struct worker_ctx *w = &workers[i];

		for (unsigned int q = 0; q < w->nb_queues; q++) {
			const struct probe_sampling *ps = probe_sampling_of_port(next, w->queues[q].port);

			if (ps != NULL)
				w->new_sampling[q] = ps->params;
		}
		atomic_fetch_add_explicit(&w->sampling_posted, 1, memory_order_release);
	}
}

/* The options applied live, by key. */
static int
is_live(const char *key)
{
	static const char *const live[] = {"idle_timeout", "active_timeout", "tcp_end_wait",
		"stats_interval", "log_level", "session_lifetime", "session_bytes", "collector",
		"failback_interval", NULL};

	for (int i = 0; live[i] != NULL; i++)
		if (strcmp(key, live[i]) == 0)
			return 1;
	return 0;
}

/* Whether an option's value differs. CUSTOM options keep their values in fields of
 * their own, compared here by name. */
static int
option_changed(const struct dpfix_config_option *o, const struct probe_settings *a,
		const struct probe_settings *b)
{
	if (o->type != DPFIX_CONFIG_CUSTOM)
		return memcmp((const char *)a + o->offset, (const char *)b + o->offset, o->size) != 0;
	if (strcmp(o->key, "sampling") == 0) {
		for (unsigned int p = 0; p <= PROBE_MAX_PORTS; p++)
			if (a->sampling[p].set != b->sampling[p].set || (a->sampling[p].set &&
					memcmp(&a->sampling[p].params, &b->sampling[p].params,
						sizeof(a->sampling[p].params)) != 0))
				return 1;
		return 0;
	}
	if (strcmp(o->key, "collector") == 0)
		return a->nb_collectors != b->nb_collectors ||
				memcmp(a->collectors, b->collectors, sizeof(a->collectors[0]) * a->nb_collectors) != 0;
	if (strcmp(o->key, "xdp_pass") == 0)
		return a->nb_xdp_pass != b->nb_xdp_pass ||
				memcmp(a->xdp_pass, b->xdp_pass, sizeof(a->xdp_pass[0]) * a->nb_xdp_pass) != 0;
	return 0;
}

static void
append(char *buf, size_t len, const char *fmt, const char *what)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, fmt, used > 0 ? ", " : "", what);
}

void
probe_reload(struct probe_settings *running, struct worker_ctx *workers, unsigned int nb_workers,
		struct exporter_ctx *exporter)
{
	static struct probe_settings next;      /* large (sampling, rules): not on the stack */
	char err[DPFIX_CONFIG_ERRLEN], applied[1536] = "", restart[512] = "";
	int timeouts_changed = 0, collectors_changed = 0, sampling_changed = 0;

	probe_settings_defaults(&next);
	if (probe_settings_from_args(&next, saved_argc, saved_argv, err, sizeof(err)) != 0 ||
			probe_settings_check(&next, err, sizeof(err)) != 0) {
		printf("dpfix-probe: SIGHUP: the config was not reloaded, nothing changed: %s\n", err);
		fflush(stdout);
		return;
	}
	/* A random selector without a seed got one at start: the same line keeps it. */
	for (unsigned int p = 0; p <= PROBE_MAX_PORTS; p++)
		if (next.sampling[p].set && !next.sampling[p].params.seed_given &&
				running->sampling[p].set && !running->sampling[p].params.seed_given)
			next.sampling[p].params.seed = running->sampling[p].params.seed;
	for (const struct dpfix_config_option *o = probe_options; o->key != NULL; o++) {
		if (!option_changed(o, running, &next))
			continue;
		if (!is_live(o->key) && !(strcmp(o->key, "sampling") == 0 &&
				sampling_live(running, &next))) {
			append(restart, sizeof(restart), "%s%s", o->key);
			continue;
		}
		/* The timeouts are one change, said after the others. */
		if (strncmp(o->key, "idle", 4) == 0 || strncmp(o->key, "active", 6) == 0 ||
				strncmp(o->key, "tcp_end", 7) == 0)
			timeouts_changed = 1;
		else if (strcmp(o->key, "collector") == 0 &&
				running->collector_mode == PROBE_COLLECTORS_REPLICATE)
			append(restart, sizeof(restart), "%s%s", "collector (replicate: a lane each)");
		else if (strcmp(o->key, "collector") == 0)
			collectors_changed = 1;
		else if (strcmp(o->key, "sampling") == 0)
			sampling_changed = 1;
		else
			append(applied, sizeof(applied), "%s%s", o->key);
	}
	if (timeouts_changed) {
		char what[160];

		snprintf(what, sizeof(what), "idle_timeout %.3g s, active_timeout %.3g s, "
				"tcp_end_wait %.3g s", next.idle_timeout_ms / 1e3,
				next.active_timeout_ms / 1e3, next.tcp_end_wait_ms / 1e3);
		append(applied, sizeof(applied), "%s%s", what);
		for (unsigned int i = 0; i < nb_workers; i++) {
			struct worker_ctx *w = &workers[i];

			w->new_idle_ns = next.idle_timeout_ms * 1000000ull;
			w->new_active_ns = next.active_timeout_ms * 1000000ull;
			w->new_tcp_end_ns = next.tcp_end_wait_ms * 1000000ull;
			atomic_fetch_add_explicit(&w->timeouts_posted, 1, memory_order_release);
		}
		running->idle_timeout_ms = next.idle_timeout_ms;
		running->active_timeout_ms = next.active_timeout_ms;
		running->tcp_end_wait_ms = next.tcp_end_wait_ms;
	}
	if (collectors_changed) {
		char said[2 * sizeof(running->collectors[0]) + 96];

		failover_reload(&exporter->lanes[0].control, running, &next, said, sizeof(said));
		append(applied, sizeof(applied), "%s%s", said);
		memcpy(running->collectors, next.collectors, sizeof(running->collectors));
		running->nb_collectors = next.nb_collectors;
	}
	if (sampling_changed) {
		post_sampling(&next, workers, nb_workers);
		/* The selector reports (options records) say the new parameters from the next
		 * options interval on. */
		memcpy(running->sampling, next.sampling, sizeof(running->sampling));
		append(applied, sizeof(applied), "%s%s", "sampling (same ports and algorithms: "
				"new parameters)");
	}
	running->failback_interval_ms = next.failback_interval_ms;
	running->stats_interval_ms = next.stats_interval_ms;
	/* The control lcore reads them at its next tick. */
	running->session_lifetime_ms = next.session_lifetime_ms;
	running->session_bytes = next.session_bytes;
	if (running->log_level != next.log_level) {
		running->log_level = next.log_level;
		probe_apply_log_level(running);
	}
	printf("dpfix-probe: SIGHUP: config reloaded; applied: %s; needs a restart: %s\n",
			applied[0] ? applied : "nothing", restart[0] ? restart : "nothing");
	fflush(stdout);
}
