/* Bounds-checked IPFIX message decoding (RFC 7011 sections 3, 8, 10) with the
 * collecting side's template management: templates scoped per (session, observation
 * domain), withdrawal, redefinition and lifetime by transport kind, and sequence-number
 * accounting per domain. Every length read from the wire is checked against the bytes
 * that remain before it is used; nothing is read past the message. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"

#define MAX_TEMPLATES 4096      /* per session: bounds what one exporter can make us hold */
#define TEMPLATE_BUCKETS 256    /* power of two */
#define MAX_DOMAINS 1024
#define MAX_GAPS 16             /* sequence gaps remembered per domain, for late messages */
/* A message further behind than this, or this many late messages in a row, means the
 * exporter started counting again (restart), not reordering. */
#define REORDER_WINDOW (1u << 20)
#define RESYNC_AFTER_LATE 16
#define MAX_RECORD_LEN (UINT16_MAX - DPFIX_IPFIX_HEADER_LEN - DPFIX_IPFIX_SET_HEADER_LEN)

struct stored_template {
	struct stored_template *next;   /* bucket chain */
	uint32_t domain;
	uint64_t refreshed_s;           /* decoder clock when last (re)defined */
	/* A field's length is one its element's type forbids: the definition is kept so
	 * that its resends, redefinition and withdrawal follow the rules of any template,
	 * but its data sets are skipped (sets_refused_template) and nobody is told of it. */
	int refused;
	struct dpfix_ipfix_template t;
};

struct sequence_gap {
	uint32_t start;
	uint32_t len;
};

struct domain_state {
	uint32_t domain;
	uint32_t expected;              /* sequence number of the next message */
	uint32_t late_in_a_row;
	uint32_t gap_count;
	struct sequence_gap gaps[MAX_GAPS]; /* oldest first */
};

struct dpfix_ipfix_decoder {
	struct dpfix_ipfix_decoder_params params;
	struct stored_template *buckets[TEMPLATE_BUCKETS];
	uint32_t template_count;
	uint64_t now_s;                 /* decoder clock: set_time, else export time */
	int clock_set;
	uint64_t last_sweep_s;
	struct domain_state *domains;   /* MAX_DOMAINS, allocated with the decoder */
	uint32_t domain_count;
	uint32_t last_domain;           /* index of the domain of the previous message */
	int warned;                     /* a protocol violation is already in err */
	struct dpfix_ipfix_decode_stats stats;
	struct dpfix_ipfix_template scratch; /* template being read: too large for the stack */
	dpfix_ipfix_template_cb template_cb;
	void *template_ctx;
};

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
	d->domains = calloc(MAX_DOMAINS, sizeof(d->domains[0]));
	if (d->domains == NULL) {
		free(d);
		return NULL;
	}
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
	for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
		struct stored_template *s = d->buckets[b];

		while (s != NULL) {
			struct stored_template *next = s->next;

			free(s);
			s = next;
		}
	}
	free(d->domains);
	free(d);
}

const struct dpfix_ipfix_decode_stats *
dpfix_ipfix_decoder_stats(const struct dpfix_ipfix_decoder *d)
{
	return &d->stats;
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

/* A protocol violation that does not stop decoding (RFC 7011 8: "SHOULD log"): the
 * first one of a message goes to err. */
static void
warn(struct dpfix_ipfix_decoder *d, char *err, size_t errlen, const char *fmt, ...)
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

/* ---- template store ---- */

static inline uint32_t
bucket_of(uint32_t domain, uint16_t id)
{
	return (id ^ (domain * 2654435761u) >> 16) & (TEMPLATE_BUCKETS - 1);
}

/* The slot that points at the template (domain, id), or at the chain's end. */
static struct stored_template **
template_slot(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t id)
{
	struct stored_template **slot = &d->buckets[bucket_of(domain, id)];

	while (*slot != NULL && ((*slot)->domain != domain || (*slot)->t.id != id))
		slot = &(*slot)->next;
	return slot;
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
	for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++)
		for (const struct stored_template *s = d->buckets[b]; s != NULL; s = s->next)
			if (!s->refused)
				cb(ctx, s->domain, s->t.id, &s->t);
}

/* Every template gone (withdrawn, expired, dropped) is told to the template callback. */
static void
remove_template(struct dpfix_ipfix_decoder *d, struct stored_template **slot)
{
	struct stored_template *s = *slot;

	if (d->template_cb != NULL && !s->refused)
		d->template_cb(d->template_ctx, s->domain, s->t.id, NULL);
	*slot = s->next;
	free(s);
	d->template_count--;
}

/* Only UDP templates expire, and only with a lifetime set. */
static int
templates_expire(const struct dpfix_ipfix_decoder *d)
{
	return d->params.transport == DPFIX_IPFIX_TRANSPORT_UDP && d->params.template_lifetime_s != 0;
}

static int
expired(const struct dpfix_ipfix_decoder *d, const struct stored_template *s)
{
	return templates_expire(d) && d->now_s > s->refreshed_s &&
			d->now_s - s->refreshed_s > d->params.template_lifetime_s;
}

/* UDP (RFC 7011 8.4, 10.3.6): a template not refreshed within its lifetime is gone;
 * data sets for it are then skipped as for any unknown template. */
static void
drop_expired(struct dpfix_ipfix_decoder *d, struct stored_template **slot)
{
	remove_template(d, slot);
	d->stats.templates_expired++;
}

static void
sweep_expired(struct dpfix_ipfix_decoder *d)
{
	for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
		struct stored_template **slot = &d->buckets[b];

		while (*slot != NULL) {
			if (expired(d, *slot))
				drop_expired(d, slot);
			else
				slot = &(*slot)->next;
		}
	}
}

/* The live template for a data set, or NULL. */
static const struct stored_template *
lookup_template(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t id)
{
	struct stored_template **slot = template_slot(d, domain, id);

	if (*slot == NULL)
		return NULL;
	if (expired(d, *slot)) {
		drop_expired(d, slot);
		return NULL;
	}
	return *slot;
}

static int
same_definition(const struct dpfix_ipfix_template *a, const struct dpfix_ipfix_template *b)
{
	return a->field_count == b->field_count && a->scope_count == b->scope_count &&
			memcmp(a->fields, b->fields, a->field_count * sizeof(a->fields[0])) == 0;
}

static int
reliable(const struct dpfix_ipfix_decoder *d)
{
	return d->params.transport == DPFIX_IPFIX_TRANSPORT_TCP ||
			d->params.transport == DPFIX_IPFIX_TRANSPORT_SCTP;
}

/* Tells the template callback of a definition now in force (NULL: none is). */
static void
tell_template(struct dpfix_ipfix_decoder *d, const struct stored_template *s)
{
	if (d->template_cb != NULL)
		d->template_cb(d->template_ctx, s->domain, s->t.id, s->refused ? NULL : &s->t);
}

/* Stores a template record just read, by the rules of the session's transport
 * (RFC 7011 8, 8.4); a refused one (field_length_forbidden) too, marked so. -ENOSPC past
 * the session's limit. */
static int
store_template(struct dpfix_ipfix_decoder *d, uint32_t domain, const struct dpfix_ipfix_template *t,
		int refused, uint32_t rec_off, char *err, size_t errlen)
{
	struct stored_template **slot = template_slot(d, domain, t->id);
	struct stored_template *s = *slot;

	if (s != NULL && expired(d, s)) {
		drop_expired(d, slot);
		slot = template_slot(d, domain, t->id); /* the chain's end, for the new one */
		s = NULL;
	}
	if (s != NULL) {
		if (same_definition(&s->t, t)) {
			/* A resend: on UDP the periodic refresh, elsewhere harmless. */
			s->refreshed_s = d->now_s;
			d->stats.templates_refreshed++;
			return 0;
		}
		if (reliable(d)) {
			/* RFC 7011 8: redefining without a withdrawal on TCP/SCTP means the
			 * data records for this id can no longer be told apart. Neither
			 * definition is trusted: the id is dropped until defined anew. */
			remove_template(d, slot);
			d->stats.templates_redefined_invalid++;
			warn(d, err, errlen, "template %u at offset %u redefined without a withdrawal "
					"on %s (RFC 7011 8): dropped until withdrawn and defined again",
					t->id, rec_off, dpfix_ipfix_transport_name(d->params.transport));
			return 0;
		}
		/* UDP and files: the new definition replaces the old (RFC 7011 8.4). */
		s->t = *t;
		s->refreshed_s = d->now_s;
		d->stats.templates_replaced++;
		if (!(s->refused && refused)) {
			s->refused = refused;
			tell_template(d, s);
		}
		return 0;
	}
	if (d->template_count == MAX_TEMPLATES)
		return -ENOSPC;
	s = malloc(sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->next = NULL;
	s->domain = domain;
	s->refreshed_s = d->now_s;
	s->refused = refused;
	s->t = *t;
	*slot = s;
	d->template_count++;
	if (!refused) {
		d->stats.templates++;
		tell_template(d, s);
	}
	return 0;
}

/* Template Withdrawal (RFC 7011 8.1): one template, or every template of the set's
 * kind when id is the set id. Withdrawing what is not stored, a template of the other
 * kind, or anything over UDP is a fault of the exporter: ignored and reported. */
static void
withdraw(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id, uint16_t id,
		uint32_t rec_off, char *err, size_t errlen)
{
	int options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
	struct stored_template **slot;

	if (d->params.transport == DPFIX_IPFIX_TRANSPORT_UDP) {
		d->stats.withdrawals_invalid++;
		warn(d, err, errlen, "template withdrawal for %u at offset %u on UDP ignored "
				"(RFC 7011 8.4: templates expire instead)", id, rec_off);
		return;
	}
	if (id == set_id) {
		for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
			slot = &d->buckets[b];
			while (*slot != NULL) {
				if ((*slot)->domain == domain && ((*slot)->t.scope_count != 0) == options) {
					remove_template(d, slot);
					d->stats.templates_withdrawn++;
				} else {
					slot = &(*slot)->next;
				}
			}
		}
		d->stats.withdrawals_all++;
		return;
	}
	slot = template_slot(d, domain, id);
	if (*slot == NULL) {
		d->stats.withdrawals_invalid++;
		warn(d, err, errlen, "withdrawal of template %u at offset %u, which is not defined "
				"in domain %u: ignored (RFC 7011 8.1)", id, rec_off, domain);
		return;
	}
	if (((*slot)->t.scope_count != 0) != options) {
		d->stats.withdrawals_invalid++;
		warn(d, err, errlen, "withdrawal of %s template %u at offset %u in %s set: ignored "
				"(RFC 7011 8.1)", options ? "data" : "options", id, rec_off,
				options ? "an options template" : "a template");
		return;
	}
	remove_template(d, slot);
	d->stats.templates_withdrawn++;
}

/* RFC 7011 6.2 and 7: a field of an element whose type has a fixed size is that size
 * or, for integers and float64, a reduced size; only the types without one (strings,
 * octet arrays, lists) may be variable-length. A length the element's type forbids
 * (octetDeltaCount in 9 octets, an IPv4 address in 2) makes every record of the template
 * malformed: the template is refused, with err naming the first such field. Elements
 * not in the registry cannot be checked. Returns 1 if refused, else 0. */
static int
field_length_forbidden(struct dpfix_ipfix_decoder *d, const struct dpfix_ipfix_template *t,
		uint32_t rec_off, char *err, size_t errlen)
{
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);
		int ok;

		if (ie == NULL)
			continue;
		if (f->length == DPFIX_IPFIX_VARLEN)
			ok = dpfix_ipfix_type_size(ie->type) == 0;
		else
			ok = dpfix_ipfix_type_length_valid(ie->type, f->length);
		if (ok)
			continue;
		d->stats.templates_refused_length++;
		warn(d, err, errlen, "template %u at offset %u refused: field %u, %s, has %s%u, "
				"which its type %s forbids (RFC 7011 6.2, 7); its records are skipped",
				t->id, rec_off, i, ie->name, f->length == DPFIX_IPFIX_VARLEN ?
				"variable length " : "length ", f->length == DPFIX_IPFIX_VARLEN ? 0 :
				f->length, dpfix_ipfix_type_name(ie->type));
		return 1;
	}
	return 0;
}

static int
decode_template_set(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id,
		const uint8_t *p, uint32_t len, uint32_t set_offset, char *err, size_t errlen)
{
	uint32_t off = 0;
	int options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
	struct dpfix_ipfix_template *t = &d->scratch;

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
			withdraw(d, domain, set_id, id, rec_off, err, errlen);
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
		ret = store_template(d, domain, t, field_length_forbidden(d, t, rec_off, err, errlen),
				rec_off, err, errlen);
		if (ret < 0)
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
	const struct stored_template *s = lookup_template(d, h->domain, set_id);
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
	t = &s->t;
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
	if (d->domain_count == MAX_DOMAINS)
		return NULL;
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
	if (d->now_s != d->last_sweep_s && templates_expire(d)) {
		d->last_sweep_s = d->now_s;
		sweep_expired(d);
	}
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
