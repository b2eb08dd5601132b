/* Unit tests for lib/ipfix's text and JSON forms: values of every type as text, times
 * and NTP rounding, the IE registry's lookups, and records as JSON, long values
 * included. */
#include "ipfix_test.h"
#include "unit_test.h"

/* ---- JSON values ---- */

static void
check_fmt(enum dpfix_ipfix_type type, const void *v, uint16_t len, const char *want)
{
	char out[512];
	int n;

	memset(out, 0, sizeof(out));
	n = dpfix_ipfix_format_json_value(type, v, len, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "  type %d, %u bytes: got %s, wanted %s\n", (int)type, len, out, want);
	CHECK(strcmp(out, want) == 0);
	CHECK_EQ_U64(n, strlen(want));
}

static void
test_format_numbers(void)
{
	static const uint8_t u64[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	static const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t min64[8] = {0x80, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t b256[2] = {0x01, 0x00};
	static const uint8_t neg2[2] = {0xff, 0xfe};
	static const uint8_t x80[3] = {0x80, 0x00, 0x00};
	static const uint8_t x7f[1] = {0x7f};
	static const uint8_t f32_15[4] = {0x3f, 0xc0, 0x00, 0x00};     /* 1.5f */
	static const uint8_t f32_01[4] = {0x3d, 0xcc, 0xcc, 0xcd};     /* 0.1f */
	static const uint8_t f64_m025[8] = {0xbf, 0xd0, 0, 0, 0, 0, 0, 0}; /* -0.25 */
	static const uint8_t f64_01[8] = {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a};
	static const uint8_t one = 1, two = 2, zero = 0;

	/* Unsigned, full and reduced size (RFC 7011 6.2). */
	check_fmt(DPFIX_IPFIX_UNSIGNED64, u64, 8, "72623859790382856");
	check_fmt(DPFIX_IPFIX_UNSIGNED64, ones, 8, "18446744073709551615");
	check_fmt(DPFIX_IPFIX_UNSIGNED64, b256, 2, "256");
	check_fmt(DPFIX_IPFIX_UNSIGNED64, ones, 1, "255");
	check_fmt(DPFIX_IPFIX_UNSIGNED32, u64, 3, "66051");
	check_fmt(DPFIX_IPFIX_UNSIGNED32, ones, 4, "4294967295");
	check_fmt(DPFIX_IPFIX_UNSIGNED16, b256, 2, "256");
	check_fmt(DPFIX_IPFIX_UNSIGNED8, &zero, 1, "0");
	check_fmt(DPFIX_IPFIX_UNSIGNED8, &two, 1, "2");

	/* Signed: reduced sizes sign-extend from their own top bit. */
	check_fmt(DPFIX_IPFIX_SIGNED32, ones, 4, "-1");
	check_fmt(DPFIX_IPFIX_SIGNED64, ones, 8, "-1");
	check_fmt(DPFIX_IPFIX_SIGNED64, neg2, 2, "-2");
	check_fmt(DPFIX_IPFIX_SIGNED64, ones, 1, "-1");
	check_fmt(DPFIX_IPFIX_SIGNED16, x80, 1, "-128");
	check_fmt(DPFIX_IPFIX_SIGNED32, x80, 3, "-8388608");
	check_fmt(DPFIX_IPFIX_SIGNED8, x7f, 1, "127");
	check_fmt(DPFIX_IPFIX_SIGNED64, b256, 2, "256");
	check_fmt(DPFIX_IPFIX_SIGNED64, min64, 8, "-9223372036854775808");
	check_fmt(DPFIX_IPFIX_SIGNED64, u64, 8, "72623859790382856");

	/* Floats, including a float64 element sent in reduced size (4 bytes). */
	check_fmt(DPFIX_IPFIX_FLOAT32, f32_15, 4, "1.5");
	check_fmt(DPFIX_IPFIX_FLOAT32, f32_01, 4, "0.100000001");
	check_fmt(DPFIX_IPFIX_FLOAT64, f64_m025, 8, "-0.25");
	check_fmt(DPFIX_IPFIX_FLOAT64, f64_01, 8, "0.10000000000000001");
	check_fmt(DPFIX_IPFIX_FLOAT64, f32_15, 4, "1.5");

	/* Booleans: 1 is true, 2 is false (RFC 7011 6.1.5); anything else is not one. */
	check_fmt(DPFIX_IPFIX_BOOLEAN, &one, 1, "true");
	check_fmt(DPFIX_IPFIX_BOOLEAN, &two, 1, "false");
	check_fmt(DPFIX_IPFIX_BOOLEAN, &zero, 1, "\"00\"");

	/* Lengths a type cannot have fall back to hex. */
	check_fmt(DPFIX_IPFIX_SIGNED32, u64, 0, "\"\"");
	check_fmt(DPFIX_IPFIX_FLOAT64, u64, 3, "\"010203\"");
	check_fmt(DPFIX_IPFIX_BOOLEAN, b256, 2, "\"0100\"");
}

static void
test_format_addresses_strings(void)
{
	static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc};
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t v6mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
	static const uint8_t octets[4] = {0xde, 0xad, 0xbe, 0xef};
	static const char weird[] = "a\"b\\c\n\x01\x1f\x7f" "d";
	static const char utf8[] = "caf\xc3\xa9";
	char out[16], canary[64];
	int n;

	check_fmt(DPFIX_IPFIX_MAC_ADDRESS, mac, 6, "\"00:1b:21:aa:bb:cc\"");
	check_fmt(DPFIX_IPFIX_IPV4_ADDRESS, v4, 4, "\"192.0.2.1\"");
	check_fmt(DPFIX_IPFIX_IPV6_ADDRESS, v6, 16, "\"2001:db8::1\"");
	check_fmt(DPFIX_IPFIX_IPV6_ADDRESS, v6mapped, 16, "\"::ffff:10.0.0.1\"");
	check_fmt(DPFIX_IPFIX_MAC_ADDRESS, mac, 5, "\"001b21aabb\"");
	check_fmt(DPFIX_IPFIX_IPV4_ADDRESS, v4, 3, "\"c00002\"");
	check_fmt(DPFIX_IPFIX_OCTET_ARRAY, octets, 4, "\"deadbeef\"");
	check_fmt(DPFIX_IPFIX_OCTET_ARRAY, octets, 0, "\"\"");
	check_fmt(DPFIX_IPFIX_BASIC_LIST, octets, 2, "\"dead\"");

	/* Quote, backslash and control characters escaped; UTF-8 passes through. */
	check_fmt(DPFIX_IPFIX_STRING, weird, (uint16_t)strlen(weird),
			"\"a\\\"b\\\\c\\u000a\\u0001\\u001f\\u007fd\"");
	check_fmt(DPFIX_IPFIX_STRING, utf8, (uint16_t)strlen(utf8), "\"caf\xc3\xa9\"");
	check_fmt(DPFIX_IPFIX_STRING, "", 0, "\"\"");
	check_fmt(DPFIX_IPFIX_STRING, "a\0b", 3, "\"a\\u0000b\"");

	/* A small output buffer truncates but stays terminated and within bounds. */
	memset(canary, 'Z', sizeof(canary));
	n = dpfix_ipfix_format_json_value(DPFIX_IPFIX_STRING, (const uint8_t *)"0123456789abcdef", 16,
			canary, sizeof(out));
	CHECK(n < (int)sizeof(out));
	CHECK(memchr(canary, '\0', sizeof(out)) != NULL);
	CHECK(canary[sizeof(out)] == 'Z');
	memset(canary, 'Z', sizeof(canary));
	n = dpfix_ipfix_format_json_value(DPFIX_IPFIX_OCTET_ARRAY, (const uint8_t *)"0123456789abcdef",
			16, canary, sizeof(out));
	CHECK(n < (int)sizeof(out));
	CHECK(memchr(canary, '\0', sizeof(out)) != NULL);
	CHECK(canary[sizeof(out)] == 'Z');
}

static void
test_format_times(void)
{
	uint8_t v[8];
	const uint64_t ntp_offset = 2208988800u;

	be(v, 0, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_SECONDS, v, 4, "\"1970-01-01T00:00:00Z\"");
	be(v, 1700000000, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_SECONDS, v, 4, "\"2023-11-14T22:13:20Z\"");
	be(v, UINT32_MAX, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_SECONDS, v, 4, "\"2106-02-07T06:28:15Z\"");

	be(v, 1700000000123ull, 8);
	check_fmt(DPFIX_IPFIX_DATETIME_MILLISECONDS, v, 8, "\"2023-11-14T22:13:20.123Z\"");
	be(v, 5, 8);
	check_fmt(DPFIX_IPFIX_DATETIME_MILLISECONDS, v, 8, "\"1970-01-01T00:00:00.005Z\"");
	be(v, 951782400999ull, 8);
	check_fmt(DPFIX_IPFIX_DATETIME_MILLISECONDS, v, 8, "\"2000-02-29T00:00:00.999Z\"");

	/* NTP format: seconds since 1900, then a binary fraction of a second. */
	be(v, 1700000000 + ntp_offset, 4);
	be(v + 4, 0x80000000u, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_MICROSECONDS, v, 8, "\"2023-11-14T22:13:20.500000Z\"");
	check_fmt(DPFIX_IPFIX_DATETIME_NANOSECONDS, v, 8, "\"2023-11-14T22:13:20.500000000Z\"");
	be(v + 4, 0x40000000u, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_MICROSECONDS, v, 8, "\"2023-11-14T22:13:20.250000Z\"");
	check_fmt(DPFIX_IPFIX_DATETIME_NANOSECONDS, v, 8, "\"2023-11-14T22:13:20.250000000Z\"");
	be(v + 4, 0, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_NANOSECONDS, v, 8, "\"2023-11-14T22:13:20.000000000Z\"");
	/* The low 11 fraction bits carry no microseconds (RFC 7011 6.1.9): ignored. */
	be(v + 4, 0x800007ffu, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_MICROSECONDS, v, 8, "\"2023-11-14T22:13:20.500000Z\"");
	be(v, ntp_offset, 4);
	be(v + 4, 0, 4);
	check_fmt(DPFIX_IPFIX_DATETIME_NANOSECONDS, v, 8, "\"1970-01-01T00:00:00.000000000Z\"");

	/* Wrong lengths are shown as hex, not misread. */
	check_fmt(DPFIX_IPFIX_DATETIME_MILLISECONDS, v, 4, "\"83aa7e80\"");
	check_fmt(DPFIX_IPFIX_DATETIME_SECONDS, v, 8, "\"83aa7e8000000000\"");
}

/* An exporter writes a microsecond or nanosecond time as the nearest NTP fraction
 * (microseconds with the low 11 bits then cleared); the collector must print the
 * time the exporter had, which needs rounding, not truncation, on the way back. */
/* Formats one value; counts a mismatch, printing only the first of a series. */
static void
compare_fmt(enum dpfix_ipfix_type type, const uint8_t *v, const char *want, uint32_t *mismatches)
{
	char out[64];

	dpfix_ipfix_format_json_value(type, v, 8, out, sizeof(out));
	if (strcmp(out, want) != 0 && (*mismatches)++ == 0)
		fprintf(stderr, "  type %d: got %s, wanted %s\n", (int)type, out, want);
}

static void
test_format_ntp_rounding(void)
{
	const uint64_t ntp_offset = 2208988800u;
	uint8_t v[8];
	char want[64];
	uint32_t bad_us = 0, bad_ns = 0, tried_us = 0, tried_ns = 0;

	be(v, 1700000000 + ntp_offset, 4);
	for (uint32_t us = 0; us < 1000000; us += 7919, tried_us++) {
		uint64_t frac = (((uint64_t)us << 32) + 500000) / 1000000;

		be(v + 4, frac & ~(uint64_t)0x7ff, 4);
		snprintf(want, sizeof(want), "\"2023-11-14T22:13:20.%06uZ\"", us);
		compare_fmt(DPFIX_IPFIX_DATETIME_MICROSECONDS, v, want, &bad_us);
	}
	for (uint32_t ns = 1; ns < 1000000000; ns += 7919 * 1013, tried_ns++) {
		uint64_t frac = (((uint64_t)ns << 32) + 500000000) / 1000000000;

		be(v + 4, frac, 4);
		snprintf(want, sizeof(want), "\"2023-11-14T22:13:20.%09uZ\"", ns);
		compare_fmt(DPFIX_IPFIX_DATETIME_NANOSECONDS, v, want, &bad_ns);
	}
	if (bad_us != 0 || bad_ns != 0)
		fprintf(stderr, "  %u of %u microsecond and %u of %u nanosecond times off by one\n",
				bad_us, tried_us, bad_ns, tried_ns);
	CHECK_EQ_U64(bad_us, 0);
	CHECK_EQ_U64(bad_ns, 0);
}

/* ---- information elements ---- */

static void
test_ie_registry(void)
{
	static const struct {
		uint16_t id;
		const char *name;
		enum dpfix_ipfix_type type;
	} known[] = {
		{IE_octetDeltaCount, "octetDeltaCount", DPFIX_IPFIX_UNSIGNED64},
		{IE_packetDeltaCount, "packetDeltaCount", DPFIX_IPFIX_UNSIGNED64},
		{IE_protocolIdentifier, "protocolIdentifier", DPFIX_IPFIX_UNSIGNED8},
		{IE_ipClassOfService, "ipClassOfService", DPFIX_IPFIX_UNSIGNED8},
		{IE_tcpControlBits, "tcpControlBits", DPFIX_IPFIX_UNSIGNED16},
		{IE_sourceTransportPort, "sourceTransportPort", DPFIX_IPFIX_UNSIGNED16},
		{IE_sourceIPv4Address, "sourceIPv4Address", DPFIX_IPFIX_IPV4_ADDRESS},
		{IE_ingressInterface, "ingressInterface", DPFIX_IPFIX_UNSIGNED32},
		{IE_destinationTransportPort, "destinationTransportPort", DPFIX_IPFIX_UNSIGNED16},
		{IE_destinationIPv4Address, "destinationIPv4Address", DPFIX_IPFIX_IPV4_ADDRESS},
		{IE_sourceIPv6Address, "sourceIPv6Address", DPFIX_IPFIX_IPV6_ADDRESS},
		{IE_destinationIPv6Address, "destinationIPv6Address", DPFIX_IPFIX_IPV6_ADDRESS},
		{IE_icmpTypeCodeIPv4, "icmpTypeCodeIPv4", DPFIX_IPFIX_UNSIGNED16},
		{IE_minimumTTL, "minimumTTL", DPFIX_IPFIX_UNSIGNED8},
		{IE_maximumTTL, "maximumTTL", DPFIX_IPFIX_UNSIGNED8},
		{IE_vlanId, "vlanId", DPFIX_IPFIX_UNSIGNED16},
		{IE_ipVersion, "ipVersion", DPFIX_IPFIX_UNSIGNED8},
		{IE_flowEndReason, "flowEndReason", DPFIX_IPFIX_UNSIGNED8},
		{IE_icmpTypeCodeIPv6, "icmpTypeCodeIPv6", DPFIX_IPFIX_UNSIGNED16},
		{IE_flowStartMilliseconds, "flowStartMilliseconds", DPFIX_IPFIX_DATETIME_MILLISECONDS},
		{IE_flowEndMilliseconds, "flowEndMilliseconds", DPFIX_IPFIX_DATETIME_MILLISECONDS},
		{56, "sourceMacAddress", DPFIX_IPFIX_MAC_ADDRESS},
		{82, "interfaceName", DPFIX_IPFIX_STRING},
		{150, "flowStartSeconds", DPFIX_IPFIX_DATETIME_SECONDS},
		{154, "flowStartMicroseconds", DPFIX_IPFIX_DATETIME_MICROSECONDS},
		{156, "flowStartNanoseconds", DPFIX_IPFIX_DATETIME_NANOSECONDS},
	};
	unsigned int found = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(0, known[i].id);

		CHECK(ie != NULL);
		if (ie == NULL)
			continue;
		CHECK_EQ_U64(ie->id, known[i].id);
		CHECK_EQ_U64(ie->pen, 0);
		CHECK(strcmp(ie->name, known[i].name) == 0);
		CHECK(ie->type == known[i].type);
		CHECK(dpfix_ipfix_ie_by_name(known[i].name) == ie);
	}
	CHECK(dpfix_ipfix_ie_by_id(0, 0) == NULL);
	CHECK(dpfix_ipfix_ie_by_id(0, 0x7fff) == NULL);
	CHECK(dpfix_ipfix_ie_by_id(29305, IE_flowId) == NULL); /* not reversible (RFC 5103 6.1) */
	CHECK(dpfix_ipfix_ie_by_name("noSuchElement") == NULL);
	CHECK(dpfix_ipfix_ie_by_name("") == NULL);
	CHECK(dpfix_ipfix_ie_by_name("octetdeltacount") == NULL);

	/* Names and ids are one-to-one across the whole registry. */
	for (uint32_t id = 0; id <= 0x7fff; id++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(0, (uint16_t)id);

		if (ie == NULL)
			continue;
		found++;
		CHECK(ie->id == id);
		CHECK(dpfix_ipfix_ie_by_name(ie->name) == ie);
	}
	CHECK(found >= sizeof(known) / sizeof(known[0]));
}

/* Unknown IANA elements are named _ieN; the record as a whole is one JSON line. */
static void
test_record_to_json(void)
{
	static struct dpfix_ipfix_template t;
	static const uint8_t rec[] = {10, 0, 0, 1, 0x01, 0xbb, 0xca, 0xfe, 0, 0, 0, 0, 0, 0, 0, 7};
	char *json = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&json, &size);

	dpfix_ipfix_template_init(&t, 500, 0);
	dpfix_ipfix_template_add(&t, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(&t, 0, 9999, 2);
	dpfix_ipfix_template_add(&t, 0, IE_octetDeltaCount, 8);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(dpfix_ipfix_record_to_json(&t, rec, sizeof(rec), f) == 0);
	CHECK(dpfix_ipfix_record_to_json(&t, rec, sizeof(rec) - 1, f) == -EBADMSG);
	fclose(f);
	CHECK(strcmp(json, "{\"sourceIPv4Address\":\"10.0.0.1\",\"destinationTransportPort\":443,"
			"\"_ie9999\":\"cafe\",\"octetDeltaCount\":7}\n") == 0);
	free(json);
}

/* What a record of the two long fields below looks like: keys and values joined as
 * text ("name=value ...") or as a JSON object. */
static char *
long_record_expected(bool json, int name_len, int octets_len, size_t *size)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, size);

	if (f == NULL)
		return NULL;
	fputs(json ? "{\"interfaceName\":\"" : "interfaceName=\"", f);
	for (int i = 0; i < name_len; i++)
		fputs("\\u0001", f);
	fputs(json ? "\",\"_ie9999\":\"" : "\" _ie9999=\"", f);
	for (int i = 0; i < octets_len; i++)
		fputs("ab", f);
	fputs(json ? "\"}\n" : "\"\n", f);
	fclose(f);
	return out;
}

/* Text and JSON write every field whole, however long: a 60000-byte interfaceName
 * (each byte escaped to six characters) and a 5000-byte octet array in hex, far past
 * any fixed buffer. */
static void
test_record_long_values(void)
{
	enum { NAME_LEN = 60000, OCTETS_LEN = 5000 };
	static struct dpfix_ipfix_template t;
	static uint8_t rec[3 + NAME_LEN + 3 + OCTETS_LEN];
	uint32_t off = 0;

	dpfix_ipfix_template_init(&t, 501, 0);
	dpfix_ipfix_template_add(&t, 0, IE_interfaceName, DPFIX_IPFIX_VARLEN);
	dpfix_ipfix_template_add(&t, 0, 9999, DPFIX_IPFIX_VARLEN);
	off += (uint32_t)dpfix_ipfix_varlen_encode(rec + off, 3, NAME_LEN);
	memset(rec + off, 0x01, NAME_LEN);   /* a control character: \u0001 */
	off += NAME_LEN;
	off += (uint32_t)dpfix_ipfix_varlen_encode(rec + off, 3, OCTETS_LEN);
	memset(rec + off, 0xab, OCTETS_LEN);
	off += OCTETS_LEN;
	for (int json = 0; json <= 1; json++) {
		char *got = NULL, *want;
		size_t got_size = 0, want_size = 0;
		FILE *f = open_memstream(&got, &got_size);

		CHECK(f != NULL);
		if (f == NULL)
			return;
		CHECK((json ? dpfix_ipfix_record_to_json : dpfix_ipfix_record_to_text)(&t, rec, off,
				f) == 0);
		fclose(f);
		want = long_record_expected(json, NAME_LEN, OCTETS_LEN, &want_size);
		CHECK(want != NULL);
		CHECK_EQ_U64(got_size, want_size);
		CHECK(want != NULL && strcmp(got, want) == 0);
		free(got);
		free(want);
	}
}

int
main(void)
{
	build_templates();
	RUN_TEST(test_format_numbers);
	RUN_TEST(test_format_addresses_strings);
	RUN_TEST(test_format_times);
	RUN_TEST(test_format_ntp_rounding);
	RUN_TEST(test_ie_registry);
	RUN_TEST(test_record_to_json);
	RUN_TEST(test_record_long_values);
	return unit_test_summary();
}
