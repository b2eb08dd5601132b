/* IPFIX message writer. Every addition checks the caller's byte limit first and
 * leaves the message untouched when it does not fit, so no message ever exceeds it. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_schema.h"

void
dpfix_ipfix_template_init(struct dpfix_ipfix_template *t, uint16_t id, uint16_t scope_count)
{
	/* The fields array (4 KiB) is filled as fields are added. */
	memset(t, 0, offsetof(struct dpfix_ipfix_template, fields));
	t->id = id;
	t->scope_count = scope_count;
}

int
dpfix_ipfix_template_add(struct dpfix_ipfix_template *t, uint32_t pen, uint16_t id,
		uint16_t length)
{
	if (t->field_count >= DPFIX_IPFIX_MAX_FIELDS || id > 0x7fff)
		return -ENOSPC;
	t->fields[t->field_count++] = (struct dpfix_ipfix_field_spec){
		.id = id, .length = length, .pen = pen,
	};
	t->min_record_length += length == DPFIX_IPFIX_VARLEN ? 1 : length;
	t->varlen_count += length == DPFIX_IPFIX_VARLEN;
	return 0;
}

void
dpfix_ipfix_msg_begin(struct dpfix_ipfix_msg *m, uint8_t *buf, uint32_t limit)
{
	m->buf = buf;
	m->limit = limit < UINT16_MAX ? limit : UINT16_MAX; /* the header's length field */
	m->len = DPFIX_IPFIX_HEADER_LEN;
	m->set_offset = 0;
	m->set_id = 0;
	m->data_records = 0;
}

static void
close_set(struct dpfix_ipfix_msg *m)
{
	if (m->set_offset != 0)
		dpfix_put16(m->buf + m->set_offset + 2, (uint16_t)(m->len - m->set_offset));
	m->set_offset = 0;
	m->set_id = 0;
}

/* Makes room for need bytes in a set with set_id, opening the set if needed (or
 * always, with new_set). */
static int
reserve(struct dpfix_ipfix_msg *m, uint16_t set_id, uint32_t need, int new_set)
{
	uint32_t extra = m->set_id == set_id && !new_set ? 0 : DPFIX_IPFIX_SET_HEADER_LEN;

	if (m->len + extra + need > m->limit || m->len + extra + need > UINT16_MAX)
		return -ENOSPC;
	if (extra != 0) {
		close_set(m);
		m->set_offset = m->len;
		m->set_id = set_id;
		dpfix_put16(m->buf + m->len, set_id);
		dpfix_put16(m->buf + m->len + 2, 0);
		m->len += DPFIX_IPFIX_SET_HEADER_LEN;
	}
	return 0;
}

int
dpfix_ipfix_msg_add_template(struct dpfix_ipfix_msg *m, const struct dpfix_ipfix_template *t)
{
	uint16_t set_id = t->scope_count ? DPFIX_IPFIX_SET_OPTIONS_TEMPLATE : DPFIX_IPFIX_SET_TEMPLATE;
	uint32_t need = t->scope_count ? 6 : 4;
	uint8_t *p;

	for (uint16_t i = 0; i < t->field_count; i++)
		need += t->fields[i].pen ? 8 : 4;
	/* One Options Template Record per set. RFC 7011 allows several, but nfdump (up
	 * to 1.7.x) reads only the first record of an Options Template Set and pmacct
	 * 1.7.7 (Debian 12) steps past the next record when the first has scope fields
	 * (doc/peer-collectors.md). 4 bytes per options template buys both of them. */
	if (reserve(m, set_id, need, t->scope_count != 0) < 0)
		return -ENOSPC;
	p = m->buf + m->len;
	dpfix_put16(p, t->id);
	dpfix_put16(p + 2, t->field_count);
	p += 4;
	if (t->scope_count) {
		dpfix_put16(p, t->scope_count);
		p += 2;
	}
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];

		dpfix_put16(p, (uint16_t)(f->id | (f->pen ? 0x8000 : 0)));
		dpfix_put16(p + 2, f->length);
		p += 4;
		if (f->pen) {
			dpfix_put32(p, f->pen);
			p += 4;
		}
	}
	m->len += need;
	return 0;
}

int
dpfix_ipfix_msg_add_withdrawal(struct dpfix_ipfix_msg *m, uint16_t set_id, uint16_t template_id)
{
	if (set_id != DPFIX_IPFIX_SET_TEMPLATE && set_id != DPFIX_IPFIX_SET_OPTIONS_TEMPLATE)
		return -EINVAL;
	if (reserve(m, set_id, 4, 0) < 0)
		return -ENOSPC;
	dpfix_put16(m->buf + m->len, template_id);
	dpfix_put16(m->buf + m->len + 2, 0); /* field count 0: withdrawn */
	m->len += 4;
	return 0;
}

int
dpfix_ipfix_msg_add_record(struct dpfix_ipfix_msg *m, uint16_t template_id,
		const uint8_t *record, uint32_t len)
{
	if (template_id < DPFIX_IPFIX_SET_MIN_DATA)
		return -EINVAL;
	if (reserve(m, template_id, len, 0) < 0)
		return -ENOSPC;
	memcpy(m->buf + m->len, record, len);
	m->len += len;
	m->data_records++;
	return 0;
}

/* A record of variable length that may fit where the longest would not: encoded apart,
 * then copied, so messages fill to the last octet. Out of line: its buffer is no cost to
 * the common case. */
static __attribute__((noinline)) int
add_encoded_apart(struct dpfix_ipfix_msg *m, const struct dpfix_ipfix_schema *s, const void *src)
{
	uint8_t rec[DPFIX_IPFIX_ENCODE_APART_MAX];

	if (s->max_length > sizeof(rec))
		return -E2BIG;
	return dpfix_ipfix_msg_add_record(m, s->template_id, rec, dpfix_ipfix_schema_encode(s, src,
			rec));
}

int
dpfix_ipfix_msg_add_encoded(struct dpfix_ipfix_msg *m, const struct dpfix_ipfix_schema *s,
		const void *src)
{
	/* The export lcore's common case first: the record's Data Set is open (so its
	 * template id was found valid when it opened) and has room for the longest record. */
	if (m->set_id == s->template_id && m->len + s->max_length <= m->limit) {
		m->len += dpfix_ipfix_schema_encode(s, src, m->buf + m->len);
		m->data_records++;
		return 0;
	}
	if (s->template_id < DPFIX_IPFIX_SET_MIN_DATA || s->max_length == 0)
		return -EINVAL;
	if (reserve(m, s->template_id, s->max_length, 0) == 0) {
		m->len += dpfix_ipfix_schema_encode(s, src, m->buf + m->len);
		m->data_records++;
		return 0;
	}
	/* No room for the longest record. One of variable length may still fit. */
	if (s->min_length == s->max_length)
		return -ENOSPC;
	return add_encoded_apart(m, s, src);
}

uint32_t
dpfix_ipfix_msg_finish(struct dpfix_ipfix_msg *m, uint32_t export_time, uint32_t sequence,
		uint32_t domain)
{
	close_set(m);
	dpfix_put16(m->buf, DPFIX_IPFIX_VERSION);
	dpfix_put16(m->buf + 2, (uint16_t)m->len);
	dpfix_put32(m->buf + 4, export_time);
	dpfix_put32(m->buf + 8, sequence);
	dpfix_put32(m->buf + 12, domain);
	return m->len;
}
