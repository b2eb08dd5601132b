/* Unit tests for lib/ipfix: templates, the writer's byte limit, decoding round trips,
 * hand-built and corrupted messages for the reader, JSON values and the IE registry. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "unit_test.h"

/* ---- test templates and records ---- */

static struct dpfix_ipfix_template t_v4;   /* 256: IPv4 flows with an interface name */
static struct dpfix_ipfix_template t_v6;   /* 257: IPv6 flows */
static struct dpfix_ipfix_template t_opts; /* 300: options, one scope field */
static struct dpfix_ipfix_template t_opts2; /* 302: options, two scope fields */
static struct dpfix_ipfix_template t_ent;  /* 301: enterprise-specific fields */

static void
build_templates(void)
{
	dpfix_ipfix_template_init(&t_v4, 256, 0);
	dpfix_ipfix_template_add(&t_v4, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_v4, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(&t_v4, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(&t_v4, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(&t_v4, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(&t_v4, 0, IE_tcpControlBits, 1);     /* reduced size */
	dpfix_ipfix_template_add(&t_v4, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(&t_v4, 0, IE_packetDeltaCount, 4);   /* reduced size */
	dpfix_ipfix_template_add(&t_v4, 0, IE_flowStartMilliseconds, 8);
	dpfix_ipfix_template_add(&t_v4, 0, IE_flowEndMilliseconds, 8);
	dpfix_ipfix_template_add(&t_v4, 0, IE_flowEndReason, 1);
	dpfix_ipfix_template_add(&t_v4, 0, 82 /* interfaceName */, DPFIX_IPFIX_VARLEN);

	dpfix_ipfix_template_init(&t_v6, 257, 0);
	dpfix_ipfix_template_add(&t_v6, 0, IE_sourceIPv6Address, 16);
	dpfix_ipfix_template_add(&t_v6, 0, IE_destinationIPv6Address, 16);
	dpfix_ipfix_template_add(&t_v6, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(&t_v6, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(&t_v6, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(&t_v6, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(&t_v6, 0, IE_packetDeltaCount, 8);
	dpfix_ipfix_template_add(&t_v6, 0, IE_vlanId, 2);

	dpfix_ipfix_template_init(&t_opts, 300, 1);
	dpfix_ipfix_template_add(&t_opts, 0, 149 /* observationDomainId */, 4);
	dpfix_ipfix_template_add(&t_opts, 0, 41 /* exportedMessageTotalCount */, 8);
	dpfix_ipfix_template_add(&t_opts, 0, 42 /* exportedFlowRecordTotalCount */, 8);

	dpfix_ipfix_template_init(&t_opts2, 302, 2);
	dpfix_ipfix_template_add(&t_opts2, 0, 149 /* observationDomainId */, 4);
	dpfix_ipfix_template_add(&t_opts2, 0, 144 /* exportingProcessId */, 4);
	dpfix_ipfix_template_add(&t_opts2, 0, 40 /* exportedOctetTotalCount */, 8);

	dpfix_ipfix_template_init(&t_ent, 301, 0);
	dpfix_ipfix_template_add(&t_ent, 29305, 1, 4);
	dpfix_ipfix_template_add(&t_ent, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_ent, 12345, 0x7fff, DPFIX_IPFIX_VARLEN);
	dpfix_ipfix_template_add(&t_ent, UINT32_MAX, 5, 2);
}

struct v4_flow {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;
	uint8_t proto, flags;
	uint64_t octets;
	uint32_t packets;
	uint64_t start_ms, end_ms;
	uint8_t reason;
	uint16_t name_len;
	uint8_t name[400];
};

struct v6_flow {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t octets, packets;
	uint16_t vlan;
};

static uint8_t *
be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return p + n;
}

/* Variable-length field: one length byte below 255, else 255 and two length bytes. */
static uint8_t *
varlen(uint8_t *p, const uint8_t *v, uint16_t n)
{
	if (n < 255) {
		*p++ = (uint8_t)n;
	} else {
		*p++ = 255;
		p = be(p, n, 2);
	}
	memcpy(p, v, n);
	return p + n;
}

static void
make_v4(struct v4_flow *f, uint32_t i, uint16_t name_len)
{
	memset(f, 0, sizeof(*f));
	f->src[0] = 10;
	f->src[3] = (uint8_t)i;
	f->dst[0] = 192;
	f->dst[1] = 168;
	f->dst[2] = (uint8_t)(i >> 8);
	f->dst[3] = 1;
	f->sport = (uint16_t)(40000 + i);
	f->dport = 443;
	f->proto = 6;
	f->flags = 0x1b;
	f->octets = 0x0102030405060708ull + i;
	f->packets = 0xfedcba98u - i;
	f->start_ms = 1700000000000ull + i;
	f->end_ms = 1700000000999ull + i;
	f->reason = (uint8_t)(1 + i % 5);
	f->name_len = name_len;
	for (uint16_t j = 0; j < name_len; j++)
		f->name[j] = (uint8_t)('a' + (i + j) % 26);
}

static uint32_t
encode_v4(const struct v4_flow *f, uint8_t *out)
{
	uint8_t *p = out;

	memcpy(p, f->src, 4);
	memcpy(p + 4, f->dst, 4);
	p = be(p + 8, f->sport, 2);
	p = be(p, f->dport, 2);
	*p++ = f->proto;
	*p++ = f->flags;
	p = be(p, f->octets, 8);
	p = be(p, f->packets, 4);
	p = be(p, f->start_ms, 8);
	p = be(p, f->end_ms, 8);
	*p++ = f->reason;
	p = varlen(p, f->name, f->name_len);
	return (uint32_t)(p - out);
}

static void
make_v6(struct v6_flow *f, uint32_t i)
{
	memset(f, 0, sizeof(*f));
	f->src[0] = 0x20;
	f->src[1] = 0x01;
	f->src[15] = (uint8_t)i;
	f->dst[0] = 0xfe;
	f->dst[1] = 0x80;
	f->dst[15] = (uint8_t)~i;
	f->sport = (uint16_t)i;
	f->dport = 53;
	f->proto = 17;
	f->octets = 1000ull * i;
	f->packets = UINT64_MAX - i;
	f->vlan = (uint16_t)(i % 4096);
}

static uint32_t
encode_v6(const struct v6_flow *f, uint8_t *out)
{
	uint8_t *p = out;

	memcpy(p, f->src, 16);
	memcpy(p + 16, f->dst, 16);
	p = be(p + 32, f->sport, 2);
	p = be(p, f->dport, 2);
	*p++ = f->proto;
	p = be(p, f->octets, 8);
	p = be(p, f->packets, 8);
	p = be(p, f->vlan, 2);
	return (uint32_t)(p - out);
}

/* ---- collecting decoded records ---- */

#define MAX_COLLECT 512
#define MAX_RECORD_COPY 1100
#define MAX_SEEN_TEMPLATES 8

struct rec_copy {
	struct dpfix_ipfix_header h;
	uint16_t tid;
	uint16_t scope_count;
	uint32_t len;
	uint8_t data[MAX_RECORD_COPY];
};

struct collected {
	uint32_t n;
	uint32_t dropped;       /* records beyond MAX_COLLECT or too long to copy */
	uint32_t inconsistent;  /* record_fields disagreed with the length delivered */
	FILE *json;             /* when set, every record is also rendered */
	struct rec_copy rec[MAX_COLLECT];
	uint32_t seen_count;
	struct dpfix_ipfix_template seen[MAX_SEEN_TEMPLATES]; /* the last definition per id */
};

static struct collected coll;

static void
collect_reset(struct collected *c)
{
	c->n = 0;
	c->dropped = 0;
	c->inconsistent = 0;
	c->json = NULL;
	c->seen_count = 0;
}

static const struct dpfix_ipfix_template *
collect_template(const struct collected *c, uint16_t id)
{
	for (uint32_t i = 0; i < c->seen_count; i++)
		if (c->seen[i].id == id)
			return &c->seen[i];
	return NULL;
}

static void
collect_cb(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *record, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	struct collected *c = ctx;
	struct dpfix_ipfix_template *slot = (struct dpfix_ipfix_template *)collect_template(c, t->id);

	/* The record delivered is exactly one record of the template. */
	if (dpfix_ipfix_record_fields(t, record, len, offsets, lengths) != (int)len)
		c->inconsistent++;
	if (c->json != NULL && dpfix_ipfix_record_to_json(t, record, len, c->json) != 0)
		c->inconsistent++;
	if (slot == NULL && c->seen_count < MAX_SEEN_TEMPLATES)
		slot = &c->seen[c->seen_count++];
	if (slot != NULL)
		*slot = *t;
	if (c->n == MAX_COLLECT || len > MAX_RECORD_COPY) {
		c->dropped++;
		return;
	}
	c->rec[c->n].h = *h;
	c->rec[c->n].tid = t->id;
	c->rec[c->n].scope_count = t->scope_count;
	c->rec[c->n].len = len;
	memcpy(c->rec[c->n].data, record, len);
	c->n++;
}

/* Decodes a copy of exactly len bytes, so an overread leaves the allocation. */
static int
decode_exact(struct dpfix_ipfix_decoder *d, const uint8_t *msg, size_t len, char *err,
		size_t errlen)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int ret;

	if (copy == NULL) {
		CHECK(!"out of memory");
		return -ENOMEM;
	}
	memcpy(copy, msg, len);
	err[0] = '\0';
	ret = dpfix_ipfix_decode(d, copy, len, collect_cb, &coll, err, errlen);
	free(copy);
	return ret;
}

static int
same_template(const struct dpfix_ipfix_template *a, const struct dpfix_ipfix_template *b)
{
	if (a == NULL || b == NULL || a->id != b->id || a->field_count != b->field_count ||
			a->scope_count != b->scope_count || a->min_record_length != b->min_record_length)
		return 0;
	for (uint16_t i = 0; i < a->field_count; i++)
		if (a->fields[i].id != b->fields[i].id || a->fields[i].length != b->fields[i].length ||
				a->fields[i].pen != b->fields[i].pen)
			return 0;
	return 1;
}

/* Field by field, through dpfix_ipfix_record_fields, against the values encoded. */
static void
check_v4_record(const struct rec_copy *r, const struct v4_flow *f)
{
	uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	uint16_t len[DPFIX_IPFIX_MAX_FIELDS];
	const uint8_t *d = r->data;

	CHECK_EQ_U64(r->tid, 256);
	CHECK(dpfix_ipfix_record_fields(&t_v4, d, r->len, off, len) == (int)r->len);
	CHECK(len[0] == 4 && memcmp(d + off[0], f->src, 4) == 0);
	CHECK(len[1] == 4 && memcmp(d + off[1], f->dst, 4) == 0);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[2], len[2]), f->sport);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[3], len[3]), f->dport);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[4], len[4]), f->proto);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[5], len[5]), f->flags);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[6], len[6]), f->octets);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[7], len[7]), f->packets);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[8], len[8]), f->start_ms);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[9], len[9]), f->end_ms);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[10], len[10]), f->reason);
	CHECK_EQ_U64(len[11], f->name_len);
	CHECK(memcmp(d + off[11], f->name, f->name_len) == 0);
}

static void
check_v6_record(const struct rec_copy *r, const struct v6_flow *f)
{
	uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	uint16_t len[DPFIX_IPFIX_MAX_FIELDS];
	const uint8_t *d = r->data;

	CHECK_EQ_U64(r->tid, 257);
	CHECK(dpfix_ipfix_record_fields(&t_v6, d, r->len, off, len) == (int)r->len);
	CHECK(len[0] == 16 && memcmp(d + off[0], f->src, 16) == 0);
	CHECK(len[1] == 16 && memcmp(d + off[1], f->dst, 16) == 0);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[2], len[2]), f->sport);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[3], len[3]), f->dport);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[4], len[4]), f->proto);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[5], len[5]), f->octets);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[6], len[6]), f->packets);
	CHECK_EQ_U64(dpfix_ipfix_read_unsigned(d + off[7], len[7]), f->vlan);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- hand-built messages, for what the writer will not produce ---- */

struct hand {
	uint8_t b[8192];
	uint32_t len;
	uint32_t set_start;
};

static void
h8(struct hand *m, uint8_t v)
{
	m->b[m->len++] = v;
}

static void
h16(struct hand *m, uint16_t v)
{
	be(m->b + m->len, v, 2);
	m->len += 2;
}

static void
h32(struct hand *m, uint32_t v)
{
	be(m->b + m->len, v, 4);
	m->len += 4;
}

static void
hbytes(struct hand *m, const void *p, uint32_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void
hbegin(struct hand *m, uint32_t seq, uint32_t domain)
{
	m->len = 0;
	m->set_start = 0;
	h16(m, DPFIX_IPFIX_VERSION);
	h16(m, 0);
	h32(m, 1700000000);
	h32(m, seq);
	h32(m, domain);
}

static void
hset(struct hand *m, uint16_t id)
{
	m->set_start = m->len;
	h16(m, id);
	h16(m, 0);
}

static void
hset_end(struct hand *m)
{
	be(m->b + m->set_start + 2, m->len - m->set_start, 2);
}

static uint32_t
hend(struct hand *m)
{
	be(m->b + 2, m->len, 2);
	return m->len;
}

/* A template record as the writer would put it in a set. */
static void
htemplate(struct hand *m, const struct dpfix_ipfix_template *t)
{
	h16(m, t->id);
	h16(m, t->field_count);
	if (t->scope_count)
		h16(m, t->scope_count);
	for (uint16_t i = 0; i < t->field_count; i++) {
		h16(m, (uint16_t)(t->fields[i].id | (t->fields[i].pen ? 0x8000 : 0)));
		h16(m, t->fields[i].length);
		if (t->fields[i].pen)
			h32(m, t->fields[i].pen);
	}
}

/* ---- templates ---- */

static void
test_template_add(void)
{
	static struct dpfix_ipfix_template t;

	memset(&t, 0, sizeof(t));
	CHECK(dpfix_ipfix_template_add(&t, 0, IE_octetDeltaCount, 8) == 0);
	CHECK(dpfix_ipfix_template_add(&t, 0, 82, DPFIX_IPFIX_VARLEN) == 0);
	CHECK(dpfix_ipfix_template_add(&t, 29305, 0x7fff, 2) == 0);
	CHECK_EQ_U64(t.field_count, 3);
	/* Fixed lengths count in full, each variable-length field as its 1 length byte. */
	CHECK_EQ_U64(t.min_record_length, 8 + 1 + 2);
	CHECK_EQ_U64(t.fields[2].pen, 29305);
	CHECK_EQ_U64(t.fields[2].id, 0x7fff);
	CHECK_EQ_U64(t.fields[1].length, DPFIX_IPFIX_VARLEN);
	/* Ids use 15 bits: the 16th is the enterprise bit on the wire. */
	CHECK(dpfix_ipfix_template_add(&t, 0, 0x8000, 2) == -ENOSPC);
	CHECK_EQ_U64(t.field_count, 3);

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < DPFIX_IPFIX_MAX_FIELDS; i++)
		CHECK(dpfix_ipfix_template_add(&t, 0, 210, 1) == 0);
	CHECK(dpfix_ipfix_template_add(&t, 0, 210, 1) == -ENOSPC);
	CHECK_EQ_U64(t.field_count, DPFIX_IPFIX_MAX_FIELDS);
	CHECK_EQ_U64(t.min_record_length, DPFIX_IPFIX_MAX_FIELDS);
}

/* ---- writer and reader together ---- */

static void
test_round_trip(void)
{
	static const uint16_t name_lens[] = {0, 1, 5, 254, 255, 256, 300, 399, 17, 64};
	static struct v4_flow v4[10];
	static struct v6_flow v6[5];
	static uint8_t buf[65536], rec[1024];
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	const struct dpfix_ipfix_decode_stats *st;
	char err[256];
	uint32_t len, n4 = 0, n6 = 0;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_v4) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_v6) == 0);
	/* v4, v4, v6, v4, v4, v6, ...: sets open and close as the template changes. */
	for (uint32_t i = 0; i < 15; i++) {
		if (i % 3 == 2) {
			make_v6(&v6[n6], i);
			len = encode_v6(&v6[n6++], rec);
			CHECK(dpfix_ipfix_msg_add_record(&m, 257, rec, len) == 0);
		} else {
			make_v4(&v4[n4], i, name_lens[n4]);
			len = encode_v4(&v4[n4++], rec);
			CHECK(dpfix_ipfix_msg_add_record(&m, 256, rec, len) == 0);
		}
	}
	CHECK_EQ_U64(m.data_records, 15);
	len = dpfix_ipfix_msg_finish(&m, 1700000123, 42, 7);
	CHECK_EQ_U64(len, m.len);

	/* The header, and both templates in one Template Set right after it. */
	CHECK_EQ_U64(get16(buf), 10);
	CHECK_EQ_U64(get16(buf + 2), len);
	CHECK_EQ_U64(get32(buf + 4), 1700000123);
	CHECK_EQ_U64(get32(buf + 8), 42);
	CHECK_EQ_U64(get32(buf + 12), 7);
	CHECK_EQ_U64(get16(buf + 16), DPFIX_IPFIX_SET_TEMPLATE);
	CHECK_EQ_U64(get16(buf + 18), 4 + (4 + 12 * 4) + (4 + 8 * 4));
	CHECK_EQ_U64(get16(buf + 20), 256);
	CHECK_EQ_U64(get16(buf + 22), 12);

	collect_reset(&coll);
	CHECK(decode_exact(d, buf, len, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	st = dpfix_ipfix_decoder_stats(d);
	CHECK_EQ_U64(st->messages, 1);
	CHECK_EQ_U64(st->templates, 2);
	CHECK_EQ_U64(st->data_records, 15);
	CHECK_EQ_U64(st->options_records, 0);
	CHECK_EQ_U64(st->malformed_messages, 0);
	CHECK_EQ_U64(st->sets_unknown_template, 0);
	CHECK_EQ_U64(st->sequence_lost, 0);
	CHECK_EQ_U64(coll.n, 15);
	CHECK_EQ_U64(coll.inconsistent, 0);
	CHECK(same_template(collect_template(&coll, 256), &t_v4));
	CHECK(same_template(collect_template(&coll, 257), &t_v6));

	n4 = n6 = 0;
	for (uint32_t i = 0; i < coll.n && i < 15; i++) {
		const struct rec_copy *r = &coll.rec[i];

		CHECK_EQ_U64(r->h.version, 10);
		CHECK_EQ_U64(r->h.length, len);
		CHECK_EQ_U64(r->h.export_time, 1700000123);
		CHECK_EQ_U64(r->h.sequence, 42);
		CHECK_EQ_U64(r->h.domain, 7);
		CHECK_EQ_U64(r->scope_count, 0);
		if (i % 3 == 2) {
			CHECK_EQ_U64(r->len, encode_v6(&v6[n6], rec));
			CHECK(memcmp(r->data, rec, r->len) == 0);
			check_v6_record(r, &v6[n6++]);
		} else {
			CHECK_EQ_U64(r->len, encode_v4(&v4[n4], rec));
			CHECK(memcmp(r->data, rec, r->len) == 0);
			check_v4_record(r, &v4[n4++]);
		}
	}

	/* The next message continues the sequence: no loss. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	len = encode_v4(&v4[0], rec);
	CHECK(dpfix_ipfix_msg_add_record(&m, 256, rec, len) == 0);
	len = dpfix_ipfix_msg_finish(&m, 1700000124, 42 + 15, 7);
	collect_reset(&coll);
	CHECK(decode_exact(d, buf, len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(coll.n, 1);
	CHECK_EQ_U64(st->sequence_lost, 0);
	CHECK_EQ_U64(st->sequence_out_of_order, 0);
	CHECK_EQ_U64(st->data_records, 16);
	dpfix_ipfix_decoder_free(d);
}

/* A snapshot of a message, to prove a refused addition changed nothing. */
struct msg_snapshot {
	struct dpfix_ipfix_msg m;
	uint8_t buf[2048];
};

static void
snapshot(struct msg_snapshot *s, const struct dpfix_ipfix_msg *m, const uint8_t *buf)
{
	s->m = *m;
	memcpy(s->buf, buf, sizeof(s->buf));
}

static int
unchanged(const struct msg_snapshot *s, const struct dpfix_ipfix_msg *m, const uint8_t *buf)
{
	return memcmp(&s->m, m, sizeof(*m)) == 0 && memcmp(s->buf, buf, sizeof(s->buf)) == 0;
}

static void
test_writer_limit(void)
{
	static uint8_t buf[2048], rec[1024];
	static struct msg_snapshot snap;
	struct dpfix_ipfix_msg m;
	char err[256];
	int failures = 0;

	/* Every limit from an empty message up: fill until -ENOSPC each time. */
	for (uint32_t limit = DPFIX_IPFIX_HEADER_LEN; limit <= 1200; limit++) {
		struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
		int have_templates = 1, ret;
		uint32_t i, len, added = 0;

		memset(buf, 0xee, sizeof(buf));
		dpfix_ipfix_msg_begin(&m, buf, limit);
		for (int k = 0; k < 2; k++) {
			snapshot(&snap, &m, buf);
			ret = dpfix_ipfix_msg_add_template(&m, k == 0 ? &t_v4 : &t_v6);
			if (ret != 0) {
				have_templates = 0;
				CHECK(ret == -ENOSPC);
				CHECK(unchanged(&snap, &m, buf));
			}
			CHECK(m.len <= limit);
		}
		for (i = 0;; i++) {
			/* Runs of each template, records of varying size. */
			if ((i / 3) % 2 == 1) {
				struct v6_flow f;

				make_v6(&f, i);
				len = encode_v6(&f, rec);
				snapshot(&snap, &m, buf);
				ret = dpfix_ipfix_msg_add_record(&m, 257, rec, len);
			} else {
				struct v4_flow f;

				make_v4(&f, i, (uint16_t)((i * 37 + limit) % 300));
				len = encode_v4(&f, rec);
				snapshot(&snap, &m, buf);
				ret = dpfix_ipfix_msg_add_record(&m, 256, rec, len);
			}
			if (ret != 0)
				break;
			added++;
			if (m.len > limit)
				failures++;
		}
		CHECK(ret == -ENOSPC);
		if (!unchanged(&snap, &m, buf))
			failures++;
		/* Full: a template does not fit either and changes nothing. */
		snapshot(&snap, &m, buf);
		if (m.len + (m.set_id == DPFIX_IPFIX_SET_TEMPLATE ? 0 : 4) + 4 + 12 * 4 > limit) {
			CHECK(dpfix_ipfix_msg_add_template(&m, &t_v4) == -ENOSPC);
			CHECK(unchanged(&snap, &m, buf));
		}
		len = dpfix_ipfix_msg_finish(&m, 1, 0, 1);
		if (len > limit)
			failures++;
		/* Nothing written past the limit. */
		for (uint32_t j = limit; j < sizeof(buf); j++)
			if (buf[j] != 0xee) {
				failures++;
				break;
			}
		/* Whatever fitted is a well-formed message. */
		collect_reset(&coll);
		if (d != NULL) {
			if (decode_exact(d, buf, len, err, sizeof(err)) != 0) {
				fprintf(stderr, "  limit %u: %s\n", limit, err);
				failures++;
			}
			if (have_templates && coll.n != added)
				failures++;
		}
		dpfix_ipfix_decoder_free(d);
	}
	CHECK_EQ_U64(failures, 0);

	/* Data records need a template id of 256 or more. */
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	snapshot(&snap, &m, buf);
	CHECK(dpfix_ipfix_msg_add_record(&m, 255, rec, 10) == -EINVAL);
	CHECK(dpfix_ipfix_msg_add_record(&m, DPFIX_IPFIX_SET_TEMPLATE, rec, 10) == -EINVAL);
	CHECK(unchanged(&snap, &m, buf));
}

/* A limit above what the 16-bit length field can say still yields at most 65535 bytes. */
static void
test_writer_limit_65535(void)
{
	static struct dpfix_ipfix_template t;
	static uint8_t buf[100000], rec[1000];
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	char err[256];
	uint32_t len, n = 0;

	dpfix_ipfix_template_init(&t, 310, 0);
	dpfix_ipfix_template_add(&t, 0, 210 /* paddingOctets */, sizeof(rec));
	memset(rec, 0x5a, sizeof(rec));
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &t) == 0);
	while (dpfix_ipfix_msg_add_record(&m, 310, rec, sizeof(rec)) == 0)
		n++;
	CHECK(m.len <= UINT16_MAX);
	CHECK(m.len + sizeof(rec) > UINT16_MAX);
	len = dpfix_ipfix_msg_finish(&m, 0, 0, 0);
	CHECK_EQ_U64(get16(buf + 2), len);
	collect_reset(&coll);
	CHECK(d != NULL && decode_exact(d, buf, len, err, sizeof(err)) == 0);
	CHECK_EQ_U64(coll.n, n);
	dpfix_ipfix_decoder_free(d);
}

static void
test_options_template(void)
{
	static uint8_t buf[2048], rec[64];
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	const struct dpfix_ipfix_decode_stats *st;
	struct v4_flow f;
	char err[256];
	uint32_t len, off;
	uint8_t *p;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_v4) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_opts) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_opts2) == 0);
	p = be(rec, 7, 4);
	p = be(p, 123456, 8);
	p = be(p, 987654321, 8);
	CHECK(dpfix_ipfix_msg_add_record(&m, 300, rec, (uint32_t)(p - rec)) == 0);
	p = be(rec, 7, 4);
	p = be(p, 4242, 4);
	p = be(p, 1ull << 40, 8);
	CHECK(dpfix_ipfix_msg_add_record(&m, 302, rec, (uint32_t)(p - rec)) == 0);
	make_v4(&f, 1, 3);
	len = encode_v4(&f, rec);
	CHECK(dpfix_ipfix_msg_add_record(&m, 256, rec, len) == 0);
	len = dpfix_ipfix_msg_finish(&m, 0, 0, 7);

	/* Template Set (2), then one Options Template Set (3) per options template (for
	 * nfdump and pmacct), each record with its scope count after the field count. */
	off = 16;
	CHECK_EQ_U64(get16(buf + off), DPFIX_IPFIX_SET_TEMPLATE);
	off += get16(buf + off + 2);
	CHECK_EQ_U64(get16(buf + off), DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	CHECK_EQ_U64(get16(buf + off + 2), 4 + 6 + 3 * 4);
	CHECK_EQ_U64(get16(buf + off + 4), 300);
	CHECK_EQ_U64(get16(buf + off + 6), 3);
	CHECK_EQ_U64(get16(buf + off + 8), 1);
	CHECK_EQ_U64(get16(buf + off + 10), 149);
	off += get16(buf + off + 2);
	CHECK_EQ_U64(get16(buf + off), DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	CHECK_EQ_U64(get16(buf + off + 2), 4 + 6 + 3 * 4);
	CHECK_EQ_U64(get16(buf + off + 4), 302);
	CHECK_EQ_U64(get16(buf + off + 8), 2);

	collect_reset(&coll);
	CHECK(decode_exact(d, buf, len, err, sizeof(err)) == 0);
	st = dpfix_ipfix_decoder_stats(d);
	CHECK_EQ_U64(st->templates, 3);
	CHECK_EQ_U64(st->options_records, 2);
	CHECK_EQ_U64(st->data_records, 1);
	CHECK_EQ_U64(coll.n, 3);
	CHECK(same_template(collect_template(&coll, 300), &t_opts));
	CHECK(same_template(collect_template(&coll, 302), &t_opts2));
	if (coll.n == 3) {
		uint32_t o[3];
		uint16_t l[3];

		CHECK_EQ_U64(coll.rec[0].tid, 300);
		CHECK_EQ_U64(coll.rec[0].scope_count, 1);
		CHECK(dpfix_ipfix_record_fields(&t_opts, coll.rec[0].data, coll.rec[0].len, o, l) == 20);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(coll.rec[0].data + o[0], l[0]), 7);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(coll.rec[0].data + o[1], l[1]), 123456);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(coll.rec[0].data + o[2], l[2]), 987654321);
		CHECK_EQ_U64(coll.rec[1].tid, 302);
		CHECK_EQ_U64(coll.rec[1].scope_count, 2);
		CHECK(dpfix_ipfix_record_fields(&t_opts2, coll.rec[1].data, coll.rec[1].len, o, l) == 16);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(coll.rec[1].data + o[1], l[1]), 4242);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(coll.rec[1].data + o[2], l[2]), 1ull << 40);
		CHECK_EQ_U64(coll.rec[2].scope_count, 0);
		check_v4_record(&coll.rec[2], &f);
	}
	dpfix_ipfix_decoder_free(d);

	/* Other exporters put several options templates in one set (RFC 7011 3.4.2.2
	 * allows it): the reader takes them all. */
	{
		struct dpfix_ipfix_decoder *d2 = dpfix_ipfix_decoder_create();
		struct hand h;

		CHECK(d2 != NULL);
		if (d2 == NULL)
			return;
		hbegin(&h, 0, 7);
		hset(&h, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
		htemplate(&h, &t_opts2);
		htemplate(&h, &t_opts);
		hset_end(&h);
		hset(&h, 300);
		p = be(rec, 7, 4);
		p = be(p, 123456, 8);
		p = be(p, 987654321, 8);
		hbytes(&h, rec, (uint32_t)(p - rec));
		hset_end(&h);
		hset(&h, 302);
		p = be(rec, 7, 4);
		p = be(p, 4242, 4);
		p = be(p, 1ull << 40, 8);
		hbytes(&h, rec, (uint32_t)(p - rec));
		hset_end(&h);
		hend(&h);
		collect_reset(&coll);
		CHECK(decode_exact(d2, h.b, h.len, err, sizeof(err)) == 0);
		CHECK_EQ_U64(dpfix_ipfix_decoder_stats(d2)->templates, 2);
		CHECK_EQ_U64(dpfix_ipfix_decoder_stats(d2)->options_records, 2);
		CHECK(same_template(collect_template(&coll, 300), &t_opts));
		CHECK(same_template(collect_template(&coll, 302), &t_opts2));
		dpfix_ipfix_decoder_free(d2);
	}
}

static void
test_enterprise_fields(void)
{
	static uint8_t buf[2048], rec[64];
	struct dpfix_ipfix_msg m;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	char err[256], *json = NULL;
	size_t json_size = 0;
	uint32_t len, rec_len;
	uint8_t *p;
	const uint8_t *q;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	p = be(rec, 0x0a0b0c0d, 4);
	p = be(p, 0xc0000201, 4);
	p = varlen(p, (const uint8_t *)"hi", 2);
	p = be(p, 0xbeef, 2);
	rec_len = (uint32_t)(p - rec);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &t_ent) == 0);
	CHECK(dpfix_ipfix_msg_add_record(&m, 301, rec, rec_len) == 0);
	len = dpfix_ipfix_msg_finish(&m, 0, 0, 1);

	/* On the wire: the enterprise bit on the id, the PEN after the length. */
	q = buf + 16 + 4;
	CHECK_EQ_U64(get16(q), 301);
	CHECK_EQ_U64(get16(q + 2), 4);
	CHECK_EQ_U64(get16(q + 4), 0x8001);
	CHECK_EQ_U64(get16(q + 6), 4);
	CHECK_EQ_U64(get32(q + 8), 29305);
	CHECK_EQ_U64(get16(q + 12), IE_sourceIPv4Address);
	CHECK_EQ_U64(get16(q + 14), 4);
	CHECK_EQ_U64(get16(q + 16), 0xffff);
	CHECK_EQ_U64(get16(q + 18), DPFIX_IPFIX_VARLEN);
	CHECK_EQ_U64(get32(q + 20), 12345);
	CHECK_EQ_U64(get16(q + 24), 0x8005);
	CHECK_EQ_U64(get16(q + 26), 2);
	CHECK_EQ_U64(get32(q + 28), UINT32_MAX);

	collect_reset(&coll);
	coll.json = open_memstream(&json, &json_size);
	CHECK(decode_exact(d, buf, len, err, sizeof(err)) == 0);
	if (coll.json != NULL)
		fclose(coll.json);
	coll.json = NULL;
	CHECK_EQ_U64(coll.n, 1);
	CHECK(same_template(collect_template(&coll, 301), &t_ent));
	CHECK(coll.n == 1 && coll.rec[0].len == rec_len && memcmp(coll.rec[0].data, rec, rec_len) == 0);
	/* (29305, 1) is reverseOctetDeltaCount (RFC 5103), here in 4 octets; unknown
	 * enterprise elements are named pen:id and shown as hex. */
	CHECK(json != NULL && strcmp(json, "{\"reverseOctetDeltaCount\":168496141,"
			"\"sourceIPv4Address\":\"192.0.2.1\",\"12345:32767\":\"6869\","
			"\"4294967295:5\":\"beef\"}\n") == 0);
	if (json != NULL && strstr(json, "reverseOctetDeltaCount") == NULL)
		fprintf(stderr, "  json: %s", json);
	free(json);
	dpfix_ipfix_decoder_free(d);
}

/* Variable-length fields in both length forms, and zero-length values. */
static void
test_varlen_decoding(void)
{
	static struct hand m;
	static uint8_t long_value[300];
	static struct dpfix_ipfix_template t;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	char err[256], *json = NULL;
	size_t json_size = 0;
	uint32_t off[3];
	uint16_t len[3];

	CHECK(d != NULL);
	if (d == NULL)
		return;
	memset(long_value, 'L', sizeof(long_value));
	dpfix_ipfix_template_init(&t, 400, 0);
	dpfix_ipfix_template_add(&t, 0, 82 /* interfaceName */, DPFIX_IPFIX_VARLEN);
	dpfix_ipfix_template_add(&t, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(&t, 0, 83 /* interfaceDescription */, DPFIX_IPFIX_VARLEN);

	hbegin(&m, 0, 1);
	hset(&m, DPFIX_IPFIX_SET_TEMPLATE);
	htemplate(&m, &t);
	hset_end(&m);
	hset(&m, 400);
	/* 1: one-byte lengths 5 and 0. */
	h8(&m, 5);
	hbytes(&m, "eth0x", 5);
	h16(&m, 0x1234);
	h8(&m, 0);
	/* 2: three-byte length 300, then a short value in the three-byte form too. */
	h8(&m, 255);
	h16(&m, 300);
	hbytes(&m, long_value, 300);
	h16(&m, 1);
	h8(&m, 255);
	h16(&m, 3);
	hbytes(&m, "abc", 3);
	/* 3: the longest one-byte form, 254. */
	h8(&m, 0);
	h16(&m, 2);
	h8(&m, 254);
	hbytes(&m, long_value, 254);
	/* Padding shorter than the 4-byte minimum record. */
	h8(&m, 0);
	h8(&m, 0);
	h8(&m, 0);
	hset_end(&m);
	hend(&m);

	collect_reset(&coll);
	coll.json = open_memstream(&json, &json_size);
	CHECK(decode_exact(d, m.b, m.len, err, sizeof(err)) == 0);
	if (coll.json != NULL)
		fclose(coll.json);
	coll.json = NULL;
	if (err[0] != '\0')
		fprintf(stderr, "  %s\n", err);
	CHECK_EQ_U64(coll.n, 3);
	CHECK_EQ_U64(coll.inconsistent, 0);
	if (coll.n == 3) {
		CHECK_EQ_U64(coll.rec[0].len, 1 + 5 + 2 + 1);
		CHECK(dpfix_ipfix_record_fields(&t, coll.rec[0].data, coll.rec[0].len, off, len) == 9);
		CHECK(off[0] == 1 && len[0] == 5 && memcmp(coll.rec[0].data + 1, "eth0x", 5) == 0);
		CHECK(off[1] == 6 && len[1] == 2);
		CHECK(off[2] == 9 && len[2] == 0);

		CHECK_EQ_U64(coll.rec[1].len, 3 + 300 + 2 + 3 + 3);
		CHECK(dpfix_ipfix_record_fields(&t, coll.rec[1].data, coll.rec[1].len, off, len) == 311);
		CHECK(off[0] == 3 && len[0] == 300);
		CHECK(memcmp(coll.rec[1].data + 3, long_value, 300) == 0);
		CHECK(off[1] == 303 && len[1] == 2);
		CHECK(off[2] == 308 && len[2] == 3 && memcmp(coll.rec[1].data + 308, "abc", 3) == 0);

		CHECK_EQ_U64(coll.rec[2].len, 1 + 2 + 1 + 254);
		CHECK(dpfix_ipfix_record_fields(&t, coll.rec[2].data, coll.rec[2].len, off, len) == 258);
		CHECK(off[0] == 1 && len[0] == 0);
		CHECK(off[2] == 4 && len[2] == 254);
	}
	{
		const char *want = "{\"interfaceName\":\"eth0x\",\"sourceTransportPort\":4660,"
				"\"interfaceDescription\":\"\"}\n{\"interfaceName\":\"LLL";

		CHECK(json != NULL && strncmp(json, want, strlen(want)) == 0);
	}
	free(json);

	/* record_fields alone: each length form cut at every length. */
	{
		static const uint8_t r1[] = {255, 0x01, 0x00};
		static const uint8_t r2[] = {3, 'a', 'b'};

		CHECK(dpfix_ipfix_record_fields(&t, r1, 0, NULL, NULL) == -EBADMSG);
		CHECK(dpfix_ipfix_record_fields(&t, r1, 1, NULL, NULL) == -EBADMSG);
		CHECK(dpfix_ipfix_record_fields(&t, r1, 2, NULL, NULL) == -EBADMSG);
		CHECK(dpfix_ipfix_record_fields(&t, r1, 3, NULL, NULL) == -EBADMSG);
		CHECK(dpfix_ipfix_record_fields(&t, r2, 3, NULL, NULL) == -EBADMSG);
	}
	dpfix_ipfix_decoder_free(d);
}

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
	RUN_TEST(test_template_add);
	RUN_TEST(test_round_trip);
	RUN_TEST(test_writer_limit);
	RUN_TEST(test_writer_limit_65535);
	RUN_TEST(test_options_template);
	RUN_TEST(test_enterprise_fields);
	RUN_TEST(test_varlen_decoding);
	RUN_TEST(test_template_withdrawal);
	RUN_TEST(test_sequence);
	RUN_TEST(test_malformed);
	RUN_TEST(test_error_offsets);
	RUN_TEST(test_fuzz);
	RUN_TEST(test_format_numbers);
	RUN_TEST(test_format_addresses_strings);
	RUN_TEST(test_format_times);
	RUN_TEST(test_format_ntp_rounding);
	RUN_TEST(test_ie_registry);
	RUN_TEST(test_record_to_json);
	RUN_TEST(test_record_long_values);
	return unit_test_summary();
}
