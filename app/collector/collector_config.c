/* dpfix-collector's option table (collector_config.h): defaults, help and checks in one
 * place; the (D)TLS rows are lib/session's, shared with every program with sessions. */
#include <errno.h>
#include <stdio.h>

#include "collector_config.h"
#include "dpfix_collect.h"
#include "dpfix_log.h"
#include "dpfix_session_config.h"

#define OPT(key, type, field, def, min, max, help) \
	DPFIX_CONFIG_OPTION_DEFAULT(struct collector_settings, key, type, field, def, min, max, help)

static const struct dpfix_config_option collector_options[] = {
	DPFIX_SESSION_ENDPOINT_OPTION(struct collector_settings, "listen", DPFIX_CONFIG_LIST, listen,
		NULL, "where to receive, repeatable: SCHEME://ADDR:PORT (e.g. "
		"tls+tcp://0.0.0.0:4740, udp://[::]:4739)"),
	OPT("json", DPFIX_CONFIG_STRING, json, NULL, 0, 0,
		"also write one JSON object per record, keyed by IE names (- = stdout)"),
	OPT("write", DPFIX_CONFIG_STRING, write, NULL, 0, 0,
		"also store what is received as an RFC 5655 IPFIX file (with rotation: FILE with "
		"-YYYYMMDDTHHMMSSZ-NNNN before its extension)"),
	OPT("write_rotate_size", DPFIX_CONFIG_U32, write_rotate_size, "0", 0, UINT32_MAX,
		"start a new file before one grows past this many bytes; 0: never"),
	OPT("write_rotate_interval", DPFIX_CONFIG_DURATION, write_rotate_interval_ms, "0", 0,
		366ull * 86400 * 1000, "start a new file at each multiple of this many seconds of "
		"UTC time; 0: never"),
	OPT("write_details", DPFIX_CONFIG_BOOL, write_details, "no", 0, 1,
		"--write: RFC 5655 Message Details with each stored message (reception time, "
		"exporter and collector address and port, transport) and Export Session Details "
		"per session at the end of each file"),
	OPT("quiet", DPFIX_CONFIG_BOOL, quiet, "no", 0, 1, "do not print records; only the summary"),
	DPFIX_CONFIG_CHOICE_OPTION(struct collector_settings, "log_level", log_level,
		dpfix_log_level_names, "info", "lines on stderr up to this level (info: also what "
		"happens to sessions and files)"),
	OPT("elements", DPFIX_CONFIG_LIST, elements, NULL, 0, 0,
		"enterprise information elements to decode by name and type: a file of "
		"'PEN, ElementID, Name, type[, semantics, units, range, reversible]' lines "
		"(doc/information-elements.md)"),
	DPFIX_SESSION_SECURITY_OPTIONS(struct collector_settings, security),
	OPT("mtu", DPFIX_CONFIG_U32, mtu, DPFIX_CONFIG_TEXT(DPFIX_MTU), 576, 65535,
		"path MTU for DTLS/UDP replies"),
	OPT("udp_receive_buffer", DPFIX_CONFIG_U32, udp_receive_buffer,
		DPFIX_CONFIG_TEXT(DPFIX_UDP_RECEIVE_BUFFER), 4096, 1u << 30,
		"UDP and DTLS/UDP listeners: socket receive buffer in bytes, what a burst the "
		"collector falls behind on may fill before datagrams are dropped (beyond "
		"net.core.rmem_max only with CAP_NET_ADMIN, warned otherwise)"),
	DPFIX_SESSION_SCTP_UDP_PORT_OPTION(struct collector_settings, sctp_udp_port),
	OPT("template_lifetime", DPFIX_CONFIG_U32, template_lifetime_s, "1800", 0, 86400,
		"UDP: seconds after which a template not sent again expires, RFC 7011 8.4, and a "
		"session that received nothing is closed; 0: never"),
	OPT("max_sessions", DPFIX_CONFIG_U32, max_sessions, "4096", 1, DPFIX_COLLECT_MAX_SESSIONS,
		"exporter sessions held at once; when full, the one that has delivered no valid "
		"message for the longest makes room, else the newcomer is refused; each TCP, TLS "
		"or SCTP session holds a descriptor (RLIMIT_NOFILE is raised to fit, or this "
		"lowered)"),
	OPT("intake_threads", DPFIX_CONFIG_U32, intake_threads, "1", 1, 64,
		"threads that read and decode exporter sessions: each TCP or TLS session is pinned "
		"to one by its exporter's address; UDP, DTLS/UDP and SCTP sessions stay on the "
		"first, which owns the listeners; the outputs are written under one lock "
		"(doc/collector-threads.md)"),
	OPT("first_message_timeout", DPFIX_CONFIG_DURATION, first_message_timeout_ms, "10", 0,
		86400ull * 1000, "close a session that has delivered no valid IPFIX message this "
		"long after it opened: an idle or half-done TCP/TLS connection, a source of junk "
		"datagrams; 0: never"),
	OPT("handshake_timeout", DPFIX_CONFIG_DURATION, handshake_timeout_ms,
		DPFIX_CONFIG_TEXT(DPFIX_HANDSHAKE_TIMEOUT_S), 100, 3600ull * 1000,
		"close a (D)TLS session whose handshake is not done this long after it opened "
		"(counted in sessions_handshake_timeout); as long as the exporters' own connect "
		"timeout (5 s) or longer, so that none is dropped while it still waits"),
	OPT("template_memory", DPFIX_CONFIG_U32, template_memory, "67108864", 0, UINT32_MAX,
		"bytes of templates the sessions may hold together beyond the 64 KiB each may "
		"always hold (a template takes about 48 bytes and 8 a field); past it a new "
		"template is refused, counted and said; 0: no limit"),
	DPFIX_CLICKHOUSE_OPTIONS(struct collector_settings, clickhouse),
	{NULL, 0, 0, 0, 0, 0, NULL},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: dpfix-collector [--config FILE] --listen URL [--listen URL ...] "
		"[options]\n\n"
		"Receives IPFIX and prints one line per record, then a summary when stopped\n"
		"with SIGINT or SIGTERM. Options on the command line override the config file,\n"
		"whose keys are the same names with '_' (\"listen = tcp://0.0.0.0:4739\").\n\n");
	dpfix_config_print_help(collector_options, out);
}

int
collector_settings_from_args(struct collector_settings *cfg, int argc, char **argv, char *err,
		size_t errlen)
{
	int ret = dpfix_config_defaults(collector_options, cfg, err, errlen);

	if (ret == 0)
		ret = dpfix_config_from_args(collector_options, cfg, argc, argv, err, errlen);
	if (ret == 1)
		usage(stdout);
	if (ret != 0)
		return ret;
	if (cfg->listen.count == 0) {
		dpfix_log(DPFIX_LOG_ERROR, "--listen URL is required");
		usage(stderr);
		err[0] = '\0'; /* said */
		return -EINVAL;
	}
	return 0;
}
