/* What the lib/parse unit tests share (test_parse.c and the files beside it make one
 * program): the parse configurations, parsing a frame in a buffer of its exact size, and
 * the result codes produced, which test_every_result_covered checks after all the rest. */
#ifndef PARSE_TEST_H
#define PARSE_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "frame_build.h"
#include "unit_test.h"

#define PORT 3  /* the ingress port every test frame arrives on */

static const struct dpfix_parse_config cfg_default = {.vxlan_port = DPFIX_VXLAN_PORT};
static const struct dpfix_parse_config cfg_vxlan = {
	.vxlan_inner = 1, .vxlan_port = DPFIX_VXLAN_PORT,
};

/* Parses exactly len bytes copied to a buffer of that size, so an overread lands
 * outside the allocation where a sanitizer or malloc checking can see it; the frame
 * was wire_len bytes long. */
static inline enum dpfix_parse_result
parse_exact_wire(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		uint32_t wire_len, struct dpfix_packet_info *info)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum dpfix_parse_result r;

	if (copy == NULL) {
		CHECK(!"out of memory");
		return DPFIX_PARSE_RESULT_COUNT;
	}
	memcpy(copy, frame, len);
	r = dpfix_parse_ethernet(cfg, copy, len, wire_len, PORT, info);
	free(copy);
	return r;
}

/* A frame received whole. */
static inline enum dpfix_parse_result
parse_exact_cfg(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		struct dpfix_packet_info *info)
{
	return parse_exact_wire(cfg, frame, len, len, info);
}

static inline enum dpfix_parse_result
parse_cfg(const struct dpfix_parse_config *cfg, const struct frame *f,
		struct dpfix_packet_info *info)
{
	return parse_exact_cfg(cfg, f->b, f->len, info);
}

/* Parses with the given key fields and VXLAN left closed. */
static inline enum dpfix_parse_result
parse(const struct frame *f, uint32_t key_fields, struct dpfix_packet_info *info)
{
	struct dpfix_parse_config cfg = cfg_default;

	cfg.key_fields = key_fields;
	return parse_cfg(&cfg, f, info);
}

static inline int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Result codes the tests have produced (test_parse.c holds them); every code must be
 * seen once. */
extern int results_seen[DPFIX_PARSE_RESULT_COUNT];

static inline void
expect_result_wire(const struct dpfix_parse_config *cfg, const struct frame *f,
		uint32_t wire_len, enum dpfix_parse_result want, int line)
{
	struct dpfix_packet_info info;
	enum dpfix_parse_result r = parse_exact_wire(cfg, f->b, f->len, wire_len, &info);

	if (r != want)
		fprintf(stderr, "  line %d: frame of %u bytes (wire %d): got %s, wanted %s\n", line,
				f->len, (int)wire_len, dpfix_parse_result_name(r),
				dpfix_parse_result_name(want));
	CHECK(r == want);
	if ((unsigned int)r < DPFIX_PARSE_RESULT_COUNT)
		results_seen[r]++;
}

#define expect_result(f, want) \
	expect_result_wire(&cfg_default, (f), (f)->len, (want), __LINE__)
#define expect_result_vxlan(f, want) \
	expect_result_wire(&cfg_vxlan, (f), (f)->len, (want), __LINE__)
/* The frame was cut by a capture's snapshot length and its wire length is unknown, so
 * the IP lengths are believed: what remains to check is the headers at hand. */
#define expect_result_cut(f, want) \
	expect_result_wire(&cfg_default, (f), DPFIX_WIRE_LEN_UNKNOWN, (want), __LINE__)

/* The tests in the files beside test_parse.c, whose main runs them all. */
void test_gre(void);
void test_vlan(void);
void test_mpls(void);
void test_vxlan(void);
void test_malformed_l2_l3(void);
void test_malformed_l4(void);
void test_malformed_vxlan(void);
void test_truncation(void);
void test_random_frames(void);

#endif
