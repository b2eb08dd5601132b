/* Unit tests for lib/collect: what a sink is told (session start with the exporter's
 * address, templates learned and gone, records, raw messages, session end), in order,
 * over a real UDP listener on loopback; the serve loop and its stop; and two instances
 * in one process keeping apart. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_collect.h"
#include "ipfix_raw.h"
#include "unit_test.h"

#define DOMAIN 7

/* What the test sink saw, as one letter per event in order (S start, T template
 * learned, G template withdrawn or expired, R record, M message, m malformed message, E end). */
struct seen {
	char events[64];
	unsigned int n;
	char peer[64];
	char identity[64];
	uint64_t session_id;
	uint64_t packets;
	char end_why[64];
	uint64_t lost;
	int finished;
};

static void
note(struct seen *v, char e)
{
	if (v->n < sizeof(v->events) - 1)
		v->events[v->n++] = e;
}

static void
on_start(void *ctx, const struct dpfix_collect_session *s)
{
	struct seen *v = ctx;

	note(v, 'S');
	snprintf(v->peer, sizeof(v->peer), "%s", s->peer);
	snprintf(v->identity, sizeof(v->identity), "%s", s->identity);
	v->session_id = s->id;
}

static void
on_template(void *ctx, const struct dpfix_collect_session *s, uint32_t domain, uint16_t id,
		const struct dpfix_ipfix_template *t)
{
	(void)s;
	CHECK_EQ_U64(domain, DOMAIN);
	CHECK_EQ_U64(id, 256);
	note(ctx, t != NULL ? 'T' : 'G');
}

static void
on_record(void *ctx, const struct dpfix_collect_session *s, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	struct seen *v = ctx;

	CHECK_EQ_U64(s->id, v->session_id);
	CHECK_EQ_U64(h->domain, DOMAIN);
	CHECK_EQ_U64(t->id, 256);
	CHECK_EQ_U64(len, 12);
	v->packets += dpfix_ipfix_read_unsigned(rec + 4, 8);
	note(v, 'R');
}

static void
on_message(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg, size_t len,
		int malformed)
{
	(void)s;
	(void)msg;
	(void)len;
	note(ctx, malformed ? 'm' : 'M');
}

static void
on_end(void *ctx, const struct dpfix_collect_session *s, const char *why)
{
	struct seen *v = ctx;

	(void)s;
	snprintf(v->end_why, sizeof(v->end_why), "%s", why);
	note(v, 'E');
}

static void
on_finish(void *ctx)
{
	((struct seen *)ctx)->finished++;
}

static uint64_t
on_lost(void *ctx)
{
	return ((struct seen *)ctx)->lost;
}

static const struct dpfix_collect_sink_ops test_ops = {
	.name = "test", .session_start = on_start, .template_event = on_template,
	.record = on_record, .message = on_message, .session_end = on_end,
	.finish = on_finish, .lost = on_lost,
};

/* A loopback UDP port nobody uses now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	return ntohs(a.sin_port);
}

/* c listens on SCHEME at a free loopback port, its URL into url. The port free_port
 * found may be taken by another test's TCP connection before we listen: then another. */
static int
listen_free(struct dpfix_collect *c, const char *scheme, char *url, size_t size)
{
	char err[DPFIX_SESSION_ERRLEN];

	for (int tries = 0; tries < 20; tries++) {
		snprintf(url, size, "%s://127.0.0.1:%u", scheme, free_port());
		if (dpfix_collect_listen(c, url, err, sizeof(err)) == 0)
			return 0;
	}
	fprintf(stderr, "  no %s port to listen on: %s\n", scheme, err);
	return -1;
}

/* A collector listening on tls+tcp at a free loopback port, its URL into url. */
static struct dpfix_collect *
tls_collector(const struct dpfix_collect_params *p, char *url, size_t size)
{
	char err[DPFIX_SESSION_ERRLEN];
	struct dpfix_collect *c = dpfix_collect_create(p, err, sizeof(err));

	if (c != NULL && listen_free(c, "tls+tcp", url, size) < 0) {
		dpfix_collect_free(c);
		return NULL;
	}
	return c;
}

static struct dpfix_collect *
collector_on(uint16_t port, struct seen *v)
{
	struct dpfix_collect_params p = {.max_sessions = 8, .template_lifetime_s = 1800};
	struct dpfix_collect_sink sink = {.ops = &test_ops, .ctx = v};
	char url[64], err[DPFIX_SESSION_ERRLEN];
	struct dpfix_collect *c = dpfix_collect_create(&p, err, sizeof(err));

	CHECK(c != NULL);
	snprintf(url, sizeof(url), "udp://127.0.0.1:%u", port);
	CHECK(dpfix_collect_listen(c, url, err, sizeof(err)) == 0);
	CHECK(dpfix_collect_add_sink(c, &sink) == 0);
	return c;
}

/* Message seq into m: a template (with_template) and records packets[0..n). */
static void
make_message(struct raw *m, uint32_t seq, int with_template, const uint64_t *packets,
		unsigned int n)
{
	struct dpfix_ipfix_template t;

	dpfix_ipfix_template_init(&t, 256, 0);
	dpfix_ipfix_template_add(&t, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t, 0, IE_packetDeltaCount, 8);
	rbegin(m, 1700000000, seq, DOMAIN);
	if (with_template) {
		rset(m, 2);
		rtemplate(m, &t);
		rset_end(m);
	}
	rset(m, 256);
	for (unsigned int i = 0; i < n; i++) {
		put(m, 0xc0000201, 4);
		put(m, packets[i], 8);
	}
	rset_end(m);
	rend(m);
}

/* Message seq over UDP: a template (first only) and records packets[0..n). */
static void
send_message(int fd, uint16_t port, uint32_t seq, int with_template, const uint64_t *packets,
		unsigned int n)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static struct raw m;

	make_message(&m, seq, with_template, packets, n);
	CHECK(sendto(fd, m.b, m.len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)m.len);
}

/* Serves until the sink has seen want events (bounded: 2 s). */
static void
serve_until(struct dpfix_collect *c, struct seen *v, unsigned int want)
{
	for (int i = 0; i < 2000 && v->n < want; i++)
		if (dpfix_collect_serve(c, NULL) == 0)
			usleep(1000);
}

static void
test_sink_events(void)
{
	struct seen v = {0};
	uint16_t port = free_port();
	struct dpfix_collect *c = collector_on(port, &v);
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct dpfix_collect_stats st;
	char peer[64];
	const uint8_t junk[20] = {0, 9};

	CHECK(c != NULL && fd >= 0);
	send_message(fd, port, 0, 1, (const uint64_t[]){3, 4}, 2);
	send_message(fd, port, 2, 0, (const uint64_t[]){5}, 1);
	serve_until(c, &v, 7);
	/* The start comes before the first message's template and records; the message
	 * itself after its records. */
	CHECK(strcmp(v.events, "STRRMRM") == 0);
	getsockname(fd, (struct sockaddr *)&me, &mlen);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", ntohs(me.sin_port));
	CHECK(strcmp(v.peer, peer) == 0);
	CHECK_EQ_U64(v.packets, 12);
	CHECK(sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&(struct sockaddr_in){
			.sin_family = AF_INET, .sin_port = htons(port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, sizeof(me)) == sizeof(junk));
	serve_until(c, &v, 8);
	CHECK(v.n == 8 && v.events[7] == 'm');
	dpfix_collect_stats(c, &st);
	CHECK_EQ_U64(st.flow_records, 3);
	CHECK_EQ_U64(st.packets, 12);
	CHECK_EQ_U64(st.sessions_opened, 1);
	CHECK_EQ_U64(st.decode.malformed_messages, 1);
	/* The end: the session (its templates with it), then the sinks finish. */
	dpfix_collect_finish(c, "closed at shutdown");
	CHECK(strcmp(v.events + 8, "E") == 0);
	CHECK(strcmp(v.end_why, "closed at shutdown") == 0);
	CHECK_EQ_U64(v.finished, 1);
	v.lost = 5;
	CHECK_EQ_U64(dpfix_collect_sinks_lost(c), 5);
	dpfix_collect_free(c);
	close(fd);
}

/* A sender that only sends junk never reaches the sinks. */
static void
test_junk_session_unseen(void)
{
	struct seen v = {0};
	uint16_t port = free_port();
	struct dpfix_collect *c = collector_on(port, &v);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct dpfix_collect_stats st = {0};

	CHECK(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1);
	for (int i = 0; i < 2000 && st.decode.malformed_messages == 0; i++) {
		if (dpfix_collect_serve(c, NULL) == 0)
			usleep(1000);
		dpfix_collect_stats(c, &st);
	}
	CHECK_EQ_U64(st.decode.malformed_messages, 1);
	dpfix_collect_finish(c, "closed");
	/* A session that delivered a message is told, junk or not, so a file sink can
	 * count what it refused; its end too. */
	CHECK(strcmp(v.events, "SmE") == 0);
	dpfix_collect_free(c);
	close(fd);
}

struct stop_after {
	struct seen *v;
	unsigned int events;
	int asked;
};

static int
stop_when_seen(void *arg)
{
	struct stop_after *s = arg;

	s->asked++;
	return s->v->n >= s->events;
}

/* Two instances in one process, each with its own listener, sessions and counters; the
 * loop of each stops when asked. */
static void
test_two_instances_and_run(void)
{
	struct seen va = {0}, vb = {0};
	uint16_t pa = free_port(), pb = free_port();
	struct dpfix_collect *a = collector_on(pa, &va), *b = collector_on(pb, &vb);
	struct stop_after sa = {.v = &va, .events = 4}, sb = {.v = &vb, .events = 5};
	struct dpfix_collect_stats st;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	send_message(fd, pa, 0, 1, (const uint64_t[]){1}, 1);
	send_message(fd, pb, 0, 1, (const uint64_t[]){10, 20}, 2);
	dpfix_collect_run(a, &(struct dpfix_collect_stop){.fd = -1, .requested = stop_when_seen,
			.arg = &sa});
	dpfix_collect_run(b, &(struct dpfix_collect_stop){.fd = -1, .requested = stop_when_seen,
			.arg = &sb});
	CHECK(strcmp(va.events, "STRM") == 0);
	CHECK(strcmp(vb.events, "STRRM") == 0);
	CHECK(sa.asked > 1 && sb.asked > 1);
	dpfix_collect_stats(a, &st);
	CHECK_EQ_U64(st.packets, 1);
	CHECK_EQ_U64(va.session_id, 1);
	dpfix_collect_stats(b, &st);
	CHECK_EQ_U64(st.packets, 30);
	CHECK_EQ_U64(vb.session_id, 1);
	CHECK(dpfix_collect_drain(a, &(struct dpfix_collect_stop){.fd = -1,
			.requested = stop_when_seen, .arg = &(struct stop_after){.v = &va, .events = 99}},
			1000) == DPFIX_COLLECT_DRAINED);
	CHECK_EQ_U64(dpfix_collect_unread_after_stop(a), 0);
	dpfix_collect_free(a);
	dpfix_collect_free(b);
	close(fd);
}

/* An exporter over tls+tcp with a pre-shared key, in a thread of its own: one message
 * with a template and a record, then an orderly end. */
struct tls_exporter {
	char url[64];
	struct dpfix_session_params params;
	atomic_int sent;
	int ok;
};

static void *
tls_exporter_run(void *arg)
{
	struct tls_exporter *x = arg;
	struct dpfix_endpoint ep;
	struct dpfix_session *s;
	char err[DPFIX_SESSION_ERRLEN];
	static struct raw m;

	make_message(&m, 0, 1, (const uint64_t[]){9}, 1);
	if (dpfix_endpoint_parse(x->url, &ep, err, sizeof(err)) < 0 ||
			(s = dpfix_session_open(&ep, &x->params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "  exporter: %s\n", err);
		atomic_store(&x->sent, -1);
		return NULL;
	}
	x->ok = dpfix_session_send(s, m.b, m.len, DPFIX_MESSAGE_DATA) == 0;
	atomic_store(&x->sent, 1);
	dpfix_session_close(s);
	return NULL;
}

struct identity_wait {
	struct seen *v;
	struct tls_exporter *x;
};

/* The end seen, or the exporter could not connect (then the checks below fail). */
static int
stop_when_ended(void *arg)
{
	struct identity_wait *w = arg;

	return w->v->n >= 5 || atomic_load(&w->x->sent) < 0;
}

/* The sinks learn who a (D)TLS exporter proved to be: its PSK identity. */
static void
test_session_identity(void)
{
	struct seen v = {0};
	struct dpfix_collect_params p = {.max_sessions = 4};
	struct dpfix_collect_sink sink = {.ops = &test_ops, .ctx = &v};
	struct tls_exporter x = {.params = {.connect_timeout_ms = 5000}};
	char psk[] = "/tmp/dpfix-test-collect-psk-XXXXXX";
	int fd = mkstemp(psk);
	struct dpfix_collect *c;
	pthread_t thread;

	CHECK(fd >= 0 && write(fd, "probe7.example:000102030405060708090a0b0c0d0e0f\n", 48) == 48);
	close(fd);
	snprintf(p.session.security.psk_file, sizeof(p.session.security.psk_file), "%s", psk);
	x.params.security = p.session.security;
	snprintf(x.params.security.psk_identity, sizeof(x.params.security.psk_identity),
			"probe7.example");
	c = tls_collector(&p, x.url, sizeof(x.url));
	CHECK(c != NULL);
	CHECK(dpfix_collect_add_sink(c, &sink) == 0);
	pthread_create(&thread, NULL, tls_exporter_run, &x);
	/* Start, template, record, message, then the end the exporter asks for. */
	dpfix_collect_run(c, &(struct dpfix_collect_stop){.fd = -1, .requested = stop_when_ended,
			.arg = &(struct identity_wait){.v = &v, .x = &x}});
	pthread_join(thread, NULL);
	CHECK(x.ok);
	CHECK(strcmp(v.events, "STRME") == 0);
	CHECK(strcmp(v.identity, "probe7.example") == 0);
	CHECK(strcmp(v.end_why, "closed by the exporter") == 0);
	dpfix_collect_free(c);
	unlink(psk);
}

/* The exporter of test_lineage: message seq (a template and one record) on s. */
static int
send_on(struct dpfix_session *s, uint32_t seq)
{
	static struct raw m;

	make_message(&m, seq, 1, (const uint64_t[]){1}, 1);
	return dpfix_session_send(s, m.b, m.len, DPFIX_MESSAGE_DATA) == 0;
}

/* Three sessions of one exporter: A (sequence 0), then B beside it (1: goes on where A
 * ends, a hand-off), A ends, B ends; then C (5: three records missing since B). */
static void *
lineage_exporter_run(void *arg)
{
	struct tls_exporter *x = arg;
	struct dpfix_session *a, *b, *c;
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN];

	if (dpfix_endpoint_parse(x->url, &ep, err, sizeof(err)) < 0 ||
			(a = dpfix_session_open(&ep, &x->params, err, sizeof(err))) == NULL ||
			(b = dpfix_session_open(&ep, &x->params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "  exporter: %s\n", err);
		atomic_store(&x->sent, -1);
		return NULL;
	}
	x->ok = send_on(a, 0);
	usleep(100000); /* A is started first, so B continues it */
	x->ok &= send_on(b, 1);
	usleep(100000);
	dpfix_session_close(a);
	usleep(100000);
	dpfix_session_close(b);
	usleep(100000);
	c = dpfix_session_open(&ep, &x->params, err, sizeof(err));
	x->ok &= c != NULL && send_on(c, 5);
	if (c != NULL)
		dpfix_session_close(c);
	atomic_store(&x->sent, 1);
	return NULL;
}

/* Three sessions' ends seen (5 events each). */
static int
stop_when_three_ended(void *arg)
{
	struct identity_wait *w = arg;

	return w->v->n >= 15 || atomic_load(&w->x->sent) < 0;
}

/* A session from the same authenticated exporter as one open or just closed continues
 * it: its sequence numbers are checked against where that one ended, once all of it was
 * read (a hand-off that goes on is whole; records missing between the two counted). */
static void
test_lineage(void)
{
	struct seen v = {0};
	struct dpfix_collect_params p = {.max_sessions = 4};
	struct dpfix_collect_sink sink = {.ops = &test_ops, .ctx = &v};
	struct tls_exporter x = {.params = {.connect_timeout_ms = 5000}};
	char psk[] = "/tmp/dpfix-test-collect-psk-XXXXXX";
	struct dpfix_collect_stats st;
	int fd = mkstemp(psk);
	struct dpfix_collect *c;
	pthread_t thread;

	CHECK(fd >= 0 && write(fd, "probe7.example:000102030405060708090a0b0c0d0e0f\n", 48) == 48);
	close(fd);
	snprintf(p.session.security.psk_file, sizeof(p.session.security.psk_file), "%s", psk);
	x.params.security = p.session.security;
	snprintf(x.params.security.psk_identity, sizeof(x.params.security.psk_identity),
			"probe7.example");
	c = tls_collector(&p, x.url, sizeof(x.url));
	CHECK(c != NULL);
	CHECK(dpfix_collect_add_sink(c, &sink) == 0);
	pthread_create(&thread, NULL, lineage_exporter_run, &x);
	dpfix_collect_run(c, &(struct dpfix_collect_stop){.fd = -1, .requested = stop_when_three_ended,
			.arg = &(struct identity_wait){.v = &v, .x = &x}});
	pthread_join(thread, NULL);
	CHECK(x.ok);
	dpfix_collect_stats(c, &st);
	CHECK_EQ_U64(st.sessions_opened, 3);
	CHECK_EQ_U64(st.sessions_continued, 2);
	CHECK_EQ_U64(st.sequence_lost_across, 3);
	CHECK_EQ_U64(st.decode.sequence_lost, 0); /* each session alone is whole */
	dpfix_collect_free(c);
	unlink(psk);
}

/* A sink whose every message takes 20 ms, as an output under load may (a busy
 * database, --json under ASan): what each session delivered, and how it ended. */
#define SLOW_MESSAGE_NS 20000000
#define SLOW_SESSIONS 8
struct slow_seen {
	uint64_t messages[SLOW_SESSIONS];   /* by session id */
	int ended[SLOW_SESSIONS];
	char end_why[SLOW_SESSIONS][64];
};

static void
slow_message(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg, size_t len,
		int malformed)
{
	struct slow_seen *v = ctx;

	(void)msg;
	(void)len;
	CHECK(!malformed);
	nanosleep(&(struct timespec){.tv_nsec = SLOW_MESSAGE_NS}, NULL);
	v->messages[s->id % SLOW_SESSIONS]++;
}

static void
slow_end(void *ctx, const struct dpfix_collect_session *s, const char *why)
{
	struct slow_seen *v = ctx;

	v->ended[s->id % SLOW_SESSIONS] = 1;
	snprintf(v->end_why[s->id % SLOW_SESSIONS], sizeof(v->end_why[0]), "%s", why);
}

static const struct dpfix_collect_sink_ops slow_ops = {
	.name = "slow", .message = slow_message, .session_end = slow_end,
};

/* A plain TCP exporter that has sent messages (a template, then one record each) and
 * keeps its socket open: more than the collector reads in the test. */
static int
bulk_exporter(const char *url, unsigned int messages)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1))};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	static struct raw m;

	CHECK(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0);
	for (uint32_t seq = 0; seq < messages; seq++) {
		make_message(&m, seq, seq == 0, (const uint64_t[]){1}, 1);
		CHECK(write(fd, m.b, m.len) == (ssize_t)m.len);
	}
	return fd;
}

/* Two plain TCP exporters that never let up and a slow output keep the collector's
 * thread busy; a TLS and a DTLS exporter that start meanwhile must get through their
 * handshake all the same (within the collector's handshake_timeout, 5 s, and the
 * exporter's own connect timeout) and
 * deliver. A round of the loop reads for about 10 ms, its handshakes first; the busy
 * sessions take turns, from round to round. (Before, a round read 64 messages of each
 * busy session, 1.3 s each here: the handshakes timed out.) */
static void
test_busy_sessions_leave_handshakes_their_turn(void)
{
	struct slow_seen v = {0};
	struct dpfix_collect_params p = {.max_sessions = SLOW_SESSIONS - 1};
	struct dpfix_collect_sink sink = {.ops = &slow_ops, .ctx = &v};
	struct tls_exporter x = {.params = {.mtu = 1400, .connect_timeout_ms = 5000}}, y = x;
	char psk[] = "/tmp/dpfix-test-collect-psk-XXXXXX", tcp_url[64];
	const char keys[] = "probe7.example:000102030405060708090a0b0c0d0e0f\n"
			"probe8.example:0f0e0d0c0b0a09080706050403020100\n";
	struct dpfix_collect_stats st;
	int fd = mkstemp(psk), bulk[2];
	uint64_t end_ms = dpfix_collect_now_ms() + 10000;
	struct dpfix_collect *c;
	pthread_t threads[2];

	CHECK(fd >= 0 && write(fd, keys, sizeof(keys) - 1) == (ssize_t)sizeof(keys) - 1);
	close(fd);
	snprintf(p.session.security.psk_file, sizeof(p.session.security.psk_file), "%s", psk);
	x.params.security = y.params.security = p.session.security;
	snprintf(x.params.security.psk_identity, sizeof(x.params.security.psk_identity),
			"probe7.example");
	snprintf(y.params.security.psk_identity, sizeof(y.params.security.psk_identity),
			"probe8.example");
	c = tls_collector(&p, x.url, sizeof(x.url));
	CHECK(c != NULL && listen_free(c, "dtls+udp", y.url, sizeof(y.url)) == 0 &&
			listen_free(c, "tcp", tcp_url, sizeof(tcp_url)) == 0);
	CHECK(dpfix_collect_add_sink(c, &sink) == 0);
	bulk[0] = bulk_exporter(tcp_url, 400);
	bulk[1] = bulk_exporter(tcp_url, 400);
	while (v.messages[1] == 0 || v.messages[2] == 0) /* sessions 1 and 2 */
		dpfix_collect_serve(c, NULL);
	pthread_create(&threads[0], NULL, tls_exporter_run, &x);
	pthread_create(&threads[1], NULL, tls_exporter_run, &y);
	/* Until both sent and closed, and their messages (sessions 3 and 4) are read, or
	 * one of them failed. */
	while (dpfix_collect_now_ms() < end_ms && (atomic_load(&x.sent) == 0 ||
			atomic_load(&y.sent) == 0 || (v.messages[3] + v.messages[4] < 2 &&
			atomic_load(&x.sent) > 0 && atomic_load(&y.sent) > 0)))
		dpfix_collect_serve(c, NULL);
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	CHECK(x.ok && y.ok);
	CHECK_EQ_U64(v.messages[3], 1);
	CHECK_EQ_U64(v.messages[4], 1);
	dpfix_collect_stats(c, &st);
	CHECK_EQ_U64(st.sessions_refused, 0);
	CHECK_EQ_U64(st.sessions_handshake_timeout, 0);
	/* The busy ones were still sending, and took turns. */
	CHECK(v.messages[1] < 400 && v.messages[2] < 400 && !v.ended[1] && !v.ended[2]);
	CHECK(v.messages[1] + 2 >= v.messages[2] && v.messages[2] + 2 >= v.messages[1]);
	printf("  busy sessions read meanwhile: %" PRIu64 " and %" PRIu64 " messages\n",
			v.messages[1], v.messages[2]);
	dpfix_collect_free(c);
	close(bulk[0]);
	close(bulk[1]);
	unlink(psk);
}

/* A CA, and certificates for collector.example and probe8.example (SAN too), made with
 * the openssl CLI in dir. 0 or -1. */
static int
make_certificates(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && exec >pki.log 2>&1 && "
			"openssl ecparam -name prime256v1 -genkey -noout -out ca.key && "
			"openssl req -x509 -new -key ca.key -sha256 -days 30 -subj '/CN=test CA' "
			"-out ca.pem && "
			"for n in collector probe8; do "
			"openssl ecparam -name prime256v1 -genkey -noout -out $n.key && "
			"openssl req -new -key $n.key -subj /CN=$n.example -out $n.csr && "
			"printf 'subjectAltName=DNS:%%s.example,IP:127.0.0.1\\n' $n >$n.ext && "
			"openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
			"-sha256 -extfile $n.ext -out $n.pem || exit 1; done", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
set_credentials(struct dpfix_security_params *sec, const char *dir, const char *name)
{
	snprintf(sec->cert_file, sizeof(sec->cert_file), "%s/%s.pem", dir, name);
	snprintf(sec->key_file, sizeof(sec->key_file), "%s/%s.key", dir, name);
	snprintf(sec->ca_file, sizeof(sec->ca_file), "%s/ca.pem", dir);
}

/* X.509 without a peer_name on the collector: the identity is the certificate's CN. */
static void
test_certificate_identity(void)
{
	struct seen v = {0};
	struct dpfix_collect_params p = {.max_sessions = 4};
	struct dpfix_collect_sink sink = {.ops = &test_ops, .ctx = &v};
	struct tls_exporter x = {.params = {.connect_timeout_ms = 5000}};
	char dir[] = "/tmp/dpfix-test-collect-pki-XXXXXX", cmd[128];
	struct dpfix_collect *c;
	pthread_t thread;

	CHECK(mkdtemp(dir) != NULL && make_certificates(dir) == 0);
	set_credentials(&p.session.security, dir, "collector");
	set_credentials(&x.params.security, dir, "probe8");
	snprintf(x.params.security.peer_name, sizeof(x.params.security.peer_name),
			"collector.example");
	c = tls_collector(&p, x.url, sizeof(x.url));
	CHECK(c != NULL);
	CHECK(dpfix_collect_add_sink(c, &sink) == 0);
	pthread_create(&thread, NULL, tls_exporter_run, &x);
	dpfix_collect_run(c, &(struct dpfix_collect_stop){.fd = -1, .requested = stop_when_ended,
			.arg = &(struct identity_wait){.v = &v, .x = &x}});
	pthread_join(thread, NULL);
	CHECK(x.ok);
	CHECK(strcmp(v.events, "STRME") == 0);
	CHECK(strcmp(v.identity, "probe8.example") == 0);
	dpfix_collect_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int
main(void)
{
	RUN_TEST(test_sink_events);
	RUN_TEST(test_junk_session_unseen);
	RUN_TEST(test_two_instances_and_run);
	RUN_TEST(test_session_identity);
	RUN_TEST(test_certificate_identity);
	RUN_TEST(test_lineage);
	RUN_TEST(test_busy_sessions_leave_handshakes_their_turn);
	return unit_test_summary();
}
