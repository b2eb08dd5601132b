/* Anonymisation (RFC 6235): an Intermediate Process that changes elements of every
 * record (options records too) before they leave:
 *
 *   prefix-preserving KEYFILE [ELEMENT,...]   Crypto-PAn on addresses (default: every
 *                                             IPv4 and IPv6 address element but the
 *                                             exporter's, collector's and original
 *                                             exporter's), keyed by a 32-octet secret
 *   truncate ELEMENT/BITS,...                 keeps the first BITS bits, zeros the rest
 *   blacken ELEMENT,...                       zeros the whole value (ports, say)
 *
 * What it does to which element is told downstream in RFC 6235 anonymisation options
 * records (the output asks each process: technique). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_config.h"
#include "mediate_cryptopan.h"
#include "mediate_private.h"

#define MAX_ELEMENTS 32

/* RFC 6235 anonymizationTechnique values, and Stability Class "stable" (flags bits 0-1):
 * the same key (or no key) gives the same result across sessions and collectors. */
#define TECHNIQUE_TRUNCATION 2
#define TECHNIQUE_STRUCTURED_PERMUTATION 6
#define FLAGS_STABLE 3

enum method { PREFIX_PRESERVING, TRUNCATE, BLACKEN };

struct anon_element {
	const struct dpfix_ipfix_ie *ie;
	uint16_t bits;              /* truncate: kept */
};

struct anon_state {
	enum method method;
	struct anon_element elements[MAX_ELEMENTS];
	unsigned int nb_elements;   /* 0 with prefix-preserving: every address element */
	struct med_cryptopan *cryptopan;
	uint8_t record[UINT16_MAX + 1];
	uint64_t values_changed;
};

/* A layout's fields to change: (field, bits kept), ended by field -1. */
struct anon_fields {
	int16_t field;
	uint16_t bits;
};

static int
infrastructure_address(uint16_t id)
{
	return id == IE_exporterIPv4Address || id == IE_exporterIPv6Address ||
			id == IE_collectorIPv4Address || id == IE_collectorIPv6Address ||
			id == IE_originalExporterIPv4Address || id == IE_originalExporterIPv6Address;
}

static int
is_address(const struct dpfix_ipfix_ie *ie)
{
	return ie->type == DPFIX_IPFIX_IPV4_ADDRESS || ie->type == DPFIX_IPFIX_IPV6_ADDRESS;
}

/* Reads 32 octets written as 64 hex digits (spaces and newlines between them allowed)
 * from a file only its owner may read. */
static int
read_key(const char *path, uint8_t key[MED_CRYPTOPAN_KEY_LEN], char *err, size_t errlen)
{
	FILE *f = dpfix_config_open_secret("key file", path, err, errlen);
	size_t n = 0;
	int c, high = -1;

	if (f == NULL)
		return -EINVAL;
	while ((c = fgetc(f)) != EOF) {
		int v;

		if (isspace(c))
			continue;
		if (!isxdigit(c) || n == MED_CRYPTOPAN_KEY_LEN) {
			n = MED_CRYPTOPAN_KEY_LEN + 1;
			break;
		}
		v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		if (high < 0) {
			high = v;
		} else {
			key[n++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	fclose(f);
	if (n != MED_CRYPTOPAN_KEY_LEN || high >= 0) {
		snprintf(err, errlen, "key file %s: want 64 hex digits (a 32-octet key)", path);
		return -EINVAL;
	}
	return 0;
}

/* ELEMENT or ELEMENT/BITS items of a comma-separated list. */
static int
parse_elements(struct anon_state *s, const char *list, char *err, size_t errlen)
{
	char item[DPFIX_IPFIX_IE_NAME_MAX + 8];

	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		struct anon_element *e = &s->elements[s->nb_elements];
		char *slash;

		if (n == 0 || n >= sizeof(item) || s->nb_elements == MAX_ELEMENTS) {
			snprintf(err, errlen, "'%s': at most %d elements, each a name", list, MAX_ELEMENTS);
			return -EINVAL;
		}
		memcpy(item, list, n);
		item[n] = '\0';
		list += n + (list[n] == ',');
		slash = strchr(item, '/');
		if (slash != NULL)
			*slash = '\0';
		e->ie = dpfix_ipfix_ie_by_name(item);
		if (e->ie == NULL || e->ie->pen != 0) {
			snprintf(err, errlen, "'%s': not the name of an IANA information element", item);
			return -EINVAL;
		}
		if ((s->method == TRUNCATE) != (slash != NULL)) {
			snprintf(err, errlen, "'%s': %s", item, s->method == TRUNCATE ?
					"truncate takes ELEMENT/BITS" : "only truncate takes /BITS");
			return -EINVAL;
		}
		if (s->method == PREFIX_PRESERVING && !is_address(e->ie)) {
			snprintf(err, errlen, "'%s': prefix-preserving is for IPv4 and IPv6 addresses",
					item);
			return -EINVAL;
		}
		if (slash != NULL) {
			char *end;
			unsigned long bits = strtoul(slash + 1, &end, 10);
			uint16_t size = dpfix_ipfix_type_size(e->ie->type);

			if (*end != '\0' || slash[1] == '\0' || size == 0 || bits >= size * 8u) {
				snprintf(err, errlen, "'%s/%s': BITS below the element's %u bits of a "
						"fixed-size type", item, slash + 1, size * 8u);
				return -EINVAL;
			}
			e->bits = (uint16_t)bits;
		}
		s->nb_elements++;
	}
	return 0;
}

static void anon_free(struct med_process *p);

static int
anon_create(struct med_process *p, const char *text, char *err, size_t errlen)
{
	struct anon_state *s = calloc(1, sizeof(*s));
	char method[32], arg1[DPFIX_MEDIATE_SPEC_LEN], arg2[DPFIX_MEDIATE_SPEC_LEN];
	int n;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->state = s;
	arg1[0] = arg2[0] = '\0';
	n = sscanf(text, "%31s %319s %319s", method, arg1, arg2);
	if (n >= 1 && strcmp(method, "prefix-preserving") == 0 && n >= 2) {
		uint8_t key[MED_CRYPTOPAN_KEY_LEN];

		s->method = PREFIX_PRESERVING;
		if (read_key(arg1, key, err, errlen) < 0 ||
				parse_elements(s, arg2, err, errlen) < 0)
			goto fail;
		s->cryptopan = med_cryptopan_new(key);
		memset(key, 0, sizeof(key));
		if (s->cryptopan == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		return 0;
	}
	if (n == 2 && (strcmp(method, "truncate") == 0 || strcmp(method, "blacken") == 0)) {
		s->method = method[0] == 't' ? TRUNCATE : BLACKEN;
		if (parse_elements(s, arg1, err, errlen) < 0)
			goto fail;
		return 0;
	}
	snprintf(err, errlen, "want 'prefix-preserving KEYFILE [ELEMENT,...]', "
			"'truncate ELEMENT/BITS,...' or 'blacken ELEMENT,...'");
fail:
	anon_free(p);
	return -EINVAL;
}

/* The element entry that applies to ie, or NULL. */
static const struct anon_element *
applies(const struct anon_state *s, const struct dpfix_ipfix_ie *ie)
{
	static const struct anon_element every_address;

	if (ie == NULL)
		return NULL;
	if (s->method == PREFIX_PRESERVING && s->nb_elements == 0)
		return ie->pen == 0 && is_address(ie) && !infrastructure_address(ie->id) ?
				&every_address : NULL;
	for (unsigned int i = 0; i < s->nb_elements; i++)
		if (s->elements[i].ie == ie)
			return &s->elements[i];
	return NULL;
}

static struct anon_fields *
resolve(const struct anon_state *s, const struct med_layout *l)
{
	struct anon_fields *f = malloc((l->t.field_count + 1u) * sizeof(*f));
	unsigned int n = 0;

	if (f == NULL)
		return NULL;
	for (uint16_t i = 0; i < l->t.field_count; i++) {
		const struct dpfix_ipfix_field_spec *spec = &l->t.fields[i];
		const struct anon_element *e = applies(s, dpfix_ipfix_ie_by_id(spec->pen, spec->id));

		if (e != NULL)
			f[n++] = (struct anon_fields){.field = (int16_t)i, .bits = e->bits};
	}
	f[n].field = -1;
	return f;
}

static void
anon_record(struct med_process *p, const struct med_record *r)
{
	struct anon_state *s = p->state;
	struct anon_fields *f = r->layout->proc[p->stage];
	struct med_record out = *r;

	if (f == NULL) {
		f = resolve(s, r->layout);
		if (f == NULL) {
			/* Never passed on unchanged: counted lost instead. */
			p->m->stats.records_no_template++;
			med_count_lost(p->m, r);
			return;
		}
		r->layout->proc[p->stage] = f;
	}
	if (f->field < 0) {
		med_emit(p, r);
		return;
	}
	memcpy(s->record, r->data, r->len);
	out.data = s->record;
	for (; f->field >= 0; f++) {
		uint8_t *v = s->record + r->offsets[f->field];
		uint16_t len = r->lengths[f->field];

		switch (s->method) {
		case PREFIX_PRESERVING:
			med_cryptopan_address(s->cryptopan, v, len);
			break;
		case TRUNCATE:
			for (unsigned int b = f->bits; b < len * 8u; b++)
				v[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			break;
		case BLACKEN:
			memset(v, 0, len);
			break;
		}
		s->values_changed++;
	}
	med_emit(p, &out);
}

static int
anon_technique(const struct med_process *p, uint32_t pen, uint16_t id, uint16_t *flags,
		uint16_t *technique)
{
	const struct anon_state *s = p->state;

	if (applies(s, dpfix_ipfix_ie_by_id(pen, id)) == NULL)
		return 0;
	*flags = FLAGS_STABLE;
	*technique = s->method == PREFIX_PRESERVING ? TECHNIQUE_STRUCTURED_PERMUTATION :
			TECHNIQUE_TRUNCATION;
	return 1;
}

static void
anon_counters(const struct med_process *p, void (*fn)(void *arg, const char *name,
		uint64_t value), void *arg)
{
	const struct anon_state *s = p->state;

	fn(arg, "values_anonymised", s->values_changed);
}

static void
anon_free(struct med_process *p)
{
	struct anon_state *s = p->state;

	if (s != NULL)
		med_cryptopan_free(s->cryptopan);
	free(s);
	p->state = NULL;
}

const struct med_process_ops med_anonymise_ops = {
	.create = anon_create,
	.record = anon_record,
	.technique = anon_technique,
	.counters = anon_counters,
	.free = anon_free,
	.takes_options = 1,
};
