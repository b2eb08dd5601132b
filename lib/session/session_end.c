/* The exporter's orderly end of a session, which the collector confirms by ending its
 * side once it has taken everything (doc/sessions.md, "Orderly end"). */
#include <errno.h>
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
	n = tls_read(s->tls, buf, sizeof(buf), why, sizeof(why));
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

/* Until the collector's transport has acknowledged everything sent (transports whose
 * messages can overtake one another: SCTP), or the deadline. */
static int
await_acknowledged(struct dpfix_session *s, uint64_t deadline, char *err, size_t errlen)
{
	if (s->conn.ops->acknowledged == NULL)
		return 0;
	for (;;) {
		int ret = s->conn.ops->acknowledged(&s->conn);

		if (ret == 0)
			return 0;
		if (ret == -EPROTO && (ret = early_from_collector(s, err, errlen)) < 0)
			return ret;
		if (ret != -EAGAIN && ret != 0)
			return end_failed(ret, err, errlen);
		if (session_now_ms() >= deadline)
			break;
		wait_for_peer(s, deadline);
	}
	snprintf(err, errlen, "the collector's %s stack did not acknowledge all we sent within "
			"the %u ms we wait", s->endpoint.transport, CLOSE_WAIT_MS);
	return -ETIMEDOUT;
}

int
dpfix_session_wait_acknowledged(struct dpfix_session *s, uint32_t timeout_ms, char *err,
		size_t errlen)
{
	int ret = await_acknowledged(s, session_now_ms() + timeout_ms, err, errlen);

	if (ret == -ETIMEDOUT)
		snprintf(err, errlen, "the collector's %s stack did not acknowledge all we sent within "
				"%u ms", s->endpoint.transport, timeout_ms);
	return ret;
}

/* (D)TLS: the collector answers our close_notify with its own once it has read all
 * that came before ours. */
static int
await_close_notify(struct dpfix_session *s, uint64_t deadline, char *err, size_t errlen)
{
	char why[DPFIX_SESSION_ERRLEN];
	uint8_t buf[512];

	for (;;) {
		ssize_t n = tls_read(s->tls, buf, sizeof(buf), why, sizeof(why));

		if (n == -EPIPE)
			return 0;
		if (n > 0)
			return bytes_at_end(s, buf, (size_t)n, err, errlen);
		if (n < 0) {
			snprintf(err, errlen, "no close_notify from the collector: %s", why);
			return -ECONNRESET;
		}
		if (session_now_ms() >= deadline)
			break;
		wait_for_peer(s, deadline);
	}
	snprintf(err, errlen, "the collector did not answer our close_notify within %u ms",
			CLOSE_WAIT_MS);
	return -ETIMEDOUT;
}

/* Without (D)TLS: our FIN (SCTP: SHUTDOWN), then the collector's end of its side after
 * it has taken everything (the transport's recv says 0 only then). Bytes come first,
 * even after a reset, as a refusal says why before it resets: the first are named, and
 * reading goes on to the collector's end, as closing with bytes unread would reset the
 * connection (RFC 1122 4.2.2.13). verdict: what came already (<0), else 0. */
static int
await_transport_end(struct dpfix_session *s, int verdict, uint64_t deadline, char *err,
		size_t errlen)
{
	int ret = s->conn.ops->shutdown_write(&s->conn);
	uint8_t buf[512];

	for (;;) {
		ssize_t n = session_io_recv(s, buf, sizeof(buf));

		if (n > 0 && verdict == 0)
			verdict = bytes_at_end(s, buf, (size_t)n, err, errlen);
		if (n == 0 || (n < 0 && n != -EAGAIN) || ret < 0) {
			if (verdict < 0)
				return verdict;
			if (ret < 0)
				return end_failed(ret, err, errlen);
			return n == 0 ? 0 : end_failed((int)n, err, errlen);
		}
		if (session_now_ms() >= deadline)
			break;
		if (n == -EAGAIN)
			wait_for_peer(s, deadline);
	}
	if (verdict < 0)
		return verdict;
	snprintf(err, errlen, "the collector did not end its side within %u ms of ours",
			CLOSE_WAIT_MS);
	return -ETIMEDOUT;
}

/* The exporter's end of a reliable session, confirmed by the collector's (doc/sessions.md,
 * "Orderly end"); anything else within the deadline is not a confirmation, and err says
 * what came instead. A collector's session, and a datagram one, flushes and returns
 * -EOPNOTSUPP: nothing comes back to confirm it. */
static int
end_in_order(struct dpfix_session *s, uint64_t deadline, char *err, size_t errlen)
{
	int ret, verdict = 0;

	/* Over SCTP our close_notify would overtake messages not yet acknowledged on other
	 * streams, and a collector stops reading at a close_notify: it goes only once all is
	 * acknowledged, as RFC 6083 requires of a DTLS shutdown over SCTP. */
	if (!s->server)
		verdict = await_acknowledged(s, deadline, err, errlen);
	/* What went is all given up or delivered now: none given up may go uncounted. */
	if (verdict == 0 && s->conn.messages_given_up_uncounted > 0) {
		snprintf(err, errlen, "the %s stack gave up %llu messages without a notice saying "
				"which: their records cannot be counted", s->endpoint.transport,
				(unsigned long long)s->conn.messages_given_up_uncounted);
		verdict = -EPROTO;
	}
	/* Our close_notify goes like templates: in order, never given up. */
	s->send_opts = (struct dpfix_send_opts){.stream = STREAM_TEMPLATES};
	if (s->tls != NULL && verdict == 0)
		tls_shutdown(s->tls);
	while ((ret = s->conn.ops->flush(&s->conn)) == -EAGAIN && session_now_ms() < deadline)
		usleep(1000);
	if (s->server || !dpfix_session_is_reliable(s) || s->conn.ops->shutdown_write == NULL) {
		snprintf(err, errlen, "nothing confirms the end of a %s session",
				s->server ? "collector's" : "datagram");
		return -EOPNOTSUPP;
	}
	if (ret == -EAGAIN && verdict == 0) {
		snprintf(err, errlen, "the collector did not take our last messages within %u ms",
				CLOSE_WAIT_MS);
		return -ETIMEDOUT;
	}
	/* (A flush that failed fails the rest, which may still read why.) What a liveness
	 * read took that was not a whole message comes first. */
	if (s->rx_len > 0 && verdict == 0)
		verdict = bytes_at_end(s, s->rx, s->rx_len, err, errlen);
	if (s->tls == NULL)
		return await_transport_end(s, verdict, deadline, err, errlen);
	if (verdict == 0)
		verdict = await_close_notify(s, deadline, err, errlen);
	if (verdict == 0) {
		/* Confirmed. The transport still ends in order, our FIN and then the
		 * collector's read, so that closing does not reset it (RFC 1122 4.2.2.13);
		 * what it says no longer matters. */
		char ignored[DPFIX_SESSION_ERRLEN];

		await_transport_end(s, 0, deadline, ignored, sizeof(ignored));
	}
	return verdict;
}

int
dpfix_session_end(struct dpfix_session *s, uint64_t *records_given_up, char *err, size_t errlen)
{
	int ret = end_in_order(s, session_now_ms() + CLOSE_WAIT_MS, err, errlen);

	if (records_given_up != NULL)
		*records_given_up = s->conn.records_given_up;
	s->conn.ops->close(&s->conn);
	session_free(s);
	return ret;
}

void
dpfix_session_close(struct dpfix_session *s)
{
	char err[DPFIX_SESSION_ERRLEN];

	if (s != NULL)
		dpfix_session_end(s, NULL, err, sizeof(err));
}

