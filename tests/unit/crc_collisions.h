/* Flow keys that a CRC32C of the key's 8-byte words cannot tell apart, built for the
 * hash-flooding test and benchmark. CRC is linear over GF(2): for keys of one length,
 * crc(seed, a) ^ crc(seed, b) = crc(0, a ^ b) whatever the seed, so the differences
 * that map to 0 form a subspace, found by Gaussian elimination over the bits a sender
 * controls. The keys built here also agree on the XOR of their words (the "fold" the
 * index mixed in before it was keyed), so they collided in bucket and signature alike,
 * as they do for rte_hash_crc. */
#ifndef CRC_COLLISIONS_H
#define CRC_COLLISIONS_H

#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "dpfix_parse.h"

#define CRC_COLLISIONS_MAX_BITS 128

typedef uint64_t __attribute__((__may_alias__)) crc_collisions_word;

/* The 96-bit image of a key difference: its CRC32C from 0 and the XOR of its words. */
struct crc_image {
	uint64_t fold;
	uint32_t crc;
};

static inline struct crc_image
crc_image_of(const struct dpfix_flow_key *d)
{
	const crc_collisions_word *w = (const crc_collisions_word *)d;
	struct crc_image im = {0, 0};

	for (unsigned int i = 0; i < sizeof(*d) / 8; i++) {
		im.crc = rte_hash_crc_8byte(w[i], im.crc);
		im.fold ^= w[i];
	}
	return im;
}

static inline int
crc_image_bit(const struct crc_image *im, unsigned int bit)
{
	return bit < 64 ? (int)(im->fold >> bit & 1) : (int)(im->crc >> (bit - 64) & 1);
}

/* Fills out[0..max) with distinct keys equal to base outside the bytes at offsets
 * bytes[0..nbytes) (at most 16 bytes), all with the same CRC32C and word XOR. For the
 * old index's "+ i" on word i to change nothing, a varied byte must not be the first
 * (lowest) byte of a word other than the first, and those first bytes in base must
 * leave room (below 256 - 5). Returns the number of keys made: 2^d, d the dimension
 * of the subspace, capped at max. */
static inline unsigned int
crc_collisions(const struct dpfix_flow_key *base, const unsigned int *bytes, unsigned int nbytes,
		struct dpfix_flow_key *out, unsigned int max)
{
	/* Basis of images met so far, fully reduced: each entry has a pivot bit that no
	 * other entry has; with the bit combination that makes it. */
	struct crc_image basis[CRC_COLLISIONS_MAX_BITS];
	unsigned int pivot[CRC_COLLISIONS_MAX_BITS];    /* 0-63: fold bit, 64-95: crc bit */
	uint64_t basis_comb[CRC_COLLISIONS_MAX_BITS][2];
	uint64_t kernel[CRC_COLLISIONS_MAX_BITS][2];
	unsigned int nbasis = 0, nkernel = 0, nbits = nbytes * 8, made = 0;

	if (nbits > CRC_COLLISIONS_MAX_BITS)
		return 0;
	for (unsigned int v = 0; v < nbits; v++) {
		struct dpfix_flow_key d;
		struct crc_image im;
		uint64_t comb[2] = {0, 0};
		unsigned int p;

		memset(&d, 0, sizeof(d));
		((uint8_t *)&d)[bytes[v / 8]] = (uint8_t)(1u << (v % 8));
		im = crc_image_of(&d);
		comb[v / 64] = 1ull << (v % 64);
		for (unsigned int b = 0; b < nbasis; b++) {
			if (crc_image_bit(&im, pivot[b])) {
				im.fold ^= basis[b].fold;
				im.crc ^= basis[b].crc;
				comb[0] ^= basis_comb[b][0];
				comb[1] ^= basis_comb[b][1];
			}
		}
		if (im.fold == 0 && im.crc == 0) {
			kernel[nkernel][0] = comb[0];
			kernel[nkernel][1] = comb[1];
			nkernel++;
			continue;
		}
		p = im.fold != 0 ? (unsigned int)__builtin_ctzll(im.fold) :
				64 + (unsigned int)__builtin_ctz(im.crc);
		for (unsigned int b = 0; b < nbasis; b++) {
			if (crc_image_bit(&basis[b], p)) {
				basis[b].fold ^= im.fold;
				basis[b].crc ^= im.crc;
				basis_comb[b][0] ^= comb[0];
				basis_comb[b][1] ^= comb[1];
			}
		}
		basis[nbasis] = im;
		pivot[nbasis] = p;
		basis_comb[nbasis][0] = comb[0];
		basis_comb[nbasis][1] = comb[1];
		nbasis++;
	}
	for (uint64_t j = 0; made < max && (nkernel >= 64 || j < (1ull << nkernel)); j++) {
		uint64_t comb[2] = {0, 0};
		uint8_t *k = (uint8_t *)&out[made];

		for (unsigned int b = 0; b < nkernel && b < 64; b++)
			if (j & (1ull << b)) {
				comb[0] ^= kernel[b][0];
				comb[1] ^= kernel[b][1];
			}
		out[made] = *base;
		for (unsigned int v = 0; v < nbits; v++)
			if (comb[v / 64] & (1ull << (v % 64)))
				k[bytes[v / 8]] ^= (uint8_t)(1u << (v % 8));
		made++;
	}
	return made;
}

#endif
