/* Heartbeats on the Exporting Process's session (doc/heartbeats.md): the program says
 * when (the probe's control lcore decides), this sends them in the session's own order,
 * holding one back while the transport is full, and hands the answers back. */
#include <errno.h>

#include "export_private.h"

static int
working(const struct dpfix_export *x)
{
	return x->session != NULL &&
			(x->state == DPFIX_EXPORT_PROBATION || x->state == DPFIX_EXPORT_TRUSTED);
}

void
export_send_heartbeats(struct dpfix_export *x, uint64_t now_ns)
{
	while (x->hb_waiting_count > 0 && working(x)) {
		unsigned int i = x->hb_waiting_head;
		int ret = dpfix_session_heartbeat(x->session, x->hb_waiting[i], 0);

		if (ret == -EAGAIN)
			return; /* the transport is full: at the next poll */
		x->hb_waiting_head = (i + 1) % EXPORT_HEARTBEATS_WAITING;
		x->hb_waiting_count--;
		/* Any other failure leaves the request unanswered, which is what the program
		 * watches for; a send that failed the session fails the data sends too. */
		if (ret == 0) {
			export_replay_mark(x, x->hb_waiting[i]);
			x->stats.heartbeats_sent++;
			x->hb_unanswered++;
			x->hb_answer_reads_until_ns = now_ns + EXPORT_ANSWER_READS_NS;
			/* Its answer is read for from the next poll on, every millisecond. */
			if (x->liveness_check_ns > now_ns + EXPORT_ANSWER_CHECK_NS)
				x->liveness_check_ns = now_ns + EXPORT_ANSWER_CHECK_NS;
		}
	}
}

int
dpfix_export_heartbeat(struct dpfix_export *x, uint32_t id, uint64_t now_ns)
{
	unsigned int tail;

	if (x->session != NULL && !dpfix_session_heartbeats(x->session))
		return -EOPNOTSUPP;
	if (!working(x))
		return -EAGAIN;
	if (x->hb_waiting_count == EXPORT_HEARTBEATS_WAITING) {
		x->hb_waiting_head = (x->hb_waiting_head + 1) % EXPORT_HEARTBEATS_WAITING;
		x->hb_waiting_count--;
	}
	tail = (x->hb_waiting_head + x->hb_waiting_count) % EXPORT_HEARTBEATS_WAITING;
	x->hb_waiting[tail] = id;
	x->hb_waiting_count++;
	export_send_heartbeats(x, now_ns);
	return 0;
}

int
dpfix_export_heartbeat_answered(struct dpfix_export *x, uint32_t *id)
{
	if (x->session == NULL || !dpfix_session_heartbeat_answered(x->session, id))
		return 0;
	x->stats.heartbeats_answered++;
	export_replay_confirm(x, *id);
	if (x->hb_unanswered > 0)
		x->hb_unanswered--;
	return 1;
}
