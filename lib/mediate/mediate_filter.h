/* Filter expressions over any information element, for selection: comparisons joined by
 * and, or, not and parentheses, e.g.
 *
 *   protocolIdentifier == 6 and destinationTransportPort in 80,443,8000..8080
 *   not sourceIPv4Address in 10.0.0.0/8,192.168.0.0/16
 *   (octetDeltaCount >= 1000000 or flowEndReason == 2) and vlanId != 100
 *
 * An element is named as the registry names it (IANA, RFC 5103 reverse, or an
 * enterprise element loaded at start). Values are read by its type: integers (decimal,
 * or 0x hex), IPv4/IPv6 addresses with an optional /prefix, MAC addresses, "strings",
 * true/false. `in` takes a comma-separated list of values, prefixes and LO..HI ranges.
 * A record without the element never matches a comparison of it (so `not` of one
 * does). Internal to lib/mediate. */
#ifndef MEDIATE_FILTER_H
#define MEDIATE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

struct med_filter;

/* NULL with err saying what is wrong and at which character. */
struct med_filter *med_filter_parse(const char *text, char *err, size_t errlen);
void med_filter_free(struct med_filter *f);

/* How many comparisons (leaves) the filter has, and the element of each. */
unsigned int med_filter_leaves(const struct med_filter *f);
const struct dpfix_ipfix_ie *med_filter_leaf_element(const struct med_filter *f, unsigned int i);

/* Whether a record matches. field_of[i] is the index in the record of leaf i's element
 * (-1: absent); offsets and lengths say where each field lies in data. */
int med_filter_match(const struct med_filter *f, const int16_t *field_of, const uint8_t *data,
		const uint32_t *offsets, const uint16_t *lengths);

#endif
