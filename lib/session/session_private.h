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
	uint8_t *rx;                    /* byte streams: data not yet a whole message */
	size_t rx_len;
	struct dpfix_session_stats stats;
	uint64_t stream_messages[DPFIX_MAX_STREAMS];
	char name[400];
	char peer_subject[256];         /* collector, X.509: the exporter certificate's CN */
};

void session_free(struct dpfix_session *s);
/* Exporter without (D)TLS: whether bytes from the collector are a (D)TLS alert record,
 * which means it listens with (D)TLS and refused our plaintext: -EPROTO with err saying
 * so, else 0. */
int collector_alert(struct dpfix_session *s, const uint8_t *b, size_t len, char *err,
		size_t errlen);

#endif
