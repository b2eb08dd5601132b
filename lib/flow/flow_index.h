/* The flow table's hash index: flow key -> record number, internal to lib/flow (and
 * its benchmark). One cache line per bucket of 8 (signature, record) pairs; keys live
 * in the records, so a hit costs the bucket line and the record the packet updates
 * anyway. Linear probing between buckets, with a per-bucket count of keys that
 * probed past it, so a miss stops at the first bucket nothing overflowed from. */
#ifndef FLOW_INDEX_H
#define FLOW_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dpfix_parse.h"

#define FLOW_INDEX_WAYS 8
#define FLOW_INDEX_EMPTY_SIG 0

struct flow_bucket {
	uint16_t sig[FLOW_INDEX_WAYS];  /* 0: way unused */
	uint32_t rec[FLOW_INDEX_WAYS];
	uint32_t overflow;              /* keys whose probe went past this bucket */
} __rte_cache_aligned;

_Static_assert(sizeof(struct dpfix_flow_key) % 8 == 0, "flow key must be whole 8-byte words");

/* The hash's secret: one 64-bit number per two 32-bit halves of the key, and one added. */
#define FLOW_INDEX_KEY_WORDS (sizeof(struct dpfix_flow_key) / 4 + 1)

struct flow_index {
	struct flow_bucket *buckets;
	uint32_t mask;                  /* bucket count - 1 (a power of 2) */
	unsigned int shift;             /* 64 - log2(bucket count) */
	uint64_t key[FLOW_INDEX_KEY_WORDS];
	/* The hash's terms that an IPv4 key makes constant (flow_index_hash). */
	uint64_t ipv4_constant;
};

/* Sets the index's size and draws the hash's secret from seed (SplitMix64). */
static inline void
flow_index_init(struct flow_index *ix, struct flow_bucket *buckets, uint32_t nb_buckets,
		uint64_t seed)
{
	ix->buckets = buckets;
	ix->mask = nb_buckets - 1;
	ix->shift = 64 - (unsigned int)rte_log2_u32(nb_buckets);
	for (unsigned int i = 0; i < FLOW_INDEX_KEY_WORDS; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		ix->key[i] = z ^ (z >> 31);
	}
	ix->ipv4_constant = ix->key[FLOW_INDEX_KEY_WORDS - 1] + ix->key[2] * ix->key[3] +
			ix->key[6] * ix->key[7];
}

struct flow_hash {
	uint32_t bucket;    /* home bucket */
	uint16_t sig;       /* never FLOW_INDEX_EMPTY_SIG */
};

/* The key is read as 8-byte words; the type says it aliases the key's byte fields, or
 * the compiler may reorder the reads before the writes that filled the key. */
typedef uint64_t __attribute__((__may_alias__)) flow_key_word;

/* The hash of a key: pair-multiply-shift (Dietzfelbinger; Thorup, "High Speed Hashing
 * for Integers and Strings"), sum over the key's 32-bit halves x of
 * (k[2i] + x[2i+1]) * (k[2i+1] + x[2i]), plus k[12], mod 2^64, with a secret k drawn at
 * start-up. For any two keys, the chance over k that the top bits agree is about that
 * of random values, so a sender who does not know k cannot pick keys that share a
 * bucket; a fixed function (CRC, even with a random seed: it is linear, so equal-length
 * keys that collide do so for every seed) lets it fill one bucket chain at will. The
 * bucket is the top bits, the signature the 16 below them.
 * An IPv4 key's address bytes 4-15 are zero, so two of its six products are the same
 * for every IPv4 key (ipv4_constant) and two others lose an addition: the same sum,
 * 20 instructions fewer a packet. A key that broke that rule would still hash the same
 * wherever it is hashed, only into the bucket of its IPv4 look-alike. */
static inline uint64_t
flow_index_term(const struct flow_index *ix, const flow_key_word *w, unsigned int i)
{
	return (ix->key[2 * i] + (w[i] >> 32)) * (ix->key[2 * i + 1] + (uint32_t)w[i]);
}

static inline struct flow_hash
flow_index_hash(const struct flow_index *ix, const struct dpfix_flow_key *k)
{
	const flow_key_word *w = (const flow_key_word *)k;
	uint64_t sum;
	struct flow_hash h;

	_Static_assert(sizeof(*k) == 48 && offsetof(struct dpfix_flow_key, dst_addr) == 16,
			"the IPv4 sum below names the key's words");
	if (k->ip_version == 4) {
		sum = ix->ipv4_constant + ix->key[0] * (ix->key[1] + (uint32_t)w[0]) +
				ix->key[4] * (ix->key[5] + (uint32_t)w[2]) + flow_index_term(ix, w, 4) +
				flow_index_term(ix, w, 5);
	} else {
		sum = ix->key[FLOW_INDEX_KEY_WORDS - 1];
#pragma GCC unroll 8
		for (unsigned int i = 0; i < sizeof(*k) / 8; i++)
			sum += flow_index_term(ix, w, i);
	}
	h.bucket = (uint32_t)(sum >> ix->shift);
	h.sig = (uint16_t)(sum >> (ix->shift - 16));
	h.sig += h.sig == FLOW_INDEX_EMPTY_SIG;
	return h;
}

/* Bit w*2 is set for each way w whose signature equals sig. */
static inline uint32_t
flow_bucket_match(const struct flow_bucket *b, uint16_t sig)
{
#ifdef __SSE2__
	__m128i sigs = _mm_load_si128((const __m128i *)(const void *)b->sig);
	__m128i eq = _mm_cmpeq_epi16(sigs, _mm_set1_epi16((short)sig));

	return (uint32_t)_mm_movemask_epi8(eq) & 0x5555u;
#else
	uint32_t m = 0;

	for (unsigned int w = 0; w < FLOW_INDEX_WAYS; w++)
		m |= (uint32_t)(b->sig[w] == sig) << (w * 2);
	return m;
#endif
}

/* Adds (h, rec). The index always has room: it has more ways than the table has
 * records and entries awaiting removal, so the probe ends. */
static inline void
flow_index_add(struct flow_index *ix, struct flow_hash h, uint32_t rec)
{
	uint32_t b = h.bucket;

	for (;;) {
		struct flow_bucket *bk = &ix->buckets[b];
		uint32_t free_ways = flow_bucket_match(bk, FLOW_INDEX_EMPTY_SIG);

		if (free_ways != 0) {
			unsigned int w = (unsigned int)__builtin_ctz(free_ways) / 2;

			bk->sig[w] = h.sig;
			bk->rec[w] = rec;
			return;
		}
		bk->overflow++;
		b = (b + 1) & ix->mask;
	}
}

/* Removes (h, rec), which must be present. */
static inline void
flow_index_del(struct flow_index *ix, struct flow_hash h, uint32_t rec)
{
	uint32_t b = h.bucket;

	for (;;) {
		struct flow_bucket *bk = &ix->buckets[b];
		uint32_t m = flow_bucket_match(bk, h.sig);

		while (m != 0) {
			unsigned int w = (unsigned int)__builtin_ctz(m) / 2;

			if (bk->rec[w] == rec) {
				bk->sig[w] = FLOW_INDEX_EMPTY_SIG;
				return;
			}
			m &= m - 1;
		}
		bk->overflow--;
		b = (b + 1) & ix->mask;
	}
}

#endif
