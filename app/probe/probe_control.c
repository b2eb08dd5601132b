/* The control lcore (main lcore): a small table of periodic tasks, each run when its
 * TSC deadline has passed and due again a period later (l3fwd's drain_tsc), until the
 * export is done. Session life is here: the export lcore's reports read and sessions
 * opened (control_sessions.c), heartbeats asked for and their answers judged
 * (control_heartbeat.c); PMTU probes join the table next. A SIGHUP
 * reloads the config (probe_reload.c). With two lcores the export work runs here too,
 * between the tasks. */
#include <stdint.h>

#include <rte_cycles.h>

#include "port_stats.h"
#include "probe_control.h"
#include "probe_reload.h"
#include "probe_stats.h"

struct control;

struct control_task {
	const char *name;
	uint64_t period;        /* TSC cycles; 0: not run */
	uint64_t deadline;      /* TSC */
	void (*run)(struct control *c);
};

enum control_task_id { TASK_LIVENESS, TASK_RECONNECT, TASK_ROLLOVER, TASK_HEARTBEATS,
	TASK_PORT_DROPS, TASK_PROGRESS, TASK_RELOAD, TASK_COUNT };

struct control {
	struct probe_settings *settings;
	struct worker_ctx *workers;
	unsigned int nb_workers;
	struct exporter_ctx *exporter;
	uint64_t hz;
	struct control_task tasks[TASK_COUNT];
};

/* Each task runs for every export lane (one, or one per collector with replicate). */

/* What the export lcore reports of its session: trusted, failed, retired. */
static void
task_liveness(struct control *c)
{
	for (unsigned int k = 0; k < c->exporter->nb_lanes; k++)
		sessions_liveness(&c->exporter->lanes[k], probe_clock_now_ns());
}

/* A replacement session once its wait is over, or none when input is over. */
static void
task_reconnect(struct control *c)
{
	for (unsigned int k = 0; k < c->exporter->nb_lanes; k++)
		sessions_reconnect(&c->exporter->lanes[k], probe_clock_now_ns());
}

/* A planned hand-off when one is due, its new session opened a step a tick. */
static void
task_rollover(struct control *c)
{
	for (unsigned int k = 0; k < c->exporter->nb_lanes; k++)
		rollover_task(&c->exporter->lanes[k], probe_clock_now_ns());
}

/* Heartbeat requests due on the current session; its collector found dead. */
static void
task_heartbeats(struct control *c)
{
	for (unsigned int k = 0; k < c->exporter->nb_lanes; k++)
		heartbeats_task(&c->exporter->lanes[k], probe_clock_now_ns());
}

static void
task_port_drops(struct control *c)
{
	(void)c;
	port_drops_poll(probe_clock_now_ns());
}

static void
task_progress(struct control *c)
{
	stats_print_progress(c->workers, c->nb_workers, c->exporter);
}

static uint64_t
progress_period(const struct control *c)
{
	return c->settings->stats_interval_ms * c->hz / 1000;
}

/* SIGHUP seen: the settings read again and applied; the progress lines take the new
 * stats_interval from now. */
static void
task_reload(struct control *c)
{
	struct control_task *progress = &c->tasks[TASK_PROGRESS];

	if (!atomic_exchange(&probe_reload_requested, 0))
		return;
	probe_reload(c->settings, c->workers, c->nb_workers, c->exporter);
	progress->period = progress_period(c);
	progress->deadline = rte_get_tsc_cycles() + progress->period;
}

void
control_run(struct probe_settings *s, struct worker_ctx *workers, unsigned int nb_workers,
		struct exporter_ctx *exporter, int run_exporter)
{
	uint64_t hz = rte_get_tsc_hz(), now = rte_get_tsc_cycles();
	struct control c = {.settings = s, .workers = workers, .nb_workers = nb_workers,
		.exporter = exporter, .hz = hz, .tasks = {
		[TASK_LIVENESS] = {"liveness", hz / 1000, now, task_liveness},
		[TASK_RECONNECT] = {"reconnect", hz / 1000, now, task_reconnect},
		[TASK_ROLLOVER] = {"hand-off", hz / 1000, now, task_rollover},
		[TASK_HEARTBEATS] = {"heartbeats", hz / 1000, now, task_heartbeats},
		[TASK_PORT_DROPS] = {"port drops", hz / 10, now, task_port_drops},
		[TASK_PROGRESS] = {"progress", 0, 0, task_progress},
		[TASK_RELOAD] = {"reload", hz / 100, now, task_reload},
	}};

	c.tasks[TASK_PROGRESS].period = progress_period(&c);
	c.tasks[TASK_PROGRESS].deadline = now + c.tasks[TASK_PROGRESS].period;
	stats_telemetry_register(workers, nb_workers, exporter);
	rollover_init(exporter, probe_clock_now_ns());
	while (!atomic_load(&exporter->done)) {
		uint64_t next = UINT64_MAX;
		unsigned int handled = 0;

		for (unsigned int i = 0; i < TASK_COUNT; i++) {
			struct control_task *t = &c.tasks[i];

			if (t->period == 0)
				continue;
			now = rte_get_tsc_cycles();
			if (now >= t->deadline) {
				t->run(&c);
				/* On its cadence; one that fell behind (a blocking open) starts over. */
				t->deadline += t->period;
				if (t->deadline <= now)
					t->deadline = now + t->period;
			}
			if (t->deadline < next)
				next = t->deadline;
		}
		if (run_exporter)
			handled = exporter_poll(exporter);
		if (handled != 0)
			continue;
		/* Idle: the export work looks again soon; alone, sleep to the next deadline. */
		now = rte_get_tsc_cycles();
		if (run_exporter)
			rte_delay_us_sleep(50);
		else if (next > now)
			rte_delay_us_sleep((unsigned int)((next - now) * 1000000 / hz) + 1);
	}
}
