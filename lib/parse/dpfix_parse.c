/* L2-L4 header parsing for the metering workers. Each step checks the remaining
 * length before it reads, so a truncated or lying packet is classified, never overrun. */
#include <string.h>

#include "dpfix_parse.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define MAX_VLAN_TAGS 2

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_ 132

static const char *const result_names[] = {
#define DPFIX_PARSE_NAME(name, text) #name,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_NAME)
#undef DPFIX_PARSE_NAME
};

static const char *const result_texts[] = {
#define DPFIX_PARSE_TEXT(name, text) text,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_TEXT)
#undef DPFIX_PARSE_TEXT
};

const char *
dpfix_parse_result_name(enum dpfix_parse_result r)
{
	return (unsigned int)r < DPFIX_PARSE_RESULT_COUNT ? result_names[r] : "UNKNOWN";
}

const char *
dpfix_parse_result_text(enum dpfix_parse_result r)
{
	return (unsigned int)r < DPFIX_PARSE_RESULT_COUNT ? result_texts[r] : "unknown";
}

static inline uint16_t
read_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Fills ports (or ICMP type/code) and TCP flags from the transport header at l4. */
static enum dpfix_parse_result
parse_transport(const uint8_t *l4, uint32_t len, struct dpfix_packet_info *info)
{
	switch (info->key.protocol) {
	case IPPROTO_TCP_:
		if (len < 14)
			return DPFIX_PARSE_TRUNCATED_L4;
		info->key.src_port = read_be16(l4);
		info->key.dst_port = read_be16(l4 + 2);
		info->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP_:
	case IPPROTO_SCTP_:
		if (len < 4)
			return DPFIX_PARSE_TRUNCATED_L4;
		info->key.src_port = read_be16(l4);
		info->key.dst_port = read_be16(l4 + 2);
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (len < 2)
			return DPFIX_PARSE_TRUNCATED_L4;
		info->key.dst_port = read_be16(l4);
		break;
	default:
		break;
	}
	return DPFIX_PARSE_OK;
}

static enum dpfix_parse_result
parse_ipv4(const uint8_t *ip, uint32_t len, struct dpfix_packet_info *info)
{
	uint32_t header_len, total_len;
	uint16_t frag;

	if (len < 20)
		return DPFIX_PARSE_TRUNCATED_IPV4;
	if ((ip[0] >> 4) != 4)
		return DPFIX_PARSE_BAD_IPV4_VERSION;
	header_len = (uint32_t)(ip[0] & 0x0f) * 4;
	if (header_len < 20)
		return DPFIX_PARSE_BAD_IPV4_HEADER_LENGTH;
	if (len < header_len)
		return DPFIX_PARSE_TRUNCATED_IPV4;
	total_len = read_be16(ip + 2);
	if (total_len < header_len)
		return DPFIX_PARSE_BAD_IPV4_TOTAL_LENGTH;

	info->key.ip_version = 4;
	info->key.protocol = ip[9];
	memcpy(info->key.src_addr, ip + 12, 4);
	memcpy(info->key.dst_addr, ip + 16, 4);
	info->ip_octets = total_len;
	info->tos = ip[1];
	info->ttl = ip[8];

	frag = read_be16(ip + 6);
	if ((frag & 0x1fff) != 0) {
		/* Later fragments have no transport header; counted under ports 0. */
		info->is_fragment = 1;
		return DPFIX_PARSE_OK;
	}
	/* A capture may cut the packet (snap length) but also carry Ethernet padding;
	 * the transport header lies within both the frame and the IP total length. */
	if (total_len < len)
		len = total_len;
	return parse_transport(ip + header_len, len - header_len, info);
}

static enum dpfix_parse_result
parse_ipv6(const uint8_t *ip, uint32_t len, struct dpfix_packet_info *info)
{
	uint32_t off = 40, payload_len;
	uint8_t next;

	if (len < 40)
		return DPFIX_PARSE_TRUNCATED_IPV6;
	if ((ip[0] >> 4) != 6)
		return DPFIX_PARSE_BAD_IPV6_VERSION;
	payload_len = read_be16(ip + 4);
	info->key.ip_version = 6;
	memcpy(info->key.src_addr, ip + 8, 16);
	memcpy(info->key.dst_addr, ip + 24, 16);
	info->ip_octets = payload_len + 40;
	info->tos = (uint8_t)(read_be16(ip) >> 4);
	info->ttl = ip[7];
	if (payload_len + 40 < len)
		len = payload_len + 40;

	/* Walk the extension headers that can precede the transport header. Each
	 * is at least 8 bytes, so the loop ends within len / 8 steps. */
	next = ip[6];
	for (;;) {
		if (next == IPPROTO_HOPOPTS_ || next == IPPROTO_ROUTING_ || next == IPPROTO_DSTOPTS_) {
			if (len < off + 8)
				return DPFIX_PARSE_TRUNCATED_L4;
			next = ip[off];
			off += ((uint32_t)ip[off + 1] + 1) * 8;
		} else if (next == IPPROTO_FRAGMENT_) {
			if (len < off + 8)
				return DPFIX_PARSE_TRUNCATED_L4;
			next = ip[off];
			info->key.protocol = next;
			if ((read_be16(ip + off + 2) & 0xfff8) != 0) {
				info->is_fragment = 1;
				return DPFIX_PARSE_OK;
			}
			off += 8;
		} else {
			break;
		}
	}
	info->key.protocol = next;
	if (len < off)
		return DPFIX_PARSE_TRUNCATED_L4;
	return parse_transport(ip + off, len - off, info);
}

enum dpfix_parse_result
dpfix_parse_ethernet(const uint8_t *frame, uint32_t len, int key_vlan,
		struct dpfix_packet_info *info)
{
	uint32_t off = 14;
	uint16_t ethertype;
	int tags = 0;

	memset(info, 0, sizeof(*info));
	if (len < 14)
		return DPFIX_PARSE_TRUNCATED_L2;
	ethertype = read_be16(frame + 12);
	while ((ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ) && tags < MAX_VLAN_TAGS) {
		if (len < off + 4)
			return DPFIX_PARSE_TRUNCATED_L2;
		if (tags == 0)
			info->vlan_id = read_be16(frame + off) & 0x0fff;
		ethertype = read_be16(frame + off + 2);
		off += 4;
		tags++;
	}
	if (key_vlan)
		info->key.vlan_id = info->vlan_id;
	if (ethertype == ETHERTYPE_IPV4)
		return parse_ipv4(frame + off, len - off, info);
	if (ethertype == ETHERTYPE_IPV6)
		return parse_ipv6(frame + off, len - off, info);
	return DPFIX_PARSE_NOT_IP;
}
