/* The Exporting Process (RFC 7011) as a library: records in, IPFIX messages out over
 * one session to one collector. One exporter instance per collector, as many as wanted.
 *
 * An instance owns all IPFIX state of its collector: per observation domain the
 * templates (from record schemas), the sequence number and the messages being filled;
 * the session it exports on, taken up with templates first and, over a reliable
 * transport, data only after a probation; the flush timer, the options schedule, the
 * orderly end and the loss accounting (the Exporting Process Reliability Statistics,
 * RFC 7011 4.3). It knows nothing of threads, rings or DPDK: the program feeds it
 * records, calls dpfix_export_poll for its timers, and hands it the sessions it opens.
 * Every call for one instance must come from one thread; its statistics may be read
 * from any (a torn read of a live counter is harmless).
 *
 * Sessions: the program opens them (a handshake may take seconds: not on the thread
 * that exports) and gives each with dpfix_export_take_up. An instance notices that its
 * session failed (a send or a read says so) and stops using it; what follows (a
 * replacement, a wait, giving up) is the program's decision. Each message is sized to
 * the session's limit as it is when the message begins (dpfix_session_max_message is
 * read per message, so a limit that changes at run time applies from the next one). */
#ifndef DPFIX_EXPORT_H
#define DPFIX_EXPORT_H

#include <stdint.h>

#include "dpfix_ipfix_schema.h"
#include "dpfix_session.h"

/* The most observation domains one instance exports for (a Mediator may keep each of
 * its exporters' domains). */
#define DPFIX_EXPORT_MAX_DOMAINS 256

/* An instance's counters: programs show them all, from this one list. */
#define DPFIX_EXPORT_COUNTERS(X) \
	X(records_exported, "flow records given a sequence number, sent or not") \
	X(messages_sent, "IPFIX messages sent") \
	X(send_failures, "messages that could not be sent") \
	X(records_lost, "flow records that never reached a collector: in messages that " \
			"could not be sent, given up by the transport after it took them (SCTP), " \
			"or dropped at shutdown with no collector to take them") \
	X(options_records, "options data records exported") \
	X(path_mtu, "the IP datagram size messages are held to now, a gauge (doc/path-mtu.md): " \
			"the largest a probe confirmed, the base size until one did; 0 where the " \
			"kernel finds it (TCP)") \
	X(reconnects, "replacement sessions taken up") \
	X(sessions_rolled_over, "sessions replaced by a planned hand-off: a new session came " \
			"up beside, export switched, the old one ended in order") \
	X(sessions_unconfirmed, "sessions whose end the collector did not confirm") \
	X(records_unconfirmed, "flow records sent in those: the collector may not have " \
			"read them") \
	X(heartbeats_sent, "heartbeat requests sent (doc/heartbeats.md)") \
	X(heartbeats_answered, "heartbeat requests the collector answered") \
	X(records_replayed, "flow records sent again on a new session because the one they " \
			"went on failed before the collector confirmed them (doc/heartbeats.md: the " \
			"collector may have them twice)") \
	X(send_wait_ms, "milliseconds the export waited for room in a full transport (up to " \
			"100 a message); data messages never wait where they are held instead " \
			"(collector_mode replicate: doc/sessions.md)")

struct dpfix_export_stats {
#define DPFIX_EXPORT_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_EXPORT_COUNTERS(DPFIX_EXPORT_COUNTER_FIELD)
#undef DPFIX_EXPORT_COUNTER_FIELD
	uint64_t bytes_sent;            /* IPFIX message bytes sent */
	/* With records_lost, the Exporting Process Reliability Statistics: the packets and
	 * octets of the records lost, and when the first and last were (0: none). */
	uint64_t packets_lost;
	uint64_t octets_lost;
	uint64_t first_loss_ns, last_loss_ns;
};

/* Where an instance stands with its session. */
enum dpfix_export_state {
	DPFIX_EXPORT_NO_SESSION,        /* none taken up yet */
	DPFIX_EXPORT_PROBATION,         /* templates and options go; data records wait */
	DPFIX_EXPORT_TRUSTED,           /* everything goes */
	DPFIX_EXPORT_FAILED,            /* the session failed: data records wait for another */
	DPFIX_EXPORT_DROPPING,          /* no session will come: data records are counted lost */
};

/* Where the latest planned hand-off (dpfix_export_hand_off) stands. */
enum dpfix_export_hand_off {
	DPFIX_EXPORT_HANDOFF_NONE,      /* none asked for */
	DPFIX_EXPORT_HANDOFF_UNDER_WAY, /* the new session is on its probation */
	DPFIX_EXPORT_HANDOFF_DONE,      /* export switched to it */
	DPFIX_EXPORT_HANDOFF_FAILED,    /* it failed its probation: the old one goes on */
};

struct dpfix_export;
struct dpfix_export_domain;

struct dpfix_export_params {
	uint64_t template_refresh_ns;   /* UDP: every template again this often (RFC 7011 8.4) */
	uint64_t flush_ns;              /* a data record waits at most this long for its message */
	/* Options records: write_options is called at every take-up, then every
	 * options_interval_ns, and by dpfix_export_flush; it adds them with
	 * dpfix_export_option. NULL: none. */
	uint64_t options_interval_ns;
	void (*write_options)(struct dpfix_export *x, void *ctx, uint64_t now_ns);
	void *ctx;
	/* A reliable session's data records wait until it has lasted this long: a collector
	 * that refuses a session (a TLS alert to a plaintext exporter, a reset after the
	 * accept) does so on reading the first message, so none go into it uncounted. */
	uint64_t probation_ns;
	/* Bytes of the replay buffer (doc/heartbeats.md): on a session with heartbeats, the
	 * messages sent since the collector last answered one, sent again on the next
	 * session if this one fails. 0: none. */
	uint64_t replay_bytes;
	/* A data message that finds the transport full is held, as it is (not lost, its
	 * records not counted), instead of waiting up to 100 ms for room: no record is taken
	 * while it does not fit beside it (dpfix_export_record says -EAGAIN), and it goes at
	 * a later record or poll that finds room (or the session fails: then it goes on the
	 * next). For a program whose records can wait elsewhere (the probe's replicate lanes,
	 * each collector's backlog): one stuck collector never slows the others. Templates,
	 * options, replays and dpfix_export_flush still wait. */
	int hold_when_full;
};

/* NULL with err filled in (out of memory). */
struct dpfix_export *dpfix_export_create(const struct dpfix_export_params *p, char *err,
		size_t errlen);
/* Closes the session it holds (dpfix_session_close) and frees everything. NULL is fine. */
void dpfix_export_free(struct dpfix_export *x);

/* ---- what it exports ---- */

/* The observation domain id's state: templates, sequence number, messages. -ENOSPC past
 * DPFIX_EXPORT_MAX_DOMAINS, -EEXIST if added before, -ENOMEM. */
int dpfix_export_add_domain(struct dpfix_export *x, uint32_t id, struct dpfix_export_domain **d);
/* Records of schema s will be exported in d: its template goes on every session before
 * any record. s is the caller's, read for each record: it must outlive x. -EEXIST if its
 * template id is taken, -ENOSPC past DPFIX_IPFIX_TM_MAX templates. */
int dpfix_export_add_schema(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s);
/* dpfix_export_add_schema while a session may be up (a Mediator learning templates as
 * its exporters send them): the template goes to the session at once, before any record
 * of s. Returns as dpfix_export_add_schema. */
int dpfix_export_add_schema_now(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		uint64_t now_ns);
/* No more records of template template_id in d: the records of d's message go first
 * (they may be of it), then, on TCP and SCTP, its withdrawal (RFC 7011 8.1; on UDP it is
 * just not sent again). Over SCTP a withdrawal on stream 0 may overtake data not yet
 * acknowledged: the caller removes a template a while after its last record. Its id may
 * then be given to another schema. -ENOENT if unknown; -EBUSY while d's message holds
 * records that wait for a session (try again once they are sent). */
int dpfix_export_remove_schema(struct dpfix_export_domain *d, uint16_t template_id,
		uint64_t now_ns);

/* ---- sessions ---- */

/* Takes up session s (the caller's no more), as the first or in place of the one held:
 * templates go at once, the options records at the next poll, data records at once on
 * UDP and after the probation on TCP and SCTP; over SCTP both wait until the collector's
 * stack has acknowledged the templates, which data on another stream would overtake.
 * Records in a message not yet sent go on s. Returns the session it held (NULL if none),
 * which is the caller's now to close. */
struct dpfix_session *dpfix_export_take_up(struct dpfix_export *x, struct dpfix_session *s,
		uint64_t now_ns);
/* A planned hand-off to session s (the caller's no more), never a renegotiation and
 * never a stall: s comes up beside the session in use, which carries the data records
 * until s has passed its probation (reliable transports; at once on UDP); then the
 * records waiting in messages go on the old session, s takes over as at a take-up
 * (templates, options records, data; the sequence numbers go on), and the old session
 * ends in order (close_notify, SHUTDOWN) in later polls, never waiting: its flow records
 * are confirmed by the collector's end or counted in sessions_unconfirmed and
 * records_unconfirmed, and it is freed. If s fails its probation (closed or refused by
 * the collector) it is closed and the old one goes on (dpfix_export_hand_off_state says
 * so). A hand-off during another replaces the session coming up. With no session in use
 * (none, failed, dropping) it is a take-up, whose return value it gives; else NULL. */
struct dpfix_session *dpfix_export_hand_off(struct dpfix_export *x, struct dpfix_session *s,
		uint64_t now_ns);
/* The latest hand-off's state; why (may be NULL): what failed it. */
enum dpfix_export_hand_off dpfix_export_hand_off_state(const struct dpfix_export *x,
		const char **why);
/* The session in use ends in order as after a hand-off (waiting records go on it first),
 * with none after it: NO_SESSION, data records wait for a take-up. */
void dpfix_export_retire(struct dpfix_export *x, uint64_t now_ns);
/* No session will come: from now on data records are counted as lost, with those of
 * the messages not sent. */
void dpfix_export_drop(struct dpfix_export *x, uint64_t now_ns);
enum dpfix_export_state dpfix_export_state(const struct dpfix_export *x);
/* Why the session failed and how long it had lasted (in the FAILED state). */
const char *dpfix_export_failure(const struct dpfix_export *x, uint64_t *lasted_ns);
/* In the FAILED state, 1 when the session's transport found its collector dead by its
 * own liveness (SCTP's heartbeats or retransmissions unanswered:
 * dpfix_session_peer_unanswered), where no one closed or reset it: to be reported as a
 * dead collector, as when the program's own heartbeats find one. */
int dpfix_export_failed_unanswered(const struct dpfix_export *x);
/* The session held (failed or not), or NULL. */
const struct dpfix_session *dpfix_export_session(const struct dpfix_export *x);
/* The program has found the collector dead (its heartbeats went unanswered): the session
 * fails as if a send had (any transport, UDP too), why being the reason
 * dpfix_export_failure gives. */
void dpfix_export_fail(struct dpfix_export *x, const char *why, uint64_t now_ns);

/* ---- heartbeats (doc/heartbeats.md) ---- */

/* Heartbeat request id on the session held, if it agreed on heartbeats and works:
 * sent now, or as soon as the transport takes it (a full TCP or SCTP buffer holds it
 * back while the collector is slow; one that never reads never gets it, and never
 * answers). Unpadded: the smallest request. -EOPNOTSUPP when the
 * session has no heartbeats, -EAGAIN when it cannot carry one now (none, failed), else 0;
 * at most 4 wait to be sent, the oldest dropped for a newer. */
int dpfix_export_heartbeat(struct dpfix_export *x, uint32_t id, uint64_t now_ns);
/* One request the collector answered since the last call (the session's reads, in
 * dpfix_export_poll, take answers in): 1 with its id, or 0. */
int dpfix_export_heartbeat_answered(struct dpfix_export *x, uint32_t *id);

/* ---- the work ---- */

/* What dpfix_export_record uses inline, on the data path: the first member of every
 * struct dpfix_export_domain (the rest is lib/export's own). Not for the caller. */
struct dpfix_export_data {
	struct dpfix_ipfix_msg msg;     /* the data message being filled */
	uint64_t msg_packets;           /* the packets and octets of its records, counted */
	uint64_t msg_octets;            /* as lost if it cannot be sent */
	const enum dpfix_export_state *state;   /* its instance's */
};

/* dpfix_export_record's way when the record does not simply go into the message. */
int dpfix_export_record_slow(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		const void *src, uint64_t packets, uint64_t octets, uint64_t now_ns);

/* Encodes the record src of schema s (any dpfix_ipfix_msg_add_encoded takes) into d's
 * message, which is sent when full; packets and octets are the record's, counted if it
 * is lost (also when no message could hold it). 0: taken (or, when
 * DROPPING, counted as lost). -EAGAIN: not taken, no session can carry it now (on
 * probation, failed, none): give it again after the next take-up. Inline: it is called
 * for every record, and the common case is one call to the encoder. */
static inline int
dpfix_export_record(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		const void *src, uint64_t packets, uint64_t octets, uint64_t now_ns)
{
	struct dpfix_export_data *data = (struct dpfix_export_data *)d;

	if (*data->state == DPFIX_EXPORT_TRUSTED &&
			dpfix_ipfix_msg_add_encoded(&data->msg, s, src) == 0) {
		data->msg_packets += packets;
		data->msg_octets += octets;
		return 0;
	}
	return dpfix_export_record_slow(d, s, src, packets, octets, now_ns);
}

/* Records the program lost before they reached x (a collector's backlog full while its
 * session was down): counted with x's lost records, so its Exporting Process
 * Reliability Statistics and records_lost say them. */
void dpfix_export_lost(struct dpfix_export *x, uint64_t records, uint64_t packets,
		uint64_t octets, uint64_t now_ns);

/* From write_options: an options record of schema s from src into d's options message
 * (messages of their own, so the data message stays open; packed to the last octet). */
void dpfix_export_option(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		const void *src, uint64_t now_ns);
/* The options records go at the next poll, not at the end of the interval (a record
 * kind they describe is new). */
void dpfix_export_options_due(struct dpfix_export *x);
/* Timers: a reliable session's liveness (is it closed? a read every 100 ms, every 1 ms
 * while a heartbeat waits for its answer) and its probation, heartbeats waiting to be
 * sent, the path MTU search (dpfix_session_path_poll, and a read every 1 ms of a
 * datagram session while a probe waits for its answer), the options schedule, the flush
 * timer, a hand-off's session coming up and the steps of the sessions ending after
 * hand-offs. */
void dpfix_export_poll(struct dpfix_export *x, uint64_t now_ns);
/* The end of the records: sends what messages hold, then the options records (the last
 * statistics). */
void dpfix_export_flush(struct dpfix_export *x, uint64_t now_ns);
/* The orderly end of a TCP or SCTP session (RFC 7011 8.1): templates withdrawn once the
 * collector's stack has acknowledged all data, then the session ended, which the
 * collector confirms by ending its side after reading everything (dpfix_session_end); an
 * end it does not confirm counts the session in sessions_unconfirmed and its flow
 * records in records_unconfirmed, and is said. Records the transport says it gave up
 * (dpfix_session_records_given_up: here, at every liveness read and at a take-up) are
 * counted lost instead. The session is freed. Nothing for UDP, or with no working
 * session. Sessions ending after hand-offs end first (waiting, 3 s at most each). */
void dpfix_export_end(struct dpfix_export *x, uint64_t now_ns);

const struct dpfix_export_stats *dpfix_export_stats(const struct dpfix_export *x);

/* Where lib/export's messages go (default: the programs' logger, lib/log); each starts
 * with "export: ". */
void dpfix_export_set_logger(void (*fn)(enum dpfix_log_level level, const char *msg));

#endif
