/* Drops at the ports, before any worker: what a probe that cannot keep up loses, in
 * numbers. Read from the PMD when asked (the control and export lcores, never the
 * workers); net_af_xdp's sockets add the rx-ring-full drops the PMD does not count. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpfix_xdp_user.h"
#include "dpfix_xsk.h"
#include "port_stats.h"


struct port_xdp {
	struct dpfix_xdp maps;
	unsigned int nb_queues;     /* 0: the port has no dpfix XDP program */
};
static struct port_xdp xdp_of_port[RTE_MAX_ETHPORTS];
static struct dpfix_xsk_set xsk_before;
static struct dpfix_xsk_set xsk_of_port[RTE_MAX_ETHPORTS];
static uint64_t seen_total;
static _Atomic uint64_t first_seen_ns, last_seen_ns;

void
port_stats_queue_setup_begin(void)
{
	dpfix_xsk_list(&xsk_before);
}

void
port_stats_queue_setup_end(uint16_t port)
{
	struct dpfix_xsk_set after, opened;
	struct dpfix_xsk_set *mine = &xsk_of_port[port];

	dpfix_xsk_list(&after);
	dpfix_xsk_new(&xsk_before, &after, &opened);
	for (unsigned int i = 0; i < opened.count && mine->count < DPFIX_XSK_MAX_FDS; i++)
		mine->fds[mine->count++] = opened.fds[i];
}

void
port_drops_read(uint16_t port, struct port_drops *d)
{
	struct rte_eth_stats s;

	memset(d, 0, sizeof(*d));
	if (rte_eth_stats_get(port, &s) == 0) {
		d->rx_missed = s.imissed;
		d->rx_nombuf = s.rx_nombuf;
		d->rx_errors = s.ierrors;
	}
	if (xsk_of_port[port].count > 0) {
		struct dpfix_xsk_drops x = {0};

		dpfix_xsk_drops_add(&xsk_of_port[port], &x);
		d->rx_missed += x.rx_ring_full;
		d->rx_errors += x.rx_invalid_descs;
	}
	/* Frames dpfix's XDP program found no socket for (a queue the probe does not read)
	 * went to the kernel: the probe missed them. */
	if (xdp_of_port[port].nb_queues > 0)
		for (unsigned int q = 0; q < DPFIX_XDP_MAX_QUEUES; q++) {
			struct dpfix_xdp_counters c;

			if (dpfix_xdp_read(&xdp_of_port[port].maps, q, &c) == 0)
				d->rx_missed += c.kernel_no_socket;
		}
}

void
port_drops_total(struct port_drops *sum)
{
	uint16_t port;

	memset(sum, 0, sizeof(*sum));
	RTE_ETH_FOREACH_DEV(port) {
		struct port_drops d;

		port_drops_read(port, &d);
#define ADD(name, text) sum->name += d.name;
		PORT_DROP_COUNTERS(ADD)
#undef ADD
	}
}

uint64_t
port_drops_packets(const struct port_drops *d)
{
	return d->rx_missed + d->rx_nombuf + d->rx_errors;
}

void
port_drops_poll(uint64_t now_ns)
{
	struct port_drops sum;
	uint64_t total;

	port_drops_total(&sum);
	total = port_drops_packets(&sum);
	if (total == seen_total)
		return;
	seen_total = total;
	if (atomic_load(&first_seen_ns) == 0)
		atomic_store(&first_seen_ns, now_ns);
	atomic_store(&last_seen_ns, now_ns);
}

void
port_drops_times(uint64_t *first_ns, uint64_t *last_ns)
{
	*first_ns = atomic_load(&first_seen_ns);
	*last_ns = atomic_load(&last_seen_ns);
}

static void
visit_drops(uint16_t port, port_counter_fn fn, void *ctx)
{
	struct port_drops d;

	port_drops_read(port, &d);
#define VISIT(name, text) fn(ctx, port, #name, d.name);
	PORT_DROP_COUNTERS(VISIT)
#undef VISIT
}

void
port_drops_visit(port_counter_fn fn, void *ctx)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port)
		visit_drops(port, fn, ctx);
}

void
port_stats_attach_xdp(uint16_t port, const struct dpfix_xdp *x, unsigned int nb_queues)
{
	xdp_of_port[port].maps = *x;
	xdp_of_port[port].nb_queues = nb_queues;
}

static void
visit_xdp(uint16_t port, port_counter_fn fn, void *ctx)
{
	const struct port_xdp *px = &xdp_of_port[port];
	struct dpfix_xdp_counters q[DPFIX_XDP_MAX_QUEUES], sum = {0};
	char key[64];

	/* Every queue of the interface, not only the probe's: frames on a queue with no
	 * socket (start_queue=, or RSS spreading over more queues than queue_count=) go to
	 * the kernel, and only that queue's kernel_no_socket shows it. */
	for (unsigned int i = 0; i < DPFIX_XDP_MAX_QUEUES; i++) {
		dpfix_xdp_read(&px->maps, i, &q[i]);
#define SUM(name, text) sum.name += q[i].name;
		DPFIX_XDP_ACTIONS(SUM)
#undef SUM
	}
#define VISIT_SUM(name, text) fn(ctx, port, "xdp_" #name, sum.name);
	DPFIX_XDP_ACTIONS(VISIT_SUM)
#undef VISIT_SUM
	for (unsigned int i = 0; i < DPFIX_XDP_MAX_QUEUES; i++) {
#define NONZERO(name, text) q[i].name |
		if (i >= px->nb_queues && (DPFIX_XDP_ACTIONS(NONZERO) 0) == 0)
			continue;
#undef NONZERO
#define VISIT_Q(name, text) \
		snprintf(key, sizeof(key), "xdp_queue_%u_" #name, i); \
		fn(ctx, port, key, q[i].name);
		DPFIX_XDP_ACTIONS(VISIT_Q)
#undef VISIT_Q
	}
}

void
port_counters_visit(port_counter_fn fn, void *ctx)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		visit_drops(port, fn, ctx);
		if (xdp_of_port[port].nb_queues > 0)
			visit_xdp(port, fn, ctx);
	}
}
