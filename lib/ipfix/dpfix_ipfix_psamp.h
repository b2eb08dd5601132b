/* PSAMP options records (RFC 5476 section 6.5, elements of RFC 5477): how packets were
 * selected, so a collector can scale counts. Each a template builder (the caller picks
 * the template id) and a record encoder whose field order matches it. */
#ifndef DPFIX_IPFIX_PSAMP_H
#define DPFIX_IPFIX_PSAMP_H

#include <stdint.h>

#include "dpfix_ipfix.h"

/* selectorAlgorithm values of the IANA PSAMP registry with a report layout here. The
 * three hash-based ones share their parameters. */
#define DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT 1
#define DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N 3
#define DPFIX_IPFIX_SELECTOR_HASH_BOB 6
#define DPFIX_IPFIX_SELECTOR_HASH_IPSX 7
#define DPFIX_IPFIX_SELECTOR_HASH_CRC 8

/* Selector Report (RFC 5476 6.5.2): scope selectorId; selectorAlgorithm and the
 * parameters of that algorithm only:
 *   systematic count-based: samplingPacketInterval, samplingPacketSpace
 *   random n-out-of-N:      samplingSize, samplingPopulation
 *   hash-based:             hashIPPayloadOffset, hashIPPayloadSize, hashOutputRangeMin,
 *                           hashOutputRangeMax, hashSelectedRangeMin,
 *                           hashSelectedRangeMax, hashInitialiserValue */
struct dpfix_ipfix_selector_report {
	uint64_t selector_id;
	uint16_t algorithm;
	uint32_t packet_interval;     /* systematic: n consecutive packets selected, */
	uint32_t packet_space;        /* then this many not */
	uint32_t size;                /* random: n of */
	uint32_t population;          /* every N */
	uint64_t payload_offset;      /* hash */
	uint64_t payload_size;
	uint64_t output_min, output_max;
	uint64_t selected_min, selected_max;
	uint64_t initialiser;
};

/* Selector Statistics: scope selectorId; selectorIdTotalPktsObserved and
 * selectorIdTotalPktsSelected, counted since the selector started. */
struct dpfix_ipfix_selector_stats {
	uint64_t selector_id;
	uint64_t observed;
	uint64_t selected;
};

/* Selection Sequence Report (RFC 5476 6.5.1): scope selectionSequenceId; the
 * Observation Point (ingressInterface) and the one selector applied there. */
struct dpfix_ipfix_selection_sequence {
	uint64_t selection_sequence_id;
	uint32_t ingress_interface;
	uint64_t selector_id;
};

#define DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN (8 + 2 + 7 * 8)
#define DPFIX_IPFIX_SELECTOR_STATS_LEN 24
#define DPFIX_IPFIX_SELECTION_SEQUENCE_LEN 20

/* The report template of one algorithm; -EINVAL if it has no layout here. */
int dpfix_ipfix_selector_report_template(struct dpfix_ipfix_template *t, uint16_t id,
		uint16_t algorithm);
/* The record in the layout of s->algorithm's template; 0 if it has none. out holds
 * DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN bytes. */
uint32_t dpfix_ipfix_selector_report_record(const struct dpfix_ipfix_selector_report *s,
		uint8_t *out);

void dpfix_ipfix_selector_stats_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_selector_stats_record(const struct dpfix_ipfix_selector_stats *s,
		uint8_t *out);

void dpfix_ipfix_selection_sequence_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_selection_sequence_record(const struct dpfix_ipfix_selection_sequence *s,
		uint8_t *out);

#endif
