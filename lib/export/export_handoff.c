/* Planned hand-off (seed 002, 4.2): instead of a renegotiation, a new session comes up
 * beside the one in use, export switches to it, and the old one ends in order, so
 * export never stalls. Data goes on the old session until the new one has passed its
 * probation (reliable transports; at once on UDP); then the messages being filled go on
 * the old one, and the new one gets the templates, the options records and everything
 * after. Nothing is sent on the new session before the switch, so each session's
 * sequence numbers are its own from its first message (a templates message sent early
 * would carry a sequence number that data on the old session then overtakes); they go
 * on from the old session's, being the instance's per observation domain. The old
 * session ends in steps that never wait (dpfix_session_end_step), and its flow records
 * are confirmed by the collector's end of its side, or counted as unconfirmed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "export_private.h"

/* Ending sessions take a step at most this often. */
#define EXPORT_RETIRE_STEP_NS 1000000ull

/* r's end is over with verdict ret: what it gave up is lost, and a judged end that was
 * not confirmed counts its records unconfirmed, as dpfix_export_end does. */
static void
retired(struct dpfix_export *x, struct export_retiring *r, int ret, uint64_t given_up,
		const char *err, uint64_t now_ns)
{
	if (given_up > r->given_up_counted) {
		uint64_t more = given_up - r->given_up_counted;

		export_log(DPFIX_LOG_WARNING, "session %s gave up %" PRIu64 " flow records it had "
				"taken (their sctp_data_lifetime ran out, or the session ended): counted in "
				"records_lost", r->name, more);
		r->records -= more < r->records ? more : r->records;
		export_count_lost(x, more, 0, 0, now_ns);
	}
	if (!r->judged || ret == 0 || ret == -EOPNOTSUPP)
		return;
	x->stats.sessions_unconfirmed++;
	x->stats.records_unconfirmed += r->records;
	export_log(DPFIX_LOG_WARNING, "session %s ended without the collector's confirmation: "
			"%s; its %" PRIu64 " flow records may not have been read (records_unconfirmed)",
			r->name, err, r->records);
}

/* One step of each ending session, without waiting; those over are accounted for. */
static void
step_retiring(struct dpfix_export *x, uint64_t now_ns)
{
	for (unsigned int i = 0; i < x->nb_retiring;) {
		struct export_retiring *r = &x->retiring[i];
		char err[DPFIX_SESSION_ERRLEN];
		uint64_t given_up = 0;
		int ret = dpfix_session_end_step(r->session, &given_up, err, sizeof(err));

		if (ret == -EINPROGRESS) {
			i++;
			continue;
		}
		retired(x, r, ret, given_up, err, now_ns);
		*r = x->retiring[--x->nb_retiring];
	}
	x->retire_step_ns = now_ns;
}

/* Until fewer than `left` sessions are ending (0: all over), waiting. */
static void
retiring_wait(struct dpfix_export *x, unsigned int left, uint64_t now_ns)
{
	for (step_retiring(x, now_ns); x->nb_retiring > 0 && x->nb_retiring >= left;
			step_retiring(x, now_ns))
		usleep(1000);
}

/* A session whose end is judged: its flow records are confirmed by the collector's end,
 * or counted unconfirmed. Unjudged: one that carried no records (a new session that
 * failed its probation), or that had failed already (its end cannot confirm anything,
 * and a replacement's take-up does not judge one either). */
static void
retire(struct dpfix_export *x, struct dpfix_session *s, uint64_t records,
		uint64_t given_up_counted, int judged, uint64_t now_ns)
{
	struct export_retiring *r;

	if (s == NULL)
		return;
	if (x->nb_retiring == EXPORT_RETIRING_MAX)
		retiring_wait(x, EXPORT_RETIRING_MAX, now_ns); /* (hand-offs faster than ends) */
	r = &x->retiring[x->nb_retiring++];
	*r = (struct export_retiring){.session = s, .records = records,
		.given_up_counted = given_up_counted, .judged = judged};
	snprintf(r->name, sizeof(r->name), "%s", dpfix_session_name(s));
}

/* The session coming up failed (its probation: the collector closed or refused it):
 * the session in use goes on; the hand-off is FAILED, why said. */
static void
next_failed(struct dpfix_export *x, const char *why, uint64_t now_ns)
{
	snprintf(x->hand_off_why, sizeof(x->hand_off_why), "%s: %s",
			dpfix_session_name(x->next), why);
	export_log(DPFIX_LOG_WARNING, "hand-off to %s", x->hand_off_why);
	retire(x, x->next, 0, 0, 0, now_ns);
	x->next = NULL;
	x->hand_off = DPFIX_EXPORT_HANDOFF_FAILED;
}

/* Export goes on the session that came up: the records waiting in messages go first
 * on the old one (unless it failed), then the new one takes over as a replacement's
 * take-up does (templates, options records, data), and the old one ends in order. */
static void
switch_to_next(struct dpfix_export *x, uint64_t now_ns)
{
	struct dpfix_session *old;
	int old_works;

	export_answer_end_wait(x, now_ns); /* the old one's verdict, if its collector ended it */
	old = x->session;
	old_works = x->state == DPFIX_EXPORT_TRUSTED || x->state == DPFIX_EXPORT_PROBATION;
	if (x->state == DPFIX_EXPORT_TRUSTED)
		export_send_data_messages(x, now_ns);
	old_works = old_works && x->state != DPFIX_EXPORT_FAILED;
	/* Its orderly end confirms what it carried, or counts it unconfirmed: nothing of it
	 * is sent again (one that failed has its replay go on the new one). */
	if (old_works)
		export_replay_forget(x);
	retire(x, old, x->session_records, x->given_up_counted, old_works, now_ns);
	x->session = x->next;
	x->next = NULL;
	/* It passed its probation beside the old one (at once on UDP); over SCTP its data
	 * still waits until its templates are acknowledged (export_templates_acknowledged),
	 * when the next liveness check trusts it. */
	x->state = DPFIX_EXPORT_TRUSTED;
	export_start_session(x, x->next_started_ns, now_ns);
	if (!export_templates_acknowledged(x, now_ns) && x->state == DPFIX_EXPORT_TRUSTED)
		x->state = DPFIX_EXPORT_PROBATION;
	x->stats.sessions_rolled_over++;
	x->hand_off = DPFIX_EXPORT_HANDOFF_DONE;
}

/* The session coming up: its liveness read (every EXPORT_LIVENESS_CHECK_NS), and the
 * switch once it has lasted the probation, or at once when the one in use failed. */
void
export_hand_off_poll(struct dpfix_export *x, uint64_t now_ns)
{
	char err[DPFIX_SESSION_ERRLEN];
	uint8_t scratch[256];
	ssize_t n;

	if (x->nb_retiring > 0 && now_ns - x->retire_step_ns >= EXPORT_RETIRE_STEP_NS)
		step_retiring(x, now_ns);
	if (x->next == NULL || (now_ns < x->next_liveness_check_ns && x->state != DPFIX_EXPORT_FAILED))
		return;
	x->next_liveness_check_ns = now_ns + EXPORT_LIVENESS_CHECK_NS;
	n = dpfix_session_recv(x->next, scratch, sizeof(scratch), err, sizeof(err));
	if (n == -EPIPE)
		next_failed(x, "closed by the collector", now_ns);
	else if (n < 0 && n != -EAGAIN && n != -EMSGSIZE)
		next_failed(x, err, now_ns);
	else if (n > 0)
		next_failed(x, "the collector sent bytes (an IPFIX collector sends nothing back)",
				now_ns);
	else if (x->state == DPFIX_EXPORT_FAILED ||
			now_ns - x->next_started_ns >= x->params.probation_ns)
		switch_to_next(x, now_ns);
}

struct dpfix_session *
dpfix_export_hand_off(struct dpfix_export *x, struct dpfix_session *s, uint64_t now_ns)
{
	if (x->state != DPFIX_EXPORT_TRUSTED && x->state != DPFIX_EXPORT_PROBATION) {
		/* Nothing to hand off from: a replacement. */
		x->hand_off = DPFIX_EXPORT_HANDOFF_DONE;
		return dpfix_export_take_up(x, s, now_ns);
	}
	export_hand_off_cancel(x, "replaced by another hand-off", now_ns);
	x->next = s;
	x->next_started_ns = now_ns;
	x->next_liveness_check_ns = now_ns + EXPORT_LIVENESS_CHECK_NS;
	x->hand_off = DPFIX_EXPORT_HANDOFF_UNDER_WAY;
	x->hand_off_why[0] = '\0';
	if (!dpfix_session_is_reliable(s))
		switch_to_next(x, now_ns);
	return NULL;
}

enum dpfix_export_hand_off
dpfix_export_hand_off_state(const struct dpfix_export *x, const char **why)
{
	if (why != NULL)
		*why = x->hand_off_why;
	return x->hand_off;
}

void
dpfix_export_retire(struct dpfix_export *x, uint64_t now_ns)
{
	export_hand_off_cancel(x, "the session in use ended", now_ns);
	export_answer_end_wait(x, now_ns);
	if (x->session == NULL)
		return;
	if (x->state == DPFIX_EXPORT_TRUSTED)
		export_send_data_messages(x, now_ns);
	if (x->state == DPFIX_EXPORT_TRUSTED || x->state == DPFIX_EXPORT_PROBATION)
		export_replay_forget(x); /* its orderly end judges what it carried */
	retire(x, x->session, x->session_records, x->given_up_counted,
			x->state == DPFIX_EXPORT_TRUSTED || x->state == DPFIX_EXPORT_PROBATION, now_ns);
	x->session = NULL;
	if (x->state != DPFIX_EXPORT_DROPPING)
		x->state = DPFIX_EXPORT_NO_SESSION;
}

void
export_hand_off_cancel(struct dpfix_export *x, const char *why, uint64_t now_ns)
{
	if (x->next != NULL)
		next_failed(x, why, now_ns);
}

void
export_hand_off_fini(struct dpfix_export *x, uint64_t now_ns)
{
	export_hand_off_cancel(x, "the export ended", now_ns);
	retiring_wait(x, 0, now_ns);
}
