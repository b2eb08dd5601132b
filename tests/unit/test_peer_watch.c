/* dpfix_peer_watch (lib/session): the heartbeat cadence and the dead-collector verdict,
 * driven with a simulated clock in 1 ms steps: a collector that answers is never dead,
 * however many answers are lost one at a time; one that stops is dead within
 * (misses - 0.5) to (misses + 0.5) intervals wherever in the cadence it stopped; late
 * answers count; answers to another watch's requests do not. */
#include <stdio.h>

#include "dpfix_peer_watch.h"
#include "unit_test.h"

#define MS 1000000ull
#define INTERVAL (1000 * MS)

/* A collector: answers each request rtt after it was sent, unless it has stopped by then
 * or lose(request number) says the answer is lost. */
struct sim {
	uint64_t rtt;
	uint64_t stop_at;               /* no answers to requests arriving after this */
	int (*lose)(unsigned int n);
	uint32_t ids[4096];
	uint64_t due[4096];
	unsigned int count;
};

static int
lose_none(unsigned int n)
{
	(void)n;
	return 0;
}

static int
lose_every_third(unsigned int n)
{
	return n % 3 == 2;
}

/* Runs the watch from 0 to end (or until dead); returns the time it said dead, or 0. */
static uint64_t
run(struct dpfix_peer_watch *w, struct sim *s, uint32_t misses, uint64_t end)
{
	struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = misses};
	uint32_t id;

	dpfix_peer_watch_start(w, &p, 1000, 0);
	for (uint64_t now = 0; now <= end; now += MS) {
		while (dpfix_peer_watch_next(w, now, &id) && s->count < 4096) {
			s->ids[s->count] = id;
			s->due[s->count] = now + s->rtt;
			s->count++;
		}
		for (unsigned int i = 0; i < s->count; i++) {
			if (s->due[i] != now || s->lose(i) || now - s->rtt / 2 > s->stop_at)
				continue;
			dpfix_peer_watch_answered(w, s->ids[i], now);
		}
		if (dpfix_peer_watch_dead(w, now))
			return now;
	}
	return 0;
}

static void
test_answering_collector_lives(void)
{
	struct dpfix_peer_watch w;
	struct sim s = {.rtt = 10 * MS, .stop_at = UINT64_MAX, .lose = lose_none};

	CHECK_EQ_U64(run(&w, &s, 3, 100 * INTERVAL), 0);
	CHECK_EQ_U64(s.count, 101); /* one at once, then one an interval */
	/* Every third answer lost: never three in a row. */
	s = (struct sim){.rtt = 10 * MS, .stop_at = UINT64_MAX, .lose = lose_every_third};
	CHECK_EQ_U64(run(&w, &s, 3, 100 * INTERVAL), 0);
	/* Answers later than half an interval still count. */
	s = (struct sim){.rtt = 700 * MS, .stop_at = UINT64_MAX, .lose = lose_none};
	CHECK_EQ_U64(run(&w, &s, 3, 100 * INTERVAL), 0);
}

/* Stopped anywhere in the cadence: dead (misses - 0.5) to (misses + 0.5) intervals later. */
static void
test_stopped_collector_dead_in_bounds(void)
{
	for (uint32_t misses = 1; misses <= 5; misses++) {
		for (uint64_t offset = 0; offset < INTERVAL; offset += 50 * MS) {
			struct dpfix_peer_watch w;
			uint64_t stop = 10 * INTERVAL + offset, dead;
			struct sim s = {.rtt = 10 * MS, .stop_at = stop, .lose = lose_none};

			dead = run(&w, &s, misses, 30 * INTERVAL);
			if (dead < stop + misses * INTERVAL - INTERVAL / 2 - s.rtt ||
					dead >= stop + misses * INTERVAL + INTERVAL / 2)
				fprintf(stderr, "  misses %u, stopped at +%llu ms: dead %.3f s after\n", misses,
						(unsigned long long)(offset / MS), (double)(dead - stop) / 1e9);
			CHECK(dead != 0);
			CHECK(dead >= stop + misses * INTERVAL - INTERVAL / 2 - s.rtt);
			CHECK(dead < stop + misses * INTERVAL + INTERVAL / 2);
			CHECK(dpfix_peer_watch_dead(&w, dead + INTERVAL)); /* and stays so */
		}
	}
}

/* A collector that comes back before the verdict: its answer resets the count. */
static void
test_answer_before_verdict(void)
{
	struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = 3};
	struct dpfix_peer_watch w;
	uint32_t id, ids[8];
	unsigned int n = 0;

	dpfix_peer_watch_start(&w, &p, 7, 0);
	for (uint64_t now = 0; now <= 2 * INTERVAL; now += MS)
		while (dpfix_peer_watch_next(&w, now, &id))
			ids[n++] = id;
	CHECK_EQ_U64(n, 3);
	CHECK_EQ_U64(ids[0], 7);
	CHECK(!dpfix_peer_watch_dead(&w, 2 * INTERVAL + INTERVAL / 2 - MS));
	dpfix_peer_watch_answered(&w, ids[2], 2 * INTERVAL + INTERVAL / 2 - MS);
	CHECK(!dpfix_peer_watch_dead(&w, 2 * INTERVAL + INTERVAL / 2));
	CHECK_EQ_U64(dpfix_peer_watch_last_heard(&w), 2 * INTERVAL + INTERVAL / 2 - MS);
	/* Ids it never sent (another watch's, a stale one) change nothing. */
	dpfix_peer_watch_answered(&w, 6, 3 * INTERVAL);
	dpfix_peer_watch_answered(&w, 100, 3 * INTERVAL);
	CHECK_EQ_U64(dpfix_peer_watch_last_heard(&w), 2 * INTERVAL + INTERVAL / 2 - MS);
	CHECK_EQ_U64(dpfix_peer_watch_next_due(&w), 3 * INTERVAL);
}

int
main(void)
{
	RUN_TEST(test_answering_collector_lives);
	RUN_TEST(test_stopped_collector_dead_in_bounds);
	RUN_TEST(test_answer_before_verdict);
	return unit_test_summary();
}
