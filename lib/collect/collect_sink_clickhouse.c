/* The ClickHouse sink (dpfix_collect.h): each flow record goes, with the exporter's
 * address, the observation domain and the time its message was received, into
 * lib/clickhouse's batch on this thread; lib/clickhouse's writer thread inserts, spools
 * and replays (doc/clickhouse.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_clickhouse.h"
#include "dpfix_collect.h"
#include "dpfix_log.h"

struct sink_clickhouse {
	struct dpfix_clickhouse *ch;
	uint64_t session_id;            /* whose address exporter holds; 0: none yet */
	uint8_t exporter[16];
	uint64_t time_ms;               /* when the message being decoded was received */
	int need_time;                  /* a new message: read the clock at its first record */
};

static void
log_line(void *arg, int error, const char *text)
{
	(void)arg;
	dpfix_log(error ? DPFIX_LOG_ERROR : DPFIX_LOG_INFO, "%s", text);
}

/* The exporter's address from the session's "ADDR:PORT" or "[v6]:PORT", as IPv6 (an IPv4
 * address mapped, ::ffff:a.b.c.d); all zeros if it is not an address. */
static void
exporter_address(const char *peer, uint8_t out[16])
{
	char text[64];
	const char *end = strrchr(peer, ':');
	size_t len = end != NULL ? (size_t)(end - peer) : strlen(peer);
	struct in_addr v4;

	memset(out, 0, 16);
	if (len >= 2 && peer[0] == '[' && peer[len - 1] == ']') {
		peer++;
		len -= 2;
	}
	if (len >= sizeof(text))
		return;
	memcpy(text, peer, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, &v4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, text, out) != 1) {
		memset(out, 0, 16);
	}
}

static void
sink_record(void *ctx, const struct dpfix_collect_session *s, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	struct sink_clickhouse *c = ctx;
	struct dpfix_clickhouse_origin o;

	if (c->session_id != s->id) {
		exporter_address(s->peer, c->exporter);
		c->session_id = s->id;
	}
	if (c->need_time) {
		c->time_ms = dpfix_collect_wall_clock_ms();
		c->need_time = 0;
	}
	o.session = s->id;
	memcpy(o.exporter, c->exporter, 16);
	o.domain = h->domain;
	o.time_ms = c->time_ms;
	dpfix_clickhouse_add(c->ch, &o, t, rec, len);
}

/* After each message: the next one's records get a reception time of their own. */
static void
sink_message(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg, size_t len,
		int malformed)
{
	struct sink_clickhouse *c = ctx;

	(void)s;
	(void)msg;
	(void)len;
	(void)malformed;
	c->need_time = 1;
}

static void
sink_template_event(void *ctx, const struct dpfix_collect_session *s, uint32_t domain,
		uint16_t template_id, const struct dpfix_ipfix_template *t)
{
	struct sink_clickhouse *c = ctx;

	(void)s;
	(void)domain;
	(void)template_id;
	(void)t;
	dpfix_clickhouse_templates_changed(c->ch);
}

static void
sink_tick(void *ctx, uint64_t now_ms)
{
	struct sink_clickhouse *c = ctx;

	(void)now_ms;
	dpfix_clickhouse_tick(c->ch);
}

static void
sink_finish(void *ctx)
{
	struct sink_clickhouse *c = ctx;

	dpfix_clickhouse_finish(c->ch);
}

static void
sink_counters(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value), void *arg)
{
	struct sink_clickhouse *c = ctx;
	struct dpfix_clickhouse_stats st;

	dpfix_clickhouse_stats(c->ch, &st);
#define SHOW(name, text) fn(arg, "clickhouse_" #name, st.name);
	DPFIX_CLICKHOUSE_COUNTERS(SHOW)
#undef SHOW
}

static uint64_t
sink_lost(void *ctx)
{
	struct sink_clickhouse *c = ctx;

	return dpfix_clickhouse_lost(c->ch);
}

static void
sink_free(void *ctx)
{
	struct sink_clickhouse *c = ctx;

	dpfix_clickhouse_free(c->ch);
	free(c);
}

static const struct dpfix_collect_sink_ops clickhouse_ops = {
	.name = "clickhouse",
	.template_event = sink_template_event,
	.record = sink_record,
	.message = sink_message,
	.tick = sink_tick,
	.finish = sink_finish,
	.counters = sink_counters,
	.lost = sink_lost,
	.free = sink_free,
};

int
dpfix_collect_sink_clickhouse(const struct dpfix_clickhouse_params *p,
		struct dpfix_collect_sink *sink, char *err, size_t errlen)
{
	struct sink_clickhouse *c = calloc(1, sizeof(*c));
	struct dpfix_clickhouse_params params = *p;

	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	params.log = log_line;
	params.log_arg = c;
	c->need_time = 1;
	c->ch = dpfix_clickhouse_create(&params, err, errlen);
	if (c->ch == NULL) {
		free(c);
		return -EINVAL;
	}
	sink->ops = &clickhouse_ops;
	sink->ctx = c;
	return 0;
}
