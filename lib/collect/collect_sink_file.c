/* lib/collect's RFC 5655 file sink: each received message goes to lib/ipfix's file
 * writer with its origin (exporter and collector address and port, transport, SCTP
 * stream, reception time); a failure is logged once, and its end only when a write of
 * the buffered messages has succeeded again, with the messages lost meanwhile. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_collect.h"
#include "dpfix_ipfix_file.h"
#include "dpfix_log.h"

#define ERRLEN 512

struct file_sink {
	struct dpfix_ipfix_file_writer *writer;  /* NULL once finished */
	struct dpfix_ipfix_file_stats final_stats;
	uint64_t files_seen;
	int failing;
	uint64_t flushes_at_failure; /* the writer's successful writes at the last failure */
	uint64_t lost_said;          /* messages_lost already told */
	int details;                 /* addresses are needed only for RFC 5655 details */
};

/* "ADDR", "[IPv6]" or a name, and a port; family 0 when host is not a literal address. */
static void
set_address(struct sockaddr_storage *ss, const char *host, size_t host_len, uint16_t port)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char text[INET6_ADDRSTRLEN + 2];

	memset(ss, 0, sizeof(*ss));
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len >= sizeof(text))
		return;
	memcpy(text, host, host_len);
	text[host_len] = '\0';
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	}
}

/* A message taken into the writer's buffer is not on disk yet: writing works again only
 * once a write of the buffer has succeeded since the last failure (a full disk took
 * every message into the buffer and failed each flush, which said "works again" after
 * each message). Malformed messages are reported where they are decoded; only counted
 * here. */
static void
report(struct file_sink *f, int ret, const char *err)
{
	const struct dpfix_ipfix_file_stats *st = dpfix_ipfix_file_writer_stats(f->writer);

	if (ret != 0 && ret != -EBADMSG) {
		if (!f->failing)
			dpfix_log(DPFIX_LOG_ERROR, "--write: %s (said once, until a write succeeds "
					"again; write_messages_lost counts what is lost)", err);
		f->failing = 1;
		f->flushes_at_failure = st->flushes;
		return;
	}
	if (f->failing && st->flushes > f->flushes_at_failure) {
		dpfix_log(DPFIX_LOG_INFO, "--write: writing works again; %" PRIu64 " messages were "
				"lost", st->messages_lost - f->lost_said);
		f->lost_said = st->messages_lost;
		f->failing = 0;
	}
}

static void
file_message(void *ctx, const struct dpfix_collect_session *s, const uint8_t *msg, size_t len,
		int malformed)
{
	struct file_sink *f = ctx;
	const struct dpfix_endpoint *ep;
	struct dpfix_ipfix_file_origin o;
	char err[ERRLEN];
	int ret;

	(void)malformed; /* the writer's own decode counts what it refuses */
	if (f->writer == NULL)
		return;
	ep = dpfix_session_endpoint(s->session);
	o = (struct dpfix_ipfix_file_origin){
		.session = s->session, .collection_time_ms = dpfix_collect_wall_clock_ms(),
		.transport = ep->ip_protocol, .sctp_stream = dpfix_session_recv_stream(s->session),
		.identity = s->identity,
	};
	/* Parsing the addresses' text costs about 570 instructions a message, more than
	 * the writer's whole decode of it (bench/collector_write_cost.sh): done only when
	 * the details that carry the addresses are written. */
	if (f->details) {
		const char *colon = strrchr(s->peer, ':');

		if (colon != NULL)
			set_address(&o.exporter, s->peer, (size_t)(colon - s->peer),
					(uint16_t)strtoul(colon + 1, NULL, 10));
		set_address(&o.collector, ep->host, strlen(ep->host), ep->port);
	}
	ret = dpfix_ipfix_file_write(f->writer, &o, msg, len, err, sizeof(err));
	report(f, ret, err);
	if (dpfix_ipfix_file_writer_stats(f->writer)->files != f->files_seen) {
		f->files_seen = dpfix_ipfix_file_writer_stats(f->writer)->files;
		dpfix_log(DPFIX_LOG_INFO, "writing %s", dpfix_ipfix_file_writer_path(f->writer));
	}
}

static void
file_session_end(void *ctx, const struct dpfix_collect_session *s, const char *why)
{
	struct file_sink *f = ctx;

	(void)why;
	if (f->writer != NULL)
		dpfix_ipfix_file_writer_session_closed(f->writer, s->session);
}

/* Closes a file whose interval has ended; flushes once a second. */
static void
file_tick(void *ctx, uint64_t now_ms)
{
	struct file_sink *f = ctx;
	char err[ERRLEN];

	if (f->writer != NULL)
		report(f, dpfix_ipfix_file_writer_tick(f->writer, now_ms, err, sizeof(err)), err);
}

static const struct dpfix_ipfix_file_stats *
file_stats(const struct file_sink *f)
{
	return f->writer != NULL ? dpfix_ipfix_file_writer_stats(f->writer) : &f->final_stats;
}

static void
file_counters(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value), void *arg)
{
	const struct dpfix_ipfix_file_stats *st = file_stats(ctx);

#define SHOW(name, text) fn(arg, "write_" #name, st->name);
	DPFIX_IPFIX_FILE_COUNTERS(SHOW)
#undef SHOW
}

static uint64_t
file_lost(void *ctx)
{
	return file_stats(ctx)->messages_lost;
}

/* Finishes and closes the current file: its Export Session Details are counted too. */
static void
file_finish(void *ctx)
{
	struct file_sink *f = ctx;
	char err[ERRLEN];

	if (f->writer == NULL)
		return;
	if (dpfix_ipfix_file_writer_finish(f->writer, err, sizeof(err)) < 0)
		dpfix_log(DPFIX_LOG_ERROR, "--write: %s", err);
	f->final_stats = *dpfix_ipfix_file_writer_stats(f->writer);
	if (f->final_stats.messages_lost != 0)
		dpfix_log(DPFIX_LOG_ERROR, "--write: %" PRIu64 " messages received were not stored "
				"(write_messages_lost)", f->final_stats.messages_lost);
	dpfix_ipfix_file_writer_close(f->writer, err, sizeof(err)); /* nothing left to fail */
	f->writer = NULL;
}

static void
file_free(void *ctx)
{
	file_finish(ctx);
	free(ctx);
}

static const struct dpfix_collect_sink_ops file_ops = {
	.name = "file", .message = file_message, .session_end = file_session_end,
	.tick = file_tick, .finish = file_finish, .counters = file_counters, .lost = file_lost,
	.free = file_free,
};

int
dpfix_collect_sink_file(const struct dpfix_collect_file_params *p, struct dpfix_collect_sink *sink,
		char *err, size_t errlen)
{
	struct dpfix_ipfix_file_params fp = {
		.path = p->path, .rotate_bytes = p->rotate_bytes,
		.rotate_interval_ms = p->rotate_interval_ms, .details = p->details,
	};
	struct file_sink *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->writer = dpfix_ipfix_file_writer_create(&fp, err, errlen);
	if (f->writer == NULL) {
		free(f);
		return -EIO;
	}
	f->details = p->details;
	*sink = (struct dpfix_collect_sink){.ops = &file_ops, .ctx = f};
	return 0;
}
