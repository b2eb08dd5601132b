/* Unit tests for the PSAMP options records (lib/ipfix/ipfix_psamp.c): each template's
 * elements by registry name, type and full length; every record written with its
 * schema's template, decoded, and read back field by field by element name; templates
 * and records byte for byte as the encoders before the schemas wrote them. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_psamp.h"
#include "options_capture.h"
#include "schema_golden.h"
#include "unit_test.h"

/* The template lists exactly these elements (registry names), scope first, each at
 * the full size of its registry type. */
static int
has_elements(const struct dpfix_ipfix_template *t, const char *const *names)
{
	uint16_t i;

	for (i = 0; names[i] != NULL; i++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_name(names[i]);

		if (i >= t->field_count || ie == NULL || t->fields[i].pen != 0 ||
				t->fields[i].id != ie->id ||
				t->fields[i].length != dpfix_ipfix_type_size(ie->type)) {
			fprintf(stderr, "  template %u field %u: want %s\n", t->id, i, names[i]);
			return 0;
		}
	}
	return i == t->field_count && t->scope_count == 1;
}

/* Record k's value of the element called name, as an unsigned number. */
static uint64_t
value(unsigned int k, const char *name)
{
	static uint32_t off[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t len[DPFIX_IPFIX_MAX_FIELDS];
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_name(name);

	if (ie == NULL || !got_fields(k, off, len))
		return UINT64_MAX;
	for (uint16_t i = 0; i < got.t[k].field_count; i++)
		if (got.t[k].fields[i].id == ie->id && got.t[k].fields[i].pen == 0)
			return dpfix_ipfix_read_unsigned(got.rec[k] + off[i], len[i]);
	fprintf(stderr, "  record %u has no %s\n", k, name);
	return UINT64_MAX;
}

/* t: the template of the selector report schema of algorithm, if it has one. */
static int
report_template(struct dpfix_ipfix_template *t, uint16_t id, uint16_t algorithm)
{
	static struct dpfix_ipfix_schema s;
	int ret = dpfix_ipfix_selector_report_schema(&s, id, algorithm);

	if (ret == 0)
		dpfix_ipfix_schema_template(&s, t);
	return ret;
}

static void
test_templates(void)
{
	static const char *const systematic[] = {"selectorId", "selectorAlgorithm",
		"samplingPacketInterval", "samplingPacketSpace", NULL};
	static const char *const random[] = {"selectorId", "selectorAlgorithm", "samplingSize",
		"samplingPopulation", NULL};
	static const char *const hash[] = {"selectorId", "selectorAlgorithm", "hashIPPayloadOffset",
		"hashIPPayloadSize", "hashOutputRangeMin", "hashOutputRangeMax",
		"hashSelectedRangeMin", "hashSelectedRangeMax", "hashInitialiserValue", NULL};
	static const char *const stats[] = {"selectorId", "selectorIdTotalPktsObserved",
		"selectorIdTotalPktsSelected", NULL};
	static const char *const sequence[] = {"selectionSequenceId", "ingressInterface",
		"selectorId", NULL};
	static struct dpfix_ipfix_template t;
	static struct dpfix_ipfix_schema s;

	CHECK(report_template(&t, 300, 1) == 0);
	CHECK(has_elements(&t, systematic));
	CHECK_EQ_U64(t.id, 300);
	CHECK(report_template(&t, 301, 3) == 0);
	CHECK(has_elements(&t, random));
	for (uint16_t a = 6; a <= 8; a++) {
		CHECK(report_template(&t, 302, a) == 0);
		CHECK(has_elements(&t, hash));
		CHECK_EQ_U64(t.min_record_length, DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN);
	}
	/* Time-based, probabilistic and property-match selectors have no layout here. */
	CHECK(report_template(&t, 303, 2) == -EINVAL);
	CHECK(report_template(&t, 303, 4) == -EINVAL);
	CHECK(report_template(&t, 303, 5) == -EINVAL);
	CHECK(dpfix_ipfix_selector_stats_schema(&s, 304) == 0);
	dpfix_ipfix_schema_template(&s, &t);
	CHECK(has_elements(&t, stats));
	CHECK_EQ_U64(t.min_record_length, DPFIX_IPFIX_SELECTOR_STATS_LEN);
	CHECK(dpfix_ipfix_selection_sequence_schema(&s, 305) == 0);
	dpfix_ipfix_schema_template(&s, &t);
	CHECK(has_elements(&t, sequence));
	CHECK_EQ_U64(t.min_record_length, DPFIX_IPFIX_SELECTION_SEQUENCE_LEN);
}

static void
test_round_trip(void)
{
	static struct dpfix_ipfix_template tsys, trand, thash, tstats, tseq;
	static struct dpfix_ipfix_schema ssys, srand, shash, sstats, sseq;
	static uint8_t buf[2048];
	uint8_t rec[DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN];
	struct dpfix_ipfix_decoder_params dp = {.transport = DPFIX_IPFIX_TRANSPORT_TCP};
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create_params(&dp);
	const struct dpfix_ipfix_decode_stats *st = dpfix_ipfix_decoder_stats(d);
	struct dpfix_ipfix_msg m;
	char err[256];
	uint32_t len;

	dpfix_ipfix_selector_report_schema(&ssys, 263, DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT);
	dpfix_ipfix_selector_report_schema(&srand, 264, DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N);
	dpfix_ipfix_selector_report_schema(&shash, 265, DPFIX_IPFIX_SELECTOR_HASH_BOB);
	dpfix_ipfix_selector_stats_schema(&sstats, 266);
	dpfix_ipfix_selection_sequence_schema(&sseq, 267);
	dpfix_ipfix_schema_template(&ssys, &tsys);
	dpfix_ipfix_schema_template(&srand, &trand);
	dpfix_ipfix_schema_template(&shash, &thash);
	dpfix_ipfix_schema_template(&sstats, &tstats);
	dpfix_ipfix_schema_template(&sseq, &tseq);
	dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(dpfix_ipfix_msg_add_template(&m, &tsys) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &trand) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &thash) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &tstats) == 0);
	CHECK(dpfix_ipfix_msg_add_template(&m, &tseq) == 0);

	len = dpfix_ipfix_schema_encode(&ssys, &(struct dpfix_ipfix_selector_report){
		.selector_id = 1, .algorithm = 1, .packet_interval = 1, .packet_space = 99}, rec);
	CHECK_EQ_U64(len, 18);
	CHECK(dpfix_ipfix_msg_add_record(&m, 263, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&srand, &(struct dpfix_ipfix_selector_report){
		.selector_id = 2, .algorithm = 3, .size = 3, .population = 70}, rec);
	CHECK(dpfix_ipfix_msg_add_record(&m, 264, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&shash, &(struct dpfix_ipfix_selector_report){
		.selector_id = 3, .algorithm = 6, .payload_offset = 4, .payload_size = 8,
		.output_min = 0, .output_max = UINT32_MAX, .selected_min = 0,
		.selected_max = 42949671, .initialiser = 0x5eed}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 265, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&sstats, &(struct dpfix_ipfix_selector_stats){
		.selector_id = 1, .observed = 524, .selected = 6}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_SELECTOR_STATS_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 266, rec, len) == 0);
	len = dpfix_ipfix_schema_encode(&sseq, &(struct dpfix_ipfix_selection_sequence){
		.selection_sequence_id = 1, .ingress_interface = 0, .selector_id = 1}, rec);
	CHECK_EQ_U64(len, DPFIX_IPFIX_SELECTION_SEQUENCE_LEN);
	CHECK(dpfix_ipfix_msg_add_record(&m, 267, rec, len) == 0);
	len = dpfix_ipfix_msg_finish(&m, 1700000000, 0, 1);

	memset(&got, 0, sizeof(got));
	CHECK(dpfix_ipfix_decode(d, buf, len, on_record, NULL, err, sizeof(err)) == 0);
	CHECK_EQ_U64(st->options_records, 5);
	CHECK_EQ_U64(got.n, 5);
	if (got.n == 5) {
		CHECK_EQ_U64(value(0, "selectorId"), 1);
		CHECK_EQ_U64(value(0, "selectorAlgorithm"), 1);
		CHECK_EQ_U64(value(0, "samplingPacketInterval"), 1);
		CHECK_EQ_U64(value(0, "samplingPacketSpace"), 99);
		CHECK_EQ_U64(value(1, "selectorAlgorithm"), 3);
		CHECK_EQ_U64(value(1, "samplingSize"), 3);
		CHECK_EQ_U64(value(1, "samplingPopulation"), 70);
		CHECK_EQ_U64(value(2, "selectorId"), 3);
		CHECK_EQ_U64(value(2, "selectorAlgorithm"), 6);
		CHECK_EQ_U64(value(2, "hashIPPayloadOffset"), 4);
		CHECK_EQ_U64(value(2, "hashIPPayloadSize"), 8);
		CHECK_EQ_U64(value(2, "hashOutputRangeMin"), 0);
		CHECK_EQ_U64(value(2, "hashOutputRangeMax"), UINT32_MAX);
		CHECK_EQ_U64(value(2, "hashSelectedRangeMin"), 0);
		CHECK_EQ_U64(value(2, "hashSelectedRangeMax"), 42949671);
		CHECK_EQ_U64(value(2, "hashInitialiserValue"), 0x5eed);
		CHECK_EQ_U64(value(3, "selectorIdTotalPktsObserved"), 524);
		CHECK_EQ_U64(value(3, "selectorIdTotalPktsSelected"), 6);
		CHECK_EQ_U64(value(4, "selectionSequenceId"), 1);
		CHECK_EQ_U64(value(4, "ingressInterface"), 0);
		CHECK_EQ_U64(value(4, "selectorId"), 1);
	}
	dpfix_ipfix_decoder_free(d);
}

static int
record_same(const char *name, const struct dpfix_ipfix_schema *s, const void *src)
{
	uint8_t rec[DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN];

	return golden_same(name, rec, dpfix_ipfix_schema_encode(s, src, rec));
}

/* Every template and record as the encoders before the schemas wrote them. */
static void
test_golden_bytes(void)
{
	static struct dpfix_ipfix_schema s;
	char name[64];

	CHECK(dpfix_ipfix_selector_report_schema(&s, 263, 1) == 0);
	CHECK(golden_template_same("selector report 1 template", &s));
	CHECK(record_same("selector report 1", &s, &(struct dpfix_ipfix_selector_report){
		.selector_id = 0x0102030405060708ull, .algorithm = 1, .packet_interval = 0x11121314,
		.packet_space = 0x21222324}));
	CHECK(dpfix_ipfix_selector_report_schema(&s, 264, 3) == 0);
	CHECK(golden_template_same("selector report 3 template", &s));
	CHECK(record_same("selector report 3", &s, &(struct dpfix_ipfix_selector_report){
		.selector_id = 2, .algorithm = 3, .size = 0x31323334, .population = 0x41424344}));
	for (uint16_t a = 6; a <= 8; a++) {
		CHECK(dpfix_ipfix_selector_report_schema(&s, 265, a) == 0);
		snprintf(name, sizeof(name), "selector report %u template", a);
		CHECK(golden_template_same(name, &s));
		snprintf(name, sizeof(name), "selector report %u", a);
		CHECK(record_same(name, &s, &(struct dpfix_ipfix_selector_report){
			.selector_id = 3, .algorithm = a, .payload_offset = 0x5152535455565758ull,
			.payload_size = 0x6162636465666768ull, .output_min = 0x7172737475767778ull,
			.output_max = 0x8182838485868788ull, .selected_min = 0x9192939495969798ull,
			.selected_max = 0xa1a2a3a4a5a6a7a8ull, .initialiser = 0xb1b2b3b4b5b6b7b8ull}));
	}
	dpfix_ipfix_selector_stats_schema(&s, 266);
	CHECK(golden_template_same("selector stats template", &s));
	CHECK(record_same("selector stats", &s, &(struct dpfix_ipfix_selector_stats){
		.selector_id = 0x0102030405060708ull, .observed = 0x1112131415161718ull,
		.selected = 0x2122232425262728ull}));
	dpfix_ipfix_selection_sequence_schema(&s, 267);
	CHECK(golden_template_same("selection sequence template", &s));
	CHECK(record_same("selection sequence", &s, &(struct dpfix_ipfix_selection_sequence){
		.selection_sequence_id = 0x0102030405060708ull, .ingress_interface = 0x11121314,
		.selector_id = 0x2122232425262728ull}));
}

int
main(void)
{
	RUN_TEST(test_templates);
	RUN_TEST(test_round_trip);
	RUN_TEST(test_golden_bytes);
	return unit_test_summary();
}
