/* lib/session's open and orderly end in steps (dpfix_session_open_step,
 * dpfix_session_end_step), for a thread that must never wait: the exporter's and the
 * collector's ends run in this one thread, taking turns, over real (D)TLS handshakes on
 * loopback (tls+tcp, dtls+udp, dtls+sctp) and plain TCP. A step that waited for the
 * collector would wait for ever, as the collector only moves between steps. The end is
 * confirmed when the collector reads everything and ends its side; a collector that
 * stops reading leaves it unconfirmed (-ETIMEDOUT), reached in steps too. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_clock.h"
#include "dpfix_session.h"
#include "unit_loopback.h"
#include "unit_test.h"

#define MESSAGE_LEN 300
#define MESSAGES 20

struct pair {
	struct dpfix_listener *listener;
	struct dpfix_session *server;
	struct dpfix_session *client;
	int messages;           /* read whole by the collector's end */
	int closed;             /* it saw the exporter's end and ended its own */
	int reading;            /* 0: the collector's end reads nothing */
};

static void
make_message(uint8_t *msg, uint8_t fill)
{
	memset(msg, fill, MESSAGE_LEN);
	msg[0] = 0;
	msg[1] = 10;
	msg[2] = MESSAGE_LEN >> 8;
	msg[3] = MESSAGE_LEN & 0xff;
}

/* The collector's turn: what dpfix-collector does in one round. */
static void
collector_turn(struct pair *p)
{
	uint8_t buf[65536];
	char err[DPFIX_SESSION_ERRLEN];
	ssize_t n;

	dpfix_listener_poll(p->listener);
	if (p->server == NULL)
		p->server = dpfix_listener_accept(p->listener);
	if (p->server == NULL || p->closed || !p->reading)
		return;
	while ((n = dpfix_session_recv(p->server, buf, sizeof(buf), err, sizeof(err))) > 0)
		if (n == MESSAGE_LEN)
			p->messages++;
	if (n == -EPIPE) {
		dpfix_session_close(p->server);  /* our end at once, as the collector's */
		p->server = NULL;
		p->closed = 1;
	}
}

static void
psk_params(struct dpfix_session_params *p, char *path)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, "probe.example:000102030405060708090a0b0c0d0e0f\n", 47) == 47);
	close(fd);
	snprintf(p->security.psk_file, sizeof(p->security.psk_file), "%s", path);
	snprintf(p->security.psk_identity, sizeof(p->security.psk_identity), "probe.example");
}

/* Opens scheme's exporter session in steps, the collector taking its turn between. */
static int
open_in_steps(struct pair *p, const char *scheme, struct dpfix_session_params *params)
{
	static uint16_t sctp_udp_port; /* usrsctp: one stack per process, on one UDP port */
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	struct dpfix_endpoint ep;
	int ret = -EINPROGRESS, steps = 0;

	memset(p, 0, sizeof(*p));
	p->reading = 1;
	if (sctp_udp_port == 0)
		sctp_udp_port = free_port(SOCK_DGRAM);
	params->sctp_udp_port = sctp_udp_port;
	params->connect_timeout_ms = 5000;
	params->mtu = 1400;
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strstr(scheme, "tcp") != NULL ? SOCK_STREAM : SOCK_DGRAM));
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	p->listener = dpfix_listener_open(&ep, params, err, sizeof(err));
	if (p->listener == NULL ||
			(p->client = dpfix_session_open_start(&ep, params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		return -1;
	}
	while (ret == -EINPROGRESS) {
		ret = dpfix_session_open_step(p->client, err, sizeof(err));
		collector_turn(p);
		steps++;
		usleep(200);
	}
	if (ret != 0) {
		fprintf(stderr, "  %s: %s\n", url, err);
		p->client = NULL;
		return -1;
	}
	/* A handshake takes round trips: several steps, each of which came back. */
	if (strstr(scheme, "tls") != NULL)
		CHECK(steps > 1);
	return 0;
}

/* Ends the exporter's session in steps; returns the verdict. */
static int
end_in_steps(struct pair *p, char *err, size_t errlen, int *steps)
{
	uint64_t given_up = 1;
	int ret;

	*steps = 0;
	while ((ret = dpfix_session_end_step(p->client, &given_up, err, errlen)) == -EINPROGRESS) {
		collector_turn(p);
		(*steps)++;
		usleep(200);
	}
	p->client = NULL;
	CHECK_EQ_U64(given_up, 0);
	return ret;
}

static void
send_messages(struct pair *p)
{
	uint8_t msg[MESSAGE_LEN];

	for (int i = 0; i < MESSAGES; i++) {
		int ret;

		make_message(msg, (uint8_t)i);
		while ((ret = dpfix_session_send(p->client, msg, sizeof(msg), DPFIX_MESSAGE_DATA)) == -EAGAIN)
			collector_turn(p);
		CHECK(ret == 0);
	}
}

static void
finish(struct pair *p)
{
	dpfix_session_close(p->server);
	dpfix_listener_close(p->listener);
}

/* Open, 20 messages, an end the collector confirms after reading all 20. */
static void
check_confirmed(const char *scheme, int secure)
{
	struct dpfix_session_params params = {0};
	char psk[] = "/tmp/dpfix-steps-psk.XXXXXX", err[DPFIX_SESSION_ERRLEN] = "";
	struct pair p;
	int steps, ret;

	if (secure)
		psk_params(&params, psk);
	if (open_in_steps(&p, scheme, &params) < 0) {
		CHECK(0);
		finish(&p);
		return;
	}
	send_messages(&p);
	ret = end_in_steps(&p, err, sizeof(err), &steps);
	if (ret != 0)
		fprintf(stderr, "  %s: %s\n", scheme, err);
	CHECK(ret == 0);
	CHECK(steps > 0);       /* it came back while the collector had not answered */
	CHECK(p.messages == MESSAGES);
	CHECK(p.closed);
	finish(&p);
	if (secure)
		unlink(psk);
}

/* A collector that reads nothing: the end is not confirmed within its 3 s, and every
 * step came back meanwhile. */
static void
check_unconfirmed(const char *scheme, int secure)
{
	struct dpfix_session_params params = {0};
	char psk[] = "/tmp/dpfix-steps-psk.XXXXXX", err[DPFIX_SESSION_ERRLEN] = "";
	struct pair p;
	int steps, ret;

	if (secure)
		psk_params(&params, psk);
	if (open_in_steps(&p, scheme, &params) < 0) {
		CHECK(0);
		finish(&p);
		return;
	}
	send_messages(&p);
	p.reading = 0;
	ret = end_in_steps(&p, err, sizeof(err), &steps);
	CHECK(ret == -ETIMEDOUT);
	CHECK(strstr(err, "within 3000 ms") != NULL);
	CHECK(steps > 100);
	finish(&p);
	if (secure)
		unlink(psk);
}

static void
test_tls_tcp(void)
{
	check_confirmed("tls+tcp", 1);
	check_unconfirmed("tls+tcp", 1);
}

static void
test_dtls_udp(void)
{
	struct dpfix_session_params params = {0};
	char psk[] = "/tmp/dpfix-steps-psk.XXXXXX", err[DPFIX_SESSION_ERRLEN] = "";
	struct pair p;

	/* Nothing confirms a datagram session's end: it says so at its first step. */
	psk_params(&params, psk);
	if (open_in_steps(&p, "dtls+udp", &params) < 0) {
		CHECK(0);
		finish(&p);
		return;
	}
	send_messages(&p);
	CHECK(dpfix_session_end_step(p.client, NULL, err, sizeof(err)) == -EOPNOTSUPP);
	for (int i = 0; i < 100 && p.messages < MESSAGES; i++) {
		collector_turn(&p);
		usleep(1000);
	}
	CHECK(p.messages == MESSAGES);
	finish(&p);
	unlink(psk);
}

static void
test_dtls_sctp(void)
{
	check_confirmed("dtls+sctp", 1);
}

static void
test_tcp(void)
{
	check_confirmed("tcp", 0);
	check_unconfirmed("tcp", 0);
}

/* An SCTP collector that never answers (its UDP port takes the INITs in and drops
 * them: no ABORT, no ICMP): the open begins at once and its steps say it is under way,
 * never waiting for the INIT's retries; the caller gives up when it wants (before, the
 * connect waited them out, about 8 s, and open_start then failed). Past
 * connect_timeout the step that says so, naming the collector and its UDP port, does
 * not wait either (it waited for the shutdown of the association that never came up,
 * 2000 rounds of 0.5 ms: 1.3 s). */
static void
test_sctp_no_answer(void)
{
	struct dpfix_session_params params = {.connect_timeout_ms = 5000, .mtu = 1400};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	int hole = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = sizeof(sin);
	struct dpfix_session *s;
	struct dpfix_endpoint ep;

	CHECK(hole >= 0 && bind(hole, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
			getsockname(hole, (struct sockaddr *)&sin, &len) == 0);
	params.sctp_udp_port = ntohs(sin.sin_port);
	snprintf(url, sizeof(url), "sctp://127.0.0.1:%u", free_port(SOCK_DGRAM));
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	s = dpfix_session_open_start(&ep, &params, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "  %s: %s\n", url, err);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(dpfix_session_open_step(s, err, sizeof(err)) == -EINPROGRESS);
		dpfix_session_abort(s);
	}
	params.connect_timeout_ms = 200;
	s = dpfix_session_open_start(&ep, &params, err, sizeof(err));
	CHECK(s != NULL);
	if (s != NULL) {
		uint64_t before = 0, took = 0;
		int ret;

		do {
			before = dpfix_monotonic_ns();
			ret = dpfix_session_open_step(s, err, sizeof(err));
			took = dpfix_monotonic_ns() - before;
			usleep(1000);
		} while (ret == -EINPROGRESS);
		fprintf(stderr, "  %s (the step took %.1f ms)\n", err, took / 1e6);
		CHECK(ret == -ETIMEDOUT);
		CHECK(strstr(err, "(SCTP over UDP port ") != NULL);
		CHECK(strstr(err, "no answer within 200 ms") != NULL);
		CHECK(took < 900000000ull); /* the wait took 1 s at least */
	}
	close(hole);
}

int
main(void)
{
	RUN_TEST(test_tls_tcp);
	RUN_TEST(test_dtls_udp);
	RUN_TEST(test_dtls_sctp);
	RUN_TEST(test_tcp);
	RUN_TEST(test_sctp_no_answer);
	return unit_test_summary();
}
