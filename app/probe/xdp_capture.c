/* net_af_xdp ports with dpfix's XDP program (the default: main.c adds xdp_prog= to their
 * --vdev): once DPDK has attached it and bound the sockets, the probe gives it the
 * xdp_pass rules and arms it (until then it leaves every frame to the kernel), and its
 * counters join the port's. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpfix_xdp_user.h"
#include "port_stats.h"
#include "probe_log.h"
#include "xdp_capture.h"

/* An interface whose RSS spreads frames over more queues than the probe reads loses
 * the others' to the kernel (counted in rx_missed); said at start, with the fix. */
static void
warn_unread_queues(uint16_t port, const char *dev, unsigned int ifindex, unsigned int read)
{
	char ifname[IF_NAMESIZE], path[PATH_MAX];
	unsigned int queues = 0;
	DIR *d;
	struct dirent *e;

	if (if_indextoname(ifindex, ifname) == NULL)
		return;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		queues += strncmp(e->d_name, "rx-", 3) == 0;
	closedir(d);
	if (queues > read)
		PROBE_LOG(WARNING, "port %u (%s): warning: %s has %u receive queues and the probe "
				"reads %u: frames on the others go to the kernel, uncaptured (rx_missed); "
				"give queue_count=%u or narrow the NIC's RSS (ethtool -L %s combined %u)",
				port, dev, ifname, queues, read, queues, ifname, read);
}

static int
setup_port(const struct probe_settings *s, uint16_t port, const struct rte_eth_dev_info *info)
{
	struct dpfix_xdp x;
	char err[256], dev[RTE_ETH_NAME_MAX_LEN] = "";
	uint16_t nb_queues;
	int ret;

	rte_eth_dev_get_name_by_port(port, dev);
	ret = dpfix_xdp_open((int)info->if_index, &x, err, sizeof(err));
	if (ret != 0) {
		/* Another program (the PMD's default, or one named with xdp_prog=) captures
		 * everything: without dpfix's, rules cannot be applied. */
		if (s->nb_xdp_pass > 0) {
			PROBE_LOG(ERR, "port %u (%s): %s; xdp_pass needs dpfix's XDP "
					"program (leave xdp_prog= out of the --vdev)", port, dev, err);
			return -EINVAL;
		}
		PROBE_LOG(NOTICE, "port %u (%s): %s: no XDP counters", port, dev, err);
		return 0;
	}
	for (unsigned int i = 0; i < s->nb_xdp_pass; i++) {
		ret = dpfix_xdp_add_rule(&x, &s->xdp_pass[i]);
		if (ret != 0) {
			PROBE_LOG(ERR, "port %u (%s): cannot load xdp_pass rule %u: %s",
					port, dev, i + 1, strerror(-ret));
			dpfix_xdp_close(&x);
			return ret;
		}
	}
	ret = dpfix_xdp_arm(&x);
	if (ret != 0) {
		PROBE_LOG(ERR, "port %u (%s): cannot arm the XDP program: %s", port,
				dev, strerror(-ret));
		dpfix_xdp_close(&x);
		return ret;
	}
	nb_queues = RTE_MIN(info->nb_rx_queues, DPFIX_XDP_MAX_QUEUES);
	warn_unread_queues(port, dev, info->if_index, nb_queues);
	port_stats_attach_xdp(port, &x, nb_queues);
	printf("dpfix-probe: port %u (%s): XDP program %s (id %u) on interface %u, %u queue(s), "
			"%u rule(s) keep frames for the kernel\n", port, dev, x.prog_name, x.prog_id,
			info->if_index, nb_queues, s->nb_xdp_pass);
	return 0;
}

int
xdp_capture_setup(const struct probe_settings *s)
{
	uint16_t port;
	int used = 0;

	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		int ret;

		if (rte_eth_dev_info_get(port, &info) != 0 || strcmp(info.driver_name, "net_af_xdp") != 0)
			continue;
		used = 1;
		ret = setup_port(s, port, &info);
		if (ret != 0)
			return ret;
	}
	if (s->nb_xdp_pass > 0 && !used) {
		PROBE_LOG(ERR, "xdp_pass is set but no port is net_af_xdp");
		return -EINVAL;
	}
	return 0;
}
