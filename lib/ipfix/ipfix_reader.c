/* Bounds-checked IPFIX message decoding with a per-session template store and
 * sequence-number accounting per observation domain (RFC 7011 sections 3, 8, 10). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"

#define MAX_TEMPLATES 4096
#define MAX_DOMAINS 1024

struct stored_template {
	uint32_t domain;
	struct dpfix_ipfix_template t;
};

struct domain_sequence {
	uint32_t domain;
	uint32_t expected;
};

struct dpfix_ipfix_decoder {
	struct stored_template *templates[MAX_TEMPLATES];
	uint32_t template_count;
	struct domain_sequence domains[MAX_DOMAINS];
	uint32_t domain_count;
	struct dpfix_ipfix_decode_stats stats;
	struct dpfix_ipfix_template scratch; /* template being read: too large for the stack */
	dpfix_ipfix_template_cb template_cb;
	void *template_ctx;
};

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct dpfix_ipfix_decoder *
dpfix_ipfix_decoder_create(void)
{
	return calloc(1, sizeof(struct dpfix_ipfix_decoder));
}

void
dpfix_ipfix_decoder_free(struct dpfix_ipfix_decoder *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; i < d->template_count; i++)
		free(d->templates[i]);
	free(d);
}

const struct dpfix_ipfix_decode_stats *
dpfix_ipfix_decoder_stats(const struct dpfix_ipfix_decoder *d)
{
	return &d->stats;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

int
dpfix_ipfix_read_header(const uint8_t *buf, size_t len, struct dpfix_ipfix_header *h)
{
	if (len < DPFIX_IPFIX_HEADER_LEN)
		return -EBADMSG;
	h->version = get16(buf);
	h->length = get16(buf + 2);
	h->export_time = get32(buf + 4);
	h->sequence = get32(buf + 8);
	h->domain = get32(buf + 12);
	if (h->version != DPFIX_IPFIX_VERSION)
		return -EBADMSG;
	return 0;
}

static struct stored_template **
find_template(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t id)
{
	for (uint32_t i = 0; i < d->template_count; i++)
		if (d->templates[i]->domain == domain && d->templates[i]->t.id == id)
			return &d->templates[i];
	return NULL;
}

void
dpfix_ipfix_decoder_set_template_cb(struct dpfix_ipfix_decoder *d, dpfix_ipfix_template_cb cb,
		void *ctx)
{
	d->template_cb = cb;
	d->template_ctx = ctx;
}

void
dpfix_ipfix_decoder_foreach_template(const struct dpfix_ipfix_decoder *d,
		dpfix_ipfix_template_cb cb, void *ctx)
{
	for (uint32_t i = 0; i < d->template_count; i++)
		cb(ctx, d->templates[i]->domain, d->templates[i]->t.id, &d->templates[i]->t);
}

static void
withdraw_template(struct dpfix_ipfix_decoder *d, struct stored_template **slot)
{
	if (d->template_cb != NULL)
		d->template_cb(d->template_ctx, (*slot)->domain, (*slot)->t.id, NULL);
	free(*slot);
	*slot = d->templates[--d->template_count];
	d->stats.templates_withdrawn++;
}

static void
withdraw_all(struct dpfix_ipfix_decoder *d, uint32_t domain, int options)
{
	for (uint32_t i = 0; i < d->template_count;) {
		struct stored_template *s = d->templates[i];

		if (s->domain == domain && (s->t.scope_count != 0) == options)
			withdraw_template(d, &d->templates[i]);
		else
			i++;
	}
}

/* Stores (or redefines) a template; the new definition replaces the old. */
static int
store_template(struct dpfix_ipfix_decoder *d, uint32_t domain, const struct dpfix_ipfix_template *t)
{
	struct stored_template **slot = find_template(d, domain, t->id);
	struct stored_template *s;

	if (slot == NULL) {
		if (d->template_count == MAX_TEMPLATES)
			return -ENOSPC;
		s = malloc(sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		d->templates[d->template_count++] = s;
	} else {
		s = *slot;
	}
	s->domain = domain;
	s->t = *t;
	d->stats.templates++;
	if (d->template_cb != NULL)
		d->template_cb(d->template_ctx, domain, t->id, &s->t);
	return 0;
}

static int
decode_template_set(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id,
		const uint8_t *p, uint32_t len, uint32_t set_offset, char *err, size_t errlen)
{
	uint32_t off = 0;
	int options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
	struct dpfix_ipfix_template *t = &d->scratch;

	/* Fewer than 4 remaining bytes can only be padding. */
	while (len - off >= 4) {
		uint32_t rec_off = set_offset + DPFIX_IPFIX_SET_HEADER_LEN + off;
		uint16_t id = get16(p + off), count = get16(p + off + 2), scope = 0;

		off += 4;
		if (id < DPFIX_IPFIX_SET_MIN_DATA && !(id == set_id && count == 0)) {
			if (id == 0 && count == 0)
				break; /* padding of zeros */
			return fail(err, errlen, "template set at offset %u: template id %u is below 256",
					rec_off, id);
		}
		if (count == 0) {
			struct stored_template **slot;

			if (id == set_id) {
				withdraw_all(d, domain, options);
				continue;
			}
			slot = find_template(d, domain, id);
			if (slot != NULL)
				withdraw_template(d, slot);
			continue;
		}
		if (options) {
			if (len - off < 2)
				return fail(err, errlen, "options template %u at offset %u: scope count cut short",
						id, rec_off);
			scope = get16(p + off);
			off += 2;
			if (scope == 0 || scope > count)
				return fail(err, errlen, "options template %u at offset %u: scope count %u "
						"not in 1..%u", id, rec_off, scope, count);
		}
		if (count > DPFIX_IPFIX_MAX_FIELDS)
			return fail(err, errlen, "template %u at offset %u: %u fields, more than %u supported",
					id, rec_off, count, DPFIX_IPFIX_MAX_FIELDS);
		memset(t, 0, sizeof(*t));
		t->id = id;
		t->scope_count = scope;
		for (uint16_t i = 0; i < count; i++) {
			uint16_t raw_id, flen;
			uint32_t pen = 0;

			if (len - off < 4)
				return fail(err, errlen, "template %u at offset %u: field %u cut short", id,
						rec_off, i);
			raw_id = get16(p + off);
			flen = get16(p + off + 2);
			off += 4;
			if (raw_id & 0x8000) {
				if (len - off < 4)
					return fail(err, errlen, "template %u at offset %u: enterprise number of "
							"field %u cut short", id, rec_off, i);
				pen = get32(p + off);
				off += 4;
			}
			if (flen == 0)
				return fail(err, errlen, "template %u at offset %u: field %u has length 0",
						id, rec_off, i);
			dpfix_ipfix_template_add(t, pen, raw_id & 0x7fff, flen);
		}
		if (store_template(d, domain, t) < 0)
			return fail(err, errlen, "template %u: more than %u templates in this session", id,
					MAX_TEMPLATES);
	}
	return 0;
}

int
dpfix_ipfix_record_fields(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, uint32_t *offsets, uint16_t *lengths)
{
	uint32_t off = 0;

	for (uint16_t i = 0; i < t->field_count; i++) {
		uint32_t flen = t->fields[i].length;

		if (flen == DPFIX_IPFIX_VARLEN) {
			/* RFC 7011 7: one length byte, or 255 then two length bytes. */
			if (off + 1 > len)
				return -EBADMSG;
			flen = record[off++];
			if (flen == 255) {
				if (off + 2 > len)
					return -EBADMSG;
				flen = get16(record + off);
				off += 2;
			}
		}
		if (off + flen > len)
			return -EBADMSG;
		if (offsets != NULL) {
			offsets[i] = off;
			lengths[i] = (uint16_t)flen;
		}
		off += flen;
	}
	return (int)off;
}

static int
decode_data_set(struct dpfix_ipfix_decoder *d, const struct dpfix_ipfix_header *h, uint16_t set_id,
		const uint8_t *p, uint32_t len, uint32_t set_offset, uint32_t *records,
		dpfix_ipfix_record_cb cb, void *ctx, char *err, size_t errlen)
{
	struct stored_template **slot = find_template(d, h->domain, set_id);
	const struct dpfix_ipfix_template *t;
	uint32_t off = 0;

	if (slot == NULL) {
		d->stats.sets_unknown_template++;
		return 0;
	}
	t = &(*slot)->t;
	/* Anything shorter than the smallest record is padding (RFC 7011 3.3.1). */
	while (len - off >= t->min_record_length) {
		int n = dpfix_ipfix_record_fields(t, p + off, len - off, NULL, NULL);

		if (n < 0)
			return fail(err, errlen, "data set %u at offset %u: record at offset %u overruns "
					"the set", set_id, set_offset, set_offset + DPFIX_IPFIX_SET_HEADER_LEN + off);
		if (cb != NULL)
			cb(ctx, h, t, p + off, (uint32_t)n);
		if (t->scope_count)
			d->stats.options_records++;
		else
			d->stats.data_records++;
		(*records)++;
		off += (uint32_t)n;
	}
	return 0;
}

static struct domain_sequence *
domain_state(struct dpfix_ipfix_decoder *d, uint32_t domain, int *is_new)
{
	*is_new = 0;
	for (uint32_t i = 0; i < d->domain_count; i++)
		if (d->domains[i].domain == domain)
			return &d->domains[i];
	if (d->domain_count == MAX_DOMAINS)
		return NULL;
	*is_new = 1;
	d->domains[d->domain_count].domain = domain;
	return &d->domains[d->domain_count++];
}

int
dpfix_ipfix_decode(struct dpfix_ipfix_decoder *d, const uint8_t *buf, size_t len,
		dpfix_ipfix_record_cb cb, void *ctx, char *err, size_t errlen)
{
	struct dpfix_ipfix_header h;
	struct domain_sequence *seq;
	uint32_t off = DPFIX_IPFIX_HEADER_LEN, records = 0;
	int is_new, ret = 0;

	if (len < DPFIX_IPFIX_HEADER_LEN) {
		d->stats.malformed_messages++;
		return fail(err, errlen, "message of %zu bytes is shorter than the 16-byte header", len);
	}
	dpfix_ipfix_read_header(buf, len, &h);
	if (h.version != DPFIX_IPFIX_VERSION) {
		d->stats.malformed_messages++;
		return fail(err, errlen, "version %u is not IPFIX (10)", h.version);
	}
	if (h.length < DPFIX_IPFIX_HEADER_LEN || h.length > len) {
		d->stats.malformed_messages++;
		return fail(err, errlen, "header length %u does not match the %zu bytes received",
				h.length, len);
	}
	while (ret == 0 && h.length - off > 0) {
		uint16_t set_id, set_len;

		if (h.length - off < DPFIX_IPFIX_SET_HEADER_LEN) {
			ret = fail(err, errlen, "set header at offset %u cut short", off);
			break;
		}
		set_id = get16(buf + off);
		set_len = get16(buf + off + 2);
		if (set_len < DPFIX_IPFIX_SET_HEADER_LEN || set_len > h.length - off) {
			ret = fail(err, errlen, "set %u at offset %u: length %u outside 4..%u", set_id,
					off, set_len, h.length - off);
			break;
		}
		if (set_id == DPFIX_IPFIX_SET_TEMPLATE || set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE)
			ret = decode_template_set(d, h.domain, set_id, buf + off + 4, set_len - 4u, off,
					err, errlen);
		else if (set_id >= DPFIX_IPFIX_SET_MIN_DATA)
			ret = decode_data_set(d, &h, set_id, buf + off + 4, set_len - 4u, off, &records,
					cb, ctx, err, errlen);
		else
			ret = fail(err, errlen, "set id %u at offset %u is reserved", set_id, off);
		off += set_len;
	}
	if (ret != 0) {
		d->stats.malformed_messages++;
		return ret;
	}
	d->stats.messages++;

	/* The sequence number counts data records sent before this message. */
	seq = domain_state(d, h.domain, &is_new);
	if (seq != NULL) {
		if (!is_new && h.sequence != seq->expected) {
			uint32_t gap = h.sequence - seq->expected;

			if (gap < 0x80000000u)
				d->stats.sequence_lost += gap;
			else
				d->stats.sequence_out_of_order++;
		}
		if (is_new || h.sequence - seq->expected < 0x80000000u)
			seq->expected = h.sequence + records;
	}
	return 0;
}
