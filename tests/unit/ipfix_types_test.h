/* What the unit tests of lib/ipfix's type codecs and records share: the integer types in
 * order of size, and time values and NTP timestamps decoded. */
#ifndef IPFIX_TYPES_TEST_H
#define IPFIX_TYPES_TEST_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "unit_test.h"

/* ---- values: integers ---- */

static const enum dpfix_ipfix_type unsigned_types[] = {DPFIX_IPFIX_UNSIGNED8,
	DPFIX_IPFIX_UNSIGNED16, DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_UNSIGNED64};
static const enum dpfix_ipfix_type signed_types[] = {DPFIX_IPFIX_SIGNED8, DPFIX_IPFIX_SIGNED16,
	DPFIX_IPFIX_SIGNED32, DPFIX_IPFIX_SIGNED64};

static inline struct dpfix_ipfix_value
time_value(enum dpfix_ipfix_type type, int64_t sec, uint32_t nsec)
{
	return (struct dpfix_ipfix_value){.type = type, .t = {.sec = sec, .nsec = nsec}};
}

/* Decodes an NTP timestamp (seconds, fraction) of type around pivot. */
static inline struct dpfix_ipfix_time
ntp_decode(enum dpfix_ipfix_type type, uint32_t sec, uint32_t frac, int64_t pivot)
{
	uint8_t b[8];
	struct dpfix_ipfix_value v;

	dpfix_ipfix_put_unsigned(b, 4, sec);
	dpfix_ipfix_put_unsigned(b + 4, 4, frac);
	CHECK(dpfix_ipfix_value_decode(type, b, 8, pivot, &v) == 0);
	return v.t;
}

#endif
