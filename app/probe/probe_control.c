/* Control loop of the probe (main lcore): shutdown, progress lines, telemetry.
 * Counters are per-lcore and summed here; a torn read of a live counter is harmless. */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "probe_control.h"

static struct worker_ctx *t_workers;
static unsigned int t_nb_workers;
static const struct exporter_ctx *t_exporter;

struct totals {
	struct worker_stats w;
	struct dpfix_flow_stats f;
	uint64_t active_flows;
};

static void
sum_totals(struct worker_ctx *workers, unsigned int nb_workers, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < nb_workers; i++) {
		const struct worker_stats *ws = &workers[i].stats;
		const struct dpfix_flow_stats *fs = dpfix_flow_table_stats(workers[i].table);

#define SUM_W(name, text) t->w.name += ws->name;
		WORKER_COUNTERS(SUM_W)
#undef SUM_W
#define SUM_F(name, text) t->f.name += fs->name;
		DPFIX_FLOW_COUNTERS(SUM_F)
#undef SUM_F
		for (int r = 0; r < DPFIX_PARSE_RESULT_COUNT; r++)
			t->w.parse_results[r] += ws->parse_results[r];
		t->active_flows += dpfix_flow_table_count(workers[i].table);
	}
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;
	(void)cmd;
	(void)params;

	sum_totals(t_workers, t_nb_workers, &t);
	rte_tel_data_start_dict(d);
#define TEL_W(name, text) rte_tel_data_add_dict_u64(d, #name, t.w.name);
	WORKER_COUNTERS(TEL_W)
#undef TEL_W
#define TEL_F(name, text) rte_tel_data_add_dict_u64(d, #name, t.f.name);
	DPFIX_FLOW_COUNTERS(TEL_F)
#undef TEL_F
	for (int r = 1; r < DPFIX_PARSE_RESULT_COUNT; r++)
		rte_tel_data_add_dict_u64(d, dpfix_parse_result_name(r), t.w.parse_results[r]);
	rte_tel_data_add_dict_u64(d, "active_flows", t.active_flows);
	rte_tel_data_add_dict_u64(d, "records_exported", t_exporter->records_exported);
	rte_tel_data_add_dict_u64(d, "messages_sent", t_exporter->messages_sent);
	rte_tel_data_add_dict_u64(d, "send_failures", t_exporter->send_failures);
	rte_tel_data_add_dict_u64(d, "records_lost", t_exporter->records_lost);
	rte_tel_data_add_dict_u64(d, "reconnects", t_exporter->reconnects);
	return 0;
}

static void
print_progress(struct worker_ctx *workers, unsigned int nb_workers, const struct exporter_ctx *x)
{
	struct totals t;
	uint64_t bad = 0;

	sum_totals(workers, nb_workers, &t);
	for (int r = 2; r < DPFIX_PARSE_RESULT_COUNT; r++)
		bad += t.w.parse_results[r];
	printf("dpfix-probe: rx %" PRIu64 " pkts, metered %" PRIu64 ", malformed %" PRIu64
			", active flows %" PRIu64 ", records exported %" PRIu64 ", lost %" PRIu64 "\n",
			t.w.rx_packets, t.w.metered_packets, bad, t.active_flows, x->records_exported,
			x->records_lost);
	fflush(stdout);
}

void
control_run(const struct probe_settings *s, struct worker_ctx *workers, unsigned int nb_workers,
		struct exporter_ctx *exporter, int run_exporter)
{
	uint64_t hz = rte_get_tsc_hz(), next_stats;

	t_workers = workers;
	t_nb_workers = nb_workers;
	t_exporter = exporter;
	rte_telemetry_register_cmd("/dpfix/stats", telemetry_stats,
			"Probe totals: packets, flows, parse errors, export. No parameters.");

	next_stats = rte_get_tsc_cycles() + s->stats_interval_ms * hz / 1000;
	while (!atomic_load(&exporter->done)) {
		unsigned int handled = 0;

		if (run_exporter)
			handled = exporter_poll(exporter);
		exporter_reconnect_step(exporter, rte_get_tsc_cycles() * 1000 / hz);
		if (s->stats_interval_ms != 0 && rte_get_tsc_cycles() >= next_stats) {
			print_progress(workers, nb_workers, exporter);
			next_stats += s->stats_interval_ms * hz / 1000;
		}
		if (handled == 0)
			usleep(run_exporter ? 50 : 1000);
	}
}

void
control_print_summary(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *x)
{
	struct totals t;

	sum_totals(workers, nb_workers, &t);
	fprintf(out, "dpfix-probe: summary\n");
#define PRINT_W(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.w.name);
	WORKER_COUNTERS(PRINT_W)
#undef PRINT_W
	for (int r = 1; r < DPFIX_PARSE_RESULT_COUNT; r++)
		if (t.w.parse_results[r] != 0)
			fprintf(out, "  %-28s %" PRIu64 "  (%s)\n", dpfix_parse_result_name(r),
					t.w.parse_results[r], dpfix_parse_result_text(r));
#define PRINT_F(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.f.name);
	DPFIX_FLOW_COUNTERS(PRINT_F)
#undef PRINT_F
	fprintf(out, "  %-28s %" PRIu64 "\n", "records_exported", x->records_exported);
	fprintf(out, "  %-28s %" PRIu64 "\n", "messages_sent", x->messages_sent);
	fprintf(out, "  %-28s %" PRIu64 "\n", "send_failures", x->send_failures);
	fprintf(out, "  %-28s %" PRIu64 "\n", "records_lost", x->records_lost);
	fprintf(out, "  %-28s %" PRIu64 "\n", "reconnects", x->reconnects);
	fflush(out);
}
