/* Watching a collector through dpfix heartbeats (doc/heartbeats.md): when to send a
 * request, and what the answers (or their absence) say: the collector is dead after
 * heartbeat_misses requests in a row went unanswered. (The path MTU search over padded
 * requests is session_pmtu.c's, doc/path-mtu.md.) A pure state machine over the
 * times it is given: it sends nothing itself, so the program decides where requests go
 * out and answers come in (the probe: its control lcore decides, its export lcore does
 * the session's I/O), and a test can drive it with any clock. */
#ifndef DPFIX_PEER_WATCH_H
#define DPFIX_PEER_WATCH_H

#include <stdint.h>

/* Requests remembered, sent and not answered: more than any heartbeat_misses needs. */
#define DPFIX_PEER_WATCH_KEPT 32

struct dpfix_peer_watch_params {
	uint64_t interval_ns;           /* a request this often */
	uint32_t misses;                /* this many unanswered in a row: dead */
};

/* Private: read through the functions below. */
struct dpfix_peer_watch {
	struct dpfix_peer_watch_params p;
	uint32_t next_id;
	uint64_t next_request_ns;
	struct {
		uint32_t id;
		uint64_t sent_ns;
	} sent[DPFIX_PEER_WATCH_KEPT];  /* the latest requests, a ring */
	unsigned int sent_count;        /* ever sent */
	uint32_t last_answered_id;      /* 0: none yet */
	uint64_t last_answer_ns;
	int dead;
};

/* Watching from now_ns: the first request at once. Ids count up from first_id (not 0),
 * so a program watching one session after another can tell their answers apart. */
void dpfix_peer_watch_start(struct dpfix_peer_watch *w, const struct dpfix_peer_watch_params *p,
		uint32_t first_id, uint64_t now_ns);

/* A request due now: 1 with its id (the caller sends it at once, unpadded, and it counts
 * as sent now), 0 if none is due. Call until 0. */
int dpfix_peer_watch_next(struct dpfix_peer_watch *w, uint64_t now_ns, uint32_t *id);

/* Request id was answered at now_ns (an id not of this watch is ignored). */
void dpfix_peer_watch_answered(struct dpfix_peer_watch *w, uint32_t id, uint64_t now_ns);

/* 1 once heartbeat_misses liveness requests in a row have gone unanswered, each for half
 * an interval: between (misses - 0.5) and (misses + 0.5) intervals after the collector
 * stopped answering. Stays 1. */
int dpfix_peer_watch_dead(struct dpfix_peer_watch *w, uint64_t now_ns);

/* When it last heard from the collector: the last answer, or the start (ns). */
uint64_t dpfix_peer_watch_last_heard(const struct dpfix_peer_watch *w);

/* When the next liveness request is due (ns). */
uint64_t dpfix_peer_watch_next_due(const struct dpfix_peer_watch *w);

#endif
