/* The template mapping database's outgoing side (RFC 7119 5): outgoing observation
 * domains, and in each the outgoing templates, made from a layout's fields plus the
 * original exporter's (originalExporterIPv4Address or originalExporterIPv6Address,
 * originalObservationDomainId). Exporters whose templates are the same share one
 * outgoing template; ids are the Mediator's own, never an exporter's, so two exporters
 * using the same ids never collide. A changed exporter template is a new layout and
 * gets its own outgoing template, so records already in a message keep theirs; one no
 * record uses any more is withdrawn a while later. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dpfix_log.h"
#include "mediate_private.h"

#define ORIGIN_FIELDS_MAX 2

static int
id_used(const struct med_out_domain *d, uint16_t id)
{
	return d->used_ids[id >> 3] & (1u << (id & 7));
}

static void
id_mark(struct med_out_domain *d, uint16_t id, int used)
{
	if (used)
		d->used_ids[id >> 3] |= (uint8_t)(1u << (id & 7));
	else
		d->used_ids[id >> 3] &= (uint8_t)~(1u << (id & 7));
}

struct med_out_domain *
med_out_domain(struct dpfix_mediate *m, uint32_t id)
{
	struct med_out_domain *d;

	for (d = m->domains; d != NULL; d = d->next)
		if (d->id == id)
			return d;
	if (m->nb_domains == DPFIX_EXPORT_MAX_DOMAINS) {
		if (!m->domains_full_said)
			dpfix_log(DPFIX_LOG_WARNING, "observation domain %u: the Mediator exports for "
					"at most %d domains; its records are lost (records_no_template)", id,
					DPFIX_EXPORT_MAX_DOMAINS);
		m->domains_full_said = 1;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->id = id;
	d->next_id = MED_TID_FIRST_MAPPED;
	for (uint16_t tid = 0; tid < MED_TID_FIRST_MAPPED; tid++)
		id_mark(d, tid, 1);
	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		int ret = dpfix_export_add_domain(m->collectors[i]->x, id, &d->xd[i]);

		if (ret == 0)
			ret = med_options_add_schemas(m, d->xd[i]);
		if (ret < 0) {
			/* A domain some collectors have and others not is never used. */
			dpfix_log(DPFIX_LOG_WARNING, "observation domain %u: %s", id, strerror(-ret));
			free(d);
			return NULL;
		}
	}
	d->next = m->domains;
	m->domains = d;
	m->nb_domains++;
	/* Its statistics go now, not an options interval later. */
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		dpfix_export_options_due(m->collectors[i]->x);
	return d;
}

static uint8_t *
encode_mediated(const struct dpfix_ipfix_group *g, const void *src, uint8_t *restrict p)
{
	const struct med_encode_src *s = src;
	const struct med_out_template *t = g->ctx;

	memcpy(p, s->data, s->len);
	p += s->len;
	if (t->family == AF_INET) {
		memcpy(p, s->origin_addr, 4);
		dpfix_put32(p + 4, s->origin_domain);
		p += 8;
	} else if (t->family == AF_INET6) {
		memcpy(p, s->origin_addr, 16);
		dpfix_put32(p + 16, s->origin_domain);
		p += 20;
	}
	return p;
}

static uint32_t
fields_hash(const struct dpfix_ipfix_field_spec *f, uint16_t n, uint16_t scope_count)
{
	uint32_t h = 2166136261u ^ scope_count;

	for (uint16_t i = 0; i < n; i++) {
		h = (h ^ f[i].id) * 16777619u;
		h = (h ^ f[i].length) * 16777619u;
		h = (h ^ f[i].pen) * 16777619u;
	}
	return h;
}

/* The Flow Keys the Mediator says of l's records in its own options records: those of
 * the templates its processes make; and where a process changes flow keys (the
 * exporters' Flow Keys records are then dropped as untrue past it), those an exporter
 * said of its own template whose records reach the output unchanged (RFC 7119 6:
 * regenerated, not lost). */
static uint64_t
said_keys(const struct dpfix_mediate *m, const struct med_layout *l)
{
	if (l->t.scope_count != 0)
		return 0;
	return l->own || m->keys_changed ? l->flow_key_indicator : 0;
}

static struct med_out_template *
find_same(struct med_out_domain *d, uint32_t hash, const struct dpfix_ipfix_field_spec *f,
		uint16_t n, uint16_t scope_count, uint64_t keys)
{
	for (struct med_out_template *t = d->buckets[hash & 255]; t != NULL; t = t->next)
		if (t->hash == hash && t->field_count == n && t->schema.scope_count == scope_count &&
				t->flow_key_indicator == keys && memcmp(t->fields, f, n * sizeof(*f)) == 0)
			return t;
	return NULL;
}

static int
allocate_id(struct med_out_domain *d, uint16_t *id)
{
	for (uint32_t tries = 0; tries < 65536; tries++) {
		uint16_t candidate = d->next_id;

		d->next_id = d->next_id == UINT16_MAX ? MED_TID_FIRST_MAPPED : d->next_id + 1;
		if (!id_used(d, candidate)) {
			id_mark(d, candidate, 1);
			*id = candidate;
			return 0;
		}
	}
	return -ENOSPC;
}

/* What the anonymisation processes do to each field (RFC 6235 records). */
static void
note_anonymisation(struct dpfix_mediate *m, struct med_out_template *t)
{
	for (uint16_t f = 0; f < t->field_count; f++)
		for (unsigned int i = 0; i < m->nb_procs; i++) {
			uint16_t flags, technique;
			struct med_anon_note *grown;

			if (m->procs[i].ops->technique == NULL || !m->procs[i].ops->technique(&m->procs[i],
					t->fields[f].pen, t->fields[f].id, &flags, &technique))
				continue;
			grown = realloc(t->notes, (t->note_count + 1u) * sizeof(*grown));
			if (grown == NULL)
				return;
			t->notes = grown;
			t->notes[t->note_count++] = (struct med_anon_note){.field = f,
				.ie = t->fields[f].id, .pen = t->fields[f].pen, .flags = flags,
				.technique = technique};
			break;
		}
}

static void
out_template_free(struct med_out_template *t)
{
	if (t == NULL)
		return;
	free(t->fields);
	free(t->notes);
	free(t);
}

/* A new outgoing template of fields f in d, given to every collector now. */
static struct med_out_template *
out_template_new(struct dpfix_mediate *m, struct med_out_domain *d, const struct med_layout *l,
		const struct dpfix_ipfix_field_spec *f, uint16_t n, int family, uint32_t hash)
{
	struct med_out_template *t = calloc(1, sizeof(*t));
	uint32_t origin_len = family == AF_INET ? 8 : family == AF_INET6 ? 20 : 0;
	struct dpfix_ipfix_group g = {.name = "mediated", .field_count = n,
		.scope_count = l->t.scope_count, .encode = encode_mediated,
		.max_length = (l->fixed_length != 0 ? l->fixed_length : MED_VARLEN_RECORD_MAX) +
			origin_len};

	if (t == NULL || (t->fields = malloc(n * sizeof(*f))) == NULL)
		goto fail;
	memcpy(t->fields, f, n * sizeof(*f));
	t->field_count = n;
	t->family = family;
	t->hash = hash;
	t->d = d;
	t->flow_key_indicator = said_keys(m, l);
	if (allocate_id(d, &t->id) < 0)
		goto fail;
	g.fields = t->fields;
	dpfix_ipfix_schema_init(&t->schema, t->id);
	if (dpfix_ipfix_schema_add(&t->schema, &g, t) < 0) {
		id_mark(d, t->id, 0);
		goto fail;
	}
	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		int ret = dpfix_export_add_schema_now(d->xd[i], &t->schema, m->now_ns);

		if (ret < 0) {
			for (unsigned int k = 0; k < i; k++)
				dpfix_export_remove_schema(d->xd[k], t->id, m->now_ns);
			id_mark(d, t->id, 0);
			goto fail;
		}
	}
	note_anonymisation(m, t);
	if (t->note_count != 0 || t->flow_key_indicator != 0)
		for (unsigned int i = 0; i < m->nb_collectors; i++)
			dpfix_export_options_due(m->collectors[i]->x);
	t->next = d->buckets[hash & 255];
	d->buckets[hash & 255] = t;
	d->template_count++;
	return t;
fail:
	out_template_free(t);
	return NULL;
}

/* Brings back a template that was on its way out. */
static void
revive(struct dpfix_mediate *m, struct med_out_template *t)
{
	t->unused_since_ns = 0;
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		if (t->withdrawn[i] && dpfix_export_add_schema_now(t->d->xd[i], &t->schema,
				m->now_ns) == 0)
			t->withdrawn[i] = 0;
}

struct med_out_template *
med_out_template_of(struct dpfix_mediate *m, const struct med_record *r)
{
	struct med_layout *l = r->layout;
	int family = m->params.original_exporter && r->origin != NULL ? r->origin->family : 0;
	uint32_t domain = m->params.keep_domains ? r->domain : m->params.domain;
	struct dpfix_ipfix_field_spec *f;
	struct med_mapping *map = l->last_mapping;
	struct med_out_domain *d;
	struct med_out_template *t;
	uint16_t n = l->t.field_count;
	uint32_t hash;

	if (map != NULL && map->family == family && map->domain == domain)
		return map->out;
	for (map = l->mappings; map != NULL; map = map->next)
		if (map->family == family && map->domain == domain) {
			l->last_mapping = map;
			return map->out;
		}
	if (n + ORIGIN_FIELDS_MAX > DPFIX_IPFIX_MAX_FIELDS)
		family = 0; /* no room for them: the records go as they came */
	d = med_out_domain(m, domain);
	map = calloc(1, sizeof(*map));
	f = malloc((n + ORIGIN_FIELDS_MAX) * sizeof(*f));
	if (d == NULL || map == NULL || f == NULL) {
		free(map);
		free(f);
		return NULL;
	}
	memcpy(f, l->t.fields, n * sizeof(*f));
	if (family == AF_INET)
		f[n++] = (struct dpfix_ipfix_field_spec){.id = IE_originalExporterIPv4Address, .length = 4};
	else if (family == AF_INET6)
		f[n++] = (struct dpfix_ipfix_field_spec){.id = IE_originalExporterIPv6Address, .length = 16};
	if (family != 0)
		f[n++] = (struct dpfix_ipfix_field_spec){.id = IE_originalObservationDomainId, .length = 4};
	hash = fields_hash(f, n, l->t.scope_count);
	t = find_same(d, hash, f, n, l->t.scope_count, said_keys(m, l));
	if (t != NULL) {
		m->stats.templates_shared++;
		if (t->refs == 0)
			revive(m, t);
	} else {
		t = out_template_new(m, d, l, f, n, family, hash);
	}
	free(f);
	if (t == NULL) {
		free(map);
		return NULL;
	}
	t->refs++;
	m->stats.templates_mapped++;
	*map = (struct med_mapping){.next = l->mappings, .family = family, .domain = domain, .out = t};
	l->mappings = map;
	l->last_mapping = map;
	return t;
}

void
med_out_template_put(struct dpfix_mediate *m, struct med_out_template *t, uint64_t now_ns)
{
	(void)m;
	if (--t->refs == 0)
		t->unused_since_ns = now_ns != 0 ? now_ns : 1;
}

void
med_layout_unmap(struct dpfix_mediate *m, struct med_layout *l)
{
	while (l->mappings != NULL) {
		struct med_mapping *map = l->mappings;

		l->mappings = map->next;
		med_out_template_put(m, map->out, m->now_ns);
		free(map);
	}
	l->last_mapping = NULL;
}

/* Withdrawn from every collector (each may have to wait for its records to go): then
 * forgotten, its id free again. */
static int
withdraw(struct dpfix_mediate *m, struct med_out_template *t, uint64_t now_ns)
{
	int done = 1;

	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		int ret;

		if (t->withdrawn[i])
			continue;
		ret = dpfix_export_remove_schema(t->d->xd[i], t->id, now_ns);
		if (ret == -EBUSY)
			done = 0;
		else
			t->withdrawn[i] = 1;
	}
	return done;
}

void
med_out_withdraw_unused(struct dpfix_mediate *m, uint64_t now_ns)
{
	for (struct med_out_domain *d = m->domains; d != NULL; d = d->next)
		for (unsigned int b = 0; b < 256; b++)
			for (struct med_out_template **p = &d->buckets[b]; *p != NULL;) {
				struct med_out_template *t = *p;

				if (t->refs != 0 || now_ns - t->unused_since_ns < MED_WITHDRAW_DELAY_NS ||
						!withdraw(m, t, now_ns)) {
					p = &t->next;
					continue;
				}
				*p = t->next;
				id_mark(d, t->id, 0);
				d->template_count--;
				m->stats.templates_withdrawn++;
				out_template_free(t);
			}
}

void
med_out_free(struct dpfix_mediate *m)
{
	while (m->domains != NULL) {
		struct med_out_domain *d = m->domains;

		m->domains = d->next;
		for (unsigned int b = 0; b < 256; b++)
			while (d->buckets[b] != NULL) {
				struct med_out_template *t = d->buckets[b];

				d->buckets[b] = t->next;
				out_template_free(t);
			}
		free(d);
	}
}

/* Where a record goes when it leaves the last process. */
void
med_output(struct dpfix_mediate *m, const struct med_record *r)
{
	if (r->layout->t.scope_count != 0)
		med_options_forward(m, r);
	else
		med_output_mapped(m, r);
}

void
med_output_mapped(struct dpfix_mediate *m, const struct med_record *r)
{
	struct med_out_template *t;
	struct med_encode_src src;
	uint64_t packets, octets;

	t = med_out_template_of(m, r);
	if (t == NULL) {
		m->stats.records_no_template++;
		med_count_lost(m, r);
		return;
	}
	src = (struct med_encode_src){.data = r->data, .len = r->len,
		.origin_addr = r->origin != NULL ? r->origin->addr : NULL,
		.origin_domain = r->domain};
	packets = med_record_unsigned(r, r->layout->packets_field);
	octets = med_record_unsigned(r, r->layout->octets_field);
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		med_collector_record(m->collectors[i], t, &src, packets, octets, m->now_ns);
	if (r->layout->t.scope_count == 0)
		m->stats.records_out++;
}
