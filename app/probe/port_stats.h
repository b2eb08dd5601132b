/* The ports' own drop counters (rte_eth_stats; for net_af_xdp also its sockets' ring-full
 * drops): packets lost before any worker saw them, per port and in total. */
#ifndef PORT_STATS_H
#define PORT_STATS_H

#include <stdint.h>

#define PORT_DROP_COUNTERS(X) \
	X(rx_missed, "packets the port dropped with its receive queue full: the workers " \
			"did not keep up (imissed; net_af_xdp: also its sockets' rx ring full, and " \
			"frames on interface queues the probe does not read)") \
	X(rx_nombuf, "packets dropped for want of a free mbuf (raise mbuf_count)") \
	X(rx_errors, "erroneous packets the port received and dropped (ierrors)")

struct port_drops {
#define PORT_DROP_FIELD(name, text) uint64_t name;
	PORT_DROP_COUNTERS(PORT_DROP_FIELD)
#undef PORT_DROP_FIELD
};

/* Around rte_eth_rx_queue_setup of each queue: notes the AF_XDP sockets the setup opened. */
void port_stats_queue_setup_begin(void);
void port_stats_queue_setup_end(uint16_t port);

/* The port's counters now, read from the PMD (any lcore; not the data path). */
void port_drops_read(uint16_t port, struct port_drops *d);
/* Every port's, added up. */
void port_drops_total(struct port_drops *sum);
/* All three of d: the packets counted in ignoredPacketTotalCount. */
uint64_t port_drops_packets(const struct port_drops *d);

/* Control lcore, now and then: notes when the drops were first and last seen to grow,
 * for the options record's first/last ignored times (0: never). */
void port_drops_poll(uint64_t now_ns);
void port_drops_times(uint64_t *first_ns, uint64_t *last_ns);

/* Visits every port's drop counters: fn(ctx, port, name, value). */
typedef void (*port_counter_fn)(void *ctx, uint16_t port, const char *name, uint64_t value);
void port_drops_visit(port_counter_fn fn, void *ctx);
/* Every port's counters: its drops, then for a port with dpfix's XDP program what the
 * program did with its frames (xdp_redirected, ...: the interface's queues' sum, then
 * per queue xdp_queue_Q_redirected, ...: the port's queues, and any other queue of the
 * interface that saw frames). */
void port_counters_visit(port_counter_fn fn, void *ctx);

struct dpfix_xdp;
/* Port's frames pass dpfix's XDP program (x: its maps, kept) on queues 0..nb_queues-1. */
void port_stats_attach_xdp(uint16_t port, const struct dpfix_xdp *x, unsigned int nb_queues);

#endif
