/* dpfix_peer_watch (lib/session): the heartbeat cadence and the dead-collector verdict,
 * driven with a simulated clock in 1 ms steps: a collector that answers is never dead,
 * however many answers are lost one at a time; one that stops is dead within
 * (misses - 0.5) to (misses + 0.5) intervals wherever in the cadence it stopped; late
 * answers count; answers to another watch's requests do not. PLPMTUD over a simulated
 * path that drops what is larger than its MTU without a word: the search ends within a
 * few octets of it, quickly; a path that shrinks is noticed and the search starts over;
 * never a dead verdict for it. */
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
	uint32_t path_mtu;              /* requests padded beyond this are dropped (0: none) */
	uint64_t shrink_at;             /* ... and from then on, beyond shrunk_mtu */
	uint32_t shrunk_mtu;
	uint32_t ids[4096];
	uint32_t sizes[4096];
	uint64_t due[4096];
	unsigned int count;
};

static int
passes(const struct sim *s, unsigned int i)
{
	uint64_t sent = s->due[i] - s->rtt;
	uint32_t mtu = s->shrink_at != 0 && sent >= s->shrink_at ? s->shrunk_mtu : s->path_mtu;

	return mtu == 0 || s->sizes[i] <= mtu;
}

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

/* Runs the watch from 0 to end (or until dead); returns the time it said dead, or 0.
 * With PLPMTUD (p.max_mtu set), stops at done_by_ns if the search is over then. */
static uint64_t
run_with(struct dpfix_peer_watch *w, struct sim *s, const struct dpfix_peer_watch_params *p,
		uint64_t end, uint64_t *done_ns)
{
	uint32_t id, size;

	dpfix_peer_watch_start(w, p, 1000, 0);
	for (uint64_t now = 0; now <= end; now += MS) {
		while (dpfix_peer_watch_next(w, now, &id, &size) && s->count < 4096) {
			s->ids[s->count] = id;
			s->sizes[s->count] = size;
			s->due[s->count] = now + s->rtt;
			s->count++;
		}
		for (unsigned int i = 0; i < s->count; i++) {
			if (s->due[i] != now || s->lose(i) || now - s->rtt / 2 > s->stop_at ||
					!passes(s, i))
				continue;
			dpfix_peer_watch_answered(w, s->ids[i], now);
		}
		if (done_ns != NULL && *done_ns == 0 &&
				dpfix_peer_watch_pmtu_state(w) == DPFIX_PMTU_DONE)
			*done_ns = now;
		if (dpfix_peer_watch_dead(w, now))
			return now;
	}
	return 0;
}

static uint64_t
run(struct dpfix_peer_watch *w, struct sim *s, uint32_t misses, uint64_t end)
{
	struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = misses};

	return run_with(w, s, &p, end, NULL);
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
	uint32_t id, size, ids[8];
	unsigned int n = 0;

	dpfix_peer_watch_start(&w, &p, 7, 0);
	for (uint64_t now = 0; now <= 2 * INTERVAL; now += MS)
		while (dpfix_peer_watch_next(&w, now, &id, &size)) {
			CHECK_EQ_U64(size, 0); /* no PLPMTUD: the smallest */
			ids[n++] = id;
		}
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

/* The path drops what exceeds 1280 octets, silently; the search goes from the base
 * (1200) up to 1500: it ends within MTU_STEP below 1280, in well under 10 s, every size
 * it reported passing. The common case, a path that takes the largest size, takes one
 * probe. */
static void
test_pmtu_search(void)
{
	static const uint32_t paths[] = {1280, 1500, 1200, 1437};

	for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = 3,
			.base_mtu = 1200, .max_mtu = 1500};
		struct dpfix_peer_watch w;
		struct sim s = {.rtt = 2 * MS, .stop_at = UINT64_MAX, .lose = lose_none,
			.path_mtu = paths[k]};
		uint64_t done = 0;
		uint32_t mtu;

		CHECK_EQ_U64(run_with(&w, &s, &p, 20 * INTERVAL, &done), 0);
		mtu = dpfix_peer_watch_path_mtu(&w);
		if (done == 0 || mtu > paths[k] || mtu + DPFIX_PEER_WATCH_MTU_STEP < paths[k])
			fprintf(stderr, "  path %u: found %u, done after %.3f s\n", paths[k], mtu,
					done / 1e9);
		CHECK(done != 0 && done < 5 * INTERVAL);
		CHECK(mtu <= paths[k] && mtu + DPFIX_PEER_WATCH_MTU_STEP >= paths[k]);
		if (paths[k] == 1500)
			CHECK(done < 10 * MS);
	}
}

/* Converged at 1500, the path shrinks to 1280 (no ICMP): the liveness requests padded to
 * 1500 go unanswered, the watch falls back to the base before it would call the
 * collector dead, and finds 1280 again. */
static void
test_pmtu_black_hole(void)
{
	struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = 3,
		.base_mtu = 1200, .max_mtu = 1500};
	struct dpfix_peer_watch w;
	struct sim s = {.rtt = 2 * MS, .stop_at = UINT64_MAX, .lose = lose_none,
		.path_mtu = 1500, .shrink_at = 5 * INTERVAL + INTERVAL / 3, .shrunk_mtu = 1280};
	uint32_t mtu;
	const char *why;

	CHECK_EQ_U64(run_with(&w, &s, &p, 20 * INTERVAL, NULL), 0);
	mtu = dpfix_peer_watch_path_mtu(&w);
	CHECK(mtu <= 1280 && mtu + DPFIX_PEER_WATCH_MTU_STEP >= 1280);
	CHECK(dpfix_peer_watch_path_mtu_changed(&w, &mtu, &why) == 1);
	CHECK(dpfix_peer_watch_path_mtu_changed(&w, &mtu, &why) == 0);
}

/* A collector that stops answering is still found dead with PLPMTUD on (probes do not
 * count as liveness requests, nor keep it alive). */
static void
test_pmtu_dead(void)
{
	struct dpfix_peer_watch_params p = {.interval_ns = INTERVAL, .misses = 3,
		.base_mtu = 1200, .max_mtu = 1500};
	struct dpfix_peer_watch w;
	uint64_t stop = 10 * INTERVAL + 300 * MS, dead;
	struct sim s = {.rtt = 2 * MS, .stop_at = stop, .lose = lose_none, .path_mtu = 1280};

	dead = run_with(&w, &s, &p, 30 * INTERVAL, NULL);
	CHECK(dead >= stop + 3 * INTERVAL - INTERVAL / 2 - s.rtt);
	CHECK(dead < stop + 3 * INTERVAL + INTERVAL / 2);
}

int
main(void)
{
	RUN_TEST(test_answering_collector_lives);
	RUN_TEST(test_stopped_collector_dead_in_bounds);
	RUN_TEST(test_answer_before_verdict);
	RUN_TEST(test_pmtu_search);
	RUN_TEST(test_pmtu_black_hole);
	RUN_TEST(test_pmtu_dead);
	return unit_test_summary();
}
