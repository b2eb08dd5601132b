/* The (D)TLS glue's state, shared by its files: session_tls.c (contexts, connections,
 * handshakes, record I/O) and session_tls_errors.c (what a failure most likely means).
 * Private to lib/session. */
#ifndef SESSION_TLS_PRIVATE_H
#define SESSION_TLS_PRIVATE_H

#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "session_tls.h"

#define MAX_PSKS 256
#define MAX_PSK_LEN 64

struct psk_entry {
	char identity[256];
	uint8_t key[MAX_PSK_LEN];
	unsigned int key_len;
};

struct tls_ctx {
	WOLFSSL_CTX *ctx;
	int server;
	int dtls;
	int use_psk;
	struct dpfix_security_params params;
	struct psk_entry *psks;
	unsigned int psk_count;
	uint8_t cookie_secret[32];
};

struct tls_conn {
	WOLFSSL *ssl;
	struct tls_ctx *ctx;
	struct dpfix_session *session;
	int done;
	int confirmed;              /* the peer has shown it accepted the handshake */
	int key_update_sent;        /* TLS 1.3 client: the confirmation request is out */
	int peer_reset;             /* a handshake flight was lost: the peer had gone */
	uint64_t timeout_at_ms;     /* DTLS retransmission deadline, 0 if none */
	char psk_identity[256];     /* server: the identity the peer used */
	int psk_unknown;            /* server: it has no key for that identity */
	int sctp;                   /* DTLS over SCTP */
	int peer_answered;          /* the peer has sent us something */
	int io_errno;               /* the transport's last error, 0 if none */
	int records_left;           /* DTLS: the datagram wolfSSL read last has more records */
	char description[320];
};

/* wolfSSL's error for ret on ssl as text, with what it most likely means for an operator
 * and the peer's alert, if it sent one. */
void tls_error_text(WOLFSSL *ssl, int ret, char *buf, size_t len);

#endif
