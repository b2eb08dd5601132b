/* The control lcore: a table of periodic tasks with TSC deadlines (session liveness and
 * reconnection, the ports' drop counters, progress lines, a SIGHUP reload) until the
 * export is done. */
#ifndef PROBE_CONTROL_H
#define PROBE_CONTROL_H

#include "probe.h"

/* Runs until every worker and the exporter are done. With run_exporter, the export
 * work is done here too (two-lcore deployments). A SIGHUP reloads s (probe_reload.h). */
void control_run(struct probe_settings *s, struct worker_ctx *workers, unsigned int nb_workers,
		struct exporter_ctx *exporter, int run_exporter);

#endif
