/* The AF_XDP sockets that DPDK's net_af_xdp opens, seen from outside the PMD: which
 * ones a queue setup opened, and the kernel's drop counters of each. */
#ifndef DPFIX_XSK_H
#define DPFIX_XSK_H

#include <stdint.h>

#define DPFIX_XSK_MAX_FDS 256

/* A set of AF_XDP socket descriptors of this process. */
struct dpfix_xsk_set {
	unsigned int count;
	int fds[DPFIX_XSK_MAX_FDS];
};

/* The kernel's XDP_STATISTICS of a set's sockets, added up. */
struct dpfix_xsk_drops {
	uint64_t rx_dropped;       /* no fill-ring buffer for the frame (DPDK's imissed) */
	uint64_t rx_ring_full;     /* the rx ring was full: DPDK 22.11 counts these nowhere */
	uint64_t rx_invalid_descs;
};

/* Every AF_XDP socket open in this process now (from /proc/self/fd). */
void dpfix_xsk_list(struct dpfix_xsk_set *set);

/* The sockets in after that are not in before: those a queue setup opened. */
void dpfix_xsk_new(const struct dpfix_xsk_set *before, const struct dpfix_xsk_set *after,
		struct dpfix_xsk_set *opened);

/* Adds the set's counters to drops; a socket closed since is skipped. Returns the
 * number of sockets read. */
unsigned int dpfix_xsk_drops_add(const struct dpfix_xsk_set *set, struct dpfix_xsk_drops *drops);

#endif
