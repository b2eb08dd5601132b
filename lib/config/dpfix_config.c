/* Table-driven configuration: one option table serves the config file, the command
 * line and --help, so the three can never disagree about names, types or ranges. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dpfix_config.h"

static const struct dpfix_config_option *
find_key(const struct dpfix_config_option *options, const char *key)
{
	for (const struct dpfix_config_option *o = options; o->key != NULL; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

const struct dpfix_config_option *
dpfix_config_find_cli(const struct dpfix_config_option *options, const char *name)
{
	char key[64];
	size_t n = strlen(name);

	if (n >= sizeof(key))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		key[i] = name[i] == '-' ? '_' : name[i];
	return find_key(options, key);
}

/* U32 and U64: a decimal integer in [min, max]. */
static int
parse_integer(const struct dpfix_config_option *o, const char *value, void *dst,
		const char *origin, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0) {
		snprintf(err, errlen, "%s: %s '%s' is not a whole number", origin, o->key, value);
		return -EINVAL;
	}
	if (v < o->min || v > o->max) {
		snprintf(err, errlen, "%s: %s %s is out of range [%" PRIu64 ", %" PRIu64 "]",
				origin, o->key, value, o->min, o->max);
		return -EINVAL;
	}
	if (o->type == DPFIX_CONFIG_U64)
		*(uint64_t *)dst = v;
	else
		*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int
parse_duration(const struct dpfix_config_option *o, const char *value, void *dst,
		const char *origin, char *err, size_t errlen)
{
	char *end;
	double seconds;
	uint64_t ms;

	errno = 0;
	seconds = strtod(value, &end);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(seconds) || seconds < 0) {
		snprintf(err, errlen, "%s: %s '%s' is not a duration in seconds", origin, o->key, value);
		return -EINVAL;
	}
	if (seconds > 1e9) {
		snprintf(err, errlen, "%s: %s %s is out of range", origin, o->key, value);
		return -EINVAL;
	}
	ms = (uint64_t)llround(seconds * 1000.0);
	if (ms < o->min || ms > o->max) {
		snprintf(err, errlen, "%s: %s %s s is out of range [%g, %g] s", origin, o->key,
				value, o->min / 1000.0, o->max / 1000.0);
		return -EINVAL;
	}
	*(uint64_t *)dst = ms;
	return 0;
}

static int
parse_bool(const struct dpfix_config_option *o, const char *value, void *dst,
		const char *origin, char *err, size_t errlen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(int *)dst = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(int *)dst = 0;
			return 0;
		}
	}
	snprintf(err, errlen, "%s: %s '%s' is not yes or no", origin, o->key, value);
	return -EINVAL;
}

/* "vlan,dscp" (spaces allowed around names) or "none". */
static int
parse_flags(const struct dpfix_config_option *o, const char *value, void *dst,
		const char *origin, char *err, size_t errlen)
{
	uint32_t bits = 0;
	const char *p = value;

	if (strcasecmp(value, "none") == 0) {
		*(uint32_t *)dst = 0;
		return 0;
	}
	for (;;) {
		size_t n;
		unsigned int i;

		while (isspace((unsigned char)*p))
			p++;
		n = strcspn(p, ",");
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		for (i = 0; o->names[i] != NULL; i++)
			if (strlen(o->names[i]) == n && strncmp(o->names[i], p, n) == 0)
				break;
		if (o->names[i] == NULL || i >= 32) {
			int len = snprintf(err, errlen, "%s: %s: unknown name '%.*s' in '%s' (known:",
					origin, o->key, (int)n, p, value);

			for (i = 0; o->names[i] != NULL && len > 0 && (size_t)len < errlen; i++)
				len += snprintf(err + len, errlen - (size_t)len, " %s", o->names[i]);
			if (len > 0 && (size_t)len < errlen)
				snprintf(err + len, errlen - (size_t)len, "; or none)");
			return -EINVAL;
		}
		bits |= 1u << i;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
	*(uint32_t *)dst = bits;
	return 0;
}

static int
parse_choice(const struct dpfix_config_option *o, const char *value, void *dst,
		const char *origin, char *err, size_t errlen)
{
	int len;

	for (uint32_t i = 0; o->names[i] != NULL; i++) {
		if (strcmp(o->names[i], value) == 0) {
			*(uint32_t *)dst = i;
			return 0;
		}
	}
	len = snprintf(err, errlen, "%s: %s '%s' is not one of", origin, o->key, value);
	for (unsigned int i = 0; o->names[i] != NULL && len > 0 && (size_t)len < errlen; i++)
		len += snprintf(err + len, errlen - (size_t)len, "%s %s", i ? "," : "", o->names[i]);
	return -EINVAL;
}

int
dpfix_config_set(const struct dpfix_config_option *options, void *settings,
		const char *key, const char *value, const char *origin,
		char *err, size_t errlen)
{
	const struct dpfix_config_option *o = find_key(options, key);
	void *dst;

	if (o == NULL) {
		snprintf(err, errlen, "%s: unknown option '%s'", origin, key);
		return -EINVAL;
	}
	dst = (char *)settings + o->offset;
	switch (o->type) {
	case DPFIX_CONFIG_U32:
	case DPFIX_CONFIG_U64:
		return parse_integer(o, value, dst, origin, err, errlen);
	case DPFIX_CONFIG_DURATION:
		return parse_duration(o, value, dst, origin, err, errlen);
	case DPFIX_CONFIG_BOOL:
		return parse_bool(o, value, dst, origin, err, errlen);
	case DPFIX_CONFIG_FLAGS:
		return parse_flags(o, value, dst, origin, err, errlen);
	case DPFIX_CONFIG_CHOICE:
		return parse_choice(o, value, dst, origin, err, errlen);
	case DPFIX_CONFIG_CUSTOM:
		return o->parse(settings, value, origin, err, errlen);
	case DPFIX_CONFIG_LIST: {
		struct dpfix_config_list *list = dst;

		if (list->count == DPFIX_CONFIG_LIST_MAX || strlen(value) >= DPFIX_CONFIG_LIST_LEN) {
			snprintf(err, errlen, "%s: %s: at most %d values of %d characters", origin, key,
					DPFIX_CONFIG_LIST_MAX, DPFIX_CONFIG_LIST_LEN - 1);
			return -EINVAL;
		}
		strcpy(list->items[list->count++], value);
		return 0;
	}
	case DPFIX_CONFIG_STRING:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "%s: %s is longer than %zu characters", origin, key,
					o->size - 1);
			return -EINVAL;
		}
		strcpy(dst, value);
		return 0;
	}
	snprintf(err, errlen, "%s: option '%s' has no type", origin, key);
	return -EINVAL;
}

int
dpfix_config_defaults(const struct dpfix_config_option *options, void *settings, char *err,
		size_t errlen)
{
	for (const struct dpfix_config_option *o = options; o->key != NULL; o++) {
		int ret;

		if (o->default_value == NULL)
			continue;
		ret = dpfix_config_set(options, settings, o->key, o->default_value, "default", err,
				errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int
dpfix_config_load_file(const struct dpfix_config_option *options, void *settings,
		const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024], origin[600];
	unsigned int lineno = 0;
	int ret = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *key, *value, *eq, *hash;

		lineno++;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s: line longer than %zu characters", origin,
					sizeof(line) - 2);
			ret = -EINVAL;
			break;
		}
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s: expected 'key = value', got '%s'", origin, key);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		value = trim(eq + 1);
		key = trim(key);
		if (*key == '\0' || *value == '\0') {
			snprintf(err, errlen, "%s: expected 'key = value' with both parts", origin);
			ret = -EINVAL;
			break;
		}
		ret = dpfix_config_set(options, settings, key, value, origin, err, errlen);
		if (ret < 0)
			break;
	}
	if (ret == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -EIO;
	}
	fclose(f);
	return ret;
}

int
dpfix_config_from_args(const struct dpfix_config_option *options, void *settings, int argc,
		char **argv, char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--config needs a file name");
				return -EINVAL;
			}
			if (dpfix_config_load_file(options, settings, argv[i + 1], err, errlen) < 0)
				return -EINVAL;
		}
	}
	for (int i = 0; i < argc; i++) {
		const struct dpfix_config_option *o;
		const char *flag = argv[i], *value;

		if (strcmp(flag, "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(flag, "--", 2) != 0 || (o = dpfix_config_find_cli(options, flag + 2)) == NULL) {
			snprintf(err, errlen, "unknown argument '%s' (see --help)", flag);
			return -EINVAL;
		}
		if (o->type == DPFIX_CONFIG_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
			value = "yes"; /* a bare flag: --quiet */
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, errlen, "%s needs a value", flag);
			return -EINVAL;
		}
		if (dpfix_config_set(options, settings, o->key, value, flag, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

void
dpfix_config_print_help(const struct dpfix_config_option *options, FILE *out)
{
	static const char *const type_names[] = {
		[DPFIX_CONFIG_U32] = "N", [DPFIX_CONFIG_DURATION] = "SECONDS",
		[DPFIX_CONFIG_BOOL] = "yes|no", [DPFIX_CONFIG_STRING] = "TEXT",
		[DPFIX_CONFIG_LIST] = "TEXT (repeatable)", [DPFIX_CONFIG_FLAGS] = "NAME,...",
		[DPFIX_CONFIG_CUSTOM] = "VALUE", [DPFIX_CONFIG_CHOICE] = "NAME",
		[DPFIX_CONFIG_U64] = "N",
	};
	char flag[96];

	for (const struct dpfix_config_option *o = options; o->key != NULL; o++) {
		const char *value = o->type == DPFIX_CONFIG_CUSTOM && o->value_name != NULL ?
				o->value_name : type_names[o->type];
		size_t n = (size_t)snprintf(flag, sizeof(flag), "--%s %s", o->key, value);
		for (size_t i = 2; i < n && flag[i] != ' '; i++)
			if (flag[i] == '_')
				flag[i] = '-';
		fprintf(out, "  %-34s %s%s%s", flag, o->help, o->help_more != NULL ? " " : "",
				o->help_more != NULL ? o->help_more() : "");
		if (o->default_value != NULL)
			fprintf(out, " (default %s)", o->default_value);
		fputc('\n', out);
		if (o->type == DPFIX_CONFIG_FLAGS || o->type == DPFIX_CONFIG_CHOICE) {
			fprintf(out, "  %-34s names:", "");
			for (unsigned int i = 0; o->names[i] != NULL; i++)
				fprintf(out, " %s", o->names[i]);
			fprintf(out, "%s\n", o->type == DPFIX_CONFIG_FLAGS ? " (or none)" : "");
		}
	}
}

FILE *
dpfix_config_open_secret(const char *key, const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = fopen(path, "r");

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s %s is accessible by group or others (mode %04o); chmod 600 "
				"it", key, path, (unsigned int)(st.st_mode & 07777));
		fclose(f);
		errno = EPERM;
		return NULL;
	}
	return f;
}
