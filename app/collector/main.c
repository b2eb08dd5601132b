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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector_records.h"
#include "collector_sessions.h"
#include "collector_write.h"
#include "dpfix_config.h"
#include "dpfix_ipfix.h"
#include "dpfix_session.h"

#define FD_MARGIN 64         /* descriptors besides the sessions': listeners, files, stdio */
#define IDLE_WAKE_MS 100     /* (D)TLS handshake timers still run when nothing arrives */
#define CHECK_MS 1000        /* how often losses and sessions' times are looked at */
#define SHUTDOWN_DRAIN_MS 10000 /* at most this long reading what arrived before a stop */

static FILE *json_out;
static struct dpfix_ipfix_template_budget template_budget;

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
	uint32_t max_sessions;
	uint64_t first_message_timeout_ms;
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
		"UDP: seconds after which a template not sent again expires, RFC 7011 8.4, and a "
		"session that received nothing is closed (default 1800; 0: never)"),
	OPT("max_sessions", DPFIX_CONFIG_U32, max_sessions, 1, 1u << 20,
		"exporter sessions held at once (default 4096); when full, the one that has "
		"delivered no valid message for the longest makes room, else the newcomer is "
		"refused; each TCP, TLS or SCTP session holds a descriptor (RLIMIT_NOFILE is "
		"raised to fit, or this lowered)"),
	OPT("first_message_timeout", DPFIX_CONFIG_DURATION, first_message_timeout_ms, 0,
		86400ull * 1000, "close a session that has delivered no valid IPFIX message this "
		"long after it opened: an idle or half-done TCP/TLS connection, a source of junk "
		"datagrams (default 10; 0: never)"),
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

static int draining;           /* after a stop signal: a further one ends the reading */
static const char *second_signal;

static int
second_signal_came(void)
{
	return draining && (second_signal = stop_signal()) != NULL;
}

static int
serve_all(struct dpfix_listener **listeners, unsigned int nb_listen, uint8_t *buf, size_t cap)
{
	return collector_sessions_serve(listeners, nb_listen, buf, cap,
			draining ? second_signal_came : NULL);
}

/* After a round that found nothing: sleep until a listener or session has input, or a
 * signal comes, so an idle collector uses no CPU and a busy one wakes as soon as data
 * arrives. fds has room for the signalfd, the listeners and max_sessions sessions. */
static void
wait_for_input(struct pollfd *fds, struct dpfix_listener **listeners, unsigned int nb_listen)
{
	nfds_t n = 0;

	fds[n++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
	for (unsigned int i = 0; i < nb_listen; i++) {
		int fd = dpfix_listener_event_fd(listeners[i]);

		if (fd >= 0)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	n += collector_sessions_poll_fds(fds + n);
	poll(fds, n, IDLE_WAKE_MS);
}

/* Datagrams dropped before any session saw them (a full socket buffer, a full queue):
 * said when it happens, at most once a second per listener, with the count since the
 * last time. Sequence numbers cannot show a loss at the end of a stream. */
static void
report_listener_losses(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	static uint64_t said[DPFIX_CONFIG_LIST_MAX];

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
	uint64_t end = collector_now_ms() + SHUTDOWN_DRAIN_MS;

	fprintf(stderr, "dpfix-collector: %s: stopping; reading what is queued (at most %u s; a "
			"second signal stops at once)\n", signal_name, SHUTDOWN_DRAIN_MS / 1000);
	draining = 1;
	while (serve_all(listeners, nb_listen, buf, cap) > 0 || second_signal != NULL) {
		if (second_signal != NULL) {
			fprintf(stderr, "dpfix-collector: %s, a second signal: stopped reading\n",
					second_signal);
			break;
		}
		if (collector_now_ms() > end) {
			fprintf(stderr, "dpfix-collector: input still arriving %u ms after the stop "
					"signal: stopped reading\n", SHUTDOWN_DRAIN_MS);
			break;
		}
	}
	for (unsigned int i = 0; i < nb_listen; i++)
		dpfix_listener_discard(listeners[i]);
}

/* What is checked by the clock: losses to report, sessions past their time. */
static void
once_a_second(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	static uint64_t next_check_ms;
	uint64_t now = collector_now_ms();

	if (now < next_check_ms)
		return;
	next_check_ms = now + CHECK_MS;
	report_listener_losses(listeners, nb_listen);
	collector_sessions_expire();
}

static void
print_summary(struct dpfix_listener **listeners, unsigned int nb_listen)
{
	const struct collector_record_totals *rt = collector_records_totals();
	const struct collector_session_stats *ss = collector_sessions_stats();
	struct dpfix_listener_stats lost = {0};
	struct dpfix_ipfix_decode_stats sum;
	uint64_t streams[DPFIX_MAX_STREAMS];
	int used_streams = 0;

	collector_sessions_decode_stats(&sum, streams);
	printf("dpfix-collector: summary: sessions %" PRIu64 ", flows %" PRIu64 ", packets %" PRIu64
			", octets %" PRIu64 "\n", ss->sessions_opened, rt->flow_records, rt->packets,
			rt->octets);
#define SHOW(name, text) printf("  %-28s %" PRIu64 "\n", #name, sum.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++)
		if (sum.malformed[r] != 0)
			printf("    malformed_%-18s %" PRIu64 "  (%s)\n", dpfix_ipfix_malformed_name(r),
					sum.malformed[r], dpfix_ipfix_malformed_text(r));
#define SHOW(name, text) printf("  %-28s %" PRIu64 "\n", #name, ss->name);
	COLLECTOR_SESSION_COUNTERS(SHOW)
#undef SHOW
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
		used_streams |= streams[k] != 0;
	for (uint16_t k = 0; used_streams && k < DPFIX_MAX_STREAMS; k++)
		if (streams[k] != 0)
			printf("  stream_%-21u %" PRIu64 "\n", k, streams[k]);
	fflush(stdout);
}

/* Each TCP, TLS and SCTP session holds a descriptor: max_sessions must fit under
 * RLIMIT_NOFILE. The soft limit is raised to what is needed (up to the hard limit);
 * past that, max_sessions is lowered, and said. */
static uint32_t
fit_descriptors(uint32_t max_sessions)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)max_sessions + FD_MARGIN;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return max_sessions;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return max_sessions;
	fprintf(stderr, "dpfix-collector: warning: max_sessions %u needs %llu descriptors, "
			"RLIMIT_NOFILE allows %llu (raise it with ulimit -n): at most %llu sessions\n",
			max_sessions, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
			(unsigned long long)(rl.rlim_cur - FD_MARGIN));
	return (uint32_t)(rl.rlim_cur - FD_MARGIN);
}

int
main(int argc, char **argv)
{
	static struct collector_settings cfg = {
		.mtu = 1400, .sctp_udp_port = 9899, .template_lifetime_s = 1800,
		.template_memory = 64u << 20, .max_sessions = 4096,
		.first_message_timeout_ms = 10000,
		.udp_receive_buffer = DPFIX_UDP_RECEIVE_BUFFER,
	};
	struct dpfix_listener *listeners[DPFIX_CONFIG_LIST_MAX];
	struct dpfix_session_params params;
	unsigned int nb_listen;
	static uint8_t buf[65536];
	char err[DPFIX_CONFIG_ERRLEN];
	const char *signal_name = NULL;
	uint64_t unread_before_stop;
	struct pollfd *fds;
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
	template_budget.limit_bytes = cfg.template_memory;
	cfg.max_sessions = fit_descriptors(cfg.max_sessions);
	fds = calloc(1 + DPFIX_CONFIG_LIST_MAX + cfg.max_sessions, sizeof(fds[0]));
	if (fds == NULL || collector_sessions_init(&(struct collector_session_limits){
			.max_sessions = cfg.max_sessions,
			.first_message_timeout_ms = cfg.first_message_timeout_ms,
			.template_lifetime_s = cfg.template_lifetime_s, .budget = &template_budget}) < 0) {
		fprintf(stderr, "dpfix-collector: out of memory for %u sessions\n", cfg.max_sessions);
		return 1;
	}
	params = (struct dpfix_session_params){
		.mtu = cfg.mtu, .sctp_udp_port = (uint16_t)cfg.sctp_udp_port, .security = cfg.security,
		.udp_receive_buffer = cfg.udp_receive_buffer, .max_sessions = cfg.max_sessions,
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
	collector_records_setup(!cfg.quiet, json_out);
	if (cfg.write[0] != '\0' && collector_write_open(&(struct collector_write_params){
			.path = cfg.write, .rotate_bytes = cfg.write_rotate_size,
			.rotate_interval_ms = cfg.write_rotate_interval_ms,
			.details = cfg.write_details}) < 0)
		return 1;
	for (unsigned int i = 0; i < nb_listen; i++)
		fprintf(stderr, "dpfix-collector: listening on %s\n", cfg.listen.items[i]);

	while ((signal_name = stop_signal()) == NULL) {
		if (serve_all(listeners, nb_listen, buf, sizeof(buf)) == 0) {
			collector_records_flush();
			wait_for_input(fds, listeners, nb_listen);
		}
		collector_write_tick();
		once_a_second(listeners, nb_listen);
	}
	unread_before_stop = unread_drops(listeners, nb_listen);
	drain(listeners, nb_listen, buf, sizeof(buf), signal_name);
	/* Sessions close before the summary so that what their queues held is in it. */
	collector_sessions_close_all("closed at shutdown");
	collector_write_close();
	print_summary(listeners, nb_listen);
	/* 2: the collector itself lost what it had received: a stop that did not wait for
	 * it, or a --write that failed. */
	ret = unread_drops(listeners, nb_listen) > unread_before_stop || collector_write_lost() != 0 ?
			2 : 0;
	for (unsigned int i = 0; i < nb_listen; i++)
		dpfix_listener_close(listeners[i]);
	if (json_out != NULL && json_out != stdout)
		fclose(json_out);
	free(fds);
	return ret;
}
