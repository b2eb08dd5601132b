/* Shard choice (ch_shard.h). ClickHouse's sipHash64 is plain SipHash-2-4 with both key
 * halves zero; the tests check a row's shard against the server's own sipHash64. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ch_shard.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

uint64_t
ch_siphash64(const uint8_t *data, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull, v1 = 0x646f72616e646f6dull;
	uint64_t v2 = 0x6c7967656e657261ull, v3 = 0x7465646279746573ull;
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int k = 0; k < 8; k++)
			m |= (uint64_t)data[i + k] << (8 * k);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t k = 0; i + k < len; k++)
		last |= (uint64_t)data[i + k] << (8 * k);
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int
ch_shard_map_init(struct ch_shard_map *m, const uint32_t *weights, uint32_t shards)
{
	uint32_t total = 0, slot = 0;

	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < shards; i++) {
		if (weights[i] > 1000)
			return -EINVAL;
		total += weights[i];
	}
	if (total == 0)
		return -EINVAL;
	m->slot_shard = malloc(total);
	if (m->slot_shard == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < shards; i++)
		for (uint32_t w = 0; w < weights[i]; w++)
			m->slot_shard[slot++] = (uint8_t)i;
	m->total_weight = total;
	m->shards = shards;
	return 0;
}

uint32_t
ch_shard_of(const struct ch_shard_map *m, const uint8_t exporter[16])
{
	if (m->shards <= 1)
		return 0;
	return m->slot_shard[ch_siphash64(exporter, 16) % m->total_weight];
}

void
ch_shard_map_free(struct ch_shard_map *m)
{
	free(m->slot_shard);
	memset(m, 0, sizeof(*m));
}
