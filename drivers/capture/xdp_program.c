/* Finds dpfix's XDP program where DPDK's net_af_xdp attached it (the PMD keeps the
 * bpf_object to itself), through the interface's attached program id and that
 * program's maps, by name; loads the rules and reads the per-queue counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "dpfix_xdp_user.h"

static int
map_by_name(const unsigned int *ids, unsigned int n, const char *name)
{
	for (unsigned int i = 0; i < n; i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, name) == 0)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int
dpfix_xdp_open(int ifindex, struct dpfix_xdp *x, char *err, size_t errlen)
{
	struct bpf_prog_info info;
	unsigned int map_ids[16];
	__u32 len = sizeof(info), prog_id = 0;
	int prog_fd, ret;

	memset(x, 0, sizeof(*x));
	x->counters_fd = x->rules_fd = x->hosts_fd = x->config_fd = -1;
	x->ifindex = ifindex;
	ret = bpf_xdp_query_id(ifindex, 0, &prog_id);
	if (ret != 0 || prog_id == 0) {
		snprintf(err, errlen, "no XDP program on interface %d", ifindex);
		return -ENOENT;
	}
	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0) {
		snprintf(err, errlen, "XDP program %u: %s", prog_id, strerror(errno));
		return -errno;
	}
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)map_ids;
	ret = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	close(prog_fd);
	if (ret != 0) {
		snprintf(err, errlen, "XDP program %u: %s", prog_id, strerror(errno));
		return -errno;
	}
	x->prog_id = prog_id;
	memcpy(x->prog_name, info.name, sizeof(x->prog_name));
	x->prog_name[sizeof(x->prog_name) - 1] = '\0';
	if (strncmp(info.name, DPFIX_XDP_PROGRAM_PREFIX, strlen(DPFIX_XDP_PROGRAM_PREFIX)) != 0) {
		snprintf(err, errlen, "the XDP program on interface %d is %s (id %u), not dpfix's",
				ifindex, info.name, prog_id);
		return -EMEDIUMTYPE;
	}
	if (info.nr_map_ids > 16)
		info.nr_map_ids = 16;
	x->counters_fd = map_by_name(map_ids, info.nr_map_ids, DPFIX_XDP_MAP_COUNTERS);
	x->rules_fd = map_by_name(map_ids, info.nr_map_ids, DPFIX_XDP_MAP_RULES);
	x->hosts_fd = map_by_name(map_ids, info.nr_map_ids, DPFIX_XDP_MAP_HOSTS);
	x->config_fd = map_by_name(map_ids, info.nr_map_ids, DPFIX_XDP_MAP_CONFIG);
	if (x->counters_fd < 0 || x->rules_fd < 0 || x->hosts_fd < 0 || x->config_fd < 0) {
		snprintf(err, errlen, "XDP program %s (id %u) lacks dpfix's maps", x->prog_name, prog_id);
		dpfix_xdp_close(x);
		return -EMEDIUMTYPE;
	}
	ret = libbpf_num_possible_cpus();
	x->nb_cpus = ret > 0 ? (unsigned int)ret : 1;
	return 0;
}

int
dpfix_xdp_add_rule(struct dpfix_xdp *x, const struct dpfix_xdp_rule *rule)
{
	struct dpfix_xdp_host host = {.family = rule->family};
	__u32 one = 1;

	memcpy(host.addr, rule->addr, sizeof(host.addr));
	if (bpf_map_update_elem(x->rules_fd, rule, &one, BPF_ANY) != 0 ||
			bpf_map_update_elem(x->hosts_fd, &host, &one, BPF_ANY) != 0)
		return -errno;
	return 0;
}

int
dpfix_xdp_arm(struct dpfix_xdp *x)
{
	struct dpfix_xdp_config cfg = {.armed = 1};
	__u32 zero = 0;

	return bpf_map_update_elem(x->config_fd, &zero, &cfg, BPF_ANY) == 0 ? 0 : -errno;
}

int
dpfix_xdp_read(const struct dpfix_xdp *x, unsigned int queue, struct dpfix_xdp_counters *c)
{
	struct dpfix_xdp_counters per_cpu[x->nb_cpus];
	__u32 key = queue;

	memset(c, 0, sizeof(*c));
	if (bpf_map_lookup_elem(x->counters_fd, &key, per_cpu) != 0)
		return -errno;
	for (unsigned int i = 0; i < x->nb_cpus; i++) {
#define SUM(name, text) c->name += per_cpu[i].name;
		DPFIX_XDP_ACTIONS(SUM)
#undef SUM
	}
	return 0;
}

void
dpfix_xdp_close(struct dpfix_xdp *x)
{
	int *fds[] = {&x->counters_fd, &x->rules_fd, &x->hosts_fd, &x->config_fd};

	for (unsigned int i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
