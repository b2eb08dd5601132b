/* lib/export, the Exporting Process, over real sessions on loopback (a dpfix listener
 * in this same process reads what it sends): templates before data, sequence numbers
 * per observation domain, messages within the session's limit, a new session taking
 * up the message being filled, probation, a session closed by the collector, and the
 * counting of what is dropped. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_export.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_options.h"
#include "unit_loopback.h"
#include "unit_test.h"

#define NS_PER_S 1000000000ull

static struct dpfix_ipfix_schema schema;  /* 32-octet records of template 256 */

/* A collector end: a listener on SCHEME://127.0.0.1:free, and the exporter's session. */
struct peer {
	struct dpfix_listener *listener;
	struct dpfix_session *server;
	struct dpfix_session *client;
};

static int
connect_peer(struct peer *p, const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 3000};
	char url[64], err[DPFIX_SESSION_ERRLEN];
	struct dpfix_endpoint ep;

	memset(p, 0, sizeof(*p));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strcmp(scheme, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM));
	if (dpfix_endpoint_parse(url, &ep, err, sizeof(err)) < 0 ||
			(p->listener = dpfix_listener_open(&ep, &params, err, sizeof(err))) == NULL ||
			(p->client = dpfix_session_open(&ep, &params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		return -1;
	}
	return 0;
}

static void
close_peer(struct peer *p)
{
	dpfix_session_close(p->server);
	dpfix_listener_close(p->listener);
}

/* The next message the collector end has, into buf; its length, or 0 if none comes
 * within a second. */
static size_t
next_message(struct peer *p, uint8_t *buf, size_t cap)
{
	char err[DPFIX_SESSION_ERRLEN];

	for (int i = 0; i < 1000; i++) {
		ssize_t n = -EAGAIN;

		dpfix_listener_poll(p->listener);
		if (p->server == NULL)
			p->server = dpfix_listener_accept(p->listener);
		if (p->server != NULL)
			n = dpfix_session_recv(p->server, buf, cap, err, sizeof(err));
		if (n > 0)
			return (size_t)n;
		usleep(1000);
	}
	return 0;
}

/* What the collector end read: per message its domain, sequence number, first set id
 * and data records (of template 256). */
struct seen {
	unsigned int messages;
	uint32_t domain[256], sequence[256], records[256];
	uint16_t first_set[256];
	size_t longest;
};

static void
read_all(struct peer *p, struct seen *s)
{
	static uint8_t buf[65536];
	size_t len;

	memset(s, 0, sizeof(*s));
	while (s->messages < 256 && (len = next_message(p, buf, sizeof(buf))) != 0) {
		unsigned int m = s->messages++;

		s->domain[m] = dpfix_get32(buf + 12);
		s->sequence[m] = dpfix_get32(buf + 8);
		s->first_set[m] = dpfix_get16(buf + 16);
		if (len > s->longest)
			s->longest = len;
		for (size_t off = 16; off + 4 <= len; off += dpfix_get16(buf + off + 2)) {
			if (dpfix_get16(buf + off) == 256)
				s->records[m] += (dpfix_get16(buf + off + 2) - 4) / 32;
			if (dpfix_get16(buf + off + 2) < 4)
				break;
		}
	}
}

static struct dpfix_export *
make_exporter(uint32_t domain_a, uint32_t domain_b, struct dpfix_export_domain **a,
		struct dpfix_export_domain **b)
{
	char err[256];
	struct dpfix_export *x = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = 600 * NS_PER_S, .flush_ns = 600 * NS_PER_S,
		.options_interval_ns = 600 * NS_PER_S, .probation_ns = NS_PER_S / 2}, err, sizeof(err));

	CHECK(x != NULL);
	CHECK(dpfix_export_add_domain(x, domain_a, a) == 0);
	CHECK(dpfix_export_add_schema(*a, &schema) == 0);
	if (b != NULL) {
		CHECK(dpfix_export_add_domain(x, domain_a, b) == -EEXIST);
		CHECK(dpfix_export_add_domain(x, domain_b, b) == 0);
		CHECK(dpfix_export_add_schema(*b, &schema) == 0);
		CHECK(dpfix_export_add_schema(*b, &schema) == -EEXIST);
	}
	return x;
}

static int
add(struct dpfix_export_domain *d, uint64_t i, uint64_t now_ns)
{
	struct dpfix_ipfix_metering_stats r = {.observation_domain = 7, .messages = i,
		.flow_records = 2 * i, .octets = 3 * i};

	return dpfix_export_record(d, &schema, &r, i, 10 * i, now_ns);
}

/* Over UDP: each domain's templates before its data, its own sequence numbers, every
 * message within the session's limit. */
static void
test_domains_and_sequences(void)
{
	struct dpfix_export_domain *a, *b;
	struct dpfix_export *x = make_exporter(1, 2, &a, &b);
	uint32_t next[3] = {0};
	uint64_t now = 1700000000 * NS_PER_S;
	int templates_seen[3] = {0};
	struct peer p;
	struct seen s;

	if (connect_peer(&p, "udp") != 0) {
		CHECK(0);
		return;
	}
	CHECK(dpfix_export_take_up(x, p.client, now) == NULL);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	for (uint64_t i = 0; i < 300; i++)
		CHECK(add(i % 3 == 0 ? b : a, i, now) == 0);
	dpfix_export_flush(x, now);
	read_all(&p, &s);
	CHECK(s.messages >= 4);
	CHECK(s.longest <= dpfix_session_max_message(p.client));
	for (unsigned int m = 0; m < s.messages; m++) {
		uint32_t d = s.domain[m];

		CHECK(d == 1 || d == 2);
		if (d != 1 && d != 2)
			continue;
		if (s.first_set[m] == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE)
			templates_seen[d] = 1;
		else
			CHECK(templates_seen[d]);   /* templates before data */
		CHECK_EQ_U64(s.sequence[m], next[d]);
		next[d] += s.records[m];
	}
	CHECK_EQ_U64(next[1], 200);
	CHECK_EQ_U64(next[2], 100);
	CHECK_EQ_U64(dpfix_export_stats(x)->records_exported, 300);
	CHECK_EQ_U64(dpfix_export_stats(x)->records_lost, 0);
	dpfix_export_free(x);
	close_peer(&p);
}

/* A session taken up while a message is being filled: the message's records go on the
 * new session, after its templates, and the old session is the caller's again. */
static void
test_take_up_keeps_the_message(void)
{
	struct dpfix_export_domain *a;
	struct dpfix_export *x = make_exporter(5, 0, &a, NULL);
	uint64_t now = 1700000000 * NS_PER_S;
	struct peer p1, p2;
	struct seen s;

	if (connect_peer(&p1, "udp") != 0 || connect_peer(&p2, "udp") != 0) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, p1.client, now);
	for (uint64_t i = 0; i < 5; i++)
		CHECK(add(a, i, now) == 0);
	CHECK(dpfix_export_take_up(x, p2.client, now) == p1.client);
	dpfix_session_close(p1.client);
	dpfix_export_flush(x, now);
	read_all(&p2, &s);
	CHECK(s.messages == 2);
	CHECK(s.first_set[0] == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	CHECK_EQ_U64(s.records[1], 5);
	CHECK_EQ_U64(s.sequence[1], 0);
	CHECK_EQ_U64(dpfix_export_stats(x)->reconnects, 1);
	CHECK_EQ_U64(dpfix_export_stats(x)->records_lost, 0);
	dpfix_export_free(x);
	close_peer(&p1);
	close_peer(&p2);
}

/* TCP: data waits out the probation; a session the collector closes is noticed and
 * nothing more goes into it; dropping counts records, packets, octets and when. */
static void
test_probation_failure_and_drop(void)
{
	struct dpfix_export_domain *a;
	struct dpfix_export *x = make_exporter(9, 0, &a, NULL);
	uint64_t now = 1700000000 * NS_PER_S, lasted;
	const struct dpfix_export_stats *st = dpfix_export_stats(x);
	uint8_t buf[65536];
	struct peer p;

	if (connect_peer(&p, "tcp") != 0) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, p.client, now);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_PROBATION);
	CHECK(next_message(&p, buf, sizeof(buf)) > 0);  /* the templates */
	CHECK(add(a, 1, now) == -EAGAIN);
	dpfix_export_poll(x, now + NS_PER_S / 4);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_PROBATION);
	dpfix_export_poll(x, now + NS_PER_S);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	CHECK(add(a, 1, now) == 0);
	dpfix_export_flush(x, now + NS_PER_S);
	CHECK(next_message(&p, buf, sizeof(buf)) > 0);
	CHECK_EQ_U64(st->records_exported, 1);

	dpfix_session_close(p.server); /* the collector ends the session */
	p.server = NULL;
	usleep(100000);
	dpfix_export_poll(x, now + 2 * NS_PER_S);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_FAILED);
	CHECK(strcmp(dpfix_export_failure(x, &lasted), "closed by the collector") == 0);
	CHECK_EQ_U64(lasted, 2 * NS_PER_S);
	CHECK(add(a, 2, now) == -EAGAIN);

	dpfix_export_drop(x, now + 3 * NS_PER_S);
	CHECK(add(a, 2, now + 3 * NS_PER_S) == 0);
	CHECK(add(a, 3, now + 4 * NS_PER_S) == 0);
	CHECK_EQ_U64(st->records_lost, 2);
	CHECK_EQ_U64(st->packets_lost, 5);
	CHECK_EQ_U64(st->octets_lost, 50);
	CHECK_EQ_U64(st->first_loss_ns, now + 3 * NS_PER_S);
	CHECK_EQ_U64(st->last_loss_ns, now + 4 * NS_PER_S);
	CHECK_EQ_U64(st->records_exported, 1);
	dpfix_export_free(x);  /* closes the failed session */
	close_peer(&p);
}

static void
count_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)h;
	(void)rec;
	(void)len;
	((unsigned int *)ctx)[t->id - 256]++;
}

/* Templates added and removed while a session is up (a Mediator's): over TCP a new
 * template reaches the collector before the records of it that the open message holds,
 * and a removed one is withdrawn only after the records of it were sent; the collector
 * decodes every record and knows no data set without its template. Before
 * dpfix_export_add_schema_now, the template went after the message that used it. */
static void
test_templates_while_up(void)
{
	struct dpfix_export_domain *a, *b;
	struct dpfix_export *x = make_exporter(3, 0, &a, NULL);
	struct dpfix_ipfix_schema later;
	unsigned int messages_empty = 0;
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create_params(
			&(struct dpfix_ipfix_decoder_params){.transport = DPFIX_IPFIX_TRANSPORT_TCP});
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	uint64_t now = 1700000000 * NS_PER_S;
	struct dpfix_ipfix_metering_stats r = {.observation_domain = 3};
	unsigned int records[2] = {0, 0};
	static uint8_t buf[65536];
	char err[256];
	size_t len;
	struct peer p;

	dpfix_ipfix_metering_stats_schema(&later, 257);
	if (connect_peer(&p, "tcp") != 0) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, p.client, now);
	dpfix_export_poll(x, now + NS_PER_S);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	CHECK(dpfix_export_record(a, &schema, &r, 1, 1, now) == 0);
	CHECK(dpfix_export_add_schema_now(a, &later, now) == 0);
	CHECK(dpfix_export_add_schema_now(a, &later, now) == -EEXIST);
	CHECK(dpfix_export_record(a, &later, &r, 1, 1, now) == 0);
	CHECK(dpfix_export_record(a, &later, &r, 1, 1, now) == 0);
	CHECK(dpfix_export_remove_schema(a, 256, now) == 0);
	CHECK(dpfix_export_remove_schema(a, 256, now) == -ENOENT);
	CHECK(dpfix_export_record(a, &later, &r, 1, 1, now) == 0);
	/* A domain added while the session is up follows its rules too: the template is
	 * withdrawn (TCP), and no empty message goes before its first record. */
	CHECK(dpfix_export_add_domain(x, 4, &b) == 0);
	CHECK(dpfix_export_add_schema_now(b, &later, now) == 0);
	CHECK(dpfix_export_record(b, &later, &r, 1, 1, now) == 0);
	CHECK(dpfix_export_remove_schema(b, 257, now) == 0);
	dpfix_export_flush(x, now);
	while ((len = next_message(&p, buf, sizeof(buf))) != 0) {
		messages_empty += len == DPFIX_IPFIX_HEADER_LEN;
		CHECK(dpfix_ipfix_decode(d, buf, len, count_record, records, err, sizeof(err)) == 0);
	}
	CHECK_EQ_U64(records[0], 1);
	CHECK_EQ_U64(records[1], 4);
	CHECK_EQ_U64(st->sets_unknown_template, 0);
	CHECK_EQ_U64(st->templates_withdrawn, 2);
	CHECK(messages_empty == 0);
	CHECK_EQ_U64(st->withdrawals_invalid, 0);
	dpfix_ipfix_decoder_free(d);
	dpfix_export_free(x);
	close_peer(&p);
}

/* A collector end with several sessions of one exporter on one listener: each
 * session's messages decoded by its own decoder, as dpfix-collector does. */
struct collector_end {
	struct dpfix_listener *listener;
	struct dpfix_endpoint ep;
	struct dpfix_session *server[4];
	struct dpfix_ipfix_decoder *decoder[4];
	unsigned int records[4];        /* data records of template 256, per session */
	uint32_t first_data_sequence[4];
	int first_is_templates[4];      /* its first message held templates only */
	unsigned int messages[4];
	int ended[4];                   /* it saw the exporter's end and ended its own */
	int refuse;                     /* close each new session at once */
};

static int
open_collector_end(struct collector_end *c, const char *scheme)
{
	struct dpfix_session_params params = {.mtu = 1400};
	char url[64], err[DPFIX_SESSION_ERRLEN];

	memset(c, 0, sizeof(*c));
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme,
			free_port(strcmp(scheme, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM));
	if (dpfix_endpoint_parse(url, &c->ep, err, sizeof(err)) < 0 ||
			(c->listener = dpfix_listener_open(&c->ep, &params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "  %s: %s\n", url, err);
		return -1;
	}
	return 0;
}

static struct dpfix_session *
exporter_session(struct collector_end *c)
{
	struct dpfix_session_params params = {.mtu = 1400, .connect_timeout_ms = 3000};
	char err[DPFIX_SESSION_ERRLEN];
	struct dpfix_session *s = dpfix_session_open(&c->ep, &params, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "  %s\n", err);
	return s;
}

static void
count_256(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)h;
	(void)rec;
	(void)len;
	if (t->id == 256)
		(*(unsigned int *)ctx)++;
}

/* What the collector end has now, read. */
static void
serve(struct collector_end *c)
{
	static uint8_t buf[65536];
	char err[DPFIX_SESSION_ERRLEN];
	struct dpfix_session *s;

	dpfix_listener_poll(c->listener);
	while ((s = dpfix_listener_accept(c->listener)) != NULL) {
		unsigned int i = 0;

		while (i < 4 && (c->server[i] != NULL || c->ended[i]))
			i++;
		if (c->refuse || i == 4) {
			dpfix_session_close(s);
			continue;
		}
		c->server[i] = s;
		c->decoder[i] = dpfix_ipfix_decoder_create_params(&(struct dpfix_ipfix_decoder_params){
			.transport = dpfix_ipfix_transport_of_protocol(c->ep.ip_protocol)});
	}
	for (unsigned int i = 0; i < 4; i++) {
		ssize_t n;

		while (c->server[i] != NULL &&
				(n = dpfix_session_recv(c->server[i], buf, sizeof(buf), err, sizeof(err))) != -EAGAIN) {
			unsigned int before = c->records[i];

			if (n < 0) {    /* the exporter's end: ours at once */
				dpfix_session_close(c->server[i]);
				c->server[i] = NULL;
				c->ended[i] = 1;
				break;
			}
			CHECK(dpfix_ipfix_decode(c->decoder[i], buf, (size_t)n, count_256, &c->records[i],
					err, sizeof(err)) == 0);
			if (c->messages[i]++ == 0)
				c->first_is_templates[i] = dpfix_get16(buf + 16) == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE;
			if (before == 0 && c->records[i] > 0)
				c->first_data_sequence[i] = dpfix_get32(buf + 8);
		}
	}
}

static void
close_collector_end(struct collector_end *c)
{
	for (unsigned int i = 0; i < 4; i++) {
		dpfix_session_close(c->server[i]);
		if (c->decoder[i] != NULL) {
			const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(c->decoder[i]);

			CHECK_EQ_U64(st->sequence_lost, 0);
			CHECK_EQ_U64(st->sets_unknown_template, 0);
		}
		dpfix_ipfix_decoder_free(c->decoder[i]);
	}
	dpfix_listener_close(c->listener);
}

/* The export polled and the collector end served for ms of real time, the export's
 * clock at `now` plus that time. */
static uint64_t
run_for(struct dpfix_export *x, struct collector_end *c, uint64_t now, unsigned int ms)
{
	for (unsigned int i = 0; i < ms; i++) {
		dpfix_export_poll(x, now + i * 1000000ull);
		serve(c);
		usleep(1000);
	}
	return now + ms * 1000000ull;
}

/* A planned hand-off over TCP: the new session comes up beside the old one, which
 * carries the records given during the probation; then the records waiting go on the
 * old one, the new one gets the templates first and the records after, its sequence
 * numbers going on from the old one's; the old one ends in order and its end is
 * confirmed. No record lost, none missing by sequence number in either session. */
static void
test_hand_off(void)
{
	struct dpfix_export_domain *a;
	struct dpfix_export *x = make_exporter(4, 0, &a, NULL);
	const struct dpfix_export_stats *st = dpfix_export_stats(x);
	uint64_t now = 1700000000 * NS_PER_S;
	struct dpfix_session *s1, *s2;
	struct collector_end c;
	const char *why;

	if (open_collector_end(&c, "tcp") != 0 || (s1 = exporter_session(&c)) == NULL ||
			(s2 = exporter_session(&c)) == NULL) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, s1, now);
	now = run_for(x, &c, now, 10) + NS_PER_S;
	dpfix_export_poll(x, now);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	for (uint64_t i = 0; i < 100; i++)
		CHECK(add(a, i, now) == 0);
	CHECK(dpfix_export_hand_off(x, s2, now) == NULL);
	CHECK(dpfix_export_hand_off_state(x, NULL) == DPFIX_EXPORT_HANDOFF_UNDER_WAY);
	for (uint64_t i = 100; i < 200; i++)   /* during the probation: records go on */
		CHECK(add(a, i, now) == 0);
	now = run_for(x, &c, now, 20);
	CHECK(c.messages[1] == 0);              /* nothing on the new one yet */
	now += NS_PER_S;
	dpfix_export_poll(x, now);
	CHECK(dpfix_export_hand_off_state(x, &why) == DPFIX_EXPORT_HANDOFF_DONE);
	CHECK(dpfix_export_session(x) == s2);
	for (uint64_t i = 200; i < 300; i++)
		CHECK(add(a, i, now) == 0);
	dpfix_export_flush(x, now);
	now = run_for(x, &c, now, 300);
	CHECK(c.ended[0]);                      /* the old one ended, in order */
	dpfix_export_retire(x, now);            /* and the new one, with none after it */
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_NO_SESSION);
	CHECK(add(a, 300, now) == -EAGAIN);
	run_for(x, &c, now, 300);
	CHECK(c.ended[1]);
	CHECK_EQ_U64(c.records[0], 200);
	CHECK_EQ_U64(c.records[1], 100);
	CHECK(c.first_is_templates[1]);
	CHECK_EQ_U64(c.first_data_sequence[1], 200);
	CHECK_EQ_U64(st->sessions_rolled_over, 1);
	CHECK_EQ_U64(st->reconnects, 0);
	CHECK_EQ_U64(st->records_lost, 0);
	CHECK_EQ_U64(st->sessions_unconfirmed, 0);
	CHECK_EQ_U64(st->records_exported, 300);
	dpfix_export_free(x);
	close_collector_end(&c);
}

/* Over UDP there is no probation: the switch is at once. A new session the collector
 * closes during its probation (TCP) fails the hand-off, and the old one goes on. */
static void
test_hand_off_udp_and_refused(void)
{
	struct dpfix_export_domain *a;
	struct dpfix_export *x = make_exporter(6, 0, &a, NULL);
	uint64_t now = 1700000000 * NS_PER_S;
	struct dpfix_session *s1, *s2;
	struct collector_end c;
	const char *why;

	if (open_collector_end(&c, "udp") != 0 || (s1 = exporter_session(&c)) == NULL ||
			(s2 = exporter_session(&c)) == NULL) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, s1, now);
	for (uint64_t i = 0; i < 10; i++)
		CHECK(add(a, i, now) == 0);
	CHECK(dpfix_export_hand_off(x, s2, now) == NULL);
	CHECK(dpfix_export_hand_off_state(x, NULL) == DPFIX_EXPORT_HANDOFF_DONE);
	for (uint64_t i = 10; i < 30; i++)
		CHECK(add(a, i, now) == 0);
	dpfix_export_flush(x, now);
	run_for(x, &c, now, 100);
	CHECK_EQ_U64(c.records[0], 10);
	CHECK_EQ_U64(c.records[1], 20);
	CHECK_EQ_U64(c.first_data_sequence[1], 10);
	dpfix_export_free(x);
	close_collector_end(&c);

	x = make_exporter(6, 0, &a, NULL);
	if (open_collector_end(&c, "tcp") != 0 || (s1 = exporter_session(&c)) == NULL) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, s1, now);
	now = run_for(x, &c, now, 10) + NS_PER_S;
	dpfix_export_poll(x, now);
	c.refuse = 1;
	s2 = exporter_session(&c);
	CHECK(s2 != NULL && dpfix_export_hand_off(x, s2, now) == NULL);
	now = run_for(x, &c, now, 200) + NS_PER_S;
	dpfix_export_poll(x, now);
	CHECK(dpfix_export_hand_off_state(x, &why) == DPFIX_EXPORT_HANDOFF_FAILED);
	CHECK(strstr(why, "closed by the collector") != NULL);
	CHECK(dpfix_export_session(x) == s1);
	CHECK(add(a, 1, now) == 0);
	dpfix_export_flush(x, now);
	run_for(x, &c, now, 50);
	CHECK_EQ_U64(c.records[0], 1);
	dpfix_export_retire(x, now);
	run_for(x, &c, now, 100);
	CHECK(c.ended[0]);
	CHECK_EQ_U64(dpfix_export_stats(x)->sessions_rolled_over, 0);
	CHECK_EQ_U64(dpfix_export_stats(x)->sessions_unconfirmed, 0);
	dpfix_export_free(x);
	close_collector_end(&c);
}

/* The data records in the IPFIX message at buf (template 256's). */
static uint32_t
records_in(const uint8_t *buf, size_t len)
{
	uint32_t n = 0;

	for (size_t off = 16; off + 4 <= len && dpfix_get16(buf + off + 2) >= 4;
			off += dpfix_get16(buf + off + 2))
		if (dpfix_get16(buf + off) == 256)
			n += (dpfix_get16(buf + off + 2) - 4) / 32u;
	return n;
}

/* hold_when_full (the probe's replicate lanes): a collector that reads nothing fills its
 * TCP session (the kernel's buffers and the transport's 4 MB); the data message that
 * finds no room is held, never waited for: records are refused (-EAGAIN, for the
 * program to keep) at once, nothing is lost or counted failed, send_wait_ms stays 0.
 * Once the collector reads, the held message goes at a poll and every record accepted
 * arrives, numbered without a gap. (Without hold_when_full each full message waited
 * 100 ms, then was counted lost: send_wait_ms grew, records_lost too.) */
static void
test_held_when_full(void)
{
	char err[256];
	struct dpfix_export *x = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = 600 * NS_PER_S, .flush_ns = NS_PER_S / 10,
		.options_interval_ns = 600 * NS_PER_S, .probation_ns = NS_PER_S / 2,
		.hold_when_full = 1}, err, sizeof(err));
	const struct dpfix_export_stats *st = dpfix_export_stats(x);
	uint64_t now = 1700000000 * NS_PER_S, accepted = 0, arrived = 0;
	static uint8_t buf[65536];
	struct dpfix_export_domain *a;
	uint32_t next_sequence = 0;
	struct peer p;
	size_t len;
	int ret = 0;

	CHECK(x != NULL && dpfix_export_add_domain(x, 3, &a) == 0 &&
			dpfix_export_add_schema(a, &schema) == 0);
	if (x == NULL || connect_peer(&p, "tcp") != 0) {
		CHECK(0);
		return;
	}
	dpfix_export_take_up(x, p.client, now);
	CHECK(next_message(&p, buf, sizeof(buf)) > 0); /* the templates */
	now += NS_PER_S;
	dpfix_export_poll(x, now);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	/* 12.8 MB of records at most: far more than the buffers hold. */
	while (accepted < 400000 && (ret = add(a, accepted, now)) == 0)
		accepted++;
	CHECK(ret == -EAGAIN);
	CHECK(dpfix_export_state(x) == DPFIX_EXPORT_TRUSTED);
	CHECK(add(a, accepted, now) == -EAGAIN); /* still held */
	CHECK_EQ_U64(st->send_wait_ms, 0);
	CHECK_EQ_U64(st->send_failures, 0);
	CHECK_EQ_U64(st->records_lost, 0);
	/* The collector reads: the held message goes at a poll, then the rest (what the
	 * TCP transport still buffers goes with its next send: one more record, sent by the
	 * flush timer's poll). */
	for (int quiet = 0; arrived < accepted && quiet < 5;) {
		now += NS_PER_S / 10;
		dpfix_export_poll(x, now);
		len = next_message(&p, buf, sizeof(buf));
		if (len == 0) {
			accepted += add(a, accepted, now) == 0;
			quiet++;
			continue;
		}
		quiet = 0;
		if (dpfix_get16(buf + 16) == 256) {
			CHECK_EQ_U64(dpfix_get32(buf + 8), next_sequence);
			next_sequence += records_in(buf, len);
			arrived += records_in(buf, len);
		}
	}
	fprintf(stderr, "  held: %" PRIu64 " records accepted before the transport was full, "
			"%" PRIu64 " arrived\n", accepted, arrived);
	CHECK_EQ_U64(arrived, accepted);
	CHECK_EQ_U64(st->records_exported, accepted);
	CHECK_EQ_U64(st->records_lost, 0);
	CHECK_EQ_U64(st->send_wait_ms, 0);
	dpfix_export_free(x);
	close_peer(&p);
}

int
main(void)
{
	dpfix_ipfix_metering_stats_schema(&schema, 256);
	if (schema.max_length != 32) {
		fprintf(stderr, "the test schema is %u octets, not 32\n", schema.max_length);
		return 1;
	}
	RUN_TEST(test_domains_and_sequences);
	RUN_TEST(test_take_up_keeps_the_message);
	RUN_TEST(test_probation_failure_and_drop);
	RUN_TEST(test_templates_while_up);
	RUN_TEST(test_hand_off);
	RUN_TEST(test_hand_off_udp_and_refused);
	RUN_TEST(test_held_when_full);
	return unit_test_summary();
}
