/* Which shard of a cluster a row goes to: the same choice as ClickHouse's Distributed
 * table with sharding key sipHash64(exporterIPv6Address), so an exporter's flows stay
 * together and the collector may insert into each shard's table itself. */
#ifndef CH_SHARD_H
#define CH_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define CH_SHARDING_KEY "sipHash64(exporterIPv6Address)"

/* SipHash-2-4 with a zero key, as ClickHouse's sipHash64 of a String or FixedString. */
uint64_t ch_siphash64(const uint8_t *data, size_t len);

/* Distributed's rule: the key modulo the sum of the shards' weights picks a slot, and the
 * slots are dealt to the shards in order, each taking as many as its weight. */
struct ch_shard_map {
	uint32_t total_weight;
	uint32_t shards;
	uint8_t *slot_shard;        /* total_weight entries */
};

/* weights[i] of shard i (1-based shard_num i + 1); -EINVAL if all are 0, -ENOMEM. */
int ch_shard_map_init(struct ch_shard_map *m, const uint32_t *weights, uint32_t shards);
uint32_t ch_shard_of(const struct ch_shard_map *m, const uint8_t exporter[16]);
void ch_shard_map_free(struct ch_shard_map *m);

#endif
