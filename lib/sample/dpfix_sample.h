/* Packet selection (PSAMP): the systematic count-based, random n-out-of-N and
 * hash-based Selectors of RFC 5475, described by the parameters RFC 5477 exports.
 * A selector instance belongs to one worker: no locks, no allocation, no syscalls. */
#ifndef DPFIX_SAMPLE_H
#define DPFIX_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpfix_parse.h"

/* X(NAME, name, selector_algorithm, help): the config name and the value of the IANA
 * PSAMP selectorAlgorithm registry (RFC 5476) a collector sees. */
#define DPFIX_SAMPLE_ALGORITHMS(X) \
	X(SYSTEMATIC, systematic, 1, "systematic count-based: the first n packets of every N") \
	X(RANDOM, random, 3, "random n-out-of-N: n packets drawn at random from every N") \
	X(HASH, hash, 6, "hash-based filtering with BOB: packets whose hash of invariant " \
			"content falls in the lowest n/N of the hash range")

enum dpfix_sample_algorithm {
#define DPFIX_SAMPLE_ALGORITHM_ENUM(NAME, name, iana, help) DPFIX_SAMPLE_##NAME,
	DPFIX_SAMPLE_ALGORITHMS(DPFIX_SAMPLE_ALGORITHM_ENUM)
#undef DPFIX_SAMPLE_ALGORITHM_ENUM
	DPFIX_SAMPLE_ALGORITHM_COUNT
};

/* Hash-based selection reads at most this many bytes of IP payload. */
#define DPFIX_SAMPLE_PAYLOAD_MAX 64
#define DPFIX_SAMPLE_PAYLOAD_SIZE_DEFAULT 8
/* BOB's output range, hashOutputRangeMin..Max. */
#define DPFIX_SAMPLE_HASH_OUTPUT_MAX UINT32_MAX

/* What a selector does; fixed at start-up. n of every N packets (random, systematic)
 * or the fraction n/N of the hash range (hash). */
struct dpfix_sample_params {
	enum dpfix_sample_algorithm algorithm;
	uint32_t size;            /* n */
	uint32_t population;      /* N, >= n */
	uint64_t seed;            /* random: the PRNG seed; hash: hashInitialiserValue */
	bool seed_given;          /* the text set seed (else the caller chooses one) */
	uint16_t payload_offset;  /* hash: hashIPPayloadOffset */
	uint16_t payload_size;    /* hash: hashIPPayloadSize, <= DPFIX_SAMPLE_PAYLOAD_MAX */
	uint32_t selected_max;    /* hash: hashSelectedRangeMax (the minimum is 0) */
};

/* Reads "ALGORITHM:n:N[:name=value...]" ("systematic:1:100", "random:1:100:seed=7",
 * "hash:1:100:seed=0x5eed:payload_offset=0:payload_size=8") into p. Returns 0, or
 * -EINVAL with err naming the part that is wrong and what is accepted. */
int dpfix_sample_parse(const char *text, struct dpfix_sample_params *p, char *err,
		size_t errlen);
/* One line describing p ("hash 1/100: hash range 0..42949671 of 0..4294967295, ..."). */
void dpfix_sample_describe(const struct dpfix_sample_params *p, char *buf, size_t len);
/* "systematic", ... and the IANA selectorAlgorithm value of an algorithm. */
const char *dpfix_sample_algorithm_name(enum dpfix_sample_algorithm a);
uint16_t dpfix_sample_algorithm_iana(enum dpfix_sample_algorithm a);

/* Per-instance counters, the Selector's selectorIdTotalPktsObserved/Selected. */
#define DPFIX_SAMPLE_COUNTERS(X) \
	X(observed, "packets that reached the selector") \
	X(selected, "packets it selected")

struct dpfix_sample_stats {
#define DPFIX_SAMPLE_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_SAMPLE_COUNTERS(DPFIX_SAMPLE_COUNTER_FIELD)
#undef DPFIX_SAMPLE_COUNTER_FIELD
};

/* One selector instance: the parameters' working copy and its state. */
struct dpfix_sample {
	enum dpfix_sample_algorithm algorithm;
	uint32_t size;
	uint32_t population;
	uint32_t position;        /* count-based: packets into the current block of N */
	uint32_t pending;         /* random: packets still to select in this block */
	uint32_t selected_max;
	uint32_t hash_init;
	uint16_t payload_offset;
	uint16_t payload_size;
	uint64_t rng;             /* random: SplitMix64 state */
	struct dpfix_sample_stats stats;
};

/* Starts an instance. instance tells apart the instances of one configured selector
 * (one per worker): random instances draw different sequences from one seed; hash
 * instances ignore it, since every instance (and every probe on the path) must
 * select the same packets. */
void dpfix_sample_init(struct dpfix_sample *s, const struct dpfix_sample_params *p,
		uint64_t instance);

/* Count-based selectors decide before the packet is parsed; hash-based ones need
 * the parsed packet. */
static inline bool
dpfix_sample_is_count_based(const struct dpfix_sample *s)
{
	return s->algorithm != DPFIX_SAMPLE_HASH;
}

/* SplitMix64 (Steele, Lea, Flood 2014): one add and two multiplies per draw; fine for
 * sampling, nothing to do with cryptography. */
static inline uint64_t
dpfix_sample_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Count-based selection of the next packet (systematic or random); stats are left to
 * dpfix_sample_count_burst. Random uses sequential selection (Knuth's Algorithm S):
 * with r packets still to pick among R left in the block, select with probability
 * r/R, which picks exactly n of every N, each n-subset equally likely. */
static inline bool
dpfix_sample_count_next(struct dpfix_sample *s)
{
	bool selected;

	if (s->algorithm == DPFIX_SAMPLE_SYSTEMATIC) {
		selected = s->position < s->size;
	} else {
		uint32_t left = s->population - s->position;

		/* r/R from one 64-bit draw: floor(draw * R / 2^64) is uniform on [0, R) up to
		 * a bias below R / 2^64 (under 2^-32), far below any test's resolution. */
		selected = s->pending == left || (s->pending != 0 &&
				(uint64_t)(((unsigned __int128)dpfix_sample_random(&s->rng) * left) >> 64) <
				s->pending);
		s->pending -= selected;
	}
	if (++s->position == s->population) {
		s->position = 0;
		s->pending = s->size;
	}
	return selected;
}

/* Decides for the next n packets (n <= 64) in arrival order: bit i of the result is
 * set if packet i is selected. Counts them in s->stats. */
static inline uint64_t
dpfix_sample_count_burst(struct dpfix_sample *s, unsigned int n)
{
	uint64_t mask = 0;
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		bool sel = dpfix_sample_count_next(s);

		mask |= (uint64_t)sel << i;
		k += sel;
	}
	s->stats.observed += n;
	s->stats.selected += k;
	return mask;
}

/* The hash-based selector's hash of a parsed packet: BOB over the packet's invariant
 * fields (see doc/sampling.md) and payload_size bytes of IP payload from
 * payload_offset (fewer if the packet or the capture is shorter). frame holds len
 * bytes; info is the parser's result for it. */
uint32_t dpfix_sample_hash(const struct dpfix_sample *s, const uint8_t *frame, uint32_t len,
		const struct dpfix_packet_info *info);

/* Hash-based selection of one parsed packet; counts it in s->stats. */
static inline bool
dpfix_sample_hash_select(struct dpfix_sample *s, const uint8_t *frame, uint32_t len,
		const struct dpfix_packet_info *info)
{
	bool selected = dpfix_sample_hash(s, frame, len, info) <= s->selected_max;

	s->stats.observed++;
	s->stats.selected += selected;
	return selected;
}

/* Bob Jenkins' 1996 hash (lookup2): the BOB function RFC 5475 specifies for
 * hash-based selection. */
uint32_t dpfix_sample_bob(const uint8_t *key, size_t len, uint32_t initval);

#endif
