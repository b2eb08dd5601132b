/* The exporter's orderly end of a session, which the collector confirms by ending its
 * side once it has taken everything (doc/sessions.md, "Orderly end"); and a session's
 * end that the transport's own liveness decided. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "session_private.h"
#include "session_tls.h"

/* Until the peer does something or the deadline: the connection's descriptor, or for
 * SCTP, whose sockets have none, a short sleep. */
static void
wait_for_peer(const struct dpfix_session *s, uint64_t deadline)
{
	struct pollfd pfd = {.fd = dpfix_session_event_fd(s), .events = POLLIN};
	uint64_t now = session_now_ms();

	if (now >= deadline)
		return;
	if (pfd.fd >= 0)
		poll(&pfd, 1, (int)(deadline - now));
	else
		usleep(1000);
}

/* What the collector sent where it should only have ended its side: an IPFIX collector
 * sends nothing, and a (D)TLS one refusing our plaintext sends an alert (named). */
static int
bytes_at_end(struct dpfix_session *s, const uint8_t *b, size_t len, char *err, size_t errlen)
{
	if (s->tls != NULL)
		snprintf(err, errlen, "the collector sent %zu bytes of data instead of its "
				"close_notify", len);
	else if (collector_alert(s, b, len, err, errlen) == 0)
		snprintf(err, errlen, "the collector sent %zu bytes instead of ending its side (an "
				"IPFIX collector sends nothing back)", len);
	return -EPROTO;
}

static int
end_failed(int ret, char *err, size_t errlen)
{
	if (ret == -EPIPE)
		snprintf(err, errlen, "the collector ended its side before it had taken all we sent");
	else if (ret == -ECONNRESET || ret == -ENOTCONN)
		snprintf(err, errlen, "the collector reset the connection (or aborted the "
				"association) before it had read all we sent");
	else
		snprintf(err, errlen, "%s", strerror(-ret));
	return ret == -ENOTCONN ? -ECONNRESET : ret;
}

/* tls_read for the end and the acknowledgment waits: the heartbeat answers that come
 * meanwhile (requests sent just before, agreed in the handshake) are taken in as
 * dpfix_session_recv takes them, not taken for bytes from the collector. A TLS record
 * holds what one write of the collector's put in it, so a heartbeat comes whole. */
static ssize_t
end_tls_read(struct dpfix_session *s, uint8_t *buf, size_t cap, char *why, size_t whylen)
{
	for (;;) {
		ssize_t n = tls_read(s->tls, buf, cap, why, whylen);
		size_t at = 0, frame;

		if (n <= 0)
			return n;
		if (s->conn.ops->flags & DPFIX_TRANSPORT_MESSAGES) {
			if (!heartbeat_take(s, buf, (size_t)n))
				return n;
			continue;
		}
		while ((frame = heartbeat_frame(s, buf + at, (size_t)n - at)) != 0 &&
				frame <= (size_t)n - at) {
			heartbeat_take(s, buf + at, frame);
			at += frame;
		}
		if (at == (size_t)n)
			continue;
		memmove(buf, buf + at, (size_t)n - at);
		return n - (ssize_t)at;
	}
}

/* What the collector sent before its stack had acknowledged all we sent: over (D)TLS its
 * close_notify or an alert ends the session early, data is named; without, bytes are.
 * 0 if it was nothing to the application (a DTLS record that carries no data). */
static int
early_from_collector(struct dpfix_session *s, char *err, size_t errlen)
{
	char why[DPFIX_SESSION_ERRLEN];
	uint8_t buf[512];
	ssize_t n;

	if (s->tls == NULL) {
		n = session_io_recv(s, buf, sizeof(buf));
		if (n > 0)
			return bytes_at_end(s, buf, (size_t)n, err, errlen);
		return n == 0 || n == -EAGAIN ? 0 : end_failed((int)n, err, errlen);
	}
	n = end_tls_read(s, buf, sizeof(buf), why, sizeof(why));
	if (n > 0)
		return bytes_at_end(s, buf, (size_t)n, err, errlen);
	if (n == -EPIPE) {
		snprintf(err, errlen, "the collector ended the session (close_notify) before it had "
				"acknowledged all we sent");
		return -EPIPE;
	}
	if (n < 0) {
		snprintf(err, errlen, "before it had acknowledged all we sent: %s", why);
		return -ECONNRESET;
	}
	return 0;
}

/* Whether the collector's transport has acknowledged everything sent (transports whose
 * messages can overtake one another: SCTP): 0 yes, -EINPROGRESS not yet, or what came
 * instead (<0, err). */
static int
acknowledged_step(struct dpfix_session *s, char *err, size_t errlen)
{
	int ret;

	if (s->conn.ops->acknowledged == NULL)
		return 0;
	ret = s->conn.ops->acknowledged(&s->conn);
	if (ret == 0)
		return 0;
	if (ret == -EPROTO && (ret = early_from_collector(s, err, errlen)) < 0)
		return ret;
	if (ret == -EAGAIN || ret == 0)
		return -EINPROGRESS;    /* (0: what came was nothing to the application) */
	return end_failed(ret, err, errlen);
}

int
dpfix_session_wait_acknowledged(struct dpfix_session *s, uint32_t timeout_ms, char *err,
		size_t errlen)
{
	uint64_t deadline = session_now_ms() + timeout_ms;
	int ret;

	while ((ret = acknowledged_step(s, err, errlen)) == -EINPROGRESS) {
		if (session_now_ms() >= deadline) {
			snprintf(err, errlen, "the collector's %s stack did not acknowledge all we sent "
					"within %u ms", s->endpoint.transport, timeout_ms);
			return -ETIMEDOUT;
		}
		wait_for_peer(s, deadline);
	}
	return ret;
}

/* (D)TLS: the collector answers our close_notify with its own once it has read all
 * that came before ours. 0 when it came, -EINPROGRESS while nothing has, else what came
 * instead. */
static int
close_notify_step(struct dpfix_session *s, char *err, size_t errlen)
{
	char why[DPFIX_SESSION_ERRLEN - 64]; /* room for what err says before it */
	uint8_t buf[512];
	ssize_t n = end_tls_read(s, buf, sizeof(buf), why, sizeof(why));

	if (n == -EPIPE)
		return 0;
	if (n > 0)
		return bytes_at_end(s, buf, (size_t)n, err, errlen);
	if (n < 0) {
		snprintf(err, errlen, "no close_notify from the collector: %s", why);
		return -ECONNRESET;
	}
	return -EINPROGRESS;
}

/* Without (D)TLS: after our FIN (SCTP: SHUTDOWN), the collector's end of its side once
 * it has taken everything (the transport's recv says 0 only then). Bytes come first,
 * even after a reset, as a refusal says why before it resets: the first are named, and
 * reading goes on to the collector's end, as closing with bytes unread would reset the
 * connection (RFC 1122 4.2.2.13). e->verdict holds what came already. -EINPROGRESS
 * while the collector has not ended its side. */
static int
transport_end_step(struct dpfix_session *s, struct session_end *e, char *err, size_t errlen)
{
	uint8_t buf[512];
	ssize_t n;

	do {
		n = session_io_recv(s, buf, sizeof(buf));
		if (n > 0 && e->verdict == 0)
			e->verdict = bytes_at_end(s, buf, (size_t)n, err, errlen);
	} while (n > 0 && e->shutdown_ret == 0);
	if (n == -EAGAIN && e->shutdown_ret == 0)
		return -EINPROGRESS;
	if (e->verdict < 0)
		return e->verdict;
	if (e->shutdown_ret < 0)
		return end_failed(e->shutdown_ret, err, errlen);
	return n == 0 ? 0 : end_failed((int)n, err, errlen);
}

/* What the deadline finds in each phase: the verdict. */
static int
end_timed_out(struct dpfix_session *s, struct session_end *e)
{
	if (e->verdict < 0)
		return e->verdict;
	switch (e->phase) {
	case END_ACKNOWLEDGED:
		snprintf(e->err, sizeof(e->err), "the collector's %s stack did not acknowledge all "
				"we sent within the %u ms we wait", s->endpoint.transport, CLOSE_WAIT_MS);
		break;
	case END_FLUSH:
		snprintf(e->err, sizeof(e->err), "the collector did not take our last messages "
				"within %u ms", CLOSE_WAIT_MS);
		break;
	case END_CLOSE_NOTIFY:
		snprintf(e->err, sizeof(e->err), "the collector did not answer our close_notify "
				"within %u ms", CLOSE_WAIT_MS);
		break;
	default:
		snprintf(e->err, sizeof(e->err), "the collector did not end its side within %u ms "
				"of ours", CLOSE_WAIT_MS);
		break;
	}
	return -ETIMEDOUT;
}

/* The exporter's end of a reliable session, confirmed by the collector's (doc/sessions.md,
 * "Orderly end"), one step: -EINPROGRESS while it waits for the collector, else the
 * verdict, with e->err saying what came instead of a confirmation. A collector's
 * session, and a datagram one, flushes and ends with -EOPNOTSUPP: nothing comes back to
 * confirm it. */
static int
end_step(struct dpfix_session *s)
{
	struct session_end *e = &s->end;
	char *err = e->err;
	size_t errlen = sizeof(e->err);
	int ret;

	switch (e->phase) {
	case END_NOT_BEGUN:
		e->deadline_ms = session_now_ms() + CLOSE_WAIT_MS;
		e->phase = END_ACKNOWLEDGED;
		/* fall through */
	case END_ACKNOWLEDGED:
		/* Over SCTP our close_notify would overtake messages not yet acknowledged on
		 * other streams, and a collector stops reading at a close_notify: it goes only
		 * once all is acknowledged, as RFC 6083 requires of a DTLS shutdown over SCTP. */
		if (!s->server) {
			ret = acknowledged_step(s, err, errlen);
			if (ret == -EINPROGRESS && session_now_ms() < e->deadline_ms)
				return ret;
			e->verdict = ret == -EINPROGRESS ? end_timed_out(s, e) : ret;
		}
		/* What went is all given up or delivered now: none given up may go uncounted. */
		if (e->verdict == 0 && s->conn.messages_given_up_uncounted > 0) {
			snprintf(err, errlen, "the %s stack gave up %llu messages without a notice "
					"saying which: their records cannot be counted", s->endpoint.transport,
					(unsigned long long)s->conn.messages_given_up_uncounted);
			e->verdict = -EPROTO;
		}
		/* Our close_notify goes like templates: in order, never given up. */
		s->send_opts = (struct dpfix_send_opts){.stream = STREAM_TEMPLATES};
		if (s->tls != NULL && e->verdict == 0)
			tls_shutdown(s->tls);
		e->phase = END_FLUSH;
		/* fall through */
	case END_FLUSH:
		ret = s->conn.ops->flush(&s->conn);
		if (ret == -EAGAIN && session_now_ms() < e->deadline_ms)
			return -EINPROGRESS;
		if (s->server || !dpfix_session_is_reliable(s) || s->conn.ops->shutdown_write == NULL) {
			snprintf(err, errlen, "nothing confirms the end of a %s session",
					s->server ? "collector's" : "datagram");
			return -EOPNOTSUPP;
		}
		if (ret == -EAGAIN)
			return end_timed_out(s, e);
		/* (A flush that failed fails the rest, which may still read why.) What a
		 * liveness read took that was not a whole message comes first. */
		if (s->rx_len > 0 && e->verdict == 0)
			e->verdict = bytes_at_end(s, s->rx, s->rx_len, err, errlen);
		if (s->tls != NULL) {
			if (e->verdict < 0)
				return e->verdict;
			e->phase = END_CLOSE_NOTIFY;
		} else {
			e->shutdown_ret = s->conn.ops->shutdown_write(&s->conn);
			e->phase = END_TRANSPORT;
		}
		return end_step(s);
	case END_CLOSE_NOTIFY:
		ret = close_notify_step(s, err, errlen);
		if (ret != 0)
			return ret;
		/* Confirmed. The transport still ends in order, our FIN and then the
		 * collector's read, so that closing does not reset it (RFC 1122 4.2.2.13);
		 * what it says no longer matters. */
		e->shutdown_ret = s->conn.ops->shutdown_write(&s->conn);
		e->phase = END_TRANSPORT_CONFIRMED;
		/* fall through */
	case END_TRANSPORT_CONFIRMED: {
		char ignored[DPFIX_SESSION_ERRLEN];

		return transport_end_step(s, e, ignored, sizeof(ignored)) == -EINPROGRESS ?
				-EINPROGRESS : 0;
	}
	case END_TRANSPORT:
		return transport_end_step(s, e, err, errlen);
	}
	return -EINVAL;
}

int
dpfix_session_end_step(struct dpfix_session *s, uint64_t *records_given_up, char *err,
		size_t errlen)
{
	int ret = end_step(s);

	if (ret == -EINPROGRESS && session_now_ms() < s->end.deadline_ms)
		return -EINPROGRESS;
	if (ret == -EINPROGRESS)
		ret = s->end.phase == END_TRANSPORT_CONFIRMED ? 0 : end_timed_out(s, &s->end);
	snprintf(err, errlen, "%s", s->end.err);
	if (records_given_up != NULL)
		*records_given_up = s->conn.records_given_up;
	s->conn.ops->close(&s->conn);
	session_free(s);
	return ret;
}

int
dpfix_session_end(struct dpfix_session *s, uint64_t *records_given_up, char *err, size_t errlen)
{
	int ret;

	while ((ret = dpfix_session_end_step(s, records_given_up, err, errlen)) == -EINPROGRESS) {
		/* Output that waits for room is retried; else the collector's answer is
		 * awaited on the connection's descriptor (SCTP: a short sleep). */
		if (s->end.phase == END_FLUSH)
			usleep(1000);
		else
			wait_for_peer(s, s->end.deadline_ms);
	}
	return ret;
}

/* Only a byte stream half-closes: over SCTP a SHUTDOWN ends both directions, and a
 * datagram session has no end to tell. */
static int
half_closes(const struct dpfix_session *s)
{
	return s->conn.ops->shutdown_write != NULL &&
			!(s->conn.ops->flags & DPFIX_TRANSPORT_MESSAGES);
}

int
dpfix_session_ask_end(struct dpfix_session *s)
{
	if (s->end_asked)
		return 1;
	if (!s->server || !half_closes(s) || !s->handshake_done)
		return 0;
	if (s->tls != NULL) {
		tls_shutdown(s->tls);
	} else {
		s->conn.ops->flush(&s->conn);
		if (s->conn.ops->shutdown_write(&s->conn) < 0)
			return 0;
	}
	s->conn.ops->flush(&s->conn);
	s->end_asked = 1;
	return 1;
}

int
dpfix_session_answer_end_step(struct dpfix_session *s, char *err, size_t errlen)
{
	uint8_t buf[512];
	ssize_t n;
	int ret;

	if (s->server || !half_closes(s)) {
		snprintf(err, errlen, "nothing tells what a %s collector read once it ended its side",
				s->endpoint.transport);
		return -EOPNOTSUPP;
	}
	if (s->answer_deadline_ms == 0) {
		s->answer_deadline_ms = session_now_ms() + CLOSE_WAIT_MS;
		if (s->tls != NULL)
			tls_shutdown(s->tls); /* our close_notify, in answer to the collector's */
	}
	if (!s->answer_shut) {
		ret = s->conn.ops->flush(&s->conn);
		if (ret < 0 && ret != -EAGAIN)
			return end_failed(ret, err, errlen);
		if (ret == 0) {
			ret = s->conn.ops->shutdown_write(&s->conn);
			if (ret < 0)
				return end_failed(ret, err, errlen);
			s->answer_shut = 1;
		}
	}
	/* Beneath (D)TLS: the collector's FIN (TCP: its FIN came already), or its reset.
	 * Nothing else should come after its close_notify or FIN: it is read and let go. */
	do
		n = session_io_recv(s, buf, sizeof(buf));
	while (n > 0);
	if (n == -ECONNRESET || (n < 0 && n != -EAGAIN && n != -EPIPE))
		return end_failed((int)n, err, errlen);
	if (s->answer_shut && n != -EAGAIN && dpfix_session_unacknowledged(s) == 0)
		return 0;
	if (session_now_ms() < s->answer_deadline_ms)
		return -EINPROGRESS;
	snprintf(err, errlen, "the collector ended its side first, and within %u ms of our answer "
			"it did not %s", CLOSE_WAIT_MS, s->tls != NULL ? "close the connection after "
			"reading our close_notify" : "acknowledge all we sent");
	return -ETIMEDOUT;
}

void
dpfix_session_close(struct dpfix_session *s)
{
	char err[DPFIX_SESSION_ERRLEN];

	if (s != NULL)
		dpfix_session_end(s, NULL, err, sizeof(err));
}

void
dpfix_session_abort(struct dpfix_session *s)
{
	if (s == NULL)
		return;
	s->conn.abort = 1;
	s->conn.ops->close(&s->conn);
	session_free(s);
}

int
dpfix_session_peer_unanswered(const struct dpfix_session *s, char *why, size_t len)
{
	const struct dpfix_conn *c = &s->conn;
	char count[32] = "", silent[48] = "", transport[8];
	size_t i;

	if (c->peer_unanswered == 0)
		return 0;
	for (i = 0; c->ops->name[i] != '\0' && i + 1 < sizeof(transport); i++)
		transport[i] = (char)toupper((unsigned char)c->ops->name[i]);
	transport[i] = '\0';
	if (c->peer_unanswered != UINT32_MAX)
		snprintf(count, sizeof(count), " %u times in a row", c->peer_unanswered);
	if (c->peer_silent_ns != 0)
		snprintf(silent, sizeof(silent), ", nothing heard for %.1f s", c->peer_silent_ns / 1e9);
	/* TCP's heartbeats are its keepalive probes. */
	snprintf(why, len, "%s's own %s or retransmissions went unanswered%s%s", transport,
			c->ops->ip_protocol == IPPROTO_TCP ? "keepalives" : "heartbeats", count, silent);
	return 1;
}
