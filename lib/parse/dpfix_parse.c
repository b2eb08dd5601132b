/* L2-L4 header parsing for the metering workers. Each step checks the remaining
 * length before it reads, so a truncated or lying packet is classified, never overrun;
 * every loop has a fixed bound (tags, labels, extension headers, one tunnel level). */
#include <string.h>

#include "dpfix_parse.h"
#include "dpfix_payload.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100   /* pre-802.1ad service tag, still in use */
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MULTICAST 0x8848

#define MAX_VLAN_TAGS 4
#define MAX_MPLS_LABELS 8
#define MAX_IPV6_EXT_HEADERS 8

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_GRE_ 47
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_ 132

#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

/* GRE flag word (RFC 2784, 2890; version 1 is PPTP, RFC 2637). */
#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_A 0x0080
#define GRE_VERSION 0x0007
/* Version 0: bits 1, 4 and 5 must be zero (RFC 2784 2.3; bits 2 and 3 are RFC 2890's
 * key and sequence flags); bits 6-12 are ignored on receipt. */
#define GRE_V0_MUST_BE_ZERO 0x4c00
/* Version 1: only K (required), S and A may be set. */
#define GRE_V1_ALLOWED (GRE_K | GRE_S | GRE_A | GRE_VERSION)
#define GRE_V1_PROTOCOL 0x880b

#define VXLAN_FLAG_VNI 0x08

/* One function in the end: the helpers share registers instead of passing them. */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define unlikely(x) __builtin_expect(!!(x), 0)
#define VXLAN_OFF 0x10000u   /* no UDP port matches: VXLAN is not opened */

const char *const dpfix_key_field_names[] = {
#define DPFIX_KEY_NAME(NAME, name, help) #name,
	DPFIX_KEY_FIELDS(DPFIX_KEY_NAME)
#undef DPFIX_KEY_NAME
	NULL,
};

static const char *const result_names[] = {
#define DPFIX_PARSE_NAME(name, kind, text) #name,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_NAME)
#undef DPFIX_PARSE_NAME
};

static const char *const result_texts[] = {
#define DPFIX_PARSE_TEXT(name, kind, text) text,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_TEXT)
#undef DPFIX_PARSE_TEXT
};

static const uint8_t result_kinds[] = {
#define DPFIX_PARSE_KIND(name, kind, text) DPFIX_PARSE_KIND_##kind,
	DPFIX_PARSE_RESULTS(DPFIX_PARSE_KIND)
#undef DPFIX_PARSE_KIND
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

enum dpfix_parse_kind
dpfix_parse_result_kind(enum dpfix_parse_result r)
{
	return (unsigned int)r < DPFIX_PARSE_RESULT_COUNT ? (enum dpfix_parse_kind)result_kinds[r] :
			DPFIX_PARSE_KIND_MALFORMED;
}

/* Unaligned big-endian loads (memcpy: headers sit at any offset). */
static inline uint16_t
read_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

static inline uint32_t
read_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

/* Internal result: the packet is VXLAN and its inner frame is to be metered; the
 * caller parses that frame in a second (and last) round, without recursion. */
#define PARSE_INNER_FRAME DPFIX_PARSE_RESULT_COUNT

/* Where a tunnel's inner frame lies (len bytes at hand). */
struct inner_frame {
	const uint8_t *frame;
	uint32_t len;
};

/* The VXLAN header at vx, right after the UDP header (whose length field parse_inner
 * reads: it bounds the inner frame), avail bytes of the UDP payload at hand. */
static ALWAYS_INLINE enum dpfix_parse_result
parse_vxlan(const uint8_t *vx, uint32_t avail, struct inner_frame *inner)
{
	if (avail < 8)
		return DPFIX_PARSE_TRUNCATED_VXLAN;
	if (!(vx[0] & VXLAN_FLAG_VNI))
		return DPFIX_PARSE_BAD_VXLAN_FLAGS;
	inner->frame = vx + 8;
	inner->len = avail - 8;
	return PARSE_INNER_FRAME;
}

/* Validates a GRE header (flows of protocol 47 are keyed by addresses alone). */
static ALWAYS_INLINE enum dpfix_parse_result
parse_gre(const uint8_t *gre, uint32_t avail, uint32_t declared)
{
	uint16_t flags;
	uint32_t header_len;

	if (avail < 4)
		return DPFIX_PARSE_TRUNCATED_GRE;
	flags = read_be16(gre);
	switch (flags & GRE_VERSION) {
	case 0:
		if (flags & GRE_V0_MUST_BE_ZERO)
			return DPFIX_PARSE_BAD_GRE_HEADER;
		header_len = 4 + (flags & GRE_C ? 4 : 0) + (flags & GRE_K ? 4 : 0) +
				(flags & GRE_S ? 4 : 0);
		break;
	case 1:
		if ((flags & ~GRE_V1_ALLOWED) || !(flags & GRE_K) ||
				read_be16(gre + 2) != GRE_V1_PROTOCOL)
			return DPFIX_PARSE_BAD_GRE_HEADER;
		header_len = 8 + (flags & GRE_S ? 4 : 0) + (flags & GRE_A ? 4 : 0);
		break;
	default:
		return DPFIX_PARSE_BAD_GRE_HEADER;
	}
	/* The optional fields are not read, but they must be inside the packet. */
	if (declared < header_len)
		return DPFIX_PARSE_TRUNCATED_GRE;
	return DPFIX_PARSE_OK;
}

/* Fills ports (or ICMP type/code) and TCP flags from the transport header at l4.
 * avail: bytes present (within the frame and the IP length); declared: bytes the IP
 * header says follow (this fragment's, for a first fragment). */
static ALWAYS_INLINE enum dpfix_parse_result
parse_transport(uint32_t vxlan_port, const uint8_t *l4, uint32_t avail,
		uint32_t declared, struct dpfix_packet_info *info, struct inner_frame *inner)
{
	uint32_t n;

	switch (info->key.protocol) {
	case IPPROTO_TCP_:
		if (avail < 14)
			return DPFIX_PARSE_TRUNCATED_TCP;
		n = (uint32_t)(l4[12] >> 4) * 4;
		if (n < 20 || n > declared)
			return DPFIX_PARSE_BAD_TCP_HEADER_LENGTH;
		info->key.src_port = read_be16(l4);
		info->key.dst_port = read_be16(l4 + 2);
		info->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP_:
		if (avail < 8)
			return DPFIX_PARSE_TRUNCATED_UDP;
		n = read_be16(l4 + 4);
		/* A first fragment holds only the start of the datagram. */
		if (n < 8 || (n > declared && info->fragment == DPFIX_FRAG_NONE))
			return DPFIX_PARSE_BAD_UDP_LENGTH;
		info->key.src_port = read_be16(l4);
		info->key.dst_port = read_be16(l4 + 2);
		if (info->key.dst_port == vxlan_port &&
				info->fragment == DPFIX_FRAG_NONE)
			return parse_vxlan(l4 + 8, avail - 8, inner);
		break;
	case IPPROTO_SCTP_:
		if (avail < 4)
			return DPFIX_PARSE_TRUNCATED_SCTP;
		info->key.src_port = read_be16(l4);
		info->key.dst_port = read_be16(l4 + 2);
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (avail < 2)
			return DPFIX_PARSE_TRUNCATED_ICMP;
		info->key.dst_port = read_be16(l4);
		break;
	case IPPROTO_GRE_:
		return parse_gre(l4, avail, declared);
	default:
		break;
	}
	return DPFIX_PARSE_OK;
}

static ALWAYS_INLINE enum dpfix_parse_result
parse_ipv4(uint32_t vxlan_port, const uint8_t *ip, uint32_t len,
		struct dpfix_packet_info *info, struct inner_frame *inner)
{
	uint32_t header_len, total_len, frag_offset;
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
	info->ip_header_len = (uint16_t)header_len;
	info->tos = ip[1];
	info->ttl = ip[8];

	frag = read_be16(ip + 6);
	if (frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) {
		frag_offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8;
		if (frag_offset + total_len - header_len > 65535)
			return DPFIX_PARSE_BAD_IPV4_FRAGMENT;
		info->frag_id = read_be16(ip + 4);
		info->frag_offset = (uint16_t)frag_offset;
		info->frag_len = (uint16_t)(total_len - header_len);
		info->frag_more = (frag & IPV4_FLAG_MF) != 0;
		if (frag_offset != 0) {
			/* No transport header here: the fragment map may find the ports. */
			info->fragment = DPFIX_FRAG_LATER;
			return DPFIX_PARSE_OK;
		}
		info->fragment = DPFIX_FRAG_FIRST;
	}
	/* The packet may be cut (a capture's snapshot length, or the rest of it in other
	 * mbufs) or followed by Ethernet padding: the transport header lies within both
	 * the bytes at hand and the IP total length. (That the IP total length fits the
	 * frame is checked once the packet is parsed: dpfix_parse_ethernet.) */
	if (total_len < len)
		len = total_len;
	return parse_transport(vxlan_port, ip + header_len, len - header_len, total_len - header_len,
			info, inner);
}

static inline int
ipv6_is_extension(uint8_t next)
{
	return next == IPPROTO_HOPOPTS_ || next == IPPROTO_ROUTING_ ||
			next == IPPROTO_FRAGMENT_ || next == IPPROTO_DSTOPTS_ || next == IPPROTO_AH_;
}

static ALWAYS_INLINE enum dpfix_parse_result
parse_ipv6(uint32_t vxlan_port, const uint8_t *ip, uint32_t len,
		struct dpfix_packet_info *info, struct inner_frame *inner)
{
	uint32_t off = 40, end, declared_end;
	unsigned int headers = 0;
	uint8_t next;

	if (len < 40)
		return DPFIX_PARSE_TRUNCATED_IPV6;
	if ((ip[0] >> 4) != 6)
		return DPFIX_PARSE_BAD_IPV6_VERSION;
	declared_end = (uint32_t)read_be16(ip + 4) + 40;
	info->key.ip_version = 6;
	memcpy(info->key.src_addr, ip + 8, 16);
	memcpy(info->key.dst_addr, ip + 24, 16);
	info->ip_octets = declared_end;
	info->tos = (uint8_t)(read_be16(ip) >> 4);
	info->ttl = ip[7];
	end = declared_end < len ? declared_end : len;

	/* The extension-header chain (RFC 8200 4.1). ESP, "no next header" and anything
	 * else end it and are metered as the protocol. */
	next = ip[6];
	while (ipv6_is_extension(next)) {
		if (headers++ == MAX_IPV6_EXT_HEADERS)
			return DPFIX_PARSE_IPV6_EXT_TOO_DEEP;
		if (next == IPPROTO_FRAGMENT_) {
			uint16_t frag;
			uint32_t frag_offset;

			if (end < off + 8)
				return DPFIX_PARSE_TRUNCATED_IPV6_EXT;
			next = ip[off];
			frag = read_be16(ip + off + 2);
			frag_offset = frag & 0xfff8u;
			off += 8;
			if (frag_offset == 0 && !(frag & 1))
				continue; /* atomic fragment (RFC 6946): the whole packet */
			if (frag_offset + declared_end - off > 65535)
				return DPFIX_PARSE_BAD_IPV6_FRAGMENT;
			info->frag_id = read_be32(ip + off - 4);
			info->frag_offset = (uint16_t)frag_offset;
			info->frag_len = (uint16_t)(declared_end - off);
			info->frag_more = frag & 1;
			if (frag_offset != 0) {
				/* The protocol is the fragment header's next header; the fragment
				 * map may replace it and the ports with the first fragment's. */
				info->fragment = DPFIX_FRAG_LATER;
				info->key.protocol = next;
				info->ip_header_len = (uint16_t)off;
				return DPFIX_PARSE_OK;
			}
			info->fragment = DPFIX_FRAG_FIRST;
			continue;
		}
		if (next == IPPROTO_HOPOPTS_ && off != 40)
			return DPFIX_PARSE_BAD_IPV6_HOPOPTS;
		if (end < off + 2)
			return DPFIX_PARSE_TRUNCATED_IPV6_EXT;
		/* AH counts its length in 4-byte units less 2, the others in 8-byte units less 1. */
		if (next == IPPROTO_AH_) {
			next = ip[off];
			off += ((uint32_t)ip[off + 1] + 2) * 4;
		} else {
			next = ip[off];
			off += ((uint32_t)ip[off + 1] + 1) * 8;
		}
	}
	/* The last extension header may claim more than the packet holds. */
	if (end < off)
		return DPFIX_PARSE_TRUNCATED_IPV6_EXT;
	info->key.protocol = next;
	info->ip_header_len = (uint16_t)off;
	return parse_transport(vxlan_port, ip + off, end - off, declared_end - off, info, inner);
}

/* Ethernet, up to MAX_VLAN_TAGS tags, an MPLS label stack, then IPv4 or IPv6. */
static ALWAYS_INLINE enum dpfix_parse_result
parse_frame(uint32_t vxlan_port, const uint8_t *frame, uint32_t len,
		struct dpfix_packet_info *info, struct inner_frame *inner)
{
	uint32_t off = 14;
	uint16_t ethertype;
	unsigned int tags = 0;

	if (len < 14)
		return DPFIX_PARSE_TRUNCATED_L2;
	ethertype = read_be16(frame + 12);
	while (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
			ethertype == ETHERTYPE_QINQ_OLD) {
		if (tags == MAX_VLAN_TAGS)
			return DPFIX_PARSE_VLAN_TOO_DEEP;
		if (len < off + 4)
			return DPFIX_PARSE_TRUNCATED_L2;
		if (tags++ == 0)
			info->vlan_id = read_be16(frame + off) & 0x0fff;
		ethertype = read_be16(frame + off + 2);
		off += 4;
	}
	info->l3_offset = (uint16_t)off;
	if (ethertype == ETHERTYPE_IPV4)
		return parse_ipv4(vxlan_port, frame + off, len - off, info, inner);
	if (ethertype == ETHERTYPE_IPV6)
		return parse_ipv6(vxlan_port, frame + off, len - off, info, inner);
	if (ethertype != ETHERTYPE_MPLS && ethertype != ETHERTYPE_MPLS_MULTICAST)
		return DPFIX_PARSE_NOT_IP;

	/* MPLS (RFC 3032): labels up to the bottom of stack, then the payload's first
	 * nibble tells IPv4 from IPv6, as label-switching routers do. */
	for (unsigned int labels = 0;; labels++) {
		uint32_t entry;

		if (labels == MAX_MPLS_LABELS)
			return DPFIX_PARSE_MPLS_TOO_DEEP;
		if (len < off + 4)
			return DPFIX_PARSE_TRUNCATED_MPLS;
		entry = read_be32(frame + off);
		off += 4;
		if (labels == 0)
			info->mpls_top = entry >> 8;
		if (entry & 0x100)
			break;
	}
	if (len <= off)
		return DPFIX_PARSE_TRUNCATED_MPLS;
	info->l3_offset = (uint16_t)off;
	switch (frame[off] >> 4) {
	case 4:
		return parse_ipv4(vxlan_port, frame + off, len - off, info, inner);
	case 6:
		return parse_ipv6(vxlan_port, frame + off, len - off, info, inner);
	default:
		return DPFIX_PARSE_MPLS_NOT_IP;
	}
}

/* A parsed packet whose IP length runs past the frame that carries it. */
static enum dpfix_parse_result
length_past_frame(const struct dpfix_packet_info *info)
{
	return info->key.ip_version == 4 ? DPFIX_PARSE_IPV4_LENGTH_PAST_FRAME :
			DPFIX_PARSE_IPV6_LENGTH_PAST_FRAME;
}

/* VXLAN: the inner packet is the metered one, parsed in a second and last round (a
 * tunnel in the tunnel is metered as such). The outer VLAN and MPLS label stay, as
 * they describe the link. The outer packet must fit the frame (wire_len) before its
 * UDP length is believed to bound the inner frame, and the inner packet must fit that. */
static ALWAYS_INLINE enum dpfix_parse_result
parse_inner(const uint8_t *frame, uint32_t wire_len, struct dpfix_packet_info *info,
		const struct inner_frame *inner)
{
	uint16_t vlan_id = info->vlan_id;
	uint32_t mpls_top = info->mpls_top;
	uint16_t inner_offset = (uint16_t)(inner->frame - frame);
	/* The UDP length (UDP header, VXLAN header, inner frame), 16 bytes before it. */
	uint32_t udp_len = read_be16(inner->frame - 12), inner_wire;
	struct inner_frame none;        /* VXLAN is not opened a second time */
	enum dpfix_parse_result r;

	if ((uint32_t)info->l3_offset + info->ip_octets > wire_len)
		return length_past_frame(info);
	if (udp_len < 16)
		return DPFIX_PARSE_TRUNCATED_VXLAN;
	inner_wire = udp_len - 16;
	memset(info, 0, sizeof(*info));
	r = parse_frame(VXLAN_OFF, inner->frame, inner->len < inner_wire ? inner->len : inner_wire,
			info, &none);
	if (r == DPFIX_PARSE_OK && (uint32_t)info->l3_offset + info->ip_octets > inner_wire)
		return length_past_frame(info);
	info->vlan_id = vlan_id;
	info->mpls_top = mpls_top;
	info->l3_offset += inner_offset;
	return r;
}

/* The fields every parsed packet gets last: its port, DSCP, the configured key fields. */
static ALWAYS_INLINE void
finish_info(uint32_t fields, uint16_t port, struct dpfix_packet_info *info)
{
	info->ingress_port = port;
	info->dscp = info->tos >> 2;
	if (fields != 0) {
		if (fields & DPFIX_KEY_VLAN)
			info->key.vlan_id = info->vlan_id;
		if (fields & DPFIX_KEY_DSCP)
			info->key.dscp = info->dscp;
		if (fields & DPFIX_KEY_MPLS)
			info->key.mpls_top = info->mpls_top;
		if (fields & DPFIX_KEY_INGRESS_PORT)
			info->key.ingress_port = port;
	}
}

__attribute__((noinline)) enum dpfix_parse_result
dpfix_parse_ethernet_general(const struct dpfix_parse_config *cfg, const uint8_t *frame,
		uint32_t len, uint32_t wire_len, uint16_t port, struct dpfix_packet_info *info)
{
	struct inner_frame inner;
	enum dpfix_parse_result r;
	uint32_t vxlan_port = cfg->vxlan_inner ? cfg->vxlan_port : VXLAN_OFF;

	memset(info, 0, sizeof(*info));
	r = parse_frame(vxlan_port, frame, len, info, &inner);
	if (unlikely(r == PARSE_INNER_FRAME))
		r = parse_inner(frame, wire_len, info, &inner);
	if (r != DPFIX_PARSE_OK)
		return r;
	/* The octets metered are the IP length: never more than the frame has. Checked
	 * once here, on parsed packets, rather than in each IP parser, which keeps the
	 * common path short; a packet cut inside a header the parser reads is still
	 * reported by that header. */
	if (unlikely((uint32_t)info->l3_offset + info->ip_octets > wire_len))
		return length_past_frame(info);
	finish_info(cfg->key_fields, port, info);
	return DPFIX_PARSE_OK;
}

/* Most packets are untagged IPv4 without options, not fragments, TCP or UDP, whole in
 * the bytes at hand: those are read here with the checks they need, in one pass and
 * without the general parser's loops and calls (121 -> 59 instructions a packet,
 * bench/RESULTS.md "Cutting the worker's instructions"). Anything else, including any
 * such packet that fails a check, goes to the general parser, which classifies it;
 * what the fast path accepts, it fills exactly as the general parser would (unit_parse
 * test_fast_path_agrees and fuzz_parse compare the two). */
enum dpfix_parse_result
dpfix_parse_ethernet(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		uint32_t wire_len, uint16_t port, struct dpfix_packet_info *info)
{
	const uint8_t *ip = frame + 14, *l4 = frame + 34;
	uint32_t total_len, n;
	uint8_t protocol;

	/* Ethernet and a 20-byte IPv4 header at hand, the IP packet whole in the frame (so
	 * within wire_len too, which is at least len), not a fragment. */
	if (len < 34 || read_be16(frame + 12) != ETHERTYPE_IPV4 || ip[0] != 0x45)
		goto general;
	total_len = read_be16(ip + 2);
	if (total_len + 14 > len || (read_be16(ip + 6) & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)))
		goto general;
	/* The transport header whole within the IP packet, its length field sound. */
	protocol = ip[9];
	if (protocol == IPPROTO_UDP_) {
		if (total_len < 20 + 8)         /* (and len < 42: nothing to read past it) */
			goto general;
		n = read_be16(l4 + 4);
		if (n < 8 || n > total_len - 20 || read_be16(l4 + 2) == cfg->vxlan_port)
			goto general; /* (VXLAN's port: the general parser, opened or not) */
	} else if (protocol == IPPROTO_TCP_) {
		if (total_len < 20 + 20)
			goto general;
		n = (uint32_t)(l4[12] >> 4) * 4;
		if (n < 20 || n > total_len - 20)
			goto general;
	} else {
		goto general;
	}
	memset(info, 0, sizeof(*info));
	info->key.ip_version = 4;
	info->key.protocol = protocol;
	memcpy(info->key.src_addr, ip + 12, 4);
	memcpy(info->key.dst_addr, ip + 16, 4);
	info->key.src_port = read_be16(l4);
	info->key.dst_port = read_be16(l4 + 2);
	if (protocol == IPPROTO_TCP_)
		info->tcp_flags = l4[13];
	info->ip_octets = total_len;
	info->ip_header_len = 20;
	info->l3_offset = 14;
	info->tos = ip[1];
	info->ttl = ip[8];
	finish_info(cfg->key_fields, port, info);
	return DPFIX_PARSE_OK;
general:
	return dpfix_parse_ethernet_general(cfg, frame, len, wire_len, port, info);
}

int
dpfix_parse_vxlan_outer(const struct dpfix_parse_config *cfg, const uint8_t *frame, uint32_t len,
		struct dpfix_vxlan_outer *out)
{
	struct dpfix_packet_info info;
	struct inner_frame inner;

	if (!cfg->vxlan_inner)
		return 0;
	memset(&info, 0, sizeof(info));
	if (parse_frame(cfg->vxlan_port, frame, len, &info, &inner) != PARSE_INNER_FRAME)
		return 0;
	out->ip_version = info.key.ip_version;
	memcpy(out->src_addr, info.key.src_addr, sizeof(out->src_addr));
	memcpy(out->dst_addr, info.key.dst_addr, sizeof(out->dst_addr));
	/* The VXLAN header's bytes 4-6, right before the inner frame's 8-byte offset. */
	out->vni = read_be32(inner.frame - 4) >> 8;
	return 1;
}
