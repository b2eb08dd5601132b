/* Messages from lib/session go through one hook the program sets (stderr by default),
 * since a library never prints on its own. */
#ifndef SESSION_LOG_H
#define SESSION_LOG_H

#include "dpfix_session.h"

void dpfix_session_log(enum dpfix_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
