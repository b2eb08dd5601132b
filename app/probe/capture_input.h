/* Capture files read through net_pcap (--vdev net_pcapN,rx_pcap=FILE[,infinite_rx=1]):
 * what the probe must know of them that the PMD does not tell it. */
#ifndef CAPTURE_INPUT_H
#define CAPTURE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_config.h>

#define CAPTURE_MAX_QUEUES 16   /* net_pcap's most rx_pcap files per port */

struct capture_input {
	unsigned int files;             /* rx_pcap files, each one receive queue */
	unsigned int ports_read_once;   /* net_pcap ports reading files without infinite_rx */
	uint64_t infinite_frames;       /* frames held in mbufs by infinite_rx queues */
	/* Snapshot length of the file each port's queue reads, 0 where the queue is no
	 * file: a frame of that many captured bytes may have been cut (net_pcap gives
	 * the captured bytes, not the frame's length on the wire). */
	uint32_t snaplen[RTE_MAX_ETHPORTS][CAPTURE_MAX_QUEUES];
};

/* Reads EAL's part of argv for net_pcap capture files and each file's header (and,
 * with infinite_rx, its frames). Call after rte_eal_init, which has made the ports.
 * Returns 0, or -EINVAL with err set when a file cannot be read or cannot be held
 * by infinite_rx. */
int capture_input_scan(int argc, char **argv, struct capture_input *in, char *err, size_t errlen);

/* Nonzero when every port reads capture files once: input then has an end. */
int capture_input_is_finite(const struct capture_input *in);

/* infinite_rx copies every frame of its file into an mbuf at queue setup, and net_pcap
 * (DPDK 22.11) frees its ring twice when that fails (a crash on exit). Refuses, with
 * the mbuf_count needed, a pool that cannot hold those frames and leave each worker
 * room to receive. */
int capture_input_check_mbufs(const struct capture_input *in, uint32_t mbuf_count,
		unsigned int nb_workers, char *err, size_t errlen);

#endif
