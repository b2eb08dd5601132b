/* dpfix-dump: what the capture reader (dump_pcap.c) and the printer (main.c) share:
 * sessions with their own template scope, counters, and the message hand-over. */
#ifndef DUMP_H
#define DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_ipfix.h"

/* Problems and facts about the input outside the IPFIX messages themselves. The ones
 * marked bad make the exit status non-zero. */
#define DUMP_COUNTERS(X) \
	X(input_errors, 1, "inputs truncated or corrupt (framing lost)") \
	X(packets, 0, "capture packets read") \
	X(packets_ignored, 0, "capture packets not UDP or TCP, or not on a --port") \
	X(packets_truncated, 1, "capture packets cut short by the snapshot length") \
	X(packets_malformed, 1, "capture packets with a malformed link, IP, UDP or TCP header") \
	X(ip_fragments, 1, "IP fragments (not reassembled)") \
	X(udp_not_ipfix, 1, "UDP payloads that are not exactly one IPFIX message") \
	X(tcp_streams, 0, "TCP streams") \
	X(tcp_gap_bytes, 1, "TCP bytes missing from the capture (the stream is not decoded past a gap)") \
	X(tcp_bytes_not_decoded, 1, "TCP bytes after a gap or a framing error, not decoded") \
	X(tcp_framing_errors, 1, "TCP streams that are not a sequence of IPFIX messages") \
	X(tcp_truncated_streams, 1, "TCP streams that end inside a message") \
	X(tcp_out_of_order_dropped, 1, "TCP segments beyond the out-of-order buffer") \
	X(sessions_over_limit, 1, "packets of sessions beyond the session table (not decoded)")

struct dump_counters {
#define DUMP_COUNTER_FIELD(name, bad, text) uint64_t name;
	DUMP_COUNTERS(DUMP_COUNTER_FIELD)
#undef DUMP_COUNTER_FIELD
};

/* A transport session: its own templates and sequence numbers (RFC 7011 scope). A
 * file or stdin is one session; in a capture, each UDP or TCP flow direction is one. */
struct dump_session {
	char name[160];         /* "udp 10.0.0.1:40000 > 10.0.0.2:4739" */
	struct dpfix_ipfix_decoder *decoder;
};

/* Prints (or decodes quietly) one IPFIX message of session s; where says where it is
 * ("offset 1234", "packet 17") for error messages. */
void dump_message(struct dump_session *s, const uint8_t *msg, size_t len, const char *where);

/* Reports a problem with the input on stderr, with dpfix-dump's prefix. */
void dump_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern struct dump_counters dump_counters;

/* Reads a pcap or pcapng capture from in and hands every IPFIX message over UDP or
 * TCP to dump_message; ports: only these (either end), all when nb_ports is 0.
 * Returns 0, or -1 if the capture cannot be read at all. */
int dump_pcap(FILE *in, const uint16_t *ports, unsigned int nb_ports);

/* Calls fn for each capture session, for the summary. */
void dump_pcap_foreach_session(void (*fn)(struct dump_session *s, void *ctx), void *ctx);
void dump_pcap_free(void);

#endif
