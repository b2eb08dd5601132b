/* A measured flow as an IPFIX record: the flow record's schema (dpfix_flow_schema.h)
 * and a group per measure on, made of the lists in measure_schema.c. Each measure's
 * elements are IANA's where IANA has one; the TLS and DNS values are the published
 * enterprise elements of CESNET (PEN 8057) and Flowmon (PEN 39499) that CESNET's
 * ipfixprobe exports and ipfixcol2 decodes; the handshake round-trip times and a
 * tunnel's outer addresses, which no one publishes, are dpfix's own (doc/measures.md
 * says why, and config/measures.elements names them all for dpfix-collector). */
#ifndef DPFIX_MEASURE_SCHEMA_H
#define DPFIX_MEASURE_SCHEMA_H

#include <stdint.h>

#include "dpfix_flow_schema.h"
#include "dpfix_ipfix_schema.h"
#include "dpfix_measure.h"

/* What the export ring carries for each flow when measures are on, and what the
 * measured schema encodes: the record, then its extension (layout.size bytes). */
struct dpfix_measured_flow {
	struct dpfix_flow_record rec;
	uint8_t ext[];
};

/* Enterprise numbers and elements the measures use besides IANA's. */
#define DPFIX_MEASURE_PEN_CESNET 8057
#define DPFIX_MEASURE_PEN_FLOWMON 39499
/* dpfix's own elements (dpfix_ipfix.h). */
#define DPFIX_MEASURE_PEN_DPFIX DPFIX_IPFIX_PEN_DPFIX

#define DPFIX_MEASURE_IE_CESNET_DNS_RCODE 1         /* DNSRCode, unsigned8 */
#define DPFIX_MEASURE_IE_CESNET_DNS_NAME 2          /* DNSName, string */
#define DPFIX_MEASURE_IE_CESNET_DNS_QTYPE 3         /* DNSQType, unsigned16 */
#define DPFIX_MEASURE_IE_CESNET_TLS_SNI 808         /* TLSSNI, string */
#define DPFIX_MEASURE_IE_FLOWMON_TLS_ALPN 337       /* tlsAlpn, string */
#define DPFIX_MEASURE_IE_FLOWMON_TLS_CLIENT_VERSION 340 /* tlsClientVersion, unsigned16 */
#define DPFIX_MEASURE_IE_DPFIX_SERVER_RTT 1         /* tcpServerRoundTripMicroseconds */
#define DPFIX_MEASURE_IE_DPFIX_CLIENT_RTT 2         /* tcpClientRoundTripMicroseconds */
#define DPFIX_MEASURE_IE_DPFIX_TUNNEL_SOURCE 3      /* tunnelSourceIPv6Address */
#define DPFIX_MEASURE_IE_DPFIX_TUNNEL_DESTINATION 4 /* tunnelDestinationIPv6Address */

/* Makes s the schema of measured flow records (struct dpfix_measured_flow) with
 * template id template_id: dpfix_flow_schema's groups for p, then a group for each
 * measure of l (with p->biflow, its RFC 5103 reverse elements where it has any). l is
 * read by the encoders: the caller keeps it as long as s. Returns as
 * dpfix_flow_schema. */
int dpfix_measure_flow_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		const struct dpfix_flow_schema_params *p, const struct dpfix_measure_layout *l);

/* The longest record of s (made by dpfix_measure_flow_schema with l, or by
 * dpfix_flow_schema with no measure): s->max_length less what the text measures'
 * strings can never take (they are cut at their bounds, dpfix_payload.h, not at 254
 * octets). */
uint32_t dpfix_measure_flow_record_max(const struct dpfix_ipfix_schema *s,
		const struct dpfix_measure_layout *l);

/* RFC 6759 6.2: an options record naming an applicationId. */
struct dpfix_measure_application_name {
	uint32_t application_id;        /* Classification Engine ID << 24 | Selector ID */
	const char *name;
	const char *description;
};

/* The applications dpfix names from content (DPFIX_MEASURE_APPLICATIONS), one record
 * each, and their count. */
extern const struct dpfix_measure_application_name dpfix_measure_application_names[];
extern const unsigned int dpfix_measure_application_name_count;

/* The longest of those records: applicationId and two strings. */
#define DPFIX_MEASURE_APPLICATION_NAME_MAX_LEN (4 + 2 * (1 + 254))

/* Makes s the options schema of those records (scope applicationId). */
int dpfix_measure_application_names_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);

/* The applicationId of a measured flow as its 4 octets read as a big-endian number:
 * PANA-L7 with dpfix's id when content said which application it is, else IANA-L4
 * with the lower of its ports (the service's, in the usual client-server case), else
 * IANA-L3 with its protocol (no ports: ICMP, GRE, ESP...). */
uint32_t dpfix_measure_application_id(const struct dpfix_measure_layout *l,
		const struct dpfix_measured_flow *f);

#endif
