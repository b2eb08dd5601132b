/* Per-worker flow table: single writer, no locks, all memory taken at creation.
 * Packets update records by key; ended flows leave through the emit callback. */
#ifndef DPFIX_FLOW_H
#define DPFIX_FLOW_H

#include <stdint.h>

#include "dpfix_parse.h"

/* RFC 7012 flowEndReason values. */
enum dpfix_flow_end_reason {
	DPFIX_FLOW_END_IDLE = 1,
	DPFIX_FLOW_END_ACTIVE = 2,
	DPFIX_FLOW_END_OF_FLOW = 3,             /* TCP FIN or RST, then tcp_end_ns quiet */
	DPFIX_FLOW_END_FORCED = 4,              /* end of input, shutdown */
	DPFIX_FLOW_END_LACK_OF_RESOURCES = 5,   /* evicted from a full table */
};

/* A metered flow, as held in the table and as carried on the export ring: two
 * cache lines, the first holding what every packet compares and counts. With biflow,
 * key is the forward direction (that of the first packet) and rev_* count the other
 * one; otherwise rev_* stay zero. Times are UNIX nanoseconds. */
struct dpfix_flow_record {
	struct dpfix_flow_key key;
	uint64_t packets;
	uint64_t octets;        /* IP layer */
	/* second cache line */
	uint64_t last_ns;
	uint64_t first_ns;
	uint64_t rev_packets;
	uint64_t rev_octets;
	uint64_t rev_first_ns;
	uint64_t rev_last_ns;
	uint32_t mpls_top;      /* top label stack entry as dpfix_packet_info.mpls_top, 0 if none */
	uint16_t vlan_id;
	uint16_t ingress_port;
	uint8_t tcp_flags;      /* union over the direction's packets */
	uint8_t rev_tcp_flags;
	uint8_t tos;            /* of the first packet; DSCP is tos >> 2 */
	uint8_t min_ttl;
	uint8_t max_ttl;
	uint8_t rev_min_ttl;
	uint8_t rev_max_ttl;
	uint8_t end_reason;     /* enum dpfix_flow_end_reason once the flow has ended;
	                         * table-internal state while it lives */
};

/* Returns nonzero if the record was taken; zero leaves the flow in the table to be
 * offered again later (the export ring was full: back-pressure, not loss). ext: the
 * flow's extension (ext_size bytes, see dpfix_flow_params), NULL for a table without. */
typedef int (*dpfix_flow_emit_t)(void *ctx, const struct dpfix_flow_record *rec,
		const void *ext);

/* The bytes of a packet at hand, for what looks past the headers (the measurements of
 * lib/measure): the frame's first len bytes (its first segment). */
struct dpfix_flow_frame {
	const uint8_t *data;
	uint32_t len;
};

/* Called for each packet once the table has counted it in rec (of which it is the
 * forward or the reverse direction), with the flow's extension; frame is NULL when the
 * caller gave no frames. now_ns is the packet's own time. */
typedef void (*dpfix_flow_packet_fn)(void *ctx, const struct dpfix_flow_record *rec, void *ext,
		int reverse, const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns);

/* Counters of one table. The names of the last group are those of RFC 7011's
 * Metering Process Reliability Statistics (section 4.3) they feed. */
#define DPFIX_FLOW_COUNTERS(X) \
	X(flows_created, "flows created") \
	X(flows_expired_idle, "flows ended by idle timeout (flowEndReason 1)") \
	X(flows_expired_active, "flows ended by active timeout (flowEndReason 2)") \
	X(flows_ended_tcp, "flows ended by TCP FIN or RST (flowEndReason 3)") \
	X(flows_expired_forced, "flows ended at shutdown or end of input (flowEndReason 4)") \
	X(flows_evicted, "flows ended early to make room in a full table (flowEndReason 5)") \
	X(table_full, "new flows that found the table full") \
	X(late_packets, "packets older than their record's start by the idle timeout, or " \
		"than its last packet by the active timeout: counted at the record's start") \
	X(emit_deferred, "expiries postponed because the export ring was full") \
	X(ignored_packets, "packets not metered: table full, nothing could be evicted " \
		"(the export ring full too; ignoredPacketTotalCount)") \
	X(ignored_octets, "IP octets of those packets (ignoredOctetTotalCount)")

struct dpfix_flow_stats {
#define DPFIX_FLOW_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_FLOW_COUNTERS(DPFIX_FLOW_COUNTER_FIELD)
#undef DPFIX_FLOW_COUNTER_FIELD
	/* Packet times of the earliest and latest ignored packet (0: none), for the
	 * ignoredPacket time window of RFC 7011 4.3. */
	uint64_t first_ignored_ns;
	uint64_t last_ignored_ns;
};

struct dpfix_flow_params {
	const char *name;       /* for DPDK memory zones; unique per table */
	uint32_t capacity;      /* most flows held at once */
	int socket;             /* NUMA socket of the memory */
	uint64_t idle_ns;       /* end a flow this long after its last packet */
	uint64_t active_ns;     /* end a flow this long after its first packet */
	uint64_t tcp_end_ns;    /* after a FIN or RST, end the flow once it is this long quiet
	                         * (capped at idle_ns) */
	int biflow;             /* RFC 5103: both directions in one record */
	uint64_t hash_seed;     /* keys the index's hash: a random one (rte_rand) keeps
	                         * senders from planning collisions */
	dpfix_flow_emit_t emit;
	void *emit_ctx;
	/* Optional per-flow extension: ext_size bytes beside each record, taken at creation
	 * (a separate array: a table without one pays nothing), zeroed when a record
	 * starts, given to on_packet after each of its packets and to emit with the
	 * record. 0: none. */
	uint32_t ext_size;
	dpfix_flow_packet_fn on_packet;
	void *on_packet_ctx;
};

struct dpfix_flow_table;

/* NULL on bad parameters (capacity 0, no emit, a zero timeout) or out of memory. */
struct dpfix_flow_table *dpfix_flow_table_create(const struct dpfix_flow_params *p);
void dpfix_flow_table_free(struct dpfix_flow_table *t);

/* Meters n parsed packets, packet i seen at times_ns[i] on port. A packet that finds
 * its flow past a timeout ends that record and starts a new one, so timeouts are
 * exact in packet time however far the expiry pass lags (a replayed capture runs
 * much faster than real time). A packet older than its record's start moves the start
 * back only within the timeouts; beyond them it is counted at the start (late_packets),
 * so no record ever spans more than its timeouts allow. A new flow in a full table
 * evicts the flow nearest its expiry (flowEndReason 5). Returns how many of the
 * packets were ignored (no room: see ignored_packets), not metered. */
uint32_t dpfix_flow_table_update_bulk(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const uint64_t *times_ns, uint32_t n, uint16_t port);
/* The same, with each packet's bytes (frames[i] for pkts[i]) for the extension's
 * on_packet. */
uint32_t dpfix_flow_table_update_bulk_frames(struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, const struct dpfix_flow_frame *frames,
		const uint64_t *times_ns, uint32_t n, uint16_t port);

/* The same pipeline in three calls, for a caller that overlaps a batch's memory
 * accesses with other work (the worker: with the next burst's receive and parse).
 * lookup_start hashes up to DPFIX_FLOW_LOOKUP_BATCH packets' keys and prefetches their
 * index buckets; lookup_continue reads those and prefetches the records they name;
 * update_looked_up meters the packets (the same pkts, unchanged) as update_bulk does,
 * returning how many were ignored. The table may change between the calls (other
 * batches, expiry): what lk found is only a hint, checked against the records' keys.
 * Not for a table with extensions (dpfix_flow_params.ext_size). */
#define DPFIX_FLOW_LOOKUP_BATCH 32
struct dpfix_flow_lookup {
	uint32_t n;
	uint32_t bucket[DPFIX_FLOW_LOOKUP_BATCH];
	uint16_t sig[DPFIX_FLOW_LOOKUP_BATCH];
	uint32_t cand[DPFIX_FLOW_LOOKUP_BATCH];
	struct dpfix_flow_key rkeys[DPFIX_FLOW_LOOKUP_BATCH];  /* with biflow: the reverse keys */
};
void dpfix_flow_table_lookup_start(const struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, uint32_t n, struct dpfix_flow_lookup *lk);
void dpfix_flow_table_lookup_continue(const struct dpfix_flow_table *t,
		struct dpfix_flow_lookup *lk);
/* next: a batch whose lookup_continue is done here, a packet of it after each packet
 * metered (NULL: none), so that its prefetches go out among the metering work. */
uint32_t dpfix_flow_table_update_looked_up(struct dpfix_flow_table *t,
		const struct dpfix_packet_info *pkts, const struct dpfix_flow_lookup *lk,
		const uint64_t *times_ns, uint16_t port, struct dpfix_flow_lookup *next);

/* The live record whose key is k (its forward direction: as a uniflow or as a biflow's
 * first direction), or NULL; *ext then points to its extension (NULL without one).
 * Off the bulk path: for what one packet needs of another flow (a TCP SYN/ACK of the
 * handshake its initiator's uniflow record measures). */
const struct dpfix_flow_record *dpfix_flow_table_find(struct dpfix_flow_table *t,
		const struct dpfix_flow_key *k, void **ext);
/* Bytes each flow's extension takes in the table (ext_size rounded up so that none
 * straddles more cache lines than it must), 0 without one. */
uint32_t dpfix_flow_table_ext_stride(const struct dpfix_flow_table *t);

/* Ends the flows whose timeouts have passed at now_ns, looking at no more than
 * max_work flows, so a call is bounded. Returns the number ended. */
uint32_t dpfix_flow_table_expire(struct dpfix_flow_table *t, uint64_t now_ns, uint32_t max_work);

/* Ends every flow with the given reason. Returns -EAGAIN if emit refused one (call
 * again once the consumer has made room), 0 when the table is empty. */
int dpfix_flow_table_flush(struct dpfix_flow_table *t, uint8_t reason);

uint32_t dpfix_flow_table_count(const struct dpfix_flow_table *t);

/* New timeouts (as in dpfix_flow_params) for every flow, open ones included: shorter
 * ones bring the open flows' expiries forward (the expiry passes that follow move them,
 * within their work bound), longer ones put them off. Only the table's own lcore may
 * call it. -ERANGE (nothing changed) for a zero timeout. */
int dpfix_flow_table_set_timeouts(struct dpfix_flow_table *t, uint64_t idle_ns, uint64_t active_ns,
		uint64_t tcp_end_ns);
uint32_t dpfix_flow_table_capacity(const struct dpfix_flow_table *t);
/* A flow is ended by dpfix_flow_table_expire no later than this after it is due. */
uint64_t dpfix_flow_table_granularity_ns(const struct dpfix_flow_table *t);
const struct dpfix_flow_stats *dpfix_flow_table_stats(const struct dpfix_flow_table *t);

/* The key of the other direction: addresses and ports swapped; for ICMP the
 * answering type (echo request <-> reply and the like) with the same code. */
void dpfix_flow_key_reverse(const struct dpfix_flow_key *k, struct dpfix_flow_key *out);

/* A 40-byte Toeplitz RSS key with a 16-bit period (0x6d5a repeated): it hashes a
 * tuple and its reverse (addresses swapped, ports swapped) alike, so both directions
 * of a connection reach the same queue and worker, as biflow needs. */
#define DPFIX_FLOW_RSS_KEY_LEN 40
extern const uint8_t dpfix_flow_symmetric_rss_key[DPFIX_FLOW_RSS_KEY_LEN];

#endif
