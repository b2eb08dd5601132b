/* One logger for dpfix's programs and libraries: leveled lines "PROGRAM: message" on
 * stderr ("PROGRAM: warning: message" for warnings), or wherever a program sends them
 * (the probe: its DPDK log type). Libraries print nothing except through it. */
#ifndef DPFIX_LOG_H
#define DPFIX_LOG_H

#include <stdarg.h>

enum dpfix_log_level {
	DPFIX_LOG_ERROR,
	DPFIX_LOG_WARNING,
	DPFIX_LOG_INFO,
	DPFIX_LOG_DEBUG,
};

/* program starts every line ("dpfix-collector"; default "dpfix"); lines above max_level
 * are not shown (default DPFIX_LOG_INFO). Called once, before any thread logs. */
void dpfix_log_setup(const char *program, enum dpfix_log_level max_level);

/* Sends every line shown to handler instead of stderr (NULL: back to stderr). msg has
 * no program name, level or newline. */
void dpfix_log_set_handler(void (*handler)(enum dpfix_log_level level, const char *msg));

/* Whether a line of this level would be shown: to skip building an expensive one. */
int dpfix_log_enabled(enum dpfix_log_level level);

void dpfix_log(enum dpfix_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dpfix_log_v(enum dpfix_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* For a library whose program may take its lines elsewhere (the probe: its DPDK log
 * type, dpfix_session_set_logger): prefix and the message to hook when there is one
 * (every level: the hook filters), else as dpfix_log. At most 1023 characters. */
void dpfix_log_via(void (*hook)(enum dpfix_log_level level, const char *msg),
		enum dpfix_log_level level, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* "error", "warning", "info", "debug", by level, NULL-terminated (option tables). */
extern const char *const dpfix_log_level_names[];

#endif
