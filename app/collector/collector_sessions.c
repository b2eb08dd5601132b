/* dpfix-collector's exporter sessions (collector_sessions.h). A UDP source port costs an
 * attacker nothing, and an idle TCP connection little: a table that only grows locked
 * every exporter out after 256 junk datagrams. Sessions are judged by what they deliver:
 * one that has sent no valid IPFIX message is the first to make room and is closed after
 * first_message_timeout; one that has is only refused room, never evicted, and a UDP
 * one ends when it stops sending, after the template lifetime. Lines about sessions that
 * never delivered anything are limited to a few a second; the counters have them all. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector_records.h"
#include "collector_sessions.h"
#include "collector_write.h"

#define MESSAGES_PER_ROUND 64
#define CHURN_LINES_PER_S 20

/* One exporter's transport session, with its own templates and sequence state. */
struct session {
	struct dpfix_session *session;
	struct dpfix_ipfix_decoder *decoder;
	const char *transport;      /* its listener's: udp, tcp or sctp */
	int datagram;               /* UDP or DTLS/UDP: ends when it stops sending */
	uint64_t opened_ms;
	uint64_t last_input_ms;
	uint64_t valid_messages;    /* decoded without being malformed */
	int error_reported;
	int warning_reported;
	int loss_reported;
};

static struct collector_session_limits limits;
static struct session *sessions;
static unsigned int session_count;
static struct collector_session_stats stats;
static struct dpfix_ipfix_decode_stats closed_decode; /* of sessions already closed */
static uint64_t closed_streams[DPFIX_MAX_STREAMS];

uint64_t
collector_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A line about a session that has delivered nothing valid yet (new, refused, closed):
 * a flood of junk from many ports must not flood the log as well. */
static void
churn_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static uint64_t churn_window_ms, churn_lines, churn_hidden;

/* How many lines were not shown, once their second is over (or at the end: force). */
static void
churn_flush(int force)
{
	uint64_t now = collector_now_ms();

	if (!force && now - churn_window_ms < 1000)
		return;
	if (churn_hidden != 0)
		fprintf(stderr, "dpfix-collector: %" PRIu64 " more lines about sessions that "
				"delivered nothing valid not shown (the summary counts them)\n", churn_hidden);
	churn_window_ms = now;
	churn_lines = churn_hidden = 0;
}

static void
churn_say(const char *fmt, ...)
{
	va_list ap;

	churn_flush(0);
	if (churn_lines++ >= CHURN_LINES_PER_S) {
		churn_hidden++;
		return;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int
collector_sessions_init(const struct collector_session_limits *l)
{
	limits = *l;
	sessions = calloc(limits.max_sessions, sizeof(sessions[0]));
	return sessions == NULL ? -ENOMEM : 0;
}

/* Records a session's sequence numbers say are missing: lost, net of late messages
 * that filled a gap (RFC 7011 10.3.2). */
static uint64_t
records_missing(const struct dpfix_ipfix_decode_stats *st)
{
	return st->sequence_lost - st->sequence_recovered;
}

static void
close_session(unsigned int i, const char *why)
{
	struct session *s = &sessions[i];
	const struct dpfix_session_stats *st = dpfix_session_stats(s->session);
	static const char fmt[] = "dpfix-collector: %s: %s after %" PRIu64 " messages, %" PRIu64
			" records missing by sequence number\n";

	if (s->valid_messages == 0)
		churn_say(fmt, dpfix_session_name(s->session), why, st->messages_received,
				records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
	else
		fprintf(stderr, fmt, dpfix_session_name(s->session), why, st->messages_received,
				records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
	for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
		closed_streams[k] += dpfix_session_stream_messages(s->session, k);
	dpfix_ipfix_decode_stats_add(&closed_decode, dpfix_ipfix_decoder_stats(s->decoder));
	dpfix_ipfix_decoder_free(s->decoder);
	collector_write_session_closed(s->session);
	dpfix_session_close(s->session);
	sessions[i] = sessions[--session_count];
}

/* The table is full: the session that has delivered nothing valid for the longest makes
 * room. 0, or -ENOSPC when every session has delivered something. */
static int
evict_for(const char *newcomer)
{
	unsigned int victim = session_count;
	char why[160];

	for (unsigned int i = 0; i < session_count; i++)
		if (sessions[i].valid_messages == 0 &&
				(victim == session_count || sessions[i].opened_ms < sessions[victim].opened_ms))
			victim = i;
	if (victim == session_count)
		return -ENOSPC;
	snprintf(why, sizeof(why), "evicted for %s (%u sessions: max_sessions), having delivered "
			"no valid message in %" PRIu64 " ms", newcomer, limits.max_sessions,
			collector_now_ms() - sessions[victim].opened_ms);
	stats.sessions_evicted++;
	close_session(victim, why);
	return 0;
}

static void
accept_sessions(struct dpfix_listener *l)
{
	struct dpfix_session *ds;

	dpfix_listener_poll(l);
	while ((ds = dpfix_listener_accept(l)) != NULL) {
		/* The template rules follow the session's transport (RFC 7011 8). */
		struct dpfix_ipfix_decoder_params dp = {
			.transport = dpfix_ipfix_transport_of_protocol(
					dpfix_session_endpoint(ds)->ip_protocol),
			.template_lifetime_s = limits.template_lifetime_s,
			.budget = limits.budget,
		};
		struct session *s;

		if (session_count == limits.max_sessions &&
				evict_for(dpfix_session_name(ds)) < 0) {
			churn_say("dpfix-collector: %s: refused: %u sessions (max_sessions) are open and "
					"each has delivered valid messages%s\n", dpfix_session_name(ds),
					limits.max_sessions, dp.transport == DPFIX_IPFIX_TRANSPORT_UDP ?
					"; its datagrams are dropped for 10 s (refused_drops)" : "");
			dpfix_session_mark_refused(ds);
			dpfix_session_close(ds);
			stats.sessions_refused_full++;
			continue;
		}
		s = &sessions[session_count];
		*s = (struct session){
			.session = ds, .decoder = dpfix_ipfix_decoder_create_params(&dp),
			.transport = dpfix_listener_endpoint(l)->transport,
			.datagram = dp.transport == DPFIX_IPFIX_TRANSPORT_UDP,
			.opened_ms = collector_now_ms(),
		};
		s->last_input_ms = s->opened_ms;
		if (s->decoder == NULL) {
			fprintf(stderr, "dpfix-collector: %s: refused, out of memory\n",
					dpfix_session_name(ds));
			dpfix_session_close(ds);
			stats.sessions_refused++;
			continue;
		}
		session_count++;
		stats.sessions_opened++;
		if (session_count > stats.sessions_peak)
			stats.sessions_peak = session_count;
		churn_say("dpfix-collector: new session from %s\n", dpfix_session_name(ds));
	}
}

static void
decode_message(struct session *s, uint8_t *buf, size_t n)
{
	char derr[256];
	int ret;

	dpfix_ipfix_decoder_set_time(s->decoder, (uint64_t)time(NULL));
	collector_records_message_start();
	ret = dpfix_ipfix_decode(s->decoder, buf, n, collector_records_cb, s, derr, sizeof(derr));
	collector_write_message(s->session, buf, n);
	if (ret >= 0)
		s->valid_messages++;
	if (ret == DPFIX_IPFIX_DECODE_WARNING && !s->warning_reported) {
		/* Template rule broken (counted in the summary); once per session too. */
		fprintf(stderr, "dpfix-collector: %s: template error (reported once per "
				"session): %s\n", dpfix_session_name(s->session), derr);
		s->warning_reported = 1;
	}
	if (!s->loss_reported && records_missing(dpfix_ipfix_decoder_stats(s->decoder)) != 0) {
		/* Said when it starts; its close line and the summary give the count. */
		fprintf(stderr, "dpfix-collector: %s: records missing by sequence number (reported "
				"once per session): %" PRIu64 " so far\n", dpfix_session_name(s->session),
				records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
		s->loss_reported = 1;
	}
	if (ret < 0 && !s->error_reported) {
		char hint[96] = "";

		if (n > 0 && buf[0] == 0x16)
			snprintf(hint, sizeof(hint), " - it looks like a DTLS handshake: is the "
					"exporter using dtls+%s://?", s->transport);
		/* Once per session: a broken exporter must not flood the log. */
		churn_say("dpfix-collector: %s: malformed message (reported once per session): "
				"%s%s\n", dpfix_session_name(s->session), derr, hint);
		s->error_reported = 1;
	}
}

/* Reads what one session has; returns the number of messages, or -1 if it closed. */
static int
serve_session(unsigned int i, uint8_t *buf, size_t cap)
{
	struct session *s = &sessions[i];
	char err[DPFIX_SESSION_ERRLEN];
	int messages = 0;

	while (messages < MESSAGES_PER_ROUND) {
		ssize_t n = dpfix_session_recv(s->session, buf, cap, err, sizeof(err));

		if (n == -EAGAIN)
			break;
		if (n == -EPIPE) {
			close_session(i, "closed by the exporter");
			return -1;
		}
		if (n < 0) {
			if (s->valid_messages == 0)
				churn_say("dpfix-collector: %s: %s\n", dpfix_session_name(s->session), err);
			else
				fprintf(stderr, "dpfix-collector: %s: %s\n", dpfix_session_name(s->session),
						err);
			stats.sessions_refused++;
			close_session(i, "closed");
			return -1;
		}
		messages++;
		decode_message(s, buf, (size_t)n);
	}
	if (messages > 0)
		s->last_input_ms = collector_now_ms();
	return messages;
}

int
collector_sessions_serve(struct dpfix_listener **listeners, unsigned int nb_listen, uint8_t *buf,
		size_t cap, int (*stop_now)(void))
{
	int busy = 0;

	for (unsigned int i = 0; i < nb_listen; i++)
		accept_sessions(listeners[i]);
	for (unsigned int i = 0; i < session_count; i++) {
		int n;

		if (stop_now != NULL && stop_now())
			break;
		n = serve_session(i, buf, cap);
		if (n < 0)
			i--; /* the last session moved into slot i */
		else
			busy += n;
	}
	return busy;
}

unsigned int
collector_sessions_poll_fds(struct pollfd *fds)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < session_count; i++) {
		int fd = dpfix_session_event_fd(sessions[i].session);

		if (fd >= 0)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	return n;
}

void
collector_sessions_expire(void)
{
	uint64_t now = collector_now_ms(), lifetime_ms = (uint64_t)limits.template_lifetime_s * 1000;
	char why[160];

	churn_flush(0);
	for (unsigned int i = 0; i < session_count; i++) {
		struct session *s = &sessions[i];

		if (s->valid_messages == 0 && limits.first_message_timeout_ms != 0 &&
				now - s->opened_ms >= limits.first_message_timeout_ms) {
			snprintf(why, sizeof(why), "closed: no valid IPFIX message within %" PRIu64
					" ms (first_message_timeout)", limits.first_message_timeout_ms);
			stats.sessions_no_message++;
		} else if (s->datagram && lifetime_ms != 0 && now - s->last_input_ms >= lifetime_ms) {
			/* Its templates have expired too (RFC 7011 8.4): nothing is lost. */
			snprintf(why, sizeof(why), "closed: nothing received for %u s "
					"(template_lifetime)", limits.template_lifetime_s);
			stats.sessions_idle_expired++;
		} else {
			continue;
		}
		close_session(i--, why);
	}
}

void
collector_sessions_close_all(const char *why)
{
	while (session_count > 0)
		close_session(session_count - 1, why);
	churn_flush(1);
	free(sessions);
	sessions = NULL;
}

const struct collector_session_stats *
collector_sessions_stats(void)
{
	return &stats;
}

void
collector_sessions_decode_stats(struct dpfix_ipfix_decode_stats *sum,
		uint64_t stream_messages[DPFIX_MAX_STREAMS])
{
	*sum = closed_decode;
	memcpy(stream_messages, closed_streams, sizeof(closed_streams));
	for (unsigned int i = 0; i < session_count; i++) {
		dpfix_ipfix_decode_stats_add(sum, dpfix_ipfix_decoder_stats(sessions[i].decoder));
		for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
			stream_messages[k] += dpfix_session_stream_messages(sessions[i].session, k);
	}
}
