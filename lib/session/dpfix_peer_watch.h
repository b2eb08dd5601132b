/* Watching a collector through dpfix heartbeats (doc/heartbeats.md): when to send a
 * request, and what the answers (or their absence) say: the collector is dead after
 * heartbeat_misses requests in a row went unanswered; on a datagram path, which packet
 * size gets through (PLPMTUD, RFC 8899: requests padded to a candidate size are the
 * probes, an answer confirms the size, no ICMP needed). A pure state machine over the
 * times it is given: it sends nothing itself, so the program decides where requests go
 * out and answers come in (the probe: its control lcore decides, its export lcore does
 * the session's I/O), and a test can drive it with any clock. */
#ifndef DPFIX_PEER_WATCH_H
#define DPFIX_PEER_WATCH_H

#include <stdint.h>

/* Requests remembered, sent and not answered: more than any heartbeat_misses needs. */
#define DPFIX_PEER_WATCH_KEPT 32
/* PLPMTUD: tries of a size before it counts as too large (RFC 8899 MAX_PROBES); the
 * search ends once the sizes known to pass and to fail are this close (octets); a
 * finished search starts again after this long (RFC 8899 PMTU_RAISE_TIMER). */
#define DPFIX_PEER_WATCH_MAX_PROBES 3
#define DPFIX_PEER_WATCH_MTU_STEP 8
#define DPFIX_PEER_WATCH_RAISE_NS (600 * 1000000000ull)
/* ... and liveness requests in a row unanswered at a size above the base that make it
 * suspect a black hole (the path shrank) and fall back to the base size. */
#define DPFIX_PEER_WATCH_BLACK_HOLE_MISSES 2

struct dpfix_peer_watch_params {
	uint64_t interval_ns;           /* a request this often */
	uint32_t misses;                /* this many unanswered in a row: dead */
	/* PLPMTUD, in IP octets (the whole packet): on when max_mtu > base_mtu. Until a
	 * larger size is confirmed the path MTU is base_mtu, which must pass (RFC 8899
	 * BASE_PLPMTU: 1200 IPv4, 1280 IPv6); probes search up to max_mtu. */
	uint32_t base_mtu, max_mtu;
};

enum dpfix_pmtu_state {
	DPFIX_PMTU_OFF,
	DPFIX_PMTU_BASE,                /* the base size not confirmed yet */
	DPFIX_PMTU_SEARCHING,           /* probing larger sizes */
	DPFIX_PMTU_DONE,                /* until the raise timer */
};

/* Private: read through the functions below. */
struct dpfix_peer_watch {
	struct dpfix_peer_watch_params p;
	uint32_t next_id;
	uint64_t next_request_ns;
	struct {
		uint32_t id;
		uint32_t ip_size;       /* padded to (0: the smallest) */
		uint64_t sent_ns;
		int probe;              /* a PLPMTUD probe, not a liveness request */
	} sent[DPFIX_PEER_WATCH_KEPT];  /* the latest requests, a ring */
	unsigned int sent_count;        /* ever sent */
	uint32_t last_answered_id;      /* 0: none yet */
	uint64_t last_answer_ns;
	uint64_t srtt_ns;               /* smoothed round trip of answers, 0: none yet */
	int dead;
	/* PLPMTUD */
	enum dpfix_pmtu_state pmtu;
	uint32_t path_mtu;              /* the size messages may use now */
	uint32_t low, high;             /* known to pass; known not to (or max + 1) */
	uint32_t candidate, tries;
	uint32_t probe_id;              /* 0: no probe out */
	uint64_t probe_sent_ns;
	uint64_t raise_ns;
	int mtu_changed;
	const char *mtu_why;
};

/* Watching from now_ns: the first request at once. Ids count up from first_id (not 0),
 * so a program watching one session after another can tell their answers apart. */
void dpfix_peer_watch_start(struct dpfix_peer_watch *w, const struct dpfix_peer_watch_params *p,
		uint32_t first_id, uint64_t now_ns);

/* A request due now: 1 with its id and the IP packet size to pad it to (0: the smallest;
 * the caller sends it at once, and it counts as sent now), 0 if none is due. Call until
 * 0: a liveness request and a probe may both be due. */
int dpfix_peer_watch_next(struct dpfix_peer_watch *w, uint64_t now_ns, uint32_t *id,
		uint32_t *ip_size);

/* Request id was answered at now_ns (an id not of this watch is ignored). */
void dpfix_peer_watch_answered(struct dpfix_peer_watch *w, uint32_t id, uint64_t now_ns);

/* 1 once heartbeat_misses liveness requests in a row have gone unanswered, each for half
 * an interval: between (misses - 0.5) and (misses + 0.5) intervals after the collector
 * stopped answering. Stays 1. */
int dpfix_peer_watch_dead(struct dpfix_peer_watch *w, uint64_t now_ns);

/* PLPMTUD: 1 when the path MTU changed since the last call, with the new size in *mtu
 * and why ("confirmed by a probe", "black hole suspected: ..."), else 0. */
int dpfix_peer_watch_path_mtu_changed(struct dpfix_peer_watch *w, uint32_t *mtu,
		const char **why);
/* The size messages may use now (IP octets): base_mtu until a larger one is confirmed;
 * 0 with PLPMTUD off. */
uint32_t dpfix_peer_watch_path_mtu(const struct dpfix_peer_watch *w);
enum dpfix_pmtu_state dpfix_peer_watch_pmtu_state(const struct dpfix_peer_watch *w);

/* When it last heard from the collector: the last answer, or the start (ns). */
uint64_t dpfix_peer_watch_last_heard(const struct dpfix_peer_watch *w);

/* When the next liveness request is due (ns). */
uint64_t dpfix_peer_watch_next_due(const struct dpfix_peer_watch *w);

#endif
