/* Readable renderings of IPFIX values: JSON values per abstract data type and whole
 * records as JSON objects keyed by information-element names. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "dpfix_ipfix.h"

uint64_t
dpfix_ipfix_read_unsigned(const uint8_t *v, uint16_t len)
{
	uint64_t x = 0;

	for (uint16_t i = 0; i < len && i < 8; i++)
		x = x << 8 | v[i];
	return x;
}

static int
format_hex(const uint8_t *v, uint16_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen < 3)
		return 0;
	out[n++] = '"';
	for (uint16_t i = 0; i < len && n + 3 < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%02x", v[i]);
	out[n++] = '"';
	out[n] = '\0';
	return (int)n;
}

static int
format_time(uint64_t seconds, uint32_t fraction_ns, int digits, char *out, size_t outlen)
{
	time_t s = (time_t)seconds;
	struct tm tm;
	char date[32];

	gmtime_r(&s, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (digits == 0)
		return snprintf(out, outlen, "\"%sZ\"", date);
	if (digits == 3)
		return snprintf(out, outlen, "\"%s.%03uZ\"", date, fraction_ns / 1000000);
	if (digits == 6)
		return snprintf(out, outlen, "\"%s.%06uZ\"", date, fraction_ns / 1000);
	return snprintf(out, outlen, "\"%s.%09uZ\"", date, fraction_ns);
}

/* NTP-format timestamps (RFC 7011 6.1.9/6.1.10): seconds since 1900, binary fraction.
 * The fraction is rounded to the nearest unit of the element's precision: an encoder
 * rounds the other way, and the error is below half a unit, so the value comes back. */
static int
format_ntp_time(const uint8_t *v, int digits, char *out, size_t outlen)
{
	uint64_t seconds = dpfix_ipfix_read_unsigned(v, 4) - 2208988800u;
	uint64_t fraction = dpfix_ipfix_read_unsigned(v + 4, 4);
	uint64_t unit = digits == 6 ? 1000000u : 1000000000u;
	uint64_t sub;

	if (digits == 6)
		fraction &= ~(uint64_t)0x7ff; /* the low 11 bits carry no microseconds */
	sub = (fraction * unit + (1ull << 31)) >> 32;
	if (sub == unit) {
		seconds++;
		sub = 0;
	}
	return format_time(seconds, (uint32_t)(digits == 6 ? sub * 1000 : sub), digits, out, outlen);
}

static int
format_string(const uint8_t *v, uint16_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen < 3)
		return 0;
	out[n++] = '"';
	for (uint16_t i = 0; i < len && n + 8 < outlen; i++) {
		uint8_t c = v[i];

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, outlen - n, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, outlen - n, "\\u%04x", c);
		else
			out[n++] = (char)c; /* UTF-8 bytes pass through as they are */
	}
	out[n++] = '"';
	out[n] = '\0';
	return (int)n;
}

int
dpfix_ipfix_format_json_value(enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len,
		char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];

	switch (type) {
	case DPFIX_IPFIX_UNSIGNED8:
	case DPFIX_IPFIX_UNSIGNED16:
	case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64:
		if (len > 8)
			break;
		return snprintf(out, outlen, "%" PRIu64, dpfix_ipfix_read_unsigned(v, len));
	case DPFIX_IPFIX_SIGNED8:
	case DPFIX_IPFIX_SIGNED16:
	case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64: {
		uint64_t x = dpfix_ipfix_read_unsigned(v, len);

		if (len == 0 || len > 8)
			break;
		if (len < 8 && (x >> (len * 8 - 1)) & 1)
			x |= ~(uint64_t)0 << (len * 8); /* sign-extend a reduced-size value */
		return snprintf(out, outlen, "%" PRId64, (int64_t)x);
	}
	case DPFIX_IPFIX_FLOAT32:
	case DPFIX_IPFIX_FLOAT64:
		if (len == 4) {
			uint32_t bits = (uint32_t)dpfix_ipfix_read_unsigned(v, 4);
			float f;

			memcpy(&f, &bits, 4);
			return snprintf(out, outlen, "%.9g", (double)f);
		}
		if (len == 8) {
			uint64_t bits = dpfix_ipfix_read_unsigned(v, 8);
			double f;

			memcpy(&f, &bits, 8);
			return snprintf(out, outlen, "%.17g", f);
		}
		break;
	case DPFIX_IPFIX_BOOLEAN:
		if (len == 1 && (v[0] == 1 || v[0] == 2))
			return snprintf(out, outlen, "%s", v[0] == 1 ? "true" : "false");
		break;
	case DPFIX_IPFIX_MAC_ADDRESS:
		if (len == 6)
			return snprintf(out, outlen, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", v[0], v[1], v[2],
					v[3], v[4], v[5]);
		break;
	case DPFIX_IPFIX_STRING:
		return format_string(v, len, out, outlen);
	case DPFIX_IPFIX_DATETIME_SECONDS:
		if (len == 4)
			return format_time(dpfix_ipfix_read_unsigned(v, 4), 0, 0, out, outlen);
		break;
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		if (len == 8) {
			uint64_t ms = dpfix_ipfix_read_unsigned(v, 8);

			return format_time(ms / 1000, (uint32_t)(ms % 1000) * 1000000, 3, out, outlen);
		}
		break;
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
		if (len == 8)
			return format_ntp_time(v, 6, out, outlen);
		break;
	case DPFIX_IPFIX_DATETIME_NANOSECONDS:
		if (len == 8)
			return format_ntp_time(v, 9, out, outlen);
		break;
	case DPFIX_IPFIX_IPV4_ADDRESS:
		if (len == 4 && inet_ntop(AF_INET, v, addr, sizeof(addr)) != NULL)
			return snprintf(out, outlen, "\"%s\"", addr);
		break;
	case DPFIX_IPFIX_IPV6_ADDRESS:
		if (len == 16 && inet_ntop(AF_INET6, v, addr, sizeof(addr)) != NULL)
			return snprintf(out, outlen, "\"%s\"", addr);
		break;
	default:
		break;
	}
	/* Octet arrays, lists, and any value whose length its type does not allow. */
	return format_hex(v, len, out, outlen);
}

int
dpfix_ipfix_record_to_json(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out)
{
	static __thread uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static __thread uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	char value[1024 * 3];

	if (dpfix_ipfix_record_fields(t, record, len, offsets, lengths) < 0)
		return -EBADMSG;
	fputc('{', out);
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);
		enum dpfix_ipfix_type type = ie != NULL ? ie->type : DPFIX_IPFIX_OCTET_ARRAY;

		if (i > 0)
			fputc(',', out);
		if (ie != NULL)
			fprintf(out, "\"%s\":", ie->name);
		else if (f->pen != 0)
			fprintf(out, "\"%u:%u\":", f->pen, f->id);
		else
			fprintf(out, "\"_ie%u\":", f->id);
		dpfix_ipfix_format_json_value(type, record + offsets[i], lengths[i], value, sizeof(value));
		fputs(value, out);
	}
	fputs("}\n", out);
	return 0;
}
