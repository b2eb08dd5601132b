/* DTLS over UDP as the collector reads it: a datagram may carry several records (RFC
 * 6347 4.1.1), and each must come out whole as its own message whatever waits behind
 * it. A relay in this process stands between the exporter and collector ends (real
 * sessions, a real PSK handshake on loopback) and joins two of the exporter's
 * datagrams into one. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_session.h"
#include "unit_test.h"

/* Two sockets: one the exporter sends to, one that forwards to the collector (which
 * takes it for the exporter). */
struct relay {
	int from_exporter, to_collector;
	struct sockaddr_in exporter, collector;
	int exporter_known;
	struct dpfix_listener *listener;
	struct dpfix_session *server;
	atomic_int stop;
};

static int
bound_udp(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	*addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd >= 0 && (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 ||
			getsockname(fd, (struct sockaddr *)addr, &len) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Forwards what waits, datagram for datagram, both ways. */
static void
pump(struct relay *r)
{
	uint8_t buf[65536];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(r->from_exporter, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			&len)) > 0) {
		r->exporter = from;
		r->exporter_known = 1;
		sendto(r->to_collector, buf, (size_t)n, 0, (struct sockaddr *)&r->collector,
				sizeof(r->collector));
		len = sizeof(from);
	}
	while ((n = recv(r->to_collector, buf, sizeof(buf), 0)) > 0 && r->exporter_known)
		sendto(r->from_exporter, buf, (size_t)n, 0, (struct sockaddr *)&r->exporter,
				sizeof(r->exporter));
}

/* One collector round: the handshake advances in dpfix_session_recv. */
static ssize_t
collector_round(struct relay *r, uint8_t *buf, size_t cap)
{
	char err[DPFIX_SESSION_ERRLEN];

	dpfix_listener_poll(r->listener);
	if (r->server == NULL)
		r->server = dpfix_listener_accept(r->listener);
	return r->server == NULL ? -EAGAIN : dpfix_session_recv(r->server, buf, cap, err, sizeof(err));
}

/* While the exporter end connects (dpfix_session_open waits for its handshake). */
static void *
handshake_thread(void *arg)
{
	struct relay *r = arg;
	uint8_t buf[65536];

	while (!atomic_load(&r->stop)) {
		pump(r);
		collector_round(r, buf, sizeof(buf));
		usleep(1000);
	}
	return NULL;
}

/* An IPFIX-looking message of len bytes (only its length matters here). */
static void
make_message(uint8_t *msg, size_t len, uint8_t fill)
{
	memset(msg, fill, len);
	msg[0] = 0;
	msg[1] = 10;
	msg[2] = (uint8_t)(len >> 8);
	msg[3] = (uint8_t)len;
}

/* The exporter's next datagram at the relay (5 s at most). */
static ssize_t
relay_next(struct relay *r, uint8_t *buf, size_t cap)
{
	struct pollfd p = {.fd = r->from_exporter, .events = POLLIN};

	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(r->from_exporter, buf, cap, 0);
}

/* The collector's rounds until it has n messages of the given sizes, whole and in order. */
static void
check_received(struct relay *r, uint8_t msgs[][1000], const size_t *sizes, int n)
{
	uint8_t buf[65536];

	for (int i = 0; i < n; i++) {
		ssize_t got = -EAGAIN;

		for (int round = 0; round < 50 && got == -EAGAIN; round++) {
			got = collector_round(r, buf, sizeof(buf));
			if (got == -EAGAIN)
				usleep(10 * 1000);
		}
		if (got != (ssize_t)sizes[i])
			fprintf(stderr, "  message %d: got %zd bytes, want %zu\n", i, got, sizes[i]);
		CHECK(got == (ssize_t)sizes[i] && memcmp(buf, msgs[i], sizes[i]) == 0);
	}
	CHECK(collector_round(r, buf, sizeof(buf)) == -EAGAIN);
}

/* Datagram 1 carries the records of messages A (1000 bytes) and B (1000 bytes), datagram
 * 2 message C (40 bytes): A, B and C come out whole and in order; B must not be cut to
 * the size of the datagram waiting behind it. Then D and E (1000 bytes each) in one
 * datagram with nothing behind it: E must come out without another datagram's help. */
static void
test_two_records_in_one_datagram(void)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000};
	static const size_t sizes[] = {1000, 1000, 40};
	static struct relay r;
	struct dpfix_session *client = NULL;
	struct dpfix_endpoint ep;
	uint8_t msgs[3][1000], joined[4096], buf[65536];
	char url[64], err[DPFIX_SESSION_ERRLEN] = "", psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	struct sockaddr_in listen_addr;
	pthread_t thread;
	ssize_t a, b, c;
	int fd = mkstemp(psk), lfd;

	CHECK(fd >= 0 && write(fd, "test.example:000102030405060708090a0b0c0d0e0f\n", 46) == 46);
	close(fd);
	snprintf(params.security.psk_file, sizeof(params.security.psk_file), "%s", psk);
	snprintf(params.security.psk_identity, sizeof(params.security.psk_identity), "test.example");
	/* The collector's port: free now, then its listener's. */
	lfd = bound_udp(&listen_addr);
	close(lfd);
	snprintf(url, sizeof(url), "dtls+udp://127.0.0.1:%u", ntohs(listen_addr.sin_port));
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	r.listener = dpfix_listener_open(&ep, &params, err, sizeof(err));
	r.from_exporter = bound_udp(&r.exporter);
	r.to_collector = bound_udp(&r.collector);
	r.collector = listen_addr;
	if (r.listener == NULL || r.from_exporter < 0 || r.to_collector < 0) {
		fprintf(stderr, "  %s: %s\n", url, err);
		CHECK(r.listener != NULL && r.from_exporter >= 0 && r.to_collector >= 0);
		goto out;
	}
	/* The exporter end connects to the relay. */
	getsockname(r.from_exporter, (struct sockaddr *)&listen_addr, &(socklen_t){sizeof(listen_addr)});
	snprintf(url, sizeof(url), "dtls+udp://127.0.0.1:%u", ntohs(listen_addr.sin_port));
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	pthread_create(&thread, NULL, handshake_thread, &r);
	client = dpfix_session_open(&ep, &params, err, sizeof(err));
	atomic_store(&r.stop, 1);
	pthread_join(thread, NULL);
	if (client == NULL || r.server == NULL) {
		fprintf(stderr, "  handshake through the relay: %s\n", err);
		CHECK(client != NULL && r.server != NULL);
		goto out;
	}
	pump(&r); /* the rest of the handshake, if any */
	while (collector_round(&r, buf, sizeof(buf)) > 0)
		;
	for (int i = 0; i < 3; i++) {
		make_message(msgs[i], sizes[i], (uint8_t)(0x11 * (i + 1)));
		CHECK(dpfix_session_send(client, msgs[i], sizes[i], DPFIX_MESSAGE_DATA) == 0);
	}
	a = relay_next(&r, joined, sizeof(joined));
	b = a > 0 ? relay_next(&r, joined + a, sizeof(joined) - (size_t)a) : -1;
	c = relay_next(&r, buf, sizeof(buf));
	CHECK(a > 0 && b > 0 && c > 0);
	if (a <= 0 || b <= 0 || c <= 0)
		goto out;
	sendto(r.to_collector, joined, (size_t)(a + b), 0, (struct sockaddr *)&r.collector,
			sizeof(r.collector));
	sendto(r.to_collector, buf, (size_t)c, 0, (struct sockaddr *)&r.collector,
			sizeof(r.collector));
	usleep(100 * 1000); /* both datagrams queued at the collector before it reads */
	check_received(&r, msgs, sizes, 3);
	for (int i = 0; i < 2; i++)
		CHECK(dpfix_session_send(client, msgs[i], sizes[i], DPFIX_MESSAGE_DATA) == 0);
	a = relay_next(&r, joined, sizeof(joined));
	b = a > 0 ? relay_next(&r, joined + a, sizeof(joined) - (size_t)a) : -1;
	CHECK(a > 0 && b > 0);
	if (a <= 0 || b <= 0)
		goto out;
	sendto(r.to_collector, joined, (size_t)(a + b), 0, (struct sockaddr *)&r.collector,
			sizeof(r.collector));
	check_received(&r, msgs, sizes, 2);
	CHECK_EQ_U64(dpfix_session_stats(r.server)->messages_received, 5);
out:
	dpfix_session_close(client);
	dpfix_session_close(r.server);
	dpfix_listener_close(r.listener);
	if (r.from_exporter >= 0)
		close(r.from_exporter);
	if (r.to_collector >= 0)
		close(r.to_collector);
	unlink(psk);
}

int
main(void)
{
	RUN_TEST(test_two_records_in_one_datagram);
	return unit_test_summary();
}
