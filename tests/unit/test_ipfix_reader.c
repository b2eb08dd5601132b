/* Unit tests for lib/ipfix's reader on messages the writer does not produce: template
 * withdrawals, sequence numbers (gaps, late messages, restarts), malformed messages and
 * the offsets their errors name, and corrupted valid messages. */
#include "ipfix_test.h"
#include "unit_test.h"

static void
test_template_withdrawal(void)
{
	static struct hand m;
	static uint8_t rec[1024];
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	const struct dpfix_ipfix_decode_stats *st;
	static struct dpfix_ipfix_template t_v4_short;
	struct v4_flow f4;
	struct v6_flow f6;
	char err[256];
	uint32_t len4, len6;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	st = dpfix_ipfix_decoder_stats(d);
	make_v4(&f4, 1, 4);
	len4 = encode_v4(&f4, rec);
	make_v6(&f6, 2);
	len6 = encode_v6(&f6, rec + len4);

	/* Learn 256, 257 and options template 300 in domain 1. */
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t_v4);
	htemplate(&m, &t_v6);
	hset_end(&m);
	hset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	htemplate(&m, &t_opts);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->templates, 3);

	/* Withdraw 256 (field count 0); its data set is then unknown, 257's is not. */
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 256);
	h16(&m, 0);
	hset_end(&m);
	hset(&m, 256);
	hbytes(&m, rec, len4);
	hset_end(&m);
	hset(&m, 257);
	hbytes(&m, rec + len4, len6);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 1);
	CHECK_EQ_U64(st->sets_unknown_template, 1);
	CHECK_EQ_U64(coll.n, 1);
	CHECK(coll.n == 1 && coll.rec[0].tid == 257);

	/* The writer expresses a withdrawal as a template without fields. */
	{
		static struct dpfix_ipfix_template w;
		static uint8_t buf[256];
		struct dpfix_ipfix_msg wm;
		uint32_t wlen;

		memset(&w, 0, sizeof(w));
		w.id = 257;
		dpfix_ipfix_msg_begin(&wm, buf, sizeof(buf));
		CHECK(dpfix_ipfix_msg_add_template(&wm, &w) == 0);
		CHECK(dpfix_ipfix_msg_add_record(&wm, 257, rec + len4, len6) == 0);
		wlen = dpfix_ipfix_msg_finish(&wm, 0, 1, 1);
		CHECK_EQ_U64(get16(buf + 16 + 2), 8);
		collect_reset(&coll);
		CHECK(decode_exact(d, buf, wlen, err, sizeof(err)) == 0);
		CHECK_EQ_U64(st->templates_withdrawn, 2);
		CHECK_EQ_U64(st->sets_unknown_template, 2);
		CHECK_EQ_U64(coll.n, 0);
	}

	/* Withdrawing an unknown template is ignored and reported (RFC 7011 8.1). */
	hbegin(&m, 1, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 999);
	h16(&m, 0);
	hset_end(&m);
	hend(&m);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == DPFIX_IPFIX_DECODE_WARNING);
	CHECK(strstr(err, "withdrawal of template 999 at offset 20") != NULL);
	CHECK_EQ_U64(st->templates_withdrawn, 2);
	CHECK_EQ_U64(st->withdrawals_invalid, 1);

	/* Relearn both; then "all templates" (id 2, count 0) leaves options templates. */
	hbegin(&m, 1, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t_v4);
	htemplate(&m, &t_v6);
	hset_end(&m);
	hend(&m);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	hbegin(&m, 1, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 0);
	hset_end(&m);
	hset(&m, 256);
	hbytes(&m, rec, len4);
	hset_end(&m);
	hset(&m, 300);
	be(rec + 200, 1, 4);
	be(rec + 204, 2, 8);
	be(rec + 212, 3, 8);
	hbytes(&m, rec + 200, 20);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 4);
	CHECK_EQ_U64(st->sets_unknown_template, 3);
	CHECK_EQ_U64(coll.n, 1);
	CHECK(coll.n == 1 && coll.rec[0].tid == 300);

	/* "All options templates" (id 3, count 0, in an Options Template Set). */
	hbegin(&m, 2, 1);
	hset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	h16(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	h16(&m, 0);
	hset_end(&m);
	hset(&m, 300);
	hbytes(&m, rec + 200, 20);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->templates_withdrawn, 5);
	CHECK_EQ_U64(st->sets_unknown_template, 4);
	CHECK_EQ_U64(coll.n, 0);

	/* Templates belong to their observation domain. */
	hbegin(&m, 0, 2);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t_v4);
	hset_end(&m);
	hend(&m);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	hbegin(&m, 2, 1);
	hset(&m, 256);
	hbytes(&m, rec, len4);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(coll.n, 0);
	CHECK_EQ_U64(st->sets_unknown_template, 5);

	/* A redefinition replaces the old template: 256 with just the two addresses. */
	dpfix_ipfix_template_init(&t_v4_short, 256, 0);
	dpfix_ipfix_template_add(&t_v4_short, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_v4_short, 0, IE_destinationIPv4Address, 4);
	hbegin(&m, 1, 2);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t_v4_short);
	hset_end(&m);
	hset(&m, 256);
	hbytes(&m, rec, 16);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(coll.n, 2);
	CHECK(coll.n == 2 && coll.rec[0].len == 8 && coll.rec[1].len == 8);
	CHECK(same_template(collect_template(&coll, 256), &t_v4_short));
	CHECK_EQ_U64(st->malformed_messages, 0);
	dpfix_ipfix_decoder_free(d);
}

/* ---- sequence numbers ---- */

/* Encodes and decodes a message of n IPv4 records; returns the decode result. */
static int
send_seq(struct dpfix_ipfix_decoder *d, uint32_t domain, uint32_t seq, uint32_t n)
{
	static uint8_t buf[8192], rec[1024];
	struct dpfix_ipfix_msg m;
	char err[256];
	struct v4_flow f;
	uint32_t len;

	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	dpfix_ipfix_msg_add_template(&m, &t_v4);
	for (uint32_t i = 0; i < n; i++) {
		make_v4(&f, i, 8);
		len = encode_v4(&f, rec);
		CHECK(dpfix_ipfix_msg_add_record(&m, 256, rec, len) == 0);
	}
	len = dpfix_ipfix_msg_finish(&m, 0, seq, domain);
	collect_reset(&coll);
	return decode_exact(d, buf, len, err, sizeof(err));
}

static void
test_sequence(void)
{
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	const struct dpfix_ipfix_decode_stats *st;
	static struct hand m;
	char err[256];

	CHECK(d != NULL);
	if (d == NULL)
		return;
	st = dpfix_ipfix_decoder_stats(d);

	/* Domain 1: the first message sets the expectation, whatever its number. */
	CHECK(send_seq(d, 1, 100, 3) == 0);
	CHECK(send_seq(d, 1, 103, 2) == 0);
	CHECK_EQ_U64(st->sequence_lost, 0);
	CHECK(send_seq(d, 1, 110, 1) == 0);     /* 105..109 missing */
	CHECK_EQ_U64(st->sequence_lost, 5);
	CHECK(send_seq(d, 1, 111, 0) == 0);     /* templates only: carries no records */
	CHECK(send_seq(d, 1, 111, 4) == 0);
	CHECK_EQ_U64(st->sequence_lost, 5);
	/* A late message is out of order, not loss, and does not move the expectation. */
	CHECK(send_seq(d, 1, 104, 1) == 0);
	CHECK_EQ_U64(st->sequence_out_of_order, 1);
	CHECK_EQ_U64(st->sequence_lost, 5);
	CHECK(send_seq(d, 1, 115, 2) == 0);
	CHECK_EQ_U64(st->sequence_lost, 5);
	CHECK_EQ_U64(st->sequence_out_of_order, 1);

	/* Domain 2 keeps its own count. */
	CHECK(send_seq(d, 2, 5000, 1) == 0);
	CHECK(send_seq(d, 2, 5001, 1) == 0);
	CHECK(send_seq(d, 2, 5003, 1) == 0);    /* 5002 missing */
	CHECK_EQ_U64(st->sequence_lost, 6);
	CHECK(send_seq(d, 1, 117, 1) == 0);
	CHECK_EQ_U64(st->sequence_lost, 6);

	/* Wrap-around at 2^32. */
	CHECK(send_seq(d, 3, 0xfffffffeu, 3) == 0);
	CHECK(send_seq(d, 3, 1, 2) == 0);
	CHECK_EQ_U64(st->sequence_lost, 6);
	CHECK(send_seq(d, 3, 7, 1) == 0);       /* 3..6 missing */
	CHECK_EQ_U64(st->sequence_lost, 10);

	/* A malformed message changes no expectation. */
	hbegin(&m, 9999, 1);
	hset(&m, 256);
	h8(&m, 1);
	h16(&m, 0);
	hend(&m);
	be(m.b + 18, 200, 2);                   /* set length past the message */
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == -EBADMSG);
	CHECK(send_seq(d, 1, 118, 1) == 0);
	CHECK_EQ_U64(st->sequence_lost, 10);
	CHECK_EQ_U64(st->sequence_out_of_order, 1);
	CHECK_EQ_U64(st->messages, 15);
	CHECK_EQ_U64(st->malformed_messages, 1);
	dpfix_ipfix_decoder_free(d);
}

/* ---- malformed messages ---- */

static void
expect_malformed(struct dpfix_ipfix_decoder *d, const uint8_t *msg, size_t len, const char *what)
{
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	uint64_t malformed = st->malformed_messages, messages = st->messages;
	char err[256];
	int ret = decode_exact(d, msg, len, err, sizeof(err));

	if (ret != -EBADMSG || strstr(err, what) == NULL)
		fprintf(stderr, "  %s: got %d '%s'\n", what, ret, err);
	CHECK(ret == -EBADMSG);
	CHECK(err[0] != '\0');
	CHECK(strstr(err, what) != NULL);
	CHECK_EQ_U64(st->malformed_messages, malformed + 1);
	CHECK_EQ_U64(st->messages, messages);
}

static void
test_malformed(void)
{
	static struct hand m;
	static struct dpfix_ipfix_template t;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	const struct dpfix_ipfix_decode_stats *st;
	char err[256];

	CHECK(d != NULL);
	if (d == NULL)
		return;
	st = dpfix_ipfix_decoder_stats(d);

	/* Header problems. */
	hbegin(&m, 0, 1);
	hend(&m);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0); /* empty but valid */
	expect_malformed(d, m.b, 15, "shorter than the 16-byte header");
	expect_malformed(d, m.b, 0, "shorter than the 16-byte header");
	m.b[1] = 9;
	expect_malformed(d, m.b, m.len, "version 9");
	m.b[1] = 0;
	expect_malformed(d, m.b, m.len, "version 0");
	m.b[1] = 10;
	be(m.b + 2, 17, 2);
	expect_malformed(d, m.b, m.len, "header length 17");
	be(m.b + 2, 15, 2);
	expect_malformed(d, m.b, m.len, "header length 15");
	be(m.b + 2, 0, 2);
	expect_malformed(d, m.b, m.len, "header length 0");

	/* Set lengths below 4, past the message, and a set header cut short. */
	for (uint16_t bad = 0; bad < 4; bad++) {
		hbegin(&m, 0, 1);
		hset(&m, 256);
		h32(&m, 0);
		hend(&m);
		be(m.b + 18, bad, 2);
		expect_malformed(d, m.b, m.len, "outside 4..8");
	}
	hbegin(&m, 0, 1);
	hset(&m, 256);
	h32(&m, 0);
	hend(&m);
	be(m.b + 18, 9, 2);
	expect_malformed(d, m.b, m.len, "length 9 outside 4..8");
	hbegin(&m, 0, 1);
	hset(&m, 256);
	hset_end(&m);
	h16(&m, 256);
	hend(&m);
	expect_malformed(d, m.b, m.len, "set header at offset 20 cut short");

	/* Reserved set ids. */
	for (uint16_t id = 0; id < 256; id += (id == 4 ? 251 : 1)) {
		if (id == DPFIX_IPFIX_SET_TEMPLATE || id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE)
			continue;
		hbegin(&m, 0, 1);
		hset(&m, id);
		h32(&m, 0);
		hset_end(&m);
		hend(&m);
		expect_malformed(d, m.b, m.len, "reserved");
	}

	/* Template records: field count past the set end, at every cut. */
	for (uint32_t cut = 1; cut <= 3; cut++) {
		hbegin(&m, 0, 1);
		hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
		h16(&m, 256);
		h16(&m, 5);            /* five fields announced... */
		for (uint32_t i = 0; i < 5 - cut; i++) {
			h16(&m, 8);
			h16(&m, 4);
		}
		hset_end(&m);          /* ...fewer present */
		hend(&m);
		expect_malformed(d, m.b, m.len, "cut short");
	}
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 256);
	h16(&m, 2);
	h16(&m, 8);
	h16(&m, 4);
	h16(&m, 0x8001);
	h16(&m, 4);
	h16(&m, 0);                /* half an enterprise number */
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "enterprise number of field 1 cut short");

	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 256);
	h16(&m, 2);
	h16(&m, 8);
	h16(&m, 4);
	h16(&m, 12);
	h16(&m, 0);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "field 1 has length 0");

	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 255);
	h16(&m, 1);
	h16(&m, 8);
	h16(&m, 4);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "template id 255 is below 256");

	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 256);
	h16(&m, DPFIX_IPFIX_MAX_FIELDS + 1);
	for (int i = 0; i <= DPFIX_IPFIX_MAX_FIELDS; i++) {
		h16(&m, 210);
		h16(&m, 1);
	}
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "more than 512 supported");

	/* Options templates: scope count missing, zero, above the field count. */
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	h16(&m, 300);
	h16(&m, 1);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "scope count cut short");
	for (uint16_t scope = 0; scope <= 3; scope += 3) {
		hbegin(&m, 0, 1);
		hset(&m, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
		h16(&m, 300);
		h16(&m, 2);
		h16(&m, scope);
		h16(&m, 149);
		h16(&m, 4);
		h16(&m, 41);
		h16(&m, 8);
		hset_end(&m);
		hend(&m);
		expect_malformed(d, m.b, m.len, "not in 1..2");
	}

	/* Data records overrunning their set through a variable-length field. The
	 * message first defines the template; the records before the bad one arrive. */
	dpfix_ipfix_template_init(&t, 400, 0);
	dpfix_ipfix_template_add(&t, 0, 82, DPFIX_IPFIX_VARLEN);
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t);
	hset_end(&m);
	hset(&m, 400);
	h8(&m, 2);
	hbytes(&m, "ok", 2);
	h8(&m, 200);               /* 200 bytes announced, 9 present */
	hbytes(&m, "truncated", 9);
	hset_end(&m);
	hend(&m);
	collect_reset(&coll);
	expect_malformed(d, m.b, m.len, "overruns the set");
	CHECK_EQ_U64(coll.n, 1);
	/* The template of that message was learned: it came before the error. */
	hbegin(&m, 0, 1);
	hset(&m, 400);
	h8(&m, 255);               /* three-byte form, its length cut */
	h8(&m, 0);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "overruns the set");
	hbegin(&m, 0, 1);
	hset(&m, 400);
	h8(&m, 255);
	h16(&m, 1000);             /* three-byte form past the set */
	hbytes(&m, "abc", 3);
	hset_end(&m);
	h32(&m, 0);                /* bytes after the set: still outside it */
	hend(&m);
	expect_malformed(d, m.b, m.len, "overruns the set");

	/* A decode without an err buffer or callback fails the same way. */
	CHECK(dpfix_ipfix_decode(d, m.b, m.len, NULL, NULL, NULL, 0) == -EBADMSG);

	/* read_header on its own. */
	{
		struct dpfix_ipfix_header h;

		hbegin(&m, 77, 88);
		hend(&m);
		CHECK(dpfix_ipfix_read_header(m.b, m.len, &h) == 0);
		CHECK(h.version == 10 && h.length == 16 && h.sequence == 77 && h.domain == 88);
		CHECK(h.export_time == 1700000000);
		CHECK(dpfix_ipfix_read_header(m.b, 15, &h) == -EBADMSG);
		m.b[1] = 9;
		CHECK(dpfix_ipfix_read_header(m.b, m.len, &h) == -EBADMSG);
	}
	CHECK_EQ_U64(st->messages, 1);
	dpfix_ipfix_decoder_free(d);
}

/* Errors point at the record that is wrong: its offset from the message start. */
static void
test_error_offsets(void)
{
	static struct hand m;
	static struct dpfix_ipfix_template t;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();

	CHECK(d != NULL);
	if (d == NULL)
		return;
	/* Template record at offset 20 (header 16, set header 4), a field missing. */
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	h16(&m, 256);
	h16(&m, 2);
	h16(&m, 8);
	h16(&m, 4);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "template 256 at offset 20:");

	/* Data set at 28, its records at 32 (3 bytes) and 35 (overrunning). */
	dpfix_ipfix_template_init(&t, 400, 0);
	dpfix_ipfix_template_add(&t, 0, 82, DPFIX_IPFIX_VARLEN);
	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t);
	hset_end(&m);
	hset(&m, 400);
	CHECK_EQ_U64(m.set_start, 28);
	h8(&m, 2);
	hbytes(&m, "ok", 2);
	h8(&m, 200);
	hbytes(&m, "truncated", 9);
	hset_end(&m);
	hend(&m);
	expect_malformed(d, m.b, m.len, "data set 400 at offset 28: record at offset 35 overruns");
	dpfix_ipfix_decoder_free(d);
}

/* ---- corrupted valid messages ---- */

/* A message using every feature: both template kinds, enterprise fields, both
 * variable-length forms, several sets. */
static uint32_t
rich_message(uint8_t *buf, uint32_t size)
{
	static uint8_t rec[1024];
	struct dpfix_ipfix_msg m;
	struct v4_flow f4;
	struct v6_flow f6;
	uint8_t *p;

	dpfix_ipfix_msg_begin(&m, buf, size);
	dpfix_ipfix_msg_add_template(&m, &t_v4);
	dpfix_ipfix_msg_add_template(&m, &t_v6);
	dpfix_ipfix_msg_add_template(&m, &t_ent);
	dpfix_ipfix_msg_add_template(&m, &t_opts);
	make_v4(&f4, 1, 3);
	dpfix_ipfix_msg_add_record(&m, 256, rec, encode_v4(&f4, rec));
	make_v4(&f4, 2, 260);
	dpfix_ipfix_msg_add_record(&m, 256, rec, encode_v4(&f4, rec));
	make_v6(&f6, 3);
	dpfix_ipfix_msg_add_record(&m, 257, rec, encode_v6(&f6, rec));
	p = be(rec, 1, 4);
	p = be(p, 2, 4);
	p = varlen(p, (const uint8_t *)"xyz", 3);
	p = be(p, 3, 2);
	dpfix_ipfix_msg_add_record(&m, 301, rec, (uint32_t)(p - rec));
	p = be(rec, 1, 4);
	p = be(p, 2, 8);
	p = be(p, 3, 8);
	dpfix_ipfix_msg_add_record(&m, 300, rec, (uint32_t)(p - rec));
	return dpfix_ipfix_msg_finish(&m, 1, 2, 3);
}

static void
test_fuzz(void)
{
	static const uint8_t values[] = {0x00, 0xff, 0x80};
	static uint8_t good[2048], bad[2048];
	struct dpfix_ipfix_decoder *warm = dpfix_ipfix_decoder_create();
	FILE *devnull = fopen("/dev/null", "w");
	uint32_t len = rich_message(good, sizeof(good));
	uint32_t state = 1;
	char err[256];
	int failures = 0;

	CHECK(warm != NULL && devnull != NULL);
	if (warm == NULL || devnull == NULL)
		return;
	collect_reset(&coll);
	CHECK(decode_exact(warm, good, len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(coll.n, 5);

	/* Every byte set to each value, decoded by a fresh decoder (templates from the
	 * message itself) and by one that keeps learning from every corrupted message,
	 * so records also meet the odd templates an earlier corruption defined. */
	for (uint32_t pos = 0; pos < len; pos++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			struct dpfix_ipfix_decoder *fresh = dpfix_ipfix_decoder_create();
			struct dpfix_ipfix_decoder *ds[2] = {fresh, warm};

			memcpy(bad, good, len);
			bad[pos] = values[v];
			for (int k = 0; k < 2; k++) {
				const struct dpfix_ipfix_decode_stats *st;
				uint64_t malformed;
				int ret;

				if (ds[k] == NULL)
					continue;
				st = dpfix_ipfix_decoder_stats(ds[k]);
				malformed = st->malformed_messages;
				collect_reset(&coll);
				coll.json = devnull;
				ret = decode_exact(ds[k], bad, len, err, sizeof(err));
				if (ret == DPFIX_IPFIX_DECODE_WARNING && err[0] == '\0')
					failures++;
				if (ret != 0 && ret != DPFIX_IPFIX_DECODE_WARNING && (ret != -EBADMSG ||
						err[0] == '\0' || st->malformed_messages != malformed + 1))
					failures++;
				if (coll.inconsistent != 0)
					failures++;
			}
			dpfix_ipfix_decoder_free(fresh);
		}
	}
	CHECK_EQ_U64(failures, 0);

	/* Every prefix, with the header length telling the truth about it. */
	for (uint32_t cut = DPFIX_IPFIX_HEADER_LEN; cut < len; cut++) {
		struct dpfix_ipfix_decoder *fresh = dpfix_ipfix_decoder_create();

		memcpy(bad, good, cut);
		be(bad + 2, cut, 2);
		collect_reset(&coll);
		coll.json = devnull;
		if (fresh != NULL) {
			int ret = decode_exact(fresh, bad, cut, err, sizeof(err));

			if (ret != 0 && ret != -EBADMSG && ret != DPFIX_IPFIX_DECODE_WARNING)
				failures++;
			if (coll.inconsistent != 0)
				failures++;
		}
		dpfix_ipfix_decoder_free(fresh);
	}
	CHECK_EQ_U64(failures, 0);

	/* Random bytes in random places, several at once. */
	for (int i = 0; i < 20000; i++) {
		int ret, changes;

		memcpy(bad, good, len);
		state = state * 1103515245u + 12345u;
		changes = 1 + (int)((state >> 16) % 8);
		for (int c = 0; c < changes; c++) {
			state = state * 1103515245u + 12345u;
			bad[(state >> 8) % len] = (uint8_t)(state >> 24);
		}
		collect_reset(&coll);
		coll.json = devnull;
		ret = decode_exact(warm, bad, len, err, sizeof(err));
		if (ret != 0 && ret != -EBADMSG && ret != DPFIX_IPFIX_DECODE_WARNING)
			failures++;
		if (coll.inconsistent != 0)
			failures++;
	}
	CHECK_EQ_U64(failures, 0);
	coll.json = NULL;
	fclose(devnull);
	dpfix_ipfix_decoder_free(warm);
}

int
main(void)
{
	build_templates();
	RUN_TEST(test_template_withdrawal);
	RUN_TEST(test_sequence);
	RUN_TEST(test_malformed);
	RUN_TEST(test_error_offsets);
	RUN_TEST(test_fuzz);
	return unit_test_summary();
}
