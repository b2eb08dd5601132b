/* The options records an IPFIX file writer adds (ipfix_file_details.h): their schemas,
 * made from the field lists, and their addresses in the record's family. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ipfix_file_details.h"

DPFIX_IPFIX_GROUP_DEFINE(message_details, struct file_details, 1, FILE_MESSAGE_DETAILS_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(session_details, struct file_details, 1, FILE_SESSION_DETAILS_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(session_ipv4, struct file_details, 0, FILE_DETAILS_SESSION_FIELDS_IPV4);
DPFIX_IPFIX_GROUP_DEFINE(session_ipv6, struct file_details, 0, FILE_DETAILS_SESSION_FIELDS_IPV6);
DPFIX_IPFIX_GROUP_DEFINE(sctp_stream, struct file_details, 0, FILE_DETAILS_SCTP_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(export_times, struct file_details, 0, FILE_DETAILS_EXPORT_TIMES_FIELDS);
DPFIX_IPFIX_GROUP_DEFINE(exporter_identity, struct file_details, 0, FILE_DETAILS_IDENTITY_FIELDS);

static void
set_address(uint8_t *address, uint16_t *port, const struct sockaddr_storage *ss, int v6)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	memset(address, 0, 16);
	*port = 0;
	if (ss->ss_family == AF_INET) {
		*port = ntohs(in4->sin_port);
		if (v6) {
			address[10] = address[11] = 0xff;
			memcpy(address + 12, &in4->sin_addr, 4);
		} else {
			memcpy(address, &in4->sin_addr, 4);
		}
	} else if (ss->ss_family == AF_INET6) {
		*port = ntohs(in6->sin6_port);
		if (v6)
			memcpy(address, &in6->sin6_addr, 16);
		else if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memcpy(address, (const uint8_t *)&in6->sin6_addr + 12, 4);
	}
}

void
file_details_session(struct file_details *d, const struct sockaddr_storage *exporter,
		const struct sockaddr_storage *collector, int v6)
{
	set_address(d->exporter_address, &d->exporter_port, exporter, v6);
	set_address(d->collector_address, &d->collector_port, collector, v6);
}

int
file_message_details_schema(struct dpfix_ipfix_schema *s, uint16_t template_id, int v6, int sctp)
{
	int ret;

	dpfix_ipfix_schema_init(s, template_id);
	ret = dpfix_ipfix_schema_add(s, &message_details, NULL);
	if (ret == 0)
		ret = dpfix_ipfix_schema_add(s, v6 ? &session_ipv6 : &session_ipv4, NULL);
	if (ret == 0 && sctp)
		ret = dpfix_ipfix_schema_add(s, &sctp_stream, NULL);
	return ret;
}

int
file_session_details_schema(struct dpfix_ipfix_schema *s, uint16_t template_id, int v6,
		int identity)
{
	int ret;

	dpfix_ipfix_schema_init(s, template_id);
	ret = dpfix_ipfix_schema_add(s, &session_details, NULL);
	if (ret == 0)
		ret = dpfix_ipfix_schema_add(s, v6 ? &session_ipv6 : &session_ipv4, NULL);
	if (ret == 0)
		ret = dpfix_ipfix_schema_add(s, &export_times, NULL);
	if (ret == 0 && identity)
		ret = dpfix_ipfix_schema_add(s, &exporter_identity, NULL);
	return ret;
}
