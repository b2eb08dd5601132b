/* One collector the Mediator exports to: its Exporting Process (lib/export), a backlog
 * of records that wait while no session takes them (a reconnection, a reliable
 * session's probation), the reconnection (a thread opens the next session, as a
 * handshake blocks, with a backoff while attempts fail), heartbeats and the planned
 * hand-offs of session_lifetime (as the probe's, through the same library calls:
 * lib/session's dpfix_peer_watch decides, lib/export sends, hears, fails and hands
 * off), and the orderly end. */
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

/* A session now in use: watched by heartbeats if it agreed on them. Ids go on counting
 * across sessions, so a late answer on an old one matches nothing. */
static void
watch_session(struct med_collector *c, const struct dpfix_session *s, uint64_t now_ns)
{
	const struct dpfix_session_params *sp = &c->m->params.session;

	c->session_since_ns = now_ns;
	c->found_dead = 0;
	c->watching = sp->heartbeat_interval_ms != 0 && dpfix_session_heartbeats(s);
	if (c->watching)
		dpfix_peer_watch_start(&c->watch, &(struct dpfix_peer_watch_params){
			.interval_ns = sp->heartbeat_interval_ms * 1000000ull,
			.misses = sp->heartbeat_misses}, c->last_heartbeat_id + 1, now_ns);
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
		.replay_bytes = m->params.replay_bytes,
	}, err, errlen);
	if (c->x == NULL)
		return -ENOMEM;
	s = dpfix_session_open(&c->ep, &sp, err, errlen);
	if (s == NULL)
		return -ECONNREFUSED;
	snprintf(c->name, sizeof(c->name), "%s", dpfix_session_name(s));
	dpfix_export_take_up(c->x, s, med_now_ns());
	watch_session(c, s, med_now_ns());
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
	/* Full. The loop polls its collectors between rounds, and a round may hand over
	 * thousands of records: the session may have come through its probation since, so
	 * it takes what waits before anything is dropped. */
	med_collector_poll(c, now_ns);
	if (backlog_push(c, t, src, packets, octets) == 0)
		return;
	if (c->backlog_drops++ == 0)
		export_log_failure(c, "its backlog of records waiting for a session is full "
				"(backlog_memory %" PRIu64 " bytes): records are lost (backlog_drops)",
				c->backlog.cap);
	c->m->stats.backlog_drops++;
}

/* ---- heartbeats (doc/heartbeats.md) ---- */

/* The collector is dead: said in one line and counted, whichever watch found it (the
 * dpfix heartbeats, or the transport's own). */
static void
said_dead(struct med_collector *c, const char *why)
{
	export_log_failure(c, "%s is dead: %s; records wait in its backlog while it reconnects",
			c->name, why);
	c->collectors_dead++;
	c->found_dead = 1;
}

static void
heartbeats(struct med_collector *c, uint64_t now_ns)
{
	const struct dpfix_session_params *sp = &c->m->params.session;
	uint32_t id;
	char why[DPFIX_SESSION_ERRLEN];

	if (!c->watching || dpfix_export_state(c->x) == DPFIX_EXPORT_FAILED)
		return;
	while (dpfix_export_heartbeat_answered(c->x, &id))
		dpfix_peer_watch_answered(&c->watch, id, now_ns);
	while (dpfix_peer_watch_next(&c->watch, now_ns, &id)) {
		c->last_heartbeat_id = id;
		dpfix_export_heartbeat(c->x, id, now_ns);
	}
	if (!dpfix_peer_watch_dead(&c->watch, now_ns))
		return;
	snprintf(why, sizeof(why), "%u heartbeats in a row unanswered (every %.3g s), nothing "
			"heard for %.1f s", sp->heartbeat_misses, sp->heartbeat_interval_ms / 1000.0,
			(now_ns - dpfix_peer_watch_last_heard(&c->watch)) / 1e9);
	said_dead(c, why);
	c->watching = 0;
	dpfix_export_fail(c->x, why, now_ns);
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
start_opener(struct med_collector *c, int for_hand_off)
{
	c->opening_for_hand_off = for_hand_off;
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
	/* Its transport's own watch found the collector dead (SCTP's heartbeats over plain
	 * sctp://, TCP's keepalives): said and counted as the dpfix heartbeats' finding is,
	 * as the probe does. */
	if (!c->found_dead && dpfix_export_failed_unanswered(c->x))
		said_dead(c, why);
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

/* A session_lifetime hand-off is due: the session in use has lasted that long. */
static int
hand_off_due(const struct med_collector *c, uint64_t now_ns)
{
	uint64_t lifetime = c->m->params.session_lifetime_ns;

	return lifetime != 0 && !c->handing_off &&
			dpfix_export_state(c->x) == DPFIX_EXPORT_TRUSTED &&
			now_ns - c->session_since_ns >= lifetime;
}

/* The opener's session: a planned hand-off while the session in use works, else a
 * take-up in place of the one that failed (aborted if its collector was found dead:
 * nothing to wait for). */
static void
session_opened(struct med_collector *c, struct dpfix_session *s, uint64_t now_ns)
{
	enum dpfix_export_state state = dpfix_export_state(c->x);
	struct dpfix_session *old;

	if (state == DPFIX_EXPORT_TRUSTED || state == DPFIX_EXPORT_PROBATION) {
		dpfix_log(DPFIX_LOG_INFO, "collector %s: handing over to %s (session_lifetime "
				"%.3g s)", c->url, dpfix_session_name(s),
				c->m->params.session_lifetime_ns / 1e9);
		c->handing_off = 1;
		close_later(c, dpfix_export_hand_off(c->x, s, now_ns));
		return;
	}
	c->handing_off = 0;
	snprintf(c->name, sizeof(c->name), "%s", dpfix_session_name(s));
	old = dpfix_export_take_up(c->x, s, now_ns);
	if (c->found_dead)
		dpfix_session_abort(old);
	else
		close_later(c, old);
	watch_session(c, s, now_ns);
	dpfix_log(DPFIX_LOG_INFO, "collector %s: resumed on %s%s", c->url, c->name,
			c->failures_in_row != 0 ? " after failed attempts" : "");
	c->down_said = 0;
}

/* Where a planned hand-off stands: once done, the new session is the one in use and
 * watched; a failed one is tried again after another session_lifetime. */
static void
hand_off_progress(struct med_collector *c, uint64_t now_ns)
{
	const char *why = NULL;

	if (!c->handing_off)
		return;
	switch (dpfix_export_hand_off_state(c->x, &why)) {
	case DPFIX_EXPORT_HANDOFF_DONE:
		c->handing_off = 0;
		c->hand_offs++;
		snprintf(c->name, sizeof(c->name), "%s",
				dpfix_session_name(dpfix_export_session(c->x)));
		watch_session(c, dpfix_export_session(c->x), now_ns);
		dpfix_log(DPFIX_LOG_INFO, "collector %s: handed over to %s; the old session ends "
				"in order", c->url, c->name);
		break;
	case DPFIX_EXPORT_HANDOFF_FAILED:
		c->handing_off = 0;
		c->session_since_ns = now_ns;
		export_log_failure(c, "hand-off (session_lifetime) failed: %s; export goes on on %s",
				why != NULL ? why : "?", c->name);
		break;
	default:
		break;
	}
}

static void
reconnect(struct med_collector *c, uint64_t now_ns)
{
	int done;

	if (dpfix_export_state(c->x) == DPFIX_EXPORT_FAILED && !c->down_said)
		session_failed(c, now_ns);
	if (!c->opener_running) {
		if (dpfix_export_state(c->x) == DPFIX_EXPORT_FAILED && now_ns >= c->next_attempt_ns)
			start_opener(c, 0);
		else if (hand_off_due(c, now_ns))
			start_opener(c, 1);
		return;
	}
	pthread_mutex_lock(&c->lock);
	done = c->opener_done;
	pthread_mutex_unlock(&c->lock);
	if (!done)
		return;
	pthread_join(c->opener, NULL);
	c->opener_running = 0;
	if (c->opened != NULL) {
		session_opened(c, c->opened, now_ns);
		c->opened = NULL;
	} else if (dpfix_export_state(c->x) != DPFIX_EXPORT_FAILED) {
		/* A hand-off's session that could not be opened: the one in use goes on. */
		c->session_since_ns = now_ns;
		export_log_failure(c, "hand-off (session_lifetime) failed: %s; export goes on on %s",
				c->open_err, c->name);
	} else {
		attempt_failed(c, now_ns, c->open_err);
	}
}

void
med_collector_poll(struct med_collector *c, uint64_t now_ns)
{
	dpfix_export_poll(c->x, now_ns);
	heartbeats(c, now_ns);
	hand_off_progress(c, now_ns);
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
