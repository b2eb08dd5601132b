/* The NSS key log lib/session writes (keylog_file) comes from the project's wolfSSL build:
 * every TLS 1.2 handshake must log its client random and master secret. wolfSSL 5.5.4
 * skipped the line whenever the master secret's first byte was 0 (1 handshake in 256),
 * and devtools/build-wolfssl.sh patches that. TLS 1.2 handshakes, both ends in this
 * process over in-memory I/O, until some master secrets begin with 0. */
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "unit_test.h"

#define WANT_ZERO_LEADS 3       /* about 770 handshakes on average */
#define MAX_HANDSHAKES 6000     /* 23 expected: fewer than 3 has p = 2e-8 */

/* One direction of the in-memory connection. */
struct pipe {
	unsigned char buf[32768];
	size_t len;
};

struct link {
	struct pipe to_server, to_client;
};

static struct link wire;
static char logged[512];
static int lines;

static int
io_send(WOLFSSL *ssl, char *data, int len, void *ctx)
{
	struct pipe *p = wolfSSL_is_server(ssl) ? &wire.to_client : &wire.to_server;
	(void)ctx;

	if (p->len + (size_t)len > sizeof(p->buf))
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	memcpy(p->buf + p->len, data, (size_t)len);
	p->len += (size_t)len;
	return len;
}

static int
io_recv(WOLFSSL *ssl, char *data, int len, void *ctx)
{
	struct pipe *p = wolfSSL_is_server(ssl) ? &wire.to_server : &wire.to_client;
	size_t n = p->len < (size_t)len ? p->len : (size_t)len;
	(void)ctx;

	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	memcpy(data, p->buf, n);
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
	return (int)n;
}

static unsigned int
client_psk(WOLFSSL *ssl, const char *hint, char *identity, unsigned int id_max,
		unsigned char *key, unsigned int key_max)
{
	(void)ssl;
	(void)hint;
	(void)key_max;
	snprintf(identity, id_max, "probe1.example");
	memset(key, 0x5a, 32);
	return 32;
}

static unsigned int
server_psk(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int key_max)
{
	(void)ssl;
	(void)identity;
	(void)key_max;
	memset(key, 0x5a, 32);
	return 32;
}

static void
on_keylog(const WOLFSSL *ssl, const char *line)
{
	(void)ssl;
	snprintf(logged, sizeof(logged), "%s", line);
	lines++;
}

static WOLFSSL_CTX *
make_ctx(int server)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(server ? wolfTLSv1_2_server_method() :
			wolfTLSv1_2_client_method());

	if (ctx == NULL)
		return NULL;
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	wolfSSL_CTX_set_cipher_list(ctx, "ECDHE-PSK-AES128-GCM-SHA256");
	if (server) {
		wolfSSL_CTX_set_psk_server_callback(ctx, server_psk);
	} else {
		wolfSSL_CTX_set_psk_client_callback(ctx, client_psk);
		wolfSSL_CTX_set_keylog_callback(ctx, on_keylog);
	}
	return ctx;
}

static int
done_or_waiting(WOLFSSL *ssl, int ret)
{
	int code = wolfSSL_get_error(ssl, ret);

	return ret == WOLFSSL_SUCCESS || code == WOLFSSL_ERROR_WANT_READ ||
			code == WOLFSSL_ERROR_WANT_WRITE;
}

/* One handshake; fills want with the line its client should have logged. 0 or -1. */
static int
handshake(WOLFSSL_CTX *cctx, WOLFSSL_CTX *sctx, char *want, size_t wantlen, int *zero_lead)
{
	WOLFSSL *c = wolfSSL_new(cctx), *s = wolfSSL_new(sctx);
	unsigned char *ms, *sr, *cr;
	unsigned int ms_len, sr_len, cr_len;
	int cret = 0, sret = 0, ok = -1;
	size_t pos;

	memset(&wire, 0, sizeof(wire));
	if (c == NULL || s == NULL)
		goto out;
	wolfSSL_KeepArrays(c); /* for wolfSSL_get_keys after the handshake */
	for (int round = 0; round < 50 && (cret != WOLFSSL_SUCCESS || sret != WOLFSSL_SUCCESS);
			round++) {
		if (cret != WOLFSSL_SUCCESS && !done_or_waiting(c, cret = wolfSSL_connect(c)))
			goto out;
		if (sret != WOLFSSL_SUCCESS && !done_or_waiting(s, sret = wolfSSL_accept(s)))
			goto out;
	}
	if (cret != WOLFSSL_SUCCESS || sret != WOLFSSL_SUCCESS ||
			wolfSSL_get_keys(c, &ms, &ms_len, &sr, &sr_len, &cr, &cr_len) != WOLFSSL_SUCCESS)
		goto out;
	pos = (size_t)snprintf(want, wantlen, "CLIENT_RANDOM ");
	for (unsigned int i = 0; i < cr_len && pos + 3 < wantlen; i++)
		pos += (size_t)snprintf(want + pos, wantlen - pos, "%02X", cr[i]);
	pos += (size_t)snprintf(want + pos, wantlen - pos, " ");
	for (unsigned int i = 0; i < ms_len && pos + 3 < wantlen; i++)
		pos += (size_t)snprintf(want + pos, wantlen - pos, "%02X", ms[i]);
	*zero_lead = ms_len > 0 && ms[0] == 0;
	ok = 0;
out:
	wolfSSL_free(c);
	wolfSSL_free(s);
	return ok;
}

static void
test_every_master_secret_logged(void)
{
	WOLFSSL_CTX *cctx = make_ctx(0), *sctx = make_ctx(1);
	int handshakes = 0, zero_leads = 0, missing = 0, missing_zero = 0;
	char want[512];

	CHECK(cctx != NULL && sctx != NULL);
	while (cctx != NULL && sctx != NULL && handshakes < MAX_HANDSHAKES &&
			zero_leads < WANT_ZERO_LEADS) {
		int zero_lead = 0, before = lines;

		logged[0] = '\0';
		if (handshake(cctx, sctx, want, sizeof(want), &zero_lead) < 0) {
			fprintf(stderr, "  handshake %d failed\n", handshakes + 1);
			CHECK(0);
			break;
		}
		handshakes++;
		zero_leads += zero_lead;
		if (lines != before + 1 || strcmp(logged, want) != 0) {
			missing++;
			missing_zero += zero_lead;
			if (missing <= 3)
				fprintf(stderr, "  handshake %d: logged '%s' (%d lines), want '%s'\n",
						handshakes, logged, lines - before, want);
		}
	}
	fprintf(stderr, "  %d handshakes, %d master secrets beginning with 0, %d not logged "
			"(%d of those)\n", handshakes, zero_leads, missing, missing_zero);
	CHECK_EQ_U64(missing, 0);
	/* Otherwise the case this is about did not come up. */
	CHECK(zero_leads == WANT_ZERO_LEADS);
	wolfSSL_CTX_free(cctx);
	wolfSSL_CTX_free(sctx);
}

int
main(void)
{
	wolfSSL_Init();
	RUN_TEST(test_every_master_secret_logged);
	wolfSSL_Cleanup();
	return unit_test_summary();
}
