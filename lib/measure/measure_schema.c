/* The measures' groups of a flow record (dpfix_measure_schema.h): one list per measure,
 * each value read from the flow's extension at the offset its layout (the group's ctx)
 * gives, and the flow template composed of them; the RFC 6759 options records naming
 * dpfix's applicationIds. */
#include "dpfix_measure_schema.h"
#include "measure_state.h"

#define PEN_CESNET DPFIX_MEASURE_PEN_CESNET
#define PEN_FLOWMON DPFIX_MEASURE_PEN_FLOWMON
#define PEN_DPFIX DPFIX_MEASURE_PEN_DPFIX
#define PEN_REVERSE DPFIX_IPFIX_PEN_REVERSE
#define VARLEN DPFIX_IPFIX_VARLEN

/* ---- reading a measured flow (r) with its group (g, whose ctx is the layout) ---- */

static inline const void *
block_of(const struct dpfix_ipfix_group *g, const struct dpfix_measured_flow *r,
		enum measure_block b)
{
	return r->ext + ((const struct dpfix_measure_layout *)g->ctx)->offset[b];
}

#define COMMON(g, r) ((const struct measure_common *)block_of(g, r, BLOCK_COMMON))
#define LENGTHS(g, r) ((const struct measure_lengths *)block_of(g, r, BLOCK_LENGTHS))
#define TCP(g, r) ((const struct measure_tcp *)block_of(g, r, BLOCK_TCP))
#define RTP(g, r) ((const struct measure_rtp *)block_of(g, r, BLOCK_RTP))
#define TUNNEL(g, r) ((const struct measure_tunnel *)block_of(g, r, BLOCK_TUNNEL))

/* The text block as kind, or NULL when it holds another (or nothing). */
static inline const union measure_text *
text_of(const struct dpfix_ipfix_group *g, const struct dpfix_measured_flow *r, uint8_t kind)
{
	if (COMMON(g, r)->text_kind != kind)
		return NULL;
	return (const union measure_text *)block_of(g, r, BLOCK_TEXT);
}

#define HTTP_STR(g, r, field) \
	(text_of(g, r, TEXT_HTTP) != NULL ? text_of(g, r, TEXT_HTTP)->http.field : NULL)
#define HTTP_NUM(g, r, field) \
	(text_of(g, r, TEXT_HTTP) != NULL ? text_of(g, r, TEXT_HTTP)->http.field : 0)
#define TLS_STR(g, r, field) \
	(text_of(g, r, TEXT_TLS) != NULL ? text_of(g, r, TEXT_TLS)->tls.field : NULL)
#define TLS_NUM(g, r, field) \
	(text_of(g, r, TEXT_TLS) != NULL ? text_of(g, r, TEXT_TLS)->tls.field : 0)
#define DNS_STR(g, r, field) \
	(text_of(g, r, TEXT_DNS) != NULL ? text_of(g, r, TEXT_DNS)->dns.field : NULL)
#define DNS_NUM(g, r, field) \
	(text_of(g, r, TEXT_DNS) != NULL ? text_of(g, r, TEXT_DNS)->dns.field : 0)

/* flowDurationMicroseconds is unsigned32: a record longer than 71 minutes reads as the
 * largest value. */
static inline uint32_t
duration_us(uint64_t first_ns, uint64_t last_ns)
{
	uint64_t us = (last_ns - first_ns) / 1000;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static inline uint32_t
jitter_us(uint8_t state, const struct measure_rtp_dir *s)
{
	uint64_t us = (s->jitter16_ns >> 4) / 1000;

	return state != RTP_YES ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

uint32_t
dpfix_measure_application_id(const struct dpfix_measure_layout *l,
		const struct dpfix_measured_flow *f)
{
	const struct measure_common *c = (const void *)(f->ext + l->offset[BLOCK_COMMON]);
	const struct dpfix_flow_key *k = &f->rec.key;
	uint16_t low;

	if (c->application != DPFIX_MEASURE_APP_NONE)
		return (uint32_t)DPFIX_MEASURE_ENGINE_PANA_L7 << 24 | c->application;
	/* TCP, UDP, SCTP: the flows whose key holds ports. */
	if (k->protocol != 6 && k->protocol != 17 && k->protocol != 132)
		return (uint32_t)DPFIX_MEASURE_ENGINE_IANA_L3 << 24 | k->protocol;
	low = k->src_port < k->dst_port ? k->src_port : k->dst_port;
	if (low == 0)
		low = k->src_port > k->dst_port ? k->src_port : k->dst_port;
	return (uint32_t)DPFIX_MEASURE_ENGINE_IANA_L4 << 24 | low;
}

/* ---- the lists ---- */

#define MEASURE_TCP_FIELDS(X) \
	X(0, IE_tcpSynTotalCount, 4, UINT, TCP(g, r)->count[TCP_SYN][0]) \
	X(0, IE_tcpFinTotalCount, 4, UINT, TCP(g, r)->count[TCP_FIN][0]) \
	X(0, IE_tcpRstTotalCount, 4, UINT, TCP(g, r)->count[TCP_RST][0]) \
	X(0, IE_tcpPshTotalCount, 4, UINT, TCP(g, r)->count[TCP_PSH][0]) \
	X(0, IE_tcpAckTotalCount, 4, UINT, TCP(g, r)->count[TCP_ACK][0]) \
	X(0, IE_tcpUrgTotalCount, 4, UINT, TCP(g, r)->count[TCP_URG][0]) \
	X(PEN_DPFIX, DPFIX_MEASURE_IE_DPFIX_SERVER_RTT, 4, UINT, TCP(g, r)->server_rtt_us) \
	X(PEN_DPFIX, DPFIX_MEASURE_IE_DPFIX_CLIENT_RTT, 4, UINT, TCP(g, r)->client_rtt_us)

#define MEASURE_TCP_REVERSE_FIELDS(X) \
	X(PEN_REVERSE, IE_tcpSynTotalCount, 4, UINT, TCP(g, r)->count[TCP_SYN][1]) \
	X(PEN_REVERSE, IE_tcpFinTotalCount, 4, UINT, TCP(g, r)->count[TCP_FIN][1]) \
	X(PEN_REVERSE, IE_tcpRstTotalCount, 4, UINT, TCP(g, r)->count[TCP_RST][1]) \
	X(PEN_REVERSE, IE_tcpPshTotalCount, 4, UINT, TCP(g, r)->count[TCP_PSH][1]) \
	X(PEN_REVERSE, IE_tcpAckTotalCount, 4, UINT, TCP(g, r)->count[TCP_ACK][1]) \
	X(PEN_REVERSE, IE_tcpUrgTotalCount, 4, UINT, TCP(g, r)->count[TCP_URG][1])

#define MEASURE_HTTP_FIELDS(X) \
	X(0, IE_httpRequestMethod, VARLEN, STRING, HTTP_STR(g, r, method)) \
	X(0, IE_httpRequestHost, VARLEN, STRING, HTTP_STR(g, r, host)) \
	X(0, IE_httpRequestTarget, VARLEN, STRING, HTTP_STR(g, r, target)) \
	X(0, IE_httpUserAgent, VARLEN, STRING, HTTP_STR(g, r, user_agent)) \
	X(0, IE_httpStatusCode, 2, UINT, HTTP_NUM(g, r, status))

#define MEASURE_TLS_FIELDS(X) \
	X(PEN_CESNET, DPFIX_MEASURE_IE_CESNET_TLS_SNI, VARLEN, STRING, TLS_STR(g, r, sni)) \
	X(PEN_FLOWMON, DPFIX_MEASURE_IE_FLOWMON_TLS_ALPN, VARLEN, STRING, TLS_STR(g, r, alpn)) \
	X(PEN_FLOWMON, DPFIX_MEASURE_IE_FLOWMON_TLS_CLIENT_VERSION, 2, UINT, \
			TLS_NUM(g, r, version))

#define MEASURE_DNS_FIELDS(X) \
	X(PEN_CESNET, DPFIX_MEASURE_IE_CESNET_DNS_NAME, VARLEN, STRING, DNS_STR(g, r, qname)) \
	X(PEN_CESNET, DPFIX_MEASURE_IE_CESNET_DNS_QTYPE, 2, UINT, DNS_NUM(g, r, qtype)) \
	X(PEN_CESNET, DPFIX_MEASURE_IE_CESNET_DNS_RCODE, 1, UINT, DNS_NUM(g, r, rcode))

/* applicationId is an octetArray: its 4 octets written as one big-endian number. */
#define MEASURE_APP_FIELDS(X) \
	X(0, IE_applicationId, 4, UINT, dpfix_measure_application_id(g->ctx, r))

#define MEASURE_LENGTHS_FIELDS(X) \
	X(0, IE_minimumIpTotalLength, 4, UINT, LENGTHS(g, r)->min_ip[0]) \
	X(0, IE_maximumIpTotalLength, 4, UINT, LENGTHS(g, r)->max_ip[0]) \
	X(0, IE_flowDurationMicroseconds, 4, UINT, duration_us(r->rec.first_ns, r->rec.last_ns))

#define MEASURE_LENGTHS_REVERSE_FIELDS(X) \
	X(PEN_REVERSE, IE_minimumIpTotalLength, 4, UINT, LENGTHS(g, r)->min_ip[1]) \
	X(PEN_REVERSE, IE_maximumIpTotalLength, 4, UINT, LENGTHS(g, r)->max_ip[1]) \
	X(PEN_REVERSE, IE_flowDurationMicroseconds, 4, UINT, \
			duration_us(r->rec.rev_first_ns, r->rec.rev_last_ns))

#define MEASURE_TUNNEL_FIELDS(X) \
	X(0, IE_layer2SegmentId, 8, UINT, TUNNEL(g, r)->segment_id) \
	X(0, IE_greKey, 4, UINT, TUNNEL(g, r)->gre_key) \
	X(PEN_DPFIX, DPFIX_MEASURE_IE_DPFIX_TUNNEL_SOURCE, 16, OCTETS, TUNNEL(g, r)->outer_src) \
	X(PEN_DPFIX, DPFIX_MEASURE_IE_DPFIX_TUNNEL_DESTINATION, 16, OCTETS, TUNNEL(g, r)->outer_dst)

#define MEASURE_RTP_FIELDS(X) \
	X(0, IE_rfc3550JitterMicroseconds, 4, UINT, \
			jitter_us(COMMON(g, r)->rtp_state[0], &RTP(g, r)->dir[0]))

#define MEASURE_RTP_REVERSE_FIELDS(X) \
	X(PEN_REVERSE, IE_rfc3550JitterMicroseconds, 4, UINT, \
			jitter_us(COMMON(g, r)->rtp_state[1], &RTP(g, r)->dir[1]))

DPFIX_IPFIX_GROUP_DEFINE(measure_tcp, struct dpfix_measured_flow, 0, MEASURE_TCP_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_tcp_reverse, struct dpfix_measured_flow, 0,
		MEASURE_TCP_REVERSE_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_http, struct dpfix_measured_flow, 0, MEASURE_HTTP_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_tls, struct dpfix_measured_flow, 0, MEASURE_TLS_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_dns, struct dpfix_measured_flow, 0, MEASURE_DNS_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_app, struct dpfix_measured_flow, 0, MEASURE_APP_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_lengths, struct dpfix_measured_flow, 0, MEASURE_LENGTHS_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_lengths_reverse, struct dpfix_measured_flow, 0,
		MEASURE_LENGTHS_REVERSE_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_tunnel, struct dpfix_measured_flow, 0, MEASURE_TUNNEL_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_rtp, struct dpfix_measured_flow, 0, MEASURE_RTP_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(measure_rtp_reverse, struct dpfix_measured_flow, 0,
		MEASURE_RTP_REVERSE_FIELDS);

/* Each measure's groups, in the order of DPFIX_MEASURES: forward, then reverse (NULL:
 * it has no reverse elements: its values belong to the connection). */
static const struct {
	const struct dpfix_ipfix_group *forward, *reverse;
} measure_groups[DPFIX_MEASURE_COUNT] = {
	[DPFIX_MEASURE_BIT_TCP] = {&measure_tcp, &measure_tcp_reverse},
	[DPFIX_MEASURE_BIT_HTTP] = {&measure_http, NULL},
	[DPFIX_MEASURE_BIT_TLS] = {&measure_tls, NULL},
	[DPFIX_MEASURE_BIT_DNS] = {&measure_dns, NULL},
	[DPFIX_MEASURE_BIT_APP] = {&measure_app, NULL},
	[DPFIX_MEASURE_BIT_LENGTHS] = {&measure_lengths, &measure_lengths_reverse},
	[DPFIX_MEASURE_BIT_TUNNEL] = {&measure_tunnel, NULL},
	[DPFIX_MEASURE_BIT_RTP] = {&measure_rtp, &measure_rtp_reverse},
};

int
dpfix_measure_flow_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		const struct dpfix_flow_schema_params *p, const struct dpfix_measure_layout *l)
{
	int ret = dpfix_flow_schema(s, template_id, p);

	for (int m = 0; m < DPFIX_MEASURE_COUNT && ret == 0; m++) {
		if (!(l->measures & (1u << m)))
			continue;
		ret = dpfix_ipfix_schema_add(s, measure_groups[m].forward, l);
		if (ret == 0 && p->biflow && measure_groups[m].reverse != NULL)
			ret = dpfix_ipfix_schema_add(s, measure_groups[m].reverse, l);
	}
	return ret;
}

/* What a string field's bound leaves unused of the 1 + 254 octets its schema counts. */
#define UNUSED(bound) (254u - (bound))

uint32_t
dpfix_measure_flow_record_max(const struct dpfix_ipfix_schema *s,
		const struct dpfix_measure_layout *l)
{
	uint32_t n = s->max_length;

	if (l->measures & DPFIX_MEASURE_HTTP)
		n -= UNUSED(DPFIX_HTTP_METHOD_MAX) + UNUSED(DPFIX_HTTP_HOST_MAX) +
				UNUSED(DPFIX_HTTP_TARGET_MAX) + UNUSED(DPFIX_HTTP_USER_AGENT_MAX);
	if (l->measures & DPFIX_MEASURE_TLS)
		n -= UNUSED(DPFIX_TLS_SNI_MAX) + UNUSED(DPFIX_TLS_ALPN_MAX);
	if (l->measures & DPFIX_MEASURE_DNS)
		n -= UNUSED(DPFIX_DNS_NAME_MAX);
	return n;
}

/* ---- RFC 6759 application names ---- */

const struct dpfix_measure_application_name dpfix_measure_application_names[] = {
#define DPFIX_MEASURE_APP_NAME(NAME, id, name, description) \
	{(uint32_t)DPFIX_MEASURE_ENGINE_PANA_L7 << 24 | (id), name, description},
	DPFIX_MEASURE_APPLICATIONS(DPFIX_MEASURE_APP_NAME)
#undef DPFIX_MEASURE_APP_NAME
};

const unsigned int dpfix_measure_application_name_count =
		sizeof(dpfix_measure_application_names) / sizeof(dpfix_measure_application_names[0]);

#define APPLICATION_NAME_FIELDS(X) \
	X(0, IE_applicationId, 4, UINT, r->application_id) \
	X(0, IE_applicationName, VARLEN, STRING, r->name) \
	X(0, IE_applicationDescription, VARLEN, STRING, r->description)

DPFIX_IPFIX_SCHEMA_DEFINE(dpfix_measure_application_names_schema,
		struct dpfix_measure_application_name, 1, APPLICATION_NAME_FIELDS)
