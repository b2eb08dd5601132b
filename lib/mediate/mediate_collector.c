/* One collector the Mediator exports to: its Exporting Process (lib/export), a backlog
 * of records that wait while no session takes them (a reconnection, a reliable
 * session's probation), the reconnection (a thread opens the next session, as a
 * handshake blocks, with a backoff while attempts fail), and the orderly end. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_log.h"
#include "mediate_private.h"

/* A collector that refuses a session does so on reading the first message: data
 * records wait this long on a reliable session (lib/export's probation). */
#define PROBATION_NS 500000000ull
#define CONNECT_TIMEOUT_MS 5000
#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
/* A session that lasted less than this was a failed attempt: the backoff grows on. */
#define SESSION_STABLE_NS 10000000000ull
/* At the end: how long records may wait for a session before they count as lost. */
#define END_GRACE_NS 5000000000ull

/* A record waiting in the backlog, its octets after it. */
struct backlog_entry {
	struct med_out_template *t;     /* NULL: the ring's end, skipped */
	uint64_t packets, octets;
	uint32_t len;                   /* of the record, without the origin fields */
	uint32_t origin_domain;
	uint8_t origin_addr[16];
};

static uint64_t
entry_size(uint32_t len)
{
	return (sizeof(struct backlog_entry) + len + 7) & ~7ull;
}

static void
export_log_failure(struct med_collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
export_log_failure(struct med_collector *c, const char *fmt, ...)
{
	char msg[2 * DPFIX_SESSION_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dpfix_log(DPFIX_LOG_WARNING, "collector %s: %s", c->url, msg);
}

int
med_collector_open(struct med_collector *c, const char *url, char *err, size_t errlen)
{
	struct dpfix_mediate *m = c->m;
	struct dpfix_session_params sp = m->params.session;
	struct dpfix_session *s;

	snprintf(c->url, sizeof(c->url), "%s", url);
	pthread_mutex_init(&c->lock, NULL);
	if (dpfix_endpoint_parse(url, &c->ep, err, errlen) < 0)
		return -EINVAL;
	if (sp.connect_timeout_ms == 0)
		sp.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	c->x = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = m->params.template_refresh_ns,
		.flush_ns = m->params.flush_ns,
		.options_interval_ns = m->params.options_interval_ns,
		.write_options = med_options_write, .ctx = c,
		.probation_ns = PROBATION_NS,
	}, err, errlen);
	if (c->x == NULL)
		return -ENOMEM;
	s = dpfix_session_open(&c->ep, &sp, err, errlen);
	if (s == NULL)
		return -ECONNREFUSED;
	snprintf(c->name, sizeof(c->name), "%s", dpfix_session_name(s));
	dpfix_export_take_up(c->x, s, med_now_ns());
	return 0;
}

/* ---- the backlog ---- */

static int
backlog_push(struct med_collector *c, struct med_out_template *t, const struct med_encode_src *src,
		uint64_t packets, uint64_t octets)
{
	struct med_backlog *b = &c->backlog;
	uint64_t size = entry_size(src->len), tail, room_to_end;
	struct backlog_entry *e;

	if (b->buf == NULL && b->cap != 0 && (b->buf = malloc(b->cap)) == NULL)
		b->cap = 0;
	tail = (b->head + b->used) % (b->cap != 0 ? b->cap : 1);
	room_to_end = b->cap - tail;
	/* An entry never wraps: the end of the ring is skipped when it is too short. */
	if (b->cap == 0 || b->used + size + (room_to_end < size ? room_to_end : 0) > b->cap)
		return -ENOSPC;
	if (room_to_end < size) {
		if (room_to_end >= sizeof(*e)) {
			e = (struct backlog_entry *)(b->buf + tail);
			e->t = NULL;
		}
		b->used += room_to_end;
		tail = 0;
	}
	e = (struct backlog_entry *)(b->buf + tail);
	*e = (struct backlog_entry){.t = t, .packets = packets, .octets = octets, .len = src->len,
		.origin_domain = src->origin_domain};
	if (t->family != 0)
		memcpy(e->origin_addr, src->origin_addr, t->family == AF_INET ? 4 : 16);
	memcpy(e + 1, src->data, src->len);
	b->used += size;
	b->entries++;
	t->refs++;
	if (b->used > c->m->stats.backlog_peak_bytes)
		c->m->stats.backlog_peak_bytes = b->used;
	return 0;
}

/* The entry at the head (the ring's skipped end passed over), or NULL. */
static struct backlog_entry *
backlog_head(struct med_backlog *b)
{
	while (b->used != 0) {
		uint64_t room_to_end = b->cap - b->head;
		struct backlog_entry *e = (struct backlog_entry *)(b->buf + b->head);

		if (room_to_end < sizeof(*e) || e->t == NULL) {
			b->used -= room_to_end;
			b->head = 0;
			continue;
		}
		return e;
	}
	return NULL;
}

static void
backlog_pop(struct med_collector *c, struct backlog_entry *e)
{
	struct med_backlog *b = &c->backlog;
	uint64_t size = entry_size(e->len);

	med_out_template_put(c->m, e->t, c->m->now_ns);
	b->head = (b->head + size) % b->cap;
	b->used -= size;
	b->entries--;
	if (b->used == 0)
		b->head = 0;
}

/* Records that waited go out, oldest first, while the session takes them. */
static void
backlog_replay(struct med_collector *c, uint64_t now_ns)
{
	struct backlog_entry *e;

	while ((e = backlog_head(&c->backlog)) != NULL) {
		struct med_encode_src src = {.data = (const uint8_t *)(e + 1), .len = e->len,
			.origin_addr = e->origin_addr, .origin_domain = e->origin_domain};

		if (dpfix_export_record(e->t->d->xd[c->index], &e->t->schema, &src, e->packets,
				e->octets, now_ns) == -EAGAIN)
			return;
		c->backlog_replayed++;
		backlog_pop(c, e);
	}
}

/* What the backlog holds is lost (the end, with no session to take it). */
static void
backlog_drop(struct med_collector *c)
{
	struct backlog_entry *e;

	while ((e = backlog_head(&c->backlog)) != NULL) {
		c->backlog_drops++;
		c->m->stats.backlog_drops++;
		backlog_pop(c, e);
	}
}

void
med_collector_record(struct med_collector *c, struct med_out_template *t,
		const struct med_encode_src *src, uint64_t packets, uint64_t octets, uint64_t now_ns)
{
	/* Order is kept: while records wait, the new ones wait behind them. */
	if (c->backlog.used == 0 && dpfix_export_record(t->d->xd[c->index], &t->schema, src,
			packets, octets, now_ns) == 0)
		return;
	if (backlog_push(c, t, src, packets, octets) == 0)
		return;
	if (c->backlog_drops++ == 0)
		export_log_failure(c, "its backlog of records waiting for a session is full "
				"(backlog_memory %" PRIu64 " bytes): records are lost (backlog_drops)",
				c->backlog.cap);
	c->m->stats.backlog_drops++;
}

/* ---- reconnection ---- */

static void *
open_thread(void *arg)
{
	struct med_collector *c = arg;
	struct dpfix_session_params sp = c->m->params.session;
	char err[DPFIX_SESSION_ERRLEN] = "";
	struct dpfix_session *s;

	if (sp.connect_timeout_ms == 0)
		sp.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	s = dpfix_session_open(&c->ep, &sp, err, sizeof(err));
	pthread_mutex_lock(&c->lock);
	c->opened = s;
	snprintf(c->open_err, sizeof(c->open_err), "%s", err);
	c->opener_done = 1;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void *
close_thread(void *arg)
{
	dpfix_session_close(arg);
	return NULL;
}

static void
start_opener(struct med_collector *c)
{
	c->opener_done = 0;
	c->opened = NULL;
	if (pthread_create(&c->opener, NULL, open_thread, c) == 0)
		c->opener_running = 1;
}

/* The session it replaced is closed in a thread: an orderly close may take seconds. */
static void
close_later(struct med_collector *c, struct dpfix_session *old)
{
	if (old == NULL)
		return;
	if (c->closer_running)
		pthread_join(c->closer, NULL);
	c->closer_running = pthread_create(&c->closer, NULL, close_thread, old) == 0;
	if (!c->closer_running)
		dpfix_session_close(old);
}

static void
attempt_failed(struct med_collector *c, uint64_t now_ns, const char *why)
{
	uint64_t previous = c->backoff_ms;

	c->failures_in_row++;
	c->connect_failures++;
	c->backoff_ms = previous == 0 ? RECONNECT_MIN_MS :
			previous * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : previous * 2;
	c->next_attempt_ns = now_ns + c->backoff_ms * 1000000ull;
	if (c->backoff_ms != previous || c->failures_in_row % 10 == 0)
		export_log_failure(c, "%s; %u failed attempts in a row, records wait in its backlog; "
				"next try in %.1f s", why, c->failures_in_row, c->backoff_ms / 1000.0);
}

/* The session failed: one that had lasted is replaced at once, one that had not is a
 * failed attempt. */
static void
session_failed(struct med_collector *c, uint64_t now_ns)
{
	uint64_t lasted;
	const char *why = dpfix_export_failure(c->x, &lasted);
	char text[2 * DPFIX_SESSION_ERRLEN];

	c->down_said = 1;
	if (lasted >= SESSION_STABLE_NS) {
		export_log_failure(c, "session %s is down (%s); records wait in its backlog while "
				"it reconnects", c->name, why);
		c->failures_in_row = 0;
		c->backoff_ms = 0;
		c->next_attempt_ns = 0;
		return;
	}
	snprintf(text, sizeof(text), "session %s is down after %.1f s (%s)", c->name,
			lasted / 1e9, why);
	attempt_failed(c, now_ns, text);
}

static void
reconnect(struct med_collector *c, uint64_t now_ns)
{
	int done;

	if (dpfix_export_state(c->x) == DPFIX_EXPORT_FAILED && !c->down_said)
		session_failed(c, now_ns);
	if (!c->opener_running) {
		if (dpfix_export_state(c->x) == DPFIX_EXPORT_FAILED && now_ns >= c->next_attempt_ns)
			start_opener(c);
		return;
	}
	pthread_mutex_lock(&c->lock);
	done = c->opener_done;
	pthread_mutex_unlock(&c->lock);
	if (!done)
		return;
	pthread_join(c->opener, NULL);
	c->opener_running = 0;
	if (c->opened == NULL) {
		attempt_failed(c, now_ns, c->open_err);
		return;
	}
	snprintf(c->name, sizeof(c->name), "%s", dpfix_session_name(c->opened));
	close_later(c, dpfix_export_take_up(c->x, c->opened, now_ns));
	c->opened = NULL;
	dpfix_log(DPFIX_LOG_INFO, "collector %s: resumed on %s%s", c->url, c->name,
			c->failures_in_row != 0 ? " after failed attempts" : "");
	c->down_said = 0;
}

void
med_collector_poll(struct med_collector *c, uint64_t now_ns)
{
	dpfix_export_poll(c->x, now_ns);
	reconnect(c, now_ns);
	if (c->backlog.used != 0 && dpfix_export_state(c->x) == DPFIX_EXPORT_TRUSTED)
		backlog_replay(c, now_ns);
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

void
med_collector_end(struct med_collector *c, uint64_t now_ns)
{
	uint64_t deadline = now_ns + END_GRACE_NS;

	/* What waits goes, if a session takes it within the grace. */
	while (c->backlog.used != 0 || dpfix_export_state(c->x) != DPFIX_EXPORT_TRUSTED) {
		now_ns = med_now_ns();
		c->m->now_ns = now_ns;
		med_collector_poll(c, now_ns);
		if ((c->backlog.used == 0 && dpfix_export_state(c->x) == DPFIX_EXPORT_TRUSTED) ||
				now_ns >= deadline)
			break;
		sleep_ms(10);
	}
	if (c->backlog.used != 0) {
		uint64_t before = c->backlog_drops;

		backlog_drop(c);
		export_log_failure(c, "no session took %" PRIu64 " records within %u s of the end: "
				"lost (backlog_drops)", c->backlog_drops - before,
				(unsigned int)(END_GRACE_NS / 1000000000ull));
	}
	now_ns = med_now_ns();
	dpfix_export_flush(c->x, now_ns);
	if (dpfix_export_state(c->x) != DPFIX_EXPORT_TRUSTED)
		dpfix_export_drop(c->x, now_ns);
	dpfix_export_end(c->x, now_ns);
}

void
med_collector_free(struct med_collector *c)
{
	if (c == NULL)
		return;
	if (c->opener_running) {
		pthread_join(c->opener, NULL);
		dpfix_session_close(c->opened);
	}
	if (c->closer_running)
		pthread_join(c->closer, NULL);
	backlog_drop(c);
	dpfix_export_free(c->x);
	free(c->backlog.buf);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
