/* Messages from lib/session go through one hook the program sets (the probe: its DPDK
 * log type), else through the programs' logger (lib/log): a library never prints on its
 * own. */
#ifndef SESSION_LOG_H
#define SESSION_LOG_H

#include "dpfix_log.h"
#include "dpfix_session.h"

void dpfix_session_log(enum dpfix_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
