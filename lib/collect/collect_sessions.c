/* lib/collect's exporter sessions. A UDP source port costs an attacker nothing, and an
 * idle TCP connection little: a table that only grows locked every exporter out after
 * 256 junk datagrams. Sessions are judged by what they deliver: one that has sent no
 * valid IPFIX message is the first to make room and is closed after
 * first_message_timeout; one that has is only refused room, never evicted, and a UDP
 * one ends when it stops sending, after the template lifetime. Lines about sessions
 * that never delivered anything are limited to a few a second; the counters have them
 * all. */
#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect_private.h"
#include "dpfix_clock.h"
#include "dpfix_log.h"

#define MESSAGES_PER_ROUND 64
/* A round's reading ends once it has taken this long (each session read stops at it,
 * after one message at least), and the next round goes on with the session after the
 * last one read: a (D)TLS handshake is a few round trips, each step waiting for a
 * round, and a round that read every busy session's 64 messages took seconds under
 * ASan (its handshake limit is 3 s: collector_threads, d07be58). */
#define ROUND_MS 10
#define CHURN_LINES_PER_S 20
/* At a stop, an exporter told of it that sends nothing for this long is not waited for
 * (one that does not know the half-close; a dpfix probe answers within 0.1 s, but one
 * on a loaded machine may be seconds behind with what it sends). */
#define ENDING_QUIET_MS 5000

uint64_t
dpfix_collect_now_ms(void)
{
	return dpfix_monotonic_ns() / 1000000;
}

/* How many lines were not shown, once their second is over (or at the end: force). */
void
collect_churn_flush(struct dpfix_collect *c, int force)
{
	uint64_t now = dpfix_collect_now_ms();

	if (!force && now - c->churn_window_ms < 1000)
		return;
	if (c->churn_hidden != 0)
		dpfix_log(DPFIX_LOG_INFO, "%" PRIu64 " more lines about sessions that delivered "
				"nothing valid not shown (the summary counts them)", c->churn_hidden);
	c->churn_window_ms = now;
	c->churn_lines = c->churn_hidden = 0;
}

/* A flood of junk from many ports must not flood the log as well. */
void
collect_churn_say(struct dpfix_collect *c, const char *fmt, ...)
{
	va_list ap;

	collect_churn_flush(c, 0);
	if (c->churn_lines++ >= CHURN_LINES_PER_S) {
		c->churn_hidden++;
		return;
	}
	va_start(ap, fmt);
	dpfix_log_v(DPFIX_LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Records a session's sequence numbers say are missing: lost, net of late messages
 * that filled a gap (RFC 7011 10.3.2). */
static uint64_t
records_missing(const struct dpfix_ipfix_decode_stats *st)
{
	return st->sequence_lost - st->sequence_recovered;
}

static void
close_session(struct dpfix_collect *c, unsigned int i, const char *why)
{
	struct collect_session *s = c->sessions[i];
	const struct dpfix_session_stats *st = dpfix_session_stats(s->info.session);
	static const char fmt[] = "%s: %s after %" PRIu64 " messages, %" PRIu64
			" records missing by sequence number";

	if (s->valid_messages == 0)
		collect_churn_say(c, fmt, dpfix_session_name(s->info.session), why,
				st->messages_received, records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
	else
		dpfix_log(DPFIX_LOG_INFO, fmt, dpfix_session_name(s->info.session), why,
				st->messages_received, records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
	collect_lineage_close(c, s);
	for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
		c->closed_streams[k] += dpfix_session_stream_messages(s->info.session, k);
	dpfix_ipfix_decode_stats_add(&c->closed_decode, dpfix_ipfix_decoder_stats(s->decoder));
	/* Its templates go with its decoder (told to the sinks), then the session itself. */
	dpfix_ipfix_decoder_free(s->decoder);
	if (s->started)
		for (unsigned int k = 0; k < c->nb_sinks; k++)
			if (c->sinks[k].ops->session_end != NULL)
				c->sinks[k].ops->session_end(c->sinks[k].ctx, &s->info, why);
	dpfix_session_close(s->transport_session);
	free(s);
	c->sessions[i] = c->sessions[--c->session_count];
	collect_lanes_count(c, -1);
}

/* The table is full: the session that has delivered nothing valid for the longest makes
 * room. 0, or -ENOSPC when every session has delivered something. */
static int
evict_for(struct dpfix_collect *c, const char *newcomer)
{
	unsigned int victim = c->session_count;
	char why[160];

	for (unsigned int i = 0; i < c->session_count; i++)
		if (c->sessions[i]->valid_messages == 0 && (victim == c->session_count ||
				c->sessions[i]->info.opened_ms < c->sessions[victim]->info.opened_ms))
			victim = i;
	if (victim == c->session_count)
		return -ENOSPC;
	snprintf(why, sizeof(why), "evicted for %s (%u sessions: max_sessions), having delivered "
			"no valid message in %" PRIu64 " ms", newcomer, c->params.max_sessions,
			dpfix_collect_now_ms() - c->sessions[victim]->info.opened_ms);
	c->stats.sessions_evicted++;
	close_session(c, victim, why);
	return 0;
}

static struct collect_session *
session_new(struct dpfix_collect *c, struct dpfix_session *ds)
{
	/* The template rules follow the session's transport (RFC 7011 8). */
	struct dpfix_ipfix_decoder_params dp = {
		.transport = dpfix_ipfix_transport_of_protocol(dpfix_session_endpoint(ds)->ip_protocol),
		.template_lifetime_s = c->params.template_lifetime_s,
		.budget = &c->budget,
	};
	struct collect_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->decoder = dpfix_ipfix_decoder_create_params(&dp);
	if (s->decoder == NULL) {
		free(s);
		return NULL;
	}
	if (c->want_templates)
		dpfix_ipfix_decoder_set_template_cb(s->decoder, collect_template, s);
	s->owner = c;
	s->transport_session = ds;
	s->info = (struct dpfix_collect_session){
		.id = ++c->next_session_id, .session = ds, .peer = dpfix_session_peer(ds),
		.identity = "", .opened_ms = dpfix_collect_now_ms(),
	};
	s->transport = dpfix_session_endpoint(ds)->transport; /* its listener's */
	s->datagram = dp.transport == DPFIX_IPFIX_TRANSPORT_UDP;
	s->last_input_ms = s->info.opened_ms;
	return s;
}

/* A session accepted (here, or by lane 0 for this lane): held, or refused. */
static void
admit_session(struct dpfix_collect *c, struct dpfix_session *ds)
{
	struct collect_session *s;

	if (collect_lanes_open(c) >= c->params.max_sessions &&
			evict_for(c, dpfix_session_name(ds)) < 0) {
		collect_churn_say(c, "%s: refused: %u sessions (max_sessions) are open and "
				"each has delivered valid messages%s", dpfix_session_name(ds),
				c->params.max_sessions, dpfix_session_endpoint(ds)->ip_protocol ==
				IPPROTO_UDP ? "; its datagrams are dropped for 10 s (refused_drops)" : "");
		dpfix_session_mark_refused(ds);
		dpfix_session_close(ds);
		c->stats.sessions_refused_full++;
		return;
	}
	s = session_new(c, ds);
	if (s == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s: refused, out of memory", dpfix_session_name(ds));
		dpfix_session_close(ds);
		c->stats.sessions_refused++;
		return;
	}
	c->sessions[c->session_count++] = s;
	c->stats.sessions_opened++;
	if (c->session_count > c->stats.sessions_peak)
		c->stats.sessions_peak = c->session_count;
	collect_lanes_count(c, 1);
	collect_churn_say(c, "new session from %s", dpfix_session_name(ds));
}

static void
accept_sessions(struct dpfix_collect *c, struct dpfix_listener *l)
{
	struct dpfix_session *ds;

	dpfix_listener_poll(l);
	while ((ds = dpfix_listener_accept(l)) != NULL)
		if (!collect_lanes_dispatch(c, ds))
			admit_session(c, ds);
}

/* The sinks hear of a session when it first delivers a message: its (D)TLS handshake
 * is done by then, so they learn who it is, and junk sources never reach them. */
static void
start_session(struct dpfix_collect *c, struct collect_session *s)
{
	s->started = 1;
	s->info.identity = dpfix_session_peer_identity(s->info.session);
	collect_lineage_start(c, s);
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->session_start != NULL)
			c->sinks[k].ops->session_start(c->sinks[k].ctx, &s->info);
}

static void
report_decode(struct dpfix_collect *c, struct collect_session *s, const uint8_t *buf, size_t n,
		int ret, const char *derr)
{
	if (ret == DPFIX_IPFIX_DECODE_WARNING && !s->warning_reported) {
		/* Template rule broken (counted in the summary); once per session too. */
		dpfix_log(DPFIX_LOG_INFO, "%s: template error (reported once per session): %s",
				dpfix_session_name(s->info.session), derr);
		s->warning_reported = 1;
	}
	if (!s->loss_reported && records_missing(dpfix_ipfix_decoder_stats(s->decoder)) != 0) {
		/* Said when it starts; its close line and the summary give the count. */
		dpfix_log(DPFIX_LOG_INFO, "%s: records missing by sequence number (reported once "
				"per session): %" PRIu64 " so far", dpfix_session_name(s->info.session),
				records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
		s->loss_reported = 1;
	}
	if (ret < 0 && !s->error_reported) {
		char hint[96] = "";

		if (n > 0 && buf[0] == 0x16)
			snprintf(hint, sizeof(hint), " - it looks like a DTLS handshake: is the "
					"exporter using dtls+%s://?", s->transport);
		/* Once per session: a broken exporter must not flood the log. */
		collect_churn_say(c, "%s: malformed message (reported once per session): %s%s",
				dpfix_session_name(s->info.session), derr, hint);
		s->error_reported = 1;
	}
}

static void
decode_message(struct dpfix_collect *c, struct collect_session *s, uint8_t *buf, size_t n)
{
	char derr[256];
	int ret;

	if (!s->started)
		start_session(c, s);
	dpfix_ipfix_decoder_set_time(s->decoder, (uint64_t)time(NULL));
	collect_records_message_start(c);
	ret = dpfix_ipfix_decode(s->decoder, buf, n, collect_record, s, derr, sizeof(derr));
	for (unsigned int k = 0; k < c->nb_message_sinks; k++)
		c->message_sinks[k].ops->message(c->message_sinks[k].ctx, &s->info, buf, n, ret < 0);
	if (ret >= 0)
		s->valid_messages++;
	collect_lineage_decoded(c, s);
	if (ret != 0 || !s->loss_reported)
		report_decode(c, s, buf, n, ret, derr);
}

/* Reads what one session has, up to 64 messages or until deadline_ms (one at least);
 * returns the number of messages, or -1 if it closed. */
static int
serve_session(struct dpfix_collect *c, unsigned int i, uint64_t deadline_ms)
{
	struct collect_session *s = c->sessions[i];
	char err[DPFIX_SESSION_ERRLEN];
	int messages = 0;

	while (messages < MESSAGES_PER_ROUND) {
		ssize_t n = dpfix_session_recv(s->transport_session, c->buf, c->buf_cap, err, sizeof(err));

		if (n == -EAGAIN)
			break;
		if (n == -EPIPE) {
			close_session(c, i, s->asked_end_ms != 0 ? "ended by the exporter after our "
					"stop, all it sent read" : "closed by the exporter");
			return -1;
		}
		if (n < 0) {
			if (s->valid_messages == 0)
				collect_churn_say(c, "%s: %s", dpfix_session_name(s->info.session), err);
			else
				dpfix_log(DPFIX_LOG_INFO, "%s: %s", dpfix_session_name(s->info.session), err);
			if (n == -ETIMEDOUT && !dpfix_session_established(s->transport_session))
				c->stats.sessions_handshake_timeout++;
			else
				c->stats.sessions_refused++;
			close_session(c, i, "closed");
			return -1;
		}
		messages++;
		decode_message(c, s, c->buf, (size_t)n);
		if (dpfix_collect_now_ms() >= deadline_ms)
			break;
	}
	if (messages > 0)
		s->last_input_ms = dpfix_collect_now_ms();
	/* A heartbeat answer tells the exporter that everything it sent before the request
	 * is taken (doc/heartbeats.md): once its records are with the sinks, flushed. */
	if (dpfix_session_heartbeats_pending(s->transport_session)) {
		collect_sinks_idle(c);
		dpfix_session_answer_heartbeats(s->transport_session);
	}
	return messages;
}

/* A stop: each exporter is told, and read until it ends its side. */
static void
ask_end_all(struct dpfix_collect *c)
{
	for (unsigned int i = 0; i < c->session_count; i++)
		if (c->sessions[i]->asked_end_ms == 0 &&
				dpfix_session_ask_end(c->sessions[i]->transport_session))
			c->sessions[i]->asked_end_ms = dpfix_collect_now_ms();
}

/* One round, at most ROUND_MS of reading (but one session's read at least). Sessions
 * that have delivered no message yet, those in their (D)TLS handshake among them, are
 * served every round, before the others: a handshake step is cheap, and its exporter
 * waits for it. So are those read through their listener's queue (UDP, DTLS/UDP), to
 * its end: a full queue stops the listener for every exporter behind it, handshakes
 * included. The others are read in turn, from where the last round stopped, so that a
 * few busy exporters neither hold a handshake past its limit nor starve one another.
 * Returns the messages read, at least 1 when the time ran out before every session
 * was read (the caller must not sleep then). */
int
collect_sessions_serve(struct dpfix_collect *c, const struct dpfix_collect_stop *stop)
{
	uint64_t deadline_ms = dpfix_collect_now_ms() + ROUND_MS;
	unsigned int i, left;
	int busy = 0, n;
	struct dpfix_session *ds;

	for (i = 0; i < c->nb_listeners; i++)
		accept_sessions(c, c->listeners[i]);
	while (c->lane != 0 && (ds = collect_lanes_take(c)) != NULL)
		admit_session(c, ds);
	if (c->ending)
		ask_end_all(c);
	for (i = 0; i < c->session_count; i++) {
		const struct collect_session *s = c->sessions[i];

		if (s->started && !s->datagram)
			continue;
		if (stop != NULL && stop->requested(stop->arg))
			return busy;
		n = serve_session(c, i, s->started ? UINT64_MAX : deadline_ms);
		if (n < 0)
			i--; /* the last session moved into slot i */
		else
			busy += n;
	}
	for (i = c->next_turn, left = c->session_count; left > 0 && c->session_count > 0; left--) {
		if (i >= c->session_count)
			i = 0;
		if (stop != NULL && stop->requested(stop->arg))
			break;
		if (!c->sessions[i]->started || c->sessions[i]->datagram) { /* served above */
			i++;
			continue;
		}
		n = serve_session(c, i, deadline_ms);
		if (n >= 0) {
			busy += n;
			i++;
		} /* else the last session moved into slot i: its turn now */
		if (left > 1 && dpfix_collect_now_ms() >= deadline_ms) {
			busy += busy == 0;
			break;
		}
	}
	c->next_turn = i;
	return busy;
}

unsigned int
collect_sessions_poll_fds(struct dpfix_collect *c, struct pollfd *fds)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->session_count; i++) {
		int fd = dpfix_session_event_fd(c->sessions[i]->info.session);

		if (fd >= 0)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	return n;
}

void
collect_sessions_expire(struct dpfix_collect *c)
{
	uint64_t now = dpfix_collect_now_ms();
	uint64_t lifetime_ms = (uint64_t)c->params.template_lifetime_s * 1000;
	char why[160];

	collect_churn_flush(c, 0);
	for (unsigned int i = 0; i < c->session_count; i++) {
		struct collect_session *s = c->sessions[i];

		if (s->valid_messages == 0 && c->params.first_message_timeout_ms != 0 &&
				now - s->info.opened_ms >= c->params.first_message_timeout_ms) {
			snprintf(why, sizeof(why), "closed: no valid IPFIX message within %" PRIu64
					" ms (first_message_timeout)", c->params.first_message_timeout_ms);
			c->stats.sessions_no_message++;
		} else if (s->datagram && lifetime_ms != 0 && now - s->last_input_ms >= lifetime_ms) {
			/* Its templates have expired too (RFC 7011 8.4): nothing is lost. */
			snprintf(why, sizeof(why), "closed: nothing received for %u s "
					"(template_lifetime)", c->params.template_lifetime_s);
			c->stats.sessions_idle_expired++;
		} else {
			continue;
		}
		close_session(c, i--, why);
	}
}

unsigned int
collect_sessions_awaited(struct dpfix_collect *c, int cut)
{
	uint64_t now = dpfix_collect_now_ms();
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->session_count; i++) {
		const struct collect_session *s = c->sessions[i];
		uint64_t since = s->last_input_ms > s->asked_end_ms ? s->last_input_ms : s->asked_end_ms;

		if (s->asked_end_ms == 0 || now - since >= ENDING_QUIET_MS)
			continue;
		n++;
		if (cut)
			dpfix_log(DPFIX_LOG_WARNING, "%s: still sending %" PRIu64 " ms after we told it "
					"of the stop: what it sends from now on is not read "
					"(sessions_cut_at_stop)", dpfix_session_name(s->info.session),
					now - s->asked_end_ms);
	}
	if (cut)
		c->stats.sessions_cut_at_stop += n;
	return n;
}

void
collect_sessions_close_all(struct dpfix_collect *c, const char *why)
{
	while (c->session_count > 0)
		close_session(c, c->session_count - 1, why);
	collect_churn_flush(c, 1);
}
