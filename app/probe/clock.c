/* Wall-clock time for the data path without a syscall per call: the TSC, anchored
 * once to CLOCK_REALTIME at start-up. */
#include <time.h>

#include <rte_cycles.h>

#include "probe.h"

static uint64_t anchor_ns;
static uint64_t anchor_tsc;
static double ns_per_tsc;

void
probe_clock_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	anchor_tsc = rte_get_tsc_cycles();
	anchor_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
}

uint64_t
probe_clock_now_ns(void)
{
	return anchor_ns + (uint64_t)((double)(rte_get_tsc_cycles() - anchor_tsc) * ns_per_tsc);
}
