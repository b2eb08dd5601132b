/* A session's state, shared by the files of lib/session: session.c (open, send,
 * receive, listen) and session_end.c (the exporter's orderly end). Private to lib/session. */
#ifndef SESSION_PRIVATE_H
#define SESSION_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_session.h"
#include "dpfix_transport.h"

#define STREAM_TEMPLATES 0      /* SCTP: templates alone on stream 0 (RFC 7011 10.2) */
#define STREAM_DATA 1
#define CLOSE_WAIT_MS 3000      /* an end: our last bytes out, then the collector's end */
#define HEARTBEAT_NONCE 12      /* random octets in a request's payload, after its id */
#define HEARTBEATS_KEPT 16      /* requests that can still be answered; answers waiting */
#define HEARTBEAT_PENDING_PAYLOAD 64 /* a request with more is answered at once */

/* Heartbeats agreed in the handshake (session_heartbeat.c). */
struct session_heartbeats {
	int agreed;
	struct {
		uint32_t id;
		uint8_t nonce[HEARTBEAT_NONCE];
		int open;               /* not answered yet */
	} sent[HEARTBEATS_KEPT];        /* the latest requests, a ring */
	unsigned int next_sent;
	uint32_t answered[HEARTBEATS_KEPT]; /* ids answered, for dpfix_session_heartbeat_answered */
	unsigned int answered_head, answered_count;
	struct {
		uint16_t len;
		uint8_t payload[HEARTBEAT_PENDING_PAYLOAD];
	} pending[HEARTBEATS_KEPT];     /* requests to answer later, oldest first */
	unsigned int pending_count;
	uint8_t *buf;                   /* a message being built: allocated at first use */
};

/* The path MTU search (session_pmtu.c): RFC 8899's datagram PLPMTUD, its probes
 * heartbeat requests padded to the size tried. Sizes are IP datagram octets. */
struct session_path {
	int probing;                    /* discovery on, heartbeats agreed over DTLS/UDP */
	uint32_t low;                   /* the largest size confirmed (or the base size) */
	uint32_t high;                  /* the largest size not found to fail */
	uint32_t probe_size;            /* the probe waiting for its answer; 0: none */
	uint32_t probe_id;
	uint8_t nonce[HEARTBEAT_NONCE];
	int answered;                   /* its answer came (dpfix_session_recv) */
	unsigned int tries;             /* probes of probe_size sent so far */
	uint64_t deadline_ms;           /* the latest probe's answer is due by then */
	uint64_t next_ms;               /* the next probe */
	uint64_t raise_ms;              /* a search upward again */
	uint64_t search_started_ms;     /* of the search going on; 0: none */
	uint32_t probes_sent;
	int confirm_first;              /* low was taken over (dpfix_session_path_resume) */
	int32_t pad_correction;         /* octets the probes' padding is off by (wolfSSL's
	                                 * record size prediction against what it wrote) */
};

/* The exporter's orderly end in steps (session_end.c): where it is, its deadline, and
 * what it found so far. */
enum session_end_phase {
	END_NOT_BEGUN,
	END_ACKNOWLEDGED,       /* SCTP: until the collector's stack acknowledged all */
	END_FLUSH,              /* our last bytes (and close_notify) out */
	END_CLOSE_NOTIFY,       /* (D)TLS: the collector's close_notify in answer */
	END_TRANSPORT,          /* our FIN or SHUTDOWN, then the collector's end */
	END_TRANSPORT_CONFIRMED, /* the same after a close_notify confirmed: not judged */
};

struct session_end {
	enum session_end_phase phase;
	uint64_t deadline_ms;
	int verdict;                    /* what came already (<0), else 0 */
	int shutdown_ret;               /* of the transport's shutdown_write */
	char err[DPFIX_SESSION_ERRLEN];
};

struct dpfix_session {
	struct dpfix_conn conn;
	struct dpfix_endpoint endpoint;
	struct dpfix_session_params params;
	int server;
	struct tls_ctx *own_ctx;        /* exporter: its own; collector: the listener's */
	struct tls_conn *tls;
	int handshake_done;
	struct dpfix_send_opts send_opts; /* stream etc. of the message being written */
	uint16_t recv_stream;
	int plaintext_refused;          /* cleartext IPFIX arrived on a (D)TLS endpoint */
	uint64_t handshake_deadline_ms; /* collector: give up on a peer that stalls */
	int connecting;                 /* exporter: the transport's connection under way */
	uint32_t open_timeout_ms;       /* exporter: its handshake's steps (open_step) */
	uint64_t open_deadline_ms;
	uint64_t confirm_by_ms;         /* TLS 1.3 with certificates: the verdict's wait */
	struct session_end end;
	int end_asked;                  /* collector: dpfix_session_ask_end told the exporter */
	uint64_t answer_deadline_ms;    /* exporter: dpfix_session_answer_end_step began */
	int answer_shut;                /* ... and our FIN is sent */
	uint8_t *rx;                    /* byte streams: data not yet a whole message */
	size_t rx_cap;                  /* grown as messages need, up to 2 x 65535 */
	size_t rx_len;
	struct dpfix_session_stats stats;
	uint64_t stream_messages[DPFIX_MAX_STREAMS];
	struct session_heartbeats hb;
	struct session_path path;
	char name[400];
	char peer_subject[256];         /* collector, X.509: the exporter certificate's CN */
};

void session_free(struct dpfix_session *s);
/* Exporter without (D)TLS: whether bytes from the collector are a (D)TLS alert record,
 * which means it listens with (D)TLS and refused our plaintext: -EPROTO with err saying
 * so, else 0. */
int collector_alert(struct dpfix_session *s, const uint8_t *b, size_t len, char *err,
		size_t errlen);

/* session_heartbeat.c: 1 if the whole message b of len octets received on s is a
 * heartbeat (they were agreed, and it is framed as one), which is then taken in: a
 * request answered, a response matched, a malformed one counted and dropped; 0 if it is
 * not one (an IPFIX message, or anything else to hand up). */
int heartbeat_take(struct dpfix_session *s, const uint8_t *b, size_t len);
/* On a byte stream holding len octets: 0 if b does not start with a heartbeat; else the
 * message's length, which may be more than len (wait for the rest). */
size_t heartbeat_frame(const struct dpfix_session *s, const uint8_t *b, size_t len);
/* Sends heartbeat request id, padded so that its IP datagram is ip_size octets (0: the
 * smallest), with a fresh nonce, copied to nonce; sent_size (may be NULL): the size the
 * datagram had (if it went out at once). dpfix_session_heartbeat's returns. */
int heartbeat_send_request(struct dpfix_session *s, uint32_t id, uint32_t ip_size,
		uint8_t nonce[HEARTBEAT_NONCE], uint32_t *sent_size);

/* session_pmtu.c: the handshake is done: the search starts if it has anything to do. */
void path_start(struct dpfix_session *s);
/* 1 if a response with this id and nonce answers the path MTU probe waiting (taken in),
 * else 0. */
int path_probe_answered(struct dpfix_session *s, uint32_t id, const uint8_t *nonce);

#endif
