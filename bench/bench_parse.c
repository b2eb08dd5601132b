/* Parser cost per packet: parses every packet of a pcap file, held in memory, a number
 * of rounds. Run under `valgrind --tool=callgrind` to compare instruction counts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpfix_parse.h"

#define MAX_PACKETS 100000

struct packet {
	const uint8_t *data;
	uint32_t len;
};

/* Reads a classic pcap file (either byte order, micro- or nanosecond) into memory. */
static int
load_pcap(const char *path, uint8_t **storage, struct packet *pkts, uint32_t *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[24], rec[16];
	size_t cap = 1 << 20, used = 0;
	int swap;
	uint32_t magic, n = 0;

	if (f == NULL)
		return -errno;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr)) {
		fclose(f);
		return -EINVAL;
	}
	memcpy(&magic, hdr, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = 1;
	else {
		fclose(f);
		return -EINVAL;
	}
	*storage = malloc(cap);
	while (*storage != NULL && n < MAX_PACKETS && fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t caplen;

		memcpy(&caplen, rec + 8, 4);
		if (swap)
			caplen = __builtin_bswap32(caplen);
		if (caplen > 65535)
			break;
		if (used + caplen > cap) {
			cap *= 2;
			*storage = realloc(*storage, cap);
			if (*storage == NULL)
				break;
		}
		if (fread(*storage + used, 1, caplen, f) != caplen)
			break;
		pkts[n].data = (const uint8_t *)(uintptr_t)used; /* offset until storage settles */
		pkts[n].len = caplen;
		used += caplen;
		n++;
	}
	fclose(f);
	if (*storage == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		pkts[i].data = *storage + (uintptr_t)pkts[i].data;
	*count = n;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct packet pkts[MAX_PACKETS];
	struct dpfix_packet_info info;
	const struct dpfix_parse_config cfg = {.vxlan_port = DPFIX_VXLAN_PORT};
	uint64_t results[DPFIX_PARSE_RESULT_COUNT] = {0}, sink = 0;
	uint8_t *storage = NULL;
	uint32_t count = 0, rounds;
	struct timespec t0, t1;
	double ns;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_parse FILE.pcap ROUNDS (0: print each packet's result)\n");
		return 1;
	}
	if (load_pcap(argv[1], &storage, pkts, &count) != 0 || count == 0) {
		fprintf(stderr, "bench_parse: cannot read packets from %s\n", argv[1]);
		return 1;
	}
	rounds = (uint32_t)strtoul(argv[2], NULL, 10);
	if (rounds == 0) {
		/* Round 0: list each packet's result instead (for looking into a capture). */
		for (uint32_t i = 0; i < count; i++)
			printf("%u %s\n", i + 1, dpfix_parse_result_name(dpfix_parse_ethernet(&cfg,
					pkts[i].data, pkts[i].len, pkts[i].len, 0, &info)));
		free(storage);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t r = 0; r < rounds; r++) {
		for (uint32_t i = 0; i < count; i++) {
			enum dpfix_parse_result res = dpfix_parse_ethernet(&cfg, pkts[i].data,
					pkts[i].len, pkts[i].len, 0, &info);

			results[res]++;
			sink += info.key.src_port + info.ip_octets;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("{\"file\":\"%s\",\"packets\":%" PRIu32 ",\"rounds\":%" PRIu32 ",\"ok\":%" PRIu64
			",\"ns_per_packet\":%.2f,\"sink\":%" PRIu64 "}\n", argv[1], count, rounds,
			results[DPFIX_PARSE_OK], ns / ((double)count * rounds), sink);
	free(storage);
	return 0;
}
