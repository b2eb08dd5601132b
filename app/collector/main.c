/* dpfix-collector: receives IPFIX, keeps templates and sequence numbers per transport
 * session, prints each record, optionally writes JSON, and summarises at exit. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector_write.h"
#include "dpfix_config.h"
#include "dpfix_ipfix.h"
#include "dpfix_session.h"

#define MAX_SESSIONS 256
#define IDLE_WAKE_MS 100     /* (D)TLS handshake timers still run when nothing arrives */
#define LOSS_CHECK_MS 1000   /* how often the listeners' drop counters are looked at */
#define SHUTDOWN_DRAIN_MS 10000 /* at most this long reading what arrived before a stop */

/* One exporter's transport session, with its own templates and sequence state. */
struct session {
	struct dpfix_session *session;
	struct dpfix_ipfix_decoder *decoder;
	const char *transport;      /* its listener's: udp, tcp or sctp */
	int error_reported;
	int warning_reported;
	int loss_reported;
};

/* Records a session's sequence numbers say are missing: lost, net of late messages
 * that filled a gap (RFC 7011 10.3.2). */
static uint64_t
records_missing(const struct dpfix_ipfix_decode_stats *st)
{
	return st->sequence_lost - st->sequence_recovered;
}

struct totals {
	uint64_t flow_records;
	uint64_t options_records;
	uint64_t packets;
	uint64_t octets;
	uint64_t sessions_opened;
	uint64_t sessions_refused;   /* handshake or framing failures */
	uint64_t stream_messages[DPFIX_MAX_STREAMS];
};

static struct session sessions[MAX_SESSIONS];
static unsigned int session_count;
static struct dpfix_ipfix_decode_stats closed_stats; /* of sessions already closed */
static struct totals totals;
static FILE *json_out;
static int print_records = 1;

/* SIGINT and SIGTERM are read from a signalfd that is in the poll set, never taken by a
 * handler. A handler interrupted whatever system call was running: a write() of printed
 * records to a full pipe or terminal returned EINTR and stdio dropped its buffer (4 KB
 * of records gone without a word), and a signal that came between the loop's look at
 * its flag and poll() waited for poll's timeout. Blocked from main's first line, a
 * signal during start-up waits for the loop instead of being lost (a script's
 * background job starts with SIGINT ignored) or killing the collector mid-way. */
static int signal_fd = -1;

static int
signals_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return signal_fd < 0 ? -errno : 0;
}

/* The name of a stop signal that came since the last call, or NULL. */
static const char *
stop_signal(void)
{
	struct signalfd_siginfo si;

	if (read(signal_fd, &si, sizeof(si)) != sizeof(si))
		return NULL;
	return si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
}

/* Everything the collector is told, from --config FILE and the command line. */
struct collector_settings {
	struct dpfix_config_list listen;
	struct dpfix_config_list elements;
	char json[DPFIX_PATH_LEN];
	char write[DPFIX_PATH_LEN];
	uint32_t write_rotate_size;
	uint64_t write_rotate_interval_ms;
	int write_details;
	int quiet;
	uint32_t mtu;
	uint32_t udp_receive_buffer;
	uint32_t sctp_udp_port;
	uint32_t template_lifetime_s;
	uint32_t template_memory;
	struct dpfix_security_params security;
};

#define OPT(key, type, field, min, max, help) \
	DPFIX_CONFIG_OPTION(struct collector_settings, key, type, field, min, max, help)

static const struct dpfix_config_option collector_options[] = {
	OPT("listen", DPFIX_CONFIG_LIST, listen, 0, 0,
		"where to receive: SCHEME://ADDR:PORT, SCHEME one of udp, tcp, sctp, dtls+udp, "
		"tls+tcp, dtls+sctp (e.g. tls+tcp://0.0.0.0:4740, udp://[::]:4739)"),
	OPT("json", DPFIX_CONFIG_STRING, json, 0, 0,
		"also write one JSON object per record, keyed by IE names (- = stdout)"),
	OPT("write", DPFIX_CONFIG_STRING, write, 0, 0,
		"also store what is received as an RFC 5655 IPFIX file (with rotation: FILE with "
		"-YYYYMMDDTHHMMSSZ-NNNN before its extension)"),
	OPT("write_rotate_size", DPFIX_CONFIG_U32, write_rotate_size, 0, UINT32_MAX,
		"start a new file before one grows past this many bytes (default 0: never)"),
	OPT("write_rotate_interval", DPFIX_CONFIG_DURATION, write_rotate_interval_ms, 0,
		366ull * 86400 * 1000, "start a new file at each multiple of this many seconds of "
		"UTC time (default 0: never)"),
	OPT("write_details", DPFIX_CONFIG_BOOL, write_details, 0, 1,
		"--write: RFC 5655 Message Details with each stored message (reception time, "
		"exporter and collector address and port, transport) and Export Session Details "
		"per session at the end of each file"),
	OPT("quiet", DPFIX_CONFIG_BOOL, quiet, 0, 1, "do not print records; only the summary"),
	OPT("elements", DPFIX_CONFIG_LIST, elements, 0, 0,
		"enterprise information elements to decode by name and type: a file of "
		"'PEN, ElementID, Name, type[, semantics, units, range, reversible]' lines "
		"(doc/information-elements.md)"),
	OPT("psk_file", DPFIX_CONFIG_STRING, security.psk_file, 0, 0,
		"(D)TLS pre-shared keys: identity:hexkey lines, mode 600"),
	OPT("cert", DPFIX_CONFIG_STRING, security.cert_file, 0, 0,
		"(D)TLS with X.509: this collector's certificate chain (PEM)"),
	OPT("key", DPFIX_CONFIG_STRING, security.key_file, 0, 0, "its private key (PEM)"),
	OPT("ca", DPFIX_CONFIG_STRING, security.ca_file, 0, 0,
		"CA certificates that sign the exporters' certificates (PEM)"),
	OPT("crl", DPFIX_CONFIG_STRING, security.crl_file, 0, 0, "optional CRL (PEM)"),
	OPT("peer_name", DPFIX_CONFIG_STRING, security.peer_name, 0, 0,
		"name the exporters' certificates must carry (SAN, else CN)"),
	OPT("ciphers", DPFIX_CONFIG_STRING, security.ciphers, 0, 0,
		"(D)TLS suites to accept, wolfSSL names joined by ':'"),
	OPT("mtu", DPFIX_CONFIG_U32, mtu, 576, 65535, "path MTU for DTLS/UDP replies (default 1400)"),
	OPT("udp_receive_buffer", DPFIX_CONFIG_U32, udp_receive_buffer, 4096, 1u << 30,
		"UDP and DTLS/UDP listeners: socket receive buffer in bytes, what a burst the "
		"collector falls behind on may fill before datagrams are dropped (default "
		"16777216; beyond net.core.rmem_max only with CAP_NET_ADMIN, warned otherwise)"),
	OPT("sctp_udp_port", DPFIX_CONFIG_U32, sctp_udp_port, 1, 65535,
		"UDP port that carries SCTP, RFC 6951 (default 9899)"),
	OPT("template_lifetime", DPFIX_CONFIG_U32, template_lifetime_s, 0, 86400,
		"UDP: seconds after which a template not sent again expires, RFC 7011 8.4 "
		"(default 1800; 0: never)"),
	OPT("template_memory", DPFIX_CONFIG_U32, template_memory, 0, UINT32_MAX,
		"bytes of templates the sessions may hold together beyond the 64 KiB each may "
		"always hold (a template takes about 48 bytes and 8 a field); past it a new "
		"template is refused, counted and said (default 67108864; 0: no limit)"),
	{NULL, 0, 0, 0, 0, 0, NULL},
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: dpfix-collector [--config FILE] --listen URL [--listen URL ...] "
		"[options]\n\n"
		"Receives IPFIX and prints one line per record, then a summary when stopped\n"
		"with SIGINT or SIGTERM. Options on the command line override the config file,\n"
		"whose keys are the same names with '_' (\"listen = tcp://0.0.0.0:4739\").\n\n");
	dpfix_config_print_help(collector_options, out);
}

/* Where the packet and octet counters (the summary's totals) lie in the records of the
 * data set being decoded, worked out once per set instead of once per record: a set's
 * records follow one another (each starts where the previous one ended), and a
 * template can change only in a set of its own, between data sets. A layout with
 * variable-length fields differs per record; the first occurrence of each counter in
 * a template is the one counted. Forgotten before each message. */
static struct {
	const uint8_t *next;    /* where the set's next record would start; NULL: unknown */
	uint32_t packets_at, octets_at;
	uint16_t packets_len, octets_len; /* 0: the template has no such field */
} counters;

static void
locate_counters(const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];

	memset(&counters, 0, sizeof(counters));
	if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) < 0)
		return;
	for (uint16_t i = t->field_count; i-- > 0;) {
		if (t->fields[i].pen != 0)
			continue;
		if (t->fields[i].id == IE_packetDeltaCount) {
			counters.packets_at = offsets[i];
			counters.packets_len = lengths[i];
		} else if (t->fields[i].id == IE_octetDeltaCount) {
			counters.octets_at = offsets[i];
			counters.octets_len = lengths[i];
		}
	}
}

static void
add_counts(const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	if (rec != counters.next)
		locate_counters(t, rec, len);
	totals.packets += dpfix_ipfix_read_unsigned(rec + counters.packets_at, counters.packets_len);
	totals.octets += dpfix_ipfix_read_unsigned(rec + counters.octets_at, counters.octets_len);
	counters.next = t->varlen_count == 0 ? rec + len : NULL;
}

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	(void)h;

	if (t->scope_count != 0) {
		totals.options_records++;
	} else {
		totals.flow_records++;
		add_counts(t, rec, len);
	}
	if (print_records) {
		/* Options records say so, and how many leading fields are their scope. */
		if (t->scope_count != 0)
			printf("options %u (scope %u): ", t->id, t->scope_count);
		dpfix_ipfix_record_to_text(t, rec, len, stdout);
	}
	if (json_out != NULL)
		dpfix_ipfix_record_to_json(t, rec, len, json_out);
}

static void
close_session(unsigned int i, const char *why)
{
	struct session *s = &sessions[i];
	const struct dpfix_session_stats *st = dpfix_session_stats(s->session);

	fprintf(stderr, "dpfix-collector: %s: %s after %" PRIu64 " messages, %" PRIu64
			" records missing by sequence number\n", dpfix_session_name(s->session), why,
			st->messages_received, records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
	for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
		totals.stream_messages[k] += dpfix_session_stream_messages(s->session, k);
	dpfix_ipfix_decode_stats_add(&closed_stats, dpfix_ipfix_decoder_stats(s->decoder));
	dpfix_ipfix_decoder_free(s->decoder);
	collector_write_session_closed(s->session);
	dpfix_session_close(s->session);
	sessions[i] = sessions[--session_count];
}

static uint32_t template_lifetime_s;
static struct dpfix_ipfix_template_budget template_budget;

static void
accept_sessions(struct dpfix_listener *l)
{
	struct dpfix_session *ds;

	dpfix_listener_poll(l);
	while ((ds = dpfix_listener_accept(l)) != NULL) {
		/* The template rules follow the session's transport (RFC 7011 8). */
		struct dpfix_ipfix_decoder_params dp = {
			.transport = dpfix_ipfix_transport_of_protocol(
					dpfix_session_endpoint(ds)->ip_protocol),
			.template_lifetime_s = template_lifetime_s,
			.budget = &template_budget,
		};

		if (session_count == MAX_SESSIONS) {
			fprintf(stderr, "dpfix-collector: %s: refused, %d sessions already\n",
					dpfix_session_name(ds), MAX_SESSIONS);
			dpfix_session_close(ds);
			totals.sessions_refused++;
			continue;
		}
		sessions[session_count].session = ds;
		sessions[session_count].decoder = dpfix_ipfix_decoder_create_params(&dp);
		if (sessions[session_count].decoder == NULL) {
			fprintf(stderr, "dpfix-collector: %s: refused, out of memory\n",
					dpfix_session_name(ds));
			dpfix_session_close(ds);
			totals.sessions_refused++;
			continue;
		}
		sessions[session_count].transport = dpfix_listener_endpoint(l)->transport;
		sessions[session_count].error_reported = 0;
		sessions[session_count].warning_reported = 0;
		sessions[session_count].loss_reported = 0;
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
	int messages = 0, ret;

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
		dpfix_ipfix_decoder_set_time(s->decoder, (uint64_t)time(NULL));
		counters.next = NULL;
		ret = dpfix_ipfix_decode(s->decoder, buf, (size_t)n, on_record, s, derr, sizeof(derr));
		collector_write_message(s->session, buf, (size_t)n);
		if (ret == DPFIX_IPFIX_DECODE_WARNING && !s->warning_reported) {
			/* Template rule broken (counted in the summary); once per session too. */
			fprintf(stderr, "dpfix-collector: %s: template error (reported once per "
					"session): %s\n", dpfix_session_name(s->session), derr);
			s->warning_reported = 1;
		}
		if (!s->loss_reported && records_missing(dpfix_ipfix_decoder_stats(s->decoder)) != 0) {
			/* Said when it starts; its close line and the summary give the count. */
			fprintf(stderr, "dpfix-collector: %s: records missing by sequence number (reported "
					"once per session): %" PRIu64 " so far\n", dpfix_session_name(s->session),
					records_missing(dpfix_ipfix_decoder_stats(s->decoder)));
			s->loss_reported = 1;
		}
		if (ret < 0 && !s->error_reported) {
			char hint[96] = "";

			if (n > 0 && buf[0] == 0x16)
				snprintf(hint, sizeof(hint), " - it looks like a DTLS handshake: is the "
						"exporter using dtls+%s://?", s->transport);
			/* Once per session: a broken exporter must not flood the log. */
			fprintf(stderr, "dpfix-collector: %s: malformed message (reported once per "
					"session): %s%s\n", dpfix_session_name(s->session), derr, hint);
			s->error_reported = 1;
		}
	}
	return messages;
}

/* One round: new sessions from every listener, then what each session has.
 * Returns the number of messages handled. */
static const char *second_signal; /* while draining: a further stop signal came */
static int draining;

static int
serve_all(struct dpfix_listener **listeners, unsigned int nb_listen, uint8_t *buf, size_t cap)
{
	int busy = 0;

	for (unsigned int i = 0; i < nb_listen; i++)
		accept_sessions(listeners[i]);
	for (unsigned int i = 0; i < session_count; i++) {
		int n;

		/* A round may take long when its output is slow: the second signal is looked
		 * for between sessions. */
		if (draining && (second_signal = stop_signal()) != NULL)
			return 0;
		n = serve_session(i, buf, cap);

		if (n < 0)
			i--; /* the last session moved into slot i */
		else
			busy += n;
	}
	return busy;
}

/* After a round that found nothing: sleep until a listener or session has input, so an
 * idle collector uses no CPU and a busy one wakes as soon as data arrives. */
static void
wait_for_input(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	static struct pollfd fds[1 + DPFIX_CONFIG_LIST_MAX + MAX_SESSIONS];
	nfds_t n = 0;

	fds[n++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};

	for (unsigned int i = 0; i < nb_listen + session_count; i++) {
		int fd = i < nb_listen ? dpfix_listener_event_fd(listeners[i]) :
				dpfix_session_event_fd(sessions[i - nb_listen].session);

		if (fd >= 0)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	poll(fds, n, IDLE_WAKE_MS);
}

/* Nothing left to read: the records decoded so far go out now, so whoever reads them (a
 * pipe, a test waiting for a count) sees each message's records without waiting for a
 * full stdio buffer. A write only when the collector runs out of input. */
static void
flush_records(void)
{
	fflush(stdout);
	if (json_out != NULL)
		fflush(json_out);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Datagrams dropped before any session saw them (a full socket buffer, a full queue):
 * said when it happens, at most once a second per listener, with the count since the
 * last time. Sequence numbers cannot show a loss at the end of a stream. */
static void
report_listener_losses(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	static uint64_t said[DPFIX_CONFIG_LIST_MAX], next_check_ms;
	uint64_t now = now_ms();

	if (now < next_check_ms)
		return;
	next_check_ms = now + LOSS_CHECK_MS;
	for (unsigned int i = 0; i < nb_listen; i++) {
		struct dpfix_listener_stats st;
		const struct dpfix_endpoint *ep = dpfix_listener_endpoint(listeners[i]);
		uint64_t total;

		dpfix_listener_stats(listeners[i], &st);
		total = st.socket_drops + st.queue_drops + st.peer_drops;
		if (total == said[i])
			continue;
		fprintf(stderr, "dpfix-collector: %s://%s:%u: %" PRIu64 " datagrams lost before "
				"decoding (%" PRIu64 " in all: socket buffer full %" PRIu64 ", exporter queue "
				"full %" PRIu64 ", too many exporters %" PRIu64 "): the collector is not keeping "
				"up\n", ep->scheme, ep->host, ep->port, total - said[i], total, st.socket_drops,
				st.queue_drops, st.peer_drops);
		said[i] = total;
	}
}

/* Datagrams dropped unread by the listeners so far (closed sessions' queues, a stop). */
static uint64_t
unread_drops(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < nb_listen; i++) {
		struct dpfix_listener_stats st;

		dpfix_listener_stats(listeners[i], &st);
		sum += st.unread_drops;
	}
	return sum;
}

/* After a stop signal: what arrived before it (a large socket buffer holds seconds of
 * export) is read and decoded, for at most SHUTDOWN_DRAIN_MS, as an exporter may never
 * stop sending; a second signal ends it at once. What the listeners still hold then
 * is dropped and counted. */
static void
drain(struct dpfix_listener **listeners, unsigned int nb_listen, uint8_t *buf, size_t cap,
		const char *signal_name)
{
	uint64_t end = now_ms() + SHUTDOWN_DRAIN_MS;

	fprintf(stderr, "dpfix-collector: %s: stopping; reading what is queued (at most %u s; a "
			"second signal stops at once)\n", signal_name, SHUTDOWN_DRAIN_MS / 1000);
	draining = 1;
	while (serve_all(listeners, nb_listen, buf, cap) > 0 || second_signal != NULL) {
		if (second_signal != NULL) {
			fprintf(stderr, "dpfix-collector: %s, a second signal: stopped reading\n",
					second_signal);
			break;
		}
		if (now_ms() > end) {
			fprintf(stderr, "dpfix-collector: input still arriving %u ms after the stop "
					"signal: stopped reading\n", SHUTDOWN_DRAIN_MS);
			break;
		}
	}
	for (unsigned int i = 0; i < nb_listen; i++)
		dpfix_listener_discard(listeners[i]);
}

static void
print_summary(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	struct dpfix_listener_stats lost = {0};
	struct dpfix_ipfix_decode_stats sum = closed_stats;
	int used_streams = 0;

	for (unsigned int i = 0; i < session_count; i++) {
		dpfix_ipfix_decode_stats_add(&sum, dpfix_ipfix_decoder_stats(sessions[i].decoder));
		for (uint16_t k = 0; k < DPFIX_MAX_STREAMS; k++)
			totals.stream_messages[k] += dpfix_session_stream_messages(sessions[i].session, k);
	}
	printf("dpfix-collector: summary: sessions %" PRIu64 ", flows %" PRIu64 ", packets %" PRIu64
			", octets %" PRIu64 "\n", totals.sessions_opened, totals.flow_records, totals.packets,
			totals.octets);
#define SHOW(name, text) printf("  %-28s %" PRIu64 "\n", #name, sum.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++)
		if (sum.malformed[r] != 0)
			printf("    malformed_%-18s %" PRIu64 "  (%s)\n", dpfix_ipfix_malformed_name(r),
					sum.malformed[r], dpfix_ipfix_malformed_text(r));
	printf("  %-28s %" PRIu64 "\n", "sessions_refused", totals.sessions_refused);
	printf("  %-28s %" PRIu64 "\n", "template_bytes_peak", template_budget.peak_bytes);
	for (unsigned int i = 0; i < nb_listen; i++) {
		struct dpfix_listener_stats st;

		dpfix_listener_stats(listeners[i], &st);
#define ADD(name, text) lost.name += st.name;
		DPFIX_LISTENER_COUNTERS(ADD)
#undef ADD
	}
#define SHOW(name, text) printf("  %-28s %" PRIu64 "\n", #name, lost.name);
	DPFIX_LISTENER_COUNTERS(SHOW)
#undef SHOW
	collector_write_print_summary(stdout);
	/* Messages per SCTP stream, when streams other than 0 were used. */
	for (uint16_t k = 1; k < DPFIX_MAX_STREAMS; k++)
		used_streams |= totals.stream_messages[k] != 0;
	for (uint16_t k = 0; used_streams && k < DPFIX_MAX_STREAMS; k++)
		if (totals.stream_messages[k] != 0)
			printf("  stream_%-21u %" PRIu64 "\n", k, totals.stream_messages[k]);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static struct collector_settings cfg = {
		.mtu = 1400, .sctp_udp_port = 9899, .template_lifetime_s = 1800,
		.template_memory = 64u << 20,
		.udp_receive_buffer = DPFIX_UDP_RECEIVE_BUFFER,
	};
	struct dpfix_listener *listeners[DPFIX_CONFIG_LIST_MAX];
	struct dpfix_session_params params;
	unsigned int nb_listen;
	static uint8_t buf[65536];
	char err[DPFIX_CONFIG_ERRLEN];
	const char *signal_name = NULL;
	uint64_t unread_before_stop;
	int ret;

	if (signals_open() < 0) {
		fprintf(stderr, "dpfix-collector: signalfd: %s\n", strerror(errno));
		return 1;
	}
	ret = dpfix_config_from_args(collector_options, &cfg, argc - 1, argv + 1, err, sizeof(err));
	if (ret == 1) {
		usage(stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "dpfix-collector: %s\n", err);
		return 1;
	}
	if (cfg.listen.count == 0) {
		fprintf(stderr, "dpfix-collector: --listen URL is required\n");
		usage(stderr);
		return 1;
	}
	for (unsigned int i = 0; i < cfg.elements.count; i++) {
		ret = dpfix_ipfix_ie_load(cfg.elements.items[i], err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "dpfix-collector: --elements %s\n", err);
			return 1;
		}
		fprintf(stderr, "dpfix-collector: %d enterprise elements from %s\n", ret,
				cfg.elements.items[i]);
	}
	print_records = !cfg.quiet;
	template_lifetime_s = cfg.template_lifetime_s;
	template_budget.limit_bytes = cfg.template_memory;
	params = (struct dpfix_session_params){
		.mtu = cfg.mtu, .sctp_udp_port = (uint16_t)cfg.sctp_udp_port, .security = cfg.security,
		.udp_receive_buffer = cfg.udp_receive_buffer,
	};
	nb_listen = cfg.listen.count;
	for (unsigned int i = 0; i < nb_listen; i++) {
		struct dpfix_endpoint ep;

		if (dpfix_endpoint_parse(cfg.listen.items[i], &ep, err, sizeof(err)) < 0 ||
				(listeners[i] = dpfix_listener_open(&ep, &params, err, sizeof(err))) == NULL) {
			fprintf(stderr, "dpfix-collector: --listen %s: %s\n", cfg.listen.items[i], err);
			return 1;
		}
	}
	if (cfg.json[0] != '\0') {
		json_out = strcmp(cfg.json, "-") == 0 ? stdout : fopen(cfg.json, "w");
		if (json_out == NULL) {
			fprintf(stderr, "dpfix-collector: --json %s: %s\n", cfg.json, strerror(errno));
			return 1;
		}
	}
	if (cfg.write[0] != '\0' && collector_write_open(&(struct collector_write_params){
			.path = cfg.write, .rotate_bytes = cfg.write_rotate_size,
			.rotate_interval_ms = cfg.write_rotate_interval_ms,
			.details = cfg.write_details}) < 0)
		return 1;
	for (unsigned int i = 0; i < nb_listen; i++)
		fprintf(stderr, "dpfix-collector: listening on %s\n", cfg.listen.items[i]);

	while ((signal_name = stop_signal()) == NULL) {
		if (serve_all(listeners, nb_listen, buf, sizeof(buf)) == 0) {
			flush_records();
			wait_for_input(listeners, nb_listen);
		}
		collector_write_tick();
		report_listener_losses(listeners, nb_listen);
	}
	unread_before_stop = unread_drops(listeners, nb_listen);
	drain(listeners, nb_listen, buf, sizeof(buf), signal_name);
	/* Sessions close before the summary so that what their queues held is in it. */
	while (session_count > 0)
		close_session(session_count - 1, "closed at shutdown");
	collector_write_close();
	print_summary(listeners, nb_listen);
	/* 2: the collector itself dropped what it had received (a stop that did not wait). */
	ret = unread_drops(listeners, nb_listen) > unread_before_stop ? 2 : 0;
	for (unsigned int i = 0; i < nb_listen; i++)
		dpfix_listener_close(listeners[i]);
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	return ret;
}
