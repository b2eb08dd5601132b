/* The information-element registry: IANA elements by id and name.
 * This is the subset of the IANA registry that dpfix and common exporters use; the
 * full registry as generated data is planned (issue 3). */
#include <string.h>

#include "dpfix_ipfix.h"

#define U8 DPFIX_IPFIX_UNSIGNED8
#define U16 DPFIX_IPFIX_UNSIGNED16
#define U32 DPFIX_IPFIX_UNSIGNED32
#define U64 DPFIX_IPFIX_UNSIGNED64
#define V4 DPFIX_IPFIX_IPV4_ADDRESS
#define V6 DPFIX_IPFIX_IPV6_ADDRESS
#define MAC DPFIX_IPFIX_MAC_ADDRESS
#define STR DPFIX_IPFIX_STRING
#define OCT DPFIX_IPFIX_OCTET_ARRAY
#define SEC DPFIX_IPFIX_DATETIME_SECONDS
#define MSEC DPFIX_IPFIX_DATETIME_MILLISECONDS
#define USEC DPFIX_IPFIX_DATETIME_MICROSECONDS
#define NSEC DPFIX_IPFIX_DATETIME_NANOSECONDS
#define F64 DPFIX_IPFIX_FLOAT64
#define BOOL DPFIX_IPFIX_BOOLEAN

static const struct dpfix_ipfix_ie registry[] = {
	{1, 0, "octetDeltaCount", U64},
	{2, 0, "packetDeltaCount", U64},
	{3, 0, "deltaFlowCount", U64},
	{4, 0, "protocolIdentifier", U8},
	{5, 0, "ipClassOfService", U8},
	{6, 0, "tcpControlBits", U16},
	{7, 0, "sourceTransportPort", U16},
	{8, 0, "sourceIPv4Address", V4},
	{9, 0, "sourceIPv4PrefixLength", U8},
	{10, 0, "ingressInterface", U32},
	{11, 0, "destinationTransportPort", U16},
	{12, 0, "destinationIPv4Address", V4},
	{13, 0, "destinationIPv4PrefixLength", U8},
	{14, 0, "egressInterface", U32},
	{15, 0, "ipNextHopIPv4Address", V4},
	{16, 0, "bgpSourceAsNumber", U32},
	{17, 0, "bgpDestinationAsNumber", U32},
	{18, 0, "bgpNextHopIPv4Address", V4},
	{21, 0, "flowEndSysUpTime", U32},
	{22, 0, "flowStartSysUpTime", U32},
	{23, 0, "postOctetDeltaCount", U64},
	{24, 0, "postPacketDeltaCount", U64},
	{25, 0, "minimumIpTotalLength", U64},
	{26, 0, "maximumIpTotalLength", U64},
	{27, 0, "sourceIPv6Address", V6},
	{28, 0, "destinationIPv6Address", V6},
	{29, 0, "sourceIPv6PrefixLength", U8},
	{30, 0, "destinationIPv6PrefixLength", U8},
	{31, 0, "flowLabelIPv6", U32},
	{32, 0, "icmpTypeCodeIPv4", U16},
	{33, 0, "igmpType", U8},
	{36, 0, "flowActiveTimeout", U16},
	{37, 0, "flowIdleTimeout", U16},
	{40, 0, "exportedOctetTotalCount", U64},
	{41, 0, "exportedMessageTotalCount", U64},
	{42, 0, "exportedFlowRecordTotalCount", U64},
	{52, 0, "minimumTTL", U8},
	{53, 0, "maximumTTL", U8},
	{54, 0, "fragmentIdentification", U32},
	{56, 0, "sourceMacAddress", MAC},
	{57, 0, "postDestinationMacAddress", MAC},
	{58, 0, "vlanId", U16},
	{59, 0, "postVlanId", U16},
	{60, 0, "ipVersion", U8},
	{61, 0, "flowDirection", U8},
	{62, 0, "ipNextHopIPv6Address", V6},
	{64, 0, "ipv6ExtensionHeaders", U32},
	{70, 0, "mplsTopLabelStackSection", OCT},
	{80, 0, "destinationMacAddress", MAC},
	{81, 0, "postSourceMacAddress", MAC},
	{82, 0, "interfaceName", STR},
	{83, 0, "interfaceDescription", STR},
	{85, 0, "octetTotalCount", U64},
	{86, 0, "packetTotalCount", U64},
	{88, 0, "fragmentOffset", U16},
	{89, 0, "forwardingStatus", U32},
	{130, 0, "exporterIPv4Address", V4},
	{131, 0, "exporterIPv6Address", V6},
	{132, 0, "droppedOctetDeltaCount", U64},
	{133, 0, "droppedPacketDeltaCount", U64},
	{136, 0, "flowEndReason", U8},
	{137, 0, "commonPropertiesId", U64},
	{138, 0, "observationPointId", U64},
	{139, 0, "icmpTypeCodeIPv6", U16},
	{143, 0, "meteringProcessId", U32},
	{144, 0, "exportingProcessId", U32},
	{145, 0, "templateId", U16},
	{148, 0, "flowId", U64},
	{149, 0, "observationDomainId", U32},
	{150, 0, "flowStartSeconds", SEC},
	{151, 0, "flowEndSeconds", SEC},
	{152, 0, "flowStartMilliseconds", MSEC},
	{153, 0, "flowEndMilliseconds", MSEC},
	{154, 0, "flowStartMicroseconds", USEC},
	{155, 0, "flowEndMicroseconds", USEC},
	{156, 0, "flowStartNanoseconds", NSEC},
	{157, 0, "flowEndNanoseconds", NSEC},
	{160, 0, "systemInitTimeMilliseconds", MSEC},
	{161, 0, "flowDurationMilliseconds", U32},
	{164, 0, "ignoredPacketTotalCount", U64},
	{165, 0, "ignoredOctetTotalCount", U64},
	{166, 0, "notSentFlowTotalCount", U64},
	{167, 0, "notSentPacketTotalCount", U64},
	{168, 0, "notSentOctetTotalCount", U64},
	{176, 0, "icmpTypeIPv4", U8},
	{177, 0, "icmpCodeIPv4", U8},
	{178, 0, "icmpTypeIPv6", U8},
	{179, 0, "icmpCodeIPv6", U8},
	{180, 0, "udpSourcePort", U16},
	{181, 0, "udpDestinationPort", U16},
	{182, 0, "tcpSourcePort", U16},
	{183, 0, "tcpDestinationPort", U16},
	{192, 0, "ipTTL", U8},
	{195, 0, "ipDiffServCodePoint", U8},
	{210, 0, "paddingOctets", OCT},
	{211, 0, "collectorIPv4Address", V4},
	{212, 0, "collectorIPv6Address", V6},
	{214, 0, "exportProtocolVersion", U8},
	{215, 0, "exportTransportProtocol", U8},
	{216, 0, "collectorTransportPort", U16},
	{217, 0, "exporterTransportPort", U16},
	{224, 0, "ipTotalLength", U64},
	{225, 0, "postNATSourceIPv4Address", V4},
	{226, 0, "postNATDestinationIPv4Address", V4},
	{227, 0, "postNAPTSourceTransportPort", U16},
	{228, 0, "postNAPTDestinationTransportPort", U16},
	{239, 0, "biflowDirection", U8},
	{243, 0, "dot1qVlanId", U16},
	{256, 0, "ethernetType", U16},
	{258, 0, "collectionTimeMilliseconds", MSEC},
	{259, 0, "exportSctpStreamId", U16},
	{263, 0, "messageScope", U8},
	{298, 0, "initiatorPackets", U64},
	{299, 0, "responderPackets", U64},
	{300, 0, "observationDomainName", STR},
	{302, 0, "selectorId", U64},
	{303, 0, "informationElementId", U16},
	{304, 0, "selectorAlgorithm", U16},
	{305, 0, "samplingPacketInterval", U32},
	{306, 0, "samplingPacketSpace", U32},
	{309, 0, "samplingSize", U32},
	{310, 0, "samplingPopulation", U32},
	{322, 0, "observationTimeSeconds", SEC},
	{323, 0, "observationTimeMilliseconds", MSEC},
	{324, 0, "observationTimeMicroseconds", USEC},
	{325, 0, "observationTimeNanoseconds", NSEC},
	{346, 0, "privateEnterpriseNumber", U32},
	{352, 0, "layer2OctetDeltaCount", U64},
};

const struct dpfix_ipfix_ie *
dpfix_ipfix_ie_by_id(uint32_t pen, uint16_t id)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i].id == id && registry[i].pen == pen)
			return &registry[i];
	return NULL;
}

const struct dpfix_ipfix_ie *
dpfix_ipfix_ie_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i].name, name) == 0)
			return &registry[i];
	return NULL;
}
