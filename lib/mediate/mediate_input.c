/* The Mediator's Collecting side: lib/collect's sink. Each exporter session is an
 * origin (its address and authenticated identity); each of its templates, per
 * observation domain, is a layout in the template mapping database, replaced when the
 * exporter redefines it and dropped when withdrawn or expired; each record goes into
 * the chain of Intermediate Processes with its layout and origin. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dpfix_log.h"
#include "mediate_private.h"

#define SESSION_BUCKETS 1024

/* An exporter template in force: (session, domain, template id) -> layout. */
struct input_entry {
	struct input_entry *next;       /* hash chain */
	struct input_entry *session_next;
	uint64_t session_id;
	uint32_t domain;
	uint16_t template_id;
	struct med_layout *layout;
};

struct input_session {
	struct input_session *next;     /* hash chain */
	uint64_t id;
	struct med_origin *origin;
	struct input_entry *entries;
	struct med_identity *who;       /* NULL: none proved, or not tracked */
	uint64_t records_in, options_in;
};

struct med_input {
	struct input_entry **buckets;
	uint32_t nb_buckets;
	uint32_t count;
	struct input_session *sessions[SESSION_BUCKETS];
	/* The last record's template: the records of a data set share it. */
	const struct dpfix_collect_session *last_session;
	uint16_t last_template_id;  /* (the decoder's template view is one struct) */
	uint32_t last_domain;
	struct input_entry *last_entry;
	struct input_session *last_input_session;
};

static uint32_t
entry_hash(uint64_t session_id, uint32_t domain, uint16_t template_id)
{
	uint64_t h = session_id * 0x9e3779b97f4a7c15ull ^ ((uint64_t)domain << 16 | template_id);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ h >> 32);
}

int
med_input_create(struct dpfix_mediate *m)
{
	m->input = calloc(1, sizeof(*m->input));
	if (m->input == NULL)
		return -ENOMEM;
	m->input->nb_buckets = 1024;
	m->input->buckets = calloc(m->input->nb_buckets, sizeof(m->input->buckets[0]));
	return m->input->buckets == NULL ? -ENOMEM : 0;
}

static struct input_entry **
entry_slot(struct med_input *in, uint64_t session_id, uint32_t domain, uint16_t template_id)
{
	struct input_entry **slot = &in->buckets[entry_hash(session_id, domain, template_id) &
			(in->nb_buckets - 1)];

	while (*slot != NULL && ((*slot)->session_id != session_id || (*slot)->domain != domain ||
			(*slot)->template_id != template_id))
		slot = &(*slot)->next;
	return slot;
}

/* More entries than buckets: twice the buckets (without memory, the chains grow). */
static void
grow(struct med_input *in)
{
	uint32_t n = in->nb_buckets * 2;
	struct input_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (uint32_t i = 0; i < in->nb_buckets; i++)
		while (in->buckets[i] != NULL) {
			struct input_entry *e = in->buckets[i];
			uint32_t k = entry_hash(e->session_id, e->domain, e->template_id) & (n - 1);

			in->buckets[i] = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(in->buckets);
	in->buckets = b;
	in->nb_buckets = n;
}

struct med_layout *
med_input_layout(struct dpfix_mediate *m, uint64_t session_id, uint32_t domain,
		uint16_t template_id)
{
	struct input_entry *e = *entry_slot(m->input, session_id, domain, template_id);

	return e != NULL ? e->layout : NULL;
}

static struct input_session **
session_slot(struct med_input *in, uint64_t id)
{
	struct input_session **slot = &in->sessions[id % SESSION_BUCKETS];

	while (*slot != NULL && (*slot)->id != id)
		slot = &(*slot)->next;
	return slot;
}

static struct input_session *
input_session(struct med_input *in, const struct dpfix_collect_session *s)
{
	if (in->last_session == s && in->last_input_session != NULL)
		return in->last_input_session;
	return *session_slot(in, s->id);
}

static void
forget_last(struct med_input *in)
{
	in->last_session = NULL;
	in->last_entry = NULL;
	in->last_input_session = NULL;
}

/* "192.0.2.1:4739" or "[2001:db8::1]:4739": the exporter's address, for
 * originalExporterIPv4Address / originalExporterIPv6Address. */
static void
parse_peer(struct med_origin *o, const char *peer)
{
	char host[64];
	const char *end;

	snprintf(o->peer, sizeof(o->peer), "%s", peer != NULL ? peer : "");
	o->family = 0;
	if (peer == NULL)
		return;
	if (peer[0] == '[') {
		end = strchr(peer, ']');
		if (end == NULL || (size_t)(end - peer - 1) >= sizeof(host))
			return;
		memcpy(host, peer + 1, (size_t)(end - peer - 1));
		host[end - peer - 1] = '\0';
	} else {
		end = strrchr(peer, ':');
		if (end == NULL || (size_t)(end - peer) >= sizeof(host))
			return;
		memcpy(host, peer, (size_t)(end - peer));
		host[end - peer] = '\0';
	}
	if (inet_pton(AF_INET, host, o->addr) == 1)
		o->family = AF_INET;
	else if (inet_pton(AF_INET6, host, o->addr) == 1)
		o->family = AF_INET6;
	/* An IPv4 exporter seen on an IPv6 socket is an IPv4 exporter. */
	if (o->family == AF_INET6 && memcmp(o->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(o->addr, o->addr + 12, 4);
		o->family = AF_INET;
	}
}

/* The entry of an exporter's identity (made at its first session), or NULL: none
 * proved (plaintext), or the table full (counted). */
static struct med_identity *
identity_of(struct dpfix_mediate *m, const char *identity)
{
	struct med_identity *who;

	if (identity[0] == '\0')
		return NULL;
	for (unsigned int i = 0; i < m->nb_identities; i++)
		if (strcmp(m->identities[i].identity, identity) == 0) {
			m->identities[i].sessions++;
			return &m->identities[i];
		}
	if (m->nb_identities == MED_MAX_IDENTITIES) {
		m->identities_untracked++;
		return NULL;
	}
	who = &m->identities[m->nb_identities++];
	snprintf(who->identity, sizeof(who->identity), "%s", identity);
	who->sessions = 1;
	return who;
}

static void
sink_session_start(void *ctx, const struct dpfix_collect_session *s)
{
	struct dpfix_mediate *m = ctx;
	struct input_session *is = calloc(1, sizeof(*is));

	if (is != NULL)
		is->origin = calloc(1, sizeof(*is->origin));
	if (is == NULL || is->origin == NULL) {
		free(is);
		return; /* its records count in records_no_template */
	}
	is->id = s->id;
	is->origin->refs = 1;
	is->origin->session_id = s->id;
	parse_peer(is->origin, s->peer);
	snprintf(is->origin->identity, sizeof(is->origin->identity), "%s",
			s->identity != NULL ? s->identity : "");
	is->who = identity_of(m, is->origin->identity);
	if (is->origin->identity[0] != '\0')
		dpfix_log(DPFIX_LOG_INFO, "exporter session %s: authenticated as '%s'",
				dpfix_session_name(s->session), is->origin->identity);
	struct input_session **slot = session_slot(m->input, s->id);

	is->next = *slot;
	*slot = is;
	forget_last(m->input);
}

static int
same_template(const struct dpfix_ipfix_template *a, const struct dpfix_ipfix_template *b)
{
	return a->field_count == b->field_count && a->scope_count == b->scope_count &&
			memcmp(a->fields, b->fields, a->field_count * sizeof(a->fields[0])) == 0;
}

static void
remove_entry(struct dpfix_mediate *m, struct input_session *is, struct input_entry *e)
{
	struct input_entry **slot = entry_slot(m->input, e->session_id, e->domain, e->template_id);

	*slot = e->next;
	for (struct input_entry **p = &is->entries; *p != NULL; p = &(*p)->session_next)
		if (*p == e) {
			*p = e->session_next;
			break;
		}
	m->input->count--;
	med_layout_put(m, e->layout);
	free(e);
}

/* A template learned, redefined (a new layout: records held by processes keep the old
 * one), or gone. */
static void
sink_template_event(void *ctx, const struct dpfix_collect_session *s, uint32_t domain,
		uint16_t template_id, const struct dpfix_ipfix_template *t)
{
	struct dpfix_mediate *m = ctx;
	struct med_input *in = m->input;
	struct input_session *is = input_session(in, s);
	struct input_entry **slot, *e;

	forget_last(in);
	if (is == NULL)
		return;
	slot = entry_slot(in, s->id, domain, template_id);
	e = *slot;
	if (t == NULL) {
		if (e != NULL)
			remove_entry(m, is, e);
		return;
	}
	if (e != NULL && same_template(&e->layout->t, t))
		return;
	struct med_layout *l = med_layout_new(t);

	if (l == NULL) {
		if (e != NULL)
			remove_entry(m, is, e);
		return;
	}
	if (e != NULL) {
		med_layout_put(m, e->layout);
		e->layout = l;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		med_layout_put(m, l);
		return;
	}
	*e = (struct input_entry){.session_id = s->id, .domain = domain,
		.template_id = template_id, .layout = l, .session_next = is->entries};
	is->entries = e;
	*slot = e;
	if (++in->count > in->nb_buckets)
		grow(in);
}

static void
count_in(struct input_session *is, int options)
{
	if (options) {
		is->options_in++;
		if (is->who != NULL)
			is->who->options_in++;
	} else {
		is->records_in++;
		if (is->who != NULL)
			is->who->records_in++;
	}
}

static void
sink_record(void *ctx, const struct dpfix_collect_session *s, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	struct dpfix_mediate *m = ctx;
	struct med_input *in = m->input;
	struct input_entry *e;
	struct med_record r;

	if (t->scope_count != 0)
		m->stats.options_in++;
	else
		m->stats.records_in++;
	m->now_ns = med_now_ns();
	if (in->last_session == s && in->last_template_id == t->id && in->last_domain == h->domain) {
		e = in->last_entry;
	} else {
		e = *entry_slot(in, s->id, h->domain, t->id);
		in->last_session = s;
		in->last_template_id = t->id;
		in->last_domain = h->domain;
		in->last_entry = e;
		in->last_input_session = *session_slot(in, s->id);
	}
	if (in->last_input_session != NULL)
		count_in(in->last_input_session, t->scope_count != 0);
	r = (struct med_record){.data = rec, .len = len, .domain = h->domain,
		.origin = in->last_input_session != NULL ? in->last_input_session->origin : NULL};
	if (e == NULL || r.origin == NULL) {
		/* No memory was left when its template or session came. */
		m->stats.records_no_template++;
		r.layout = NULL;
		med_count_lost(m, &r);
		return;
	}
	r.layout = e->layout;
	if (r.layout->fixed_length != 0) {
		r.offsets = r.layout->offsets;
		r.lengths = r.layout->lengths;
	} else {
		/* Where its fields lie first: a record lost for its length is counted with its
		 * packets and octets, which med_count_lost reads through them. */
		int laid_out = dpfix_ipfix_record_fields(t, rec, len, m->field_offsets,
				m->field_lengths) >= 0;

		r.offsets = m->field_offsets;
		r.lengths = m->field_lengths;
		if (len > MED_VARLEN_RECORD_MAX || !laid_out) {
			m->stats.records_too_long++;
			if (!laid_out)
				r.layout = NULL;        /* its counters cannot be read */
			med_count_lost(m, &r);
			return;
		}
	}
	if (t->scope_count != 0)
		med_options_learn(m, &r);
	med_forward(m, 0, &r);
}

static void
sink_session_end(void *ctx, const struct dpfix_collect_session *s, const char *why)
{
	struct dpfix_mediate *m = ctx;
	struct input_session **slot = session_slot(m->input, s->id), *is = *slot;

	forget_last(m->input);
	if (is == NULL)
		return;
	if (is->origin->identity[0] != '\0')
		dpfix_log(DPFIX_LOG_INFO, "exporter session %s (identity '%s'): %s; %" PRIu64
				" records and %" PRIu64 " options records in", dpfix_session_name(s->session),
				is->origin->identity, why, is->records_in, is->options_in);
	while (is->entries != NULL)
		remove_entry(m, is, is->entries);
	*slot = is->next;
	med_origin_put(is->origin);
	free(is);
}

void
med_input_free(struct dpfix_mediate *m)
{
	if (m->input == NULL)
		return;
	for (unsigned int i = 0; i < SESSION_BUCKETS; i++)
		while (m->input->sessions[i] != NULL) {
			struct input_session *is = m->input->sessions[i];

			while (is->entries != NULL)
				remove_entry(m, is, is->entries);
			m->input->sessions[i] = is->next;
			med_origin_put(is->origin);
			free(is);
		}
	free(m->input->buckets);
	free(m->input);
	m->input = NULL;
}

/* The loop's rounds and the end are the instance's (mediate.c). */
void med_sink_tick(void *ctx, uint64_t now_ms);
void med_sink_idle(void *ctx);
void med_sink_finish(void *ctx);
void med_sink_counters(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value),
		void *arg);
uint64_t med_sink_lost(void *ctx);
void med_sink_free(void *ctx);

const struct dpfix_collect_sink_ops med_sink_ops = {
	.name = "mediator",
	.session_start = sink_session_start,
	.template_event = sink_template_event,
	.record = sink_record,
	.session_end = sink_session_end,
	.tick = med_sink_tick,
	.idle = med_sink_idle,
	.finish = med_sink_finish,
	.counters = med_sink_counters,
	.lost = med_sink_lost,
	.free = med_sink_free,
};
