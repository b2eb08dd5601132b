/* Unit tests of lib/ipfix's records: variable-length fields (RFC 7011 7), a record of
 * every type decoded, and the JSON form of values and records. */
#include "ipfix_types_test.h"
#include "unit_test.h"

/* ---- variable length (RFC 7011 7) and whole fields ---- */

static void
test_varlen_prefix(void)
{
	static const struct {
		uint32_t len;
		uint8_t prefix[3];
		int n;
	} cases[] = {
		{0, {0}, 1}, {1, {1}, 1}, {254, {254}, 1},
		{255, {255, 0, 255}, 3}, {256, {255, 1, 0}, 3}, {65535, {255, 255, 255}, 3},
	};
	uint8_t buf[4];
	uint16_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0xee, sizeof(buf));
		CHECK(dpfix_ipfix_varlen_encode(buf, sizeof(buf), cases[i].len) == cases[i].n);
		CHECK(memcmp(buf, cases[i].prefix, (size_t)cases[i].n) == 0 && buf[cases[i].n] == 0xee);
		CHECK(dpfix_ipfix_varlen_decode(buf, (size_t)cases[i].n, &len) == cases[i].n);
		CHECK_EQ_U64(len, cases[i].len);
		CHECK(dpfix_ipfix_varlen_encode(buf, (size_t)cases[i].n - 1, cases[i].len) == -ENOSPC);
	}
	CHECK(dpfix_ipfix_varlen_encode(buf, sizeof(buf), 65536) == -ERANGE);
	/* The long form may carry short lengths too (a writer picks the short form). */
	CHECK(dpfix_ipfix_varlen_decode((const uint8_t[]){255, 0, 3}, 3, &len) == 3 && len == 3);
	CHECK(dpfix_ipfix_varlen_decode((const uint8_t[]){255, 0}, 2, &len) == -EBADMSG);
	CHECK(dpfix_ipfix_varlen_decode(buf, 0, &len) == -EBADMSG);
}

/* Variable-length strings and octet arrays of 0, 254, 255 and 65535 octets written
 * with dpfix_ipfix_field_encode are split again by the record reader, with the
 * fixed field after them in place. */
static void
test_varlen_fields(void)
{
	static const uint16_t lengths[] = {0, 1, 254, 255, 256, 65515};
	static uint8_t data[65535], rec[65540];
	static struct dpfix_ipfix_template t;
	uint32_t offsets[2];
	uint16_t flens[2];
	int ret;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct dpfix_ipfix_value v = {.type = i % 2 ? DPFIX_IPFIX_OCTET_ARRAY : DPFIX_IPFIX_STRING,
			.octets = {data, lengths[i]}};
		struct dpfix_ipfix_value port = {.type = DPFIX_IPFIX_UNSIGNED16, .u = 4739}, back;
		uint32_t n;

		memset(&t, 0, sizeof(t));
		t.id = 300;
		dpfix_ipfix_template_add(&t, 0, i % 2 ? IE_paddingOctets : IE_interfaceName,
				DPFIX_IPFIX_VARLEN);
		dpfix_ipfix_template_add(&t, 0, IE_sourceTransportPort, 2);
		ret = dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, sizeof(rec));
		CHECK(ret == (lengths[i] < 255 ? 1 : 3) + lengths[i]);
		CHECK(rec[0] == (lengths[i] < 255 ? lengths[i] : 255));
		if (ret < 0)
			continue;
		n = (uint32_t)ret;
		CHECK(dpfix_ipfix_field_encode(&port, 2, rec + n, sizeof(rec) - n) == 2);
		n += 2;
		CHECK((uint32_t)dpfix_ipfix_record_fields(&t, rec, n, offsets, flens) == n);
		CHECK_EQ_U64(flens[0], lengths[i]);
		CHECK_EQ_U64(offsets[1], n - 2);
		CHECK(dpfix_ipfix_value_decode(v.type, rec + offsets[0], flens[0], 0, &back) == 0);
		CHECK(back.octets.len == lengths[i] && memcmp(back.octets.p, data, lengths[i]) == 0);
	}
	/* The largest: 65535 octets after the 3-octet prefix. */
	{
		struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_STRING, .octets = {data, 65535}};
		uint16_t len;

		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 65538) == 65538);
		CHECK(rec[0] == 255 && rec[1] == 255 && rec[2] == 255 && memcmp(rec + 3, data, 65535) == 0);
		CHECK(dpfix_ipfix_varlen_decode(rec, 65538, &len) == 3 && len == 65535);
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 65537) == -ENOSPC);
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 2) == -ENOSPC);
	}
	/* Fixed lengths: the value in that many octets, or refused. */
	{
		struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_UNSIGNED64, .u = 70000};

		CHECK(dpfix_ipfix_field_encode(&v, 3, rec, sizeof(rec)) == 3);
		CHECK(rec[0] == 0x01 && rec[1] == 0x11 && rec[2] == 0x70);
		CHECK(dpfix_ipfix_field_encode(&v, 2, rec, sizeof(rec)) == -ERANGE);
		CHECK(dpfix_ipfix_field_encode(&v, 8, rec, 7) == -ENOSPC);
		/* A fixed-size type in a variable-length field: its full size. */
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, sizeof(rec)) == 9);
		CHECK(rec[0] == 8);
	}
}

/* One record with a field of every abstract type, at full size and at every
 * reduced size, written with dpfix_ipfix_field_encode and read back through the
 * record reader: each value comes back. */
static void
test_record_every_type(void)
{
	static uint8_t rec[4096];
	static struct dpfix_ipfix_template t;
	static struct dpfix_ipfix_value values[DPFIX_IPFIX_MAX_FIELDS];
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t flens[DPFIX_IPFIX_MAX_FIELDS];
	static const uint8_t octets[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint32_t n = 0, mismatches = 0;

	memset(&t, 0, sizeof(t));
	t.id = 400;
	for (int type = 0; type < DPFIX_IPFIX_TYPE_COUNT; type++) {
		uint16_t size = dpfix_ipfix_type_size((enum dpfix_ipfix_type)type);
		uint16_t lens[40];
		int nlens = 0;

		if (size == 0) {
			lens[nlens++] = 16;
			lens[nlens++] = DPFIX_IPFIX_VARLEN;
		}
		for (uint16_t len = 1; len <= size; len++)
			if (dpfix_ipfix_type_length_valid((enum dpfix_ipfix_type)type, len))
				lens[nlens++] = len;
		for (int k = 0; k < nlens; k++) {
			struct dpfix_ipfix_value *v = &values[t.field_count];
			uint16_t vlen = lens[k] == DPFIX_IPFIX_VARLEN ? 16 : lens[k];
			int ret;

			*v = (struct dpfix_ipfix_value){.type = (enum dpfix_ipfix_type)type};
			/* The largest value the length holds. */
			if (type >= DPFIX_IPFIX_UNSIGNED8 && type <= DPFIX_IPFIX_UNSIGNED64)
				v->u = vlen == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * vlen)) - 1;
			else if (type >= DPFIX_IPFIX_SIGNED8 && type <= DPFIX_IPFIX_SIGNED64)
				v->i = vlen == 8 ? INT64_MIN : -(INT64_C(1) << (8 * vlen - 1));
			else if (type == DPFIX_IPFIX_FLOAT32 || type == DPFIX_IPFIX_FLOAT64)
				v->f = vlen == 4 ? -1.25 : 1e300;
			else if (type == DPFIX_IPFIX_BOOLEAN)
				v->b = true;
			else if (type == DPFIX_IPFIX_MAC_ADDRESS || type == DPFIX_IPFIX_IPV4_ADDRESS ||
					type == DPFIX_IPFIX_IPV6_ADDRESS)
				memcpy(v->addr, octets, size);
			else if (type >= DPFIX_IPFIX_DATETIME_SECONDS &&
					type <= DPFIX_IPFIX_DATETIME_NANOSECONDS)
				v->t = (struct dpfix_ipfix_time){1700000000, type ==
					DPFIX_IPFIX_DATETIME_NANOSECONDS ? 123456789 :
					type == DPFIX_IPFIX_DATETIME_MICROSECONDS ? 123456000 :
					type == DPFIX_IPFIX_DATETIME_MILLISECONDS ? 123000000 : 0};
			else if (type == DPFIX_IPFIX_STRING)
				v->octets = (struct dpfix_ipfix_value){.octets = {(const uint8_t *)
					"h\xc3\xa9llo w\xc3\xb6rld!!!", 16}}.octets;
			else if (type == DPFIX_IPFIX_UNSIGNED256)
				v->octets = (struct dpfix_ipfix_value){.octets = {octets, vlen}}.octets;
			else
				v->octets = (struct dpfix_ipfix_value){.octets = {octets, 16}}.octets;
			ret = dpfix_ipfix_field_encode(v, lens[k], rec + n, sizeof(rec) - n);
			CHECK(ret > 0);
			if (ret <= 0) {
				fprintf(stderr, "  %s in %u: %d\n", dpfix_ipfix_type_name(v->type), lens[k], ret);
				continue;
			}
			n += (uint32_t)ret;
			dpfix_ipfix_template_add(&t, 12345, (uint16_t)(t.field_count + 1), lens[k]);
		}
	}
	CHECK(t.field_count > 70);
	CHECK((uint32_t)dpfix_ipfix_record_fields(&t, rec, n, offsets, flens) == n);
	for (uint16_t i = 0; i < t.field_count; i++) {
		const struct dpfix_ipfix_value *v = &values[i];
		struct dpfix_ipfix_value back;
		bool same;

		CHECK(dpfix_ipfix_value_decode(v->type, rec + offsets[i], flens[i],
				DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) == 0);
		switch (v->type) {
		case DPFIX_IPFIX_UNSIGNED8: case DPFIX_IPFIX_UNSIGNED16:
		case DPFIX_IPFIX_UNSIGNED32: case DPFIX_IPFIX_UNSIGNED64:
			same = back.u == v->u;
			break;
		case DPFIX_IPFIX_SIGNED8: case DPFIX_IPFIX_SIGNED16:
		case DPFIX_IPFIX_SIGNED32: case DPFIX_IPFIX_SIGNED64:
			same = back.i == v->i;
			break;
		case DPFIX_IPFIX_FLOAT32: case DPFIX_IPFIX_FLOAT64:
			same = back.f == v->f;
			break;
		case DPFIX_IPFIX_BOOLEAN:
			same = back.b == v->b;
			break;
		case DPFIX_IPFIX_MAC_ADDRESS: case DPFIX_IPFIX_IPV4_ADDRESS:
		case DPFIX_IPFIX_IPV6_ADDRESS:
			same = memcmp(back.addr, v->addr, flens[i]) == 0;
			break;
		case DPFIX_IPFIX_DATETIME_SECONDS: case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		case DPFIX_IPFIX_DATETIME_MICROSECONDS: case DPFIX_IPFIX_DATETIME_NANOSECONDS:
			same = back.t.sec == v->t.sec && back.t.nsec == v->t.nsec;
			break;
		default:
			same = back.octets.len == v->octets.len &&
					memcmp(back.octets.p, v->octets.p, v->octets.len) == 0;
			break;
		}
		if (!same && mismatches++ == 0)
			fprintf(stderr, "  field %u (%s, %u octets) differs\n", i,
					dpfix_ipfix_type_name(v->type), flens[i]);
	}
	CHECK_EQ_U64(mismatches, 0);
}

/* ---- JSON ---- */

static void
check_json_value(enum dpfix_ipfix_type type, const void *v, uint16_t len, const char *want)
{
	char out[512];
	int n = dpfix_ipfix_format_json_value(type, v, len, out, sizeof(out));

	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s, %u octets: got %s, wanted %s\n", dpfix_ipfix_type_name(type),
				len, out, want);
	CHECK(strcmp(out, want) == 0);
	CHECK_EQ_U64(n, strlen(want));
}

/* Ill-formed UTF-8 prints as U+FFFD per maximal subpart; the JSON stays UTF-8. */
static void
test_json_strings(void)
{
	check_json_value(DPFIX_IPFIX_STRING, "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	check_json_value(DPFIX_IPFIX_STRING, "caf\xc3", 4, "\"caf\xef\xbf\xbd\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xe2\x82" "A", 3, "\"\xef\xbf\xbd" "A\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xf0\x80\x80", 3,
			"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xed\xa0\x80x", 4,
			"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\"");
	check_json_value(DPFIX_IPFIX_STRING, "a\xffz", 3, "\"a\xef\xbf\xbdz\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
	/* NUL padding of a fixed-length field is not part of the text; inner NULs are. */
	check_json_value(DPFIX_IPFIX_STRING, "eth0\0\0\0\0", 8, "\"eth0\"");
	check_json_value(DPFIX_IPFIX_STRING, "a\0b\0", 4, "\"a\\u0000b\"");
	check_json_value(DPFIX_IPFIX_STRING, "\0\0", 2, "\"\"");
	check_json_value(DPFIX_IPFIX_STRING, "tab\there \"q\" \\", 15,
			"\"tab\\u0009here \\\"q\\\" \\\\\"");
}

static void
test_json_numbers_times(void)
{
	const uint8_t nan32[4] = {0x7f, 0xc0, 0, 0}, inf32[4] = {0x7f, 0x80, 0, 0};
	const uint8_t ninf64[8] = {0xff, 0xf0, 0, 0, 0, 0, 0, 0};
	const uint8_t nan64[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 1};
	const uint8_t big[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t u256[4] = {0x00, 0x01, 0x80, 0xff};
	uint8_t b[8];
	struct dpfix_ipfix_value v;

	/* JSON has no NaN or infinity literals. */
	check_json_value(DPFIX_IPFIX_FLOAT32, nan32, 4, "\"NaN\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, inf32, 4, "\"Infinity\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, ninf64, 8, "\"-Infinity\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, nan64, 8, "\"NaN\"");
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT64, .f = -1.25e300};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(DPFIX_IPFIX_FLOAT64, b, 8, "-1.2500000000000001e+300");
	/* Signed and unsigned in reduced sizes. */
	check_json_value(DPFIX_IPFIX_SIGNED32, (const uint8_t[]){0xff, 0xfb}, 2, "-5");
	check_json_value(DPFIX_IPFIX_UNSIGNED64, big, 8, "18446744073709551615");
	/* unsigned256 as the hex of its octets, like an octet array. */
	check_json_value(DPFIX_IPFIX_UNSIGNED256, u256, 4, "\"000180ff\"");
	check_json_value(DPFIX_IPFIX_SUB_TEMPLATE_LIST, u256, 4, "\"000180ff\"");
	/* Every precision, exact. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_DATETIME_NANOSECONDS,
		.t = {1700000000, 123456789}};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123456789Z\"");
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123456Z\"");
	v.type = DPFIX_IPFIX_DATETIME_MILLISECONDS;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123Z\"");
	v.type = DPFIX_IPFIX_DATETIME_SECONDS;
	dpfix_ipfix_value_encode(&v, b, 4);
	check_json_value(v.type, b, 4, "\"2023-11-14T22:13:20Z\"");
	/* Across the NTP era boundary of 2036. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_DATETIME_NANOSECONDS,
		.t = {INT64_C(2085978496), 1}};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2036-02-07T06:28:16.000000001Z\"");
	v.t.sec--;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2036-02-07T06:28:15.000000001Z\"");
	/* Milliseconds past year 9999 have no ISO 8601 basic form: hex. */
	check_json_value(DPFIX_IPFIX_DATETIME_MILLISECONDS, big, 8, "\"ffffffffffffffff\"");
	check_json_value(DPFIX_IPFIX_DATETIME_MILLISECONDS,
			(const uint8_t[]){0, 0, 0xe6, 0x77, 0xd2, 0x1f, 0xdb, 0xff}, 8,
			"\"9999-12-31T23:59:59.999Z\"");
	/* Booleans other than 1 and 2 show their octet. */
	check_json_value(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){0}, 1, "\"00\"");
	check_json_value(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){2}, 1, "false");
}

/* Every element of the registry prints with its registry type: a record with one
 * field of the element, filled with a value of that type, gives the same JSON as
 * formatting that type directly, keyed by the element's name. */
static void
test_json_every_element(void)
{
	static struct dpfix_ipfix_template t;
	uint8_t rec[64], oct[16] = {0x41, 0x42, 0x43};
	unsigned int checked = 0, wrong = 0;

	for (uint32_t pen = 0; pen <= DPFIX_IPFIX_PEN_REVERSE; pen += DPFIX_IPFIX_PEN_REVERSE) {
		for (uint32_t id = 1; id <= DPFIX_IPFIX_IE_IANA_MAX_ID; id++) {
			const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(pen, (uint16_t)id);
			struct dpfix_ipfix_value v;
			uint16_t len;
			char *json = NULL, value[256], want[512];
			size_t size = 0;
			FILE *f;

			if (ie == NULL)
				continue;
			len = dpfix_ipfix_type_size(ie->type);
			v = (struct dpfix_ipfix_value){.type = ie->type};
			if (len == 0 || ie->type == DPFIX_IPFIX_UNSIGNED256) {
				len = 3;
				v.octets.p = oct;
				v.octets.len = 3;
			} else if (ie->type >= DPFIX_IPFIX_DATETIME_SECONDS &&
					ie->type <= DPFIX_IPFIX_DATETIME_NANOSECONDS) {
				v.t = (struct dpfix_ipfix_time){1700000000, 987654321};
			} else if (ie->type == DPFIX_IPFIX_BOOLEAN) {
				v.b = true;
			} else if (ie->type >= DPFIX_IPFIX_UNSIGNED8 && ie->type <= DPFIX_IPFIX_SIGNED64) {
				v.u = 0x0102030405060708 >> (8 * (8 - len));
			} else if (ie->type == DPFIX_IPFIX_FLOAT32 || ie->type == DPFIX_IPFIX_FLOAT64) {
				v.f = 2.5;
			} else {
				memcpy(v.addr, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
			}
			if (dpfix_ipfix_value_encode(&v, rec, len) != 0) {
				fprintf(stderr, "  %s: cannot encode a %s\n", ie->name,
						dpfix_ipfix_type_name(ie->type));
				wrong++;
				continue;
			}
			memset(&t, 0, sizeof(t));
			t.id = 256;
			dpfix_ipfix_template_add(&t, pen, (uint16_t)id, len);
			f = open_memstream(&json, &size);
			if (f == NULL)
				continue;
			CHECK(dpfix_ipfix_record_to_json(&t, rec, len, f) == 0);
			fclose(f);
			dpfix_ipfix_format_json_value(ie->type, rec, len, value, sizeof(value));
			snprintf(want, sizeof(want), "{\"%s\":%s}\n", ie->name, value);
			/* The value is typed: only octet-like types print as hex. */
			if (strcmp(json, want) != 0 || (len != 3 && value[0] == '"' &&
					ie->type != DPFIX_IPFIX_MAC_ADDRESS && ie->type != DPFIX_IPFIX_IPV4_ADDRESS &&
					ie->type != DPFIX_IPFIX_IPV6_ADDRESS && ie->type < DPFIX_IPFIX_DATETIME_SECONDS)) {
				if (wrong++ < 3)
					fprintf(stderr, "  got %s  wanted %s", json, want);
			}
			checked++;
			free(json);
		}
	}
	CHECK_EQ_U64(wrong, 0);
	CHECK_EQ_U64(checked, 502 + 477);
}

/* Keys: registry names, reverse names, loaded enterprise names, then "PEN:ID" and
 * "_ieN" for what no one described (values of those as hex). */
static void
test_json_record_keys(void)
{
	static struct dpfix_ipfix_template t;
	static const uint8_t rec[] = {
		0xe8, 0xfe, 0x6f, 0x80, 0x80, 0, 0, 0,                 /* flowStartMicroseconds */
		0x00, 0x2a,                                             /* reverseOctetDeltaCount */
		0x01,                                                   /* dataRecordsReliability */
		0xff, 0xfe,                                             /* vendorScore, signed16 */
		0xca, 0xfe,                                             /* 40000:9 */
		0xbe, 0xef,                                             /* _ie600 */
		0x00, 0x01, 0x86, 0xa0,                 /* pathDelayMeanDeltaMicroseconds */
		0x12, 0x34,                                             /* _ie534 */
		0x03, 'e', 't', 'h',                                    /* interfaceName, varlen */
	};
	char *json = NULL;
	size_t size = 0;
	FILE *f;

	dpfix_ipfix_ie_reset();
	CHECK(dpfix_ipfix_ie_add(&(struct dpfix_ipfix_ie){.pen = 40000, .id = 8, .name = "vendorScore",
			.type = DPFIX_IPFIX_SIGNED16}) == 0);
	memset(&t, 0, sizeof(t));
	t.id = 256;
	dpfix_ipfix_template_add(&t, 0, IE_flowStartMicroseconds, 8);
	dpfix_ipfix_template_add(&t, DPFIX_IPFIX_PEN_REVERSE, IE_octetDeltaCount, 2);
	dpfix_ipfix_template_add(&t, 0, IE_dataRecordsReliability, 1);
	dpfix_ipfix_template_add(&t, 40000, 8, 2);
	dpfix_ipfix_template_add(&t, 40000, 9, 2);
	dpfix_ipfix_template_add(&t, 0, 600, 2);
	dpfix_ipfix_template_add(&t, 0, IE_pathDelayMeanDeltaMicroseconds, 4);
	dpfix_ipfix_template_add(&t, 0, 534, 2);
	dpfix_ipfix_template_add(&t, 0, IE_interfaceName, DPFIX_IPFIX_VARLEN);
	f = open_memstream(&json, &size);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(dpfix_ipfix_record_to_json(&t, rec, sizeof(rec), f) == 0);
	fclose(f);
	if (strcmp(json, "{\"flowStartMicroseconds\":\"2023-11-14T22:13:20.500000Z\","
			"\"reverseOctetDeltaCount\":42,\"dataRecordsReliability\":true,"
			"\"vendorScore\":-2,\"40000:9\":\"cafe\",\"_ie600\":\"beef\","
			"\"pathDelayMeanDeltaMicroseconds\":100000,\"_ie534\":\"1234\","
			"\"interfaceName\":\"eth\"}\n") != 0) {
		fprintf(stderr, "  %s", json);
		CHECK(0);
	}
	free(json);
	dpfix_ipfix_ie_reset();
}

int
main(void)
{
	RUN_TEST(test_varlen_prefix);
	RUN_TEST(test_varlen_fields);
	RUN_TEST(test_record_every_type);
	RUN_TEST(test_json_strings);
	RUN_TEST(test_json_numbers_times);
	RUN_TEST(test_json_every_element);
	RUN_TEST(test_json_record_keys);
	return unit_test_summary();
}
