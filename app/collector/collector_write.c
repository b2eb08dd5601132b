/* dpfix-collector --write: each received message goes to lib/ipfix's RFC 5655 file
 * writer with its origin (exporter and collector address and port, transport, SCTP
 * stream, reception time); a failure is logged once, and its end only when a write of
 * the buffered messages has succeeded again, with the messages lost meanwhile. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector_write.h"
#include "dpfix_ipfix_file.h"

static struct dpfix_ipfix_file_writer *writer;
static struct dpfix_ipfix_file_stats final_stats; /* once closed */
static int written;
static uint64_t files_seen;
static int failing;
static uint64_t flushes_at_failure; /* the writer's successful writes at the last failure */
static uint64_t lost_said;          /* messages_lost already told */
static int details;     /* addresses are needed only for RFC 5655 details */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
report(int ret, const char *err)
{
	const struct dpfix_ipfix_file_stats *st = dpfix_ipfix_file_writer_stats(writer);

	if (ret != 0 && ret != -EBADMSG) {
		if (!failing)
			fprintf(stderr, "dpfix-collector: --write: %s (said once, until a write "
					"succeeds again; write_messages_lost counts what is lost)\n", err);
		failing = 1;
		flushes_at_failure = st->flushes;
		return;
	}
	if (failing && st->flushes > flushes_at_failure) {
		fprintf(stderr, "dpfix-collector: --write: writing works again; %" PRIu64 " messages "
				"were lost\n", st->messages_lost - lost_said);
		lost_said = st->messages_lost;
		failing = 0;
	}
}

int
collector_write_open(const struct collector_write_params *p)
{
	struct dpfix_ipfix_file_params fp = {
		.path = p->path, .rotate_bytes = p->rotate_bytes,
		.rotate_interval_ms = p->rotate_interval_ms, .details = p->details,
	};
	char err[512];

	writer = dpfix_ipfix_file_writer_create(&fp, err, sizeof(err));
	if (writer == NULL) {
		fprintf(stderr, "dpfix-collector: --write: %s\n", err);
		return -1;
	}
	written = 1;
	details = p->details;
	return 0;
}

void
collector_write_message(const struct dpfix_session *s, const uint8_t *msg, size_t len)
{
	const struct dpfix_endpoint *ep;
	struct dpfix_ipfix_file_origin o;
	char err[512];
	int ret;

	if (writer == NULL)
		return;
	ep = dpfix_session_endpoint(s);
	o = (struct dpfix_ipfix_file_origin){
		.session = s, .collection_time_ms = now_ms(), .transport = ep->ip_protocol,
		.sctp_stream = dpfix_session_recv_stream(s),
	};
	/* Parsing the addresses' text costs about 570 instructions a message, more than
	 * the writer's whole decode of it (bench/collector_write_cost.sh): done only when
	 * the details that carry the addresses are written. */
	if (details) {
		const char *peer = dpfix_session_peer(s), *colon = strrchr(peer, ':');

		if (colon != NULL)
			set_address(&o.exporter, peer, (size_t)(colon - peer),
					(uint16_t)strtoul(colon + 1, NULL, 10));
		set_address(&o.collector, ep->host, strlen(ep->host), ep->port);
	}
	ret = dpfix_ipfix_file_write(writer, &o, msg, len, err, sizeof(err));
	report(ret, err);
	if (dpfix_ipfix_file_writer_stats(writer)->files != files_seen) {
		files_seen = dpfix_ipfix_file_writer_stats(writer)->files;
		fprintf(stderr, "dpfix-collector: writing %s\n", dpfix_ipfix_file_writer_path(writer));
	}
}

void
collector_write_session_closed(const struct dpfix_session *s)
{
	if (writer != NULL)
		dpfix_ipfix_file_writer_session_closed(writer, s);
}

void
collector_write_tick(void)
{
	char err[512];

	if (writer != NULL)
		report(dpfix_ipfix_file_writer_tick(writer, now_ms(), err, sizeof(err)), err);
}

void
collector_write_print_summary(FILE *out)
{
	const struct dpfix_ipfix_file_stats *st;

	if (!written)
		return;
	st = writer != NULL ? dpfix_ipfix_file_writer_stats(writer) : &final_stats;
#define SHOW(name, text) fprintf(out, "  write_%-22s %" PRIu64 "\n", #name, st->name);
	DPFIX_IPFIX_FILE_COUNTERS(SHOW)
#undef SHOW
}

uint64_t
collector_write_lost(void)
{
	return writer != NULL ? dpfix_ipfix_file_writer_stats(writer)->messages_lost :
			final_stats.messages_lost;
}

void
collector_write_close(void)
{
	char err[512];

	if (writer == NULL)
		return;
	/* The last file gets its Export Session Details here: count them too. */
	if (dpfix_ipfix_file_writer_finish(writer, err, sizeof(err)) < 0)
		fprintf(stderr, "dpfix-collector: --write: %s\n", err);
	final_stats = *dpfix_ipfix_file_writer_stats(writer);
	if (final_stats.messages_lost != 0)
		fprintf(stderr, "dpfix-collector: --write: %" PRIu64 " messages received were not "
				"stored (write_messages_lost)\n", final_stats.messages_lost);
	dpfix_ipfix_file_writer_close(writer, err, sizeof(err)); /* nothing left to fail */
	writer = NULL;
}
