/* The server event-loop contract of lib/session (dpfix_listener_event_fd): after a round
 * that found nothing, no descriptor is readable while nothing arrives, and a message sent
 * then makes one readable; and how a TCP byte stream is cut into messages. Real sockets and the real usrsctp stack on loopback, exporter
 * and collector ends in this one process. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_session.h"
#include "unit_loopback.h"
#include "unit_test.h"

#define MESSAGE_LEN 100

/* A minimal IPFIX message (the TCP session cuts its byte stream by this header). */
static void
make_message(uint8_t *msg, uint8_t fill)
{
	memset(msg, fill, MESSAGE_LEN);
	msg[0] = 0;
	msg[1] = 10;
	msg[2] = 0;
	msg[3] = MESSAGE_LEN;
}

/* Whether a descriptor of the listener or its session turns readable within ms. */
static int
readable(struct dpfix_listener *l, struct dpfix_session *server, int ms)
{
	struct pollfd fds[2];
	nfds_t n = 0;
	int fd = dpfix_listener_event_fd(l);

	if (fd >= 0)
		fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	if (server != NULL && (fd = dpfix_session_event_fd(server)) >= 0)
		fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	return poll(fds, n, ms) > 0;
}

/* One round as dpfix-collector runs it, for one listener and its one session. */
static ssize_t
one_round(struct dpfix_listener *l, struct dpfix_session **server, uint8_t *buf, size_t cap)
{
	char err[DPFIX_SESSION_ERRLEN];

	dpfix_listener_poll(l);
	if (*server == NULL)
		*server = dpfix_listener_accept(l);
	if (*server == NULL)
		return -EAGAIN;
	return dpfix_session_recv(*server, buf, cap, err, sizeof(err));
}

static void
check_wakes(const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 3000};
	struct dpfix_session *client, *server = NULL;
	struct dpfix_listener *l;
	struct dpfix_endpoint ep;
	uint8_t msg[MESSAGE_LEN], buf[65536];
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	ssize_t n = -EAGAIN;
	int woke;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strcmp(scheme, "tcp") == 0 ? SOCK_STREAM : SOCK_DGRAM));
	params.sctp_udp_port = free_port(SOCK_DGRAM);
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	l = dpfix_listener_open(&ep, &params, err, sizeof(err));
	client = l != NULL ? dpfix_session_open(&ep, &params, err, sizeof(err)) : NULL;
	if (l == NULL || client == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		CHECK(l != NULL && client != NULL);
		dpfix_listener_close(l);
		return;
	}
	/* The first message: the session is accepted and the message arrives whole. */
	make_message(msg, 0x11);
	CHECK(dpfix_session_send(client, msg, sizeof(msg), DPFIX_MESSAGE_DATA) == 0);
	for (int i = 0; i < 50 && n == -EAGAIN; i++) {
		readable(l, server, 100);
		n = one_round(l, &server, buf, sizeof(buf));
	}
	CHECK(n == MESSAGE_LEN && memcmp(buf, msg, sizeof(msg)) == 0);
	/* Two empty rounds (the second lowers a raise that came during the first): idle
	 * means no descriptor is readable, so a collector sleeps instead of spinning. */
	CHECK(one_round(l, &server, buf, sizeof(buf)) == -EAGAIN);
	CHECK(one_round(l, &server, buf, sizeof(buf)) == -EAGAIN);
	if (readable(l, server, 0))
		fprintf(stderr, "  %s: a descriptor is readable with nothing to read\n", url);
	CHECK(!readable(l, server, 0));
	/* A message sent now wakes the sleeper (well before the 100 ms fallback, but the bound
	 * here is generous: this checks that a wake comes, not how fast). */
	make_message(msg, 0x22);
	CHECK(dpfix_session_send(client, msg, sizeof(msg), DPFIX_MESSAGE_DATA) == 0);
	woke = readable(l, server, 5000);
	if (!woke)
		fprintf(stderr, "  %s: no descriptor turned readable for a message\n", url);
	CHECK(woke);
	n = -EAGAIN;
	for (int i = 0; i < 50 && n == -EAGAIN; i++) {
		n = one_round(l, &server, buf, sizeof(buf));
		if (n == -EAGAIN)
			readable(l, server, 100);
	}
	CHECK(n == MESSAGE_LEN && memcmp(buf, msg, sizeof(msg)) == 0);
	/* The collector's end first: the exporter's TCP close waits (3 s at most) for the
	 * collector's, which this one process would give only after it. */
	dpfix_session_close(server);
	dpfix_session_close(client);
	dpfix_listener_close(l);
}

static void
test_udp_wakes(void)
{
	check_wakes("udp");
}

static void
test_tcp_wakes(void)
{
	check_wakes("tcp");
}

/* Rounds until the session of l has something other than -EAGAIN (about 5 s at most). */
static ssize_t
receive(struct dpfix_listener *l, struct dpfix_session **server, uint8_t *buf, size_t cap,
		char *err, size_t errlen)
{
	ssize_t n = -EAGAIN;

	for (int i = 0; i < 50 && n == -EAGAIN; i++) {
		dpfix_listener_poll(l);
		if (*server == NULL)
			*server = dpfix_listener_accept(l);
		if (*server != NULL)
			n = dpfix_session_recv(*server, buf, cap, err, errlen);
		if (n == -EAGAIN)
			readable(l, *server, 100);
	}
	return n;
}

/* A plain TCP connection to the listener, to write any bytes at all. */
static int
raw_tcp_connect(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Sends bytes on a new raw connection; the session they open must refuse them with
 * -EBADMSG, one framing error, and an error that says the stream is not IPFIX, what1
 * and what2. */
static void
check_refused(struct dpfix_listener *l, uint16_t port, const uint8_t *bytes, size_t len,
		const char *what1, const char *what2)
{
	struct dpfix_session *server = NULL;
	char err[DPFIX_SESSION_ERRLEN] = "";
	uint8_t buf[65536];
	int fd = raw_tcp_connect(port);
	ssize_t n;

	CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
	n = receive(l, &server, buf, sizeof(buf), err, sizeof(err));
	if (n != -EBADMSG || strstr(err, "stream is not IPFIX") == NULL ||
			strstr(err, what1) == NULL || strstr(err, what2) == NULL)
		fprintf(stderr, "  got %zd '%s', wanted -EBADMSG and '%s', '%s'\n", n, err, what1,
				what2);
	CHECK(n == -EBADMSG);
	CHECK(strstr(err, "stream is not IPFIX") != NULL);
	CHECK(strstr(err, what1) != NULL && strstr(err, what2) != NULL);
	CHECK(server != NULL && dpfix_session_stats(server)->framing_errors == 1);
	if (server != NULL)
		dpfix_session_close(server);
	if (fd >= 0)
		close(fd);
}

/* A TCP byte stream is cut at the IPFIX header's length however it arrives; bytes that
 * cannot start a message close the session, saying why (RFC 7011 10.4.1.2). */
static void
test_tcp_framing(void)
{
	static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x00, 0x40, 0x01};
	static const uint8_t short_length[] = {0, 10, 0, 8};
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 3000};
	struct dpfix_session *server = NULL;
	struct dpfix_listener *l;
	struct dpfix_endpoint ep;
	uint8_t msg[2 * MESSAGE_LEN], buf[65536];
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	uint16_t port = free_port(SOCK_STREAM);
	int fd;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	l = dpfix_listener_open(&ep, &params, err, sizeof(err));
	if (l == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		CHECK(l != NULL);
		return;
	}
	/* One byte, a round that finds no whole message, then the rest of the first
	 * message with all of the second in one write: two whole messages come out. */
	fd = raw_tcp_connect(port);
	make_message(msg, 0x11);
	make_message(msg + MESSAGE_LEN, 0x22);
	CHECK(fd >= 0 && write(fd, msg, 1) == 1);
	CHECK(one_round(l, &server, buf, sizeof(buf)) == -EAGAIN);
	CHECK(fd >= 0 && write(fd, msg + 1, sizeof(msg) - 1) == (ssize_t)sizeof(msg) - 1);
	CHECK(receive(l, &server, buf, sizeof(buf), err, sizeof(err)) == MESSAGE_LEN);
	CHECK(memcmp(buf, msg, MESSAGE_LEN) == 0);
	CHECK(receive(l, &server, buf, sizeof(buf), err, sizeof(err)) == MESSAGE_LEN);
	CHECK(memcmp(buf, msg + MESSAGE_LEN, MESSAGE_LEN) == 0);
	CHECK(server != NULL && dpfix_session_stats(server)->messages_received == 2);
	CHECK(server != NULL && dpfix_session_stats(server)->framing_errors == 0);
	if (server != NULL)
		dpfix_session_close(server);
	if (fd >= 0)
		close(fd);
	check_refused(l, port, tls_hello, sizeof(tls_hello), "version 5635",
			"it looks like a TLS handshake");
	check_refused(l, port, short_length, sizeof(short_length), "length 8",
			"closing as RFC 7011 10.4.1.2 requires");
	dpfix_listener_close(l);
}

/* usrsctp sockets have no descriptors: the driver's upcall raises an eventfd. */
static void
test_sctp_wakes(void)
{
	check_wakes("sctp");
}

int
main(void)
{
	RUN_TEST(test_udp_wakes);
	RUN_TEST(test_tcp_wakes);
	RUN_TEST(test_tcp_framing);
	RUN_TEST(test_sctp_wakes);
	return unit_test_summary();
}
