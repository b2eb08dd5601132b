/* Fragment map of one worker: remembers the ports of each fragmented datagram's first
 * fragment so its later fragments join the same flow, and which of its bytes have been
 * seen, so it is let go once whole. Fixed size (128 bytes a datagram), no allocation
 * after set-up, no locks (one per worker), bounded work per packet. */
#ifndef DPFIX_FRAG_H
#define DPFIX_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_parse.h"

#define DPFIX_FRAG_COUNTERS(X) \
	X(fragments_first, "first fragments (offset 0, more to come)") \
	X(fragments_later, "non-first fragments") \
	X(fragments_attributed, "non-first fragments metered into their first fragment's flow") \
	X(fragments_unattributed, "non-first fragments metered with ports 0 (first not seen before)") \
	X(fragments_out_of_order, "datagrams whose first fragment came after a later one") \
	X(fragments_overlapping, "fragments repeating or overlapping bytes of their datagram " \
			"already seen (metered; their bytes count once towards completion)") \
	X(fragments_untracked, "fragments whose bytes could not be recorded (their datagram " \
			"in more than 16 separate pieces): it then ends at its timeout") \
	X(fragment_map_replaced, "unfinished datagrams dropped from a full fragment map")

struct dpfix_frag_stats {
#define DPFIX_FRAG_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_FRAG_COUNTERS(DPFIX_FRAG_COUNTER_FIELD)
#undef DPFIX_FRAG_COUNTER_FIELD
};

struct dpfix_frag_map;

/* Bytes of memory a map of at least entries entries needs (rounded up to a power of 2,
 * at least one bucket); the caller allocates it, e.g. with rte_zmalloc_socket. */
size_t dpfix_frag_map_memsize(uint32_t entries);

/* Sets up a map in mem (dpfix_frag_map_memsize(entries) bytes, 64-byte aligned).
 * Datagrams whose last fragment is older than timeout_ns (packet time) are forgotten.
 * seed varies the hash so collisions cannot be planned. */
struct dpfix_frag_map *dpfix_frag_map_init(void *mem, uint32_t entries, uint64_t timeout_ns,
		uint32_t seed);

/* Entries the map holds (the rounded-up size). */
uint32_t dpfix_frag_map_capacity(const struct dpfix_frag_map *m);

/* For a parsed fragment (info->fragment != DPFIX_FRAG_NONE) seen at now_ns: a first
 * fragment records its flow's protocol and ports; a later one takes them from its
 * first fragment if that was seen, else keeps ports 0 and is counted unattributed.
 * Either way the packet is then metered: no fragment is ever dropped here. */
void dpfix_frag_map_attribute(struct dpfix_frag_map *m, struct dpfix_packet_info *info,
		uint64_t now_ns);

const struct dpfix_frag_stats *dpfix_frag_map_stats(const struct dpfix_frag_map *m);

#endif
