/* TCP transport (RFC 7011 10.4): a byte stream with an output buffer, so a whole
 * message (or TLS record) is taken or refused at once and never half-written from the
 * caller's point of view; the buffer drains as the socket allows. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "dpfix_transport.h"
#include "sockaddr_util.h"

#define OUT_BUFFER (4 * 1024 * 1024)   /* what a connection may hold unsent, at most */
#define OUT_BUFFER_FIRST (16 * 1024)   /* ... and what it takes at its first send */
#define MAX_MESSAGE 65535

struct tcp_conn {
	int fd;
	uint8_t *out;
	size_t out_start, out_len, out_cap;
	int write_shut;         /* our FIN is sent (shutdown_write) */
	/* Exporter: its connection under way, and the settings watch_peer applies once it
	 * is up (TCP_USER_TIMEOUT would otherwise cut the connect short too). */
	int connecting;
	uint32_t heartbeat_interval_ms, heartbeat_misses;
};

struct tcp_listener {
	int fd;
};

static struct tcp_conn *
conn_new(int fd)
{
	struct tcp_conn *t = calloc(1, sizeof(*t));
	int on = 1;

	if (t == NULL)
		return NULL;
	t->fd = fd;
	/* Whole messages go out at once; Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return t;
}

/* The exporter's own watch on a collector that may die with no heartbeats agreed (a
 * plaintext or foreign one; doc/heartbeats.md): data unacknowledged (or a zero window)
 * for heartbeat_interval x heartbeat_misses ends the connection (TCP_USER_TIMEOUT), and
 * an idle connection is probed as often (keepalive). A collector's kernel answers
 * keepalives for a process that is frozen: that one is found once its window stays shut. */
static void
watch_peer(int fd, const struct dpfix_session_params *p)
{
	unsigned int timeout = p->heartbeat_interval_ms * (p->heartbeat_misses ? p->heartbeat_misses : 1);
	int on = 1, interval = (int)((p->heartbeat_interval_ms + 999) / 1000);
	int count = p->heartbeat_misses ? (int)p->heartbeat_misses : 1;

	if (p->heartbeat_interval_ms == 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &interval, sizeof(interval));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

static int
tcp_connect(struct dpfix_conn *c, const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *p, char *err, size_t errlen)
{
	struct addrinfo *res;
	struct tcp_conn *t;
	int fd, ret;

	ret = sockaddr_resolve(ep, SOCK_STREAM, 0, &res, err, errlen);
	if (ret < 0)
		return ret;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return ret;
	}
	sockaddr_format(res->ai_addr, res->ai_addrlen, c->peer, sizeof(c->peer));
	/* Never waits for the collector's answer (tcp_connected says when it came): a
	 * collector that does not answer at all would hold the caller for connect_timeout. */
	ret = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ret < 0 && errno == EINPROGRESS)
		ret = 0;
	if (ret < 0) {
		ret = -errno;
		snprintf(err, errlen, "collector %s://%s:%u: %s", ep->scheme, ep->host, ep->port,
				strerror(errno));
		close(fd);
		return ret;
	}
	c->priv = conn_new(fd);
	if (c->priv == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->max_payload = MAX_MESSAGE;
	t = c->priv;
	t->connecting = 1;
	t->heartbeat_interval_ms = p->heartbeat_interval_ms;
	t->heartbeat_misses = p->heartbeat_misses;
	return 0;
}

static int
tcp_connected(struct dpfix_conn *c)
{
	struct tcp_conn *t = c->priv;
	struct pollfd pfd = {.fd = t->fd, .events = POLLOUT};
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!t->connecting)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return -EINPROGRESS;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	if (soerr != 0)
		return -soerr;
	t->connecting = 0;
	watch_peer(t->fd, &(struct dpfix_session_params){
		.heartbeat_interval_ms = t->heartbeat_interval_ms,
		.heartbeat_misses = t->heartbeat_misses});
	return 0;
}

/* err ended an exporter's connection: ETIMEDOUT on one that was up means the collector
 * stopped acknowledging (TCP_USER_TIMEOUT with data or a zero window waiting, keepalive
 * probes unanswered, or the kernel's own retries run out), not that it closed or reset
 * it: the connection says so, as SCTP's says its heartbeats' verdict (peer_unanswered;
 * the count is the kernel's). Nothing was heard since the later of the collector's last
 * acknowledgement and its last data, both in TCP_INFO after the connection ended. */
static int
ended(struct dpfix_conn *c, int err)
{
	struct tcp_conn *t = c->priv;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (err != ETIMEDOUT || c->accepted || t->connecting || c->peer_unanswered != 0)
		return -err;
	c->peer_unanswered = UINT32_MAX;
	if (getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
			len >= offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(ti.tcpi_last_ack_recv))
		c->peer_silent_ns = (uint64_t)(ti.tcpi_last_ack_recv < ti.tcpi_last_data_recv ?
				ti.tcpi_last_ack_recv : ti.tcpi_last_data_recv) * 1000000ull;
	return -err;
}

static int64_t
tcp_unacknowledged(const struct dpfix_conn *c)
{
	const struct tcp_conn *t = c->priv;
	int queued = 0;

	if (ioctl(t->fd, SIOCOUTQ, &queued) < 0)
		return -1;
	return (int64_t)t->out_len + queued;
}

static int
tcp_flush(struct dpfix_conn *c)
{
	struct tcp_conn *t = c->priv;

	while (t->out_len > 0) {
		ssize_t n = send(t->fd, t->out + t->out_start, t->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : ended(c, errno);
		t->out_start += (size_t)n;
		t->out_len -= (size_t)n;
	}
	t->out_start = 0;
	return 0;
}

static int
tcp_send(struct dpfix_conn *c, const void *buf, size_t len, const struct dpfix_send_opts *opts)
{
	struct tcp_conn *t = c->priv;
	int ret;
	(void)opts;

	ret = tcp_flush(c);
	if (ret < 0 && ret != -EAGAIN)
		return ret;
	if (t->out_start + t->out_len + len > t->out_cap) {
		size_t cap = t->out_cap ? t->out_cap : OUT_BUFFER_FIRST;
		uint8_t *out;

		if (t->out_len > 0)
			memmove(t->out, t->out + t->out_start, t->out_len);
		t->out_start = 0;
		/* Grown as needed: a collector's connections send nothing, or only a
		 * handshake, and thousands of them must not each hold 4 MB (with a TLS
		 * handshake they did: 1 GB for 250 TLS exporters). */
		while (cap < t->out_len + len && cap < OUT_BUFFER)
			cap *= 2;
		if (cap > OUT_BUFFER)
			cap = OUT_BUFFER;
		if (t->out_len + len > cap)
			return -EAGAIN; /* the peer is slow: the caller keeps the message */
		if (cap > t->out_cap) {
			out = realloc(t->out, cap);
			if (out == NULL)
				return -ENOMEM;
			t->out = out;
			t->out_cap = cap;
		}
	}
	memcpy(t->out + t->out_start + t->out_len, buf, len);
	t->out_len += len;
	ret = tcp_flush(c);
	return ret == -EAGAIN ? 0 : ret;
}

/* After our FIN: a collector that read up to it and then closed sends a FIN that
 * acknowledges every byte we sent (and our FIN). One that closed before our last bytes
 * arrived sent its FIN without them, and they get an RST that may come after we read
 * that FIN: only the kernel's count of what is still unacknowledged tells the two apart.
 * (Bytes still in our buffer were never sent at all.) */
static int
all_acknowledged(const struct tcp_conn *t)
{
	int unacked = 0;

	return t->out_len == 0 && ioctl(t->fd, SIOCOUTQ, &unacked) == 0 && unacked == 0;
}

static ssize_t
tcp_recv(struct dpfix_conn *c, void *buf, size_t len, struct dpfix_recv_info *info)
{
	struct tcp_conn *t = c->priv;
	ssize_t n = recv(t->fd, buf, len, MSG_DONTWAIT);

	info->stream = 0;
	if (n < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : ended(c, errno);
	if (n == 0 && t->write_shut && !all_acknowledged(t))
		return -EPIPE;
	return n;
}

static int
tcp_shutdown_write(struct dpfix_conn *c)
{
	struct tcp_conn *t = c->priv;

	if (shutdown(t->fd, SHUT_WR) < 0)
		return -errno;
	t->write_shut = 1;
	return 0;
}

static void
tcp_close(struct dpfix_conn *c)
{
	struct tcp_conn *t = c->priv;

	if (t == NULL)
		return;
	close(t->fd);
	free(t->out);
	free(t);
	c->priv = NULL;
}

static int
tcp_listen(void **state, const struct dpfix_endpoint *ep, const struct dpfix_session_params *p,
		char *err, size_t errlen)
{
	struct tcp_listener *l = calloc(1, sizeof(*l));
	struct addrinfo *res;
	int on = 1, ret;
	(void)p;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = sockaddr_resolve(ep, SOCK_STREAM, AI_PASSIVE, &res, err, errlen);
	if (ret < 0) {
		free(l);
		return ret;
	}
	l->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* SO_REUSEADDR on TCP only lets a restarted collector bind while its old
	 * connections linger in TIME_WAIT; a listener in use still refuses the bind. */
	if (l->fd >= 0)
		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (l->fd < 0 || bind(l->fd, res->ai_addr, res->ai_addrlen) < 0 || listen(l->fd, 64) < 0) {
		ret = sockaddr_listen_error(ep, errno, err, errlen);
		if (l->fd >= 0)
			close(l->fd);
		freeaddrinfo(res);
		free(l);
		return ret;
	}
	freeaddrinfo(res);
	*state = l;
	return 0;
}

static int
tcp_accept(void *state, struct dpfix_conn *c)
{
	struct tcp_listener *l = state;
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	int fd = accept4(l->fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return 0;
	c->priv = conn_new(fd);
	if (c->priv == NULL) {
		close(fd);
		return 0;
	}
	c->accepted = 1;
	c->max_payload = MAX_MESSAGE;
	sockaddr_format((const struct sockaddr *)&addr, len, c->peer, sizeof(c->peer));
	return 1;
}

static void
tcp_unlisten(void *state)
{
	struct tcp_listener *l = state;

	close(l->fd);
	free(l);
}

static int
tcp_listener_event_fd(void *state)
{
	return ((struct tcp_listener *)state)->fd;
}

static int
tcp_event_fd(const struct dpfix_conn *c)
{
	return ((const struct tcp_conn *)c->priv)->fd;
}

static const struct dpfix_transport_ops tcp_ops = {
	.name = "tcp",
	.secure_scheme = "tls+tcp",
	.ip_protocol = IPPROTO_TCP,
	.flags = DPFIX_TRANSPORT_RELIABLE,
	.connect = tcp_connect,
	.connected = tcp_connected,
	.send = tcp_send,
	.recv = tcp_recv,
	.flush = tcp_flush,
	.unacknowledged = tcp_unacknowledged,
	.close = tcp_close,
	.shutdown_write = tcp_shutdown_write,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.unlisten = tcp_unlisten,
	.listener_event_fd = tcp_listener_event_fd,
	.event_fd = tcp_event_fd,
};

__attribute__((constructor)) static void
tcp_transport_init(void)
{
	dpfix_transport_register(&tcp_ops);
}
