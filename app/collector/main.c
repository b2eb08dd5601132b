/* dpfix-collector: receives IPFIX, keeps templates and sequence numbers per transport
 * session, prints each record, optionally writes JSON, and summarises at exit. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "dpfix_session.h"

#define MAX_SESSIONS 256
#define RECV_BUFFER (16 * 1024 * 1024)

/* A UDP transport session is identified by the exporter's address and port. */
struct session {
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char name[INET6_ADDRSTRLEN + 8];
	struct dpfix_ipfix_decoder *decoder;
	int error_reported;
};

struct totals {
	uint64_t datagrams;
	uint64_t flow_records;
	uint64_t options_records;
	uint64_t packets;
	uint64_t octets;
};

static volatile sig_atomic_t stop;
static struct session sessions[MAX_SESSIONS];
static unsigned int session_count;
static uint64_t sessions_refused;
static struct totals totals;
static FILE *json_out;
static int print_records = 1;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: dpfix-collector --listen udp://ADDR:PORT [--json FILE|-] [--quiet]\n\n"
		"Receives IPFIX and prints one line per record, then a summary when stopped\n"
		"with SIGINT or SIGTERM.\n"
		"  --listen URL   where to receive (udp://0.0.0.0:4739, udp://[::]:4739)\n"
		"  --json FILE    also write one JSON object per record, keyed by IE names (- = stdout)\n"
		"  --quiet        do not print records; only the summary\n");
}

static struct session *
find_session(const struct sockaddr_storage *peer, socklen_t len)
{
	struct session *s;
	char host[INET6_ADDRSTRLEN], port[8];

	for (unsigned int i = 0; i < session_count; i++)
		if (sessions[i].peer_len == len && memcmp(&sessions[i].peer, peer, len) == 0)
			return &sessions[i];
	if (session_count == MAX_SESSIONS)
		return NULL;
	s = &sessions[session_count];
	s->decoder = dpfix_ipfix_decoder_create();
	if (s->decoder == NULL)
		return NULL;
	session_count++;
	memcpy(&s->peer, peer, len);
	s->peer_len = len;
	getnameinfo((const struct sockaddr *)peer, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(s->name, sizeof(s->name), "%s:%s", host, port);
	fprintf(stderr, "dpfix-collector: new session from %s\n", s->name);
	return s;
}

static void
print_record(const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	char value[256];

	if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) < 0)
		return;
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(f->pen, f->id);

		dpfix_ipfix_format_json_value(ie ? ie->type : DPFIX_IPFIX_OCTET_ARRAY, rec + offsets[i],
				lengths[i], value, sizeof(value));
		if (ie != NULL)
			printf("%s%s=%s", i ? " " : "", ie->name, value);
		else
			printf("%s%u:%u=%s", i ? " " : "", f->pen, f->id, value);
	}
	putchar('\n');
}

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	(void)ctx;
	(void)h;

	if (t->scope_count != 0) {
		totals.options_records++;
	} else {
		totals.flow_records++;
		if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) >= 0) {
			for (uint16_t i = 0; i < t->field_count; i++) {
				if (t->fields[i].pen != 0)
					continue;
				if (t->fields[i].id == IE_packetDeltaCount)
					totals.packets += dpfix_ipfix_read_unsigned(rec + offsets[i], lengths[i]);
				else if (t->fields[i].id == IE_octetDeltaCount)
					totals.octets += dpfix_ipfix_read_unsigned(rec + offsets[i], lengths[i]);
			}
		}
	}
	if (print_records)
		print_record(t, rec, len);
	if (json_out != NULL)
		dpfix_ipfix_record_to_json(t, rec, len, json_out);
}

static int
open_listener(const char *url)
{
	struct dpfix_endpoint ep;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char err[DPFIX_SESSION_ERRLEN], port[8];
	int fd, rc, size = RECV_BUFFER, on = 1;

	if (dpfix_endpoint_parse(url, &ep, err, sizeof(err)) < 0) {
		fprintf(stderr, "dpfix-collector: --listen %s\n", err);
		return -1;
	}
	if (strcmp(ep.scheme, "udp") != 0) {
		fprintf(stderr, "dpfix-collector: --listen %s: transport '%s' is not supported yet "
				"(udp only)\n", url, ep.scheme);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", ep.port);
	rc = getaddrinfo(ep.host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "dpfix-collector: --listen %s: %s\n", url, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		/* A burst of export must not overrun the socket: ask for a large buffer,
		 * beyond rmem_max when privileged. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "dpfix-collector: --listen %s: %s\n", url, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void
receive_one(int fd, uint8_t *buf, size_t buflen)
{
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	struct session *s;
	char err[256];
	ssize_t n;

	n = recvfrom(fd, buf, buflen, MSG_DONTWAIT, (struct sockaddr *)&peer, &peer_len);
	if (n < 0)
		return;
	totals.datagrams++;
	s = find_session(&peer, peer_len);
	if (s == NULL) {
		sessions_refused++;
		return;
	}
	if (dpfix_ipfix_decode(s->decoder, buf, (size_t)n, on_record, s, err, sizeof(err)) < 0 &&
			!s->error_reported) {
		/* Once per session: a broken exporter must not flood the log. */
		fprintf(stderr, "dpfix-collector: %s: malformed message (reported once per session): "
				"%s\n", s->name, err);
		s->error_reported = 1;
	}
}

static void
print_summary(void)
{
	struct dpfix_ipfix_decode_stats sum = {0};

	for (unsigned int i = 0; i < session_count; i++) {
		const struct dpfix_ipfix_decode_stats *d = dpfix_ipfix_decoder_stats(sessions[i].decoder);
#define ADD(name, text) sum.name += d->name;
		DPFIX_IPFIX_DECODE_COUNTERS(ADD)
#undef ADD
	}
	printf("dpfix-collector: summary: sessions %u, flows %" PRIu64 ", packets %" PRIu64
			", octets %" PRIu64 "\n", session_count, totals.flow_records, totals.packets,
			totals.octets);
	printf("  %-24s %" PRIu64 "\n", "datagrams", totals.datagrams);
#define SHOW(name, text) printf("  %-24s %" PRIu64 "\n", #name, sum.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	if (sessions_refused)
		printf("  %-24s %" PRIu64 "\n", "sessions_refused", sessions_refused);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	const char *listen_url = NULL, *json_path = NULL;
	static uint8_t buf[65536];
	struct sigaction sa = {.sa_handler = on_signal};
	int fd;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_url = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json_path = argv[++i];
		} else if (strcmp(argv[i], "--quiet") == 0) {
			print_records = 0;
		} else {
			fprintf(stderr, "dpfix-collector: unknown or incomplete argument '%s'\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	if (listen_url == NULL) {
		fprintf(stderr, "dpfix-collector: --listen URL is required\n");
		usage(stderr);
		return 1;
	}
	if (json_path != NULL) {
		json_out = strcmp(json_path, "-") == 0 ? stdout : fopen(json_path, "w");
		if (json_out == NULL) {
			fprintf(stderr, "dpfix-collector: --json %s: %s\n", json_path, strerror(errno));
			return 1;
		}
	}
	fd = open_listener(listen_url);
	if (fd < 0)
		return 1;
	/* No SA_RESTART: poll() must return on a signal so shutdown is prompt. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "dpfix-collector: listening on %s\n", listen_url);

	while (!stop) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, 200) > 0)
			receive_one(fd, buf, sizeof(buf));
	}
	/* Drain what already arrived before the signal. */
	for (int i = 0; i < 100000; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, 0) <= 0)
			break;
		receive_one(fd, buf, sizeof(buf));
	}
	close(fd);
	print_summary();
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	for (unsigned int i = 0; i < session_count; i++)
		dpfix_ipfix_decoder_free(sessions[i].decoder);
	return 0;
}
