/* The export lcore: drains the workers' rings, encodes flow records per template into
 * IPFIX messages no larger than the session allows, and sends them; every
 * options_interval (and at start and end) it also sends the options records of RFC 7011
 * section 4 and the interface names. It owns all IPFIX state: templates, the sequence
 * number, the message being filled. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dpfix_flow_schema.h"
#include "dpfix_ipfix.h"
#include "dpfix_ipfix_export.h"
#include "dpfix_ipfix_options.h"
#include "dpfix_ipfix_psamp.h"
#include "port_stats.h"
#include "probe.h"

/* Every kind of record the probe exports, in the order of their template ids from 256
 * (collectors and stored files know them by these), each with how add_templates makes
 * its schema s for template id `id` (-ENOENT: this configuration does not export it):
 * the two flow templates; the options templates of RFC 7011 4, sent with them; and the
 * PSAMP options templates (RFC 5476 6.5), only when some port samples: the selector
 * report of each algorithm in use, selector statistics, selection sequences. */
#define PROBE_RECORD_KINDS(X) \
	X(IPV4, flow_schema(st, s, id, 4, x->settings->biflow)) \
	X(IPV6, flow_schema(st, s, id, 6, x->settings->biflow)) \
	X(METERING_STATS, dpfix_ipfix_metering_stats_schema(s, id)) \
	X(METERING_RELIABILITY, dpfix_ipfix_metering_reliability_schema(s, id)) \
	X(EXPORTING_RELIABILITY, dpfix_ipfix_exporting_reliability_schema(s, id)) \
	X(FLOW_KEYS, dpfix_ipfix_flow_keys_schema(s, id)) \
	X(INTERFACES, dpfix_ipfix_interface_info_schema(s, id)) \
	X(SELECTOR_SYSTEMATIC, selector_report_schema(x, s, id, DPFIX_SAMPLE_SYSTEMATIC)) \
	X(SELECTOR_RANDOM, selector_report_schema(x, s, id, DPFIX_SAMPLE_RANDOM)) \
	X(SELECTOR_HASH, selector_report_schema(x, s, id, DPFIX_SAMPLE_HASH)) \
	X(SELECTOR_STATS, st->sampling ? dpfix_ipfix_selector_stats_schema(s, id) : -ENOENT) \
	X(SELECTION_SEQUENCE, \
			st->sampling ? dpfix_ipfix_selection_sequence_schema(s, id) : -ENOENT)

enum probe_record_kind {
#define PROBE_RECORD_KIND(kind, build) RECORD_##kind,
	PROBE_RECORD_KINDS(PROBE_RECORD_KIND)
#undef PROBE_RECORD_KIND
	RECORD_KIND_COUNT
};

/* The longest options record, which add_option encodes. */
#define OPTIONS_RECORD_MAX DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN
_Static_assert(DPFIX_IPFIX_METERING_STATS_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_METERING_RELIABILITY_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_EXPORTING_RELIABILITY_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_FLOW_KEYS_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_SELECTOR_STATS_LEN <= OPTIONS_RECORD_MAX &&
		DPFIX_IPFIX_SELECTION_SEQUENCE_LEN <= OPTIONS_RECORD_MAX,
		"an options record is longer");

#define DEQUEUE_BURST 64

/* The selector report of each algorithm. */
static const enum probe_record_kind selector_report_kind[DPFIX_SAMPLE_ALGORITHM_COUNT] = {
	[DPFIX_SAMPLE_SYSTEMATIC] = RECORD_SELECTOR_SYSTEMATIC,
	[DPFIX_SAMPLE_RANDOM] = RECORD_SELECTOR_RANDOM,
	[DPFIX_SAMPLE_HASH] = RECORD_SELECTOR_HASH,
};

struct port_name {
	uint32_t port;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[64];
};

struct exporter_state {
	struct dpfix_ipfix_template_manager tm; /* IPv4, IPv6, then the options templates */
	struct dpfix_ipfix_schema schema[RECORD_KIND_COUNT]; /* those it exports */
	/* With sampling, flow records end with the selectorId of their ingress port's
	 * selector (0: the port meters every packet). */
	int sampling;
	uint64_t selector_of_port[RTE_MAX_ETHPORTS];
	struct dpfix_flow_selectors selectors;  /* selector_of_port, for the flow schemas */
	struct dpfix_ipfix_msg msg;
	uint8_t *buf;
	struct dpfix_ipfix_msg opt_msg;  /* options records: their own message, so the */
	uint8_t *opt_buf;                /* flow message being filled stays open */
	uint32_t sequence;          /* data records (flows and options) sent so far */
	uint64_t msg_packets;       /* packets and octets of the flows in msg, counted */
	uint64_t msg_octets;        /* as lost if it cannot be sent */
	uint64_t session_records;   /* flow records sent on the current session */
	uint64_t given_up_counted;  /* ... of which its transport gave up, counted as lost */
	uint64_t options_sent_ns;
	int options_due;
	uint32_t process_id;        /* meteringProcessId and exportingProcessId */
	unsigned int nb_ports;
	struct port_name ports[RTE_MAX_ETHPORTS];
	uint64_t msg_started_ns;
	uint64_t liveness_check_ns;
	uint64_t session_started_ns;    /* the current session was taken up */
	int trusted;                    /* it has passed its probation: flow records go */
	uint64_t hold_deadline_ns;      /* input over, no session: drop what is left then */
	int gave_up;                    /* ... and it has */
};

#define LIVENESS_CHECK_NS 100000000ull  /* reliable sessions: look for a close every 100 ms */
/* At the end: how long the collector may take to acknowledge the last data before the
 * template withdrawal (the session's end then waits as long again for its confirmation). */
#define WITHDRAWAL_WAIT_MS 3000
#define SHUTDOWN_GRACE_NS 5000000000ull /* input over: wait this long for a new session */
/* A collector that refuses a session (a TLS alert to a plaintext exporter, a reset
 * right after accepting) does so as soon as it reads the first message: a new session
 * gets its templates and options records at once, and flow records only once it has
 * stayed up this long, so none go into a session about to be refused uncounted. */
#define PROBATION_NS 500000000ull

/* A reliable session that failed is replaced rather than written into further. One
 * that had lasted is reported here; one that had not is a failed connection attempt,
 * which the control lcore reports with the others. */
static void
mark_failed(struct exporter_ctx *x, uint64_t now_ns, const char *why)
{
	struct exporter_state *st = x->state;

	if (!dpfix_session_is_reliable(x->session) || atomic_load(&x->session_failed))
		return;
	x->failed_lasted_ns = now_ns - st->session_started_ns;
	snprintf(x->failed_why, sizeof(x->failed_why), "%s", why);
	if (x->failed_lasted_ns >= SESSION_STABLE_NS)
		RTE_LOG(WARNING, USER1, "export: session %s is down (%s); records wait in the rings "
				"while the control lcore reconnects\n", dpfix_session_name(x->session), why);
	atomic_store(&x->session_failed, 1);
	atomic_fetch_add(&x->session_failures, 1); /* after the facts it publishes */
}

/* A session is taken up: templates first (start_message), options records next, flow
 * records once it is trusted. */
static void
session_taken_up(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;

	st->session_started_ns = now_ns;
	st->session_records = 0;
	st->given_up_counted = 0;
	st->trusted = !dpfix_session_is_reliable(x->session);
	st->liveness_check_ns = now_ns + LIVENESS_CHECK_NS;
}

/* The flow key of the probe's templates: the 5-tuple (ICMP type/code instead of the
 * ports) always, and what the flow_key option adds (DSCP marks ipClassOfService, of
 * which it is the upper 6 bits). */
static uint64_t
flow_key_indicator(const struct exporter_ctx *x, const struct dpfix_ipfix_template *t)
{
	uint16_t keys[16];
	size_t n = 0;
	uint32_t fk = x->settings->flow_key;

	keys[n++] = IE_sourceIPv4Address;
	keys[n++] = IE_destinationIPv4Address;
	keys[n++] = IE_sourceIPv6Address;
	keys[n++] = IE_destinationIPv6Address;
	keys[n++] = IE_sourceTransportPort;
	keys[n++] = IE_destinationTransportPort;
	keys[n++] = IE_protocolIdentifier;
	keys[n++] = IE_icmpTypeCodeIPv4;
	keys[n++] = IE_icmpTypeCodeIPv6;
	if (fk & DPFIX_KEY_VLAN)
		keys[n++] = IE_vlanId;
	if (fk & DPFIX_KEY_DSCP)
		keys[n++] = IE_ipClassOfService;
	if (fk & DPFIX_KEY_MPLS)
		keys[n++] = IE_mplsTopLabelStackSection;
	if (fk & DPFIX_KEY_INGRESS_PORT)
		keys[n++] = IE_ingressInterface;
	return dpfix_ipfix_flow_key_indicator(t, keys, n);
}

static int
flow_schema(const struct exporter_state *st, struct dpfix_ipfix_schema *s, uint16_t id,
		int ip_version, int biflow)
{
	return dpfix_flow_schema(s, id, &(struct dpfix_flow_schema_params){
		.ip_version = ip_version, .biflow = biflow,
		.selectors = st->sampling ? &st->selectors : NULL});
}

/* The report of selectors of `algorithm`, if some port has one. */
static int
selector_report_schema(const struct exporter_ctx *x, struct dpfix_ipfix_schema *s, uint16_t id,
		enum dpfix_sample_algorithm algorithm)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		const struct probe_sampling *ps = probe_sampling_of_port(x->settings, port);

		if (ps != NULL && ps->params.algorithm == algorithm)
			return dpfix_ipfix_selector_report_schema(s, id,
					dpfix_sample_algorithm_iana(algorithm));
	}
	return -ENOENT;
}

/* The schema of every kind of record this configuration exports, and its template, in
 * id order: the flow templates first (the flow keys records follow this order), then
 * the options templates (RFC 7011 4), PSAMP's last. */
static int
add_templates(struct exporter_ctx *x, struct exporter_state *st)
{
	static struct dpfix_ipfix_template t; /* 4 KiB: not on the stack */

	dpfix_ipfix_tm_init(&st->tm, x->settings->template_refresh_ms * 1000000ull);
	for (int kind = 0; kind < RECORD_KIND_COUNT; kind++) {
		struct dpfix_ipfix_schema *s = &st->schema[kind];
		uint16_t id = (uint16_t)(DPFIX_IPFIX_SET_MIN_DATA + kind);
		int ret;

		switch (kind) {
#define PROBE_RECORD_SCHEMA(name, build) case RECORD_##name: ret = (build); break;
		PROBE_RECORD_KINDS(PROBE_RECORD_SCHEMA)
#undef PROBE_RECORD_SCHEMA
		default:
			ret = -ENOENT;
		}
		if (ret == -ENOENT)
			continue;
		if (ret < 0)
			return ret;
		dpfix_ipfix_schema_template(s, &t);
		ret = dpfix_ipfix_tm_add(&st->tm, &t);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Sends one finished message of this many flow records, retrying briefly while the
 * transport is full. */
static int
send_with_retry(struct exporter_ctx *x, const uint8_t *buf, uint32_t len,
		enum dpfix_message_kind kind, uint32_t flow_records)
{
	int ret = dpfix_session_send_records(x->session, buf, len, kind, flow_records);

	for (int tries = 0; ret == -EAGAIN && tries < 1000; tries++) {
		/* Socket buffer full: brief back-off; the rings absorb the wait. */
		usleep(100);
		ret = dpfix_session_send_records(x->session, buf, len, kind, flow_records);
	}
	if (ret == 0)
		x->bytes_sent += len;
	if (ret < 0) {
		char why[DPFIX_SESSION_ERRLEN];
		uint8_t scratch[256];

		snprintf(why, sizeof(why), "%s", strerror(-ret));
		/* What a collector sent before it reset the session may say why: a (D)TLS
		 * alert to this plaintext exporter does (dpfix_session_recv names it). */
		if (ret != -EAGAIN && ret != -EMSGSIZE && dpfix_session_is_reliable(x->session) &&
				dpfix_session_recv(x->session, scratch, sizeof(scratch), why,
					sizeof(why)) != -EPROTO)
			snprintf(why, sizeof(why), "%s", strerror(-ret));
		if (ret == -EAGAIN || ret == -EMSGSIZE)
			RTE_LOG(WARNING, USER1, "export: sending a %u-byte message on %s failed: %s\n",
					len, dpfix_session_name(x->session), why);
		else    /* the session is dead: said once, by mark_failed or the control lcore */
			mark_failed(x, probe_clock_now_ns(), why);
	}
	return ret;
}

/* Ends message m: export time, the sequence number (data records sent before it) and
 * the observation domain in its header. Returns its length. */
static uint32_t
finish_message(struct exporter_ctx *x, struct dpfix_ipfix_msg *m, uint64_t now_ns)
{
	const struct exporter_state *st = x->state;

	return dpfix_ipfix_msg_finish(m, (uint32_t)(now_ns / 1000000000ull), st->sequence,
			x->settings->observation_domain);
}

/* Templates travel in messages of their own: SCTP must carry them on stream 0 and
 * data never there (RFC 7011 10.2), and one rule for every transport is simplest. */
static void
send_templates(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	int pending;

	do {
		uint32_t len;

		dpfix_ipfix_msg_begin(&st->msg, st->buf, dpfix_session_max_message(x->session));
		pending = dpfix_ipfix_tm_write(&st->tm, &st->msg, now_ns);
		len = finish_message(x, &st->msg, now_ns);
		if (send_with_retry(x, st->buf, len, DPFIX_MESSAGE_TEMPLATES, 0) < 0)
			x->send_failures++;
		else
			x->messages_sent++;
	} while (pending > 0);
}

static void
start_message(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;

	/* Templates go first, and on UDP again every refresh interval (RFC 7011 8.4). */
	if (!atomic_load(&x->session_failed) && dpfix_ipfix_tm_due(&st->tm, now_ns))
		send_templates(x, now_ns);
	dpfix_ipfix_msg_begin(&st->msg, st->buf, dpfix_session_max_message(x->session));
	st->msg_started_ns = now_ns;
	st->msg_packets = 0;
	st->msg_octets = 0;
}

/* Flow records that will never reach the collector, for the Exporting Process
 * Reliability Statistics (RFC 7011 4.3). */
static void
count_lost(struct exporter_ctx *x, uint64_t records, uint64_t packets, uint64_t octets,
		uint64_t now_ns)
{
	if (records == 0)
		return;
	x->records_lost += records;
	x->packets_lost += packets;
	x->octets_lost += octets;
	if (x->first_loss_ns == 0)
		x->first_loss_ns = now_ns;
	x->last_loss_ns = now_ns;
}

/* Flow records the session's transport gave up after taking them (SCTP: their
 * sctp_data_lifetime ran out, or the association ended before they were acknowledged)
 * are lost: counted as soon as it tells, and no longer in the session's records that its
 * end confirms or not. Their packets and octets are not known here. */
static void
count_given_up(struct exporter_ctx *x, const char *session, uint64_t given_up, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	uint64_t more = given_up - st->given_up_counted;

	if (more == 0)
		return;
	if (st->given_up_counted == 0)
		RTE_LOG(WARNING, USER1, "export: session %s gave up flow records it had taken (their "
				"sctp_data_lifetime ran out, or the session ended): counted in records_lost\n",
				session);
	st->given_up_counted = given_up;
	st->session_records -= RTE_MIN(more, st->session_records);
	count_lost(x, more, 0, 0, now_ns);
}

/* Sends the message being filled and starts the next. A message that cannot be
 * sent is counted with its records: the loss is never silent. */
static void
send_message(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	uint32_t records = st->msg.data_records;
	uint32_t len = finish_message(x, &st->msg, now_ns);

	if (send_with_retry(x, st->buf, len, DPFIX_MESSAGE_DATA, records) < 0) {
		x->send_failures++;
		count_lost(x, records, st->msg_packets, st->msg_octets, now_ns);
	} else {
		x->messages_sent++;
		st->session_records += records;
	}
	/* The sequence counts records exported, sent or not (RFC 7011 3.1), so a
	 * collector sees the loss. */
	st->sequence += records;
	x->records_exported += records;
	start_message(x, now_ns);
}

static void
export_record(struct exporter_ctx *x, const struct dpfix_flow_record *rec, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	const struct dpfix_ipfix_schema *s =
			&st->schema[rec->key.ip_version == 6 ? RECORD_IPV6 : RECORD_IPV4];

	if (dpfix_ipfix_msg_add_encoded(&st->msg, s, rec) == -ENOSPC) {
		send_message(x, now_ns);
		/* An empty message always has room for one record (mtu >= 576). */
		dpfix_ipfix_msg_add_encoded(&st->msg, s, rec);
	}
	st->msg_packets += rec->packets;
	st->msg_octets += rec->octets;
}

/* Sends the options records gathered in opt_msg (on SCTP on a data stream: options
 * data are data, RFC 7011 10.2). They count in the sequence like flow records. */
static void
flush_options(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	uint32_t records = st->opt_msg.data_records;
	uint32_t len;

	if (records == 0)
		return;
	len = finish_message(x, &st->opt_msg, now_ns);
	if (send_with_retry(x, st->opt_buf, len, DPFIX_MESSAGE_DATA, 0) < 0)
		x->send_failures++;
	else
		x->messages_sent++;
	st->sequence += records;
	x->options_records += records;
	dpfix_ipfix_msg_begin(&st->opt_msg, st->opt_buf, dpfix_session_max_message(x->session));
}

/* Encodes src as a record of kind into the options message. (Encoded apart, not
 * straight into the message: records with strings fill it to the last octet.) */
static void
add_option(struct exporter_ctx *x, enum probe_record_kind kind, const void *src, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	const struct dpfix_ipfix_schema *s = &st->schema[kind];
	uint8_t rec[OPTIONS_RECORD_MAX];
	uint32_t len = dpfix_ipfix_schema_encode(s, src, rec);

	if (dpfix_ipfix_msg_add_record(&st->opt_msg, s->template_id, rec, len) == -ENOSPC) {
		flush_options(x, now_ns);
		dpfix_ipfix_msg_add_record(&st->opt_msg, s->template_id, rec, len);
	}
}

static uint64_t
ns_to_ms(uint64_t ns)
{
	return ns / 1000000ull;
}

/* A port's selector as RFC 5476 reports it: its algorithm's parameters, where it
 * applies (selection sequence), and what its instances on every worker observed and
 * selected so far. */
static void
add_selector_options(struct exporter_ctx *x, uint16_t port, uint64_t now_ns)
{
	const struct probe_sampling *ps = probe_sampling_of_port(x->settings, port);
	const struct dpfix_sample_params *sp;
	struct dpfix_ipfix_selector_report report;
	struct dpfix_sample_stats sum = {0};
	uint64_t id = PROBE_SELECTOR_ID(port);

	if (ps == NULL)
		return;
	sp = &ps->params;
	report = (struct dpfix_ipfix_selector_report){
		.selector_id = id, .algorithm = dpfix_sample_algorithm_iana(sp->algorithm),
	};
	switch (sp->algorithm) {
	case DPFIX_SAMPLE_SYSTEMATIC:
		report.packet_interval = sp->size;
		report.packet_space = sp->population - sp->size;
		break;
	case DPFIX_SAMPLE_RANDOM:
		report.size = sp->size;
		report.population = sp->population;
		break;
	default:
		report.payload_offset = sp->payload_offset;
		report.payload_size = sp->payload_size;
		report.output_max = DPFIX_SAMPLE_HASH_OUTPUT_MAX;
		report.selected_max = sp->selected_max;
		report.initialiser = sp->seed;
		break;
	}
	add_option(x, selector_report_kind[sp->algorithm], &report, now_ns);
	add_option(x, RECORD_SELECTION_SEQUENCE, &(struct dpfix_ipfix_selection_sequence){
		.selection_sequence_id = id, .ingress_interface = port, .selector_id = id}, now_ns);
	for (unsigned int w = 0; w < x->nb_workers; w++)
		worker_sample_stats(&x->workers[w], port, &sum);
	add_option(x, RECORD_SELECTOR_STATS, &(struct dpfix_ipfix_selector_stats){
		.selector_id = id, .observed = sum.observed, .selected = sum.selected}, now_ns);
}

/* Which ports sample, before the flow templates are built (they end with selectorId
 * when any port does). */
static void
find_selectors(struct exporter_ctx *x, struct exporter_state *st)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		if (probe_sampling_of_port(x->settings, port) == NULL)
			continue;
		st->selector_of_port[port] = PROBE_SELECTOR_ID(port);
		st->sampling = 1;
	}
	st->selectors = (struct dpfix_flow_selectors){.of_port = st->selector_of_port,
		.ports = RTE_MAX_ETHPORTS};
}

/* The probe's statistics (RFC 7011 4.1-4.4) and one record per port naming it. The
 * counters are the same the summary and telemetry show, read without locks. */
static void
send_options(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	struct dpfix_ipfix_metering_reliability mr = {
		.observation_domain = x->settings->observation_domain,
		.metering_process = st->process_id,
	};
	uint64_t first_ignored = 0, last_ignored = 0, pd_first, pd_last;
	struct port_drops pd;

	for (unsigned int w = 0; w < x->nb_workers; w++) {
		const struct worker_stats *ws = &x->workers[w].stats;
		const struct dpfix_flow_stats *fs = dpfix_flow_table_stats(x->workers[w].table);
		struct dpfix_sample_stats ss = {0};
		uint64_t not_metered = ws->rx_packets - ws->metered_packets, not_selected;

		/* Refused by the parser (frame bytes), and found no room in the flow table
		 * (IP octets: the table sees no frames); metered_packets counts neither.
		 * Packets a selector passed over are not ignored: the selector statistics
		 * count them. (Counters read while the worker runs may be a burst apart:
		 * never below zero.) */
		worker_sample_stats(&x->workers[w], -1, &ss);
		not_selected = ss.observed - ss.selected;
		mr.ignored_packets += not_metered > not_selected ? not_metered - not_selected : 0;
		mr.ignored_octets += ws->unmetered_bytes + fs->ignored_octets;
		if (ws->first_ignored_ns != 0 && (first_ignored == 0 || ws->first_ignored_ns < first_ignored))
			first_ignored = ws->first_ignored_ns;
		if (ws->last_ignored_ns > last_ignored)
			last_ignored = ws->last_ignored_ns;
		if (fs->first_ignored_ns != 0 && (first_ignored == 0 || fs->first_ignored_ns < first_ignored))
			first_ignored = fs->first_ignored_ns;
		if (fs->last_ignored_ns > last_ignored)
			last_ignored = fs->last_ignored_ns;
	}
	/* Packets the ports dropped were not metered either (seen by the control lcore). */
	port_drops_total(&pd);
	mr.ignored_packets += port_drops_packets(&pd);
	port_drops_times(&pd_first, &pd_last);
	if (pd_first != 0 && (first_ignored == 0 || pd_first < first_ignored))
		first_ignored = pd_first;
	if (pd_last > last_ignored)
		last_ignored = pd_last;
	mr.first_ignored_ms = ns_to_ms(first_ignored);
	mr.last_ignored_ms = ns_to_ms(last_ignored);

	dpfix_ipfix_msg_begin(&st->opt_msg, st->opt_buf, dpfix_session_max_message(x->session));
	add_option(x, RECORD_METERING_STATS, &(struct dpfix_ipfix_metering_stats){
		.observation_domain = x->settings->observation_domain,
		.metering_process = st->process_id,
		.messages = x->messages_sent, .flow_records = x->records_exported,
		.octets = x->bytes_sent}, now_ns);
	add_option(x, RECORD_METERING_RELIABILITY, &mr, now_ns);
	add_option(x, RECORD_EXPORTING_RELIABILITY, &(struct dpfix_ipfix_exporting_reliability){
		.exporting_process = st->process_id,
		.not_sent_flows = x->records_lost, .not_sent_packets = x->packets_lost,
		.not_sent_octets = x->octets_lost, .first_not_sent_ms = ns_to_ms(x->first_loss_ns),
		.last_not_sent_ms = ns_to_ms(x->last_loss_ns)}, now_ns);
	for (int i = 0; i < 2; i++)
		add_option(x, RECORD_FLOW_KEYS, &(struct dpfix_ipfix_flow_keys){
			.template_id = st->tm.entries[i].t.id,
			.flow_key_indicator = flow_key_indicator(x, &st->tm.entries[i].t)}, now_ns);
	for (unsigned int p = 0; p < st->nb_ports; p++)
		add_option(x, RECORD_INTERFACES, &(struct dpfix_ipfix_interface_info){
			.ingress_interface = st->ports[p].port, .name = st->ports[p].name,
			.description = st->ports[p].driver}, now_ns);
	for (unsigned int p = 0; p < st->nb_ports; p++)
		add_selector_options(x, (uint16_t)st->ports[p].port, now_ns);
	flush_options(x, now_ns);
	st->options_sent_ns = now_ns;
	st->options_due = 0;
}

int
exporter_init(struct exporter_ctx *x, char *err, size_t errlen)
{
	struct exporter_state *st;
	struct dpfix_endpoint ep;
	uint16_t port;
	int ret;
	struct dpfix_session_params params = {
		.mtu = x->settings->export_mtu,
		.connect_timeout_ms = 5000,
		.sctp_udp_port = (uint16_t)x->settings->sctp_udp_port,
		.sctp_data_unordered = (uint8_t)x->settings->sctp_data_unordered,
		.sctp_data_pr_ttl_ms = (uint32_t)x->settings->sctp_data_lifetime_ms,
		.security = x->settings->security,
	};

	if (dpfix_endpoint_parse(x->settings->collector, &ep, err, errlen) < 0)
		return -EINVAL;
	x->endpoint = ep;
	x->session_params = params;
	x->session = dpfix_session_open(&ep, &params, err, errlen);
	if (x->session == NULL)
		return -EINVAL;
	st = rte_zmalloc("exporter", sizeof(*st), RTE_CACHE_LINE_SIZE);
	if (st != NULL) {
		st->buf = rte_malloc("export_msg", UINT16_MAX, RTE_CACHE_LINE_SIZE);
		st->opt_buf = rte_malloc("export_opt_msg", UINT16_MAX, RTE_CACHE_LINE_SIZE);
	}
	if (st == NULL || st->buf == NULL || st->opt_buf == NULL) {
		snprintf(err, errlen, "out of memory for the export buffer");
		if (st != NULL) {
			rte_free(st->buf);
			rte_free(st->opt_buf);
		}
		rte_free(st);
		return -ENOMEM;
	}
	find_selectors(x, st);
	ret = add_templates(x, st);
	if (ret < 0) {
		snprintf(err, errlen, "the record templates: %s", strerror(-ret));
		x->state = st;  /* exporter_fini frees it */
		return ret;
	}
	dpfix_ipfix_tm_session(&st->tm, dpfix_session_is_reliable(x->session));
	st->process_id = (uint32_t)getpid();
	/* Interface names for the interface options records: ingressInterface is the
	 * DPDK port id; the description is the port's driver. */
	RTE_ETH_FOREACH_DEV(port) {
		struct port_name *pn = &st->ports[st->nb_ports];
		struct rte_eth_dev_info info;

		pn->port = port;
		if (rte_eth_dev_get_name_by_port(port, pn->name) != 0)
			snprintf(pn->name, sizeof(pn->name), "port%u", port);
		if (rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != NULL)
			snprintf(pn->driver, sizeof(pn->driver), "%s", info.driver_name);
		st->nb_ports++;
	}
	st->options_due = 1;
	x->state = st;
	session_taken_up(x, probe_clock_now_ns());
	start_message(x, probe_clock_now_ns());
	return 0;
}

/* Takes up a replacement session once the control lcore has one; until then, and
 * for at most the shutdown grace once input has ended, records wait in the rings.
 * Returns nonzero while export must hold. */
static int
hold_for_session(struct exporter_ctx *x, uint64_t now_ns, int workers_done)
{
	struct exporter_state *st = x->state;
	struct dpfix_session *next;

	if (!atomic_load(&x->session_failed))
		return 0;
	next = atomic_exchange(&x->replacement, NULL);
	if (next != NULL) {
		count_given_up(x, dpfix_session_name(x->session),
				dpfix_session_records_given_up(x->session, NULL), now_ns);
		dpfix_session_close(x->session);
		x->session = next;
		x->reconnects++;
		/* A new session knows no templates. */
		dpfix_ipfix_tm_session(&st->tm, dpfix_session_is_reliable(x->session));
		st->options_due = 1;
		session_taken_up(x, now_ns);
		atomic_store(&x->session_failed, 0);
		start_message(x, now_ns);
		return 0;
	}
	/* Input is over and no collector came back: stop waiting, and count what is
	 * dropped, so shutdown is bounded and the loss is not silent. The grace runs from
	 * the first time input was over with no session, however many attempts fail in it.
	 * A stop (signal) counts as the end of input: a worker's last records, or one
	 * reading a file and waiting for ring room, need this loop to make it. */
	if (!workers_done && !atomic_load_explicit(&probe_stop, memory_order_relaxed))
		return 1;
	if (st->hold_deadline_ns == 0)
		st->hold_deadline_ns = now_ns + SHUTDOWN_GRACE_NS;
	if (now_ns < st->hold_deadline_ns)
		return 1;
	if (!st->gave_up)
		RTE_LOG(WARNING, USER1, "export: input is over and no session to %s came up within "
				"%.0f s: the records left are dropped and counted as lost\n",
				dpfix_session_name(x->session), SHUTDOWN_GRACE_NS / 1e9);
	st->gave_up = 1;
	return 0;
}

/* A reliable session closed by the collector is noticed before the next message is
 * written into it; one still up after its probation is trusted with flow records. */
static void
check_liveness(struct exporter_ctx *x, uint64_t now_ns)
{
	struct exporter_state *st = x->state;
	char err[DPFIX_SESSION_ERRLEN];
	uint8_t scratch[256];
	ssize_t n;

	if (!dpfix_session_is_reliable(x->session) || atomic_load(&x->session_failed) ||
			now_ns < st->liveness_check_ns)
		return;
	st->liveness_check_ns = now_ns + LIVENESS_CHECK_NS;
	n = dpfix_session_recv(x->session, scratch, sizeof(scratch), err, sizeof(err));
	count_given_up(x, dpfix_session_name(x->session),
			dpfix_session_records_given_up(x->session, NULL), now_ns);
	if (n == -EPIPE)
		mark_failed(x, now_ns, "closed by the collector");
	else if (n < 0 && n != -EAGAIN && n != -EMSGSIZE)
		mark_failed(x, now_ns, err);
	else if (!st->trusted && now_ns - st->session_started_ns >= PROBATION_NS) {
		unsigned int failed = atomic_load(&x->attempts_failed_in_row);

		st->trusted = 1;
		if (x->reconnects > 0 && failed == 0)
			RTE_LOG(INFO, USER1, "export: resumed on %s\n", dpfix_session_name(x->session));
		else if (x->reconnects > 0)
			RTE_LOG(INFO, USER1, "export: resumed on %s after %u failed attempt%s\n",
					dpfix_session_name(x->session), failed, failed == 1 ? "" : "s");
	}
}

static int
all_workers_done(const struct exporter_ctx *x)
{
	for (unsigned int w = 0; w < x->nb_workers; w++)
		if (!atomic_load(&x->workers[w].done))
			return 0;
	return 1;
}

unsigned int
exporter_poll(struct exporter_ctx *x)
{
	struct exporter_state *st = x->state;
	struct dpfix_flow_record recs[DEQUEUE_BURST];
	uint64_t now_ns = probe_clock_now_ns();
	unsigned int handled = 0;
	int all_done = 1, dropping;

	check_liveness(x, now_ns);
	if (hold_for_session(x, now_ns, all_workers_done(x)))
		return 0;
	dropping = atomic_load(&x->session_failed);
	if (!dropping && (st->options_due ||
			now_ns - st->options_sent_ns >= x->settings->options_interval_ms * 1000000ull))
		send_options(x, now_ns);
	if (!dropping && !st->trusted)
		return 0; /* on probation: flow records wait in the rings */
	for (unsigned int w = 0; w < x->nb_workers; w++) {
		struct worker_ctx *wk = &x->workers[w];
		/* Read done before draining: a worker sets it after its last enqueue. */
		int done = atomic_load(&wk->done);
		unsigned int n;

		do {
			n = rte_ring_sc_dequeue_burst_elem(wk->ring, recs, sizeof(recs[0]), DEQUEUE_BURST,
					NULL);
			if (dropping) {
				/* No collector at shutdown: counted. */
				uint64_t packets = 0, octets = 0;

				for (unsigned int i = 0; i < n; i++) {
					packets += recs[i].packets;
					octets += recs[i].octets;
				}
				count_lost(x, n, packets, octets, now_ns);
			} else
				for (unsigned int i = 0; i < n; i++)
					export_record(x, &recs[i], now_ns);
			handled += n;
			/* A session that just failed takes no more: the rest waits in the ring. */
		} while (n == DEQUEUE_BURST && dropping == atomic_load(&x->session_failed));
		if (!done || rte_ring_count(wk->ring) != 0)
			all_done = 0;
	}
	if (!dropping && st->msg.data_records > 0 &&
			now_ns - st->msg_started_ns >= x->settings->export_flush_ms * 1000000ull)
		send_message(x, now_ns);
	if (all_done) {
		if (!dropping && st->msg.data_records > 0)
			send_message(x, now_ns);
		/* The last statistics, once every flow is accounted for. */
		if (!dropping && !atomic_load(&x->session_failed))
			send_options(x, now_ns);
		atomic_store(&x->done, 1);
	}
	return handled;
}

int
exporter_main(void *arg)
{
	struct exporter_ctx *x = arg;

	while (!atomic_load(&x->done)) {
		if (exporter_poll(x) == 0)
			rte_delay_us_sleep(50); /* idle: leave the core to others */
	}
	return 0;
}

/* On TCP and SCTP an exporter that ends in order withdraws its templates first
 * (RFC 7011 8.1), so the collector can drop them at once. */
static void
withdraw_templates(struct exporter_ctx *x)
{
	struct exporter_state *st = x->state;
	uint32_t len;

	if (st == NULL || x->session == NULL || !dpfix_session_is_reliable(x->session) ||
			atomic_load(&x->session_failed))
		return;
	dpfix_ipfix_msg_begin(&st->msg, st->buf, dpfix_session_max_message(x->session));
	/* Options templates are left to the session's end, which withdraws them too (RFC
	 * 7011 8.1): tshark 4.0 calls any options template withdrawal malformed, reading a
	 * Scope Field Count the record does not have (doc/peer-collectors.md). */
	if (dpfix_ipfix_tm_withdraw_all(&st->tm, DPFIX_IPFIX_TM_DATA, &st->msg) <= 0)
		return;
	len = finish_message(x, &st->msg, probe_clock_now_ns());
	send_with_retry(x, st->buf, len, DPFIX_MESSAGE_TEMPLATES, 0);
}

/* The orderly end of export: templates withdrawn, then the session ended, which the
 * collector confirms by ending its side after reading everything (dpfix_session_end). An
 * end it does not confirm (a refusal that came too late to be seen before, a reset, no
 * answer) is reported with the flow records of that session, which it may not have read. */
void
exporter_end(struct exporter_ctx *x)
{
	struct exporter_state *st = x->state;
	char err[DPFIX_SESSION_ERRLEN], name[DPFIX_SESSION_ERRLEN];
	uint64_t given_up = 0;
	int ret;

	if (st == NULL || x->session == NULL || !dpfix_session_is_reliable(x->session) ||
			atomic_load(&x->session_failed))
		return;
	/* Over SCTP the withdrawal (stream 0) overtakes data not yet acknowledged (stream 1),
	 * which the collector then cannot decode: it goes once all is acknowledged, or not at
	 * all (the end then says what came instead). */
	if (dpfix_session_wait_acknowledged(x->session, WITHDRAWAL_WAIT_MS, err, sizeof(err)) == 0)
		withdraw_templates(x);
	snprintf(name, sizeof(name), "%s", dpfix_session_name(x->session)); /* ending frees it */
	ret = dpfix_session_end(x->session, &given_up, err, sizeof(err));
	x->session = NULL;
	count_given_up(x, name, given_up, probe_clock_now_ns());
	if (ret < 0) {
		x->sessions_unconfirmed++;
		x->records_unconfirmed += st->session_records;
		RTE_LOG(WARNING, USER1, "export: session %s ended without the collector's "
				"confirmation: %s; its %" PRIu64 " flow records may not have been read "
				"(records_unconfirmed)\n", name, err, st->session_records);
	}
}

void
exporter_fini(struct exporter_ctx *x)
{
	struct exporter_state *st = x->state;

	dpfix_session_close(x->session);
	dpfix_session_close(atomic_exchange(&x->replacement, NULL));
	x->session = NULL;
	if (st != NULL) {
		rte_free(st->buf);
		rte_free(st->opt_buf);
		rte_free(st);
	}
	x->state = NULL;
}
