/* The one structure through which the control lcore and the export lcore speak of
 * sessions: two tiny single-producer single-consumer mailboxes. The control lcore opens
 * sessions and offers each to the export lcore (or tells it none will come); the export
 * lcore takes them up between messages, never blocking on a handshake, and reports
 * back what becomes of each: trusted after its probation, failed (why, after how long),
 * or retired once replaced, for the control lcore to close. Heartbeats (doc/heartbeats.md)
 * are the control lcore's decision and the export lcore's I/O: it asks for each request,
 * the export lcore sends it on the session and reports the answers, and the control lcore
 * alone decides that the collector is dead and tells the export lcore to drop the session.
 * Each session has a serial number, given by the control lcore when it opens it (the
 * first is 1): every message about a session names it, so one about a session replaced
 * meanwhile is ignored. */
#ifndef EXPORT_HANDOFF_H
#define EXPORT_HANDOFF_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dpfix_session.h"

enum handoff_kind {
	HANDOFF_OFFER,          /* control -> export: take up this session */
	HANDOFF_DROP,           /* control -> export: none will come, count the rest lost */
	HANDOFF_HAND_OFF,       /* control -> export: hand export over to this new session */
	HANDOFF_HEARTBEAT,      /* control -> export: send heartbeat request id on it */
	HANDOFF_DEAD,           /* control -> export: its collector is dead, stop using it */
	HANDOFF_TRUSTED,        /* export -> control: the session passed its probation */
	HANDOFF_FAILED,         /* export -> control: the session failed, nothing more goes */
	HANDOFF_RETIRED,        /* export -> control: replaced, yours to close */
	HANDOFF_HANDED_OFF,     /* export -> control: the hand-off is done (why empty) or failed */
	HANDOFF_ANSWERED,       /* export -> control: heartbeat request id was answered */
};

struct handoff_msg {
	enum handoff_kind kind;
	uint64_t serial;                        /* the session's (see above) */
	struct dpfix_session *session;          /* OFFER, RETIRED */
	int failed;                             /* RETIRED: it had failed (close it at once) */
	uint32_t id;                            /* HEARTBEAT, ANSWERED: the request's */
	uint64_t lasted_ns;                     /* FAILED: how long it had been up */
	int dead;                               /* FAILED: its transport found the
	                                         * collector dead (SCTP's heartbeats) */
	char why[DPFIX_SESSION_ERRLEN];         /* FAILED, HANDED_OFF: what the export lcore
	                                         * saw; DEAD */
};

/* The export lcore reports at most three things of a session (trusted, failed,
 * retired) and holds at most two (the current and the one it replaces); the control
 * lcore offers one session at a time, after the last failed. Heartbeats: a request an
 * interval, an answer each; the control lcore reads its box every
 * millisecond except while it opens a session (a handshake: seconds at most, during
 * which it asks for no request). 32 slots never fill. */
#define HANDOFF_SLOTS 32

struct handoff_box {
	_Atomic uint32_t head;  /* slots written: the producer's */
	_Atomic uint32_t tail;  /* slots read: the consumer's */
	struct handoff_msg slot[HANDOFF_SLOTS];
};

struct export_handoff {
	struct handoff_box to_export;
	struct handoff_box to_control;
};

/* 0, or -ENOBUFS if b is full (see HANDOFF_SLOTS: a bug). */
static inline int
handoff_post(struct handoff_box *b, const struct handoff_msg *m)
{
	uint32_t head = atomic_load_explicit(&b->head, memory_order_relaxed);

	if (head - atomic_load_explicit(&b->tail, memory_order_acquire) == HANDOFF_SLOTS)
		return -ENOBUFS;
	b->slot[head % HANDOFF_SLOTS] = *m;
	atomic_store_explicit(&b->head, head + 1, memory_order_release);
	return 0;
}

/* 1 with the oldest message in m, or 0 if there is none. */
static inline int
handoff_take(struct handoff_box *b, struct handoff_msg *m)
{
	uint32_t tail = atomic_load_explicit(&b->tail, memory_order_relaxed);

	if (atomic_load_explicit(&b->head, memory_order_acquire) == tail)
		return 0;
	*m = b->slot[tail % HANDOFF_SLOTS];
	atomic_store_explicit(&b->tail, tail + 1, memory_order_release);
	return 1;
}

#endif
