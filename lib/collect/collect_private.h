/* lib/collect's instance and session state, shared by its files. Internal. */
#ifndef COLLECT_PRIVATE_H
#define COLLECT_PRIVATE_H

#include <poll.h>

#include "dpfix_collect.h"

/* Where an exporter's session ended, per observation domain (the first few), for the
 * session that continues it (collect_lineage.c). */
#define COLLECT_LINEAGE_DOMAINS 4
struct collect_lineage_end {
	uint64_t id;                /* the earlier session's */
	int linked;                 /* this session continues that one */
	int final;                  /* that one is over: the numbers below are where it ended */
	unsigned int nb_domains;
	uint32_t domain[COLLECT_LINEAGE_DOMAINS];
	uint32_t expected[COLLECT_LINEAGE_DOMAINS];
	uint32_t checked;           /* the domains checked, a bit each */
};

/* A session closed with no session continuing it yet. */
#define COLLECT_LINEAGE_CLOSED 16
struct collect_closed_session {
	char identity[256];
	uint64_t closed_ms;
	int continued;
	struct collect_lineage_end end;
};

/* One exporter's transport session, with its own templates and sequence state. */
struct collect_session {
	struct dpfix_collect_session info;  /* what the sinks see */
	struct dpfix_session *transport_session; /* info.session, to read and close */
	struct dpfix_collect *owner;
	struct dpfix_ipfix_decoder *decoder;
	const char *transport;      /* its listener's: udp, tcp or sctp */
	int datagram;               /* UDP or DTLS/UDP: ends when it stops sending */
	int started;                /* the sinks were told of it (at its first message) */
	uint64_t last_input_ms;
	uint64_t valid_messages;    /* decoded without being malformed */
	int error_reported;
	int warning_reported;
	int loss_reported;
	uint64_t asked_end_ms;      /* the stop told its exporter we are ending; 0: not */
	struct collect_lineage_end continues;       /* the session this one continues */
	struct collect_session *continued_by;       /* open, continuing this one; or NULL */
};

/* Where the packet and octet counters (the summary's totals) lie in the records of the
 * data set being decoded, worked out once per set instead of once per record: a set's
 * records follow one another (each starts where the previous one ended), and a
 * template can change only in a set of its own, between data sets. Forgotten before
 * each message. */
struct collect_counter_layout {
	const uint8_t *next;    /* where the set's next record would start; NULL: unknown */
	uint32_t packets_at, octets_at;
	uint16_t packets_len, octets_len; /* 0: the template has no such field */
	uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
};

struct collect_lanes;

struct dpfix_collect {
	struct dpfix_collect_params params;
	/* Intake threads (collect_lanes.c): the instance the program made is lane 0 and
	 * owns the listeners, the real sinks and the lanes; each other lane is an
	 * instance of its own thread. NULL: one thread. */
	struct collect_lanes *lanes;
	unsigned int lane;              /* 0: the program's instance */
	int wake_fd;                    /* a lane's eventfd (new session, stop); else -1 */
	struct dpfix_ipfix_template_budget budget;
	struct dpfix_listener *listeners[DPFIX_COLLECT_MAX_LISTENERS];
	unsigned int nb_listeners;
	uint64_t listener_losses_said[DPFIX_COLLECT_MAX_LISTENERS];
	struct dpfix_collect_sink sinks[DPFIX_COLLECT_MAX_SINKS];
	unsigned int nb_sinks;
	/* Sinks by the events they take, so a message pays only for those that want it. */
	struct dpfix_collect_sink record_sinks[DPFIX_COLLECT_MAX_SINKS];
	unsigned int nb_record_sinks;
	struct dpfix_collect_sink message_sinks[DPFIX_COLLECT_MAX_SINKS];
	unsigned int nb_message_sinks;
	int want_templates;

	struct collect_session **sessions;  /* max_sessions slots; the first session_count used */
	unsigned int session_count;
	unsigned int next_turn;             /* the session the next round reads first */
	uint64_t next_session_id;
	struct pollfd *fds;                 /* stop fd, listeners, sessions */
	uint8_t *buf;                       /* one message */
	size_t buf_cap;

	struct dpfix_collect_stats stats;   /* totals and session counters */
	struct dpfix_ipfix_decode_stats closed_decode; /* of sessions already closed */
	uint64_t closed_streams[DPFIX_MAX_STREAMS];
	struct collect_counter_layout layout;
	uint64_t next_check_ms;
	uint64_t unread_before_drain;       /* listeners' unread_drops when the stop came */
	int ending;                         /* the drain after a stop: sessions are told */
	uint64_t churn_window_ms, churn_lines, churn_hidden;
	struct collect_closed_session closed_sessions[COLLECT_LINEAGE_CLOSED]; /* a ring */
	unsigned int next_closed;
};

/* Every sink's idle op: what they hold is written out (collect.c). */
void collect_sinks_idle(struct dpfix_collect *c);

/* ---- intake threads (collect_lanes.c) ---- */

/* Lane 0: where a session just accepted goes: 0 (here), or handed to another lane's
 * thread (then 1). SCTP sessions (one socket for all) stay here. */
int collect_lanes_dispatch(struct dpfix_collect *c, struct dpfix_session *ds);
/* A lane: the next session lane 0 handed it, or NULL. */
struct dpfix_session *collect_lanes_take(struct dpfix_collect *c);
/* Sessions open in every lane, against max_sessions; a session opened or closed. */
unsigned int collect_lanes_open(const struct dpfix_collect *c);
void collect_lanes_count(struct dpfix_collect *c, int delta);
/* Lane 0 stops: the lanes read what is left (until deadline_ms), then end. */
void collect_lanes_stop(struct dpfix_collect *c, uint64_t deadline_ms);
void collect_lanes_join(struct dpfix_collect *c, int at_once);
/* The lanes' sessions closed (after the join), their counters added to st. */
void collect_lanes_close_all(struct dpfix_collect *c, const char *why);
void collect_lanes_stats(const struct dpfix_collect *c, struct dpfix_collect_stats *st);
/* The summary's lines of each lane: its sessions and flow records. */
void collect_lanes_summary(const struct dpfix_collect *c, FILE *out);
void collect_lanes_free(struct dpfix_collect *c);
/* What each round ends with; the sleep when a round found nothing (collect.c). */
void collect_end_round(struct dpfix_collect *c);
void collect_wait_for_input(struct dpfix_collect *c, int stop_fd);

/* ---- one exporter's sessions across hand-offs (collect_lineage.c) ---- */

/* s, started (its identity known), may continue an earlier session of its exporter. */
void collect_lineage_start(struct dpfix_collect *c, struct collect_session *s);
/* After each message s decoded: the check across, once both sides are known. */
void collect_lineage_decoded(struct dpfix_collect *c, struct collect_session *s);
/* s closes (all of it read): its successor's check, or kept for a later one. */
void collect_lineage_close(struct dpfix_collect *c, struct collect_session *s);

/* ---- sessions (collect_sessions.c) ---- */

/* New sessions from every listener, then what the sessions have, in turn, for at most
 * about 10 ms (collect_sessions.c), as dpfix_collect_serve. */
int collect_sessions_serve(struct dpfix_collect *c, const struct dpfix_collect_stop *stop);
/* The sessions' own descriptors into fds. Returns how many. */
unsigned int collect_sessions_poll_fds(struct dpfix_collect *c, struct pollfd *fds);
/* Closes sessions past their first-message or idle time. */
void collect_sessions_expire(struct dpfix_collect *c);
void collect_sessions_close_all(struct dpfix_collect *c, const char *why);
/* The drain (c->ending): sessions told of the stop whose exporters have not ended their
 * side yet and still send; at its end (cut: the bound or a second signal), those are
 * counted in sessions_cut_at_stop. */
unsigned int collect_sessions_awaited(struct dpfix_collect *c, int cut);
/* A line about a session that has delivered nothing valid yet, limited to a few a
 * second; force: say now how many were not shown. */
void collect_churn_say(struct dpfix_collect *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void collect_churn_flush(struct dpfix_collect *c, int force);

/* ---- records to the sinks (collect_records.c) ---- */

/* The decoder's record callback; ctx is the struct collect_session. */
void collect_record(void *ctx, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len);
/* The decoder's template callback; ctx is the struct collect_session. */
void collect_template(void *ctx, uint32_t domain, uint16_t template_id,
		const struct dpfix_ipfix_template *t);
/* Before each message: the counters' layout is worked out anew. */
static inline void
collect_records_message_start(struct dpfix_collect *c)
{
	c->layout.next = NULL;
}

#endif
