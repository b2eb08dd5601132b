/* Unit tests for lib/sample: selector text and its errors; systematic selection
 * exactly; random n-out-of-N exactly n per block, uniform over positions within a
 * binomial bound at 1e-6 false-failure probability, reproducible from its seed; BOB
 * against reference values; hash-based selection over the documented fields, blind
 * to what routers change, the same in two independent instances (trajectory
 * consistency), and selecting its fraction within a binomial bound. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_parse.h"
#include "dpfix_sample.h"
#include "frame_build.h"
#include "unit_test.h"

/* Probability that a correct selector fails one statistical check. */
#define FALSE_FAILURE 1e-6

static const struct dpfix_parse_config parse_cfg = {.vxlan_port = DPFIX_VXLAN_PORT};

static struct dpfix_sample_params
params_of(const char *text)
{
	struct dpfix_sample_params p;
	char err[256];

	memset(&p, 0, sizeof(p));
	if (dpfix_sample_parse(text, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "  %s: %s\n", text, err);
		CHECK(!"a valid selector was refused");
	}
	return p;
}

/* ---- binomial bounds ---- */

static double
binomial_pmf(uint64_t n, uint64_t k, double p)
{
	return exp(lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
			(double)k * log(p) + (double)(n - k) * log1p(-p));
}

/* The acceptance interval [lo, hi] for X ~ Binomial(n, p): P(X < lo) <= delta/2 and
 * P(X > hi) <= delta/2, from the exact distribution (summed from each end). */
static void
binomial_interval(uint64_t n, double p, double delta, uint64_t *lo, uint64_t *hi)
{
	double tail = 0;
	uint64_t k;

	for (k = 0; k < n && tail + binomial_pmf(n, k, p) <= delta / 2; k++)
		tail += binomial_pmf(n, k, p);
	*lo = k;
	tail = 0;
	for (k = n; k > 0 && tail + binomial_pmf(n, k, p) <= delta / 2; k--)
		tail += binomial_pmf(n, k, p);
	*hi = k;
}

static int
within_binomial(const char *what, uint64_t x, uint64_t n, double p, double delta)
{
	uint64_t lo, hi;

	if (p >= 1)
		lo = hi = n;
	else
		binomial_interval(n, p, delta, &lo, &hi);
	if (x < lo || x > hi) {
		fprintf(stderr, "  %s: %llu of %llu outside [%llu, %llu] (p %g)\n", what,
				(unsigned long long)x, (unsigned long long)n, (unsigned long long)lo,
				(unsigned long long)hi, p);
		return 0;
	}
	return 1;
}

/* The interval itself is right: for Binomial(100, 0.5) at delta 0.05 it is the
 * textbook [40, 60], and a tighter delta widens it. */
static void
test_binomial_interval(void)
{
	uint64_t lo, hi, lo2, hi2;

	binomial_interval(100, 0.5, 0.05, &lo, &hi);
	CHECK_EQ_U64(lo, 40);
	CHECK_EQ_U64(hi, 60);
	binomial_interval(100, 0.5, FALSE_FAILURE, &lo2, &hi2);
	CHECK(lo2 < lo && hi2 > hi);
	binomial_interval(1000000, 0.01, FALSE_FAILURE, &lo, &hi);
	CHECK(lo > 9400 && lo < 10000 && hi > 10000 && hi < 10600);
}

/* ---- the text form ---- */

static void
test_parse_valid(void)
{
	struct dpfix_sample_params p;

	p = params_of("systematic:1:100");
	CHECK(p.algorithm == DPFIX_SAMPLE_SYSTEMATIC);
	CHECK_EQ_U64(p.size, 1);
	CHECK_EQ_U64(p.population, 100);
	CHECK(!p.seed_given);

	p = params_of("systematic:4294967295:4294967295");
	CHECK_EQ_U64(p.size, UINT32_MAX);

	p = params_of("random:3:7:seed=42");
	CHECK(p.algorithm == DPFIX_SAMPLE_RANDOM);
	CHECK_EQ_U64(p.size, 3);
	CHECK_EQ_U64(p.population, 7);
	CHECK(p.seed_given);
	CHECK_EQ_U64(p.seed, 42);
	p = params_of("random:1:2:seed=0xFFFFffffFFFFffff");
	CHECK_EQ_U64(p.seed, UINT64_MAX);

	/* Hash: the lowest n/N of 2^32 hash values, rounded down. */
	p = params_of("hash:1:100");
	CHECK(p.algorithm == DPFIX_SAMPLE_HASH);
	CHECK_EQ_U64(p.selected_max, 42949671);  /* floor(2^32 / 100) - 1 */
	CHECK_EQ_U64(p.payload_offset, 0);
	CHECK_EQ_U64(p.payload_size, DPFIX_SAMPLE_PAYLOAD_SIZE_DEFAULT);
	CHECK(!p.seed_given);
	p = params_of("hash:1:1");
	CHECK_EQ_U64(p.selected_max, UINT32_MAX);
	p = params_of("hash:1:2:seed=0x5eed:payload_offset=4:payload_size=64");
	CHECK_EQ_U64(p.selected_max, 0x7fffffff);
	CHECK_EQ_U64(p.seed, 0x5eed);
	CHECK_EQ_U64(p.payload_offset, 4);
	CHECK_EQ_U64(p.payload_size, 64);
	p = params_of("hash:3:4294967295:payload_size=0:seed=4294967295");
	CHECK_EQ_U64(p.selected_max, 2);
	CHECK_EQ_U64(p.payload_size, 0);
	CHECK_EQ_U64(p.seed, UINT32_MAX);

	CHECK(strcmp(dpfix_sample_algorithm_name(DPFIX_SAMPLE_HASH), "hash") == 0);
	CHECK_EQ_U64(dpfix_sample_algorithm_iana(DPFIX_SAMPLE_SYSTEMATIC), 1);
	CHECK_EQ_U64(dpfix_sample_algorithm_iana(DPFIX_SAMPLE_RANDOM), 3);
	CHECK_EQ_U64(dpfix_sample_algorithm_iana(DPFIX_SAMPLE_HASH), 6);
}

static void
test_parse_errors(void)
{
	static const struct {
		const char *text;
		const char *message;
	} bad[] = {
		{"", "is not ALGORITHM:n:N"},
		{"systematic", "is not ALGORITHM:n:N"},
		{"systematic:1", "is not ALGORITHM:n:N"},
		{"systematic:1:", "is not ALGORITHM:n:N"},
		{"systematic::1:100", "is not ALGORITHM:n:N"},
		{":systematic:1:100", "is not ALGORITHM:n:N"},
		{"sytematic:1:100", "unknown selector algorithm 'sytematic' (known: systematic, random, hash)"},
		{"Systematic:1:100", "unknown selector algorithm"},
		{"systematic:0:100", "must be whole numbers in 1..4294967295"},
		{"systematic:1:0", "must be whole numbers"},
		{"systematic:-1:100", "must be whole numbers"},
		{"systematic: 1:100", "must be whole numbers"},
		{"systematic:1:4294967296", "must be whole numbers"},
		{"systematic:0x10:100", "must be whole numbers"},
		{"systematic:101:100", "n 101 is more than N 100"},
		{"systematic:1:100:seed=1", "systematic takes no parameters, got 'seed'"},
		{"random:1:100:sed=1", "unknown parameter 'sed' for random (known: seed)"},
		{"random:1:100:seed", "parameter seed needs a value"},
		{"random:1:100:seed=", "seed '' is not a number"},
		{"random:1:100:seed=-1", "seed '-1' is not a number"},
		{"random:1:100:seed=0x", "seed '0x' is not a number"},
		{"random:1:100:seed=0x0x1", "seed '0x0x1' is not a number"},
		{"random:1:100:seed=18446744073709551616", "is not a number"},
		{"random:1:100:seed=1:seed=2", "parameter seed given twice"},
		{"hash:1:100:seed=0x100000000", "below 2^32, BOB's initial value"},
		{"hash:1:100:payload_size=65", "payload_size '65' is not a byte count 0..64"},
		{"hash:1:100:payload_offset=65536", "payload_offset '65536' is not a byte offset"},
		{"hash:1:100:offset=1", "unknown parameter 'offset' for hash (known: seed "
				"payload_offset payload_size)"},
		{"hash:1:100:a:b:c:d:e:f", "too many parts"},
	};
	char err[256];
	struct dpfix_sample_params p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(dpfix_sample_parse(bad[i].text, &p, err, sizeof(err)) == -EINVAL);
		if (strstr(err, bad[i].message) == NULL) {
			fprintf(stderr, "  '%s': got '%s', want '%s'\n", bad[i].text, err,
					bad[i].message);
			CHECK(!"message");
		}
	}
}

static void
test_describe(void)
{
	struct dpfix_sample_params p = params_of("hash:1:100:seed=0x5eed");
	char buf[256];

	dpfix_sample_describe(&p, buf, sizeof(buf));
	CHECK(strstr(buf, "selectorAlgorithm 6") != NULL);
	CHECK(strstr(buf, "hashes 0..42949671 of 0..4294967295") != NULL);
	CHECK(strstr(buf, "initialiser 0x5eed") != NULL);
	p = params_of("systematic:2:10");
	dpfix_sample_describe(&p, buf, sizeof(buf));
	CHECK(strstr(buf, "the first 2 of every 10 packets") != NULL);
}

/* ---- count-based selectors ---- */

/* Systematic: packet i (from 0) is selected exactly when i mod N < n, in bursts of
 * any size, and the counters agree. */
static void
test_systematic_exact(void)
{
	static const uint32_t cases[][2] = {{1, 1}, {1, 100}, {3, 10}, {100, 100}, {7, 13},
		{1, 2}, {64, 65}, {5, 1000}};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char text[64];
		struct dpfix_sample_params p;
		struct dpfix_sample s;
		uint64_t i = 0, selected = 0;
		unsigned int burst = 1;

		snprintf(text, sizeof(text), "systematic:%u:%u", cases[c][0], cases[c][1]);
		p = params_of(text);
		dpfix_sample_init(&s, &p, 0);
		while (i < 100003) {
			uint64_t mask = dpfix_sample_count_burst(&s, burst);

			for (unsigned int b = 0; b < burst; b++, i++) {
				int want = i % p.population < p.size;

				if (((mask >> b) & 1) != (uint64_t)want) {
					fprintf(stderr, "  %s: packet %llu\n", text, (unsigned long long)i);
					CHECK(!"systematic selection");
					return;
				}
				selected += (uint64_t)want;
			}
			burst = burst % 64 + 1; /* 1, 2, ..., 64, 1, ... */
		}
		CHECK_EQ_U64(s.stats.observed, i);
		CHECK_EQ_U64(s.stats.selected, selected);
		CHECK_EQ_U64(selected, i / p.population * p.size +
				(i % p.population < p.size ? i % p.population : p.size));
	}
}

/* Random n-out-of-N: exactly n of each block of N; over many blocks each position
 * of the block is selected with probability n/N (within an exact binomial bound);
 * the same seed and instance give the same choices, another instance others. */
static void
test_random_n_of_n(void)
{
	static const uint32_t cases[][2] = {{1, 10}, {3, 7}, {1, 1}, {5, 5}, {10, 100}, {63, 64}};
	const uint64_t blocks = 20000;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t n = cases[c][0], big_n = cases[c][1];
		char text[64];
		struct dpfix_sample_params p;
		struct dpfix_sample s, again, other;
		uint64_t *at = calloc(big_n, sizeof(*at));
		uint64_t differs = 0;

		if (at == NULL) {
			CHECK(!"out of memory");
			return;
		}
		snprintf(text, sizeof(text), "random:%u:%u:seed=12345", n, big_n);
		p = params_of(text);
		dpfix_sample_init(&s, &p, 0);
		dpfix_sample_init(&again, &p, 0);
		dpfix_sample_init(&other, &p, 1);
		for (uint64_t b = 0; b < blocks; b++) {
			uint32_t in_block = 0;

			for (uint32_t i = 0; i < big_n; i++) {
				bool sel = dpfix_sample_count_next(&s);

				CHECK(sel == dpfix_sample_count_next(&again));
				differs += sel != dpfix_sample_count_next(&other);
				in_block += sel;
				at[i] += sel;
			}
			if (in_block != n) {
				fprintf(stderr, "  %s: block %llu has %u selected\n", text,
						(unsigned long long)b, in_block);
				CHECK(!"exactly n per block");
				break;
			}
		}
		/* N checks per case: each gets its share of the false-failure budget. */
		for (uint32_t i = 0; i < big_n; i++)
			CHECK(within_binomial(text, at[i], blocks, (double)n / big_n,
					FALSE_FAILURE / big_n));
		if (n < big_n)
			CHECK(differs > 0);
		free(at);
	}
}

/* Bursts count what they decide, and decide as packet-by-packet calls would. */
static void
test_count_burst(void)
{
	struct dpfix_sample_params p = params_of("random:2:9:seed=7");
	struct dpfix_sample a, b;

	dpfix_sample_init(&a, &p, 3);
	dpfix_sample_init(&b, &p, 3);
	for (int round = 0; round < 1000; round++) {
		unsigned int n = (unsigned int)(round % 64) + 1;
		uint64_t mask = dpfix_sample_count_burst(&a, n);

		for (unsigned int i = 0; i < n; i++)
			CHECK(((mask >> i) & 1) == (uint64_t)dpfix_sample_count_next(&b));
		CHECK(n == 64 || mask >> n == 0);
	}
	CHECK_EQ_U64(a.stats.observed, 1000 / 64 * (64 * 65 / 2) + (1000 % 64) * (1000 % 64 + 1) / 2);
	/* 32020 packets are 3557 blocks of 9 (2 each) and 7 packets of the next block. */
	CHECK(a.stats.selected >= 7114 && a.stats.selected <= 7116);
}

/* ---- BOB ---- */

/* Values of Jenkins' lookup2 hash() computed by its original code (the form RFC
 * 5475 gives for BOB), for keys of every tail length class. */
static void
test_bob_vectors(void)
{
	static const char *four_score = "Four score and seven years ago";
	uint8_t seq[40];
	static const struct {
		size_t len;
		uint32_t init0, init5eed;
	} v[] = {
		{0, 0xbd49d10d, 0xc4c03f28}, {1, 0x6ddfb8c9, 0x9a3d0cb0},
		{11, 0xf189c885, 0xa333122d}, {12, 0x99bdd9ef, 0x7f5ec976},
		{13, 0xecad9b0d, 0xe070c8b6}, {24, 0x76783385, 0xf85cc2cc},
		{38, 0xdf37612b, 0x77737eae}, {40, 0xaab655d0, 0x3cff63f9},
	};

	for (int i = 0; i < 40; i++)
		seq[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ_U64(dpfix_sample_bob(seq, v[i].len, 0), v[i].init0);
		CHECK_EQ_U64(dpfix_sample_bob(seq, v[i].len, 0x5eed), v[i].init5eed);
	}
	CHECK_EQ_U64(dpfix_sample_bob((const uint8_t *)four_score, 30, 0), 0x50f2424b);
	CHECK_EQ_U64(dpfix_sample_bob((const uint8_t *)four_score, 30, 1), 0x89deae7e);
}

/* ---- hash-based selection ---- */

static uint32_t
hash_of(const struct dpfix_sample *s, const struct frame *f)
{
	struct dpfix_packet_info info;
	uint8_t *copy = malloc(f->len);
	uint32_t h;

	/* An exact-size copy, so a read past the frame is a sanitizer error. */
	if (copy == NULL || dpfix_parse_ethernet(&parse_cfg, f->b, f->len, f->len, 0, &info) !=
			DPFIX_PARSE_OK) {
		CHECK(!"test frame does not parse");
		free(copy);
		return 0;
	}
	memcpy(copy, f->b, f->len);
	h = dpfix_sample_hash(s, copy, f->len, &info);
	free(copy);
	return h;
}

/* IPv4/TCP with a VLAN tag, TTL and TOS as given, IP identification id, and the
 * TCP sequence number seq (inside the first 8 payload bytes). */
static void
build_v4(struct frame *f, int vlan_tag, uint8_t tos, uint8_t ttl, uint16_t id, uint32_t seq)
{
	eth(f);
	if (vlan_tag)
		vlan(f, TPID_8021Q, 0, 42);
	ethertype(f, ETH_IPV4);
	ipv4(f, PROTO_TCP, tos, ttl, 0, IPV4_DF);
	ipv4_set_id(f, id);
	tcp(f, 40000, 443, TCP_ACK);
	f->b[f->ip_off + 24] = (uint8_t)(seq >> 24);
	f->b[f->ip_off + 25] = (uint8_t)(seq >> 16);
	f->b[f->ip_off + 26] = (uint8_t)(seq >> 8);
	f->b[f->ip_off + 27] = (uint8_t)seq;
	payload(f, 30);
	ip_end(f);
}

/* The hash covers exactly the documented bytes: IPv4 identification, flags and
 * offset, the addresses, then payload_size bytes of IP payload from payload_offset. */
static void
test_hash_input_v4(void)
{
	struct dpfix_sample_params p = params_of("hash:1:2:seed=0x5eed:payload_offset=2:payload_size=8");
	struct dpfix_sample s;
	struct frame f;
	uint8_t want[20];

	dpfix_sample_init(&s, &p, 0);
	build_v4(&f, 0, 0, 64, 0xbeef, 0x11223344);
	memcpy(want, f.b + f.ip_off + 4, 4);
	memcpy(want + 4, f.b + f.ip_off + 12, 8);
	memcpy(want + 12, f.b + f.ip_off + 20 + 2, 8);
	CHECK_EQ_U64(hash_of(&s, &f), dpfix_sample_bob(want, 20, 0x5eed));

	/* IPv4 options are header, not payload: the window starts after them. */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_UDP, 0, 64, 8, 0);
	udp(&f, 53, 5353, 20);
	payload(&f, 20);
	ip_end(&f);
	memcpy(want, f.b + f.ip_off + 4, 4);
	memcpy(want + 4, f.b + f.ip_off + 12, 8);
	memcpy(want + 12, f.b + f.ip_off + 28 + 2, 8);
	CHECK_EQ_U64(hash_of(&s, &f), dpfix_sample_bob(want, 20, 0x5eed));

	/* A packet shorter than the window gives what it has; a capture cut inside the
	 * window too (and nothing past it is read: the copy is exact). */
	eth(&f);
	ethertype(&f, ETH_IPV4);
	ipv4(&f, PROTO_ICMP, 0, 64, 0, 0);
	payload(&f, 5);
	ip_end(&f);
	eth_pad(&f);    /* Ethernet padding is not IP payload */
	memcpy(want, f.b + f.ip_off + 4, 4);
	memcpy(want + 4, f.b + f.ip_off + 12, 8);
	memcpy(want + 12, f.b + f.ip_off + 20 + 2, 3);
	CHECK_EQ_U64(hash_of(&s, &f), dpfix_sample_bob(want, 15, 0x5eed));
}

static void
test_hash_input_v6(void)
{
	struct dpfix_sample_params p = params_of("hash:1:2:seed=7:payload_size=12");
	struct dpfix_sample s;
	struct frame f, g;
	uint8_t want[64];
	uint32_t plain;

	dpfix_sample_init(&s, &p, 0);
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_UDP, 0, 64);
	udp(&f, 1000, 2000, 20);
	payload(&f, 20);
	ip_end(&f);
	memcpy(want, f.b + f.ip_off + 8, 32);
	memcpy(want + 32, f.b + f.ip_off + 40, 12);
	plain = hash_of(&s, &f);
	CHECK_EQ_U64(plain, dpfix_sample_bob(want, 44, 7));

	/* Hop-by-hop and routing headers may change on the way: the same datagram with
	 * them hashes the same; so do another hop limit, traffic class and flow label. */
	eth(&g);
	ethertype(&g, ETH_IPV6);
	ipv6(&g, PROTO_HOPOPTS, 0xb8, 3);
	ipv6_opts(&g, PROTO_ROUTING, 1);
	ipv6_opts(&g, PROTO_UDP, 0);
	udp(&g, 1000, 2000, 20);
	payload(&g, 20);
	ip_end(&g);
	g.b[g.ip_off + 3] ^= 0x55;      /* flow label */
	CHECK_EQ_U64(hash_of(&s, &g), plain);

	/* A fragment adds its identification and offset word. */
	eth(&f);
	ethertype(&f, ETH_IPV6);
	ipv6(&f, PROTO_FRAGMENT, 0, 64);
	ipv6_frag_id(&f, PROTO_UDP, 185, 1, 0x01020304);
	payload(&f, 16);
	ip_end(&f);
	memcpy(want, f.b + f.ip_off + 8, 32);
	memcpy(want + 32, "\x01\x02\x03\x04\x05\xc9", 6);   /* 185 << 3 | M */
	memcpy(want + 38, f.b + f.ip_off + 48, 12);
	CHECK_EQ_U64(hash_of(&s, &f), dpfix_sample_bob(want, 50, 7));
}

/* What routers and links change does not change the hash; what tells packets apart
 * does. */
static void
test_hash_invariance(void)
{
	struct dpfix_sample_params p = params_of("hash:1:100:seed=99");
	struct dpfix_sample s;
	struct frame f, g, inner;
	uint32_t h;

	dpfix_sample_init(&s, &p, 0);
	build_v4(&f, 0, 0x00, 64, 0x1000, 0xaabbccdd);
	h = hash_of(&s, &f);
	build_v4(&g, 1, 0xb8, 3, 0x1000, 0xaabbccdd);     /* VLAN, DSCP, TTL */
	g.b[0] ^= 0xff;                                   /* another next hop's MAC */
	g.b[g.ip_off + 10] = 0x12;                        /* the checksum follows the TTL */
	CHECK_EQ_U64(hash_of(&s, &g), h);

	/* In an MPLS tunnel or inside VXLAN (metered inner) the packet hashes the same. */
	eth(&g);
	ethertype(&g, ETH_MPLS);
	mpls(&g, 1234, 0, 1, 60);
	put_bytes(&g, f.b + f.ip_off, f.len - f.ip_off);
	CHECK_EQ_U64(hash_of(&s, &g), h);
	inner = f;
	eth(&g);
	ethertype(&g, ETH_IPV4);
	ipv4(&g, PROTO_UDP, 0, 64, 0, 0);
	udp(&g, 50000, DPFIX_VXLAN_PORT, (uint16_t)(8 + inner.len));
	vxlan(&g, 77, &inner);
	ip_end(&g);
	{
		struct dpfix_parse_config vx = parse_cfg;
		struct dpfix_packet_info info;

		vx.vxlan_inner = 1;
		CHECK(dpfix_parse_ethernet(&vx, g.b, g.len, g.len, 0, &info) == DPFIX_PARSE_OK);
		CHECK_EQ_U64(dpfix_sample_hash(&s, g.b, g.len, &info), h);
	}

	/* Identification, addresses and payload bytes in the window change it (for
	 * these values; BOB collides with probability 2^-32). */
	build_v4(&g, 0, 0, 64, 0x1001, 0xaabbccdd);
	CHECK(hash_of(&s, &g) != h);
	build_v4(&g, 0, 0, 64, 0x1000, 0xaabbccde);
	CHECK(hash_of(&s, &g) != h);
	build_v4(&g, 0, 0, 64, 0x1000, 0xaabbccdd);
	g.b[g.ip_off + 15] ^= 1;
	CHECK(hash_of(&s, &g) != h);
	/* Payload past the window does not. */
	build_v4(&g, 0, 0, 64, 0x1000, 0xaabbccdd);
	g.b[g.ip_off + 20 + 8] ^= 0xff;
	CHECK_EQ_U64(hash_of(&s, &g), h);
	/* Another initialiser gives another hash. */
	{
		struct dpfix_sample_params q = params_of("hash:1:100:seed=100");
		struct dpfix_sample t;

		dpfix_sample_init(&t, &q, 0);
		CHECK(hash_of(&t, &f) != h);
	}
}

/* Many distinct packets: two independent instances (as two probes on the path, or
 * two workers) select exactly the same ones, and the fraction selected is within
 * the binomial bound of n/N. */
static void
test_hash_trajectory(void)
{
	static const char *const texts[] = {"hash:1:100:seed=0x5eed", "hash:1:3:seed=1",
		"hash:7:10", "hash:1:1000:payload_size=16"};
	const uint64_t packets = 200000;

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		struct dpfix_sample_params p = params_of(texts[t]);
		struct dpfix_sample a, b;
		struct frame f;
		struct dpfix_packet_info info;

		dpfix_sample_init(&a, &p, 0);
		dpfix_sample_init(&b, &p, 12345);
		for (uint64_t i = 0; i < packets; i++) {
			bool sa, sb;

			build_v4(&f, (int)(i & 1), (uint8_t)i, (uint8_t)(i >> 3), (uint16_t)i,
					(uint32_t)(i * 2654435761u));
			CHECK(dpfix_parse_ethernet(&parse_cfg, f.b, f.len, f.len, 0, &info) == DPFIX_PARSE_OK);
			sa = dpfix_sample_hash_select(&a, f.b, f.len, &info);
			/* The other probe sees it with another TTL and without the VLAN tag. */
			build_v4(&f, 0, (uint8_t)i, 200, (uint16_t)i, (uint32_t)(i * 2654435761u));
			CHECK(dpfix_parse_ethernet(&parse_cfg, f.b, f.len, f.len, 0, &info) == DPFIX_PARSE_OK);
			sb = dpfix_sample_hash_select(&b, f.b, f.len, &info);
			if (sa != sb) {
				fprintf(stderr, "  %s: packet %llu selected by one instance only\n",
						texts[t], (unsigned long long)i);
				CHECK(!"trajectory consistency");
				break;
			}
		}
		CHECK_EQ_U64(a.stats.observed, packets);
		CHECK_EQ_U64(a.stats.selected, b.stats.selected);
		CHECK(within_binomial(texts[t], a.stats.selected, packets,
				((double)p.selected_max + 1) / 4294967296.0, FALSE_FAILURE));
	}
}

int
main(void)
{
	RUN_TEST(test_binomial_interval);
	RUN_TEST(test_parse_valid);
	RUN_TEST(test_parse_errors);
	RUN_TEST(test_describe);
	RUN_TEST(test_systematic_exact);
	RUN_TEST(test_random_n_of_n);
	RUN_TEST(test_count_burst);
	RUN_TEST(test_bob_vectors);
	RUN_TEST(test_hash_input_v4);
	RUN_TEST(test_hash_input_v6);
	RUN_TEST(test_hash_invariance);
	RUN_TEST(test_hash_trajectory);
	return unit_test_summary();
}
