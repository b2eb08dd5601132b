/* Options records of RFC 7011 section 4 and the interface options record: each a
 * struct of values and the list of its fields (dpfix_ipfix_schema.h), from which its
 * schema function makes the template (the caller picks the template id) and the
 * encoder (dpfix_ipfix_schema_encode). */
#ifndef DPFIX_IPFIX_OPTIONS_H
#define DPFIX_IPFIX_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_schema.h"

/* 4.1 Metering Process Statistics: scope observationDomainId, meteringProcessId. */
struct dpfix_ipfix_metering_stats {
	uint32_t observation_domain;
	uint32_t metering_process;
	uint64_t messages;          /* exportedMessageTotalCount */
	uint64_t flow_records;      /* exportedFlowRecordTotalCount */
	uint64_t octets;            /* exportedOctetTotalCount */
};

#define DPFIX_IPFIX_METERING_STATS_FIELDS(X) \
	X(0, IE_observationDomainId, 4, UINT, r->observation_domain) \
	X(0, IE_meteringProcessId, 4, UINT, r->metering_process) \
	X(0, IE_exportedMessageTotalCount, 8, UINT, r->messages) \
	X(0, IE_exportedFlowRecordTotalCount, 8, UINT, r->flow_records) \
	X(0, IE_exportedOctetTotalCount, 8, UINT, r->octets)

/* 4.2 Metering Process Reliability Statistics: packets the Metering Process ignored,
 * and when the first and last of them were seen (0: none). */
struct dpfix_ipfix_metering_reliability {
	uint32_t observation_domain;
	uint32_t metering_process;
	uint64_t ignored_packets;
	uint64_t ignored_octets;
	uint64_t first_ignored_ms;  /* flowStartMilliseconds */
	uint64_t last_ignored_ms;   /* flowEndMilliseconds */
};

#define DPFIX_IPFIX_METERING_RELIABILITY_FIELDS(X) \
	X(0, IE_observationDomainId, 4, UINT, r->observation_domain) \
	X(0, IE_meteringProcessId, 4, UINT, r->metering_process) \
	X(0, IE_ignoredPacketTotalCount, 8, UINT, r->ignored_packets) \
	X(0, IE_ignoredOctetTotalCount, 8, UINT, r->ignored_octets) \
	X(0, IE_flowStartMilliseconds, 8, UINT, r->first_ignored_ms) \
	X(0, IE_flowEndMilliseconds, 8, UINT, r->last_ignored_ms)

/* 4.3 Exporting Process Reliability Statistics: flow records not sent. */
struct dpfix_ipfix_exporting_reliability {
	uint32_t exporting_process;
	uint64_t not_sent_flows;
	uint64_t not_sent_packets;
	uint64_t not_sent_octets;
	uint64_t first_not_sent_ms; /* flowStartMilliseconds */
	uint64_t last_not_sent_ms;  /* flowEndMilliseconds */
};

#define DPFIX_IPFIX_EXPORTING_RELIABILITY_FIELDS(X) \
	X(0, IE_exportingProcessId, 4, UINT, r->exporting_process) \
	X(0, IE_notSentFlowTotalCount, 8, UINT, r->not_sent_flows) \
	X(0, IE_notSentPacketTotalCount, 8, UINT, r->not_sent_packets) \
	X(0, IE_notSentOctetTotalCount, 8, UINT, r->not_sent_octets) \
	X(0, IE_flowStartMilliseconds, 8, UINT, r->first_not_sent_ms) \
	X(0, IE_flowEndMilliseconds, 8, UINT, r->last_not_sent_ms)

/* 4.4 Flow Keys: which fields of a template are flow keys. */
struct dpfix_ipfix_flow_keys {
	uint16_t template_id;
	uint64_t flow_key_indicator; /* bit i (from the least significant): field i is a key */
};

#define DPFIX_IPFIX_FLOW_KEYS_FIELDS(X) \
	X(0, IE_templateId, 2, UINT, r->template_id) \
	X(0, IE_flowKeyIndicator, 8, UINT, r->flow_key_indicator)

/* Interface options: ingressInterface (scope) -> interfaceName, interfaceDescription.
 * Strings longer than 254 bytes are cut (at a UTF-8 character boundary); NULL is "". */
struct dpfix_ipfix_interface_info {
	uint32_t ingress_interface;
	const char *name;
	const char *description;
};

#define DPFIX_IPFIX_INTERFACE_INFO_FIELDS(X) \
	X(0, IE_ingressInterface, 4, UINT, r->ingress_interface) \
	X(0, IE_interfaceName, DPFIX_IPFIX_VARLEN, STRING, r->name) \
	X(0, IE_interfaceDescription, DPFIX_IPFIX_VARLEN, STRING, r->description)

#define DPFIX_IPFIX_METERING_STATS_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_METERING_STATS_FIELDS)
#define DPFIX_IPFIX_METERING_RELIABILITY_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_METERING_RELIABILITY_FIELDS)
#define DPFIX_IPFIX_EXPORTING_RELIABILITY_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_EXPORTING_RELIABILITY_FIELDS)
#define DPFIX_IPFIX_FLOW_KEYS_LEN DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_FLOW_KEYS_FIELDS)
#define DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN \
	DPFIX_IPFIX_LIST_MAX_LENGTH(DPFIX_IPFIX_INTERFACE_INFO_FIELDS)

/* Each makes s the schema of its records with template id template_id; the records
 * are the struct above, encoded by dpfix_ipfix_schema_encode. */
int dpfix_ipfix_metering_stats_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);
int dpfix_ipfix_metering_reliability_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);
int dpfix_ipfix_exporting_reliability_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);
int dpfix_ipfix_flow_keys_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);
int dpfix_ipfix_interface_info_schema(struct dpfix_ipfix_schema *s, uint16_t template_id);

/* The flowKeyIndicator of template t whose IANA fields with ids in keys[0..n) are flow
 * keys. Fields past the 64th cannot be marked (RFC 7012 flowKeyIndicator). */
uint64_t dpfix_ipfix_flow_key_indicator(const struct dpfix_ipfix_template *t, const uint16_t *keys,
		size_t n);

#endif
