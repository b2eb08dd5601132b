/* Many exporters at once: opens every session first (UDP, TCP, TLS/TCP, DTLS/UDP, ... in
 * the numbers asked) and sends its template, so all are open together at the collector
 * (a UDP exporter is a session there from its first datagram), then each sends its
 * records, then each ends (TCP, TLS, SCTP in order, confirmed by the collector). Session s (0, 1, ...) exports from observation domain s + 1 records whose
 * sourceIPv4Address is 10.0.0.0 + s and octetDeltaCount s, so a collector's output tells
 * each session's records apart. Prints one JSON line: sessions, records, seconds, and
 * what failed.
 * Usage: bench_sessions [--records R] [--psk IDENTITY FILE] URL=COUNT [URL=COUNT ...] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_session.h"

#define MAX_SESSIONS 100000

struct exporter {
	struct dpfix_session *s;
	const char *url;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
build_template(struct dpfix_ipfix_template *t)
{
	dpfix_ipfix_template_init(t, 256, 0);
	dpfix_ipfix_template_add(t, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(t, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(t, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(t, 0, IE_packetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowStartMilliseconds, 8);
}

/* Record r of session s. */
static void
build_record(uint8_t *p, uint32_t s, uint32_t r)
{
	dpfix_put32(p, 0x0a000000u + s);
	dpfix_put32(p + 4, 0xc0000201u);
	dpfix_put16(p + 8, (uint16_t)(1024 + r));
	dpfix_put16(p + 10, 443);
	p[12] = 6;
	dpfix_put_be(p + 13, 1, 8);
	dpfix_put_be(p + 21, s, 8);
	dpfix_put_be(p + 29, 1700000000000ull + r, 8);
}

/* Sends msg, waiting while the transport is full. 0 or a negative errno. */
static int
send_all(struct dpfix_session *s, const uint8_t *msg, uint32_t len, enum dpfix_message_kind kind)
{
	int ret;

	while ((ret = dpfix_session_send(s, msg, len, kind)) == -EAGAIN)
		usleep(100);
	return ret;
}

static uint8_t buf[65536];

/* Session i's template: 0, or -1 (said). */
static int
send_template(struct exporter *e, uint32_t i)
{
	struct dpfix_ipfix_template t;
	struct dpfix_ipfix_msg m;
	int ret;

	build_template(&t);
	dpfix_ipfix_msg_begin(&m, buf, dpfix_session_max_message(e->s));
	dpfix_ipfix_msg_add_template(&m, &t);
	ret = send_all(e->s, buf, dpfix_ipfix_msg_finish(&m, (uint32_t)time(NULL), 0, i + 1),
			DPFIX_MESSAGE_TEMPLATES);
	if (ret < 0)
		fprintf(stderr, "bench_sessions: session %u (%s): send: %s\n", i, e->url, strerror(-ret));
	return ret < 0 ? -1 : 0;
}

/* Session i's records: 0, or -1 (said). */
static int
send_records(struct exporter *e, uint32_t i, uint32_t records)
{
	struct dpfix_ipfix_msg m;
	uint32_t sent = 0, seq = 0;
	uint8_t rec[37];
	int ret = 0;

	while (ret == 0 && sent < records) {
		dpfix_ipfix_msg_begin(&m, buf, dpfix_session_max_message(e->s));
		while (sent < records) {
			build_record(rec, i, sent);
			if (dpfix_ipfix_msg_add_record(&m, 256, rec, sizeof(rec)) < 0)
				break;
			sent++;
		}
		ret = send_all(e->s, buf, dpfix_ipfix_msg_finish(&m, (uint32_t)time(NULL), seq, i + 1),
				DPFIX_MESSAGE_DATA);
		seq = sent;
	}
	if (ret < 0)
		fprintf(stderr, "bench_sessions: session %u (%s): send: %s\n", i, e->url, strerror(-ret));
	return ret < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct dpfix_session_params params = {.mtu = DPFIX_MTU, .connect_timeout_ms = 20000,
		.sctp_udp_port = DPFIX_SCTP_UDP_PORT};
	static struct exporter exporters[MAX_SESSIONS];
	uint32_t records = 100, n = 0, failed = 0, unconfirmed = 0;
	char err[DPFIX_SESSION_ERRLEN];
	struct rlimit rl;
	double t0, t_open, t_sent, t_end;

	for (int i = 1; i < argc; i++) {
		struct dpfix_security_params *sec = &params.security;

		if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
			records = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--psk") == 0 && i + 2 < argc) {
			snprintf(sec->psk_identity, sizeof(sec->psk_identity), "%s", argv[++i]);
			snprintf(sec->psk_file, sizeof(sec->psk_file), "%s", argv[++i]);
		} else if (strchr(argv[i], '=') != NULL) {
			char *eq = strrchr(argv[i], '=');
			uint32_t count = (uint32_t)strtoul(eq + 1, NULL, 10);

			*eq = '\0';
			for (uint32_t k = 0; k < count && n < MAX_SESSIONS; k++)
				exporters[n++].url = argv[i];
		} else {
			fprintf(stderr, "usage: bench_sessions [--records R] [--psk IDENTITY FILE] "
					"URL=COUNT [URL=COUNT ...]\n");
			return 1;
		}
	}
	/* A descriptor a session (two for some), and room to spare. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max < 2 * (rlim_t)n + 64 ? rl.rlim_max : 2 * (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct dpfix_endpoint ep;

		if (dpfix_endpoint_parse(exporters[i].url, &ep, err, sizeof(err)) < 0 ||
				(exporters[i].s = dpfix_session_open(&ep, &params, err, sizeof(err))) == NULL) {
			fprintf(stderr, "bench_sessions: session %u (%s): %s\n", i, exporters[i].url, err);
			failed++;
		} else if (send_template(&exporters[i], i) < 0) {
			dpfix_session_close(exporters[i].s);
			exporters[i].s = NULL;
			failed++;
		}
	}
	t_open = now_s();
	for (uint32_t i = 0; i < n; i++)
		if (exporters[i].s != NULL && send_records(&exporters[i], i, records) < 0)
			failed++;
	t_sent = now_s();
	for (uint32_t i = 0; i < n; i++) {
		uint64_t given_up = 0;

		if (exporters[i].s == NULL)
			continue;
		if (!dpfix_session_is_reliable(exporters[i].s)) {
			dpfix_session_close(exporters[i].s);
		} else if (dpfix_session_end(exporters[i].s, &given_up, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_sessions: session %u (%s): end: %s\n", i, exporters[i].url, err);
			unconfirmed++;
		}
	}
	t_end = now_s();
	printf("{\"sessions\":%u,\"records_per_session\":%u,\"records\":%" PRIu64 ",\"failed\":%u,"
			"\"unconfirmed\":%u,\"open_s\":%.3f,\"send_s\":%.3f,\"end_s\":%.3f}\n", n, records,
			(uint64_t)(n - failed) * records, failed, unconfirmed, t_open - t0, t_sent - t_open,
			t_end - t_sent);
	return failed || unconfirmed ? 2 : 0;
}
