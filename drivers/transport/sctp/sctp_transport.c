/* SCTP transport on usrsctp, encapsulated in UDP (RFC 6951) so it runs without kernel
 * SCTP. Messages keep their boundaries; each carries a stream id (templates on 0, data
 * elsewhere: RFC 7011 10.2); partial deliveries are reassembled before a message is
 * handed up. SCTP-AUTH is set up for DTLS over SCTP (RFC 6083) when keys arrive. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <usrsctp.h>

#include "dpfix_transport.h"
#include "sctp_private.h"
#include "sockaddr_util.h"

#define STREAMS 16
#define MAX_MESSAGE 65535
#define SCTP_BUFFER (2 * 1024 * 1024)
#define HEARTBEAT_MS 1000
#define MAX_RETRANSMISSIONS 5
#define RETURNED_MAX (16 * 1024 * 1024) /* messages given back, held for another session */

struct sctp_listener {
	struct socket *sock;
	uint16_t udp_port;
};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int initialised;
static uint16_t local_udp_port;

/* usrsctp sockets have no descriptors, so a server cannot sleep in poll() on them. Its
 * listening and accepted sockets get an upcall instead, run on usrsctp's receive thread,
 * that raises this eventfd (one per process, like the stack). wake_raised holds it to one
 * write per round of the server's loop rather than one per packet. */
static int wake_fd = -1;
static atomic_int wake_raised;

static void
wake_upcall(struct socket *sock, void *arg, int flags)
{
	uint64_t one = 1;
	(void)arg;
	(void)flags;

	/* usrsctp calls this for every packet, and the socket is nearly always writable:
	 * wake only for something to read (a message, a new association, an error or EOF). */
	if (!(usrsctp_get_events(sock) & (SCTP_EVENT_READ | SCTP_EVENT_ERROR)))
		return;
	if (!atomic_exchange(&wake_raised, 1)) {
		ssize_t n = write(wake_fd, &one, sizeof(one));

		(void)n; /* cannot fail: the counter holds at most 1 */
	}
}

/* usrsctp binds its UDP encapsulation sockets with 128 KB buffers. One congestion window
 * sent at once overflows that on the receiving end, and the losses cost fast retransmits,
 * a halved window and now and then a 1 s retransmission timeout (measured with usrsctp's
 * counters: 1-3 % of DATA chunks). usrsctp does not hand those sockets out, so find them
 * by their local port, which nothing else in the process binds, and enlarge them (up to
 * net.core.rmem_max / wmem_max). Returns the families found bound (FOUND_IPV4, _IPV6):
 * usrsctp_init does not say when its bind fails (the port is another process's), and
 * then that family's SCTP silently never arrives. With df_always (an exporter with
 * path_mtu_discovery) they also set DF on every datagram and ignore the kernel's own path
 * MTU (IP_PMTUDISC_PROBE), as the UDP transport does: else a datagram larger than an
 * MTU the kernel learned from ICMP goes in IP fragments, and a path MTU probe that
 * crossed so would prove a size the path does not carry. */
#define FOUND_IPV4 1
#define FOUND_IPV6 2

static int
configure_udp_sockets(uint16_t udp_port, int df_always)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int size = SCTP_BUFFER, found = 0;

	if (dir == NULL)
		return -errno;
	while ((e = readdir(dir)) != NULL) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = atoi(e->d_name), type;
		socklen_t type_len = sizeof(type);
		uint16_t port;

		if (fd == dirfd(dir) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 ||
				type != SOCK_DGRAM || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
		else
			continue;
		if (port != udp_port)
			continue;
		found |= ss.ss_family == AF_INET ? FOUND_IPV4 : FOUND_IPV6;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		if (df_always && ss.ss_family == AF_INET) {
			int probe = IP_PMTUDISC_PROBE;

			setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
		} else if (df_always) {
			int probe = IPV6_PMTUDISC_PROBE;

			setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof(probe));
		}
	}
	closedir(dir);
	return found;
}

/* usrsctp is one stack per process, bound to one UDP port for encapsulation; the stack
 * is of no use to addresses of family (AF_INET, AF_INET6) unless it holds that port.
 * df_always: see configure_udp_sockets (the first caller decides, for the process). */
static int
stack_init(uint16_t udp_port, int family, int df_always, char *err, size_t errlen)
{
	int ret = 0, found;

	pthread_mutex_lock(&init_lock);
	if (!initialised) {
		usrsctp_init(udp_port, NULL, NULL);
		/* An INIT to a closed port gets nothing back (a port scan learns nothing), but
		 * other stray packets get an ABORT: a collector restarted after a crash thereby
		 * tells the exporter at once that its old association is gone. */
		usrsctp_sysctl_set_sctp_blackhole(1);
		/* A peer that vanishes without SHUTDOWN or ABORT (killed, cable cut) must be
		 * noticed while idle too: heartbeat every second, RTO backing off to 2 s, and
		 * the association given up after 5 unanswered retransmissions or heartbeats,
		 * about 10-15 s (RFC 4960's defaults, 30 s / 60 s / 10, take minutes). */
		usrsctp_sysctl_set_sctp_heartbeat_interval_default(HEARTBEAT_MS);
		usrsctp_sysctl_set_sctp_rto_max_default(SCTP_RTO_MAX_MS);
		usrsctp_sysctl_set_sctp_assoc_rtx_max_default(MAX_RETRANSMISSIONS);
		usrsctp_sysctl_set_sctp_path_rtx_max_default(MAX_RETRANSMISSIONS);
		usrsctp_sysctl_set_sctp_auth_enable(1);
		usrsctp_sysctl_set_sctp_pr_enable(1);
		usrsctp_sysctl_set_sctp_sendspace(SCTP_BUFFER);
		usrsctp_sysctl_set_sctp_recvspace(SCTP_BUFFER);
		found = configure_udp_sockets(udp_port, df_always);
		if (found >= 0 && !(found & (family == AF_INET6 ? FOUND_IPV6 : FOUND_IPV4))) {
			snprintf(err, errlen, "UDP port %u for SCTP (RFC 6951) is in use: another "
					"process (another collector?) holds it", udp_port);
			usrsctp_finish();
			ret = -EADDRINUSE;
		} else {
			local_udp_port = udp_port;
			initialised = 1;
		}
	} else if (udp_port != 0 && local_udp_port != udp_port) {
		snprintf(err, errlen, "SCTP already runs on UDP port %u in this process, not %u",
				local_udp_port, udp_port);
		ret = -EINVAL;
	}
	pthread_mutex_unlock(&init_lock);
	return ret;
}

/* A free local UDP port for the exporter's end of the encapsulation. */
static uint16_t
ephemeral_udp_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
			getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int
set_common_options(struct socket *sock, int auth, char *err, size_t errlen)
{
	struct sctp_initmsg init = {
		.sinit_num_ostreams = STREAMS, .sinit_max_instreams = STREAMS,
		.sinit_max_attempts = 4, .sinit_max_init_timeo = 1000,
	};
	const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT, SCTP_SEND_FAILED_EVENT};
	int on = 1;

	if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) < 0 ||
			usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) < 0 ||
			usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) < 0) {
		snprintf(err, errlen, "SCTP socket options: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i], .se_on = 1};

		usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev));
	}
	if (auth) {
		/* RFC 6083: DATA chunks authenticated once DTLS has given us a key. */
		struct sctp_authchunk chunk = {.sauth_chunk = SCTP_DATA};

		if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_AUTH_CHUNK, &chunk, sizeof(chunk)) < 0) {
			snprintf(err, errlen, "SCTP-AUTH for DATA: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static struct sctp_conn *
conn_new(struct socket *sock)
{
	struct sctp_conn *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->msg = malloc(MAX_MESSAGE)) == NULL) {
		free(t);
		return NULL;
	}
	t->sock = sock;
	t->heard_cell = -1;
	usrsctp_set_non_blocking(sock, 1);
	return t;
}

static int
sctp_connect(struct dpfix_conn *c, const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *p, char *err, size_t errlen)
{
	uint16_t remote_udp = p->sctp_udp_port ? p->sctp_udp_port : DPFIX_SCTP_UDP_PORT;
	struct sctp_udpencaps encaps = {.sue_port = htons(remote_udp)};
	struct sockaddr_storage peer_addr = {0};
	struct sctp_conn *t;
	uint32_t base, route;
	struct addrinfo *res;
	struct socket *sock;
	int ret;

	ret = sockaddr_resolve(ep, SOCK_STREAM, 0, &res, err, errlen);
	if (ret < 0)
		return ret;
	ret = stack_init(ephemeral_udp_port(), res->ai_family, p->path_mtu_discovery, err, errlen);
	if (ret < 0 && !initialised) {
		freeaddrinfo(res);
		return ret;
	}
	sock = usrsctp_socket(res->ai_family, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (sock == NULL) {
		snprintf(err, errlen, "SCTP socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -errno;
	}
	encaps.sue_address.ss_family = (sa_family_t)res->ai_family;
	if (set_common_options(sock, ep->security != DPFIX_SECURITY_NONE, err, errlen) < 0 ||
			usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps,
					sizeof(encaps)) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "SCTP over UDP port %u: %s", remote_udp, strerror(errno));
		usrsctp_close(sock);
		freeaddrinfo(res);
		return -EINVAL;
	}
	sockaddr_format(res->ai_addr, res->ai_addrlen, c->peer, sizeof(c->peer));
	snprintf(c->via, sizeof(c->via), " (SCTP over UDP port %u)", remote_udp);
	memcpy(&peer_addr, res->ai_addr, res->ai_addrlen);
	c->path_headers = res->ai_family == AF_INET6 ? 48 : 28; /* IP and UDP */
	base = res->ai_family == AF_INET6 ? DPFIX_BASE_PMTU_IPV6 : DPFIX_BASE_PMTU_IPV4;
	route = sctp_route_mtu(res->ai_addr, res->ai_addrlen);
	c->priv = conn_new(sock);
	if (c->priv == NULL) {
		usrsctp_close(sock);
		freeaddrinfo(res);
		return -ENOMEM;
	}
	t = c->priv;
	/* Never waits for the collector's answer (sctp_connected says when it came, within
	 * the INIT retry limits above and connect_timeout): one that does not answer would
	 * hold the caller, the control lcore, meanwhile. */
	ret = usrsctp_connect(sock, res->ai_addr, res->ai_addrlen) < 0 ? -errno : 0;
	freeaddrinfo(res);
	if (ret < 0 && ret != -EINPROGRESS) {
		snprintf(err, errlen, "collector %s://%s:%u%s: %s", ep->scheme, ep->host, ep->port,
				c->via, strerror(-ret));
		c->ops->close(c);
		return ret;
	}
	t->connecting = 1;
	c->max_payload = MAX_MESSAGE;
	t->peer_addr = peer_addr;
	/* Probes need a dpfix peer over DTLS. */
	t->path_probing = p->path_mtu_discovery && ep->security != DPFIX_SECURITY_NONE;
	/* Over DTLS the dpfix heartbeats, when agreed, find a frozen collector ("is dead",
	 * collectors_dead): SCTP's own give up twice as late, a backstop that does not race
	 * them (with the same count, data retransmitted at 0.3, 0.6, 1, 1 s lost the
	 * association before the third heartbeat went unanswered, under ASan). */
	t->heartbeat_interval_ms = p->heartbeat_interval_ms;
	t->heartbeat_misses = ep->security == DPFIX_SECURITY_NONE ? p->heartbeat_misses :
			2 * p->heartbeat_misses;
	if (!p->path_mtu_discovery)
		return 0;
	/* The base size, which crosses any path, until probes find more (doc/path-mtu.md):
	 * up to export_mtu or the route's MTU. A probe's size is a multiple of 4, as every
	 * SCTP packet's. */
	c->path_mtu_max = route != 0 && route < p->mtu ? route : p->mtu;
	c->path_mtu_granule = 4;
	base = base < c->path_mtu_max ? base : c->path_mtu_max;
	ret = sctp_set_path_mtu(c, base);
	if (ret < 0) {
		snprintf(err, errlen, "collector %s://%s:%u: SCTP path MTU %u: %s", ep->scheme,
				ep->host, ep->port, base, strerror(-ret));
		c->ops->close(c);
	}
	return ret;
}

static int sctp_pump(struct dpfix_conn *c);

/* The association begun by sctp_connect: up once its COMM_UP notice came; failed when
 * it could not be set up (SCTP_CANT_STR_ASSOC: the INIT retries ran out, or the
 * collector's stack ABORTed it). Its heartbeat and retransmission options are set once
 * it is up, as they were when connect waited: set while its INIT goes, usrsctp 0.9.5
 * reads them back unchanged after COMM_UP, but it armed the first heartbeat with the
 * stack's initial RTO (3 s, jittered by up to half: 2.5-5.5 s at a 1 s interval), the
 * path having no RTO of its own yet; in that time data a black hole swallows ends the
 * association at its fourth retransmission (2.9 s), and a collector that vanished is
 * found seconds later. */
static int
sctp_connected(struct dpfix_conn *c)
{
	struct sctp_conn *t = c->priv;
	int ret, soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!t->connecting)
		return 0;
	ret = sctp_pump(c);
	if (t->up) {
		t->connecting = 0;
		if (t->path_probing)
			sctp_path_probing_options(t);
		sctp_liveness_options(t, t->heartbeat_interval_ms, t->heartbeat_misses);
		return 0;
	}
	if (ret < 0 && ret != -ENOTCONN)
		return ret;
	if (!t->closed && ret != -ENOTCONN)
		return -EINPROGRESS;
	usrsctp_getsockopt(t->sock, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return -(soerr != 0 ? soerr : ECONNREFUSED);
}

static int
sctp_send(struct dpfix_conn *c, const void *buf, size_t len, const struct dpfix_send_opts *opts)
{
	struct sctp_conn *t = c->priv;
	struct sctp_sendv_spa spa = {
		.sendv_flags = SCTP_SEND_SNDINFO_VALID,
		.sendv_sndinfo = {
			.snd_sid = opts->stream,
			.snd_flags = opts->unordered ? SCTP_UNORDERED : 0,
		},
	};
	ssize_t n;

	if (t->closed)
		return -EPIPE;
	if (opts->probe)
		return sctp_send_probe(c, t, buf, len, opts);
	/* A message given up comes back in notices, one per part, with this context: its
	 * records (an IPFIX message of at most 65535 bytes has fewer than 65536) and, to tell
	 * consecutive messages apart, its serial number. */
	spa.sendv_sndinfo.snd_context = (uint32_t)t->sent_serial++ << 16 | (opts->records & 0xffff);
	if (opts->pr_ttl_ms != 0) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
		spa.sendv_prinfo.pr_value = opts->pr_ttl_ms;
	}
	n = usrsctp_sendv(t->sock, buf, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
	/* ENOENT: the association is gone (lost, SCTP_COMM_LOST, its notice not read yet):
	 * said as the loss it is, not as "No such file or directory", its notices read so
	 * the connection says how (peer_unanswered). */
	if (n < 0 && errno == ENOENT) {
		sctp_pump(c);
		return -ECONNABORTED;
	}
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

/* Association events: a lost or shut-down association ends the connection. A message
 * given up (PR-SCTP lifetime, or the association's end) has its records counted. Its
 * parts come in notices of their own, one after the other (usrsctp gives one message up
 * at a time); only some parts, at times, so none is marked as the first or the last:
 * the context, which changes from one message to the next, tells a new message. (Two
 * given up 65536 messages apart, none in between, would count as one: the check against
 * usrsctp's own count, count_unnoticed, catches that too.) */
/* Adds a part of the message given up to what was gathered of it. */
static void
gather_part(struct sctp_conn *t, const uint8_t *part, size_t len)
{
	if (t->gather_records == 0)
		return;
	if (t->gather == NULL)
		t->gather = malloc(MAX_MESSAGE);
	if (t->gather == NULL || len > MAX_MESSAGE - t->gather_len) {
		t->gather_records = 0;
		return;
	}
	memcpy(t->gather + t->gather_len, part, len);
	t->gather_len += len;
}

/* The message gathered is given back if all of it came: a whole plaintext IPFIX message
 * (version 10, its length field the length gathered). One whose first parts the
 * collector's stack had acknowledged, or a DTLS record (its keys die with the session),
 * is not: its records stay given up. */
static void
gather_finish(struct sctp_conn *t)
{
	size_t need = 8 + t->gather_len;
	uint8_t *q;

	if (t->gather_records == 0 || t->gather_len < 16 || t->gather[0] != 0 || t->gather[1] != 10 ||
			((size_t)t->gather[2] << 8 | t->gather[3]) != t->gather_len ||
			t->returned_len + need > RETURNED_MAX) {
		t->gather_records = 0;
		return;
	}
	q = realloc(t->returned, t->returned_len + need);
	if (q == NULL) {
		t->gather_records = 0;
		return;
	}
	t->returned = q;
	memcpy(q + t->returned_len, &(uint32_t){(uint32_t)t->gather_len}, 4);
	memcpy(q + t->returned_len + 4, &t->gather_records, 4);
	memcpy(q + t->returned_len + 8, t->gather, t->gather_len);
	t->returned_len += need;
	t->gather_records = 0;
}

static void
handle_notification(struct dpfix_conn *c, struct sctp_conn *t, const union sctp_notification *n,
		size_t len)
{
	t->in_send_failed = 0;
	if (len < sizeof(n->sn_header))
		return;
	if (n->sn_header.sn_type == SCTP_SEND_FAILED_EVENT && len >= sizeof(n->sn_send_failed_event)) {
		uint32_t context = n->sn_send_failed_event.ssfe_info.snd_context;

		if (context == PROBE_CONTEXT)
			return; /* a lost probe, abandoned by design */
		if (t->given_up == 0 || context != t->given_up_context) {
			gather_finish(t);
			t->given_up++;
			c->records_given_up += context & 0xffff;
			t->gather_len = 0;
			t->gather_records = context & 0xffff;
		}
		t->given_up_context = context;
		/* Its data follows the header, in this piece and the next ones. */
		t->in_send_failed = 1;
		gather_part(t, (const uint8_t *)n + sizeof(n->sn_send_failed_event),
				len - sizeof(n->sn_send_failed_event));
	}
	if (n->sn_header.sn_type == SCTP_SENDER_DRY_EVENT)
		t->dry = 1;
	if (n->sn_header.sn_type == SCTP_SHUTDOWN_EVENT) {
		t->closed = 1;
		t->peer_shutdown = 1;
	}
	/* (An exporter's: sctp_liveness.c.) */
	if (n->sn_header.sn_type == SCTP_PEER_ADDR_CHANGE && len >= sizeof(n->sn_paddr_change)) {
		uint32_t state = n->sn_paddr_change.spc_state;

		if (state == SCTP_ADDR_UNREACHABLE)
			t->unreachable = 1;
		else if (state == SCTP_ADDR_AVAILABLE || state == SCTP_ADDR_CONFIRMED)
			t->unreachable = 0;
	}
	if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && len >= sizeof(n->sn_assoc_change)) {
		uint16_t state = n->sn_assoc_change.sac_state;

		if (state == SCTP_COMM_UP)
			t->up = 1;
		if (state == SCTP_COMM_LOST)
			sctp_liveness_lost(c, t);
		if (state == SCTP_COMM_LOST || state == SCTP_CANT_STR_ASSOC)
			t->aborted = 1;
		if (state == SCTP_COMM_LOST || state == SCTP_SHUTDOWN_COMP || state == SCTP_CANT_STR_ASSOC)
			t->closed = 1;
	}
}

/* The end of the association as recv reports it: after our shutdown_write, 0 only for
 * the shutdown we began, completed. */
static ssize_t
end_of_association(const struct sctp_conn *t)
{
	if (!t->write_shut)
		return 0;
	if (t->aborted)
		return -ECONNRESET;
	return t->peer_shutdown ? -EPIPE : 0;
}

/* Reads what usrsctp has for this end: notifications are handled as they come, a message
 * is gathered in t->msg from its partial deliveries. 1: a whole message waits there (read
 * no further until recv has handed it up); 0: nothing more for now; -ENOTCONN: the
 * association has ended; other -errno: an error. */
static int
sctp_pump(struct dpfix_conn *c)
{
	struct sctp_conn *t = c->priv;

	while (!t->msg_whole) {
		struct sctp_rcvinfo rcv;
		socklen_t infolen = sizeof(rcv);
		unsigned int infotype = 0;
		int flags = 0;
		ssize_t n;

		n = usrsctp_recvv(t->sock, t->msg + t->msg_len, MAX_MESSAGE - t->msg_len, NULL, NULL,
				&rcv, &infolen, &infotype, &flags);
		if (n < 0)
			return errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -ENOTCONN; /* association shut down */
		if (flags & MSG_NOTIFICATION) {
			/* A send-failed event carries the message's data and may come in pieces:
			 * the header is in the first. */
			if (!t->in_notification)
				handle_notification(c, t, (const union sctp_notification *)(t->msg + t->msg_len),
						(size_t)n);
			else if (t->in_send_failed)
				gather_part(t, t->msg + t->msg_len, (size_t)n);
			t->in_notification = !(flags & MSG_EOR);
			continue;
		}
		if (infotype == SCTP_RECVV_RCVINFO && t->msg_len == 0)
			t->msg_stream = rcv.rcv_sid;
		t->msg_len += (size_t)n;
		if (flags & MSG_EOR)
			t->msg_whole = 1;
		else if (t->msg_len == MAX_MESSAGE)
			return -EMSGSIZE; /* no IPFIX message (or DTLS record) is this long */
	}
	return 1;
}

static ssize_t
sctp_recv(struct dpfix_conn *c, void *buf, size_t len, struct dpfix_recv_info *info)
{
	struct sctp_conn *t = c->priv;
	int ret = sctp_pump(c);
	ssize_t n;

	if (ret == 0)
		return t->closed ? end_of_association(t) : -EAGAIN;
	if (ret == -ENOTCONN)
		return end_of_association(t);
	if (ret < 0)
		return ret;
	n = (ssize_t)(t->msg_len < len ? t->msg_len : len);
	memcpy(buf, t->msg, (size_t)n);
	info->stream = t->msg_stream;
	t->msg_len = 0;
	t->msg_whole = 0;
	return n;
}

/* Messages given up whose notices never came: usrsctp drops a notice when the socket's
 * receive buffer is short of room. Its own count of the messages PR-SCTP gave up tells;
 * once nothing is outstanding, every notice there is has been read. */
static void
count_unnoticed(struct dpfix_conn *c, const struct sctp_conn *t)
{
	struct sctp_prstatus st = {.sprstat_assoc_id = SCTP_FUTURE_ASSOC,
			.sprstat_policy = SCTP_PR_SCTP_TTL};
	socklen_t len = sizeof(st);
	uint64_t abandoned;

	if (usrsctp_getsockopt(t->sock, IPPROTO_SCTP, SCTP_PR_ASSOC_STATUS, &st, &len) < 0)
		return;
	abandoned = st.sprstat_abandoned_sent + st.sprstat_abandoned_unsent;
	c->messages_given_up_uncounted = abandoned > t->given_up ? abandoned - t->given_up : 0;
}

/* Turns the SENDER_DRY event on or off for the association. usrsctp raises one at once,
 * while the option is being set, when nothing is left unacknowledged then (RFC 6458
 * 6.1.9), and then after any SACK that leaves nothing. */
static int
set_dry_event(struct sctp_conn *t, int on)
{
	struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = SCTP_SENDER_DRY_EVENT,
			.se_on = (uint8_t)on};

	return usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0 ? -errno : 0;
}

/* Whether the collector's stack has acknowledged every DATA chunk sent, none left to send
 * or resend. The event is on only for the instant of this question, so each one read
 * after it answers this question and no earlier one: it says "dry" as of a moment after
 * every send so far. What was queued before the question is read first. */
static int
sctp_acknowledged(struct dpfix_conn *c)
{
	struct sctp_conn *t = c->priv;
	int ret = sctp_pump(c);

	if (ret == 1)
		return -EPROTO; /* the peer sent a message: read it first */
	if (ret == 0 && !t->closed) {
		t->dry = 0;
		ret = set_dry_event(t, 1);
		if (ret == 0)
			ret = set_dry_event(t, 0);
		if (ret == 0)
			ret = sctp_pump(c);
	}
	if (t->aborted || ret == -ENOTCONN)
		return -ECONNRESET;
	if (t->closed)
		return t->peer_shutdown ? -EPIPE : -ECONNRESET;
	if (ret < 0)
		return ret;
	if (t->dry) {
		count_unnoticed(c, t);
		return 0;
	}
	return ret == 1 ? -EPROTO : -EAGAIN;
}

static ssize_t
sctp_take_returned(struct dpfix_conn *c, void *buf, size_t cap, uint32_t *records)
{
	struct sctp_conn *t = c->priv;
	uint32_t len;

	/* The last message's notices are all read by now if all of it came (a message
	 * given up has its notices queued at once). */
	if (!t->in_notification && t->gather_records != 0 && t->gather_len >= 4 &&
			((size_t)t->gather[2] << 8 | t->gather[3]) == t->gather_len)
		gather_finish(t);
	if (t->returned_start == t->returned_len)
		return 0;
	memcpy(&len, t->returned + t->returned_start, 4);
	memcpy(records, t->returned + t->returned_start + 4, 4);
	if (len > cap)
		return -EMSGSIZE;
	memcpy(buf, t->returned + t->returned_start + 8, len);
	t->returned_start += 8 + (size_t)len;
	if (t->returned_start == t->returned_len)
		t->returned_start = t->returned_len = 0;
	return (ssize_t)len;
}

static int
sctp_flush(struct dpfix_conn *c)
{
	(void)c;
	return 0; /* usrsctp keeps and retransmits what it accepted */
}

static void
sctp_close(struct dpfix_conn *c)
{
	struct sctp_conn *t = c->priv;

	if (t == NULL)
		return;
	/* An association that never came up (an open that failed or was given up) has
	 * nothing to deliver: ABORTed at once, where the shutdown's wait below held the
	 * caller, the control lcore, some 1.3 s after each failed attempt. */
	if (c->abort || t->connecting) {
		struct linger now = {.l_onoff = 1, .l_linger = 0};

		usrsctp_setsockopt(t->sock, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	}
	/* SHUTDOWN rather than ABORT: the peer gets everything already accepted. Wait
	 * (bounded) for the shutdown to complete, since closing earlier aborts. (An exporter
	 * has done that already, with shutdown_write.) */
	if (!c->abort && !t->connecting && !t->closed && !t->write_shut &&
			usrsctp_shutdown(t->sock, SHUT_WR) == 0) {
		struct dpfix_recv_info info;
		uint8_t scratch[256];

		for (int i = 0; i < 2000 && !t->closed; i++) {
			ssize_t n = sctp_recv(c, scratch, sizeof(scratch), &info);

			if (n == 0 || (n < 0 && n != -EAGAIN))
				break;
			if (n == -EAGAIN)
				usleep(500);
		}
	}
	sctp_liveness_unwatch(t);
	usrsctp_close(t->sock);
	free(t->msg);
	free(t->gather);
	free(t->returned);
	free(t);
	c->priv = NULL;
}

static int
sctp_shutdown_write(struct dpfix_conn *c)
{
	struct sctp_conn *t = c->priv;

	if (t->closed)
		return t->aborted ? -ECONNRESET : -EPIPE;
	if (usrsctp_shutdown(t->sock, SHUT_WR) < 0)
		return -errno;
	t->write_shut = 1;
	return 0;
}

static int
sctp_set_auth_key(struct dpfix_conn *c, const uint8_t *key, size_t len)
{
	struct sctp_conn *t = c->priv;
	size_t size = sizeof(struct sctp_authkey) + len;
	struct sctp_authkey *k = calloc(1, size);
	struct sctp_authkeyid id = {.scact_assoc_id = SCTP_FUTURE_ASSOC, .scact_keynumber = 1};
	int ret = 0;

	if (k == NULL)
		return -ENOMEM;
	k->sca_assoc_id = SCTP_FUTURE_ASSOC;
	k->sca_keynumber = 1;
	k->sca_keylength = (uint16_t)len;
	memcpy(k->sca_key, key, len);
	/* Key 1 from the DTLS exporter replaces the null key 0 (RFC 6083 4.7). */
	if (usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_AUTH_KEY, k, (socklen_t)size) < 0 ||
			usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_AUTH_ACTIVE_KEY, &id, sizeof(id)) < 0)
		ret = -errno;
	memset(k, 0, size);
	free(k);
	return ret;
}

static int
sctp_listen(void **state, const struct dpfix_endpoint *ep, const struct dpfix_session_params *p,
		char *err, size_t errlen)
{
	struct sctp_listener *l = calloc(1, sizeof(*l));
	struct addrinfo *res;
	int ret;

	if (l == NULL)
		return -ENOMEM;
	l->udp_port = p->sctp_udp_port ? p->sctp_udp_port : DPFIX_SCTP_UDP_PORT;
	ret = sockaddr_resolve(ep, SOCK_STREAM, AI_PASSIVE, &res, err, errlen);
	if (ret < 0)
		goto fail;
	ret = stack_init(l->udp_port, res->ai_family, 0, err, errlen);
	if (ret < 0) {
		freeaddrinfo(res);
		goto fail;
	}
	l->sock = usrsctp_socket(res->ai_family, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (l->sock == NULL || set_common_options(l->sock, ep->security != DPFIX_SECURITY_NONE,
			err, errlen) < 0 || usrsctp_bind(l->sock, res->ai_addr, res->ai_addrlen) < 0 ||
			usrsctp_listen(l->sock, 16) < 0) {
		ret = -errno;
		if (err[0] == '\0' || ret != 0)
			snprintf(err, errlen, "listen %s://%s:%u (SCTP over UDP port %u): %s", ep->scheme,
					ep->host, ep->port, l->udp_port, strerror(errno));
		if (l->sock != NULL)
			usrsctp_close(l->sock);
		freeaddrinfo(res);
		goto fail;
	}
	freeaddrinfo(res);
	usrsctp_set_non_blocking(l->sock, 1);
	pthread_mutex_lock(&init_lock);
	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_unlock(&init_lock);
	if (wake_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "listen %s://%s:%u: eventfd: %s", ep->scheme, ep->host, ep->port,
				strerror(errno));
		usrsctp_close(l->sock);
		goto fail;
	}
	/* New associations (and data before accept) raise the listening socket's upcall. */
	usrsctp_set_upcall(l->sock, wake_upcall, NULL);
	*state = l;
	return 0;
fail:
	free(l);
	return ret < 0 ? ret : -EINVAL;
}

static int
sctp_accept(void *state, struct dpfix_conn *c)
{
	struct sctp_listener *l = state;
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	struct socket *sock = usrsctp_accept(l->sock, (struct sockaddr *)&addr, &len);

	if (sock == NULL)
		return 0;
	/* Set before the first read, so nothing that arrives after that read goes unnoticed. */
	usrsctp_set_upcall(sock, wake_upcall, NULL);
	c->priv = conn_new(sock);
	if (c->priv == NULL) {
		usrsctp_close(sock);
		return 0;
	}
	c->accepted = 1;
	c->max_payload = MAX_MESSAGE;
	sockaddr_format((const struct sockaddr *)&addr, len, c->peer, sizeof(c->peer));
	return 1;
}

/* A server's round begins: lower the flag so that anything arriving from now on raises
 * it again. Lowered only once the write behind it has been read, or the eventfd could
 * stay readable with the flag down and poll() would never sleep. */
static void
sctp_poll(void *state)
{
	uint64_t count;
	(void)state;

	if (atomic_load(&wake_raised) && read(wake_fd, &count, sizeof(count)) == sizeof(count))
		atomic_store(&wake_raised, 0);
}

static int
sctp_listener_event_fd(void *state)
{
	(void)state;
	return wake_fd;
}

static void
sctp_unlisten(void *state)
{
	struct sctp_listener *l = state;

	usrsctp_close(l->sock);
	free(l);
}

static const struct dpfix_transport_ops sctp_ops = {
	.name = "sctp",
	.secure_scheme = "dtls+sctp",
	.ip_protocol = IPPROTO_SCTP,
	.flags = DPFIX_TRANSPORT_MESSAGES | DPFIX_TRANSPORT_RELIABLE,
	.connect = sctp_connect,
	.connected = sctp_connected,
	.set_path_mtu = sctp_set_path_mtu,
	.probe_room = sctp_probe_room,
	.send = sctp_send,
	.recv = sctp_recv,
	.flush = sctp_flush,
	.close = sctp_close,
	.take_returned = sctp_take_returned,
	.shutdown_write = sctp_shutdown_write,
	.acknowledged = sctp_acknowledged,
	.set_auth_key = sctp_set_auth_key,
	.listen = sctp_listen,
	.poll = sctp_poll,
	.accept = sctp_accept,
	.unlisten = sctp_unlisten,
	.listener_event_fd = sctp_listener_event_fd,
};

__attribute__((constructor)) static void
sctp_transport_init(void)
{
	dpfix_transport_register(&sctp_ops);
}
