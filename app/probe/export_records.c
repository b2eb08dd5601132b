/* The probe's record kinds and the values of its options records: which schema each
 * kind has (in template-id order: collectors and stored files know them by their ids),
 * and what the options records report, gathered from the workers' counters. The
 * Exporting Process that sends them is lib/export's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "dpfix_flow_schema.h"
#include "dpfix_ipfix_options.h"
#include "dpfix_ipfix_psamp.h"
#include "dpfix_measure_schema.h"
#include "export_records.h"
#include "port_stats.h"
#include "probe.h"

/* Every kind of record the probe exports, in the order of their template ids from 256,
 * each with how probe_records_create makes its schema s for template id `id` (-ENOENT:
 * this configuration does not export it): the two flow templates; the options templates
 * of RFC 7011 4, sent with them; the PSAMP options templates (RFC 5476 6.5), only
 * when some port samples: the selector report of each algorithm in use, selector
 * statistics, selection sequences; then, with measures (issue 16), the flow templates
 * that carry them, in place of the first two (templates of their own, so no collector
 * mistakes one layout for the other), and with the app measure the RFC 6759 options
 * template naming the applicationIds. */
#define PROBE_RECORD_KINDS(X) \
	X(IPV4, flow_schema(r, s, id, 4, x->settings->biflow)) \
	X(IPV6, flow_schema(r, s, id, 6, x->settings->biflow)) \
	X(METERING_STATS, dpfix_ipfix_metering_stats_schema(s, id)) \
	X(METERING_RELIABILITY, dpfix_ipfix_metering_reliability_schema(s, id)) \
	X(EXPORTING_RELIABILITY, dpfix_ipfix_exporting_reliability_schema(s, id)) \
	X(FLOW_KEYS, dpfix_ipfix_flow_keys_schema(s, id)) \
	X(INTERFACES, dpfix_ipfix_interface_info_schema(s, id)) \
	X(SELECTOR_SYSTEMATIC, selector_report_schema(x, s, id, DPFIX_SAMPLE_SYSTEMATIC)) \
	X(SELECTOR_RANDOM, selector_report_schema(x, s, id, DPFIX_SAMPLE_RANDOM)) \
	X(SELECTOR_HASH, selector_report_schema(x, s, id, DPFIX_SAMPLE_HASH)) \
	X(SELECTOR_STATS, r->sampling ? dpfix_ipfix_selector_stats_schema(s, id) : -ENOENT) \
	X(SELECTION_SEQUENCE, \
			r->sampling ? dpfix_ipfix_selection_sequence_schema(s, id) : -ENOENT) \
	X(MEASURED_IPV4, measured_flow_schema(r, s, id, 4, x->settings->biflow)) \
	X(MEASURED_IPV6, measured_flow_schema(r, s, id, 6, x->settings->biflow)) \
	X(APPLICATION_NAMES, (r->layout.measures & DPFIX_MEASURE_APP) ? \
			dpfix_measure_application_names_schema(s, id) : -ENOENT)

enum probe_record_kind {
#define PROBE_RECORD_KIND(kind, build) RECORD_##kind,
	PROBE_RECORD_KINDS(PROBE_RECORD_KIND)
#undef PROBE_RECORD_KIND
	RECORD_KIND_COUNT
};

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

struct probe_records {
	struct dpfix_ipfix_schema schema[RECORD_KIND_COUNT]; /* those it exports */
	struct dpfix_export_domain *domain;
	/* With sampling, flow records end with the selectorId of their ingress port's
	 * selector (0: the port meters every packet). */
	int sampling;
	uint64_t selector_of_port[RTE_MAX_ETHPORTS];
	struct dpfix_flow_selectors selectors;  /* selector_of_port, for the flow schemas */
	/* With measures: where their values are in each flow's extension. */
	struct dpfix_measure_layout layout;
	enum probe_record_kind flow_kind[2];    /* the flow records' kinds: IPv4, IPv6 */
	uint64_t flow_key_indicator[2];         /* of the IPv4 and IPv6 flow templates */
	uint32_t process_id;                    /* meteringProcessId and exportingProcessId */
	unsigned int nb_ports;
	struct port_name ports[RTE_MAX_ETHPORTS];
};

/* The flow key of the probe's templates: the 5-tuple (ICMP type/code instead of the
 * ports) always, and what the flow_key option adds (DSCP marks ipClassOfService, of
 * which it is the upper 6 bits). */
static uint64_t
flow_key_indicator(const struct exporter_ctx *x, const struct dpfix_ipfix_schema *s)
{
	static struct dpfix_ipfix_template t; /* 4 KiB: not on the stack */
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
	dpfix_ipfix_schema_template(s, &t);
	return dpfix_ipfix_flow_key_indicator(&t, keys, n);
}

static int
flow_schema(const struct probe_records *r, struct dpfix_ipfix_schema *s, uint16_t id,
		int ip_version, int biflow)
{
	if (r->layout.measures != 0)
		return -ENOENT;
	return dpfix_flow_schema(s, id, &(struct dpfix_flow_schema_params){
		.ip_version = ip_version, .biflow = biflow,
		.selectors = r->sampling ? &r->selectors : NULL});
}

static int
measured_flow_schema(const struct probe_records *r, struct dpfix_ipfix_schema *s, uint16_t id,
		int ip_version, int biflow)
{
	if (r->layout.measures == 0)
		return -ENOENT;
	return dpfix_measure_flow_schema(s, id, &(struct dpfix_flow_schema_params){
		.ip_version = ip_version, .biflow = biflow,
		.selectors = r->sampling ? &r->selectors : NULL}, &r->layout);
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
add_schemas(const struct exporter_ctx *x, struct probe_records *r)
{
	for (int kind = 0; kind < RECORD_KIND_COUNT; kind++) {
		struct dpfix_ipfix_schema *s = &r->schema[kind];
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
		ret = dpfix_export_add_schema(r->domain, s);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct probe_records *
probe_records_create(const struct exporter_ctx *x, struct dpfix_export_domain *d, char *err,
		size_t errlen)
{
	struct probe_records *r = calloc(1, sizeof(*r));
	uint16_t port;
	int ret;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory for the record schemas");
		return NULL;
	}
	r->domain = d;
	/* Which ports sample, before the flow schemas are made (they end with selectorId
	 * when any port does). */
	RTE_ETH_FOREACH_DEV(port) {
		if (probe_sampling_of_port(x->settings, port) == NULL)
			continue;
		r->selector_of_port[port] = PROBE_SELECTOR_ID(port);
		r->sampling = 1;
	}
	r->selectors = (struct dpfix_flow_selectors){.of_port = r->selector_of_port,
		.ports = RTE_MAX_ETHPORTS};
	dpfix_measure_layout_init(&r->layout, x->settings->measures);
	r->flow_kind[0] = r->layout.measures ? RECORD_MEASURED_IPV4 : RECORD_IPV4;
	r->flow_kind[1] = r->layout.measures ? RECORD_MEASURED_IPV6 : RECORD_IPV6;
	ret = add_schemas(x, r);
	if (ret < 0) {
		snprintf(err, errlen, "the record templates: %s", strerror(-ret));
		free(r);
		return NULL;
	}
	r->flow_key_indicator[0] = flow_key_indicator(x, &r->schema[r->flow_kind[0]]);
	r->flow_key_indicator[1] = flow_key_indicator(x, &r->schema[r->flow_kind[1]]);
	r->process_id = (uint32_t)getpid();
	/* Interface names for the interface options records: ingressInterface is the
	 * DPDK port id; the description is the port's driver. */
	RTE_ETH_FOREACH_DEV(port) {
		struct port_name *pn = &r->ports[r->nb_ports];
		struct rte_eth_dev_info info;

		pn->port = port;
		if (rte_eth_dev_get_name_by_port(port, pn->name) != 0)
			snprintf(pn->name, sizeof(pn->name), "port%u", port);
		if (rte_eth_dev_info_get(port, &info) == 0 && info.driver_name != NULL)
			snprintf(pn->driver, sizeof(pn->driver), "%s", info.driver_name);
		r->nb_ports++;
	}
	return r;
}

void
probe_records_free(struct probe_records *r)
{
	free(r);
}

void
probe_records_flow_schemas(const struct probe_records *r, const struct dpfix_ipfix_schema *s[2])
{
	s[0] = &r->schema[r->flow_kind[0]];
	s[1] = &r->schema[r->flow_kind[1]];
}

int
probe_records_check_room(const struct probe_records *r, uint32_t max_message, char *err,
		size_t errlen)
{
	uint32_t room = max_message - DPFIX_IPFIX_HEADER_LEN - DPFIX_IPFIX_SET_HEADER_LEN;

	for (int i = 0; i < 2; i++) {
		uint32_t longest = dpfix_measure_flow_record_max(&r->schema[r->flow_kind[i]],
				&r->layout);

		if (longest > room) {
			snprintf(err, errlen, "a flow record with these measures takes up to %u "
					"bytes, more than a message holds (%u): raise export_mtu by %u",
					longest, room, longest - room);
			return -EMSGSIZE;
		}
	}
	return 0;
}

const struct dpfix_measure_layout *
probe_records_measure_layout(const struct probe_records *r)
{
	return &r->layout;
}

static void
add_option(const struct probe_records *r, enum probe_record_kind kind, const void *src,
		uint64_t now_ns)
{
	dpfix_export_option(r->domain, &r->schema[kind], src, now_ns);
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
add_selector_options(const struct exporter_ctx *x, const struct probe_records *r, uint16_t port,
		uint64_t now_ns)
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
	add_option(r, selector_report_kind[sp->algorithm], &report, now_ns);
	add_option(r, RECORD_SELECTION_SEQUENCE, &(struct dpfix_ipfix_selection_sequence){
		.selection_sequence_id = id, .ingress_interface = port, .selector_id = id}, now_ns);
	for (unsigned int w = 0; w < x->nb_workers; w++)
		worker_sample_stats(&x->workers[w], port, &sum);
	add_option(r, RECORD_SELECTOR_STATS, &(struct dpfix_ipfix_selector_stats){
		.selector_id = id, .observed = sum.observed, .selected = sum.selected}, now_ns);
}

/* The Metering Process Reliability Statistics (RFC 7011 4.2): what was not metered. The
 * counters are the same the summary and telemetry show, read without locks. */
static void
metering_reliability(const struct exporter_ctx *x, struct dpfix_ipfix_metering_reliability *mr)
{
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
		mr->ignored_packets += not_metered > not_selected ? not_metered - not_selected : 0;
		mr->ignored_octets += ws->unmetered_bytes + fs->ignored_octets;
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
	mr->ignored_packets += port_drops_packets(&pd);
	port_drops_times(&pd_first, &pd_last);
	if (pd_first != 0 && (first_ignored == 0 || pd_first < first_ignored))
		first_ignored = pd_first;
	if (pd_last > last_ignored)
		last_ignored = pd_last;
	mr->first_ignored_ms = ns_to_ms(first_ignored);
	mr->last_ignored_ms = ns_to_ms(last_ignored);
}

void
probe_records_write_options(struct dpfix_export *export, void *ctx, uint64_t now_ns)
{
	const struct export_lane *l = ctx; /* the lane whose Exporting Process it is */
	const struct exporter_ctx *x = l->x;
	const struct probe_records *r = l->records;
	const struct dpfix_export_stats *es = dpfix_export_stats(export);
	struct dpfix_ipfix_metering_reliability mr = {
		.observation_domain = x->settings->observation_domain,
		.metering_process = r->process_id,
	};

	metering_reliability(x, &mr);
	add_option(r, RECORD_METERING_STATS, &(struct dpfix_ipfix_metering_stats){
		.observation_domain = x->settings->observation_domain,
		.metering_process = r->process_id,
		.messages = es->messages_sent, .flow_records = es->records_exported,
		.octets = es->bytes_sent}, now_ns);
	add_option(r, RECORD_METERING_RELIABILITY, &mr, now_ns);
	add_option(r, RECORD_EXPORTING_RELIABILITY, &(struct dpfix_ipfix_exporting_reliability){
		.exporting_process = r->process_id,
		.not_sent_flows = es->records_lost, .not_sent_packets = es->packets_lost,
		.not_sent_octets = es->octets_lost, .first_not_sent_ms = ns_to_ms(es->first_loss_ns),
		.last_not_sent_ms = ns_to_ms(es->last_loss_ns)}, now_ns);
	for (int i = 0; i < 2; i++)
		add_option(r, RECORD_FLOW_KEYS, &(struct dpfix_ipfix_flow_keys){
			.template_id = r->schema[r->flow_kind[i]].template_id,
			.flow_key_indicator = r->flow_key_indicator[i]}, now_ns);
	for (unsigned int p = 0; p < r->nb_ports; p++)
		add_option(r, RECORD_INTERFACES, &(struct dpfix_ipfix_interface_info){
			.ingress_interface = r->ports[p].port, .name = r->ports[p].name,
			.description = r->ports[p].driver}, now_ns);
	for (unsigned int p = 0; p < r->nb_ports; p++)
		add_selector_options(x, r, (uint16_t)r->ports[p].port, now_ns);
	if (r->layout.measures & DPFIX_MEASURE_APP)
		for (unsigned int a = 0; a < dpfix_measure_application_name_count; a++)
			add_option(r, RECORD_APPLICATION_NAMES, &dpfix_measure_application_names[a], now_ns);
}
