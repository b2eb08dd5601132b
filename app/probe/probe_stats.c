/* The probe's statistics: every counter summed over the lcores, served over DPDK
 * telemetry, printed as progress lines and a summary, and written as JSON. Counters are
 * per-lcore and summed here; a torn read of a live counter is harmless. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "port_stats.h"
#include "probe_stats.h"

static struct worker_ctx *t_workers;
static unsigned int t_nb_workers;
static const struct exporter_ctx *t_exporter;

struct totals {
	struct worker_stats w;
	struct dpfix_flow_stats f;
	struct dpfix_frag_stats fr;
	struct dpfix_sample_stats sample;                       /* every selector */
	struct dpfix_sample_stats selector[PROBE_MAX_PORTS];    /* by port */
	struct dpfix_measure_stats measure;
	uint64_t active_flows;
	const struct probe_settings *settings;
};

static void
sum_totals(struct worker_ctx *workers, unsigned int nb_workers, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->settings = workers[0].settings;
	for (unsigned int i = 0; i < nb_workers; i++) {
		const struct worker_stats *ws = &workers[i].stats;
		const struct dpfix_flow_stats *fs = dpfix_flow_table_stats(workers[i].table);
		const struct dpfix_frag_stats *frs = dpfix_frag_map_stats(workers[i].frags);

#define SUM_W(name, text) t->w.name += ws->name;
		WORKER_COUNTERS(SUM_W)
#undef SUM_W
#define SUM_F(name, text) t->f.name += fs->name;
		DPFIX_FLOW_COUNTERS(SUM_F)
#undef SUM_F
#define SUM_FR(name, text) t->fr.name += frs->name;
		DPFIX_FRAG_COUNTERS(SUM_FR)
#undef SUM_FR
		for (int r = 0; r < DPFIX_PARSE_RESULT_COUNT; r++)
			t->w.parse_results[r] += ws->parse_results[r];
#define SUM_M(name, text) t->measure.name += workers[i].measure.stats.name;
		DPFIX_MEASURE_COUNTERS(SUM_M)
#undef SUM_M
		for (int r = 0; r < DPFIX_PAYLOAD_RESULT_COUNT; r++)
			t->measure.payload_results[r] += workers[i].measure.stats.payload_results[r];
		t->active_flows += dpfix_flow_table_count(workers[i].table);
		worker_sample_stats(&workers[i], -1, &t->sample);
		for (unsigned int p = 0; p < PROBE_MAX_PORTS; p++)
			worker_sample_stats(&workers[i], (int)p, &t->selector[p]);
	}
}

/* Ports with a selector: those whose counters are shown, as selector_ID_observed... */
static int
port_is_sampled(const struct totals *t, unsigned int port)
{
	return port < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)port) &&
			probe_sampling_of_port(t->settings, (uint16_t)port) != NULL;
}

static uint64_t
payload_results_of_kind(const struct totals *t, enum dpfix_parse_kind kind)
{
	uint64_t n = 0;

	for (int r = 1; r < DPFIX_PAYLOAD_RESULT_COUNT; r++)
		if (dpfix_payload_result_kind(r) == kind)
			n += t->measure.payload_results[r];
	return n;
}

static uint64_t
parse_results_of_kind(const struct totals *t, enum dpfix_parse_kind kind)
{
	uint64_t n = 0;

	for (int r = 0; r < DPFIX_PARSE_RESULT_COUNT; r++)
		if (dpfix_parse_result_kind(r) == kind)
			n += t->w.parse_results[r];
	return n;
}

typedef void (*counter_fn)(void *ctx, const char *name, uint64_t value);

/* The measures' counters (when some measure is on): their own, each payload result by
 * its name (e.g. BAD_TLS), and malformed_payloads, the sum of the malformed ones. */
static void
visit_measure_counters(const struct totals *t, counter_fn fn, void *ctx)
{
	if (t->settings->measures == 0)
		return;
#define VISIT_M(name, text) fn(ctx, #name, t->measure.name);
	DPFIX_MEASURE_COUNTERS(VISIT_M)
#undef VISIT_M
	for (int r = 1; r < DPFIX_PAYLOAD_RESULT_COUNT; r++)
		fn(ctx, dpfix_payload_result_name(r), t->measure.payload_results[r]);
	fn(ctx, "malformed_payloads", payload_results_of_kind(t, DPFIX_PARSE_KIND_MALFORMED));
}

/* Every counter of a worker or of the total, by name, in one order for telemetry and
 * the JSON file: the worker's own, each parse result (by its name, e.g. TRUNCATED_TCP),
 * the fragment map's and the flow table's, the measures'. */
static void
visit_counters(const struct totals *t, counter_fn fn, void *ctx)
{
#define VISIT_W(name, text) fn(ctx, #name, t->w.name);
	WORKER_COUNTERS(VISIT_W)
#undef VISIT_W
	fn(ctx, "skipped_packets", parse_results_of_kind(t, DPFIX_PARSE_KIND_SKIPPED));
	fn(ctx, "malformed_packets", parse_results_of_kind(t, DPFIX_PARSE_KIND_MALFORMED));
	for (int r = 1; r < DPFIX_PARSE_RESULT_COUNT; r++)
		fn(ctx, dpfix_parse_result_name(r), t->w.parse_results[r]);
#define VISIT_FR(name, text) fn(ctx, #name, t->fr.name);
	DPFIX_FRAG_COUNTERS(VISIT_FR)
#undef VISIT_FR
#define VISIT_F(name, text) fn(ctx, #name, t->f.name);
	DPFIX_FLOW_COUNTERS(VISIT_F)
#undef VISIT_F
	fn(ctx, "active_flows", t->active_flows);
	visit_measure_counters(t, fn, ctx);
	/* Packet selection (PSAMP): in total, then per selector (selectorId port + 1). */
#define VISIT_S(name, text) fn(ctx, "selector_" #name, t->sample.name);
	DPFIX_SAMPLE_COUNTERS(VISIT_S)
#undef VISIT_S
	for (unsigned int p = 0; p < PROBE_MAX_PORTS; p++) {
		char key[64];

		if (!port_is_sampled(t, p))
			continue;
#define VISIT_SP(name, text) \
		snprintf(key, sizeof(key), "selector_%" PRIu64 "_" #name, PROBE_SELECTOR_ID(p)); \
		fn(ctx, key, t->selector[p].name);
		DPFIX_SAMPLE_COUNTERS(VISIT_SP)
#undef VISIT_SP
	}
}

static void
telemetry_add(void *ctx, const char *name, uint64_t value)
{
	rte_tel_data_add_dict_u64(ctx, name, value);
}

/* The ports' drops added up, under their own names, beside the workers' counters. */
static void
add_port_drop_totals(counter_fn fn, void *ctx)
{
	struct port_drops sum;

	port_drops_total(&sum);
#define ADD_P(name, text) fn(ctx, #name, sum.name);
	PORT_DROP_COUNTERS(ADD_P)
#undef ADD_P
}

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct exporter_counters xc;
	struct totals t;
	(void)cmd;
	(void)params;

	sum_totals(t_workers, t_nb_workers, &t);
	rte_tel_data_start_dict(d);
	visit_counters(&t, telemetry_add, d);
	rte_tel_data_add_dict_u64(d, "workers", t_nb_workers);
	add_port_drop_totals(telemetry_add, d);
	exporter_counters(t_exporter, &xc);
#define ADD_X(name, text) rte_tel_data_add_dict_u64(d, #name, xc.name);
	EXPORTER_COUNTERS(ADD_X)
#undef ADD_X
	return 0;
}

/* A telemetry command's parameter: a number below limit, or -EINVAL. */
static long
telemetry_index(const char *params, unsigned long limit)
{
	char *end;
	unsigned long n;

	if (params == NULL || !isdigit((unsigned char)params[0]))
		return -EINVAL;
	n = strtoul(params, &end, 10);
	return *end != '\0' || n >= limit ? -EINVAL : (long)n;
}

/* /dpfix/worker,N: the counters of worker N alone. */
static int
telemetry_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;
	long n = telemetry_index(params, t_nb_workers);
	(void)cmd;

	if (n < 0)
		return -EINVAL;
	sum_totals(&t_workers[n], 1, &t);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "worker", n);
	rte_tel_data_add_dict_u64(d, "lcore", t_workers[n].lcore_id);
	visit_counters(&t, telemetry_add, d);
	return 0;
}

/* /dpfix/collector,N: export lane N's counters (collector_mode replicate: collector
 * N + 1's; failover: the one lane). */
static int
telemetry_collector(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct exporter_counters xc;
	long n = telemetry_index(params, t_exporter->nb_lanes);
	(void)cmd;

	if (n < 0)
		return -EINVAL;
	lane_counters(&t_exporter->lanes[n], &xc);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "collector", (uint64_t)n);
	rte_tel_data_add_dict_string(d, "url", lane_collector(&t_exporter->lanes[n]));
#define ADD_LX(name, text) rte_tel_data_add_dict_u64(d, #name, xc.name);
	EXPORTER_COUNTERS(ADD_LX)
#undef ADD_LX
	return 0;
}

/* The port a telemetry query asked for (telemetry runs one query at a time). */
static int port_of_interest;

static void
telemetry_add_port(void *ctx, uint16_t port, const char *name, uint64_t value)
{
	if (port == port_of_interest)
		rte_tel_data_add_dict_u64(ctx, name, value);
}

/* /dpfix/port,N: port N's drop counters, and its XDP program's. */
static int
telemetry_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	long n = telemetry_index(params, RTE_MAX_ETHPORTS);
	(void)cmd;

	if (n < 0 || !rte_eth_dev_is_valid_port((uint16_t)n))
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port", (uint64_t)n);
	port_of_interest = (int)n;
	port_counters_visit(telemetry_add_port, d);
	return 0;
}

void
stats_telemetry_register(struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *exporter)
{
	t_workers = workers;
	t_nb_workers = nb_workers;
	t_exporter = exporter;
	rte_telemetry_register_cmd("/dpfix/stats", telemetry_stats,
			"Probe totals: packets, parse results, fragments, flows, export. No parameters.");
	rte_telemetry_register_cmd("/dpfix/worker", telemetry_worker,
			"One worker's counters. Parameter: the worker's index, from 0.");
	rte_telemetry_register_cmd("/dpfix/collector", telemetry_collector,
			"One collector's export counters (replicate: each its own). Parameter: its "
			"index, from 0.");
	rte_telemetry_register_cmd("/dpfix/port", telemetry_port,
			"One port's drop counters (rx_missed, rx_nombuf, rx_errors) and its XDP "
			"program's (xdp_*). Parameter: port id.");
}

static void
print_port_drops(void *ctx, uint16_t port, const char *name, uint64_t value)
{
	FILE *out = ctx;

	if (strcmp(name, "rx_missed") == 0)
		fprintf(out, ", port %u: missed %" PRIu64, port, value);
	else if (strcmp(name, "rx_nombuf") == 0)
		fprintf(out, " nombuf %" PRIu64, value);
	else
		fprintf(out, " errors %" PRIu64, value);
}

void
stats_print_progress(struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *x)
{
	struct exporter_counters xc;
	struct totals t;
	uint64_t bad;

	sum_totals(workers, nb_workers, &t);
	exporter_counters(x, &xc);
	bad = parse_results_of_kind(&t, DPFIX_PARSE_KIND_MALFORMED);
	printf("dpfix-probe: rx %" PRIu64 " pkts, metered %" PRIu64 ", malformed %" PRIu64
			", active flows %" PRIu64 ", records exported %" PRIu64 ", lost %" PRIu64,
			t.w.rx_packets, t.w.metered_packets, bad, t.active_flows, xc.records_exported,
			xc.records_lost);
	/* What the ports dropped before any worker saw it: a probe not keeping up. */
	port_drops_visit(print_port_drops, stdout);
	printf("\n");
	fflush(stdout);
}


static void
print_summary_port(void *ctx, uint16_t port, const char *name, uint64_t value)
{
	char key[64];

	snprintf(key, sizeof(key), "port_%u_%s", port, name);
	fprintf(ctx, "  %-28s %" PRIu64 "\n", key, value);
}

static void
print_summary_total(void *ctx, const char *name, uint64_t value)
{
	fprintf(ctx, "  %-28s %" PRIu64 "\n", name, value);
}

/* Replicate: each collector's export counters (collector_N_NAME, N from 1), and a line
 * naming each one whose records did not all reach it. */
static void
print_summary_lanes(FILE *out, const struct exporter_ctx *x)
{
	if (x->nb_lanes < 2)
		return;
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct exporter_counters lc;
		char key[64];

		lane_counters(&x->lanes[k], &lc);
		snprintf(key, sizeof(key), "collector_%u", k + 1);
		fprintf(out, "  %-28s %s\n", key, lane_collector(&x->lanes[k]));
#define PRINT_LX(name, text) \
		snprintf(key, sizeof(key), "collector_%u_" #name, k + 1); \
		fprintf(out, "  %-28s %" PRIu64 "\n", key, lc.name);
		EXPORTER_COUNTERS(PRINT_LX)
#undef PRINT_LX
	}
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		struct exporter_counters lc;

		lane_counters(&x->lanes[k], &lc);
		if (lc.records_lost || lc.records_unconfirmed || lc.send_failures)
			fprintf(out, "dpfix-probe: collector %u (%s): %" PRIu64 " records lost (%" PRIu64
					" for its full backlog), %" PRIu64 " unconfirmed, %" PRIu64 " messages "
					"not sent\n", k + 1, lane_collector(&x->lanes[k]), lc.records_lost,
					lc.backlog_lost, lc.records_unconfirmed, lc.send_failures);
	}
}

void
stats_print_summary(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *x)
{
	struct exporter_counters xc;
	struct totals t;

	sum_totals(workers, nb_workers, &t);
	exporter_counters(x, &xc);
	fprintf(out, "dpfix-probe: summary\n");
#define PRINT_W(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.w.name);
	WORKER_COUNTERS(PRINT_W)
#undef PRINT_W
	for (int r = 1; r < DPFIX_PARSE_RESULT_COUNT; r++)
		if (t.w.parse_results[r] != 0)
			fprintf(out, "  %-28s %" PRIu64 "  (%s)\n", dpfix_parse_result_name(r),
					t.w.parse_results[r], dpfix_parse_result_text(r));
	fprintf(out, "  %-28s %" PRIu64 "\n", "skipped_packets",
			parse_results_of_kind(&t, DPFIX_PARSE_KIND_SKIPPED));
	fprintf(out, "  %-28s %" PRIu64 "\n", "malformed_packets",
			parse_results_of_kind(&t, DPFIX_PARSE_KIND_MALFORMED));
#define PRINT_FR(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.fr.name);
	DPFIX_FRAG_COUNTERS(PRINT_FR)
#undef PRINT_FR
#define PRINT_F(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.f.name);
	DPFIX_FLOW_COUNTERS(PRINT_F)
#undef PRINT_F
	if (t.settings->measures != 0) {
#define PRINT_M(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, t.measure.name);
		DPFIX_MEASURE_COUNTERS(PRINT_M)
#undef PRINT_M
		for (int r = 1; r < DPFIX_PAYLOAD_RESULT_COUNT; r++)
			if (t.measure.payload_results[r] != 0)
				fprintf(out, "  %-28s %" PRIu64 "  (%s)\n", dpfix_payload_result_name(r),
						t.measure.payload_results[r], dpfix_payload_result_text(r));
		fprintf(out, "  %-28s %" PRIu64 "\n", "malformed_payloads",
				payload_results_of_kind(&t, DPFIX_PARSE_KIND_MALFORMED));
	}
	for (unsigned int p = 0; p < PROBE_MAX_PORTS; p++) {
		char key[64];

		if (!port_is_sampled(&t, p))
			continue;
#define PRINT_SP(name, text) \
		snprintf(key, sizeof(key), "selector_%" PRIu64 "_" #name, PROBE_SELECTOR_ID(p)); \
		fprintf(out, "  %-28s %" PRIu64 "  (port %u)\n", key, t.selector[p].name, p);
		DPFIX_SAMPLE_COUNTERS(PRINT_SP)
#undef PRINT_SP
	}
	port_counters_visit(print_summary_port, out);
	add_port_drop_totals(print_summary_total, out);
#define PRINT_X(name, text) fprintf(out, "  %-28s %" PRIu64 "\n", #name, xc.name);
	EXPORTER_COUNTERS(PRINT_X)
#undef PRINT_X
	print_summary_lanes(out, x);
	fflush(out);
}

struct json_ctx {
	FILE *out;
	const char *indent;
	int port;       /* the port whose object is open, -1 before the first */
};

static void
json_add(void *ctx, const char *name, uint64_t value)
{
	struct json_ctx *j = ctx;

	/* Every object starts with a member written by the caller, so always a comma. */
	fprintf(j->out, ",\n%s\"%s\": %" PRIu64, j->indent, name, value);
}

/* One object per port: {"port": N, "rx_missed": ...}. */
static void
json_port(void *ctx, uint16_t port, const char *name, uint64_t value)
{
	struct json_ctx *j = ctx;

	if (j->port != port) {
		char dev[RTE_ETH_NAME_MAX_LEN] = "";

		rte_eth_dev_get_name_by_port(port, dev);
		fprintf(j->out, "%s\n    {\n      \"port\": %u,\n      \"name\": \"%s\"",
				j->port < 0 ? "" : "\n    },", port, dev);
		j->port = port;
	}
	fprintf(j->out, ",\n      \"%s\": %" PRIu64, name, value);
}

int
stats_write_json(FILE *out, struct worker_ctx *workers, unsigned int nb_workers,
		const struct exporter_ctx *x)
{
	struct exporter_counters xc;
	struct totals t;
	struct json_ctx j = {.out = out, .indent = "    "};

	sum_totals(workers, nb_workers, &t);
	exporter_counters(x, &xc);
	fprintf(out, "{\n  \"totals\": {\n    \"workers\": %u", nb_workers);
	visit_counters(&t, json_add, &j);
	add_port_drop_totals(json_add, &j);
	fprintf(out, "\n  },\n  \"workers\": [");
	j.indent = "      ";
	for (unsigned int i = 0; i < nb_workers; i++) {
		sum_totals(&workers[i], 1, &t);
		fprintf(out, "%s\n    {\n      \"worker\": %u,\n      \"lcore\": %u", i ? "," : "", i,
				workers[i].lcore_id);
		visit_counters(&t, json_add, &j);
		fprintf(out, "\n    }");
	}
	fprintf(out, "\n  ],\n  \"ports\": [");
	j.port = -1;
	port_counters_visit(json_port, &j);
	fprintf(out, "%s\n  ],\n  \"exporter\": {\n    \"bytes_sent\": %" PRIu64,
			j.port < 0 ? "" : "\n    }", xc.bytes_sent);
	j.indent = "    ";
#define JSON_X(name, text) json_add(&j, #name, xc.name);
	EXPORTER_COUNTERS(JSON_X)
	/* Each export lane: replicate, one per collector; failover, the one. */
	fprintf(out, "\n  },\n  \"collectors\": [");
	j.indent = "      ";
	for (unsigned int k = 0; k < x->nb_lanes; k++) {
		lane_counters(&x->lanes[k], &xc);
		fprintf(out, "%s\n    {\n      \"collector\": %u,\n      \"url\": \"%s\",\n"
				"      \"bytes_sent\": %" PRIu64, k ? "," : "", k + 1,
				lane_collector(&x->lanes[k]), xc.bytes_sent);
		EXPORTER_COUNTERS(JSON_X)
		fprintf(out, "\n    }");
	}
#undef JSON_X
	fprintf(out, "\n  ]\n}\n");
	return ferror(out) ? -EIO : 0;
}
