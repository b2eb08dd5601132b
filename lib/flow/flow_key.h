/* Flow keys compared and reversed, internal to lib/flow: inlined into the table's
 * per-packet pipeline. */
#ifndef FLOW_KEY_H
#define FLOW_KEY_H

#include <stdint.h>
#include <string.h>

#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include "dpfix_parse.h"
#include "flow_index.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

/* The answering ICMP type: request <-> reply for echo, timestamp, information and
 * address mask (ICMPv4) and echo (ICMPv6); any other type answers itself. */
static inline uint8_t
icmp_reverse_type(uint8_t protocol, uint8_t type)
{
	if (protocol == IPPROTO_ICMPV6_)
		return type == 128 || type == 129 ? type ^ 1 : type;
	switch (type) {
	case 0:
		return 8;
	case 8:
		return 0;
	case 13: case 15: case 17:
		return type + 1;
	case 14: case 16: case 18:
		return type - 1;
	default:
		return type;
	}
}

static inline void
key_reverse(const struct dpfix_flow_key *k, struct dpfix_flow_key *out)
{
	*out = *k;
	memcpy(out->src_addr, k->dst_addr, sizeof(out->src_addr));
	memcpy(out->dst_addr, k->src_addr, sizeof(out->dst_addr));
	if (k->protocol == IPPROTO_ICMP_ || k->protocol == IPPROTO_ICMPV6_) {
		out->dst_port = (uint16_t)(icmp_reverse_type(k->protocol, (uint8_t)(k->dst_port >> 8)) << 8 |
				(k->dst_port & 0xff));
	} else {
		out->src_port = k->dst_port;
		out->dst_port = k->src_port;
	}
}

static inline int
key_equal(const struct dpfix_flow_key *a, const struct dpfix_flow_key *b)
{
#ifdef __SSE4_1__
	const __m128i *x = (const __m128i *)(const void *)a, *y = (const __m128i *)(const void *)b;
	__m128i diff = _mm_setzero_si128();

	_Static_assert(sizeof(*a) % 16 == 0, "flow key must be whole 16-byte vectors");
#pragma GCC unroll 4
	for (unsigned int i = 0; i < sizeof(*a) / 16; i++)
		diff = _mm_or_si128(diff, _mm_xor_si128(_mm_loadu_si128(x + i), _mm_loadu_si128(y + i)));
	return _mm_testz_si128(diff, diff);
#else
	const flow_key_word *x = (const flow_key_word *)a, *y = (const flow_key_word *)b;
	uint64_t diff = 0;

	for (unsigned int i = 0; i < sizeof(*a) / 8; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
#endif
}

#endif
