/* dpfix-mediator's option table (mediator_config.h): defaults, help and checks in one
 * place; the (D)TLS rows are lib/session's, shared with every program with sessions. The
 * Intermediate Processes are keys of their own (select, anonymise, aggregate,
 * correlate), repeatable, chained in the order their lines come. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_collect.h"
#include "dpfix_export_config.h"
#include "dpfix_log.h"
#include "dpfix_session_config.h"
#include "mediator_config.h"

#define OPT(key, type, field, def, min, max, help) \
	DPFIX_CONFIG_OPTION_DEFAULT(struct mediator_settings, key, type, field, def, min, max, help)
#define MS_PER_DAY (86400ull * 1000)

/* Appends a process of kind to the chain, checked where its line is known. */
static int
add_process(struct mediator_settings *cfg, enum dpfix_mediate_process_kind kind,
		const char *value, const char *origin, char *err, size_t errlen)
{
	struct dpfix_mediate_process_spec *spec;
	char why[DPFIX_CONFIG_ERRLEN];

	if (cfg->process_count == DPFIX_MEDIATE_MAX_PROCESSES) {
		snprintf(err, errlen, "%s: more than %d processes", origin, DPFIX_MEDIATE_MAX_PROCESSES);
		return -EINVAL;
	}
	spec = &cfg->processes[cfg->process_count];
	spec->kind = kind;
	if (strlen(value) >= sizeof(spec->text)) {
		snprintf(err, errlen, "%s: %s is longer than %zu characters", origin,
				dpfix_mediate_process_key(kind), sizeof(spec->text) - 1);
		return -EINVAL;
	}
	snprintf(spec->text, sizeof(spec->text), "%s", value);
	if (dpfix_mediate_process_check(spec, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s '%s': %s", origin, dpfix_mediate_process_key(kind),
				value, why);
		return -EINVAL;
	}
	cfg->process_count++;
	return 0;
}

#define PROCESS_PARSER(kind) \
	static int \
	parse_##kind(void *settings, const char *value, const char *origin, char *err, \
			size_t errlen) \
	{ \
		return add_process(settings, DPFIX_MEDIATE_##kind, value, origin, err, errlen); \
	}
PROCESS_PARSER(SELECT)
PROCESS_PARSER(ANONYMISE)
PROCESS_PARSER(AGGREGATE)
PROCESS_PARSER(CORRELATE)

static int
parse_domain(void *settings, const char *value, const char *origin, char *err, size_t errlen)
{
	struct mediator_settings *cfg = settings;
	char *end;
	unsigned long long v;

	if (strcmp(value, "keep") == 0) {
		cfg->keep_domains = 1;
		return 0;
	}
	v = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || v > UINT32_MAX) {
		snprintf(err, errlen, "%s: observation_domain '%s': 'keep' or a domain id 0..%u",
				origin, value, UINT32_MAX);
		return -EINVAL;
	}
	cfg->keep_domains = 0;
	cfg->domain = (uint32_t)v;
	return 0;
}

static const struct dpfix_config_option mediator_options[] = {
	DPFIX_SESSION_ENDPOINT_OPTION(struct mediator_settings, "listen", DPFIX_CONFIG_LIST, listen,
		NULL, "where exporters send, repeatable: SCHEME://ADDR:PORT (e.g. "
		"dtls+udp://0.0.0.0:4740, udp://[::]:4739)"),
	DPFIX_SESSION_ENDPOINT_OPTION(struct mediator_settings, "collector", DPFIX_CONFIG_LIST,
		collector, NULL, "where mediated records go, repeatable (each collector gets all): "
		"SCHEME://HOST:PORT"),
	{"select", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "Intermediate Process, repeatable, chained "
		"in config order: keep the records EXPR matches, e.g. 'protocolIdentifier == 6 and "
		"not destinationIPv4Address in 10.0.0.0/8' (doc/mediator.md)", NULL, parse_SELECT,
		"EXPR"},
	{"anonymise", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "Intermediate Process: 'prefix-preserving "
		"KEYFILE [ELEMENT,...]' (Crypto-PAn), 'truncate ELEMENT/BITS,...' or 'blacken "
		"ELEMENT,...' (RFC 6235)", NULL, parse_ANONYMISE, "METHOD ARGS"},
	{"aggregate", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "Intermediate Process: 'keys=ELEMENT[/BITS],"
		"... [values=...] [active_timeout=S] [idle_timeout=S] [max_flows=N] [by_exporter=no]' "
		"(RFC 7015)", NULL, parse_AGGREGATE, "KEYS..."},
	{"correlate", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "Intermediate Process: pair uniflows into "
		"RFC 5103 biflows: 'biflow [timeout=S] [max_waiting=N]' (doc/mediator.md)", NULL,
		parse_CORRELATE, "biflow [...]"},
	{"observation_domain", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "outgoing observation domain: "
		"'keep' (each record in the domain it came in) or an id (all records in it)", NULL,
		parse_domain, "keep|ID", "keep", NULL},
	OPT("original_exporter", DPFIX_CONFIG_BOOL, original_exporter, "yes", 0, 1,
		"add originalExporterIPv4Address or originalExporterIPv6Address and "
		"originalObservationDomainId to every record (RFC 7119)"),
	OPT("allow_security_downgrade", DPFIX_CONFIG_BOOL, allow_security_downgrade, "no", 0, 1,
		"export in plaintext what came over (D)TLS (refused otherwise, seed 003 6.1); "
		"warned at start and every hour"),
	OPT("psk_identity", DPFIX_CONFIG_STRING, security.psk_identity, NULL, 0, 0,
		"(D)TLS with a pre-shared key: the Mediator's identity towards its collectors (its "
		"FQDN); the psk_file also lists the exporters' identities it accepts"),
	DPFIX_SESSION_SECURITY_OPTIONS(struct mediator_settings, security),
	OPT("listen_peer_name", DPFIX_CONFIG_STRING, listen_peer_name, NULL, 0, 0,
		"X.509: the name exporters' certificates must carry (peer_name is the collectors'); "
		"empty: any the CA signed, named by its CN"),
	OPT("mtu", DPFIX_CONFIG_U32, mtu, DPFIX_CONFIG_TEXT(DPFIX_MTU), 576, 65535,
		"path MTU for DTLS/UDP replies to exporters"),
	OPT("udp_receive_buffer", DPFIX_CONFIG_U32, udp_receive_buffer,
		DPFIX_CONFIG_TEXT(DPFIX_UDP_RECEIVE_BUFFER), 4096, 1u << 30,
		"UDP and DTLS/UDP listeners: socket receive buffer in bytes"),
	DPFIX_SESSION_SCTP_UDP_PORT_OPTION(struct mediator_settings, sctp_udp_port),
	OPT("template_lifetime", DPFIX_CONFIG_U32, template_lifetime_s, "1800", 0, 86400,
		"UDP exporters: seconds after which a template not sent again expires (and is "
		"withdrawn downstream); 0: never"),
	OPT("template_memory", DPFIX_CONFIG_U32, template_memory, "67108864", 0, UINT32_MAX,
		"bytes of exporters' templates held together beyond the 64 KiB each session may "
		"always hold; 0: no limit"),
	OPT("max_sessions", DPFIX_CONFIG_U32, max_sessions, "4096", 1, DPFIX_COLLECT_MAX_SESSIONS,
		"exporter sessions held at once"),
	OPT("first_message_timeout", DPFIX_CONFIG_DURATION, first_message_timeout_ms, "10", 0,
		MS_PER_DAY, "close an exporter session that delivers no valid message this long; "
		"0: never"),
	OPT("handshake_timeout", DPFIX_CONFIG_DURATION, handshake_timeout_ms,
		DPFIX_CONFIG_TEXT(DPFIX_HANDSHAKE_TIMEOUT_S), 100, 3600ull * 1000,
		"close an exporter's (D)TLS session whose handshake is not done this long after "
		"it opened (sessions_handshake_timeout); at least the exporters' connect timeout"),
	DPFIX_EXPORT_OPTIONS(struct mediator_settings),
	OPT("options_interval", DPFIX_CONFIG_DURATION, options_interval_ms, "60", 1000, MS_PER_DAY,
		"export the Mediator's options records this often, and at start and at the end"),
	OPT("session_lifetime", DPFIX_CONFIG_DURATION, session_lifetime_ms, "0", 0, MS_PER_DAY,
		"hand export to each collector over to a new session (handshake) this often, "
		"instead of renegotiating: the old one carries data until the new one is up; "
		"0 = never"),
	OPT("backlog_memory", DPFIX_CONFIG_U32, backlog_memory, "67108864", 0, UINT32_MAX,
		"bytes of records each collector may hold while it has no session that takes "
		"them (reconnecting, a TCP session's probation); past it they are lost and counted"),
	OPT("stats_json", DPFIX_CONFIG_STRING, stats_json, NULL, 0, 0,
		"write every counter to this file as one JSON object at exit"),
	DPFIX_CONFIG_CHOICE_OPTION(struct mediator_settings, "log_level", log_level,
		dpfix_log_level_names, "info", "lines on stderr up to this level"),
	OPT("elements", DPFIX_CONFIG_LIST, elements, NULL, 0, 0,
		"enterprise information elements by name and type (doc/information-elements.md), "
		"for expressions that name them"),
	{NULL, 0, 0, 0, 0, 0, NULL},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: dpfix-mediator [--config FILE] --listen URL [--listen URL ...] "
		"--collector URL [--collector URL ...] [options]\n\n"
		"Receives IPFIX from exporters, passes each record through the Intermediate\n"
		"Processes configured (select, anonymise, aggregate, correlate; in config order)\n"
		"and exports the result to every collector; prints a summary when stopped with\n"
		"SIGINT or SIGTERM. Options on the command line override the config file, whose\n"
		"keys are the same names with '_' (\"collector = tls+tcp://c.example:4740\").\n\n");
	dpfix_config_print_help(mediator_options, out);
}

int
mediator_settings_from_args(struct mediator_settings *cfg, int argc, char **argv, char *err,
		size_t errlen)
{
	int ret = dpfix_config_defaults(mediator_options, cfg, err, errlen);

	if (ret == 0)
		ret = dpfix_config_from_args(mediator_options, cfg, argc, argv, err, errlen);
	if (ret == 1)
		usage(stdout);
	if (ret != 0)
		return ret;
	ret = dpfix_export_config_check(cfg->heartbeat_interval_ms, err, errlen);
	if (ret != 0)
		return ret;
	if (cfg->listen.count == 0 || cfg->collector.count == 0) {
		dpfix_log(DPFIX_LOG_ERROR, "--listen URL and --collector URL are required");
		usage(stderr);
		err[0] = '\0'; /* said */
		return -EINVAL;
	}
	return 0;
}
