/* Bounds-checked IPFIX message decoding (RFC 7011 sections 3, 8, 10) for the collecting
 * side: sets and records, and sequence-number accounting per observation domain; the
 * templates are kept by ipfix_templates.c. Every length read from the wire is checked against the bytes
 * that remain before it is used; nothing is read past the message. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"
#include "ipfix_decoder.h"

#define MAX_DOMAINS 1024
/* A message further behind than this, or this many late messages in a row, means the
 * exporter started counting again (restart), not reordering. */
#define REORDER_WINDOW (1u << 20)
#define RESYNC_AFTER_LATE 16
#define MAX_RECORD_LEN (UINT16_MAX - DPFIX_IPFIX_HEADER_LEN - DPFIX_IPFIX_SET_HEADER_LEN)

const char *
dpfix_ipfix_transport_name(enum dpfix_ipfix_transport tr)
{
	switch (tr) {
	case DPFIX_IPFIX_TRANSPORT_UDP: return "udp";
	case DPFIX_IPFIX_TRANSPORT_TCP: return "tcp";
	case DPFIX_IPFIX_TRANSPORT_SCTP: return "sctp";
	case DPFIX_IPFIX_TRANSPORT_FILE: return "file";
	}
	return "?";
}

enum dpfix_ipfix_transport
dpfix_ipfix_transport_of_protocol(uint8_t ip_protocol)
{
	switch (ip_protocol) {
	case IPPROTO_UDP: return DPFIX_IPFIX_TRANSPORT_UDP;
	case IPPROTO_TCP: return DPFIX_IPFIX_TRANSPORT_TCP;
	case IPPROTO_SCTP: return DPFIX_IPFIX_TRANSPORT_SCTP;
	}
	return DPFIX_IPFIX_TRANSPORT_FILE;
}

struct dpfix_ipfix_decoder *
dpfix_ipfix_decoder_create_params(const struct dpfix_ipfix_decoder_params *p)
{
	struct dpfix_ipfix_decoder *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->params = *p;
	return d;
}

struct dpfix_ipfix_decoder *
dpfix_ipfix_decoder_create(void)
{
	static const struct dpfix_ipfix_decoder_params file = {
		.transport = DPFIX_IPFIX_TRANSPORT_FILE,
	};

	return dpfix_ipfix_decoder_create_params(&file);
}

void
dpfix_ipfix_decoder_free(struct dpfix_ipfix_decoder *d)
{
	if (d == NULL)
		return;
	templates_free_all(d);
	free(d->domains);
	free(d);
}

const struct dpfix_ipfix_decode_stats *
dpfix_ipfix_decoder_stats(const struct dpfix_ipfix_decoder *d)
{
	return &d->stats;
}

int
dpfix_ipfix_decoder_sequence(const struct dpfix_ipfix_decoder *d, uint32_t i, uint32_t *domain,
		uint32_t *first, uint32_t *expected)
{
	if (i >= d->domain_count)
		return -ENOENT;
	*domain = d->domains[i].domain;
	*first = d->domains[i].first;
	*expected = d->domains[i].expected;
	return 0;
}

void
dpfix_ipfix_decode_stats_add(struct dpfix_ipfix_decode_stats *sum,
		const struct dpfix_ipfix_decode_stats *s)
{
#define ADD(name, text) sum->name += s->name;
	DPFIX_IPFIX_DECODE_COUNTERS(ADD)
#undef ADD
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++)
		sum->malformed[r] += s->malformed[r];
}

/* Appends "NAME VALUE" to names, after ", " when it holds something already. */
static void
name_loss(char *names, size_t len, const char *name, uint64_t value, uint64_t recovered)
{
	size_t used = strlen(names);

	if (used >= len)
		return;
	snprintf(names + used, len - used, "%s%s %" PRIu64, used ? ", " : "", name, value);
	used = strlen(names);
	if (recovered != 0 && used < len)
		snprintf(names + used, len - used, " (%" PRIu64 " recovered)", recovered);
}

int
dpfix_ipfix_decode_loss(const struct dpfix_ipfix_decode_stats *s, char *names, size_t len)
{
	int any = 0;

	if (s->sequence_lost > s->sequence_recovered) {
		name_loss(names, len, "sequence_lost", s->sequence_lost, s->sequence_recovered);
		any = 1;
	}
	if (s->sets_unknown_template != 0) {
		name_loss(names, len, "sets_unknown_template", s->sets_unknown_template, 0);
		any = 1;
	}
	if (s->sets_refused_template != 0) {
		name_loss(names, len, "sets_refused_template", s->sets_refused_template, 0);
		any = 1;
	}
	return any;
}

static const char *const malformed_names[] = {
#define NAME(name, text) #name,
	DPFIX_IPFIX_MALFORMED_REASONS(NAME)
#undef NAME
};

static const char *const malformed_texts[] = {
#define TEXT(name, text) text,
	DPFIX_IPFIX_MALFORMED_REASONS(TEXT)
#undef TEXT
};

const char *
dpfix_ipfix_malformed_name(enum dpfix_ipfix_malformed r)
{
	return (unsigned int)r < DPFIX_IPFIX_MALFORMED_COUNT ? malformed_names[r] : "?";
}

const char *
dpfix_ipfix_malformed_text(enum dpfix_ipfix_malformed r)
{
	return (unsigned int)r < DPFIX_IPFIX_MALFORMED_COUNT ? malformed_texts[r] : "?";
}

void
dpfix_ipfix_decoder_set_time(struct dpfix_ipfix_decoder *d, uint64_t now_s)
{
	d->now_s = now_s;
	d->clock_set = 1;
}

/* A malformed message: counted under its reason, described in err. */
static int
fail(struct dpfix_ipfix_decoder *d, enum dpfix_ipfix_malformed reason, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;

	d->stats.malformed[reason]++;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

void
decoder_warn(struct dpfix_ipfix_decoder *d, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (d->warned || err == NULL || errlen == 0)
		return;
	d->warned = 1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
dpfix_ipfix_read_header(const uint8_t *buf, size_t len, struct dpfix_ipfix_header *h)
{
	if (len < DPFIX_IPFIX_HEADER_LEN)
		return -EBADMSG;
	h->version = dpfix_get16(buf);
	h->length = dpfix_get16(buf + 2);
	h->export_time = dpfix_get32(buf + 4);
	h->sequence = dpfix_get32(buf + 8);
	h->domain = dpfix_get32(buf + 12);
	if (h->version != DPFIX_IPFIX_VERSION)
		return -EBADMSG;
	return 0;
}

static int
decode_template_set(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id,
		const uint8_t *p, uint32_t len, uint32_t set_offset, char *err, size_t errlen)
{
	uint32_t off = 0;
	int options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
	struct dpfix_ipfix_template *t = &d->scratch;

	d->view_of = NULL; /* the scratch no longer spells out a stored template */

	/* Fewer than 4 remaining bytes can only be padding (RFC 7011 3.3.1). */
	while (len - off >= 4) {
		uint32_t rec_off = set_offset + DPFIX_IPFIX_SET_HEADER_LEN + off;
		uint16_t id = dpfix_get16(p + off), count = dpfix_get16(p + off + 2), scope = 0;
		uint32_t min_len = 0;
		int ret;

		off += 4;
		if (id == 0 && count == 0)
			break; /* padding of zeros */
		if (count == 0 && (id == set_id || id >= DPFIX_IPFIX_SET_MIN_DATA)) {
			templates_withdraw(d, domain, set_id, id, rec_off, err, errlen);
			continue;
		}
		if (id < DPFIX_IPFIX_SET_MIN_DATA)
			return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_ID, err, errlen,
					"template set %u at offset %u: template id %u is below 256", set_id,
					rec_off, id);
		if (options) {
			if (len - off < 2)
				return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_SHORT, err, errlen,
						"options template %u at offset %u: scope count cut short", id,
						rec_off);
			scope = dpfix_get16(p + off);
			off += 2;
			if (scope == 0 || scope > count)
				return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_FIELDS, err, errlen,
						"options template %u at offset %u: scope count %u not in 1..%u",
						id, rec_off, scope, count);
		}
		if (count > DPFIX_IPFIX_MAX_FIELDS)
			return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_FIELDS, err, errlen,
					"template %u at offset %u: %u fields, more than %u supported", id,
					rec_off, count, DPFIX_IPFIX_MAX_FIELDS);
		dpfix_ipfix_template_init(t, id, scope);
		for (uint16_t i = 0; i < count; i++) {
			uint16_t raw_id, flen;
			uint32_t pen = 0;

			if (len - off < 4)
				return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_SHORT, err, errlen,
						"template %u at offset %u: field %u cut short", id, rec_off, i);
			raw_id = dpfix_get16(p + off);
			flen = dpfix_get16(p + off + 2);
			off += 4;
			if (raw_id & 0x8000) {
				if (len - off < 4)
					return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_SHORT, err, errlen,
							"template %u at offset %u: enterprise number of field %u "
							"cut short", id, rec_off, i);
				pen = dpfix_get32(p + off);
				off += 4;
			}
			if (flen == 0)
				return fail(d, DPFIX_IPFIX_MALFORMED_FIELD_LENGTH, err, errlen,
						"template %u at offset %u: field %u has length 0", id, rec_off, i);
			/* Records longer than a message cannot be in any data set. */
			min_len += flen == DPFIX_IPFIX_VARLEN ? 1 : flen;
			if (min_len > MAX_RECORD_LEN)
				return fail(d, DPFIX_IPFIX_MALFORMED_FIELD_LENGTH, err, errlen,
						"template %u at offset %u: field %u makes records of at least %u "
						"bytes, more than a message holds", id, rec_off, i, min_len);
			dpfix_ipfix_template_add(t, pen, raw_id & 0x7fff, flen);
		}
		ret = templates_store(d, domain, t, rec_off, err, errlen);
		if (ret < 0 && ret != -EDQUOT)
			return fail(d, DPFIX_IPFIX_MALFORMED_TEMPLATE_LIMIT, err, errlen,
					"template %u at offset %u: %s %u templates in this session", id,
					rec_off, ret == -ENOSPC ? "more than" : "out of memory at",
					ret == -ENOSPC ? MAX_TEMPLATES : d->template_count);
	}
	return 0;
}

int
dpfix_ipfix_record_fields(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, uint32_t *offsets, uint16_t *lengths)
{
	uint32_t off = 0;

	if (t->varlen_count == 0) {
		/* Fixed layout: one bounds check for the whole record. */
		if (t->min_record_length > len)
			return -EBADMSG;
		if (offsets != NULL) {
			for (uint16_t i = 0; i < t->field_count; i++) {
				offsets[i] = off;
				lengths[i] = t->fields[i].length;
				off += t->fields[i].length;
			}
		}
		return t->min_record_length;
	}
	for (uint16_t i = 0; i < t->field_count; i++) {
		uint32_t flen = t->fields[i].length;

		if (flen == DPFIX_IPFIX_VARLEN) {
			uint16_t vlen;
			int n = dpfix_ipfix_varlen_decode(record + off, len - off, &vlen);

			if (n < 0)
				return -EBADMSG;
			off += (uint32_t)n;
			flen = vlen;
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
	const struct stored_template *s = templates_lookup(d, h->domain, set_id);
	const struct dpfix_ipfix_template *t;
	uint32_t off = 0, n = 0;

	if (s == NULL) {
		/* RFC 7011 8: data sets for templates not (yet) known are skipped. */
		d->stats.sets_unknown_template++;
		return 0;
	}
	if (s->refused) {
		d->stats.sets_refused_template++;
		return 0;
	}
	t = templates_view(d, s);
	if (t->varlen_count == 0) {
		/* Fixed-length records: whole records, then padding shorter than one. */
		uint32_t rlen = t->min_record_length;

		n = len / rlen;
		if (cb != NULL)
			for (uint32_t i = 0; i < n; i++)
				cb(ctx, h, t, p + i * rlen, rlen);
	} else {
		/* Anything shorter than the smallest record is padding (RFC 7011 3.3.1). */
		while (len - off >= t->min_record_length) {
			int r = dpfix_ipfix_record_fields(t, p + off, len - off, NULL, NULL);

			if (r < 0) {
				d->stats.data_records += t->scope_count ? 0 : n;
				d->stats.options_records += t->scope_count ? n : 0;
				*records += n;
				return fail(d, DPFIX_IPFIX_MALFORMED_RECORD_OVERRUN, err, errlen,
						"data set %u at offset %u: record at offset %u overruns the set",
						set_id, set_offset, set_offset + DPFIX_IPFIX_SET_HEADER_LEN + off);
			}
			if (cb != NULL)
				cb(ctx, h, t, p + off, (uint32_t)r);
			n++;
			off += (uint32_t)r;
		}
	}
	if (t->scope_count)
		d->stats.options_records += n;
	else
		d->stats.data_records += n;
	*records += n;
	return 0;
}

/* ---- sequence numbers (RFC 7011 3.1: data records sent before this message) ---- */

static struct domain_state *
domain_state(struct dpfix_ipfix_decoder *d, uint32_t domain, int *is_new)
{
	*is_new = 0;
	if (d->last_domain < d->domain_count && d->domains[d->last_domain].domain == domain)
		return &d->domains[d->last_domain];
	for (uint32_t i = 0; i < d->domain_count; i++) {
		if (d->domains[i].domain == domain) {
			d->last_domain = i;
			return &d->domains[i];
		}
	}
	if (d->domain_count == d->domain_room) {
		/* Grown as domains appear: most sessions have one. */
		uint32_t room = d->domain_room ? 2 * d->domain_room : 4;
		struct domain_state *grown;

		if (d->domain_count == MAX_DOMAINS ||
				(grown = realloc(d->domains, room * sizeof(*grown))) == NULL)
			return NULL;
		d->domains = grown;
		d->domain_room = room;
	}
	*is_new = 1;
	memset(&d->domains[d->domain_count], 0, sizeof(d->domains[0]));
	d->domains[d->domain_count].domain = domain;
	d->last_domain = d->domain_count;
	return &d->domains[d->domain_count++];
}

static void
remember_gap(struct domain_state *ds, uint32_t start, uint32_t len)
{
	if (ds->gap_count == MAX_GAPS) {
		memmove(&ds->gaps[0], &ds->gaps[1], (MAX_GAPS - 1) * sizeof(ds->gaps[0]));
		ds->gap_count--;
	}
	ds->gaps[ds->gap_count++] = (struct sequence_gap){.start = start, .len = len};
}

/* A late message's records [seq, seq + n) that fall into remembered gaps were not
 * lost after all. Returns how many; the gaps shrink or split accordingly. */
static uint32_t
fill_gaps(struct domain_state *ds, uint32_t seq, uint32_t n)
{
	uint32_t filled = 0;

	for (uint32_t i = 0; i < ds->gap_count; i++) {
		struct sequence_gap *g = &ds->gaps[i];
		/* Gap-relative range of the message; late messages are within 2^31. */
		int64_t a = (int32_t)(seq - g->start), b = a + n;

		if (a < 0)
			a = 0;
		if (b > g->len)
			b = g->len;
		if (a >= b)
			continue;
		filled += (uint32_t)(b - a);
		if (a > 0 && b < g->len && ds->gap_count < MAX_GAPS)
			ds->gaps[ds->gap_count++] = (struct sequence_gap){
				.start = g->start + (uint32_t)b, .len = g->len - (uint32_t)b,
			};
		if (a == 0) {
			g->start += (uint32_t)b;
			g->len -= (uint32_t)b;
		} else {
			g->len = (uint32_t)a; /* a middle fill without a free slot drops the tail */
		}
	}
	for (uint32_t i = 0; i < ds->gap_count;) {
		if (ds->gaps[i].len == 0) {
			memmove(&ds->gaps[i], &ds->gaps[i + 1],
					(ds->gap_count - i - 1) * sizeof(ds->gaps[0]));
			ds->gap_count--;
		} else {
			i++;
		}
	}
	return filled;
}

static void
account_sequence(struct dpfix_ipfix_decoder *d, const struct dpfix_ipfix_header *h, uint32_t records)
{
	int is_new;
	struct domain_state *ds = domain_state(d, h->domain, &is_new);
	uint32_t ahead;

	if (ds == NULL)
		return;
	if (is_new) {
		ds->first = h->sequence;
		ds->expected = h->sequence + records;
		return;
	}
	ahead = h->sequence - ds->expected; /* serial arithmetic, wraps at 2^32 */
	if (ahead < 0x80000000u) {
		if (ahead != 0) {
			d->stats.sequence_lost += ahead;
			remember_gap(ds, ds->expected, ahead);
		}
		ds->expected = h->sequence + records;
		ds->late_in_a_row = 0;
		return;
	}
	/* Behind the expectation: reordered, unless the exporter began anew. */
	if (0u - ahead > REORDER_WINDOW || ++ds->late_in_a_row >= RESYNC_AFTER_LATE) {
		d->stats.sequence_resets++;
		ds->expected = h->sequence + records;
		ds->late_in_a_row = 0;
		ds->gap_count = 0;
		return;
	}
	d->stats.sequence_out_of_order++;
	d->stats.sequence_recovered += fill_gaps(ds, h->sequence, records);
}

int
dpfix_ipfix_decode(struct dpfix_ipfix_decoder *d, const uint8_t *buf, size_t len,
		dpfix_ipfix_record_cb cb, void *ctx, char *err, size_t errlen)
{
	struct dpfix_ipfix_header h;
	uint32_t off = DPFIX_IPFIX_HEADER_LEN, records = 0;
	int ret = 0;

	d->warned = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len < DPFIX_IPFIX_HEADER_LEN)
		ret = fail(d, DPFIX_IPFIX_MALFORMED_MESSAGE_SHORT, err, errlen,
				"message of %zu bytes is shorter than the 16-byte header", len);
	else if (dpfix_ipfix_read_header(buf, len, &h) < 0)
		ret = fail(d, DPFIX_IPFIX_MALFORMED_VERSION, err, errlen,
				"version %u is not IPFIX (10)", h.version);
	else if (h.length < DPFIX_IPFIX_HEADER_LEN || h.length != len)
		ret = fail(d, DPFIX_IPFIX_MALFORMED_MESSAGE_LENGTH, err, errlen,
				"header length %u does not match the %zu bytes received", h.length, len);
	if (ret != 0) {
		d->stats.malformed_messages++;
		return ret;
	}
	if (!d->clock_set)
		d->now_s = h.export_time;
	if (d->now_s != d->last_sweep_s)
		templates_sweep(d);
	while (ret == 0 && h.length - off > 0) {
		uint16_t set_id, set_len;

		if (h.length - off < DPFIX_IPFIX_SET_HEADER_LEN) {
			ret = fail(d, DPFIX_IPFIX_MALFORMED_SET_HEADER, err, errlen,
					"set header at offset %u cut short", off);
			break;
		}
		set_id = dpfix_get16(buf + off);
		set_len = dpfix_get16(buf + off + 2);
		if (set_len < DPFIX_IPFIX_SET_HEADER_LEN || set_len > h.length - off) {
			ret = fail(d, DPFIX_IPFIX_MALFORMED_SET_LENGTH, err, errlen,
					"set %u at offset %u: length %u outside 4..%u", set_id, off, set_len,
					h.length - off);
			break;
		}
		if (set_id == DPFIX_IPFIX_SET_TEMPLATE || set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE)
			ret = decode_template_set(d, h.domain, set_id, buf + off + 4, set_len - 4u, off,
					err, errlen);
		else if (set_id >= DPFIX_IPFIX_SET_MIN_DATA)
			ret = decode_data_set(d, &h, set_id, buf + off + 4, set_len - 4u, off, &records,
					cb, ctx, err, errlen);
		else
			ret = fail(d, DPFIX_IPFIX_MALFORMED_SET_ID, err, errlen,
					"set id %u at offset %u is reserved (0, 1 and 4..255)", set_id, off);
		off += set_len;
	}
	if (ret != 0) {
		d->stats.malformed_messages++;
		return ret;
	}
	d->stats.messages++;
	account_sequence(d, &h, records);
	return d->warned ? DPFIX_IPFIX_DECODE_WARNING : 0;
}
