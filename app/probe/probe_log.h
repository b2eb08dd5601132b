/* The probe's diagnostics go through one DPDK log type, dpfix.probe (RTE_LOG_REGISTER,
 * as DPDK's libraries do): errors, warnings and events, each line "dpfix-probe: ...", on
 * DPDK's log stream (stderr, and syslog), filtered like DPDK's own with
 * --log-level=dpfix.probe:LEVEL. lib/session's and lib/export's messages are routed to
 * it. What the probe reports (its set-up, progress lines, the summary) goes to stdout. */
#ifndef PROBE_LOG_H
#define PROBE_LOG_H

#include <rte_log.h>

extern int probe_logtype;

/* PROBE_LOG(WARNING, "port %u: ...", port): one line, the newline added. */
#define PROBE_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, probe_logtype, \
		RTE_FMT("dpfix-probe: " RTE_FMT_HEAD(__VA_ARGS__,) "\n", RTE_FMT_TAIL(__VA_ARGS__,)))

/* Routes lib/session's and lib/export's messages to the probe's log type. */
void probe_log_libraries(void);

#endif
