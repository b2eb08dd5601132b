/* Option table, defaults and argument handling of dpfix-probe. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_export_config.h"
#include "dpfix_measure.h"
#include "dpfix_parse.h"
#include "dpfix_session_config.h"
#include "dpfix_xdp_user.h"
#include "probe_config.h"

#define OPT(key, type, field, def, min, max, help) \
	DPFIX_CONFIG_OPTION_DEFAULT(struct probe_settings, key, type, field, def, min, max, help)
#define MS_PER_DAY (86400ull * 1000)

/* sampling = PORT:ALGORITHM:n:N[:name=value...], PORT a DPDK port id or "all". A later
 * line for the same port replaces an earlier one, as for every other key. */
static int
parse_sampling(void *settings, const char *value, const char *origin, char *err, size_t errlen)
{
	struct probe_settings *s = settings;
	char why[DPFIX_CONFIG_ERRLEN];
	const char *colon = strchr(value, ':');
	size_t port_len = colon != NULL ? (size_t)(colon - value) : 0;
	unsigned int port = 0;
	struct probe_sampling entry = {.set = true};

	if (colon == NULL || port_len == 0) {
		snprintf(err, errlen, "%s: sampling '%s' is not PORT:ALGORITHM:n:N[:name=value...] "
				"(e.g. 0:systematic:1:100; PORT a port id or all)", origin, value);
		return -EINVAL;
	}
	if (port_len == 3 && strncmp(value, "all", 3) == 0) {
		port = PROBE_SAMPLING_ALL;
	} else {
		for (size_t i = 0; i < port_len; i++) {
			if (!isdigit((unsigned char)value[i]) || port >= PROBE_MAX_PORTS) {
				snprintf(err, errlen, "%s: sampling '%s': port '%.*s' is not a port id "
						"0..%d or all", origin, value, (int)port_len, value,
						PROBE_MAX_PORTS - 1);
				return -EINVAL;
			}
			port = port * 10 + (unsigned int)(value[i] - '0');
		}
		if (port >= PROBE_MAX_PORTS) {
			snprintf(err, errlen, "%s: sampling '%s': port %u is not a port id 0..%d or all",
					origin, value, port, PROBE_MAX_PORTS - 1);
			return -EINVAL;
		}
	}
	if (dpfix_sample_parse(colon + 1, &entry.params, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: sampling '%s': %s", origin, value, why);
		return -EINVAL;
	}
	snprintf(entry.origin, sizeof(entry.origin), "%s", origin);
	s->sampling[port] = entry;
	return 0;
}

/* xdp_pass = ADDRESS[:PROTOCOL[:PORT]], repeatable. */
static int
parse_xdp_pass(void *settings, const char *value, const char *origin, char *err, size_t errlen)
{
	struct probe_settings *s = settings;
	char why[DPFIX_CONFIG_ERRLEN];

	if (s->nb_xdp_pass == DPFIX_XDP_MAX_RULES) {
		snprintf(err, errlen, "%s: xdp_pass: more than %d rules", origin, DPFIX_XDP_MAX_RULES);
		return -EINVAL;
	}
	if (dpfix_xdp_rule_parse(value, &s->xdp_pass[s->nb_xdp_pass], why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: xdp_pass %s", origin, why);
		return -EINVAL;
	}
	s->nb_xdp_pass++;
	return 0;
}

const struct probe_sampling *
probe_sampling_of_port(const struct probe_settings *s, uint16_t port)
{
	if (port < PROBE_MAX_PORTS && s->sampling[port].set)
		return &s->sampling[port];
	if (s->sampling[PROBE_SAMPLING_ALL].set)
		return &s->sampling[PROBE_SAMPLING_ALL];
	return NULL;
}

/* collector = SCHEME://HOST:PORT, repeatable, the first the primary. The config file's
 * lines replace the default and the command line's replace the file's (the command line
 * overrides the file), in the order given. */
static int
parse_collector(void *settings, const char *value, const char *origin, char *err, size_t errlen)
{
	struct probe_settings *s = settings;
	int from = strcmp(origin, "default") == 0 ? 0 : strncmp(origin, "--", 2) == 0 ? 2 : 1;
	struct dpfix_endpoint ep;
	char why[DPFIX_CONFIG_ERRLEN];

	if (from != s->collectors_origin) {
		s->nb_collectors = 0;
		s->collectors_origin = from;
	}
	if (s->nb_collectors == PROBE_MAX_COLLECTORS) {
		snprintf(err, errlen, "%s: collector %s: at most %d collectors", origin, value,
				PROBE_MAX_COLLECTORS);
		return -EINVAL;
	}
	if (strlen(value) >= sizeof(s->collectors[0]) ||
			dpfix_endpoint_parse(value, &ep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: collector %s: %s", origin, value,
				strlen(value) >= sizeof(s->collectors[0]) ? "too long" : why);
		return -EINVAL;
	}
	snprintf(s->collectors[s->nb_collectors++], sizeof(s->collectors[0]), "%s", value);
	return 0;
}

static const char *const collector_mode_names[] = {"failover", "replicate", NULL};

const struct dpfix_config_option probe_options[] = {
	{"collector", DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, "where records go, repeatable, the first "
		"the primary: SCHEME://HOST:PORT", NULL, parse_collector, "SCHEME://HOST:PORT",
		"udp://127.0.0.1:4739", dpfix_session_config_schemes},
	DPFIX_CONFIG_CHOICE_OPTION(struct probe_settings, "collector_mode", collector_mode,
		collector_mode_names, "failover", "with several collectors: failover (to the first "
		"that works, back to the primary once it answers again) or replicate (every record "
		"to every collector, each with its own session)"),
	OPT("replicate_backlog", DPFIX_CONFIG_U32, replicate_backlog, "16777216", 0, 1u << 30,
		"bytes: replicate, per collector: records kept while its session cannot take them "
		"and the others do; beyond, counted lost for it (doc/sessions.md)"),
	OPT("failback_interval", DPFIX_CONFIG_DURATION, failback_interval_ms, "5", 100, MS_PER_DAY,
		"failover: while export is on a backup, try the primary this often"),
	DPFIX_SESSION_SCTP_UDP_PORT_OPTION(struct probe_settings, sctp_udp_port),
	DPFIX_EXPORT_OPTIONS(struct probe_settings),
	OPT("session_lifetime", DPFIX_CONFIG_DURATION, session_lifetime_ms, "0", 0, MS_PER_DAY,
		"hand export over to a new session (handshake) this often, instead of renegotiating: "
		"the old one carries data until the new one is up; 0 = never; changes with SIGHUP"),
	OPT("session_bytes", DPFIX_CONFIG_U64, session_bytes, "0", 0, UINT64_MAX,
		"hand export over to a new session after this many IPFIX bytes on one (a key's "
		"usage limit); 0 = never; changes with SIGHUP"),
	OPT("psk_identity", DPFIX_CONFIG_STRING, security.psk_identity, NULL, 0, 0,
		"(D)TLS with a pre-shared key: this exporter's identity, its FQDN"),
	DPFIX_SESSION_SECURITY_OPTIONS(struct probe_settings, security),
	OPT("keylog_file", DPFIX_CONFIG_STRING, security.keylog_file, NULL, 0, 0,
		"DEBUG ONLY: append TLS 1.2/DTLS 1.2 session keys (NSS key log format) to this file"),
	OPT("idle_timeout", DPFIX_CONFIG_DURATION, idle_timeout_ms, "15", 1, MS_PER_DAY,
		"end a flow after this long without packets"),
	OPT("active_timeout", DPFIX_CONFIG_DURATION, active_timeout_ms, "120", 1, MS_PER_DAY,
		"export a long-lived flow at least this often"),
	OPT("tcp_end_wait", DPFIX_CONFIG_DURATION, tcp_end_wait_ms, "2", 0, MS_PER_DAY,
		"after a TCP FIN or RST, end the flow once it is this long without packets, "
		"flowEndReason 3; at most idle_timeout"),
	OPT("options_interval", DPFIX_CONFIG_DURATION, options_interval_ms, "60", 1000, MS_PER_DAY,
		"export the statistics options records (RFC 7011 4) and interface names this "
		"often, and once at start and at the end"),
	OPT("log_level", DPFIX_CONFIG_U32, log_level, "0", 0, 8,
		"DPDK's global log level: 1 emergency .. 8 debug, 0: as the EAL options set it; "
		"changes with SIGHUP"),
	OPT("stats_interval", DPFIX_CONFIG_DURATION, stats_interval_ms, "10", 0, MS_PER_DAY,
		"print progress this often, 0 = never"),
	OPT("input_end_idle", DPFIX_CONFIG_DURATION, input_end_idle_ms, "0.25", 10, 60000,
		"with pcap-file input only: no packet for this long means end of input"),
	OPT("observation_domain", DPFIX_CONFIG_U32, observation_domain, "1", 0, UINT32_MAX,
		"IPFIX observation domain id"),
	OPT("flow_table_size", DPFIX_CONFIG_U32, flow_table_size, "65536", 1024, 1u << 28,
		"most flows each worker holds at once"),
	OPT("path_mtu_discovery", DPFIX_CONFIG_BOOL, path_mtu_discovery, "yes", 0, 1,
		"udp and sctp export, with or without DTLS: the base path MTU (1200 IPv4, 1280 IPv6) "
		"until probes confirm more, up to export_mtu (dtls+udp, dtls+sctp to a dpfix collector; "
		"doc/path-mtu.md); no: export_mtu is the path MTU"),
	OPT("export_ring_size", DPFIX_CONFIG_U32, export_ring_size, "8192", 64, 1u << 24,
		"records queued from each worker to the exporter, power of 2"),
	OPT("mbuf_count", DPFIX_CONFIG_U32, mbuf_count, "16383", 1024, 1u << 24,
		"packet buffers in the pool"),
	OPT("rx_ring_size", DPFIX_CONFIG_U32, rx_ring_size, "1024", 64, 32768,
		"receive descriptors per queue"),
	DPFIX_CONFIG_FLAGS_OPTION(struct probe_settings, "flow_key", flow_key, dpfix_key_field_names,
		"fields the flow key holds besides IP version, addresses, protocol and ports "
		"(default none)"),
	OPT("vxlan_inner", DPFIX_CONFIG_BOOL, vxlan_inner, "no", 0, 1,
		"meter the packet inside VXLAN instead of the tunnel's UDP flow"),
	OPT("vxlan_port", DPFIX_CONFIG_U32, vxlan_port, DPFIX_CONFIG_TEXT(DPFIX_VXLAN_PORT), 1, 65535,
		"UDP destination port of VXLAN"),
	DPFIX_CONFIG_CUSTOM_OPTION("sampling", parse_sampling, "PORT:ALGORITHM:n:N[:name=value...]",
		"packet selection (PSAMP) on a port, repeatable: systematic (the first n of every N "
		"packets), random (n of every N at random; seed=), hash (hash of invariant content "
		"in the lowest n/N of the range; seed=, payload_offset=, payload_size=); PORT a "
		"port id or all (default: every packet)"),
	DPFIX_CONFIG_CUSTOM_OPTION("xdp_pass", parse_xdp_pass, "ADDRESS[:PROTOCOL[:PORT]]",
		"net_af_xdp ports: frames to this address (and protocol, and either port) stay "
		"with the kernel, with ARP and neighbour discovery for it: the host's own "
		"management and export traffic; repeatable (default: every frame is captured)"),
	OPT("fragment_map_size", DPFIX_CONFIG_U32, fragment_map_size, "4096", 4, 1u << 24,
		"fragmented datagrams each worker follows at once"),
	OPT("fragment_timeout", DPFIX_CONFIG_DURATION, fragment_timeout_ms, "30", 1, 3600000,
		"forget a fragmented datagram after this long without a fragment"),
	OPT("stats_json", DPFIX_CONFIG_STRING, stats_json, NULL, 0, 0,
		"at exit, write every counter (totals and per worker) to this file as one JSON "
		"object"),
	OPT("biflow", DPFIX_CONFIG_BOOL, biflow, "no", 0, 1,
		"RFC 5103 biflows: both directions of a connection in one record, the reverse "
		"direction's counters as reverse elements (PEN 29305); multi-queue ports get a "
		"symmetric RSS key"),
	DPFIX_CONFIG_FLAGS_OPTION(struct probe_settings, "measures", measures, dpfix_measure_names,
		"what flow records carry besides their own fields: any of tcp (flag counts, "
		"handshake round-trip times), http, tls, dns, app (applicationId), lengths, tunnel, "
		"rtp (jitter), joined by ',', or none; new template ids (default none)"),
	OPT("measure_payload_packets", DPFIX_CONFIG_U32, measure_payload_packets,
		DPFIX_CONFIG_TEXT(DPFIX_MEASURE_PAYLOAD_PACKETS_DEFAULT), 1, 64,
		"the measures read payload in this many first packets of each direction of a "
		"record, one segment each"),
	OPT("packet_timestamps", DPFIX_CONFIG_BOOL, packet_timestamps, "yes", 0, 1,
		"use the port's receive timestamps (pcap: capture time) when offered"),
	{NULL, 0, 0, 0, 0, 0, NULL},
};

/* The defaults are in the option table (default_value): one place. */
void
probe_settings_defaults(struct probe_settings *s)
{
	char err[DPFIX_CONFIG_ERRLEN];

	memset(s, 0, sizeof(*s));
	if (dpfix_config_defaults(probe_options, s, err, sizeof(err)) < 0)
		abort(); /* a default its own parser refuses: a defect in the table */
}

static void
print_usage(void)
{
	printf("usage: dpfix-probe [EAL options] -- [--config FILE] [options]\n\n"
		"Meters the packets of the DPDK ports (NICs, or vdevs such as\n"
		"--vdev net_pcap0,rx_pcap=FILE) into flows and exports them as IPFIX.\n"
		"Options on the command line override the config file, whose keys are\n"
		"the same names with '_' (\"idle_timeout = 30\").\n\n"
		"  --config FILE                      read settings from FILE\n");
	dpfix_config_print_help(probe_options, stdout);
}

int
probe_settings_from_args(struct probe_settings *s, int argc, char **argv, char *err, size_t errlen)
{
	int ret = dpfix_config_from_args(probe_options, s, argc, argv, err, errlen);

	if (ret == 1)
		print_usage();
	if (ret != 0)
		return ret;
	return probe_settings_check(s, err, errlen);
}

int
probe_settings_check(const struct probe_settings *s, char *err, size_t errlen)
{
	if (s->export_ring_size & (s->export_ring_size - 1)) {
		snprintf(err, errlen, "export_ring_size %u is not a power of 2", s->export_ring_size);
		return -EINVAL;
	}
	if (dpfix_export_config_check(s->heartbeat_interval_ms, err, errlen) < 0)
		return -EINVAL;
	if (s->active_timeout_ms < s->idle_timeout_ms) {
		snprintf(err, errlen, "active_timeout %.3g s is shorter than idle_timeout %.3g s",
				s->active_timeout_ms / 1000.0, s->idle_timeout_ms / 1000.0);
		return -EINVAL;
	}
	return 0;
}
