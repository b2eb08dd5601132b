/* The Exporting Process and its session: taking one up (templates first, data after a
 * probation on reliable transports), sending with a brief wait while the transport is
 * full, noticing the session failed, dropping when none will come, the orderly end, and
 * the accounting of every record that does not reach the collector. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_clock.h"
#include "export_private.h"

void
export_count_lost(struct dpfix_export *x, uint64_t records, uint64_t packets, uint64_t octets,
		uint64_t now_ns)
{
	if (records == 0)
		return;
	x->stats.records_lost += records;
	x->stats.packets_lost += packets;
	x->stats.octets_lost += octets;
	if (x->stats.first_loss_ns == 0)
		x->stats.first_loss_ns = now_ns;
	x->stats.last_loss_ns = now_ns;
}

void
dpfix_export_lost(struct dpfix_export *x, uint64_t records, uint64_t packets,
		uint64_t octets, uint64_t now_ns)
{
	export_count_lost(x, records, packets, octets, now_ns);
}

/* A session failed (not our orderly end): the flow records sent on it that the collector
 * has not confirmed taking (an answered heartbeat, its orderly close with all taken) and
 * that the replay buffer does not hold to send again may not have been read. */
static void
count_unconfirmed(struct dpfix_export *x)
{
	uint64_t kept = export_replay_on(x) ? x->replay.records : 0;
	uint64_t open = x->session_records > x->confirmed_records ?
			x->session_records - x->confirmed_records : 0;

	if (open <= kept)
		return;
	x->stats.sessions_unconfirmed++;
	x->stats.records_unconfirmed += open - kept;
	export_log(DPFIX_LOG_WARNING, "session %s failed with %" PRIu64 " flow records sent since "
			"the collector last confirmed what it took%s: they may not have been read "
			"(records_unconfirmed)", dpfix_session_name(x->session), open - kept,
			kept != 0 ? ", beyond those the replay buffer holds" : "");
	x->confirmed_records = x->session_records;
}

/* A reliable session that failed is not written into further; what comes next is the
 * program's call (dpfix_export_failure says why). A datagram session fails as a whole
 * only when it has heartbeats, which can tell (its collector dead, or its close_notify);
 * otherwise each message that cannot go is counted. */
static void
mark_failed(struct dpfix_export *x, uint64_t now_ns, const char *why)
{
	if (x->state == DPFIX_EXPORT_FAILED || (!dpfix_session_is_reliable(x->session) &&
			!dpfix_session_heartbeats(x->session)))
		return;
	x->failed_lasted_ns = now_ns - x->session_started_ns;
	/* Its transport's own liveness may have found the collector dead (SCTP's
	 * heartbeats): said as such, not as the error a send or read met then. */
	x->failed_unanswered = dpfix_session_peer_unanswered(x->session, x->failed_why,
			sizeof(x->failed_why));
	if (!x->failed_unanswered)
		snprintf(x->failed_why, sizeof(x->failed_why), "%s", why);
	x->state = DPFIX_EXPORT_FAILED;
	count_unconfirmed(x);
}

/* Flow records the session's transport gave up after taking them (SCTP: their
 * sctp_data_lifetime ran out, or the association ended before they were acknowledged)
 * are lost: counted as soon as it tells, and no longer in the session's records that its
 * end confirms or not. Their packets and octets are not known here. */
/* The messages s (may be NULL) gave back whole go again on the next session, held in
 * the replay buffer as far as it has room: their flow records. */
static uint64_t
keep_returned(struct dpfix_export *x, struct dpfix_session *s)
{
	uint64_t kept = 0;
	uint32_t records;
	ssize_t n;

	if (s == NULL || x->replay.cap == 0)
		return 0;
	if (x->returned_buf == NULL && (x->returned_buf = malloc(EXPORT_BUF_LEN)) == NULL)
		return 0;
	while ((n = dpfix_session_take_returned(s, x->returned_buf, EXPORT_BUF_LEN,
			&records)) > 0)
		if (export_replay_keep(x, x->returned_buf, (uint32_t)n, records) == 0)
			kept += records;
	return kept;
}

static void
count_given_up(struct dpfix_export *x, struct dpfix_session *s, const char *session,
		uint64_t given_up, uint64_t now_ns)
{
	uint64_t more = given_up - x->given_up_counted, kept;

	if (more == 0)
		return;
	/* With a replay buffer they are held (nothing confirmed them) and go again. */
	if (export_replay_on(x)) {
		x->given_up_counted = given_up;
		return;
	}
	/* Without one (no heartbeats) those the stack gave back whole go again (SCTP: an
	 * association that ended returns what it had not delivered), the rest is lost. */
	kept = keep_returned(x, s);
	if (kept != 0)
		export_log(DPFIX_LOG_INFO, "session %s ended with %" PRIu64 " flow records its "
				"stack gave back undelivered: they go again on the next session "
				"(records_replayed)", session, kept);
	if (kept < more && x->given_up_counted == 0)
		export_log(DPFIX_LOG_WARNING, "session %s gave up flow records it had taken (their "
				"sctp_data_lifetime ran out, or the session ended): counted in records_lost",
				session);
	x->given_up_counted = given_up;
	x->session_records -= more < x->session_records ? more : x->session_records;
	export_count_lost(x, more > kept ? more - kept : 0, 0, 0, now_ns);
}

/* A send that failed: said (the transport full, the message too long), or the session
 * marked failed. Returns ret. */
static int
send_failed(struct dpfix_export *x, uint32_t len, int ret, uint64_t now_ns)
{
	char why[DPFIX_SESSION_ERRLEN];
	uint8_t scratch[256];

	snprintf(why, sizeof(why), "%s", strerror(-ret));
	/* What a collector sent before it reset the session may say why: a (D)TLS alert to
	 * this plaintext exporter does (dpfix_session_recv names it). */
	if (ret != -EAGAIN && ret != -EMSGSIZE && dpfix_session_is_reliable(x->session) &&
			dpfix_session_recv(x->session, scratch, sizeof(scratch), why,
				sizeof(why)) != -EPROTO)
		snprintf(why, sizeof(why), "%s", strerror(-ret));
	if (ret == -EAGAIN || ret == -EMSGSIZE)
		export_log(DPFIX_LOG_WARNING, "sending a %u-byte message on %s failed: %s", len,
				dpfix_session_name(x->session), why);
	else
		mark_failed(x, now_ns, why);
	return ret;
}

/* A brief wait while the transport is full (the program holds what comes meanwhile),
 * counted in send_wait_ms. */
static int
send_waiting(struct dpfix_export *x, const uint8_t *buf, uint32_t len,
		enum dpfix_message_kind kind, uint32_t flow_records)
{
	int ret = dpfix_session_send_records(x->session, buf, len, kind, flow_records);
	uint64_t began;

	if (ret != -EAGAIN)
		return ret;
	began = dpfix_monotonic_ns();
	for (int tries = 0; ret == -EAGAIN && tries < 1000; tries++) {
		usleep(100);
		ret = dpfix_session_send_records(x->session, buf, len, kind, flow_records);
	}
	x->send_wait_ns += dpfix_monotonic_ns() - began;
	x->stats.send_wait_ms = x->send_wait_ns / 1000000;
	return ret;
}

int
export_send_or_hold(struct dpfix_export *x, const uint8_t *buf, uint32_t len,
		uint32_t flow_records, uint64_t now_ns)
{
	int ret;

	if (now_ns < x->held_retry_ns)
		return -EAGAIN;
	ret = dpfix_session_send_records(x->session, buf, len, DPFIX_MESSAGE_DATA, flow_records);
	if (ret == -EAGAIN) {
		x->held_retry_ns = now_ns + EXPORT_HELD_RETRY_NS;
		return ret;
	}
	x->held_retry_ns = 0;
	if (ret == 0) {
		x->stats.bytes_sent += len;
		return 0;
	}
	return send_failed(x, len, ret, now_ns);
}

int
export_send(struct dpfix_export *x, const uint8_t *buf, uint32_t len,
		enum dpfix_message_kind kind, uint32_t flow_records, uint64_t now_ns)
{
	int ret = send_waiting(x, buf, len, kind, flow_records);

	if (ret == 0) {
		x->stats.bytes_sent += len;
		return 0;
	}
	return send_failed(x, len, ret, now_ns);
}

struct dpfix_session *
dpfix_export_take_up(struct dpfix_export *x, struct dpfix_session *s, uint64_t now_ns)
{
	struct dpfix_session *old = x->session;

	export_answer_end_wait(x, now_ns);
	if (old != NULL) {
		x->stats.reconnects++;
		count_given_up(x, old, dpfix_session_name(old), dpfix_session_records_given_up(old, NULL),
				now_ns);
	}
	export_hand_off_cancel(x, "a replacement was taken up", now_ns);
	x->session = s;
	x->state = dpfix_session_is_reliable(s) ? DPFIX_EXPORT_PROBATION : DPFIX_EXPORT_TRUSTED;
	export_start_session(x, now_ns, now_ns);
	return old;
}

void
export_start_session(struct dpfix_export *x, uint64_t started_ns, uint64_t now_ns)
{
	struct dpfix_session *s = x->session;

	x->session_started_ns = started_ns;
	x->session_records = 0;
	x->confirmed_records = 0;
	x->given_up_counted = 0;
	x->liveness_check_ns = now_ns + EXPORT_LIVENESS_CHECK_NS;
	x->hb_waiting_count = 0;
	x->hb_unanswered = 0;
	x->held_retry_ns = 0;
	/* A new session knows no templates: they go first, then the options records (at the
	 * next poll), then the data records, those waiting in a message included. */
	for (unsigned int i = 0; i < x->nb_domains; i++)
		dpfix_ipfix_tm_session(&x->domains[i]->tm, dpfix_session_is_reliable(s));
	export_replay_prepare(x);
	x->options_due = 1;
	/* A replacement to the same collector goes on at the path MTU its predecessor had
	 * confirmed (checked by its first probe): what waits for a replay was made to it. */
	if (strcmp(dpfix_session_peer(s), x->path_peer) == 0)
		dpfix_session_path_resume(s, (uint32_t)x->stats.path_mtu);
	x->stats.path_mtu = dpfix_session_path_mtu(s);
	snprintf(x->path_peer, sizeof(x->path_peer), "%s", dpfix_session_peer(s));
	export_send_templates(x, now_ns);
	x->templates_unacknowledged = dpfix_session_is_reliable(s);
	export_refit_messages(x, now_ns);
}

void
dpfix_export_drop(struct dpfix_export *x, uint64_t now_ns)
{
	export_hand_off_cancel(x, "no session will come", now_ns);
	export_answer_end_wait(x, now_ns);
	x->state = DPFIX_EXPORT_DROPPING;
	export_drop_messages(x, now_ns);
	export_replay_drop(x);
}

enum dpfix_export_state
dpfix_export_state(const struct dpfix_export *x)
{
	return x->state;
}

const char *
dpfix_export_failure(const struct dpfix_export *x, uint64_t *lasted_ns)
{
	if (lasted_ns != NULL)
		*lasted_ns = x->failed_lasted_ns;
	return x->failed_why;
}

int
dpfix_export_failed_unanswered(const struct dpfix_export *x)
{
	return x->state == DPFIX_EXPORT_FAILED && x->failed_unanswered;
}

const struct dpfix_session *
dpfix_export_session(const struct dpfix_export *x)
{
	return x->session;
}

void
dpfix_export_fail(struct dpfix_export *x, const char *why, uint64_t now_ns)
{
	if (x->session == NULL || (x->state != DPFIX_EXPORT_PROBATION &&
			x->state != DPFIX_EXPORT_TRUSTED))
		return;
	x->failed_lasted_ns = now_ns - x->session_started_ns;
	snprintf(x->failed_why, sizeof(x->failed_why), "%s", why);
	x->failed_unanswered = 0; /* the program's own finding */
	x->state = DPFIX_EXPORT_FAILED;
	count_unconfirmed(x);
}

/* SCTP delivers each stream apart, and a message may leave before one handed over
 * earlier on another stream (usrsctp's stream scheduler), or be resent after it: the
 * options records or first flow records (stream 1) reached the collector before the
 * templates (stream 0) they need, and were not decoded, while the probe took all as
 * confirmed (4 sessions in 132 of dtls_sctp_repeat on a loaded machine; every time
 * when the first DATA packet is lost). A new session's data therefore waits until the
 * collector's stack has acknowledged its templates: they are in its receive queue
 * then, ahead of anything sent after. (TCP and UDP: at once.) */
int
export_templates_acknowledged(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	int ret;

	if (!x->templates_unacknowledged)
		return 1;
	ret = dpfix_session_wait_acknowledged(x->session, 0, err, sizeof(err));
	if (ret == 0)
		x->templates_unacknowledged = 0;
	else if (ret != -ETIMEDOUT)
		mark_failed(x, now_ns, err);
	return ret == 0;
}

/* The verdict on a session whose collector ended its side first: confirmed, all it
 * carried was read (nothing of it goes again); else what the collector had not
 * confirmed before is counted as any failure's, or sent again from the replay buffer. */
static void
answered_end(struct dpfix_export *x, int ret, const char *err)
{
	x->answering_end = 0;
	if (ret == 0) {
		x->confirmed_records = x->session_records;
		if (!x->replay.pending)
			export_replay_forget(x);
	} else {
		export_log(DPFIX_LOG_WARNING, "session %s: the collector ended its side and did not "
				"confirm it read all we sent: %s", dpfix_session_name(x->session), err);
	}
	count_unconfirmed(x);
}

/* TCP or TLS: the collector ended its side first (RFC 7011 10.4.1.2; dpfix-collector's
 * stop), and may still be reading. Nothing more goes on the session: ours ends in answer
 * and the collector's close says whether it read all. The session fails at once (the
 * program may open another meanwhile); the verdict comes in later polls. 0 when the
 * transport cannot answer so (SCTP), and it is judged as any close. */
static int
begin_answering_end(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	int ret = dpfix_session_answer_end_step(x->session, err, sizeof(err));

	if (ret == -EOPNOTSUPP)
		return 0;
	x->failed_lasted_ns = now_ns - x->session_started_ns;
	snprintf(x->failed_why, sizeof(x->failed_why), "closed by the collector");
	x->failed_unanswered = 0;
	x->state = DPFIX_EXPORT_FAILED;
	x->answering_end = 1;
	if (ret != -EINPROGRESS)
		answered_end(x, ret, err);
	return 1;
}

void
export_answer_end_poll(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	int ret;

	(void)now_ns;
	if (!x->answering_end)
		return;
	ret = dpfix_session_answer_end_step(x->session, err, sizeof(err));
	if (ret != -EINPROGRESS)
		answered_end(x, ret, err);
}

void
export_answer_end_wait(struct dpfix_export *x, uint64_t now_ns)
{
	while (x->answering_end) {
		export_answer_end_poll(x, now_ns);
		if (x->answering_end)
			usleep(1000); /* bounded by the step's own deadline (3 s) */
	}
}

/* A reliable session closed by the collector (or a DTLS one by its close_notify) is
 * noticed before the next message is written into it; one still up after its probation,
 * its templates acknowledged, is trusted with data records. Heartbeat answers are taken
 * in by the same reads, more often while one is awaited. */
void
export_check_liveness(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	uint8_t scratch[256];
	int awaiting;
	ssize_t n;

	if ((x->state != DPFIX_EXPORT_PROBATION && x->state != DPFIX_EXPORT_TRUSTED) ||
			(!dpfix_session_is_reliable(x->session) && !dpfix_session_heartbeats(x->session)) ||
			now_ns < x->liveness_check_ns)
		return;
	awaiting = x->hb_unanswered > 0 && now_ns < x->hb_answer_reads_until_ns;
	x->liveness_check_ns = now_ns + (awaiting ? EXPORT_ANSWER_CHECK_NS : EXPORT_LIVENESS_CHECK_NS);
	n = dpfix_session_recv(x->session, scratch, sizeof(scratch), err, sizeof(err));
	count_given_up(x, x->session, dpfix_session_name(x->session),
			dpfix_session_records_given_up(x->session, NULL), now_ns);
	if (n == -EPIPE && begin_answering_end(x, now_ns))
		return;
	/* A collector that closed in order after its stack had acknowledged all we sent
	 * read it all (a TCP collector closing with bytes unread resets instead). */
	if (n == -EPIPE && dpfix_session_unacknowledged(x->session) == 0)
		x->confirmed_records = x->session_records;
	if (n == -EPIPE)
		mark_failed(x, now_ns, "closed by the collector");
	else if (n < 0 && n != -EAGAIN && n != -EMSGSIZE)
		mark_failed(x, now_ns, err);
	else if (x->state == DPFIX_EXPORT_PROBATION &&
			now_ns - x->session_started_ns >= x->params.probation_ns &&
			export_templates_acknowledged(x, now_ns))
		x->state = DPFIX_EXPORT_TRUSTED;
}

void
export_probe_path(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	uint8_t scratch[256];

	if (x->state != DPFIX_EXPORT_PROBATION && x->state != DPFIX_EXPORT_TRUSTED)
		return;
	/* A reliable session is read for its liveness; a datagram one only here, and its
	 * errors are not the session's end (a datagram session never fails as a whole). */
	if (dpfix_session_path_poll(x->session, now_ns / 1000000) &&
			!dpfix_session_is_reliable(x->session) && now_ns >= x->path_read_ns) {
		x->path_read_ns = now_ns + EXPORT_PATH_READ_NS;
		for (int i = 0; i < 8 && dpfix_session_recv(x->session, scratch, sizeof(scratch),
				err, sizeof(err)) != -EAGAIN; i++)
			;
	}
	x->stats.path_mtu = dpfix_session_path_mtu(x->session);
}

void
dpfix_export_end(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN], name[DPFIX_SESSION_ERRLEN];
	uint64_t given_up = 0;
	int ret;

	export_hand_off_fini(x, now_ns);
	export_answer_end_wait(x, now_ns);
	if (x->session == NULL || !dpfix_session_is_reliable(x->session) ||
			(x->state != DPFIX_EXPORT_PROBATION && x->state != DPFIX_EXPORT_TRUSTED))
		return;
	/* Over SCTP the withdrawal (stream 0) overtakes data not yet acknowledged (stream 1),
	 * which the collector then cannot decode: it goes once all is acknowledged, or not at
	 * all (the end then says what came instead). */
	if (dpfix_session_wait_acknowledged(x->session, EXPORT_WITHDRAWAL_WAIT_MS, err,
			sizeof(err)) == 0)
		export_withdraw_templates(x, now_ns);
	snprintf(name, sizeof(name), "%s", dpfix_session_name(x->session)); /* ending frees it */
	ret = dpfix_session_end(x->session, &given_up, err, sizeof(err));
	x->session = NULL;
	x->state = DPFIX_EXPORT_NO_SESSION;
	count_given_up(x, NULL, name, given_up, now_ns);
	if (ret < 0) {
		/* Those an answered heartbeat confirmed are not in doubt. */
		uint64_t open = x->session_records > x->confirmed_records ?
				x->session_records - x->confirmed_records : 0;

		x->stats.sessions_unconfirmed++;
		x->stats.records_unconfirmed += open;
		export_log(DPFIX_LOG_WARNING, "session %s ended without the collector's "
				"confirmation: %s; its %" PRIu64 " flow records may not have been read "
				"(records_unconfirmed)", name, err, open);
	}
	/* Ended, confirmed or counted: nothing is left to send again. */
	export_replay_forget(x);
}
