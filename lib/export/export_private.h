/* lib/export's inside, shared by its files: an instance, its observation domains, and
 * the functions one file gives the other. */
#ifndef EXPORT_PRIVATE_H
#define EXPORT_PRIVATE_H

#include <stdint.h>

#include "dpfix_export.h"
#include "dpfix_ipfix_export.h"

/* Every buffer holds the largest message a session may take (TCP: 65535 octets). */
#define EXPORT_BUF_LEN (UINT16_MAX + 1)
/* Reliable sessions: look for the collector's close this often. */
#define EXPORT_LIVENESS_CHECK_NS 100000000ull
/* ... and this often while a heartbeat waits for its answer, for at most
 * EXPORT_ANSWER_READS_NS after it went out. */
#define EXPORT_ANSWER_CHECK_NS 1000000ull
#define EXPORT_ANSWER_READS_NS 1000000000ull
/* hold_when_full: a held data message is tried again at most this often. */
#define EXPORT_HELD_RETRY_NS 1000000ull
/* Heartbeats waiting for room in the transport. */
#define EXPORT_HEARTBEATS_WAITING 4
/* Heartbeats sent and not answered whose place in the replay buffer is remembered. */
#define EXPORT_REPLAY_MARKS 16

/* The replay buffer (export_replay.c): the messages sent on a session that agreed on
 * heartbeats since the collector last answered one, to be sent again, as they were, on
 * the next session if this one fails (doc/heartbeats.md). A ring of entries at absolute
 * byte positions (an entry never wraps: a gap is skipped to the ring's start). */
struct export_replay {
	uint8_t *buf;
	uint64_t cap;                   /* bytes; 0: no replay */
	uint64_t start, end;            /* positions: the oldest entry; the next one */
	uint64_t records;               /* flow records in the entries held */
	struct {
		uint32_t id;
		uint64_t pos;           /* the replay position when it went */
		uint64_t session_records;       /* flow records sent on the session by then */
	} marks[EXPORT_REPLAY_MARKS];
	unsigned int mark_head, mark_count;
	int pending;                    /* a new session gets the entries held first */
};
/* Datagram sessions: look for a path MTU probe's answer this often while one waits. */
#define EXPORT_PATH_READ_NS 1000000ull
/* At the end: how long the collector may take to acknowledge the last data before the
 * template withdrawal (the session's end then waits as long again for its confirmation). */
#define EXPORT_WITHDRAWAL_WAIT_MS 3000

/* Sessions that end in order at once after hand-offs (more wait for the oldest). */
#define EXPORT_RETIRING_MAX 4

/* A session replaced by a hand-off, ending in steps (export_handoff.c). */
struct export_retiring {
	struct dpfix_session *session;
	uint64_t records;               /* flow records sent on it, for records_unconfirmed */
	uint64_t given_up_counted;      /* ... of which its transport gave up, counted lost */
	int judged;                     /* its end confirms its records or counts them */
	char name[DPFIX_SESSION_ERRLEN];
};

struct dpfix_export_domain {
	struct dpfix_export_data data;  /* first: the message being filled (dpfix_export.h) */
	struct dpfix_export *x;
	uint32_t id;
	uint32_t sequence;              /* data records exported so far (RFC 7011 3.1) */
	struct dpfix_ipfix_template_manager tm;
	uint8_t *buf;
	uint64_t msg_started_ns;
	struct dpfix_ipfix_msg opt_msg; /* options records: a message of their own, so */
	uint8_t *opt_buf;               /* the data message stays open */
	/* A replay on its way: the sequence number of the first message replayed, which
	 * the templates before it carry, so the collector sees one run of numbers. */
	uint32_t replay_sequence;
};

struct dpfix_export {
	struct dpfix_export_params params;
	struct dpfix_session *session;
	enum dpfix_export_state state;
	struct dpfix_export_domain *domains[DPFIX_EXPORT_MAX_DOMAINS];
	unsigned int nb_domains;
	struct dpfix_ipfix_msg ctl_msg; /* templates and their withdrawals */
	uint8_t *ctl_buf;
	uint8_t *scratch;               /* an options record, encoded before it is added */
	uint8_t *returned_buf;          /* a message its transport gave back (keep_returned) */
	int options_due;
	uint64_t options_sent_ns;
	uint64_t session_started_ns;
	uint64_t liveness_check_ns;
	int templates_unacknowledged;   /* a new session's, until its stack acknowledged them */
	uint64_t path_read_ns;          /* a datagram session's next read for a probe's answer */
	char path_peer[64];             /* the collector whose path stats.path_mtu is */
	uint64_t session_records;       /* flow records sent on this session */
	uint64_t confirmed_records;     /* ... of which the collector confirmed taking (an
	                                 * answered heartbeat, its orderly close) */
	uint64_t given_up_counted;      /* ... of which its transport gave up, counted lost */
	struct export_replay replay;
	uint64_t held_retry_ns;         /* hold_when_full: no data send tried before */
	uint64_t send_wait_ns;          /* stats.send_wait_ms, exact */
	uint64_t failed_lasted_ns;
	char failed_why[DPFIX_SESSION_ERRLEN];
	int failed_unanswered;          /* ... its transport found the collector dead */
	/* The collector ended its side first (its stop): ours ends in answer, and its
	 * verdict, awaited without waiting, says whether it read what we sent. */
	int answering_end;
	/* A planned hand-off (export_handoff.c): the session coming up beside this one, and
	 * the sessions it replaced, ending. */
	struct dpfix_session *next;
	uint64_t next_started_ns;
	uint64_t next_liveness_check_ns;
	enum dpfix_export_hand_off hand_off;
	char hand_off_why[2 * DPFIX_SESSION_ERRLEN];
	struct export_retiring retiring[EXPORT_RETIRING_MAX];
	unsigned int nb_retiring;
	uint64_t retire_step_ns;
	uint32_t hb_waiting[EXPORT_HEARTBEATS_WAITING]; /* ids of heartbeats not sent yet, a ring */
	unsigned int hb_waiting_head, hb_waiting_count;
	uint32_t hb_unanswered;         /* sent on this session, no answer taken yet */
	uint64_t hb_answer_reads_until_ns; /* fast reads for an answer until then */
	struct dpfix_export_stats stats;
};

void export_log(enum dpfix_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* export_session.c */
/* Sends one finished message of flow_records flow records, waiting briefly while the
 * transport is full; a failure that kills a reliable session marks it failed. 0 or a
 * negative errno. */
int export_send(struct dpfix_export *x, const uint8_t *buf, uint32_t len,
		enum dpfix_message_kind kind, uint32_t flow_records, uint64_t now_ns);
/* A data message of flow_records flow records, never waiting (hold_when_full): -EAGAIN at
 * once while the transport is full, and until EXPORT_HELD_RETRY_NS after. */
int export_send_or_hold(struct dpfix_export *x, const uint8_t *buf, uint32_t len,
		uint32_t flow_records, uint64_t now_ns);
void export_check_liveness(struct dpfix_export *x, uint64_t now_ns);
/* 1 once the collector's stack has acknowledged the templates a new session began with:
 * no data goes before (over SCTP it could overtake them). Never waits. */
int export_templates_acknowledged(struct dpfix_export *x, uint64_t now_ns);
/* Sends the heartbeats waiting, as far as the transport takes them. */
void export_send_heartbeats(struct dpfix_export *x, uint64_t now_ns);
/* The session's path MTU search (doc/path-mtu.md), and path_mtu. */
void export_probe_path(struct dpfix_export *x, uint64_t now_ns);
/* The collector's end, answered: its verdict (awaited: before another session is taken
 * up, or the export ends or drops). */
void export_answer_end_poll(struct dpfix_export *x, uint64_t now_ns);
void export_answer_end_wait(struct dpfix_export *x, uint64_t now_ns);
/* Records that will never reach the collector. */
void export_count_lost(struct dpfix_export *x, uint64_t records, uint64_t packets,
		uint64_t octets, uint64_t now_ns);

/* A new session becomes the one in use (its state already set): started at
 * started_ns, it knows no templates; they go now, the options records at the next
 * poll, then the records waiting in messages, refitted to its limit. */
void export_start_session(struct dpfix_export *x, uint64_t started_ns, uint64_t now_ns);

/* export_handoff.c */
/* The session coming up (its probation, the switch) and the ending ones' steps. */
void export_hand_off_poll(struct dpfix_export *x, uint64_t now_ns);
/* A hand-off under way fails: its session is closed (why: what replaces it). */
void export_hand_off_cancel(struct dpfix_export *x, const char *why, uint64_t now_ns);
/* The end or free of the instance: the session coming up closed, the ending ones
 * ended (waiting). */
void export_hand_off_fini(struct dpfix_export *x, uint64_t now_ns);
/* export_replay.c */
int export_replay_init(struct dpfix_export *x, uint64_t bytes);
void export_replay_free(struct dpfix_export *x);
/* Whether the session held keeps what it sends for a replay (it agreed on heartbeats). */
int export_replay_on(const struct dpfix_export *x);
/* A message sent (or that failed on a session that then failed) on such a session. */
void export_replay_add(struct dpfix_export *x, const uint8_t *msg, uint32_t len,
		uint32_t flow_records, uint64_t packets, uint64_t octets);
/* A message the transport gave back unsent (SCTP: its association ended), whatever the
 * session: held to go again on the next one. 0, or -1 without room for it (then its
 * records are the caller's to count). */
int export_replay_keep(struct dpfix_export *x, const uint8_t *msg, uint32_t len,
		uint32_t flow_records);
/* Heartbeat id went out: what is held now is confirmed when it is answered. */
void export_replay_mark(struct dpfix_export *x, uint32_t id);
/* Heartbeat id was answered: what was sent before it is the collector's. */
void export_replay_confirm(struct dpfix_export *x, uint32_t id);
/* A new session is taken up: a replay is due if anything is held; the templates carry
 * the sequence number it begins with. */
void export_replay_prepare(struct dpfix_export *x);
/* Sends what is held on the new session, in order; stops if the session fails. */
void export_replay_send(struct dpfix_export *x, uint64_t now_ns);
/* Sends data message m (len octets, flow_records flow records), longer than the session
 * takes now, as several that fit (as a replay re-splits): its records in order, same
 * domain and export time, one run of sequence numbers; each piece counted in
 * messages_sent and session_records. 0 once sent, 1 if it cannot be split (nothing
 * sent), -1 if a send failed. */
int export_send_split(struct dpfix_export *x, const uint8_t *m, uint32_t len,
		uint32_t flow_records, uint64_t now_ns);
/* No session will come: what is held is counted as unconfirmed, and let go. */
void export_replay_drop(struct dpfix_export *x);
/* What is held is let go uncounted: an orderly end judges the session it went on. */
void export_replay_forget(struct dpfix_export *x);

/* export.c */
/* Sends every domain's data message that holds records (TRUSTED). */
void export_send_data_messages(struct dpfix_export *x, uint64_t now_ns);
/* The templates of every domain that the session has not had (or, on UDP, due again). */
void export_send_templates(struct dpfix_export *x, uint64_t now_ns);
/* A new session's limit for the messages being filled; those it cannot carry are lost. */
void export_refit_messages(struct dpfix_export *x, uint64_t now_ns);
/* DROPPING: the records in the messages being filled are lost. */
void export_drop_messages(struct dpfix_export *x, uint64_t now_ns);
/* Every domain's templates withdrawn (TCP, SCTP), before an orderly end. */
void export_withdraw_templates(struct dpfix_export *x, uint64_t now_ns);

#endif
