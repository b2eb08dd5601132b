/* Shared state of the probe's lcores: per-worker contexts, the exporter context and
 * the flags through which the control (main) lcore steers shutdown. */
#ifndef PROBE_H
#define PROBE_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpfix_flow.h"
#include "dpfix_frag.h"
#include "dpfix_parse.h"
#include "dpfix_sample.h"
#include "dpfix_session.h"
#include "probe_config.h"

#define PROBE_MAX_WORKERS 64
#define PROBE_MAX_QUEUES_PER_WORKER 16
#define PROBE_BURST 32
/* Count-based selection decides a burst at once, one bit per packet. */
_Static_assert(PROBE_BURST <= 64, "a burst's selection is a 64-bit mask");

/* A port's selector (its instances on every worker) is selectorId port + 1, and the
 * port's selection sequence has the same number. */
#define PROBE_SELECTOR_ID(port) ((uint64_t)(port) + 1)

struct probe_rx_queue {
	uint16_t port;
	uint16_t queue;
	/* Nanoseconds per unit of this port's rx timestamp, 0 if it is not UNIX time.
	 * DPDK leaves the unit to each driver; NIC clocks are not wall clocks. */
	uint32_t timestamp_ns_per_unit;
	/* The snapshot length of the capture file this queue reads (0: not a file). A
	 * frame that long was cut by it, and net_pcap does not say how long it was. */
	uint32_t snaplen;
	/* The packet selector (PSAMP) of this queue, NULL where every packet is metered:
	 * one instance per queue of a port with a `sampling` line. */
	struct dpfix_sample *sampler;
};

/* Counters of one worker; read (without locks) by the control lcore. */
#define WORKER_COUNTERS(X) \
	X(rx_packets, "packets received") \
	X(rx_bytes, "bytes received (frames)") \
	X(metered_packets, "packets metered into flows") \
	X(metered_octets, "IP octets metered into flows") \
	X(records_enqueued, "flow records handed to the exporter") \
	X(ring_full, "records that found the export ring full: from a capture file the " \
			"worker waited for room; on a live port the table kept the record") \
	X(unmetered_bytes, "frame bytes of the packets the parser did not meter") \
	X(snaplen_cut_packets, "frames as long as their capture's snapshot length, so " \
			"maybe cut by it: their IP length was believed")

struct worker_stats {
#define WORKER_COUNTER_FIELD(name, text) uint64_t name;
	WORKER_COUNTERS(WORKER_COUNTER_FIELD)
#undef WORKER_COUNTER_FIELD
	uint64_t first_ignored_ns;      /* packet time of the first and last packet not */
	uint64_t last_ignored_ns;       /* metered (0: none yet), for the options records */
	uint64_t parse_results[DPFIX_PARSE_RESULT_COUNT];
};

struct worker_ctx {
	unsigned int lcore_id;
	unsigned int index;
	struct probe_rx_queue queues[PROBE_MAX_QUEUES_PER_WORKER];
	unsigned int nb_queues;
	struct dpfix_parse_config parse_cfg;
	struct dpfix_frag_map *frags;   /* this worker's fragmented datagrams in flight */
	struct dpfix_flow_table *table;
	struct rte_ring *ring;          /* records to the exporter (SPSC) */
	const struct probe_settings *settings;
	int timestamp_offset;           /* mbuf dynfield with the rx timestamp, -1 if none */
	uint64_t timestamp_flag;
	int input_is_finite;            /* pcap files: a long silence is end of input */
	uint64_t table_ignored_octets;  /* the table's ignored_octets, taken out of
	                                 * metered_octets so far */
	struct worker_stats stats;
	atomic_int done;                /* set once every flow has been handed over */
	/* New flow timeouts from a reload (SIGHUP): the control lcore writes them, then
	 * bumps timeouts_posted; the worker applies them to its table between bursts. */
	uint64_t new_idle_ns, new_active_ns, new_tcp_end_ns;
	atomic_uint timeouts_posted;
	unsigned int timeouts_applied;
	struct dpfix_sample samplers[PROBE_MAX_QUEUES_PER_WORKER]; /* queues[i].sampler */
} __rte_cache_aligned;

/* The exporter's counters: the summary, telemetry and --stats-json show them all. */
#define EXPORTER_COUNTERS(X) \
	X(records_exported, "flow records given a sequence number, sent or not") \
	X(messages_sent, "IPFIX messages sent") \
	X(send_failures, "messages that could not be sent") \
	X(records_lost, "flow records that never reached a collector: in messages that " \
			"could not be sent, or dropped at shutdown with no collector to take them") \
	X(options_records, "options data records exported") \
	X(reconnects, "replacement sessions taken up") \
	X(connect_failures, "connection attempts that failed: refused, or the session did " \
			"not last (doc/sessions.md)") \
	X(sessions_unconfirmed, "sessions whose end the collector did not confirm") \
	X(records_unconfirmed, "flow records sent in those: the collector may not have " \
			"read them")

struct exporter_ctx {
	const struct probe_settings *settings;
	struct worker_ctx *workers;
	unsigned int nb_workers;
	struct dpfix_session *session;
#define EXPORTER_COUNTER_FIELD(name, text) uint64_t name;
	EXPORTER_COUNTERS(EXPORTER_COUNTER_FIELD)
#undef EXPORTER_COUNTER_FIELD
	uint64_t packets_lost;          /* the packets and octets of the records lost */
	uint64_t octets_lost;
	uint64_t first_loss_ns, last_loss_ns;
	uint64_t bytes_sent;            /* IPFIX message bytes sent */
	atomic_int done;
	/* Session hand-off: the exporter marks a reliable session dead and stops taking
	 * records (they wait in the rings); the control lcore opens a replacement, off the
	 * export path, and the exporter takes it up with fresh templates. */
	struct dpfix_endpoint endpoint;
	struct dpfix_session_params session_params;
	atomic_int session_failed;
	struct dpfix_session *_Atomic replacement;
	/* Each failure of a session: counted here by the exporter once it has written how
	 * long the session lasted and why it failed, which the control lcore then reads
	 * (the count orders the two). The control lcore counts the connection attempts
	 * that failed in a row (the exporter reads it to keep its log quiet meanwhile). */
	atomic_uint session_failures;
	uint64_t failed_lasted_ns;
	char failed_why[DPFIX_SESSION_ERRLEN];
	atomic_uint attempts_failed_in_row;
	/* Control lcore only (exporter_reconnect.c): the backoff, and what it has seen of the
	 * exporter's reports. */
	uint64_t next_reconnect_ms;
	uint64_t reconnect_backoff_ms;
	unsigned int failures_seen;     /* session failures it has accounted for */
	unsigned int failures_replaced; /* session failures it has opened a replacement for */
	char last_failure[DPFIX_SESSION_ERRLEN]; /* the reason last logged */
	void *state;                    /* exporter-private */
};

/* A session that lasted less than this counts as a failed connection attempt: the
 * backoff goes on growing instead of starting over (doc/sessions.md). */
#define SESSION_STABLE_NS 10000000000ull

/* Set by SIGINT/SIGTERM, or by the control lcore at end of input. */
extern atomic_int probe_stop;

int worker_main(void *arg);
/* Adds what w's selectors on port (any port if port < 0) observed and selected to
 * sum; read without locks, like every worker counter. */
void worker_sample_stats(const struct worker_ctx *w, int port, struct dpfix_sample_stats *sum);
/* The flow table's emit callback: the record onto the worker's export ring. */
int worker_emit(void *arg, const struct dpfix_flow_record *rec);
/* Parses and meters n packets received from q at now_ns (when they carry no
 * timestamp of their own), then frees them; last_packet_ns: the newest packet time. */
void worker_meter_burst(struct worker_ctx *w, const struct probe_rx_queue *q,
		struct rte_mbuf **mbufs, unsigned int n, uint64_t now_ns, uint64_t *last_packet_ns);

int exporter_init(struct exporter_ctx *x, char *err, size_t errlen);
/* One round of exporter work; returns the number of records handled. */
unsigned int exporter_poll(struct exporter_ctx *x);
int exporter_main(void *arg);
/* After the lcores have stopped: withdraws the templates and ends the session in order,
 * counting its records as unconfirmed if the collector does not confirm the end. */
void exporter_end(struct exporter_ctx *x);
void exporter_fini(struct exporter_ctx *x);
/* Control lcore: reopens a failed session with backoff. Returns nonzero if it tried. */
int exporter_reconnect_step(struct exporter_ctx *x, uint64_t now_ms);

/* Wall-clock nanoseconds, from the TSC (no syscall on the data path). */
void probe_clock_init(void);
uint64_t probe_clock_now_ns(void);

#endif
