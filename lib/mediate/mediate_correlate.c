/* Correlation into biflows (RFC 5103): an Intermediate Process that pairs the two
 * uniflow records of a connection (the same exporter, observation domain and template;
 * addresses and ports swapped, the same protocol) into one biflow record: the forward
 * record (the one that started first) with the RFC 5103 reverse elements (PEN 29305)
 * of its counters, flags, minimum/maximum and flow times from the other. A record waits
 * for its partner at most `timeout` seconds (default 10) of the Mediator's time, and
 * `max_waiting` records (default 65536) wait at most; one that finds none goes on as it
 * came. Records without addresses and protocol, of variable length, or already biflows
 * go by. The config text: 'biflow [timeout=S] [max_waiting=N]'. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mediate_private.h"

#define MAX_REVERSE 64

/* What the process knows of a layout. */
struct corr_in {
	int usable;                 /* a fixed-length uniflow layout with a 5-tuple */
	int16_t src, dst, sport, dport, proto;
	int16_t start;              /* flowStart...: which record is forward; -1 none */
	uint16_t nb_reverse;
	int16_t reverse[MAX_REVERSE]; /* the fields given a reverse element */
	struct med_layout *biflow;  /* the layout plus those reverse elements */
};

struct corr_wait {
	struct corr_wait *hash_next;
	struct corr_wait *prev, *next;  /* oldest first */
	uint64_t since_ns;
	uint32_t hash;
	int forward;                /* its addresses and ports in the key's order */
	struct med_layout *layout;
	struct med_origin *origin;
	uint32_t domain;
	uint8_t key[40];            /* addresses, ports, protocol, ordered */
	uint16_t key_len;
	uint32_t len;
	uint8_t data[];
};

struct corr_state {
	uint64_t timeout_ns;
	uint32_t max_waiting;
	struct corr_wait **buckets;
	uint32_t nb_buckets;
	uint32_t waiting;
	struct corr_wait *head, *tail;
	uint8_t record[DPFIX_IPFIX_SCHEMA_MAX_LENGTH];
	uint64_t paired, unpaired, not_correlated;
};

static void corr_free(struct med_process *p);

static int
corr_create(struct med_process *p, const char *text, char *err, size_t errlen)
{
	struct corr_state *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->state = s;
	s->timeout_ns = 10 * 1000000000ull;
	s->max_waiting = 65536;
	while (isspace((unsigned char)*text))
		text++;
	if (strncmp(text, "biflow", 6) != 0 || (text[6] != '\0' && !isspace((unsigned char)text[6]))) {
		snprintf(err, errlen, "'%s': say what to correlate: 'biflow [timeout=S] "
				"[max_waiting=N]'", text);
		corr_free(p);
		return -EINVAL;
	}
	text += 6;
	while (*text != '\0') {
		char word[64], *end;
		size_t n;

		while (isspace((unsigned char)*text))
			text++;
		n = strcspn(text, " \t");
		if (n == 0)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)n, text);
		text += n;
		if (strncmp(word, "timeout=", 8) == 0) {
			double v = strtod(word + 8, &end);

			if (*end == '\0' && end != word + 8 && v > 0 && v <= 3600) {
				s->timeout_ns = (uint64_t)(v * 1e9);
				continue;
			}
		} else if (strncmp(word, "max_waiting=", 12) == 0) {
			unsigned long v = strtoul(word + 12, &end, 10);

			if (*end == '\0' && v >= 1 && v <= (1ul << 24)) {
				s->max_waiting = (uint32_t)v;
				continue;
			}
		}
		snprintf(err, errlen, "'%s': not one of timeout=SECONDS (up to 3600), "
				"max_waiting=1..16777216", word);
		corr_free(p);
		return -EINVAL;
	}
	for (s->nb_buckets = 1024; s->nb_buckets < s->max_waiting;)
		s->nb_buckets *= 2;
	s->buckets = calloc(s->nb_buckets, sizeof(s->buckets[0]));
	if (s->buckets == NULL) {
		snprintf(err, errlen, "out of memory");
		corr_free(p);
		return -ENOMEM;
	}
	return 0;
}

/* Whether field i's element gets a reverse one in the biflow (RFC 5103 5: the non-key
 * fields; here those that differ by direction: counters, flags, extremes, times). */
static int
reverse_worthy(const struct dpfix_ipfix_field_spec *f)
{
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

	if (ie == NULL || f->pen != 0 || !ie->reversible)
		return 0;
	return ie->semantics == DPFIX_IPFIX_SEM_DELTA_COUNTER ||
			ie->semantics == DPFIX_IPFIX_SEM_TOTAL_COUNTER ||
			ie->semantics == DPFIX_IPFIX_SEM_FLAGS ||
			strncmp(ie->name, "minimum", 7) == 0 || strncmp(ie->name, "maximum", 7) == 0 ||
			strncmp(ie->name, "flowStart", 9) == 0 || strncmp(ie->name, "flowEnd", 7) == 0;
}

static struct corr_in *
resolve(const struct med_layout *l)
{
	static const uint16_t starts[] = {IE_flowStartNanoseconds, IE_flowStartMicroseconds,
		IE_flowStartMilliseconds, IE_flowStartSeconds};
	struct corr_in *in = calloc(1, sizeof(*in));
	struct dpfix_ipfix_template t;
	uint32_t length;
	int v6;

	if (in == NULL)
		return NULL;
	v6 = med_layout_find(l, 0, IE_sourceIPv6Address) >= 0;
	in->src = (int16_t)med_layout_find(l, 0, v6 ? IE_sourceIPv6Address : IE_sourceIPv4Address);
	in->dst = (int16_t)med_layout_find(l, 0, v6 ? IE_destinationIPv6Address :
			IE_destinationIPv4Address);
	in->sport = (int16_t)med_layout_find(l, 0, IE_sourceTransportPort);
	in->dport = (int16_t)med_layout_find(l, 0, IE_destinationTransportPort);
	in->proto = (int16_t)med_layout_find(l, 0, IE_protocolIdentifier);
	/* The finest start time there is (NTP formats compare as integers too). */
	in->start = -1;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]) && in->start < 0; i++)
		in->start = (int16_t)med_layout_find(l, 0, starts[i]);
	if (l->fixed_length == 0 || in->src < 0 || in->dst < 0 || in->proto < 0 ||
			l->lengths[in->src] != l->lengths[in->dst] || l->t.scope_count != 0 ||
			l->t.field_count + MAX_REVERSE > DPFIX_IPFIX_MAX_FIELDS)
		return in;
	for (uint16_t i = 0; i < l->t.field_count; i++)
		if (l->t.fields[i].pen == DPFIX_IPFIX_PEN_REVERSE)
			return in;      /* a biflow already */
	t = l->t;
	length = l->fixed_length;
	for (uint16_t i = 0; i < l->t.field_count && in->nb_reverse < MAX_REVERSE; i++) {
		const struct dpfix_ipfix_field_spec *f = &l->t.fields[i];

		if (!reverse_worthy(f))
			continue;
		in->reverse[in->nb_reverse++] = (int16_t)i;
		length += f->length;
		dpfix_ipfix_template_add(&t, DPFIX_IPFIX_PEN_REVERSE, f->id, f->length);
	}
	if (length > DPFIX_IPFIX_SCHEMA_MAX_LENGTH)
		return in;
	in->biflow = med_layout_new(&t);
	if (in->biflow == NULL)
		return in;
	in->biflow->own = 1;
	/* Its flow keys: the exporter's, or else the 5-tuple. */
	in->biflow->flow_key_indicator = l->flow_key_indicator != 0 ? l->flow_key_indicator :
			1ull << in->src | 1ull << in->dst | 1ull << in->proto |
			(in->sport >= 0 ? 1ull << in->sport : 0) | (in->dport >= 0 ? 1ull << in->dport : 0);
	in->usable = 1;
	return in;
}

static void
list_remove(struct corr_state *s, struct corr_wait *w)
{
	struct corr_wait **slot = &s->buckets[w->hash & (s->nb_buckets - 1)];

	while (*slot != w)
		slot = &(*slot)->hash_next;
	*slot = w->hash_next;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		s->head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		s->tail = w->prev;
	s->waiting--;
}

/* The record that waited goes on as it came. */
static void
release(struct med_process *p, struct corr_wait *w)
{
	struct corr_state *s = p->state;
	struct med_record r = {.layout = w->layout, .data = w->data, .len = w->len,
		.offsets = w->layout->offsets, .lengths = w->layout->lengths, .origin = w->origin,
		.domain = w->domain};

	list_remove(s, w);
	s->unpaired++;
	med_emit(p, &r);
	med_layout_put(p->m, w->layout);
	med_origin_put(w->origin);
	free(w);
}

/* The biflow of the record that waited and r: the one that started first is forward. */
static void
pair(struct med_process *p, const struct corr_in *in, struct corr_wait *w,
		const struct med_record *r)
{
	struct corr_state *s = p->state;
	const uint8_t *fwd = w->data, *rev = r->data;
	const struct med_layout *l = r->layout;
	uint8_t *o = s->record + l->fixed_length;
	struct med_record out;

	if (in->start >= 0 && med_record_unsigned(r, in->start) <
			dpfix_ipfix_read_unsigned(w->data + l->offsets[in->start], l->lengths[in->start])) {
		fwd = r->data;
		rev = w->data;
	}
	memcpy(s->record, fwd, l->fixed_length);
	for (uint16_t i = 0; i < in->nb_reverse; i++) {
		int16_t f = in->reverse[i];

		memcpy(o, rev + l->offsets[f], l->lengths[f]);
		o += l->lengths[f];
	}
	out = (struct med_record){.layout = in->biflow, .data = s->record,
		.len = in->biflow->fixed_length, .offsets = in->biflow->offsets,
		.lengths = in->biflow->lengths, .origin = r->origin, .domain = r->domain};
	list_remove(s, w);
	s->paired++;
	med_emit(p, &out);
	med_layout_put(p->m, w->layout);
	med_origin_put(w->origin);
	free(w);
}

/* The connection's key, the same from both ends: the lower (address, port) first. */
static uint16_t
make_key(const struct corr_in *in, const struct med_record *r, uint8_t *key, int *forward)
{
	uint16_t alen = r->lengths[in->src];
	uint8_t a[18], b[18];
	uint16_t sport = (uint16_t)med_record_unsigned(r, in->sport);
	uint16_t dport = (uint16_t)med_record_unsigned(r, in->dport);

	memcpy(a, r->data + r->offsets[in->src], alen);
	dpfix_put16(a + alen, sport);
	memcpy(b, r->data + r->offsets[in->dst], alen);
	dpfix_put16(b + alen, dport);
	*forward = memcmp(a, b, alen + 2u) <= 0;
	memcpy(key, *forward ? a : b, alen + 2u);
	memcpy(key + alen + 2, *forward ? b : a, alen + 2u);
	key[2 * (alen + 2)] = (uint8_t)med_record_unsigned(r, in->proto);
	return (uint16_t)(2 * (alen + 2) + 1);
}

static void
corr_record(struct med_process *p, const struct med_record *r)
{
	struct corr_state *s = p->state;
	struct corr_in *in = r->layout->proc[p->stage];
	struct corr_wait *w;
	uint8_t key[40];
	uint16_t key_len;
	uint32_t hash = 2166136261u;
	int forward;

	if (in == NULL) {
		in = resolve(r->layout);
		if (in == NULL) {
			s->not_correlated++;
			med_emit(p, r);
			return;
		}
		r->layout->proc[p->stage] = in;
	}
	if (!in->usable) {
		s->not_correlated++;
		med_emit(p, r);
		return;
	}
	key_len = make_key(in, r, key, &forward);
	for (uint16_t i = 0; i < key_len; i++)
		hash = (hash ^ key[i]) * 16777619u;
	hash ^= (uint32_t)(uintptr_t)r->layout ^ (uint32_t)(uintptr_t)r->origin ^ r->domain;
	for (w = s->buckets[hash & (s->nb_buckets - 1)]; w != NULL; w = w->hash_next)
		if (w->hash == hash && w->layout == r->layout && w->origin == r->origin &&
				w->domain == r->domain && w->key_len == key_len &&
				memcmp(w->key, key, key_len) == 0)
			break;
	if (w != NULL && w->forward != forward) {
		pair(p, in, w, r);
		return;
	}
	if (w != NULL)
		release(p, w);     /* the same direction again: the first will find no partner */
	if (s->waiting >= s->max_waiting)
		release(p, s->head);
	w = malloc(sizeof(*w) + r->len);
	if (w == NULL) {
		s->not_correlated++;
		med_emit(p, r);
		return;
	}
	*w = (struct corr_wait){.since_ns = p->m->now_ns, .hash = hash, .forward = forward,
		.layout = r->layout, .origin = r->origin, .domain = r->domain, .key_len = key_len,
		.len = r->len, .prev = s->tail};
	memcpy(w->key, key, key_len);
	memcpy(w->data, r->data, r->len);
	med_layout_get(r->layout);
	if (r->origin != NULL)
		r->origin->refs++;
	w->hash_next = s->buckets[hash & (s->nb_buckets - 1)];
	s->buckets[hash & (s->nb_buckets - 1)] = w;
	if (s->tail != NULL)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	s->waiting++;
}

static void
corr_tick(struct med_process *p, uint64_t now_ns)
{
	struct corr_state *s = p->state;

	while (s->head != NULL && now_ns - s->head->since_ns >= s->timeout_ns)
		release(p, s->head);
}

static void
corr_flush(struct med_process *p, uint64_t now_ns)
{
	struct corr_state *s = p->state;

	(void)now_ns;
	while (s->head != NULL)
		release(p, s->head);
}

static void
corr_layout_gone(struct med_process *p, struct med_layout *l)
{
	struct corr_in *in = l->proc[p->stage];

	l->proc[p->stage] = NULL;
	if (in != NULL)
		med_layout_put(p->m, in->biflow);
	free(in);
}

static void
corr_counters(const struct med_process *p, void (*fn)(void *arg, const char *name,
		uint64_t value), void *arg)
{
	const struct corr_state *s = p->state;

	fn(arg, "biflows_paired", s->paired);
	fn(arg, "uniflows_unpaired", s->unpaired);
	fn(arg, "records_not_correlated", s->not_correlated);
}

static void
corr_free(struct med_process *p)
{
	struct corr_state *s = p->state;

	if (s == NULL)
		return;
	while (s->head != NULL) {
		struct corr_wait *w = s->head;

		s->head = w->next;
		med_layout_put(p->m, w->layout);
		med_origin_put(w->origin);
		free(w);
	}
	free(s->buckets);
	free(s);
	p->state = NULL;
}

const struct med_process_ops med_correlate_ops = {
	.create = corr_create,
	.record = corr_record,
	.tick = corr_tick,
	.flush = corr_flush,
	.layout_gone = corr_layout_gone,
	.counters = corr_counters,
	.free = corr_free,
	.changes_keys = 1,
};
