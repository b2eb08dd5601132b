/* lib/collect's instance (dpfix_collect.h): listeners, sinks, the serve loop that sleeps
 * in poll() when idle, the once-a-second checks, the drain after a stop, the summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect_private.h"
#include "dpfix_log.h"

#define IDLE_WAKE_MS 100     /* (D)TLS handshake timers still run when nothing arrives */
#define CHECK_MS 1000        /* how often losses and sessions' times are looked at */
#define MESSAGE_BUFFER 65536 /* the largest IPFIX message */

struct dpfix_collect *
dpfix_collect_create(const struct dpfix_collect_params *p, char *err, size_t errlen)
{
	struct dpfix_collect *c = calloc(1, sizeof(*c));

	if (c == NULL || p->max_sessions == 0 || p->max_sessions > DPFIX_COLLECT_MAX_SESSIONS)
		goto fail;
	c->params = *p;
	c->wake_fd = -1;
	c->params.session.max_sessions = p->max_sessions;
	c->budget.limit_bytes = p->template_memory;
	c->sessions = calloc(p->max_sessions, sizeof(c->sessions[0]));
	c->fds = calloc(1 + DPFIX_COLLECT_MAX_LISTENERS + p->max_sessions, sizeof(c->fds[0]));
	c->buf_cap = MESSAGE_BUFFER;
	c->buf = malloc(c->buf_cap);
	if (c->sessions == NULL || c->fds == NULL || c->buf == NULL)
		goto fail;
	return c;
fail:
	snprintf(err, errlen, "out of memory for %u sessions", p->max_sessions);
	dpfix_collect_free(c);
	return NULL;
}

int
dpfix_collect_listen(struct dpfix_collect *c, const char *url, char *err, size_t errlen)
{
	struct dpfix_session_params params = c->params.session;
	struct dpfix_endpoint ep;
	struct dpfix_listener *l;

	if (c->nb_listeners == DPFIX_COLLECT_MAX_LISTENERS) {
		snprintf(err, errlen, "more than %d listeners", DPFIX_COLLECT_MAX_LISTENERS);
		return -ENOSPC;
	}
	if (dpfix_endpoint_parse(url, &ep, err, errlen) < 0)
		return -EINVAL;
	/* Heartbeats are answered once their records are stored (serve_session). */
	params.heartbeat_answer_later = 1;
	l = dpfix_listener_open(&ep, &params, err, errlen);
	if (l == NULL)
		return -EIO;
	c->listeners[c->nb_listeners++] = l;
	return 0;
}

int
dpfix_collect_add_sink(struct dpfix_collect *c, const struct dpfix_collect_sink *sink)
{
	if (c->nb_sinks == DPFIX_COLLECT_MAX_SINKS)
		return -ENOSPC;
	c->sinks[c->nb_sinks++] = *sink;
	if (sink->ops->record != NULL)
		c->record_sinks[c->nb_record_sinks++] = *sink;
	if (sink->ops->message != NULL)
		c->message_sinks[c->nb_message_sinks++] = *sink;
	/* Sessions opened from now on tell their templates. */
	c->want_templates |= sink->ops->template_event != NULL;
	return 0;
}

int
dpfix_collect_serve(struct dpfix_collect *c, const struct dpfix_collect_stop *stop)
{
	return collect_sessions_serve(c, stop);
}

/* After a round that found nothing: sleep until a listener or session has input, or the
 * stop descriptor turns readable, so an idle collector uses no CPU and a busy one wakes
 * as soon as data arrives. */
void
collect_wait_for_input(struct dpfix_collect *c, int stop_fd)
{
	nfds_t n = 0;

	if (stop_fd >= 0)
		c->fds[n++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
	for (unsigned int i = 0; i < c->nb_listeners; i++) {
		int fd = dpfix_listener_event_fd(c->listeners[i]);

		if (fd >= 0)
			c->fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	n += collect_sessions_poll_fds(c, c->fds + n);
	poll(c->fds, n, IDLE_WAKE_MS);
	if (c->wake_fd >= 0) {
		uint64_t wakes;

		/* A lane's eventfd: read, so that it sleeps again. */
		if (read(c->wake_fd, &wakes, sizeof(wakes)) < 0 && errno != EAGAIN)
			dpfix_log(DPFIX_LOG_WARNING, "intake lane %u: eventfd: %s", c->lane,
					strerror(errno));
	}
}

/* Datagrams dropped before any session saw them (a full socket buffer, a full queue):
 * said when it happens, at most once a second per listener, with the count since the
 * last time. Sequence numbers cannot show a loss at the end of a stream. */
static void
report_listener_losses(struct dpfix_collect *c)
{
	for (unsigned int i = 0; i < c->nb_listeners; i++) {
		struct dpfix_listener_stats st;
		const struct dpfix_endpoint *ep = dpfix_listener_endpoint(c->listeners[i]);
		uint64_t total;

		dpfix_listener_stats(c->listeners[i], &st);
		total = st.socket_drops + st.queue_drops + st.peer_drops;
		if (total == c->listener_losses_said[i])
			continue;
		dpfix_log(DPFIX_LOG_WARNING, "%s://%s:%u: %" PRIu64 " datagrams lost before decoding "
				"(%" PRIu64 " in all: socket buffer full %" PRIu64 ", exporter queue full %"
				PRIu64 ", too many exporters %" PRIu64 "): the collector is not keeping up",
				ep->scheme, ep->host, ep->port, total - c->listener_losses_said[i], total,
				st.socket_drops, st.queue_drops, st.peer_drops);
		c->listener_losses_said[i] = total;
	}
}

uint64_t
dpfix_collect_wall_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What each round ends with: the sinks' tick, and once a second the losses to report
 * and the sessions past their time. */
void
collect_end_round(struct dpfix_collect *c)
{
	uint64_t now;

	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->tick != NULL)
			c->sinks[k].ops->tick(c->sinks[k].ctx, dpfix_collect_wall_clock_ms());
	now = dpfix_collect_now_ms();
	if (now < c->next_check_ms)
		return;
	c->next_check_ms = now + CHECK_MS;
	report_listener_losses(c);
	collect_sessions_expire(c);
}

void
collect_sinks_idle(struct dpfix_collect *c)
{
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->idle != NULL)
			c->sinks[k].ops->idle(c->sinks[k].ctx);
}

void
dpfix_collect_run(struct dpfix_collect *c, const struct dpfix_collect_stop *stop)
{
	while (!stop->requested(stop->arg)) {
		if (collect_sessions_serve(c, NULL) == 0) {
			collect_sinks_idle(c);
			collect_wait_for_input(c, stop->fd);
		}
		collect_end_round(c);
	}
}

/* Datagrams dropped unread by the listeners so far (closed sessions' queues, a stop). */
static uint64_t
unread_drops(const struct dpfix_collect *c)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < c->nb_listeners; i++) {
		struct dpfix_listener_stats st;

		dpfix_listener_stats(c->listeners[i], &st);
		sum += st.unread_drops;
	}
	return sum;
}

/* A listener holds a datagram for a session of another lane whose queue is full. */
static int
listener_held(const struct dpfix_collect *c)
{
	for (unsigned int i = 0; i < c->nb_listeners; i++)
		if (dpfix_listener_held(c->listeners[i]))
			return 1;
	return 0;
}

/* A large socket buffer holds seconds of export, and an exporter may never stop
 * sending: bounded by max_ms, and a second stop ends it at once. */
enum dpfix_collect_drain_end
dpfix_collect_drain(struct dpfix_collect *c, const struct dpfix_collect_stop *stop,
		uint32_t max_ms)
{
	uint64_t end = dpfix_collect_now_ms() + max_ms;
	enum dpfix_collect_drain_end why = DPFIX_COLLECT_DRAINED;

	c->unread_before_drain = unread_drops(c);
	c->ending = 1;
	/* The other lanes read what their sessions hold meanwhile, until the same end. */
	if (c->lanes != NULL)
		collect_lanes_stop(c, end);
	for (;;) {
		int n = collect_sessions_serve(c, stop);

		if (stop->requested(stop->arg)) {
			why = DPFIX_COLLECT_DRAIN_STOPPED;
			break;
		}
		if (n == 0 && !listener_held(c) && collect_sessions_awaited(c, 0) == 0)
			break;
		if (dpfix_collect_now_ms() > end) {
			why = DPFIX_COLLECT_DRAIN_TIMED_OUT;
			break;
		}
		if (n == 0) /* an intake thread is to make room first */
			collect_wait_for_input(c, stop->fd);
	}
	if (why != DPFIX_COLLECT_DRAINED)
		collect_sessions_awaited(c, 1);
	if (c->lanes != NULL)
		collect_lanes_join(c, why == DPFIX_COLLECT_DRAIN_STOPPED);
	for (unsigned int i = 0; i < c->nb_listeners; i++)
		dpfix_listener_discard(c->listeners[i]);
	return why;
}

uint64_t
dpfix_collect_unread_after_stop(const struct dpfix_collect *c)
{
	return unread_drops(c) - c->unread_before_drain;
}

void
dpfix_collect_finish(struct dpfix_collect *c, const char *why)
{
	/* Sessions close first, so that what their queues held is in the counters. */
	if (c->lanes != NULL)
		collect_lanes_close_all(c, why);
	collect_sessions_close_all(c, why);
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->finish != NULL)
			c->sinks[k].ops->finish(c->sinks[k].ctx);
}

void
dpfix_collect_stats(const struct dpfix_collect *c, struct dpfix_collect_stats *st)
{
	*st = c->stats;
	st->template_bytes_peak = c->budget.peak_bytes;
	st->decode = c->closed_decode;
	memcpy(st->stream_messages, c->closed_streams, sizeof(c->closed_streams));
	for (unsigned int i = 0; i < c->session_count; i++) {
		const struct collect_session *s = c->sessions[i];

		dpfix_ipfix_decode_stats_add(&st->decode, dpfix_ipfix_decoder_stats(s->decoder));
		for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
			st->stream_messages[k] += dpfix_session_stream_messages(s->info.session, k);
	}
	memset(&st->listeners, 0, sizeof(st->listeners));
	for (unsigned int i = 0; i < c->nb_listeners; i++) {
		struct dpfix_listener_stats ls;

		dpfix_listener_stats(c->listeners[i], &ls);
#define ADD(name, text) st->listeners.name += ls.name;
		DPFIX_LISTENER_COUNTERS(ADD)
#undef ADD
	}
	if (c->lanes != NULL && c->lane == 0)
		collect_lanes_stats(c, st);
}

uint64_t
dpfix_collect_sinks_lost(const struct dpfix_collect *c)
{
	uint64_t lost = 0;

	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->lost != NULL)
			lost += c->sinks[k].ops->lost(c->sinks[k].ctx);
	return lost;
}

/* Appends "NAME VALUE" to names when value is not 0; returns whether it was. */
static int
name_loss(char *names, size_t len, const char *name, uint64_t value)
{
	size_t used = strlen(names);

	if (value == 0)
		return 0;
	if (used < len)
		snprintf(names + used, len - used, "%s%s %" PRIu64, used ? ", " : "", name, value);
	return 1;
}

int
dpfix_collect_loss(const struct dpfix_collect *c, char *names, size_t len)
{
	struct dpfix_collect_stats st;
	int any;

	dpfix_collect_stats(c, &st);
	names[0] = '\0';
	any = dpfix_ipfix_decode_loss(&st.decode, names, len);
	any |= name_loss(names, len, "socket_drops", st.listeners.socket_drops);
	any |= name_loss(names, len, "queue_drops", st.listeners.queue_drops);
	any |= name_loss(names, len, "peer_drops", st.listeners.peer_drops);
	any |= name_loss(names, len, "unread_after_stop", dpfix_collect_unread_after_stop(c));
	any |= name_loss(names, len, "sessions_cut_at_stop", st.sessions_cut_at_stop);
	any |= name_loss(names, len, "sessions_refused_full", st.sessions_refused_full);
	any |= name_loss(names, len, "sinks_lost", dpfix_collect_sinks_lost(c));
	return any;
}

static void
print_counter(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "  %-28s %" PRIu64 "\n", name, value);
}

void
dpfix_collect_write_summary(const struct dpfix_collect *c, const char *program, FILE *out)
{
	struct dpfix_collect_stats st;
	char lost[512];
	int used_streams = 0;

	dpfix_collect_stats(c, &st);
	fprintf(out, "%s: summary: sessions %" PRIu64 ", flows %" PRIu64 ", packets %" PRIu64
			", octets %" PRIu64 "\n", program, st.sessions_opened, st.flow_records, st.packets,
			st.octets);
#define SHOW(name, text) print_counter(out, #name, st.decode.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++)
		if (st.decode.malformed[r] != 0)
			fprintf(out, "    malformed_%-18s %" PRIu64 "  (%s)\n",
					dpfix_ipfix_malformed_name(r), st.decode.malformed[r],
					dpfix_ipfix_malformed_text(r));
#define SHOW(name, text) print_counter(out, #name, st.name);
	DPFIX_COLLECT_SESSION_COUNTERS(SHOW)
#undef SHOW
	print_counter(out, "template_bytes_peak", st.template_bytes_peak);
#define SHOW(name, text) print_counter(out, #name, st.listeners.name);
	DPFIX_LISTENER_COUNTERS(SHOW)
#undef SHOW
	if (c->lanes != NULL)
		collect_lanes_summary(c, out);
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->counters != NULL)
			c->sinks[k].ops->counters(c->sinks[k].ctx, print_counter, out);
	/* Messages per SCTP stream, when streams other than 0 were used. */
	for (uint16_t k = 1; k < DPFIX_MAX_STREAMS; k++)
		used_streams |= st.stream_messages[k] != 0;
	for (uint16_t k = 0; used_streams && k < DPFIX_MAX_STREAMS; k++)
		if (st.stream_messages[k] != 0)
			fprintf(out, "  stream_%-21u %" PRIu64 "\n", k, st.stream_messages[k]);
	if (dpfix_collect_loss(c, lost, sizeof(lost)))
		fprintf(out, "%s: data lost (exit status 2): %s\n", program, lost);
	fflush(out);
}

void
dpfix_collect_free(struct dpfix_collect *c)
{
	if (c == NULL)
		return;
	/* The other lanes' sessions end while the sinks are still there. */
	if (c->lanes != NULL && c->lane == 0)
		collect_lanes_close_all(c, "closed");
	if (c->sessions != NULL)
		collect_sessions_close_all(c, "closed");
	for (unsigned int i = 0; i < c->nb_listeners; i++)
		dpfix_listener_close(c->listeners[i]);
	for (unsigned int k = 0; k < c->nb_sinks; k++)
		if (c->sinks[k].ops->free != NULL)
			c->sinks[k].ops->free(c->sinks[k].ctx);
	if (c->lanes != NULL && c->lane == 0)
		collect_lanes_free(c);
	free(c->sessions);
	free(c->fds);
	free(c->buf);
	free(c);
}
