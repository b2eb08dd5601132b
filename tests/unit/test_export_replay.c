/* lib/export's heartbeats and replay buffer (doc/heartbeats.md) over real tls+tcp
 * sessions on loopback, a dpfix listener in a thread of this process as the collector:
 * what the collector confirmed (an answered heartbeat) is let go; what it did not is sent
 * again, byte for byte, on the next session, after templates that carry its first
 * sequence number, so the collector reads one run of numbers; what the buffer could not
 * hold, or everything without a buffer, is counted as unconfirmed when the session fails;
 * nothing is counted twice. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_export.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_options.h"
#include "unit_loopback.h"
#include "unit_test.h"

#define NS_PER_S 1000000000ull
#define MAX_SEEN 64

static struct dpfix_ipfix_schema schema;  /* 32-octet records of template 256 */
static struct dpfix_ipfix_schema iface_schema; /* variable-length records, template 257 */

/* The collector end: accepts sessions one after the other and keeps what each reads. */
struct collector {
	struct dpfix_listener *listener;
	struct dpfix_session *session;
	pthread_t thread;
	atomic_int stop, paused, generation;    /* generation: sessions accepted */
	pthread_mutex_t lock;
	unsigned int messages;
	uint8_t *msg[MAX_SEEN];
	size_t len[MAX_SEEN];
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
		if (c->session == NULL && (c->session = dpfix_listener_accept(c->listener)) != NULL)
			atomic_fetch_add(&c->generation, 1);
		if (c->session != NULL && !atomic_load(&c->paused))
			n = dpfix_session_recv(c->session, buf, sizeof(buf), err, sizeof(err));
		if (n > 0) {
			pthread_mutex_lock(&c->lock);
			if (c->messages < MAX_SEEN) {
				c->msg[c->messages] = malloc((size_t)n);
				memcpy(c->msg[c->messages], buf, (size_t)n);
				c->len[c->messages++] = (size_t)n;
			}
			pthread_mutex_unlock(&c->lock);
		} else if (n == -EAGAIN) {
			usleep(500);
		} else { /* the exporter's end, or an error: gone; the next may come */
			dpfix_session_abort(c->session);
			c->session = NULL;
		}
	}
	return NULL;
}

/* A collector listening on scheme://127.0.0.1 (a free port), its endpoint in *ep, reading
 * in a thread of its own. 0, or -1 (said) if it cannot listen. */
static int
collector_open(struct collector *c, const char *scheme, const struct dpfix_session_params *p,
		struct dpfix_endpoint *ep)
{
	char url[64], err[DPFIX_SESSION_ERRLEN];

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strstr(scheme, "udp") != NULL ? SOCK_DGRAM : SOCK_STREAM));
	CHECK(dpfix_endpoint_parse(url, ep, err, sizeof(err)) == 0);
	c->listener = dpfix_listener_open(ep, p, err, sizeof(err));
	if (c->listener == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		return -1;
	}
	pthread_create(&c->thread, NULL, collector_thread, c);
	return 0;
}

static void
collector_close(struct collector *c)
{
	atomic_store(&c->stop, 1);
	pthread_join(c->thread, NULL);
	dpfix_session_abort(c->session);
	for (unsigned int i = 0; i < c->messages; i++)
		free(c->msg[i]);
	dpfix_listener_close(c->listener);
}

/* Drops the collector's session at once (as a SIGKILL would) and forgets what it read. */
static void
collector_reset(struct collector *c)
{
	atomic_store(&c->paused, 1);
	usleep(20 * 1000);
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < c->messages; i++)
		free(c->msg[i]);
	c->messages = 0;
	pthread_mutex_unlock(&c->lock);
	dpfix_session_abort(c->session);
	c->session = NULL;
	atomic_store(&c->paused, 0);
}

/* An exporter's session to ep, with heartbeats agreed if p offers them. */
static struct dpfix_session *
open_session(const struct dpfix_endpoint *ep, const struct dpfix_session_params *p)
{
	char err[DPFIX_SESSION_ERRLEN];
	struct dpfix_session *s = dpfix_session_open(ep, p, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "  %s\n", err);
	CHECK(s != NULL && (p->heartbeat_interval_ms == 0 || dpfix_session_heartbeats(s)));
	return s;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Polls the exporter until the collector has answered heartbeat id (2 s at most). */
static int
answered(struct dpfix_export *x, uint32_t want)
{
	for (int i = 0; i < 2000; i++) {
		uint32_t id;

		dpfix_export_poll(x, now_ns());
		while (dpfix_export_heartbeat_answered(x, &id))
			if (id == want)
				return 1;
		usleep(1000);
	}
	return 0;
}

/* Polls a session just taken up until its probation is over (and a replay sent). */
static void
trusted(struct dpfix_export *x)
{
	for (int i = 0; i < 2000 && dpfix_export_state(x) != DPFIX_EXPORT_TRUSTED; i++) {
		usleep(1000);
		dpfix_export_poll(x, now_ns());
	}
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	dpfix_export_poll(x, now_ns());
}

/* Polls until the collector has read want messages (2 s at most). */
static unsigned int
wait_messages(struct collector *c, struct dpfix_export *x, unsigned int want)
{
	unsigned int n = 0;

	for (int i = 0; i < 2000 && n < want; i++) {
		dpfix_export_poll(x, now_ns());
		pthread_mutex_lock(&c->lock);
		n = c->messages;
		pthread_mutex_unlock(&c->lock);
		if (n < want)
			usleep(1000);
	}
	return n;
}

/* One data message of `records` records of domain d, sent now. */
static void
send_message(struct dpfix_export *x, struct dpfix_export_domain *d, unsigned int records)
{
	struct dpfix_ipfix_metering_stats r = {.observation_domain = 3};

	for (unsigned int i = 0; i < records; i++) {
		r.messages = i;
		CHECK(dpfix_export_record(d, &schema, &r, 1, 100, now_ns()) == 0);
	}
	dpfix_export_flush(x, now_ns());
}

/* What a run exports over: a session of scheme (tls+tcp, dtls+udp, tcp; a secure one
 * with a PSK and heartbeats every second), the export's replay buffer and probation, and
 * whether its domain has iface_schema (template 257) besides schema (256). */
struct run_options {
	const char *scheme;
	uint64_t replay_bytes;
	uint64_t probation_ns;
	uint8_t path_mtu_discovery;
	uint8_t iface_schema;
};

/* A collector thread, and an export (domain 3) with its first session taken up and
 * trusted. */
struct run {
	struct collector c;
	struct dpfix_endpoint ep;
	struct dpfix_session_params params;
	char psk[32];
	struct dpfix_export *x;
	struct dpfix_export_domain *d;
};

static int
start(struct run *r, const struct run_options *o)
{
	char err[DPFIX_SESSION_ERRLEN];

	memset(r, 0, sizeof(*r));
	r->params = (struct dpfix_session_params){.mtu = 1400, .connect_timeout_ms = 5000,
		.path_mtu_discovery = o->path_mtu_discovery};
	if (strchr(o->scheme, '+') != NULL) {          /* (D)TLS */
		snprintf(r->psk, sizeof(r->psk), "/tmp/dpfix-test-psk-XXXXXX");
		CHECK(unit_psk_file(&r->params, r->psk) == 0);
		r->params.heartbeat_interval_ms = 1000;
	}
	if (collector_open(&r->c, o->scheme, &r->params, &r->ep) != 0)
		return -1;
	r->x = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = 600 * NS_PER_S, .flush_ns = 600 * NS_PER_S,
		.options_interval_ns = 600 * NS_PER_S, .probation_ns = o->probation_ns,
		.replay_bytes = o->replay_bytes}, err, sizeof(err));
	CHECK(r->x != NULL);
	CHECK(dpfix_export_add_domain(r->x, 3, &r->d) == 0);
	CHECK(dpfix_export_add_schema(r->d, &schema) == 0);
	if (o->iface_schema)
		CHECK(dpfix_export_add_schema(r->d, &iface_schema) == 0);
	dpfix_export_take_up(r->x, open_session(&r->ep, &r->params), now_ns());
	trusted(r->x);
	return 0;
}

static void
finish(struct run *r)
{
	dpfix_export_free(r->x);
	collector_close(&r->c);
	if (r->psk[0] != '\0')
		unlink(r->psk);
}

/* The replay tests' run: tls+tcp, both schemas. */
static int
start_tls_tcp(struct run *r, uint64_t replay_bytes, uint64_t probation_ns)
{
	return start(r, &(struct run_options){.scheme = "tls+tcp", .replay_bytes = replay_bytes,
		.probation_ns = probation_ns, .iface_schema = 1});
}

/* The collector dies with messages it never confirmed: on the next session they come
 * again, as they were, after templates numbered like the first of them, and new data
 * follows in sequence. Nothing is counted lost or unconfirmed. */
static void
test_replayed_after_death(void)
{
	static struct run r;
	const struct dpfix_export_stats *st;
	uint8_t *first[3];
	size_t first_len[3];

	if (start_tls_tcp(&r, 1 << 20, NS_PER_S / 5) != 0) {
		CHECK(0);
		return;
	}
	st = dpfix_export_stats(r.x);
	send_message(r.x, r.d, 10);                     /* confirmed: sequence 0 */
	CHECK(dpfix_export_heartbeat(r.x, 1, now_ns()) == 0);
	CHECK(answered(r.x, 1));
	send_message(r.x, r.d, 7);                      /* not confirmed: 10 */
	send_message(r.x, r.d, 5);                      /* not confirmed: 17 */
	CHECK(dpfix_export_heartbeat(r.x, 2, now_ns()) == 0);
	CHECK(wait_messages(&r.c, r.x, 4) == 4);        /* templates, 3 data messages */
	for (int i = 0; i < 3; i++) {                   /* as the first collector read them */
		first_len[i] = r.c.len[1 + i];
		first[i] = malloc(first_len[i]);
		memcpy(first[i], r.c.msg[1 + i], first_len[i]);
	}
	/* It dies before answering 2; the program says so. */
	collector_reset(&r.c);
	dpfix_export_fail(r.x, "its collector stopped answering heartbeats", now_ns());
	CHECK(dpfix_export_state(r.x) == DPFIX_EXPORT_FAILED);
	CHECK_EQ_U64(st->records_unconfirmed, 0);
	dpfix_session_abort(dpfix_export_take_up(r.x, open_session(&r.ep, &r.params), now_ns()));
	/* A heartbeat answered on the new session during its probation, before the replay
	 * has gone, confirms nothing held (it did once, and they were never sent again). */
	CHECK(dpfix_export_heartbeat(r.x, 9, now_ns()) == 0);
	CHECK(answered(r.x, 9));
	CHECK(dpfix_export_state(r.x) == DPFIX_EXPORT_PROBATION);
	trusted(r.x);
	send_message(r.x, r.d, 3);                      /* new: 22 */
	CHECK(wait_messages(&r.c, r.x, 4) == 4);
	pthread_mutex_lock(&r.c.lock);
	/* Templates, numbered 10 (the replay's first); then the two messages, unchanged. */
	CHECK(dpfix_get16(r.c.msg[0] + 16) == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	CHECK_EQ_U64(dpfix_get32(r.c.msg[0] + 8), 10);
	CHECK(r.c.len[1] == first_len[1] && memcmp(r.c.msg[1], first[1], first_len[1]) == 0);
	CHECK(r.c.len[2] == first_len[2] && memcmp(r.c.msg[2], first[2], first_len[2]) == 0);
	CHECK_EQ_U64(dpfix_get32(r.c.msg[3] + 8), 22);
	pthread_mutex_unlock(&r.c.lock);
	CHECK_EQ_U64(st->records_replayed, 12);
	CHECK_EQ_U64(st->records_lost, 0);
	CHECK_EQ_U64(st->records_unconfirmed, 0);
	CHECK_EQ_U64(st->records_exported, 25);
	/* Answered on the new session: nothing is held any more, so a second death loses
	 * nothing and replays nothing. */
	CHECK(dpfix_export_heartbeat(r.x, 3, now_ns()) == 0);
	CHECK(answered(r.x, 3));
	dpfix_export_fail(r.x, "again", now_ns());
	CHECK_EQ_U64(st->records_unconfirmed, 0);
	for (int i = 0; i < 3; i++)
		free(first[i]);
	finish(&r);
}

/* A buffer that holds two messages (exactly, or with room left over, so that an entry
 * that would wrap leaves a gap): the older unconfirmed ones it let go are counted as
 * unconfirmed when the session fails, the two it holds go again. */
static void
check_bounded(uint64_t bytes)
{
	static struct run r;
	const struct dpfix_export_stats *st;

	if (start_tls_tcp(&r, bytes, 1) != 0) {
		CHECK(0);
		return;
	}
	st = dpfix_export_stats(r.x);
	CHECK(dpfix_export_heartbeat(r.x, 1, now_ns()) == 0);
	CHECK(answered(r.x, 1));
	for (int i = 0; i < 5; i++)
		send_message(r.x, r.d, 5);
	dpfix_export_fail(r.x, "dead", now_ns());
	CHECK_EQ_U64(st->records_unconfirmed, 15);      /* 3 messages let go */
	CHECK_EQ_U64(st->sessions_unconfirmed, 1);
	collector_reset(&r.c);
	dpfix_session_abort(dpfix_export_take_up(r.x, open_session(&r.ep, &r.params), now_ns()));
	trusted(r.x);
	CHECK(wait_messages(&r.c, r.x, 3) == 3);
	CHECK_EQ_U64(st->records_replayed, 10);
	pthread_mutex_lock(&r.c.lock);
	CHECK_EQ_U64(dpfix_get32(r.c.msg[0] + 8), 15); /* templates: the first held */
	CHECK_EQ_U64(dpfix_get32(r.c.msg[1] + 8), 15);
	CHECK_EQ_U64(dpfix_get32(r.c.msg[2] + 8), 20);
	pthread_mutex_unlock(&r.c.lock);
	finish(&r);
}

static void
test_bounded(void)
{
	/* An entry: 32 octets of its own, then the message (a 16-octet header, a 4-octet
	 * set header, 5 records of 32) rounded to 8: 216 octets. */
	check_bounded(2 * 216);
	check_bounded(2 * 216 + 100);
}

/* Without a buffer, what was sent since the last answer is counted when the session
 * fails, and what the answer confirmed is not. */
static void
test_without_buffer(void)
{
	static struct run r;
	const struct dpfix_export_stats *st;

	if (start_tls_tcp(&r, 0, 1) != 0) {
		CHECK(0);
		return;
	}
	st = dpfix_export_stats(r.x);
	send_message(r.x, r.d, 4);
	CHECK(dpfix_export_heartbeat(r.x, 1, now_ns()) == 0);
	CHECK(answered(r.x, 1));
	send_message(r.x, r.d, 6);
	dpfix_export_fail(r.x, "dead", now_ns());
	CHECK_EQ_U64(st->records_unconfirmed, 6);
	CHECK_EQ_U64(st->records_replayed, 0);
	finish(&r);
}

/* The big message of test_resplit: `records` records of 32 octets, or (mixed) every
 * other one an interface's with a name of 0 to 199 octets, in sets that alternate. */
static void
send_big(struct dpfix_export *x, struct dpfix_export_domain *d, unsigned int records,
		int mixed)
{
	struct dpfix_ipfix_metering_stats r = {.observation_domain = 3};
	static char name[200];

	memset(name, 'n', sizeof(name) - 1);
	for (unsigned int i = 0; i < records; i++) {
		struct dpfix_ipfix_interface_info in = {.ingress_interface = i,
			.name = name + sizeof(name) - 1 - (i * 37) % sizeof(name), .description = ""};

		r.messages = i;
		if (mixed && i % 2)
			CHECK(dpfix_export_record(d, &iface_schema, &in, 1, 100, now_ns()) == 0);
		else
			CHECK(dpfix_export_record(d, &schema, &r, 1, 100, now_ns()) == 0);
	}
	dpfix_export_flush(x, now_ns());
}

/* Message m's data records, each as its template id and its octets, appended to out
 * (at *out_len); returns how many. Walked with lib/ipfix's own record walker. */
static uint32_t
flatten(const uint8_t *m, size_t len, uint8_t *out, size_t *out_len)
{
	struct dpfix_ipfix_template t[2];
	uint32_t n = 0;

	dpfix_ipfix_schema_template(&schema, &t[0]);
	dpfix_ipfix_schema_template(&iface_schema, &t[1]);
	for (size_t off = 16; off + 4 <= len;) {
		uint16_t id = dpfix_get16(m + off), set_len = dpfix_get16(m + off + 2);
		const struct dpfix_ipfix_template *tt = &t[id == 257];
		size_t pos = off + 4, end = off + set_len;

		CHECK((id == 256 || id == 257) && set_len >= 4 && end <= len);
		if (!((id == 256 || id == 257) && set_len >= 4 && end <= len))
			return n;
		while (end - pos >= tt->min_record_length) {
			int r = dpfix_ipfix_record_fields(tt, m + pos, (uint32_t)(end - pos), NULL, NULL);

			CHECK(r > 0);
			if (r <= 0)
				return n;
			dpfix_put16(out + *out_len, id);
			memcpy(out + *out_len + 2, m + pos, (size_t)r);
			*out_len += 2 + (size_t)r;
			pos += (size_t)r;
			n++;
		}
		off = end;
	}
	return n;
}

/* The next session takes smaller messages than the one that failed (a backup over
 * dtls+udp, held to its path MTU, after tls+tcp's 65535 octets): a message held that is
 * longer goes again re-split into messages that fit, its records in order and unchanged,
 * each numbered by the records before it, so the collector reads one unbroken run of
 * sequence numbers; nothing is counted lost. Records of 32 octets, or (mixed) in sets of
 * two templates that alternate, every other record of variable length. */
static void
check_resplit(int mixed)
{
	static struct run r;
	static struct collector small;
	static uint8_t want[16384], got[16384], rest[2048]; /* 100 records flattened: < 13000 */
	struct dpfix_endpoint small_ep;
	struct dpfix_session_params small_params;
	const struct dpfix_export_stats *st;
	size_t want_len = 0, got_len = 0;
	uint32_t expected = 10, records = 0, big_time = 0;
	unsigned int n, pieces = 0;

	if (start_tls_tcp(&r, 1 << 20, NS_PER_S / 5) != 0) {
		CHECK(0);
		return;
	}
	st = dpfix_export_stats(r.x);
	send_message(r.x, r.d, 10);                     /* confirmed: sequence 0 */
	CHECK(dpfix_export_heartbeat(r.x, 1, now_ns()) == 0);
	CHECK(answered(r.x, 1));
	send_big(r.x, r.d, 100, mixed);                 /* over 3000 octets: 10 */
	send_message(r.x, r.d, 5);                      /* 110 */
	CHECK(wait_messages(&r.c, r.x, 4) == 4);        /* templates, 3 data messages */
	pthread_mutex_lock(&r.c.lock);
	CHECK(r.c.len[2] > 3000);
	CHECK_EQ_U64(flatten(r.c.msg[2], r.c.len[2], want, &want_len), 100);
	big_time = dpfix_get32(r.c.msg[2] + 4);
	pthread_mutex_unlock(&r.c.lock);
	collector_reset(&r.c);
	dpfix_export_fail(r.x, "its collector stopped answering heartbeats", now_ns());

	/* The backup: dtls+udp, messages of at most 1400 octets less its headers. */
	small_params = r.params;
	small_params.heartbeat_interval_ms = 0;
	if (collector_open(&small, "dtls+udp", &small_params, &small_ep) != 0) {
		CHECK(0);
		finish(&r);
		return;
	}
	dpfix_session_abort(dpfix_export_take_up(r.x, open_session(&small_ep, &r.params),
			now_ns()));
	CHECK(dpfix_session_max_message(dpfix_export_session(r.x)) < 3000);
	trusted(r.x);
	send_message(r.x, r.d, 3);                      /* new: 115 */
	/* Templates, the 100 records in 3 messages or more, the 5, then the 3 (numbered 115),
	 * the last (2 s at most). */
	for (int i = 0, last = 0; i < 2000 && !last; i++) {
		dpfix_export_poll(r.x, now_ns());
		pthread_mutex_lock(&small.lock);
		last = small.messages != 0 && small.len[small.messages - 1] >= 16 &&
				dpfix_get32(small.msg[small.messages - 1] + 8) == 115;
		pthread_mutex_unlock(&small.lock);
		if (!last)
			usleep(1000);
	}
	pthread_mutex_lock(&small.lock);
	n = small.messages;
	pthread_mutex_unlock(&small.lock);
	CHECK(n >= 6);
	pthread_mutex_lock(&small.lock);
	CHECK(n > 0 && dpfix_get16(small.msg[0] + 16) == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	CHECK(n > 0 && dpfix_get32(small.msg[0] + 8) == 10);
	for (unsigned int i = 1; i < n; i++) {
		const uint8_t *m = small.msg[i];
		uint32_t in;
		size_t scratch = 0;

		CHECK(small.len[i] <= dpfix_session_max_message(dpfix_export_session(r.x)));
		CHECK_EQ_U64(dpfix_get32(m + 8), expected);     /* no gap, no overlap */
		CHECK_EQ_U64(dpfix_get32(m + 12), 3);
		if (expected < 110) {   /* a piece of the big one: its time, its records */
			CHECK(dpfix_get32(m + 4) == big_time);
			in = flatten(m, small.len[i], got, &got_len);
			pieces++;
		} else {
			in = flatten(m, small.len[i], rest, &scratch);
		}
		expected += in;
		records += in;
	}
	pthread_mutex_unlock(&small.lock);
	CHECK(pieces >= 3);
	CHECK_EQ_U64(records, 108);
	CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);
	CHECK_EQ_U64(st->records_replayed, 105);
	CHECK_EQ_U64(st->records_lost, 0);
	CHECK_EQ_U64(st->records_unconfirmed, 0);
	CHECK_EQ_U64(st->records_exported, 118);

	finish(&r);
	collector_close(&small);
}

static void
test_resplit_onto_smaller_limit(void)
{
	check_resplit(0);
	check_resplit(1);
}

/* The path MTU shrinks while a message is being filled (dtls+udp: the collector stops
 * answering, the probes of the size in use go unanswered, back to the base size, as
 * when a frozen collector's probes fail before its heartbeats do): the message, begun
 * for the larger size, goes in pieces that fit, numbered as one run, instead of failing
 * whole with EMSGSIZE and counted lost (records_lost 60 before). */
#define RECORDS 38

static void
test_split_when_path_shrinks(void)
{
	static struct run r;
	static uint8_t want[8192], got[8192];
	const struct dpfix_export_stats *st;
	struct dpfix_export *x;
	struct dpfix_export_domain *d;
	const struct dpfix_session *s;
	struct dpfix_ipfix_metering_stats rec = {.observation_domain = 3};
	size_t want_len = 0, got_len = 0;
	uint32_t expected = 0;
	unsigned int n = 0;

	if (start(&r, &(struct run_options){.scheme = "dtls+udp", .replay_bytes = 1 << 20,
			.probation_ns = NS_PER_S / 5, .path_mtu_discovery = 1}) != 0) {
		CHECK(0);
		return;
	}
	x = r.x;
	d = r.d;
	s = dpfix_export_session(x);
	/* The search: 1400 confirmed (the size in use is checked every 5 s after). */
	for (int i = 0; i < 5000 && dpfix_session_path_mtu(s) < 1400; i++) {
		dpfix_export_poll(x, now_ns());
		usleep(1000);
	}
	CHECK_EQ_U64(dpfix_session_path_mtu(s), 1400);
	/* The message being filled was begun at the base size: one record sent, and the
	 * next is begun at the size confirmed. */
	CHECK(dpfix_export_record(d, &schema, &rec, 1, 100, now_ns()) == 0);
	dpfix_export_flush(x, now_ns());
	/* A message filled past what the base size takes (38 records of 32 octets: 1236
	 * octets, a message at 1400 takes 1323, at 1200 1123), not sent yet. */
	for (unsigned int i = 0; i < RECORDS; i++) {
		rec.messages = i;
		CHECK(dpfix_export_record(d, &schema, &rec, 1, 100, now_ns()) == 0);
	}
	atomic_store(&r.c.paused, 1);
	for (int i = 0; i < 8000 && dpfix_session_path_mtu(s) == 1400; i++) {
		dpfix_export_poll(x, now_ns());
		usleep(1000);
	}
	CHECK(dpfix_session_path_mtu(s) < 1400);
	atomic_store(&r.c.paused, 0);
	dpfix_export_flush(x, now_ns());
	st = dpfix_export_stats(x);
	CHECK_EQ_U64(st->records_lost, 0);
	CHECK_EQ_U64(st->send_failures, 0);
	CHECK_EQ_U64(st->records_exported, 1 + RECORDS);
	/* Every record, in messages that fit, numbered as one run: the first record, then
	 * the message's. */
	for (unsigned int i = 0; i <= RECORDS; i++) {
		rec.messages = i == 0 ? 0 : i - 1;
		dpfix_put16(want + want_len, 256);
		want_len += 2;
		want_len += dpfix_ipfix_schema_encode(&schema, &rec, want + want_len);
	}
	for (int i = 0; i < 2000 && got_len < want_len; i++) {
		dpfix_export_poll(x, now_ns());
		pthread_mutex_lock(&r.c.lock);
		for (; n < r.c.messages; n++)    /* data messages: not the templates or options */
			if (dpfix_get16(r.c.msg[n] + 16) == 256) {
				CHECK(r.c.len[n] <= dpfix_session_max_message(s));
				CHECK_EQ_U64(dpfix_get32(r.c.msg[n] + 8), expected);
				expected += flatten(r.c.msg[n], r.c.len[n], got, &got_len);
			}
		pthread_mutex_unlock(&r.c.lock);
		usleep(1000);
	}
	CHECK_EQ_U64(expected, 1 + RECORDS);
	CHECK(got_len == want_len && memcmp(got, want, want_len) == 0);

	finish(&r);
}

/* A plain tcp:// session (no heartbeats) whose collector went away fails on a send: the
 * message that send could not give its transport goes whole on the next session
 * (records_replayed), as a message SCTP gives back does, when the replay buffer has
 * room; it was counted lost. (The message sent just before, into the connection the
 * collector had closed, is the session's, as before.) */
static void
failed_send(uint64_t replay_bytes)
{
	static struct run r;
	const struct dpfix_export_stats *st;
	struct dpfix_export *x;
	struct dpfix_export_domain *d;
	int found = 0;

	if (start(&r, &(struct run_options){.scheme = "tcp", .replay_bytes = replay_bytes,
			.probation_ns = NS_PER_S / 5}) != 0) {
		CHECK(0);
		return;
	}
	x = r.x;
	d = r.d;
	st = dpfix_export_stats(x);
	send_message(x, d, 5);                          /* sequence 0 */
	CHECK(wait_messages(&r.c, x, 2) == 2);          /* templates, the 5 */
	collector_reset(&r.c);                          /* closed: its FIN comes */
	usleep(50 * 1000);
	send_message(x, d, 6);                          /* 5: into the closed one; RST back */
	usleep(50 * 1000);
	send_message(x, d, 7);                          /* 11: the send fails */
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_FAILED);
	CHECK_EQ_U64(st->send_failures, 1);
	/* Without a replay buffer there is nowhere to keep it: counted lost. */
	CHECK_EQ_U64(st->records_lost, replay_bytes != 0 ? 0 : 7);
	if (replay_bytes != 0) {
		dpfix_session_abort(dpfix_export_take_up(x, open_session(&r.ep, &r.params), now_ns()));
		trusted(x);
	}
	/* On the new session, after its templates: the 7, numbered 11, byte for byte. */
	for (int i = 0; i < 2000 && !found && replay_bytes != 0; i++) {
		dpfix_export_poll(x, now_ns());
		pthread_mutex_lock(&r.c.lock);
		for (unsigned int k = 0; k < r.c.messages; k++)
			found |= r.c.len[k] == 16 + 4 + 7 * 32 && dpfix_get16(r.c.msg[k] + 16) == 256 &&
					dpfix_get32(r.c.msg[k] + 8) == 11;
		pthread_mutex_unlock(&r.c.lock);
		usleep(1000);
	}
	CHECK(found == (replay_bytes != 0));
	CHECK_EQ_U64(st->records_replayed, replay_bytes != 0 ? 7 : 0);
	CHECK_EQ_U64(st->records_lost, replay_bytes != 0 ? 0 : 7);
	CHECK_EQ_U64(st->records_exported, 18);

	finish(&r);
}

static void
test_failed_send_kept(void)
{
	failed_send(1 << 20);
}

/* replay_buffer 0: the failed message is counted lost, and the replay ring of no size
 * is never divided by (it was: SIGFPE in heartbeat_dead's killed tcp --replay-buffer 0). */
static void
test_failed_send_without_buffer(void)
{
	failed_send(0);
}

int
main(void)
{
	dpfix_ipfix_metering_stats_schema(&schema, 256);
	dpfix_ipfix_interface_info_schema(&iface_schema, 257);
	RUN_TEST(test_replayed_after_death);
	RUN_TEST(test_bounded);
	RUN_TEST(test_without_buffer);
	RUN_TEST(test_resplit_onto_smaller_limit);
	RUN_TEST(test_split_when_path_shrinks);
	RUN_TEST(test_failed_send_kept);
	RUN_TEST(test_failed_send_without_buffer);
	return unit_test_summary();
}
