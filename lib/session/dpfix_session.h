/* Export sessions between an exporter (client) and a collector (server): an endpoint
 * URL picks the transport (udp, tcp, sctp) and the security ((D)TLS or none). The
 * exporter and collector see whole IPFIX messages only, never sockets or records. */
#ifndef DPFIX_SESSION_H
#define DPFIX_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dpfix_log.h"

#define DPFIX_SESSION_ERRLEN 512
#define DPFIX_PATH_LEN 256
#define DPFIX_MAX_STREAMS 16     /* SCTP streams counted per session */

enum dpfix_security {
	DPFIX_SECURITY_NONE,
	DPFIX_SECURITY_TLS,     /* TLS 1.2/1.3 over TCP */
	DPFIX_SECURITY_DTLS,    /* DTLS 1.2 over UDP, or over SCTP per RFC 6083 */
};

struct dpfix_endpoint {
	char scheme[16];        /* udp, tcp, sctp, dtls+udp, tls+tcp, dtls+sctp */
	char transport[8];      /* udp, tcp, sctp */
	uint8_t ip_protocol;    /* the same as IPPROTO_UDP, IPPROTO_TCP or IPPROTO_SCTP */
	enum dpfix_security security;
	char host[256];         /* name or address, without IPv6 brackets */
	uint16_t port;
};

/* The URL schemes of the transports this program has ("udp, tcp, sctp, dtls+udp,
 * tls+tcp, dtls+sctp"), for help texts and errors. */
const char *dpfix_session_schemes(void);

/* Parses SCHEME://HOST:PORT ([v6addr] for IPv6). -EINVAL with err filled in. */
int dpfix_endpoint_parse(const char *url, struct dpfix_endpoint *ep, char *err, size_t errlen);

/* Credentials: PSK (RFC 4279) or X.509. A PSK file holds "identity:hexkey" lines and
 * must not be readable by group or others; the exporter's identity is its FQDN. */
struct dpfix_security_params {
	char psk_identity[256];
	char psk_file[DPFIX_PATH_LEN];
	char cert_file[DPFIX_PATH_LEN];
	char key_file[DPFIX_PATH_LEN];
	char ca_file[DPFIX_PATH_LEN];
	char crl_file[DPFIX_PATH_LEN];
	char peer_name[256];    /* expected SAN/CN of the peer's certificate */
	char ciphers[256];      /* optional suite list; empty: dpfix's defaults */
	char keylog_file[DPFIX_PATH_LEN]; /* NSS key log for debugging; empty: off */
};

struct dpfix_session_params {
	uint32_t mtu;           /* datagram transports: path MTU on the wire (IP packet) */
	uint32_t connect_timeout_ms;
	uint16_t sctp_udp_port; /* the collector's UDP port for SCTP encapsulation */
	/* SCTP data streams only (templates stay ordered and fully reliable on stream 0):
	 * unordered delivery, and partial reliability (RFC 3758) with this lifetime. */
	uint8_t sctp_data_unordered;
	uint32_t sctp_data_pr_ttl_ms;
	/* Collector: the receive buffer of each UDP listener's socket, in bytes (the kernel
	 * doubles it for its bookkeeping); 0: DPFIX_UDP_RECEIVE_BUFFER. */
	uint32_t udp_receive_buffer;
	/* Collector: the sessions it may hold at once, for which a UDP listener keeps room
	 * for as many exporters (and as many again it refused); 0: 1024. */
	uint32_t max_sessions;
	/* Exporter: dpfix heartbeats every this long (doc/heartbeats.md), offered in the
	 * (D)TLS handshake (ALPN DPFIX_HEARTBEAT_ALPN) and used only if the collector agrees;
	 * 0: none offered. A collector always agrees. */
	uint32_t heartbeat_interval_ms;
	/* Exporter: the collector is dead after this many unanswered; over TCP also what
	 * keepalive and TCP_USER_TIMEOUT are set from (interval x misses). */
	uint32_t heartbeat_misses;
	/* Collector: heartbeat requests wait for dpfix_session_answer_heartbeats (called once
	 * what came before them is stored) instead of being answered as they are read. */
	uint8_t heartbeat_answer_later;
	/* Collector: a (D)TLS handshake not done this long after its connection (or first
	 * datagram) came is given up (dpfix_session_recv: -ETIMEDOUT); 0:
	 * DPFIX_HANDSHAKE_TIMEOUT_MS. */
	uint32_t handshake_timeout_ms;
	/* Exporter, datagram paths (udp, dtls+udp, sctp, dtls+sctp): messages are held to the
	 * base path MTU (DPFIX_BASE_PMTU_IPV4/IPV6) until a larger size is confirmed, and
	 * with dpfix heartbeats agreed over DTLS/UDP, padded heartbeats search for it up to
	 * mtu and the interface's MTU (RFC 8899, doc/path-mtu.md). 0: mtu is taken as the
	 * path MTU, as it is. */
	uint8_t path_mtu_discovery;
	struct dpfix_security_params security;
};

/* Defaults both ends share (plain numbers: option tables show them as text). */
#define DPFIX_UDP_RECEIVE_BUFFER 16777216  /* 16 MiB */
#define DPFIX_SCTP_UDP_PORT 9899           /* IANA's sctp-tunneling port (RFC 6951) */
#define DPFIX_MTU 1400                     /* path MTU assumed for datagrams on the wire */
/* A collector's limit on an exporter's (D)TLS handshake: as long as the exporters' own
 * (the probe's and the Mediator's connect timeout, 5 s, which begins before the
 * collector's), so that a collector never gives up on a handshake its exporter still
 * waits for. */
#define DPFIX_HANDSHAKE_TIMEOUT_S 5
#define DPFIX_HANDSHAKE_TIMEOUT_MS (DPFIX_HANDSHAKE_TIMEOUT_S * 1000)
/* RFC 8899 5.1.2's BASE_PLPMTU: an IP datagram this large crosses any path dpfix
 * expects (IPv6's minimum link MTU, and a margin for tunnels under IPv4). */
#define DPFIX_BASE_PMTU_IPV4 1200
#define DPFIX_BASE_PMTU_IPV6 1280

/* What a message carries: SCTP puts templates on stream 0, data elsewhere. */
enum dpfix_message_kind {
	DPFIX_MESSAGE_TEMPLATES,
	DPFIX_MESSAGE_DATA,
};

#define DPFIX_SESSION_COUNTERS(X) \
	X(messages_sent, "IPFIX messages sent") \
	X(bytes_sent, "IPFIX message bytes sent") \
	X(messages_received, "IPFIX messages received") \
	X(bytes_received, "IPFIX message bytes received") \
	X(send_errors, "messages that could not be sent") \
	X(framing_errors, "received data that is not a sequence of IPFIX messages") \
	X(heartbeats_sent, "heartbeat requests sent") \
	X(heartbeats_answered, "heartbeat responses that echoed a request of ours") \
	X(heartbeat_requests, "heartbeat requests received and answered") \
	X(heartbeats_ignored, "heartbeat messages ignored: malformed, or a response that " \
			"echoes no request of ours")

struct dpfix_session_stats {
#define DPFIX_SESSION_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_SESSION_COUNTERS(DPFIX_SESSION_COUNTER_FIELD)
#undef DPFIX_SESSION_COUNTER_FIELD
};

struct dpfix_session;
struct dpfix_listener;

/* ---- exporter side ---- */

/* Connects and, for (D)TLS, completes the handshake within connect_timeout_ms.
 * NULL with err naming the endpoint and the reason on failure. Several sessions to
 * the same collector may be open at once (hand-off). */
struct dpfix_session *dpfix_session_open(const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *params, char *err, size_t errlen);

/* dpfix_session_open in steps, for a thread that must never wait (the probe's control
 * lcore, which has other work, and with two lcores does the export too): connects and
 * returns the session with its handshake to do, or NULL with err as dpfix_session_open.
 * Nothing may be sent on it before dpfix_session_open_step says it is up. */
struct dpfix_session *dpfix_session_open_start(const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *params, char *err, size_t errlen);
/* One step of the handshake, never waiting: 0 once the session is up (as
 * dpfix_session_open gives it), -EINPROGRESS while the handshake goes on (step again
 * within a millisecond or so: DTLS has retransmission timers), or another negative
 * errno with err as dpfix_session_open's, s then freed. */
int dpfix_session_open_step(struct dpfix_session *s, char *err, size_t errlen);

/* Sends one whole IPFIX message of at most dpfix_session_max_message bytes.
 * 0 on success, -EAGAIN if the transport cannot take it now (nothing was sent; try
 * again later), -EMSGSIZE if too large, or another negative errno: the session is dead. */
int dpfix_session_send(struct dpfix_session *s, const void *msg, size_t len,
		enum dpfix_message_kind kind);

/* dpfix_session_send for a data message of this many records, which the session counts
 * if the transport gives the message up (dpfix_session_records_given_up). */
int dpfix_session_send_records(struct dpfix_session *s, const void *msg, size_t len,
		enum dpfix_message_kind kind, uint32_t records);

/* The records of the messages the transport gave up after it had taken them (SCTP: a
 * PR-SCTP lifetime ran out, or the association ended with them unacknowledged), as given
 * to dpfix_session_send_records; counted as the transport learns of them (a read, a wait
 * for acknowledgements). uncounted_messages (may be NULL): messages it gave up without
 * saying which, whose records are unknown (dpfix_session_end then confirms nothing). */
uint64_t dpfix_session_records_given_up(const struct dpfix_session *s,
		uint64_t *uncounted_messages);

/* Exporter, plaintext SCTP: the next message among those given up (above) that the
 * stack gave back whole, unsent or unacknowledged when the association ended (its
 * SEND_FAILED notices carry its data), to be sent again on another session; records:
 * its flow records. Its length, 0 when none is left, <0 on error. A message given back
 * only in part (the collector's stack had acknowledged its first parts), or over DTLS
 * (its records die with the session's keys), is not: its records stay given up. */
ssize_t dpfix_session_take_returned(struct dpfix_session *s, uint8_t *buf, size_t cap,
		uint32_t *records);

/* The largest IPFIX message this session carries in one piece (PMTU minus headers and
 * record overhead on UDP/DTLS, the DTLS record limit on SCTP, 65535 on TCP). */
uint32_t dpfix_session_max_message(const struct dpfix_session *s);

/* Exporter: the bytes sent that the collector's stack has not acknowledged yet (TCP,
 * with what waits in this end's buffer), -1 where the transport cannot tell. 0 when the
 * collector closed in order means it read everything (closing with bytes unread resets). */
int64_t dpfix_session_unacknowledged(const struct dpfix_session *s);

/* Exporter: whether the session ended because its transport's own liveness gave the
 * collector up (SCTP: its heartbeats or retransmissions went unanswered heartbeat_misses
 * times in a row, twice that over DTLS; TCP: ETIMEDOUT, its keepalives or data
 * unacknowledged past TCP_USER_TIMEOUT), not because the collector closed or reset it:
 * 1 with why saying so and how long nothing had been heard from it (as the program's own
 * heartbeats would find it dead), else 0. Known once a send or a read has failed. */
int dpfix_session_peer_unanswered(const struct dpfix_session *s, char *why, size_t len);

/* Reliable transports get templates once per session; UDP needs periodic resends. */
int dpfix_session_is_reliable(const struct dpfix_session *s);

/* Exporter: waits, at most timeout_ms, until the collector's transport has acknowledged
 * every message sent so far. Over SCTP a message may overtake messages sent before it on
 * other streams that are not acknowledged yet: a template withdrawal (stream 0) would
 * reach the collector before the last data (stream 1), which it could then not decode
 * (RFC 7011 8.1: a withdrawal only once the collector can have processed the data that
 * uses the template). 0 once all is acknowledged, at once over transports that deliver
 * in order (TCP) or acknowledge nothing (UDP); else a negative errno with err saying
 * what came instead: nothing (-ETIMEDOUT), the collector's bytes or end before it
 * acknowledged all (-EPROTO, -EPIPE), a reset or abort (-ECONNRESET). */
int dpfix_session_wait_acknowledged(struct dpfix_session *s, uint32_t timeout_ms, char *err,
		size_t errlen);

/* Exporter, reliable transports: ends the session in order and frees it. Returns 0
 * only when the collector confirmed the end after taking everything sent: (D)TLS, its
 * close_notify in answer to ours; TCP, its FIN after ours with every byte acknowledged;
 * SCTP, the SHUTDOWN we began, completed; over SCTP, every message acknowledged before
 * our close_notify or SHUTDOWN too. Otherwise, within 3 s, a negative errno with err
 * saying what came instead (bytes such as a TLS alert, named: -EPROTO; a reset:
 * -ECONNRESET; the collector's end before it took all: -EPIPE; nothing: -ETIMEDOUT):
 * what was sent may not have been read. -EOPNOTSUPP for a datagram or collector's
 * session, which nothing confirms. records_given_up (may be NULL): the last word of
 * dpfix_session_records_given_up, which the end may still learn of. */
int dpfix_session_end(struct dpfix_session *s, uint64_t *records_given_up, char *err,
		size_t errlen);

/* dpfix_session_end in steps, never waiting: the first call begins the end; each
 * returns -EINPROGRESS while it waits for the collector (step again soon, or when
 * dpfix_session_event_fd turns readable), then the verdict and records_given_up as
 * dpfix_session_end's, s freed. Nothing else may be called on s once the end began. */
int dpfix_session_end_step(struct dpfix_session *s, uint64_t *records_given_up, char *err,
		size_t errlen);

/* Collector, at its stop: tells the exporter that this end is ending, while it goes on
 * reading what the exporter sent before it learns so (RFC 7011 10.4.1.2: the Collecting
 * Process half-closes and reads on). TLS: our close_notify, the TCP connection left
 * open, so that the exporter learns from our close whether we read all (a FIN after its
 * close_notify was read; an RST when we close with its bytes unread); TCP: our FIN.
 * dpfix_session_recv then returns -EPIPE at the exporter's end (its close_notify, its
 * FIN). 1 when told (or told before); 0 when this session cannot be: datagrams, SCTP
 * (no half-close), a handshake not done. */
int dpfix_session_ask_end(struct dpfix_session *s);

/* Exporter, after dpfix_session_recv said -EPIPE (the collector ended its side first,
 * as dpfix_session_ask_end does at its stop): ends ours in steps that never wait (TLS:
 * our close_notify in answer; then our FIN) and judges whether the collector read all
 * we sent: -EINPROGRESS while it waits (at most 3 s from the first call), 0 confirmed,
 * else <0 with err saying why. TLS: the collector's FIN (it closes once it has read our
 * close_notify, and resets if it closes with our bytes unread); TCP: every byte and our
 * FIN acknowledged (a collector that half-closed reads up to our FIN, or counts what it
 * left unread as lost; plain TCP has nothing later to tell us). Others: -EOPNOTSUPP.
 * Nothing is sent on s after the first call; s is still closed by its owner. */
int dpfix_session_answer_end_step(struct dpfix_session *s, char *err, size_t errlen);

/* Orderly close: dpfix_session_end without its verdict (bounded, 3 s). */
void dpfix_session_close(struct dpfix_session *s);
/* Closes at once, without the orderly end, for a session that failed (its collector
 * dead or gone: nothing to confirm, no one to wait for): no close_notify, TCP close(),
 * SCTP ABORT. NULL is fine. */
void dpfix_session_abort(struct dpfix_session *s);

/* ---- heartbeats (doc/heartbeats.md) ---- */

/* The ALPN protocol name by which two dpfix ends agree on heartbeats in the handshake. */
#define DPFIX_HEARTBEAT_ALPN "dpfix-heartbeat/1"

/* 1 when both ends agreed on dpfix heartbeats in the (D)TLS handshake: requests and
 * responses (RFC 6520's, framed apart from IPFIX messages) may then travel in the
 * session, and dpfix_session_recv answers requests and takes in responses on its own. */
int dpfix_session_heartbeats(const struct dpfix_session *s);

/* Exporter: sends heartbeat request id (its payload: id and 12 random octets, which the
 * collector echoes) with at least 16 octets of random padding; over UDP and SCTP padded
 * so that the IP packet is ip_size octets (a path MTU probe), 0 for the smallest. 0 when
 * sent, -EAGAIN (the transport is full: nothing was sent), -EBUSY (SCTP: data in flight,
 * so the probe could not go alone in one packet: none went, or one whose answer proves
 * nothing), -EMSGSIZE (larger than the local link or a record allows: nothing left),
 * -EOPNOTSUPP (not agreed), or another negative errno. */
int dpfix_session_heartbeat(struct dpfix_session *s, uint32_t id, uint32_t ip_size);

/* Exporter: one request answered since the last call, oldest first: 1 with its id, or 0.
 * Responses are taken in by the session's reads (dpfix_session_recv); the latest 16
 * requests can be answered, and at most 16 answers wait here. */
int dpfix_session_heartbeat_answered(struct dpfix_session *s, uint32_t *id);

/* Collector with params.heartbeat_answer_later: whether requests wait for an answer, and
 * answering them (in the order they came). */
int dpfix_session_heartbeats_pending(const struct dpfix_session *s);
void dpfix_session_answer_heartbeats(struct dpfix_session *s);
/* ---- path MTU (doc/path-mtu.md) ---- */

/* The IP datagram size this session's messages are held to now (with
 * path_mtu_discovery: the largest confirmed, the base size until one is), or 0 where the
 * transport finds it by itself (TCP: the kernel's PMTU). */
uint32_t dpfix_session_path_mtu(const struct dpfix_session *s);

/* Exporter: the path MTU search's timers, to call often (every few ms): sends a probe
 * (a heartbeat request padded to the size tried, DF set) when one is due, takes a size
 * as failed once its probes went unanswered, raises the size messages are held to when
 * a probe is answered and lowers it to the base size when probes of the size in use go
 * unanswered (a black hole). Each change is logged. Answers are taken in by
 * dpfix_session_recv: returns 1 while a probe waits for one on a datagram session
 * (read it until -EAGAIN), else 0. Nothing happens without path_mtu_discovery, or
 * without heartbeats agreed over DTLS/UDP or DTLS/SCTP (the base size stays). */
int dpfix_session_path_poll(struct dpfix_session *s, uint64_t now_ms);

/* Exporter: a session replacing one to the same collector takes the size that one had
 * confirmed (mtu) at once instead of the base size, and checks it with its first probe
 * (unanswered: a black hole, back to the base size). Messages kept for a replay were
 * made to that size. Nothing happens where the session does not probe. */
void dpfix_session_path_resume(struct dpfix_session *s, uint32_t mtu);

/* ---- collector side ---- */

struct dpfix_listener *dpfix_listener_open(const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *params, char *err, size_t errlen);
/* A new session from a peer that connected since the last call, or NULL. */
struct dpfix_session *dpfix_listener_accept(struct dpfix_listener *l);
/* Reads from the listener's socket (UDP peers are told apart here). */
void dpfix_listener_poll(struct dpfix_listener *l);
void dpfix_listener_close(struct dpfix_listener *l);

/* What a listener lost before any session could see it. Over UDP nothing else tells:
 * sequence numbers show a gap only once a later message arrives, never the end of a
 * stream, and never to whom a dropped datagram was going. */
#define DPFIX_LISTENER_COUNTERS(X) \
	X(socket_drops, "datagrams the kernel dropped: the listener's receive buffer was full") \
	X(queue_drops, "datagrams dropped: an exporter's queue was full") \
	X(peer_drops, "datagrams dropped: too many exporters at once") \
	X(refused_drops, "datagrams dropped: from an exporter refused in the last 10 s (its " \
			"handshake retransmissions, a plaintext exporter's messages)") \
	X(unread_drops, "datagrams dropped unread: queued for a session that was closed, or " \
			"left on the socket by a stop that did not wait for them")

struct dpfix_listener_stats {
#define DPFIX_LISTENER_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_LISTENER_COUNTERS(DPFIX_LISTENER_COUNTER_FIELD)
#undef DPFIX_LISTENER_COUNTER_FIELD
};

/* Counted since the listener opened (all zero for transports that lose nothing). */
void dpfix_listener_stats(const struct dpfix_listener *l, struct dpfix_listener_stats *st);
/* A server stopping without reading on: drops what waits on the listener's socket, as
 * unread_drops (datagram transports; nothing for the others, whose exporters learn of
 * it from their session's end). Bounded in time, for an exporter that keeps sending. */
void dpfix_listener_discard(struct dpfix_listener *l);

/* For a server's event loop that sleeps instead of spinning. One round: for every
 * listener dpfix_listener_poll and dpfix_listener_accept until NULL, then for every
 * session dpfix_session_recv until -EAGAIN. After a round that found nothing, poll()
 * these descriptors for POLLIN: whatever arrives after the round started makes one
 * readable (UDP and SCTP sessions are covered by their listener's and give -1). Wake at
 * least every 100 ms all the same: (D)TLS handshakes have timers. */
int dpfix_listener_event_fd(const struct dpfix_listener *l);
int dpfix_session_event_fd(const struct dpfix_session *s);
/* A session covered by its listener (event fd -1) read on another thread than the one
 * that polls the listener (intake threads, doc/collector-threads.md): wake_fd (an
 * eventfd that thread polls) is written when input comes for it with none waiting.
 * From then on only that thread calls the session; the listener's thread goes on
 * polling. 0, or -ENOTSUP when the transport cannot (SCTP: one association's messages
 * are read from one socket for all). */
int dpfix_session_set_wake_fd(struct dpfix_session *s, int wake_fd);
/* The listener read a datagram it could not queue yet (its session's queue is full): it
 * reads nothing more until that session's thread takes one, and its event fd says
 * when. A stop's drain waits for it instead of taking the listener for empty. */
int dpfix_listener_held(const struct dpfix_listener *l);
const struct dpfix_endpoint *dpfix_listener_endpoint(const struct dpfix_listener *l);

/* Receives one whole IPFIX message into buf. Returns its length (0 for an empty UDP
 * datagram, which the decoder will refuse), -EAGAIN if none is ready, -EPIPE when the
 * peer has closed in order, or another negative errno with err filled in (handshake
 * refused, malformed framing; without the session's name, which callers put first):
 * the session should then be closed. A collector's session whose (D)TLS handshake is
 * not done (dpfix_session_established) says -ETIMEDOUT only when handshake_timeout_ms
 * ran out. */
ssize_t dpfix_session_recv(struct dpfix_session *s, uint8_t *buf, size_t cap, char *err,
		size_t errlen);
/* 1 once the session's (D)TLS handshake is done; a session without (D)TLS always is. */
int dpfix_session_established(const struct dpfix_session *s);

/* Collector: it turns the session away (no room for it). Closed after this, a datagram
 * session's peer is ignored for a while (refused_drops) instead of each of its
 * datagrams being taken for a new exporter. */
void dpfix_session_mark_refused(struct dpfix_session *s);

/* "tls+tcp 127.0.0.1:4739 (psk identity probe1.example)": for logs. */
const char *dpfix_session_name(const struct dpfix_session *s);
const struct dpfix_session_stats *dpfix_session_stats(const struct dpfix_session *s);
/* The SCTP stream each message arrived on is counted per stream (collector stats). */
uint64_t dpfix_session_stream_messages(const struct dpfix_session *s, uint16_t stream);

/* Where a session's messages come from, for records that say so (RFC 5655 Message
 * Details): the peer's address and port as text ("ADDR:PORT", "[IPv6]:PORT"), the
 * endpoint (a collector's: its listener's scheme, transport, address and port), and the
 * SCTP stream the last message received came on (0 on other transports). */
const char *dpfix_session_peer(const struct dpfix_session *s);
const struct dpfix_endpoint *dpfix_session_endpoint(const struct dpfix_session *s);
uint16_t dpfix_session_recv_stream(const struct dpfix_session *s);
/* Who the peer proved to be in a (D)TLS handshake that is done: the PSK identity it
 * used, or the name its certificate was checked for (peer_name), else its certificate's
 * subject CN; "" otherwise. */
const char *dpfix_session_peer_identity(const struct dpfix_session *s);

/* Where lib/session's messages go: this hook (the probe: its DPDK log type), or by
 * default the programs' logger (lib/log: "PROGRAM: message" on stderr). */
void dpfix_session_set_logger(void (*fn)(enum dpfix_log_level level, const char *msg));

#endif
