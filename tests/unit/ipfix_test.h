/* What the lib/ipfix writer and reader unit tests share: their test templates and
 * records, a decoder callback that collects what it is given, and messages built by hand
 * for what the writer will not produce. */
#ifndef IPFIX_TEST_H
#define IPFIX_TEST_H

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

static inline void
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

static inline uint8_t *
be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return p + n;
}

/* Variable-length field: one length byte below 255, else 255 and two length bytes. */
static inline uint8_t *
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

static inline void
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

static inline uint32_t
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

static inline void
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

static inline uint32_t
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

static inline void
collect_reset(struct collected *c)
{
	c->n = 0;
	c->dropped = 0;
	c->inconsistent = 0;
	c->json = NULL;
	c->seen_count = 0;
}

static inline const struct dpfix_ipfix_template *
collect_template(const struct collected *c, uint16_t id)
{
	for (uint32_t i = 0; i < c->seen_count; i++)
		if (c->seen[i].id == id)
			return &c->seen[i];
	return NULL;
}

static inline void
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
static inline int
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

static inline int
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

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- hand-built messages, for what the writer will not produce ---- */

struct hand {
	uint8_t b[8192];
	uint32_t len;
	uint32_t set_start;
};

static inline void
h8(struct hand *m, uint8_t v)
{
	m->b[m->len++] = v;
}

static inline void
h16(struct hand *m, uint16_t v)
{
	be(m->b + m->len, v, 2);
	m->len += 2;
}

static inline void
h32(struct hand *m, uint32_t v)
{
	be(m->b + m->len, v, 4);
	m->len += 4;
}

static inline void
hbytes(struct hand *m, const void *p, uint32_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static inline void
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

static inline void
hset(struct hand *m, uint16_t id)
{
	m->set_start = m->len;
	h16(m, id);
	h16(m, 0);
}

static inline void
hset_end(struct hand *m)
{
	be(m->b + m->set_start + 2, m->len - m->set_start, 2);
}

static inline uint32_t
hend(struct hand *m)
{
	be(m->b + 2, m->len, 2);
	return m->len;
}

/* A template record as the writer would put it in a set. */
static inline void
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

#endif
