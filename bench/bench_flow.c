/* Metering cost per packet on one core, with an in-process traffic source.
 *   --mode worker: the probe's own worker path (worker_meter_burst: parse, flow table,
 *     mbuf free) on 64-byte (or --size) UDP frames built in mbufs here;
 *   --mode table: the flow table alone on parsed packets, --impl own (lib/flow) or
 *     rte_hash (DPDK's rte_hash_lookup_bulk_data with a record array, as lib/flow was
 *     before issue 4), to compare the two indexes.
 * --sampling ALGORITHM:n:N puts a packet selector (lib/sample) on the worker's port.
 * --flows N active flows picked at random per packet (after one pass that creates them
 * all), or --flood: every packet a new flow into a table of --table-size. Table mode
 * with --collide: the N flows' keys all have one CRC32C (tests/unit/crc_collisions.h),
 * the hash-flooding attack on an index keyed by CRC (rte_hash's default). Flow numbers
 * become consecutive addresses unless --random-keys mixes them first (a multiplicative
 * hash spreads consecutive keys more evenly than random ones). --demote pushes each
 * frame's line out to the shared cache once written (cldemote), so the worker meets it
 * there, as a NIC's DMA lands it (DDIO), not in its own L1. Prints one
 * JSON line; the source's own cost is measured alone and reported beside it. Cycles
 * are this thread's CPU time at the TSC rate, so Mpps is packets per CPU-second. */
#define ALLOW_EXPERIMENTAL_API /* rte_cldemote */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "bench_cpu.h"
#include "crc_collisions.h"
#include "probe.h"

atomic_int probe_stop; /* worker.c's shutdown flag; the benchmark never sets it */

#define BURST PROBE_BURST
#define MAX_FRAME 1514

struct options {
	const char *mode;
	const char *impl;
	uint32_t flows;
	uint32_t table_size;
	uint64_t packets;
	uint32_t size;
	int flood;
	int collide;            /* table mode: the flows' keys collide under CRC32C */
	const char *sampling;   /* worker mode: a selector (lib/sample text) on the port */
};

/* xorshift64: cheap, and the same sequence for every variant. */
static inline uint64_t
next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Flow number of the i-th packet: random over [0, flows) (flows a power of 2), or
 * i itself in the flood. */
static inline uint32_t
pick_flow(const struct options *o, uint64_t i, uint64_t *rnd)
{
	if (o->flood)
		return (uint32_t)i;
	return (uint32_t)(next_random(rnd) & (o->flows - 1));
}

/* --random-keys: flow numbers go through this bijection before they become keys. */
static int random_keys;
/* --demote: each frame written is pushed to the shared cache. */
static int demote_frames;

static inline uint32_t
key_number(uint32_t flow)
{
	if (!random_keys)
		return flow;
	flow *= 0x9e3779b1u;
	flow ^= flow >> 15;
	flow *= 0x85ebca77u;
	return flow ^ flow >> 13;
}

/* ---- worker mode: Ethernet/IPv4/UDP frames, flow number in source address and port */

static uint8_t frame_template[MAX_FRAME];

static void
build_template(uint32_t size)
{
	uint8_t *f = frame_template;
	uint16_t ip_len = (uint16_t)(size - 4 - 14); /* size counts the Ethernet FCS */

	memset(f, 0, sizeof(frame_template));
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45;
	f[16] = (uint8_t)(ip_len >> 8);
	f[17] = (uint8_t)ip_len;
	f[22] = 64;                     /* TTL */
	f[23] = 17;                     /* UDP */
	memcpy(f + 26, "\x0a\x00\x00\x00\xc0\x00\x02\x01", 8);
	f[36] = 0x00;                   /* dst port 53 */
	f[37] = 53;
	f[38] = (uint8_t)((ip_len - 20) >> 8);
	f[39] = (uint8_t)(ip_len - 20);
}

static inline void
fill_frame(struct rte_mbuf *m, uint32_t flow, uint32_t len)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	flow = key_number(flow);
	memcpy(f, frame_template, 64);
	f[27] = (uint8_t)(flow >> 16);  /* source 10.x.y.z */
	f[28] = (uint8_t)(flow >> 8);
	f[29] = (uint8_t)flow;
	f[34] = (uint8_t)((1024 + (flow >> 24)) >> 8);    /* source port */
	f[35] = (uint8_t)(flow >> 24);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	if (demote_frames)
		rte_cldemote(f);
}

static uint64_t records_drained;

static void
drain(struct rte_ring *r)
{
	struct dpfix_flow_record recs[64];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst_elem(r, recs, sizeof(recs[0]), 64, NULL)) > 0)
		records_drained += n;
}

/* Cycles per packet of the source alone: allocate, fill, free. */
static double
source_cycles(const struct options *o, struct rte_mempool *pool, uint64_t packets)
{
	struct rte_mbuf *m[BURST];
	uint64_t rnd = 1, start = bench_cpu_cycles();
	uint32_t len = o->size - 4;

	for (uint64_t i = 0; i < packets; i += BURST) {
		if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
			abort();
		for (int j = 0; j < BURST; j++)
			fill_frame(m[j], pick_flow(o, i + (uint64_t)j, &rnd), len);
		rte_pktmbuf_free_bulk(m, BURST);
	}
	return (double)(bench_cpu_cycles() - start) / (double)packets;
}

static int
run_worker(const struct options *o)
{
	static struct probe_settings settings;
	static struct worker_ctx w;
	struct probe_rx_queue q = {.port = 0, .queue = 0};
	struct rte_mempool *pool;
	struct rte_mbuf *m[BURST];
	uint64_t rnd = 1, last_ns = 0, now_ns = 1763800000ull * 1000000000ull;
	uint64_t start, cycles;
	uint32_t len = o->size - 4;
	double src;

	probe_settings_defaults(&settings);
	build_template(o->size);
	pool = rte_pktmbuf_pool_create("bench", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
			(int)rte_socket_id());
	w.settings = &settings;
	w.timestamp_offset = -1;
	w.parse_cfg.key_fields = settings.flow_key;
	w.frags = rte_zmalloc("frags", dpfix_frag_map_memsize(1024), RTE_CACHE_LINE_SIZE);
	w.ring_elem_size = sizeof(struct dpfix_flow_record);
	w.ring = rte_ring_create_elem("bench_export", w.ring_elem_size, 8192,
			(int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	w.table = dpfix_flow_table_create(&(struct dpfix_flow_params){
		.name = "bench_flows", .capacity = o->table_size, .socket = (int)rte_socket_id(),
		.idle_ns = settings.idle_timeout_ms * 1000000ull,
		.active_ns = settings.active_timeout_ms * 1000000ull,
		.tcp_end_ns = settings.tcp_end_wait_ms * 1000000ull,
		.emit = worker_emit, .emit_ctx = &w, .hash_seed = rte_rand(),
	});
	if (pool == NULL || w.frags == NULL || w.ring == NULL || w.table == NULL) {
		fprintf(stderr, "bench_flow: out of memory for a %u-flow table: %s\n", o->table_size,
				rte_strerror(rte_errno));
		return 1;
	}
	dpfix_frag_map_init(w.frags, 1024, 1000000000ull, 1);

	/* Create every flow once (not timed), then meter random picks. */
	if (!o->flood) {
		for (uint32_t f = 0; f < o->flows; f += BURST) {
			if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
				abort();
			for (int j = 0; j < BURST; j++)
				fill_frame(m[j], f + (uint32_t)j, len);
			worker_meter_burst(&w, &q, m, BURST, now_ns, &last_ns);
		}
		worker_meter_held(&w, &last_ns);
	}
	/* The selector comes after the flows exist, so the timed packets find them. */
	if (o->sampling != NULL) {
		struct dpfix_sample_params sp;
		char err[256];

		if (dpfix_sample_parse(o->sampling, &sp, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_flow: --sampling: %s\n", err);
			return 1;
		}
		dpfix_sample_init(&w.samplers[0], &sp, 0);
		q.sampler = &w.samplers[0];
	}
	src = source_cycles(o, pool, o->packets < 4000000 ? o->packets : 4000000);
	start = bench_cpu_cycles();
	for (uint64_t i = 0; i < o->packets; i += BURST) {
		if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
			abort();
		for (int j = 0; j < BURST; j++)
			fill_frame(m[j], pick_flow(o, i + (uint64_t)j + (o->flood ? o->flows : 0), &rnd),
					len);
		now_ns += 100; /* 10 Mpps of packet time: no timeout is reached */
		worker_meter_burst(&w, &q, m, BURST, now_ns, &last_ns);
		dpfix_flow_table_expire(w.table, now_ns, 64);
		if ((i & 1023) == 0)
			drain(w.ring);
	}
	worker_meter_held(&w, &last_ns);
	cycles = bench_cpu_cycles() - start;
	drain(w.ring);
	{
		const struct dpfix_flow_stats *st = dpfix_flow_table_stats(w.table);
		double cpp = (double)cycles / (double)o->packets;

		printf("{\"mode\":\"worker\",\"sampling\":\"%s\",\"flows\":%u,\"flood\":%d,"
				"\"random_keys\":%d,\"demote\":%d,\"table_size\":%u,\"frame\":%u,"
				"\"packets\":%" PRIu64 ",\"cycles_per_packet\":%.1f,\"mpps\":%.2f,"
				"\"source_cycles_per_packet\":%.1f,\"metering_cycles_per_packet\":%.1f,"
				"\"metering_mpps\":%.2f,\"flows_created\":%" PRIu64 ",\"flows_evicted\":%" PRIu64
				",\"ignored_packets\":%" PRIu64 ",\"ring_full\":%" PRIu64 ",\"records_drained\":%"
				PRIu64 ",\"active_flows\":%u}\n",
				o->sampling != NULL ? o->sampling : "none", o->flows, o->flood, random_keys,
				demote_frames,
				o->table_size, o->size, o->packets, cpp,
				(double)rte_get_tsc_hz() / cpp / 1e6, src, cpp - src,
				(double)rte_get_tsc_hz() / (cpp - src) / 1e6, st->flows_created,
				st->flows_evicted, st->ignored_packets, w.stats.ring_full, records_drained,
				dpfix_flow_table_count(w.table));
	}
	return 0;
}

/* ---- table mode: parsed packets straight into the table */

static struct dpfix_flow_key *collide_keys; /* --collide: the key of each flow */

static inline void
fill_info(struct dpfix_packet_info *p, uint32_t flow)
{
	memset(p, 0, sizeof(*p));
	if (collide_keys != NULL) {
		p->key = collide_keys[flow];
		p->ip_octets = 46;
		p->ttl = 64;
		return;
	}
	flow = key_number(flow);
	p->key.ip_version = 4;
	p->key.protocol = 17;
	p->key.src_addr[0] = 10;
	p->key.src_addr[1] = (uint8_t)(flow >> 16);
	p->key.src_addr[2] = (uint8_t)(flow >> 8);
	p->key.src_addr[3] = (uint8_t)flow;
	memcpy(p->key.dst_addr, "\xc0\x00\x02\x01", 4);
	p->key.src_port = (uint16_t)(1024 + (flow >> 24));
	p->key.dst_port = 53;
	p->ip_octets = 46;
	p->ttl = 64;
}

/* The index lib/flow had before issue 4: rte_hash with extendable buckets, a record
 * array, bulk lookup of 32 with prefetch of the records hit. */
struct rte_hash_table {
	struct rte_hash *hash;
	struct dpfix_flow_record *records;
	uint32_t used, capacity;
};

static inline void
count(struct dpfix_flow_record *r, const struct dpfix_packet_info *p, uint64_t now)
{
	r->packets++;
	r->octets += p->ip_octets;
	if (now > r->last_ns)
		r->last_ns = now;
	if (now < r->first_ns)
		r->first_ns = now;
	r->tcp_flags |= p->tcp_flags;
	if (p->ttl < r->min_ttl)
		r->min_ttl = p->ttl;
	if (p->ttl > r->max_ttl)
		r->max_ttl = p->ttl;
}

static void
rte_hash_update_bulk(struct rte_hash_table *t, const struct dpfix_packet_info *pkts, uint32_t n,
		uint64_t now)
{
	const void *keys[BURST];
	void *data[BURST];
	uint64_t hits = 0;

	for (uint32_t i = 0; i < n; i++)
		keys[i] = &pkts[i].key;
	rte_hash_lookup_bulk_data(t->hash, keys, n, &hits, data);
	for (uint32_t i = 0; i < n; i++)
		if (hits & (1ull << i)) {
			rte_prefetch0(&t->records[(uintptr_t)data[i]]);
			rte_prefetch0((char *)&t->records[(uintptr_t)data[i]] + 64);
		}
	for (uint32_t i = 0; i < n; i++) {
		struct dpfix_flow_record *r = NULL;
		void *slot;

		if (hits & (1ull << i))
			r = &t->records[(uintptr_t)data[i]];
		else if (rte_hash_lookup_data(t->hash, keys[i], &slot) >= 0)
			r = &t->records[(uintptr_t)slot];
		else if (t->used < t->capacity &&
				rte_hash_add_key_data(t->hash, keys[i], (void *)(uintptr_t)t->used) >= 0) {
			r = &t->records[t->used++];
			memset(r, 0, sizeof(*r));
			r->key = pkts[i].key;
			r->first_ns = r->last_ns = now;
			r->min_ttl = r->max_ttl = pkts[i].ttl;
		}
		if (r != NULL)
			count(r, &pkts[i], now);
	}
}

/* N keys with one CRC32C and word XOR: IPv4/UDP 10.0.0.1:1024 -> 192.0.2.1:53 with
 * the sender's bits varied: source address, destination address but its first byte,
 * the source port's high byte, the destination port. */
static int
make_collide_keys(uint32_t n)
{
	static const unsigned int bytes[] = {0, 1, 2, 3, 17, 18, 19, 33, 34, 35};
	struct dpfix_packet_info base;

	collide_keys = rte_malloc("collide_keys", sizeof(*collide_keys) * n, 0);
	if (collide_keys == NULL)
		return -1;
	fill_info(&base, 0);
	base.key.src_addr[3] = 1;
	if (crc_collisions(&base.key, bytes, RTE_DIM(bytes), collide_keys, n) != n) {
		fprintf(stderr, "bench_flow: fewer than %u colliding keys\n", n);
		return -1;
	}
	return 0;
}

static int
emit_discard(void *ctx, const struct dpfix_flow_record *rec, const void *ext)
{
	(void)ctx;
	(void)rec;
	(void)ext;
	return 1;
}

static int
run_table(const struct options *o)
{
	static struct dpfix_packet_info pkts[BURST];
	struct dpfix_flow_table *own = NULL;
	struct rte_hash_table rh = {0};
	int use_own = strcmp(o->impl, "own") == 0;
	uint64_t rnd = 1, now = 1763800000ull * 1000000000ull, start, cycles, src_start;
	uint64_t times[BURST];
	double src;

	if (o->collide && make_collide_keys(o->flows) != 0)
		return 1;
	if (use_own) {
		own = dpfix_flow_table_create(&(struct dpfix_flow_params){
			.name = "bench_own", .capacity = o->table_size, .socket = (int)rte_socket_id(),
			.idle_ns = 15000000000ull, .active_ns = 120000000000ull, .tcp_end_ns = 2000000000ull,
			.emit = emit_discard, .hash_seed = rte_rand(),
		});
	} else {
		struct rte_hash_parameters params = {
			.name = "bench_rte_hash", .entries = o->table_size + o->table_size / 4 + 64,
			.key_len = sizeof(struct dpfix_flow_key), .hash_func = rte_hash_crc,
			.socket_id = (int)rte_socket_id(), .extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
		};

		rh.hash = rte_hash_create(&params);
		rh.capacity = o->table_size;
		rh.records = rte_zmalloc("bench_records", sizeof(*rh.records) * o->table_size, 128);
	}
	if (use_own ? own == NULL : (rh.hash == NULL || rh.records == NULL)) {
		fprintf(stderr, "bench_flow: cannot create a %u-flow %s table\n", o->table_size, o->impl);
		return 1;
	}
	for (uint32_t f = 0; f < o->flows && !o->flood; f += BURST) {
		for (int j = 0; j < BURST; j++) {
			fill_info(&pkts[j], f + (uint32_t)j);
			times[j] = now;
		}
		if (use_own)
			dpfix_flow_table_update_bulk(own, pkts, times, BURST, 0);
		else
			rte_hash_update_bulk(&rh, pkts, BURST, now);
	}
	/* The source alone. */
	src_start = bench_cpu_cycles();
	for (uint64_t i = 0; i < o->packets; i += BURST)
		for (int j = 0; j < BURST; j++) {
			fill_info(&pkts[j], pick_flow(o, i + (uint64_t)j, &rnd));
			times[j] = now;
		}
	src = (double)(bench_cpu_cycles() - src_start) / (double)o->packets;
	rnd = 1;
	start = bench_cpu_cycles();
	for (uint64_t i = 0; i < o->packets; i += BURST) {
		now += 100;
		for (int j = 0; j < BURST; j++) {
			fill_info(&pkts[j], pick_flow(o, i + (uint64_t)j + (o->flood ? o->flows : 0), &rnd));
			times[j] = now;
		}
		if (use_own)
			dpfix_flow_table_update_bulk(own, pkts, times, BURST, 0);
		else
			rte_hash_update_bulk(&rh, pkts, BURST, now);
	}
	cycles = bench_cpu_cycles() - start;
	{
		double cpp = (double)cycles / (double)o->packets;

		printf("{\"mode\":\"table\",\"impl\":\"%s\",\"flows\":%u,\"flood\":%d,\"collide\":%d,"
				"\"random_keys\":%d,\"table_size\":%u,"
				"\"packets\":%" PRIu64 ",\"cycles_per_packet\":%.1f,\"source_cycles_per_packet\":%.1f,"
				"\"table_cycles_per_packet\":%.1f,\"table_mpps\":%.2f}\n",
				o->impl, o->flows, o->flood, o->collide, random_keys, o->table_size, o->packets,
				cpp, src, cpp - src, (double)rte_get_tsc_hz() / (cpp - src) / 1e6);
	}
	if (own != NULL)
		dpfix_flow_table_free(own);
	rte_hash_free(rh.hash);
	rte_free(rh.records);
	rte_free(collide_keys);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o = {.mode = "worker", .impl = "own", .flows = 65536, .packets = 20000000,
		.size = 64};
	static const struct option longopts[] = {
		{"mode", required_argument, NULL, 'm'}, {"impl", required_argument, NULL, 'i'},
		{"flows", required_argument, NULL, 'f'}, {"packets", required_argument, NULL, 'p'},
		{"table-size", required_argument, NULL, 't'}, {"size", required_argument, NULL, 's'},
		{"flood", no_argument, NULL, 'F'}, {"sampling", required_argument, NULL, 'S'},
		{"collide", no_argument, NULL, 'C'}, {"random-keys", no_argument, NULL, 'R'},
		{"demote", no_argument, NULL, 'D'}, {NULL, 0, NULL, 0},
	};
	int ret = rte_eal_init(argc, argv), c;

	if (ret < 0) {
		fprintf(stderr, "bench_flow: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.mode = optarg; break;
		case 'i': o.impl = optarg; break;
		case 'f': o.flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'p': o.packets = strtoull(optarg, NULL, 0); break;
		case 't': o.table_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': o.size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'F': o.flood = 1; break;
		case 'C': o.collide = 1; break;
		case 'R': random_keys = 1; break;
		case 'D': demote_frames = 1; break;
		case 'S': o.sampling = optarg; break;
		default:
			fprintf(stderr, "usage: bench_flow [EAL] -- [--mode worker|table] [--impl own|rte_hash] "
					"[--flows N (power of 2)] [--flood] [--collide] [--random-keys] [--table-size N] [--packets N] [--size 64] "
					"[--sampling ALGORITHM:n:N[:name=value...]]\n");
			return 1;
		}
	}
	if (o.flows == 0 || (o.flows & (o.flows - 1)) != 0 || o.size < 64 || o.size > MAX_FRAME + 4) {
		fprintf(stderr, "bench_flow: --flows must be a power of 2, --size 64..1518\n");
		return 1;
	}
	if (o.table_size == 0)
		o.table_size = o.flood ? 1u << 20 : o.flows;
	o.packets = (o.packets + BURST - 1) / BURST * BURST;
	ret = strcmp(o.mode, "table") == 0 ? run_table(&o) : run_worker(&o);
	rte_eal_cleanup();
	return ret;
}
