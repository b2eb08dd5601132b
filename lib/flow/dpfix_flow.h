/* Per-worker flow table: single writer, no locks, all memory taken at creation.
 * Packets update records by key; expiry hands finished records to a callback. */
#ifndef DPFIX_FLOW_H
#define DPFIX_FLOW_H

#include <stdint.h>

#include "dpfix_parse.h"

/* RFC 7012 flowEndReason values. */
enum dpfix_flow_end_reason {
	DPFIX_FLOW_END_IDLE = 1,
	DPFIX_FLOW_END_ACTIVE = 2,
	DPFIX_FLOW_END_OF_FLOW = 3,
	DPFIX_FLOW_END_FORCED = 4,
	DPFIX_FLOW_END_LACK_OF_RESOURCES = 5,
};

/* A metered flow as it leaves the worker: the unit carried on the export ring. */
struct dpfix_flow_record {
	struct dpfix_flow_key key;
	uint64_t packets;
	uint64_t octets;
	uint64_t first_ns;      /* UNIX time of the first and last packet, nanoseconds */
	uint64_t last_ns;
	uint16_t vlan_id;
	uint16_t ingress_port;
	uint8_t tcp_flags;      /* union of all packets' flags */
	uint8_t tos;            /* of the first packet */
	uint8_t min_ttl;
	uint8_t max_ttl;
	uint8_t end_reason;
	uint8_t in_use;         /* table-internal: slot holds a live flow */
	uint8_t pad[6];
};

struct dpfix_flow_table;

/* Returns nonzero if the record was taken; zero leaves the flow in the table to be
 * offered again later (the export ring was full: back-pressure, not loss). */
typedef int (*dpfix_flow_emit_t)(void *ctx, const struct dpfix_flow_record *rec);

#define DPFIX_FLOW_COUNTERS(X) \
	X(flows_created, "flows created") \
	X(flows_expired_idle, "flows ended by idle timeout") \
	X(flows_expired_active, "flows ended by active timeout") \
	X(flows_expired_forced, "flows ended at shutdown or end of input") \
	X(table_full, "packets not metered because the table was full") \
	X(emit_deferred, "expiries deferred because the export ring was full")

struct dpfix_flow_stats {
#define DPFIX_FLOW_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_FLOW_COUNTERS(DPFIX_FLOW_COUNTER_FIELD)
#undef DPFIX_FLOW_COUNTER_FIELD
};

/* capacity: the most flows held at once. socket: NUMA socket for the memory. */
struct dpfix_flow_table *dpfix_flow_table_create(const char *name, uint32_t capacity, int socket);
void dpfix_flow_table_free(struct dpfix_flow_table *t);

/* Timeouts applied when a packet arrives for an existing flow. */
struct dpfix_flow_expiry {
	uint64_t idle_ns;
	uint64_t active_ns;
	dpfix_flow_emit_t emit;
	void *ctx;
};

/* Meters n parsed packets, packet i seen at times_ns[i] on port. With expiry, a packet
 * that finds its flow already idle or active past the timeout ends that record and
 * starts a new one, so timeouts are exact in packet time however far the expiry scan
 * lags (a replayed capture runs much faster than real time). */
void dpfix_flow_table_update_bulk(struct dpfix_flow_table *t, const struct dpfix_packet_info *pkts,
		const uint64_t *times_ns, uint32_t n, uint16_t port, const struct dpfix_flow_expiry *expiry);

/* Looks at up to max_slots table slots from where the last call stopped and expires
 * flows idle for idle_ns or active for active_ns. Returns the number expired. */
uint32_t dpfix_flow_table_expire(struct dpfix_flow_table *t, uint64_t now_ns, uint64_t idle_ns,
		uint64_t active_ns, uint32_t max_slots, dpfix_flow_emit_t emit, void *ctx);

/* Ends every flow with the given reason. Returns -EAGAIN if emit refused one (call
 * again once the consumer has made room), 0 when the table is empty. */
int dpfix_flow_table_flush(struct dpfix_flow_table *t, uint8_t reason, dpfix_flow_emit_t emit,
		void *ctx);

uint32_t dpfix_flow_table_count(const struct dpfix_flow_table *t);
const struct dpfix_flow_stats *dpfix_flow_table_stats(const struct dpfix_flow_table *t);

#endif
