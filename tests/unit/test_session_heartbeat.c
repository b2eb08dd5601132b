/* dpfix heartbeats in lib/session (doc/heartbeats.md): agreed by ALPN in real (D)TLS
 * handshakes on loopback (dtls+udp, tls+tcp, dtls+sctp), requests answered by the
 * collector's end inside its reads while the IPFIX messages around them come out whole
 * and alone, answers matched by the exporter's end; never used when the exporter did not
 * offer them; a response that echoes no request of ours, and malformed ones, ignored.
 * The collector's end runs in a thread of this process, as dpfix-collector runs it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_session.h"
#include "unit_loopback.h"
#include "unit_test.h"

#define MESSAGE_LEN 200

struct collector {
	struct dpfix_listener *listener;
	struct dpfix_session *_Atomic session;
	atomic_int stop;
	atomic_int messages;            /* IPFIX messages received whole and intact */
	atomic_int bad_messages;        /* anything else handed up */
	atomic_int paused;              /* no reads: the exporter's requests go unanswered */
	atomic_int idle;                /* the thread saw paused: it no longer reads */
	atomic_int release;             /* heartbeat_answer_later: answer what waits */
	atomic_int pending_seen;        /* ... and requests were seen waiting */
};

static void
make_message(uint8_t *msg, uint8_t fill)
{
	memset(msg, fill, MESSAGE_LEN);
	msg[0] = 0;
	msg[1] = 10;
	msg[2] = 0;
	msg[3] = MESSAGE_LEN;
}

static void *
collector_thread(void *arg)
{
	struct collector *c = arg;
	uint8_t buf[65536];
	char err[DPFIX_SESSION_ERRLEN];

	while (!atomic_load(&c->stop)) {
		struct dpfix_session *s = atomic_load(&c->session);
		ssize_t n;

		dpfix_listener_poll(c->listener);
		if (s == NULL) {
			s = dpfix_listener_accept(c->listener);
			atomic_store(&c->session, s);
		}
		if (s == NULL || atomic_load(&c->paused)) {
			if (atomic_load(&c->paused))
				atomic_store(&c->idle, 1);
			usleep(1000);
			continue;
		}
		usleep(20000);
		n = dpfix_session_recv(s, buf, sizeof(buf), err, sizeof(err));
		if (dpfix_session_heartbeats_pending(s))
			atomic_store(&c->pending_seen, 1);
		if (atomic_load(&c->release))
			dpfix_session_answer_heartbeats(s);
		if (n == MESSAGE_LEN && buf[0] == 0 && buf[1] == 10)
			atomic_fetch_add(&c->messages, 1);
		else if (n >= 0)
			atomic_fetch_add(&c->bad_messages, 1);
		else if (n == -EAGAIN)
			usleep(1000);
		else { /* the exporter's end: ours at once, as dpfix-collector does */
			dpfix_session_close(s);
			atomic_store(&c->session, NULL);
		}
	}
	return NULL;
}

/* The exporter's reads until `want` answers have come in (ms at most); their ids in
 * order into ids. Returns how many came. */
static int
collect_answers_within(struct dpfix_session *client, uint32_t *ids, int want, int ms)
{
	uint8_t buf[4096];
	char err[DPFIX_SESSION_ERRLEN];
	int got = 0;

	for (int i = 0; i < ms && got < want; i++) {
		ssize_t n = dpfix_session_recv(client, buf, sizeof(buf), err, sizeof(err));

		CHECK(n == -EAGAIN);
		while (got < want && dpfix_session_heartbeat_answered(client, &ids[got]))
			got++;
		if (got < want)
			usleep(1000);
	}
	return got;
}

/* Stops the collector thread's reads and waits until it says so: a read it began
 * before seeing paused would still answer what arrives. */
static void
pause_collector(struct collector *c)
{
	atomic_store(&c->idle, 0);
	atomic_store(&c->paused, 1);
	for (int ms = 0; ms < 5000 && !atomic_load(&c->idle); ms++)
		usleep(1000);
	CHECK(atomic_load(&c->idle) == 1);
}

static int
collect_answers(struct dpfix_session *client, uint32_t *ids, int want)
{
	return collect_answers_within(client, ids, want, 5000);
}

/* The requests the collector's end answered, as its thread counts them. */
static uint64_t
requests_answered(const struct dpfix_session *server)
{
	const volatile struct dpfix_session_stats *st = dpfix_session_stats(server);

	return st->heartbeat_requests;
}

/* A collector on scheme, an exporter session offering heartbeats (or not). */
static struct dpfix_session *
connect_pair(const char *scheme, int offer, struct collector *c, pthread_t *thread,
		struct dpfix_session_params *params)
{
	struct dpfix_endpoint ep;
	char url[64], err[DPFIX_SESSION_ERRLEN] = "";
	struct dpfix_session *client;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strstr(scheme, "tcp") != NULL ? SOCK_STREAM : SOCK_DGRAM));
	static uint16_t sctp_udp_port; /* usrsctp: one stack per process, on one UDP port */

	if (sctp_udp_port == 0)
		sctp_udp_port = free_port(SOCK_DGRAM);
	params->sctp_udp_port = sctp_udp_port;
	params->heartbeat_interval_ms = 0; /* a collector agrees whatever this says */
	CHECK(dpfix_endpoint_parse(url, &ep, err, sizeof(err)) == 0);
	c->listener = dpfix_listener_open(&ep, params, err, sizeof(err));
	if (c->listener == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		CHECK(c->listener != NULL);
		exit(1); /* nothing else would run */
	}
	pthread_create(thread, NULL, collector_thread, c);
	params->heartbeat_interval_ms = offer ? 1000 : 0;
	client = dpfix_session_open(&ep, params, err, sizeof(err));
	if (client == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		CHECK(client != NULL);
	}
	return client;
}

static void
disconnect(struct dpfix_session *client, struct collector *c, pthread_t thread)
{
	dpfix_session_close(client);
	usleep(50 * 1000);
	atomic_store(&c->stop, 1);
	pthread_join(thread, NULL);
	dpfix_session_close(atomic_load(&c->session));
	dpfix_listener_close(c->listener);
}

/* Requests interleaved with IPFIX messages: every request answered, in order, and the
 * collector reads the IPFIX messages alone and whole. A collector that stops reading
 * answers nothing; once it reads again, it answers what waited. */
static void
check_answered(const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000};
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	static struct collector c;
	struct dpfix_session *client, *server;
	uint8_t msg[MESSAGE_LEN];
	uint32_t ids[8];
	pthread_t thread;

	memset(&c, 0, sizeof(c));
	CHECK(unit_psk_file(&params, psk) == 0);
	client = connect_pair(scheme, 1, &c, &thread, &params);
	if (client == NULL)
		goto out;
	CHECK(dpfix_session_heartbeats(client) == 1);
	for (uint32_t id = 1; id <= 3; id++) {
		make_message(msg, (uint8_t)id);
		CHECK(dpfix_session_send(client, msg, sizeof(msg), DPFIX_MESSAGE_DATA) == 0);
		CHECK(dpfix_session_heartbeat(client, 0x10000 + id, 0) == 0);
	}
	CHECK(collect_answers(client, ids, 3) == 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_U64(ids[i], 0x10001 + i);
	server = atomic_load(&c.session);
	CHECK(server != NULL && dpfix_session_heartbeats(server) == 1);
	CHECK_EQ_U64(atomic_load(&c.messages), 3);
	CHECK_EQ_U64(atomic_load(&c.bad_messages), 0);
	/* A stopped collector answers nothing; it answers once it reads again. */
	pause_collector(&c);
	CHECK(dpfix_session_heartbeat(client, 7, 0) == 0);
	CHECK(collect_answers_within(client, ids, 1, 300) == 0);
	atomic_store(&c.paused, 0);
	CHECK(collect_answers(client, ids, 1) == 1 && ids[0] == 7);
	CHECK_EQ_U64(dpfix_session_stats(client)->heartbeats_sent, 4);
	CHECK_EQ_U64(dpfix_session_stats(client)->heartbeats_answered, 4);
	/* The collector's thread counts an answer once it is written: the exporter may
	 * read it first. */
	for (int ms = 0; server != NULL && ms < 2000 && requests_answered(server) != 4; ms++)
		usleep(1000);
	CHECK(server != NULL && dpfix_session_stats(server)->heartbeat_requests == 4);
	CHECK_EQ_U64(dpfix_session_stats(client)->heartbeats_ignored, 0);
out:
	disconnect(client, &c, thread);
	unlink(psk);
}

/* An exporter that did not offer heartbeats has none: it cannot send one, and the
 * collector's end knows they were not agreed. */
static void
check_not_offered(const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000};
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	static struct collector c;
	struct dpfix_session *client, *server = NULL;
	uint8_t msg[MESSAGE_LEN];
	pthread_t thread;

	memset(&c, 0, sizeof(c));
	CHECK(unit_psk_file(&params, psk) == 0);
	client = connect_pair(scheme, 0, &c, &thread, &params);
	if (client == NULL)
		goto out;
	CHECK(dpfix_session_heartbeats(client) == 0);
	CHECK(dpfix_session_heartbeat(client, 1, 0) == -EOPNOTSUPP);
	make_message(msg, 1);
	CHECK(dpfix_session_send(client, msg, sizeof(msg), DPFIX_MESSAGE_DATA) == 0);
	for (int i = 0; i < 5000 && atomic_load(&c.messages) == 0; i++)
		usleep(1000);
	server = atomic_load(&c.session);
	CHECK(server != NULL && dpfix_session_heartbeats(server) == 0);
	CHECK_EQ_U64(atomic_load(&c.messages), 1);
out:
	disconnect(client, &c, thread);
	unlink(psk);
}

/* A heartbeat message of len octets: marker, length, type, payload_length, payload,
 * padding (doc/heartbeats.md), every field as given. */
static size_t
heartbeat_message(uint8_t *m, uint16_t len, uint16_t length_field, uint8_t type,
		uint16_t payload_len)
{
	memset(m, 0x5a, len);
	m[0] = 0xdf;
	m[1] = 0x48;
	m[2] = (uint8_t)(length_field >> 8);
	m[3] = (uint8_t)length_field;
	m[4] = type;
	m[5] = (uint8_t)(payload_len >> 8);
	m[6] = (uint8_t)payload_len;
	return len;
}

/* The collector's end sends what no dpfix collector would: a response that echoes no
 * request of ours, one of an unknown type, one whose payload would run into the padding,
 * one with a length that is not its own, one too short to hold a payload. The exporter's
 * end ignores and counts each, keeps the session, and a real request is still answered. */
static void
check_ignored(const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000};
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	static struct collector c;
	struct dpfix_session *client, *server;
	uint8_t m[64];
	uint32_t id;
	pthread_t thread;

	memset(&c, 0, sizeof(c));
	CHECK(unit_psk_file(&params, psk) == 0);
	client = connect_pair(scheme, 1, &c, &thread, &params);
	if (client == NULL)
		goto out;
	CHECK(dpfix_session_heartbeat(client, 1, 0) == 0);
	CHECK(collect_answers(client, &id, 1) == 1);
	server = atomic_load(&c.session);
	pause_collector(&c); /* the collector thread no longer touches its session */
	CHECK(dpfix_session_send(server, m, heartbeat_message(m, 39, 39, 2, 16), DPFIX_MESSAGE_DATA) == 0);
	CHECK(dpfix_session_send(server, m, heartbeat_message(m, 39, 39, 9, 16), DPFIX_MESSAGE_DATA) == 0);
	CHECK(dpfix_session_send(server, m, heartbeat_message(m, 39, 39, 2, 17), DPFIX_MESSAGE_DATA) == 0);
	if (strstr(scheme, "tcp") == NULL) /* on a stream, the length field frames it */
		CHECK(dpfix_session_send(server, m, heartbeat_message(m, 39, 40, 2, 16), DPFIX_MESSAGE_DATA) == 0);
	CHECK(dpfix_session_send(server, m, heartbeat_message(m, 22, 22, 2, 0), DPFIX_MESSAGE_DATA) == 0);
	atomic_store(&c.paused, 0);
	CHECK(dpfix_session_heartbeat(client, 2, 0) == 0);
	CHECK(collect_answers(client, &id, 1) == 1 && id == 2);
	CHECK_EQ_U64(dpfix_session_stats(client)->heartbeats_ignored, strstr(scheme, "tcp") ? 4 : 5);
	CHECK_EQ_U64(dpfix_session_stats(client)->heartbeats_answered, 2);
out:
	disconnect(client, &c, thread);
	unlink(psk);
}

/* A collector that answers only once it has stored what came before (lib/collect sets
 * heartbeat_answer_later): a request waits, unanswered, until it says so. */
static void
test_answer_later(void)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000,
		.heartbeat_answer_later = 1};
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX";
	static struct collector c;
	struct dpfix_session *client;
	uint32_t id;
	pthread_t thread;

	memset(&c, 0, sizeof(c));
	CHECK(unit_psk_file(&params, psk) == 0);
	client = connect_pair("tls+tcp", 1, &c, &thread, &params);
	if (client == NULL)
		goto out;
	CHECK(dpfix_session_heartbeat(client, 5, 0) == 0);
	CHECK(collect_answers_within(client, &id, 1, 300) == 0);
	CHECK(atomic_load(&c.pending_seen) == 1);
	atomic_store(&c.release, 1);
	CHECK(collect_answers(client, &id, 1) == 1 && id == 5);
out:
	disconnect(client, &c, thread);
	unlink(psk);
}

/* A heartbeat answer that waits unread when the exporter checks that all it sent was
 * acknowledged (SCTP) or ends the session is ours, not bytes from the collector's
 * application: the end is confirmed. */
static void
check_answer_at_end(const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 5000};
	char psk[] = "/tmp/dpfix-test-psk-XXXXXX", err[DPFIX_SESSION_ERRLEN] = "";
	static struct collector c;
	struct dpfix_session *client, *server;
	uint8_t msg[MESSAGE_LEN];
	pthread_t thread;
	int ret;

	memset(&c, 0, sizeof(c));
	CHECK(unit_psk_file(&params, psk) == 0);
	client = connect_pair(scheme, 1, &c, &thread, &params);
	if (client == NULL)
		goto out;
	make_message(msg, 1);
	CHECK(dpfix_session_send(client, msg, sizeof(msg), DPFIX_MESSAGE_DATA) == 0);
	CHECK(dpfix_session_heartbeat(client, 9, 0) == 0);
	server = atomic_load(&c.session);
	for (int ms = 0; ms < 2000 && (server == NULL || requests_answered(server) != 1); ms++) {
		usleep(1000);
		server = atomic_load(&c.session);
	}
	CHECK(server != NULL && requests_answered(server) == 1);
	if (strstr(scheme, "sctp") != NULL) {
		ret = dpfix_session_wait_acknowledged(client, 3000, err, sizeof(err));
		if (ret != 0)
			fprintf(stderr, "  %s: %s\n", scheme, err);
		CHECK(ret == 0);
	}
	ret = dpfix_session_end(client, NULL, err, sizeof(err));
	if (ret != 0)
		fprintf(stderr, "  %s: %s\n", scheme, err);
	CHECK(ret == 0);
	client = NULL;
out:
	disconnect(client, &c, thread);
	unlink(psk);
}

static const char *const schemes[] = {"dtls+udp", "tls+tcp", "dtls+sctp"};

static void
test_answer_at_end(void)
{
	check_answer_at_end("tls+tcp");
	check_answer_at_end("dtls+sctp");
}

static void
test_answered(void)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		check_answered(schemes[i]);
}

static void
test_not_offered(void)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		check_not_offered(schemes[i]);
}

static void
test_ignored(void)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		check_ignored(schemes[i]);
}

int
main(void)
{
	RUN_TEST(test_answered);
	RUN_TEST(test_not_offered);
	RUN_TEST(test_ignored);
	RUN_TEST(test_answer_later);
	RUN_TEST(test_answer_at_end);
	return unit_test_summary();
}
