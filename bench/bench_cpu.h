/* CPU time for the bench programs on a shared machine. */
#ifndef DPFIX_BENCH_CPU_H
#define DPFIX_BENCH_CPU_H

#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>

/* Cycles of CPU time this thread has had, at the TSC rate. Other work on this shared
 * machine preempts the benchmark; wall-clock TSC would count those pauses as ours. */
static inline uint64_t
bench_cpu_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)((double)(ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) *
			(double)rte_get_tsc_hz() / 1e9);
}

#endif
