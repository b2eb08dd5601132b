/* dpfix's XDP program for net_af_xdp: frames go to the probe's AF_XDP socket of their
 * receive queue, except those the config leaves to the kernel (the probe's own export
 * and management traffic: xdp_pass rules), counted per queue and action. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dpfix_xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, DPFIX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DPFIX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct dpfix_xdp_counters);
} dpfix_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DPFIX_XDP_MAX_RULES);
	__type(key, struct dpfix_xdp_rule);
	__type(value, __u32);
} dpfix_pass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DPFIX_XDP_MAX_RULES);
	__type(key, struct dpfix_xdp_host);
	__type(value, __u32);
} dpfix_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dpfix_xdp_config);
} dpfix_config SEC(".maps");

/* ARP for IPv4 over Ethernet (linux/if_arp.h would pull in the C library). */
struct arp_head {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
};

struct arp_ipv4 {
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline int
host_known(__u8 family, const void *addr, int len)
{
	struct dpfix_xdp_host h = {.family = family};

	__builtin_memcpy(h.addr, addr, 16);
	if (len == 4)
		__builtin_memset(h.addr + 4, 0, 12);
	return bpf_map_lookup_elem(&dpfix_hosts, &h) != NULL;
}

/* The destination alone, then with the protocol and each port. */
static __always_inline int
rule_matches(struct dpfix_xdp_rule *k, __u8 protocol, __u16 sport, __u16 dport)
{
	if (bpf_map_lookup_elem(&dpfix_pass, k))
		return 1;
	if (protocol == 0)
		return 0;
	k->protocol = protocol;
	k->port = 0;
	if (bpf_map_lookup_elem(&dpfix_pass, k))
		return 1;
	if (sport == 0 && dport == 0)
		return 0;
	k->port = dport;
	if (bpf_map_lookup_elem(&dpfix_pass, k))
		return 1;
	k->port = sport;
	return bpf_map_lookup_elem(&dpfix_pass, k) != NULL;
}

static __always_inline void
l4_ports(void *l4, void *end, __u8 protocol, __u16 *sport, __u16 *dport)
{
	__u16 *p = l4;

	if ((protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP) &&
			(void *)(p + 2) <= end) {
		*sport = p[0];
		*dport = p[1];
	}
}

/* Whether the frame is for the kernel: ARP/ND about a rule's address, or IP matching a
 * rule. Up to two VLAN tags; IPv6 extension headers are not followed (such a packet
 * matches by address alone). */
static __always_inline int
for_kernel(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3;
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return 0;
	proto = eth->h_proto;
	l3 = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (l3 + 4 > end)
			return 0;
		proto = *(__u16 *)(l3 + 2);
		l3 += 4;
	}
	if (proto == bpf_htons(ETH_P_ARP)) {
		struct arp_head *arp = l3;
		struct arp_ipv4 *body = (void *)(arp + 1);

		if ((void *)(body + 1) > end || arp->ar_pro != bpf_htons(ETH_P_IP))
			return 0;
		return host_known(4, body->tpa, 4);
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		struct dpfix_xdp_rule k = {.family = 4};
		__u16 sport = 0, dport = 0;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		__builtin_memcpy(k.addr, &ip->daddr, 4);
		if ((ip->frag_off & bpf_htons(0x1fff)) == 0)
			l4_ports(l3 + ip->ihl * 4, end, ip->protocol, &sport, &dport);
		return rule_matches(&k, ip->protocol, sport, dport);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		struct dpfix_xdp_rule k = {.family = 6};
		__u16 sport = 0, dport = 0;

		if ((void *)(ip6 + 1) > end)
			return 0;
		if (ip6->nexthdr == IPPROTO_ICMPV6) {
			/* Neighbour solicitation/advertisement: about the target address. */
			struct icmp6hdr *icmp = (void *)(ip6 + 1);
			__u8 *target = (__u8 *)(icmp + 1);

			if ((void *)(target + 16) <= end &&
					(icmp->icmp6_type == 135 || icmp->icmp6_type == 136) &&
					host_known(6, target, 16))
				return 1;
		}
		__builtin_memcpy(k.addr, &ip6->daddr, 16);
		l4_ports(ip6 + 1, end, ip6->nexthdr, &sport, &dport);
		return rule_matches(&k, ip6->nexthdr, sport, dport);
	}
	return 0;
}

SEC("xdp")
int
dpfix_xdp_capture(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index, zero = 0;
	struct dpfix_xdp_counters *c = bpf_map_lookup_elem(&dpfix_counters, &queue);
	struct dpfix_xdp_config *cfg = bpf_map_lookup_elem(&dpfix_config, &zero);
	long action;

	if (c == NULL) /* a queue beyond DPFIX_XDP_MAX_QUEUES: the probe has none there */
		return XDP_PASS;
	if (cfg == NULL || !cfg->armed) {
		c->kernel_unarmed++;
		return XDP_PASS;
	}
	if (for_kernel(ctx)) {
		c->kernel_rule++;
		return XDP_PASS;
	}
	action = bpf_redirect_map(&xsks_map, queue, XDP_PASS);
	if (action == XDP_REDIRECT)
		c->redirected++;
	else
		c->kernel_no_socket++;
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
