/* IPFIX out of a pcap or pcapng capture: link, IPv4/IPv6, UDP and TCP headers down to
 * the payload; each UDP datagram is one message, each TCP direction is reassembled in
 * order (bounded out-of-order buffer) and cut into messages. Whatever cannot be
 * decoded is counted. lib/parse gives a flow key, not payloads or TCP sequence
 * numbers, hence this small decapsulation of its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_file.h"
#include "dump.h"

#define MAX_SESSIONS 1024
#define MAX_PENDING_SEGMENTS 256
#define MAX_PENDING_BYTES (1024 * 1024)   /* out-of-order data per TCP stream */
#define STREAM_BUFFER (2 * DPFIX_IPFIX_MAX_MESSAGE)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

struct flow_id {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, family;
};

struct segment {
	uint32_t seq;
	uint32_t len;
	uint8_t *data;
};

/* One direction of a TCP connection, reassembled. */
struct tcp_stream {
	int started;
	int broken;             /* after a gap or a framing error: nothing more is decoded */
	int ended;              /* FIN or RST seen */
	uint32_t next_seq;
	uint64_t offset;        /* stream offset of buf[0] */
	uint8_t *buf;           /* in order, not yet a whole message */
	size_t len;
	struct segment pending[MAX_PENDING_SEGMENTS];
	unsigned int nb_pending;
	size_t pending_bytes;
};

struct capture_session {
	struct flow_id id;
	struct dump_session s;
	struct tcp_stream *tcp;
};

static struct capture_session *sessions[MAX_SESSIONS];
static unsigned int nb_sessions;
static uint64_t packet_number;

struct dump_counters dump_counters;

/* Serial-number order of TCP sequence numbers. */
static inline int32_t
seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void
format_flow(const struct flow_id *f, char *out, size_t outlen)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	inet_ntop(f->family, f->src, src, sizeof(src));
	inet_ntop(f->family, f->dst, dst, sizeof(dst));
	snprintf(out, outlen, f->family == AF_INET6 ? "%s [%s]:%u > [%s]:%u" : "%s %s:%u > %s:%u",
			f->proto == IPPROTO_TCP ? "tcp" : "udp", src, f->sport, dst, f->dport);
}

static struct capture_session *
find_session(const struct flow_id *id)
{
	struct capture_session *c;

	for (unsigned int i = 0; i < nb_sessions; i++)
		if (memcmp(&sessions[i]->id, id, sizeof(*id)) == 0)
			return sessions[i];
	if (nb_sessions == MAX_SESSIONS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->id = *id;
	/* The collector's template rules for the transport; templates do not expire in a
	 * capture (its time may span anything). */
	c->s.decoder = dpfix_ipfix_decoder_create_params(&(struct dpfix_ipfix_decoder_params){
		.transport = dpfix_ipfix_transport_of_protocol(id->proto),
	});
	if (id->proto == IPPROTO_TCP) {
		c->tcp = calloc(1, sizeof(*c->tcp));
		dump_counters.tcp_streams++;
	}
	if (c->s.decoder == NULL || (id->proto == IPPROTO_TCP && c->tcp == NULL)) {
		dpfix_ipfix_decoder_free(c->s.decoder);
		free(c->tcp);
		free(c);
		return NULL;
	}
	format_flow(id, c->s.name, sizeof(c->s.name));
	sessions[nb_sessions++] = c;
	return c;
}

static void
udp_payload(struct capture_session *c, const uint8_t *p, size_t len)
{
	char where[64], err[128];
	int n = dpfix_ipfix_frame(p, len, err, sizeof(err));

	snprintf(where, sizeof(where), "packet %" PRIu64, packet_number);
	if (n <= 0 || (size_t)n != len) {
		dump_counters.udp_not_ipfix++;
		if (n < 0)
			dump_error("%s: %s: not IPFIX: %s", c->s.name, where, err);
		else
			dump_error("%s: %s: datagram of %zu bytes holds a message of %u bytes: a UDP "
					"datagram must carry exactly one message", c->s.name, where, len,
					len >= 4 ? dpfix_get16(p + 2) : 0);
		return;
	}
	dump_message(&c->s, p, len, where);
}

/* Cuts whole messages off the front of the stream's buffer. */
static void
tcp_deliver(struct capture_session *c)
{
	struct tcp_stream *t = c->tcp;
	size_t off = 0;
	char where[64], err[128];

	while (!t->broken) {
		int n = dpfix_ipfix_frame(t->buf + off, t->len - off, err, sizeof(err));

		if (n == 0)
			break;
		if (n < 0) {
			dump_counters.tcp_framing_errors++;
			dump_counters.tcp_bytes_not_decoded += t->len - off;
			dump_error("%s: stream offset %" PRIu64 ": %s: the rest of the stream is not "
					"decoded", c->s.name, t->offset + off, err);
			t->broken = 1;
			break;
		}
		snprintf(where, sizeof(where), "stream offset %" PRIu64, t->offset + off);
		dump_message(&c->s, t->buf + off, (size_t)n, where);
		off += (size_t)n;
	}
	if (t->broken) {
		t->len = 0;
		return;
	}
	memmove(t->buf, t->buf + off, t->len - off);
	t->len -= off;
	t->offset += off;
}

static void
tcp_append(struct capture_session *c, const uint8_t *p, size_t len)
{
	struct tcp_stream *t = c->tcp;

	while (len > 0 && !t->broken) {
		size_t take = STREAM_BUFFER - t->len;

		if (take > len)
			take = len;
		memcpy(t->buf + t->len, p, take);
		t->len += take;
		t->next_seq += (uint32_t)take;
		p += take;
		len -= take;
		tcp_deliver(c); /* leaves less than one whole message: room for more */
	}
	dump_counters.tcp_bytes_not_decoded += len; /* what a framing error left */
}

static void
free_pending(struct tcp_stream *t)
{
	for (unsigned int i = 0; i < t->nb_pending; i++)
		free(t->pending[i].data);
	t->nb_pending = 0;
	t->pending_bytes = 0;
}

/* Data we will never see: the stream cannot be framed past it. */
static void
tcp_gap(struct capture_session *c, uint32_t missing)
{
	struct tcp_stream *t = c->tcp;
	uint64_t rest = t->pending_bytes;

	dump_counters.tcp_gap_bytes += missing;
	dump_counters.tcp_bytes_not_decoded += rest;
	dump_error("%s: stream offset %" PRIu64 ": %u bytes missing from the capture: the rest "
			"of the stream is not decoded", c->s.name, t->offset + t->len, missing);
	t->broken = 1;
	t->len = 0;
	free_pending(t);
}

/* Appends every pending segment that has become contiguous. */
static void
tcp_drain_pending(struct capture_session *c)
{
	struct tcp_stream *t = c->tcp;
	int progress = 1;

	while (progress && !t->broken) {
		progress = 0;
		for (unsigned int i = 0; i < t->nb_pending; i++) {
			struct segment s = t->pending[i];
			int32_t skip = seq_diff(t->next_seq, s.seq);

			if (skip < 0)
				continue;
			t->pending[i] = t->pending[--t->nb_pending];
			t->pending_bytes -= s.len;
			if ((uint32_t)skip < s.len)
				tcp_append(c, s.data + skip, s.len - (uint32_t)skip);
			free(s.data);
			progress = 1;
			break;
		}
	}
}

static void
tcp_segment(struct capture_session *c, uint32_t seq, uint8_t flags, const uint8_t *p, size_t len)
{
	struct tcp_stream *t = c->tcp;
	int32_t ahead;

	if (t->buf == NULL && (t->buf = malloc(STREAM_BUFFER)) == NULL) {
		dump_error("%s: no memory for the stream", c->s.name);
		t->broken = 1;
	}
	if (flags & TCP_SYN)
		seq++; /* the SYN takes one sequence number; any data follows it */
	if (!t->started) {
		/* Without the SYN (capture started mid-stream) the first segment is the start. */
		t->started = 1;
		t->next_seq = seq;
	}
	if (t->broken) {
		dump_counters.tcp_bytes_not_decoded += len;
		return;
	}
	if (flags & (TCP_FIN | TCP_RST))
		t->ended = 1;
	if (len == 0)
		return;
	ahead = seq_diff(seq, t->next_seq);
	if (ahead <= 0) {
		/* In order, or a retransmission overlapping what we have: keep the new part. */
		if ((size_t)-ahead < len)
			tcp_append(c, p + -ahead, len - (size_t)-ahead);
		tcp_drain_pending(c);
		return;
	}
	if (t->nb_pending == MAX_PENDING_SEGMENTS || t->pending_bytes + len > MAX_PENDING_BYTES) {
		dump_counters.tcp_out_of_order_dropped++;
		tcp_gap(c, (uint32_t)ahead);
		dump_counters.tcp_bytes_not_decoded += len;
		return;
	}
	t->pending[t->nb_pending].data = malloc(len);
	if (t->pending[t->nb_pending].data == NULL) {
		dump_counters.tcp_out_of_order_dropped++;
		tcp_gap(c, (uint32_t)ahead);
		return;
	}
	memcpy(t->pending[t->nb_pending].data, p, len);
	t->pending[t->nb_pending].seq = seq;
	t->pending[t->nb_pending].len = (uint32_t)len;
	t->nb_pending++;
	t->pending_bytes += len;
}

/* At the end of the capture: segments still waiting mean data was never captured;
 * a partial message means the stream (or the capture) ended inside it. */
static void
tcp_finish(struct capture_session *c)
{
	struct tcp_stream *t = c->tcp;
	uint32_t first = 0;

	if (!t->broken && t->nb_pending > 0) {
		first = t->pending[0].seq;
		for (unsigned int i = 1; i < t->nb_pending; i++)
			if (seq_diff(t->pending[i].seq, first) < 0)
				first = t->pending[i].seq;
		tcp_gap(c, (uint32_t)seq_diff(first, t->next_seq));
	}
	if (!t->broken && t->len > 0) {
		dump_counters.tcp_truncated_streams++;
		dump_error("%s: stream offset %" PRIu64 ": the %s ends %zu bytes into a message",
				c->s.name, t->offset, t->ended ? "stream" : "capture", t->len);
	}
	free_pending(t);
	free(t->buf);
	t->buf = NULL;
}

static int
port_selected(const struct flow_id *id, const uint16_t *ports, unsigned int nb_ports)
{
	if (nb_ports == 0)
		return 1;
	for (unsigned int i = 0; i < nb_ports; i++)
		if (ports[i] == id->sport || ports[i] == id->dport)
			return 1;
	return 0;
}

/* A fragment cannot be decoded (not reassembled). A first fragment has the ports, so
 * --port can tell whether it matters; a later one cannot be attributed: it counts only
 * when every port is of interest. */
static void
fragment(int family, unsigned int nb_ports, int first)
{
	if (!first && nb_ports != 0) {
		dump_counters.packets_ignored++;
		return;
	}
	dump_counters.ip_fragments++;
	dump_error("packet %" PRIu64 ": IPv%d fragment: not reassembled", packet_number,
			family == AF_INET ? 4 : 6);
}

/* Transport layer: proto's header at p (len bytes up to the end of the IP payload, or
 * of the fragment when first_fragment). */
static void
transport(struct flow_id *id, const uint8_t *p, size_t len, const uint16_t *ports,
		unsigned int nb_ports, int first_fragment)
{
	struct capture_session *c;
	size_t hlen;

	if (id->proto != IPPROTO_UDP && id->proto != IPPROTO_TCP) {
		dump_counters.packets_ignored++;
		return;
	}
	hlen = id->proto == IPPROTO_UDP ? 8 : 20;
	if (len < hlen || (id->proto == IPPROTO_TCP && (hlen = (size_t)(p[12] >> 4) * 4) < 20) ||
			len < hlen) {
		dump_counters.packets_malformed++;
		dump_error("packet %" PRIu64 ": %s header cut short or malformed", packet_number,
				id->proto == IPPROTO_UDP ? "UDP" : "TCP");
		return;
	}
	id->sport = dpfix_get16(p);
	id->dport = dpfix_get16(p + 2);
	if (!port_selected(id, ports, nb_ports)) {
		dump_counters.packets_ignored++;
		return;
	}
	if (first_fragment) {
		fragment(id->family, nb_ports, 1);
		return;
	}
	if (id->proto == IPPROTO_UDP) {
		size_t ulen = dpfix_get16(p + 4);

		if (ulen < 8 || ulen > len) {
			dump_counters.packets_malformed++;
			dump_error("packet %" PRIu64 ": UDP length %zu outside 8..%zu", packet_number,
					ulen, len);
			return;
		}
		len = ulen;
	}
	c = find_session(id);
	if (c == NULL) {
		dump_counters.sessions_over_limit++;
		return;
	}
	if (id->proto == IPPROTO_UDP)
		udp_payload(c, p + 8, len - 8);
	else
		tcp_segment(c, dpfix_get32(p + 4), p[13], p + hlen, len - hlen);
}

static void
ipv4(const uint8_t *p, size_t len, const uint16_t *ports, unsigned int nb_ports)
{
	struct flow_id id = {.family = AF_INET};
	size_t hlen, total;
	uint16_t frag;

	if (len < 20 || (p[0] >> 4) != 4 || (hlen = (size_t)(p[0] & 0xf) * 4) < 20 || hlen > len ||
			(total = dpfix_get16(p + 2)) < hlen || total > len) {
		dump_counters.packets_malformed++;
		dump_error("packet %" PRIu64 ": IPv4 header cut short or malformed", packet_number);
		return;
	}
	frag = dpfix_get16(p + 6) & 0x3fff; /* more fragments, and the offset */
	if (frag & 0x1fff) {
		fragment(AF_INET, nb_ports, 0);
		return;
	}
	id.proto = p[9];
	memcpy(id.src, p + 12, 4);
	memcpy(id.dst, p + 16, 4);
	/* total, not len: Ethernet pads short frames. */
	transport(&id, p + hlen, total - hlen, ports, nb_ports, frag != 0);
}

static void
ipv6(const uint8_t *p, size_t len, const uint16_t *ports, unsigned int nb_ports)
{
	struct flow_id id = {.family = AF_INET6};
	size_t off = 40, end;
	uint8_t next;
	int first_fragment = 0;

	if (len < 40 || (p[0] >> 4) != 6 || (end = 40 + (size_t)dpfix_get16(p + 4)) > len) {
		dump_counters.packets_malformed++;
		dump_error("packet %" PRIu64 ": IPv6 header cut short or malformed", packet_number);
		return;
	}
	memcpy(id.src, p + 8, 16);
	memcpy(id.dst, p + 24, 16);
	next = p[6];
	/* Hop-by-hop, routing and destination options: skipped. */
	while (next == 0 || next == 43 || next == 60) {
		if (end - off < 8 || end - off < (size_t)(p[off + 1] + 1) * 8) {
			dump_counters.packets_malformed++;
			dump_error("packet %" PRIu64 ": IPv6 extension header cut short", packet_number);
			return;
		}
		next = p[off];
		off += (size_t)(p[off + 1] + 1) * 8;
	}
	if (next == 44) {
		if (end - off < 8) {
			dump_counters.packets_malformed++;
			dump_error("packet %" PRIu64 ": IPv6 fragment header cut short", packet_number);
			return;
		}
		if (dpfix_get16(p + off + 2) >> 3) {
			fragment(AF_INET6, nb_ports, 0);
			return;
		}
		first_fragment = 1;
		next = p[off];
		off += 8;
	}
	id.proto = next;
	transport(&id, p + off, end - off, ports, nb_ports, first_fragment);
}

static void
network(uint16_t ethertype, const uint8_t *p, size_t len, const uint16_t *ports,
		unsigned int nb_ports)
{
	if (ethertype == 0x0800)
		ipv4(p, len, ports, nb_ports);
	else if (ethertype == 0x86dd)
		ipv6(p, len, ports, nb_ports);
	else
		dump_counters.packets_ignored++;
}

static void
packet(int linktype, const uint8_t *p, size_t len, const uint16_t *ports, unsigned int nb_ports)
{
	size_t off;
	uint16_t type;

	switch (linktype) {
	case DLT_EN10MB:
		if (len < 14)
			goto short_link;
		type = dpfix_get16(p + 12);
		off = 14;
		while (type == 0x8100 || type == 0x88a8) { /* VLAN tags */
			if (len - off < 4)
				goto short_link;
			type = dpfix_get16(p + off + 2);
			off += 4;
		}
		network(type, p + off, len - off, ports, nb_ports);
		return;
	case DLT_LINUX_SLL:
		if (len < 16)
			goto short_link;
		network(dpfix_get16(p + 14), p + 16, len - 16, ports, nb_ports);
		return;
	case DLT_LINUX_SLL2:
		if (len < 20)
			goto short_link;
		network(dpfix_get16(p), p + 20, len - 20, ports, nb_ports);
		return;
	case DLT_NULL:
	case DLT_LOOP:
		if (len < 4)
			goto short_link;
		/* The address family, in the capturing host's order (DLT_NULL) or network
		 * order (DLT_LOOP): 2 is IPv4, 10, 24, 28 or 30 are IPv6 on various systems. */
		type = (uint16_t)(p[0] | p[3]);
		network(type == 2 ? 0x0800 : 0x86dd, p + 4, len - 4, ports, nb_ports);
		return;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (len < 1)
			goto short_link;
		network((p[0] >> 4) == 6 ? 0x86dd : 0x0800, p, len, ports, nb_ports);
		return;
	default:
		dump_counters.packets_ignored++;
		return;
	}
short_link:
	dump_counters.packets_malformed++;
	dump_error("packet %" PRIu64 ": link-layer header cut short", packet_number);
}

int
dump_pcap(FILE *in, const uint16_t *ports, unsigned int nb_ports)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_fopen_offline(in, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int linktype, ret;

	if (pc == NULL) {
		dump_counters.input_errors++;
		dump_error("not a readable capture: %s", errbuf);
		return -1;
	}
	linktype = pcap_datalink(pc);
	while ((ret = pcap_next_ex(pc, &h, &data)) == 1) {
		packet_number++;
		dump_counters.packets++;
		if (h->caplen < h->len) {
			dump_counters.packets_truncated++;
			dump_error("packet %" PRIu64 ": %u of its %u bytes captured (snapshot length): "
					"not decoded", packet_number, h->caplen, h->len);
			continue;
		}
		packet(linktype, data, h->caplen, ports, nb_ports);
	}
	if (ret == PCAP_ERROR) {
		dump_counters.input_errors++;
		dump_error("after packet %" PRIu64 ": the capture is truncated or corrupt: %s",
				packet_number, pcap_geterr(pc));
	}
	for (unsigned int i = 0; i < nb_sessions; i++)
		if (sessions[i]->tcp != NULL)
			tcp_finish(sessions[i]);
	/* pcap_close closes in: the caller must not. */
	pcap_close(pc);
	return 0;
}

void
dump_pcap_foreach_session(void (*fn)(struct dump_session *s, void *ctx), void *ctx)
{
	for (unsigned int i = 0; i < nb_sessions; i++)
		fn(&sessions[i]->s, ctx);
}

void
dump_pcap_free(void)
{
	for (unsigned int i = 0; i < nb_sessions; i++) {
		dpfix_ipfix_decoder_free(sessions[i]->s.decoder);
		free(sessions[i]->tcp);
		free(sessions[i]);
	}
	nb_sessions = 0;
}
