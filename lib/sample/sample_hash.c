/* Hash-based selection: BOB over the parts of a packet no router on its path changes,
 * so every probe that sees the packet computes the same hash (trajectory sampling,
 * RFC 5475 6.2). The fields and why: doc/sampling.md. */
#include <string.h>

#include "dpfix_sample.h"

/* BOB reads keys as little-endian words, whatever the host. */
static inline uint32_t
read_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* Jenkins' reversible mix of three words: each line subtracts the other two and folds
 * in a shifted copy of one of them. */
static inline void
bob_mix(uint32_t *a, uint32_t *b, uint32_t *c)
{
	*a -= *b; *a -= *c; *a ^= *c >> 13;
	*b -= *c; *b -= *a; *b ^= *a << 8;
	*c -= *a; *c -= *b; *c ^= *b >> 13;
	*a -= *b; *a -= *c; *a ^= *c >> 12;
	*b -= *c; *b -= *a; *b ^= *a << 16;
	*c -= *a; *c -= *b; *c ^= *b >> 5;
	*a -= *b; *a -= *c; *a ^= *c >> 3;
	*b -= *c; *b -= *a; *b ^= *a << 10;
	*c -= *a; *c -= *b; *c ^= *b >> 15;
}

uint32_t
dpfix_sample_bob(const uint8_t *key, size_t len, uint32_t initval)
{
	uint32_t a = 0x9e3779b9u, b = 0x9e3779b9u, c = initval;
	size_t left = len;

	for (; left >= 12; left -= 12, key += 12) {
		a += read_le32(key);
		b += read_le32(key + 4);
		c += read_le32(key + 8);
		bob_mix(&a, &b, &c);
	}
	/* The last 0..11 bytes, little-endian into a, b and the upper three bytes of c,
	 * whose low byte takes the length (modulo 2^32). Byte by byte from the end: a
	 * fall-through switch, with no read past the key and no call. */
	c += (uint32_t)len;
	switch (left) {
	case 11: c += (uint32_t)key[10] << 24; /* fall through */
	case 10: c += (uint32_t)key[9] << 16; /* fall through */
	case 9: c += (uint32_t)key[8] << 8; /* fall through */
	case 8: b += (uint32_t)key[7] << 24; /* fall through */
	case 7: b += (uint32_t)key[6] << 16; /* fall through */
	case 6: b += (uint32_t)key[5] << 8; /* fall through */
	case 5: b += key[4]; /* fall through */
	case 4: a += (uint32_t)key[3] << 24; /* fall through */
	case 3: a += (uint32_t)key[2] << 16; /* fall through */
	case 2: a += (uint32_t)key[1] << 8; /* fall through */
	case 1: a += key[0]; /* fall through */
	default: break;
	}
	bob_mix(&a, &b, &c);
	return c;
}

static inline uint8_t *
put_be(uint8_t *p, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

uint32_t
dpfix_sample_hash(const struct dpfix_sample *s, const uint8_t *frame, uint32_t len,
		const struct dpfix_packet_info *info)
{
	/* IPv6 addresses and fragment fields, then the payload bytes. */
	uint8_t in[32 + 6 + DPFIX_SAMPLE_PAYLOAD_MAX];
	static const uint8_t nothing[1];
	const uint32_t l3 = info->l3_offset;
	uint8_t *p = in;
	uint32_t end = l3 + info->ip_octets, from;

	/* The IP packet ends at its declared length or where the capture stopped. */
	if (end > len)
		end = len;
	if (info->key.ip_version == 4) {
		if (l3 + 20 > len)
			return dpfix_sample_bob(nothing, 0, s->hash_init); /* not a parsed packet */
		/* Identification, flags and fragment offset; source and destination. TOS
		 * (re-marked), TTL and checksum change on the way and stay out. */
		memcpy(p, frame + l3 + 4, 4);
		memcpy(p + 4, frame + l3 + 12, 8);
		p += 12;
	} else {
		if (l3 + 40 > len)
			return dpfix_sample_bob(nothing, 0, s->hash_init);
		/* Source and destination; traffic class, flow label (RFC 6437 lets routers set
		 * one) and hop limit stay out. A fragment adds the fragment header's
		 * identification and offset word (the reserved bits as zero), as IPv4 does. */
		memcpy(p, frame + l3 + 8, 32);
		p += 32;
		if (info->fragment != DPFIX_FRAG_NONE) {
			p = put_be(p, info->frag_id, 4);
			p = put_be(p, (uint32_t)info->frag_offset | info->frag_more, 2);
		}
	}
	/* The IP payload: after IPv4 options or the IPv6 extension headers (whose
	 * hop-by-hop and routing parts may change on the way). */
	from = l3 + info->ip_header_len + s->payload_offset;
	if (from < end) {
		uint32_t take = end - from < s->payload_size ? end - from : s->payload_size;
		const uint8_t *src = frame + from;

		/* The default 8 bytes as one move; a loop here would become a memcpy call. */
		if (take >= 8) {
			memcpy(p, src, 8);
			p += 8;
			src += 8;
			take -= 8;
		}
		if (take > 0) {
			memcpy(p, src, take);
			p += take;
		}
	}
	return dpfix_sample_bob(in, (size_t)(p - in), s->hash_init);
}
