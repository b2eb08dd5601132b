/* dpfix-mediator's settings: one table of options read from --config FILE and the
 * command line (which overrides the file), each with its default. */
#ifndef MEDIATOR_CONFIG_H
#define MEDIATOR_CONFIG_H

#include <stdint.h>

#include "dpfix_config.h"
#include "dpfix_mediate.h"
#include "dpfix_session.h"

/* Everything the Mediator is told, from --config FILE and the command line. */
struct mediator_settings {
	struct dpfix_config_list listen;
	struct dpfix_config_list collector;
	struct dpfix_config_list elements;
	char stats_json[DPFIX_PATH_LEN];
	uint32_t log_level;             /* enum dpfix_log_level */
	int allow_security_downgrade;
	int keep_domains;               /* observation_domain = keep */
	uint32_t domain;                /* observation_domain = N */
	int original_exporter;
	uint32_t mtu;
	uint32_t export_mtu;
	uint32_t udp_receive_buffer;
	uint32_t sctp_udp_port;
	int sctp_data_unordered;
	uint64_t sctp_data_lifetime_ms;
	uint32_t template_lifetime_s;
	uint32_t template_memory;
	uint32_t max_sessions;
	uint64_t first_message_timeout_ms;
	uint64_t handshake_timeout_ms;
	uint64_t template_refresh_ms;
	uint64_t options_interval_ms;
	uint64_t export_flush_ms;
	uint32_t backlog_memory;
	uint64_t heartbeat_interval_ms; /* 0: no heartbeats offered */
	uint32_t heartbeat_misses;
	uint32_t replay_buffer;         /* bytes; 0: no replay */
	uint64_t session_lifetime_ms;   /* planned hand-off after this long; 0: never */
	char listen_peer_name[256];
	struct dpfix_security_params security;
	/* The Intermediate Processes, in the order their lines came. */
	struct dpfix_mediate_process_spec processes[DPFIX_MEDIATE_MAX_PROCESSES];
	unsigned int process_count;
};

/* Defaults, then --config FILE and the options. 0; 1 for --help (printed); -EINVAL
 * with err filled in (empty when said already, with the usage). */
int mediator_settings_from_args(struct mediator_settings *cfg, int argc, char **argv,
		char *err, size_t errlen);

#endif
