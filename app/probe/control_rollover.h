/* Planned hand-off on the probe (issue 12, seed 002 4.2): instead of renegotiating, a
 * new session comes up beside the one in use and export moves to it (lib/export's
 * dpfix_export_hand_off). The control lcore decides when and opens the new session in
 * steps that never wait; the export lcore switches. */
#ifndef CONTROL_ROLLOVER_H
#define CONTROL_ROLLOVER_H

#include <stdatomic.h>
#include <stdint.h>

struct dpfix_session;

/* The control lcore's. */
struct session_rollover {
	atomic_int requested;           /* the operator's /dpfix/hand_off (telemetry) */
	struct dpfix_session *opening;  /* the new session's handshake, a step a tick */
	char reason[48];                /* what asked for it, for the log */
	char name[256];                 /* the new session's, for the log */
	int offered;                    /* given to the export lcore, its answer not in yet */
	int failback;                   /* this one goes back to the primary collector */
	unsigned int sessions_seen;     /* control.sessions_opened when since_ns was set */
	uint64_t since_ns;              /* the session in use came up */
	uint64_t bytes_base;            /* the export's bytes_sent then */
	uint64_t retry_ns;              /* after an attempt failed: not before */
	uint64_t failed;                /* attempts that failed; the old session went on */
	int liveness;                   /* the one under way checks a collector's liveness */
};

#endif
