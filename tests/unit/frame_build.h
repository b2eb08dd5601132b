/* Builds test frames byte by byte: Ethernet, VLAN tags, MPLS labels, IPv4 (options,
 * fragments), IPv6 and its extension headers, TCP, UDP, SCTP, ICMP, GRE, VXLAN. Shared
 * by the parser's unit tests and the fuzz target's seed corpus. Header-only. */
#ifndef FRAME_BUILD_H
#define FRAME_BUILD_H

#include <stdint.h>
#include <string.h>

#define TPID_8021Q 0x8100
#define TPID_QINQ 0x88a8
#define TPID_QINQ_OLD 0x9100
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP 0x0806
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_IPIP 4
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_GRE 47
#define PROTO_ESP 50
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_NONE 59
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define IPV4_DF 0x4000
#define IPV4_MF 0x2000

/* A frame under construction. The IP header's length field is filled in by ip_end,
 * so whatever follows it (Ethernet padding) is outside the IP packet. */
struct frame {
	uint8_t b[2048];
	uint32_t len;
	uint32_t ip_off;        /* where the (last) IP header starts */
	uint32_t ip_hdr_len;    /* IPv4 header with options, or the fixed IPv6 header */
	uint8_t ip_version;
};

static const uint8_t v4_src[4] = {192, 0, 2, 1};
static const uint8_t v4_dst[4] = {198, 51, 100, 7};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0, 0, 0, 0, 0, 0, 0,
	0xab, 0xcd};

static inline void
put8(struct frame *f, uint8_t v)
{
	if (f->len < sizeof(f->b))
		f->b[f->len++] = v;
}

static inline void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static inline void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static inline void
put_bytes(struct frame *f, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(f, p[i]);
}

static inline void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* Destination and source MAC; the ethertype (or first TPID) comes next. */
static inline void
eth(struct frame *f)
{
	static const uint8_t macs[12] = {0x00, 0x1b, 0x21, 0x01, 0x02, 0x03,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};

	memset(f, 0, sizeof(*f));
	put_bytes(f, macs, sizeof(macs));
}

/* A VLAN tag: its TPID where an ethertype would be, then the TCI. */
static inline void
vlan(struct frame *f, uint16_t tpid, uint8_t pcp, uint16_t vid)
{
	put16(f, tpid);
	put16(f, (uint16_t)(pcp << 13 | vid));
}

static inline void
ethertype(struct frame *f, uint16_t type)
{
	put16(f, type);
}

/* One MPLS label stack entry (RFC 3032). */
static inline void
mpls(struct frame *f, uint32_t label, uint8_t tc, int bottom, uint8_t ttl)
{
	put32(f, label << 12 | (uint32_t)(tc & 7) << 9 | (bottom ? 1u : 0u) << 8 | ttl);
}

/* IPv4 header with options_len bytes of options (multiple of 4; NOPs ending in EOL).
 * frag: the flags and fragment offset field (offset in 8-byte units). */
static inline void
ipv4(struct frame *f, uint8_t proto, uint8_t tos, uint8_t ttl, uint32_t options_len,
		uint16_t frag)
{
	f->ip_off = f->len;
	f->ip_hdr_len = 20 + options_len;
	f->ip_version = 4;
	put8(f, (uint8_t)(0x40 | f->ip_hdr_len / 4));
	put8(f, tos);
	put16(f, 0);            /* total length: ip_end */
	put16(f, 0x1234);       /* identification */
	put16(f, frag);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);            /* checksum: the parser does not look at it */
	put_bytes(f, v4_src, 4);
	put_bytes(f, v4_dst, 4);
	for (uint32_t i = 0; i < options_len; i++)
		put8(f, i + 1 == options_len ? 0 : 1);
}

static inline void
ipv4_set_id(struct frame *f, uint16_t id)
{
	set16(f, f->ip_off + 4, id);
}

static inline void
ipv6(struct frame *f, uint8_t next, uint8_t tclass, uint8_t hop_limit)
{
	f->ip_off = f->len;
	f->ip_hdr_len = 40;
	f->ip_version = 6;
	put8(f, (uint8_t)(0x60 | tclass >> 4));
	put8(f, (uint8_t)(tclass << 4 | 0x0a)); /* flow label 0xabcde */
	put16(f, 0xbcde);
	put16(f, 0);            /* payload length: ip_end */
	put8(f, next);
	put8(f, hop_limit);
	put_bytes(f, v6_src, 16);
	put_bytes(f, v6_dst, 16);
}

/* Hop-by-hop, routing or destination options header of (units + 1) * 8 bytes. */
static inline void
ipv6_opts(struct frame *f, uint8_t next, uint8_t units)
{
	uint32_t n = ((uint32_t)units + 1) * 8;

	put8(f, next);
	put8(f, units);
	/* One PadN option covering the rest. */
	put8(f, 1);
	put8(f, (uint8_t)(n - 4));
	for (uint32_t i = 4; i < n; i++)
		put8(f, 0);
}

/* Authentication header (RFC 4302) with icv_words 4-byte words of ICV. */
static inline void
ipv6_ah(struct frame *f, uint8_t next, uint8_t icv_words)
{
	put8(f, next);
	put8(f, (uint8_t)(icv_words + 1)); /* (12 + 4 * icv_words) / 4 - 2 */
	put16(f, 0);
	put32(f, 0x1000);       /* SPI */
	put32(f, 7);            /* sequence number */
	for (uint32_t i = 0; i < icv_words; i++)
		put32(f, 0xa5a5a5a5);
}

/* Fragment header; offset in 8-byte units. */
static inline void
ipv6_frag_id(struct frame *f, uint8_t next, uint16_t offset, int more, uint32_t id)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	put32(f, id);
}

static inline void
ipv6_frag(struct frame *f, uint8_t next, uint16_t offset, int more)
{
	ipv6_frag_id(f, next, offset, more, 0xdeadbeef);
}

static inline void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x01020304);   /* sequence number */
	put32(f, 0);            /* acknowledgement number */
	put8(f, 5 << 4);        /* data offset: 20 bytes */
	put8(f, flags);
	put16(f, 65535);        /* window */
	put16(f, 0);            /* checksum */
	put16(f, 0);            /* urgent pointer */
}

/* UDP header announcing payload bytes after it. */
static inline void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
}

/* SCTP common header (RFC 9260): ports, verification tag, checksum. */
static inline void
sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x11223344);
	put32(f, 0);
}

/* ICMP and ICMPv6 share the layout: type, code, checksum, 4 bytes of rest. */
static inline void
icmp(struct frame *f, uint8_t type, uint8_t code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, 0x0001);       /* echo identifier */
	put16(f, 0x0002);       /* echo sequence */
}

/* GRE header with the optional fields its flag word announces (zero-filled). */
static inline void
gre(struct frame *f, uint16_t flags, uint16_t proto)
{
	uint32_t extra = 0;

	put16(f, flags);
	put16(f, proto);
	if ((flags & 7) == 1) {
		extra = 4 + (flags & 0x1000 ? 4 : 0) + (flags & 0x0080 ? 4 : 0);
	} else {
		extra = (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) +
				(flags & 0x1000 ? 4 : 0);
	}
	for (uint32_t i = 0; i < extra; i++)
		put8(f, (uint8_t)i);
}

/* VXLAN header (RFC 7348) with the valid-VNI flag, then the inner frame. */
static inline void
vxlan(struct frame *f, uint32_t vni, const struct frame *inner)
{
	put32(f, 0x08000000);
	put32(f, vni << 8);
	put_bytes(f, inner->b, inner->len);
}

static inline void
payload(struct frame *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(f, (uint8_t)(0xa0 + i));
}

/* Ends the IP packet here: fills in its length field. */
static inline void
ip_end(struct frame *f)
{
	if (f->ip_version == 4)
		set16(f, f->ip_off + 2, (uint16_t)(f->len - f->ip_off));
	else
		set16(f, f->ip_off + 4, (uint16_t)(f->len - f->ip_off - 40));
}

/* Ethernet padding up to the 60-byte minimum frame (without FCS). */
static inline void
eth_pad(struct frame *f)
{
	while (f->len < 60)
		put8(f, 0);
}

#endif
