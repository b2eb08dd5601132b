/* The control lcore: watches for shutdown and end of input, prints progress, serves
 * statistics over DPDK telemetry. */
#ifndef PROBE_CONTROL_H
#define PROBE_CONTROL_H

#include <stdio.h>

#include "probe.h"

/* Runs until every worker and the exporter are done. With run_exporter, the export
 * work is done here too (two-lcore deployments). A SIGHUP reloads s (probe_reload.h). */
void control_run(struct probe_settings *s, struct worker_ctx *workers, unsigned int nb_workers,
		struct exporter_ctx *exporter, int run_exporter);

void control_print_summary(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

/* Writes every counter as one JSON object: "totals", "workers" (one object each, the
 * same members plus its index and lcore) and "exporter". Returns 0 or -EIO. */
int control_write_stats_json(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

#endif
