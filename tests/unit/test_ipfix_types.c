/* Unit tests of lib/ipfix's type codecs: the encoding and decoding of every abstract
 * data type's values (RFC 7011 sections 6 and 7), reduced sizes and times included. */
#include "ipfix_types_test.h"
#include "unit_test.h"

/* Encodes val in len octets, checks the octets (if want is given) and decodes them
 * back into *back. Returns the encoder's result. */
static int
round_trip(const struct dpfix_ipfix_value *val, uint16_t len, const uint8_t *want,
		struct dpfix_ipfix_value *back)
{
	uint8_t buf[64], canary[64];
	int ret;

	memset(buf, 0xa5, sizeof(buf));
	memset(canary, 0xa5, sizeof(canary));
	ret = dpfix_ipfix_value_encode(val, buf, len);
	/* Nothing past the field is touched, whatever the outcome. */
	CHECK(memcmp(buf + len, canary, sizeof(buf) - len) == 0);
	if (ret != 0)
		return ret;
	if (want != NULL && memcmp(buf, want, len) != 0) {
		fprintf(stderr, "  type %s in %u octets: wrong octets\n",
				dpfix_ipfix_type_name(val->type), len);
		CHECK(0);
	}
	CHECK(dpfix_ipfix_value_decode(val->type, buf, len, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, back) == 0);
	CHECK(back->type == val->type);
	return 0;
}

static void
test_unsigned_values(void)
{
	struct dpfix_ipfix_value v, back;
	uint8_t raw[9] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
	uint64_t x;

	for (size_t t = 0; t < 4; t++) {
		uint16_t size = dpfix_ipfix_type_size(unsigned_types[t]);

		for (uint16_t len = 1; len <= size; len++) {
			uint64_t max = len == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * len)) - 1;
			const uint64_t values[] = {0, 1, 0x80, max / 3, max - 1, max};

			v = (struct dpfix_ipfix_value){.type = unsigned_types[t]};
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
				v.u = values[i];
				CHECK(round_trip(&v, len, NULL, &back) == 0 && back.u == values[i]);
			}
			/* One more than fits is refused, not truncated. */
			if (len < 8) {
				v.u = max + 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
				v.u = UINT64_MAX;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
			}
		}
		/* Lengths the type cannot have. */
		v = (struct dpfix_ipfix_value){.type = unsigned_types[t], .u = 1};
		CHECK(round_trip(&v, 0, NULL, &back) == -EINVAL);
		CHECK(round_trip(&v, (uint16_t)(size + 1), NULL, &back) == -EINVAL);
		CHECK(dpfix_ipfix_value_decode(unsigned_types[t], raw, 0, 0, &back) == -EBADMSG);
		CHECK(dpfix_ipfix_value_decode(unsigned_types[t], raw, (uint16_t)(size + 1), 0,
				&back) == -EBADMSG);
	}
	/* Big-endian octets, reduced sizes drop leading zeros only (RFC 7011 6.2). */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED64, .u = 0x010203};
	CHECK(round_trip(&v, 3, (const uint8_t[]){1, 2, 3}, &back) == 0 && back.u == 0x010203);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0, 1, 2, 3}, &back) == 0);
	CHECK(round_trip(&v, 2, NULL, &back) == -ERANGE);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED8, .u = 256};
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);
	CHECK(dpfix_ipfix_get_unsigned(raw, 8, &x) == 0 && x == 0x0102030405060708);
	CHECK(dpfix_ipfix_get_unsigned(raw, 9, &x) == -EBADMSG);
	CHECK(dpfix_ipfix_put_unsigned(raw, 9, 1) == -EINVAL);
}

/* The two unsigned readers at every length: get refuses what no unsigned type can
 * be, read (for callers that checked the template) takes at most the first 8 octets. */
static void
test_unsigned_readers(void)
{
	static const uint8_t raw[10] = {0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a};

	for (uint16_t len = 0; len <= sizeof(raw); len++) {
		uint64_t want = 0, x = 42;

		for (uint16_t i = 0; i < len && i < 8; i++)
			want = want << 8 | raw[i];
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(raw, len), want);
		if (len >= 1 && len <= 8) {
			CHECK(dpfix_ipfix_get_unsigned(raw, len, &x) == 0);
			CHECK_EQ_U64(x, want);
		} else {
			CHECK(dpfix_ipfix_get_unsigned(raw, len, &x) == -EBADMSG);
			CHECK_EQ_U64(x, 42);
		}
	}
}

static void
test_signed_values(void)
{
	struct dpfix_ipfix_value v, back;

	for (size_t t = 0; t < 4; t++) {
		uint16_t size = dpfix_ipfix_type_size(signed_types[t]);

		for (uint16_t len = 1; len <= size; len++) {
			int64_t max = len == 8 ? INT64_MAX : (INT64_C(1) << (8 * len - 1)) - 1;
			int64_t min = -max - 1;
			const int64_t values[] = {0, 1, -1, 127, -128, max, min, max / 7, min / 7};

			v = (struct dpfix_ipfix_value){.type = signed_types[t]};
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
				if (values[i] > max || values[i] < min)
					continue;
				v.i = values[i];
				CHECK(round_trip(&v, len, NULL, &back) == 0 && back.i == values[i]);
			}
			if (len < 8) {
				v.i = max + 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
				v.i = min - 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
			}
		}
		v = (struct dpfix_ipfix_value){.type = signed_types[t]};
		CHECK(round_trip(&v, (uint16_t)(size + 1), NULL, &back) == -EINVAL);
	}
	/* Two's complement, sign-extended from the reduced size's own top bit. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED32, .i = -1};
	CHECK(round_trip(&v, 3, (const uint8_t[]){0xff, 0xff, 0xff}, &back) == 0 && back.i == -1);
	v.i = -8388608;
	CHECK(round_trip(&v, 3, (const uint8_t[]){0x80, 0, 0}, &back) == 0 && back.i == -8388608);
	v.i = 8388607;
	CHECK(round_trip(&v, 3, (const uint8_t[]){0x7f, 0xff, 0xff}, &back) == 0);
	v.i = 128;
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);   /* 0x80 would read as -128 */
	CHECK(round_trip(&v, 2, (const uint8_t[]){0x00, 0x80}, &back) == 0 && back.i == 128);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED64, .i = INT64_MIN};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x80, 0, 0, 0, 0, 0, 0, 0}, &back) == 0 &&
			back.i == INT64_MIN);
	v.i = -2;
	CHECK(round_trip(&v, 2, (const uint8_t[]){0xff, 0xfe}, &back) == 0 && back.i == -2);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED8, .i = -128};
	CHECK(round_trip(&v, 1, (const uint8_t[]){0x80}, &back) == 0 && back.i == -128);
}

/* ---- values: floats ---- */

static uint64_t
bits64(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static void
test_float_values(void)
{
	const double doubles[] = {0.0, -0.0, 1.5, -0.25, 0.1, 1e-310 /* subnormal */, 1.7976931348623157e308,
		2.2250738585072014e-308, INFINITY, -INFINITY};
	const float floats[] = {0.0f, -0.0f, 1.5f, 0.1f, 3.4028235e38f, 1.17549435e-38f,
		1e-45f /* subnormal */, INFINITY, -INFINITY};
	struct dpfix_ipfix_value v, back;

	/* float64 at full size: bit-exact. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT64};
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		v.f = doubles[i];
		CHECK(round_trip(&v, 8, NULL, &back) == 0 && bits64(back.f) == bits64(doubles[i]));
	}
	v.f = 0.1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a},
			&back) == 0);
	v.f = NAN;
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && isnan(back.f));
	/* float32, and float64 reduced to 4 octets (RFC 7011 6.2): what float32 holds. */
	for (int reduced = 0; reduced < 2; reduced++) {
		v = (struct dpfix_ipfix_value){.type = reduced ? DPFIX_IPFIX_FLOAT64 : DPFIX_IPFIX_FLOAT32};
		for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
			v.f = floats[i];
			CHECK(round_trip(&v, 4, NULL, &back) == 0 && bits64(back.f) == bits64(floats[i]));
		}
		v.f = 1.5;
		CHECK(round_trip(&v, 4, (const uint8_t[]){0x3f, 0xc0, 0, 0}, &back) == 0);
		v.f = NAN;
		CHECK(round_trip(&v, 4, NULL, &back) == 0 && isnan(back.f));
		/* Finite but beyond float32: refused, not turned into infinity. */
		v.f = 1e39;
		CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
		v.f = -1e300;
		CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
		v.f = 0.1;  /* precision is what float32 has: the RFC's price for 4 octets */
		CHECK(round_trip(&v, 4, NULL, &back) == 0 && back.f == (double)0.1f);
	}
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT32, .f = 1};
	CHECK(round_trip(&v, 8, NULL, &back) == -EINVAL);
	v.type = DPFIX_IPFIX_FLOAT64;
	CHECK(round_trip(&v, 2, NULL, &back) == -EINVAL);
	CHECK(round_trip(&v, 6, NULL, &back) == -EINVAL);
}

/* ---- values: booleans, addresses, strings, octets ---- */

static void
test_boolean_values(void)
{
	struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_BOOLEAN, .b = true}, back;
	const uint8_t bad[] = {0, 3, 0x7f, 0x80, 0xff};

	CHECK(round_trip(&v, 1, (const uint8_t[]){1}, &back) == 0 && back.b);
	v.b = false;
	CHECK(round_trip(&v, 1, (const uint8_t[]){2}, &back) == 0 && !back.b);
	/* RFC 7011 6.1.5: any other octet is not a boolean: an error to report. */
	for (size_t i = 0; i < sizeof(bad); i++)
		CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_BOOLEAN, &bad[i], 1, 0, &back) == -EBADMSG);
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){0, 1}, 2, 0, &back) ==
			-EBADMSG);
	CHECK(round_trip(&v, 2, NULL, &back) == -EINVAL);
}

static void
test_address_values(void)
{
	static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc};
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const struct {
		enum dpfix_ipfix_type type;
		const uint8_t *addr;
		uint16_t len;
	} cases[] = {
		{DPFIX_IPFIX_MAC_ADDRESS, mac, 6},
		{DPFIX_IPFIX_IPV4_ADDRESS, v4, 4},
		{DPFIX_IPFIX_IPV6_ADDRESS, v6, 16},
	};
	struct dpfix_ipfix_value v, back;

	for (size_t i = 0; i < 3; i++) {
		v = (struct dpfix_ipfix_value){.type = cases[i].type};
		memcpy(v.addr, cases[i].addr, cases[i].len);
		CHECK(round_trip(&v, cases[i].len, cases[i].addr, &back) == 0 &&
				memcmp(back.addr, cases[i].addr, cases[i].len) == 0);
		/* Addresses have internal structure: no reduced size (6.2). */
		CHECK(round_trip(&v, (uint16_t)(cases[i].len - 1), NULL, &back) == -EINVAL);
		CHECK(round_trip(&v, (uint16_t)(cases[i].len + 1), NULL, &back) == -EINVAL);
		CHECK(dpfix_ipfix_value_decode(cases[i].type, v6, (uint16_t)(cases[i].len - 1), 0,
				&back) == -EBADMSG);
	}
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		int next;               /* dpfix_ipfix_utf8_next at s[0] */
	} cases[] = {
		{"a", 1},
		{"\xc3\xa9", 2},                /* e acute */
		{"\xe2\x82\xac", 3},            /* euro sign */
		{"\xf0\x9f\x98\x80", 4},        /* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 4},        /* U+10FFFF, the last */
		{"\xed\x9f\xbf", 3},            /* U+D7FF, just below the surrogates */
		{"\xee\x80\x80", 3},            /* U+E000, just above */
		{"\x80", -1},                   /* a lone continuation byte */
		{"\xc0\x80", -1},               /* overlong NUL */
		{"\xc1\xbf", -1},               /* overlong */
		{"\xe0\x80\x80", -1},           /* overlong 3-byte */
		{"\xe0\x9f\xbf", -1},
		{"\xed\xa0\x80", -1},           /* surrogate U+D800 */
		{"\xf0\x8f\xbf\xbf", -1},       /* overlong 4-byte */
		{"\xf4\x90\x80\x80", -1},       /* above U+10FFFF */
		{"\xf5\x80\x80\x80", -1},
		{"\xff", -1},
		{"\xe2\x82", -2},               /* cut short after two bytes */
		{"\xe2\x82" "A", -2},
		{"\xf0\x9f\x98", -3},
		{"\xc3", -1},
		{"\xc3" "A", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *s = (const uint8_t *)cases[i].s;
		size_t len = strlen(cases[i].s);
		int n = dpfix_ipfix_utf8_next(s, len);

		if (n != cases[i].next)
			fprintf(stderr, "  case %zu: utf8_next %d, wanted %d\n", i, n, cases[i].next);
		CHECK(n == cases[i].next);
		CHECK(dpfix_ipfix_utf8_valid(s, len) == ((size_t)cases[i].next == len));
	}
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"", 0));
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"a\0b", 3));
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac", 9));
	CHECK(!dpfix_ipfix_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82", 8));
}

static void
test_string_octet_values(void)
{
	static const uint8_t blob[5] = {0xde, 0xad, 0x00, 0xbe, 0xef};
	struct dpfix_ipfix_value v, back;
	uint8_t buf[8];

	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_STRING,
		.octets = {(const uint8_t *)"eth0", 4}};
	CHECK(round_trip(&v, 4, (const uint8_t *)"eth0", &back) == 0 && back.octets.len == 4 &&
			memcmp(back.octets.p, "eth0", 4) == 0);
	/* A string shorter than a fixed-length field is padded with zeros. */
	CHECK(round_trip(&v, 8, (const uint8_t *)"eth0\0\0\0\0", &back) == 0 &&
			back.octets.len == 8);
	CHECK(round_trip(&v, 3, NULL, &back) == -ERANGE);
	v.octets.p = (const uint8_t *)"bad\xe2\x82";
	v.octets.len = 5;
	CHECK(round_trip(&v, 5, NULL, &back) == -EILSEQ);   /* exporters MUST NOT (6.1.6) */
	/* A collector sees ill-formed UTF-8 as such, with the octets still at hand. */
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_STRING, (const uint8_t *)"bad\xe2\x82", 5, 0,
			&back) == -EILSEQ && back.octets.len == 5);
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_STRING, buf, 0, 0, &back) == 0 &&
			back.octets.len == 0);

	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_OCTET_ARRAY, .octets = {blob, 5}};
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.len == 5 &&
			memcmp(back.octets.p, blob, 5) == 0);
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);    /* octet arrays are not padded */
	CHECK(round_trip(&v, 6, NULL, &back) == -ERANGE);
	v.octets.len = 0;
	CHECK(round_trip(&v, 0, NULL, &back) == 0 && back.octets.len == 0);
	/* The RFC 6313 lists stay opaque octets. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_BASIC_LIST, .octets = {blob, 5}};
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.p != NULL);
	v.type = DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST;
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.len == 5);
}

static void
test_unsigned256_values(void)
{
	uint8_t full[32] = {0}, bits[32];
	struct dpfix_ipfix_value v, back;

	for (int i = 0; i < 32; i++)
		bits[i] = (uint8_t)(0x11 * (i % 15 + 1));
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED256, .octets = {bits, 32}};
	CHECK(round_trip(&v, 32, bits, &back) == 0 && back.octets.len == 32 &&
			memcmp(back.octets.p, bits, 32) == 0);
	CHECK(round_trip(&v, 31, NULL, &back) == -ERANGE);
	/* Leading zero octets may be dropped (reduced size) or added. */
	full[30] = 0x01;
	full[31] = 0x02;
	v.octets.p = full;
	CHECK(round_trip(&v, 2, (const uint8_t[]){1, 2}, &back) == 0 && back.octets.len == 2);
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);
	v.octets.p = full + 30;
	v.octets.len = 2;
	CHECK(round_trip(&v, 32, full, &back) == 0);
	CHECK(round_trip(&v, 33, NULL, &back) == -EINVAL);
	CHECK(round_trip(&v, 0, NULL, &back) == -EINVAL);
}

/* ---- values: times ---- */

#define NTP_OFFSET INT64_C(2208988800)

static void
test_time_seconds_milliseconds(void)
{
	struct dpfix_ipfix_value v, back;

	v = time_value(DPFIX_IPFIX_DATETIME_SECONDS, 0, 0);
	CHECK(round_trip(&v, 4, (const uint8_t[]){0, 0, 0, 0}, &back) == 0 && back.t.sec == 0);
	v.t.sec = 1700000000;
	v.t.nsec = 999999999;   /* floored: a start time is never reported late */
	CHECK(round_trip(&v, 4, (const uint8_t[]){0x65, 0x53, 0xf1, 0x00}, &back) == 0 &&
			back.t.sec == 1700000000 && back.t.nsec == 0);
	v.t.sec = UINT32_MAX;   /* 2106-02-07T06:28:15Z, the last */
	v.t.nsec = 0;
	CHECK(round_trip(&v, 4, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, &back) == 0 &&
			back.t.sec == UINT32_MAX);
	v.t.sec = (int64_t)UINT32_MAX + 1;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	v.t.sec = -1;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	v.t.sec = 0;
	v.t.nsec = 1000000000;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	CHECK(round_trip(&v, 8, NULL, &back) == -EINVAL);   /* no reduced size for times */

	v = time_value(DPFIX_IPFIX_DATETIME_MILLISECONDS, 1700000000, 123999999);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b},
			&back) == 0 && back.t.sec == 1700000000 && back.t.nsec == 123000000);
	v.t = (struct dpfix_ipfix_time){0, 1000000};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}, &back) == 0 &&
			back.t.sec == 0 && back.t.nsec == 1000000);
	/* The largest: UINT64_MAX milliseconds. */
	v.t = (struct dpfix_ipfix_time){(int64_t)(UINT64_MAX / 1000), (UINT64_MAX % 1000) * 1000000};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			&back) == 0 && back.t.sec == v.t.sec && back.t.nsec == v.t.nsec);
	v.t.sec++;
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t = (struct dpfix_ipfix_time){-1, 0};
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	CHECK(round_trip(&v, 4, NULL, &back) == -EINVAL);
}

/* Every microsecond of a second, and nanoseconds across the second, come back
 * exactly through the NTP fraction (RFC 7011 6.1.9, 6.1.10). */
static void
test_time_ntp_exact(void)
{
	struct dpfix_ipfix_value v, back;
	uint32_t bad_us = 0, bad_ns = 0, low_bits = 0;
	uint8_t b[8];

	for (uint32_t us = 0; us < 1000000; us++) {
		v = time_value(DPFIX_IPFIX_DATETIME_MICROSECONDS, 1700000000, us * 1000 + us % 1000);
		if (dpfix_ipfix_value_encode(&v, b, 8) != 0 ||
				dpfix_ipfix_value_decode(v.type, b, 8, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) != 0 ||
				back.t.sec != 1700000000 || back.t.nsec != us * 1000)
			bad_us++;
		low_bits += b[7] != 0 || (b[6] & 0x07) != 0; /* the 11 ignored bits */
	}
	for (uint32_t ns = 0; ns < 1000000000; ns += 997) {
		v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 1700000000, ns);
		if (dpfix_ipfix_value_encode(&v, b, 8) != 0 ||
				dpfix_ipfix_value_decode(v.type, b, 8, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) != 0 ||
				back.t.sec != 1700000000 || back.t.nsec != ns)
			bad_ns++;
	}
	CHECK_EQ_U64(bad_us, 0);
	CHECK_EQ_U64(bad_ns, 0);
	CHECK_EQ_U64(low_bits, 0);

	/* Known octets: 0.5 s is fraction 0x80000000; 1 ns is 4.29 units, so 4. */
	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 500000000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x80, 0, 0, 0}, &back) == 0);
	v.t.nsec = 1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0, 0, 0, 4}, &back) == 0 &&
			back.t.nsec == 1);
	v.t.nsec = 999999999;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0xff, 0xff, 0xff, 0xfc},
			&back) == 0 && back.t.nsec == 999999999);
	/* Microseconds: the fraction is a multiple of 2^11, nearest to the microsecond. */
	v = time_value(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0, 1000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x10, 0x00},
			&back) == 0 && back.t.nsec == 1000);
	v.t.nsec = 7000;        /* 14.68 units of 2^-21 s: nearest is 15, not 14 */
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x78, 0x00},
			&back) == 0 && back.t.nsec == 7000);
	v.t.nsec = 500000000;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x00},
			&back) == 0 && back.t.nsec == 500000000);
	v.t.nsec = 999999999;   /* floored to 999999 us */
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && back.t.nsec == 999999000 && back.t.sec == 0);

	/* Decoding rounds to the nearest unit, carrying into the next second. */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0xffffffff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).sec == 1);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0xffffffff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 0);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0x83aa7e80, 0xfffff800,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).sec == 1);
	/* The low 11 fraction bits carry no microseconds and are ignored (6.1.9). */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0x83aa7e80, 0x800007ff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 500000000);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0x800007ff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 500000477);

	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 1000000000);
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t = (struct dpfix_ipfix_time){-NTP_OFFSET - 1, 0};   /* before 1900 */
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t.sec = 0;
	CHECK(round_trip(&v, 4, NULL, &back) == -EINVAL);
}

/* NTP eras (RFC 7011 5.2): the era is implicit on the wire, and the decoder picks
 * the one that puts the time within 2^31 s of its pivot. */
static void
test_time_ntp_eras(void)
{
	const int64_t era1 = INT64_C(4294967296) - NTP_OFFSET;  /* 2036-02-07T06:28:16Z */
	const int64_t pivot = DPFIX_IPFIX_NTP_PIVOT_DEFAULT;
	struct dpfix_ipfix_value v, back;
	struct dpfix_ipfix_time t;

	CHECK_EQ_U64(era1, pivot);
	/* The last second of era 0 and the first of era 1. */
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0xffffffff, 0, pivot);
	CHECK(t.sec == era1 - 1 && t.nsec == 0);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, pivot);
	CHECK(t.sec == era1 && t.nsec == 0);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0, 0x80000000, pivot);
	CHECK(t.sec == era1 && t.nsec == 500000000);
	/* The default window's ends: 1968-01-20T03:14:08Z and 2104-02-26T09:42:23Z. */
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x80000000, 0, pivot);
	CHECK(t.sec == -61505152);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x7fffffff, 0, pivot);
	CHECK(t.sec == INT64_C(4233462143));
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0, pivot);
	CHECK(t.sec == 0);
	/* Other pivots: around 1970, 1900 is too far and 2036 is taken; around 2200,
	 * NTP second 0 is the start of era 2 (2172). */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, 0).sec == era1);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0, 0).sec == 0);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, INT64_C(7258118400)).sec ==
			era1 + INT64_C(4294967296));
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, -NTP_OFFSET).sec == -NTP_OFFSET);

	/* Encoding leaves the era implicit: era 1 times start again at second 0. */
	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, era1, 250000000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1 && back.t.nsec == 250000000);
	v.t.sec = era1 - 1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1 - 1);
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	v.t.sec = era1 + 3600;
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && back.t.sec == era1 + 3600 &&
			back.t.nsec == 250000000);
	v.t.sec = -NTP_OFFSET;   /* 1900-01-01T00:00:00Z: NTP zero, read back in era 1 */
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1);
}

int
main(void)
{
	RUN_TEST(test_unsigned_values);
	RUN_TEST(test_unsigned_readers);
	RUN_TEST(test_signed_values);
	RUN_TEST(test_float_values);
	RUN_TEST(test_boolean_values);
	RUN_TEST(test_address_values);
	RUN_TEST(test_utf8);
	RUN_TEST(test_string_octet_values);
	RUN_TEST(test_unsigned256_values);
	RUN_TEST(test_time_seconds_milliseconds);
	RUN_TEST(test_time_ntp_exact);
	RUN_TEST(test_time_ntp_eras);
	return unit_test_summary();
}
