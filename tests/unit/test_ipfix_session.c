/* Unit tests for template management in lib/ipfix (RFC 7011 8, 8.1, 8.4, 10.3.6). The
 * collecting side: withdrawal, redefinition and lifetime per transport kind, sequence
 * numbers per domain, every reason a message is refused. The exporting side: what a
 * session is sent, UDP refresh, withdrawal, checked by decoding what it writes. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_export.h"
#include "ipfix_raw.h"
#include "unit_test.h"

/* ---- fixtures ---- */

static struct dpfix_ipfix_template t_a;     /* 256: 2 fields, 8-byte records */
static struct dpfix_ipfix_template t_a2;    /* 256 redefined: 3 fields, 12-byte records */
static struct dpfix_ipfix_template t_opt;   /* 400: options, 8-byte records */

static void
fixtures(void)
{
	dpfix_ipfix_template_init(&t_a, 256, 0);
	dpfix_ipfix_template_add(&t_a, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_a, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_init(&t_a2, 256, 0);
	dpfix_ipfix_template_add(&t_a2, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_a2, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(&t_a2, 0, IE_ingressInterface, 4);
	dpfix_ipfix_template_init(&t_opt, 400, 1);
	dpfix_ipfix_template_add(&t_opt, 0, 149 /* observationDomainId */, 4);
	dpfix_ipfix_template_add(&t_opt, 0, 41 /* exportedMessageTotalCount */, 4);
}

struct seen {
	uint32_t records;
	uint32_t last_len;
	uint16_t last_tid;
};

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	struct seen *s = ctx;
	(void)h;
	(void)rec;

	s->records++;
	s->last_len = len;
	s->last_tid = t->id;
}

static char err[512];

/* Decodes a copy of exactly the message's bytes (ASan sees any overread). */
static int
decode(struct dpfix_ipfix_decoder *d, struct raw *m, struct seen *s)
{
	uint8_t *copy = malloc(m->len ? m->len : 1);
	int ret;

	memcpy(copy, m->b, m->len);
	memset(s, 0, sizeof(*s));
	ret = dpfix_ipfix_decode(d, copy, m->len, on_record, s, err, sizeof(err));
	free(copy);
	return ret;
}

static struct dpfix_ipfix_decoder *
decoder(enum dpfix_ipfix_transport tr, uint32_t lifetime)
{
	struct dpfix_ipfix_decoder_params p = {.transport = tr, .template_lifetime_s = lifetime};

	return dpfix_ipfix_decoder_create_params(&p);
}

static uint32_t define_seq; /* sequence number of the template messages define() sends */

/* Defines templates (data and options) in a domain. */
static int
define(struct dpfix_ipfix_decoder *d, uint32_t domain, const struct dpfix_ipfix_template *t)
{
	static struct raw m;
	struct seen s;

	rbegin(&m, 1000, define_seq, domain);
	rset(&m, t->scope_count ? DPFIX_IPFIX_SET_OPTIONS_TEMPLATE : DPFIX_IPFIX_SET_TEMPLATE);
	rtemplate(&m, t);
	rset_end(&m);
	rend(&m);
	return decode(d, &m, &s);
}

/* Sends n records of len bytes for template id; returns the records delivered. */
static uint32_t
data(struct dpfix_ipfix_decoder *d, uint32_t domain, uint32_t seq, uint16_t id, uint32_t n,
		uint32_t len)
{
	static struct raw m;
	struct seen s;

	rbegin(&m, 1000, seq, domain);
	rset(&m, id);
	for (uint32_t i = 0; i < n * len; i++)
		put(&m, i, 1);
	rset_end(&m);
	rend(&m);
	CHECK(decode(d, &m, &s) >= 0);
	return s.records;
}

/* ---- withdrawal (RFC 7011 8.1) ---- */

static void
test_withdrawal_reliable(void)
{
	enum dpfix_ipfix_transport kinds[] = {DPFIX_IPFIX_TRANSPORT_TCP, DPFIX_IPFIX_TRANSPORT_SCTP,
		DPFIX_IPFIX_TRANSPORT_FILE};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct dpfix_ipfix_decoder *d = decoder(kinds[k], 0);
		const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
		static struct raw m;
		struct seen s;

		CHECK(define(d, 1, &t_a) == 0);
		CHECK(define(d, 1, &t_opt) == 0);
		CHECK(define(d, 2, &t_a) == 0);
		CHECK_EQ_U64(data(d, 1, 0, 256, 3, 8), 3);

		/* Valid: one template, in its own kind of set. */
		rbegin(&m, 1000, 3, 1);
		rwithdraw(&m, DPFIX_IPFIX_SET_TEMPLATE, 256);
		rend(&m);
		CHECK(decode(d, &m, &s) == 0);
		CHECK_EQ_U64(st->templates_withdrawn, 1);
		CHECK_EQ_U64(data(d, 1, 3, 256, 1, 8), 0);
		CHECK_EQ_U64(st->sets_unknown_template, 1);
		/* The other domain's 256 is untouched. */
		CHECK_EQ_U64(data(d, 2, 0, 256, 2, 8), 2);

		/* Invalid: not defined (any more): ignored, counted, named. */
		CHECK(decode(d, &m, &s) == DPFIX_IPFIX_DECODE_WARNING);
		CHECK(strstr(err, "withdrawal of template 256 at offset 20") != NULL);
		CHECK(strstr(err, "not defined in domain 1") != NULL);
		CHECK_EQ_U64(st->withdrawals_invalid, 1);

		/* Invalid: an options template withdrawn in a Template Set, and a data
		 * template in an Options Template Set. */
		rbegin(&m, 1000, 3, 1);
		rwithdraw(&m, DPFIX_IPFIX_SET_TEMPLATE, 400);
		rend(&m);
		CHECK(decode(d, &m, &s) == DPFIX_IPFIX_DECODE_WARNING);
		CHECK(strstr(err, "options template 400") != NULL);
		CHECK_EQ_U64(st->withdrawals_invalid, 2);
		CHECK(define(d, 1, &t_a) == 0);
		rbegin(&m, 1000, 3, 1);
		rwithdraw(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE, 256);
		rend(&m);
		CHECK(decode(d, &m, &s) == DPFIX_IPFIX_DECODE_WARNING);
		CHECK(strstr(err, "data template 256") != NULL);
		CHECK_EQ_U64(st->withdrawals_invalid, 3);
		CHECK_EQ_U64(data(d, 1, 3, 400, 2, 8), 2);
		CHECK_EQ_U64(data(d, 1, 3, 256, 1, 8), 1);

		/* All data templates of domain 1 (id 2 in a Template Set): options stay. */
		rbegin(&m, 1000, 4, 1);
		rwithdraw(&m, DPFIX_IPFIX_SET_TEMPLATE, DPFIX_IPFIX_SET_TEMPLATE);
		rend(&m);
		CHECK(decode(d, &m, &s) == 0);
		CHECK_EQ_U64(st->withdrawals_all, 1);
		CHECK_EQ_U64(data(d, 1, 4, 256, 1, 8), 0);
		CHECK_EQ_U64(data(d, 1, 4, 400, 1, 8), 1);
		CHECK_EQ_U64(data(d, 2, 2, 256, 1, 8), 1);
		/* All options templates (id 3 in an Options Template Set). */
		rbegin(&m, 1000, 5, 1);
		rwithdraw(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
		rend(&m);
		CHECK(decode(d, &m, &s) == 0);
		CHECK_EQ_U64(data(d, 1, 5, 400, 1, 8), 0);
		CHECK_EQ_U64(st->templates_withdrawn, 3);
		/* An id may be defined anew after its withdrawal, with another layout. */
		CHECK(define(d, 1, &t_a2) == 0);
		CHECK_EQ_U64(data(d, 1, 5, 256, 2, 12), 2);
		CHECK_EQ_U64(st->templates_redefined_invalid, 0);
		CHECK_EQ_U64(st->malformed_messages, 0);
		dpfix_ipfix_decoder_free(d);
	}
}

static void
test_withdrawal_udp_ignored(void)
{
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_UDP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	static struct raw m;
	struct seen s;

	CHECK(define(d, 1, &t_a) == 0);
	rbegin(&m, 1000, 0, 1);
	rwithdraw(&m, DPFIX_IPFIX_SET_TEMPLATE, 256);
	rwithdraw(&m, DPFIX_IPFIX_SET_TEMPLATE, DPFIX_IPFIX_SET_TEMPLATE);
	rend(&m);
	CHECK(decode(d, &m, &s) == DPFIX_IPFIX_DECODE_WARNING);
	CHECK(strstr(err, "on UDP ignored") != NULL);
	CHECK_EQ_U64(st->withdrawals_invalid, 2);
	CHECK_EQ_U64(st->templates_withdrawn, 0);
	CHECK_EQ_U64(data(d, 1, 0, 256, 1, 8), 1);
	dpfix_ipfix_decoder_free(d);
}

/* A session's IP protocol picks its template rules; anything else is not a session. */
static void
test_transport_of_protocol(void)
{
	CHECK(dpfix_ipfix_transport_of_protocol(IPPROTO_UDP) == DPFIX_IPFIX_TRANSPORT_UDP);
	CHECK(dpfix_ipfix_transport_of_protocol(IPPROTO_TCP) == DPFIX_IPFIX_TRANSPORT_TCP);
	CHECK(dpfix_ipfix_transport_of_protocol(IPPROTO_SCTP) == DPFIX_IPFIX_TRANSPORT_SCTP);
	CHECK(dpfix_ipfix_transport_of_protocol(0) == DPFIX_IPFIX_TRANSPORT_FILE);
	CHECK(dpfix_ipfix_transport_of_protocol(IPPROTO_ICMP) == DPFIX_IPFIX_TRANSPORT_FILE);
}

/* RFC 7011 8.1, Figure T: a withdrawal is a Template ID and a Field Count of 0, also in
 * an Options Template Set, where it has no Scope Field Count; several may share a set.
 * Two options withdrawals in one set, then a data set: a decoder that read a scope count
 * after the first would take the second for a template and misplace the data set. */
static void
test_withdrawal_options_form(void)
{
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	static struct dpfix_ipfix_template t_opt2;
	static struct raw m;
	struct seen s;

	t_opt2 = t_opt;
	t_opt2.id = 401;
	CHECK(define(d, 1, &t_a) == 0);
	CHECK(define(d, 1, &t_opt) == 0);
	CHECK(define(d, 1, &t_opt2) == 0);
	rbegin(&m, 1000, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	put(&m, 400, 2);
	put(&m, 0, 2);
	put(&m, 401, 2);
	put(&m, 0, 2);
	rset_end(&m);
	rset(&m, 256);
	for (int i = 0; i < 8; i++)
		put(&m, i, 1);
	rset_end(&m);
	rend(&m);
	CHECK_EQ_U64(m.len, 16 + 12 + 12);
	CHECK(decode(d, &m, &s) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 2);
	CHECK_EQ_U64(st->withdrawals_invalid, 0);
	CHECK_EQ_U64(st->malformed_messages, 0);
	CHECK(s.records == 1 && s.last_tid == 256);
	CHECK_EQ_U64(data(d, 1, 1, 400, 1, 8), 0);
	CHECK_EQ_U64(data(d, 1, 1, 401, 1, 8), 0);
	dpfix_ipfix_decoder_free(d);
}

/* ---- redefinition (RFC 7011 8, 8.4) ---- */

static void
test_redefinition(void)
{
	enum dpfix_ipfix_transport kinds[] = {DPFIX_IPFIX_TRANSPORT_UDP, DPFIX_IPFIX_TRANSPORT_FILE,
		DPFIX_IPFIX_TRANSPORT_TCP, DPFIX_IPFIX_TRANSPORT_SCTP};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct dpfix_ipfix_decoder *d = decoder(kinds[k], 0);
		const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
		int reliable = kinds[k] == DPFIX_IPFIX_TRANSPORT_TCP ||
				kinds[k] == DPFIX_IPFIX_TRANSPORT_SCTP;
		int ret;

		CHECK(define(d, 7, &t_a) == 0);
		/* The same definition again is a refresh on every transport: no fault. */
		CHECK(define(d, 7, &t_a) == 0);
		CHECK_EQ_U64(st->templates_refreshed, 1);
		CHECK_EQ_U64(st->templates, 1);

		ret = define(d, 7, &t_a2);
		if (reliable) {
			/* Without a withdrawal: an error; neither definition is used. */
			CHECK(ret == DPFIX_IPFIX_DECODE_WARNING);
			CHECK(strstr(err, "template 256 at offset 20 redefined without a withdrawal") != NULL);
			CHECK(strstr(err, dpfix_ipfix_transport_name(kinds[k])) != NULL);
			CHECK_EQ_U64(st->templates_redefined_invalid, 1);
			CHECK_EQ_U64(data(d, 7, 0, 256, 2, 12), 0);
			CHECK_EQ_U64(st->sets_unknown_template, 1);
			/* Defined once more, it is taken up. */
			CHECK(define(d, 7, &t_a2) == 0);
			CHECK_EQ_U64(data(d, 7, 0, 256, 2, 12), 2);
		} else {
			/* UDP and files: the new definition replaces the old. */
			CHECK(ret == 0);
			CHECK_EQ_U64(st->templates_replaced, 1);
			CHECK_EQ_U64(data(d, 7, 0, 256, 2, 12), 2);
		}
		CHECK_EQ_U64(st->malformed_messages, 0);
		dpfix_ipfix_decoder_free(d);
	}
}

/* ---- template lifetime on UDP (RFC 7011 8.4, 10.3.6) ---- */

static void
test_udp_lifetime(void)
{
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_UDP, 30);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	struct dpfix_ipfix_decoder *tcp = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 30);
	struct dpfix_ipfix_decoder *noexp = decoder(DPFIX_IPFIX_TRANSPORT_UDP, 0);
	static struct raw m;
	struct seen s;

	dpfix_ipfix_decoder_set_time(d, 100);
	CHECK(define(d, 1, &t_a) == 0);
	CHECK(define(d, 2, &t_a) == 0);
	dpfix_ipfix_decoder_set_time(d, 130);     /* exactly the lifetime: still valid */
	CHECK_EQ_U64(data(d, 1, 0, 256, 1, 8), 1);
	CHECK(define(d, 1, &t_a) == 0);             /* refresh domain 1 only */
	CHECK_EQ_U64(st->templates_refreshed, 1);
	dpfix_ipfix_decoder_set_time(d, 131);
	CHECK_EQ_U64(data(d, 1, 1, 256, 1, 8), 1);
	CHECK_EQ_U64(data(d, 2, 0, 256, 1, 8), 0);  /* 31 s without refresh: gone */
	CHECK_EQ_U64(st->templates_expired, 1);
	CHECK_EQ_U64(st->sets_unknown_template, 1);
	dpfix_ipfix_decoder_set_time(d, 161);
	/* A template nobody uses expires too (swept once the clock moves). */
	rbegin(&m, 1000, 2, 9);
	rend(&m);
	CHECK(decode(d, &m, &s) == 0);
	CHECK_EQ_U64(st->templates_expired, 2);
	CHECK_EQ_U64(data(d, 1, 2, 256, 1, 8), 0);
	/* Learned again, it is used again. */
	CHECK(define(d, 1, &t_a) == 0);
	CHECK_EQ_U64(data(d, 1, 2, 256, 1, 8), 1);
	CHECK_EQ_U64(st->templates, 3);
	dpfix_ipfix_decoder_free(d);

	/* Without a clock, the messages' export times are the clock. */
	d = decoder(DPFIX_IPFIX_TRANSPORT_UDP, 30);
	st = dpfix_ipfix_decoder_stats(d);
	CHECK(define(d, 1, &t_a) == 0);             /* export time 1000 */
	rbegin(&m, 1031, 0, 1);
	rset(&m, 256);
	put(&m, 0, 8);
	rset_end(&m);
	rend(&m);
	CHECK(decode(d, &m, &s) == 0);
	CHECK_EQ_U64(s.records, 0);
	CHECK_EQ_U64(st->templates_expired, 1);
	dpfix_ipfix_decoder_free(d);

	/* TCP templates and lifetime 0 never expire. */
	dpfix_ipfix_decoder_set_time(tcp, 100);
	dpfix_ipfix_decoder_set_time(noexp, 100);
	CHECK(define(tcp, 1, &t_a) == 0);
	CHECK(define(noexp, 1, &t_a) == 0);
	dpfix_ipfix_decoder_set_time(tcp, 100000);
	dpfix_ipfix_decoder_set_time(noexp, 100000);
	CHECK_EQ_U64(data(tcp, 1, 0, 256, 1, 8), 1);
	CHECK_EQ_U64(data(noexp, 1, 0, 256, 1, 8), 1);
	dpfix_ipfix_decoder_free(tcp);
	dpfix_ipfix_decoder_free(noexp);
}

/* ---- sequence numbers ---- */

static void
test_sequence(void)
{
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_UDP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);

	CHECK(define(d, 1, &t_a) == 0);
	define_seq = 0xfffffffeu;
	CHECK(define(d, 2, &t_a) == 0);
	define_seq = 50000000;
	CHECK(define(d, 3, &t_a) == 0);
	define_seq = 0;
	/* The first data message sets the expectation (the define carried 0 records). */
	CHECK_EQ_U64(data(d, 1, 0, 256, 2, 8), 2);
	CHECK_EQ_U64(data(d, 1, 2, 256, 2, 8), 2);
	CHECK_EQ_U64(st->sequence_lost, 0);
	/* 4..9 lost, in three messages of 2 that arrive late in the order 6, 4, 8. */
	CHECK_EQ_U64(data(d, 1, 10, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_lost, 6);
	CHECK_EQ_U64(data(d, 1, 6, 256, 2, 8), 2);    /* fills the middle of the gap */
	CHECK_EQ_U64(st->sequence_out_of_order, 1);
	CHECK_EQ_U64(st->sequence_recovered, 2);
	CHECK_EQ_U64(data(d, 1, 4, 256, 2, 8), 2);
	CHECK_EQ_U64(data(d, 1, 8, 256, 2, 8), 2);
	CHECK_EQ_U64(st->sequence_recovered, 6);       /* nothing was lost after all */
	/* A duplicate of records already received is late but recovers nothing. */
	CHECK_EQ_U64(data(d, 1, 2, 256, 2, 8), 2);
	CHECK_EQ_U64(st->sequence_out_of_order, 4);
	CHECK_EQ_U64(st->sequence_recovered, 6);
	CHECK_EQ_U64(data(d, 1, 11, 256, 1, 8), 1);   /* back in sequence */
	CHECK_EQ_U64(st->sequence_lost, 6);

	/* Domain 2 wraps at 2^32: ...fffe + 3 records -> 1. */
	CHECK_EQ_U64(data(d, 2, 0xfffffffeu, 256, 3, 8), 3);
	CHECK_EQ_U64(data(d, 2, 1, 256, 2, 8), 2);
	CHECK_EQ_U64(st->sequence_lost, 6);
	CHECK_EQ_U64(data(d, 2, 5, 256, 1, 8), 1);    /* 3, 4 lost */
	CHECK_EQ_U64(st->sequence_lost, 8);
	/* 22 behind, across the wrap: late, not a restart. */
	CHECK_EQ_U64(data(d, 2, 0xfffffff0u, 256, 0, 8), 0);
	CHECK_EQ_U64(st->sequence_out_of_order, 5);
	CHECK_EQ_U64(st->sequence_resets, 0);
	CHECK_EQ_U64(data(d, 2, 6, 256, 1, 8), 1);
	CHECK_EQ_U64(data(d, 2, 0xfffffffeu + 20, 256, 1, 8), 1); /* 7..17 lost */
	CHECK_EQ_U64(st->sequence_lost, 19);

	/* Domain 3: an exporter that starts again far behind resynchronises at once. */
	CHECK_EQ_U64(data(d, 3, 50000000, 256, 1, 8), 1);
	CHECK_EQ_U64(data(d, 3, 0, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_resets, 1);
	CHECK_EQ_U64(data(d, 3, 1, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_lost, 19);
	/* Near behind: 15 late messages in a row are reordering, the 16th a restart. */
	CHECK_EQ_U64(data(d, 3, 1000, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_lost, 19 + 998);
	for (uint32_t i = 0; i < 15; i++)
		CHECK_EQ_U64(data(d, 3, 500 + i, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_resets, 1);
	CHECK_EQ_U64(data(d, 3, 515, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_resets, 2);
	CHECK_EQ_U64(data(d, 3, 516, 256, 1, 8), 1);
	CHECK_EQ_U64(st->sequence_lost, 19 + 998);
	dpfix_ipfix_decoder_free(d);
}

/* ---- every reason a message is refused ---- */

static void
expect_refused(struct dpfix_ipfix_decoder *d, struct raw *m, uint32_t len,
		enum dpfix_ipfix_malformed reason, const char *text)
{
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	uint64_t before = st->malformed[reason], total = st->malformed_messages;
	uint32_t keep = m->len;
	struct seen s;
	int ret;

	m->len = len;
	ret = decode(d, m, &s);
	m->len = keep;
	if (ret != -EBADMSG || strstr(err, text) == NULL)
		fprintf(stderr, "  %s: got %d '%s', want '%s'\n", dpfix_ipfix_malformed_name(reason),
				ret, err, text);
	CHECK(ret == -EBADMSG);
	CHECK(strstr(err, text) != NULL);
	CHECK_EQ_U64(st->malformed[reason], before + 1);
	CHECK_EQ_U64(st->malformed_messages, total + 1);
}

static void
test_malformed_reasons(void)
{
	struct dpfix_ipfix_decoder *d = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	static struct raw m;
	uint64_t sum = 0;

	rbegin(&m, 0, 0, 1);
	rend(&m);
	expect_refused(d, &m, 15, DPFIX_IPFIX_MALFORMED_MESSAGE_SHORT, "message of 15 bytes");
	m.b[1] = 9;
	expect_refused(d, &m, 16, DPFIX_IPFIX_MALFORMED_VERSION, "version 9 is not IPFIX");
	m.b[1] = 10;
	put(&m, 0, 4);      /* 4 bytes more than the header says */
	expect_refused(d, &m, 20, DPFIX_IPFIX_MALFORMED_MESSAGE_LENGTH,
			"header length 16 does not match the 20 bytes");
	rend(&m);
	m.len = 18;
	rend(&m);
	expect_refused(d, &m, 18, DPFIX_IPFIX_MALFORMED_SET_HEADER, "set header at offset 16 cut short");

	rbegin(&m, 0, 0, 1);
	rset(&m, 256);
	put(&m, 0, 4);
	rset_end(&m);
	m.b[19] = 3;
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_SET_LENGTH, "set 256 at offset 16: length 3");
	m.b[19] = 9;
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_SET_LENGTH, "length 9 outside 4..8");

	rbegin(&m, 0, 0, 1);
	rset(&m, 1);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_SET_ID, "set id 1 at offset 16 is reserved");

	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 255, 2);
	put(&m, 1, 2);
	put(&m, 8, 2);
	put(&m, 4, 2);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_TEMPLATE_ID,
			"template set 2 at offset 20: template id 255 is below 256");

	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	put(&m, 300, 2);
	put(&m, 1, 2);
	put(&m, 2, 2);      /* scope count 2 of 1 field */
	put(&m, 8, 2);
	put(&m, 4, 2);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_TEMPLATE_FIELDS,
			"options template 300 at offset 20: scope count 2 not in 1..1");
	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 300, 2);
	put(&m, 513, 2);
	for (int i = 0; i < 513; i++)
		put(&m, 0x00080004, 4);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_TEMPLATE_FIELDS, "513 fields");

	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 300, 2);
	put(&m, 2, 2);
	put(&m, 0x8001, 2);  /* enterprise field without its number */
	put(&m, 4, 2);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_TEMPLATE_SHORT,
			"template 300 at offset 20: enterprise number of field 0 cut short");

	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 300, 2);
	put(&m, 1, 2);
	put(&m, 8, 2);
	put(&m, 0, 2);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_FIELD_LENGTH, "field 0 has length 0");
	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 300, 2);
	put(&m, 2, 2);
	put(&m, 0x0001fde8, 4);  /* a field of 65000 bytes */
	put(&m, 0x00020258, 4);  /* and one of 600 */
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_FIELD_LENGTH, "more than a message holds");

	/* A variable-length record whose length runs past its set. */
	rbegin(&m, 0, 0, 1);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	put(&m, 301, 2);
	put(&m, 1, 2);
	put(&m, 82, 2);
	put(&m, 65535, 2);
	rset_end(&m);
	rset(&m, 301);
	put(&m, 3, 1);
	put(&m, 0x414243, 3);
	put(&m, 9, 1);        /* 9 bytes announced, 3 present */
	put(&m, 0x414243, 3);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_RECORD_OVERRUN,
			"data set 301 at offset 28: record at offset 36 overruns the set");
	CHECK_EQ_U64(st->data_records, 1);  /* the record before it was delivered */

	/* 4096 templates a session at most (one, 301, is stored already). */
	for (uint32_t i = 0; i < 4095; i++) {
		static struct dpfix_ipfix_template t;

		t = t_a;
		t.id = (uint16_t)(256 + i % 4000);
		if (define(d, 100 + i / 4000, &t) != 0)
			CHECK(!"define");
	}
	rbegin(&m, 0, 0, 200);
	rset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	rtemplate(&m, &t_a);
	rset_end(&m);
	rend(&m);
	expect_refused(d, &m, m.len, DPFIX_IPFIX_MALFORMED_TEMPLATE_LIMIT,
			"template 256 at offset 20: more than 4096 templates");
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++) {
		CHECK(st->malformed[r] != 0);   /* every reason was tried */
		sum += st->malformed[r];
	}
	CHECK_EQ_U64(sum, st->malformed_messages);
	dpfix_ipfix_decoder_free(d);
}

/* ---- exporting side ---- */

/* Decodes a finished message with d; returns the decode result. */
static int
decode_msg(struct dpfix_ipfix_decoder *d, struct dpfix_ipfix_msg *m)
{
	static struct raw r;
	struct seen s;

	r.len = dpfix_ipfix_msg_finish(m, 1000, 0, 1);
	memcpy(r.b, m->buf, r.len);
	return decode(d, &r, &s);
}

static void
test_export_templates(void)
{
	static struct dpfix_ipfix_template_manager tm;
	static uint8_t buf[65536];
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *tcp = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(tcp);
	const uint64_t s = 1000000000ull;

	dpfix_ipfix_tm_init(&tm, 60 * s);
	CHECK(dpfix_ipfix_tm_add(&tm, &t_a) == 0);
	CHECK(dpfix_ipfix_tm_add(&tm, &t_opt) == 0);
	CHECK(dpfix_ipfix_tm_add(&tm, &t_a2) == -EEXIST);   /* same id */
	CHECK(dpfix_ipfix_tm_get(&tm, 400) != NULL && dpfix_ipfix_tm_get(&tm, 400)->scope_count == 1);

	/* TCP: once per session, whatever the time. */
	dpfix_ipfix_tm_session(&tm, 1);
	CHECK(dpfix_ipfix_tm_due(&tm, 5 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 5 * s) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->templates, 2);
	CHECK(!dpfix_ipfix_tm_due(&tm, 5000 * s));
	/* A template added later is due alone. */
	{
		struct dpfix_ipfix_template t = t_a;

		t.id = 300;
		CHECK(dpfix_ipfix_tm_add(&tm, &t) == 0);
	}
	CHECK(dpfix_ipfix_tm_due(&tm, 6 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 6 * s) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->templates, 3);
	CHECK_EQ_U64(st->templates_refreshed, 0);

	/* Removing a sent template on TCP withdraws it; the collector agrees. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_remove(&tm, 300, &m) == 0);
	CHECK(dpfix_ipfix_tm_remove(&tm, 300, &m) == -ENOENT);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 1);
	/* Withdrawing all data templates leaves the options template sent. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_withdraw_all(&tm, DPFIX_IPFIX_TM_DATA, &m) == 1);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->withdrawals_all, 1);
	CHECK_EQ_U64(st->templates_withdrawn, 2);
	CHECK_EQ_U64(data(tcp, 1, 0, 400, 1, 8), 1);
	/* ...and makes the data templates due again; both kinds at once next. */
	CHECK(dpfix_ipfix_tm_due(&tm, 7 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 7 * s) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_withdraw_all(&tm, DPFIX_IPFIX_TM_DATA | DPFIX_IPFIX_TM_OPTIONS, &m) == 2);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->withdrawals_all, 3);
	CHECK_EQ_U64(st->withdrawals_invalid, 0);
	CHECK_EQ_U64(data(tcp, 1, 1, 400, 1, 8), 0);
	/* No room: nothing written, nothing forgotten. */
	dpfix_ipfix_msg_begin(&m, buf, DPFIX_IPFIX_HEADER_LEN + 4);
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 8 * s) == 2);
	CHECK_EQ_U64(m.len, DPFIX_IPFIX_HEADER_LEN);
	dpfix_ipfix_msg_begin(&m, buf, DPFIX_IPFIX_HEADER_LEN + 4 + 4 + t_a.field_count * 4);
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 8 * s) == 1);       /* one fits, one waits */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 8 * s) == 0);
	dpfix_ipfix_decoder_free(tcp);

	/* UDP: a new session is sent everything, again after each refresh interval, and
	 * never a withdrawal. */
	dpfix_ipfix_tm_session(&tm, 0);
	CHECK(dpfix_ipfix_tm_due(&tm, 100 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 100 * s) == 0);
	CHECK(!dpfix_ipfix_tm_due(&tm, 159 * s));
	CHECK(dpfix_ipfix_tm_due(&tm, 160 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 160 * s) == 0);
	CHECK_EQ_U64(m.len, DPFIX_IPFIX_HEADER_LEN + 4 + 4 + 2 * 4 + 4 + 6 + 2 * 4);
	CHECK(!dpfix_ipfix_tm_due(&tm, 161 * s));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_withdraw_all(&tm, DPFIX_IPFIX_TM_DATA, &m) == 0);
	CHECK(dpfix_ipfix_tm_remove(&tm, 256, &m) == 0);
	CHECK_EQ_U64(m.len, DPFIX_IPFIX_HEADER_LEN);
	dpfix_ipfix_tm_free(&tm);
}

/* A Mediator passes on every template its exporters define: a manager holds as many as
 * a collector keeps per session, each sent once per session however many come and go,
 * and the maximum is refused. */
static void
test_export_many_templates(void)
{
	static struct dpfix_ipfix_template_manager tm;
	static uint8_t buf[65536];
	struct dpfix_ipfix_template t = t_a;
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *tcp = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(tcp);
	int rounds = 0;

	dpfix_ipfix_tm_init(&tm, 0);
	for (unsigned int i = 0; i < DPFIX_IPFIX_TM_MAX; i++) {
		t.id = (uint16_t)(256 + i);
		CHECK(dpfix_ipfix_tm_add(&tm, &t) == 0);
	}
	t.id = 256 + DPFIX_IPFIX_TM_MAX;
	CHECK(dpfix_ipfix_tm_add(&tm, &t) == -ENOSPC);
	dpfix_ipfix_tm_session(&tm, 1);
	do {
		dpfix_ipfix_msg_begin(&m, buf, 1400);
		rounds++;
	} while (dpfix_ipfix_tm_write(&tm, &m, 0) > 0 && decode_msg(tcp, &m) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->templates, DPFIX_IPFIX_TM_MAX);
	CHECK(rounds > 1 && !dpfix_ipfix_tm_due(&tm, 0));
	/* Half removed, the rest still sent; one added is the only one due. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	for (unsigned int i = 0; i < DPFIX_IPFIX_TM_MAX; i += 2)
		CHECK(dpfix_ipfix_tm_remove(&tm, (uint16_t)(256 + i), &m) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, DPFIX_IPFIX_TM_MAX / 2);
	CHECK(!dpfix_ipfix_tm_due(&tm, 0));
	t.id = 256;
	CHECK(dpfix_ipfix_tm_add(&tm, &t) == 0);
	CHECK(dpfix_ipfix_tm_due(&tm, 0));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 0) == 0);
	CHECK_EQ_U64(m.len, DPFIX_IPFIX_HEADER_LEN + 4 + 4 + 4u * t_a.field_count);
	CHECK(dpfix_ipfix_tm_get(&tm, 257) != NULL && dpfix_ipfix_tm_get(&tm, 258) == NULL);
	dpfix_ipfix_tm_free(&tm);
	dpfix_ipfix_decoder_free(tcp);
}

/* The withdrawals the exporter writes, byte for byte (RFC 7011 8.1): one options
 * template is Figure T in Set 3 (Template ID, Field Count 0, nothing more); the
 * all-templates forms are Figures U (Set 2, id 2) and V (Set 3, id 3). The probe ends a
 * TCP/SCTP session with Figure U only (doc/peer-collectors.md says why not V). */
static void
test_export_withdrawal_bytes(void)
{
	static struct dpfix_ipfix_template_manager tm;
	static uint8_t buf[256];
	static const uint8_t one_options[] = {0, 3, 0, 8, 0x01, 0x90, 0, 0};
	static const uint8_t all_data[] = {0, 2, 0, 8, 0, 2, 0, 0};
	static const uint8_t all_options[] = {0, 3, 0, 8, 0, 3, 0, 0};
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *tcp = decoder(DPFIX_IPFIX_TRANSPORT_TCP, 0);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(tcp);

	dpfix_ipfix_tm_init(&tm, 0);
	CHECK(dpfix_ipfix_tm_add(&tm, &t_a) == 0);
	CHECK(dpfix_ipfix_tm_add(&tm, &t_opt) == 0);
	dpfix_ipfix_tm_session(&tm, 1);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 0) == 0);
	CHECK(decode_msg(tcp, &m) == 0);

	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_remove(&tm, 400, &m) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK(m.len == DPFIX_IPFIX_HEADER_LEN + 8 &&
			memcmp(buf + DPFIX_IPFIX_HEADER_LEN, one_options, 8) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 1);

	CHECK(dpfix_ipfix_tm_add(&tm, &t_opt) == 0);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_write(&tm, &m, 0) == 0);
	CHECK(decode_msg(tcp, &m) == 0);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_withdraw_all(&tm, DPFIX_IPFIX_TM_DATA, &m) == 1);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK(m.len == DPFIX_IPFIX_HEADER_LEN + 8 &&
			memcmp(buf + DPFIX_IPFIX_HEADER_LEN, all_data, 8) == 0);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_tm_withdraw_all(&tm, DPFIX_IPFIX_TM_OPTIONS, &m) == 1);
	CHECK(decode_msg(tcp, &m) == 0);
	CHECK(m.len == DPFIX_IPFIX_HEADER_LEN + 8 &&
			memcmp(buf + DPFIX_IPFIX_HEADER_LEN, all_options, 8) == 0);
	CHECK_EQ_U64(st->withdrawals_all, 2);
	CHECK_EQ_U64(st->templates_withdrawn, 3);
	CHECK_EQ_U64(st->withdrawals_invalid, 0);
	dpfix_ipfix_tm_free(&tm);
	dpfix_ipfix_decoder_free(tcp);
}

int
main(void)
{
	fixtures();
	RUN_TEST(test_withdrawal_reliable);
	RUN_TEST(test_withdrawal_udp_ignored);
	RUN_TEST(test_transport_of_protocol);
	RUN_TEST(test_withdrawal_options_form);
	RUN_TEST(test_redefinition);
	RUN_TEST(test_udp_lifetime);
	RUN_TEST(test_sequence);
	RUN_TEST(test_malformed_reasons);
	RUN_TEST(test_export_templates);
	RUN_TEST(test_export_withdrawal_bytes);
	RUN_TEST(test_export_many_templates);
	return unit_test_summary();
}
