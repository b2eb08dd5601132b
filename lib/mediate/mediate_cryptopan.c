/* Crypto-PAn (mediate_cryptopan.h): bit i of the result is bit i of the address XOR the
 * first bit of AES(the address's first i bits, then the pad's bits from i on); so every
 * bit depends only on the bits before it, which is what preserves prefixes. One AES
 * block a bit: 32 for IPv4, 128 for IPv6, so IPv4 results are cached (direct-mapped:
 * flows repeat their addresses). AES is wolfSSL's (AES-NI). */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "mediate_cryptopan.h"

#define V4_CACHE_BITS 16

struct v4_cached {
	uint32_t address;
	uint32_t result;
	uint8_t valid;
};

struct med_cryptopan {
	Aes aes;
	uint8_t pad[16];
	struct v4_cached cache[1u << V4_CACHE_BITS];
};

struct med_cryptopan *
med_cryptopan_new(const uint8_t key[MED_CRYPTOPAN_KEY_LEN])
{
	struct med_cryptopan *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (wc_AesInit(&c->aes, NULL, INVALID_DEVID) != 0 ||
			wc_AesSetKey(&c->aes, key, 16, NULL, AES_ENCRYPTION) != 0 ||
			wc_AesEncryptDirect(&c->aes, c->pad, key + 16) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void
med_cryptopan_free(struct med_cryptopan *c)
{
	if (c == NULL)
		return;
	wc_AesFree(&c->aes);
	free(c);
}

/* The bits to XOR into an address of len octets. */
static void
mask_of(struct med_cryptopan *c, const uint8_t *a, size_t len, uint8_t *mask)
{
	uint8_t in[16], out[16];

	memset(mask, 0, len);
	memcpy(in, c->pad, sizeof(in));
	for (size_t bit = 0; bit < len * 8; bit++) {
		size_t byte = bit / 8;
		uint8_t keep = (uint8_t)(0xff00u >> (bit % 8)); /* the bits of a before this one */

		/* The address's bits before `bit`, then the pad's. */
		memcpy(in, a, byte);
		in[byte] = (uint8_t)((a[byte] & keep) | (c->pad[byte] & ~keep));
		memcpy(in + byte + 1, c->pad + byte + 1, sizeof(in) - byte - 1);
		if (wc_AesEncryptDirect(&c->aes, out, in) != 0)
			out[0] = 0;
		mask[byte] |= (uint8_t)((out[0] >> 7) << (7 - bit % 8));
	}
}

void
med_cryptopan_address(struct med_cryptopan *c, uint8_t *a, size_t len)
{
	uint8_t mask[16];

	if (len == 4) {
		uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		struct v4_cached *e = &c->cache[(v * 2654435761u) >> (32 - V4_CACHE_BITS)];

		if (!e->valid || e->address != v) {
			mask_of(c, a, 4, mask);
			e->address = v;
			e->result = v ^ ((uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 |
					(uint32_t)mask[2] << 8 | mask[3]);
			e->valid = 1;
		}
		a[0] = (uint8_t)(e->result >> 24);
		a[1] = (uint8_t)(e->result >> 16);
		a[2] = (uint8_t)(e->result >> 8);
		a[3] = (uint8_t)e->result;
		return;
	}
	if (len != 16)
		return;
	mask_of(c, a, 16, mask);
	for (size_t i = 0; i < 16; i++)
		a[i] ^= mask[i];
}
