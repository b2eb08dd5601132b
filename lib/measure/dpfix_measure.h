/* Measures: what a flow record may carry beyond its own fields (issue 16), each turned
 * on by configuration (`measures = tcp,http,...`): TCP flag counts and the handshake's
 * round-trip times, the first HTTP request and response, the TLS ClientHello's server
 * name, ALPN and version, the DNS question and response code, an applicationId (RFC
 * 6759), packet length range and duration, the tunnel a flow came through, RTP jitter.
 *
 * Their per-flow state is the flow table's extension (dpfix_flow_params.ext_size): a
 * separate array the table takes at start-up only when some measure is on, so a table
 * without measures pays nothing. dpfix_measure_packet is the table's on_packet: it
 * updates a flow's state from each packet, and looks at payload only in the first
 * payload_packets packets of each direction of a record, one segment each. The state
 * travels to the exporter with the record (worker_emit), whose schema
 * (dpfix_measure_schema.h) encodes it. */
#ifndef DPFIX_MEASURE_H
#define DPFIX_MEASURE_H

#include <stdint.h>

#include "dpfix_flow.h"
#include "dpfix_parse.h"
#include "dpfix_payload.h"

/* X(NAME, name, help): the bit is DPFIX_MEASURE_NAME, the config name is name. */
#define DPFIX_MEASURES(X) \
	X(TCP, tcp, "SYN, FIN, RST, PSH, ACK and URG counts; the handshake's round-trip " \
			"times at the probe (SYN -> SYN/ACK, SYN/ACK -> ACK)") \
	X(HTTP, http, "HTTP/1.x method, host, target and user agent of the first request, " \
			"status of the first response") \
	X(TLS, tls, "TLS ClientHello: server name (SNI), first ALPN protocol, highest version") \
	X(DNS, dns, "DNS query name and type, response code (UDP and TCP port 53)") \
	X(APP, app, "applicationId (RFC 6759): from content (HTTP, TLS, DNS, SSH, QUIC), else " \
			"from the port") \
	X(LENGTHS, lengths, "smallest and largest IP length, duration in microseconds") \
	X(TUNNEL, tunnel, "VXLAN VNI and outer addresses of an inner flow, GRE key") \
	X(RTP, rtp, "RTP interarrival jitter (RFC 3550 6.4.1)")

enum dpfix_measure_bit {
#define DPFIX_MEASURE_BIT_ENUM(NAME, name, help) DPFIX_MEASURE_BIT_##NAME,
	DPFIX_MEASURES(DPFIX_MEASURE_BIT_ENUM)
#undef DPFIX_MEASURE_BIT_ENUM
	DPFIX_MEASURE_COUNT
};

#define DPFIX_MEASURE_TCP (1u << DPFIX_MEASURE_BIT_TCP)
#define DPFIX_MEASURE_HTTP (1u << DPFIX_MEASURE_BIT_HTTP)
#define DPFIX_MEASURE_TLS (1u << DPFIX_MEASURE_BIT_TLS)
#define DPFIX_MEASURE_DNS (1u << DPFIX_MEASURE_BIT_DNS)
#define DPFIX_MEASURE_APP (1u << DPFIX_MEASURE_BIT_APP)
#define DPFIX_MEASURE_LENGTHS (1u << DPFIX_MEASURE_BIT_LENGTHS)
#define DPFIX_MEASURE_TUNNEL (1u << DPFIX_MEASURE_BIT_TUNNEL)
#define DPFIX_MEASURE_RTP (1u << DPFIX_MEASURE_BIT_RTP)

/* Config names of the measures, indexed by bit, NULL-terminated. */
extern const char *const dpfix_measure_names[];

#define DPFIX_MEASURE_PAYLOAD_PACKETS_DEFAULT 4

/* Where each measure's state is in a flow's extension (a measure that is off has
 * none), and its size: the same measure set gives the same layout on the workers
 * that write it and the exporter that reads it. */
struct dpfix_measure_layout {
	uint32_t measures;              /* DPFIX_MEASURE_* bits */
	uint32_t size;                  /* bytes of a flow's extension; 0 with no measure */
	uint16_t offset[8];             /* of each state block (measure_state.h) */
};

/* The layout of measures (bits; unknown bits are ignored). */
void dpfix_measure_layout_init(struct dpfix_measure_layout *l, uint32_t measures);
/* Bytes of state measure (one DPFIX_MEASURE_* bit) adds to each flow, alone: for the
 * documentation and the start-up line (the tcp measure: 80; http, tls and dns share one
 * block as long as the largest of them). */
uint32_t dpfix_measure_bytes(uint32_t measure);

/* A worker's counters. The payload results (dpfix_payload.h) are counted each apart. */
#define DPFIX_MEASURE_COUNTERS(X) \
	X(payloads_read, "packets whose payload the measures read (the first " \
			"measure_payload_packets of each direction of a record)") \
	X(values_cut, "HTTP, TLS and DNS values longer than their bound, kept cut") \
	X(counts_saturated, "TCP flag counts that reached 4294967295 in one record and " \
			"stopped there")

struct dpfix_measure_stats {
#define DPFIX_MEASURE_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_MEASURE_COUNTERS(DPFIX_MEASURE_COUNTER_FIELD)
#undef DPFIX_MEASURE_COUNTER_FIELD
	uint64_t payload_results[DPFIX_PAYLOAD_RESULT_COUNT];
};

struct dpfix_measure_params {
	uint32_t measures;              /* DPFIX_MEASURE_* bits */
	uint32_t payload_packets;       /* payload read in this many packets per direction */
	int biflow;                     /* the table's records hold both directions */
	/* The header parser's configuration: with vxlan_inner, tunnel finds the outer
	 * packet of the inner one metered. */
	struct dpfix_parse_config parse_cfg;
};

/* One worker's measures: its table's on_packet context. */
struct dpfix_measure {
	struct dpfix_measure_layout layout;
	uint32_t payload_packets;
	uint32_t first_packets;         /* the packets of a direction payload_work sees */
	int biflow;
	struct dpfix_parse_config parse_cfg;
	/* The table measured (for the uniflow handshake: a SYN/ACK finds the initiator's
	 * record); set with dpfix_measure_set_table once the table exists. */
	struct dpfix_flow_table *table;
	struct dpfix_measure_stats stats;
};

/* -EINVAL if no measure is on or payload_packets is 0. */
int dpfix_measure_init(struct dpfix_measure *m, const struct dpfix_measure_params *p);
void dpfix_measure_set_table(struct dpfix_measure *m, struct dpfix_flow_table *t);

/* The flow table's on_packet (dpfix_flow_packet_fn), ctx a struct dpfix_measure. */
void dpfix_measure_packet(void *ctx, const struct dpfix_flow_record *rec, void *ext, int reverse,
		const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns);

/* Applications RFC 6759's applicationId names from content, under the Classification
 * Engine PANA-L7 (13) with these Selector IDs; X(NAME, id, name, description). The
 * options records of dpfix_measure_schema.h name them. */
#define DPFIX_MEASURE_APPLICATIONS(X) \
	X(HTTP, 1, "http", "HTTP/1.x, by its request or status line") \
	X(TLS, 2, "tls", "TLS, by its handshake record") \
	X(DNS, 3, "dns", "DNS on port 53, by a well-formed message") \
	X(SSH, 4, "ssh", "SSH, by its identification string") \
	X(QUIC, 5, "quic", "QUIC, by a long-header packet of a known version")

enum dpfix_measure_application {
	DPFIX_MEASURE_APP_NONE = 0,
#define DPFIX_MEASURE_APP_ENUM(NAME, id, name, description) DPFIX_MEASURE_APP_##NAME = id,
	DPFIX_MEASURE_APPLICATIONS(DPFIX_MEASURE_APP_ENUM)
#undef DPFIX_MEASURE_APP_ENUM
};

/* RFC 6759 Classification Engine IDs dpfix uses. */
#define DPFIX_MEASURE_ENGINE_IANA_L3 1  /* Selector: the IP protocol number */
#define DPFIX_MEASURE_ENGINE_IANA_L4 3  /* Selector: the port number */
#define DPFIX_MEASURE_ENGINE_PANA_L7 13 /* Selector: dpfix's own ids (above) */

#endif
