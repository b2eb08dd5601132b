/* Reading a packet's transport payload for the measurements of lib/measure: where it
 * lies, and the first message of HTTP/1.x, a TLS ClientHello, DNS, RTP, and the first
 * bytes SSH and QUIC begin with. Stateless, like the header parser: each function reads
 * only the bytes it is given (one segment: nothing is reassembled), checks every length
 * against them and against the lengths that enclose it, and never trusts a field it
 * has not checked. Values are copied into bounded buffers, NUL-terminated, as UTF-8
 * (bytes outside printable ASCII replaced), so they can go into IPFIX strings as they
 * are. */
#ifndef DPFIX_PAYLOAD_H
#define DPFIX_PAYLOAD_H

#include <stdint.h>

#include "dpfix_parse.h"

/* What reading a payload found. X(NAME, kind, text): kind OK for a message read (its
 * values are set), MALFORMED for one that claimed to be of the protocol and broke its
 * rules: cut short by the end of the bytes at hand before its values (TRUNCATED_), or
 * lengths or syntax that contradict each other (BAD_). NOT_IT (not the protocol) has no
 * counter of its own. */
#define DPFIX_PAYLOAD_RESULTS(X) \
	X(HTTP_REQUEST, OK, "HTTP/1.x requests read") \
	X(HTTP_RESPONSE, OK, "HTTP/1.x responses read") \
	X(TLS_CLIENT_HELLO, OK, "TLS ClientHellos read") \
	X(DNS_MESSAGE, OK, "DNS messages read") \
	X(TRUNCATED_HTTP, MALFORMED, "HTTP request or status line cut short by the end of " \
			"the segment") \
	X(BAD_HTTP, MALFORMED, "HTTP request or status line breaking HTTP/1.x syntax") \
	X(TRUNCATED_TLS, MALFORMED, "TLS ClientHello cut short by the end of the segment " \
			"before its extensions were read") \
	X(BAD_TLS, MALFORMED, "TLS ClientHello whose lengths contradict each other") \
	X(TRUNCATED_DNS, MALFORMED, "DNS message on port 53 cut short before its question " \
			"was read") \
	X(BAD_DNS, MALFORMED, "DNS message on port 53 with a bad name (label type, length, " \
			"pointer) or TCP length")

enum dpfix_payload_result {
	DPFIX_PAYLOAD_NOT_IT = 0,
#define DPFIX_PAYLOAD_ENUM(name, kind, text) DPFIX_PAYLOAD_##name,
	DPFIX_PAYLOAD_RESULTS(DPFIX_PAYLOAD_ENUM)
#undef DPFIX_PAYLOAD_ENUM
	DPFIX_PAYLOAD_RESULT_COUNT
};

/* Name ("BAD_TLS"), readable reason, and kind (of dpfix_parse_kind) of a result. */
const char *dpfix_payload_result_name(enum dpfix_payload_result r);
const char *dpfix_payload_result_text(enum dpfix_payload_result r);
enum dpfix_parse_kind dpfix_payload_result_kind(enum dpfix_payload_result r);

/* The transport payload of the parsed packet p whose frame's first len bytes are at
 * frame: TCP after its header (data offset), UDP after its 8 bytes, within the bytes
 * at hand and the IP length (Ethernet padding is not payload). Returns its length (0:
 * none, or not TCP/UDP, or a later fragment), *payload its first byte. */
uint32_t dpfix_payload_locate(const struct dpfix_packet_info *p, const uint8_t *frame,
		uint32_t len, const uint8_t **payload);

/* ---- HTTP/1.x: the request line with Host and User-Agent, or the status line ---- */

#define DPFIX_HTTP_METHOD_MAX 8         /* IANA's httpRequestMethod: up to 8 characters */
#define DPFIX_HTTP_HOST_MAX 63
#define DPFIX_HTTP_TARGET_MAX 127
#define DPFIX_HTTP_USER_AGENT_MAX 127

struct dpfix_http_fields {
	char method[DPFIX_HTTP_METHOD_MAX + 1];
	char host[DPFIX_HTTP_HOST_MAX + 1];
	char target[DPFIX_HTTP_TARGET_MAX + 1];
	char user_agent[DPFIX_HTTP_USER_AGENT_MAX + 1];
	uint16_t status;                /* of the response; 0 until one is read */
};

/* A request (method, target, and the Host and User-Agent of the header lines whole in
 * the segment) into f, or a status line (status): HTTP_REQUEST or HTTP_RESPONSE. Fields
 * the message does not give are left as they are, so a request and its response fill
 * one f. *cut is set when a value was longer than its buffer (kept cut). */
enum dpfix_payload_result dpfix_payload_http(const uint8_t *d, uint32_t n,
		struct dpfix_http_fields *f, int *cut);

/* ---- TLS ClientHello ---- */

#define DPFIX_TLS_SNI_MAX 127
#define DPFIX_TLS_ALPN_MAX 31

struct dpfix_tls_fields {
	char sni[DPFIX_TLS_SNI_MAX + 1];        /* the first host_name of server_name */
	char alpn[DPFIX_TLS_ALPN_MAX + 1];      /* the first protocol the client offers */
	/* The highest version the client offers: of supported_versions (RFC 8446 4.2.1;
	 * GREASE values skipped) when it sends one, else the ClientHello's version. */
	uint16_t version;
};

/* A TLS record starting with a ClientHello (TLS_CLIENT_HELLO), f filled. The values of
 * the extensions within the bytes at hand are read even when the ClientHello goes on
 * past them; one cut before its extensions is TRUNCATED_TLS. */
enum dpfix_payload_result dpfix_payload_tls_client_hello(const uint8_t *d, uint32_t n,
		struct dpfix_tls_fields *f, int *cut);
/* Whether d starts like a TLS record of a handshake (any message: ServerHello too). */
int dpfix_payload_is_tls(const uint8_t *d, uint32_t n);

/* ---- DNS ---- */

/* The query name in presentation format (RFC 1035 5.1: labels joined by '.', a '.' or
 * '\' inside a label and bytes outside printable ASCII escaped as \. \\ \DDD; the root
 * is "."), cut at this many characters. */
#define DPFIX_DNS_NAME_MAX 127

struct dpfix_dns_fields {
	char qname[DPFIX_DNS_NAME_MAX + 1];
	uint16_t qtype;
	uint8_t rcode;                  /* of the response (the header's 4 bits) */
	uint8_t response;               /* QR: a response was read */
};

/* A DNS message (tcp: with its 2-byte length, RFC 1035 4.2.2) into f: the first
 * question's name and type, and with a response its response code. DNS_MESSAGE,
 * TRUNCATED_DNS, BAD_DNS; NOT_IT only for an empty payload. Compression pointers are
 * followed backwards only, at most 16 of them. */
enum dpfix_payload_result dpfix_payload_dns(const uint8_t *d, uint32_t n, int tcp,
		struct dpfix_dns_fields *f, int *cut);

/* ---- RTP (RFC 3550 5.1) ---- */

struct dpfix_rtp_header {
	uint32_t ssrc;
	uint32_t timestamp;
	uint16_t sequence;
	uint8_t payload_type;
};

/* 1 if d is an RTP data packet (version 2, room for its CSRC list), h set; -1 if it is
 * RTCP sharing the ports (RFC 5761 4: RTCP's packet types 200-204 read as payload types
 * 72-76 with the marker bit); 0 otherwise. */
int dpfix_payload_rtp(const uint8_t *d, uint32_t n, struct dpfix_rtp_header *h);

/* ---- first bytes of other protocols ---- */

/* An SSH identification string ("SSH-", RFC 4253 4.2). */
int dpfix_payload_is_ssh(const uint8_t *d, uint32_t n);
/* A QUIC long-header packet of a known version (1, 2, drafts 29-34: RFC 9000 17.2,
 * RFC 9369). */
int dpfix_payload_is_quic(const uint8_t *d, uint32_t n);

/* ---- tunnels ---- */

/* The GRE key of parsed GRE packet p (RFC 2890; version 1's call id key field),
 * within its bytes at hand. 1 and *key set if the header has one, else 0. */
int dpfix_payload_gre_key(const struct dpfix_packet_info *p, const uint8_t *frame, uint32_t len,
		uint32_t *key);

/* The outer packet of a frame whose inner packet was metered (cfg->vxlan_inner): the
 * outer IP version (4 or 6; IPv4 addresses in the first 4 bytes), addresses and the
 * VXLAN Network Identifier. 1 if frame carries VXLAN to cfg->vxlan_port, else 0. */
struct dpfix_vxlan_outer {
	uint8_t ip_version;
	uint8_t src_addr[16];
	uint8_t dst_addr[16];
	uint32_t vni;
};

int dpfix_parse_vxlan_outer(const struct dpfix_parse_config *cfg, const uint8_t *frame,
		uint32_t len, struct dpfix_vxlan_outer *out);

#endif
