/* The worker lcore: receive bursts, parse, meter into this worker's own flow table,
 * expire, and pass ended flows to the exporter. No locks, no allocation, no syscalls. */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "probe.h"

/* Flows the expiry pass may look at per loop round: bounds the time taken from rx. */
#define EXPIRE_WORK_PER_ROUND 64

/* A record (with its measures' extension, if any: one ring element of both) written
 * in place in the ring. rte_ring_sp_enqueue_elem copied a 128-byte element as 32
 * four-byte words (136 instructions a record in the flood); memcpy of a constant size
 * is four vector moves. */
static inline int
enqueue(struct worker_ctx *w, const struct dpfix_flow_record *rec, const void *ext)
{
	struct rte_ring_zc_data zcd;

	if (rte_ring_enqueue_zc_bulk_elem_start(w->ring, w->ring_elem_size, 1, &zcd, NULL) == 0)
		return -ENOBUFS;
	memcpy(zcd.ptr1, rec, sizeof(*rec));
	if (ext != NULL)
		memcpy((uint8_t *)zcd.ptr1 + sizeof(*rec), ext, w->ring_elem_size - sizeof(*rec));
	rte_ring_enqueue_zc_elem_finish(w->ring, 1);
	return 0;
}

int
worker_emit(void *arg, const struct dpfix_flow_record *rec, const void *ext)
{
	struct worker_ctx *w = arg;

	if (unlikely(enqueue(w, rec, ext) != 0)) {
		w->stats.ring_full++;
		/* A live port cannot wait: the table keeps the flow and offers it again, and a
		 * new flow that needs its room is ignored (counted). A capture file can: it is
		 * read as fast as the exporter drains, until the probe is stopped. */
		if (!w->input_is_finite)
			return 0;
		do {
			if (atomic_load_explicit(&probe_stop, memory_order_relaxed))
				return 0;
			rte_pause();
		} while (enqueue(w, rec, ext) != 0);
	}
	w->stats.records_enqueued++;
	return 1;
}

/* Packet time: the port's receive timestamp when it offers one (for a pcap file,
 * the capture time, so replayed traffic keeps its real timing), else the clock. */
static inline uint64_t
packet_time_ns(const struct worker_ctx *w, const struct probe_rx_queue *q, const struct rte_mbuf *m,
		uint64_t now_ns)
{
	if (q->timestamp_ns_per_unit != 0 && (m->ol_flags & w->timestamp_flag))
		return *RTE_MBUF_DYNFIELD(m, w->timestamp_offset, rte_mbuf_timestamp_t *) *
				q->timestamp_ns_per_unit;
	return now_ns;
}

/* Parses pkts[0..n) and readies the metered ones in infos/times; returns how many.
 * hash: the queue's hash-based selector, which looks at each parsed packet, or NULL.
 * frames: where the metered packets' bytes go for the measures, or NULL without them.
 * Always inlined with constant NULLs for the path without sampling and measures, so
 * that path carries no test for them. */
static __rte_always_inline unsigned int
parse_burst(struct worker_ctx *w, const struct probe_rx_queue *q, struct rte_mbuf **pkts,
		unsigned int n, uint64_t now_ns, struct dpfix_packet_info *infos, uint64_t *times,
		struct dpfix_sample *hash, struct dpfix_flow_frame *frames)
{
	unsigned int metered = 0;

	/* A NIC's DMA leaves each frame in the last-level cache (DDIO), not in this core's:
	 * asked for all at once, the burst waits about one fetch, not one per packet. */
	for (unsigned int i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void *));
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t wire_len = m->pkt_len;
		enum dpfix_parse_result r;

		w->stats.rx_bytes += m->pkt_len;
		/* A capture file's frame as long as its snapshot length was (most likely) cut
		 * there: its length on the wire is unknown, and its IP length is believed. */
		if (unlikely(q->snaplen != 0 && wire_len >= q->snaplen)) {
			wire_len = DPFIX_WIRE_LEN_UNKNOWN;
			w->stats.snaplen_cut_packets++;
		}
		/* Headers are in the first segment for every PMD used here. */
		r = dpfix_parse_ethernet(&w->parse_cfg, frame, m->data_len, wire_len, q->port,
				&infos[metered]);
		w->stats.parse_results[r]++;
		if (r != DPFIX_PARSE_OK) {
			/* For the Metering Process Reliability Statistics (RFC 7011 4.2). */
			w->stats.unmetered_bytes += m->pkt_len;
			w->stats.last_ignored_ns = packet_time_ns(w, q, m, now_ns);
			if (w->stats.first_ignored_ns == 0)
				w->stats.first_ignored_ns = w->stats.last_ignored_ns;
			continue;
		}
		/* Not selected: neither metered nor ignored; the selector counts it. */
		if (hash != NULL && !dpfix_sample_hash_select(hash, frame, m->data_len, &infos[metered]))
			continue;
		times[metered] = packet_time_ns(w, q, m, now_ns);
		if (frames != NULL)
			frames[metered] = (struct dpfix_flow_frame){frame, m->data_len};
		if (infos[metered].fragment != DPFIX_FRAG_NONE)
			dpfix_frag_map_attribute(w->frags, &infos[metered], times[metered]);
		w->stats.metered_octets += infos[metered].ip_octets;
		metered++;
	}
	return metered;
}

/* Frees a received burst. The PMDs give whole, unshared, direct mbufs of one pool, which
 * go straight back to it in one put; anything else takes rte_pktmbuf_free_bulk, which
 * checks and handles each mbuf (41 instructions a packet against about 12: callgrind,
 * bench/RESULTS.md "Whole probe"). A single segment has no next (rte_mbuf_check calls
 * one that has one corrupt), so next, in the mbuf's second cache line, which a vector
 * PMD's receive never touches, is not read. */
static inline void
free_burst(struct rte_mbuf **mbufs, unsigned int n)
{
	struct rte_mempool *pool = mbufs[0]->pool;

	for (unsigned int i = 0; i < n; i++) {
		const struct rte_mbuf *m = mbufs[i];

		if (unlikely(m->pool != pool || m->nb_segs != 1 || !RTE_MBUF_DIRECT(m) ||
				rte_mbuf_refcnt_read(m) != 1)) {
			rte_pktmbuf_free_bulk(mbufs, n);
			return;
		}
	}
	rte_mempool_put_bulk(pool, (void **)mbufs, n);
}

/* parse_burst through the queue's selector sel. */
static unsigned int
parse_selected(struct worker_ctx *w, const struct probe_rx_queue *q, struct rte_mbuf **mbufs,
		unsigned int n, uint64_t now_ns, struct dpfix_packet_info *infos, uint64_t *times,
		struct dpfix_flow_frame *frames)
{
	struct dpfix_sample *sel = q->sampler;

	if (dpfix_sample_is_count_based(sel)) {
		/* Decided by position alone: the packets not selected are not even parsed. */
		struct rte_mbuf *kept[PROBE_BURST];
		uint64_t mask = dpfix_sample_count_burst(sel, n);
		unsigned int k = 0;

		for (unsigned int i = 0; i < n; i++) {
			if (mask & (1ull << i))
				kept[k++] = mbufs[i];
			else
				w->stats.rx_bytes += mbufs[i]->pkt_len;
		}
		return parse_burst(w, q, kept, k, now_ns, infos, times, NULL, frames);
	}
	return parse_burst(w, q, mbufs, n, now_ns, infos, times, sel, frames);
}

/* Takes the packets the table ignored (no room) out of the metered counts. */
static inline void
uncount_ignored(struct worker_ctx *w, unsigned int ignored)
{
	uint64_t octets = dpfix_flow_table_stats(w->table)->ignored_octets;

	w->stats.metered_packets -= ignored;
	w->stats.metered_octets -= octets - w->table_ignored_octets;
	w->table_ignored_octets = octets;
}

/* The burst's work with the measures on: each packet's bytes go to the flow table with
 * it (dpfix_flow_table_update_bulk_frames), so the mbufs are kept until it is metered. */
void
worker_meter_burst_measured(struct worker_ctx *w, const struct probe_rx_queue *q,
		struct rte_mbuf **mbufs, unsigned int n, uint64_t now_ns, uint64_t *last_packet_ns)
{
	struct dpfix_packet_info infos[PROBE_BURST];
	struct dpfix_flow_frame frames[PROBE_BURST];
	uint64_t times[PROBE_BURST];
	unsigned int metered;

	if (likely(q->sampler == NULL))
		metered = parse_burst(w, q, mbufs, n, now_ns, infos, times, NULL, frames);
	else
		metered = parse_selected(w, q, mbufs, n, now_ns, infos, times, frames);
	w->stats.rx_packets += n;
	w->stats.metered_packets += metered;
	if (metered > 0) {
		unsigned int ignored = dpfix_flow_table_update_bulk_frames(w->table, infos, frames,
				times, metered, q->port);

		*last_packet_ns = times[metered - 1];
		/* Those the table had no room for (ignored_packets) are not metered. */
		if (unlikely(ignored != 0))
			uncount_ignored(w, ignored);
	}
	if (n > 0)
		free_burst(mbufs, n);
}

/* Meters the burst held, if any, and continues next's look-ups among its packets
 * (NULL: none). */
static void
meter_held(struct worker_ctx *w, uint64_t *last_packet_ns, struct dpfix_flow_lookup *next)
{
	struct worker_held_burst *h = &w->held[w->held_next ^ 1];
	unsigned int ignored;

	if (h->n == 0) {
		if (next != NULL)
			dpfix_flow_table_lookup_continue(w->table, next);
		return;
	}
	ignored = dpfix_flow_table_update_looked_up(w->table, h->infos, &h->lookup, h->times,
			h->port, next);
	*last_packet_ns = h->times[h->n - 1];
	if (unlikely(ignored != 0))
		uncount_ignored(w, ignored);
	h->n = 0;
}

void
worker_meter_held(struct worker_ctx *w, uint64_t *last_packet_ns)
{
	meter_held(w, last_packet_ns, NULL);
}

/* Without measures the packets' bytes are not needed once parsed, so the mbufs go back
 * at once and the parsed burst waits: its index buckets are prefetched before the
 * burst held from the call before is metered, its records among that burst's packets,
 * so their lines arrive while the next burst is received and parsed (at 1M flows they
 * come from memory). The table sees the same packets in the same order, and the
 * expiry pass between bursts runs at the time of the packets metered so far. */
void
worker_meter_burst(struct worker_ctx *w, const struct probe_rx_queue *q, struct rte_mbuf **mbufs,
		unsigned int n, uint64_t now_ns, uint64_t *last_packet_ns)
{
	struct worker_held_burst *h = &w->held[w->held_next];
	unsigned int metered;

	if (n == 0)
		return;
	if (likely(q->sampler == NULL))
		metered = parse_burst(w, q, mbufs, n, now_ns, h->infos, h->times, NULL, NULL);
	else
		metered = parse_selected(w, q, mbufs, n, now_ns, h->infos, h->times, NULL);
	w->stats.rx_packets += n;
	w->stats.metered_packets += metered;
	free_burst(mbufs, n);
	/* None to meter (not IP, not selected): nothing to overlap the held burst with,
	 * and a run of such bursts must not keep it waiting. */
	if (metered == 0) {
		meter_held(w, last_packet_ns, NULL);
		return;
	}
	h->n = metered;
	h->port = q->port;
	dpfix_flow_table_lookup_start(w->table, h->infos, metered, &h->lookup);
	meter_held(w, last_packet_ns, &h->lookup);
	w->held_next ^= 1;
}

void
worker_sample_stats(const struct worker_ctx *w, int port, struct dpfix_sample_stats *sum)
{
	for (unsigned int i = 0; i < w->nb_queues; i++) {
		const struct dpfix_sample *s = w->queues[i].sampler;

		if (s == NULL || (port >= 0 && w->queues[i].port != port))
			continue;
#define SUM_SAMPLE(name, text) sum->name += s->stats.name;
		DPFIX_SAMPLE_COUNTERS(SUM_SAMPLE)
#undef SUM_SAMPLE
	}
}

static __rte_always_inline unsigned int
poll_queue(struct worker_ctx *w, const struct probe_rx_queue *q, uint64_t now_ns,
		uint64_t *last_packet_ns, const int measured)
{
	struct rte_mbuf *mbufs[PROBE_BURST];
	unsigned int n = rte_eth_rx_burst(q->port, q->queue, mbufs, PROBE_BURST);

	if (measured)
		worker_meter_burst_measured(w, q, mbufs, n, now_ns, last_packet_ns);
	else
		worker_meter_burst(w, q, mbufs, n, now_ns, last_packet_ns);
	return n;
}

/* Receives and meters until stopped or the input ends; measured is a constant, so the
 * loop is chosen once, not per burst. */
static __rte_always_inline void
worker_loop(struct worker_ctx *w, const int measured)
{
	const struct probe_settings *s = w->settings;
	const uint64_t input_end_ns = s->input_end_idle_ms * 1000000ull;
	uint64_t now_ns = probe_clock_now_ns();

	/* Flow time follows the packets' own timestamps. It advances with the clock only
	 * while no packets arrive, so flows still expire when traffic stops, and a replayed
	 * capture (faster than real time) is never expired ahead of its own next packet. */
	uint64_t last_packet_ns = now_ns, last_packet_clock_ns = now_ns;

	while (!atomic_load_explicit(&probe_stop, memory_order_relaxed)) {
		unsigned int received = 0, posted;
		uint64_t flow_now_ns;

		now_ns = probe_clock_now_ns();
		for (unsigned int i = 0; i < w->nb_queues; i++)
			received += poll_queue(w, &w->queues[i], now_ns, &last_packet_ns, measured);
		if (received > 0) {
			last_packet_clock_ns = now_ns;
			flow_now_ns = last_packet_ns;
		} else if (!measured && w->held[w->held_next ^ 1].n != 0) {
			/* Nothing came to overlap with: the burst held waits no longer. */
			worker_meter_held(w, &last_packet_ns);
			flow_now_ns = last_packet_ns;
		} else if (w->input_is_finite && now_ns - last_packet_clock_ns > input_end_ns) {
			break; /* end of the capture file(s) */
		} else {
			flow_now_ns = last_packet_ns + (now_ns - last_packet_clock_ns);
		}
		dpfix_flow_table_expire(w->table, flow_now_ns, EXPIRE_WORK_PER_ROUND);
		posted = atomic_load_explicit(&w->timeouts_posted, memory_order_acquire);
		if (unlikely(posted != w->timeouts_applied)) {
			dpfix_flow_table_set_timeouts(w->table, w->new_idle_ns, w->new_active_ns,
					w->new_tcp_end_ns);
			w->timeouts_applied = posted;
		}
		posted = atomic_load_explicit(&w->sampling_posted, memory_order_acquire);
		if (unlikely(posted != w->sampling_applied)) {
			for (unsigned int i = 0; i < w->nb_queues; i++) {
				struct dpfix_sample *sel = w->queues[i].sampler, fresh;

				if (sel == NULL)
					continue;
				/* Its counts go on (and never read lower meanwhile). */
				dpfix_sample_init(&fresh, &w->new_sampling[i], w->queues[i].sample_instance);
				fresh.stats = sel->stats;
				*sel = fresh;
			}
			w->sampling_applied = posted;
		}
	}
}

int
worker_main(void *arg)
{
	struct worker_ctx *w = arg;

	if (w->measured) {
		worker_loop(w, 1);
	} else {
		uint64_t last_packet_ns;

		worker_loop(w, 0);
		worker_meter_held(w, &last_packet_ns);
	}

	/* End of input or shutdown: rx has stopped, so waiting for ring room stalls no
	 * packet; the exporter keeps draining (or, with no collector, counts the records
	 * as lost), so the wait is bounded. */
	while (dpfix_flow_table_flush(w->table, DPFIX_FLOW_END_FORCED) == -EAGAIN)
		rte_pause();
	atomic_store(&w->done, 1);
	return 0;
}
