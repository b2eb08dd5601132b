/* The path MTU of lib/session's datagram sessions (doc/path-mtu.md), on loopback with
 * real DTLS handshakes: with discovery, messages start at the base size; over dtls+udp
 * padded heartbeats answered by a dpfix collector's end raise it to export_mtu (the
 * loopback's MTU is far larger), their answers never reaching the program's own;
 * padded requests beyond the largest size are refused; a replacement session takes over
 * its predecessor's size; plain udp stays at the base size, tls+tcp has none of its own. The collector's end runs in a thread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_session.h"
#include "unit_loopback.h"
#include "unit_test.h"

struct collector {
	struct dpfix_listener *listener;
	struct dpfix_session *session;
	atomic_int stop;
};

static void *
collector_thread(void *arg)
{
	struct collector *c = arg;
	static uint8_t buf[65536];
	char err[DPFIX_SESSION_ERRLEN];

	while (!atomic_load(&c->stop)) {
		ssize_t n = -EAGAIN;

		dpfix_listener_poll(c->listener);
		if (c->session == NULL)
			c->session = dpfix_listener_accept(c->listener);
		if (c->session != NULL)
			n = dpfix_session_recv(c->session, buf, sizeof(buf), err, sizeof(err));
		if (n == -EAGAIN)
			usleep(500);
		else if (n < 0) {
			dpfix_session_close(c->session);
			c->session = NULL;
		}
	}
	dpfix_session_close(c->session);
	return NULL;
}

/* A collector on scheme in a thread, and an exporter session to it. */
static struct dpfix_session *
connect_pair(const char *scheme, struct dpfix_session_params *p, struct collector *c,
		pthread_t *thread)
{
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	struct dpfix_endpoint ep;
	struct dpfix_session *s;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strstr(scheme, "tcp") != NULL ? SOCK_STREAM : SOCK_DGRAM));
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	memset(c, 0, sizeof(*c));
	c->listener = dpfix_listener_open(&ep, p, err, sizeof(err));
	if (c->listener == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		exit(1);
	}
	pthread_create(thread, NULL, collector_thread, c);
	s = dpfix_session_open(&ep, p, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "  %s: %s\n", url, err);
	CHECK(s != NULL);
	return s;
}

static void
disconnect(struct dpfix_session *s, struct collector *c, pthread_t thread)
{
	dpfix_session_close(s);
	atomic_store(&c->stop, 1);
	pthread_join(thread, NULL);
	dpfix_listener_close(c->listener);
}

static struct dpfix_session_params
psk_params(char *path)
{
	struct dpfix_session_params p = {.mtu = 1400, .connect_timeout_ms = 5000,
		.path_mtu_discovery = 1};

	CHECK(unit_psk_file(&p, path) == 0);
	return p;
}

/* The exporter's side of the search as lib/export runs it: polls, and reads while a
 * probe waits, for at most ms. Returns the milliseconds it took to reach want. */
static int
search_until(struct dpfix_session *s, uint32_t want, int ms)
{
	uint8_t buf[256];
	char err[DPFIX_SESSION_ERRLEN];
	uint64_t now = 1000000; /* the search's clock is the caller's */

	for (int i = 0; i < ms; i++, now++) {
		if (dpfix_session_path_poll(s, now))
			while (dpfix_session_recv(s, buf, sizeof(buf), err, sizeof(err)) != -EAGAIN)
				;
		if (dpfix_session_path_mtu(s) == want && dpfix_session_path_poll(s, now) == 0)
			return i;
		usleep(1000);
	}
	return -1;
}

static void
test_dtls_udp_search(void)
{
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	struct dpfix_session_params p = psk_params(psk);
	struct dpfix_session *s, *fixed;
	struct collector c;
	pthread_t thread;
	uint32_t max_fixed, id;

	/* What messages may hold at 1400 without discovery (export_mtu as the path MTU). */
	p.path_mtu_discovery = 0;
	fixed = connect_pair("dtls+udp", &p, &c, &thread);
	max_fixed = fixed ? dpfix_session_max_message(fixed) : 0;
	CHECK(fixed == NULL || dpfix_session_path_mtu(fixed) == 1400);
	disconnect(fixed, &c, thread);

	p.path_mtu_discovery = 1;
	s = connect_pair("dtls+udp", &p, &c, &thread);
	if (s == NULL)
		goto out;
	CHECK(dpfix_session_heartbeats(s) == 1); /* offered for the probes alone */
	CHECK_EQ_U64(dpfix_session_path_mtu(s), DPFIX_BASE_PMTU_IPV4);
	CHECK_EQ_U64(dpfix_session_max_message(s), max_fixed - (1400 - DPFIX_BASE_PMTU_IPV4));
	CHECK(search_until(s, 1400, 10000) >= 0);
	CHECK_EQ_U64(dpfix_session_max_message(s), max_fixed);
	CHECK(dpfix_session_stats(s)->heartbeats_answered >= 1);
	CHECK(dpfix_session_heartbeat_answered(s, &id) == 0); /* the probes' are their own */
	/* A program's padded heartbeat: answered; one larger than the path allows: refused. */
	CHECK(dpfix_session_heartbeat(s, 77, 1300) == 0);
	CHECK(dpfix_session_heartbeat(s, 78, 1401) == -EMSGSIZE);
	for (int i = 0; i < 5000 && !dpfix_session_heartbeat_answered(s, &id); i++) {
		uint8_t buf[256];
		char err[DPFIX_SESSION_ERRLEN];

		dpfix_session_recv(s, buf, sizeof(buf), err, sizeof(err));
		id = 0;
		usleep(1000);
	}
	CHECK_EQ_U64(id, 77);
	CHECK_EQ_U64(dpfix_session_stats(s)->heartbeats_ignored, 0);
out:
	disconnect(s, &c, thread);
	unlink(psk);
}

/* A replacement session takes over the size its predecessor confirmed, at once (what
 * waits for a replay was made to it), and checks it; a size past the path is ignored. */
static void
test_resume(void)
{
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	struct dpfix_session_params p = psk_params(psk);
	struct dpfix_session *s;
	struct collector c;
	pthread_t thread;

	s = connect_pair("dtls+udp", &p, &c, &thread);
	if (s == NULL)
		goto out;
	dpfix_session_path_resume(s, 1401);
	CHECK_EQ_U64(dpfix_session_path_mtu(s), DPFIX_BASE_PMTU_IPV4);
	dpfix_session_path_resume(s, 1333);
	CHECK_EQ_U64(dpfix_session_path_mtu(s), 1333);
	CHECK(search_until(s, 1400, 10000) >= 0);
out:
	disconnect(s, &c, thread);
	unlink(psk);
}

/* Nothing answers a probe over plain UDP: the base size stays. TCP: the kernel's. */
static void
test_without_probes(void)
{
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	struct dpfix_session_params p = psk_params(psk);
	struct dpfix_session *s;
	struct collector c;
	pthread_t thread;

	s = connect_pair("udp", &p, &c, &thread);
	CHECK(s != NULL && dpfix_session_path_mtu(s) == DPFIX_BASE_PMTU_IPV4);
	CHECK(s != NULL && search_until(s, 1400, 200) == -1);
	CHECK(s != NULL && dpfix_session_path_mtu(s) == DPFIX_BASE_PMTU_IPV4);
	CHECK(s != NULL && dpfix_session_heartbeat(s, 1, 1300) == -EOPNOTSUPP);
	disconnect(s, &c, thread);
	s = connect_pair("tls+tcp", &p, &c, &thread);
	CHECK(s != NULL && dpfix_session_path_mtu(s) == 0);
	CHECK(s != NULL && dpfix_session_heartbeat(s, 1, 1300) == -EOPNOTSUPP);
	disconnect(s, &c, thread);
	unlink(psk);
}

int
main(void)
{
	RUN_TEST(test_dtls_udp_search);
	RUN_TEST(test_resume);
	RUN_TEST(test_without_probes);
	return unit_test_summary();
}
