/* The probe's settings: one table of options read from the config file and the
 * command line (which overrides the file). */
#ifndef PROBE_CONFIG_H
#define PROBE_CONFIG_H

#include <stdint.h>

#include "dpfix_config.h"
#include "dpfix_sample.h"
#include "dpfix_session.h"
#include "dpfix_xdp.h"

/* Ports a sampling line can name: RTE_MAX_ETHPORTS of the DPDK build (checked in
 * main.c), kept here so the settings need no DPDK header. */
#define PROBE_MAX_PORTS 32
/* The sampling entry that applies to every port without one of its own. */
#define PROBE_SAMPLING_ALL PROBE_MAX_PORTS

/* One port's packet selector (PSAMP), from a `sampling` line. */
struct probe_sampling {
	bool set;
	struct dpfix_sample_params params;
	char origin[96];        /* "probe.conf:7" or "--sampling": for errors at start-up */
};

/* Collectors a probe exports to (`collector` lines, the first the primary). */
#define PROBE_MAX_COLLECTORS 8

enum probe_collector_mode {
	PROBE_COLLECTORS_FAILOVER,      /* to the first live one, back to the primary */
	PROBE_COLLECTORS_REPLICATE,     /* every record to every collector */
};

struct probe_settings {
	char collectors[PROBE_MAX_COLLECTORS][320];
	unsigned int nb_collectors;
	int collectors_origin;          /* where they came from: 0 default, 1 file, 2 command line */
	uint32_t collector_mode;        /* enum probe_collector_mode */
	uint64_t failback_interval_ms;
	uint32_t replicate_backlog;     /* bytes per collector (replicate) */
	uint64_t idle_timeout_ms;
	uint64_t active_timeout_ms;
	uint64_t tcp_end_wait_ms;
	uint64_t template_refresh_ms;
	uint64_t options_interval_ms;   /* RFC 7011 4 statistics and interface records */
	uint64_t export_flush_ms;
	uint64_t session_lifetime_ms;   /* planned hand-off after this long; 0: never */
	uint64_t session_bytes;         /* planned hand-off after this many bytes; 0: never */
	uint64_t stats_interval_ms;
	uint32_t log_level;             /* DPDK's global log level 1-8; 0: as EAL set it */
	uint64_t input_end_idle_ms;
	uint32_t observation_domain;
	uint32_t flow_table_size;
	uint32_t export_mtu;
	int path_mtu_discovery;
	uint32_t export_ring_size;
	uint32_t mbuf_count;
	uint32_t rx_ring_size;
	uint32_t flow_key;              /* DPFIX_KEY_* bits */
	int vxlan_inner;
	uint32_t vxlan_port;
	uint32_t fragment_map_size;
	uint64_t fragment_timeout_ms;
	int biflow;
	uint32_t measures;              /* DPFIX_MEASURE_* bits (lib/measure) */
	uint32_t measure_payload_packets;
	char stats_json[256];
	int packet_timestamps;
	uint32_t sctp_udp_port;
	int sctp_data_unordered;
	uint64_t sctp_data_lifetime_ms;
	uint64_t heartbeat_interval_ms; /* 0: no heartbeats offered */
	uint32_t heartbeat_misses;
	uint32_t replay_buffer;         /* bytes; 0: no replay */
	struct probe_sampling sampling[PROBE_MAX_PORTS + 1]; /* by port; then "all" */
	/* net_af_xdp with dpfix's XDP program: frames that stay with the kernel. */
	unsigned int nb_xdp_pass;
	struct dpfix_xdp_rule xdp_pass[DPFIX_XDP_MAX_RULES];
	struct dpfix_security_params security;
};

extern const struct dpfix_config_option probe_options[];

void probe_settings_defaults(struct probe_settings *s);

/* Parses the application arguments (those after EAL's "--"): --config FILE first,
 * then every --option VALUE over it. Returns 0, 1 for --help (printed), or -EINVAL
 * with err filled in. */
int probe_settings_from_args(struct probe_settings *s, int argc, char **argv, char *err,
		size_t errlen);

/* The selector configured for port (its own line, else an "all" line), or NULL. */
const struct probe_sampling *probe_sampling_of_port(const struct probe_settings *s,
		uint16_t port);

/* Cross-option checks that no single option can make. */
int probe_settings_check(const struct probe_settings *s, char *err, size_t errlen);

#endif
