/* Options templates of RFC 7011 section 4 and the interface options record: each a
 * template builder (the caller picks the template id) and a record encoder whose
 * field order matches it. Records are what dpfix_ipfix_msg_add_record() takes. */
#ifndef DPFIX_IPFIX_OPTIONS_H
#define DPFIX_IPFIX_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

/* 4.1 Metering Process Statistics: scope observationDomainId, meteringProcessId. */
struct dpfix_ipfix_metering_stats {
	uint32_t observation_domain;
	uint32_t metering_process;
	uint64_t messages;          /* exportedMessageTotalCount */
	uint64_t flow_records;      /* exportedFlowRecordTotalCount */
	uint64_t octets;            /* exportedOctetTotalCount */
};

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

/* 4.3 Exporting Process Reliability Statistics: flow records not sent. */
struct dpfix_ipfix_exporting_reliability {
	uint32_t exporting_process;
	uint64_t not_sent_flows;
	uint64_t not_sent_packets;
	uint64_t not_sent_octets;
	uint64_t first_not_sent_ms; /* flowStartMilliseconds */
	uint64_t last_not_sent_ms;  /* flowEndMilliseconds */
};

/* 4.4 Flow Keys: which fields of a template are flow keys. */
struct dpfix_ipfix_flow_keys {
	uint16_t template_id;
	uint64_t flow_key_indicator; /* bit i (from the least significant): field i is a key */
};

/* Interface options: ingressInterface (scope) -> interfaceName, interfaceDescription. */
struct dpfix_ipfix_interface_info {
	uint32_t ingress_interface;
	const char *name;
	const char *description;
};

#define DPFIX_IPFIX_METERING_STATS_LEN 32
#define DPFIX_IPFIX_METERING_RELIABILITY_LEN 40
#define DPFIX_IPFIX_EXPORTING_RELIABILITY_LEN 44
#define DPFIX_IPFIX_FLOW_KEYS_LEN 10
/* An interface record: 4 bytes, then each string's length prefix and up to 255 bytes. */
#define DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN (4 + 2 * (1 + 254))

void dpfix_ipfix_metering_stats_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_metering_stats_record(const struct dpfix_ipfix_metering_stats *s, uint8_t *out);

void dpfix_ipfix_metering_reliability_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_metering_reliability_record(const struct dpfix_ipfix_metering_reliability *s,
		uint8_t *out);

void dpfix_ipfix_exporting_reliability_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_exporting_reliability_record(const struct dpfix_ipfix_exporting_reliability *s,
		uint8_t *out);

void dpfix_ipfix_flow_keys_template(struct dpfix_ipfix_template *t, uint16_t id);
uint32_t dpfix_ipfix_flow_keys_record(const struct dpfix_ipfix_flow_keys *s, uint8_t *out);
/* The flowKeyIndicator of template t whose IANA fields with ids in keys[0..n) are flow
 * keys. Fields past the 64th cannot be marked (RFC 7012 flowKeyIndicator). */
uint64_t dpfix_ipfix_flow_key_indicator(const struct dpfix_ipfix_template *t, const uint16_t *keys,
		size_t n);

void dpfix_ipfix_interface_info_template(struct dpfix_ipfix_template *t, uint16_t id);
/* Strings longer than 254 bytes are cut (at a UTF-8 character boundary); NULL is "".
 * out must hold DPFIX_IPFIX_INTERFACE_INFO_MAX_LEN bytes. */
uint32_t dpfix_ipfix_interface_info_record(const struct dpfix_ipfix_interface_info *s, uint8_t *out);

#endif
