/* Unit tests for the UDP listener read on two threads' terms (intake threads,
 * doc/collector-threads.md): a session handed to another thread is woken by its eventfd
 * when a datagram comes with none waiting, and a session's full queue stops the
 * listener's reading (the datagram held, the rest left in the socket) until the session
 * takes one: every datagram arrives, in order, none dropped. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "unit_loopback.h"
#include "unit_test.h"

#define QUEUE 64        /* udp_peers.h PEER_QUEUE: a session's queue */
#define SENT 150

/* An IPFIX message header alone (16 bytes), its sequence number seq. */
static void
send_header(int fd, uint16_t port, uint32_t seq)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint8_t m[16] = {0, 10, 0, 16};

	m[8] = (uint8_t)(seq >> 24);
	m[9] = (uint8_t)(seq >> 16);
	m[10] = (uint8_t)(seq >> 8);
	m[11] = (uint8_t)seq;
	CHECK(sendto(fd, m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(m));
}

static int
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/* The next message's sequence number, or -1 when none waits. */
static int64_t
next_seq(struct dpfix_session *s)
{
	uint8_t buf[64];
	char err[DPFIX_SESSION_ERRLEN];
	ssize_t n = dpfix_session_recv(s, buf, sizeof(buf), err, sizeof(err));

	if (n == -EAGAIN)
		return -1;
	CHECK_EQ_U64(n, 16);
	return (int64_t)((uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 |
			buf[11]);
}

/* A UDP listener on a free loopback port (*port), and the exporter: n datagrams sent
 * to it, sequence numbers 0..n-1, from *fd; then the first poll (64 datagrams) and the
 * session accepted (*s), read on "another thread" from now on: wake. NULL if it failed. */
static struct dpfix_listener *
listener_with_session(uint16_t *port, int *fd, uint32_t n, int wake, struct dpfix_session **s)
{
	struct dpfix_session_params p = {.max_sessions = 4};
	struct dpfix_endpoint ep;
	struct dpfix_listener *l;
	char url[64], err[DPFIX_SESSION_ERRLEN];

	*port = free_port(SOCK_DGRAM);
	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", *port);
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	l = dpfix_listener_open(&ep, &p, err, sizeof(err));
	CHECK(l != NULL && *fd >= 0 && wake >= 0);
	if (l == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		send_header(*fd, *port, i);
	dpfix_listener_poll(l);
	*s = dpfix_listener_accept(l);
	CHECK(*s != NULL);
	if (*s == NULL) {
		dpfix_listener_close(l);
		return NULL;
	}
	CHECK(dpfix_session_set_wake_fd(*s, wake) == 0);
	return l;
}

static void
test_full_queue_holds(void)
{
	struct dpfix_listener_stats st;
	struct dpfix_listener *l;
	struct dpfix_session *s;
	uint16_t port;
	int fd, wake = eventfd(0, EFD_NONBLOCK);
	int socket_fd, room_fd;
	int64_t seq, expect = 0;
	uint64_t wakes;

	/* One poll reads 64 datagrams: the session's queue is full; the next poll holds
	 * the 65th and waits on another descriptor, the rest stays in the socket. */
	l = listener_with_session(&port, &fd, SENT, wake, &s);
	if (l == NULL)
		return;
	socket_fd = dpfix_listener_event_fd(l);
	CHECK(!dpfix_listener_held(l));
	dpfix_listener_poll(l);
	CHECK(dpfix_listener_held(l));
	room_fd = dpfix_listener_event_fd(l);
	CHECK(room_fd != socket_fd);
	CHECK(!readable(room_fd));
	dpfix_listener_poll(l); /* nothing read while held */
	dpfix_listener_stats(l, &st);
	CHECK_EQ_U64(st.queue_drops, 0);
	/* The session takes one: the listener is told there is room, and places it. */
	CHECK_EQ_U64(next_seq(s), expect++);
	CHECK(readable(room_fd));
	dpfix_listener_poll(l);
	CHECK(!dpfix_listener_held(l) || dpfix_listener_event_fd(l) == room_fd);
	/* All of them, in order, as the two sides take turns. */
	for (int round = 0; round < 100 && expect < SENT; round++) {
		dpfix_listener_poll(l);
		while ((seq = next_seq(s)) >= 0)
			CHECK_EQ_U64(seq, expect++);
	}
	CHECK_EQ_U64(expect, SENT);
	CHECK(!dpfix_listener_held(l));
	CHECK(dpfix_listener_event_fd(l) == socket_fd);
	/* Empty now: the next datagram wakes the session's thread, once per poll. */
	while (read(wake, &wakes, sizeof(wakes)) > 0)
		;
	send_header(fd, port, SENT);
	send_header(fd, port, SENT + 1);
	for (int i = 0; i < 1000 && !readable(wake); i++) {
		usleep(1000);
		dpfix_listener_poll(l);
	}
	CHECK(readable(wake));
	CHECK(read(wake, &wakes, sizeof(wakes)) == sizeof(wakes));
	for (int i = 0; i < 1000 && expect < SENT + 2; i++) {
		if ((seq = next_seq(s)) >= 0)
			CHECK_EQ_U64(seq, expect++);
		else
			dpfix_listener_poll(l);
	}
	CHECK_EQ_U64(expect, SENT + 2);
	dpfix_listener_stats(l, &st);
	CHECK_EQ_U64(st.queue_drops, 0);
	CHECK_EQ_U64(st.socket_drops, 0);
	CHECK_EQ_U64(st.unread_drops, 0);
	dpfix_session_close(s);
	dpfix_listener_close(l);
	close(fd);
	close(wake);
}

/* Held for a session that ends instead: its close wakes the listener, which places the
 * datagram as a new exporter's; at a stop a held datagram is counted unread. */
static void
test_held_then_closed(void)
{
	struct dpfix_listener_stats st;
	struct dpfix_listener *l;
	struct dpfix_session *s;
	uint16_t port;
	int fd, wake = eventfd(0, EFD_NONBLOCK);

	l = listener_with_session(&port, &fd, QUEUE + 2, wake, &s);
	if (l == NULL)
		return;
	dpfix_listener_poll(l);
	CHECK(dpfix_listener_held(l));
	CHECK(readable(dpfix_listener_event_fd(l)) == 0);
	dpfix_session_close(s); /* 64 queued: unread */
	CHECK(readable(dpfix_listener_event_fd(l)));
	dpfix_listener_poll(l);
	CHECK(!dpfix_listener_held(l));
	s = dpfix_listener_accept(l); /* the same exporter, anew */
	CHECK(s != NULL);
	CHECK_EQ_U64(next_seq(s), QUEUE);
	dpfix_listener_discard(l);
	dpfix_listener_stats(l, &st);
	CHECK_EQ_U64(st.unread_drops, QUEUE);
	CHECK_EQ_U64(st.queue_drops, 0);
	dpfix_session_close(s); /* the 66th, queued: unread */
	dpfix_listener_stats(l, &st);
	CHECK_EQ_U64(st.unread_drops, QUEUE + 1);
	dpfix_listener_close(l);
	close(fd);
	close(wake);
}

int
main(void)
{
	RUN_TEST(test_full_queue_holds);
	RUN_TEST(test_held_then_closed);
	return unit_test_summary();
}
