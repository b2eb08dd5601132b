/* Unit tests for lib/config: value parsing per option type, config files with their
 * file:line errors, and the command-line name mapping, on a small table of our own. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_config.h"
#include "unit_test.h"

struct settings {
	uint32_t workers;
	uint32_t big;
	uint64_t bytes;
	uint64_t idle_ms;
	int verbose;
	char name[16];
	struct dpfix_config_list peers;
	uint32_t key;
	uint32_t range_low, range_high;
	unsigned int ranges;
};

/* A custom option: "LOW-HIGH" with LOW <= HIGH, stored in two fields. */
static int
parse_range(void *settings, const char *value, const char *origin, char *err, size_t errlen)
{
	struct settings *s = settings;
	unsigned int low, high;
	int end = -1;

	if (sscanf(value, "%u-%u%n", &low, &high, &end) != 2 || value[end] != '\0' || low > high) {
		snprintf(err, errlen, "%s: range '%s' is not LOW-HIGH with LOW <= HIGH", origin, value);
		return -EINVAL;
	}
	s->range_low = low;
	s->range_high = high;
	s->ranges++;
	return 0;
}

static const char *const key_names[] = {"vlan", "dscp", "mpls", "ingress_port", NULL};

static const struct dpfix_config_option options[] = {
	{"workers", DPFIX_CONFIG_U32, offsetof(struct settings, workers), 0, 1, 64,
		"worker cores"},
	{"big", DPFIX_CONFIG_U32, offsetof(struct settings, big), 0, 0, UINT32_MAX,
		"a counter using the whole 32-bit range"},
	{"idle_timeout", DPFIX_CONFIG_DURATION, offsetof(struct settings, idle_ms), 0, 100,
		3600 * 1000, "seconds without packets before a flow ends"},
	{"verbose", DPFIX_CONFIG_BOOL, offsetof(struct settings, verbose), 0, 0, 0,
		"log more"},
	{"name", DPFIX_CONFIG_STRING, offsetof(struct settings, name),
		sizeof(((struct settings *)0)->name), 0, 0, "interface name"},
	{"peer", DPFIX_CONFIG_LIST, offsetof(struct settings, peers), 0, 0, 0, "repeatable"},
	DPFIX_CONFIG_FLAGS_OPTION(struct settings, "flow_key", key, key_names, "extra key fields"),
	DPFIX_CONFIG_CUSTOM_OPTION("range", parse_range, "LOW-HIGH", "a range of numbers"),
	{"bytes", DPFIX_CONFIG_U64, offsetof(struct settings, bytes), 0, 4096, UINT64_MAX - 1,
		"a size past 4 GiB"},
	{NULL, 0, 0, 0, 0, 0, NULL},
};

/* Defaults that no test input uses, so an untouched field is recognisable. */
static void
settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->workers = 7;
	s->big = 7;
	s->idle_ms = 7;
	s->verbose = 7;
	strcpy(s->name, "default");
	s->key = 0x80;
}

static int
set(struct settings *s, const char *key, const char *value, char *err)
{
	err[0] = '\0';
	return dpfix_config_set(options, s, key, value, "--test", err, DPFIX_CONFIG_ERRLEN);
}

static void
test_u32(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN];
	static const char *const bad_syntax[] = {
		"", "-1", "-0", "abc", "12abc", "1.5", "0x10", "99999999999999999999999",
		/* Command-line values are not trimmed; strtoull would skip the blank and
		 * negate, turning this into 1. */
		" -18446744073709551615",
	};

	settings_init(&s);
	CHECK(set(&s, "workers", "8", err) == 0);
	CHECK_EQ_U64(s.workers, 8);
	CHECK(set(&s, "workers", "1", err) == 0);
	CHECK_EQ_U64(s.workers, 1);
	CHECK(set(&s, "workers", "64", err) == 0);
	CHECK_EQ_U64(s.workers, 64);

	/* Out of range: refused, named, and the old value kept. */
	CHECK(set(&s, "workers", "0", err) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(strstr(err, "--test") != NULL);
	CHECK(strstr(err, "workers") != NULL);
	CHECK_EQ_U64(s.workers, 64);
	CHECK(set(&s, "workers", "65", err) == -EINVAL);
	CHECK(strstr(err, "65") != NULL);
	CHECK(strstr(err, "[1, 64]") != NULL);
	CHECK_EQ_U64(s.workers, 64);

	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++) {
		CHECK(set(&s, "workers", bad_syntax[i], err) == -EINVAL);
		CHECK(err[0] != '\0');
		CHECK(strstr(err, bad_syntax[i]) != NULL);
		CHECK_EQ_U64(s.workers, 64);
	}

	/* The full 32-bit range, and one past it (must not wrap to 0). */
	CHECK(set(&s, "big", "4294967295", err) == 0);
	CHECK_EQ_U64(s.big, UINT32_MAX);
	CHECK(set(&s, "big", "0", err) == 0);
	CHECK_EQ_U64(s.big, 0);
	CHECK(set(&s, "big", "4294967296", err) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK_EQ_U64(s.big, 0);

	/* U64: past 4 GiB, its bounds, and what does not parse. */
	CHECK(set(&s, "bytes", "4294967296", err) == 0);
	CHECK_EQ_U64(s.bytes, 4294967296ull);
	CHECK(set(&s, "bytes", "18446744073709551614", err) == 0);
	CHECK_EQ_U64(s.bytes, UINT64_MAX - 1);
	CHECK(set(&s, "bytes", "18446744073709551615", err) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(set(&s, "bytes", "4095", err) == -EINVAL);
	CHECK(set(&s, "bytes", "18446744073709551616", err) == -EINVAL);
	CHECK(strstr(err, "not a whole number") != NULL);
	CHECK_EQ_U64(s.bytes, UINT64_MAX - 1);
}

static void
test_duration(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN];
	static const char *const bad_syntax[] = {
		"", "-1", "-0.5", "abc", "1s", "1.5.2", "nan", "inf", "-inf",
	};

	settings_init(&s);
	CHECK(set(&s, "idle_timeout", "0.25", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 250);
	CHECK(set(&s, "idle_timeout", "30", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 30000);
	CHECK(set(&s, "idle_timeout", "1.5", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 1500);
	/* Decimal fractions that binary floating point cannot hold exactly round to
	 * the nearest millisecond rather than truncating one short. */
	CHECK(set(&s, "idle_timeout", "0.3", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 300);
	CHECK(set(&s, "idle_timeout", "4.001", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 4001);
	CHECK(set(&s, "idle_timeout", "0.1", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 100);
	CHECK(set(&s, "idle_timeout", "3600", err) == 0);
	CHECK_EQ_U64(s.idle_ms, 3600000);

	CHECK(set(&s, "idle_timeout", "0.05", err) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(strstr(err, "0.05") != NULL);
	CHECK(set(&s, "idle_timeout", "3600.5", err) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(set(&s, "idle_timeout", "1e12", err) == -EINVAL);
	CHECK(set(&s, "idle_timeout", "1e400", err) == -EINVAL);
	CHECK_EQ_U64(s.idle_ms, 3600000);

	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++) {
		CHECK(set(&s, "idle_timeout", bad_syntax[i], err) == -EINVAL);
		CHECK(strstr(err, "idle_timeout") != NULL);
		CHECK(strstr(err, bad_syntax[i]) != NULL);
		CHECK_EQ_U64(s.idle_ms, 3600000);
	}
}

static void
test_bool(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN];
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True", "On"};
	static const char *const no[] = {"no", "false", "off", "0", "NO", "False", "OFF"};
	static const char *const bad[] = {"", "maybe", "2", "y", "n", "yes please", "-1"};

	settings_init(&s);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		s.verbose = 7;
		CHECK(set(&s, "verbose", yes[i], err) == 0);
		CHECK_EQ_U64(s.verbose, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		s.verbose = 7;
		CHECK(set(&s, "verbose", no[i], err) == 0);
		CHECK_EQ_U64(s.verbose, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.verbose = 7;
		CHECK(set(&s, "verbose", bad[i], err) == -EINVAL);
		CHECK(strstr(err, "verbose") != NULL);
		CHECK(strstr(err, bad[i]) != NULL);
		CHECK_EQ_U64(s.verbose, 7);
	}
}

static void
test_string(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN];

	settings_init(&s);
	CHECK(set(&s, "name", "eth0", err) == 0);
	CHECK(strcmp(s.name, "eth0") == 0);
	/* 15 characters fill the 16-byte buffer with its terminator. */
	CHECK(set(&s, "name", "0123456789abcde", err) == 0);
	CHECK(strcmp(s.name, "0123456789abcde") == 0);
	CHECK(set(&s, "name", "0123456789abcdef", err) == -EINVAL);
	CHECK(strstr(err, "longer than 15") != NULL);
	CHECK(strstr(err, "name") != NULL);
	CHECK(strcmp(s.name, "0123456789abcde") == 0);
	CHECK(set(&s, "name", "", err) == 0);
	CHECK(strcmp(s.name, "") == 0);
}

static void
test_unknown_key(void)
{
	struct settings s, before;
	char err[DPFIX_CONFIG_ERRLEN];

	settings_init(&s);
	before = s;
	CHECK(set(&s, "wokers", "4", err) == -EINVAL);
	CHECK(strstr(err, "unknown option 'wokers'") != NULL);
	CHECK(strstr(err, "--test") != NULL);
	/* Keys are exact: the command-line spelling is not a file key. */
	CHECK(set(&s, "idle-timeout", "4", err) == -EINVAL);
	CHECK(set(&s, "", "4", err) == -EINVAL);
	CHECK(memcmp(&s, &before, sizeof(s)) == 0);
}

/* Writes text to a new temporary file; path receives its name. */
static int
write_temp(const char *text, char *path, size_t pathlen)
{
	int fd;
	FILE *f;

	snprintf(path, pathlen, "/tmp/dpfix-test-config-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* Loads text as a config file; err receives the message. */
static int
load_text(const char *text, struct settings *s, char *err, char *path, size_t pathlen)
{
	int ret;

	err[0] = '\0';
	if (write_temp(text, path, pathlen) < 0) {
		CHECK(!"cannot write a temporary file");
		return -999;
	}
	ret = dpfix_config_load_file(options, s, path, err, DPFIX_CONFIG_ERRLEN);
	unlink(path);
	return ret;
}

/* err must name "path:line". */
static int
names_line(const char *err, const char *path, unsigned int line)
{
	char where[128];

	snprintf(where, sizeof(where), "%s:%u:", path, line);
	return strstr(err, where) != NULL;
}

static void
test_load_file(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN], path[64];

	settings_init(&s);
	CHECK(load_text("# probe settings\n"
			"\n"
			"   \n"
			"workers = 4   # four of them\n"
			"\tidle_timeout=0.5\n"
			"   verbose   =   on   \n"
			"# name = commented\n"
			"name = eth1\n"
			"big=123", /* last line without a newline */
			&s, err, path, sizeof(path)) == 0);
	CHECK(err[0] == '\0');
	CHECK_EQ_U64(s.workers, 4);
	CHECK_EQ_U64(s.idle_ms, 500);
	CHECK_EQ_U64(s.verbose, 1);
	CHECK(strcmp(s.name, "eth1") == 0);
	CHECK_EQ_U64(s.big, 123);

	/* Later lines override earlier ones. */
	settings_init(&s);
	CHECK(load_text("workers = 2\nworkers = 3\n", &s, err, path, sizeof(path)) == 0);
	CHECK_EQ_U64(s.workers, 3);

	/* An empty file and a comments-only file change nothing. */
	settings_init(&s);
	CHECK(load_text("", &s, err, path, sizeof(path)) == 0);
	CHECK(load_text("# nothing\n\n", &s, err, path, sizeof(path)) == 0);
	CHECK_EQ_U64(s.workers, 7);
}

static void
test_load_file_errors(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN], path[64];
	char *long_line;

	/* A bad value: file:line and the value; lines before it applied, after it not. */
	settings_init(&s);
	CHECK(load_text("# comment\nworkers = 4\n\nworkers = 100\nverbose = yes\n", &s, err, path,
			sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 4));
	CHECK(strstr(err, "100") != NULL);
	CHECK_EQ_U64(s.workers, 4);
	CHECK_EQ_U64(s.verbose, 7);

	settings_init(&s);
	CHECK(load_text("idle_timeout = soon\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 1));
	CHECK(strstr(err, "soon") != NULL);

	settings_init(&s);
	CHECK(load_text("workers = 2\nbogus = 1\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 2));
	CHECK(strstr(err, "unknown option 'bogus'") != NULL);

	settings_init(&s);
	CHECK(load_text("workers = 2\n\nverbose yes\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 3));
	CHECK(strstr(err, "verbose yes") != NULL);
	CHECK_EQ_U64(s.verbose, 7);

	settings_init(&s);
	CHECK(load_text("workers =\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 1));
	CHECK(load_text("workers = # no value\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 1));
	CHECK(load_text(" = 4\n", &s, err, path, sizeof(path)) == -EINVAL);
	CHECK(names_line(err, path, 1));
	CHECK_EQ_U64(s.workers, 7);

	/* A line longer than the reader's buffer is refused, not split into two lines. */
	long_line = malloc(4096);
	if (long_line != NULL) {
		memset(long_line, ' ', 4096);
		memcpy(long_line, "name = x", 8);
		strcpy(long_line + 4000, "\n");
		CHECK(load_text(long_line, &s, err, path, sizeof(path)) == -EINVAL);
		CHECK(names_line(err, path, 1));
		CHECK(strstr(err, "longer than") != NULL);
		free(long_line);
	}

	/* A missing file names the path. */
	err[0] = '\0';
	CHECK(dpfix_config_load_file(options, &s, "/nonexistent/dpfix.conf", err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent/dpfix.conf") != NULL);
}

/* FLAGS: names from the list in any order, spaces around them, "none"; an unknown or
 * empty name is refused with the value and the names that are known. */
static void
test_flags(void)
{
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN], path[64];

	settings_init(&s);
	CHECK(set(&s, "flow_key", "vlan", err) == 0);
	CHECK_EQ_U64(s.key, 1);
	CHECK(set(&s, "flow_key", "mpls,vlan", err) == 0);
	CHECK_EQ_U64(s.key, 5);
	CHECK(set(&s, "flow_key", " dscp , ingress_port ,vlan,dscp", err) == 0);
	CHECK_EQ_U64(s.key, 11);
	CHECK(set(&s, "flow_key", "none", err) == 0);
	CHECK_EQ_U64(s.key, 0);

	static const char *const bad[] = {"vlna", "vlan,", ",vlan", "vlan,,dscp", "VLAN",
		"vlan dscp", "none,vlan", "vlanx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.key = 3;
		CHECK(set(&s, "flow_key", bad[i], err) == -EINVAL);
		CHECK(strstr(err, "--test: flow_key: unknown name") != NULL);
		CHECK(strstr(err, bad[i]) != NULL);
		CHECK(strstr(err, "known: vlan dscp mpls ingress_port; or none") != NULL);
		CHECK_EQ_U64(s.key, 3);
	}
	/* From a file, the error names the file and line. */
	settings_init(&s);
	CHECK(load_text("workers = 2\nflow_key = vlan,mlps\n", &s, err, path, sizeof(path)) ==
			-EINVAL);
	CHECK(names_line(err, path, 2));
	CHECK(strstr(err, "unknown name 'mlps' in 'vlan,mlps'") != NULL);
	settings_init(&s);
	CHECK(load_text("flow_key = dscp, mpls  # comment\n", &s, err, path, sizeof(path)) == 0);
	CHECK_EQ_U64(s.key, 6);
}

/* A custom option parses its own value; errors keep the origin it is given. */
static void
test_custom(void)
{
	struct settings s, before;
	char err[DPFIX_CONFIG_ERRLEN], path[64];
	char *argv[] = {"--config", path, "--range", "7-9"};

	settings_init(&s);
	CHECK(set(&s, "range", "3-5", err) == 0);
	CHECK_EQ_U64(s.range_low, 3);
	CHECK_EQ_U64(s.range_high, 5);
	CHECK_EQ_U64(s.ranges, 1);
	before = s;
	CHECK(set(&s, "range", "5-3", err) == -EINVAL);
	CHECK(strstr(err, "--test: range '5-3' is not LOW-HIGH") != NULL);
	CHECK(memcmp(&s, &before, sizeof(s)) == 0);

	settings_init(&s);
	CHECK(load_text("workers = 2\nrange = 1-2\nrange = 4-x\n", &s, err, path, sizeof(path)) ==
			-EINVAL);
	CHECK(names_line(err, path, 3));
	CHECK(strstr(err, "range '4-x'") != NULL);
	CHECK_EQ_U64(s.ranges, 1);

	/* The file first, then the command line, each line through the parse function. */
	settings_init(&s);
	CHECK(write_temp("range = 1-2\n", path, sizeof(path)) == 0);
	CHECK(dpfix_config_from_args(options, &s, 4, argv, err, sizeof(err)) == 0);
	unlink(path);
	CHECK_EQ_U64(s.ranges, 2);
	CHECK_EQ_U64(s.range_low, 7);
	CHECK_EQ_U64(s.range_high, 9);
}

static void
test_find_cli(void)
{
	const struct dpfix_config_option *o;
	char longname[100];

	o = dpfix_config_find_cli(options, "idle-timeout");
	CHECK(o != NULL && o == &options[2]);
	o = dpfix_config_find_cli(options, "workers");
	CHECK(o != NULL && o == &options[0]);
	CHECK(dpfix_config_find_cli(options, "idle-timeout-x") == NULL);
	CHECK(dpfix_config_find_cli(options, "idle") == NULL);
	CHECK(dpfix_config_find_cli(options, "") == NULL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(dpfix_config_find_cli(options, longname) == NULL);
}

static void
test_print_help(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	dpfix_config_print_help(options, f);
	fclose(f);
	/* Options appear under their command-line names with their help text. */
	CHECK(strstr(text, "--idle-timeout SECONDS") != NULL);
	CHECK(strstr(text, "seconds without packets before a flow ends") != NULL);
	CHECK(strstr(text, "--workers N") != NULL);
	CHECK(strstr(text, "--verbose yes|no") != NULL);
	CHECK(strstr(text, "--name TEXT") != NULL);
	CHECK(strstr(text, "idle_timeout") == NULL);
	CHECK(strstr(text, "--flow-key NAME,...") != NULL);
	CHECK(strstr(text, "names: vlan dscp mpls ingress_port (or none)") != NULL);
	CHECK(strstr(text, "--range LOW-HIGH") != NULL);
	free(text);
}

/* A CHOICE option takes one name of its list, stored as its index. */
static void
test_choice(void)
{
	static const char *const levels[] = {"low", "mid", "high", NULL};
	static const struct dpfix_config_option choice[] = {
		DPFIX_CONFIG_CHOICE_OPTION(struct settings, "level", key, levels, "mid", "how much"),
		{NULL, 0, 0, 0, 0, 0, NULL},
	};
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN], *text = NULL;
	size_t size = 0;
	FILE *f;

	settings_init(&s);
	CHECK(dpfix_config_defaults(choice, &s, err, sizeof(err)) == 0);
	CHECK_EQ_U64(s.key, 1);
	CHECK(dpfix_config_set(choice, &s, "level", "high", "--level", err, sizeof(err)) == 0);
	CHECK_EQ_U64(s.key, 2);
	CHECK(dpfix_config_set(choice, &s, "level", "HIGH", "x.conf:3", err, sizeof(err)) ==
			-EINVAL);
	CHECK(strcmp(err, "x.conf:3: level 'HIGH' is not one of low, mid, high") == 0);
	CHECK_EQ_U64(s.key, 2);
	f = open_memstream(&text, &size);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	dpfix_config_print_help(choice, f);
	fclose(f);
	CHECK(strstr(text, "--level NAME") != NULL);
	CHECK(strstr(text, "how much (default mid)\n") != NULL);
	CHECK(strstr(text, "names: low mid high\n") != NULL);
	free(text);
}

/* Defaults live in the rows: applied through each option's own parser, shown by --help;
 * a default the parser refuses is found at once. */
static const char *
more_text(void)
{
	return "(and more)";
}

static void
test_defaults(void)
{
	static const struct dpfix_config_option with_defaults[] = {
		DPFIX_CONFIG_OPTION_DEFAULT(struct settings, "workers", DPFIX_CONFIG_U32, workers,
			DPFIX_CONFIG_TEXT(12), 1, 64, "worker cores"),
		DPFIX_CONFIG_OPTION_DEFAULT(struct settings, "idle_timeout", DPFIX_CONFIG_DURATION,
			idle_ms, "0.25", 100, 3600 * 1000, "idle"),
		DPFIX_CONFIG_OPTION_DEFAULT(struct settings, "verbose", DPFIX_CONFIG_BOOL, verbose,
			"yes", 0, 1, "log more"),
		DPFIX_CONFIG_OPTION_DEFAULT(struct settings, "name", DPFIX_CONFIG_STRING, name,
			"eth0", 0, 0, "interface name"),
		{"big", DPFIX_CONFIG_U32, offsetof(struct settings, big), 0, 0, UINT32_MAX, "big",
			NULL, NULL, NULL, NULL, more_text},
		{NULL, 0, 0, 0, 0, 0, NULL},
	};
	static const struct dpfix_config_option bad_default[] = {
		DPFIX_CONFIG_OPTION_DEFAULT(struct settings, "workers", DPFIX_CONFIG_U32, workers,
			"65", 1, 64, "worker cores"),
		{NULL, 0, 0, 0, 0, 0, NULL},
	};
	struct settings s;
	char err[DPFIX_CONFIG_ERRLEN], *text = NULL;
	size_t size = 0;
	FILE *f;

	settings_init(&s);
	CHECK(dpfix_config_defaults(with_defaults, &s, err, sizeof(err)) == 0);
	CHECK_EQ_U64(s.workers, 12);
	CHECK_EQ_U64(s.idle_ms, 250);
	CHECK_EQ_U64(s.verbose, 1);
	CHECK(strcmp(s.name, "eth0") == 0);
	CHECK_EQ_U64(s.big, 7);   /* no default: left as it was */
	CHECK(dpfix_config_defaults(bad_default, &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "default: workers 65 is out of range") != NULL);
	f = open_memstream(&text, &size);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	dpfix_config_print_help(with_defaults, f);
	fclose(f);
	CHECK(strstr(text, "worker cores (default 12)\n") != NULL);
	CHECK(strstr(text, "idle (default 0.25)\n") != NULL);
	CHECK(strstr(text, "log more (default yes)\n") != NULL);
	CHECK(strstr(text, "big (and more)\n") != NULL);
	free(text);
}

/* Program arguments: the file first, the command line over it, bare yes/no flags,
 * repeatable options, --help, and errors that name the flag. */
static void
test_from_args(void)
{
	char path[] = "/tmp/dpfix-test-args-XXXXXX";
	char err[DPFIX_CONFIG_ERRLEN] = "";
	struct settings s;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("workers = 4\nname = eth0\npeer = a\n", f);
	fclose(f);
	{
		char *argv[] = {"--workers", "8", "--config", path, "--verbose", "--peer", "b"};

		memset(&s, 0, sizeof(s));
		CHECK(dpfix_config_from_args(options, &s, 7, argv, err, sizeof(err)) == 0);
		CHECK_EQ_U64(s.workers, 8);   /* the command line wins, wherever --config is */
		CHECK(strcmp(s.name, "eth0") == 0);
		CHECK_EQ_U64(s.verbose, 1);   /* bare flag */
		CHECK_EQ_U64(s.peers.count, 2);
		CHECK(strcmp(s.peers.items[0], "a") == 0 && strcmp(s.peers.items[1], "b") == 0);
	}
	{
		char *argv[] = {"--name", "x", "-h"};

		CHECK(dpfix_config_from_args(options, &s, 3, argv, err, sizeof(err)) == 1);
	}
	{
		char *argv[] = {"--workers", "99"};

		CHECK(dpfix_config_from_args(options, &s, 2, argv, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "--workers") != NULL && strstr(err, "99") != NULL);
	}
	{
		char *argv[] = {"--workers"};

		CHECK(dpfix_config_from_args(options, &s, 1, argv, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "needs a value") != NULL);
	}
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < DPFIX_CONFIG_LIST_MAX; i++)
		CHECK(dpfix_config_set(options, &s, "peer", "p", "t", err, sizeof(err)) == 0);
	CHECK(dpfix_config_set(options, &s, "peer", "p", "t", err, sizeof(err)) == -EINVAL);
	unlink(path);
}

int
main(void)
{
	RUN_TEST(test_u32);
	RUN_TEST(test_duration);
	RUN_TEST(test_bool);
	RUN_TEST(test_string);
	RUN_TEST(test_flags);
	RUN_TEST(test_custom);
	RUN_TEST(test_unknown_key);
	RUN_TEST(test_load_file);
	RUN_TEST(test_load_file_errors);
	RUN_TEST(test_find_cli);
	RUN_TEST(test_print_help);
	RUN_TEST(test_defaults);
	RUN_TEST(test_choice);
	RUN_TEST(test_from_args);
	return unit_test_summary();
}
