/* The Collecting Process (RFC 7011) as a library: listeners, exporter sessions within
 * limits, per (session, observation domain) decoding state, the serve loop, loss
 * accounting, and the sinks that take what is collected (records with their templates,
 * raw messages, session and template events). One instance is one thread's collector
 * and holds all of its state: several may run in one process. */
#ifndef DPFIX_COLLECT_H
#define DPFIX_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_clickhouse.h"
#include "dpfix_ipfix.h"
#include "dpfix_session.h"

#define DPFIX_COLLECT_MAX_LISTENERS 16
#define DPFIX_COLLECT_MAX_SINKS 8
#define DPFIX_COLLECT_MAX_SESSIONS (1u << 20)

/* Limits that keep one host from locking the other exporters out, and the shared
 * template memory (doc/decisions.md, "Sessions, limits and lock-out"). */
struct dpfix_collect_params {
	uint32_t max_sessions;
	uint64_t first_message_timeout_ms;  /* no valid message this long: closed; 0 never */
	uint32_t template_lifetime_s;       /* UDP: templates and idle sessions; 0 never */
	uint64_t template_memory;           /* beyond each session's reserve; 0: no limit */
	/* The listeners' (mtu, sctp_udp_port, udp_receive_buffer, security); max_sessions
	 * is set from the field above. */
	struct dpfix_session_params session;
};

/* One exporter's transport session as the sinks see it. Stable from session_start to
 * session_end (pointers to it may be kept that long). */
struct dpfix_collect_session {
	uint64_t id;                        /* 1, 2, ... within the instance */
	const struct dpfix_session *session; /* name, peer, endpoint, SCTP stream: lib/session */
	const char *peer;                   /* the exporter's "ADDR:PORT" ("[v6]:PORT") */
	/* Who the exporter proved to be: its PSK identity or certificate name once a
	 * (D)TLS handshake is done; "" without security. */
	const char *identity;
	uint64_t opened_ms;                 /* dpfix_collect_now_ms */
};

/* The contract every output stage keeps (text, JSON, RFC 5655 files, later ClickHouse
 * and the Mediator). Every op is optional and called on the instance's thread, in the
 * order the events happen; pointers given (templates, records, messages) are valid only
 * during the call: a sink that queues work for a thread of its own copies them. A sink
 * never blocks the collector: what it cannot take it counts in lost, and says. */
struct dpfix_collect_sink_ops {
	const char *name;
	/* A session was accepted, before any of its messages. */
	void (*session_start)(void *ctx, const struct dpfix_collect_session *s);
	/* A template of the session's domain was learned (t), before the records that use
	 * it, or is gone (t NULL: withdrawn, or expired on UDP). At session_end all of the
	 * session's templates go, without an event each. */
	void (*template_event)(void *ctx, const struct dpfix_collect_session *s, uint32_t domain,
			uint16_t template_id, const struct dpfix_ipfix_template *t);
	/* One decoded data record (t->scope_count != 0: an options record). */
	void (*record)(void *ctx, const struct dpfix_collect_session *s,
			const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
			const uint8_t *rec, uint32_t len);
	/* The whole message after it was decoded; malformed: the decoder refused it. */
	void (*message)(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg,
			size_t len, int malformed);
	/* The session ended (why: "closed by the exporter", ...); its templates are gone. */
	void (*session_end)(void *ctx, const struct dpfix_collect_session *s, const char *why);
	/* Each round of the loop, with the wall clock (rotation, timed flushes). */
	void (*tick)(void *ctx, uint64_t now_ms);
	/* The collector ran out of input: what is buffered goes out now. */
	void (*idle)(void *ctx);
	/* The end: after the last session ended, before the counters are read. */
	void (*finish)(void *ctx);
	/* Its counters for the summary: fn(arg, name, value) for each. */
	void (*counters)(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value),
			void *arg);
	/* Messages (or records) received that it could not deliver: exit status 2. */
	uint64_t (*lost)(void *ctx);
	void (*free)(void *ctx);
	/* Set by a sink whose record op only writes text onto ctx, a stdio stream, and
	 * touches nothing else (--json, --text): with intake threads each lane formats its
	 * records onto a buffer of its own, outside the sinks' lock, and writes them to ctx
	 * whole, under it (collect_lanes.c). */
	int record_to_stream;
};

struct dpfix_collect_sink {
	const struct dpfix_collect_sink_ops *ops;
	void *ctx;
};

/* Every session's counters, for the summary. */
#define DPFIX_COLLECT_SESSION_COUNTERS(X) \
	X(sessions_opened, "sessions opened") \
	X(sessions_peak, "most sessions open at once") \
	X(sessions_refused, "sessions closed: their handshake or framing failed") \
	X(sessions_handshake_timeout, "sessions closed: their (D)TLS handshake was not done " \
			"within handshake_timeout (a wrong DTLS key, an exporter that gave up, or a " \
			"collector too busy)") \
	X(sessions_refused_full, "new sessions refused: max_sessions were open and every one " \
			"had delivered a valid message (a UDP exporter's datagrams are then dropped " \
			"for 10 s: refused_drops)") \
	X(sessions_evicted, "sessions closed to make room for a new one: they had delivered no " \
			"valid message") \
	X(sessions_no_message, "sessions closed: no valid message within first_message_timeout") \
	X(sessions_idle_expired, "UDP sessions closed: nothing received for template_lifetime") \
	X(sessions_continued, "sessions that continued an earlier one of the same authenticated " \
			"exporter (a planned hand-off): sequence numbers checked across the two") \
	X(sequence_lost_across, "records missing by sequence number between a session and the " \
			"one that continued it") \
	X(sessions_cut_at_stop, "TCP and TLS sessions still sending when the reading after a " \
			"stop ended (its bound, a second signal): what they sent after is unread")

/* What the instance collected and lost, summed over sessions open and closed. */
struct dpfix_collect_stats {
	uint64_t flow_records;
	uint64_t options_records;
	uint64_t packets;               /* packetDeltaCount of the flow records */
	uint64_t octets;                /* octetDeltaCount */
#define DPFIX_COLLECT_SESSION_FIELD(name, text) uint64_t name;
	DPFIX_COLLECT_SESSION_COUNTERS(DPFIX_COLLECT_SESSION_FIELD)
#undef DPFIX_COLLECT_SESSION_FIELD
	uint64_t template_bytes_peak;
	struct dpfix_ipfix_decode_stats decode;
	struct dpfix_listener_stats listeners;
	uint64_t stream_messages[DPFIX_MAX_STREAMS];
};

struct dpfix_collect;

/* The monotonic clock sessions are timed with, in milliseconds. */
uint64_t dpfix_collect_now_ms(void);
/* UTC in milliseconds: what sinks stamp and rotate by. */
uint64_t dpfix_collect_wall_clock_ms(void);

/* NULL with err saying why (out of memory for max_sessions). */
struct dpfix_collect *dpfix_collect_create(const struct dpfix_collect_params *p, char *err,
		size_t errlen);
/* Opens a listener for url (SCHEME://ADDR:PORT). 0, or <0 with err (without the url). */
int dpfix_collect_listen(struct dpfix_collect *c, const char *url, char *err, size_t errlen);
/* Adds an output stage; the instance frees it (ops->free) with itself. 0 or -ENOSPC. */
int dpfix_collect_add_sink(struct dpfix_collect *c, const struct dpfix_collect_sink *sink);

/* Intake on n threads (issue 14; doc/collector-threads.md): after the listeners and the
 * sinks are added, before dpfix_collect_run. Each thread holds the sessions pinned to it
 * by their exporter's address and decodes them; sessions with descriptors of their own
 * (TCP, TLS) are spread, those read through their listener's socket (UDP, DTLS/UDP,
 * SCTP) stay on the calling thread, which owns the listeners. The sinks are called
 * under one lock. n <= 1: one thread, as without the call. 0, or <0 with err. */
int dpfix_collect_start_threads(struct dpfix_collect *c, unsigned int n, char *err,
		size_t errlen);

/* The loop. stop(arg) is asked once a round; stop_fd (a signalfd, an eventfd; -1: none)
 * is in the set it sleeps on when there is nothing to do, and should turn readable when
 * stop would say yes. */
struct dpfix_collect_stop {
	int fd;
	int (*requested)(void *arg);
	void *arg;
};

/* Serves until stop says so: accepts sessions, reads and decodes what they send, hands
 * it to the sinks, sleeps in poll() when idle, and once a second reports listener
 * losses and closes sessions past their time. */
void dpfix_collect_run(struct dpfix_collect *c, const struct dpfix_collect_stop *stop);

enum dpfix_collect_drain_end {
	DPFIX_COLLECT_DRAINED,          /* nothing was left to read */
	DPFIX_COLLECT_DRAIN_STOPPED,    /* stop said yes again */
	DPFIX_COLLECT_DRAIN_TIMED_OUT,  /* input still arriving after max_ms */
};

/* After the loop: reads what arrived before the stop for at most max_ms, then drops and
 * counts (unread_drops) what the listeners still hold. TCP and TLS exporters are told
 * at once that we are ending (dpfix_session_ask_end) and read until they end their side;
 * those still sending at the end are counted (sessions_cut_at_stop). */
enum dpfix_collect_drain_end dpfix_collect_drain(struct dpfix_collect *c,
		const struct dpfix_collect_stop *stop, uint32_t max_ms);

/* SIGINT and SIGTERM as a program's stop (collect_signals.c says why a signalfd):
 * blocked, read from stop.fd, which dpfix_collect_run and dpfix_collect_drain sleep on.
 * Call first thing in main, before anything a signal could interrupt. 0, or -errno
 * (said). */
struct dpfix_collect_signals {
	struct dpfix_collect_stop stop;
	const char *name;       /* the signal that came ("SIGINT", "SIGTERM"), NULL until one did */
};
int dpfix_collect_signals_open(struct dpfix_collect_signals *sig);

/* After the loop ended on a signal: dpfix_collect_drain for at most max_ms, a second
 * signal ending it at once, each said in the log; then (text, may be "") ends the first
 * line. */
void dpfix_collect_drain_after_signal(struct dpfix_collect *c, struct dpfix_collect_signals *sig,
		uint32_t max_ms, const char *then);

/* Datagrams the listeners dropped unread since the drain began: what a stop cost. */
uint64_t dpfix_collect_unread_after_stop(const struct dpfix_collect *c);

/* One round (what dpfix_collect_run repeats), of about 10 ms of reading at most: the
 * messages handled, at least 1 when its time ran out with sessions left unread (their
 * turn is the next round's). stop may be NULL. */
int dpfix_collect_serve(struct dpfix_collect *c, const struct dpfix_collect_stop *stop);

/* Ends every session (why is logged for each), then lets the sinks finish. */
void dpfix_collect_finish(struct dpfix_collect *c, const char *why);

void dpfix_collect_stats(const struct dpfix_collect *c, struct dpfix_collect_stats *st);
/* What the sinks could not deliver (their lost op, summed). */
uint64_t dpfix_collect_sinks_lost(const struct dpfix_collect *c);
/* Whether the instance lost data sent to it, which makes a program's exit status 2
 * (README, "Exit status"): datagrams dropped (socket_drops, queue_drops, peer_drops,
 * unread_after_stop), TCP or TLS exporters still sending when the reading after a stop
 * ended (sessions_cut_at_stop), exporters refused for lack of room (sessions_refused_full),
 * records missing by sequence number or in sets it could not decode
 * (dpfix_ipfix_decode_loss), or records its sinks could not deliver (sinks_lost).
 * Names each such counter with its value in names. Refusals of exporters that did not
 * authenticate or speak IPFIX (sessions_refused, refused_drops), sessions closed having
 * delivered nothing, and malformed input are not loss: no data was accepted from them. */
int dpfix_collect_loss(const struct dpfix_collect *c, char *names, size_t len);
/* The summary: totals, every counter by name, then the sinks' counters, and a line
 * naming what was lost if anything was (dpfix_collect_loss). */
void dpfix_collect_write_summary(const struct dpfix_collect *c, const char *program, FILE *out);

/* Closes the listeners, frees the sinks and the instance. */
void dpfix_collect_free(struct dpfix_collect *c);

/* ---- the sinks lib/collect brings ---- */

/* One line per record on out ("options ID (scope N): " before options records). */
int dpfix_collect_sink_text(FILE *out, struct dpfix_collect_sink *sink);
/* One JSON object per record on out, keyed by IE names. */
int dpfix_collect_sink_json(FILE *out, struct dpfix_collect_sink *sink);

/* RFC 5655 files of every message received, with rotation (dpfix_ipfix_file.h). */
struct dpfix_collect_file_params {
	const char *path;
	uint64_t rotate_bytes;          /* 0: never by size */
	uint64_t rotate_interval_ms;    /* 0: never by time */
	int details;                    /* RFC 5655 Message and Export Session Details */
};
/* 0, or <0 with err naming the path and the reason. */
int dpfix_collect_sink_file(const struct dpfix_collect_file_params *p,
		struct dpfix_collect_sink *sink, char *err, size_t errlen);

/* Flow records into ClickHouse (lib/clickhouse, doc/clickhouse.md): batched here, inserted,
 * spooled and replayed by a thread of its own. p->log is set to lib/log's. 0, or <0 with
 * err saying why (refused credentials, an unknown cluster: what no retry changes). */
int dpfix_collect_sink_clickhouse(const struct dpfix_clickhouse_params *p,
		struct dpfix_collect_sink *sink, char *err, size_t errlen);

#endif
