/* Unit tests for the options records of RFC 7011 section 4 and the interface options
 * record (lib/ipfix/ipfix_options.c): every record is written with its schema's
 * template, decoded, and read back field by field through the decoded template; the
 * templates and records are byte for byte those of the encoders before the schemas. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_options.h"
#include "options_capture.h"
#include "schema_golden.h"
#include "unit_test.h"

/* Field i of record k as an unsigned number; its length must be want_len. */
static uint64_t
field_u(unsigned int k, uint16_t i, uint16_t want_id, uint16_t want_len)
{
	static uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t len[DPFIX_IPFIX_MAX_FIELDS];

	CHECK(got_fields(k, off, len));
	CHECK_EQ_U64(got.t[k].fields[i].id, want_id);
	CHECK_EQ_U64(len[i], want_len);
	return dpfix_ipfix_read_unsigned(got.rec[k] + off[i], len[i]);
}

static int
field_str(unsigned int k, uint16_t i, const char *want)
{
	static uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t len[DPFIX_IPFIX_MAX_FIELDS];

	if (!got_fields(k, off, len))
		return 0;
	return len[i] == strlen(want) && memcmp(got.rec[k] + off[i], want, len[i]) == 0;
}

static void
test_options_round_trip(void)
{
	static struct dpfix_ipfix_template tm, tr, te, tk, ti, flow;
	static struct dpfix_ipfix_schema sm, sr, se, sk, si;
	static uint8_t buf[4096];
	uint8_t rec[DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN];
	struct dpfix_ipfix_decoder_params p = {.transport = DPFIX_IPFIX_TRANSPORT_TCP};
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create_params(&p);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	static const uint16_t keys[] = {IE_sourceIPv4Address, IE_destinationIPv4Address,
		IE_protocolIdentifier};
	struct dpfix_ipfix_msg m;
	char err[256];
	uint32_t len;

	CHECK(dpfix_ipfix_metering_stats_schema(&sm, 258) == 0);
	CHECK(dpfix_ipfix_metering_reliability_schema(&sr, 259) == 0);
	CHECK(dpfix_ipfix_exporting_reliability_schema(&se, 260) == 0);
	CHECK(dpfix_ipfix_flow_keys_schema(&sk, 261) == 0);
	CHECK(dpfix_ipfix_interface_info_schema(&si, 262) == 0);
	dpfix_ipfix_schema_template(&sm, &tm);
	dpfix_ipfix_schema_template(&sr, &tr);
	dpfix_ipfix_schema_template(&se, &te);
	dpfix_ipfix_schema_template(&sk, &tk);
	dpfix_ipfix_schema_template(&si, &ti);
	CHECK_EQ_U64(tm.scope_count, 2);
	CHECK_EQ_U64(tm.min_record_length, DPFIX_IPFIX_METERING_STATS_LEN);
	CHECK_EQ_U64(tr.min_record_length, DPFIX_IPFIX_METERING_RELIABILITY_LEN);
	CHECK_EQ_U64(te.min_record_length, DPFIX_IPFIX_EXPORTING_RELIABILITY_LEN);
	CHECK_EQ_U64(tk.min_record_length, DPFIX_IPFIX_FLOW_KEYS_LEN);
	CHECK_EQ_U64(ti.scope_count, 1);
	CHECK_EQ_U64(ti.varlen_count, 2);

	/* The flow key indicator marks fields by position, least significant bit first. */
	memset(&flow, 0, sizeof(flow));
	flow.id = 256;
	dpfix_ipfix_template_add(&flow, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&flow, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(&flow, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(&flow, 9, IE_protocolIdentifier, 1);  /* enterprise: not it */
	dpfix_ipfix_template_add(&flow, 0, IE_protocolIdentifier, 1);
	CHECK_EQ_U64(dpfix_ipfix_flow_key_indicator(&flow, keys, 3), 0x15);

	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &tm) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &tr) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &te) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &tk) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &ti) == 0);
	len = dpfix_ipfix_schema_encode(&sm, &(struct dpfix_ipfix_metering_stats){
		.observation_domain = 7, .metering_process = 4242, .messages = 10,
		.flow_records = 500, .octets = 0x123456789aull}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_METERING_STATS_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 258, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&sr, &(struct dpfix_ipfix_metering_reliability){
		.observation_domain = 7, .metering_process = 4242, .ignored_packets = 3,
		.ignored_octets = 180, .first_ignored_ms = 1700000000001ull,
		.last_ignored_ms = 1700000000999ull}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_METERING_RELIABILITY_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 259, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&se, &(struct dpfix_ipfix_exporting_reliability){
		.exporting_process = 4242, .not_sent_flows = 5, .not_sent_packets = 50,
		.not_sent_octets = 5000, .first_not_sent_ms = 1700000001000ull,
		.last_not_sent_ms = 1700000002000ull}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_EXPORTING_RELIABILITY_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 260, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&sk, &(struct dpfix_ipfix_flow_keys){
		.template_id = 256, .flow_key_indicator = 0x15}, rec);
	CHECK(dpfix_ipfix_msg_add_record(&m, 261, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&si, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 0, .name = "net_pcap0", .description = "net_pcap"}, rec);
	CHECK_EQ_U64(len, 4 + 1 + 9 + 1 + 8);
	CHECK(dpfix_ipfix_msg_add_record(&m, 262, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&si, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 3, .name = NULL, .description = ""}, rec);
	CHECK(dpfix_ipfix_msg_add_record(&m, 262, rec, len) == 0);
	len = dpfix_ipfix_msg_finish(&m, 1700000000, 0, 7);

	memset(&got, 0, sizeof(got));
	CHECK(dpfix_ipfix_decode(d, buf, len, on_record, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->options_records, 6);
	CHECK_EQ_U64(st->data_records, 0);
	CHECK_EQ_U64(got.n, 6);
	if (got.n != 6)
		return;
	CHECK_EQ_U64(field_u(0, 0, 149, 4), 7);
	CHECK_EQ_U64(field_u(0, 1, 143, 4), 4242);
	CHECK_EQ_U64(field_u(0, 2, 41, 8), 10);
	CHECK_EQ_U64(field_u(0, 3, 42, 8), 500);
	CHECK_EQ_U64(field_u(0, 4, 40, 8), 0x123456789aull);
	CHECK_EQ_U64(got.t[0].scope_count, 2);
	CHECK_EQ_U64(field_u(1, 2, 164, 8), 3);
	CHECK_EQ_U64(field_u(1, 3, 165, 8), 180);
	CHECK_EQ_U64(field_u(1, 4, IE_flowStartMilliseconds, 8), 1700000000001ull);
	CHECK_EQ_U64(field_u(1, 5, IE_flowEndMilliseconds, 8), 1700000000999ull);
	CHECK_EQ_U64(field_u(2, 0, 144, 4), 4242);
	CHECK_EQ_U64(field_u(2, 1, 166, 8), 5);
	CHECK_EQ_U64(field_u(2, 2, 167, 8), 50);
	CHECK_EQ_U64(field_u(2, 3, 168, 8), 5000);
	CHECK_EQ_U64(field_u(2, 5, IE_flowEndMilliseconds, 8), 1700000002000ull);
	CHECK_EQ_U64(got.t[2].scope_count, 1);
	CHECK_EQ_U64(field_u(3, 0, 145, 2), 256);
	CHECK_EQ_U64(field_u(3, 1, 173, 8), 0x15);
	CHECK_EQ_U64(field_u(4, 0, IE_ingressInterface, 4), 0);
	CHECK(field_str(4, 1, "net_pcap0"));
	CHECK(field_str(4, 2, "net_pcap"));
	CHECK_EQ_U64(field_u(5, 0, IE_ingressInterface, 4), 3);
	CHECK(field_str(5, 1, ""));
	CHECK(field_str(5, 2, ""));
	dpfix_ipfix_decoder_free(d);
}

static void
test_interface_strings_cut(void)
{
	static char name[400];
	static struct dpfix_ipfix_schema si;
	uint8_t rec[DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN + 1];
	uint32_t len;

	dpfix_ipfix_interface_info_schema(&si, 262);
	CHECK_EQ_U64(si.max_length, DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN);
	CHECK_EQ_U64(DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN, 4 + 2 * (1 + 254));

	/* 253 ASCII bytes, then a 2-byte UTF-8 character: byte 254 would split it. */
	memset(name, 'a', 253);
	memcpy(name + 253, "\xc3\xa9tail", 6);
	memset(rec, 0xee, sizeof(rec));
	len = dpfix_ipfix_schema_encode(&si, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 1, .name = name, .description = name}, rec);
	CHECK_EQ_U64(rec[4], 253);
	CHECK_EQ_U64(len, 4 + 2 * (1 + 253));
	CHECK(len <= DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN);
	CHECK_EQ_U64(rec[DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN], 0xee);
	/* 300 ASCII bytes are cut to 254, the most the one-byte length form carries. */
	memset(name, 'b', 300);
	name[300] = '\0';
	len = dpfix_ipfix_schema_encode(&si, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 1, .name = name, .description = "x"}, rec);
	CHECK_EQ_U64(rec[4], 254);
	CHECK_EQ_U64(len, 4 + 1 + 254 + 1 + 1);
}

static int
record_same(const char *name, const struct dpfix_ipfix_schema *s, const void *src)
{
	uint8_t rec[DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN];

	return golden_same(name, rec, dpfix_ipfix_schema_encode(s, src, rec));
}

/* Every template and record as the encoders before the schemas wrote them. */
static void
test_golden_bytes(void)
{
	static struct dpfix_ipfix_schema s;
	char longname[301];

	dpfix_ipfix_metering_stats_schema(&s, 258);
	CHECK(golden_template_same("metering stats template", &s));
	CHECK(record_same("metering stats", &s, &(struct dpfix_ipfix_metering_stats){
		.observation_domain = 0x01020304, .metering_process = 0x05060708,
		.messages = 0x1112131415161718ull, .flow_records = 0x2122232425262728ull,
		.octets = 0x3132333435363738ull}));
	dpfix_ipfix_metering_reliability_schema(&s, 259);
	CHECK(golden_template_same("metering reliability template", &s));
	CHECK(record_same("metering reliability", &s, &(struct dpfix_ipfix_metering_reliability){
		.observation_domain = 0x01020304, .metering_process = 0x05060708,
		.ignored_packets = 0x4142434445464748ull, .ignored_octets = 0x5152535455565758ull,
		.first_ignored_ms = 1700000000123ull, .last_ignored_ms = 1700000000456ull}));
	dpfix_ipfix_exporting_reliability_schema(&s, 260);
	CHECK(golden_template_same("exporting reliability template", &s));
	CHECK(record_same("exporting reliability", &s, &(struct dpfix_ipfix_exporting_reliability){
		.exporting_process = 0x05060708, .not_sent_flows = 0x6162636465666768ull,
		.not_sent_packets = 0x7172737475767778ull, .not_sent_octets = 0x8182838485868788ull,
		.first_not_sent_ms = 1700000000789ull, .last_not_sent_ms = 1700000001012ull}));
	dpfix_ipfix_flow_keys_schema(&s, 261);
	CHECK(golden_template_same("flow keys template", &s));
	CHECK(record_same("flow keys", &s, &(struct dpfix_ipfix_flow_keys){
		.template_id = 257, .flow_key_indicator = 0x8000000000000ff3ull}));
	dpfix_ipfix_interface_info_schema(&s, 262);
	CHECK(golden_template_same("interface template", &s));
	CHECK(record_same("interface", &s, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 0x01020304, .name = "net_pcap0", .description = "net_pcap"}));
	CHECK(record_same("interface empty", &s, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 7, .name = NULL, .description = ""}));
	/* 300 octets, 'a' then 2-octet UTF-8 characters: cut at 254 or 253 octets, never
	 * inside a character. */
	longname[0] = 'a';
	for (int i = 1; i < 299; i += 2) {
		longname[i] = (char)0xc3;
		longname[i + 1] = (char)0xa9;
	}
	longname[299] = 'z';
	longname[300] = '\0';
	CHECK(record_same("interface long", &s, &(struct dpfix_ipfix_interface_info){
		.ingress_interface = 9, .name = longname, .description = longname + 1}));
}

int
main(void)
{
	RUN_TEST(test_options_round_trip);
	RUN_TEST(test_interface_strings_cut);
	RUN_TEST(test_golden_bytes);
	return unit_test_summary();
}
