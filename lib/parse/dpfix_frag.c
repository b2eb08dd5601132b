/* Fragment map: a set-associative table of datagrams in flight, keyed as RFC 791 and
 * RFC 8200 identify a datagram (IPv4: addresses, protocol, identification; IPv6:
 * addresses, identification). An entry ends when its fragments cover the whole
 * datagram (byte ranges, so a repeated or overlapping fragment adds nothing), when it
 * times out, or when a newer datagram needs its slot. */
#include <stddef.h>
#include <string.h>

#include "dpfix_frag.h"

#define WAYS 4  /* entries per bucket: a lookup touches at most these */
/* Separate byte ranges of a datagram an entry can hold: fragments in order, or out of
 * order with up to 15 holes between them. A fragment that would need one more is not
 * recorded, so the datagram never looks whole and its entry lasts until its timeout
 * (counted: fragments_untracked). */
#define MAX_RANGES 16

/* Payload bytes [start, end) of the datagram seen in its fragments. */
struct frag_range {
	uint16_t start;
	uint16_t end;
};

/* Two cache lines: what a lookup compares first, the byte ranges second. */
struct frag_entry {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t ip_version;     /* 0: the slot is free */
	uint8_t map_protocol;   /* IPv4: part of the datagram's identity; IPv6: 0 */
	uint8_t protocol;       /* the flow's, from the first fragment */
	uint8_t first_seen;
	uint64_t last_ns;
	uint32_t end;           /* the furthest byte any fragment reached */
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t last_seen;      /* a fragment without "more fragments" came */
	uint8_t untracked;      /* a fragment's bytes could not be recorded */
	uint8_t nb_ranges;
	uint8_t pad[5];
	struct frag_range ranges[MAX_RANGES]; /* sorted, disjoint, not touching */
};

_Static_assert(sizeof(struct frag_entry) == 128, "one fragment entry in two cache lines");

struct dpfix_frag_map {
	uint32_t bucket_mask;
	uint32_t seed;
	uint64_t timeout_ns;
	struct dpfix_frag_stats stats;
	_Alignas(64) struct frag_entry entries[];
};

static uint32_t
bucket_count(uint32_t entries)
{
	uint32_t buckets = 1;

	while (buckets * WAYS < entries && buckets < (1u << 26))
		buckets <<= 1;
	return buckets;
}

size_t
dpfix_frag_map_memsize(uint32_t entries)
{
	return sizeof(struct dpfix_frag_map) +
			(size_t)bucket_count(entries) * WAYS * sizeof(struct frag_entry);
}

struct dpfix_frag_map *
dpfix_frag_map_init(void *mem, uint32_t entries, uint64_t timeout_ns, uint32_t seed)
{
	struct dpfix_frag_map *m = mem;
	uint32_t buckets = bucket_count(entries);

	memset(m, 0, dpfix_frag_map_memsize(entries));
	m->bucket_mask = buckets - 1;
	m->seed = seed;
	m->timeout_ns = timeout_ns;
	return m;
}

uint32_t
dpfix_frag_map_capacity(const struct dpfix_frag_map *m)
{
	return (m->bucket_mask + 1) * WAYS;
}

const struct dpfix_frag_stats *
dpfix_frag_map_stats(const struct dpfix_frag_map *m)
{
	return &m->stats;
}

static inline uint32_t
mix(uint32_t h, uint32_t w)
{
	h ^= w;
	h *= 0x85ebca6bu;
	return h ^ (h >> 15);
}

static uint32_t
datagram_hash(const struct dpfix_frag_map *m, const struct dpfix_packet_info *p,
		uint8_t map_protocol)
{
	uint32_t h = mix(m->seed, p->frag_id ^ (uint32_t)map_protocol << 24);
	uint32_t w;

	/* IPv4 addresses are the first word; the rest of the key is zero. */
	for (unsigned int i = 0; i < 16; i += 4) {
		memcpy(&w, p->key.src_addr + i, 4);
		h = mix(h, w);
		memcpy(&w, p->key.dst_addr + i, 4);
		h = mix(h, w);
	}
	return mix(h, 0);
}

static inline int
expired(const struct dpfix_frag_map *m, const struct frag_entry *e, uint64_t now_ns)
{
	return now_ns > e->last_ns && now_ns - e->last_ns >= m->timeout_ns;
}

static inline int
same_datagram(const struct frag_entry *e, const struct dpfix_packet_info *p, uint8_t map_protocol)
{
	return e->ip_version == p->key.ip_version && e->id == p->frag_id &&
			e->map_protocol == map_protocol &&
			memcmp(e->src, p->key.src_addr, 16) == 0 && memcmp(e->dst, p->key.dst_addr, 16) == 0;
}

/* The datagram's entry, or a slot for it: free, timed out, or else the bucket's
 * least recently seen (its datagram is given up and counted). *found says which. */
static struct frag_entry *
lookup(struct dpfix_frag_map *m, const struct dpfix_packet_info *p, uint8_t map_protocol,
		uint64_t now_ns, int *found)
{
	struct frag_entry *bucket = &m->entries[(datagram_hash(m, p, map_protocol) & m->bucket_mask) * WAYS];
	struct frag_entry *slot = NULL, *oldest = &bucket[0];

	for (unsigned int i = 0; i < WAYS; i++) {
		struct frag_entry *e = &bucket[i];

		if (e->ip_version == 0 || expired(m, e, now_ns)) {
			if (slot == NULL)
				slot = e;
			continue;
		}
		if (same_datagram(e, p, map_protocol)) {
			*found = 1;
			return e;
		}
		if (e->last_ns < oldest->last_ns)
			oldest = e;
	}
	*found = 0;
	if (slot == NULL) {
		slot = oldest;
		m->stats.fragment_map_replaced++;
	}
	memset(slot, 0, offsetof(struct frag_entry, ranges)); /* ranges count from nb_ranges */
	slot->ip_version = p->key.ip_version;
	slot->map_protocol = map_protocol;
	slot->id = p->frag_id;
	memcpy(slot->src, p->key.src_addr, 16);
	memcpy(slot->dst, p->key.dst_addr, 16);
	return slot;
}

/* Records bytes [start, end) of e's datagram, merged with the ranges it overlaps or
 * touches. Bytes seen before (a repeated or overlapping fragment) count once, and the
 * fragment is counted as overlapping. At most MAX_RANGES steps. */
static void
add_range(struct dpfix_frag_map *m, struct frag_entry *e, uint32_t start, uint32_t end)
{
	struct frag_range *r = e->ranges;
	unsigned int i = 0, j, n = e->nb_ranges;
	uint32_t lo = start, hi = end;
	int overlaps = 0;

	if (end > e->end)
		e->end = end;
	if (start == end)
		return;
	/* Ranges i..j-1 overlap or touch [start, end): they become one. */
	while (i < n && r[i].end < start)
		i++;
	for (j = i; j < n && r[j].start <= end; j++) {
		overlaps |= r[j].start < end && start < r[j].end;
		if (r[j].start < lo)
			lo = r[j].start;
		if (r[j].end > hi)
			hi = r[j].end;
	}
	m->stats.fragments_overlapping += (uint64_t)overlaps;
	if (j == i) {
		/* Touches nothing: a range of its own, if there is room. */
		if (n == MAX_RANGES) {
			e->untracked = 1;
			m->stats.fragments_untracked++;
			return;
		}
		memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
		e->nb_ranges++;
	} else if (j > i + 1) {
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(*r));
		e->nb_ranges = (uint8_t)(n - (j - i - 1));
	}
	r[i].start = (uint16_t)lo;
	r[i].end = (uint16_t)hi;
}

void
dpfix_frag_map_attribute(struct dpfix_frag_map *m, struct dpfix_packet_info *info,
		uint64_t now_ns)
{
	/* An IPv6 later fragment names only the header after the fragment header (which
	 * may be another extension header), so IPv6 datagrams are matched without it. */
	uint8_t map_protocol = info->key.ip_version == 4 ? info->key.protocol : 0;
	struct frag_entry *e;
	int found;

	if (info->fragment == DPFIX_FRAG_NONE)
		return;
	e = lookup(m, info, map_protocol, now_ns, &found);
	if (info->fragment == DPFIX_FRAG_FIRST) {
		m->stats.fragments_first++;
		if (found && !e->first_seen)
			m->stats.fragments_out_of_order++;
		e->first_seen = 1;
		e->protocol = info->key.protocol;
		e->src_port = info->key.src_port;
		e->dst_port = info->key.dst_port;
	} else {
		m->stats.fragments_later++;
		if (e->first_seen) {
			info->key.protocol = e->protocol;
			info->key.src_port = e->src_port;
			info->key.dst_port = e->dst_port;
			m->stats.fragments_attributed++;
		} else {
			m->stats.fragments_unattributed++;
		}
	}
	e->last_ns = now_ns;
	add_range(m, e, info->frag_offset, (uint32_t)info->frag_offset + info->frag_len);
	if (!info->frag_more)
		e->last_seen = 1;
	/* Whole (every byte from 0 to the furthest one, and the last fragment): forget it
	 * now rather than hold the slot until the timeout. */
	if (e->last_seen && !e->untracked && e->nb_ranges == 1 && e->ranges[0].start == 0 &&
			e->ranges[0].end == e->end)
		e->ip_version = 0;
}
