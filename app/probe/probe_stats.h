/* The probe's statistics: DPDK telemetry (/dpfix/stats, /dpfix/worker,N, /dpfix/port,N),
 * the progress line, the summary at exit and the --stats-json file, all from the same
 * counter lists. */
#ifndef PROBE_STATS_H
#define PROBE_STATS_H

#include <stdio.h>

#include "probe.h"

/* The telemetry commands, answered from these lcores' counters. */
void stats_telemetry_register(struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

/* One line on stdout: packets, flows, records, and what the ports dropped. */
void stats_print_progress(struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

void stats_print_summary(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

/* Writes every counter as one JSON object: "totals", "workers" (one object each, the
 * same members plus its index and lcore), "ports", "exporter" (every lane added up)
 * and "collectors" (each lane's). 0 or -EIO. */
int stats_write_json(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter);

#endif
