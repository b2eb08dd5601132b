/* Unit tests for what the collecting side refuses to hold or believe: field lengths
 * that an element's type forbids (RFC 7011 6.2, 7), and the memory templates take. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "ipfix_raw.h"
#include "unit_test.h"

static char err[512];
static uint32_t records_seen;

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	(void)h;
	(void)t;
	(void)rec;
	(void)len;
	records_seen++;
}

/* Decodes a copy of exactly the message's bytes (ASan sees any overread). */
static int
decode(struct dpfix_ipfix_decoder *d, const struct raw *m)
{
	uint8_t *copy = malloc(m->len);
	int ret;

	memcpy(copy, m->b, m->len);
	records_seen = 0;
	ret = dpfix_ipfix_decode(d, copy, m->len, on_record, NULL, err, sizeof(err));
	free(copy);
	return ret;
}

static struct dpfix_ipfix_decoder *
decoder(enum dpfix_ipfix_transport tr)
{
	struct dpfix_ipfix_decoder_params p = {.transport = tr, .template_lifetime_s = 0};

	return dpfix_ipfix_decoder_create_params(&p);
}

/* One message: template 256 of the given fields, then a data set of 3 records of it and
 * a data set of 2 records of a good template 257 (one unsigned64). */
static void
message_with(struct raw *m, const struct dpfix_ipfix_template *t, uint32_t seq)
{
	static struct dpfix_ipfix_template good;

	dpfix_ipfix_template_init(&good, 257, 0);
	dpfix_ipfix_template_add(&good, 0, IE_packetDeltaCount, 8);
	rbegin(m, 1000, seq, 1);
	rset(m, DPFIX_IPFIX_SET_TEMPLATE);
	rtemplate(m, t);
	rtemplate(m, &good);
	rset_end(m);
	rset(m, 256);
	for (uint32_t r = 0; r < 3; r++)
		for (uint16_t i = 0; i < t->field_count; i++) {
			if (t->fields[i].length == DPFIX_IPFIX_VARLEN) {
				put(m, 1, 1);   /* a one-octet value */
				put(m, 0x41, 1);
			} else {
				for (uint16_t k = 0; k < t->fields[i].length; k++)
					put(m, 1, 1);
			}
		}
	rset_end(m);
	rset(m, 257);
	put(m, 5, 8);
	put(m, 6, 8);
	rset_end(m);
	rend(m);
}

struct length_case {
	uint16_t id;
	uint16_t length;
	int forbidden;
};

/* Each element's type decides which lengths it may have. */
static void
test_field_length_by_type(void)
{
	static const struct length_case cases[] = {
		{IE_octetDeltaCount, 9, 1},             /* unsigned64: 1..8 */
		{IE_octetDeltaCount, 8, 0},
		{IE_octetDeltaCount, 3, 0},             /* reduced size, RFC 7011 6.2 */
		{IE_octetDeltaCount, DPFIX_IPFIX_VARLEN, 1},
		{IE_sourceIPv4Address, 2, 1},           /* ipv4Address: exactly 4 */
		{IE_sourceIPv4Address, 4, 0},
		{IE_sourceIPv6Address, 17, 1},          /* ipv6Address: exactly 16 */
		{IE_sourceIPv6Address, 16, 0},
		{IE_flowStartMilliseconds, 3, 1},       /* dateTimeMilliseconds: exactly 8 */
		{IE_flowStartMilliseconds, 8, 0},
		{IE_flowStartSeconds, 8, 1},            /* dateTimeSeconds: exactly 4 */
		{IE_sourceMacAddress, 8, 1},            /* macAddress: exactly 6 */
		{IE_protocolIdentifier, 2, 1},          /* unsigned8: exactly 1 */
		{IE_protocolIdentifier, 1, 0},
		{IE_interfaceName, 7, 0},               /* string: any length */
		{IE_interfaceName, DPFIX_IPFIX_VARLEN, 0},
		{IE_mplsTopLabelStackSection, 3, 0},    /* octetArray */
	};
	static struct raw m;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		static struct dpfix_ipfix_template t;
		struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_UDP);
		const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
		int ret;

		dpfix_ipfix_template_init(&t, 256, 0);
		dpfix_ipfix_template_add(&t, 0, cases[c].id, cases[c].length);
		message_with(&m, &t, 0);
		ret = decode(d, &m);
		if (cases[c].forbidden) {
			/* Refused and said, the rest of the message decoded. */
			CHECK(ret == DPFIX_IPFIX_DECODE_WARNING);
			CHECK(strstr(err, dpfix_ipfix_ie_by_id(0, cases[c].id)->name) != NULL);
			CHECK(strstr(err, "template 256") != NULL);
			CHECK(strstr(err, cases[c].length == DPFIX_IPFIX_VARLEN ? "has a variable length," :
					"has length ") != NULL);
			CHECK_EQ_U64(st->templates_refused_length, 1);
			CHECK_EQ_U64(st->sets_refused_template, 1);
			CHECK_EQ_U64(st->templates, 1);         /* 257 only */
			CHECK_EQ_U64(records_seen, 2);
			CHECK_EQ_U64(st->data_records, 2);
			CHECK_EQ_U64(st->malformed_messages, 0);
		} else {
			CHECK(ret == 0);
			CHECK_EQ_U64(st->templates_refused_length, 0);
			CHECK_EQ_U64(st->templates, 2);
			CHECK_EQ_U64(records_seen, 5);
		}
		if (unit_checks_failed_in_test != 0) {
			fprintf(stderr, "  case %zu: element %u length %u: %s\n", c, cases[c].id,
					cases[c].length, err);
			dpfix_ipfix_decoder_free(d);
			return;
		}
		dpfix_ipfix_decoder_free(d);
	}
}

/* A refused template follows the template rules all the same: resent, it stays refused;
 * over UDP a good definition replaces it; over TCP it is withdrawn and defined anew. */
static void
test_refused_template_rules(void)
{
	static struct dpfix_ipfix_template bad, fixed;
	static struct raw m;
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_UDP);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);

	dpfix_ipfix_template_init(&bad, 256, 0);
	dpfix_ipfix_template_add(&bad, 0, IE_octetDeltaCount, 9);
	dpfix_ipfix_template_init(&fixed, 256, 0);
	dpfix_ipfix_template_add(&fixed, 0, IE_octetDeltaCount, 8);
	message_with(&m, &bad, 0);
	CHECK(decode(d, &m) == DPFIX_IPFIX_DECODE_WARNING);
	message_with(&m, &bad, 2);
	CHECK(decode(d, &m) == DPFIX_IPFIX_DECODE_WARNING);
	CHECK_EQ_U64(st->templates_refused_length, 2);
	CHECK_EQ_U64(st->sets_refused_template, 2);
	message_with(&m, &fixed, 4);
	CHECK(decode(d, &m) == 0);
	CHECK_EQ_U64(records_seen, 5);
	CHECK_EQ_U64(st->templates_replaced, 1);
	dpfix_ipfix_decoder_free(d);

	d = decoder(DPFIX_IPFIX_TRANSPORT_TCP);
	st = dpfix_ipfix_decoder_stats(d);
	message_with(&m, &bad, 0);
	CHECK(decode(d, &m) == DPFIX_IPFIX_DECODE_WARNING);
	rbegin(&m, 1000, 2, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 256, 2);
	put(&m, 0, 2);          /* withdraw 256 */
	rset_end(&m);
	rend(&m);
	CHECK(decode(d, &m) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 1);
	message_with(&m, &fixed, 2);
	CHECK(decode(d, &m) == 0);
	CHECK_EQ_U64(records_seen, 5);
	dpfix_ipfix_decoder_free(d);
}

/* n one-field templates from first_id on, in one message of domain 1. */
static void
many_templates(struct raw *m, uint16_t first_id, uint16_t n, uint32_t seq)
{
	rbegin(m, 1000, seq, 1);
	rset(m, DPFIX_IPFIX_SET_TEMPLATE);
	for (uint16_t i = 0; i < n; i++) {
		put(m, first_id + i, 2);
		put(m, 1, 2);
		put(m, IE_packetDeltaCount, 2);
		put(m, 8, 2);
	}
	rset_end(m);
	rend(m);
}

/* Sessions share one template budget beyond their own reserve: a flooding session fills
 * the pool and is refused (counted, said), another session's templates still fit its
 * reserve, and a freed decoder gives everything back. */
static void
test_template_budget(void)
{
	struct dpfix_ipfix_template_budget budget = {.limit_bytes = 100000};
	struct dpfix_ipfix_decoder_params p = {.transport = DPFIX_IPFIX_TRANSPORT_UDP,
		.budget = &budget};
	struct dpfix_ipfix_decoder *flood = dpfix_ipfix_decoder_create_params(&p);
	struct dpfix_ipfix_decoder *other = dpfix_ipfix_decoder_create_params(&p);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(flood);
	static struct raw m;
	uint64_t per_template;
	int ret = 0;

	for (uint16_t k = 0; k < 16 && ret == 0; k++) {
		many_templates(&m, (uint16_t)(256 + k * 256), 256, k);
		ret = decode(flood, &m);
	}
	CHECK(ret == DPFIX_IPFIX_DECODE_WARNING);
	CHECK(strstr(err, "template memory (100000 bytes beyond each session's 65536) is used up") != NULL);
	CHECK(st->templates_refused_memory > 0);
	CHECK_EQ_U64(st->malformed_messages, 0);
	per_template = dpfix_ipfix_decoder_template_bytes(flood) / st->templates;
	CHECK(per_template <= 64);              /* a one-field template, not a 4 KB slot */
	CHECK(budget.shared_bytes <= budget.limit_bytes);
	CHECK(budget.shared_bytes + per_template > budget.limit_bytes);
	CHECK_EQ_U64(dpfix_ipfix_decoder_template_bytes(flood),
			DPFIX_IPFIX_TEMPLATE_RESERVE + budget.shared_bytes);
	/* Data for a refused template counts as unknown. */
	rbegin(&m, 1000, 100, 1);
	rset(&m, (uint16_t)(256 + 16 * 256 - 1));
	put(&m, 7, 8);
	rset_end(&m);
	rend(&m);
	CHECK(decode(flood, &m) == 0);
	CHECK_EQ_U64(st->sets_unknown_template, 1);
	/* Another session: its first templates fit its own reserve. */
	many_templates(&m, 256, 100, 0);
	CHECK(decode(other, &m) == 0);
	CHECK_EQ_U64(dpfix_ipfix_decoder_stats(other)->templates, 100);
	dpfix_ipfix_decoder_free(flood);
	CHECK_EQ_U64(budget.shared_bytes, 0);
	CHECK_EQ_U64(budget.held_bytes, dpfix_ipfix_decoder_template_bytes(other));
	dpfix_ipfix_decoder_free(other);
	CHECK_EQ_U64(budget.held_bytes, 0);
	CHECK(budget.peak_bytes >= DPFIX_IPFIX_TEMPLATE_RESERVE + 100000 - 64);
}

int
main(void)
{
	RUN_TEST(test_field_length_by_type);
	RUN_TEST(test_refused_template_rules);
	RUN_TEST(test_template_budget);
	return unit_test_summary();
}
