/* Readable renderings of IPFIX values: JSON values per abstract data type, and whole
 * records as JSON objects keyed by information-element names or, for people, as one
 * line of "name=value" pairs with the same keys and values (the collector and
 * dpfix-dump print records so). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "dpfix_ipfix.h"

/* Where formatted text goes: a stream (no limit), or a buffer that keeps room for a
 * closing quote and the NUL, so a value cut short is still a terminated JSON string. */
struct sink {
	FILE *f;
	char *buf;
	size_t size;
	size_t len;
	bool full;
};

static void
put(struct sink *s, const char *p, size_t n)
{
	if (s->f != NULL) {
		fwrite(p, 1, n, s->f);
		s->len += n;
		return;
	}
	if (s->full || s->len + n + 2 > s->size) {
		s->full = true;
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void
puts_sink(struct sink *s, const char *p)
{
	put(s, p, strlen(p));
}

static void putf(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct sink *s, const char *fmt, ...)
{
	char text[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(s, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* The closing quote of a string: written even when the buffer filled up, into the
 * room put() kept for it. */
static void
close_quote(struct sink *s)
{
	if (s->f != NULL) {
		fputc('"', s->f);
		s->len++;
		return;
	}
	if (s->len + 2 <= s->size) {
		s->buf[s->len++] = '"';
		s->buf[s->len] = '\0';
	}
}

static void
format_hex(struct sink *s, const uint8_t *v, uint16_t len)
{
	static const char digits[] = "0123456789abcdef";

	put(s, "\"", 1);
	for (uint16_t i = 0; i < len && !s->full; i++) {
		char pair[2] = {digits[v[i] >> 4], digits[v[i] & 15]};

		put(s, pair, 2);
	}
	close_quote(s);
}

/* A JSON string of UTF-8 text. Quote, backslash and control characters are escaped;
 * NUL padding at the end of a fixed-length field is dropped; each ill-formed part of
 * the octets becomes one U+FFFD, so the output is always valid UTF-8 (RFC 7011 6.1.6
 * asks collectors to detect such values; this keeps the field visible). */
static void
format_string(struct sink *s, const uint8_t *v, uint16_t len)
{
	size_t i = 0, n = len;

	while (n > 0 && v[n - 1] == '\0')
		n--;
	put(s, "\"", 1);
	while (i < n && !s->full) {
		uint8_t c = v[i];
		int k;

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			put(s, esc, 2);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			putf(s, "\\u%04x", c);
			i++;
			continue;
		}
		k = dpfix_ipfix_utf8_next(v + i, n - i);
		if (k > 0) {
			put(s, (const char *)v + i, (size_t)k);
			i += (size_t)k;
		} else {
			put(s, "\xef\xbf\xbd", 3);
			i += (size_t)-k;
		}
	}
	close_quote(s);
}

/* ISO 8601 UTC with the precision of the type; false for years outside 0..9999. */
static bool
format_time(struct sink *s, const struct dpfix_ipfix_time *t, int digits)
{
	time_t sec = (time_t)t->sec;
	struct tm tm;
	char date[40];

	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return false;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (digits == 0)
		putf(s, "\"%sZ\"", date);
	else if (digits == 3)
		putf(s, "\"%s.%03" PRIu32 "Z\"", date, t->nsec / 1000000);
	else if (digits == 6)
		putf(s, "\"%s.%06" PRIu32 "Z\"", date, t->nsec / 1000);
	else
		putf(s, "\"%s.%09" PRIu32 "Z\"", date, t->nsec);
	return true;
}

/* JSON has no NaN or infinities: they are written as strings. */
static void
format_float(struct sink *s, double f, bool single)
{
	if (isnan(f))
		puts_sink(s, "\"NaN\"");
	else if (isinf(f))
		puts_sink(s, f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		putf(s, single ? "%.9g" : "%.17g", f);
}

static void
format_value(struct sink *s, enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len)
{
	struct dpfix_ipfix_value val;
	char addr[INET6_ADDRSTRLEN];
	int ret = dpfix_ipfix_value_decode(type, v, len, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &val);

	if (ret == -EILSEQ && type == DPFIX_IPFIX_STRING)
		ret = 0; /* printed with replacement characters */
	if (ret < 0) {
		/* A length the type cannot have, or a boolean that is not one. */
		format_hex(s, v, len);
		return;
	}
	switch (type) {
	case DPFIX_IPFIX_UNSIGNED8:
	case DPFIX_IPFIX_UNSIGNED16:
	case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64:
		putf(s, "%" PRIu64, val.u);
		return;
	case DPFIX_IPFIX_SIGNED8:
	case DPFIX_IPFIX_SIGNED16:
	case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64:
		putf(s, "%" PRId64, val.i);
		return;
	case DPFIX_IPFIX_FLOAT32:
	case DPFIX_IPFIX_FLOAT64:
		format_float(s, val.f, len == 4);
		return;
	case DPFIX_IPFIX_BOOLEAN:
		puts_sink(s, val.b ? "true" : "false");
		return;
	case DPFIX_IPFIX_MAC_ADDRESS:
		putf(s, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", v[0], v[1], v[2], v[3], v[4], v[5]);
		return;
	case DPFIX_IPFIX_IPV4_ADDRESS:
	case DPFIX_IPFIX_IPV6_ADDRESS:
		inet_ntop(type == DPFIX_IPFIX_IPV4_ADDRESS ? AF_INET : AF_INET6, v, addr, sizeof(addr));
		putf(s, "\"%s\"", addr);
		return;
	case DPFIX_IPFIX_STRING:
		format_string(s, v, len);
		return;
	case DPFIX_IPFIX_DATETIME_SECONDS:
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
	case DPFIX_IPFIX_DATETIME_NANOSECONDS:
		if (!format_time(s, &val.t, type == DPFIX_IPFIX_DATETIME_SECONDS ? 0 :
				type == DPFIX_IPFIX_DATETIME_MILLISECONDS ? 3 :
				type == DPFIX_IPFIX_DATETIME_MICROSECONDS ? 6 : 9))
			format_hex(s, v, len);
		return;
	default:
		/* Octet arrays, unsigned256 and the RFC 6313 lists (kept opaque). */
		format_hex(s, v, len);
		return;
	}
}

int
dpfix_ipfix_format_json_value(enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len,
		char *out, size_t outlen)
{
	struct sink s = {.buf = out, .size = outlen};

	if (outlen == 0)
		return 0;
	out[0] = '\0';
	format_value(&s, type, v, len);
	return (int)s.len;
}

int
dpfix_ipfix_field_name(const struct dpfix_ipfix_field_spec *f, char *out, size_t outlen)
{
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

	if (ie != NULL)
		return snprintf(out, outlen, "%s", ie->name);
	if (f->pen != 0)
		return snprintf(out, outlen, "%u:%u", f->pen, f->id);
	return snprintf(out, outlen, "_ie%u", f->id);
}

/* One record on one line, as a JSON object or as "name=value" pairs for people; the
 * values are the same either way. They go straight to the stream: a field of any
 * length (up to 65535 bytes, in hex or escaped) is written whole. */
static int
format_record(const struct dpfix_ipfix_template *t, const uint8_t *record, uint32_t len,
		FILE *out, bool json)
{
	static __thread uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static __thread uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	struct sink s = {.f = out};

	if (dpfix_ipfix_record_fields(t, record, len, offsets, lengths) < 0)
		return -EBADMSG;
	if (json)
		fputc('{', out);
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);
		char name[DPFIX_IPFIX_IE_NAME_MAX + 16];

		/* Names are identifiers (the registry's, or checked when added), "PEN:ID" or
		 * "_ieN": nothing to escape. */
		dpfix_ipfix_field_name(f, name, sizeof(name));
		if (json)
			fprintf(out, "%s\"%s\":", i > 0 ? "," : "", name);
		else
			fprintf(out, "%s%s=", i > 0 ? " " : "", name);
		format_value(&s, ie != NULL ? ie->type : DPFIX_IPFIX_OCTET_ARRAY, record + offsets[i],
				lengths[i]);
	}
	fputs(json ? "}\n" : "\n", out);
	return 0;
}

int
dpfix_ipfix_record_to_json(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out)
{
	return format_record(t, record, len, out, true);
}

int
dpfix_ipfix_record_to_text(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out)
{
	return format_record(t, record, len, out, false);
}
