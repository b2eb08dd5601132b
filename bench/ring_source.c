/* A traffic source for the whole-probe benchmark (bench/line_rate.sh, feed "ring") whose
 * cost stays off the worker's core, as a NIC's does: a DPDK secondary process attached
 * to a running dpfix-probe that reads `--vdev net_ring0` (started without --in-memory).
 * net_ring0 without arguments is one ring of 1024 slots, ETH_RXTX0_net_ring0, both its
 * rx and its tx queue 0. This program takes mbufs from the probe's own pool ("mbufs"),
 * writes a 64-byte Ethernet/IPv4/UDP frame (or a TCP SYN) into each and enqueues them on
 * that ring, 32 at a time, until SIGINT/SIGTERM or --seconds. Flow f goes from
 * 10.99.(f>>8&255).(f&255):(10000 + f%50000) to 10.97.0.1:4000, the frames of
 * tests/integration/send_frames.py, flows 0..N-1 in turn.
 *
 * What reaches the worker's core is made like a NIC's delivery: a NIC writes the frame
 * by DMA into the last-level cache (DDIO), and its PMD, on the worker's core, writes the
 * mbuf's first line, which that core freed a moment before. Here the frame's line is
 * written on this core and pushed out to the shared cache (cldemote); an mbuf's header
 * is written only the first time it is seen (its lengths, 64, then stay: the probe never
 * changes them), so the worker finds it clean, as it left it. --mbuf-reset resets every
 * header here instead (rte_pktmbuf_alloc_bulk: both its cache lines written on this
 * core, so each crosses to the worker) and --no-demote leaves the frame in this core's
 * cache: harsher sources, for comparison.
 *
 * At the end it prints one JSON line: packets, seconds, its rate, its own cycles a packet
 * (TSC cycles making and enqueueing bursts, not its waits for room nor bursts preempted
 * by the machine's other work), the share of a CPU it had, and how often the ring was
 * full: the enqueue calls that found no room for the whole burst, and the share of its
 * time spent waiting for room. A ring found full proves the reader, not this source, set
 * the rate.
 *
 * Usage: ring_source --proc-type=secondary --file-prefix P --lcores 7@0 --no-pci
 *   --no-telemetry -- [--ring NAME] [--pool NAME] [--flows N] [--seconds S] [--syn]
 *   [--mbuf-reset] [--no-demote]
 * The EAL lcore id must be one the probe does not use: two threads with the same lcore
 * id would share the pool's per-lcore cache and corrupt it.
 *
 * The source alone: ring_source --in-memory --no-pci --vdev net_ring0 --lcores 7@0,1@1
 *   --main-lcore 7 --no-telemetry -- --consume --seconds S [--mbufs N] ...
 * makes its own pool of --mbufs (cache 256, as the probe's) and starts net_ring0 on it,
 * and reads it on the other lcore as testpmd's rxonly does (rx burst,
 * rte_pktmbuf_free_bulk): the rate this source can give one core, and that core's
 * cycles a packet in full bursts (the source's cost on a worker's core), in "reader".
 * testpmd itself cannot host the generator: in a secondary process, its pool's mempool
 * driver index names another driver (testpmd loads its drivers in another order). */
#define ALLOW_EXPERIMENTAL_API /* rte_cldemote */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "bench_cpu.h"

#define BURST 32
#define FRAME_LEN 64

static atomic_int stop;
/* A burst that took this long (20 us) was preempted: the machine is shared, and such a
 * burst's time is not this program's cost, so the cycles a packet leave it out. */
static uint64_t preempted_cycles;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

struct options {
	const char *ring;
	const char *pool;
	uint32_t flows;
	double seconds;         /* 0: until a signal */
	int syn;
	int mbuf_reset;         /* every mbuf's header reset here (both its lines written) */
	int demote;             /* each frame's line pushed to the shared cache once written */
	int consume;            /* own pool and port, read on the next lcore: the source alone */
	uint32_t mbufs;         /* --consume: the pool's size */
};

static uint8_t frame_template[FRAME_LEN];
static uint32_t template_sum;   /* the IPv4 header's 16-bit words, source low half 0 */

/* send_frames.py's frame for flow 0 with the source address's low 16 bits and the
 * source port left 0 (written per packet), and the header checksum's base sum. */
static void
build_template(int syn)
{
	uint8_t *f = frame_template;

	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[17] = syn ? 40 : 50;          /* total length: 20 + TCP 20 | UDP 8 + 22 */
	f[22] = 64;                     /* TTL */
	f[23] = syn ? 6 : 17;
	memcpy(f + 26, "\x0a\x63\x00\x00\x0a\x61\x00\x01", 8);     /* 10.99.0.0 > 10.97.0.1 */
	f[36] = 4000 >> 8;              /* destination port */
	f[37] = 4000 & 0xff;
	if (syn) {
		f[41] = 1;              /* sequence number 1 */
		f[46] = 5 << 4;         /* data offset */
		f[47] = 0x02;           /* SYN */
		f[48] = 0xff;           /* window 65535 */
		f[49] = 0xff;
	} else {
		f[39] = 30;             /* UDP length */
	}
	template_sum = 0;
	for (int i = 14; i < 34; i += 2)
		template_sum += (uint32_t)(f[i] << 8 | f[i + 1]);
}

static inline void
write_frame(struct rte_mbuf *m, uint32_t flow, const struct options *o)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t low = (uint16_t)flow, sport = (uint16_t)(10000 + flow % 50000);
	uint32_t sum = template_sum + low;

	memcpy(f, frame_template, FRAME_LEN);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (uint8_t)(~sum >> 8);
	f[25] = (uint8_t)~sum;
	f[28] = (uint8_t)(low >> 8);
	f[29] = (uint8_t)low;
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	/* A raw mbuf from the pool has refcnt 1, one segment and no next (rte_mbuf_raw_alloc);
	 * its lengths are those of its last use, or 0 when new. */
	if (o->mbuf_reset || m->data_len != FRAME_LEN) {
		m->data_len = FRAME_LEN;
		m->pkt_len = FRAME_LEN;
	}
	if (o->demote)
		rte_cldemote(f);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"ring", required_argument, NULL, 'r'}, {"pool", required_argument, NULL, 'p'},
		{"flows", required_argument, NULL, 'f'}, {"seconds", required_argument, NULL, 's'},
		{"syn", no_argument, NULL, 'y'}, {"mbuf-reset", no_argument, NULL, 'm'},
		{"no-demote", no_argument, NULL, 'd'}, {"consume", no_argument, NULL, 'c'},
		{"mbufs", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	*o = (struct options){.ring = "ETH_RXTX0_net_ring0", .pool = "mbufs", .flows = 65536,
		.demote = 1, .mbufs = 8192};
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'r': o->ring = optarg; break;
		case 'p': o->pool = optarg; break;
		case 'f':
			o->flows = (uint32_t)strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || o->flows == 0 || o->flows > 200000000) {
				fprintf(stderr, "ring_source: --flows %s: want 1 to 200000000 "
						"(distinct keys up to 204.8 M)\n", optarg);
				return -EINVAL;
			}
			break;
		case 's':
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || o->seconds < 0) {
				fprintf(stderr, "ring_source: --seconds %s: want a number >= 0\n", optarg);
				return -EINVAL;
			}
			break;
		case 'y': o->syn = 1; break;
		case 'm': o->mbuf_reset = 1; break;
		case 'd': o->demote = 0; break;
		case 'c': o->consume = 1; break;
		case 'n':
			o->mbufs = (uint32_t)strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || o->mbufs < 4096) {
				fprintf(stderr, "ring_source: --mbufs %s: want 4096 or more\n", optarg);
				return -EINVAL;
			}
			break;
		default: return -EINVAL;
		}
	}
	return 0;
}

struct tally {
	uint64_t packets, enqueue_calls, full_calls, alloc_failures, wait_cycles;
	uint64_t busy_cycles, busy_packets;     /* bursts made without being preempted */
};

/* Fills and enqueues bursts until stopped. What does not fit waits in its burst for
 * the reader to make room: nothing generated is dropped, so the reader's received count
 * is this one's packets once the ring has drained. */
static void
generate(struct rte_ring *ring, struct rte_mempool *pool, const struct options *o,
		uint64_t end_tsc, struct tally *t)
{
	struct rte_mbuf *burst[BURST];
	uint32_t flow = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t start = rte_rdtsc();
		unsigned int sent;

		if ((o->mbuf_reset ? rte_pktmbuf_alloc_bulk(pool, burst, BURST) :
				rte_mempool_get_bulk(pool, (void **)burst, BURST)) != 0) {
			t->alloc_failures++; /* the reader holds every mbuf: it is behind */
			rte_pause();
			continue;
		}
		for (unsigned int i = 0; i < BURST; i++) {
			write_frame(burst[i], flow, o);
			flow = flow + 1 == o->flows ? 0 : flow + 1;
		}
		sent = rte_ring_enqueue_burst(ring, (void **)burst, BURST, NULL);
		t->enqueue_calls++;
		uint64_t took = rte_rdtsc() - start;

		if (took < preempted_cycles) {
			t->busy_cycles += took;
			t->busy_packets += BURST;
		}
		if (sent < BURST) {
			uint64_t wait_from = rte_rdtsc();

			do {
				t->full_calls++;
				if (atomic_load_explicit(&stop, memory_order_relaxed)) {
					rte_pktmbuf_free_bulk(burst + sent, BURST - sent);
					t->packets += sent;
					return;
				}
				rte_pause();
				sent += rte_ring_enqueue_burst(ring, (void **)burst + sent, BURST - sent, NULL);
				t->enqueue_calls++;
			} while (sent < BURST);
			t->wait_cycles += rte_rdtsc() - wait_from;
		}
		t->packets += BURST;
		if (end_tsc != 0 && (t->packets & 0xffff) == 0 && rte_rdtsc() > end_tsc)
			break;
	}
}

struct reader {
	uint16_t port;
	uint64_t packets, polls, empty_polls, busy_cycles, busy_packets, cpu_cycles;
};

/* --consume's reader: testpmd's rxonly loop, timed while there is something to read. */
static int
read_port(void *arg)
{
	struct reader *r = arg;
	struct rte_mbuf *burst[BURST];
	uint64_t cpu0 = bench_cpu_cycles();

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t start = rte_rdtsc();
		uint16_t n = rte_eth_rx_burst(r->port, 0, burst, BURST);

		r->polls++;
		if (n == 0) {
			r->empty_polls++;
			continue;
		}
		rte_pktmbuf_free_bulk(burst, n);
		r->packets += n;
		uint64_t took = rte_rdtsc() - start;

		/* Full bursts only: the cost a packet when the source keeps the reader busy
		 * (a burst of one or two, all the reader can take from a source slower than
		 * itself, spreads each poll's cost over fewer packets). */
		if (n == BURST && took < preempted_cycles) {
			r->busy_cycles += took;
			r->busy_packets += n;
		}
	}
	r->cpu_cycles = bench_cpu_cycles() - cpu0;
	return 0;
}

/* --consume: the pool the probe would make, and net_ring0 started on it. */
static int
own_port(const struct options *o, struct reader *r)
{
	struct rte_eth_conf conf = {0};
	struct rte_mempool *pool = rte_pktmbuf_pool_create(o->pool, o->mbufs, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());

	if (pool == NULL || rte_eth_dev_get_port_by_name("net_ring0", &r->port) != 0) {
		fprintf(stderr, "ring_source: --consume needs --vdev net_ring0 and room for %u "
				"mbufs\n", o->mbufs);
		return -ENODEV;
	}
	if (rte_eth_dev_configure(r->port, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(r->port, 0, 1024, (int)rte_socket_id(), NULL, pool) != 0 ||
			rte_eth_tx_queue_setup(r->port, 0, 64, (int)rte_socket_id(), NULL) != 0 ||
			rte_eth_dev_start(r->port) != 0) {
		fprintf(stderr, "ring_source: cannot start net_ring0\n");
		return -ENODEV;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct tally t = {0};
	int eal_args = rte_eal_init(argc, argv);

	if (eal_args < 0) {
		fprintf(stderr, "ring_source: EAL init failed: %s (is the reader running with "
				"the same --file-prefix, without --in-memory?)\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= eal_args;
	argv += eal_args;
	if (parse_options(argc, argv, &o) != 0)
		return 2;

	struct reader reader = {0};
	unsigned int reader_lcore = rte_get_next_lcore(-1, 1, 0);

	if (o.consume && (reader_lcore >= RTE_MAX_LCORE || own_port(&o, &reader) != 0)) {
		fprintf(stderr, "ring_source: --consume needs a second lcore and net_ring0\n");
		return 1;
	}
	/* The probe answers telemetry (how a script knows it is up) before it has made its
	 * pool: give it 30 s. */
	struct rte_ring *ring = rte_ring_lookup(o.ring);
	struct rte_mempool *pool = rte_mempool_lookup(o.pool);

	for (int tries = 0; (ring == NULL || pool == NULL) && tries < 300; tries++) {
		rte_delay_us_sleep(100000);
		ring = rte_ring_lookup(o.ring);
		pool = rte_mempool_lookup(o.pool);
	}
	if (ring == NULL || pool == NULL) {
		fprintf(stderr, "ring_source: no %s named %s in the reader's memory\n",
				ring == NULL ? "ring" : "mempool", ring == NULL ? o.ring : o.pool);
		return 1;
	}
	/* The pool's ops are found by index in this process's table: a different table
	 * (other drivers loaded) would call the wrong ones. */
	if (strcmp(rte_mempool_get_ops(pool->ops_index)->name, "ring_mp_mc") != 0) {
		fprintf(stderr, "ring_source: pool %s uses ops %s here, not ring_mp_mc: this "
				"process's mempool drivers differ from the reader's\n", o.pool,
				rte_mempool_get_ops(pool->ops_index)->name);
		return 1;
	}
	build_template(o.syn);
	preempted_cycles = rte_get_tsc_hz() / 50000;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (o.consume)
		rte_eal_remote_launch(read_port, &reader, reader_lcore);

	uint64_t hz = rte_get_tsc_hz(), cpu0 = bench_cpu_cycles(), tsc0 = rte_rdtsc();

	generate(ring, pool, &o, o.seconds > 0 ? tsc0 + (uint64_t)(o.seconds * (double)hz) : 0, &t);

	uint64_t wall = rte_rdtsc() - tsc0, cpu = bench_cpu_cycles() - cpu0;
	double seconds = (double)wall / (double)hz;

	/* This lcore's cached mbufs go back to the reader's pool. */
	rte_mempool_cache_flush(rte_mempool_default_cache(pool, rte_lcore_id()), pool);
	atomic_store(&stop, 1);
	rte_eal_mp_wait_lcore();
	printf("{\"source\": \"ring_source\", \"flows\": %" PRIu32 ", \"syn\": %s, "
			"\"mbuf_reset\": %s, \"demote\": %s, \"packets\": %" PRIu64 ", "
			"\"seconds\": %.3f, \"mpps\": %.2f, \"cpu_share\": %.3f, "
			"\"cycles_per_packet\": %.1f, \"enqueue_calls\": %" PRIu64 ", "
			"\"ring_full_calls\": %" PRIu64 ", \"ring_full_fraction\": %.3f, "
			"\"waiting_share\": %.3f, \"alloc_failures\": %" PRIu64 ", \"tsc_hz\": %" PRIu64,
			o.flows, o.syn ? "true" : "false", o.mbuf_reset ? "true" : "false",
			o.demote ? "true" : "false", t.packets, seconds,
			seconds > 0 ? (double)t.packets / seconds / 1e6 : 0.0,
			wall ? (double)cpu / (double)wall : 0.0,
			t.busy_packets ? (double)t.busy_cycles / (double)t.busy_packets : 0.0, t.enqueue_calls,
			t.full_calls, t.enqueue_calls ? (double)t.full_calls / (double)t.enqueue_calls : 0.0,
			wall ? (double)t.wait_cycles / (double)wall : 0.0, t.alloc_failures, hz);
	if (o.consume)
		printf(", \"reader\": {\"packets\": %" PRIu64 ", \"mpps\": %.2f, \"cpu_share\": %.3f, "
				"\"cycles_per_packet\": %.1f, \"empty_poll_fraction\": %.3f}",
				reader.packets, seconds > 0 ? (double)reader.packets / seconds / 1e6 : 0.0,
				wall ? (double)reader.cpu_cycles / (double)wall : 0.0,
				reader.busy_packets ? (double)reader.busy_cycles / (double)reader.busy_packets : 0.0,
				reader.polls ? (double)reader.empty_polls / (double)reader.polls : 0.0);
	printf("}\n");
	rte_eal_cleanup();
	return 0;
}
