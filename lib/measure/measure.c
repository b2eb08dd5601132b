/* The measures' per-packet work (dpfix_measure.h): called by the flow table for each
 * packet it counted, with the flow's extension. Fixed work per packet (lengths, TCP
 * flags, the RTP of flows found to be RTP); payload only in a record's first packets of
 * each direction, one segment each, read by lib/parse's payload readers. */
#include <errno.h>
#include <string.h>

#include "measure_state.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define PORT_DNS 53

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20

#define NS_PER_S 1000000000ll
/* Work a flow needs only in its first packets (or rarely) is kept out of
 * dpfix_measure_packet, whose every-packet path then stays short. */
#define COLD __attribute__((noinline, cold))

_Static_assert(BLOCK_COUNT <= sizeof(((struct dpfix_measure_layout *)0)->offset) / sizeof(uint16_t),
		"the layout has an offset for every block");

const char *const dpfix_measure_names[] = {
#define DPFIX_MEASURE_NAME(NAME, name, help) #name,
	DPFIX_MEASURES(DPFIX_MEASURE_NAME)
#undef DPFIX_MEASURE_NAME
	NULL,
};

/* The text block: as long as the largest of the text measures on. */
static uint32_t
text_size(uint32_t measures)
{
	uint32_t n = 0;

	if ((measures & DPFIX_MEASURE_HTTP) && sizeof(struct dpfix_http_fields) > n)
		n = sizeof(struct dpfix_http_fields);
	if ((measures & DPFIX_MEASURE_TLS) && sizeof(struct dpfix_tls_fields) > n)
		n = sizeof(struct dpfix_tls_fields);
	if ((measures & DPFIX_MEASURE_DNS) && sizeof(struct dpfix_dns_fields) > n)
		n = sizeof(struct dpfix_dns_fields);
	return n;
}

void
dpfix_measure_layout_init(struct dpfix_measure_layout *l, uint32_t measures)
{
	/* In the order a packet touches them: the fixed per-packet work first. */
	const uint32_t size[BLOCK_COUNT] = {
		[BLOCK_COMMON] = sizeof(struct measure_common),
		[BLOCK_LENGTHS] = measures & DPFIX_MEASURE_LENGTHS ? sizeof(struct measure_lengths) : 0,
		[BLOCK_TCP] = measures & DPFIX_MEASURE_TCP ? sizeof(struct measure_tcp) : 0,
		[BLOCK_RTP] = measures & DPFIX_MEASURE_RTP ? sizeof(struct measure_rtp) : 0,
		[BLOCK_TUNNEL] = measures & DPFIX_MEASURE_TUNNEL ? sizeof(struct measure_tunnel) : 0,
		[BLOCK_TEXT] = text_size(measures),
	};
	uint32_t at = 0;

	memset(l, 0, sizeof(*l));
	l->measures = measures & ((1u << DPFIX_MEASURE_COUNT) - 1);
	if (l->measures == 0)
		return;
	for (int b = 0; b < BLOCK_COUNT; b++) {
		l->offset[b] = (uint16_t)at;
		at += (size[b] + 7) & ~7u;
	}
	l->size = at;
}

uint32_t
dpfix_measure_bytes(uint32_t measure)
{
	struct dpfix_measure_layout l;

	dpfix_measure_layout_init(&l, measure);
	return l.size - (l.size != 0 ? (uint32_t)sizeof(struct measure_common) : 0);
}

int
dpfix_measure_init(struct dpfix_measure *m, const struct dpfix_measure_params *p)
{
	memset(m, 0, sizeof(*m));
	dpfix_measure_layout_init(&m->layout, p->measures);
	if (m->layout.size == 0 || p->payload_packets == 0)
		return -EINVAL;
	m->payload_packets = p->payload_packets;
	/* The payload window, the RTP search (a packet longer: two in sequence make a
	 * stream) and the tunnel (the first packet). */
	m->first_packets = p->payload_packets + 1;
	m->biflow = p->biflow;
	m->parse_cfg = p->parse_cfg;
	return 0;
}

void
dpfix_measure_set_table(struct dpfix_measure *m, struct dpfix_flow_table *t)
{
	m->table = t;
}

static inline void *
block(const struct dpfix_measure *m, uint8_t *ext, enum measure_block b)
{
	return ext + m->layout.offset[b];
}

/* ---- tcp ---- */

/* Nanoseconds as the round-trip time's microseconds: a measured time is never 0, which
 * says "not measured" (a handshake under a microsecond at the probe reads 1). */
static uint32_t
rtt_us(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us == 0 ? 1 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static inline void
count_flag(struct dpfix_measure *m, uint32_t *c)
{
	if (__builtin_expect(*c == UINT32_MAX, 0)) {
		m->stats.counts_saturated++;
		return;
	}
	(*c)++;
}

/* A SYN/ACK answering a SYN seen in the other direction of the record t: the server's
 * side of the handshake. dir: the SYN/ACK's direction. */
static void
handshake_synack(struct measure_tcp *t, int dir, uint64_t now_ns)
{
	if (t->syn_dir != 1 + !dir || t->synack_dir != 0 || now_ns < t->syn_ns)
		return;
	t->synack_ns = now_ns;
	t->synack_dir = (uint8_t)(1 + dir);
	t->server_rtt_us = rtt_us(now_ns - t->syn_ns);
}

/* A SYN or a SYN/ACK: the handshake's first two packets. */
static __attribute__((noinline)) void
tcp_syn(struct dpfix_measure *m, struct measure_tcp *t, int dir, const struct dpfix_packet_info *p,
		uint64_t now_ns)
{
	if (!(p->tcp_flags & TCP_FLAG_ACK)) {
		/* A retransmitted SYN restarts the wait: the SYN/ACK answers the last one. */
		if (t->synack_dir == 0) {
			t->syn_ns = now_ns;
			t->syn_dir = (uint8_t)(1 + dir);
		}
	} else if (m->biflow) {
		handshake_synack(t, dir, now_ns);
	} else if (m->table != NULL) {
		/* A uniflow: the SYN went in the initiator's own record, the flow of the
		 * reverse key, which also gets the handshake's times. */
		struct dpfix_flow_key initiator;
		void *peer;

		dpfix_flow_key_reverse(&p->key, &initiator);
		if (dpfix_flow_table_find(m->table, &initiator, &peer) != NULL && peer != NULL)
			handshake_synack(block(m, peer, BLOCK_TCP), 1, now_ns);
	}
}

static inline void
tcp_packet(struct dpfix_measure *m, uint8_t *ext, int dir, const struct dpfix_packet_info *p,
		uint64_t now_ns)
{
	struct measure_tcp *t = block(m, ext, BLOCK_TCP);
	uint8_t f = p->tcp_flags;

	if (f & TCP_FLAG_SYN)
		count_flag(m, &t->count[TCP_SYN][dir]);
	if (f & TCP_FLAG_FIN)
		count_flag(m, &t->count[TCP_FIN][dir]);
	if (f & TCP_FLAG_RST)
		count_flag(m, &t->count[TCP_RST][dir]);
	if (f & TCP_FLAG_PSH)
		count_flag(m, &t->count[TCP_PSH][dir]);
	if (f & TCP_FLAG_ACK)
		count_flag(m, &t->count[TCP_ACK][dir]);
	if (f & TCP_FLAG_URG)
		count_flag(m, &t->count[TCP_URG][dir]);

	if (f & TCP_FLAG_SYN)
		tcp_syn(m, t, dir, p, now_ns);
	else if ((f & TCP_FLAG_ACK) && t->synack_dir != 0 && t->client_rtt_us == 0 &&
			t->synack_dir != 1 + dir && now_ns >= t->synack_ns)
		/* The initiator's first ACK after the SYN/ACK: the client's side. */
		t->client_rtt_us = rtt_us(now_ns - t->synack_ns);
}

/* ---- rtp ---- */

/* The RTP clock rate of static payload types (RFC 3551 6); 0: dynamic or unassigned,
 * whose rate only the session description says. */
static uint32_t
rtp_clock_rate(uint8_t pt)
{
	static const uint32_t rates[35] = {
		[0] = 8000, [3] = 8000, [4] = 8000, [5] = 8000, [6] = 16000, [7] = 8000,
		[8] = 8000, [9] = 8000, [10] = 44100, [11] = 44100, [12] = 8000, [13] = 8000,
		[14] = 90000, [15] = 8000, [16] = 11025, [17] = 22050, [18] = 8000, [25] = 90000,
		[26] = 90000, [28] = 90000, [31] = 90000, [32] = 90000, [33] = 90000, [34] = 90000,
	};

	return pt < sizeof(rates) / sizeof(rates[0]) ? rates[pt] : 0;
}

static void
rtp_start(struct measure_rtp_dir *s, uint8_t *state, const struct dpfix_rtp_header *h,
		uint64_t now_ns)
{
	*state = RTP_CANDIDATE;
	s->ssrc = h->ssrc;
	s->sequence = h->sequence;
	s->timestamp = h->timestamp;
	s->clock_rate = rtp_clock_rate(h->payload_type);
	s->last_arrival_ns = now_ns;
	s->jitter16_ns = 0;
}

/* RFC 3550 6.4.1 and A.8: J += (|D| - J) / 16, D the difference of transit times of two
 * consecutive packets, here in nanoseconds (the RTP timestamps' difference converted by
 * the clock rate), J kept times 16 as A.8 does. A direction's first source (SSRC) with
 * two packets in sequence is its stream; other sources are not followed. */
static __attribute__((noinline)) void
rtp_packet(struct dpfix_measure *m, struct measure_rtp_dir *s, uint8_t *state,
		uint64_t dir_packets, const uint8_t *pl, uint32_t n, uint64_t now_ns)
{
	int searching = dir_packets <= m->payload_packets + 1;
	struct dpfix_rtp_header h;
	int64_t d;

	switch (dpfix_payload_rtp(pl, n, &h)) {
	case -1:
		return;         /* RTCP on the same ports (RFC 5761) */
	case 0:
		/* Not RTP: given up once a record's first packets have shown no stream. */
		if (*state != RTP_YES && !searching)
			*state = RTP_NOT;
		return;
	}
	if (*state == RTP_YES) {
		if (h.ssrc != s->ssrc)
			return;
	} else if (*state == RTP_UNKNOWN || h.ssrc != s->ssrc ||
			h.sequence != (uint16_t)(s->sequence + 1)) {
		if (searching)
			rtp_start(s, state, &h, now_ns);
		else
			*state = RTP_NOT;
		return;
	} else {
		*state = RTP_YES;
	}
	/* A payload type of another clock (or an unknown one) is no sample of the stream's. */
	if (s->clock_rate != 0 && rtp_clock_rate(h.payload_type) == s->clock_rate) {
		d = ((int64_t)now_ns - (int64_t)s->last_arrival_ns) -
				(int64_t)(int32_t)(h.timestamp - s->timestamp) * NS_PER_S / s->clock_rate;
		if (d < 0)
			d = -d;
		s->jitter16_ns += (uint64_t)d - ((s->jitter16_ns + 8) >> 4);
	}
	s->last_arrival_ns = now_ns;
	s->timestamp = h.timestamp;
	s->sequence = h.sequence;
}

/* ---- tunnel ---- */

static COLD void
tunnel_first_packet(struct dpfix_measure *m, uint8_t *ext, const struct dpfix_packet_info *p,
		const struct dpfix_flow_frame *frame)
{
	struct measure_tunnel *t = block(m, ext, BLOCK_TUNNEL);
	struct dpfix_vxlan_outer o;
	uint32_t key;

	if (dpfix_parse_vxlan_outer(&m->parse_cfg, frame->data, frame->len, &o)) {
		t->segment_id = 1ull << 56 | o.vni;
		t->has_outer = 1;
		if (o.ip_version == 4) {
			/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2) */
			t->outer_src[10] = t->outer_src[11] = 0xff;
			t->outer_dst[10] = t->outer_dst[11] = 0xff;
			memcpy(t->outer_src + 12, o.src_addr, 4);
			memcpy(t->outer_dst + 12, o.dst_addr, 4);
		} else {
			memcpy(t->outer_src, o.src_addr, 16);
			memcpy(t->outer_dst, o.dst_addr, 16);
		}
	}
	if (dpfix_payload_gre_key(p, frame->data, frame->len, &key))
		t->gre_key = key;
}

/* ---- payload: http, tls, dns, app ---- */

static enum dpfix_payload_result
read_http(struct dpfix_measure *m, struct measure_common *c, uint8_t *ext, const uint8_t *pl,
		uint32_t n, int *cut)
{
	struct dpfix_http_fields f;
	struct dpfix_http_fields *h;
	enum dpfix_payload_result r;

	f.host[0] = f.user_agent[0] = '\0';
	f.status = 0;
	r = dpfix_payload_http(pl, n, &f, cut);
	if (!(m->layout.measures & DPFIX_MEASURE_HTTP) ||
			(c->text_kind != TEXT_NONE && c->text_kind != TEXT_HTTP))
		return r;
	h = &((union measure_text *)block(m, ext, BLOCK_TEXT))->http;
	if (r == DPFIX_PAYLOAD_HTTP_REQUEST && !(c->text_seen & TEXT_SEEN_REQUEST)) {
		memcpy(h->method, f.method, sizeof(f.method));
		memcpy(h->target, f.target, sizeof(f.target));
		memcpy(h->host, f.host, sizeof(f.host));
		memcpy(h->user_agent, f.user_agent, sizeof(f.user_agent));
		c->text_seen |= TEXT_SEEN_REQUEST;
		c->text_kind = TEXT_HTTP;
	} else if (r == DPFIX_PAYLOAD_HTTP_RESPONSE && !(c->text_seen & TEXT_SEEN_RESPONSE)) {
		h->status = f.status;
		c->text_seen |= TEXT_SEEN_RESPONSE;
		c->text_kind = TEXT_HTTP;
	}
	return r;
}

static enum dpfix_payload_result
read_tls(struct dpfix_measure *m, struct measure_common *c, uint8_t *ext, const uint8_t *pl,
		uint32_t n, int *cut)
{
	struct dpfix_tls_fields f;
	enum dpfix_payload_result r;

	f.sni[0] = f.alpn[0] = '\0';
	f.version = 0;
	r = dpfix_payload_tls_client_hello(pl, n, &f, cut);
	if (!(m->layout.measures & DPFIX_MEASURE_TLS) || r != DPFIX_PAYLOAD_TLS_CLIENT_HELLO ||
			(c->text_seen & TEXT_SEEN_REQUEST) ||
			(c->text_kind != TEXT_NONE && c->text_kind != TEXT_TLS))
		return r;
	((union measure_text *)block(m, ext, BLOCK_TEXT))->tls = f;
	c->text_seen |= TEXT_SEEN_REQUEST;
	c->text_kind = TEXT_TLS;
	return r;
}

static enum dpfix_payload_result
read_dns(struct dpfix_measure *m, struct measure_common *c, uint8_t *ext, const uint8_t *pl,
		uint32_t n, int tcp, int *cut)
{
	struct dpfix_dns_fields f;
	struct dpfix_dns_fields *s;
	enum dpfix_payload_result r;
	uint8_t seen;

	f.qname[0] = '\0';
	f.qtype = 0;
	f.rcode = 0;
	f.response = 0;
	r = dpfix_payload_dns(pl, n, tcp, &f, cut);
	if (!(m->layout.measures & DPFIX_MEASURE_DNS) || r != DPFIX_PAYLOAD_DNS_MESSAGE ||
			(c->text_kind != TEXT_NONE && c->text_kind != TEXT_DNS))
		return r;
	seen = f.response ? TEXT_SEEN_RESPONSE : TEXT_SEEN_REQUEST;
	if (c->text_seen & seen)
		return r;
	s = &((union measure_text *)block(m, ext, BLOCK_TEXT))->dns;
	/* The query's question, else the response's (a uniflow of responses). */
	if (s->qname[0] == '\0') {
		memcpy(s->qname, f.qname, sizeof(f.qname));
		s->qtype = f.qtype;
	}
	if (f.response) {
		s->rcode = f.rcode;
		s->response = 1;
	}
	c->text_seen |= seen;
	c->text_kind = TEXT_DNS;
	return r;
}

static uint8_t
application_of(enum dpfix_payload_result r, int tcp, const uint8_t *pl, uint32_t n)
{
	switch (r) {
	case DPFIX_PAYLOAD_HTTP_REQUEST:
	case DPFIX_PAYLOAD_HTTP_RESPONSE:
		return DPFIX_MEASURE_APP_HTTP;
	case DPFIX_PAYLOAD_TLS_CLIENT_HELLO:
		return DPFIX_MEASURE_APP_TLS;
	case DPFIX_PAYLOAD_DNS_MESSAGE:
		return DPFIX_MEASURE_APP_DNS;
	case DPFIX_PAYLOAD_NOT_IT:
		break;
	default:
		return DPFIX_MEASURE_APP_NONE;  /* malformed: not taken as the protocol */
	}
	if (tcp && dpfix_payload_is_tls(pl, n))
		return DPFIX_MEASURE_APP_TLS;   /* the server's handshake */
	if (dpfix_payload_is_ssh(pl, n))
		return DPFIX_MEASURE_APP_SSH;
	if (!tcp && dpfix_payload_is_quic(pl, n))
		return DPFIX_MEASURE_APP_QUIC;
	return DPFIX_MEASURE_APP_NONE;
}

/* A packet in the payload window, n bytes of payload at pl. */
static inline void
payload_packet(struct dpfix_measure *m, uint8_t *ext, const struct dpfix_packet_info *p,
		const uint8_t *pl, uint32_t n)
{
	struct measure_common *c = block(m, ext, BLOCK_COMMON);
	uint32_t ms = m->layout.measures;
	enum dpfix_payload_result r = DPFIX_PAYLOAD_NOT_IT;
	int tcp = p->key.protocol == IPPROTO_TCP_, cut = 0;

	if (n == 0)
		return;
	m->stats.payloads_read++;
	if (tcp && (ms & (DPFIX_MEASURE_HTTP | DPFIX_MEASURE_APP)))
		r = read_http(m, c, ext, pl, n, &cut);
	if (tcp && r == DPFIX_PAYLOAD_NOT_IT && (ms & (DPFIX_MEASURE_TLS | DPFIX_MEASURE_APP)))
		r = read_tls(m, c, ext, pl, n, &cut);
	if (r == DPFIX_PAYLOAD_NOT_IT && (ms & (DPFIX_MEASURE_DNS | DPFIX_MEASURE_APP)) &&
			(p->key.src_port == PORT_DNS || p->key.dst_port == PORT_DNS))
		r = read_dns(m, c, ext, pl, n, tcp, &cut);
	if (r != DPFIX_PAYLOAD_NOT_IT)
		m->stats.payload_results[r]++;
	if (cut)
		m->stats.values_cut++;
	if ((ms & DPFIX_MEASURE_APP) && c->application == DPFIX_MEASURE_APP_NONE)
		c->application = application_of(r, tcp, pl, n);
}

/* A record's first packets of a direction (its payload window, and the RTP search one
 * packet longer), and an RTP stream's every packet: what reads payload. */
static __attribute__((noinline)) void
payload_work(struct dpfix_measure *m, uint8_t *x, int reverse, uint64_t dir_packets,
		const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns)
{
	const uint32_t ms = m->layout.measures;
	struct measure_common *c = block(m, x, BLOCK_COMMON);
	const uint8_t *pl = NULL;
	uint32_t n = dpfix_payload_locate(p, frame->data, frame->len, &pl);

	if ((ms & DPFIX_MEASURE_RTP) && p->key.protocol == IPPROTO_UDP_ &&
			c->rtp_state[reverse] != RTP_NOT)
		rtp_packet(m, &((struct measure_rtp *)block(m, x, BLOCK_RTP))->dir[reverse],
				&c->rtp_state[reverse], dir_packets, pl, n, now_ns);
	if ((ms & (MEASURE_TEXT_MEASURES | DPFIX_MEASURE_APP)) && dir_packets <= m->payload_packets)
		payload_packet(m, x, p, pl, n);
	if ((ms & DPFIX_MEASURE_TUNNEL) && !c->tunnel_done) {
		c->tunnel_done = 1;
		tunnel_first_packet(m, x, p, frame);
	}
}

/* Every packet: its lengths and TCP flags here; the rest only in a record's first packets
 * and for RTP streams, so a flow past them costs a few tests. */
void
dpfix_measure_packet(void *ctx, const struct dpfix_flow_record *rec, void *ext, int reverse,
		const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns)
{
	struct dpfix_measure *m = ctx;
	uint8_t *x = ext;
	const uint32_t ms = m->layout.measures;
	const uint64_t dir_packets = reverse ? rec->rev_packets : rec->packets;

	if (ms & DPFIX_MEASURE_LENGTHS) {
		struct measure_lengths *l = block(m, x, BLOCK_LENGTHS);

		if (dir_packets == 1 || p->ip_octets < l->min_ip[reverse])
			l->min_ip[reverse] = p->ip_octets;
		if (p->ip_octets > l->max_ip[reverse])
			l->max_ip[reverse] = p->ip_octets;
	}
	if ((ms & DPFIX_MEASURE_TCP) && p->key.protocol == IPPROTO_TCP_)
		tcp_packet(m, x, reverse, p, now_ns);
	if (frame != NULL && (dir_packets <= m->first_packets ||
			((ms & DPFIX_MEASURE_RTP) && p->key.protocol == IPPROTO_UDP_ &&
			/* (the common block is always first: offset 0) */
			((struct measure_common *)x)->rtp_state[reverse] == RTP_YES)))
		payload_work(m, x, reverse, dir_packets, p, frame, now_ns);
}
