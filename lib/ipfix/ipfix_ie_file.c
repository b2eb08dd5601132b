/* Enterprise information elements from a file, one per line:
 * PEN, ElementID, Name, Abstract Data Type[, Semantics[, Units[, Range[, reversible]]]]
 * (doc/information-elements.md). A file with any bad line adds nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_config.h"
#include "dpfix_log.h"
#include "ipfix_ie_table.h"

#define LINE_MAX_CHARS 1024
#define MAX_COLUMNS 8

struct load {
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
	struct { uint32_t pen; uint16_t id; } *added; /* to undo on error */
	size_t added_count;
	size_t added_capacity;
};

static int
fail(struct load *l, int ret, const char *value, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (l->err != NULL && l->errlen > 0)
		snprintf(l->err, l->errlen, "%s:%u: %s '%s'", l->path, l->line, reason, value);
	return ret;
}

static char *
trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* A whole decimal or 0x-hexadecimal number no larger than max. */
static int
parse_number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_range(char *s, struct dpfix_ipfix_ie *ie)
{
	char *dash = strchr(s, '-');

	if (dash == NULL)
		return -EINVAL;
	*dash = '\0';
	if (parse_number(trim(s), UINT64_MAX, &ie->range_low) < 0 ||
			parse_number(trim(dash + 1), UINT64_MAX, &ie->range_high) < 0 ||
			ie->range_low > ie->range_high)
		return -EINVAL;
	ie->has_range = true;
	return 0;
}

static int
remember(struct load *l, uint32_t pen, uint16_t id)
{
	if (l->added_count == l->added_capacity) {
		size_t capacity = l->added_capacity ? l->added_capacity * 2 : 32;
		void *p = realloc(l->added, capacity * sizeof(l->added[0]));

		if (p == NULL)
			return -ENOMEM;
		l->added = p;
		l->added_capacity = capacity;
	}
	l->added[l->added_count].pen = pen;
	l->added[l->added_count].id = id;
	l->added_count++;
	return 0;
}

static int
parse_line(struct load *l, char *text)
{
	char *col[MAX_COLUMNS], *p = text, reverse_name[DPFIX_IPFIX_IE_NAME_MAX + 16];
	char whole[LINE_MAX_CHARS];
	struct dpfix_ipfix_ie ie = {.status = DPFIX_IPFIX_STATUS_CURRENT};
	const struct dpfix_ipfix_ie *old;
	unsigned int n = 0;
	uint64_t v;
	int ret;

	snprintf(whole, sizeof(whole), "%s", text);
	for (;;) {
		char *comma = strchr(p, ',');

		if (n == MAX_COLUMNS)
			return fail(l, -EINVAL, whole, "more than %d comma-separated columns", MAX_COLUMNS);
		col[n++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (unsigned int i = 0; i < n; i++)
		col[i] = trim(col[i]);
	if (n < 4)
		return fail(l, -EINVAL, whole, "expected PEN, ElementID, Name, Abstract Data Type "
				"(and optionally Semantics, Units, Range, reversible), found %u columns", n);
	if (parse_number(col[0], UINT32_MAX, &v) < 0 || v == 0)
		return fail(l, -EINVAL, col[0], "PEN must be a number in 1..4294967295");
	if (v == DPFIX_IPFIX_PEN_REVERSE)
		return fail(l, -EINVAL, col[0], "PEN 29305 holds the RFC 5103 reverse elements of "
				"IANA's, which come from the registry");
	ie.pen = (uint32_t)v;
	if (parse_number(col[1], 0x7fff, &v) < 0 || v == 0)
		return fail(l, -EINVAL, col[1], "element id must be a number in 1..32767");
	ie.id = (uint16_t)v;
	ie.name = col[2];
	if (dpfix_ipfix_type_by_name(col[3], &ie.type) < 0)
		return fail(l, -EINVAL, col[3], "unknown abstract data type (RFC 7012 names, "
				"e.g. unsigned32, string)");
	if (n > 4 && dpfix_ipfix_semantics_by_name(col[4], &ie.semantics) < 0)
		return fail(l, -EINVAL, col[4], "unknown data type semantics (RFC 7012 names, "
				"e.g. deltaCounter, identifier, or empty)");
	if (n > 5 && col[5][0] != '\0') {
		if (strlen(col[5]) > DPFIX_IPFIX_IE_NAME_MAX)
			return fail(l, -EINVAL, col[5], "units longer than %d characters",
					DPFIX_IPFIX_IE_NAME_MAX);
		ie.units = col[5];
	}
	if (n > 6 && col[6][0] != '\0') {
		char range[LINE_MAX_CHARS];

		snprintf(range, sizeof(range), "%s", col[6]);
		if (parse_range(col[6], &ie) < 0)
			return fail(l, -EINVAL, range, "range must be LOW-HIGH with LOW <= HIGH");
	}
	if (n > 7) {
		if (strcmp(col[7], "reversible") != 0 && col[7][0] != '\0')
			return fail(l, -EINVAL, col[7], "last column must be 'reversible' or empty");
		ie.reversible = col[7][0] != '\0';
		if (ie.reversible && (ie.id & DPFIX_IPFIX_IE_REVERSE_BIT))
			return fail(l, -EINVAL, col[1], "a reversible element's id must be below 16384: "
					"id | 0x4000 is its reverse (RFC 5103 6.2)");
	}

	old = dpfix_ipfix_ie_by_id(ie.pen, ie.id);
	if (old != NULL)
		return fail(l, -EEXIST, old->name, "element %" PRIu32 ":%u is already defined as",
				ie.pen, ie.id);
	if (ie.reversible && (old = dpfix_ipfix_ie_by_id(ie.pen,
				ie.id | DPFIX_IPFIX_IE_REVERSE_BIT)) != NULL)
		return fail(l, -EEXIST, old->name, "reverse element %" PRIu32 ":%u is already defined as",
				ie.pen, ie.id | DPFIX_IPFIX_IE_REVERSE_BIT);
	if (dpfix_ipfix_ie_by_name(ie.name) != NULL)
		return fail(l, -EEXIST, ie.name, "element name already taken");
	if (ie.reversible && ipfix_ie_reverse_name(ie.name, reverse_name, sizeof(reverse_name)) == 0 &&
			dpfix_ipfix_ie_by_name(reverse_name) != NULL)
		return fail(l, -EEXIST, reverse_name, "reverse element name already taken");
	ret = dpfix_ipfix_ie_add(&ie);
	if (ret == -EINVAL)
		return fail(l, ret, ie.name, "element name must be letters and digits, starting "
				"with a letter, at most %d characters", DPFIX_IPFIX_IE_NAME_MAX);
	if (ret < 0)
		return fail(l, ret, ie.name, "cannot add element: %s", strerror(-ret));
	if (remember(l, ie.pen, ie.id) < 0 || (ie.reversible &&
			remember(l, ie.pen, ie.id | DPFIX_IPFIX_IE_REVERSE_BIT) < 0)) {
		ipfix_ie_remove(ie.pen, ie.id);
		ipfix_ie_remove(ie.pen, ie.id | DPFIX_IPFIX_IE_REVERSE_BIT);
		return fail(l, -ENOMEM, ie.name, "out of memory");
	}
	return 0;
}

int
dpfix_ipfix_ie_load(const char *path, char *err, size_t errlen)
{
	struct load l = {.path = path, .err = err, .errlen = errlen};
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	int ret = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		ret = -errno;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	while (ret == 0 && (n = getline(&line, &size, f)) >= 0) {
		char *text;

		l.line++;
		if (memchr(line, '\0', (size_t)n) != NULL) {
			ret = fail(&l, -EINVAL, "\\0", "line holds a NUL byte");
			break;
		}
		if (n >= LINE_MAX_CHARS) {
			line[32] = '\0';
			ret = fail(&l, -EINVAL, line, "line longer than %d characters", LINE_MAX_CHARS - 1);
			break;
		}
		text = trim(line);
		if (text[0] == '\0' || text[0] == '#')
			continue;
		ret = parse_line(&l, text);
	}
	if (ret == 0 && ferror(f)) {
		ret = -EIO;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s:%u: read error", path, l.line);
	}
	fclose(f);
	free(line);
	if (ret < 0) {
		while (l.added_count > 0) {
			l.added_count--;
			ipfix_ie_remove(l.added[l.added_count].pen, l.added[l.added_count].id);
		}
	} else {
		ret = (int)l.added_count;
	}
	free(l.added);
	return ret;
}

int
dpfix_ipfix_ie_load_files(const struct dpfix_config_list *files, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < files->count; i++) {
		int ret = dpfix_ipfix_ie_load(files->items[i], err, errlen);

		if (ret < 0)
			return ret;
		dpfix_log(DPFIX_LOG_INFO, "%d enterprise elements from %s", ret, files->items[i]);
	}
	return 0;
}
