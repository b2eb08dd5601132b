/* UDP transport (RFC 7011 10.3): one IPFIX message or DTLS record per datagram. The
 * listener has one socket and tells exporters apart by source address and port, each
 * becoming its own connection with a small queue of datagrams. The thread that polls
 * the listener may hand a connection to another thread (udp_set_wake_fd): the peer
 * table and the queues are then shared, under the listener's lock, and a full queue
 * stops the reading (the datagram is held, the rest waits in the socket's buffer) until
 * that connection's reader makes room: backpressure, as with one thread, not a drop. */
#include <errno.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_clock.h"
#include "dpfix_transport.h"
#include "session_log.h"
#include "sockaddr_util.h"
#include "udp_peers.h"

#define IPV4_UDP_HEADERS 28
#define IPV6_UDP_HEADERS 48
#define DEFAULT_MAX_SESSIONS 1024
#define READS_PER_POLL 64
/* A refused exporter's datagrams are dropped this long after the refusal: a DTLS
 * client resends its last flight when no answer comes, and each resend would otherwise
 * open a session of its own, which then times out in the log without saying whose it
 * was. A plaintext exporter to a DTLS port is refused once per this time, not per
 * datagram. */
#define REFUSED_QUIET_MS 10000
#define DISCARD_MS 200

/* A datagram read for a peer whose queue was full: placed before anything more is read. */
struct held_datagram {
	struct datagram *d;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct udp_listener {
	int fd;
	uint32_t max_payload;   /* replies (DTLS handshake flights) fit the path MTU */
	/* The peer table and every peer's queue, when connections are read on other
	 * threads than the one that polls (uncontended otherwise). */
	pthread_mutex_t lock;
	/* Exporters: as many as the collector may have sessions, and as many again for
	 * those it refused, kept quiet for REFUSED_QUIET_MS. */
	struct udp_peers peers;
	struct held_datagram held;      /* the poller's only; d NULL: none */
	struct udp_peer *held_peer;     /* whose reader writes room_fd when it takes one */
	int room_fd;                    /* an eventfd: polled instead of fd while held */
	uint64_t queue_drops;   /* out of memory for a datagram */
	uint64_t peer_drops;    /* from a new peer while every slot was a session's */
	uint64_t refused_drops; /* from a peer refused less than REFUSED_QUIET_MS ago */
	uint64_t unread_drops;  /* queued for a closed session, or discarded at a stop */
	uint8_t buf[65536];
};

static uint64_t
now_ms(void)
{
	return dpfix_monotonic_ns() / 1000000;
}

/* ---- exporter side ---- */

/* Path MTU discovery (RFC 8899, doc/path-mtu.md): DF on every datagram, and the
 * kernel's own path MTU (learnt from ICMP, which a filtered path never sends) ignored, so
 * that probes and the size they confirmed decide; sends start at the base size, and a
 * search goes no higher than mtu and the interface's MTU. */
static int
udp_discovery(struct dpfix_conn *c, int fd, int family, uint32_t mtu)
{
	int v6 = family == AF_INET6, link_mtu = 0;
	int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int probe = v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE;
	uint32_t base = v6 ? DPFIX_BASE_PMTU_IPV6 : DPFIX_BASE_PMTU_IPV4;
	socklen_t len = sizeof(link_mtu);

	if (setsockopt(fd, level, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &probe,
			sizeof(probe)) < 0)
		return -errno;
	c->path_mtu_max = mtu;
	if (getsockopt(fd, level, v6 ? IPV6_MTU : IP_MTU, &link_mtu, &len) == 0 && link_mtu > 0 &&
			(uint32_t)link_mtu < mtu)
		c->path_mtu_max = (uint32_t)link_mtu;
	c->path_mtu = base < c->path_mtu_max ? base : c->path_mtu_max;
	return 0;
}

static int
udp_connect(struct dpfix_conn *c, const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *p, char *err, size_t errlen)
{
	struct addrinfo *res;
	int fd, ret, headers;

	ret = sockaddr_resolve(ep, SOCK_DGRAM, 0, &res, err, errlen);
	if (ret < 0)
		return ret;
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		ret = -errno;
		snprintf(err, errlen, "collector %s://%s:%u: %s", ep->scheme, ep->host, ep->port,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return ret;
	}
	headers = res->ai_family == AF_INET6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
	sockaddr_format(res->ai_addr, res->ai_addrlen, c->peer, sizeof(c->peer));
	freeaddrinfo(res);
	if (p->mtu <= (uint32_t)headers + 256) {
		snprintf(err, errlen, "MTU %u leaves no room for IPFIX messages", p->mtu);
		close(fd);
		return -EINVAL;
	}
	c->path_headers = (uint32_t)headers;
	c->path_mtu = c->path_mtu_max = p->mtu;
	if (p->path_mtu_discovery && (ret = udp_discovery(c, fd, headers == IPV6_UDP_HEADERS ?
			AF_INET6 : AF_INET, p->mtu)) < 0) {
		snprintf(err, errlen, "path MTU discovery on %s: %s", c->peer, strerror(-ret));
		close(fd);
		return ret;
	}
	c->max_payload = c->path_mtu - (uint32_t)headers;
	c->priv = (void *)(intptr_t)fd;
	return 0;
}

static int
udp_set_path_mtu(struct dpfix_conn *c, uint32_t mtu)
{
	if (mtu <= c->path_headers + 256 || mtu > c->path_mtu_max)
		return -EINVAL;
	c->path_mtu = mtu;
	c->max_payload = mtu - c->path_headers;
	return 0;
}

static int
client_fd(const struct dpfix_conn *c)
{
	return (int)(intptr_t)c->priv;
}

/* ---- both sides ---- */

static int
udp_send(struct dpfix_conn *c, const void *buf, size_t len, const struct dpfix_send_opts *opts)
{
	ssize_t n;
	(void)opts;

	if (c->accepted) { /* a peer of a listener: reply to its address */
		struct udp_peer *peer = c->priv;
		const struct udp_listener *l = peer->listener;

		n = sendto(l->fd, buf, len, MSG_DONTWAIT,
				(const struct sockaddr *)&peer->addr, peer->addr_len);
	} else {
		n = send(client_fd(c), buf, len, MSG_DONTWAIT);
		/* An ICMP "too big" for an earlier datagram (a path MTU probe) is reported
		 * as this error by the next send, which then did not go: once more. */
		if (n < 0 && errno == EMSGSIZE)
			n = send(client_fd(c), buf, len, MSG_DONTWAIT);
	}
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	c->last_send_len = (uint32_t)n;
	return n == (ssize_t)len ? 0 : -EIO;
}

static void
signal_fd(int fd)
{
	uint64_t one = 1;

	/* Full (2^64 - 2 unread wakes) cannot happen: the reader reads it when it wakes. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		dpfix_session_log(DPFIX_LOG_WARNING, "udp listener: eventfd: %s", strerror(errno));
}

/* Under the lock: peer's queue has room now (or it is gone); the poller held a datagram
 * for it, so it is woken to place it. */
static void
room_made(struct udp_listener *l, const struct udp_peer *peer)
{
	if (l->held_peer != peer)
		return;
	l->held_peer = NULL;
	signal_fd(l->room_fd);
}

static ssize_t
udp_recv(struct dpfix_conn *c, void *buf, size_t len, struct dpfix_recv_info *info)
{
	ssize_t n;

	info->stream = 0;
	if (c->accepted) {
		struct udp_peer *peer = c->priv;
		struct udp_listener *l = peer->listener;
		struct datagram *d = NULL;

		pthread_mutex_lock(&l->lock);
		if (peer->count > 0) {
			d = peer->queue[peer->head];
			peer->queue[peer->head] = NULL;
			peer->head = (peer->head + 1) % PEER_QUEUE;
			peer->count--;
			room_made(l, peer);
		}
		pthread_mutex_unlock(&l->lock);
		if (d == NULL)
			return -EAGAIN;
		n = d->len < len ? d->len : (ssize_t)len;
		memcpy(buf, d->data, (size_t)n);
		free(d);
		return n;
	}
	n = recv(client_fd(c), buf, len, MSG_DONTWAIT);
	/* An ICMP "too big" for a datagram we sent (a path MTU probe) is reported by the
	 * next recv or send: not an error of this read (what waits is read next time). */
	if (n < 0 && errno == EMSGSIZE)
		return -EAGAIN;
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

/* A listener's peer has its datagrams queued; a client socket would need a syscall. */
static ssize_t
udp_next_message_len(const struct dpfix_conn *c)
{
	const struct udp_peer *peer = c->priv;
	struct udp_listener *l;
	ssize_t n;

	if (!c->accepted)
		return -1;
	l = peer->listener;
	pthread_mutex_lock(&l->lock);
	n = peer->count == 0 ? 0 : (ssize_t)peer->queue[peer->head]->len;
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* The connection is read on another thread from now on: fd is written when a datagram
 * comes for it with none waiting (once per poll). */
static int
udp_set_wake_fd(struct dpfix_conn *c, int fd)
{
	struct udp_peer *peer = c->priv;
	struct udp_listener *l;

	if (!c->accepted)
		return -ENOTSUP;
	l = peer->listener;
	pthread_mutex_lock(&l->lock);
	peer->wake_fd = fd;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static int
udp_flush(struct dpfix_conn *c)
{
	(void)c;
	return 0;
}

static void
udp_close(struct dpfix_conn *c)
{
	if (c->accepted) {
		struct udp_peer *peer = c->priv;
		struct udp_listener *l = peer->listener;

		pthread_mutex_lock(&l->lock);
		room_made(l, peer);
		if (c->refused) /* stays known, and taken, while it is ignored */
			l->unread_drops += udp_peers_refuse(&l->peers, peer, now_ms() + REFUSED_QUIET_MS);
		else
			l->unread_drops += udp_peers_release(&l->peers, peer);
		pthread_mutex_unlock(&l->lock);
	} else {
		close(client_fd(c));
	}
}

/* ---- collector side ---- */

/* A burst of export must not overrun the socket while the collector is busy: ask for a
 * large receive buffer, beyond net.core.rmem_max when privileged (SO_RCVBUFFORCE needs
 * CAP_NET_ADMIN), and say so when less was granted. */
static void
set_receive_buffer(int fd, const struct dpfix_endpoint *ep, uint32_t want)
{
	int size = (int)want, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* Linux reports twice what it grants: half is its own bookkeeping. */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && (uint32_t)got / 2 < want)
		dpfix_session_log(DPFIX_LOG_WARNING, "listen %s://%s:%u: receive buffer %d bytes, "
				"not the %u asked (net.core.rmem_max caps it without CAP_NET_ADMIN): a "
				"burst of export may overflow it sooner", ep->scheme, ep->host, ep->port,
				got / 2, want);
}

static int
udp_listen(void **state, const struct dpfix_endpoint *ep, const struct dpfix_session_params *p,
		char *err, size_t errlen)
{
	struct udp_listener *l = calloc(1, sizeof(*l));
	unsigned int sessions = p->max_sessions ? p->max_sessions : DEFAULT_MAX_SESSIONS;
	int ret;
	struct addrinfo *res;

	if (l == NULL || udp_peers_init(&l->peers, 2 * sessions, l) < 0) {
		free(l);
		snprintf(err, errlen, "out of memory for %u exporters", 2 * sessions);
		return -ENOMEM;
	}
	l->room_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->room_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&l->lock, NULL);
	ret = sockaddr_resolve(ep, SOCK_DGRAM, AI_PASSIVE, &res, err, errlen);
	if (ret < 0)
		goto fail;
	l->max_payload = (p->mtu ? p->mtu : DPFIX_MTU) -
			(res->ai_family == AF_INET6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS);
	l->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* No SO_REUSEADDR: on UDP it lets a second collector bind the same address, and the
	 * kernel then splits the exporters' datagrams between the two. */
	if (l->fd >= 0)
		set_receive_buffer(l->fd, ep, p->udp_receive_buffer ? p->udp_receive_buffer :
				DPFIX_UDP_RECEIVE_BUFFER);
	if (l->fd < 0 || bind(l->fd, res->ai_addr, res->ai_addrlen) < 0) {
		ret = sockaddr_listen_error(ep, errno, err, errlen);
		if (l->fd >= 0)
			close(l->fd);
		freeaddrinfo(res);
		goto fail;
	}
	freeaddrinfo(res);
	*state = l;
	return 0;
fail:
	if (l->room_fd >= 0) {
		close(l->room_fd);
		pthread_mutex_destroy(&l->lock);
	}
	udp_peers_fini(&l->peers);
	free(l);
	return ret;
}

/* Under the lock: d (from addr) into its peer's queue. 1 if it was taken (queued or
 * dropped and counted), 0 if the peer's queue is full: the caller holds it. A peer read
 * on another thread whose queue was empty gets its wake_fd added to wake[]. */
static int
place(struct udp_listener *l, struct datagram *d, const struct sockaddr_storage *addr,
		socklen_t addr_len, int *wake, unsigned int *nb_wake)
{
	struct udp_peer *peer = udp_peers_find(&l->peers, addr, addr_len, now_ms());
	unsigned int i;

	if (peer == NULL || peer->refused_until_ms != 0) {
		if (peer == NULL)
			l->peer_drops++; /* every slot is a session's: the newest lose out */
		else
			l->refused_drops++;
		free(d);
		return 1;
	}
	if (peer->count == PEER_QUEUE) {
		l->held_peer = peer;
		return 0;
	}
	if (peer->count == 0 && peer->wake_fd >= 0) {
		for (i = 0; i < *nb_wake && wake[i] != peer->wake_fd; i++)
			;
		if (i == *nb_wake)
			wake[(*nb_wake)++] = peer->wake_fd;
	}
	peer->queue[(peer->head + peer->count) % PEER_QUEUE] = d;
	peer->count++;
	return 1;
}

static void
udp_poll(void *state)
{
	struct udp_listener *l = state;
	int wake[READS_PER_POLL + 1];
	unsigned int nb_wake = 0;
	uint64_t room;

	if (l->held.d != NULL) {
		if (read(l->room_fd, &room, sizeof(room)) < 0 && errno != EAGAIN)
			dpfix_session_log(DPFIX_LOG_WARNING, "udp listener: eventfd: %s", strerror(errno));
		pthread_mutex_lock(&l->lock);
		if (place(l, l->held.d, &l->held.addr, l->held.addr_len, wake, &nb_wake))
			l->held.d = NULL;
		pthread_mutex_unlock(&l->lock);
	}
	for (int i = 0; i < READS_PER_POLL && l->held.d == NULL; i++) {
		struct sockaddr_storage addr;
		socklen_t addr_len = sizeof(addr);
		struct datagram *d;
		ssize_t n;

		n = recvfrom(l->fd, l->buf, sizeof(l->buf), MSG_DONTWAIT, (struct sockaddr *)&addr,
				&addr_len);
		if (n < 0)
			break;
		if ((d = malloc(sizeof(*d) + (size_t)n)) == NULL) {
			l->queue_drops++;
			continue;
		}
		d->len = (uint32_t)n;
		memcpy(d->data, l->buf, (size_t)n);
		pthread_mutex_lock(&l->lock);
		if (!place(l, d, &addr, addr_len, wake, &nb_wake))
			l->held = (struct held_datagram){.d = d, .addr = addr, .addr_len = addr_len};
		pthread_mutex_unlock(&l->lock);
	}
	for (unsigned int i = 0; i < nb_wake; i++)
		signal_fd(wake[i]);
}

static int
udp_accept(void *state, struct dpfix_conn *c)
{
	struct udp_listener *l = state;
	struct udp_peer *p;

	pthread_mutex_lock(&l->lock);
	p = udp_peers_next_new(&l->peers);
	pthread_mutex_unlock(&l->lock);
	if (p == NULL)
		return 0;
	c->priv = p;
	c->accepted = 1;
	c->max_payload = l->max_payload;
	sockaddr_format((const struct sockaddr *)&p->addr, p->addr_len, c->peer, sizeof(c->peer));
	return 1;
}

static void
udp_unlisten(void *state)
{
	struct udp_listener *l = state;

	close(l->fd);
	close(l->room_fd);
	free(l->held.d);
	pthread_mutex_destroy(&l->lock);
	udp_peers_fini(&l->peers);
	free(l);
}

/* Its connections have no socket of their own: udp_poll feeds them from this one, and
 * while it holds a datagram for a full queue it waits for that queue's room instead. */
static int
udp_listener_event_fd(void *state)
{
	const struct udp_listener *l = state;

	return l->held.d != NULL ? l->room_fd : l->fd;
}

static int
udp_listener_held(void *state)
{
	return ((const struct udp_listener *)state)->held.d != NULL;
}

/* The kernel counts what it could not queue on the socket (sk_drops): the only witness
 * of a lost datagram that no later one follows. */
static void
udp_listener_stats(void *state, struct dpfix_listener_stats *st)
{
	const struct udp_listener *l = state;
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
			len > SK_MEMINFO_DROPS * sizeof(mem[0]))
		st->socket_drops = mem[SK_MEMINFO_DROPS];
	pthread_mutex_lock((pthread_mutex_t *)&l->lock);
	st->queue_drops = l->queue_drops;
	st->peer_drops = l->peer_drops;
	st->refused_drops = l->refused_drops;
	st->unread_drops = l->unread_drops;
	pthread_mutex_unlock((pthread_mutex_t *)&l->lock);
}

/* Reads and counts what is left on the socket, for at most DISCARD_MS: an exporter that
 * goes on sending would otherwise keep this going. */
static void
udp_listener_discard(void *state)
{
	struct udp_listener *l = state;
	uint64_t end = now_ms() + DISCARD_MS, n = 0;

	if (l->held.d != NULL) {
		free(l->held.d);
		l->held.d = NULL;
		n++;
	}
	while (recv(l->fd, l->buf, sizeof(l->buf), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		if ((++n & 255) == 0 && now_ms() > end)
			break;
	pthread_mutex_lock(&l->lock);
	l->held_peer = NULL;
	l->unread_drops += n;
	pthread_mutex_unlock(&l->lock);
}

static const struct dpfix_transport_ops udp_ops = {
	.name = "udp",
	.secure_scheme = "dtls+udp",
	.ip_protocol = IPPROTO_UDP,
	.flags = DPFIX_TRANSPORT_MESSAGES,
	.connect = udp_connect,
	.set_path_mtu = udp_set_path_mtu,
	.send = udp_send,
	.recv = udp_recv,
	.next_message_len = udp_next_message_len,
	.set_wake_fd = udp_set_wake_fd,
	.flush = udp_flush,
	.close = udp_close,
	.listen = udp_listen,
	.poll = udp_poll,
	.accept = udp_accept,
	.unlisten = udp_unlisten,
	.listener_event_fd = udp_listener_event_fd,
	.listener_held = udp_listener_held,
	.listener_stats = udp_listener_stats,
	.listener_discard = udp_listener_discard,
};

__attribute__((constructor)) static void
udp_transport_init(void)
{
	dpfix_transport_register(&udp_ops);
}
