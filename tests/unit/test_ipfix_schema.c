/* Unit tests for record schemas (lib/ipfix/ipfix_schema.c, dpfix_ipfix_schema.h): a
 * group made from a list and one made at run time compose into one template whose
 * records the decoder reads back field by field; the checks dpfix_ipfix_schema_add
 * makes; records encoded straight into a message, and the room they need. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_schema.h"
#include "options_capture.h"
#include "unit_test.h"

struct sample {
	uint64_t words[2];          /* what the run-time group reads */
	uint32_t port;
	uint8_t mac[6];
	const char *name;
	uint64_t count;
};

/* Every HOW of a list line, scope first. */
#define SAMPLE_FIELDS(X) \
	X(0, IE_ingressInterface, 4, UINT, r->port) \
	X(0, IE_sourceMacAddress, 6, OCTETS, r->mac) \
	X(0, IE_interfaceName, DPFIX_IPFIX_VARLEN, STRING, r->name) \
	X(0, IE_packetTotalCount, 4, UINT, r->count * 2) /* reduced size; an expression */

DPFIX_IPFIX_GROUP_DEFINE(sample_group, struct sample, 1, SAMPLE_FIELDS);

#define EXTRA_FIELDS(X) X(DPFIX_IPFIX_PEN_REVERSE, IE_packetTotalCount, 8, UINT, r->count + 1)
DPFIX_IPFIX_GROUP_DEFINE(extra_group, struct sample, 0, EXTRA_FIELDS);

/* 17 strings: a record up to 4335 octets long. */
#define STRING_FIELD(X) X(0, IE_interfaceName, DPFIX_IPFIX_VARLEN, STRING, r->name)
#define STRINGS_FIELDS(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) \
	STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) \
	STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X) \
	STRING_FIELD(X) STRING_FIELD(X) STRING_FIELD(X)
DPFIX_IPFIX_GROUP_DEFINE(strings_group, struct sample, 0, STRINGS_FIELDS);

/* A group made at run time: each field's value is the source's word of the same
 * index, offset by the group's ctx (what a Mediator copying fields would do). */
static uint8_t *
runtime_encode(const struct dpfix_ipfix_group *g, const void *src, uint8_t *p)
{
	const struct sample *r = src;
	const uint64_t *offset = g->ctx;

	for (uint16_t i = 0; i < g->field_count && i < 2; i++)
		p = dpfix_put_be(p, r->words[i] + *offset, g->fields[i].length);
	return p;
}

static void
test_round_trip(void)
{
	static struct dpfix_ipfix_schema s;
	static struct dpfix_ipfix_template t;
	static uint8_t buf[2048];
	struct dpfix_ipfix_field_spec runtime_fields[2] = {
		{.id = IE_octetDeltaCount, .length = 8}, {.id = IE_vlanId, .length = 2},
	};
	const struct dpfix_ipfix_group runtime = {.name = "runtime", .fields = runtime_fields,
		.field_count = 2, .max_length = 10, .encode = runtime_encode};
	const uint64_t offset = 5;
	const struct sample in = {.words = {1000, 7}, .port = 3, .mac = {1, 2, 3, 4, 5, 6},
		.name = "eth0", .count = 21};
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	static uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t len[DPFIX_IPFIX_MAX_FIELDS];
	uint8_t rec[600];
	struct dpfix_ipfix_msg m;
	char err[256];
	uint32_t n;

	dpfix_ipfix_schema_init(&s, 300);
	CHECK(dpfix_ipfix_schema_add(&s, &sample_group, NULL) == 0);
	CHECK_EQ_U64(s.scope_count, 1);
	CHECK_EQ_U64(s.min_length, 4 + 6 + 1 + 4);
	CHECK_EQ_U64(s.max_length, 4 + 6 + 255 + 4);
	dpfix_ipfix_schema_template(&s, &t);
	CHECK_EQ_U64(t.id, 300);
	CHECK_EQ_U64(t.scope_count, 1);
	CHECK_EQ_U64(t.field_count, 4);
	CHECK_EQ_U64(t.fields[2].length, DPFIX_IPFIX_VARLEN);
	CHECK_EQ_U64(t.min_record_length, s.min_length);

	/* The run-time group and a second list after the first. */
	dpfix_ipfix_schema_init(&s, 301);
	CHECK(dpfix_ipfix_schema_add(&s, &runtime, &offset) == 0);
	CHECK(dpfix_ipfix_schema_add(&s, &extra_group, NULL) == 0);
	CHECK_EQ_U64(s.field_count, 3);
	CHECK_EQ_U64(s.max_length, 18);
	n = dpfix_ipfix_schema_encode(&s, &in, rec);
	CHECK_EQ_U64(n, 18);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(rec, 8), 1005);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(rec + 8, 2), 12);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(rec + 10, 8), 22);

	/* Both schemas' templates and records through the decoder. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	dpfix_ipfix_schema_init(&s, 300);
	dpfix_ipfix_schema_add(&s, &sample_group, NULL);
	dpfix_ipfix_schema_template(&s, &t);
	CHECK(dpfix_ipfix_msg_add_template(&m, &t) == 0);
	n = dpfix_ipfix_schema_encode(&s, &in, rec);
	CHECK_EQ_U64(n, 4 + 6 + 5 + 4);
	CHECK(dpfix_ipfix_msg_add_record(&m, 300, rec, n) == 0);
	memset(&got, 0, sizeof(got));
	CHECK(dpfix_ipfix_decode(d, buf, dpfix_ipfix_msg_finish(&m, 0, 0, 1), on_record, NULL, err,
			sizeof(err)) == 0);
	CHECK_EQ_U64(got.n, 1);
	CHECK(got_fields(0, off, len));
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(got.rec[0] + off[0], len[0]), 3);
	CHECK(len[1] == 6 && memcmp(got.rec[0] + off[1], in.mac, 6) == 0);
	CHECK(len[2] == 4 && memcmp(got.rec[0] + off[2], "eth0", 4) == 0);
	CHECK_EQ_U64(len[3], 4);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(got.rec[0] + off[3], len[3]), 42);
	dpfix_ipfix_decoder_free(d);
}

static void
test_add_checks(void)
{
	static struct dpfix_ipfix_schema s;
	static struct dpfix_ipfix_field_spec many[300];
	const struct dpfix_ipfix_field_spec bad_length[1] = {
		{.id = IE_sourceIPv4Address, .length = 5},
	};
	const struct dpfix_ipfix_field_spec unknown[1] = {{.id = 7, .length = 5, .pen = 99999}};
	struct dpfix_ipfix_group g = {.name = "bad", .fields = bad_length, .field_count = 1,
		.max_length = 5, .encode = runtime_encode};

	dpfix_ipfix_schema_init(&s, 256);
	/* A length the element's type cannot have (RFC 7011 6.2). */
	CHECK(dpfix_ipfix_schema_add(&s, &g, NULL) == -EINVAL);
	CHECK_EQ_U64(s.group_count, 0);
	/* An element the registry does not know is taken as it comes. */
	g.fields = unknown;
	CHECK(dpfix_ipfix_schema_add(&s, &g, NULL) == 0);
	/* Only the first group may have a scope. */
	CHECK(dpfix_ipfix_schema_add(&s, &sample_group, NULL) == -EINVAL);
	CHECK_EQ_U64(s.group_count, 1);
	CHECK_EQ_U64(s.scope_count, 0);
	/* At most DPFIX_IPFIX_SCHEMA_MAX_GROUPS groups... */
	while (s.group_count < DPFIX_IPFIX_SCHEMA_MAX_GROUPS)
		CHECK(dpfix_ipfix_schema_add(&s, &extra_group, NULL) == 0);
	CHECK(dpfix_ipfix_schema_add(&s, &extra_group, NULL) == -ENOSPC);
	/* ... and DPFIX_IPFIX_MAX_FIELDS fields. */
	for (int i = 0; i < 300; i++)
		many[i] = (struct dpfix_ipfix_field_spec){.id = IE_vlanId, .length = 2};
	g = (struct dpfix_ipfix_group){.name = "many", .fields = many, .field_count = 300,
		.max_length = 600, .encode = runtime_encode};
	dpfix_ipfix_schema_init(&s, 256);
	CHECK(dpfix_ipfix_schema_add(&s, &g, NULL) == 0);
	CHECK(dpfix_ipfix_schema_add(&s, &g, NULL) == -ENOSPC);
	CHECK_EQ_U64(s.field_count, 300);
	CHECK_EQ_U64(s.max_length, 600);
}

/* dpfix_ipfix_msg_add_encoded needs room for the longest record of a fixed-length
 * schema, for the record itself of a variable-length one, and leaves a full message as
 * it was. */
static void
test_encode_into_message(void)
{
	static struct dpfix_ipfix_schema s;
	const struct sample in = {.port = 9, .name = "x", .count = 1};
	uint8_t buf[DPFIX_IPFIX_HEADER_LEN + DPFIX_IPFIX_SET_HEADER_LEN + 2 * 8];
	struct dpfix_ipfix_msg m, before;

	dpfix_ipfix_schema_init(&s, 256);
	dpfix_ipfix_schema_add(&s, &extra_group, NULL);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == 0);
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == 0);
	CHECK_EQ_U64(m.len, sizeof(buf));
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(buf + m.len - 8, 8), 2);
	before = m;
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == -ENOSPC);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	/* Below 256 is no data template. */
	dpfix_ipfix_schema_init(&s, 255);
	dpfix_ipfix_schema_add(&s, &extra_group, NULL);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == -EINVAL);
	/* Variable-length fields and no room for the longest record: the record is encoded
	 * apart and added if it fits (here to the last octet); one that does not fit leaves
	 * the message as it was. (Before, any such record was -ENOSPC.) */
	dpfix_ipfix_schema_init(&s, 256);
	dpfix_ipfix_schema_add(&s, &sample_group, NULL);
	CHECK(s.max_length > sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == 0);
	CHECK_EQ_U64(m.len, sizeof(buf));
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(buf + m.len - 4, 4), 2);
	CHECK(buf[m.len - 5] == 'x' && buf[m.len - 6] == 1);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	before = m;
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &(struct sample){.name = "xy"}) == -ENOSPC);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
	/* Longer than can be encoded apart on the stack: refused unless there is room. */
	dpfix_ipfix_schema_init(&s, 256);
	dpfix_ipfix_schema_add(&s, &strings_group, NULL);
	CHECK(s.max_length > DPFIX_IPFIX_ENCODE_APART_MAX);
	CHECK(dpfix_ipfix_msg_add_encoded(&m, &s, &in) == -E2BIG);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);
}

/* Strings: NULL is empty; past 254 octets cut without splitting a UTF-8 character. */
static void
test_strings(void)
{
	char s[300];
	uint8_t out[300];

	CHECK(dpfix_ipfix_put_string(out, NULL) == out + 1 && out[0] == 0);
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	CHECK(dpfix_ipfix_put_string(out, s) == out + 255 && out[0] == 254);
	/* a 2-octet character across octets 254-255: cut before it */
	s[253] = (char)0xc3;
	s[254] = (char)0xa9;
	CHECK(dpfix_ipfix_put_string(out, s) == out + 254 && out[0] == 253);
}

int
main(void)
{
	RUN_TEST(test_round_trip);
	RUN_TEST(test_add_checks);
	RUN_TEST(test_encode_into_message);
	RUN_TEST(test_strings);
	return unit_test_summary();
}
