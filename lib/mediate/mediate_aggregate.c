/* Aggregation (RFC 7015): an Intermediate Process that aggregates flow records on new
 * flow keys (elements of the records, addresses cut to a prefix, others dropped) into
 * Aggregated Flows of its own: counters summed, flow start and end the earliest and
 * latest, flags ORed, minimum and maximum kept, and the original flows counted
 * (originalFlowsPresent, Initiated, Completed). An Aggregated Flow ends after
 * idle_timeout without a contributing record or active_timeout after it began (in the
 * Mediator's time), or when the table is full (the least recently updated), or at the
 * end; then it is passed on. Records whose keys are partly absent (IPv6 records when
 * keys name IPv4 addresses) aggregate among themselves in a template of the keys they
 * have. Per exporter and observation domain unless by_exporter = no. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mediate_private.h"

#define AGG_MAX_KEYS 16
#define AGG_MAX_VALUES 16
#define AGG_MAX_KEY_LEN 256

enum value_fn { FN_SUM, FN_MIN, FN_MAX, FN_OR, FN_START, FN_END };

struct agg_key {
	const struct dpfix_ipfix_ie *ie;
	uint16_t len;               /* in the Aggregated Flow: the type's full size */
	uint8_t bits;               /* kept of an address; len * 8 unless masked */
	uint16_t prefix_ie;         /* the prefix length element written after it; 0 none */
};

struct agg_value {
	const struct dpfix_ipfix_ie *ie;
	enum value_fn fn;
	uint16_t len;
	int seconds;                /* FN_START, FN_END: seconds, else milliseconds */
};

/* The template of the Aggregated Flows of one subset of the keys. */
struct agg_out {
	uint32_t mask;              /* the keys present */
	uint16_t key_len;           /* their octets, prefix lengths included */
	struct med_layout *layout;
};

/* What a process knows of an incoming layout. */
struct agg_in {
	int16_t key_field[AGG_MAX_KEYS];
	int16_t value_field[AGG_MAX_VALUES];
	enum dpfix_ipfix_type value_type[AGG_MAX_VALUES]; /* of the field read */
	int16_t end_reason_field;
	struct agg_out *out;
};

struct agg_flow {
	struct agg_flow *hash_next;
	struct agg_flow *idle_prev, *idle_next;     /* least recently updated first */
	struct agg_flow *age_prev, *age_next;       /* oldest first */
	uint64_t created_ns, updated_ns;
	struct agg_out *out;
	struct med_origin *origin;
	uint32_t domain;
	uint32_t hash;
	uint64_t present, completed;
	uint64_t v[AGG_MAX_VALUES];
	uint8_t key[];
};

struct agg_list {
	struct agg_flow *head, *tail;
};

struct agg_state {
	struct agg_key keys[AGG_MAX_KEYS];
	unsigned int nb_keys;
	struct agg_value values[AGG_MAX_VALUES];
	unsigned int nb_values;
	uint64_t active_ns, idle_ns;
	uint32_t max_flows;
	int by_exporter;
	struct agg_out *outs[64];
	unsigned int nb_outs;
	struct agg_flow **buckets;
	uint32_t nb_buckets;
	uint32_t flows;
	struct agg_list idle, age;
	uint8_t record[DPFIX_IPFIX_SCHEMA_MAX_LENGTH];
	uint64_t created, ended_idle, ended_active, ended_full, ended_at_end, no_keys;
};

/* ---- configuration ---- */

static int
parse_seconds(const char *v, uint64_t *ns)
{
	char *end;
	double s = strtod(v, &end);

	if (end == v || *end != '\0' || s <= 0 || s > 86400)
		return -1;
	*ns = (uint64_t)(s * 1e9);
	return 0;
}

/* The prefix length element RFC 7012 has for a masked address, or 0. */
static uint16_t
prefix_element(uint16_t id)
{
	switch (id) {
	case IE_sourceIPv4Address: return IE_sourceIPv4PrefixLength;
	case IE_destinationIPv4Address: return IE_destinationIPv4PrefixLength;
	case IE_sourceIPv6Address: return IE_sourceIPv6PrefixLength;
	case IE_destinationIPv6Address: return IE_destinationIPv6PrefixLength;
	default: return 0;
	}
}

static int
add_key(struct agg_state *s, const char *item, char *err, size_t errlen)
{
	char name[DPFIX_IPFIX_IE_NAME_MAX + 1];
	const char *slash = strchr(item, '/');
	size_t n = slash != NULL ? (size_t)(slash - item) : strlen(item);
	struct agg_key *k = &s->keys[s->nb_keys];
	int address;

	if (s->nb_keys == AGG_MAX_KEYS || n >= sizeof(name)) {
		snprintf(err, errlen, "at most %d keys", AGG_MAX_KEYS);
		return -EINVAL;
	}
	memcpy(name, item, n);
	name[n] = '\0';
	k->ie = dpfix_ipfix_ie_by_name(name);
	if (k->ie == NULL) {
		snprintf(err, errlen, "key '%s': no information element has this name", name);
		return -EINVAL;
	}
	k->len = dpfix_ipfix_type_size(k->ie->type);
	if (k->len == 0 || k->len > 16) {
		snprintf(err, errlen, "key '%s': a %s cannot be a key here (fixed-size types only)",
				name, dpfix_ipfix_type_name(k->ie->type));
		return -EINVAL;
	}
	address = k->ie->type == DPFIX_IPFIX_IPV4_ADDRESS || k->ie->type == DPFIX_IPFIX_IPV6_ADDRESS;
	k->bits = (uint8_t)(k->len * 8);
	if (slash != NULL) {
		char *end;
		unsigned long bits = strtoul(slash + 1, &end, 10);

		if (!address || *end != '\0' || slash[1] == '\0' || bits > k->len * 8u) {
			snprintf(err, errlen, "key '%s': /BITS is for addresses, at most %u", item,
					address ? k->len * 8u : 0);
			return -EINVAL;
		}
		k->bits = (uint8_t)bits;
		k->prefix_ie = k->ie->pen == 0 ? prefix_element(k->ie->id) : 0;
	}
	s->nb_keys++;
	return 0;
}

static int
add_value(struct agg_state *s, const char *name, char *err, size_t errlen)
{
	struct agg_value *v = &s->values[s->nb_values];
	const char *n;

	if (s->nb_values == AGG_MAX_VALUES) {
		snprintf(err, errlen, "at most %d values", AGG_MAX_VALUES);
		return -EINVAL;
	}
	v->ie = dpfix_ipfix_ie_by_name(name);
	if (v->ie == NULL) {
		snprintf(err, errlen, "value '%s': no information element has this name", name);
		return -EINVAL;
	}
	n = v->ie->name;
	v->len = dpfix_ipfix_type_size(v->ie->type);
	if (v->ie->pen == 0 && (v->ie->id == IE_flowStartSeconds || v->ie->id == IE_flowEndSeconds ||
			v->ie->id == IE_flowStartMilliseconds || v->ie->id == IE_flowEndMilliseconds)) {
		v->fn = strncmp(n, "flowStart", 9) == 0 ? FN_START : FN_END;
		v->seconds = v->ie->id == IE_flowStartSeconds || v->ie->id == IE_flowEndSeconds;
	} else if (v->len == 0 || v->len > 8 || v->ie->type > DPFIX_IPFIX_UNSIGNED64) {
		snprintf(err, errlen, "value '%s': only unsigned integers and flow start and end "
				"times (seconds, milliseconds) are aggregated", name);
		return -EINVAL;
	} else if (v->ie->semantics == DPFIX_IPFIX_SEM_DELTA_COUNTER ||
			v->ie->semantics == DPFIX_IPFIX_SEM_TOTAL_COUNTER) {
		v->fn = FN_SUM;
	} else if (v->ie->semantics == DPFIX_IPFIX_SEM_FLAGS) {
		v->fn = FN_OR;
	} else if (strncmp(n, "minimum", 7) == 0 || strncmp(n, "reverseMinimum", 14) == 0) {
		v->fn = FN_MIN;
	} else if (strncmp(n, "maximum", 7) == 0 || strncmp(n, "reverseMaximum", 14) == 0) {
		v->fn = FN_MAX;
	} else {
		snprintf(err, errlen, "value '%s': not a counter, flags, minimum, maximum or flow "
				"time: no way to aggregate it", name);
		return -EINVAL;
	}
	s->nb_values++;
	return 0;
}

/* A comma-separated list, each item given to add. */
static int
each_item(struct agg_state *s, const char *list, int (*add)(struct agg_state *, const char *,
		char *, size_t), char *err, size_t errlen)
{
	char item[128];

	while (*list != '\0') {
		size_t n = strcspn(list, ",");

		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "an empty or too long item in '%s'", list);
			return -EINVAL;
		}
		memcpy(item, list, n);
		item[n] = '\0';
		if (add(s, item, err, errlen) < 0)
			return -EINVAL;
		list += n + (list[n] == ',');
	}
	return 0;
}

static int
parse_setting(struct agg_state *s, const char *word, char *err, size_t errlen)
{
	const char *eq = strchr(word, '=');
	char *end;

	if (eq == NULL) {
		snprintf(err, errlen, "'%s': settings are NAME=VALUE", word);
		return -EINVAL;
	}
	if (strncmp(word, "keys=", 5) == 0)
		return each_item(s, eq + 1, add_key, err, errlen);
	if (strncmp(word, "values=", 7) == 0) {
		s->nb_values = 0;
		return each_item(s, eq + 1, add_value, err, errlen);
	}
	if ((strncmp(word, "active_timeout=", 15) == 0 && parse_seconds(eq + 1, &s->active_ns) == 0) ||
			(strncmp(word, "idle_timeout=", 13) == 0 && parse_seconds(eq + 1, &s->idle_ns) == 0))
		return 0;
	if (strncmp(word, "max_flows=", 10) == 0) {
		unsigned long v = strtoul(eq + 1, &end, 10);

		if (*end == '\0' && v >= 1 && v <= (1ul << 26)) {
			s->max_flows = (uint32_t)v;
			return 0;
		}
	}
	if (strcmp(word, "by_exporter=yes") == 0 || strcmp(word, "by_exporter=no") == 0) {
		s->by_exporter = word[12] == 'y';
		return 0;
	}
	snprintf(err, errlen, "'%s': not one of keys=, values=, active_timeout=SECONDS, "
			"idle_timeout=SECONDS, max_flows=1..67108864, by_exporter=yes|no", word);
	return -EINVAL;
}

static void agg_free(struct med_process *p);

static int
agg_create(struct med_process *p, const char *text, char *err, size_t errlen)
{
	struct agg_state *s = calloc(1, sizeof(*s));
	char word[DPFIX_MEDIATE_SPEC_LEN];
	static const char *const default_values[] = {"packetDeltaCount", "octetDeltaCount",
		"flowStartMilliseconds", "flowEndMilliseconds"};

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->state = s;
	s->active_ns = 60 * 1000000000ull;
	s->idle_ns = 15 * 1000000000ull;
	s->max_flows = 262144;
	s->by_exporter = 1;
	for (unsigned int i = 0; i < 4; i++)
		add_value(s, default_values[i], err, errlen);
	while (*text != '\0') {
		size_t n;

		while (isspace((unsigned char)*text))
			text++;
		n = strcspn(text, " \t");
		if (n == 0)
			break;
		if (n >= sizeof(word)) {
			snprintf(err, errlen, "a setting too long");
			goto fail;
		}
		memcpy(word, text, n);
		word[n] = '\0';
		text += n;
		if (parse_setting(s, word, err, errlen) < 0)
			goto fail;
	}
	if (s->nb_keys == 0) {
		snprintf(err, errlen, "keys=ELEMENT[/BITS],... is required");
		goto fail;
	}
	for (s->nb_buckets = 1024; s->nb_buckets < s->max_flows && s->nb_buckets < (1u << 24);)
		s->nb_buckets *= 2;
	s->buckets = calloc(s->nb_buckets, sizeof(s->buckets[0]));
	if (s->buckets == NULL) {
		snprintf(err, errlen, "out of memory for %u flows", s->max_flows);
		goto fail;
	}
	return 0;
fail:
	agg_free(p);
	return -EINVAL;
}

/* ---- layouts ---- */

/* The template of Aggregated Flows with keys mask: the keys (with prefix lengths), the
 * values, then the original flows' counts; its flow keys are the keys. */
static struct agg_out *
out_for_mask(struct agg_state *s, uint32_t mask)
{
	struct dpfix_ipfix_template t;
	struct agg_out *o;
	uint64_t keys = 0;
	uint16_t key_len = 0;

	for (unsigned int i = 0; i < s->nb_outs; i++)
		if (s->outs[i]->mask == mask)
			return s->outs[i];
	if (s->nb_outs == sizeof(s->outs) / sizeof(s->outs[0]))
		return NULL;
	dpfix_ipfix_template_init(&t, 256, 0);
	for (unsigned int i = 0; i < s->nb_keys; i++) {
		const struct agg_key *k = &s->keys[i];

		if (!(mask & (1u << i)))
			continue;
		keys |= 1ull << t.field_count;
		dpfix_ipfix_template_add(&t, k->ie->pen, k->ie->id, k->len);
		key_len += k->len;
		if (k->prefix_ie != 0) {
			keys |= 1ull << t.field_count;
			dpfix_ipfix_template_add(&t, 0, k->prefix_ie, 1);
			key_len++;
		}
	}
	for (unsigned int i = 0; i < s->nb_values; i++)
		dpfix_ipfix_template_add(&t, s->values[i].ie->pen, s->values[i].ie->id,
				s->values[i].len);
	dpfix_ipfix_template_add(&t, 0, IE_originalFlowsPresent, 8);
	dpfix_ipfix_template_add(&t, 0, IE_originalFlowsInitiated, 8);
	dpfix_ipfix_template_add(&t, 0, IE_originalFlowsCompleted, 8);
	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->layout = med_layout_new(&t)) == NULL) {
		free(o);
		return NULL;
	}
	o->mask = mask;
	o->key_len = key_len;
	o->layout->own = 1;
	o->layout->flow_key_indicator = keys;
	s->outs[s->nb_outs++] = o;
	return o;
}

static int16_t
find_time(const struct med_layout *l, int start, enum dpfix_ipfix_type *type)
{
	static const uint16_t starts[] = {IE_flowStartMilliseconds, IE_flowStartMicroseconds,
		IE_flowStartNanoseconds, IE_flowStartSeconds};
	static const uint16_t ends[] = {IE_flowEndMilliseconds, IE_flowEndMicroseconds,
		IE_flowEndNanoseconds, IE_flowEndSeconds};

	for (unsigned int i = 0; i < 4; i++) {
		int f = med_layout_find(l, 0, start ? starts[i] : ends[i]);

		if (f >= 0) {
			*type = dpfix_ipfix_ie_by_id(0, start ? starts[i] : ends[i])->type;
			return (int16_t)f;
		}
	}
	return -1;
}

static struct agg_in *
resolve(struct agg_state *s, const struct med_layout *l)
{
	struct agg_in *in = calloc(1, sizeof(*in));
	uint32_t mask = 0;

	if (in == NULL)
		return NULL;
	for (unsigned int i = 0; i < s->nb_keys; i++) {
		in->key_field[i] = (int16_t)med_layout_find(l, s->keys[i].ie->pen, s->keys[i].ie->id);
		if (in->key_field[i] >= 0 && l->lengths[in->key_field[i]] != DPFIX_IPFIX_VARLEN)
			mask |= 1u << i;
		else
			in->key_field[i] = -1;
	}
	for (unsigned int i = 0; i < s->nb_values; i++) {
		const struct agg_value *v = &s->values[i];

		if (v->fn == FN_START || v->fn == FN_END) {
			in->value_field[i] = find_time(l, v->fn == FN_START, &in->value_type[i]);
		} else {
			in->value_field[i] = (int16_t)med_layout_find(l, v->ie->pen, v->ie->id);
			in->value_type[i] = v->ie->type;
		}
	}
	in->end_reason_field = (int16_t)med_layout_find(l, 0, IE_flowEndReason);
	in->out = out_for_mask(s, mask);
	if (in->out == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

/* ---- the table ---- */

static void
list_append(struct agg_list *l, struct agg_flow *f, int idle)
{
	struct agg_flow **prev = idle ? &f->idle_prev : &f->age_prev;
	struct agg_flow **next = idle ? &f->idle_next : &f->age_next;

	*prev = l->tail;
	*next = NULL;
	if (l->tail != NULL)
		*(idle ? &l->tail->idle_next : &l->tail->age_next) = f;
	else
		l->head = f;
	l->tail = f;
}

static void
list_remove(struct agg_list *l, struct agg_flow *f, int idle)
{
	struct agg_flow *prev = idle ? f->idle_prev : f->age_prev;
	struct agg_flow *next = idle ? f->idle_next : f->age_next;

	if (prev != NULL)
		*(idle ? &prev->idle_next : &prev->age_next) = next;
	else
		l->head = next;
	if (next != NULL)
		*(idle ? &next->idle_prev : &next->age_prev) = prev;
	else
		l->tail = prev;
}

static uint32_t
flow_hash(const uint8_t *key, uint16_t len, const struct agg_out *o,
		const struct med_origin *origin, uint32_t domain)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uintptr_t)o ^ (uintptr_t)origin * 31 ^ domain;

	for (uint16_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ h >> 32);
}

static uint64_t
to_ms(const struct med_record *r, int16_t field, enum dpfix_ipfix_type type)
{
	struct dpfix_ipfix_value v;

	if (type == DPFIX_IPFIX_DATETIME_MILLISECONDS)
		return med_record_unsigned(r, field);
	if (type == DPFIX_IPFIX_DATETIME_SECONDS)
		return med_record_unsigned(r, field) * 1000;
	if (dpfix_ipfix_value_decode(type, r->data + r->offsets[field], r->lengths[field],
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &v) < 0 || v.t.sec < 0)
		return 0;
	return (uint64_t)v.t.sec * 1000 + v.t.nsec / 1000000;
}

static void
add_values(struct agg_state *s, struct agg_flow *f, const struct agg_in *in,
		const struct med_record *r)
{
	for (unsigned int i = 0; i < s->nb_values; i++) {
		int16_t field = in->value_field[i];
		uint64_t x;

		if (field < 0)
			continue;
		switch (s->values[i].fn) {
		case FN_SUM:
			f->v[i] += med_record_unsigned(r, field);
			break;
		case FN_OR:
			f->v[i] |= med_record_unsigned(r, field);
			break;
		case FN_MIN:
			x = med_record_unsigned(r, field);
			f->v[i] = x < f->v[i] ? x : f->v[i];
			break;
		case FN_MAX:
			x = med_record_unsigned(r, field);
			f->v[i] = x > f->v[i] ? x : f->v[i];
			break;
		case FN_START:
			x = to_ms(r, field, in->value_type[i]);
			f->v[i] = x < f->v[i] ? x : f->v[i];
			break;
		case FN_END:
			x = to_ms(r, field, in->value_type[i]);
			f->v[i] = x > f->v[i] ? x : f->v[i];
			break;
		}
	}
	f->present++;
	/* An original flow ended by its active timeout goes on in a later record: its last
	 * packet is not here (RFC 7015 7.3, flowEndReason 2). */
	if (in->end_reason_field < 0 || med_record_unsigned(r, in->end_reason_field) != 2)
		f->completed++;
}

/* An Aggregated Flow ends: its record goes on, its entry is freed. */
static void
end_flow(struct med_process *p, struct agg_flow *f, uint64_t *why)
{
	struct agg_state *s = p->state;
	struct agg_flow **slot = &s->buckets[f->hash & (s->nb_buckets - 1)];
	struct med_layout *l = f->out->layout;
	uint8_t *o = s->record + f->out->key_len;
	struct med_record r;

	while (*slot != f)
		slot = &(*slot)->hash_next;
	*slot = f->hash_next;
	list_remove(&s->idle, f, 1);
	list_remove(&s->age, f, 0);
	s->flows--;
	(*why)++;
	memcpy(s->record, f->key, f->out->key_len);
	for (unsigned int i = 0; i < s->nb_values; i++) {
		const struct agg_value *v = &s->values[i];
		uint64_t x = f->v[i];

		if ((v->fn == FN_MIN || v->fn == FN_START) && x == UINT64_MAX)
			x = 0;      /* no original flow had it */
		if (v->seconds)
			x /= 1000;
		dpfix_put_be(o, x, v->len);
		o += v->len;
	}
	dpfix_put_be(o, f->present, 8);
	dpfix_put_be(o + 8, f->present, 8);
	dpfix_put_be(o + 16, f->completed, 8);
	r = (struct med_record){.layout = l, .data = s->record, .len = l->fixed_length,
		.offsets = l->offsets, .lengths = l->lengths, .origin = f->origin, .domain = f->domain};
	med_emit(p, &r);
	med_origin_put(f->origin);
	free(f);
}

/* The key of r's Aggregated Flow into key (its keys present, addresses cut). */
static void
make_key(const struct agg_state *s, const struct agg_in *in, const struct med_record *r,
		uint8_t *key)
{
	for (unsigned int i = 0; i < s->nb_keys; i++) {
		const struct agg_key *k = &s->keys[i];
		int16_t field = in->key_field[i];

		if (field < 0)
			continue;
		if (k->ie->type == DPFIX_IPFIX_IPV4_ADDRESS || k->ie->type == DPFIX_IPFIX_IPV6_ADDRESS ||
				k->ie->type == DPFIX_IPFIX_MAC_ADDRESS || r->lengths[field] > 8) {
			uint16_t n = r->lengths[field] < k->len ? r->lengths[field] : k->len;

			memset(key, 0, k->len);
			memcpy(key, r->data + r->offsets[field], n);
			for (unsigned int b = k->bits; b < k->len * 8u; b++)
				key[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		} else {
			/* Integers of any reduced size, at the type's full size. */
			dpfix_put_be(key, med_record_unsigned(r, field), k->len);
		}
		key += k->len;
		if (k->prefix_ie != 0)
			*key++ = k->bits;
	}
}

static void
agg_record(struct med_process *p, const struct med_record *r)
{
	struct agg_state *s = p->state;
	struct agg_in *in = r->layout->proc[p->stage];
	uint8_t key[AGG_MAX_KEY_LEN];
	struct med_origin *origin = s->by_exporter ? r->origin : NULL;
	uint32_t domain = s->by_exporter ? r->domain : 0;
	uint64_t now = p->m->now_ns;
	struct agg_flow *f;
	uint32_t hash;

	if (in == NULL) {
		in = resolve(s, r->layout);
		if (in == NULL) {
			s->no_keys++;
			med_emit(p, r); /* passed on as it is rather than lost */
			return;
		}
		r->layout->proc[p->stage] = in;
	}
	make_key(s, in, r, key);
	hash = flow_hash(key, in->out->key_len, in->out, origin, domain);
	for (f = s->buckets[hash & (s->nb_buckets - 1)]; f != NULL; f = f->hash_next)
		if (f->hash == hash && f->out == in->out && f->origin == origin &&
				f->domain == domain && memcmp(f->key, key, in->out->key_len) == 0)
			break;
	if (f == NULL) {
		if (s->flows >= s->max_flows)
			end_flow(p, s->idle.head, &s->ended_full);
		f = calloc(1, sizeof(*f) + in->out->key_len);
		if (f == NULL) {
			s->no_keys++;
			med_emit(p, r);
			return;
		}
		f->out = in->out;
		f->origin = origin;
		if (origin != NULL)
			origin->refs++;
		f->domain = domain;
		f->hash = hash;
		f->created_ns = now;
		memcpy(f->key, key, in->out->key_len);
		for (unsigned int i = 0; i < s->nb_values; i++)
			f->v[i] = s->values[i].fn == FN_MIN || s->values[i].fn == FN_START ? UINT64_MAX : 0;
		f->hash_next = s->buckets[hash & (s->nb_buckets - 1)];
		s->buckets[hash & (s->nb_buckets - 1)] = f;
		list_append(&s->age, f, 0);
		s->flows++;
		s->created++;
	} else {
		list_remove(&s->idle, f, 1);
	}
	list_append(&s->idle, f, 1);
	f->updated_ns = now;
	add_values(s, f, in, r);
}

static void
agg_tick(struct med_process *p, uint64_t now_ns)
{
	struct agg_state *s = p->state;

	while (s->idle.head != NULL && now_ns - s->idle.head->updated_ns >= s->idle_ns)
		end_flow(p, s->idle.head, &s->ended_idle);
	while (s->age.head != NULL && now_ns - s->age.head->created_ns >= s->active_ns)
		end_flow(p, s->age.head, &s->ended_active);
}

static void
agg_flush(struct med_process *p, uint64_t now_ns)
{
	struct agg_state *s = p->state;

	(void)now_ns;
	while (s->age.head != NULL)
		end_flow(p, s->age.head, &s->ended_at_end);
}

static void
agg_counters(const struct med_process *p, void (*fn)(void *arg, const char *name,
		uint64_t value), void *arg)
{
	const struct agg_state *s = p->state;

	fn(arg, "aggregates_created", s->created);
	fn(arg, "aggregates_ended_idle", s->ended_idle);
	fn(arg, "aggregates_ended_active", s->ended_active);
	fn(arg, "aggregates_ended_full", s->ended_full);
	fn(arg, "aggregates_ended_at_end", s->ended_at_end);
	fn(arg, "aggregates_open", s->flows);
	fn(arg, "records_not_aggregated", s->no_keys);
}

static void
agg_free(struct med_process *p)
{
	struct agg_state *s = p->state;

	if (s == NULL)
		return;
	while (s->age.head != NULL) {
		struct agg_flow *f = s->age.head;

		s->age.head = f->age_next;
		med_origin_put(f->origin);
		free(f);
	}
	for (unsigned int i = 0; i < s->nb_outs; i++) {
		med_layout_put(p->m, s->outs[i]->layout);
		free(s->outs[i]);
	}
	free(s->buckets);
	free(s);
	p->state = NULL;
}

const struct med_process_ops med_aggregate_ops = {
	.create = agg_create,
	.record = agg_record,
	.tick = agg_tick,
	.flush = agg_flush,
	.counters = agg_counters,
	.free = agg_free,
	.changes_keys = 1,
};
