/* The options records an IPFIX file writer adds (RFC 5655 8.1.3, 8.1.4): Message
 * Details after each stored message, Export Session Details per session when a file
 * ends. Their values, the field lists (dpfix_ipfix_schema.h) and their schemas; private
 * to lib/ipfix (ipfix_file.c). */
#ifndef IPFIX_FILE_DETAILS_H
#define IPFIX_FILE_DETAILS_H

#include <stdint.h>
#include <sys/socket.h>

#include "dpfix_ipfix_schema.h"

/* A record's values, its addresses in the record's family (file_details_session). */
struct file_details {
	uint64_t collection_time_ms;    /* Message Details */
	uint8_t exporter_address[16];
	uint8_t collector_address[16];
	uint16_t exporter_port;
	uint16_t collector_port;
	uint8_t transport;              /* IPPROTO_UDP, IPPROTO_TCP or IPPROTO_SCTP */
	uint16_t sctp_stream;           /* Message Details of an SCTP session */
	uint32_t min_export, max_export; /* Export Session Details: export times */
	const char *identity;           /* Export Session Details: the exporter's, or "" */
};

/* messageScope and sessionScope are written as 0 (RFC 5655 8.1.3, 8.1.4). */
#define FILE_MESSAGE_DETAILS_FIELDS(X) \
	X(0, IE_messageScope, 1, UINT, 0) \
	X(0, IE_collectionTimeMilliseconds, 8, UINT, r->collection_time_ms)

#define FILE_SESSION_DETAILS_FIELDS(X) \
	X(0, IE_sessionScope, 1, UINT, 0)

#define FILE_DETAILS_ADDRESS_LEN_IPv4 4
#define FILE_DETAILS_ADDRESS_LEN_IPv6 16

/* The transport session, in both records: IP version V (IPv4 or IPv6). */
#define FILE_DETAILS_SESSION_FIELDS(X, V) \
	X(0, IE_exporter##V##Address, FILE_DETAILS_ADDRESS_LEN_##V, OCTETS, r->exporter_address) \
	X(0, IE_exporterTransportPort, 2, UINT, r->exporter_port) \
	X(0, IE_collector##V##Address, FILE_DETAILS_ADDRESS_LEN_##V, OCTETS, r->collector_address) \
	X(0, IE_collectorTransportPort, 2, UINT, r->collector_port) \
	X(0, IE_exportTransportProtocol, 1, UINT, r->transport) \
	X(0, IE_exportProtocolVersion, 1, UINT, DPFIX_IPFIX_VERSION)

#define FILE_DETAILS_SESSION_FIELDS_IPV4(X) FILE_DETAILS_SESSION_FIELDS(X, IPv4)
#define FILE_DETAILS_SESSION_FIELDS_IPV6(X) FILE_DETAILS_SESSION_FIELDS(X, IPv6)

/* Message Details of a message received over SCTP. */
#define FILE_DETAILS_SCTP_FIELDS(X) \
	X(0, IE_exportSctpStreamId, 2, UINT, r->sctp_stream)

/* Export Session Details: the export times of the session's first and last message. */
#define FILE_DETAILS_EXPORT_TIMES_FIELDS(X) \
	X(0, IE_minExportSeconds, 4, UINT, r->min_export) \
	X(0, IE_maxExportSeconds, 4, UINT, r->max_export)

/* Export Session Details of a session whose exporter proved who it is. */
#define FILE_DETAILS_IDENTITY_FIELDS(X) \
	X(DPFIX_IPFIX_PEN_DPFIX, DPFIX_IPFIX_IE_DPFIX_EXPORTER_IDENTITY, DPFIX_IPFIX_VARLEN, \
			STRING, r->identity)

/* The most an identity adds to an Export Session Details template and record. */
#define FILE_DETAILS_IDENTITY_MAX \
	(DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_IDENTITY_FIELDS) + 8)

/* The longest Export Session Details record: IPv6, with an identity. */
#define FILE_SESSION_DETAILS_MAX_LEN \
	(DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_SESSION_DETAILS_FIELDS) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_SESSION_FIELDS_IPV6) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_EXPORT_TIMES_FIELDS) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_IDENTITY_FIELDS))

/* The longest record: Message Details of IPv6 over SCTP. */
#define FILE_DETAILS_MAX_LEN \
	(DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_MESSAGE_DETAILS_FIELDS) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_SESSION_FIELDS_IPV6) + \
	 DPFIX_IPFIX_LIST_MAX_LENGTH(FILE_DETAILS_SCTP_FIELDS))

/* Sets the session's addresses and ports in d in the record's family (v6): IPv4 in an
 * IPv6 record as ::ffff:a.b.c.d, an IPv4-mapped IPv6 address in an IPv4 record as
 * IPv4, anything else (unknown) as zeros. */
void file_details_session(struct file_details *d, const struct sockaddr_storage *exporter,
		const struct sockaddr_storage *collector, int v6);
int file_message_details_schema(struct dpfix_ipfix_schema *s, uint16_t template_id, int v6,
		int sctp);
/* With identity, the record ends with the exporter's identity (FILE_DETAILS_IDENTITY_FIELDS). */
int file_session_details_schema(struct dpfix_ipfix_schema *s, uint16_t template_id, int v6,
		int identity);

#endif
