/* dpfix-mediator: lib/collect's Collecting Process -> lib/mediate's Intermediate
 * Processes -> lib/export's Exporting Processes, configured from --config FILE and the
 * command line, run until SIGINT or SIGTERM; then what arrived is read, every session
 * ended in order, and a summary printed. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_collect.h"
#include "dpfix_ipfix.h"
#include "dpfix_log.h"
#include "dpfix_mediate.h"
#include "dpfix_session.h"
#include "mediator_config.h"

#define PROGRAM "dpfix-mediator"
#define SHUTDOWN_DRAIN_MS 10000 /* at most this long reading what arrived before a stop */

/* Seed 003 6.1 and 6.2: no downgrade unless allowed (then warned every hour), and an
 * upgrade said. 0, or -1 when refused (said). */
static int
check_security(const struct mediator_settings *cfg, struct dpfix_mediate_params *mp)
{
	const char *listen[DPFIX_CONFIG_LIST_MAX], *collectors[DPFIX_CONFIG_LIST_MAX];
	char err[DPFIX_SESSION_ERRLEN], upgrade[DPFIX_SESSION_ERRLEN];

	for (unsigned int i = 0; i < cfg->listen.count; i++)
		listen[i] = cfg->listen.items[i];
	for (unsigned int i = 0; i < cfg->collector.count; i++)
		collectors[i] = cfg->collector.items[i];
	if (dpfix_mediate_check_security(listen, cfg->listen.count, collectors,
			cfg->collector.count, err, sizeof(err), upgrade, sizeof(upgrade)) < 0) {
		if (!cfg->allow_security_downgrade) {
			dpfix_log(DPFIX_LOG_ERROR, "%s", err);
			return -1;
		}
		snprintf(mp->hourly_warning, sizeof(mp->hourly_warning), "SECURITY DOWNGRADE ALLOWED "
				"(allow_security_downgrade = yes): %.400s", err);
	}
	if (upgrade[0] != '\0')
		dpfix_log(DPFIX_LOG_INFO, "%s", upgrade);
	return 0;
}

static void
json_counter(FILE *out, int *first, const char *name, uint64_t value)
{
	fprintf(out, "%s\"%s\": %" PRIu64, *first ? "" : ", ", name, value);
	*first = 0;
}

/* --stats-json: every counter, the Collecting Process's and the Mediator's. */
static int
write_stats_json(const char *path, const struct dpfix_collect *c, const struct dpfix_mediate *m)
{
	FILE *out = fopen(path, "w");
	struct dpfix_collect_stats st;
	int first = 1;

	if (out == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "stats_json %s: %s", path, strerror(errno));
		return -1;
	}
	dpfix_collect_stats(c, &st);
	fprintf(out, "{\"collect\": {");
	json_counter(out, &first, "flows", st.flow_records);
	json_counter(out, &first, "options_records", st.options_records);
	json_counter(out, &first, "packets", st.packets);
	json_counter(out, &first, "octets", st.octets);
#define SHOW(name, text) json_counter(out, &first, #name, st.decode.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
#define SHOW(name, text) json_counter(out, &first, #name, st.name);
	DPFIX_COLLECT_SESSION_COUNTERS(SHOW)
#undef SHOW
#define SHOW(name, text) json_counter(out, &first, #name, st.listeners.name);
	DPFIX_LISTENER_COUNTERS(SHOW)
#undef SHOW
	json_counter(out, &first, "unread_after_stop", dpfix_collect_unread_after_stop(c));
	fprintf(out, "}, ");
	dpfix_mediate_write_json(m, out);
	fprintf(out, "}\n");
	return fclose(out) == 0 ? 0 : -1;
}

static struct dpfix_mediate *
create_mediator(const struct mediator_settings *cfg, struct dpfix_mediate_params *mp)
{
	char err[DPFIX_CONFIG_ERRLEN];
	struct dpfix_mediate *m;

	mp->keep_domains = cfg->keep_domains;
	mp->domain = cfg->domain;
	mp->original_exporter = cfg->original_exporter;
	mp->template_refresh_ns = cfg->template_refresh_ms * 1000000ull;
	mp->flush_ns = cfg->export_flush_ms * 1000000ull;
	mp->options_interval_ns = cfg->options_interval_ms * 1000000ull;
	mp->backlog_bytes = cfg->backlog_memory;
	/* As the probe's: no replay where PR-SCTP gives records up on purpose. */
	mp->replay_bytes = cfg->sctp_data_lifetime_ms != 0 ? 0 : cfg->replay_buffer;
	mp->session_lifetime_ns = cfg->session_lifetime_ms * 1000000ull;
	mp->session = (struct dpfix_session_params){.mtu = cfg->export_mtu,
		.sctp_udp_port = (uint16_t)cfg->sctp_udp_port,
		.sctp_data_unordered = (uint8_t)cfg->sctp_data_unordered,
		.sctp_data_pr_ttl_ms = (uint32_t)cfg->sctp_data_lifetime_ms,
		.heartbeat_interval_ms = (uint32_t)cfg->heartbeat_interval_ms,
		.heartbeat_misses = cfg->heartbeat_misses,
		.security = cfg->security};
	memcpy(mp->processes, cfg->processes, sizeof(cfg->processes));
	mp->process_count = cfg->process_count;
	m = dpfix_mediate_create(mp, err, sizeof(err));
	if (m == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s", err);
		return NULL;
	}
	for (unsigned int i = 0; i < cfg->collector.count; i++) {
		if (dpfix_mediate_add_collector(m, cfg->collector.items[i], err, sizeof(err)) < 0) {
			dpfix_log(DPFIX_LOG_ERROR, "--collector %s: %s", cfg->collector.items[i], err);
			dpfix_mediate_free(m);
			return NULL;
		}
		dpfix_log(DPFIX_LOG_INFO, "exporting to %s", cfg->collector.items[i]);
	}
	return m;
}

static struct dpfix_collect *
create_collector(const struct mediator_settings *cfg)
{
	char err[DPFIX_CONFIG_ERRLEN];
	struct dpfix_security_params inbound = cfg->security;
	struct dpfix_collect *c;

	snprintf(inbound.peer_name, sizeof(inbound.peer_name), "%s", cfg->listen_peer_name);
	c = dpfix_collect_create(&(struct dpfix_collect_params){
			.max_sessions = cfg->max_sessions,
			.first_message_timeout_ms = cfg->first_message_timeout_ms,
			.template_lifetime_s = cfg->template_lifetime_s,
			.template_memory = cfg->template_memory,
			.session = {.mtu = cfg->mtu, .sctp_udp_port = (uint16_t)cfg->sctp_udp_port,
				.security = inbound, .udp_receive_buffer = cfg->udp_receive_buffer,
				.handshake_timeout_ms = (uint32_t)cfg->handshake_timeout_ms},
		}, err, sizeof(err));
	if (c == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s", err);
		return NULL;
	}
	for (unsigned int i = 0; i < cfg->listen.count; i++) {
		if (dpfix_collect_listen(c, cfg->listen.items[i], err, sizeof(err)) < 0) {
			dpfix_log(DPFIX_LOG_ERROR, "--listen %s: %s", cfg->listen.items[i], err);
			dpfix_collect_free(c);
			return NULL;
		}
	}
	return c;
}

int
main(int argc, char **argv)
{
	static struct mediator_settings cfg;
	static struct dpfix_mediate_params mp;
	struct dpfix_collect_signals sig;
	char err[DPFIX_CONFIG_ERRLEN], lost[512];
	struct dpfix_collect_sink sink;
	struct dpfix_collect *c;
	struct dpfix_mediate *m;
	int ret;

	dpfix_log_setup(PROGRAM, DPFIX_LOG_INFO);
	if (dpfix_collect_signals_open(&sig) < 0)
		return 1;
	ret = mediator_settings_from_args(&cfg, argc - 1, argv + 1, err, sizeof(err));
	if (ret != 0) {
		if (ret < 0 && err[0] != '\0')
			dpfix_log(DPFIX_LOG_ERROR, "%s", err);
		return ret < 0;
	}
	dpfix_log_setup(PROGRAM, cfg.log_level);
	if (dpfix_ipfix_ie_load_files(&cfg.elements, err, sizeof(err)) < 0) {
		dpfix_log(DPFIX_LOG_ERROR, "--elements %s", err);
		return 1;
	}
	if (check_security(&cfg, &mp) < 0)
		return 1;
	c = create_collector(&cfg);
	if (c == NULL)
		return 1;
	m = create_mediator(&cfg, &mp);
	if (m == NULL) {
		dpfix_collect_free(c);
		return 1;
	}
	dpfix_mediate_sink(m, &sink);
	dpfix_collect_add_sink(c, &sink);
	for (unsigned int i = 0; i < cfg.listen.count; i++)
		dpfix_log(DPFIX_LOG_INFO, "listening on %s", cfg.listen.items[i]);

	dpfix_collect_run(c, &sig.stop);
	dpfix_collect_drain_after_signal(c, &sig, SHUTDOWN_DRAIN_MS, ", then ending every session");
	dpfix_collect_finish(c, "closed at shutdown");
	dpfix_collect_write_summary(c, PROGRAM, stdout);
	dpfix_mediate_write_summary(m, stdout);
	/* 2: data was lost, coming in (the collector summary's last line names how) or on
	 * the way out (the Mediator's sink counts what it lost). */
	ret = dpfix_collect_loss(c, lost, sizeof(lost)) ? 2 : 0;
	if (cfg.stats_json[0] != '\0' && write_stats_json(cfg.stats_json, c, m) < 0 && ret == 0)
		ret = 1;
	dpfix_collect_free(c);
	return ret;
}
