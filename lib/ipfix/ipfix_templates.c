/* The collecting side's template store: templates per (session, observation domain),
 * withdrawal, redefinition and lifetime by transport kind (RFC 7011 8, 8.1, 8.4), field
 * lengths checked against their elements' types (6.2, 7), and the memory they take:
 * each template its own size, counted against a budget shared by a process's decoders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix_decoder.h"

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

	while (*slot != NULL && ((*slot)->domain != domain || (*slot)->id != id))
		slot = &(*slot)->next;
	return slot;
}

/* ---- memory: each decoder's own reserve, then the shared pool ---- */

static uint64_t
beyond_reserve(uint64_t bytes)
{
	return bytes > DPFIX_IPFIX_TEMPLATE_RESERVE ? bytes - DPFIX_IPFIX_TEMPLATE_RESERVE : 0;
}

/* Takes bytes for a new template: always within the decoder's reserve, beyond it only
 * while the shared pool has room. -EDQUOT when it has none. */
static int
budget_take(struct dpfix_ipfix_decoder *d, uint32_t bytes)
{
	struct dpfix_ipfix_template_budget *b = d->params.budget;
	uint64_t shared = beyond_reserve(d->template_bytes + bytes) - beyond_reserve(d->template_bytes);

	if (b != NULL) {
		if (b->limit_bytes != 0 && b->shared_bytes + shared > b->limit_bytes)
			return -EDQUOT;
		b->shared_bytes += shared;
		b->held_bytes += bytes;
		if (b->held_bytes > b->peak_bytes)
			b->peak_bytes = b->held_bytes;
	}
	d->template_bytes += bytes;
	return 0;
}

static void
budget_give(struct dpfix_ipfix_decoder *d, uint32_t bytes)
{
	struct dpfix_ipfix_template_budget *b = d->params.budget;

	if (b != NULL) {
		b->shared_bytes -= beyond_reserve(d->template_bytes) -
				beyond_reserve(d->template_bytes - bytes);
		b->held_bytes -= bytes;
	}
	d->template_bytes -= bytes;
}

static struct stored_template *
template_new(struct dpfix_ipfix_decoder *d, uint32_t domain, const struct dpfix_ipfix_template *t,
		int refused, int *ret)
{
	size_t fields = t->field_count * sizeof(t->fields[0]);
	uint32_t bytes = (uint32_t)(sizeof(struct stored_template) + fields);
	struct stored_template *s;

	*ret = budget_take(d, bytes);
	if (*ret < 0)
		return NULL;
	s = malloc(bytes);
	if (s == NULL) {
		budget_give(d, bytes);
		*ret = -ENOMEM;
		return NULL;
	}
	*s = (struct stored_template){
		.domain = domain, .bytes = bytes, .refreshed_s = d->now_s, .refused = refused,
		.id = t->id, .field_count = t->field_count, .scope_count = t->scope_count,
		.min_record_length = t->min_record_length, .varlen_count = t->varlen_count,
	};
	memcpy(s->fields, t->fields, fields);
	return s;
}

static void
template_free(struct dpfix_ipfix_decoder *d, struct stored_template *s)
{
	if (d->view_of == s)
		d->view_of = NULL;
	budget_give(d, s->bytes);
	free(s);
}

const struct dpfix_ipfix_template *
templates_view(struct dpfix_ipfix_decoder *d, const struct stored_template *s)
{
	struct dpfix_ipfix_template *t = &d->scratch;

	if (d->view_of != s) {
		t->id = s->id;
		t->field_count = s->field_count;
		t->scope_count = s->scope_count;
		t->min_record_length = s->min_record_length;
		t->varlen_count = s->varlen_count;
		memcpy(t->fields, s->fields, s->field_count * sizeof(s->fields[0]));
		d->view_of = s;
	}
	return t;
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
	struct dpfix_ipfix_template *t = malloc(sizeof(*t)); /* 4 KB: not on the stack */

	if (t == NULL)
		return;
	for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
		for (const struct stored_template *s = d->buckets[b]; s != NULL; s = s->next) {
			if (s->refused)
				continue;
			dpfix_ipfix_template_init(t, s->id, s->scope_count);
			for (uint16_t i = 0; i < s->field_count; i++)
				dpfix_ipfix_template_add(t, s->fields[i].pen, s->fields[i].id,
						s->fields[i].length);
			cb(ctx, s->domain, s->id, t);
		}
	}
	free(t);
}

uint64_t
dpfix_ipfix_decoder_template_bytes(const struct dpfix_ipfix_decoder *d)
{
	return d->template_bytes;
}

/* Every template gone (withdrawn, expired, dropped) is told to the template callback. */
static void
remove_template(struct dpfix_ipfix_decoder *d, struct stored_template **slot)
{
	struct stored_template *s = *slot;

	if (d->template_cb != NULL && !s->refused)
		d->template_cb(d->template_ctx, s->domain, s->id, NULL);
	*slot = s->next;
	template_free(d, s);
	d->template_count--;
}

void
templates_free_all(struct dpfix_ipfix_decoder *d)
{
	for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
		struct stored_template *s = d->buckets[b];

		while (s != NULL) {
			struct stored_template *next = s->next;

			template_free(d, s);
			s = next;
		}
		d->buckets[b] = NULL;
	}
	d->template_count = 0;
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

void
templates_sweep(struct dpfix_ipfix_decoder *d)
{
	if (!templates_expire(d) || d->now_s == d->last_sweep_s)
		return;
	d->last_sweep_s = d->now_s;
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

const struct stored_template *
templates_lookup(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t id)
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
same_definition(const struct stored_template *s, const struct dpfix_ipfix_template *t)
{
	return s->field_count == t->field_count && s->scope_count == t->scope_count &&
			memcmp(s->fields, t->fields, t->field_count * sizeof(t->fields[0])) == 0;
}

static int
reliable(const struct dpfix_ipfix_decoder *d)
{
	return d->params.transport == DPFIX_IPFIX_TRANSPORT_TCP ||
			d->params.transport == DPFIX_IPFIX_TRANSPORT_SCTP;
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
		char length[32];

		if (f->length == DPFIX_IPFIX_VARLEN)
			snprintf(length, sizeof(length), "a variable length");
		else
			snprintf(length, sizeof(length), "length %u", f->length);
		d->stats.templates_refused_length++;
		decoder_warn(d, err, errlen, "template %u at offset %u refused: field %u, %s, has "
				"%s, which its type %s forbids (RFC 7011 6.2, 7); its records are skipped",
				t->id, rec_off, i, ie->name, length, dpfix_ipfix_type_name(ie->type));
		return 1;
	}
	return 0;
}

/* Tells the template callback of the definition now in force for an id (t, or none
 * when refused). */
static void
tell_template(struct dpfix_ipfix_decoder *d, uint32_t domain, const struct dpfix_ipfix_template *t,
		int refused)
{
	if (d->template_cb != NULL)
		d->template_cb(d->template_ctx, domain, t->id, refused ? NULL : t);
}

/* The shared template memory is used up: the template is not kept, so its data sets
 * count as unknown (sets_unknown_template) until it is sent again with room. */
static int
refuse_for_memory(struct dpfix_ipfix_decoder *d, const struct dpfix_ipfix_template *t,
		uint32_t rec_off, char *err, size_t errlen)
{
	d->stats.templates_refused_memory++;
	decoder_warn(d, err, errlen, "template %u at offset %u refused: the collector's template "
			"memory (%llu bytes beyond each session's %u) is used up; its data sets count "
			"as unknown", t->id, rec_off, (unsigned long long)d->params.budget->limit_bytes,
			DPFIX_IPFIX_TEMPLATE_RESERVE);
	return -EDQUOT;
}

int
templates_store(struct dpfix_ipfix_decoder *d, uint32_t domain,
		const struct dpfix_ipfix_template *t, uint32_t rec_off, char *err, size_t errlen)
{
	int refused = field_length_forbidden(d, t, rec_off, err, errlen), ret;
	struct stored_template **slot = template_slot(d, domain, t->id);
	struct stored_template *s = *slot, *n;

	if (s != NULL && expired(d, s)) {
		drop_expired(d, slot);
		slot = template_slot(d, domain, t->id); /* the chain's end, for the new one */
		s = NULL;
	}
	if (s != NULL) {
		if (same_definition(s, t)) {
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
			decoder_warn(d, err, errlen, "template %u at offset %u redefined without a "
					"withdrawal on %s (RFC 7011 8): dropped until withdrawn and defined "
					"again", t->id, rec_off, dpfix_ipfix_transport_name(d->params.transport));
			return 0;
		}
		/* UDP and files: the new definition replaces the old (RFC 7011 8.4), which is
		 * gone whether or not there is room for the new one. */
		n = template_new(d, domain, t, refused, &ret);
		if (n == NULL) {
			remove_template(d, slot);
			return ret == -EDQUOT ? refuse_for_memory(d, t, rec_off, err, errlen) : ret;
		}
		n->next = s->next;
		*slot = n;
		d->stats.templates_replaced++;
		if (!(s->refused && refused))
			tell_template(d, domain, t, refused);
		template_free(d, s);
		return 0;
	}
	if (d->template_count == MAX_TEMPLATES)
		return -ENOSPC;
	n = template_new(d, domain, t, refused, &ret);
	if (n == NULL)
		return ret == -EDQUOT ? refuse_for_memory(d, t, rec_off, err, errlen) : ret;
	*slot = n;
	d->template_count++;
	if (!refused) {
		d->stats.templates++;
		tell_template(d, domain, t, 0);
	}
	return 0;
}

void
templates_withdraw(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id, uint16_t id,
		uint32_t rec_off, char *err, size_t errlen)
{
	int options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
	struct stored_template **slot;

	if (d->params.transport == DPFIX_IPFIX_TRANSPORT_UDP) {
		d->stats.withdrawals_invalid++;
		decoder_warn(d, err, errlen, "template withdrawal for %u at offset %u on UDP ignored "
				"(RFC 7011 8.4: templates expire instead)", id, rec_off);
		return;
	}
	if (id == set_id) {
		for (uint32_t b = 0; b < TEMPLATE_BUCKETS; b++) {
			slot = &d->buckets[b];
			while (*slot != NULL) {
				if ((*slot)->domain == domain && ((*slot)->scope_count != 0) == options) {
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
		decoder_warn(d, err, errlen, "withdrawal of template %u at offset %u, which is not "
				"defined in domain %u: ignored (RFC 7011 8.1)", id, rec_off, domain);
		return;
	}
	if (((*slot)->scope_count != 0) != options) {
		d->stats.withdrawals_invalid++;
		decoder_warn(d, err, errlen, "withdrawal of %s template %u at offset %u in %s set: "
				"ignored (RFC 7011 8.1)", options ? "data" : "options", id, rec_off,
				options ? "an options template" : "a template");
		return;
	}
	remove_template(d, slot);
	d->stats.templates_withdrawn++;
}
