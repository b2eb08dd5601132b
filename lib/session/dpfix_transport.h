/* The interface transport drivers (drivers/transport/) implement: raw, non-blocking
 * bytes or messages over one connection, and a listener that yields connections.
 * Security and IPFIX framing live above, in lib/session. */
#ifndef DPFIX_TRANSPORT_H
#define DPFIX_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dpfix_session.h"

#define DPFIX_TRANSPORT_MESSAGES 0x1   /* each send is delivered as one message */
#define DPFIX_TRANSPORT_RELIABLE 0x2   /* nothing is lost or reordered silently */

struct dpfix_send_opts {
	uint16_t stream;        /* SCTP stream id; ignored elsewhere */
	uint8_t unordered;      /* SCTP: deliver without waiting for earlier messages */
	uint32_t pr_ttl_ms;     /* SCTP: give up retransmitting after this long (PR-SCTP), 0 never */
	uint32_t records;       /* the data records the message carries: counted if given up */
	/* SCTP: a path MTU probe (doc/path-mtu.md): sent alone in one packet, never resent. */
	uint8_t probe;
};

struct dpfix_recv_info {
	uint16_t stream;
};

/* One transport connection (an association for SCTP, a peer address for UDP). */
struct dpfix_conn {
	const struct dpfix_transport_ops *ops;
	void *priv;             /* driver state */
	char peer[64];          /* "ADDR:PORT", for messages */
	char via[40];           /* how it is reached, if not plainly: " (SCTP over UDP port N)" */
	uint32_t max_payload;   /* largest single send; datagram limit for UDP */
	int accepted;           /* this end came from a listener (the collector side) */
	/* Set before close when the session refused the peer's handshake: a datagram
	 * listener then ignores that peer's late packets (retransmissions) for a while
	 * instead of taking them for a new exporter. */
	int refused;
	/* Kept by a transport that may give messages up (SCTP: a PR-SCTP lifetime, the
	 * association's end): the records (dpfix_send_opts.records) of the messages it gave
	 * up, and the messages it gave up that it could not count (no notice came). */
	uint64_t records_given_up;
	uint64_t messages_given_up_uncounted;
	/* Set before close: at once, without waiting for the peer (SCTP: ABORT rather than
	 * SHUTDOWN). */
	int abort;
	/* Set by a transport whose own liveness gave the peer up (SCTP: its heartbeats or
	 * retransmissions went unanswered in a row, the association lost with the peer's
	 * address unreachable; TCP: ETIMEDOUT on a connection that was up), where the peer
	 * did not close or reset the connection: how many went unanswered (UINT32_MAX: the
	 * stack's own count), and how long nothing had come from the peer then (0: not
	 * known). */
	uint32_t peer_unanswered;
	uint64_t peer_silent_ns;
	/* Exporter, datagram paths (UDP; SCTP over UDP): the IP datagram size its sends are
	 * held to now, the largest a path MTU search may try (export_mtu, the interface's
	 * MTU), and the IP and UDP headers under what a send carries. path_mtu 0: the
	 * transport's own (TCP: the kernel's PMTU; SCTP without path_mtu_discovery). */
	uint32_t path_mtu;
	uint32_t path_mtu_max;
	uint32_t path_headers;
	uint32_t last_send_len; /* UDP: the payload of the last datagram sent; SCTP: of the
	                         * last probe */
	/* The IP size of the last probe sent (SCTP: 0 if it could not go alone in one packet
	 * at once, and was dropped), and what sizes a probe can have: multiples of
	 * path_mtu_granule (SCTP: 4, its chunks' alignment; 0: any). */
	uint32_t last_probe_size;
	uint32_t path_mtu_granule;
};

struct dpfix_listener_conn_ops;

struct dpfix_transport_ops {
	const char *name;       /* "udp", "tcp", "sctp": also its plain URL scheme */
	/* Its URL scheme with (D)TLS ("dtls+udp", "tls+tcp"), NULL if it has none. */
	const char *secure_scheme;
	uint8_t ip_protocol;    /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_SCTP */
	unsigned int flags;

	/* Client: connect to ep. May return before the connection is complete
	 * (TCP/SCTP); send then returns -EAGAIN until it is. */
	int (*connect)(struct dpfix_conn *c, const struct dpfix_endpoint *ep,
			const struct dpfix_session_params *p, char *err, size_t errlen);
	/* Optional, client: a transport whose connect returns while the connection is under
	 * way (TCP: never waiting for the peer's answer) says here, never waiting, 0 once it
	 * is up, -EINPROGRESS while it is not, or the -errno it failed with. Without it,
	 * connect returns with the connection up (or sendable). */
	int (*connected)(struct dpfix_conn *c);
	/* Sends all len bytes or none: 0, -EAGAIN (no room now), or -errno (dead). */
	int (*send)(struct dpfix_conn *c, const void *buf, size_t len,
			const struct dpfix_send_opts *opts);
	/* Message transports: one message; stream transports: available bytes.
	 * >0 bytes, -EAGAIN nothing now, 0 orderly close, <0 -errno. */
	ssize_t (*recv)(struct dpfix_conn *c, void *buf, size_t len, struct dpfix_recv_info *info);
	/* Pushes buffered output: 0 when all is out, -EAGAIN if some remains, -errno. */
	int (*flush)(struct dpfix_conn *c);
	void (*close)(struct dpfix_conn *c);
	/* Optional, reliable transports (the exporter's orderly end): no more sends; the peer
	 * learns it once it has everything sent before (TCP: a FIN; SCTP: SHUTDOWN, which
	 * waits for every DATA chunk to be acknowledged). 0 or -errno. From then on recv
	 * returns 0 only when the peer has ended its side after taking all this end sent
	 * (TCP: every byte acknowledged; SCTP: the shutdown this end began, completed), and
	 * -EPIPE when it ended its side before that (-ECONNRESET when it aborted). */
	int (*shutdown_write)(struct dpfix_conn *c);
	/* Optional, reliable transports whose messages may overtake one another (SCTP:
	 * streams are delivered independently): 0 once the peer's stack has acknowledged
	 * every message sent so far, -EAGAIN while some are outstanding, -EPROTO when a
	 * message from the peer waits to be read first, -EPIPE or -ECONNRESET when the peer
	 * ended or aborted the connection. Transports without it deliver in order. */
	int (*acknowledged)(struct dpfix_conn *c);
	/* Optional (SCTP): the next message given up that the stack gave back whole (its
	 * SEND_FAILED notices carry its data), with its flow records; 0 when none, -EMSGSIZE
	 * when it does not fit in cap. */
	ssize_t (*take_returned)(struct dpfix_conn *c, void *buf, size_t cap, uint32_t *records);
	/* Optional: the bytes sent that the peer's stack has not acknowledged yet, this end's
	 * own buffer included (TCP: SIOCOUTQ); -1 if it cannot tell. */
	int64_t (*unacknowledged)(const struct dpfix_conn *c);
	/* Optional, message transports: the length of the message recv would return now,
	 * 0 if none is waiting, <0 if this connection cannot tell without reading. */
	ssize_t (*next_message_len)(const struct dpfix_conn *c);
	/* Optional, exporter with path_mtu_discovery: holds sends to IP datagrams of mtu
	 * octets from now on (path_mtu, max_payload). 0 or -errno. */
	int (*set_path_mtu)(struct dpfix_conn *c, uint32_t mtu);
	/* Optional, exporter with path_mtu_discovery (SCTP; UDP has none: a datagram is its
	 * headers and the message): the longest message that a probe sent now
	 * (dpfix_send_opts.probe) carries in one packet of at most ip_size octets, in room.
	 * -EBUSY: data is in flight, so a probe now could not go alone (try again soon);
	 * -EMSGSIZE: no probe of that size. */
	int (*probe_room)(struct dpfix_conn *c, uint32_t ip_size, uint32_t *room);
	/* Optional (SCTP): authenticate DATA with this key from now on (RFC 6083). */
	int (*set_auth_key)(struct dpfix_conn *c, const uint8_t *key, size_t len);

	/* Server side. listen binds; poll reads what is waiting on the listening
	 * socket(s); accept fills c with a new connection (1), or returns 0 if none. */
	int (*listen)(void **state, const struct dpfix_endpoint *ep,
			const struct dpfix_session_params *p, char *err, size_t errlen);
	void (*poll)(void *state);
	int (*accept)(void *state, struct dpfix_conn *c);
	void (*unlisten)(void *state);

	/* Optional, for a server's event loop (see dpfix_listener_event_fd): a descriptor
	 * that turns readable when the listener, or a connection without a descriptor of its
	 * own, has something new since the last poll op; and a connection's own one. */
	int (*listener_event_fd)(void *state);
	int (*event_fd)(const struct dpfix_conn *c);
	/* Optional, a connection without a descriptor of its own (dpfix_session_set_wake_fd):
	 * read on another thread from now on, wake_fd written when input comes for it with
	 * none waiting. The driver makes what poll and this connection share thread-safe.
	 * 0 or -ENOTSUP. */
	int (*set_wake_fd)(struct dpfix_conn *c, int wake_fd);
	/* Optional: poll holds input it could not queue yet (dpfix_listener_held). */
	int (*listener_held)(void *state);
	/* Optional: what the listener dropped (dpfix_listener_stats). */
	void (*listener_stats)(void *state, struct dpfix_listener_stats *st);
	/* Optional: drops what waits on the listener's socket (dpfix_listener_discard). */
	void (*listener_discard)(void *state);
};

/* Called by transport drivers from a constructor. */
void dpfix_transport_register(const struct dpfix_transport_ops *ops);
const struct dpfix_transport_ops *dpfix_transport_find(const char *name);

#endif
