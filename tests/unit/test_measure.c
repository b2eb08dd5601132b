/* Unit tests for lib/measure on a real flow table (hugepage-free DPDK EAL): frames built
 * byte by byte, parsed, metered with their bytes, each record's extension emitted with
 * it and encoded by the measured schema, every value read back from the encoded record
 * by its element: TCP flag counts and handshake round-trip times (uniflow, where the
 * SYN/ACK finds the initiator's record, and biflow), lengths and durations, HTTP, TLS
 * and DNS values, applicationIds, tunnels, RTP jitter against RFC 3550's recurrence,
 * the payload window, and a restarted record starting afresh. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dpfix_measure.h"
#include "dpfix_measure_schema.h"
#include "frame_build.h"
#include "unit_test.h"

#define NEVER 1000000000000ull
#define T0 1763800000000000000ull       /* packet times: ns */
#define MAX_EMITTED 64
#define ELEM_MAX 2048

struct sink {
	uint32_t n, elem_size;
	uint8_t elems[MAX_EMITTED][ELEM_MAX];
};

static struct sink sink;

static int
sink_emit(void *ctx, const struct dpfix_flow_record *rec, const void *ext)
{
	struct sink *s = ctx;

	CHECK(ext != NULL);
	if (s->n < MAX_EMITTED) {
		memcpy(s->elems[s->n], rec, sizeof(*rec));
		memcpy(s->elems[s->n] + sizeof(*rec), ext, s->elem_size - sizeof(*rec));
	}
	s->n++;
	return 1;
}

/* A table measuring `measures`, with its measure context and the schemas of its records. */
struct bench {
	struct dpfix_flow_table *t;
	struct dpfix_measure m;
	struct dpfix_ipfix_schema schema[2];    /* IPv4, IPv6 */
	int biflow;
};

static void
bench_init(struct bench *b, const char *name, uint32_t measures, int biflow, uint32_t payload,
		uint64_t active_ns, int vxlan_inner)
{
	static uint32_t table_no;
	char tname[64];

	memset(b, 0, sizeof(*b));
	b->biflow = biflow;
	CHECK(dpfix_measure_init(&b->m, &(struct dpfix_measure_params){.measures = measures,
		.payload_packets = payload, .biflow = biflow,
		.parse_cfg = {.vxlan_inner = (uint8_t)vxlan_inner, .vxlan_port = DPFIX_VXLAN_PORT}}) == 0);
	snprintf(tname, sizeof(tname), "%s%u", name, table_no++);
	b->t = dpfix_flow_table_create(&(struct dpfix_flow_params){
		.name = tname, .capacity = 1024, .socket = -1, .idle_ns = NEVER,
		.active_ns = active_ns, .tcp_end_ns = NEVER, .biflow = biflow, .emit = sink_emit,
		.emit_ctx = &sink, .hash_seed = 7, .ext_size = b->m.layout.size,
		.on_packet = dpfix_measure_packet, .on_packet_ctx = &b->m});
	CHECK(b->t != NULL);
	dpfix_measure_set_table(&b->m, b->t);
	for (int v = 0; v < 2; v++)
		CHECK(dpfix_measure_flow_schema(&b->schema[v], (uint16_t)(300 + v),
				&(struct dpfix_flow_schema_params){.ip_version = v ? 6 : 4,
				.biflow = biflow}, &b->m.layout) == 0);
	sink.n = 0;
	sink.elem_size = (uint32_t)sizeof(struct dpfix_flow_record) + b->m.layout.size;
	CHECK(sink.elem_size <= ELEM_MAX);
}

/* Meters frame fr at time t (ns after T0). */
static void
meter(struct bench *b, const struct frame *fr, uint64_t t)
{
	struct dpfix_parse_config cfg = {.vxlan_inner = b->m.parse_cfg.vxlan_inner,
		.vxlan_port = DPFIX_VXLAN_PORT};
	struct dpfix_packet_info p;
	struct dpfix_flow_frame f = {fr->b, fr->len};
	uint64_t now = T0 + t;

	CHECK(dpfix_parse_ethernet(&cfg, fr->b, fr->len, fr->len, 0, &p) == DPFIX_PARSE_OK);
	CHECK(dpfix_flow_table_update_bulk_frames(b->t, &p, &f, &now, 1, 0) == 0);
}

static void
bench_end(struct bench *b)
{
	CHECK(dpfix_flow_table_flush(b->t, DPFIX_FLOW_END_FORCED) == 0);
	dpfix_flow_table_free(b->t);
}

/* The emitted record from src_port to dst_port, encoded by its schema into out. */
static const struct dpfix_ipfix_schema *
record(struct bench *b, uint16_t src_port, uint16_t dst_port, uint8_t *out)
{
	for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++) {
		const struct dpfix_flow_record *r = (const void *)sink.elems[i];

		if (r->key.src_port == src_port && r->key.dst_port == dst_port) {
			const struct dpfix_ipfix_schema *s = &b->schema[r->key.ip_version == 6];

			CHECK(dpfix_ipfix_schema_encode(s, sink.elems[i], out) <= s->max_length);
			return s;
		}
	}
	CHECK(!"no such record");
	return NULL;
}

/* Field (pen, id) of encoded record rec of schema s: its bytes and length. */
static const uint8_t *
field(const struct dpfix_ipfix_schema *s, const uint8_t *rec, uint32_t pen, uint16_t id,
		uint32_t *len)
{
	const uint8_t *p = rec;

	if (s == NULL)
		return NULL;
	for (uint16_t g = 0; g < s->group_count; g++)
		for (uint16_t k = 0; k < s->groups[g].field_count; k++) {
			const struct dpfix_ipfix_field_spec *f = &s->groups[g].fields[k];
			uint32_t n = f->length;

			if (n == DPFIX_IPFIX_VARLEN)
				n = *p++;
			if (f->pen == pen && f->id == id) {
				*len = n;
				return p;
			}
			p += n;
		}
	CHECK(!"no such field");
	*len = 0;
	return NULL;
}

static uint64_t
num(const struct dpfix_ipfix_schema *s, const uint8_t *rec, uint32_t pen, uint16_t id)
{
	uint32_t len;
	const uint8_t *p = field(s, rec, pen, id, &len);
	uint64_t v = 0;

	for (uint32_t i = 0; p != NULL && i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static int
str_is(const struct dpfix_ipfix_schema *s, const uint8_t *rec, uint32_t pen, uint16_t id,
		const char *want)
{
	uint32_t len;
	const uint8_t *p = field(s, rec, pen, id, &len);

	if (p == NULL || len != strlen(want) || memcmp(p, want, len) != 0) {
		fprintf(stderr, "  field %u:%u is '%.*s', want '%s'\n", pen, id, (int)len,
				p ? (const char *)p : "", want);
		return 0;
	}
	return 1;
}

#define REV DPFIX_IPFIX_PEN_REVERSE
#define DPFIX DPFIX_MEASURE_PEN_DPFIX
#define CESNET DPFIX_MEASURE_PEN_CESNET
#define FLOWMON DPFIX_MEASURE_PEN_FLOWMON

/* An IPv4 TCP segment (client 192.0.2.1:cport <-> server 198.51.100.7:sport) with n
 * payload bytes from data (NULL: pattern), from the client unless from_server. */
static void
tcp_frame(struct frame *f, int from_server, uint16_t cport, uint16_t sport, uint8_t flags,
		const char *data, uint32_t n)
{
	eth(f);
	ethertype(f, ETH_IPV4);
	ipv4(f, PROTO_TCP, 0, 64, 0, 0);
	if (from_server) {
		memcpy(f->b + f->ip_off + 12, v4_dst, 4);
		memcpy(f->b + f->ip_off + 16, v4_src, 4);
		tcp(f, sport, cport, flags);
	} else {
		tcp(f, cport, sport, flags);
	}
	if (data != NULL)
		put_bytes(f, (const uint8_t *)data, n);
	else
		payload(f, n);
	ip_end(f);
}

static void
udp_frame(struct frame *f, int from_server, uint16_t cport, uint16_t sport, const uint8_t *data,
		uint32_t n)
{
	eth(f);
	ethertype(f, ETH_IPV4);
	ipv4(f, PROTO_UDP, 0, 64, 0, 0);
	if (from_server) {
		memcpy(f->b + f->ip_off + 12, v4_dst, 4);
		memcpy(f->b + f->ip_off + 16, v4_src, 4);
		udp(f, sport, cport, (uint16_t)n);
	} else {
		udp(f, cport, sport, (uint16_t)n);
	}
	put_bytes(f, data, n);
	ip_end(f);
}

static void
test_layout(void)
{
	struct dpfix_measure_layout l, all;
	uint32_t sum = 0, text = 0;

	dpfix_measure_layout_init(&l, 0);
	CHECK(l.size == 0 && l.measures == 0);
	CHECK(dpfix_measure_bytes(DPFIX_MEASURE_TCP) == 80);
	CHECK(dpfix_measure_bytes(DPFIX_MEASURE_LENGTHS) == 16);
	CHECK(dpfix_measure_bytes(DPFIX_MEASURE_RTP) == 64);
	CHECK(dpfix_measure_bytes(DPFIX_MEASURE_TUNNEL) == 48);
	CHECK(dpfix_measure_bytes(DPFIX_MEASURE_APP) == 0);
	for (int m = 0; m < DPFIX_MEASURE_COUNT; m++) {
		uint32_t n = dpfix_measure_bytes(1u << m);

		if ((1u << m) & (DPFIX_MEASURE_HTTP | DPFIX_MEASURE_TLS | DPFIX_MEASURE_DNS))
			text = n > text ? n : text;
		else
			sum += n;
	}
	/* http, tls and dns share one block: the largest. */
	dpfix_measure_layout_init(&all, ~0u);
	CHECK_EQ_U64(all.size, 8 + sum + text);
	CHECK(all.measures == (1u << DPFIX_MEASURE_COUNT) - 1);
	CHECK(dpfix_measure_init(&(struct dpfix_measure){0}, &(struct dpfix_measure_params){
		.measures = 0, .payload_packets = 4}) == -EINVAL);
	CHECK(dpfix_measure_init(&(struct dpfix_measure){0}, &(struct dpfix_measure_params){
		.measures = DPFIX_MEASURE_TCP, .payload_packets = 0}) == -EINVAL);
	CHECK(strcmp(dpfix_measure_names[DPFIX_MEASURE_BIT_RTP], "rtp") == 0);
	CHECK(dpfix_measure_names[DPFIX_MEASURE_COUNT] == NULL);
}

static void
test_schema(void)
{
	struct dpfix_measure_layout l;
	struct dpfix_ipfix_schema plain, s;
	struct dpfix_flow_selectors sel = {0};
	const struct dpfix_flow_schema_params p = {.ip_version = 6, .biflow = 1, .selectors = &sel};

	/* Every measure, biflow and selectorId: within the group and length limits, the
	 * flow's own groups first and unchanged. */
	dpfix_measure_layout_init(&l, ~0u);
	CHECK(dpfix_flow_schema(&plain, 256, &p) == 0);
	CHECK(dpfix_measure_flow_schema(&s, 269, &p, &l) == 0);
	CHECK(s.group_count == plain.group_count + 11);
	for (uint16_t g = 0; g < plain.group_count; g++)
		CHECK(s.groups[g].fields == plain.groups[g].fields);
	CHECK(s.field_count == plain.field_count + 6 + 2 + 6 + 5 + 3 + 3 + 1 + 3 + 3 + 4 + 1 + 1);
	/* The longest record counts the strings at their bounds, not 254 octets each. */
	CHECK(s.max_length <= DPFIX_IPFIX_ENCODE_APART_MAX);
	CHECK_EQ_U64(dpfix_measure_flow_record_max(&s, &l), s.max_length - (254 - 8) -
			(254 - 63) - 2 * (254 - 127) - (254 - 127) - (254 - 31) - (254 - 127));
	/* The longest: IPv6 biflow with selectorId (130), tcp 32 + 24, http 331, tls 162,
	 * dns 131, app 4, lengths 12 + 12, tunnel 44, rtp 4 + 4 (doc/measures.md). */
	CHECK_EQ_U64(dpfix_measure_flow_record_max(&s, &l), 890);
	dpfix_measure_layout_init(&l, 0);
	CHECK(dpfix_measure_flow_schema(&s, 256, &p, &l) == 0);
	CHECK(s.field_count == plain.field_count && s.max_length == plain.max_length);
	CHECK(dpfix_measure_flow_record_max(&s, &l) == plain.max_length);
	CHECK(dpfix_measure_application_names_schema(&s, 270) == 0 && s.scope_count == 1);
	CHECK(dpfix_measure_application_name_count == 5);
	CHECK(dpfix_measure_application_names[1].application_id == (13u << 24 | 2));
}

/* SYN at 0, SYN/ACK 1.234567 ms later, ACK 2.345678 ms after that, then a request and a
 * reply with PSH, and a FIN each way. */
static void
handshake(struct bench *b)
{
	struct frame f;

	tcp_frame(&f, 0, 40000, 80, TCP_SYN, NULL, 0);
	meter(b, &f, 0);
	tcp_frame(&f, 1, 40000, 80, TCP_SYN | TCP_ACK, NULL, 0);
	meter(b, &f, 1234567);
	tcp_frame(&f, 0, 40000, 80, TCP_ACK, NULL, 0);
	meter(b, &f, 1234567 + 2345678);
	tcp_frame(&f, 0, 40000, 80, TCP_ACK | TCP_PSH, NULL, 100);
	meter(b, &f, 5000000);
	tcp_frame(&f, 1, 40000, 80, TCP_ACK | TCP_PSH, NULL, 1000);
	meter(b, &f, 6000000);
	tcp_frame(&f, 0, 40000, 80, TCP_ACK | TCP_FIN | 0x20, NULL, 0);
	meter(b, &f, 7000000);
	tcp_frame(&f, 1, 40000, 80, TCP_ACK | TCP_FIN, NULL, 0);
	meter(b, &f, 8000000);
}

static void
test_tcp_uniflow(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;

	bench_init(&b, "tcp_uni", DPFIX_MEASURE_TCP | DPFIX_MEASURE_LENGTHS, 0, 4, NEVER, 0);
	handshake(&b);
	bench_end(&b);
	CHECK(sink.n == 2);
	/* The initiator's record: its flags, and both sides of the handshake. */
	s = record(&b, 40000, 80, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpSynTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpAckTotalCount), 3);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpPshTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpFinTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpUrgTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpRstTotalCount), 0);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_SERVER_RTT), 1234);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_CLIENT_RTT), 2345);
	CHECK_EQ_U64(num(s, rec, 0, IE_minimumIpTotalLength), 40);
	CHECK_EQ_U64(num(s, rec, 0, IE_maximumIpTotalLength), 140);
	CHECK_EQ_U64(num(s, rec, 0, IE_flowDurationMicroseconds), 7000);
	/* The responder's: its own flags, no handshake times. */
	s = record(&b, 80, 40000, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpSynTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpAckTotalCount), 3);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpFinTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_SERVER_RTT), 0);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_CLIENT_RTT), 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_maximumIpTotalLength), 1040);
	CHECK_EQ_U64(num(s, rec, 0, IE_flowDurationMicroseconds), (8000000 - 1234567) / 1000);
}

static void
test_tcp_biflow(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f;

	bench_init(&b, "tcp_bi", DPFIX_MEASURE_TCP | DPFIX_MEASURE_LENGTHS, 1, 4, NEVER, 0);
	handshake(&b);
	/* A SYN retransmitted after the SYN/ACK changes nothing of the handshake. */
	tcp_frame(&f, 0, 40000, 80, TCP_SYN, NULL, 0);
	meter(&b, &f, 9000000);
	bench_end(&b);
	CHECK(sink.n == 1);
	s = record(&b, 40000, 80, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpSynTotalCount), 2);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpAckTotalCount), 3);
	CHECK_EQ_U64(num(s, rec, REV, IE_tcpSynTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, REV, IE_tcpAckTotalCount), 3);
	CHECK_EQ_U64(num(s, rec, REV, IE_tcpPshTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, REV, IE_tcpFinTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_SERVER_RTT), 1234);
	CHECK_EQ_U64(num(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_CLIENT_RTT), 2345);
	CHECK_EQ_U64(num(s, rec, 0, IE_maximumIpTotalLength), 140);
	CHECK_EQ_U64(num(s, rec, REV, IE_minimumIpTotalLength), 40);
	CHECK_EQ_U64(num(s, rec, REV, IE_maximumIpTotalLength), 1040);
	CHECK_EQ_U64(num(s, rec, 0, IE_flowDurationMicroseconds), 9000);
	CHECK_EQ_U64(num(s, rec, REV, IE_flowDurationMicroseconds), (8000000 - 1234567) / 1000);
}

static void
test_http_tls(void)
{
	static const char req[] = "POST /api/v1?x=1 HTTP/1.1\r\nHost: api.example.com\r\n"
			"User-Agent: probe-test/1.0\r\nContent-Length: 0\r\n\r\n";
	static const char resp[] = "HTTP/1.1 201 Created\r\n\r\n";
	static const char second[] = "GET /second HTTP/1.1\r\nHost: other\r\n\r\n";
	static const uint8_t hello[] = {
		22, 3, 1, 0, 56, 1, 0, 0, 52, 3, 3,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		0, 0, 2, 0x13, 0x01, 1, 0, 0, 9,
		0, 0, 0, 5, 0, 3, 0, 0, 0};     /* server_name with an empty list: no SNI */
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f;

	for (int biflow = 0; biflow < 2; biflow++) {
		bench_init(&b, "http", DPFIX_MEASURE_HTTP | DPFIX_MEASURE_TLS | DPFIX_MEASURE_APP,
				biflow, 4, NEVER, 0);
		tcp_frame(&f, 0, 41000, 8080, TCP_SYN, NULL, 0);
		meter(&b, &f, 0);
		tcp_frame(&f, 0, 41000, 8080, TCP_ACK, req, sizeof(req) - 1);
		meter(&b, &f, 1000);
		tcp_frame(&f, 1, 41000, 8080, TCP_ACK, resp, sizeof(resp) - 1);
		meter(&b, &f, 2000);
		/* A second request on the connection: the first one's values stay. */
		tcp_frame(&f, 0, 41000, 8080, TCP_ACK, second, sizeof(second) - 1);
		meter(&b, &f, 3000);
		/* A TLS ClientHello without SNI on another connection. */
		tcp_frame(&f, 0, 41001, 443, TCP_ACK, (const char *)hello, sizeof(hello));
		meter(&b, &f, 4000);
		bench_end(&b);
		s = record(&b, 41000, 8080, rec);
		CHECK(str_is(s, rec, 0, IE_httpRequestMethod, "POST"));
		CHECK(str_is(s, rec, 0, IE_httpRequestTarget, "/api/v1?x=1"));
		CHECK(str_is(s, rec, 0, IE_httpRequestHost, "api.example.com"));
		CHECK(str_is(s, rec, 0, IE_httpUserAgent, "probe-test/1.0"));
		CHECK_EQ_U64(num(s, rec, 0, IE_httpStatusCode), biflow ? 201 : 0);
		CHECK(str_is(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_TLS_SNI, ""));
		/* Content says HTTP on port 8080. */
		CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_HTTP);
		if (!biflow) {
			s = record(&b, 8080, 41000, rec);
			CHECK_EQ_U64(num(s, rec, 0, IE_httpStatusCode), 201);
			CHECK(str_is(s, rec, 0, IE_httpRequestHost, ""));
			CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_HTTP);
		}
		s = record(&b, 41001, 443, rec);
		CHECK(str_is(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_TLS_SNI, ""));
		CHECK_EQ_U64(num(s, rec, FLOWMON, DPFIX_MEASURE_IE_FLOWMON_TLS_CLIENT_VERSION), 0x0303);
		CHECK(str_is(s, rec, 0, IE_httpRequestMethod, ""));
		CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_TLS);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_HTTP_REQUEST], 2);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_HTTP_RESPONSE], 1);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_TLS_CLIENT_HELLO], 1);
		CHECK_EQ_U64(b.m.stats.payloads_read, 4);
	}
}

static uint32_t
dns_query(uint8_t *d, uint16_t flags, const char *name, uint16_t qtype)
{
	uint32_t n = 12;

	memset(d, 0, 12);
	d[0] = 0xab;
	d[2] = (uint8_t)(flags >> 8);
	d[3] = (uint8_t)flags;
	d[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		uint32_t len = dot ? (uint32_t)(dot - name) : (uint32_t)strlen(name);

		d[n++] = (uint8_t)len;
		memcpy(d + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	d[n++] = 0;
	d[n++] = (uint8_t)(qtype >> 8);
	d[n++] = (uint8_t)qtype;
	d[n++] = 0;
	d[n++] = 1;
	return n;
}

static void
test_dns_and_malformed(void)
{
	uint8_t d[512];
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f;
	uint32_t n;

	for (int biflow = 0; biflow < 2; biflow++) {
		bench_init(&b, "dns", DPFIX_MEASURE_DNS | DPFIX_MEASURE_APP, biflow, 4, NEVER, 0);
		n = dns_query(d, 0x0100, "www.example.com", 28);
		udp_frame(&f, 0, 5353, 53, d, n);
		meter(&b, &f, 0);
		n = dns_query(d, 0x8183, "www.example.com", 28);
		udp_frame(&f, 1, 5353, 53, d, n);
		meter(&b, &f, 1000);
		/* A lying message on port 53: counted, not taken. */
		d[12] = 0xc0;
		d[13] = 0x40;
		udp_frame(&f, 0, 5354, 53, d, n);
		meter(&b, &f, 2000);
		udp_frame(&f, 0, 5355, 53, d, 7);
		meter(&b, &f, 3000);
		bench_end(&b);
		s = record(&b, 5353, 53, rec);
		CHECK(str_is(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_NAME, "www.example.com"));
		CHECK_EQ_U64(num(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_QTYPE), 28);
		CHECK_EQ_U64(num(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_RCODE), biflow ? 3 : 0);
		CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_DNS);
		if (!biflow) {
			s = record(&b, 53, 5353, rec);
			CHECK(str_is(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_NAME, "www.example.com"));
			CHECK_EQ_U64(num(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_RCODE), 3);
		}
		s = record(&b, 5354, 53, rec);
		CHECK(str_is(s, rec, CESNET, DPFIX_MEASURE_IE_CESNET_DNS_NAME, ""));
		/* Malformed content is not the application: the port says. */
		CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 3u << 24 | 53);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_DNS_MESSAGE], 2);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_BAD_DNS], 1);
		CHECK_EQ_U64(b.m.stats.payload_results[DPFIX_PAYLOAD_TRUNCATED_DNS], 1);
	}
}

static void
test_app_and_window(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f;
	static const uint8_t quic[] = {0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8};

	bench_init(&b, "app", DPFIX_MEASURE_APP | DPFIX_MEASURE_HTTP, 0, 2, NEVER, 0);
	tcp_frame(&f, 1, 50000, 22, TCP_ACK, "SSH-2.0-OpenSSH_9.2\r\n", 21);
	meter(&b, &f, 0);
	udp_frame(&f, 0, 50001, 443, quic, sizeof(quic));
	meter(&b, &f, 0);
	/* Past the window (2 packets): the request in the third is not read. */
	tcp_frame(&f, 0, 50002, 8000, TCP_ACK, NULL, 10);
	meter(&b, &f, 0);
	meter(&b, &f, 1);
	tcp_frame(&f, 0, 50002, 8000, TCP_ACK, "GET / HTTP/1.1\r\n\r\n", 18);
	meter(&b, &f, 2);
	/* ICMP: no ports, the protocol. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	icmp(&f, 8, 0);
	ip_end(&f);
	meter(&b, &f, 3);
	bench_end(&b);
	s = record(&b, 22, 50000, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_SSH);
	s = record(&b, 50001, 443, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 13u << 24 | DPFIX_MEASURE_APP_QUIC);
	s = record(&b, 50002, 8000, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 3u << 24 | 8000);
	CHECK(str_is(s, rec, 0, IE_httpRequestMethod, ""));
	s = record(&b, 0, 8 << 8, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_applicationId), 1u << 24 | 1);
	CHECK_EQ_U64(b.m.stats.payloads_read, 4);
}

static void
test_tunnel(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f, inner;
	uint32_t len;
	const uint8_t *p;
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};

	bench_init(&b, "tunnel", DPFIX_MEASURE_TUNNEL, 0, 4, NEVER, 1);
	eth(&inner);
	ethertype(&inner, ETH_IPV4);
	ipv4(&inner, PROTO_UDP, 0, 64, 0, 0);
	udp(&inner, 7000, 7001, 0);
	ip_end(&inner);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 0, 0);
	udp(&f, 33333, DPFIX_VXLAN_PORT, (uint16_t)(8 + inner.len));
	vxlan(&f, 4242, &inner);
	ip_end(&f);
	meter(&b, &f, 0);
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_GRE, 0, 64, 0, 0);
	gre(&f, 0x2000, 0x0800);
	f.b[f.len - 1] = 99;
	ip_end(&f);
	meter(&b, &f, 0);
	bench_end(&b);
	s = record(&b, 7000, 7001, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_layer2SegmentId), 1ull << 56 | 4242);
	p = field(s, rec, DPFIX, DPFIX_MEASURE_IE_DPFIX_TUNNEL_SOURCE, &len);
	CHECK(p != NULL && len == 16 && memcmp(p, mapped, 16) == 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_greKey), 0);
	s = record(&b, 0, 0, rec);
	CHECK_EQ_U64(num(s, rec, 0, IE_greKey), 0x00010263);
	CHECK_EQ_U64(num(s, rec, 0, IE_layer2SegmentId), 0);
}

/* RFC 3550 A.8's recurrence, here on transit times in nanoseconds: the reference. */
static uint64_t
jitter_reference(const uint64_t *arrival_ns, const uint32_t *ts, int n, uint32_t rate)
{
	int64_t j16 = 0;

	for (int i = 1; i < n; i++) {
		int64_t d = (int64_t)(arrival_ns[i] - arrival_ns[i - 1]) -
				(int64_t)(ts[i] - ts[i - 1]) * 1000000000ll / rate;

		j16 += (d < 0 ? -d : d) - ((j16 + 8) >> 4);
	}
	return (uint64_t)(j16 >> 4) / 1000;
}

static void
test_rtp(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX], pkt[172];
	const struct dpfix_ipfix_schema *s;
	uint64_t arrival[50];
	uint32_t ts[50];
	struct frame f;

	for (int biflow = 0; biflow < 2; biflow++) {
		bench_init(&b, "rtp", DPFIX_MEASURE_RTP, biflow, 4, NEVER, 0);
		/* 8 kHz PCMU, 20 ms per packet, arrivals off by up to 3 ms. */
		for (int i = 0; i < 50; i++) {
			arrival[i] = (uint64_t)i * 20000000 + (uint64_t)((i * 7919) % 3000) * 1000;
			ts[i] = 1000 + (uint32_t)i * 160;
			memset(pkt, 0, sizeof(pkt));
			pkt[0] = 0x80;
			pkt[2] = (uint8_t)(i >> 8), pkt[3] = (uint8_t)i;
			pkt[4] = (uint8_t)(ts[i] >> 24), pkt[5] = (uint8_t)(ts[i] >> 16);
			pkt[6] = (uint8_t)(ts[i] >> 8), pkt[7] = (uint8_t)ts[i];
			pkt[8] = 0x11, pkt[11] = 0x22;
			udp_frame(&f, 0, 16384, 16386, pkt, sizeof(pkt));
			meter(&b, &f, arrival[i]);
			/* The other way, a stream whose jitter is 0; and an RTCP packet. */
			pkt[8] = 0x33;
			udp_frame(&f, 1, 16384, 16386, pkt, sizeof(pkt));
			meter(&b, &f, (uint64_t)i * 20000000 + 5000000);
			pkt[1] = 200;
			udp_frame(&f, 1, 16384, 16386, pkt, sizeof(pkt));
			meter(&b, &f, (uint64_t)i * 20000000 + 5000001);
		}
		/* A UDP flow that is not RTP. */
		udp_frame(&f, 0, 9999, 16388, (const uint8_t *)"hello, world", 12);
		for (int i = 0; i < 10; i++)
			meter(&b, &f, (uint64_t)i);
		bench_end(&b);
		s = record(&b, 16384, 16386, rec);
		CHECK(jitter_reference(arrival, ts, 50, 8000) > 100);
		CHECK_EQ_U64(num(s, rec, 0, IE_rfc3550JitterMicroseconds),
				jitter_reference(arrival, ts, 50, 8000));
		if (biflow)
			CHECK_EQ_U64(num(s, rec, REV, IE_rfc3550JitterMicroseconds), 0);
		s = record(&b, 9999, 16388, rec);
		CHECK_EQ_U64(num(s, rec, 0, IE_rfc3550JitterMicroseconds), 0);
	}
}

/* A record that ends by active timeout and starts again begins with fresh measures. */
static void
test_restart(void)
{
	struct bench b;
	uint8_t rec[ELEM_MAX];
	const struct dpfix_ipfix_schema *s;
	struct frame f;

	bench_init(&b, "restart", DPFIX_MEASURE_TCP | DPFIX_MEASURE_LENGTHS, 0, 4, 1000000, 0);
	tcp_frame(&f, 0, 40000, 80, TCP_SYN, NULL, 100);
	meter(&b, &f, 0);
	tcp_frame(&f, 0, 40000, 80, TCP_ACK, NULL, 10);
	meter(&b, &f, 2000000);
	CHECK(sink.n == 1);
	bench_end(&b);
	CHECK(sink.n == 2);
	s = &b.schema[0];
	CHECK(dpfix_ipfix_schema_encode(s, sink.elems[0], rec) > 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpSynTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpAckTotalCount), 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_minimumIpTotalLength), 140);
	CHECK(dpfix_ipfix_schema_encode(s, sink.elems[1], rec) > 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpSynTotalCount), 0);
	CHECK_EQ_U64(num(s, rec, 0, IE_tcpAckTotalCount), 1);
	CHECK_EQ_U64(num(s, rec, 0, IE_minimumIpTotalLength), 50);
	CHECK_EQ_U64(num(s, rec, 0, IE_maximumIpTotalLength), 50);
}

int
main(void)
{
	char *eal_args[] = {"test_measure", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"-l", "0", "--log-level=lib.eal:error"};

	if (rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	RUN_TEST(test_layout);
	RUN_TEST(test_schema);
	RUN_TEST(test_tcp_uniflow);
	RUN_TEST(test_tcp_biflow);
	RUN_TEST(test_http_tls);
	RUN_TEST(test_dns_and_malformed);
	RUN_TEST(test_app_and_window);
	RUN_TEST(test_tunnel);
	RUN_TEST(test_rtp);
	RUN_TEST(test_restart);
	rte_eal_cleanup();
	return unit_test_summary();
}
