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
#include "dpfix_measure.h"
#include "dpfix_parse.h"
#include "dpfix_sample.h"
#include "dpfix_export.h"
#include "dpfix_peer_watch.h"
#include "dpfix_session.h"
#include "control_rollover.h"
#include "export_handoff.h"
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
	uint64_t sample_instance;       /* its instance number (dpfix_sample_init) */
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
	/* With measures on: their state and counters (the table's on_packet context),
	 * and the export ring's elements are a record and its extension, this long. */
	int measured;
	struct dpfix_measure measure;
	uint32_t ring_elem_size;
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
	/* New parameters for the queues' selectors (SIGHUP: same ports, same algorithms),
	 * by queue; the control lcore writes them and bumps sampling_posted, the worker
	 * starts its selectors over with them between bursts (their counts go on). */
	struct dpfix_sample_params new_sampling[PROBE_MAX_QUEUES_PER_WORKER];
	atomic_uint sampling_posted;
	unsigned int sampling_applied;
	unsigned int timeouts_applied;
	struct dpfix_sample samplers[PROBE_MAX_QUEUES_PER_WORKER]; /* queues[i].sampler */
	/* A worker without measures meters each burst's packets while it receives the
	 * next (worker.c): the burst parsed last waits in one of these, its table
	 * look-ups under way; held_next is the one the next burst goes in. */
	struct worker_held_burst {
		unsigned int n;         /* packets held, 0: none */
		uint16_t port;
		struct dpfix_packet_info infos[PROBE_BURST];
		uint64_t times[PROBE_BURST];
		struct dpfix_flow_lookup lookup;
	} held[2];
	unsigned int held_next;
} __rte_cache_aligned;

struct probe_records;   /* export_records.h */

#define EXPORT_BURST 64  /* records taken from a ring at a time */

/* The control lcore's part of session life (control_sessions.c): the collector, the
 * wait between attempts, and what it has learnt from the export lcore's reports. */
struct session_control {
	struct dpfix_endpoint endpoint;         /* the collector sessions go to now */
	/* Failover (control_failover.c): every collector, the first the primary; the one
	 * `endpoint` is, and the one the session in use goes to. */
	struct dpfix_endpoint endpoints[PROBE_MAX_COLLECTORS];
	unsigned int nb_endpoints;
	unsigned int target;
	unsigned int in_use;
	uint64_t failovers;
	uint64_t next_failback_ns;
	int failback_said;              /* the primary's failure said since the last failover */
	int failback_now;               /* a hand-off to the primary at once (SIGHUP) */
	struct dpfix_session_params params;
	char session_name[DPFIX_SESSION_ERRLEN]; /* of the session offered last */
	unsigned int sessions_opened;
	int waiting;                    /* the export lcore has no session: open one */
	int dropped;                    /* none will come: the export lcore was told */
	struct dpfix_session *opening;  /* a replacement's handshake, a step a tick */
	const char *records_wait;       /* where records wait meanwhile, for the log */
	uint64_t grace_end_ns;          /* input over with no session: drop from then on */
	unsigned int attempts_failed_in_row;
	uint64_t backoff_ms;
	uint64_t next_attempt_ms;
	char last_failure[DPFIX_SESSION_ERRLEN]; /* the reason last logged */
	uint64_t connect_failures;
	/* The session in use, or offered last (the first, taken up at start, is 1): its
	 * serial number and whether it agreed on heartbeats (export_handoff.h); the last
	 * serial given (a hand-off's new session has one before it is in use), and those
	 * of the hand-off under way. */
	uint64_t serial;
	int heartbeats;
	uint64_t serials_given;
	uint64_t hand_off_serial;
	int hand_off_heartbeats;
	/* Heartbeats on it (control_heartbeat.c): the watch of the session watch_serial
	 * (0: none), and the serial of the last session whose collector was found dead. */
	struct dpfix_peer_watch watch;
	uint64_t watch_serial;
	uint32_t next_heartbeat_id;
	uint64_t dead_serial;
	uint64_t collectors_dead;
};

/* A lane's backlog (export_backlog.c), collector_mode replicate only: the records the
 * other collectors took while this one's session could not (down, on probation), kept
 * in order for when it can; past its size, the records are counted lost for it. A ring
 * of ring elements (records as the workers' rings hold them). */
struct lane_backlog {
	uint8_t *elems;
	uint32_t capacity;                      /* elements; 0: none (one lane) */
	uint32_t head, count;
	int full_said;                          /* its overflow was logged, this outage */
};

/* One export lane: one collector's Exporting Process (lib/export: its session,
 * templates, sequence numbers, options schedule, replay buffer) and the life of its
 * sessions (reconnection, heartbeats, hand-offs, failover among its endpoints). The
 * probe has one lane (collector_mode failover: every collector is an endpoint of it) or
 * one per collector (replicate), all fed the same records. Each member is one lcore's,
 * as marked. */
struct export_lane {
	struct exporter_ctx *x;
	unsigned int index;                     /* from 0 */
	/* the export lcore's */
	struct dpfix_export *export;
	struct dpfix_export_domain *domain;     /* the probe's observation domain */
	const struct dpfix_ipfix_schema *flow_schema[2]; /* IPv4, IPv6 */
	struct probe_records *records;
	uint64_t session_serial;                /* of the session in use */
	uint64_t hand_off_serial;               /* of a hand-off's new session */
	enum dpfix_export_state reported;       /* of the current session, to the control lcore */
	enum dpfix_export_hand_off hand_off_reported; /* of the latest hand-off, likewise */
	struct lane_backlog backlog;
	uint64_t backlog_lost;                  /* records it could not hold, counted lost */
	/* between the two */
	struct export_handoff handoff;
	/* the control lcore's */
	struct session_control control;
	struct session_rollover rollover;
};

/* The export: the export lcore drains the workers' rings into every lane; the control
 * lcore gives each lane sessions through its hand-off. */
struct exporter_ctx {
	const struct probe_settings *settings;
	struct worker_ctx *workers;
	unsigned int nb_workers;
	struct export_lane lanes[PROBE_MAX_COLLECTORS];
	unsigned int nb_lanes;
	/* The workers' ring elements: each ring_elem_size bytes, a struct
	 * dpfix_flow_record and, with measures, its extension (struct dpfix_measured_flow). */
	uint32_t ring_elem_size;
	atomic_int done;
};

/* The exporter's counters as the summary, telemetry and --stats-json show them:
 * lib/export's and the control lcore's. */
#define EXPORTER_COUNTERS(X) \
	DPFIX_EXPORT_COUNTERS(X) \
	X(connect_failures, "connection attempts that failed: refused, or the session did " \
			"not last (doc/sessions.md)") \
	X(failovers, "times export moved to another collector (collector_mode failover: to a " \
			"backup, or back to the primary)") \
	X(collectors_dead, "sessions dropped because their collector was found dead: " \
			"heartbeat_misses heartbeats in a row unanswered, or SCTP's or TCP's own " \
			"(doc/heartbeats.md)") \
	X(backlog_records, "collector_mode replicate: records waiting in the collector's " \
			"backlog while its session cannot take them, a gauge") \
	X(backlog_lost, "collector_mode replicate: records lost for the collector because " \
			"its backlog was full (in records_lost too)")

struct exporter_counters {
#define EXPORTER_COUNTER_FIELD(name, text) uint64_t name;
	EXPORTER_COUNTERS(EXPORTER_COUNTER_FIELD)
#undef EXPORTER_COUNTER_FIELD
	uint64_t bytes_sent;
};

/* Set by SIGINT/SIGTERM, or by the control lcore at end of input. */
extern atomic_int probe_stop;

int worker_main(void *arg);
/* Adds what w's selectors on port (any port if port < 0) observed and selected to
 * sum; read without locks, like every worker counter. */
void worker_sample_stats(const struct worker_ctx *w, int port, struct dpfix_sample_stats *sum);
/* The flow table's emit callback: the record onto the worker's export ring. */
int worker_emit(void *arg, const struct dpfix_flow_record *rec, const void *ext);
/* Parses n packets received from q at now_ns (when they carry no timestamp of their
 * own) and frees them; meters the burst held from the call before, and holds these,
 * their table look-ups begun, until the next call or worker_meter_held.
 * last_packet_ns: the newest packet time metered. For a worker without measures;
 * worker_meter_burst_measured, which meters its burst at once, for one with
 * (w->measured). */
void worker_meter_burst(struct worker_ctx *w, const struct probe_rx_queue *q,
		struct rte_mbuf **mbufs, unsigned int n, uint64_t now_ns, uint64_t *last_packet_ns);
/* Meters the burst worker_meter_burst holds, if any. */
void worker_meter_held(struct worker_ctx *w, uint64_t *last_packet_ns);
void worker_meter_burst_measured(struct worker_ctx *w, const struct probe_rx_queue *q,
		struct rte_mbuf **mbufs, unsigned int n, uint64_t now_ns, uint64_t *last_packet_ns);

/* Makes the lanes (one, or one per collector with collector_mode replicate), opens their
 * first sessions and makes the records' schemas. No session at all: an error, at start;
 * replicate goes on with the collectors that took one, the others reconnect. */
int exporter_init(struct exporter_ctx *x, char *err, size_t errlen);
/* One round of exporter work; returns the number of records handled. */
unsigned int exporter_poll(struct exporter_ctx *x);
int exporter_main(void *arg);
/* Every worker has handed over its last record. */
int exporter_input_over(const struct exporter_ctx *x);
/* After the lcores have stopped: the session's orderly end (lib/export). */
void exporter_end(struct exporter_ctx *x);
void exporter_fini(struct exporter_ctx *x);
/* Read from any lcore, without locks: every lane's counters added up (path_mtu: the
 * smallest), or one lane's. */
void exporter_counters(const struct exporter_ctx *x, struct exporter_counters *c);
void lane_counters(const struct export_lane *l, struct exporter_counters *c);
/* The collector a lane exports to, as configured (failover: the one in use). */
const char *lane_collector(const struct export_lane *l);

/* export_backlog.c (collector_mode replicate): the lane's backlog made for ring elements
 * of elem_size bytes, bytes long in all; the records from the rings the lane could not take
 * go into it (one that does not fit counted lost); feed gives it to the lane while it
 * takes records (at most max), returning how many it took. */
int lane_backlog_init(struct export_lane *l, uint64_t bytes, uint32_t elem_size,
		char *err, size_t errlen);
void lane_backlog_free(struct export_lane *l);
void lane_backlog_push(struct export_lane *l, const uint8_t *elem, uint32_t elem_size,
		uint64_t now_ns);
unsigned int lane_backlog_feed(struct export_lane *l, uint32_t elem_size, unsigned int max,
		uint64_t now_ns);
/* One ring element to the lane's Exporting Process (dpfix_export_record's return).
 * Inline: it is called for every record and every lane. */
static inline int
lane_export_record(struct export_lane *l, const uint8_t *elem, uint64_t now_ns)
{
	const struct dpfix_flow_record *r = (const void *)elem;

	return dpfix_export_record(l->domain, l->flow_schema[r->key.ip_version == 6], r,
			r->packets, r->octets, now_ns);
}

/* Control lcore (control_sessions.c): opens the first session; then reads the export
 * lcore's reports of its session (liveness), and opens a replacement once its wait is
 * over or decides that none will come (reconnect). */
struct dpfix_session *sessions_open_first(struct session_control *c,
		const struct probe_settings *s, int collector, char *err, size_t errlen);
/* sessions_open_first in parts, for replicate, whose collectors' first sessions are
 * opened side by side (a collector that does not answer delays the start by
 * connect_timeout once, not once each): setup (endpoints, parameters; -EINVAL with err
 * for a collector that does not parse), then side_by_side opens every lane's (NULL with
 * errs[k] saying why), and first_opened (in it) records each as the lane's first. */
int sessions_setup(struct session_control *c, const struct probe_settings *s, int collector,
		char *err, size_t errlen);
void sessions_open_side_by_side(struct exporter_ctx *x, struct dpfix_session **sessions,
		char (*errs)[DPFIX_SESSION_ERRLEN]);
void sessions_first_opened(struct session_control *c, const struct dpfix_session *session);
/* collector_mode replicate: a lane whose collector took no session at start reconnects
 * (its records wait in its backlog), why saying what failed. */
void sessions_first_failed(struct export_lane *l, const char *why, uint64_t now_ns);
void sessions_liveness(struct export_lane *l, uint64_t now_ns);
/* A replacement is opened in steps, one a tick, never waiting (a handshake with a
 * collector that does not answer lasts connect_timeout): the export and every other
 * lane go on meanwhile. */
void sessions_reconnect(struct export_lane *l, uint64_t now_ns);
/* A hand-off's new session s: its serial number (export_handoff.h), and once the
 * export lcore uses it, the current session's serial and heartbeats become its. */
uint64_t sessions_hand_off_serial(struct session_control *c, const struct dpfix_session *s);
void sessions_handed_off(struct session_control *c, uint64_t serial);
/* The collector of session serial is dead (control_heartbeat.c decided: why says how it
 * knows). Said once; the export lcore is told to stop using the session, which then
 * fails like any other and is replaced (with backoff) and closed at once. The one place
 * that acts on a dead collector: failover (another collector) goes here. */
void sessions_collector_dead(struct export_lane *l, uint64_t serial, const char *why,
		uint64_t now_ns);

/* Control lcore (control_heartbeat.c): says at start-up how the collector's liveness is
 * watched; then, as a periodic task, asks the export lcore for heartbeats on the current
 * session and finds its collector dead; takes in the answers the export lcore reports. */
void heartbeats_describe(const struct export_lane *l);
void heartbeats_task(struct export_lane *l, uint64_t now_ns);
void heartbeats_answered(struct export_lane *l, const struct handoff_msg *m, uint64_t now_ns);
/* After the lcores have stopped: closes the sessions still in the hand-off. */
void sessions_fini(struct export_lane *l);

/* Control lcore (control_failover.c): the collectors. setup parses them (collector:
 * the settings' index of the one collector of a replicate lane, -1 for all); next moves
 * `endpoint` to the next one after a failure (the one that failed is tried last); used
 * says that a session to `target` is now the one in use (a failover counted and said
 * if it is another collector's); failback_due says when a hand-off back to the primary
 * is to be tried (the target set to it). */
int failover_setup(struct session_control *c, const struct probe_settings *s, int collector,
		char *err, size_t errlen);
void failover_next(struct session_control *c);
void failover_session_failed(struct session_control *c);
/* A hand-off back to the primary failed: said once an outage; the target is back. */
void failover_failback_failed(struct session_control *c, const char *why);
/* SIGHUP changed the collectors (running: the old settings): the new list applies; what
 * was done goes into said. */
void failover_reload(struct session_control *c, const struct probe_settings *running,
		const struct probe_settings *next, char *said, size_t len);
void failover_used(struct session_control *c, const char *session_name);
int failover_failback_due(struct session_control *c, const struct probe_settings *s,
		uint64_t now_ns);

/* Control lcore (control_rollover.c): planned hand-offs. init registers the operator's
 * telemetry command; task, every tick, opens a new session when one is due and offers it;
 * answered takes in what the export lcore made of it; fini closes one half open. */
void rollover_init(struct exporter_ctx *x, uint64_t now_ns);
void rollover_task(struct export_lane *l, uint64_t now_ns);
/* Whether the collector's liveness is checked by a fresh session now and then (a (D)TLS
 * one that did not agree on heartbeats), every heartbeat_interval x heartbeat_misses x
 * LIVENESS_SESSION_FACTOR; one that cannot be opened makes the collector dead
 * (sessions_collector_dead). Less often than heartbeats: each is a handshake for the
 * collector, and a session it keeps. */
#define LIVENESS_SESSION_FACTOR 10ull
int liveness_by_session(const struct export_lane *l);
void rollover_answered(struct export_lane *l, const struct handoff_msg *m, uint64_t now_ns);
void rollover_fini(struct export_lane *l);

/* Wall-clock nanoseconds, from the TSC (no syscall on the data path). */
void probe_clock_init(void);
uint64_t probe_clock_now_ns(void);

#endif
