/* SIGINT and SIGTERM as the stop of a program built on lib/collect (dpfix-collector,
 * dpfix-mediator), and the drain that follows one. The signals are read from a signalfd
 * that is in the loop's poll set, never taken by a handler. A handler interrupted
 * whatever system call was running: a write() of printed records to a full pipe or
 * terminal returned EINTR and stdio dropped its buffer (4 KB of records gone without a
 * word), and a signal that came between the loop's look at its flag and poll() waited
 * for poll's timeout. Blocked from main's first line, a signal during start-up waits for
 * the loop instead of being lost (a script's background job starts with SIGINT ignored)
 * or killing the program mid-way. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dpfix_collect.h"
#include "dpfix_log.h"

/* Whether a stop signal came (read from the signalfd once; then remembered). */
static int
signal_came(void *arg)
{
	struct dpfix_collect_signals *sig = arg;
	struct signalfd_siginfo si;

	if (sig->name == NULL && read(sig->stop.fd, &si, sizeof(si)) == sizeof(si))
		sig->name = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
	return sig->name != NULL;
}

int
dpfix_collect_signals_open(struct dpfix_collect_signals *sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sig->name = NULL;
	sig->stop = (struct dpfix_collect_stop){.requested = signal_came, .arg = sig};
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
			(sig->stop.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		int ret = -errno;

		dpfix_log(DPFIX_LOG_ERROR, "signalfd: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

void
dpfix_collect_drain_after_signal(struct dpfix_collect *c, struct dpfix_collect_signals *sig,
		uint32_t max_ms, const char *then)
{
	dpfix_log(DPFIX_LOG_INFO, "%s: stopping; reading what is queued (at most %u s; a second "
			"signal stops at once)%s", sig->name, max_ms / 1000, then);
	sig->name = NULL;
	switch (dpfix_collect_drain(c, &sig->stop, max_ms)) {
	case DPFIX_COLLECT_DRAIN_STOPPED:
		dpfix_log(DPFIX_LOG_INFO, "%s, a second signal: stopped reading", sig->name);
		break;
	case DPFIX_COLLECT_DRAIN_TIMED_OUT:
		dpfix_log(DPFIX_LOG_INFO, "input still arriving %u ms after the stop signal: "
				"stopped reading", max_ms);
		break;
	case DPFIX_COLLECT_DRAINED:
		break;
	}
}
