/* wolfSSL glue for sessions: contexts with PSK (RFC 4279) or X.509 mutual
 * authentication, non-blocking handshakes driven by the session, record I/O through
 * the transport driver, DTLS cookies without a socket, and the optional NSS key log. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/dh.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "dpfix_config.h"
#include "session_log.h"
#include "session_tls_private.h"

/* Ephemeral key exchange first (forward secrecy); no NULL, anonymous or export suites
 * are in any list, and a configured list containing one is refused. */
static const char default_psk_ciphers[] =
	"TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
	"ECDHE-PSK-AES128-GCM-SHA256:DHE-PSK-AES128-GCM-SHA256:DHE-PSK-AES256-GCM-SHA384:"
	"ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-CHACHA20-POLY1305";
static const char default_cert_ciphers[] =
	"TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
library_init(void)
{
	wolfSSL_Init();
}

const char *
tls_psk_identity(const struct tls_conn *t)
{
	return t->psk_identity;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads "identity:hexkey" lines. Keys never come from the command line, and a file
 * others can read is refused: a leaked PSK is a forged exporter. */
static int
load_psk_file(struct tls_ctx *c, const char *path, char *err, size_t errlen)
{
	char line[1024];
	unsigned int lineno = 0;
	FILE *f = dpfix_config_open_secret("psk_file", path, err, errlen);

	if (f == NULL)
		return -errno;
	c->psks = calloc(MAX_PSKS, sizeof(*c->psks));
	if (c->psks == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon, *hex, *end;
		struct psk_entry *e;
		size_t hexlen;

		lineno++;
		end = line + strcspn(line, "\r\n");
		*end = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		colon = strrchr(line, ':');
		if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof(e->identity)) {
			snprintf(err, errlen, "%s:%u: expected identity:hexkey", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		hex = colon + 1;
		hexlen = strlen(hex);
		if (hexlen < 32 || hexlen % 2 != 0 || hexlen / 2 > MAX_PSK_LEN) {
			snprintf(err, errlen, "%s:%u: key must be 16 to %d bytes in hex (got %zu hex digits)",
					path, lineno, MAX_PSK_LEN, hexlen);
			fclose(f);
			return -EINVAL;
		}
		if (c->psk_count == MAX_PSKS) {
			snprintf(err, errlen, "%s: more than %d keys", path, MAX_PSKS);
			fclose(f);
			return -EINVAL;
		}
		e = &c->psks[c->psk_count];
		memcpy(e->identity, line, (size_t)(colon - line));
		e->identity[colon - line] = '\0';
		for (size_t i = 0; i < hexlen; i += 2) {
			int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s:%u: key is not hexadecimal", path, lineno);
				fclose(f);
				return -EINVAL;
			}
			e->key[i / 2] = (uint8_t)(hi << 4 | lo);
		}
		e->key_len = (unsigned int)(hexlen / 2);
		c->psk_count++;
	}
	fclose(f);
	if (c->psk_count == 0) {
		snprintf(err, errlen, "psk_file %s holds no keys", path);
		return -EINVAL;
	}
	return 0;
}

static const struct psk_entry *
find_psk(const struct tls_ctx *c, const char *identity)
{
	for (unsigned int i = 0; i < c->psk_count; i++)
		if (strcmp(c->psks[i].identity, identity) == 0)
			return &c->psks[i];
	return NULL;
}

static unsigned int
psk_client_cb(WOLFSSL *ssl, const char *hint, char *identity, unsigned int id_max,
		unsigned char *key, unsigned int key_max)
{
	struct tls_conn *t = wolfSSL_GetIOReadCtx(ssl);
	const struct psk_entry *e = find_psk(t->ctx, t->ctx->params.psk_identity);
	(void)hint;

	if (e == NULL || strlen(e->identity) >= id_max || e->key_len > key_max)
		return 0;
	strcpy(identity, e->identity);
	memcpy(key, e->key, e->key_len);
	return e->key_len;
}

static unsigned int
psk_server_cb(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int key_max)
{
	struct tls_conn *t = wolfSSL_GetIOReadCtx(ssl);
	const struct psk_entry *e = identity != NULL ? find_psk(t->ctx, identity) : NULL;

	if (identity != NULL)
		snprintf(t->psk_identity, sizeof(t->psk_identity), "%s", identity);
	if (e == NULL || e->key_len > key_max) {
		/* Said by the error that ends the handshake (named_hint), not here: wolfSSL
		 * asks again for each cipher suite in common, and TLS 1.2 and DTLS end the
		 * handshake with an error of their own that says it again. */
		t->psk_unknown = 1;
		return 0;
	}
	memcpy(key, e->key, e->key_len);
	return e->key_len;
}

/* A DTLS datagram may carry several records (RFC 6347 4.1.1; 13-byte headers, the
 * length last); wolfSSL returns the data of one per read and keeps the rest. */
static int
more_than_one_record(const uint8_t *p, size_t len)
{
	return len >= 13 && 13 + (size_t)(p[11] << 8 | p[12]) + 13 <= len;
}

/* DTLS over UDP, handshake done. */
static int
datagram_up(const struct tls_conn *t)
{
	return t->ctx->dtls && !t->sctp && t->done;
}

static int
io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct tls_conn *t = arg;
	ssize_t n = session_io_recv(t->session, buf, (size_t)sz);
	(void)ssl;

	/* wolfSSL asks only once it has used up what it read before. */
	t->records_left = t->ctx->dtls && n > 0 && more_than_one_record((const uint8_t *)buf, (size_t)n);
	if (n > 0) {
		t->peer_answered = 1;
		return (int)n;
	}
	/* DTLS over UDP once up: an ICMP error (port unreachable: the collector restarting)
	 * says nothing authenticated about the session, and wolfSSL would take the
	 * connection for reset for good. Heartbeats tell whether the collector is gone. */
	if (n == -EAGAIN || (n == -ECONNREFUSED && datagram_up(t)))
		return WOLFSSL_CBIO_ERR_WANT_READ;
	t->io_errno = (int)-n;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	return WOLFSSL_CBIO_ERR_CONN_RST;
}

static int
io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct tls_conn *t = arg;
	int ret = session_io_send(t->session, buf, (size_t)sz);
	(void)ssl;

	if (ret == 0)
		return sz;
	if (ret == -EAGAIN)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	t->io_errno = -ret;
	/* A datagram the kernel refused once the session is up (larger than the local link:
	 * a path MTU probe; an ICMP error from an earlier one) is a datagram lost, as on the
	 * path: the session goes on. */
	if ((ret == -EMSGSIZE || ret == -ECONNREFUSED) && datagram_up(t))
		return sz;
	/* A peer that refuses the handshake sends its alert and resets the connection,
	 * possibly while we are still writing our flight. Failing here would report a bare
	 * socket error instead of its reason, depending only on which side the scheduler ran
	 * first; the alert is already in our receive queue, so drop what can no longer be
	 * delivered and let the handshake read it (neither tls_handshake nor tls_confirm
	 * reports success after this). */
	if (!t->confirmed && (ret == -ECONNRESET || ret == -EPIPE)) {
		t->peer_reset = 1;
		return sz;
	}
	return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

/* DTLS cookie (RFC 6347 4.2.1) from the peer's address: the default generator needs
 * a socket, which the session layer hides. */
static int
gen_cookie(WOLFSSL *ssl, unsigned char *buf, int sz, void *arg)
{
	struct tls_conn *t = arg;
	const char *peer = dpfix_session_name(t->session);
	unsigned char digest[WC_SHA256_DIGEST_SIZE];
	Hmac hmac;
	(void)ssl;

	if (wc_HmacInit(&hmac, NULL, INVALID_DEVID) != 0)
		return -1;
	if (wc_HmacSetKey(&hmac, WC_SHA256, t->ctx->cookie_secret, sizeof(t->ctx->cookie_secret)) != 0 ||
			wc_HmacUpdate(&hmac, (const byte *)peer, (word32)strlen(peer)) != 0 ||
			wc_HmacFinal(&hmac, digest) != 0) {
		wc_HmacFree(&hmac);
		return -1;
	}
	wc_HmacFree(&hmac);
	if (sz > (int)sizeof(digest))
		sz = sizeof(digest);
	memcpy(buf, digest, (size_t)sz);
	return sz;
}

/* One NSS key log line as wolfSSL forms it: CLIENT_RANDOM for (D)TLS 1.2, the handshake
 * and traffic secrets for TLS 1.3. Appended to a file only its owner may read: the lines
 * decrypt the session. */
static void
keylog_line(const WOLFSSL *ssl, const char *line)
{
	/* wolfSSL's getter takes a non-const handle; it only reads. */
	struct tls_conn *t = wolfSSL_GetIOReadCtx((WOLFSSL *)(uintptr_t)ssl);
	const char *path = t->ctx->params.keylog_file;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (f == NULL) {
		dpfix_session_log(DPFIX_LOG_WARNING, "key log %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%s\n", line);
	fclose(f);
}

/* The exporter's default PSK identity (RFC 4279 usage in seed 002): its FQDN. */
static int
own_fqdn(char *out, size_t len)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res;
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL)
			snprintf(host, sizeof(host), "%s", res->ai_canonname);
		freeaddrinfo(res);
	}
	snprintf(out, len, "%s", host);
	return 0;
}

static int
refuses_weak_suites(const char *list, char *err, size_t errlen)
{
	static const char *const weak[] = {"NULL", "ADH", "AECDH", "anon", "EXP", "RC4", "DES"};

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		if (strcasestr(list, weak[i]) != NULL) {
			snprintf(err, errlen, "ciphers '%s': %s suites are never allowed", list, weak[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int
load_x509(struct tls_ctx *c, const struct dpfix_security_params *p, char *err, size_t errlen)
{
	if (p->cert_file[0] == '\0' || p->key_file[0] == '\0' || p->ca_file[0] == '\0') {
		snprintf(err, errlen, "X.509 needs cert, key and ca files (or use a PSK)");
		return -EINVAL;
	}
	if (wolfSSL_CTX_use_certificate_chain_file(c->ctx, p->cert_file) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cert %s: cannot load a PEM certificate chain", p->cert_file);
		return -EINVAL;
	}
	if (wolfSSL_CTX_use_PrivateKey_file(c->ctx, p->key_file, WOLFSSL_FILETYPE_PEM) !=
			WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "key %s: cannot load a PEM private key", p->key_file);
		return -EINVAL;
	}
	if (wolfSSL_CTX_check_private_key(c->ctx) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "key %s does not match cert %s", p->key_file, p->cert_file);
		return -EINVAL;
	}
	if (wolfSSL_CTX_load_verify_locations(c->ctx, p->ca_file, NULL) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "ca %s: cannot load CA certificates", p->ca_file);
		return -EINVAL;
	}
	if (p->crl_file[0] != '\0' &&
			(wolfSSL_CTX_EnableCRL(c->ctx, WOLFSSL_CRL_CHECKALL) != WOLFSSL_SUCCESS ||
			 wolfSSL_CTX_LoadCRLFile(c->ctx, p->crl_file, WOLFSSL_FILETYPE_PEM) !=
			 WOLFSSL_SUCCESS)) {
		snprintf(err, errlen, "crl %s: cannot load the CRL", p->crl_file);
		return -EINVAL;
	}
	/* Mutual authentication: both ends demand and verify the other's certificate. */
	wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			NULL);
	return 0;
}

struct tls_ctx *
tls_ctx_create(const struct dpfix_endpoint *ep, int server, const struct dpfix_security_params *p,
		char *err, size_t errlen)
{
	struct tls_ctx *c;
	WOLFSSL_METHOD *method;
	const char *ciphers;
	WC_RNG rng;

	pthread_once(&init_once, library_init);
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->server = server;
	c->dtls = ep->security == DPFIX_SECURITY_DTLS;
	c->params = *p;
	c->use_psk = p->psk_file[0] != '\0';
	if (c->use_psk && (p->cert_file[0] != '\0' || p->key_file[0] != '\0')) {
		snprintf(err, errlen, "give either a PSK or a certificate, not both");
		goto fail;
	}
	if (!c->use_psk && p->cert_file[0] == '\0') {
		snprintf(err, errlen, "%s needs credentials: --psk-identity and --psk-file, or "
				"--cert, --key and --ca", ep->scheme);
		goto fail;
	}
	if (c->use_psk && !server && c->params.psk_identity[0] == '\0' &&
			own_fqdn(c->params.psk_identity, sizeof(c->params.psk_identity)) < 0) {
		snprintf(err, errlen, "no --psk-identity given and this host's FQDN is unknown");
		goto fail;
	}
	if (c->dtls)
		method = server ? wolfDTLSv1_2_server_method() : wolfDTLSv1_2_client_method();
	else
		method = server ? wolfSSLv23_server_method() : wolfSSLv23_client_method();
	c->ctx = wolfSSL_CTX_new(method);
	if (c->ctx == NULL) {
		snprintf(err, errlen, "cannot create a wolfSSL context");
		goto fail;
	}
	if (!c->dtls && wolfSSL_CTX_SetMinVersion(c->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot require TLS 1.2 or later");
		goto fail;
	}
	ciphers = p->ciphers[0] ? p->ciphers : c->use_psk ? default_psk_ciphers : default_cert_ciphers;
	if (refuses_weak_suites(ciphers, err, errlen) < 0)
		goto fail;
	if (wolfSSL_CTX_set_cipher_list(c->ctx, ciphers) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "ciphers '%s': none is available in this wolfSSL", ciphers);
		goto fail;
	}
	/* A list without TLS 1.3 suites means TLS 1.2: offering 1.3 anyway makes the peer
	 * pick it and fail for want of a common suite (handshake_failure on both ends). */
	if (!c->dtls && strstr(ciphers, "TLS13-") == NULL &&
			wolfSSL_CTX_set_max_proto_version(c->ctx, TLS1_2_VERSION) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "ciphers '%s': cannot limit TLS to 1.2", ciphers);
		goto fail;
	}
	if (c->use_psk) {
		if (load_psk_file(c, p->psk_file, err, errlen) < 0)
			goto fail;
		if (!server && find_psk(c, c->params.psk_identity) == NULL) {
			snprintf(err, errlen, "psk_file %s has no key for identity '%s'", p->psk_file,
					c->params.psk_identity);
			goto fail;
		}
		if (server) {
			const DhParams *dh = wc_Dh_ffdhe2048_Get();

			wolfSSL_CTX_set_psk_server_callback(c->ctx, psk_server_cb);
			/* DHE-PSK suites need a group: RFC 7919 ffdhe2048. */
			wolfSSL_CTX_SetTmpDH(c->ctx, dh->p, (int)dh->p_len, dh->g, (int)dh->g_len);
		} else {
			wolfSSL_CTX_set_psk_client_callback(c->ctx, psk_client_cb);
		}
	} else if (load_x509(c, p, err, errlen) < 0) {
		goto fail;
	}
	wolfSSL_CTX_SetIORecv(c->ctx, io_recv);
	wolfSSL_CTX_SetIOSend(c->ctx, io_send);
	if (c->dtls && server) {
		wolfSSL_CTX_SetGenCookie(c->ctx, gen_cookie);
		if (wc_InitRng(&rng) != 0 ||
				wc_RNG_GenerateBlock(&rng, c->cookie_secret, sizeof(c->cookie_secret)) != 0) {
			snprintf(err, errlen, "no random numbers for the DTLS cookie secret");
			goto fail;
		}
		wc_FreeRng(&rng);
	}
	if (p->keylog_file[0] != '\0')
		wolfSSL_CTX_set_keylog_callback(c->ctx, keylog_line);
	if (p->keylog_file[0] != '\0')
		dpfix_session_log(DPFIX_LOG_WARNING, "WARNING: writing TLS session keys to %s: anyone "
				"who reads it can decrypt the exported records. For debugging only.",
				p->keylog_file);
	return c;
fail:
	tls_ctx_free(c);
	return NULL;
}

void
tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	if (c->ctx != NULL)
		wolfSSL_CTX_free(c->ctx);
	if (c->psks != NULL) {
		memset(c->psks, 0, MAX_PSKS * sizeof(*c->psks)); /* keys do not outlive use */
		free(c->psks);
	}
	free(c);
}

struct tls_conn *
tls_conn_create(struct tls_ctx *ctx, struct dpfix_session *s, uint32_t mtu, int sctp,
		int heartbeats, char *err, size_t errlen)
{
	struct tls_conn *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ctx = ctx;
	t->session = s;
	t->sctp = sctp;
	t->ssl = wolfSSL_new(ctx->ctx);
	if (t->ssl == NULL) {
		snprintf(err, errlen, "cannot create a wolfSSL connection");
		free(t);
		return NULL;
	}
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	if (ctx->dtls) {
		wolfSSL_dtls_set_using_nonblock(t->ssl, 1);
		if (ctx->server)
			wolfSSL_SetCookieCtx(t->ssl, t);
		/* Our build's DTLS-SCTP option raises the default record size to 16 KB for
		 * every DTLS session: UDP must be held to the path MTU explicitly. */
		if (mtu != 0 && wolfSSL_dtls_set_mtu(t->ssl, (unsigned short)mtu) != WOLFSSL_SUCCESS) {
			snprintf(err, errlen, "DTLS MTU %u refused", mtu);
			tls_conn_free(t);
			return NULL;
		}
	}
	if (ctx->dtls && sctp && wolfSSL_dtls_set_sctp(t->ssl) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "this wolfSSL has no DTLS over SCTP");
		tls_conn_free(t);
		return NULL;
	}
	/* Both ends check the other's certificate name. */
	if (!ctx->use_psk && ctx->params.peer_name[0] != '\0')
		wolfSSL_check_domain_name(t->ssl, ctx->params.peer_name);
	/* dpfix heartbeats are agreed by ALPN (doc/heartbeats.md): a peer that does not
	 * know the name (any other collector, any other exporter) goes on without, and no
	 * heartbeat is ever sent to it. */
	if (heartbeats && wolfSSL_UseALPN(t->ssl, (char *)(uintptr_t)DPFIX_HEARTBEAT_ALPN,
			sizeof(DPFIX_HEARTBEAT_ALPN) - 1, WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
			WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot offer ALPN %s", DPFIX_HEARTBEAT_ALPN);
		tls_conn_free(t);
		return NULL;
	}
	/* The SCTP-AUTH key is exported after the handshake: keep its secrets until then. */
	if (sctp)
		wolfSSL_KeepArrays(t->ssl);
	return t;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	wolfSSL_free(t->ssl);
	free(t);
}

int
tls_handshake(struct tls_conn *t, char *err, size_t errlen)
{
	int ret, code;

	if (t->done)
		return 1;
	ret = t->ctx->server ? wolfSSL_accept(t->ssl) : wolfSSL_connect(t->ssl);
	if (ret == WOLFSSL_SUCCESS && t->peer_reset) {
		/* Our last flight never arrived: the peer refused. Its reason, if it sent
		 * one, is the alert waiting to be read. */
		char byte;

		ret = wolfSSL_read(t->ssl, &byte, 1);
		code = wolfSSL_get_error(t->ssl, ret);
		if (ret <= 0 && code != WOLFSSL_ERROR_WANT_READ && code != WOLFSSL_ERROR_ZERO_RETURN)
			tls_error_text(t->ssl, ret, err, errlen);
		else
			snprintf(err, errlen, "the peer reset the connection during the handshake: it "
					"refused it without an alert (see its log)");
		return -ECONNREFUSED;
	}
	if (ret == WOLFSSL_SUCCESS) {
		const char *suite = wolfSSL_get_cipher_name(t->ssl);

		t->done = 1;
		if (suite == NULL || refuses_weak_suites(suite, err, errlen) < 0)
			return -EPROTO;
		snprintf(t->description, sizeof(t->description), "%s %s%s%s",
				wolfSSL_get_version(t->ssl), suite,
				t->ctx->use_psk ? " psk " : " x509",
				t->ctx->use_psk ? (t->ctx->server ? t->psk_identity :
						t->ctx->params.psk_identity) : "");
		return 1;
	}
	code = wolfSSL_get_error(t->ssl, ret);
	if (code == WOLFSSL_ERROR_WANT_READ || code == WOLFSSL_ERROR_WANT_WRITE) {
		if (t->ctx->dtls) {
			uint64_t now = session_now_ms();

			if (t->timeout_at_ms == 0) {
				t->timeout_at_ms = now + (uint64_t)wolfSSL_dtls_get_current_timeout(t->ssl) * 1000;
			} else if (now >= t->timeout_at_ms) {
				/* Lost flight: retransmit, with wolfSSL's backoff. */
				wolfSSL_dtls_got_timeout(t->ssl);
				t->timeout_at_ms = now + (uint64_t)wolfSSL_dtls_get_current_timeout(t->ssl) * 1000;
			}
		}
		return 0;
	}
	tls_error_text(t->ssl, ret, err, errlen);
	return -ECONNREFUSED;
}

int
tls_confirm(struct tls_conn *t, uint64_t deadline_ms, char *err, size_t errlen)
{
	int ret, code, required = 1;
	char byte;

	if (t->confirmed)
		return 1;
	/* Up to TLS 1.2 the server's Finished comes last, so it has accepted us already;
	 * with a PSK it accepted our binder before its first flight. */
	if (t->ctx->server || t->ctx->dtls || t->ctx->use_psk ||
			wolfSSL_version(t->ssl) != TLS1_3_VERSION) {
		t->confirmed = 1;
		return 1;
	}
	/* TLS 1.3 with certificates: our Finished ends the handshake before the server has
	 * checked our certificate, and an IPFIX collector never writes. Ask for its
	 * KeyUpdate (RFC 8446 4.6.3): a wolfSSL collector answers as soon as it has
	 * accepted our Finished, and a refusal comes as an alert instead. */
	if (!t->key_update_sent) {
		ret = wolfSSL_update_keys(t->ssl);
		if (ret != WOLFSSL_SUCCESS && ret != WOLFSSL_ERROR_WANT_WRITE) {
			tls_error_text(t->ssl, ret, err, errlen);
			return -ECONNREFUSED;
		}
		t->key_update_sent = 1;
	}
	ret = wolfSSL_read(t->ssl, &byte, 1); /* takes the KeyUpdate or the alert */
	if (ret <= 0) {
		code = wolfSSL_get_error(t->ssl, ret);
		if (code == WOLFSSL_ERROR_ZERO_RETURN) {
			snprintf(err, errlen, "the peer closed the session right after the handshake");
			return -ECONNREFUSED;
		}
		if (code != WOLFSSL_ERROR_WANT_READ && code != WOLFSSL_ERROR_WANT_WRITE) {
			tls_error_text(t->ssl, ret, err, errlen);
			return -ECONNREFUSED;
		}
	}
	if (wolfSSL_key_update_response(t->ssl, &required) == 0 && !required) {
		t->confirmed = 1;
		return 1;
	}
	if (session_now_ms() < deadline_ms)
		return 0;
	/* Other stacks may hold their answer until they next write (RFC 8446 allows it),
	 * which a collector never does: no news is taken as acceptance. */
	dpfix_session_log(DPFIX_LOG_INFO, "%s: the peer did not answer our TLS 1.3 KeyUpdate; "
			"taking the session as accepted", dpfix_session_name(t->session));
	t->confirmed = 1;
	return 1;
}

int
tls_write(struct tls_conn *t, const void *buf, size_t len)
{
	int ret = wolfSSL_write(t->ssl, buf, (int)len);
	int code;

	if (ret == (int)len)
		return 0;
	code = wolfSSL_get_error(t->ssl, ret);
	if (code == WOLFSSL_ERROR_WANT_WRITE || code == WOLFSSL_ERROR_WANT_READ)
		return -EAGAIN;
	{
		char text[WOLFSSL_MAX_ERROR_SZ];

		tls_error_text(t->ssl, ret, text, sizeof(text));
		dpfix_session_log(DPFIX_LOG_ERROR, "%s: write failed: %s",
				dpfix_session_name(t->session), text);
	}
	return -EIO;
}

/* DTLS plaintext per record (RFC 6347 4.3.1). */
#define DTLS_MAX_PLAINTEXT 16384

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t cap, char *err, size_t errlen)
{
	int ret, code;

	/* For DTLS, wolfSSL allocates its input buffer for the largest datagram a read of
	 * this size could take, then zeroes and frees it after every record: asking for
	 * 64 KB made that 85 % of the collector's work per DTLS/UDP datagram. One record's
	 * plaintext is all a read can return; when wolfSSL holds no record of its own, it
	 * is the datagram waiting, and with none waiting there is nothing to read (a read
	 * would still take a 16 KB buffer to wipe at the next record). */
	if (t->ctx->dtls) {
		ssize_t next = session_io_next_len(t->session);

		if (cap > DTLS_MAX_PLAINTEXT)
			cap = DTLS_MAX_PLAINTEXT;
		if (!t->records_left && next == 0)
			return 0;
		if (!t->records_left && next > 0 && (size_t)next < cap)
			cap = (size_t)next;
	}
	ret = wolfSSL_read(t->ssl, buf, (int)cap);

	if (ret > 0)
		return ret;
	code = wolfSSL_get_error(t->ssl, ret);
	if (code == WOLFSSL_ERROR_WANT_READ || code == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	if (code == WOLFSSL_ERROR_ZERO_RETURN)
		return -EPIPE;
	tls_error_text(t->ssl, ret, err, errlen);
	return -EIO;
}

int
tls_heartbeats_agreed(struct tls_conn *t)
{
	char *name = NULL;
	unsigned short len = 0;

	return wolfSSL_ALPN_GetProtocol(t->ssl, &name, &len) == WOLFSSL_SUCCESS &&
			len == sizeof(DPFIX_HEARTBEAT_ALPN) - 1 &&
			memcmp(name, DPFIX_HEARTBEAT_ALPN, len) == 0;
}

int
tls_export_key(struct tls_conn *t, const char *label, uint8_t *out, size_t len)
{
	int ok = wolfSSL_export_keying_material(t->ssl, out, len, label, strlen(label), NULL, 0, 0);

	wolfSSL_FreeArrays(t->ssl); /* secrets no longer needed once the key is out */
	return ok == WOLFSSL_SUCCESS ? 0 : -EIO;
}

int
tls_set_mtu(struct tls_conn *t, uint32_t mtu)
{
	return wolfSSL_dtls_set_mtu(t->ssl, (unsigned short)mtu) == WOLFSSL_SUCCESS ? 0 : -EINVAL;
}

int
tls_record_expansion(struct tls_conn *t, uint32_t len)
{
	int n = wolfSSL_GetOutputSize(t->ssl, (int)len);

	return n > (int)len ? n - (int)len : -EINVAL;
}

uint32_t
tls_max_record(struct tls_conn *t)
{
	int n = wolfSSL_GetMaxOutputSize(t->ssl);

	return n > 0 ? (uint32_t)n : 0;
}

void
tls_shutdown(struct tls_conn *t)
{
	if (t->done)
		wolfSSL_shutdown(t->ssl);
}

void
tls_peer_subject(struct tls_conn *t, char *out, size_t len)
{
	/* A copy the caller frees, as OpenSSL's SSL_get_peer_certificate. */
	WOLFSSL_X509 *cert = wolfSSL_get_peer_certificate(t->ssl);
	const char *cn = cert != NULL ? wolfSSL_X509_get_subjectCN(cert) : NULL;

	snprintf(out, len, "%s", cn != NULL ? cn : "");
	wolfSSL_X509_free(cert);
}

const char *
tls_describe(struct tls_conn *t)
{
	return t->description;
}
