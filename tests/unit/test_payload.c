/* Unit tests for lib/parse's payload readers (dpfix_payload.h): HTTP/1.x requests and
 * responses, TLS ClientHellos, DNS messages over UDP and TCP, RTP, SSH, QUIC, GRE keys,
 * VXLAN's outer packet and where a payload lies. Each well-formed message read exactly;
 * cut at every length it is TRUNCATED (or read as far as it goes), never BAD; every
 * length made to lie is BAD; random and mutated bytes never read past their buffer
 * (the sanitizer build checks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_payload.h"
#include "frame_build.h"
#include "unit_test.h"

struct buf {
	uint8_t b[4096];
	uint32_t n;
};

static void
b8(struct buf *b, uint8_t v)
{
	b->b[b->n++] = v;
}

static void
b16(struct buf *b, uint16_t v)
{
	b8(b, (uint8_t)(v >> 8));
	b8(b, (uint8_t)v);
}

static void
bstr(struct buf *b, const char *s)
{
	memcpy(b->b + b->n, s, strlen(s));
	b->n += (uint32_t)strlen(s);
}

static void
set_be16(struct buf *b, uint32_t at, uint32_t v)
{
	b->b[at] = (uint8_t)(v >> 8);
	b->b[at + 1] = (uint8_t)v;
}

/* A copy of d's first n bytes in a buffer exactly n long, so the sanitizer catches any
 * read past them. */
static uint8_t *
exact(const uint8_t *d, uint32_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	memcpy(p, d, n);
	return p;
}

/* ---- HTTP ---- */

static enum dpfix_payload_result
http(const char *s, uint32_t n, struct dpfix_http_fields *f, int *cut)
{
	uint8_t *p = exact((const uint8_t *)s, n);
	enum dpfix_payload_result r;

	memset(f, 0, sizeof(*f));
	*cut = 0;
	r = dpfix_payload_http(p, n, f, cut);
	free(p);
	return r;
}

static void
test_http(void)
{
	static const char req[] = "GET /index.html?q=1 HTTP/1.1\r\nAccept: */*\r\n"
			"HOST:  www.example.com \r\nUser-Agent: curl/8.0 \xc3\xa9\r\n\r\nbody";
	static const char resp[] = "HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n";
	struct dpfix_http_fields f;
	char longhost[400];
	int cut;

	CHECK(http(req, sizeof(req) - 1, &f, &cut) == DPFIX_PAYLOAD_HTTP_REQUEST);
	CHECK(strcmp(f.method, "GET") == 0);
	CHECK(strcmp(f.target, "/index.html?q=1") == 0);
	CHECK(strcmp(f.host, "www.example.com") == 0);
	/* Bytes outside printable ASCII become '?': an IPFIX string is UTF-8. */
	CHECK(strcmp(f.user_agent, "curl/8.0 ??") == 0);
	CHECK(f.status == 0 && !cut);
	CHECK(http(resp, sizeof(resp) - 1, &f, &cut) == DPFIX_PAYLOAD_HTTP_RESPONSE);
	CHECK(f.status == 404);
	CHECK(http("HTTP/1.1 200\r\n", 14, &f, &cut) == DPFIX_PAYLOAD_HTTP_RESPONSE && f.status == 200);

	/* Cut at every length: the request line whole or TRUNCATED, the header lines read
	 * only when whole. */
	for (uint32_t n = 0; n < sizeof(req) - 1; n++) {
		enum dpfix_payload_result r = http(req, n, &f, &cut);

		if (n < 4) {
			CHECK(r == DPFIX_PAYLOAD_NOT_IT);
		} else if (n < 30) {
			CHECK(r == DPFIX_PAYLOAD_TRUNCATED_HTTP);
		} else {
			CHECK(r == DPFIX_PAYLOAD_HTTP_REQUEST);
			CHECK(strcmp(f.host, n >= 68 ? "www.example.com" : "") == 0);
		}
	}
	for (uint32_t n = 5; n < 24; n++)
		CHECK(http(resp, n, &f, &cut) == DPFIX_PAYLOAD_TRUNCATED_HTTP);

	/* Values longer than their bounds are cut, and said so. */
	memset(longhost, 'h', sizeof(longhost));
	memcpy(longhost, "GET / HTTP/1.1\r\nHost: ", 22);
	memcpy(longhost + sizeof(longhost) - 4, "\r\n\r\n", 4);
	CHECK(http(longhost, sizeof(longhost), &f, &cut) == DPFIX_PAYLOAD_HTTP_REQUEST);
	CHECK(cut && strlen(f.host) == DPFIX_HTTP_HOST_MAX);

	/* Lies and breaks: BAD_HTTP. Not HTTP at all: NOT_IT. */
	CHECK(http("GET  HTTP/1.1\r\n", 15, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("GET /a\x01 HTTP/1.1\r\n", 19, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("GET /a HTTP/2.0\r\n", 17, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("GET /a HTTP/1.1 x\r\n", 19, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("HTTP/1.1 2x0 OK\r\n", 17, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("HTTP/1.1 20\r\n", 13, &f, &cut) == DPFIX_PAYLOAD_BAD_HTTP);
	CHECK(http("GETX / HTTP/1.1\r\n", 17, &f, &cut) == DPFIX_PAYLOAD_NOT_IT);
	CHECK(http("\x16\x03\x01", 3, &f, &cut) == DPFIX_PAYLOAD_NOT_IT);
}

/* ---- TLS ---- */

/* A ClientHello offering www.example.com, h2 then http/1.1, and versions GREASE, TLS
 * 1.3 and 1.2, after a GREASE extension. *ext_at: where its extensions begin. */
static void
client_hello(struct buf *b, uint32_t *ext_at)
{
	uint32_t hs, exts, e;

	memset(b, 0, sizeof(*b));
	b8(b, 22);
	b16(b, 0x0301);
	b16(b, 0);                      /* record length */
	hs = b->n;
	b8(b, 1);
	b8(b, 0);
	b16(b, 0);                      /* handshake length (24 bits) */
	b16(b, 0x0303);
	for (int i = 0; i < 32; i++)
		b8(b, (uint8_t)i);
	b8(b, 32);
	for (int i = 0; i < 32; i++)
		b8(b, (uint8_t)(0x80 + i));
	b16(b, 6);
	b16(b, 0x1301);
	b16(b, 0x1302);
	b16(b, 0xc02f);
	b8(b, 1);
	b8(b, 0);
	exts = b->n;
	b16(b, 0);
	*ext_at = b->n;
	b16(b, 0x0a0a);                 /* GREASE, empty */
	b16(b, 0);
	b16(b, 0);                      /* server_name */
	e = b->n;
	b16(b, 0);
	b16(b, 18);
	b8(b, 0);
	b16(b, 15);
	bstr(b, "www.example.com");
	set_be16(b, e, b->n - e - 2);
	b16(b, 16);                     /* ALPN */
	e = b->n;
	b16(b, 0);
	b16(b, 12);
	b8(b, 2);
	bstr(b, "h2");
	b8(b, 8);
	bstr(b, "http/1.1");
	set_be16(b, e, b->n - e - 2);
	b16(b, 43);                     /* supported_versions */
	b16(b, 7);
	b8(b, 6);
	b16(b, 0x2a2a);
	b16(b, 0x0304);
	b16(b, 0x0303);
	set_be16(b, exts, b->n - exts - 2);
	b->b[hs + 2] = (uint8_t)((b->n - hs - 4) >> 8);
	b->b[hs + 3] = (uint8_t)(b->n - hs - 4);
	set_be16(b, 3, b->n - 5);
}

static enum dpfix_payload_result
tls(const struct buf *b, uint32_t n, struct dpfix_tls_fields *f)
{
	uint8_t *p = exact(b->b, n);
	enum dpfix_payload_result r;
	int cut = 0;

	memset(f, 0, sizeof(*f));
	r = dpfix_payload_tls_client_hello(p, n, f, &cut);
	free(p);
	return r;
}

static void
test_tls(void)
{
	struct dpfix_tls_fields f;
	struct buf b, lie;
	uint32_t ext_at;

	client_hello(&b, &ext_at);
	CHECK(dpfix_payload_is_tls(b.b, b.n));
	CHECK(tls(&b, b.n, &f) == DPFIX_PAYLOAD_TLS_CLIENT_HELLO);
	CHECK(strcmp(f.sni, "www.example.com") == 0);
	CHECK(strcmp(f.alpn, "h2") == 0);
	CHECK(f.version == 0x0304);

	/* Cut anywhere: TRUNCATED before the extensions begin, else read as far as they go
	 * (each extension only once whole); never BAD. */
	for (uint32_t n = 0; n < b.n; n++) {
		enum dpfix_payload_result r = tls(&b, n, &f);

		if (n < 6)
			CHECK(r == DPFIX_PAYLOAD_NOT_IT);
		else if (n < ext_at)
			CHECK(r == DPFIX_PAYLOAD_TRUNCATED_TLS);
		else
			CHECK(r == DPFIX_PAYLOAD_TLS_CLIENT_HELLO && f.version == 0x0303);
		if (r == DPFIX_PAYLOAD_TLS_CLIENT_HELLO && f.sni[0] != '\0')
			CHECK(strcmp(f.sni, "www.example.com") == 0);
	}
	/* The record ends before the segment: what follows is not read. */
	lie = b;
	set_be16(&lie, 3, ext_at + 10 - 5);
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_TLS_CLIENT_HELLO && f.sni[0] == '\0');

	/* Lengths that lie: each BAD_TLS. */
	lie = b;
	set_be16(&lie, ext_at - 2, lie.n - ext_at + 40);        /* extensions past the hello */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	set_be16(&lie, ext_at + 6, 300);                        /* server_name past its list */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	set_be16(&lie, ext_at + 8, 30);                         /* name list past the extension */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	set_be16(&lie, 9 + 35 + 32, 5);                         /* odd cipher suites length */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	lie.b[9 + 34] = 33;                                     /* session id over 32 */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	set_be16(&lie, 3, 20000);                               /* record over 2^14 + 2048 */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_BAD_TLS);
	lie = b;
	lie.b[5] = 2;                                           /* a ServerHello */
	CHECK(tls(&lie, lie.n, &f) == DPFIX_PAYLOAD_NOT_IT && dpfix_payload_is_tls(lie.b, lie.n));
}

/* ---- DNS ---- */

static void
dns_name_wire(struct buf *b, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		uint32_t len = dot ? (uint32_t)(dot - name) : (uint32_t)strlen(name);

		b8(b, (uint8_t)len);
		memcpy(b->b + b->n, name, len);
		b->n += len;
		name += len + (dot ? 1 : 0);
	}
	b8(b, 0);
}

/* A query for name of type qtype; with rcode >= 0 the response, with an answer whose
 * name is a pointer to the question's. */
static void
dns_message(struct buf *b, int tcp, const char *name, uint16_t qtype, int rcode)
{
	uint32_t start;

	memset(b, 0, sizeof(*b));
	if (tcp)
		b16(b, 0);
	start = b->n;
	b16(b, 0x1234);
	b16(b, rcode >= 0 ? (uint16_t)(0x8180 | rcode) : 0x0100);
	b16(b, 1);
	b16(b, rcode >= 0 ? 1 : 0);
	b16(b, 0);
	b16(b, 0);
	dns_name_wire(b, name);
	b16(b, qtype);
	b16(b, 1);
	if (rcode >= 0) {
		b16(b, 0xc00c);
		b16(b, qtype);
		b16(b, 1);
		b16(b, 0);
		b16(b, 60);
		b16(b, 4);
		b16(b, 0xc000);
		b16(b, 0x0201);
	}
	if (tcp)
		set_be16(b, 0, b->n - start);
}

static enum dpfix_payload_result
dns(const struct buf *b, uint32_t n, int tcp, struct dpfix_dns_fields *f, int *cut)
{
	uint8_t *p = exact(b->b, n);
	enum dpfix_payload_result r;

	memset(f, 0, sizeof(*f));
	*cut = 0;
	r = dpfix_payload_dns(p, n, tcp, f, cut);
	free(p);
	return r;
}

static void
test_dns(void)
{
	struct dpfix_dns_fields f;
	struct buf b, lie;
	char name[300];
	int cut;

	for (int tcp = 0; tcp < 2; tcp++) {
		uint32_t question_end;

		dns_message(&b, tcp, "www.Example.org", 28, -1);
		CHECK(dns(&b, b.n, tcp, &f, &cut) == DPFIX_PAYLOAD_DNS_MESSAGE);
		CHECK(strcmp(f.qname, "www.Example.org") == 0 && f.qtype == 28 && !f.response);
		question_end = b.n;
		dns_message(&b, tcp, "mail.example.net", 15, 3);
		CHECK(dns(&b, b.n, tcp, &f, &cut) == DPFIX_PAYLOAD_DNS_MESSAGE);
		CHECK(strcmp(f.qname, "mail.example.net") == 0 && f.qtype == 15);
		CHECK(f.response && f.rcode == 3);
		/* Cut before the question's end: TRUNCATED_DNS, never BAD. */
		dns_message(&b, tcp, "www.Example.org", 28, -1);
		for (uint32_t n = 1; n < question_end; n++)
			CHECK(dns(&b, n, tcp, &f, &cut) == DPFIX_PAYLOAD_TRUNCATED_DNS);
	}
	/* Presentation format: escapes, the root, and a long name cut at its bound. */
	memset(&b, 0, sizeof(b));
	b.n = 12;
	set_be16(&b, 4, 1);
	b8(&b, 4);
	bstr(&b, "a.b\\");
	b8(&b, 2);
	b8(&b, ' ');
	b8(&b, 0xc8);
	b8(&b, 0);
	b16(&b, 1);
	b16(&b, 1);
	CHECK(dns(&b, b.n, 0, &f, &cut) == DPFIX_PAYLOAD_DNS_MESSAGE);
	CHECK(strcmp(f.qname, "a\\.b\\\\.\\032\\200") == 0);
	dns_message(&b, 0, "", 2, -1);
	CHECK(dns(&b, b.n, 0, &f, &cut) == DPFIX_PAYLOAD_DNS_MESSAGE && strcmp(f.qname, ".") == 0);
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 200; i += 10)
		memcpy(name + i, "abcdefghi.", 10);
	name[199] = '\0';
	dns_message(&b, 0, name, 1, -1);
	CHECK(dns(&b, b.n, 0, &f, &cut) == DPFIX_PAYLOAD_DNS_MESSAGE);
	CHECK(cut && strlen(f.qname) <= DPFIX_DNS_NAME_MAX && strlen(f.qname) > 100);

	/* Lies: a forward pointer, a pointer to itself, a label type that does not exist, a
	 * name over 255 octets, a TCP length under a header. */
	dns_message(&b, 0, "x.y", 1, -1);
	lie = b;
	lie.b[12] = 0xc0;
	lie.b[13] = 40;
	CHECK(dns(&lie, lie.n, 0, &f, &cut) == DPFIX_PAYLOAD_BAD_DNS);
	lie.b[13] = 12;
	CHECK(dns(&lie, lie.n, 0, &f, &cut) == DPFIX_PAYLOAD_BAD_DNS);
	lie = b;
	lie.b[12] = 0x41;
	CHECK(dns(&lie, lie.n, 0, &f, &cut) == DPFIX_PAYLOAD_BAD_DNS);
	memset(&lie, 0, sizeof(lie));
	lie.n = 12;
	set_be16(&lie, 4, 1);
	for (int i = 0; i < 5; i++) {
		b8(&lie, 63);
		for (int k = 0; k < 63; k++)
			b8(&lie, 'z');
	}
	b8(&lie, 0);
	b16(&lie, 1);
	b16(&lie, 1);
	CHECK(dns(&lie, lie.n, 0, &f, &cut) == DPFIX_PAYLOAD_BAD_DNS);
	dns_message(&b, 1, "x.y", 1, -1);
	set_be16(&b, 0, 11);
	CHECK(dns(&b, b.n, 1, &f, &cut) == DPFIX_PAYLOAD_BAD_DNS);
	CHECK(dns(&b, 0, 0, &f, &cut) == DPFIX_PAYLOAD_NOT_IT);
}

/* ---- RTP, SSH, QUIC ---- */

static void
test_rtp_ssh_quic(void)
{
	uint8_t rtp[12] = {0x80, 0x00, 0x12, 0x34, 0, 0, 0x1f, 0x40, 0xde, 0xad, 0xbe, 0xef};
	uint8_t quic[5] = {0xc3, 0, 0, 0, 1};
	struct dpfix_rtp_header h;

	CHECK(dpfix_payload_rtp(rtp, 12, &h) == 1);
	CHECK(h.sequence == 0x1234 && h.timestamp == 8000 && h.ssrc == 0xdeadbeef &&
			h.payload_type == 0);
	CHECK(dpfix_payload_rtp(rtp, 11, &h) == 0);
	rtp[0] = 0x82;                  /* two CSRCs: 8 bytes more needed */
	CHECK(dpfix_payload_rtp(rtp, 12, &h) == 0);
	rtp[0] = 0x80;
	rtp[1] = 200;                   /* RTCP sender report (RFC 5761) */
	CHECK(dpfix_payload_rtp(rtp, 12, &h) == -1);
	rtp[0] = 0x40;
	CHECK(dpfix_payload_rtp(rtp, 12, &h) == 0);
	CHECK(dpfix_payload_is_ssh((const uint8_t *)"SSH-2.0-OpenSSH_9.2\r\n", 21));
	CHECK(!dpfix_payload_is_ssh((const uint8_t *)"SSH", 3));
	CHECK(dpfix_payload_is_quic(quic, 5));
	quic[4] = 2;                    /* an unknown version */
	CHECK(!dpfix_payload_is_quic(quic, 5));
	quic[1] = 0x6b, quic[2] = 0x33, quic[3] = 0x43, quic[4] = 0xcf;
	CHECK(dpfix_payload_is_quic(quic, 5));
	quic[0] = 0x43;                 /* a short header */
	CHECK(!dpfix_payload_is_quic(quic, 5));
}

/* ---- where the payload is; tunnels ---- */

static void
parse(const struct frame *fr, const struct dpfix_parse_config *cfg, struct dpfix_packet_info *p)
{
	CHECK(dpfix_parse_ethernet(cfg, fr->b, fr->len, fr->len, 0, p) == DPFIX_PARSE_OK);
}

static void
test_locate_and_tunnels(void)
{
	struct dpfix_parse_config cfg = {.vxlan_port = DPFIX_VXLAN_PORT};
	struct dpfix_packet_info p;
	struct dpfix_vxlan_outer o;
	struct frame fr, inner;
	const uint8_t *pl;
	uint32_t key;

	/* TCP with 8 bytes of options: the payload after them; Ethernet padding is not. */
	eth(&fr);
	ethertype(&fr, ETH_IPV4);
	ipv4(&fr, PROTO_TCP, 0, 64, 0, 0);
	tcp(&fr, 1000, 80, TCP_ACK);
	fr.b[fr.len - 8] = 7 << 4;
	payload(&fr, 8);
	payload(&fr, 3);
	ip_end(&fr);
	eth_pad(&fr);
	parse(&fr, &cfg, &p);
	CHECK(dpfix_payload_locate(&p, fr.b, fr.len, &pl) == 3);
	CHECK(pl == fr.b + 14 + 20 + 28);
	CHECK(dpfix_payload_locate(&p, fr.b, 14 + 20 + 29, &pl) == 1);  /* cut by the capture */
	/* UDP: its length bounds the payload. */
	eth(&fr);
	ethertype(&fr, ETH_IPV6);
	ipv6(&fr, PROTO_UDP, 0, 64);
	udp(&fr, 5000, 53, 4);
	payload(&fr, 10);
	ip_end(&fr);
	parse(&fr, &cfg, &p);
	CHECK(dpfix_payload_locate(&p, fr.b, fr.len, &pl) == 4);
	/* A data offset past the bytes at hand, and ICMP: no payload. */
	eth(&fr);
	ethertype(&fr, ETH_IPV4);
	ipv4(&fr, PROTO_ICMP, 0, 64, 0, 0);
	icmp(&fr, 8, 0);
	payload(&fr, 20);
	ip_end(&fr);
	parse(&fr, &cfg, &p);
	CHECK(dpfix_payload_locate(&p, fr.b, fr.len, &pl) == 0);

	/* GRE with a key after the checksum word (RFC 2890). */
	eth(&fr);
	ethertype(&fr, ETH_IPV4);
	ipv4(&fr, PROTO_GRE, 0, 64, 0, 0);
	gre(&fr, 0xa000, 0x0800);
	fr.b[fr.len - 4] = 0xca, fr.b[fr.len - 3] = 0xfe, fr.b[fr.len - 2] = 0xba, fr.b[fr.len - 1] = 0xbe;
	ip_end(&fr);
	parse(&fr, &cfg, &p);
	CHECK(dpfix_payload_gre_key(&p, fr.b, fr.len, &key) == 1 && key == 0xcafebabe);
	CHECK(dpfix_payload_gre_key(&p, fr.b, fr.len - 1, &key) == 0);
	eth(&fr);
	ethertype(&fr, ETH_IPV4);
	ipv4(&fr, PROTO_GRE, 0, 64, 0, 0);
	gre(&fr, 0x0000, 0x0800);
	ip_end(&fr);
	parse(&fr, &cfg, &p);
	CHECK(dpfix_payload_gre_key(&p, fr.b, fr.len, &key) == 0);

	/* VXLAN over IPv6: the outer addresses and VNI of an inner flow. */
	eth(&inner);
	ethertype(&inner, ETH_IPV4);
	ipv4(&inner, PROTO_UDP, 0, 64, 0, 0);
	udp(&inner, 1, 2, 0);
	ip_end(&inner);
	eth(&fr);
	vlan(&fr, TPID_8021Q, 0, 10);
	ethertype(&fr, ETH_IPV6);
	ipv6(&fr, PROTO_UDP, 0, 64);
	udp(&fr, 40000, DPFIX_VXLAN_PORT, (uint16_t)(8 + inner.len));
	vxlan(&fr, 0xabcdef, &inner);
	ip_end(&fr);
	cfg.vxlan_inner = 1;
	parse(&fr, &cfg, &p);
	CHECK(dpfix_parse_vxlan_outer(&cfg, fr.b, fr.len, &o) == 1);
	CHECK(o.ip_version == 6 && o.vni == 0xabcdef);
	CHECK(memcmp(o.src_addr, v6_src, 16) == 0 && memcmp(o.dst_addr, v6_dst, 16) == 0);
	cfg.vxlan_inner = 0;
	CHECK(dpfix_parse_vxlan_outer(&cfg, fr.b, fr.len, &o) == 0);
	cfg.vxlan_inner = 1;
	CHECK(dpfix_parse_vxlan_outer(&cfg, inner.b, inner.len, &o) == 0);
}

/* Random and mutated bytes through every reader: results in range, NUL-terminated
 * strings, no read past the buffer (the sanitizer build). */
static void
test_random_bytes(void)
{
	struct buf seeds[4];
	uint32_t ext_at;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	client_hello(&seeds[0], &ext_at);
	dns_message(&seeds[1], 0, "www.example.org", 1, 0);
	dns_message(&seeds[2], 1, "a.b.c", 16, -1);
	memset(&seeds[3], 0, sizeof(seeds[3]));
	bstr(&seeds[3], "POST /x HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\n\r\n");
	for (int i = 0; i < 200000; i++) {
		const struct buf *s = &seeds[i % 4];
		uint8_t tmp[4096];
		uint32_t n;
		struct dpfix_http_fields hf;
		struct dpfix_tls_fields tf;
		struct dpfix_dns_fields df;
		struct dpfix_rtp_header rh;
		enum dpfix_payload_result r;
		uint8_t *p;
		int cut;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = (uint32_t)(x % (s->n + 8));
		memcpy(tmp, s->b, sizeof(tmp));
		/* A few bytes changed, or all random. */
		if (i % 7 == 0)
			for (uint32_t k = 0; k < n; k++)
				tmp[k] = (uint8_t)(x >> (k % 56));
		else
			for (int k = 0; k < 3; k++)
				tmp[(x >> (8 * k)) % (s->n ? s->n : 1)] = (uint8_t)(x >> (8 * k + 20));
		p = exact(tmp, n);
		memset(&hf, 0, sizeof(hf));
		memset(&tf, 0, sizeof(tf));
		memset(&df, 0, sizeof(df));
		r = dpfix_payload_http(p, n, &hf, &cut);
		CHECK(r < DPFIX_PAYLOAD_RESULT_COUNT);
		CHECK(strlen(hf.method) <= DPFIX_HTTP_METHOD_MAX && strlen(hf.host) <= DPFIX_HTTP_HOST_MAX);
		r = dpfix_payload_tls_client_hello(p, n, &tf, &cut);
		CHECK(r < DPFIX_PAYLOAD_RESULT_COUNT && strlen(tf.sni) <= DPFIX_TLS_SNI_MAX);
		r = dpfix_payload_dns(p, n, i & 1, &df, &cut);
		CHECK(r < DPFIX_PAYLOAD_RESULT_COUNT && strlen(df.qname) <= DPFIX_DNS_NAME_MAX);
		dpfix_payload_rtp(p, n, &rh);
		dpfix_payload_is_tls(p, n);
		dpfix_payload_is_ssh(p, n);
		dpfix_payload_is_quic(p, n);
		free(p);
	}
}

static void
test_result_names(void)
{
	CHECK(strcmp(dpfix_payload_result_name(DPFIX_PAYLOAD_BAD_TLS), "BAD_TLS") == 0);
	CHECK(dpfix_payload_result_kind(DPFIX_PAYLOAD_TRUNCATED_DNS) == DPFIX_PARSE_KIND_MALFORMED);
	CHECK(dpfix_payload_result_kind(DPFIX_PAYLOAD_HTTP_REQUEST) == DPFIX_PARSE_KIND_OK);
	CHECK(strcmp(dpfix_payload_result_name(DPFIX_PAYLOAD_RESULT_COUNT), "UNKNOWN") == 0);
}

int
main(void)
{
	RUN_TEST(test_http);
	RUN_TEST(test_tls);
	RUN_TEST(test_dns);
	RUN_TEST(test_rtp_ssh_quic);
	RUN_TEST(test_locate_and_tunnels);
	RUN_TEST(test_random_bytes);
	RUN_TEST(test_result_names);
	return unit_test_summary();
}
