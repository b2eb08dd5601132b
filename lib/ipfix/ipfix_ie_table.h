/* Registry internals shared by ipfix_ie*.c: the generated IANA element table
 * (ipfix_ie_table.c, built from lib/ipfix/registry by registry/gen_ie_table.py) and
 * helpers for run-time enterprise elements. */
#ifndef IPFIX_IE_TABLE_H
#define IPFIX_IE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

/* IANA elements by id, then their RFC 5103 reverse elements by id. */
extern const struct dpfix_ipfix_ie ipfix_ie_table[];
extern const uint32_t ipfix_ie_table_count;
/* Index into ipfix_ie_table by element id (0..DPFIX_IPFIX_IE_IANA_MAX_ID),
 * UINT16_MAX where there is no element. */
extern const uint16_t ipfix_ie_iana_slot[DPFIX_IPFIX_IE_IANA_MAX_ID + 1];
extern const uint16_t ipfix_ie_reverse_slot[DPFIX_IPFIX_IE_IANA_MAX_ID + 1];
/* Indexes into ipfix_ie_table in strcmp order of the names. */
extern const uint16_t ipfix_ie_name_order[];

/* Removes a run-time element: undoes part of a file that failed to load. */
int ipfix_ie_remove(uint32_t pen, uint16_t id);
/* "octetCount" -> "reverseOctetCount" (RFC 5103 naming); -EINVAL if out is short. */
int ipfix_ie_reverse_name(const char *name, char *out, size_t outlen);

#endif
