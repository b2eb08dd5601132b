/* The control lcore's part of a session hand-off: a replacement for each session failure
 * the exporter reports, with a backoff that a collector refusing every session cannot
 * reset (doc/sessions.md). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "probe.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
/* At the longest backoff, a failed attempt whose reason has not changed is logged only
 * every this many. */
#define LOG_FAILURES_EVERY 10

/* A connection attempt failed: the open did, or the session it gave did not last. The
 * wait before the next one doubles, up to RECONNECT_MAX_MS. Said when the wait or the
 * reason changes, and at the longest wait every LOG_FAILURES_EVERY failures, so a
 * collector that refuses every time leaves a few lines, each with the count. */
static void
attempt_failed(struct exporter_ctx *x, uint64_t now_ms, const char *why)
{
	uint64_t previous = x->reconnect_backoff_ms;
	unsigned int in_row = atomic_fetch_add(&x->attempts_failed_in_row, 1) + 1;
	int new_reason = strcmp(why, x->last_failure) != 0;

	x->connect_failures++;
	x->reconnect_backoff_ms = previous == 0 ? RECONNECT_MIN_MS :
			RTE_MIN(previous * 2, (uint64_t)RECONNECT_MAX_MS);
	x->next_reconnect_ms = now_ms + x->reconnect_backoff_ms;
	if (!new_reason && x->reconnect_backoff_ms == previous && in_row % LOG_FAILURES_EVERY != 0)
		return;
	snprintf(x->last_failure, sizeof(x->last_failure), "%s", why);
	RTE_LOG(WARNING, USER1, "export: %s; %u failed attempt%s in a row, records wait in the "
			"rings; next try in %.1f s%s\n", why, in_row, in_row == 1 ? "" : "s",
			x->reconnect_backoff_ms / 1000.0,
			x->reconnect_backoff_ms == RECONNECT_MAX_MS && previous != RECONNECT_MAX_MS ?
			" (the longest wait: from now on, every 10th failure is logged, or a new reason)" :
			"");
}

/* The control lcore's part of a hand-off: it learns of each session failure from the
 * exporter's count, opens one replacement per failure, and waits before each attempt
 * while attempts keep failing. */
int
exporter_reconnect_step(struct exporter_ctx *x, uint64_t now_ms)
{
	unsigned int failures = atomic_load(&x->session_failures);
	char err[DPFIX_SESSION_ERRLEN];
	struct dpfix_session *s;

	if (failures != x->failures_seen) {
		x->failures_seen = failures;
		if (x->failed_lasted_ns >= SESSION_STABLE_NS) {
			/* It had lasted: the collector worked, so try again at once. */
			atomic_store(&x->attempts_failed_in_row, 0);
			x->reconnect_backoff_ms = 0;
			x->next_reconnect_ms = 0;
			x->last_failure[0] = '\0';
		} else {
			char why[2 * DPFIX_SESSION_ERRLEN];

			snprintf(why, sizeof(why), "session %s is down after %.1f s (%s)",
					dpfix_session_name(x->session), x->failed_lasted_ns / 1e9, x->failed_why);
			attempt_failed(x, now_ms, why);
		}
	}
	if (!atomic_load(&x->session_failed) || x->failures_replaced == failures ||
			now_ms < x->next_reconnect_ms)
		return 0;
	s = dpfix_session_open(&x->endpoint, &x->session_params, err, sizeof(err));
	if (s == NULL) {
		char why[2 * DPFIX_SESSION_ERRLEN];

		snprintf(why, sizeof(why), "reconnect failed: %s", err);
		attempt_failed(x, now_ms, why);
		return 1;
	}
	x->failures_replaced = failures;
	atomic_store(&x->replacement, s);
	return 1;
}
