/* The SCTP transport's connection, shared by its two files: sctp_transport.c (the
 * association, its messages and events) and sctp_path.c (its path MTU and probes).
 * Private to drivers/transport/sctp. */
#ifndef SCTP_PRIVATE_H
#define SCTP_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dpfix_transport.h"

/* The least retransmission timeout an exporter's associations use (sctp_path.c,
 * sctp_liveness.c), and the most the stack's defaults allow (sctp_transport.c). */
#define SCTP_RTO_MIN_MS 300
#define SCTP_RTO_MAX_MS 2000

/* A path MTU probe's context, never a message's: its SEND_FAILED notice is not a loss. */
#define PROBE_CONTEXT 0xFFFFFFFFu

struct sctp_conn {
	struct socket *sock;
	uint8_t *msg;               /* message being reassembled from partial deliveries */
	size_t msg_len;
	uint16_t msg_stream;
	int msg_whole;              /* ... and it is whole: recv hands it up next */
	int in_notification;        /* reading the rest of a notification too long to read at once */
	int dry;                    /* a SENDER_DRY event came: nothing was left unacknowledged */
	uint16_t sent_serial;       /* messages sent, for their context */
	uint64_t given_up;          /* messages given up, as their notices tell */
	uint32_t given_up_context;  /* the context of the last notice: its message's */
	int in_send_failed;         /* the notification being read is a SEND_FAILED one */
	/* What the notices of the message given up last carried (its parts, in order), and
	 * the messages given back whole, to be sent again on another session: a queue of
	 * [u32 length][u32 flow records][message] (sctp_take_returned). */
	uint8_t *gather;
	size_t gather_len;
	uint32_t gather_records;    /* its flow records; 0: not to be given back */
	uint8_t *returned;
	size_t returned_len, returned_start;
	int connecting;             /* an exporter's association not up yet (sctp_connected) */
	int up;                     /* its COMM_UP notice came */
	int path_probing;           /* once up: sctp_path_probing_options */
	uint32_t heartbeat_interval_ms, heartbeat_misses; /* ... and sctp_liveness_options */
	int closed;
	int write_shut;             /* we began the shutdown (shutdown_write) */
	int peer_shutdown;          /* the peer began one (SHUTDOWN received) */
	int aborted;                /* the association was lost or aborted */
	struct sockaddr_storage peer_addr; /* the collector's, for per-path options */
	uint32_t smallest_room;     /* the least spp_pathmtu set: usrsctp cuts chunks to it */
	uint32_t probe_chunks;      /* chunks of path MTU probes that may be in flight */
	uint32_t probe_bytes;       /* ... and their octets */
	int heard_cell;             /* an exporter's: its cell in sctp_liveness.c (-1: none) */
	int unreachable;            /* the peer's address was found unreachable: the stack's
	                             * heartbeats or retransmissions went unanswered */
	uint32_t misses;            /* ... this many in a row (0: the stack's default) */
};

/* sctp_path.c. dpfix_transport_ops.set_path_mtu and .probe_room. */
int sctp_set_path_mtu(struct dpfix_conn *c, uint32_t mtu);
int sctp_probe_room(struct dpfix_conn *c, uint32_t ip_size, uint32_t *room);
/* Sends buf, a path MTU probe (dpfix_send_opts.probe): c->last_probe_size says whether it
 * went alone in one packet. 0 (also when it was dropped), or -errno. */
int sctp_send_probe(struct dpfix_conn *c, struct sctp_conn *t, const void *buf, size_t len,
		const struct dpfix_send_opts *opts);
/* The MTU of the route to sa (0: unknown). */
uint32_t sctp_route_mtu(const struct sockaddr *sa, socklen_t len);
/* An exporter that probes: the collector's messages acknowledged at once, and a lost
 * probe given up sooner. */
void sctp_path_probing_options(struct sctp_conn *t);

/* sctp_liveness.c. An exporter: SCTP's heartbeats and give-up bound from
 * heartbeat_interval and heartbeat_misses (0: the stack's defaults), and the watch of
 * when its peer was last heard from. */
void sctp_liveness_options(struct sctp_conn *t, uint32_t interval_ms, uint32_t misses);
/* The association was lost (SCTP_COMM_LOST): if its peer had been found unreachable,
 * it stopped answering, and c says so (peer_unanswered, peer_silent_ns). */
void sctp_liveness_lost(struct dpfix_conn *c, struct sctp_conn *t);
/* Before the association's socket closes: its cell is free for another. */
void sctp_liveness_unwatch(struct sctp_conn *t);

#endif
