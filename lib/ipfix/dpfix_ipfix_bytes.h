/* Big-endian (network order) field access for IPFIX and the headers around it: every
 * reader and writer of wire bytes uses these instead of a copy of its own. */
#ifndef DPFIX_IPFIX_BYTES_H
#define DPFIX_IPFIX_BYTES_H

#include <stdint.h>

static inline uint16_t
dpfix_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dpfix_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The n (at most 8) bytes at p as a number, most significant first: the reverse of
 * dpfix_put_be, with the usual sizes spelled out for the same reason. */
static inline uint64_t
dpfix_get_be(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	switch (n) {
	case 2:
		return dpfix_get16(p);
	case 4:
		return dpfix_get32(p);
	case 8:
		return (uint64_t)dpfix_get32(p) << 32 | dpfix_get32(p + 4);
	default:
		for (unsigned int i = 0; i < n; i++)
			v = v << 8 | p[i];
		return v;
	}
}

static inline void
dpfix_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
dpfix_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The n (at most 8) low-order bytes of v at p, most significant first; returns p + n,
 * so a record is written field after field. The usual sizes are spelled out: with a
 * constant n the compiler then writes them as whole words, not a byte loop. */
static inline uint8_t *
dpfix_put_be(uint8_t *p, uint64_t v, unsigned int n)
{
	switch (n) {
	case 2:
		dpfix_put16(p, (uint16_t)v);
		break;
	case 4:
		dpfix_put32(p, (uint32_t)v);
		break;
	case 8:
		dpfix_put32(p, (uint32_t)(v >> 32));
		dpfix_put32(p + 4, (uint32_t)v);
		break;
	default:
		for (unsigned int i = 0; i < n; i++)
			p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	}
	return p + n;
}

#endif
