/* The Exporting Process's options every program that exports takes (dpfix-probe,
 * dpfix-mediator), as rows for its option table (lib/config), and their check across
 * rows: one wording, one set of names, defaults and limits. Header only, as lib/session's
 * (D)TLS rows: the rows are expanded into each program's table, so the table stays flat. */
#ifndef DPFIX_EXPORT_CONFIG_H
#define DPFIX_EXPORT_CONFIG_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_config.h"
#include "dpfix_session.h"

/* The rows for the members of stype that the keys name (durations in milliseconds,
 * "_ms"): uint32_t export_mtu, heartbeat_misses, replay_buffer; int sctp_data_unordered;
 * uint64_t sctp_data_lifetime_ms, template_refresh_ms, export_flush_ms,
 * heartbeat_interval_ms. A program adds its own session_lifetime and options_interval,
 * whose help says what is its own. */
#define DPFIX_EXPORT_OPTIONS(stype) \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "sctp_data_unordered", DPFIX_CONFIG_BOOL, \
		sctp_data_unordered, "no", 0, 1, "SCTP to collectors: data messages unordered " \
		"(templates stay ordered on stream 0)"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "sctp_data_lifetime", DPFIX_CONFIG_DURATION, \
		sctp_data_lifetime_ms, "0", 0, 3600000, "SCTP to collectors: stop retransmitting " \
		"data messages after this long, PR-SCTP (RFC 3758); 0 = fully reliable"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "heartbeat_interval", DPFIX_CONFIG_DURATION, \
		heartbeat_interval_ms, "1", 0, 3600000, "(D)TLS to a dpfix collector: a heartbeat " \
		"this often (doc/heartbeats.md); 0 = none offered; at least 0.1 s otherwise"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "heartbeat_misses", DPFIX_CONFIG_U32, heartbeat_misses, \
		"3", 1, 16, "the collector is dead after this many heartbeats in a row unanswered"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "replay_buffer", DPFIX_CONFIG_U32, replay_buffer, \
		"16777216", 0, 1u << 30, "bytes per collector: with heartbeats, what was sent since " \
		"the collector last answered one is kept and sent again on a new session if the " \
		"collector dies (doc/heartbeats.md); 0 = none"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "template_refresh", DPFIX_CONFIG_DURATION, \
		template_refresh_ms, "60", 1000, 86400000, "resend templates this often on UDP"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "export_flush", DPFIX_CONFIG_DURATION, export_flush_ms, \
		"0.5", 1, 60000, "send a partly filled message after this long"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "export_mtu", DPFIX_CONFIG_U32, export_mtu, \
		DPFIX_CONFIG_TEXT(DPFIX_MTU), 576, 65535, \
		"largest export packet on the wire, IP header included")

/* What no single row can check: heartbeat_interval is 0 (none) or at least 0.1 s.
 * 0, or -EINVAL with err filled in. */
static inline int
dpfix_export_config_check(uint64_t heartbeat_interval_ms, char *err, size_t errlen)
{
	if (heartbeat_interval_ms != 0 && heartbeat_interval_ms < 100) {
		snprintf(err, errlen, "heartbeat_interval %.3g s is below 0.1 s (0 turns heartbeats "
				"off)", heartbeat_interval_ms / 1000.0);
		return -EINVAL;
	}
	return 0;
}

#endif
