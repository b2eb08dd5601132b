/* dpfix heartbeats (doc/heartbeats.md): RFC 6520's request and response, carried inside
 * the (D)TLS session between two ends that agreed on them in the handshake (ALPN
 * DPFIX_HEARTBEAT_ALPN), framed so that they are never taken for IPFIX messages: a
 * 16-bit marker where an IPFIX message has its version (10), then the length. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "session_private.h"
#include "session_tls.h"

#define MARKER 0xDF48           /* "dpfix" 0xDF, 'H'eartbeat; never 10 (IPFIX) */
#define FRAME_HEADER 4          /* marker, length */
#define BODY_HEADER 3           /* RFC 6520: type, payload_length */
#define PAYLOAD (4 + HEARTBEAT_NONCE) /* our requests': id, nonce */
#define MIN_PADDING 16          /* RFC 6520 4 */
#define REQUEST 1
#define RESPONSE 2
#define MAX_MESSAGE 16384       /* RFC 6520 4: at most 2^14 */
#define PROBE_MTU_SLACK 64      /* see probe_length */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* getrandom(2) never returns short for 256 octets or less; larger asks may be cut by a
 * signal. */
static int
random_fill(uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = getrandom(p, len < 256 ? len : 256, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

int
dpfix_session_heartbeats(const struct dpfix_session *s)
{
	return s->hb.agreed;
}

size_t
heartbeat_frame(const struct dpfix_session *s, const uint8_t *b, size_t len)
{
	if (!s->hb.agreed || len < FRAME_HEADER || get16(b) != MARKER)
		return 0;
	/* A length too short to hold the header still spans its header: taken (and
	 * counted as malformed) rather than left to stall the stream. */
	return get16(b + 2) < FRAME_HEADER ? FRAME_HEADER : get16(b + 2);
}

/* Writes one heartbeat message on the data stream (SCTP: behind the data sent before
 * it, which an answer then shows was read; a path MTU probe, probe 1, goes apart). */
static int
write_message(struct dpfix_session *s, const uint8_t *msg, size_t len, int probe)
{
	int ret;

	s->send_opts = (struct dpfix_send_opts){.stream = STREAM_DATA, .probe = (uint8_t)probe};
	ret = tls_write(s->tls, msg, len);
	if (ret == 0)
		s->conn.ops->flush(&s->conn);
	return ret;
}

static uint8_t *
message_buffer(struct dpfix_session *s)
{
	if (s->hb.buf == NULL)
		s->hb.buf = malloc(MAX_MESSAGE);
	return s->hb.buf;
}

/* A request's answer: its payload echoed, fresh padding (RFC 6520 4). */
static void
answer(struct dpfix_session *s, const uint8_t *payload, uint16_t payload_len)
{
	uint8_t *msg = message_buffer(s);
	size_t len = FRAME_HEADER + BODY_HEADER + payload_len + MIN_PADDING;

	/* After our close_notify (a collector's stop) nothing more may go. */
	if (msg == NULL || len > MAX_MESSAGE || s->end_asked) {
		s->stats.heartbeats_ignored++;
		return;
	}
	put16(msg, MARKER);
	put16(msg + 2, (uint32_t)len);
	msg[4] = RESPONSE;
	put16(msg + 5, payload_len);
	memcpy(msg + FRAME_HEADER + BODY_HEADER, payload, payload_len);
	if (random_fill(msg + len - MIN_PADDING, MIN_PADDING) < 0 || write_message(s, msg, len, 0) < 0) {
		s->stats.heartbeats_ignored++; /* the peer counts it as missed */
		return;
	}
	s->stats.heartbeat_requests++;
}

/* A response that echoes one of our open requests answers it; any other is ignored. */
static void
match(struct dpfix_session *s, const uint8_t *payload, uint16_t payload_len)
{
	struct session_heartbeats *hb = &s->hb;

	if (payload_len == PAYLOAD && path_probe_answered(s, get32(payload), payload + 4)) {
		s->stats.heartbeats_answered++;
		return;
	}
	for (unsigned int i = 0; payload_len == PAYLOAD && i < HEARTBEATS_KEPT; i++) {
		if (!hb->sent[i].open || get32(payload) != hb->sent[i].id ||
				memcmp(payload + 4, hb->sent[i].nonce, HEARTBEAT_NONCE) != 0)
			continue;
		hb->sent[i].open = 0;
		s->stats.heartbeats_answered++;
		if (hb->answered_count < HEARTBEATS_KEPT) {
			hb->answered[(hb->answered_head + hb->answered_count) % HEARTBEATS_KEPT] =
					hb->sent[i].id;
			hb->answered_count++;
		}
		return;
	}
	s->stats.heartbeats_ignored++;
}

int
heartbeat_take(struct dpfix_session *s, const uint8_t *b, size_t len)
{
	uint16_t payload_len;

	if (!s->hb.agreed || len < 2 || get16(b) != MARKER)
		return 0;
	/* RFC 6520 4: a message whose payload and padding do not fit is dropped silently. */
	if (len < FRAME_HEADER + BODY_HEADER + MIN_PADDING || get16(b + 2) != len ||
			(payload_len = get16(b + 5)) > len - FRAME_HEADER - BODY_HEADER - MIN_PADDING) {
		s->stats.heartbeats_ignored++;
		return 1;
	}
	if (b[4] == REQUEST && s->params.heartbeat_answer_later &&
			payload_len <= HEARTBEAT_PENDING_PAYLOAD && s->hb.pending_count < HEARTBEATS_KEPT) {
		unsigned int i = s->hb.pending_count++;

		s->hb.pending[i].len = payload_len;
		memcpy(s->hb.pending[i].payload, b + FRAME_HEADER + BODY_HEADER, payload_len);
	} else if (b[4] == REQUEST) {
		answer(s, b + FRAME_HEADER + BODY_HEADER, payload_len);
	} else if (b[4] == RESPONSE) {
		match(s, b + FRAME_HEADER + BODY_HEADER, payload_len);
	} else {
		s->stats.heartbeats_ignored++;
	}
	return 1;
}

/* A request padded to fill an IP datagram of ip_size octets (a path MTU probe) over
 * DTLS/UDP or DTLS/SCTP: its length, the largest whose record fits in room, the record
 * length the transport takes in one such datagram. Over UDP DTLS's limit is raised for
 * it (the record is larger than the messages' path MTU); the caller puts it back. */
static int
probe_length(struct dpfix_session *s, uint32_t ip_size, size_t *len, uint32_t *room)
{
	int64_t want;
	int expansion, ret;

	if (s->tls == NULL)
		return -EOPNOTSUPP;
	if (s->conn.ops->probe_room != NULL) {
		/* SCTP: the transport knows its packets; -EBUSY: not now. */
		if ((ret = s->conn.ops->probe_room(&s->conn, ip_size, room)) < 0)
			return ret;
	} else if (s->endpoint.ip_protocol == IPPROTO_UDP) {
		if (ip_size > s->conn.path_mtu_max || ip_size <= s->conn.path_headers + *len)
			return -EMSGSIZE;
		*room = ip_size - s->conn.path_headers;
		/* wolfSSL's limit is only a cap here (the padding sets the size): its slack
		 * lets a record that its prediction would take for too large go. */
		if (tls_set_mtu(s->tls, *room + PROBE_MTU_SLACK) < 0)
			return -EMSGSIZE;
	} else {
		return -EOPNOTSUPP;
	}
	expansion = tls_record_expansion(s->tls, (uint32_t)*len);
	if (expansion < 0)
		return -EMSGSIZE;
	/* What wolfSSL predicts is not quite what it writes (its prediction for DTLS is 12
	 * octets high): the difference the last probe showed is made up, so the datagram is
	 * the size asked from the second probe on. A block cipher's padding may still make
	 * a probe a few octets off; the search takes each probe for the size it had. */
	want = (int64_t)*room - expansion + s->path.pad_correction;
	if (want < (int64_t)*len || want > MAX_MESSAGE)
		return -EMSGSIZE;
	*len = (size_t)want;
	return 0;
}

int
heartbeat_send_request(struct dpfix_session *s, uint32_t id, uint32_t ip_size,
		uint8_t nonce[HEARTBEAT_NONCE], uint32_t *sent_size)
{
	uint8_t *msg = message_buffer(s), *payload;
	size_t len = FRAME_HEADER + BODY_HEADER + PAYLOAD + MIN_PADDING;
	uint32_t room = 0;
	int ret = 0;

	if (!s->hb.agreed)
		return -EOPNOTSUPP;
	if (msg == NULL)
		return -ENOMEM;
	if (ip_size != 0)
		ret = probe_length(s, ip_size, &len, &room);
	payload = msg + FRAME_HEADER + BODY_HEADER;
	put16(msg, MARKER);
	put16(msg + 2, (uint32_t)len);
	msg[4] = REQUEST;
	put16(msg + 5, PAYLOAD);
	put32(payload, id);
	if (ret == 0)
		ret = random_fill(payload + 4, len - FRAME_HEADER - BODY_HEADER - 4);
	s->conn.last_send_len = 0;
	if (ret == 0)
		ret = write_message(s, msg, len, ip_size != 0);
	if (ip_size != 0 && s->tls != NULL && s->endpoint.ip_protocol == IPPROTO_UDP)
		tls_set_mtu(s->tls, s->conn.max_payload);
	if (ip_size != 0 && ret == 0 && s->conn.last_send_len != 0) {
		uint32_t sent = s->conn.ops->probe_room != NULL ? s->conn.last_probe_size :
				s->conn.path_headers + s->conn.last_send_len;

		s->path.pad_correction += (int32_t)room - (int32_t)s->conn.last_send_len;
		/* SCTP: a probe that could not go alone in one packet at once proves nothing. */
		if (sent == 0)
			ret = -EBUSY;
		if (sent_size != NULL)
			*sent_size = sent;
	}
	if (ret == 0) {
		memcpy(nonce, payload + 4, HEARTBEAT_NONCE);
		s->stats.heartbeats_sent++;
	}
	return ret;
}

int
dpfix_session_heartbeat(struct dpfix_session *s, uint32_t id, uint32_t ip_size)
{
	struct session_heartbeats *hb = &s->hb;
	unsigned int slot = hb->next_sent % HEARTBEATS_KEPT;
	uint8_t nonce[HEARTBEAT_NONCE];
	int ret = heartbeat_send_request(s, id, ip_size, nonce, NULL);

	if (ret < 0)
		return ret;
	memcpy(hb->sent[slot].nonce, nonce, HEARTBEAT_NONCE);
	hb->sent[slot].id = id;
	hb->sent[slot].open = 1;
	hb->next_sent++;
	return 0;
}

int
dpfix_session_heartbeat_answered(struct dpfix_session *s, uint32_t *id)
{
	struct session_heartbeats *hb = &s->hb;

	if (hb->answered_count == 0)
		return 0;
	*id = hb->answered[hb->answered_head];
	hb->answered_head = (hb->answered_head + 1) % HEARTBEATS_KEPT;
	hb->answered_count--;
	return 1;
}

int
dpfix_session_heartbeats_pending(const struct dpfix_session *s)
{
	return s->hb.pending_count != 0;
}

void
dpfix_session_answer_heartbeats(struct dpfix_session *s)
{
	for (unsigned int i = 0; i < s->hb.pending_count; i++)
		answer(s, s->hb.pending[i].payload, s->hb.pending[i].len);
	s->hb.pending_count = 0;
}
