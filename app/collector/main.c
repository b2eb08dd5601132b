/* dpfix-collector: the Collecting Process of lib/collect with its sinks (records as
 * text, JSON, RFC 5655 files), configured from --config FILE and the command line, run
 * until SIGINT or SIGTERM, then a summary. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collector_config.h"
#include "dpfix_collect.h"
#include "dpfix_ipfix.h"
#include "dpfix_log.h"
#include "dpfix_session.h"

#define PROGRAM "dpfix-collector"
#define FD_MARGIN 64         /* descriptors besides the sessions': listeners, files, stdio */
#define SHUTDOWN_DRAIN_MS 10000 /* at most this long reading what arrived before a stop */

/* The outputs: records printed (unless quiet), as JSON, and messages stored. */
static int
add_sinks(struct dpfix_collect *c, const struct collector_settings *cfg, FILE **json_out)
{
	struct dpfix_collect_sink sink;
	char err[DPFIX_CONFIG_ERRLEN];

	if (!cfg->quiet && (dpfix_collect_sink_text(stdout, &sink) < 0 ||
			dpfix_collect_add_sink(c, &sink) < 0))
		return -1;
	if (cfg->json[0] != '\0') {
		*json_out = strcmp(cfg->json, "-") == 0 ? stdout : fopen(cfg->json, "w");
		if (*json_out == NULL) {
			dpfix_log(DPFIX_LOG_ERROR, "--json %s: %s", cfg->json, strerror(errno));
			return -1;
		}
		if (dpfix_collect_sink_json(*json_out, &sink) < 0 || dpfix_collect_add_sink(c, &sink) < 0)
			return -1;
	}
	if (cfg->write[0] != '\0') {
		struct dpfix_collect_file_params fp = {
			.path = cfg->write, .rotate_bytes = cfg->write_rotate_size,
			.rotate_interval_ms = cfg->write_rotate_interval_ms, .details = cfg->write_details,
		};

		if (dpfix_collect_sink_file(&fp, &sink, err, sizeof(err)) < 0) {
			dpfix_log(DPFIX_LOG_ERROR, "--write: %s", err);
			return -1;
		}
		if (dpfix_collect_add_sink(c, &sink) < 0)
			return -1;
	}
	if (cfg->clickhouse.url[0] != '\0') {
		struct dpfix_clickhouse_params cp;

		dpfix_clickhouse_params_from(&cfg->clickhouse, &cp);
		if (dpfix_collect_sink_clickhouse(&cp, &sink, err, sizeof(err)) < 0) {
			dpfix_log(DPFIX_LOG_ERROR, "--clickhouse: %s", err);
			return -1;
		}
		if (dpfix_collect_add_sink(c, &sink) < 0)
			return -1;
	}
	return 0;
}

/* Each TCP, TLS and SCTP session holds a descriptor: max_sessions must fit under
 * RLIMIT_NOFILE. The soft limit is raised to what is needed (up to the hard limit);
 * past that, max_sessions is lowered, and said. */
static uint32_t
fit_descriptors(uint32_t max_sessions)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_sessions + FD_MARGIN;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return max_sessions;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return max_sessions;
	dpfix_log(DPFIX_LOG_WARNING, "max_sessions %u needs %llu descriptors, "
			"RLIMIT_NOFILE allows %llu (raise it with ulimit -n): at most %llu sessions",
			max_sessions, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
			(unsigned long long)(rl.rlim_cur - FD_MARGIN));
	return (uint32_t)(rl.rlim_cur - FD_MARGIN);
}

int
main(int argc, char **argv)
{
	static struct collector_settings cfg;
	struct dpfix_collect_signals sig;
	char err[DPFIX_CONFIG_ERRLEN], lost[512];
	struct dpfix_collect *c;
	FILE *json_out = NULL;
	int ret;

	dpfix_log_setup(PROGRAM, DPFIX_LOG_INFO);
	if (dpfix_collect_signals_open(&sig) < 0)
		return 1;
	ret = collector_settings_from_args(&cfg, argc - 1, argv + 1, err, sizeof(err));
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
	c = dpfix_collect_create(&(struct dpfix_collect_params){
			.max_sessions = fit_descriptors(cfg.max_sessions),
			.first_message_timeout_ms = cfg.first_message_timeout_ms,
			.template_lifetime_s = cfg.template_lifetime_s,
			.template_memory = cfg.template_memory,
			.session = {.mtu = cfg.mtu, .sctp_udp_port = (uint16_t)cfg.sctp_udp_port,
				.security = cfg.security, .udp_receive_buffer = cfg.udp_receive_buffer,
				.handshake_timeout_ms = (uint32_t)cfg.handshake_timeout_ms},
		}, err, sizeof(err));
	if (c == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s", err);
		return 1;
	}
	for (unsigned int i = 0; i < cfg.listen.count; i++) {
		if (dpfix_collect_listen(c, cfg.listen.items[i], err, sizeof(err)) < 0) {
			dpfix_log(DPFIX_LOG_ERROR, "--listen %s: %s", cfg.listen.items[i], err);
			return 1;
		}
	}
	if (add_sinks(c, &cfg, &json_out) < 0)
		return 1;
	if (dpfix_collect_start_threads(c, cfg.intake_threads, err, sizeof(err)) < 0) {
		dpfix_log(DPFIX_LOG_ERROR, "intake_threads: %s", err);
		return 1;
	}
	for (unsigned int i = 0; i < cfg.listen.count; i++)
		dpfix_log(DPFIX_LOG_INFO, "listening on %s", cfg.listen.items[i]);

	dpfix_collect_run(c, &sig.stop);
	/* What arrived before the signal (a large socket buffer holds seconds of export) is
	 * read and decoded, for a bounded time: an exporter may never stop sending. */
	dpfix_collect_drain_after_signal(c, &sig, SHUTDOWN_DRAIN_MS, "");
	dpfix_collect_finish(c, "closed at shutdown");
	dpfix_collect_write_summary(c, PROGRAM, stdout);
	/* 2: data sent to the collector was lost (the summary's last line names how). */
	ret = dpfix_collect_loss(c, lost, sizeof(lost)) ? 2 : 0;
	dpfix_collect_free(c);
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	return ret;
}
