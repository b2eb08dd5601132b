/* Transport payload reading for the measurements (dpfix_payload.h). Every read is
 * preceded by a check of the bytes left; a length field is believed only within the
 * bytes at hand and within every length that encloses it. */
#include <string.h>

#include "dpfix_payload.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_GRE_ 47

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_VERSION 0x0007

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ALPN 16
#define TLS_EXT_SUPPORTED_VERSIONS 43
/* The largest TLSPlaintext fragment (RFC 8446 5.1), with room for a TLSCompressed. */
#define TLS_RECORD_MAX (16384 + 2048)

#define DNS_HEADER_LEN 12
#define DNS_MAX_POINTERS 16
#define DNS_NAME_WIRE_MAX 255

static const char *const result_names[] = {
	"NOT_IT",
#define DPFIX_PAYLOAD_NAME(name, kind, text) #name,
	DPFIX_PAYLOAD_RESULTS(DPFIX_PAYLOAD_NAME)
#undef DPFIX_PAYLOAD_NAME
};

static const char *const result_texts[] = {
	"not the protocol",
#define DPFIX_PAYLOAD_TEXT(name, kind, text) text,
	DPFIX_PAYLOAD_RESULTS(DPFIX_PAYLOAD_TEXT)
#undef DPFIX_PAYLOAD_TEXT
};

static const uint8_t result_kinds[] = {
	DPFIX_PARSE_KIND_SKIPPED,
#define DPFIX_PAYLOAD_KIND(name, kind, text) DPFIX_PARSE_KIND_##kind,
	DPFIX_PAYLOAD_RESULTS(DPFIX_PAYLOAD_KIND)
#undef DPFIX_PAYLOAD_KIND
};

const char *
dpfix_payload_result_name(enum dpfix_payload_result r)
{
	return (unsigned int)r < DPFIX_PAYLOAD_RESULT_COUNT ? result_names[r] : "UNKNOWN";
}

const char *
dpfix_payload_result_text(enum dpfix_payload_result r)
{
	return (unsigned int)r < DPFIX_PAYLOAD_RESULT_COUNT ? result_texts[r] : "unknown";
}

enum dpfix_parse_kind
dpfix_payload_result_kind(enum dpfix_payload_result r)
{
	return (unsigned int)r < DPFIX_PAYLOAD_RESULT_COUNT ? (enum dpfix_parse_kind)result_kinds[r] :
			DPFIX_PARSE_KIND_MALFORMED;
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t
dpfix_payload_locate(const struct dpfix_packet_info *p, const uint8_t *frame, uint32_t len,
		const uint8_t **payload)
{
	uint32_t l4 = (uint32_t)p->l3_offset + p->ip_header_len;
	uint32_t end = (uint32_t)p->l3_offset + p->ip_octets, start;

	if (p->fragment == DPFIX_FRAG_LATER)
		return 0;
	if (end > len)
		end = len;
	switch (p->key.protocol) {
	case IPPROTO_TCP_:
		if (l4 + 13 > end)
			return 0;
		start = l4 + (uint32_t)(frame[l4 + 12] >> 4) * 4;
		break;
	case IPPROTO_UDP_:
		start = l4 + 8;
		/* The UDP length bounds the datagram (the parser held it to the IP length;
		 * a first fragment carries only the start of it). */
		if (start <= end && p->fragment == DPFIX_FRAG_NONE && l4 + be16(frame + l4 + 4) < end)
			end = l4 + be16(frame + l4 + 4);
		break;
	default:
		return 0;
	}
	if (start >= end)
		return 0;
	*payload = frame + start;
	return end - start;
}

/* Copies n bytes of s into the NUL-terminated buffer out of room max + 1, bytes outside
 * printable ASCII as '?': valid UTF-8 whatever the input. Sets *cut if n > max. */
static void
copy_printable(char *out, uint32_t max, const uint8_t *s, uint32_t n, int *cut)
{
	if (n > max) {
		n = max;
		*cut = 1;
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[n] = '\0';
}

/* ---- HTTP ---- */

/* The methods of RFC 9110 9.3 and PATCH (RFC 5789). */
static const struct {
	char name[8];
	uint8_t len;
} http_methods[] = {
	{"GET", 3}, {"HEAD", 4}, {"POST", 4}, {"PUT", 3}, {"DELETE", 6}, {"CONNECT", 7},
	{"OPTIONS", 7}, {"TRACE", 5}, {"PATCH", 5},
};

/* The length of the method d starts with, followed by a space, else 0. Most payloads
 * are told apart by their first byte or the byte where the space would be. */
static uint32_t
request_method(const uint8_t *d, uint32_t n)
{
	if (n < 4 || d[0] < 'C' || d[0] > 'T')
		return 0;
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		uint32_t k = http_methods[i].len;

		if (d[0] == (uint8_t)http_methods[i].name[0] && n > k && d[k] == ' ' &&
				memcmp(d + 1, http_methods[i].name + 1, k - 1) == 0)
			return k;
	}
	return 0;
}

/* The end of the line starting at d (index of its '\n'), or n if none within n. */
static uint32_t
line_end(const uint8_t *d, uint32_t n)
{
	const uint8_t *lf = memchr(d, '\n', n);

	return lf != NULL ? (uint32_t)(lf - d) : n;
}

/* Header name (case-insensitive) followed by ':' at the start of line d of length n:
 * returns the value's offset past optional whitespace, 0 if not that header. */
static uint32_t
header_value(const uint8_t *d, uint32_t n, const char *name)
{
	uint32_t k = (uint32_t)strlen(name), i;

	if (n <= k || d[k] != ':')
		return 0;
	for (i = 0; i < k; i++) {
		uint8_t c = d[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)name[i])
			return 0;
	}
	for (i = k + 1; i < n && (d[i] == ' ' || d[i] == '\t'); i++)
		;
	return i;
}

/* A header line's value [v, e) without trailing whitespace or CR. */
static uint32_t
trim_end(const uint8_t *d, uint32_t v, uint32_t e)
{
	while (e > v && (d[e - 1] == '\r' || d[e - 1] == ' ' || d[e - 1] == '\t'))
		e--;
	return e;
}

/* "HTTP/1.0" or "HTTP/1.1" at d (8 bytes at hand). */
static int
is_http1_version(const uint8_t *d)
{
	return memcmp(d, "HTTP/1.", 7) == 0 && (d[7] == '0' || d[7] == '1');
}

static enum dpfix_payload_result
http_response(const uint8_t *d, uint32_t n, struct dpfix_http_fields *f)
{
	uint32_t end = line_end(d, n);

	/* "HTTP/1.1 200" and a space or the end of the line. */
	if (end == n || end < 12)
		return end == n && n < 13 ? DPFIX_PAYLOAD_TRUNCATED_HTTP :
				end == n ? DPFIX_PAYLOAD_TRUNCATED_HTTP : DPFIX_PAYLOAD_BAD_HTTP;
	if (!is_http1_version(d) || d[8] != ' ' || d[9] < '1' || d[9] > '9' ||
			d[10] < '0' || d[10] > '9' || d[11] < '0' || d[11] > '9' ||
			(d[12] != ' ' && d[12] != '\r' && d[12] != '\n'))
		return DPFIX_PAYLOAD_BAD_HTTP;
	f->status = (uint16_t)((d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0'));
	return DPFIX_PAYLOAD_HTTP_RESPONSE;
}

enum dpfix_payload_result
dpfix_payload_http(const uint8_t *d, uint32_t n, struct dpfix_http_fields *f, int *cut)
{
	uint32_t m, sp, end, line;

	if (n >= 5 && d[0] == 'H' && memcmp(d, "HTTP/", 5) == 0)
		return http_response(d, n, f);
	m = request_method(d, n);
	if (m == 0)
		return DPFIX_PAYLOAD_NOT_IT;
	/* METHOD SP request-target SP HTTP-version CRLF (RFC 9112 3), whole in the segment. */
	end = line_end(d, n);
	if (end == n)
		return DPFIX_PAYLOAD_TRUNCATED_HTTP;
	line = end > 0 && d[end - 1] == '\r' ? end - 1 : end;
	for (sp = m + 1; sp < line && d[sp] != ' '; sp++)
		if (d[sp] < 0x21 || d[sp] == 0x7f)
			return DPFIX_PAYLOAD_BAD_HTTP;
	if (sp == m + 1 || sp + 9 != line || !is_http1_version(d + sp + 1))
		return DPFIX_PAYLOAD_BAD_HTTP;
	copy_printable(f->method, DPFIX_HTTP_METHOD_MAX, d, m, cut);
	copy_printable(f->target, DPFIX_HTTP_TARGET_MAX, d + m + 1, sp - m - 1, cut);
	/* Header lines up to the empty line; one cut by the end of the segment is not read
	 * (its value would be cut too). */
	for (uint32_t at = end + 1; at < n;) {
		uint32_t e = line_end(d + at, n - at), v;

		if (at + e == n)
			break;
		if (e == 0 || (e == 1 && d[at] == '\r'))
			break;
		if ((v = header_value(d + at, e, "host")) != 0) {
			copy_printable(f->host, DPFIX_HTTP_HOST_MAX, d + at + v,
					trim_end(d + at, v, e) - v, cut);
		} else if ((v = header_value(d + at, e, "user-agent")) != 0) {
			copy_printable(f->user_agent, DPFIX_HTTP_USER_AGENT_MAX, d + at + v,
					trim_end(d + at, v, e) - v, cut);
		}
		at += e + 1;
	}
	return DPFIX_PAYLOAD_HTTP_REQUEST;
}

/* ---- TLS ---- */

int
dpfix_payload_is_tls(const uint8_t *d, uint32_t n)
{
	return n >= 6 && d[0] == TLS_CONTENT_HANDSHAKE && d[1] == 3 && d[2] <= 4 &&
			be16(d + 3) != 0 && be16(d + 3) <= TLS_RECORD_MAX;
}

/* GREASE (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static int
is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* A length-prefixed vector of `size` (1 or 2) length bytes at offset at of d, the bytes
 * at hand ending at end: its contents [*start, *stop). -1 if even the length field is
 * not at hand, 1 if it claims more than limit (the enclosing structure's declared end),
 * else 0 (stop may be past end: not all its bytes are at hand). Offsets, not pointers:
 * a lying length must not make a pointer past the buffer. */
static int
vector(const uint8_t *d, uint32_t at, uint32_t end, uint32_t limit, int size, uint32_t *start,
		uint32_t *stop)
{
	uint32_t len;

	if (at > end || end - at < (uint32_t)size)
		return -1;
	len = size == 1 ? d[at] : be16(d + at);
	*start = at + (uint32_t)size;
	*stop = *start + len;
	return *stop > limit ? 1 : 0;
}

/* Reads the extensions [at, declared_end) of d at hand up to end into f; *highest gets
 * the highest version of supported_versions. */
static enum dpfix_payload_result
tls_extensions(const uint8_t *d, uint32_t at, uint32_t end, uint32_t declared_end,
		struct dpfix_tls_fields *f, uint16_t *highest, int *cut)
{
	while (declared_end - at >= 4) {
		uint32_t e, e_end, v, v_end;
		uint16_t type;

		if (end < at + 2)
			return DPFIX_PAYLOAD_TLS_CLIENT_HELLO; /* the rest is not at hand */
		type = be16(d + at);
		switch (vector(d, at + 2, end, declared_end, 2, &e, &e_end)) {
		case -1:
			return DPFIX_PAYLOAD_TLS_CLIENT_HELLO; /* the rest is not at hand */
		case 1:
			return DPFIX_PAYLOAD_BAD_TLS;
		}
		if (e_end > end)
			return DPFIX_PAYLOAD_TLS_CLIENT_HELLO;
		switch (type) {
		case TLS_EXT_SERVER_NAME:
			/* ServerNameList: NameType host_name(0), HostName<1..2^16-1>. */
			if (vector(d, e, e_end, e_end, 2, &v, &v_end) != 0)
				return DPFIX_PAYLOAD_BAD_TLS;
			for (uint32_t q = v; q < v_end;) {
				uint32_t name, name_end;

				if (v_end - q < 3 || vector(d, q + 1, v_end, v_end, 2, &name, &name_end) != 0)
					return DPFIX_PAYLOAD_BAD_TLS;
				if (d[q] == 0 && f->sni[0] == '\0')
					copy_printable(f->sni, DPFIX_TLS_SNI_MAX, d + name, name_end - name, cut);
				q = name_end;
			}
			break;
		case TLS_EXT_ALPN:
			/* ProtocolNameList: ProtocolName<1..2^8-1>, the first one taken. */
			if (vector(d, e, e_end, e_end, 2, &v, &v_end) != 0)
				return DPFIX_PAYLOAD_BAD_TLS;
			if (v < v_end) {
				uint32_t name, name_end;

				if (vector(d, v, v_end, v_end, 1, &name, &name_end) != 0 || name == name_end)
					return DPFIX_PAYLOAD_BAD_TLS;
				copy_printable(f->alpn, DPFIX_TLS_ALPN_MAX, d + name, name_end - name, cut);
			}
			break;
		case TLS_EXT_SUPPORTED_VERSIONS:
			/* In a ClientHello: ProtocolVersion versions<2..254>. */
			if (vector(d, e, e_end, e_end, 1, &v, &v_end) != 0 || (v_end - v) % 2 != 0)
				return DPFIX_PAYLOAD_BAD_TLS;
			for (uint32_t q = v; q < v_end; q += 2)
				if (!is_grease(be16(d + q)) && be16(d + q) > *highest)
					*highest = be16(d + q);
			break;
		default:
			break;
		}
		at = e_end;
	}
	return DPFIX_PAYLOAD_TLS_CLIENT_HELLO;
}

enum dpfix_payload_result
dpfix_payload_tls_client_hello(const uint8_t *d, uint32_t n, struct dpfix_tls_fields *f, int *cut)
{
	uint32_t end, record_end, hs_end, at, v, v_end;
	enum dpfix_payload_result r;
	uint16_t legacy, highest = 0;

	if (n < 6 || d[0] != TLS_CONTENT_HANDSHAKE || d[1] != 3 || d[2] > 4 ||
			d[5] != TLS_CLIENT_HELLO)
		return DPFIX_PAYLOAD_NOT_IT;
	if (be16(d + 3) > TLS_RECORD_MAX || be16(d + 3) < 4)
		return DPFIX_PAYLOAD_BAD_TLS;
	record_end = 5u + be16(d + 3);
	end = n < record_end ? n : record_end;
	if (end < 9)
		return DPFIX_PAYLOAD_TRUNCATED_TLS;
	/* A handshake message may span records (RFC 8446 5.1): its declared length bounds
	 * its parts, the record and the segment only what is at hand. */
	hs_end = 9u + be24(d + 6);
	at = 9;
	/* legacy_version, random[32], legacy_session_id<0..32>. */
	if (end < at + 35)
		return DPFIX_PAYLOAD_TRUNCATED_TLS;
	legacy = be16(d + at);
	if ((legacy >> 8) != 3 || d[at + 34] > 32 || hs_end < at + 35)
		return DPFIX_PAYLOAD_BAD_TLS;
	at += 35u + d[at + 34];
	/* cipher_suites<2..2^16-2>: an even count. */
	switch (vector(d, at, end, hs_end, 2, &v, &v_end)) {
	case -1:
		return DPFIX_PAYLOAD_TRUNCATED_TLS;
	case 1:
		return DPFIX_PAYLOAD_BAD_TLS;
	}
	if (v_end == v || (v_end - v) % 2 != 0)
		return DPFIX_PAYLOAD_BAD_TLS;
	/* legacy_compression_methods<1..2^8-1>. */
	switch (vector(d, v_end, end, hs_end, 1, &v, &v_end)) {
	case -1:
		return DPFIX_PAYLOAD_TRUNCATED_TLS;
	case 1:
		return DPFIX_PAYLOAD_BAD_TLS;
	}
	if (v_end == v)
		return DPFIX_PAYLOAD_BAD_TLS;
	f->version = legacy;
	if (v_end == hs_end)
		return DPFIX_PAYLOAD_TLS_CLIENT_HELLO;  /* no extensions (TLS 1.2 allows it) */
	/* extensions<8..2^16-1>. */
	switch (vector(d, v_end, end, hs_end, 2, &v, &v_end)) {
	case -1:
		return DPFIX_PAYLOAD_TRUNCATED_TLS;
	case 1:
		return DPFIX_PAYLOAD_BAD_TLS;
	}
	r = tls_extensions(d, v, end, v_end, f, &highest, cut);
	if (highest != 0)
		f->version = highest;
	return r;
}

/* ---- DNS ---- */

/* A name being written in presentation format, cut at DPFIX_DNS_NAME_MAX characters
 * between two escapes. */
struct name_text {
	char *s;
	uint32_t len;
	int full;
};

static void
name_put(struct name_text *o, const char *p, uint32_t k, int *cut)
{
	if (o->full)
		return;
	if (o->len + k > DPFIX_DNS_NAME_MAX) {
		o->full = 1;
		*cut = 1;
		return;
	}
	memcpy(o->s + o->len, p, k);
	o->len += k;
}

static void
name_label(struct name_text *o, const uint8_t *l, uint32_t len, int *cut)
{
	for (uint32_t i = 0; i < len; i++) {
		char esc[4];
		uint8_t c = l[i];

		if (c == '.' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			name_put(o, esc, 2, cut);
		} else if (c <= 0x20 || c >= 0x7f) {
			esc[0] = '\\';
			esc[1] = (char)('0' + c / 100);
			esc[2] = (char)('0' + c / 10 % 10);
			esc[3] = (char)('0' + c % 10);
			name_put(o, esc, 4, cut);
		} else {
			name_put(o, (const char *)&l[i], 1, cut);
		}
	}
}

/* The name at offset off of message m (n bytes at hand) into out (room
 * DPFIX_DNS_NAME_MAX + 1); *after is where the name ends in the message (after its
 * first pointer, if any). */
static enum dpfix_payload_result
dns_name(const uint8_t *m, uint32_t n, uint32_t off, char *out, int *cut, uint32_t *after)
{
	struct name_text o = {.s = out};
	uint32_t wire = 0, pointers = 0, lowest = off;

	*after = 0;
	for (;;) {
		uint8_t len;

		if (off >= n)
			return DPFIX_PAYLOAD_TRUNCATED_DNS;
		len = m[off];
		if ((len & 0xc0) == 0xc0) {
			uint32_t to;

			if (off + 2 > n)
				return DPFIX_PAYLOAD_TRUNCATED_DNS;
			to = (uint32_t)(len & 0x3f) << 8 | m[off + 1];
			if (*after == 0)
				*after = off + 2;
			/* Backwards only, before every part of the name read so far: no loop. */
			if (to >= lowest || ++pointers > DNS_MAX_POINTERS)
				return DPFIX_PAYLOAD_BAD_DNS;
			off = lowest = to;
			continue;
		}
		if (len & 0xc0)
			return DPFIX_PAYLOAD_BAD_DNS;  /* 0x40 and 0x80: no such label type */
		wire += 1u + len;
		if (wire > DNS_NAME_WIRE_MAX)
			return DPFIX_PAYLOAD_BAD_DNS;
		if (len == 0)
			break;
		if (off + 1 + len > n)
			return DPFIX_PAYLOAD_TRUNCATED_DNS;
		if (o.len != 0)
			name_put(&o, ".", 1, cut);
		name_label(&o, m + off + 1, len, cut);
		off += 1u + len;
	}
	if (*after == 0)
		*after = off + 1;
	if (o.len == 0)
		o.s[o.len++] = '.';
	o.s[o.len] = '\0';
	return DPFIX_PAYLOAD_DNS_MESSAGE;
}

enum dpfix_payload_result
dpfix_payload_dns(const uint8_t *d, uint32_t n, int tcp, struct dpfix_dns_fields *f, int *cut)
{
	char qname[DPFIX_DNS_NAME_MAX + 1];
	enum dpfix_payload_result r;
	uint32_t after;
	uint16_t flags;

	if (n == 0)
		return DPFIX_PAYLOAD_NOT_IT;
	if (tcp) {
		uint32_t len;

		if (n < 2)
			return DPFIX_PAYLOAD_TRUNCATED_DNS;
		len = be16(d);
		if (len < DNS_HEADER_LEN)
			return DPFIX_PAYLOAD_BAD_DNS;
		d += 2;
		n = n - 2 < len ? n - 2 : len;
	}
	if (n < DNS_HEADER_LEN)
		return DPFIX_PAYLOAD_TRUNCATED_DNS;
	flags = be16(d + 2);
	if (flags & 0x8000) {
		f->response = 1;
		f->rcode = flags & 0x0f;
	}
	if (be16(d + 4) == 0)
		return DPFIX_PAYLOAD_DNS_MESSAGE;       /* no question (some error responses) */
	r = dns_name(d, n, DNS_HEADER_LEN, qname, cut, &after);
	if (r != DPFIX_PAYLOAD_DNS_MESSAGE)
		return r;
	if (after + 4 > n)
		return DPFIX_PAYLOAD_TRUNCATED_DNS;
	memcpy(f->qname, qname, sizeof(qname));
	f->qtype = be16(d + after);
	return DPFIX_PAYLOAD_DNS_MESSAGE;
}

/* ---- RTP, SSH, QUIC ---- */

int
dpfix_payload_rtp(const uint8_t *d, uint32_t n, struct dpfix_rtp_header *h)
{
	uint8_t pt;

	if (n < 12 || (d[0] >> 6) != 2 || n < 12u + 4u * (d[0] & 0x0f))
		return 0;
	pt = d[1] & 0x7f;
	if (pt >= 72 && pt <= 76)
		return -1;
	h->payload_type = pt;
	h->sequence = be16(d + 2);
	h->timestamp = be32(d + 4);
	h->ssrc = be32(d + 8);
	return 1;
}

int
dpfix_payload_is_ssh(const uint8_t *d, uint32_t n)
{
	return n >= 4 && memcmp(d, "SSH-", 4) == 0;
}

int
dpfix_payload_is_quic(const uint8_t *d, uint32_t n)
{
	uint32_t v;

	/* Header form and fixed bit set, then the version. */
	if (n < 5 || (d[0] & 0xc0) != 0xc0)
		return 0;
	v = be32(d + 1);
	return v == 0x00000001 || v == 0x6b3343cf || (v >= 0xff00001d && v <= 0xff000022);
}

/* ---- tunnels ---- */

int
dpfix_payload_gre_key(const struct dpfix_packet_info *p, const uint8_t *frame, uint32_t len,
		uint32_t *key)
{
	uint32_t l4 = (uint32_t)p->l3_offset + p->ip_header_len, at;
	uint16_t flags;

	if (p->key.protocol != IPPROTO_GRE_ || p->fragment == DPFIX_FRAG_LATER || l4 + 4 > len)
		return 0;
	flags = be16(frame + l4);
	if (!(flags & GRE_K))
		return 0;
	/* Version 0: after the checksum word if C (RFC 2890 2); version 1 (PPTP): the
	 * payload length and call id, taken as the key. */
	at = (flags & GRE_VERSION) == 1 ? l4 + 4 : l4 + 4 + (flags & GRE_C ? 4 : 0);
	if (at + 4 > len)
		return 0;
	*key = be32(frame + at);
	return 1;
}
