/* The export lcore: drains the workers' rings and hands each flow record to the
 * Exporting Process (lib/export), which owns all IPFIX state; takes up the sessions the
 * control lcore offers and reports what becomes of them (export_handoff.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "export_records.h"
#include "probe.h"

/* A collector that refuses a session (a TLS alert to a plaintext exporter, a reset
 * right after accepting) does so as soon as it reads the first message: a new session
 * gets its templates and options records at once, and flow records only once it has
 * stayed up this long, so none go into a session about to be refused uncounted. */
#define PROBATION_NS 500000000ull

int
exporter_init(struct exporter_ctx *x, char *err, size_t errlen)
{
	const struct probe_settings *st = x->settings;
	struct dpfix_session *s;
	int ret;

	s = sessions_open_first(&x->control, st, err, errlen);
	if (s == NULL)
		return -EINVAL;
	x->export = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = st->template_refresh_ms * 1000000ull,
		.flush_ns = st->export_flush_ms * 1000000ull,
		.options_interval_ns = st->options_interval_ms * 1000000ull,
		.write_options = probe_records_write_options,
		.ctx = x,
		.probation_ns = PROBATION_NS,
		/* PR-SCTP gives records up on purpose (and an answer behind them does not
		 * say they arrived): no replay with sctp_data_lifetime. */
		.replay_bytes = st->sctp_data_lifetime_ms != 0 ? 0 : st->replay_buffer,
	}, err, errlen);
	if (x->export == NULL) {
		dpfix_session_close(s);
		return -ENOMEM;
	}
	ret = dpfix_export_add_domain(x->export, st->observation_domain, &x->domain);
	if (ret == 0 && (x->records = probe_records_create(x, x->domain, err, errlen)) == NULL)
		ret = -EINVAL;
	else if (ret < 0)
		snprintf(err, errlen, "the observation domain: %s", strerror(-ret));
	if (ret < 0) {
		dpfix_session_close(s);
		return ret;
	}
	probe_records_flow_schemas(x->records, x->flow_schema);
	ret = probe_records_check_room(x->records, dpfix_session_max_message(s), err, errlen);
	if (ret < 0) {
		dpfix_session_close(s);
		return ret;
	}
	/* Records are encoded where they are in the rings: a record and, with measures,
	 * its extension. */
	x->ring_elem_size = x->workers[0].ring_elem_size;
	/* Its templates go now, before any worker starts. */
	dpfix_export_take_up(x->export, s, probe_clock_now_ns());
	x->session_serial = 1;
	x->reported = dpfix_export_state(x->export);
	return 0;
}

/* What the control lcore must know of the current session: trusted, or failed. */
static void
report_state(struct exporter_ctx *x)
{
	enum dpfix_export_state state = dpfix_export_state(x->export);
	struct handoff_msg m = {.kind = HANDOFF_TRUSTED, .serial = x->session_serial};

	/* A probation is no news: a take-up's ends in trust or failure, and after a
	 * hand-off's switch over SCTP (its data waits for its templates' acknowledgement)
	 * the session is one the control lcore knows already: no "resumed on" for it. */
	if (state == x->reported || state == DPFIX_EXPORT_PROBATION)
		return;
	x->reported = state;
	if (state == DPFIX_EXPORT_FAILED)
		snprintf(m.why, sizeof(m.why), "%s",
				dpfix_export_failure(x->export, &m.lasted_ns));
	if (state == DPFIX_EXPORT_FAILED)
		m.kind = HANDOFF_FAILED;
	else if (state != DPFIX_EXPORT_TRUSTED)
		return;
	handoff_post(&x->handoff.to_control, &m);
}

/* What the control lcore says: sessions it offers, taken up between messages (the one
 * replaced goes back to it to be closed), heartbeats to send, a collector found dead.
 * What it says of a session replaced meanwhile is stale, and dropped. */
static void
take_offers(struct exporter_ctx *x, uint64_t now_ns)
{
	struct handoff_msg m;

	while (handoff_take(&x->handoff.to_export, &m)) {
		struct dpfix_session *old;
		int old_failed;

		if (m.kind == HANDOFF_DROP) {
			dpfix_export_drop(x->export, now_ns);
			continue;
		}
		if (m.kind == HANDOFF_HEARTBEAT && m.serial == x->session_serial) {
			dpfix_export_heartbeat(x->export, m.id, now_ns);
			continue;
		}
		if (m.kind == HANDOFF_DEAD && m.serial == x->session_serial) {
			dpfix_export_fail(x->export, m.why, now_ns);
			continue;
		}
		if (m.kind != HANDOFF_OFFER && m.kind != HANDOFF_HAND_OFF)
			continue;
		old_failed = dpfix_export_state(x->export) == DPFIX_EXPORT_FAILED;
		if (m.kind == HANDOFF_HAND_OFF) {
			enum dpfix_export_state was = dpfix_export_state(x->export);

			old = dpfix_export_hand_off(x->export, m.session, now_ns);
			/* Its outcome is reported even when it is at once (UDP, a take-up). */
			x->hand_off_reported = DPFIX_EXPORT_HANDOFF_UNDER_WAY;
			x->hand_off_serial = m.serial; /* in use once it is done */
			if (was == DPFIX_EXPORT_TRUSTED || was == DPFIX_EXPORT_PROBATION)
				continue;
			/* It was a take-up. */
		} else {
			old = dpfix_export_take_up(x->export, m.session, now_ns);
		}
		if (old != NULL)
			handoff_post(&x->handoff.to_control, &(struct handoff_msg){
				.kind = HANDOFF_RETIRED, .serial = x->session_serial, .session = old,
				.failed = old_failed});
		x->session_serial = m.serial;
		x->reported = DPFIX_EXPORT_NO_SESSION; /* a new session: report it afresh */
	}
}

/* A hand-off's outcome, once: done (the new session in use from now on), or failed
 * (the old session goes on). */
static void
report_hand_off(struct exporter_ctx *x)
{
	const char *why;
	enum dpfix_export_hand_off state = dpfix_export_hand_off_state(x->export, &why);
	struct handoff_msg m = {.kind = HANDOFF_HANDED_OFF, .serial = x->hand_off_serial};

	if (state == x->hand_off_reported)
		return;
	x->hand_off_reported = state;
	if (state != DPFIX_EXPORT_HANDOFF_DONE && state != DPFIX_EXPORT_HANDOFF_FAILED)
		return;
	if (state == DPFIX_EXPORT_HANDOFF_FAILED)
		snprintf(m.why, sizeof(m.why), "%s", why);
	else
		x->session_serial = x->hand_off_serial;
	handoff_post(&x->handoff.to_control, &m);
}

/* The heartbeats the collector answered, for the control lcore to judge. */
static void
report_answers(struct exporter_ctx *x)
{
	struct handoff_msg m = {.kind = HANDOFF_ANSWERED, .serial = x->session_serial};

	while (dpfix_export_heartbeat_answered(x->export, &m.id))
		handoff_post(&x->handoff.to_control, &m);
}

/* Offers the n records at elems (ring elements) in turn; stops at the first that no
 * session can take now. Returns how many were taken. */
static unsigned int
export_elements(struct exporter_ctx *x, const uint8_t *elems, unsigned int n, uint64_t now_ns)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct dpfix_flow_record *r = (const void *)(elems + (size_t)i * x->ring_elem_size);

		if (dpfix_export_record(x->domain, x->flow_schema[r->key.ip_version == 6], r,
				r->packets, r->octets, now_ns) != 0)
			break;
	}
	return i;
}

/* Offers up to EXPORT_BURST records of ring, encoded where they lie in it (a copy out,
 * as rte_ring_sc_dequeue_burst_elem makes in four-byte words, was 144 instructions a
 * record: bench/RESULTS.md); those taken leave the ring, the first refused and those
 * behind it stay there for a session. Returns how many were taken, *offered how many
 * there were. */
static unsigned int
export_ring(struct exporter_ctx *x, struct rte_ring *ring, uint64_t now_ns, unsigned int *offered)
{
	struct rte_ring_zc_data zcd;
	unsigned int n = rte_ring_dequeue_zc_burst_elem_start(ring, x->ring_elem_size, EXPORT_BURST,
			&zcd, NULL);
	unsigned int taken;

	*offered = n;
	if (n == 0)
		return 0;
	/* The elements may wrap round the ring's end: then the rest are at ptr2. */
	taken = export_elements(x, zcd.ptr1, zcd.n1, now_ns);
	if (taken == zcd.n1 && n > zcd.n1)
		taken += export_elements(x, zcd.ptr2, n - zcd.n1, now_ns);
	rte_ring_dequeue_zc_elem_finish(ring, taken);
	return taken;
}

int
exporter_input_over(const struct exporter_ctx *x)
{
	for (unsigned int w = 0; w < x->nb_workers; w++)
		if (!atomic_load(&x->workers[w].done))
			return 0;
	return 1;
}

unsigned int
exporter_poll(struct exporter_ctx *x)
{
	uint64_t now_ns = probe_clock_now_ns();
	enum dpfix_export_state state;
	unsigned int handled = 0;
	int all_done = 1, refused = 0;

	take_offers(x, now_ns);
	dpfix_export_poll(x->export, now_ns);
	report_hand_off(x);
	report_answers(x);
	report_state(x);
	state = dpfix_export_state(x->export);
	if (state != DPFIX_EXPORT_TRUSTED && state != DPFIX_EXPORT_DROPPING)
		return 0; /* records wait in the rings for a session */
	for (unsigned int w = 0; w < x->nb_workers; w++) {
		struct worker_ctx *wk = &x->workers[w];
		/* Read done before draining: a worker sets it after its last enqueue. */
		int done = atomic_load(&wk->done);

		/* Once a record is refused, the others wait too. */
		while (!refused) {
			unsigned int n, taken = export_ring(x, wk->ring, now_ns, &n);

			handled += taken;
			refused = taken < n;
			if (n < EXPORT_BURST)
				break;
		}
		if (!done || rte_ring_count(wk->ring) != 0)
			all_done = 0;
	}
	if (all_done) {
		dpfix_export_flush(x->export, now_ns);
		atomic_store(&x->done, 1);
	}
	report_state(x);
	return handled;
}

int
exporter_main(void *arg)
{
	struct exporter_ctx *x = arg;

	while (!atomic_load(&x->done)) {
		if (exporter_poll(x) == 0)
			rte_delay_us_sleep(50); /* idle: leave the core to others */
	}
	return 0;
}

void
exporter_end(struct exporter_ctx *x)
{
	if (x->export != NULL)
		dpfix_export_end(x->export, probe_clock_now_ns());
}

void
exporter_fini(struct exporter_ctx *x)
{
	sessions_fini(x);
	dpfix_export_free(x->export);
	x->export = NULL;
	probe_records_free(x->records);
	x->records = NULL;
}

void
exporter_counters(const struct exporter_ctx *x, struct exporter_counters *c)
{
	const struct dpfix_export_stats *es;

	if (x->export == NULL) {
		*c = (struct exporter_counters){0};
		return;
	}
	es = dpfix_export_stats(x->export);
#define COPY_COUNTER(name, text) c->name = es->name;
	DPFIX_EXPORT_COUNTERS(COPY_COUNTER)
#undef COPY_COUNTER
	c->connect_failures = x->control.connect_failures;
	c->failovers = x->control.failovers;
	c->collectors_dead = x->control.collectors_dead;
	c->bytes_sent = es->bytes_sent;
}
