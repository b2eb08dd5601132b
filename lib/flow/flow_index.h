/* The flow table's hash index: flow key -> record number, internal to lib/flow (and
 * its benchmark). One cache line per bucket of 8 (signature, record) pairs; keys live
 * in the records, so a hit costs the bucket line and the record the packet updates
 * anyway. Linear probing between buckets, with a per-bucket count of keys that
 * probed past it, so a miss stops at the first bucket nothing overflowed from. */
#ifndef FLOW_INDEX_H
#define FLOW_INDEX_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif
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

struct flow_index {
	struct flow_bucket *buckets;
	uint32_t mask;                  /* bucket count - 1 (a power of 2) */
};

/* The hash of a key. A CRC32C of the key's words is cheap but linear: structured keys
 * (consecutive addresses or ports) fill only a fraction of the buckets if its low bits
 * pick the bucket. So the CRC, with the words' XOR, goes through a multiplicative
 * (Fibonacci) mix, and the bucket and signature are taken from different bits of it. */
struct flow_hash {
	uint32_t bucket;    /* before masking */
	uint16_t sig;       /* never FLOW_INDEX_EMPTY_SIG */
};

_Static_assert(sizeof(struct dpfix_flow_key) % 8 == 0, "flow key must be whole 8-byte words");

/* The key is read as 8-byte words; the type says it aliases the key's byte fields, or
 * the compiler may reorder the reads before the writes that filled the key. */
typedef uint64_t __attribute__((__may_alias__)) flow_key_word;

static inline struct flow_hash
flow_index_hash(const struct dpfix_flow_key *k)
{
	const flow_key_word *w = (const flow_key_word *)k;
	uint32_t crc = 0x9e3779b9u;
	uint64_t fold = 0, mix;
	struct flow_hash h;

#pragma GCC unroll 8
	for (unsigned int i = 0; i < sizeof(*k) / 8; i++) {
#ifdef __SSE4_2__
		crc = (uint32_t)_mm_crc32_u64(crc, w[i]);   /* no run-time CPU check per word */
#else
		crc = rte_hash_crc_8byte(w[i], crc);
#endif
		fold ^= w[i] + i;
	}
	mix = ((uint64_t)crc << 32 ^ fold) * 0x9e3779b97f4a7c15ull;
	h.bucket = (uint32_t)(mix >> 32);
	h.sig = (uint16_t)(mix >> 16);
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
	uint32_t b = h.bucket & ix->mask;

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
	uint32_t b = h.bucket & ix->mask;

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
