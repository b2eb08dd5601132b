/* PSAMP options records (RFC 5476 section 6.5, elements of RFC 5477): how packets were
 * selected, so a collector can scale counts. Each a struct of values and the lists of
 * its fields (dpfix_ipfix_schema.h), from which its schema function makes the template
 * (the caller picks the template id) and the encoder (dpfix_ipfix_schema_encode). */
#ifndef DPFIX_IPFIX_PSAMP_H
#define DPFIX_IPFIX_PSAMP_H

#include <stdint.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_schema.h"

/* selectorAlgorithm values of the IANA PSAMP registry with a report layout here. The
 * three hash-based ones share their parameters. */
#define DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT 1
#define DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N 3
#define DPFIX_IPFIX_SELECTOR_HASH_BOB 6
#define DPFIX_IPFIX_SELECTOR_HASH_IPSX 7
#define DPFIX_IPFIX_SELECTOR_HASH_CRC 8

/* Selector Report (RFC 5476 6.5.2): scope selectorId; selectorAlgorithm and the
 * parameters of that algorithm only (a group for each layout). */
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

#define DPFIX_IPFIX_SELECTOR_REPORT_FIELDS(X) \
	X(0, IE_selectorId, 8, UINT, r->selector_id) \
	X(0, IE_selectorAlgorithm, 2, UINT, r->algorithm)

/* systematic count-based */
#define DPFIX_IPFIX_SELECTOR_SYSTEMATIC_FIELDS(X) \
	X(0, IE_samplingPacketInterval, 4, UINT, r->packet_interval) \
	X(0, IE_samplingPacketSpace, 4, UINT, r->packet_space)

/* random n-out-of-N */
#define DPFIX_IPFIX_SELECTOR_RANDOM_FIELDS(X) \
	X(0, IE_samplingSize, 4, UINT, r->size) \
	X(0, IE_samplingPopulation, 4, UINT, r->population)

/* hash-based */
#define DPFIX_IPFIX_SELECTOR_HASH_FIELDS(X) \
	X(0, IE_hashIPPayloadOffset, 8, UINT, r->payload_offset) \
	X(0, IE_hashIPPayloadSize, 8, UINT, r->payload_size) \
	X(0, IE_hashOutputRangeMin, 8, UINT, r->output_min) \
	X(0, IE_hashOutputRangeMax, 8, UINT, r->output_max) \
	X(0, IE_hashSelectedRangeMin, 8, UINT, r->selected_min) \
	X(0, IE_hashSelectedRangeMax, 8, UINT, r->selected_max) \
	X(0, IE_hashInitialiserValue, 8, UINT, r->initialiser)

#define DPFIX_IPFIX_SELECTOR_STATS_FIELDS(X) \
	X(0, IE_selectorId, 8, UINT, r->selector_id) \
	X(0, IE_selectorIdTotalPktsObserved, 8, UINT, r->observed) \
	X(0, IE_selectorIdTotalPktsSelected, 8, UINT, r->selected)

#define DPFIX_IPFIX_SELECTION_SEQUENCE_FIELDS(X) \
	X(0, IE_selectionSequenceId, 8, UINT, r->selection_sequence_id) \
	X(0, IE_ingressInterface, 4, UINT, r->ingress_interface) \
	X(0, IE_selectorId, 8, UINT, r->selector_id)

/* The longest report: a hash-based selector's. */
#define DPFIX_IPFIX_SELECTOR_REPORT_MAX_LEN \
	(DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_SELECTOR_REPORT_FIELDS) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_SELECTOR_HASH_FIELDS))
#define DPFIX_IPFIX_SELECTOR_STATS_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_SELECTOR_STATS_FIELDS)
#define DPFIX_IPFIX_SELECTION_SEQUENCE_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_SELECTION_SEQUENCE_FIELDS)

/* The report schema of selectorAlgorithm `algorithm`, whose records must name that
 * algorithm; -EINVAL if it has no layout here. */
int dpfix_ipfix_selector_report_schema(struct dpfix_ipfix_schema *s, uint16_t template_id,
		uint16_t algorithm);
int dpfix_ipfix_selector_stats_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);
int dpfix_ipfix_selection_sequence_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);

#endif
