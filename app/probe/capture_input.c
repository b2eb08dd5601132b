/* Capture files read through net_pcap: which ports and queues read which file, each
 * file's snapshot length, and whether infinite_rx can hold its frames. EAL does not
 * expose a vdev's arguments, so they are read from argv as EAL took them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "capture_input.h"

/* Mbufs a worker may hold besides the frames of infinite_rx: a receive burst and
 * what its lcore's mempool cache (256, flushed above 1.5 times that) keeps. */
#define MBUFS_PER_WORKER 512

/* The value of key=VALUE in devargs (comma-separated) at or after *pos, copied to
 * out; *pos moves past it. Returns 0 when there is no further one. */
static int
next_arg(const char *devargs, size_t *pos, const char *key, char *out, size_t outlen)
{
	size_t keylen = strlen(key);
	const char *p = devargs + *pos;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > keylen && strncmp(p, key, keylen) == 0 && p[keylen] == '=') {
			snprintf(out, outlen, "%.*s", (int)(len - keylen - 1), p + keylen + 1);
			*pos = (size_t)(p - devargs) + len;
			return 1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*pos = (size_t)(p - devargs);
	return 0;
}

/* Reads one rx_pcap file: its snapshot length, and for infinite_rx its frames, each
 * of which must fit one mbuf (net_pcap refuses chained mbufs there). */
static int
scan_file(const char *file, int infinite, uint32_t *snaplen, uint64_t *frames, char *err,
		size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(file, pcap_err);
	int ret;

	if (p == NULL) {
		snprintf(err, errlen, "rx_pcap %s: %s", file, pcap_err);
		return -EINVAL;
	}
	*snaplen = (uint32_t)pcap_snapshot(p);
	*frames = 0;
	while (infinite && (ret = pcap_next_ex(p, &h, &data)) == 1) {
		++*frames;
		if (h->caplen > RTE_MBUF_DEFAULT_DATAROOM) {
			snprintf(err, errlen, "rx_pcap %s: frame %" PRIu64 " has %u bytes; infinite_rx "
					"holds each frame in one mbuf of %u bytes", file, *frames, h->caplen,
					RTE_MBUF_DEFAULT_DATAROOM);
			pcap_close(p);
			return -EINVAL;
		}
	}
	pcap_close(p);
	return 0;
}

static int
scan_vdev(const char *devargs, struct capture_input *in, char *err, size_t errlen)
{
	char name[RTE_ETH_NAME_MAX_LEN], file[4096], value[16];
	size_t pos = 0;
	uint16_t port;
	unsigned int queue = 0;
	int infinite;

	if (strncmp(devargs, "net_pcap", 8) != 0)
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(devargs, ","), devargs);
	if (rte_eth_dev_get_port_by_name(name, &port) != 0)
		return 0;
	infinite = next_arg(devargs, &pos, "infinite_rx", value, sizeof(value)) &&
			atoi(value) > 0;
	pos = 0;
	while (next_arg(devargs, &pos, "rx_pcap", file, sizeof(file))) {
		uint64_t frames;
		int ret;

		if (queue == CAPTURE_MAX_QUEUES)
			break;
		ret = scan_file(file, infinite, &in->snaplen[port][queue++], &frames, err, errlen);
		if (ret != 0)
			return ret;
		in->files++;
		in->infinite_frames += frames;
	}
	if (queue > 0 && !infinite)
		in->ports_read_once++;
	return 0;
}

int
capture_input_scan(int argc, char **argv, struct capture_input *in, char *err, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *v = NULL;
		int ret;

		if (strcmp(argv[i], "--vdev") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--vdev=", 7) == 0)
			v = argv[i] + 7;
		if (v == NULL)
			continue;
		ret = scan_vdev(v, in, err, errlen);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int
capture_input_is_finite(const struct capture_input *in)
{
	return in->ports_read_once > 0 && in->ports_read_once == rte_eth_dev_count_avail();
}

int
capture_input_check_mbufs(const struct capture_input *in, uint32_t mbuf_count,
		unsigned int nb_workers, char *err, size_t errlen)
{
	uint64_t needed = in->infinite_frames + (uint64_t)nb_workers * MBUFS_PER_WORKER;

	if (in->infinite_frames == 0 || needed <= mbuf_count)
		return 0;
	snprintf(err, errlen, "infinite_rx holds every frame of its capture in an mbuf: %" PRIu64
			" frames, and %u to receive with %u worker(s), need mbuf_count %" PRIu64
			" or more (it is %u)", in->infinite_frames, nb_workers * MBUFS_PER_WORKER,
			nb_workers, needed, mbuf_count);
	return -EINVAL;
}
