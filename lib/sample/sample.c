/* Selector parameters from their text form, their description, and the start of a
 * selector instance. Nothing here runs per packet. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_sample.h"

static const char *const algorithm_names[] = {
#define DPFIX_SAMPLE_ALGORITHM_NAME(NAME, name, iana, help) #name,
	DPFIX_SAMPLE_ALGORITHMS(DPFIX_SAMPLE_ALGORITHM_NAME)
#undef DPFIX_SAMPLE_ALGORITHM_NAME
};

static const uint16_t algorithm_iana[] = {
#define DPFIX_SAMPLE_ALGORITHM_IANA(NAME, name, iana, help) iana,
	DPFIX_SAMPLE_ALGORITHMS(DPFIX_SAMPLE_ALGORITHM_IANA)
#undef DPFIX_SAMPLE_ALGORITHM_IANA
};

const char *
dpfix_sample_algorithm_name(enum dpfix_sample_algorithm a)
{
	return (unsigned int)a < DPFIX_SAMPLE_ALGORITHM_COUNT ? algorithm_names[a] : "unknown";
}

uint16_t
dpfix_sample_algorithm_iana(enum dpfix_sample_algorithm a)
{
	return (unsigned int)a < DPFIX_SAMPLE_ALGORITHM_COUNT ? algorithm_iana[a] : 0;
}

/* A decimal number, or with hex set also 0x and hexadecimal digits, within [min, max].
 * Only digits: no sign, no spaces, no octal. */
static int
parse_number(const char *s, bool hex, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *digits = "0123456789";
	char *end;
	int base = 10;
	unsigned long long v;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		digits = "0123456789abcdefABCDEF";
	}
	if (s[0] == '\0' || s[strspn(s, digits)] != '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The name=value parameters each algorithm takes, and their ranges. */
struct param_rule {
	const char *name;
	uint64_t max;
	const char *what;
};

static const struct param_rule random_params[] = {
	{"seed", UINT64_MAX, "a number (decimal or 0x hex) below 2^64"},
	{NULL, 0, NULL},
};

static const struct param_rule hash_params[] = {
	/* BOB's initial value is 32 bits wide. */
	{"seed", UINT32_MAX, "a number (decimal or 0x hex) below 2^32, BOB's initial value"},
	{"payload_offset", UINT16_MAX, "a byte offset 0..65535 into the IP payload"},
	{"payload_size", DPFIX_SAMPLE_PAYLOAD_MAX, "a byte count 0..64"},
	{NULL, 0, NULL},
};

static int
parse_param(struct dpfix_sample_params *p, const struct param_rule *rules, char *item,
		unsigned int *given, char *err, size_t errlen)
{
	const char *alg = dpfix_sample_algorithm_name(p->algorithm);
	char *eq = strchr(item, '=');
	unsigned int i;
	uint64_t v;
	int len;

	if (eq != NULL)
		*eq = '\0';
	for (i = 0; rules != NULL && rules[i].name != NULL; i++)
		if (strcmp(rules[i].name, item) == 0)
			break;
	if (rules == NULL || rules[i].name == NULL) {
		if (rules == NULL) {
			snprintf(err, errlen, "%s takes no parameters, got '%s'", alg, item);
			return -EINVAL;
		}
		len = snprintf(err, errlen, "unknown parameter '%s' for %s (known:", item, alg);
		for (i = 0; rules[i].name != NULL && len > 0 && (size_t)len < errlen; i++)
			len += snprintf(err + len, errlen - (size_t)len, " %s", rules[i].name);
		if (len > 0 && (size_t)len < errlen)
			snprintf(err + len, errlen - (size_t)len, ")");
		return -EINVAL;
	}
	if (eq == NULL) {
		snprintf(err, errlen, "parameter %s needs a value: %s=VALUE", item, item);
		return -EINVAL;
	}
	if (*given & (1u << i)) {
		snprintf(err, errlen, "parameter %s given twice", item);
		return -EINVAL;
	}
	*given |= 1u << i;
	if (parse_number(eq + 1, true, 0, rules[i].max, &v) < 0) {
		snprintf(err, errlen, "%s '%s' is not %s", item, eq + 1, rules[i].what);
		return -EINVAL;
	}
	if (strcmp(item, "seed") == 0) {
		p->seed = v;
		p->seed_given = true;
	} else if (strcmp(item, "payload_offset") == 0) {
		p->payload_offset = (uint16_t)v;
	} else {
		p->payload_size = (uint16_t)v;
	}
	return 0;
}

int
dpfix_sample_parse(const char *text, struct dpfix_sample_params *p, char *err, size_t errlen)
{
	static const struct param_rule *const rules[] = {
		[DPFIX_SAMPLE_SYSTEMATIC] = NULL,
		[DPFIX_SAMPLE_RANDOM] = random_params,
		[DPFIX_SAMPLE_HASH] = hash_params,
	};
	char buf[256], *parts[8], *save = NULL;
	unsigned int nparts = 0, given = 0, a;
	uint64_t n, big_n;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "selector '%.40s...' is longer than %zu characters", text,
				sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, text);
	for (char *tok = strtok_r(buf, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
		if (nparts == sizeof(parts) / sizeof(parts[0])) {
			snprintf(err, errlen, "selector '%s' has too many parts", text);
			return -EINVAL;
		}
		parts[nparts++] = tok;
	}
	/* strtok_r merges separators; "a::b" must not pass for "a:b". */
	if (nparts < 3 || strstr(text, "::") != NULL || text[0] == ':' ||
			text[strlen(text) - 1] == ':') {
		snprintf(err, errlen, "selector '%s' is not ALGORITHM:n:N[:name=value...] "
				"(e.g. systematic:1:100)", text);
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	for (a = 0; a < DPFIX_SAMPLE_ALGORITHM_COUNT; a++)
		if (strcmp(parts[0], algorithm_names[a]) == 0)
			break;
	if (a == DPFIX_SAMPLE_ALGORITHM_COUNT) {
		snprintf(err, errlen, "unknown selector algorithm '%s' (known: systematic, random, "
				"hash)", parts[0]);
		return -EINVAL;
	}
	p->algorithm = (enum dpfix_sample_algorithm)a;
	if (parse_number(parts[1], false, 1, UINT32_MAX, &n) < 0 ||
			parse_number(parts[2], false, 1, UINT32_MAX, &big_n) < 0) {
		snprintf(err, errlen, "%s: n '%s' and N '%s' must be whole numbers in 1..4294967295",
				parts[0], parts[1], parts[2]);
		return -EINVAL;
	}
	if (n > big_n) {
		snprintf(err, errlen, "%s: n %" PRIu64 " is more than N %" PRIu64 " (n of every N "
				"packets)", parts[0], n, big_n);
		return -EINVAL;
	}
	p->size = (uint32_t)n;
	p->population = (uint32_t)big_n;
	p->payload_size = DPFIX_SAMPLE_PAYLOAD_SIZE_DEFAULT;
	for (unsigned int i = 3; i < nparts; i++)
		if (parse_param(p, rules[a], parts[i], &given, err, errlen) < 0)
			return -EINVAL;
	/* The lowest n/N of BOB's 2^32 outputs, rounded down (at least one value, as
	 * N < 2^32). */
	if (p->algorithm == DPFIX_SAMPLE_HASH)
		p->selected_max = (uint32_t)((((uint64_t)p->size << 32) / p->population) - 1);
	return 0;
}

void
dpfix_sample_describe(const struct dpfix_sample_params *p, char *buf, size_t len)
{
	switch (p->algorithm) {
	case DPFIX_SAMPLE_SYSTEMATIC:
		snprintf(buf, len, "systematic count-based (selectorAlgorithm 1): the first %" PRIu32
				" of every %" PRIu32 " packets", p->size, p->population);
		break;
	case DPFIX_SAMPLE_RANDOM:
		snprintf(buf, len, "random n-out-of-N (selectorAlgorithm 3): %" PRIu32 " of every %"
				PRIu32 " packets at random, seed %" PRIu64, p->size, p->population, p->seed);
		break;
	case DPFIX_SAMPLE_HASH:
		snprintf(buf, len, "hash-based with BOB (selectorAlgorithm 6): hashes 0..%" PRIu32
				" of 0..%" PRIu32 " (%" PRIu32 "/%" PRIu32 "), initialiser 0x%" PRIx64
				", %" PRIu16 " bytes of IP payload from offset %" PRIu16, p->selected_max,
				DPFIX_SAMPLE_HASH_OUTPUT_MAX, p->size, p->population, p->seed,
				p->payload_size, p->payload_offset);
		break;
	default:
		snprintf(buf, len, "unknown selector");
		break;
	}
}

void
dpfix_sample_init(struct dpfix_sample *s, const struct dpfix_sample_params *p, uint64_t instance)
{
	uint64_t mix = instance;

	memset(s, 0, sizeof(*s));
	s->algorithm = p->algorithm;
	s->size = p->size;
	s->population = p->population;
	s->pending = p->size;
	s->selected_max = p->selected_max;
	s->hash_init = (uint32_t)p->seed;
	s->payload_offset = p->payload_offset;
	s->payload_size = p->payload_size;
	/* The instance number, scrambled, moves each instance to a far-apart point of the
	 * generator's one 2^64 cycle. */
	s->rng = p->seed ^ dpfix_sample_random(&mix);
}
