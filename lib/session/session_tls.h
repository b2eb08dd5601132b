/* (D)TLS for sessions, on wolfSSL: contexts with PSK or X.509 credentials, and
 * connections whose I/O goes through the session's transport driver. Private to
 * lib/session. */
#ifndef SESSION_TLS_H
#define SESSION_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dpfix_session.h"

struct dpfix_session;
struct tls_ctx;
struct tls_conn;

struct tls_ctx *tls_ctx_create(const struct dpfix_endpoint *ep, int server,
		const struct dpfix_security_params *p, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

/* A connection for session s; mtu is the datagram payload limit (DTLS over UDP);
 * sctp selects DTLS over SCTP (RFC 6083: 16 KB records, keys for SCTP-AUTH); heartbeats:
 * a client offers dpfix heartbeats (ALPN DPFIX_HEARTBEAT_ALPN), a server accepts them
 * when offered (and goes on without when not). */
struct tls_conn *tls_conn_create(struct tls_ctx *ctx, struct dpfix_session *s, uint32_t mtu,
		int sctp, int heartbeats, char *err, size_t errlen);
/* After the handshake: 1 if both ends agreed on dpfix heartbeats. */
int tls_heartbeats_agreed(struct tls_conn *t);
/* Keying material from the handshake (RFC 5705), e.g. EXPORTER_DTLS_OVER_SCTP. */
int tls_export_key(struct tls_conn *t, const char *label, uint8_t *out, size_t len);
void tls_conn_free(struct tls_conn *t);

/* Advances the handshake: 1 done, 0 waiting for the peer, <0 refused (err says why). */
int tls_handshake(struct tls_conn *t, char *err, size_t errlen);
/* Why a handshake that is still waiting has most likely stalled, from what the peer
 * did so far (for a timeout message). */
void tls_explain_stall(const struct tls_conn *t, char *buf, size_t len);
/* Collector: the PSK identity the exporter offered, "" if none (yet). */
const char *tls_psk_identity(const struct tls_conn *t);
/* After tls_handshake: 1 once the peer has shown that it accepted us (or, a TLS 1.3
 * peer that keeps silent, once deadline_ms has passed), 0 waiting, <0 refused (err
 * says why). Only a TLS 1.3 client with a certificate waits: one round trip. */
int tls_confirm(struct tls_conn *t, uint64_t deadline_ms, char *err, size_t errlen);
/* Writes one message as (D)TLS records: 0, -EAGAIN (retry with the same data), -errno. */
int tls_write(struct tls_conn *t, const void *buf, size_t len);
/* Reads decrypted data: >0 bytes, 0 nothing yet, -EPIPE on close_notify, <0 error. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t cap, char *err, size_t errlen);
/* Largest plaintext in one record (DTLS: one datagram). */
uint32_t tls_max_record(struct tls_conn *t);
/* DTLS over UDP: the datagram payload a record may fill from now on (the path MTU
 * changed, or a probe is larger); 0 or -EINVAL. */
int tls_set_mtu(struct tls_conn *t, uint32_t mtu);
/* The octets a record of len plaintext octets adds (header, nonce, tag, padding), as
 * wolfSSL writes it now; -EINVAL if such a record does not fit the MTU set. */
int tls_record_expansion(struct tls_conn *t, uint32_t len);
/* Sends close_notify. */
void tls_shutdown(struct tls_conn *t);
/* X.509, once the handshake is done: the peer certificate's subject CN ("" if none). */
void tls_peer_subject(struct tls_conn *t, char *out, size_t len);
/* "TLSv1.3 TLS13-AES128-GCM-SHA256 psk probe1.example": negotiated parameters. */
const char *tls_describe(struct tls_conn *t);

/* The session callbacks the I/O glue uses (session.c). */
int session_io_send(struct dpfix_session *s, const void *buf, size_t len);
ssize_t session_io_recv(struct dpfix_session *s, void *buf, size_t len);
/* The length of the datagram or message session_io_recv would return now: 0 none,
 * <0 unknown (the transport cannot tell without reading). */
ssize_t session_io_next_len(const struct dpfix_session *s);

/* Milliseconds of CLOCK_MONOTONIC (session.c): the one clock of handshake deadlines,
 * which session.c sets and tls_handshake and tls_confirm check. */
uint64_t session_now_ms(void);

#endif
