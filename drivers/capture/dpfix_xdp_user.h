/* The probe's side of dpfix's XDP program: puts it on net_af_xdp ports by default,
 * finds it on an interface once DPDK has attached it, gives it the rules and reads its
 * counters (libbpf). */
#ifndef DPFIX_XDP_USER_H
#define DPFIX_XDP_USER_H

#include <stddef.h>

#include "dpfix_xdp.h"

/* argv with ",xdp_prog=OBJECT" added to every net_af_xdp --vdev that names no program
 * of its own (a new array; argv itself is left alone). OBJECT is the installed object
 * when this program runs from its installed path, else the build tree's. */
char **dpfix_xdp_default_program(int argc, char **argv);
const char *dpfix_xdp_object_path(void);
/* Frees what dpfix_xdp_default_program made, once EAL is done with it (rte_eal_cleanup). */
void dpfix_xdp_default_program_free(void);

/* Parses an xdp_pass value: ADDRESS, ADDRESS:PROTOCOL or ADDRESS:PROTOCOL:PORT, IPv6
 * addresses in brackets ([2001:db8::1]:tcp:22); PROTOCOL tcp, udp, sctp, icmp, icmpv6
 * or a number. Returns 0 or -EINVAL with err filled in. */
int dpfix_xdp_rule_parse(const char *text, struct dpfix_xdp_rule *rule, char *err, size_t errlen);

struct dpfix_xdp {
	int ifindex;
	unsigned int prog_id;
	char prog_name[16];
	int counters_fd, rules_fd, hosts_fd, config_fd;
	unsigned int nb_cpus;
};

/* Opens the maps of the XDP program attached to ifindex. -ENOENT: no program;
 * -EMEDIUMTYPE: a program that is not dpfix's (err names it). */
int dpfix_xdp_open(int ifindex, struct dpfix_xdp *x, char *err, size_t errlen);
int dpfix_xdp_add_rule(struct dpfix_xdp *x, const struct dpfix_xdp_rule *rule);
/* From now on the program redirects what no rule keeps. */
int dpfix_xdp_arm(struct dpfix_xdp *x);
/* Queue q's counters, summed over the CPUs. */
int dpfix_xdp_read(const struct dpfix_xdp *x, unsigned int queue, struct dpfix_xdp_counters *c);
void dpfix_xdp_close(struct dpfix_xdp *x);

#endif
