/* Unit tests for lib/log: the line format on stderr per level, the level threshold, and
 * a program's handler taking the lines instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_log.h"
#include "unit_test.h"

/* What dpfix_log wrote to stderr while fn ran. */
static char *
stderr_of(void (*fn)(void))
{
	static char text[4096];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
	return text;
}

static void
log_every_level(void)
{
	dpfix_log(DPFIX_LOG_ERROR, "e %d", 1);
	dpfix_log(DPFIX_LOG_WARNING, "w %s", "two");
	dpfix_log(DPFIX_LOG_INFO, "i");
	dpfix_log(DPFIX_LOG_DEBUG, "d");
}

static void
test_format_and_levels(void)
{
	dpfix_log_setup("prog", DPFIX_LOG_INFO);
	CHECK(strcmp(stderr_of(log_every_level), "prog: e 1\nprog: warning: w two\nprog: i\n") == 0);
	dpfix_log_setup("prog", DPFIX_LOG_DEBUG);
	CHECK(strcmp(stderr_of(log_every_level),
			"prog: e 1\nprog: warning: w two\nprog: i\nprog: debug: d\n") == 0);
	dpfix_log_setup("prog", DPFIX_LOG_ERROR);
	CHECK(strcmp(stderr_of(log_every_level), "prog: e 1\n") == 0);
	CHECK(dpfix_log_enabled(DPFIX_LOG_ERROR) && !dpfix_log_enabled(DPFIX_LOG_WARNING));
	CHECK(strcmp(dpfix_log_level_names[DPFIX_LOG_WARNING], "warning") == 0);
	CHECK(dpfix_log_level_names[DPFIX_LOG_DEBUG + 1] == NULL);
}

static void
log_long_line(void)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	dpfix_log(DPFIX_LOG_ERROR, "%s", big);
}

/* A line longer than the buffer is cut, and still ends with its newline. */
static void
test_long_line(void)
{
	char *text;

	dpfix_log_setup("prog", DPFIX_LOG_INFO);
	text = stderr_of(log_long_line);
	CHECK(strncmp(text, "prog: xxx", 9) == 0);
	CHECK(strlen(text) == 2047 && text[strlen(text) - 1] == '\n');
}

static char handled[256];
static int handled_level = -1;

static void
handler(enum dpfix_log_level level, const char *msg)
{
	handled_level = (int)level;
	snprintf(handled, sizeof(handled), "%s", msg);
}

static void
test_handler(void)
{
	dpfix_log_setup("prog", DPFIX_LOG_INFO);
	dpfix_log_set_handler(handler);
	CHECK(strcmp(stderr_of(log_every_level), "") == 0);
	/* The last line shown, without program, level or newline; debug was not shown. */
	CHECK(strcmp(handled, "i") == 0);
	CHECK(handled_level == DPFIX_LOG_INFO);
	dpfix_log_set_handler(NULL);
	CHECK(strcmp(stderr_of(log_every_level), "prog: e 1\nprog: warning: w two\nprog: i\n") == 0);
}

static void
log_via(void (*hook)(enum dpfix_log_level, const char *), enum dpfix_log_level level,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpfix_log_via(hook, level, "lib: ", fmt, ap);
	va_end(ap);
}

static void
log_via_no_hook(void)
{
	log_via(NULL, DPFIX_LOG_WARNING, "w %d", 2);
	log_via(NULL, DPFIX_LOG_DEBUG, "d");
}

/* A library's lines: to its program's hook at every level (the hook filters), else as
 * dpfix_log, the prefix first either way. */
static void
test_via(void)
{
	dpfix_log_setup("prog", DPFIX_LOG_INFO);
	log_via(handler, DPFIX_LOG_DEBUG, "d %s", "x");
	CHECK(strcmp(handled, "lib: d x") == 0);
	CHECK(handled_level == DPFIX_LOG_DEBUG);
	CHECK(strcmp(stderr_of(log_via_no_hook), "prog: warning: lib: w 2\n") == 0);
}

int
main(void)
{
	RUN_TEST(test_format_and_levels);
	RUN_TEST(test_long_line);
	RUN_TEST(test_handler);
	RUN_TEST(test_via);
	return unit_test_summary();
}
