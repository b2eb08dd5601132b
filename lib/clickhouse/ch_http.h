/* A small HTTP/1.1 client for ClickHouse's HTTP interface: one connection per request
 * (Connection: close), Basic authentication, a body sent from several buffers, every
 * wait bounded by a timeout, and an outcome that tells "not sent" from "sent, answer
 * unknown", which decides whether an insert may have happened. */
#ifndef CH_HTTP_H
#define CH_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define CH_HTTP_HOST_MAX 256

struct ch_http_server {
	char host[CH_HTTP_HOST_MAX];    /* a name or a literal address ("[v6]" without brackets) */
	uint16_t port;
	char authorization[512];        /* "Basic ..." or "" */
	uint32_t timeout_ms;            /* connect, and each wait for the socket */
};

/* Parses "http://HOST:PORT" (a trailing '/' allowed; no path, query or user info: the
 * password comes from a file). 0, or -EINVAL with err naming what is wrong. */
int ch_http_parse_url(const char *url, struct ch_http_server *s, char *err, size_t errlen);
/* Sets the Basic credentials; -ENAMETOOLONG if they do not fit. */
int ch_http_set_credentials(struct ch_http_server *s, const char *user, const char *password);

enum ch_http_outcome {
	CH_HTTP_ANSWERED,       /* a whole response was read: see status */
	CH_HTTP_NOT_SENT,       /* no connection: the server never saw the request */
	CH_HTTP_NO_ANSWER,      /* sent (maybe partly) but no whole response: it may have run */
};

struct ch_http_response {
	enum ch_http_outcome outcome;
	int status;             /* HTTP status with CH_HTTP_ANSWERED */
	char *body;             /* NUL-terminated; at most CH_HTTP_BODY_MAX bytes kept */
	size_t body_len;
	size_t body_cap;
	int exception_code;     /* ClickHouse's "Code: N" in an error body; 0 if none */
};

#define CH_HTTP_BODY_MAX (4u << 20)

/* POSTs body (iov, iovcnt buffers of body_len bytes in all) to path_query ("/?query=...").
 * Fills r (its body buffer is reused between calls; free with ch_http_response_free).
 * Returns 0 when a response was read (any status), else <0 with err saying what failed
 * (r->outcome says whether the request may have been executed). */
int ch_http_post(const struct ch_http_server *s, const char *path_query, const struct iovec *iov,
		int iovcnt, size_t body_len, struct ch_http_response *r, char *err, size_t errlen);
void ch_http_response_free(struct ch_http_response *r);

/* The monotonic clock every wait and timer of lib/clickhouse is measured with, in ms. */
uint64_t ch_now_ms(void);

/* Appends s to out (room bytes, NUL-terminated) percent-encoded for a URL's query.
 * Returns the new length of out, or -ENAMETOOLONG. */
int ch_http_query_escape(char *out, size_t room, const char *s);

#endif
