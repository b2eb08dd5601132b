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

/* One exporter's transport session, with its own templates and sequence state. */
struct session {
	struct dpfix_session *session;
	struct dpfix_ipfix_decoder *decoder;
	int error_reported;
};

struct totals {
	uint64_t flow_records;
	uint64_t options_records;
	uint64_t packets;
	uint64_t octets;
	uint64_t sessions_opened;
	uint64_t sessions_refused;   /* handshake or framing failures */
	uint64_t stream_messages[DPFIX_MAX_STREAMS];
};

static volatile sig_atomic_t stop;
static struct session sessions[MAX_SESSIONS];
static unsigned int session_count;
static struct dpfix_ipfix_decode_stats closed_stats; /* of sessions already closed */
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
	fprintf(out, "usage: dpfix-collector --listen URL [--listen URL ...] [options]\n\n"
		"Receives IPFIX and prints one line per record, then a summary when stopped\n"
		"with SIGINT or SIGTERM.\n"
		"  --listen URL        udp://, tcp://, sctp://, dtls+udp://, tls+tcp://, dtls+sctp://\n"
		"                      ADDR:PORT, e.g. tls+tcp://0.0.0.0:4740 or udp://[::]:4739\n"
		"  --json FILE         also write one JSON object per record, keyed by IE names (- = stdout)\n"
		"  --quiet             do not print records; only the summary\n"
		"  --psk-file FILE     (D)TLS pre-shared keys: identity:hexkey lines, mode 600\n"
		"  --cert FILE --key FILE --ca FILE [--crl FILE] [--peer-name NAME]\n"
		"                      (D)TLS with X.509 mutual authentication; NAME is what the\n"
		"                      exporters' certificates must carry (SAN, else CN)\n"
		"  --ciphers LIST      (D)TLS suites to accept (wolfSSL names joined by ':')\n"
		"  --mtu BYTES         path MTU for DTLS/UDP replies (default 1400)\n"
		"  --sctp-udp-port N   UDP port that carries SCTP (RFC 6951; default 9899)\n");
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

static void
add_decode_stats(struct dpfix_ipfix_decode_stats *sum, const struct dpfix_ipfix_decode_stats *d)
{
#define ADD(name, text) sum->name += d->name;
	DPFIX_IPFIX_DECODE_COUNTERS(ADD)
#undef ADD
}

static void
close_session(unsigned int i, const char *why)
{
	struct session *s = &sessions[i];
	const struct dpfix_session_stats *st = dpfix_session_stats(s->session);

	fprintf(stderr, "dpfix-collector: %s: %s after %" PRIu64 " messages\n",
			dpfix_session_name(s->session), why, st->messages_received);
	for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
		totals.stream_messages[k] += dpfix_session_stream_messages(s->session, k);
	add_decode_stats(&closed_stats, dpfix_ipfix_decoder_stats(s->decoder));
	dpfix_ipfix_decoder_free(s->decoder);
	dpfix_session_close(s->session);
	sessions[i] = sessions[--session_count];
}

static void
accept_sessions(struct dpfix_listener *l)
{
	struct dpfix_session *ds;

	dpfix_listener_poll(l);
	while ((ds = dpfix_listener_accept(l)) != NULL) {
		if (session_count == MAX_SESSIONS) {
			fprintf(stderr, "dpfix-collector: %s: refused, %d sessions already\n",
					dpfix_session_name(ds), MAX_SESSIONS);
			dpfix_session_close(ds);
			totals.sessions_refused++;
			continue;
		}
		sessions[session_count].session = ds;
		sessions[session_count].decoder = dpfix_ipfix_decoder_create();
		sessions[session_count].error_reported = 0;
		session_count++;
		totals.sessions_opened++;
		fprintf(stderr, "dpfix-collector: new session from %s\n", dpfix_session_name(ds));
	}
}

/* Reads what one session has; returns the number of messages, or -1 if it closed. */
static int
serve_session(unsigned int i, uint8_t *buf, size_t cap)
{
	struct session *s = &sessions[i];
	char err[DPFIX_SESSION_ERRLEN], derr[256];
	int messages = 0;

	while (messages < 64) {
		ssize_t n = dpfix_session_recv(s->session, buf, cap, err, sizeof(err));

		if (n == -EAGAIN)
			break;
		if (n == -EPIPE) {
			close_session(i, "closed by the exporter");
			return -1;
		}
		if (n < 0) {
			fprintf(stderr, "dpfix-collector: %s: %s\n", dpfix_session_name(s->session), err);
			totals.sessions_refused++;
			close_session(i, "closed");
			return -1;
		}
		messages++;
		if (dpfix_ipfix_decode(s->decoder, buf, (size_t)n, on_record, s, derr, sizeof(derr)) < 0 &&
				!s->error_reported) {
			/* Once per session: a broken exporter must not flood the log. */
			fprintf(stderr, "dpfix-collector: %s: malformed message (reported once per "
					"session): %s%s\n", dpfix_session_name(s->session), derr,
					n > 0 && buf[0] == 0x16 ? " - it looks like a DTLS handshake: is the "
					"exporter using dtls+udp://?" : "");
			s->error_reported = 1;
		}
	}
	return messages;
}

static void
print_summary(void)
{
	struct dpfix_ipfix_decode_stats sum = closed_stats;
	int used_streams = 0;

	for (unsigned int i = 0; i < session_count; i++) {
		add_decode_stats(&sum, dpfix_ipfix_decoder_stats(sessions[i].decoder));
		for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
			totals.stream_messages[k] += dpfix_session_stream_messages(sessions[i].session, k);
	}
	printf("dpfix-collector: summary: sessions %" PRIu64 ", flows %" PRIu64 ", packets %" PRIu64
			", octets %" PRIu64 "\n", totals.sessions_opened, totals.flow_records, totals.packets,
			totals.octets);
#define SHOW(name, text) printf("  %-24s %" PRIu64 "\n", #name, sum.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	printf("  %-24s %" PRIu64 "\n", "sessions_refused", totals.sessions_refused);
	/* Messages per SCTP stream, when streams other than 0 were used. */
	for (uint16_t k = 1; k < DPFIX_MAX_STREAMS; k++)
		used_streams |= totals.stream_messages[k] != 0;
	for (uint16_t k = 0; used_streams && k < DPFIX_MAX_STREAMS; k++)
		if (totals.stream_messages[k] != 0)
			printf("  stream_%-17u %" PRIu64 "\n", k, totals.stream_messages[k]);
	fflush(stdout);
}

#define MAX_LISTENERS 16

int
main(int argc, char **argv)
{
	const char *listen_urls[MAX_LISTENERS], *json_path = NULL;
	struct dpfix_listener *listeners[MAX_LISTENERS];
	struct dpfix_session_params params = {.mtu = 1400};
	struct dpfix_security_params *sec = &params.security;
	unsigned int nb_listen = 0;
	static uint8_t buf[65536];
	struct sigaction sa = {.sa_handler = on_signal};
	char err[DPFIX_SESSION_ERRLEN];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		struct {
			const char *flag;
			char *dst;
			size_t size;
		} strings[] = {
			{"--psk-file", sec->psk_file, sizeof(sec->psk_file)},
			{"--cert", sec->cert_file, sizeof(sec->cert_file)},
			{"--key", sec->key_file, sizeof(sec->key_file)},
			{"--ca", sec->ca_file, sizeof(sec->ca_file)},
			{"--crl", sec->crl_file, sizeof(sec->crl_file)},
			{"--peer-name", sec->peer_name, sizeof(sec->peer_name)},
			{"--ciphers", sec->ciphers, sizeof(sec->ciphers)},
		};
		int matched = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--quiet") == 0) {
			print_records = 0;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "dpfix-collector: unknown or incomplete argument '%s'\n", a);
			usage(stderr);
			return 1;
		}
		for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
			if (strcmp(a, strings[k].flag) == 0) {
				if (strlen(v) >= strings[k].size) {
					fprintf(stderr, "dpfix-collector: %s: value too long\n", a);
					return 1;
				}
				strcpy(strings[k].dst, v);
				matched = 1;
			}
		}
		if (matched) {
			i++;
		} else if (strcmp(a, "--listen") == 0 && nb_listen < MAX_LISTENERS) {
			listen_urls[nb_listen++] = v;
			i++;
		} else if (strcmp(a, "--json") == 0) {
			json_path = v;
			i++;
		} else if (strcmp(a, "--mtu") == 0 && atoi(v) >= 576 && atoi(v) <= 65535) {
			params.mtu = (uint32_t)atoi(v);
			i++;
		} else if (strcmp(a, "--sctp-udp-port") == 0 && atoi(v) >= 1 && atoi(v) <= 65535) {
			params.sctp_udp_port = (uint16_t)atoi(v);
			i++;
		} else {
			fprintf(stderr, "dpfix-collector: unknown or bad argument '%s %s'\n", a, v);
			usage(stderr);
			return 1;
		}
	}
	if (nb_listen == 0) {
		fprintf(stderr, "dpfix-collector: --listen URL is required\n");
		usage(stderr);
		return 1;
	}
	for (unsigned int i = 0; i < nb_listen; i++) {
		struct dpfix_endpoint ep;

		if (dpfix_endpoint_parse(listen_urls[i], &ep, err, sizeof(err)) < 0 ||
				(listeners[i] = dpfix_listener_open(&ep, &params, err, sizeof(err))) == NULL) {
			fprintf(stderr, "dpfix-collector: --listen %s: %s\n", listen_urls[i], err);
			return 1;
		}
	}
	if (json_path != NULL) {
		json_out = strcmp(json_path, "-") == 0 ? stdout : fopen(json_path, "w");
		if (json_out == NULL) {
			fprintf(stderr, "dpfix-collector: --json %s: %s\n", json_path, strerror(errno));
			return 1;
		}
	}
	/* No SA_RESTART: sleeps must end on a signal so shutdown is prompt. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < nb_listen; i++)
		fprintf(stderr, "dpfix-collector: listening on %s\n", listen_urls[i]);

	while (!stop) {
		int busy = 0;

		for (unsigned int i = 0; i < nb_listen; i++)
			accept_sessions(listeners[i]);
		for (unsigned int i = 0; i < session_count; i++) {
			int n = serve_session(i, buf, sizeof(buf));

			if (n < 0)
				i--; /* the last session moved into slot i */
			else
				busy += n;
		}
		if (!busy)
			usleep(1000);
	}
	/* Take what already arrived before the signal, then close in order. */
	for (int round = 0; round < 50; round++) {
		int busy = 0;

		for (unsigned int i = 0; i < nb_listen; i++)
			accept_sessions(listeners[i]);
		for (unsigned int i = 0; i < session_count; i++) {
			int n = serve_session(i, buf, sizeof(buf));

			if (n < 0)
				i--;
			else
				busy += n;
		}
		if (!busy)
			break;
	}
	print_summary();
	while (session_count > 0)
		close_session(session_count - 1, "closed at shutdown");
	for (unsigned int i = 0; i < nb_listen; i++)
		dpfix_listener_close(listeners[i]);
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	return 0;
}
