/* What dpfix's XDP program (dpfix_xdp.bpf.c) and the probe share: its maps' names and
 * the layout of their keys and values. Plain C types: included by both sides. */
#ifndef DPFIX_XDP_H
#define DPFIX_XDP_H

#include <linux/types.h>

#define DPFIX_XDP_MAX_QUEUES 64
#define DPFIX_XDP_MAX_RULES 256

/* Map names (the kernel keeps 15 characters). DPDK's net_af_xdp fills xsks_map. */
#define DPFIX_XDP_MAP_SOCKETS "xsks_map"
#define DPFIX_XDP_MAP_COUNTERS "dpfix_counters"
#define DPFIX_XDP_MAP_RULES "dpfix_pass"
#define DPFIX_XDP_MAP_HOSTS "dpfix_hosts"
#define DPFIX_XDP_MAP_CONFIG "dpfix_config"
/* The program's name starts so: the probe checks that the attached program is its own. */
#define DPFIX_XDP_PROGRAM_PREFIX "dpfix"

/* What the program did with the frames of one receive queue (per CPU; summed by the
 * probe). Every frame is counted once. */
#define DPFIX_XDP_ACTIONS(X) \
	X(redirected, "to the probe's AF_XDP socket of the queue: captured") \
	X(kernel_rule, "to the kernel: matched an xdp_pass rule (or ARP/ND for its address)") \
	X(kernel_no_socket, "to the kernel: the probe has no socket on this queue") \
	X(kernel_unarmed, "to the kernel: the probe had not yet given the program its rules")

struct dpfix_xdp_counters {
#define DPFIX_XDP_ACTION_FIELD(name, text) __u64 name;
	DPFIX_XDP_ACTIONS(DPFIX_XDP_ACTION_FIELD)
#undef DPFIX_XDP_ACTION_FIELD
};

/* A frame stays with the kernel when its destination address, protocol and either
 * port match a rule (protocol 0 and port 0: any). Addresses are in network order, IPv4
 * in the first 4 bytes of addr with the rest zero. */
struct dpfix_xdp_rule {
	__u8 family;            /* 4 or 6 */
	__u8 protocol;          /* IPPROTO_*, 0: any */
	__u16 port;             /* network order, 0: any (protocol must then be 0 too) */
	__u8 addr[16];
};

/* dpfix_hosts key: the addresses of the rules, whose ARP and neighbour discovery also
 * go to the kernel (else the host could not be reached at all). */
struct dpfix_xdp_host {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

struct dpfix_xdp_config {
	__u32 armed;            /* 0 until the probe has loaded the rules: all to the kernel */
};

#endif
