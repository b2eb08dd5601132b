/* AF_XDP socket counters for ports of DPDK's net_af_xdp. The PMD's imissed is the
 * kernel's rx_dropped alone; frames dropped because the socket's rx ring was full
 * (rx_ring_full, the usual way a slow consumer loses them) it reports nowhere. The PMD
 * keeps its sockets private, so they are found as the descriptors a queue setup added. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_xdp.h>

#include "dpfix_xsk.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

static int
is_xdp_socket(int fd)
{
	struct stat st;
	int domain;
	socklen_t len = sizeof(domain);

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_XDP;
}

void
dpfix_xsk_list(struct dpfix_xsk_set *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	set->count = 0;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && set->count < DPFIX_XSK_MAX_FDS) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (e->d_name[0] == '.' || *end != '\0' || fd == dirfd(d))
			continue;
		if (is_xdp_socket((int)fd))
			set->fds[set->count++] = (int)fd;
	}
	closedir(d);
}

void
dpfix_xsk_new(const struct dpfix_xsk_set *before, const struct dpfix_xsk_set *after,
		struct dpfix_xsk_set *opened)
{
	opened->count = 0;
	for (unsigned int i = 0; i < after->count; i++) {
		unsigned int j = 0;

		while (j < before->count && before->fds[j] != after->fds[i])
			j++;
		if (j == before->count)
			opened->fds[opened->count++] = after->fds[i];
	}
}

unsigned int
dpfix_xsk_drops_add(const struct dpfix_xsk_set *set, struct dpfix_xsk_drops *drops)
{
	unsigned int read = 0;

	for (unsigned int i = 0; i < set->count; i++) {
		struct xdp_statistics s;
		socklen_t len = sizeof(s);

		memset(&s, 0, sizeof(s));
		if (getsockopt(set->fds[i], SOL_XDP, XDP_STATISTICS, &s, &len) != 0)
			continue;
		drops->rx_dropped += s.rx_dropped;
		drops->rx_invalid_descs += s.rx_invalid_descs;
		/* A kernel before 5.9 adds ring-full drops into rx_dropped instead. */
		if (len >= sizeof(s))
			drops->rx_ring_full += s.rx_ring_full;
		read++;
	}
	return read;
}
