/* Intake on several threads (issue 14; doc/collector-threads.md). The program's
 * instance is lane 0: it owns the listeners, accepts every session and hands it to a
 * lane (itself included), an instance of its own thread that reads, decodes and closes
 * it: a session's messages are always decoded on one thread, so its templates and
 * sequence numbers need no lock. A TCP or TLS session has a socket of its own; a UDP or
 * DTLS/UDP one is fed by lane 0's poll of its listener and woken by its lane's eventfd
 * (drivers/transport/udp); an SCTP one stays on lane 0 (one socket for all). No socket
 * is shared with another process (no SO_REUSEPORT): one listening socket per --listen,
 * so a port in use is still refused at start-up. The sinks are called under one lock
 * (they keep their one-thread contract), text records formatted outside it, and the
 * counters are summed at the end. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "collect_private.h"
#include "dpfix_log.h"

#define MAX_LANES 64
#define DRAIN_WAIT_MS 10

/* A sink of lane 0 seen from a lane: its calls under the one lock. Lane 0's copy has
 * the end ops too (finish, counters, lost, free); the other lanes' have only events.
 * A sink of text records (record_to_stream) is not called under the lock for a record:
 * the lane formats it onto out, a stream into text, and writes text to the sink's
 * stream under the lock once it holds HANDOVER_BYTES, and when the lane is idle. */
struct locked_sink {
	struct dpfix_collect_sink_ops ops;
	struct dpfix_collect_sink real;
	pthread_mutex_t *lock;
	FILE *out;
	char *text;
	size_t len, cap;
	int locked;     /* out is being flushed under the lock */
};

#define HANDOVER_BYTES 65536

/* Sessions lane 0 handed to a lane, not taken yet. */
struct lane_mailbox {
	pthread_mutex_t lock;
	struct dpfix_session **items;
	unsigned int head, count, cap;
};

struct collect_lanes {
	unsigned int nb;
	struct dpfix_collect *lane[MAX_LANES];  /* [0]: the program's instance */
	pthread_t thread[MAX_LANES];
	unsigned int started;                   /* threads running (lanes 1..started) */
	struct lane_mailbox mailbox[MAX_LANES];
	pthread_mutex_t sink_lock;
	struct locked_sink *wrappers;           /* lane 0's, then each other lane's */
	unsigned int nb_wrappers;
	atomic_uint open;                       /* sessions open in every lane */
	atomic_uint load[MAX_LANES];            /* sessions open in each lane */
	atomic_uint peak;
	atomic_int stopping;                    /* lane 0 stopped: read what is left */
	atomic_int drained;                     /* lane 0 read what it had */
	atomic_int stop_now;                    /* a second stop: end at once */
	_Atomic uint64_t deadline_ms;
};

#define LOCKED(op, ...) do { \
		struct locked_sink *w = ctx; \
		pthread_mutex_lock(w->lock); \
		w->real.ops->op(w->real.ctx, __VA_ARGS__); \
		pthread_mutex_unlock(w->lock); \
	} while (0)

static void
locked_session_start(void *ctx, const struct dpfix_collect_session *s)
{
	LOCKED(session_start, s);
}

static void
locked_template_event(void *ctx, const struct dpfix_collect_session *s, uint32_t domain,
		uint16_t template_id, const struct dpfix_ipfix_template *t)
{
	LOCKED(template_event, s, domain, template_id, t);
}

static void
locked_record(void *ctx, const struct dpfix_collect_session *s,
		const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	LOCKED(record, s, h, t, rec, len);
}

/* out's bytes, appended to text (fopencookie's write): the lane's own, no lock. Out of
 * memory, they go to the sink's stream at once, under the lock: a record may then be
 * split by another lane's, but none is lost. */
static ssize_t
text_append(void *ctx, const char *buf, size_t n)
{
	struct locked_sink *w = ctx;

	if (w->len + n > w->cap) {
		size_t cap = (w->len + n) * 2;
		char *text = realloc(w->text, cap);

		if (text == NULL) {
			if (!w->locked)
				pthread_mutex_lock(w->lock);
			fwrite(w->text, 1, w->len, w->real.ctx);
			fwrite(buf, 1, n, w->real.ctx);
			if (!w->locked)
				pthread_mutex_unlock(w->lock);
			w->len = 0;
			return (ssize_t)n;
		}
		w->text = text;
		w->cap = cap;
	}
	memcpy(w->text + w->len, buf, n);
	w->len += n;
	return (ssize_t)n;
}

/* Under the lock: the lane's whole records to the sink's stream. */
static void
hand_over_locked(struct locked_sink *w)
{
	w->locked = 1;
	fflush(w->out);
	w->locked = 0;
	if (w->len != 0)
		fwrite(w->text, 1, w->len, w->real.ctx);
	w->len = 0;
}

static void
hand_over(struct locked_sink *w)
{
	if (w->out == NULL)
		return;
	pthread_mutex_lock(w->lock);
	hand_over_locked(w);
	pthread_mutex_unlock(w->lock);
}

static void
stream_record(void *ctx, const struct dpfix_collect_session *s,
		const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	struct locked_sink *w = ctx;

	w->real.ops->record(w->out, s, h, t, rec, len);
	if (w->len + __fpending(w->out) >= HANDOVER_BYTES)
		hand_over(w);
}

static void
locked_message(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg,
		size_t len, int malformed)
{
	LOCKED(message, s, msg, len, malformed);
}

static void
locked_session_end(void *ctx, const struct dpfix_collect_session *s, const char *why)
{
	LOCKED(session_end, s, why);
}

static void
locked_tick(void *ctx, uint64_t now_ms)
{
	LOCKED(tick, now_ms);
}

static void
locked_idle(void *ctx)
{
	struct locked_sink *w = ctx;

	pthread_mutex_lock(w->lock);
	if (w->out != NULL)
		hand_over_locked(w);
	w->real.ops->idle(w->real.ctx);
	pthread_mutex_unlock(w->lock);
}

/* The end ops run on lane 0 after the other lanes ended (and handed over their text):
 * no lock needed. */
static void
end_finish(void *ctx)
{
	struct locked_sink *w = ctx;

	hand_over(w);
	w->real.ops->finish(w->real.ctx);
}

static void
end_counters(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value), void *arg)
{
	struct locked_sink *w = ctx;

	w->real.ops->counters(w->real.ctx, fn, arg);
}

static uint64_t
end_lost(void *ctx)
{
	struct locked_sink *w = ctx;

	return w->real.ops->lost(w->real.ctx);
}

static void
end_free(void *ctx)
{
	struct locked_sink *w = ctx;

	w->real.ops->free(w->real.ctx);
}

/* The wrapper has an op only where the real sink has it, so a lane calls (and locks)
 * only for the events the sink takes. */
static int
wrap(struct locked_sink *w, const struct dpfix_collect_sink *real, pthread_mutex_t *lock,
		int with_end)
{
	const struct dpfix_collect_sink_ops *o = real->ops;

	w->real = *real;
	w->lock = lock;
	if (o->record_to_stream && o->record != NULL) {
		w->out = fopencookie(w, "w", (cookie_io_functions_t){.write = text_append});
		if (w->out == NULL)
			return -ENOMEM;
	}
	w->ops = (struct dpfix_collect_sink_ops){
		.name = o->name,
		.session_start = o->session_start ? locked_session_start : NULL,
		.template_event = o->template_event ? locked_template_event : NULL,
		.record = o->record ? (w->out != NULL ? stream_record : locked_record) : NULL,
		.message = o->message ? locked_message : NULL,
		.session_end = o->session_end ? locked_session_end : NULL,
		.tick = o->tick ? locked_tick : NULL,
		.idle = o->idle ? locked_idle : NULL,
	};
	if (with_end) {
		w->ops.finish = o->finish ? end_finish : NULL;
		w->ops.counters = o->counters ? end_counters : NULL;
		w->ops.lost = o->lost ? end_lost : NULL;
		w->ops.free = o->free ? end_free : NULL;
	}
	return 0;
}

static void
wake(struct dpfix_collect *lane)
{
	uint64_t one = 1;

	if (write(lane->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		dpfix_log(DPFIX_LOG_WARNING, "intake lane %u: eventfd: %s", lane->lane,
				strerror(errno));
}

static void
wake_all(struct collect_lanes *L)
{
	for (unsigned int i = 1; i < L->nb; i++)
		wake(L->lane[i]);
}

static unsigned int
mailbox_count(struct lane_mailbox *mb)
{
	unsigned int n;

	pthread_mutex_lock(&mb->lock);
	n = mb->count;
	pthread_mutex_unlock(&mb->lock);
	return n;
}

/* A secured session (TLS, DTLS) is pinned by its exporter's host (FNV-1a of the
 * address without the port), so that the session continuing it (a planned hand-off,
 * from another port) meets its predecessor on the same lane (collect_lineage.c). A
 * plain one goes to the lane with the fewest sessions (open or handed over), the last
 * on a tie: lane 0 also reads the listeners. */
static unsigned int
lane_of(struct collect_lanes *L, struct dpfix_session *ds)
{
	const char *peer = dpfix_session_peer(ds);
	const char *colon = strrchr(peer, ':');
	uint32_t h = 2166136261u;
	unsigned int best = L->nb - 1, best_load = UINT32_MAX;

	if (dpfix_session_endpoint(ds)->security != DPFIX_SECURITY_NONE) {
		for (const char *p = peer; *p != '\0' && p != colon; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		/* FNV's low bits are weak (its lowest is the parity of the characters'): mixed
		 * before the modulo, or two lanes would split hosts by that parity. */
		h ^= h >> 16;
		h *= 0x45d9f3bu;
		h ^= h >> 16;
		return h % L->nb;
	}
	for (unsigned int k = L->nb; k-- > 0;) {
		unsigned int load = atomic_load(&L->load[k]) + mailbox_count(&L->mailbox[k]);

		if (load < best_load) {
			best = k;
			best_load = load;
		}
	}
	return best;
}

int
collect_lanes_dispatch(struct dpfix_collect *c, struct dpfix_session *ds)
{
	struct collect_lanes *L = c->lanes;
	struct lane_mailbox *mb;
	unsigned int k;

	if (L == NULL)
		return 0;
	k = lane_of(L, ds);
	if (k == 0)
		return 0;
	/* A session read through its listener (UDP, DTLS/UDP) is fed by lane 0's poll and
	 * read by lane k, woken by its eventfd; SCTP's cannot be (one socket for all its
	 * associations' messages) and stays here. */
	if (dpfix_session_event_fd(ds) < 0 && dpfix_session_set_wake_fd(ds, L->lane[k]->wake_fd) < 0)
		return 0;
	mb = &L->mailbox[k];
	pthread_mutex_lock(&mb->lock);
	if (mb->head + mb->count == mb->cap && mb->head > 0) {
		memmove(mb->items, mb->items + mb->head, mb->count * sizeof(mb->items[0]));
		mb->head = 0;
	}
	if (mb->count == mb->cap) {
		unsigned int cap = mb->cap != 0 ? mb->cap * 2 : 16;
		struct dpfix_session **items = realloc(mb->items, cap * sizeof(*items));

		if (items == NULL) {
			pthread_mutex_unlock(&mb->lock);
			dpfix_log(DPFIX_LOG_ERROR, "%s: refused, out of memory", dpfix_session_name(ds));
			dpfix_session_close(ds);
			c->stats.sessions_refused++;
			return 1;
		}
		mb->items = items;
		mb->cap = cap;
	}
	mb->items[mb->head + mb->count++] = ds;
	pthread_mutex_unlock(&mb->lock);
	wake(L->lane[k]);
	return 1;
}

struct dpfix_session *
collect_lanes_take(struct dpfix_collect *c)
{
	struct lane_mailbox *mb = &c->lanes->mailbox[c->lane];
	struct dpfix_session *ds = NULL;

	pthread_mutex_lock(&mb->lock);
	if (mb->count > 0) {
		ds = mb->items[mb->head++];
		if (--mb->count == 0)
			mb->head = 0;
	}
	pthread_mutex_unlock(&mb->lock);
	return ds;
}

unsigned int
collect_lanes_open(const struct dpfix_collect *c)
{
	return c->lanes != NULL ? atomic_load(&c->lanes->open) : c->session_count;
}

void
collect_lanes_count(struct dpfix_collect *c, int delta)
{
	struct collect_lanes *L = c->lanes;
	unsigned int open, peak;

	if (L == NULL)
		return;
	atomic_fetch_add(&L->load[c->lane], (unsigned int)delta);
	open = atomic_fetch_add(&L->open, (unsigned int)delta) + (unsigned int)delta;
	peak = atomic_load(&L->peak);
	while (delta > 0 && open > peak && !atomic_compare_exchange_weak(&L->peak, &peak, open))
		;
}

static int
lane_stopping(void *arg)
{
	struct dpfix_collect *l = arg;

	return atomic_load(&l->lanes->stopping) || atomic_load(&l->lanes->stop_now);
}

static int
lane_stop_now(void *arg)
{
	return atomic_load(&((struct dpfix_collect *)arg)->lanes->stop_now);
}

/* A lane's thread: the loop until lane 0 stops, then what its sessions still hold,
 * until lane 0 has read what it had and this lane has nothing left, or the deadline. */
static void *
lane_main(void *arg)
{
	struct dpfix_collect *l = arg;
	struct collect_lanes *L = l->lanes;
	struct dpfix_collect_stop stop = {.fd = l->wake_fd, .requested = lane_stopping, .arg = l};
	struct dpfix_collect_stop now = {.fd = l->wake_fd, .requested = lane_stop_now, .arg = l};

	dpfix_collect_run(l, &stop);
	l->ending = 1;
	for (;;) {
		int lane0_done = atomic_load(&L->drained);
		int n = collect_sessions_serve(l, &now);

		if (n == 0 && lane0_done && collect_sessions_awaited(l, 0) == 0)
			return NULL;
		if (lane_stop_now(l) || dpfix_collect_now_ms() > atomic_load(&L->deadline_ms))
			break;
		if (n == 0)
			collect_wait_for_input(l, l->wake_fd);
	}
	collect_sessions_awaited(l, 1);
	return NULL;
}

int
dpfix_collect_start_threads(struct dpfix_collect *c, unsigned int n, char *err, size_t errlen)
{
	struct collect_lanes *L;
	struct dpfix_collect_sink real[DPFIX_COLLECT_MAX_SINKS];
	unsigned int nb_sinks = c->nb_sinks;
	char name[16];
	int ret;

	if (n <= 1)
		return 0;
	if (n > MAX_LANES || c->lanes != NULL) {
		snprintf(err, errlen, "intake_threads %u: at most %d", n, MAX_LANES);
		return -EINVAL;
	}
	L = calloc(1, sizeof(*L));
	if (L == NULL || (L->wrappers = calloc(n * (nb_sinks + 1), sizeof(*L->wrappers))) == NULL) {
		free(L);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&L->sink_lock, NULL);
	for (unsigned int i = 0; i < MAX_LANES; i++)
		pthread_mutex_init(&L->mailbox[i].lock, NULL);
	L->nb = 1;
	L->lane[0] = c;
	atomic_store(&L->open, c->session_count);
	atomic_store(&L->load[0], c->session_count);
	atomic_store(&L->peak, c->session_count);
	atomic_store(&L->deadline_ms, UINT64_MAX);
	c->lanes = L;
	/* Lane 0's sinks become wrappers of themselves; the real ones are called through
	 * them from every lane. */
	memcpy(real, c->sinks, nb_sinks * sizeof(real[0]));
	c->nb_sinks = c->nb_record_sinks = c->nb_message_sinks = 0;
	c->want_templates = 0;
	L->nb_wrappers = n * nb_sinks;
	for (unsigned int k = 0; k < L->nb_wrappers; k++)
		if (wrap(&L->wrappers[k], &real[k % nb_sinks], &L->sink_lock, k < nb_sinks) < 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	for (unsigned int k = 0; k < nb_sinks; k++)
		dpfix_collect_add_sink(c, &(struct dpfix_collect_sink){
				.ops = &L->wrappers[k].ops, .ctx = &L->wrappers[k]});
	for (unsigned int i = 1; i < n; i++) {
		struct dpfix_collect *l = dpfix_collect_create(&c->params, err, errlen);

		if (l == NULL)
			return -ENOMEM; /* lanes made so far are freed with c */
		l->lanes = L;
		l->lane = i;
		L->lane[L->nb++] = l;
		l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->wake_fd < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			return -errno;
		}
		for (unsigned int k = i * nb_sinks; k < (i + 1) * nb_sinks; k++)
			dpfix_collect_add_sink(l, &(struct dpfix_collect_sink){
					.ops = &L->wrappers[k].ops, .ctx = &L->wrappers[k]});
	}
	for (unsigned int i = 1; i < n; i++) {
		ret = pthread_create(&L->thread[i], NULL, lane_main, L->lane[i]);
		if (ret != 0) {
			snprintf(err, errlen, "intake thread %u: %s", i, strerror(ret));
			return -ret;
		}
		L->started = i;
		snprintf(name, sizeof(name), "intake-%u", i);
		pthread_setname_np(L->thread[i], name);
	}
	return 0;
}

void
collect_lanes_stop(struct dpfix_collect *c, uint64_t deadline_ms)
{
	struct collect_lanes *L = c->lanes;

	atomic_store(&L->deadline_ms, deadline_ms);
	atomic_store(&L->stopping, 1);
	wake_all(L);
}

void
collect_lanes_join(struct dpfix_collect *c, int at_once)
{
	struct collect_lanes *L = c->lanes;

	atomic_store(&L->stopping, 1);
	if (at_once)
		atomic_store(&L->stop_now, 1);
	atomic_store(&L->drained, 1);
	wake_all(L);
	for (unsigned int i = 1; i <= L->started; i++)
		pthread_join(L->thread[i], NULL);
	L->started = 0;
	/* The ended lanes' text records, before lane 0's sinks finish. */
	for (unsigned int k = 0; k < L->nb_wrappers; k++)
		hand_over(&L->wrappers[k]);
}

void
collect_lanes_close_all(struct dpfix_collect *c, const char *why)
{
	struct collect_lanes *L = c->lanes;
	unsigned int unread = 0;
	struct dpfix_session *ds;

	collect_lanes_join(c, 1);
	for (unsigned int i = 1; i < L->nb; i++) {
		collect_sessions_close_all(L->lane[i], why);
		while ((ds = collect_lanes_take(L->lane[i])) != NULL) {
			dpfix_session_close(ds);
			unread++;
		}
	}
	if (unread != 0)
		dpfix_log(DPFIX_LOG_INFO, "%u sessions accepted as the collector stopped were closed "
				"before a message was read (their exporters see the close)", unread);
}

void
collect_lanes_stats(const struct dpfix_collect *c, struct dpfix_collect_stats *st)
{
	const struct collect_lanes *L = c->lanes;

	for (unsigned int i = 1; i < L->nb; i++) {
		struct dpfix_collect_stats ls;

		dpfix_collect_stats(L->lane[i], &ls);
		st->flow_records += ls.flow_records;
		st->options_records += ls.options_records;
		st->packets += ls.packets;
		st->octets += ls.octets;
#define ADD(name, text) st->name += ls.name;
		DPFIX_COLLECT_SESSION_COUNTERS(ADD)
#undef ADD
		/* Each lane has its own template budget: the sum of the peaks bounds the whole. */
		st->template_bytes_peak += ls.template_bytes_peak;
		dpfix_ipfix_decode_stats_add(&st->decode, &ls.decode);
		for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
			st->stream_messages[k] += ls.stream_messages[k];
	}
	st->sessions_peak = atomic_load(&L->peak);
}

void
collect_lanes_summary(const struct dpfix_collect *c, FILE *out)
{
	const struct collect_lanes *L = c->lanes;

	for (unsigned int i = 0; i < L->nb; i++) {
		const struct dpfix_collect *l = L->lane[i];

		fprintf(out, "  intake_%u_sessions%*s %" PRIu64 "\n", i, i < 10 ? 12 : 11, "",
				l->stats.sessions_opened);
		fprintf(out, "  intake_%u_flows%*s %" PRIu64 "\n", i, i < 10 ? 15 : 14, "",
				l->stats.flow_records);
	}
}

void
collect_lanes_free(struct dpfix_collect *c)
{
	struct collect_lanes *L = c->lanes;

	collect_lanes_join(c, 1);
	for (unsigned int i = 1; i < L->nb; i++) {
		struct dpfix_collect *l = L->lane[i];
		struct dpfix_session *ds;

		while ((ds = collect_lanes_take(l)) != NULL)
			dpfix_session_close(ds);
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		dpfix_collect_free(l);
	}
	for (unsigned int i = 0; i < MAX_LANES; i++) {
		free(L->mailbox[i].items);
		pthread_mutex_destroy(&L->mailbox[i].lock);
	}
	for (unsigned int k = 0; k < L->nb_wrappers; k++) {
		if (L->wrappers[k].out != NULL)
			fclose(L->wrappers[k].out);
		free(L->wrappers[k].text);
	}
	pthread_mutex_destroy(&L->sink_lock);
	free(L->wrappers);
	free(L);
	c->lanes = NULL;
}
