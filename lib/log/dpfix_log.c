/* The logger (dpfix_log.h). Process-wide on purpose, like DPDK's log: one stderr, one
 * program name. Each line goes out in one write so lines of threads never interleave. */
#include <stdio.h>
#include <unistd.h>

#include "dpfix_log.h"

#define LINE_MAX_LEN 2048

static const char *program_name = "dpfix";
static enum dpfix_log_level shown_up_to = DPFIX_LOG_INFO;
static void (*log_handler)(enum dpfix_log_level level, const char *msg);

const char *const dpfix_log_level_names[] = {"error", "warning", "info", "debug", NULL};

void
dpfix_log_setup(const char *program, enum dpfix_log_level max_level)
{
	program_name = program;
	shown_up_to = max_level;
}

void
dpfix_log_set_handler(void (*handler)(enum dpfix_log_level level, const char *msg))
{
	log_handler = handler;
}

int
dpfix_log_enabled(enum dpfix_log_level level)
{
	return level <= shown_up_to;
}

void
dpfix_log_v(enum dpfix_log_level level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_LEN];
	int head = 0, n;

	if (!dpfix_log_enabled(level))
		return;
	if (log_handler != NULL) {
		vsnprintf(line, sizeof(line), fmt, ap);
		log_handler(level, line);
		return;
	}
	/* Errors and information read as they always did ("dpfix-collector: --listen ...");
	 * a warning or debug line says so. */
	head = snprintf(line, sizeof(line), "%s: %s%s", program_name,
			level == DPFIX_LOG_WARNING || level == DPFIX_LOG_DEBUG ?
					dpfix_log_level_names[level] : "",
			level == DPFIX_LOG_WARNING || level == DPFIX_LOG_DEBUG ? ": " : "");
	n = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	if (n < 0)
		return;
	n += head;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* stderr is unbuffered: one write, whole lines. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void
dpfix_log(enum dpfix_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpfix_log_v(level, fmt, ap);
	va_end(ap);
}

void
dpfix_log_via(void (*hook)(enum dpfix_log_level level, const char *msg),
		enum dpfix_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s", prefix);

	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (hook != NULL)
		hook(level, msg);
	else
		dpfix_log(level, "%s", msg);
}
