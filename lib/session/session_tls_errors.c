/* What a failed or stalled (D)TLS handshake most likely means, for the operator: wolfSSL's
 * own text with a hint drawn from what the peer did and what this end was configured with.
 * Private to lib/session. */
#include <errno.h>
#include <stdio.h>

#include "session_tls_private.h" /* wolfssl/options.h first, then wolfSSL's other headers */

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

/* An exporter whose handshake failed without the peer saying why (no alert) can
 * still tell what the peer did, and what that most likely means. A wolfSSL collector
 * refuses a PSK silently: with a wrong key it closes the connection before answering
 * our ClientHello (TLS 1.3); for an identity it does not know it goes on as if we had
 * offered no PSK (TLS 1.3) or closes after its first flight (TLS 1.2). A plaintext
 * collector also closes without answering. Once our side of the handshake is through,
 * none of this applies. */
static const char *
client_hint(const struct tls_conn *t, int code, char *buf, size_t len)
{
	const char *id = t->ctx->use_psk ? t->ctx->params.psk_identity : NULL;

	if (t->ctx->server || wolfSSL_is_init_finished(t->ssl))
		return NULL;
	if (code == SOCKET_ERROR_E && t->io_errno == ECONNREFUSED)
		snprintf(buf, len, "nothing listens at this address and port (connection refused): "
				"is the collector running?");
	else if (code == SOCKET_ERROR_E && !t->peer_answered && id != NULL)
		snprintf(buf, len, "the peer closed the connection without answering our hello: "
				"it holds another key for PSK identity '%s', or it does not speak %s on "
				"this port (see its log)", id, t->ctx->dtls ? "DTLS" : "TLS");
	else if (code == SOCKET_ERROR_E && !t->peer_answered)
		snprintf(buf, len, "the peer closed the connection without answering our hello: "
				"it does not speak %s on this port, or it refused our hello (see its log)",
				t->ctx->dtls ? "DTLS" : "TLS");
	else if (code == SOCKET_ERROR_E && id != NULL)
		snprintf(buf, len, "the peer closed the connection during the handshake without an "
				"alert: it may have no key for PSK identity '%s' (see its log)", id);
	else if (code == OUT_OF_ORDER_E && id != NULL)
		snprintf(buf, len, "the peer answered as if we had offered no pre-shared key: most "
				"likely it has no key for PSK identity '%s' (see its log)", id);
	else if (code == AES_GCM_AUTH_E && id != NULL && wolfSSL_version(t->ssl) == TLS1_3_VERSION)
		/* wolfSSL 5.5.4 offers psk_ke but keeps its (EC)DHE secret when the
		 * ServerHello has no key share (doc/sessions.md, GnuTLS interop). */
		snprintf(buf, len, "the peer's handshake records do not decrypt: most likely it "
				"chose TLS 1.3 PSK without key exchange (psk_ke), which this wolfSSL offers "
				"but cannot complete; allow only (EC)DHE-PSK on the collector");
	else
		return NULL;
	return buf;
}

/* Hints that name what the operator configured: the peer name the certificate lacks,
 * and on a collector the exporter's PSK identity and the file that has another key (or
 * none) for it. */
static const char *
named_hint(const struct tls_conn *t, int code, char *buf, size_t len)
{
	const struct dpfix_security_params *p = &t->ctx->params;

	if (code == DOMAIN_NAME_MISMATCH)
		snprintf(buf, len, "the peer's certificate does not carry the configured peer name "
				"'%s'", p->peer_name);
	else if (!t->ctx->server || !t->ctx->use_psk || t->psk_identity[0] == '\0')
		return NULL;
	else if (t->psk_unknown)
		/* Whatever ended the handshake: TLS 1.3 goes on without the PSK, and the
		 * exporter then gives up with an alert that alone says nothing of why. */
		snprintf(buf, len, "unknown PSK identity '%s': psk_file %s has no key for it",
				t->psk_identity, p->psk_file);
	else if (code == BAD_BINDER || code == VERIFY_MAC_ERROR)
		snprintf(buf, len, "wrong pre-shared key: the exporter's key for PSK identity '%s' "
				"is not the one psk_file %s holds", t->psk_identity, p->psk_file);
	else
		return NULL;
	return buf;
}


void
tls_explain_stall(const struct tls_conn *t, char *buf, size_t len)
{
	const char *id = t->ctx->use_psk ? t->ctx->params.psk_identity : NULL;

	if (!t->peer_answered && t->ctx->dtls && !t->sctp)
		snprintf(buf, len, "nothing answered our hello: no DTLS collector at this address "
				"and port (none running, or a plaintext udp:// one)");
	else if (!t->peer_answered)
		snprintf(buf, len, "the peer took the connection but never answered our hello: it "
				"does not speak %s on this port (a plaintext collector? see its log)",
				t->ctx->dtls ? "DTLS" : "TLS");
	else if (id != NULL)
		/* DTLS drops what it cannot decrypt, and wolfSSL sends no alert for an
		 * identity it does not know: silence is all a refused PSK gets. */
		snprintf(buf, len, "the peer answered, then went silent: most likely it does not "
				"accept our key for PSK identity '%s' (see its log)", id);
	else
		snprintf(buf, len, "the peer answered, then went silent (see its log)");
}

/* wolfSSL's own text, plus what it most likely means for an operator. */
void
tls_error_text(WOLFSSL *ssl, int ret, char *buf, size_t len)
{
	static const struct {
		int code;
		const char *hint;
	} hints[] = {
		{BAD_BINDER, "wrong pre-shared key for this identity"},
		{VERIFY_MAC_ERROR, "wrong key: the peer's records do not verify"},
		{SOCKET_ERROR_E, "the peer closed the connection (see its log)"},
		{ASN_NO_SIGNER_E, "the peer's certificate is not signed by a trusted CA"},
		{ASN_AFTER_DATE_E, "the peer's certificate has expired"},
		{ASN_BEFORE_DATE_E, "the peer's certificate is not valid yet"},
		{CRL_CERT_REVOKED, "the peer's certificate is revoked (CRL)"},
		{DOMAIN_NAME_MISMATCH, "the peer's certificate does not carry the configured peer name"},
		{MATCH_SUITE_ERROR, "no cipher suite in common"},
		{PSK_KEY_ERROR, "unknown PSK identity or no key"},
	};
	int code = wolfSSL_get_error(ssl, ret);
	char text[WOLFSSL_MAX_ERROR_SZ], alert[96] = "";
	const struct tls_conn *t = wolfSSL_GetIOReadCtx(ssl);
	char why[2 * DPFIX_SESSION_ERRLEN]; /* names an identity and a file */
	const char *hint = client_hint(t, code, why, sizeof(why));

	if (hint == NULL)
		hint = named_hint(t, code, why, sizeof(why));
	WOLFSSL_ALERT_HISTORY history;

	wolfSSL_ERR_error_string_n((unsigned long)code, text, sizeof(text));
	for (size_t i = 0; hint == NULL && i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].code == code)
			hint = hints[i].hint;
	/* The peer's alert names its reason (unknown_ca, certificate_expired, ...). */
	if (code == FATAL_ERROR && wolfSSL_get_alert_history(ssl, &history) == WOLFSSL_SUCCESS &&
			history.last_rx.code > 0)
		snprintf(alert, sizeof(alert), t->psk_unknown ? "; the exporter then ended the "
				"handshake with alert %s" : ": the peer refused us with alert %s",
				wolfSSL_alert_desc_string_long(history.last_rx.code));
	snprintf(buf, len, "%s (wolfSSL %d)%s%s%s", text, code, hint ? ": " : "", hint ? hint : "",
			alert);
}
