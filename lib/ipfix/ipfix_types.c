/* Values of every IPFIX abstract data type on the wire (RFC 7011 section 6):
 * decoding and encoding at full and reduced size, NTP times, UTF-8, and the length
 * prefix of variable-length fields (section 7). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"

/* Seconds from the NTP epoch (1900-01-01) to the UNIX epoch (1970-01-01). */
#define NTP_UNIX_OFFSET INT64_C(2208988800)
#define TWO_POW_31 (INT64_C(1) << 31)
#define TWO_POW_32 (INT64_C(1) << 32)
/* dateTimeMicroseconds ignores the low 11 bits of the NTP fraction (RFC 7011 6.1.9). */
#define MICROSECOND_FRACTION_MASK (~UINT32_C(0x7ff))

static const uint16_t type_sizes[DPFIX_IPFIX_TYPE_COUNT] = {
	[DPFIX_IPFIX_UNSIGNED8] = 1,
	[DPFIX_IPFIX_UNSIGNED16] = 2,
	[DPFIX_IPFIX_UNSIGNED32] = 4,
	[DPFIX_IPFIX_UNSIGNED64] = 8,
	[DPFIX_IPFIX_SIGNED8] = 1,
	[DPFIX_IPFIX_SIGNED16] = 2,
	[DPFIX_IPFIX_SIGNED32] = 4,
	[DPFIX_IPFIX_SIGNED64] = 8,
	[DPFIX_IPFIX_FLOAT32] = 4,
	[DPFIX_IPFIX_FLOAT64] = 8,
	[DPFIX_IPFIX_BOOLEAN] = 1,
	[DPFIX_IPFIX_MAC_ADDRESS] = 6,
	[DPFIX_IPFIX_DATETIME_SECONDS] = 4,
	[DPFIX_IPFIX_DATETIME_MILLISECONDS] = 8,
	[DPFIX_IPFIX_DATETIME_MICROSECONDS] = 8,
	[DPFIX_IPFIX_DATETIME_NANOSECONDS] = 8,
	[DPFIX_IPFIX_IPV4_ADDRESS] = 4,
	[DPFIX_IPFIX_IPV6_ADDRESS] = 16,
	[DPFIX_IPFIX_UNSIGNED256] = 32,
};

uint16_t
dpfix_ipfix_type_size(enum dpfix_ipfix_type type)
{
	return (unsigned int)type < DPFIX_IPFIX_TYPE_COUNT ? type_sizes[type] : 0;
}

static bool
is_octets(enum dpfix_ipfix_type type)
{
	return type == DPFIX_IPFIX_OCTET_ARRAY || type == DPFIX_IPFIX_STRING ||
			type == DPFIX_IPFIX_BASIC_LIST || type == DPFIX_IPFIX_SUB_TEMPLATE_LIST ||
			type == DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST;
}

bool
dpfix_ipfix_type_length_valid(enum dpfix_ipfix_type type, uint32_t len)
{
	if ((unsigned int)type >= DPFIX_IPFIX_TYPE_COUNT)
		return false;
	if (is_octets(type))
		return len <= UINT16_MAX;
	switch (type) {
	case DPFIX_IPFIX_UNSIGNED16:
	case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64:
	case DPFIX_IPFIX_SIGNED16:
	case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64:
	case DPFIX_IPFIX_UNSIGNED256:
		/* RFC 7011 6.2; unsigned256 likewise (RFC 9740). */
		return len >= 1 && len <= type_sizes[type];
	case DPFIX_IPFIX_FLOAT64:
		return len == 8 || len == 4;
	default:
		return len == type_sizes[type];
	}
}

/* ---- integers ---- */

uint64_t
dpfix_ipfix_read_unsigned(const uint8_t *v, uint16_t len)
{
	return dpfix_get_be(v, len < 8 ? len : 8);
}

int
dpfix_ipfix_get_unsigned(const uint8_t *v, uint16_t len, uint64_t *x)
{
	if (len < 1 || len > 8)
		return -EBADMSG;
	*x = dpfix_get_be(v, len);
	return 0;
}

int
dpfix_ipfix_get_signed(const uint8_t *v, uint16_t len, int64_t *x)
{
	uint64_t r;

	if (dpfix_ipfix_get_unsigned(v, len, &r) < 0)
		return -EBADMSG;
	/* Sign-extend from the top bit of the reduced size (RFC 7011 6.2). */
	if (len < 8 && (r >> (len * 8 - 1)) & 1)
		r |= ~UINT64_C(0) << (len * 8);
	*x = (int64_t)r;
	return 0;
}

int
dpfix_ipfix_put_unsigned(uint8_t *v, uint16_t len, uint64_t x)
{
	if (len < 1 || len > 8)
		return -EINVAL;
	if (len < 8 && x >> (len * 8) != 0)
		return -ERANGE;
	for (int i = len - 1; i >= 0; i--) {
		v[i] = (uint8_t)x;
		x >>= 8;
	}
	return 0;
}

int
dpfix_ipfix_put_signed(uint8_t *v, uint16_t len, int64_t x)
{
	if (len < 1 || len > 8)
		return -EINVAL;
	if (len < 8) {
		int64_t limit = INT64_C(1) << (len * 8 - 1);

		if (x < -limit || x >= limit)
			return -ERANGE;
	}
	for (int i = len - 1; i >= 0; i--) {
		v[i] = (uint8_t)((uint64_t)x >> (8 * (len - 1 - i)));
	}
	return 0;
}

/* ---- UTF-8 (RFC 3629) ---- */

int
dpfix_ipfix_utf8_next(const uint8_t *s, size_t len)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	int n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return -1; /* continuation byte, overlong lead C0/C1, or beyond U+10FFFF */
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= len || s[i] < lo || s[i] > hi)
			return -i; /* the maximal ill-formed subpart is s[0..i) */
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

bool
dpfix_ipfix_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		int n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = dpfix_ipfix_utf8_next(s + i, len - i);
		if (n < 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* ---- times ---- */

/* Floor of a / b for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* NTP timestamp -> UNIX time. The era is the one that puts the time in
 * [pivot - 2^31, pivot + 2^31) seconds (RFC 7011 5.2: the collector supplies it). */
static void
ntp_to_time(uint32_t ntp_sec, uint32_t fraction, bool micro, int64_t pivot,
		struct dpfix_ipfix_time *t)
{
	int64_t era0 = (int64_t)ntp_sec - NTP_UNIX_OFFSET;
	uint64_t unit = micro ? 1000000u : 1000000000u;
	uint64_t sub;

	/* era * 2^32 is the smallest multiple with era0 + era * 2^32 >= pivot - 2^31. */
	t->sec = era0 - floor_div(era0 - (pivot - TWO_POW_31), TWO_POW_32) * TWO_POW_32;
	if (micro)
		fraction &= MICROSECOND_FRACTION_MASK;
	/* Nearest unit: an encoder rounds to the nearest fraction, so this gives back
	 * exactly the microsecond or nanosecond it had (the error is below half a unit). */
	sub = ((uint64_t)fraction * unit + (UINT64_C(1) << 31)) >> 32;
	if (sub == unit) {
		t->sec++;
		sub = 0;
	}
	t->nsec = (uint32_t)(micro ? sub * 1000 : sub);
}

static int
time_to_ntp(const struct dpfix_ipfix_time *t, bool micro, uint8_t *v)
{
	uint64_t fraction;

	if (t->nsec >= 1000000000u || t->sec < -NTP_UNIX_OFFSET)
		return -ERANGE;
	if (micro) {
		/* To the nearest 2^-21 s, which leaves the low 11 bits zero (6.1.9). */
		uint64_t us = t->nsec / 1000;

		fraction = ((us << 21) + 500000) / 1000000 << 11;
	} else {
		fraction = (((uint64_t)t->nsec << 32) + 500000000) / 1000000000;
	}
	/* The era is left implicit (RFC 7011 5.2): seconds modulo 2^32. */
	dpfix_ipfix_put_unsigned(v, 4, (uint64_t)(t->sec + NTP_UNIX_OFFSET) & UINT32_MAX);
	dpfix_ipfix_put_unsigned(v + 4, 4, fraction);
	return 0;
}

static int
decode_time(enum dpfix_ipfix_type type, const uint8_t *v, int64_t pivot,
		struct dpfix_ipfix_time *t)
{
	uint64_t x;

	switch (type) {
	case DPFIX_IPFIX_DATETIME_SECONDS:
		dpfix_ipfix_get_unsigned(v, 4, &x);
		t->sec = (int64_t)x;
		t->nsec = 0;
		return 0;
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		dpfix_ipfix_get_unsigned(v, 8, &x);
		t->sec = (int64_t)(x / 1000);
		t->nsec = (uint32_t)(x % 1000) * 1000000;
		return 0;
	default: {
		uint64_t s, f;

		dpfix_ipfix_get_unsigned(v, 4, &s);
		dpfix_ipfix_get_unsigned(v + 4, 4, &f);
		ntp_to_time((uint32_t)s, (uint32_t)f, type == DPFIX_IPFIX_DATETIME_MICROSECONDS, pivot, t);
		return 0;
	}
	}
}

static int
encode_time(enum dpfix_ipfix_type type, const struct dpfix_ipfix_time *t, uint8_t *v)
{
	if (t->nsec >= 1000000000u)
		return -ERANGE;
	switch (type) {
	case DPFIX_IPFIX_DATETIME_SECONDS:
		/* 1970..2106; later times would need the modulo of RFC 7011 5.2. */
		if (t->sec < 0 || t->sec > UINT32_MAX)
			return -ERANGE;
		return dpfix_ipfix_put_unsigned(v, 4, (uint64_t)t->sec);
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		if (t->sec < 0 || (uint64_t)t->sec > UINT64_MAX / 1000 ||
				((uint64_t)t->sec == UINT64_MAX / 1000 &&
				 t->nsec / 1000000 > UINT64_MAX % 1000))
			return -ERANGE;
		return dpfix_ipfix_put_unsigned(v, 8, (uint64_t)t->sec * 1000 + t->nsec / 1000000);
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
		return time_to_ntp(t, true, v);
	default:
		return time_to_ntp(t, false, v);
	}
}

/* ---- whole values ---- */

int
dpfix_ipfix_value_decode(enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len,
		int64_t ntp_pivot, struct dpfix_ipfix_value *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	if (!dpfix_ipfix_type_length_valid(type, len))
		return -EBADMSG;
	switch (type) {
	case DPFIX_IPFIX_UNSIGNED8:
	case DPFIX_IPFIX_UNSIGNED16:
	case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64:
		return dpfix_ipfix_get_unsigned(v, len, &out->u);
	case DPFIX_IPFIX_SIGNED8:
	case DPFIX_IPFIX_SIGNED16:
	case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64:
		return dpfix_ipfix_get_signed(v, len, &out->i);
	case DPFIX_IPFIX_FLOAT32:
	case DPFIX_IPFIX_FLOAT64: {
		uint64_t bits;

		dpfix_ipfix_get_unsigned(v, len, &bits);
		if (len == 4) {
			uint32_t b32 = (uint32_t)bits;
			float f;

			memcpy(&f, &b32, sizeof(f));
			out->f = f;
		} else {
			memcpy(&out->f, &bits, sizeof(out->f));
		}
		return 0;
	}
	case DPFIX_IPFIX_BOOLEAN:
		/* RFC 7011 6.1.5: 1 is true, 2 is false, anything else undefined. */
		if (v[0] != 1 && v[0] != 2)
			return -EBADMSG;
		out->b = v[0] == 1;
		return 0;
	case DPFIX_IPFIX_MAC_ADDRESS:
	case DPFIX_IPFIX_IPV4_ADDRESS:
	case DPFIX_IPFIX_IPV6_ADDRESS:
		memcpy(out->addr, v, len);
		return 0;
	case DPFIX_IPFIX_DATETIME_SECONDS:
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
	case DPFIX_IPFIX_DATETIME_NANOSECONDS:
		return decode_time(type, v, ntp_pivot, &out->t);
	default:
		out->octets.p = v;
		out->octets.len = len;
		/* RFC 7011 6.1.6: collectors SHOULD detect ill-formed strings. */
		if (type == DPFIX_IPFIX_STRING && !dpfix_ipfix_utf8_valid(v, len))
			return -EILSEQ;
		return 0;
	}
}

/* unsigned256 in len octets: the value's leading zero octets may be dropped, or
 * zeros added in front. */
static int
encode_unsigned256(const uint8_t *p, uint16_t n, uint8_t *v, uint16_t len)
{
	if (n > len) {
		for (uint16_t i = 0; i < n - len; i++)
			if (p[i] != 0)
				return -ERANGE;
		memcpy(v, p + (n - len), len);
		return 0;
	}
	memset(v, 0, len - n);
	memcpy(v + (len - n), p, n);
	return 0;
}

int
dpfix_ipfix_value_encode(const struct dpfix_ipfix_value *val, uint8_t *v, uint16_t len)
{
	enum dpfix_ipfix_type type = val->type;

	if (!dpfix_ipfix_type_length_valid(type, len))
		return -EINVAL;
	switch (type) {
	case DPFIX_IPFIX_UNSIGNED8:
	case DPFIX_IPFIX_UNSIGNED16:
	case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64:
		return dpfix_ipfix_put_unsigned(v, len, val->u);
	case DPFIX_IPFIX_SIGNED8:
	case DPFIX_IPFIX_SIGNED16:
	case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64:
		return dpfix_ipfix_put_signed(v, len, val->i);
	case DPFIX_IPFIX_FLOAT32:
	case DPFIX_IPFIX_FLOAT64:
		if (len == 4) {
			float f;
			uint32_t bits;

			/* float64 as float32 (6.2) loses precision, which the RFC accepts;
			 * a finite value beyond float32's range does not fit. */
			if (isfinite(val->f) && fabs(val->f) > FLT_MAX)
				return -ERANGE;
			f = (float)val->f;
			memcpy(&bits, &f, sizeof(bits));
			return dpfix_ipfix_put_unsigned(v, 4, bits);
		} else {
			uint64_t bits;

			memcpy(&bits, &val->f, sizeof(bits));
			return dpfix_ipfix_put_unsigned(v, 8, bits);
		}
	case DPFIX_IPFIX_BOOLEAN:
		v[0] = val->b ? 1 : 2;
		return 0;
	case DPFIX_IPFIX_MAC_ADDRESS:
	case DPFIX_IPFIX_IPV4_ADDRESS:
	case DPFIX_IPFIX_IPV6_ADDRESS:
		memcpy(v, val->addr, len);
		return 0;
	case DPFIX_IPFIX_DATETIME_SECONDS:
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
	case DPFIX_IPFIX_DATETIME_NANOSECONDS:
		return encode_time(type, &val->t, v);
	case DPFIX_IPFIX_UNSIGNED256:
		return encode_unsigned256(val->octets.p, val->octets.len, v, len);
	case DPFIX_IPFIX_STRING:
		/* RFC 7011 6.1.6: exporters MUST NOT send ill-formed UTF-8. */
		if (!dpfix_ipfix_utf8_valid(val->octets.p, val->octets.len))
			return -EILSEQ;
		if (val->octets.len > len)
			return -ERANGE;
		memcpy(v, val->octets.p, val->octets.len);
		memset(v + val->octets.len, 0, len - val->octets.len);
		return 0;
	default:
		if (val->octets.len != len)
			return -ERANGE;
		memcpy(v, val->octets.p, len);
		return 0;
	}
}

int
dpfix_ipfix_varlen_encode(uint8_t *out, size_t room, uint32_t len)
{
	if (len > UINT16_MAX)
		return -ERANGE;
	if (len < 255) {
		if (room < 1)
			return -ENOSPC;
		out[0] = (uint8_t)len;
		return 1;
	}
	if (room < 3)
		return -ENOSPC;
	out[0] = 255;
	dpfix_put16(out + 1, (uint16_t)len);
	return 3;
}

int
dpfix_ipfix_varlen_decode(const uint8_t *p, size_t avail, uint16_t *len)
{
	if (avail < 1)
		return -EBADMSG;
	if (p[0] < 255) {
		*len = p[0];
		return 1;
	}
	if (avail < 3)
		return -EBADMSG;
	*len = dpfix_get16(p + 1);
	return 3;
}

int
dpfix_ipfix_field_encode(const struct dpfix_ipfix_value *val, uint16_t field_len,
		uint8_t *out, size_t room)
{
	uint16_t len = field_len;
	int prefix = 0, ret;

	if (field_len == DPFIX_IPFIX_VARLEN) {
		len = is_octets(val->type) || val->type == DPFIX_IPFIX_UNSIGNED256 ?
				val->octets.len : dpfix_ipfix_type_size(val->type);
		prefix = dpfix_ipfix_varlen_encode(out, room, len);
		if (prefix < 0)
			return prefix;
	}
	if (room - (size_t)prefix < len)
		return -ENOSPC;
	ret = dpfix_ipfix_value_encode(val, out + prefix, len);
	return ret < 0 ? ret : prefix + len;
}
