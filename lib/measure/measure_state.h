/* The per-flow state of the measures (lib/measure private): the blocks a flow's
 * extension is made of, each present only when a measure that needs it is on, at the
 * offsets the layout gives. Written by the worker (measure.c), read by the record's
 * encoders on the export lcore (measure_schema.c) from the copy the export ring carries. */
#ifndef MEASURE_STATE_H
#define MEASURE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_measure.h"
#include "dpfix_payload.h"

/* Every flow's extension starts with this; the extension's first cache line (which
 * the flow table prefetches) holds what every packet of a flow past its first ones
 * touches: this, lengths, the usual TCP flag counts. */
struct measure_common {
	uint8_t application;    /* enum dpfix_measure_application found in content, 0: none */
	uint8_t text_kind;      /* enum text_kind: what the text block holds */
	uint8_t text_seen;      /* TEXT_SEEN_* bits: which messages filled it */
	uint8_t tunnel_done;    /* the tunnel block was filled from the record's first packet */
	uint8_t rtp_state[2];   /* enum rtp_state of each direction (the rtp block's) */
	uint8_t reserved[2];
};

/* lengths: the smallest and largest IP length per direction ([0] forward, [1] reverse). */
struct measure_lengths {
	uint32_t min_ip[2];
	uint32_t max_ip[2];
};

enum tcp_flag_index { TCP_SYN, TCP_FIN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_FLAG_COUNT };

/* tcp: packets with each flag per direction ([flag][0] forward, [flag][1] reverse: the
 * counts of ACK and PSH, which most packets bump, in the extension's first cache line),
 * and the handshake as seen at the probe. */
struct measure_tcp {
	uint32_t count[TCP_FLAG_COUNT][2];
	uint64_t syn_ns;        /* the last SYN before the SYN/ACK */
	uint64_t synack_ns;     /* the first SYN/ACK after that SYN */
	uint32_t server_rtt_us; /* SYN -> SYN/ACK; 0: not measured */
	uint32_t client_rtt_us; /* SYN/ACK -> ACK; 0: not measured */
	uint8_t syn_dir;        /* 1 + the direction the SYN went (0: none seen) */
	uint8_t synack_dir;     /* 1 + the direction of the SYN/ACK */
	uint8_t reserved[6];
};

enum rtp_state { RTP_UNKNOWN, RTP_CANDIDATE, RTP_YES, RTP_NOT };

/* rtp: one direction's RTP stream (RFC 3550 A.8, in nanoseconds); its state is in
 * measure_common, so a flow found not to be RTP never touches this. */
struct measure_rtp_dir {
	uint64_t last_arrival_ns;
	uint64_t jitter16_ns;   /* the estimate J, times 16 */
	uint32_t ssrc;
	uint32_t timestamp;     /* RTP timestamp of the last packet */
	uint32_t clock_rate;    /* of its payload type; 0: not known, jitter not measured */
	uint16_t sequence;
	uint8_t reserved[2];
};

struct measure_rtp {
	struct measure_rtp_dir dir[2];
};

/* tunnel: what the record's first packet says of its tunnel. */
struct measure_tunnel {
	uint64_t segment_id;    /* layer2SegmentId: VXLAN is 0x01 << 56 | VNI (RFC 7133) */
	uint32_t gre_key;
	uint8_t has_outer;
	uint8_t reserved[3];
	uint8_t outer_src[16];  /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	uint8_t outer_dst[16];
};

enum text_kind { TEXT_NONE, TEXT_HTTP, TEXT_TLS, TEXT_DNS };

#define TEXT_SEEN_REQUEST 1     /* HTTP request, TLS ClientHello, DNS query */
#define TEXT_SEEN_RESPONSE 2    /* HTTP response, DNS response */

/* http, tls, dns: a flow is at most one of them, so they share one block, as long as
 * the largest of those on. */
union measure_text {
	struct dpfix_http_fields http;
	struct dpfix_tls_fields tls;
	struct dpfix_dns_fields dns;
};

/* Where each block is in an extension, and how long the extension is. */
enum measure_block {
	BLOCK_COMMON, BLOCK_LENGTHS, BLOCK_TCP, BLOCK_RTP, BLOCK_TUNNEL, BLOCK_TEXT, BLOCK_COUNT
};

#define MEASURE_TEXT_MEASURES (DPFIX_MEASURE_HTTP | DPFIX_MEASURE_TLS | DPFIX_MEASURE_DNS)

#endif
