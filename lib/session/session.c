/* Sessions: the transport driver registry, endpoint URLs, and whole-IPFIX-message
 * send and receive over any transport, with or without (D)TLS. On byte streams
 * (TCP, TLS) messages are framed by the IPFIX header's length field. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_clock.h"
#include "dpfix_ipfix_file.h"
#include "dpfix_transport.h"
#include "session_log.h"
#include "session_private.h"
#include "session_tls.h"

#define MAX_TRANSPORTS 8
#define CONFIRM_WAIT_MS 3000         /* TLS 1.3: for the collector's verdict on our certificate */
#define RX_FIRST 16384                /* a stream's receive buffer at first ... */
#define RX_MAX (2 * DPFIX_IPFIX_MAX_MESSAGE) /* ... and at most: a message and the next's start */
#define DTLS_RECORD_OVERHEAD 96      /* header 13 + explicit IV/nonce + MAC/tag + padding */

struct dpfix_listener {
	const struct dpfix_transport_ops *ops;
	void *state;
	struct dpfix_endpoint endpoint;
	struct dpfix_session_params params;
	struct tls_ctx *ctx;
};

static const struct dpfix_transport_ops *transports[MAX_TRANSPORTS];
static unsigned int transport_count;
static void (*logger)(enum dpfix_log_level level, const char *msg);

void
dpfix_session_set_logger(void (*fn)(enum dpfix_log_level level, const char *msg))
{
	logger = fn;
}

/* To the program's hook if it set one (the probe: its DPDK log type), else to the
 * programs' logger (lib/log). */
void
dpfix_session_log(enum dpfix_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpfix_log_via(logger, level, "", fmt, ap);
	va_end(ap);
}
void
dpfix_transport_register(const struct dpfix_transport_ops *ops)
{
	if (transport_count < MAX_TRANSPORTS)
		transports[transport_count++] = ops;
}

const struct dpfix_transport_ops *
dpfix_transport_find(const char *name)
{
	for (unsigned int i = 0; i < transport_count; i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

/* The schemes are those of the drivers this program was linked with: each transport
 * plain (its name) and with (D)TLS (its secure_scheme). */
static int
parse_scheme(struct dpfix_endpoint *ep, const char *url, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < transport_count; i++) {
		const struct dpfix_transport_ops *t = transports[i];
		int plain = strcmp(ep->scheme, t->name) == 0;

		if (!plain && (t->secure_scheme == NULL || strcmp(ep->scheme, t->secure_scheme) != 0))
			continue;
		snprintf(ep->transport, sizeof(ep->transport), "%s", t->name);
		ep->ip_protocol = t->ip_protocol;
		ep->security = plain ? DPFIX_SECURITY_NONE : strncmp(ep->scheme, "dtls+", 5) == 0 ?
				DPFIX_SECURITY_DTLS : DPFIX_SECURITY_TLS;
		return 0;
	}
	snprintf(err, errlen, "'%s': transport '%s' is not available in this build (%s)", url,
			ep->scheme, dpfix_session_schemes());
	return -EINVAL;
}

const char *
dpfix_session_schemes(void)
{
	static char list[160];
	size_t n = 0;

	list[0] = '\0';
	for (int secure = 0; secure <= 1; secure++)
		for (unsigned int i = 0; i < transport_count && n < sizeof(list); i++) {
			const char *name = secure ? transports[i]->secure_scheme : transports[i]->name;

			if (name != NULL)
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", name);
		}
	return list;
}

int
dpfix_endpoint_parse(const char *url, struct dpfix_endpoint *ep, char *err, size_t errlen)
{
	const char *sep = strstr(url, "://"), *host, *colon;
	size_t scheme_len, host_len;
	char *end;
	unsigned long port;

	memset(ep, 0, sizeof(*ep));
	if (sep == NULL) {
		snprintf(err, errlen, "'%s' is not SCHEME://HOST:PORT", url);
		return -EINVAL;
	}
	scheme_len = (size_t)(sep - url);
	if (scheme_len == 0 || scheme_len >= sizeof(ep->scheme)) {
		snprintf(err, errlen, "'%s': missing or unknown scheme", url);
		return -EINVAL;
	}
	memcpy(ep->scheme, url, scheme_len);
	host = sep + 3;
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "'%s': IPv6 address needs [ADDR]:PORT", url);
			return -EINVAL;
		}
		host++;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(host, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "'%s': missing :PORT", url);
			return -EINVAL;
		}
		host_len = (size_t)(colon - host);
	}
	if (host_len == 0 || host_len >= sizeof(ep->host)) {
		snprintf(err, errlen, "'%s': missing or overlong host", url);
		return -EINVAL;
	}
	memcpy(ep->host, host, host_len);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 ||
			port > 65535) {
		snprintf(err, errlen, "'%s': port '%s' is not in 1..65535", url, colon + 1);
		return -EINVAL;
	}
	ep->port = (uint16_t)port;
	return parse_scheme(ep, url, err, errlen);
}

uint64_t
session_now_ms(void)
{
	return dpfix_monotonic_ns() / 1000000;
}

/* Raw I/O for the (D)TLS glue: records go straight to the transport. */
int
session_io_send(struct dpfix_session *s, const void *buf, size_t len)
{
	return s->conn.ops->send(&s->conn, buf, len, &s->send_opts);
}

/* Tells a plaintext exporter why it is refused, as a (D)TLS server answers a first
 * flight it cannot read: a fatal unexpected_message alert in clear (RFC 8446 6, RFC
 * 6347 4.1; DTLS: epoch 0, sequence 0). An IPFIX exporter expects nothing back, so ours
 * recognises it (collector_alert) and says what to change. */
static void
send_plaintext_alert(struct dpfix_session *s)
{
	static const uint8_t tls_alert[] = {21, 3, 3, 0, 2, 2, 10};
	static const uint8_t dtls_alert[] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 10};

	if (s->endpoint.security == DPFIX_SECURITY_DTLS)
		session_io_send(s, dtls_alert, sizeof(dtls_alert));
	else
		session_io_send(s, tls_alert, sizeof(tls_alert));
	s->conn.ops->flush(&s->conn);
}

ssize_t
session_io_recv(struct dpfix_session *s, void *buf, size_t len)
{
	struct dpfix_recv_info info = {0};
	ssize_t n = s->conn.ops->recv(&s->conn, buf, len, &info);
	const uint8_t *b = buf;

	if (n > 0)
		s->recv_stream = info.stream;
	/* An IPFIX header (version 10) where a (D)TLS record must be: no silent fall back
	 * to plaintext, and a clear reason instead of a handshake error. */
	if (n >= 2 && s->server && s->tls != NULL && !s->handshake_done && b[0] == 0 && b[1] == 10) {
		s->plaintext_refused = 1;
		send_plaintext_alert(s);
		return -EPROTO;
	}
	return n;
}

ssize_t
session_io_next_len(const struct dpfix_session *s)
{
	if (s->conn.ops->next_message_len == NULL)
		return -1;
	return s->conn.ops->next_message_len(&s->conn);
}

static void
set_name(struct dpfix_session *s)
{
	snprintf(s->name, sizeof(s->name), "%s %s%s%s", s->endpoint.scheme, s->conn.peer,
			s->tls != NULL && s->handshake_done ? " " : "",
			s->tls != NULL && s->handshake_done ? tls_describe(s->tls) : "");
}

static struct dpfix_session *
session_new(const struct dpfix_endpoint *ep, const struct dpfix_session_params *p,
		const struct dpfix_transport_ops *ops, int server)
{
	struct dpfix_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->endpoint = *ep;
	s->params = *p;
	s->conn.ops = ops;
	s->server = server;
	if (!(ops->flags & DPFIX_TRANSPORT_MESSAGES)) {
		/* A stream's buffer starts small and grows while a message does not fit: a
		 * collector holds thousands of connections, most sending small messages. */
		s->rx_cap = RX_FIRST;
		s->rx = malloc(s->rx_cap);
		if (s->rx == NULL) {
			free(s);
			return NULL;
		}
	}
	return s;
}

void
session_free(struct dpfix_session *s)
{
	tls_conn_free(s->tls);
	if (!s->server)
		tls_ctx_free(s->own_ctx);
	free(s->hb.buf);
	free(s->rx);
	free(s);
}

/* DTLS over UDP holds each record to one datagram of the path MTU. */
static uint32_t
dtls_mtu(const struct dpfix_session *s)
{
	return s->endpoint.ip_protocol == IPPROTO_UDP ? s->conn.max_payload : 0;
}

static int
is_sctp(const struct dpfix_session *s)
{
	return s->endpoint.ip_protocol == IPPROTO_SCTP;
}

/* Exporter without (D)TLS: bytes from the collector that are a (D)TLS alert record mean
 * it listens with (D)TLS and refused our plaintext. */
int
collector_alert(struct dpfix_session *s, const uint8_t *b, size_t len, char *err, size_t errlen)
{
	int dtls;

	if (s->server || s->tls != NULL || len < 2 || b[0] != 21 || (b[1] != 3 && b[1] != 0xfe))
		return 0;
	dtls = b[1] == 0xfe;
	snprintf(err, errlen, "the collector answered with a %s alert: it expects %s, so use "
			"%s://%s", dtls ? "DTLS" : "TLS", dtls ? "DTLS" : "TLS",
			dtls ? (is_sctp(s) ? "dtls+sctp" : "dtls+udp") : "tls+tcp", s->conn.peer);
	return -EPROTO;
}

/* RFC 6083 4.7: once DTLS is up, SCTP authenticates DATA with a key exported from it. */
static int
start_sctp_auth(struct dpfix_session *s, char *err, size_t errlen)
{
	uint8_t key[64];
	int ret;

	if (!is_sctp(s) || s->conn.ops->set_auth_key == NULL)
		return 0;
	ret = tls_export_key(s->tls, "EXPORTER_DTLS_OVER_SCTP", key, sizeof(key));
	if (ret == 0)
		ret = s->conn.ops->set_auth_key(&s->conn, key, sizeof(key));
	memset(key, 0, sizeof(key));
	if (ret < 0)
		snprintf(err, errlen, "%s: cannot key SCTP-AUTH from DTLS: %s", s->name,
				strerror(-ret));
	return ret;
}

/* A session whose open failed: err names it, the connection is closed, s freed. */
static void
open_failed(struct dpfix_session *s, char *err, size_t errlen, int prefix)
{
	if (prefix) {
		char reason[DPFIX_SESSION_ERRLEN];

		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errlen, "%s: handshake failed: %s", s->name, reason);
	}
	s->conn.ops->close(&s->conn);
	session_free(s);
}

/* The (D)TLS side of a session being opened, its transport connected: its handshake
 * has connect_timeout from now. 0, or a negative errno with err (s then freed). */
static int
start_tls(struct dpfix_session *s, char *err, size_t errlen)
{
	const struct dpfix_session_params *params = &s->params;

	s->own_ctx = tls_ctx_create(&s->endpoint, 0, &params->security, err, errlen);
	if (s->own_ctx != NULL)
		s->tls = tls_conn_create(s->own_ctx, s, dtls_mtu(s), is_sctp(s),
				params->heartbeat_interval_ms != 0 || (params->path_mtu_discovery &&
					s->conn.ops->ip_protocol != IPPROTO_TCP), err, errlen);
	if (s->tls == NULL) {
		open_failed(s, err, errlen, 0);
		return -EINVAL;
	}
	/* The session is up once the collector has shown it accepted us (tls_confirm):
	 * until then nothing is exported into a session it may still refuse. */
	s->open_deadline_ms = session_now_ms() + s->open_timeout_ms;
	s->send_opts = (struct dpfix_send_opts){.stream = STREAM_TEMPLATES};
	return 0;
}

struct dpfix_session *
dpfix_session_open_start(const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *params, char *err, size_t errlen)
{
	const struct dpfix_transport_ops *ops = dpfix_transport_find(ep->transport);
	struct dpfix_session *s;

	if (ops == NULL) {
		snprintf(err, errlen, "transport '%s' is not available in this build", ep->transport);
		return NULL;
	}
	s = session_new(ep, params, ops, 0);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ops->connect(&s->conn, ep, params, err, errlen) < 0) {
		session_free(s);
		return NULL;
	}
	set_name(s);
	s->open_timeout_ms = params->connect_timeout_ms ? params->connect_timeout_ms : 5000;
	s->open_deadline_ms = session_now_ms() + s->open_timeout_ms;
	/* A connection still under way (TCP): open_step sees it come up, then begins the
	 * rest, as a connect that waited did. */
	s->connecting = ops->connected != NULL;
	if (s->connecting)
		return s;
	if (ep->security == DPFIX_SECURITY_NONE) {
		s->handshake_done = 1;
		return s;
	}
	return start_tls(s, err, errlen) < 0 ? NULL : s;
}

/* The transport's connection, begun by open_start: 0 once it is up, -EINPROGRESS, or a
 * negative errno with err (s then freed). */
static int
connection_up(struct dpfix_session *s, char *err, size_t errlen)
{
	const struct dpfix_endpoint *ep = &s->endpoint;
	int ret = s->conn.ops->connected(&s->conn);

	if (ret == -EINPROGRESS && session_now_ms() <= s->open_deadline_ms)
		return ret;
	if (ret == -EINPROGRESS) {
		snprintf(err, errlen, "collector %s://%s:%u%s: no answer within %u ms", ep->scheme,
				ep->host, ep->port, s->conn.via, s->open_timeout_ms);
		ret = -ETIMEDOUT;
	} else if (ret < 0) {
		snprintf(err, errlen, "collector %s://%s:%u%s: %s", ep->scheme, ep->host, ep->port,
				s->conn.via, strerror(-ret));
	}
	if (ret < 0) {
		open_failed(s, err, errlen, 0);
		return ret;
	}
	s->connecting = 0;
	return 0;
}

int
dpfix_session_open_step(struct dpfix_session *s, char *err, size_t errlen)
{
	int ret;

	if (s->handshake_done)
		return 0;
	if (s->connecting) {
		if ((ret = connection_up(s, err, errlen)) != 0)
			return ret;
		if (s->endpoint.security == DPFIX_SECURITY_NONE) {
			s->handshake_done = 1;
			return 0;
		}
		if ((ret = start_tls(s, err, errlen)) < 0)
			return ret;
	}
	/* The deadline comes before the next step, as a step may resend our last flight:
	 * an exporter held up past its deadline (a loaded machine) sent it when it woke,
	 * and a collector that had refused it and since forgotten it (after its 10 s) took
	 * that for a new exporter on the same port. */
	if (s->confirm_by_ms == 0 && session_now_ms() > s->open_deadline_ms) {
		char why[DPFIX_SESSION_ERRLEN];

		tls_explain_stall(s->tls, why, sizeof(why));
		snprintf(err, errlen, "no (D)TLS handshake within %u ms: %s", s->open_timeout_ms, why);
		open_failed(s, err, errlen, 1);
		return -ETIMEDOUT;
	}
	ret = tls_handshake(s->tls, err, errlen);
	if (ret == 1) {
		if (s->confirm_by_ms == 0)
			s->confirm_by_ms = session_now_ms() + CONFIRM_WAIT_MS;
		ret = tls_confirm(s->tls, s->confirm_by_ms, err, errlen);
	}
	if (ret == 0) {
		s->conn.ops->flush(&s->conn);
		return -EINPROGRESS;
	}
	if (ret < 0) {
		open_failed(s, err, errlen, 1);
		return ret;
	}
	if ((ret = start_sctp_auth(s, err, errlen)) < 0) {
		open_failed(s, err, errlen, 0);
		return ret;
	}
	s->handshake_done = 1;
	s->hb.agreed = tls_heartbeats_agreed(s->tls);
	set_name(s);
	path_start(s);
	return 0;
}

struct dpfix_session *
dpfix_session_open(const struct dpfix_endpoint *ep, const struct dpfix_session_params *params,
		char *err, size_t errlen)
{
	struct dpfix_session *s = dpfix_session_open_start(ep, params, err, errlen);
	int ret = 0;

	/* The exporter opens its session before export starts (and the control lcore
	 * opens replacements off the export path), so waiting here is bounded and safe. */
	while (s != NULL && (ret = dpfix_session_open_step(s, err, errlen)) == -EINPROGRESS)
		usleep(500);
	return s != NULL && ret == 0 ? s : NULL;
}

uint32_t
dpfix_session_max_message(const struct dpfix_session *s)
{
	uint32_t limit = s->conn.max_payload;

	if (s->tls != NULL && s->endpoint.security == DPFIX_SECURITY_DTLS) {
		limit = tls_max_record(s->tls);
		/* wolfSSL 5.5.4 in SCTP mode reports the 16 KB record size without the
		 * record overhead and then refuses a write of that size (DTLS_SIZE_ERROR):
		 * keep room for the header and the largest AEAD/MAC expansion. */
		if (is_sctp(s) && limit > DTLS_RECORD_OVERHEAD)
			limit -= DTLS_RECORD_OVERHEAD;
	}
	return limit < DPFIX_IPFIX_MAX_MESSAGE ? limit : DPFIX_IPFIX_MAX_MESSAGE;
}

int64_t
dpfix_session_unacknowledged(const struct dpfix_session *s)
{
	return s->conn.ops->unacknowledged != NULL ? s->conn.ops->unacknowledged(&s->conn) : -1;
}

int
dpfix_session_is_reliable(const struct dpfix_session *s)
{
	return (s->conn.ops->flags & DPFIX_TRANSPORT_RELIABLE) != 0;
}

int
dpfix_session_send(struct dpfix_session *s, const void *msg, size_t len,
		enum dpfix_message_kind kind)
{
	return dpfix_session_send_records(s, msg, len, kind, 0);
}

int
dpfix_session_send_records(struct dpfix_session *s, const void *msg, size_t len,
		enum dpfix_message_kind kind, uint32_t records)
{
	int ret;

	if (len > dpfix_session_max_message(s)) {
		s->stats.send_errors++;
		return -EMSGSIZE;
	}
	if (kind == DPFIX_MESSAGE_TEMPLATES)
		s->send_opts = (struct dpfix_send_opts){.stream = STREAM_TEMPLATES};
	else
		s->send_opts = (struct dpfix_send_opts){
			.stream = STREAM_DATA,
			.unordered = s->params.sctp_data_unordered,
			.pr_ttl_ms = s->params.sctp_data_pr_ttl_ms,
			.records = records,
		};
	if (s->tls != NULL)
		ret = tls_write(s->tls, msg, len);
	else
		ret = session_io_send(s, msg, len);
	s->send_opts.records = 0; /* not for what (D)TLS may send of its own later */
	if (ret == 0) {
		s->stats.messages_sent++;
		s->stats.bytes_sent += len;
		s->conn.ops->flush(&s->conn);
	} else if (ret != -EAGAIN) {
		s->stats.send_errors++;
	}
	return ret;
}

/* Reads more bytes (or one datagram) from the transport, through (D)TLS if any.
 * -EAGAIN: nothing now; -EPIPE: orderly close; 0: an empty datagram (UDP only). */
static ssize_t
read_some(struct dpfix_session *s, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	ssize_t n;

	if (s->tls != NULL) {
		n = tls_read(s->tls, buf, cap, err, errlen);
		return n == 0 ? -EAGAIN : n;
	}
	n = session_io_recv(s, buf, cap);
	if (n == 0 && (s->conn.ops->flags & DPFIX_TRANSPORT_RELIABLE))
		return -EPIPE;
	if (n < 0 && n != -EAGAIN)
		snprintf(err, errlen, "%s", strerror((int)-n));
	return n;
}

static ssize_t
deliver(struct dpfix_session *s, size_t len)
{
	s->stats.messages_received++;
	s->stats.bytes_received += len;
	if (s->recv_stream < DPFIX_MAX_STREAMS)
		s->stream_messages[s->recv_stream]++;
	return (ssize_t)len;
}

ssize_t
dpfix_session_recv(struct dpfix_session *s, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	ssize_t n;

	if (!s->handshake_done) {
		int ret = tls_handshake(s->tls, err, errlen);

		/* DTLS drops records that fail to decrypt, so a wrong key shows up only as
		 * a handshake that never finishes. */
		if (ret == 0 && session_now_ms() > s->handshake_deadline_ms) {
			const char *id = tls_psk_identity(s->tls);

			snprintf(err, errlen, "handshake did not complete within %u ms (handshake_timeout; "
					"with DTLS, a wrong key or a peer that gave up looks like this)%s%s%s",
					s->params.handshake_timeout_ms,
					id[0] ? "; the exporter's PSK identity: '" : "", id, id[0] ? "'" : "");
			s->conn.refused = 1;
			return -ETIMEDOUT;
		}
		if (ret < 0 && s->plaintext_refused)
			snprintf(err, errlen, "plaintext IPFIX sent to a %s endpoint: refused (the "
					"exporter must use %s)", s->endpoint.scheme, s->endpoint.scheme);
		if (ret < 0) {
			s->conn.refused = 1;
			return ret;
		}
		if (ret == 0) {
			s->conn.ops->flush(&s->conn);
			return -EAGAIN;
		}
		s->handshake_done = 1;
		s->hb.agreed = tls_heartbeats_agreed(s->tls);
		set_name(s);
		if (tls_psk_identity(s->tls)[0] == '\0')
			tls_peer_subject(s->tls, s->peer_subject, sizeof(s->peer_subject));
		if (start_sctp_auth(s, err, errlen) < 0)
			return -EIO;
		dpfix_session_log(DPFIX_LOG_INFO, "%s: session established", s->name);
	}
	if (s->conn.ops->flags & DPFIX_TRANSPORT_MESSAGES) {
		/* Heartbeats are answered or taken in here: the reader sees IPFIX only. */
		do
			n = read_some(s, buf, cap, err, errlen);
		while (n > 0 && heartbeat_take(s, buf, (size_t)n));
		if (n > 0 && collector_alert(s, buf, (size_t)n, err, errlen) < 0)
			return -EPROTO;
		return n >= 0 ? deliver(s, (size_t)n) : n;
	}
	/* A byte stream: gather until the header's length is there, then cut. */
	for (;;) {
		char why[128];
		size_t heartbeat = heartbeat_frame(s, s->rx, s->rx_len);
		int len;

		if (heartbeat != 0 && heartbeat <= s->rx_len) {
			heartbeat_take(s, s->rx, heartbeat);
			memmove(s->rx, s->rx + heartbeat, s->rx_len - heartbeat);
			s->rx_len -= heartbeat;
			continue;
		}
		len = heartbeat != 0 ? 0 : dpfix_ipfix_frame(s->rx, s->rx_len, why, sizeof(why));
		if (collector_alert(s, s->rx, s->rx_len, err, errlen) < 0)
			return -EPROTO;
		if (len < 0) {
			s->stats.framing_errors++;
			snprintf(err, errlen, "stream is not IPFIX: %s%s: closing as RFC 7011 "
					"10.4.1.2 requires", why,
					s->rx[0] == 0x16 ? ", it looks like a TLS handshake (the exporter "
					"uses TLS; listen on tls+tcp://)" : "");
			return -EBADMSG;
		}
		if (len > 0) {
			if ((size_t)len > cap)
				return -EMSGSIZE;
			memcpy(buf, s->rx, (size_t)len);
			memmove(s->rx, s->rx + len, s->rx_len - (size_t)len);
			s->rx_len -= (size_t)len;
			return deliver(s, (size_t)len);
		}
		if (s->rx_len == s->rx_cap) {
			/* Full without a whole message: room for the longest one and more. */
			size_t cap = s->rx_cap * 2 < RX_MAX ? s->rx_cap * 2 : RX_MAX;
			uint8_t *rx = s->rx_cap < RX_MAX ? realloc(s->rx, cap) : NULL;

			if (rx == NULL) {
				snprintf(err, errlen, "out of memory for a message");
				return -ENOMEM;
			}
			s->rx = rx;
			s->rx_cap = cap;
		}
		n = read_some(s, s->rx + s->rx_len, s->rx_cap - s->rx_len, err, errlen);
		if (n < 0) {
			if (n == -EPIPE && s->rx_len != 0) {
				s->stats.framing_errors++;
				snprintf(err, errlen, "closed in the middle of a message (%zu bytes)",
						s->rx_len);
				return -EBADMSG;
			}
			return n;
		}
		s->rx_len += (size_t)n;
	}
}

int
dpfix_session_established(const struct dpfix_session *s)
{
	return s->handshake_done;
}

void
dpfix_session_mark_refused(struct dpfix_session *s)
{
	s->conn.refused = 1;
}

const char *
dpfix_session_name(const struct dpfix_session *s)
{
	return s->name;
}

uint64_t
dpfix_session_records_given_up(const struct dpfix_session *s, uint64_t *uncounted_messages)
{
	if (uncounted_messages != NULL)
		*uncounted_messages = s->conn.messages_given_up_uncounted;
	return s->conn.records_given_up;
}

ssize_t
dpfix_session_take_returned(struct dpfix_session *s, uint8_t *buf, size_t cap, uint32_t *records)
{
	if (s->tls != NULL || s->conn.ops->take_returned == NULL)
		return 0;
	return s->conn.ops->take_returned(&s->conn, buf, cap, records);
}

const struct dpfix_session_stats *
dpfix_session_stats(const struct dpfix_session *s)
{
	return &s->stats;
}

uint64_t
dpfix_session_stream_messages(const struct dpfix_session *s, uint16_t stream)
{
	return stream < DPFIX_MAX_STREAMS ? s->stream_messages[stream] : 0;
}

const char *
dpfix_session_peer(const struct dpfix_session *s)
{
	return s->conn.peer;
}

const char *
dpfix_session_peer_identity(const struct dpfix_session *s)
{
	if (s->tls == NULL || !s->handshake_done)
		return "";
	/* X.509: the name the certificate was checked for (SAN, else CN), if one was;
	 * else its subject's CN, which the CA vouches for. */
	if (tls_psk_identity(s->tls)[0] != '\0')
		return tls_psk_identity(s->tls);
	return s->params.security.peer_name[0] != '\0' ? s->params.security.peer_name :
			s->peer_subject;
}

const struct dpfix_endpoint *
dpfix_session_endpoint(const struct dpfix_session *s)
{
	return &s->endpoint;
}

uint16_t
dpfix_session_recv_stream(const struct dpfix_session *s)
{
	return s->recv_stream;
}

struct dpfix_listener *
dpfix_listener_open(const struct dpfix_endpoint *ep, const struct dpfix_session_params *params,
		char *err, size_t errlen)
{
	const struct dpfix_transport_ops *ops = dpfix_transport_find(ep->transport);
	struct dpfix_listener *l;

	if (ops == NULL || ops->listen == NULL) {
		snprintf(err, errlen, "transport '%s' cannot listen in this build", ep->transport);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->ops = ops;
	l->endpoint = *ep;
	l->params = *params;
	if (l->params.handshake_timeout_ms == 0)
		l->params.handshake_timeout_ms = DPFIX_HANDSHAKE_TIMEOUT_MS;
	if (ep->security != DPFIX_SECURITY_NONE) {
		l->ctx = tls_ctx_create(ep, 1, &params->security, err, errlen);
		if (l->ctx == NULL) {
			free(l);
			return NULL;
		}
	}
	if (ops->listen(&l->state, ep, params, err, errlen) < 0) {
		tls_ctx_free(l->ctx);
		free(l);
		return NULL;
	}
	return l;
}

void
dpfix_listener_stats(const struct dpfix_listener *l, struct dpfix_listener_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (l->ops->listener_stats != NULL)
		l->ops->listener_stats(l->state, st);
}

void
dpfix_listener_discard(struct dpfix_listener *l)
{
	if (l->ops->listener_discard != NULL)
		l->ops->listener_discard(l->state);
}

int
dpfix_listener_held(const struct dpfix_listener *l)
{
	return l->ops->listener_held != NULL && l->ops->listener_held(l->state);
}

int
dpfix_session_set_wake_fd(struct dpfix_session *s, int wake_fd)
{
	return s->conn.ops->set_wake_fd != NULL ? s->conn.ops->set_wake_fd(&s->conn, wake_fd)
			: -ENOTSUP;
}

void
dpfix_listener_poll(struct dpfix_listener *l)
{
	if (l->ops->poll != NULL)
		l->ops->poll(l->state);
}

struct dpfix_session *
dpfix_listener_accept(struct dpfix_listener *l)
{
	struct dpfix_conn conn = {.ops = l->ops};
	struct dpfix_session *s;
	char err[DPFIX_SESSION_ERRLEN];

	/* Asked every round: a session (and a TCP one's 128 KB buffer) only for a new peer. */
	if (l->ops->accept(l->state, &conn) != 1)
		return NULL;
	s = session_new(&l->endpoint, &l->params, l->ops, 1);
	if (s == NULL) {
		dpfix_session_log(DPFIX_LOG_ERROR, "%s: out of memory for its session", conn.peer);
		l->ops->close(&conn);
		return NULL;
	}
	s->conn = conn;
	set_name(s);
	if (l->ctx == NULL) {
		s->handshake_done = 1;
		return s;
	}
	s->own_ctx = l->ctx;
	s->handshake_deadline_ms = session_now_ms() + l->params.handshake_timeout_ms;
	s->tls = tls_conn_create(l->ctx, s, dtls_mtu(s), is_sctp(s), 1, err, sizeof(err));
	if (s->tls == NULL) {
		dpfix_session_log(DPFIX_LOG_ERROR, "%s: %s", s->name, err);
		l->ops->close(&s->conn);
		session_free(s);
		return NULL;
	}
	return s;
}

void
dpfix_listener_close(struct dpfix_listener *l)
{
	if (l == NULL)
		return;
	l->ops->unlisten(l->state);
	tls_ctx_free(l->ctx);
	free(l);
}

int
dpfix_listener_event_fd(const struct dpfix_listener *l)
{
	return l->ops->listener_event_fd != NULL ? l->ops->listener_event_fd(l->state) : -1;
}

int
dpfix_session_event_fd(const struct dpfix_session *s)
{
	return s->conn.ops->event_fd != NULL ? s->conn.ops->event_fd(&s->conn) : -1;
}

const struct dpfix_endpoint *
dpfix_listener_endpoint(const struct dpfix_listener *l)
{
	return &l->endpoint;
}
