/* Unit tests for the flow record's schema (lib/flow/flow_schema.c): every variant of
 * the flow template (IPv4/IPv6, with and without biflow and selectorId) and records of
 * TCP, UDP, ICMP and ICMPv6 flows come out byte for byte as the probe's encoder before
 * the schemas wrote them (schema_golden.h), encoded alone and straight into a message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dpfix_flow_schema.h"
#include "dpfix_ipfix.h"
#include "schema_golden.h"
#include "unit_test.h"

/* Flow k of the golden records: every field set, each to a value of its own. k 0: TCP
 * over IPv4; 1: ICMP; 2: UDP over IPv6; 3: ICMPv6. */
static void
golden_flow(struct dpfix_flow_record *f, int k)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 16; i++) {
		f->key.src_addr[i] = (uint8_t)(0x10 + i + 7 * k);
		f->key.dst_addr[i] = (uint8_t)(0xa0 + i + 5 * k);
	}
	f->key.ip_version = k < 2 ? 4 : 6;
	f->key.protocol = (uint8_t[]){6, 1, 17, 58}[k];
	f->key.src_port = (uint16_t)(0x1234 + k);
	f->key.dst_port = (uint16_t)(0x0800 + k);       /* ICMP type 8 code k */
	f->packets = 0x0102030405060708ull + (uint64_t)k;
	f->octets = 0x1112131415161718ull + (uint64_t)k;
	f->first_ns = 1700000000123456789ull + (uint64_t)k * 1000000007ull;
	f->last_ns = f->first_ns + 987654321ull;
	f->rev_packets = 0x2122232425262728ull + (uint64_t)k;
	f->rev_octets = 0x3132333435363738ull + (uint64_t)k;
	f->rev_first_ns = f->first_ns + 1000001ull;
	f->rev_last_ns = f->last_ns + 999999ull;
	f->mpls_top = 0x00abcdefu + (uint32_t)k;
	f->vlan_id = (uint16_t)(0x0fa0 + k);
	f->ingress_port = (uint16_t)(3 + k);
	f->tcp_flags = 0x1b;
	f->rev_tcp_flags = 0x12;
	f->tos = (uint8_t)(0xb8 + k);
	f->min_ttl = 33;
	f->max_ttl = 64;
	f->rev_min_ttl = 50;
	f->rev_max_ttl = 57;
	f->end_reason = (uint8_t)(1 + k);
}
#define GOLDEN_SELECTOR_ID 0x0102030405060708ull


static void
test_golden_bytes(void)
{
	static struct dpfix_ipfix_schema schema[2];
	static const uint64_t of_port[8] = {
		GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID,
		GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID, GOLDEN_SELECTOR_ID,
	};
	const struct dpfix_flow_selectors selectors = {.of_port = of_port, .ports = 8};
	char name[64];

	for (int biflow = 0; biflow < 2; biflow++) {
		for (int sampling = 0; sampling < 2; sampling++) {
			for (int v6 = 0; v6 < 2; v6++) {
				CHECK(dpfix_flow_schema(&schema[v6], (uint16_t)(256 + v6),
						&(struct dpfix_flow_schema_params){.ip_version = v6 ? 6 : 4,
						.biflow = biflow, .selectors = sampling ? &selectors : NULL}) == 0);
				CHECK_EQ_U64(schema[v6].min_length, schema[v6].max_length);
				snprintf(name, sizeof(name), "flow template v%d biflow %d sampling %d",
						v6 ? 6 : 4, biflow, sampling);
				CHECK(golden_template_same(name, &schema[v6]));
			}
			for (int k = 0; k < 4; k++) {
				const struct dpfix_ipfix_schema *s = &schema[k >= 2];
				struct dpfix_flow_record f;
				static uint8_t buf[4096];
				uint8_t rec[DPFIX_FLOW_RECORD_MAX];
				struct dpfix_ipfix_msg m;
				uint32_t len;

				golden_flow(&f, k);
				snprintf(name, sizeof(name), "flow %d biflow %d sampling %d", k, biflow,
						sampling);
				len = dpfix_ipfix_schema_encode(s, &f, rec);
				CHECK_EQ_U64(len, s->max_length);
				CHECK(golden_same(name, rec, len));
				/* Straight into a message: the same bytes after the set header. */
				dpfix_ipfix_msg_begin(&m, buf, sizeof(buf));
				CHECK(dpfix_ipfix_msg_add_encoded(&m, s, &f) == 0);
				CHECK_EQ_U64(m.len, DPFIX_IPFIX_HEADER_LEN + DPFIX_IPFIX_SET_HEADER_LEN + len);
				CHECK_EQ_U64(m.data_records, 1);
				CHECK(golden_same(name, buf + m.len - len, len));
			}
		}
	}
}

/* The longest record, IPv6 with biflow and selectorId: 86 + 36 + 8 octets (the
 * hand-counted PROBE_FLOW_RECORD_MAX before the schemas said 160). */
static void
test_record_max(void)
{
	static struct dpfix_ipfix_schema s;
	const struct dpfix_flow_selectors none = {0};

	CHECK_EQ_U64(DPFIX_FLOW_RECORD_MAX, 86 + 36 + 8);
	CHECK(dpfix_flow_schema(&s, 300, &(struct dpfix_flow_schema_params){.ip_version = 6,
		.biflow = 1, .selectors = &none}) == 0);
	CHECK_EQ_U64(s.max_length, DPFIX_FLOW_RECORD_MAX);
	CHECK_EQ_U64(s.field_count, 18 + 7 + 1);
	CHECK_EQ_U64(s.group_count, 3);
	CHECK(dpfix_flow_schema(&s, 300, &(struct dpfix_flow_schema_params){.ip_version = 5}) ==
			-EINVAL);
}

/* selectorId is the ingress port's selector; a port the table does not reach, or one
 * without a selector, has 0. */
static void
test_selector_of_port(void)
{
	static struct dpfix_ipfix_schema s;
	const uint64_t of_port[3] = {11, 0, 33};
	const struct dpfix_flow_selectors selectors = {.of_port = of_port, .ports = 3};
	static const uint64_t want[5] = {11, 0, 33, 0, 0};
	uint8_t rec[DPFIX_FLOW_RECORD_MAX];

	CHECK(dpfix_flow_schema(&s, 256, &(struct dpfix_flow_schema_params){.ip_version = 4,
		.selectors = &selectors}) == 0);
	for (uint16_t port = 0; port < 5; port++) {
		struct dpfix_flow_record f;
		uint32_t len;

		golden_flow(&f, 0);
		f.ingress_port = port;
		len = dpfix_ipfix_schema_encode(&s, &f, rec);
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(rec + len - 8, 8), want[port]);
	}
}

int
main(void)
{
	RUN_TEST(test_golden_bytes);
	RUN_TEST(test_record_max);
	RUN_TEST(test_selector_of_port);
	return unit_test_summary();
}
