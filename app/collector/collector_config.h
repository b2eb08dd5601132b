/* dpfix-collector's settings: one table of options read from --config FILE and the
 * command line (which overrides the file), each with its default. */
#ifndef COLLECTOR_CONFIG_H
#define COLLECTOR_CONFIG_H

#include <stdint.h>

#include "dpfix_clickhouse_config.h"
#include "dpfix_config.h"
#include "dpfix_session.h"

/* Everything the collector is told, from --config FILE and the command line. */
struct collector_settings {
	struct dpfix_config_list listen;
	struct dpfix_config_list elements;
	char json[DPFIX_PATH_LEN];
	char write[DPFIX_PATH_LEN];
	uint32_t write_rotate_size;
	uint64_t write_rotate_interval_ms;
	int write_details;
	int quiet;
	uint32_t log_level;              /* enum dpfix_log_level */
	uint32_t mtu;
	uint32_t udp_receive_buffer;
	uint32_t sctp_udp_port;
	uint32_t template_lifetime_s;
	uint32_t template_memory;
	uint32_t max_sessions;
	uint32_t intake_threads;
	uint64_t first_message_timeout_ms;
	uint64_t handshake_timeout_ms;
	struct dpfix_security_params security;
	struct dpfix_clickhouse_settings clickhouse;
};

/* Defaults, then --config FILE and the options. 0; 1 for --help (printed); -EINVAL
 * with err filled in (empty when said already: no --listen, with the usage). */
int collector_settings_from_args(struct collector_settings *cfg, int argc, char **argv,
		char *err, size_t errlen);

#endif
