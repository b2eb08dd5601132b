/* The HTTP/1.1 client ClickHouse's output uses (ch_http.h): a fresh connection per
 * request, so a request never meets a connection the server has already dropped as idle
 * (which would turn "not sent" into "no answer"), and every wait bounded. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ch_http.h"

int
ch_http_parse_url(const char *url, struct ch_http_server *s, char *err, size_t errlen)
{
	const char *host, *end, *port = NULL;
	size_t host_len;

	memset(s, 0, sizeof(*s));
	s->port = 8123;
	s->timeout_ms = 10000;
	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "'%s': expected http://HOST:PORT", url);
		return -EINVAL;
	}
	host = url + 7;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL) {
			snprintf(err, errlen, "'%s': '[' without ']'", url);
			return -EINVAL;
		}
		host++;
		host_len = (size_t)(end - host);
		end++;
	} else {
		host_len = strcspn(host, ":/?#@");
		end = host + host_len;
	}
	if (*end == '@' || strchr(host, '@') != NULL) {
		snprintf(err, errlen, "'%s': no user or password in the URL (they come from a file)", url);
		return -EINVAL;
	}
	if (*end == ':') {
		port = end + 1;
		end = port + strspn(port, "0123456789");
	}
	if (*end == '/')
		end++;
	if (host_len == 0 || host_len >= sizeof(s->host) || *end != '\0') {
		snprintf(err, errlen, "'%s': expected http://HOST:PORT", url);
		return -EINVAL;
	}
	if (port != NULL) {
		long p = strtol(port, NULL, 10);

		if (port[0] == ':' || port[0] == '/' || port[0] == '\0' || p < 1 || p > 65535) {
			snprintf(err, errlen, "'%s': port must be 1..65535", url);
			return -EINVAL;
		}
		s->port = (uint16_t)p;
	}
	memcpy(s->host, host, host_len);
	s->host[host_len] = '\0';
	return 0;
}

static size_t
base64(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = digits[(v >> 18) & 63];
		out[n++] = digits[(v >> 12) & 63];
		out[n++] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? digits[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

int
ch_http_set_credentials(struct ch_http_server *s, const char *user, const char *password)
{
	char plain[256];
	int n = snprintf(plain, sizeof(plain), "%s:%s", user, password);

	if (n < 0 || (size_t)n >= sizeof(plain) || (size_t)n * 4 / 3 + 16 >= sizeof(s->authorization))
		return -ENAMETOOLONG;
	memcpy(s->authorization, "Basic ", 6);
	base64((const uint8_t *)plain, (size_t)n, s->authorization + 6);
	memset(plain, 0, sizeof(plain));
	return 0;
}

int
ch_http_query_escape(char *out, size_t room, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';

		if (n + (plain ? 1 : 3) >= room)
			return -ENAMETOOLONG;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return (int)n;
}

uint64_t
ch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events; 0, or -ETIMEDOUT. */
static int
wait_fd(int fd, short events, uint32_t timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	uint64_t deadline = ch_now_ms() + timeout_ms;

	for (;;) {
		uint64_t now = ch_now_ms();
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int
connect_server(const struct ch_http_server *s, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res, *ai;
	char port[8];
	int ret, fd = -1, last = ECONNREFUSED;

	snprintf(port, sizeof(port), "%u", s->port);
	ret = getaddrinfo(s->host, port, &hints, &res);
	if (ret != 0) {
		snprintf(err, errlen, "%s: %s", s->host, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		socklen_t len = sizeof(last);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			ret = wait_fd(fd, POLLOUT, s->timeout_ms);
			if (ret == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) == 0 && last == 0)
				break;
			if (ret < 0)
				last = -ret;
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect to %s:%u: %s", s->host, s->port, strerror(last));
		return -last;
	}
	return fd;
}

/* Sends every byte of iov; 0 or a negative errno. */
static int
send_all(int fd, struct iovec *iov, int iovcnt, uint32_t timeout_ms)
{
	while (iovcnt > 0) {
		struct msghdr m = {.msg_iov = iov,
			.msg_iovlen = (size_t)(iovcnt < IOV_MAX ? iovcnt : IOV_MAX)};
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
		int ret;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			ret = wait_fd(fd, POLLOUT, timeout_ms);
			if (ret < 0)
				return ret;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* The raw response is read whole into r->body first (the server closes the connection
 * after it), then its head and chunks are taken apart in place. */
static int
append(struct ch_http_response *r, const char *p, size_t n)
{
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 16384;
		char *b;

		while (cap < r->body_len + n + 1)
			cap *= 2;
		if (cap > CH_HTTP_BODY_MAX + 65536)
			return -EMSGSIZE;
		b = realloc(r->body, cap);
		if (b == NULL)
			return -ENOMEM;
		r->body = b;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static int
read_all(int fd, struct ch_http_response *r, uint32_t timeout_ms)
{
	char buf[16384];

	r->body_len = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		int ret;

		if (n > 0) {
			ret = append(r, buf, (size_t)n);
			if (ret < 0)
				return ret;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = wait_fd(fd, POLLIN, timeout_ms);
		if (ret < 0)
			return ret;
	}
}

/* The value of header name (case-insensitive) in head, or NULL. */
static const char *
header(const char *head, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, len) == 0 && p[2 + len] == ':') {
			p += 3 + len;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

/* Takes the head off r->body and joins the chunks of a chunked body. -EBADMSG if the
 * response is not whole. */
static int
parse_response(struct ch_http_response *r)
{
	char *end, *body, *out;
	const char *te, *cl, *code;
	size_t body_len;

	/* Nothing read (a connection closed with no answer) may leave body NULL: a response
	 * that never held one. */
	if (r->body_len == 0 || strncmp(r->body, "HTTP/1.", 7) != 0)
		return -EBADMSG;
	end = strstr(r->body, "\r\n\r\n");
	if (end == NULL)
		return -EBADMSG;
	*end = '\0';
	r->status = atoi(r->body + 9);
	te = header(r->body, "Transfer-Encoding");
	cl = header(r->body, "Content-Length");
	body = end + 4;
	body_len = r->body_len - (size_t)(body - r->body);
	if (te != NULL && strncasecmp(te, "chunked", 7) == 0) {
		char *p = body;

		out = r->body;
		for (;;) {
			char *line_end = strstr(p, "\r\n");
			unsigned long size;

			if (line_end == NULL)
				return -EBADMSG;
			size = strtoul(p, NULL, 16);
			p = line_end + 2;
			if (size == 0)
				break;
			if ((size_t)(p - body) + size + 2 > body_len)
				return -EBADMSG;
			memmove(out, p, size);
			out += size;
			p += size + 2;
		}
		body_len = (size_t)(out - r->body);
	} else {
		if (cl != NULL) {
			size_t want = strtoull(cl, NULL, 10);

			if (want > body_len)
				return -EBADMSG;
			body_len = want;
		}
		memmove(r->body, body, body_len);
	}
	r->body_len = body_len;
	r->body[body_len] = '\0';
	r->exception_code = 0;
	code = r->status != 200 ? strstr(r->body, "Code: ") : NULL;
	if (code != NULL)
		r->exception_code = atoi(code + 6);
	return 0;
}

int
ch_http_post(const struct ch_http_server *s, const char *path_query, const struct iovec *iov,
		int iovcnt, size_t body_len, struct ch_http_response *r, char *err, size_t errlen)
{
	struct iovec few[16], *all = few;
	char head[1024];
	int fd, n, ret, send_ret;

	r->outcome = CH_HTTP_NOT_SENT;
	r->status = 0;
	r->exception_code = 0;
	r->body_len = 0;
	n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s:%u\r\n%s%s%s"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", path_query, s->host, s->port,
			s->authorization[0] ? "Authorization: " : "", s->authorization,
			s->authorization[0] ? "\r\n" : "", body_len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		snprintf(err, errlen, "request too long");
		return -ENAMETOOLONG;
	}
	/* A Native block is a buffer per column. */
	if (iovcnt + 1 > (int)(sizeof(few) / sizeof(few[0]))) {
		all = malloc((size_t)(iovcnt + 1) * sizeof(*all));
		if (all == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	fd = connect_server(s, err, errlen);
	if (fd < 0) {
		if (all != few)
			free(all);
		return fd;
	}
	all[0] = (struct iovec){.iov_base = head, .iov_len = (size_t)n};
	if (iovcnt > 0) /* a request without a body may give iov NULL */
		memcpy(all + 1, iov, sizeof(*iov) * (size_t)iovcnt);
	r->outcome = CH_HTTP_NO_ANSWER;
	/* A server that refuses the request (authentication, an unknown table) answers and
	 * closes before it has read the body: its answer is read even when sending failed. */
	send_ret = send_all(fd, all, iovcnt + 1, s->timeout_ms);
	if (all != few)
		free(all);
	ret = read_all(fd, r, s->timeout_ms);
	close(fd);
	if (ret == 0)
		ret = parse_response(r);
	if (ret == 0) {
		r->outcome = CH_HTTP_ANSWERED;
		return 0;
	}
	if (send_ret < 0)
		snprintf(err, errlen, "%s:%u: sending the request: %s", s->host, s->port,
				strerror(-send_ret));
	else if (ret == -ETIMEDOUT)
		snprintf(err, errlen, "%s:%u: no answer within %u ms", s->host, s->port, s->timeout_ms);
	else if (ret == -EBADMSG)
		snprintf(err, errlen, "%s:%u: the connection ended before a whole answer",
				s->host, s->port);
	else
		snprintf(err, errlen, "%s:%u: reading the answer: %s", s->host, s->port, strerror(-ret));
	return send_ret < 0 ? send_ret : ret;
}

void
ch_http_response_free(struct ch_http_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
