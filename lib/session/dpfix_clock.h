/* The one clock of session life: deadlines, waits and silences are differences of
 * CLOCK_MONOTONIC, which no change of the wall clock moves. */
#ifndef DPFIX_CLOCK_H
#define DPFIX_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
dpfix_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
