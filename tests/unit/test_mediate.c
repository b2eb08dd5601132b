/* lib/mediate's parts that need no sessions: filter expressions (parse errors with
 * their place, matches on records of any layout), and the processes' config checks. */
#include <arpa/inet.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "mediate_cryptopan.h"
#include "mediate_filter.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_mediate.h"
#include "unit_test.h"

/* A record of the fields the tests compare, with where each lies. */
struct rec {
	struct dpfix_ipfix_template t;
	uint8_t data[256];
	uint32_t offsets[16];
	uint16_t lengths[16];
	uint32_t len;
};

static void
field(struct rec *r, uint16_t id, const void *v, uint16_t len)
{
	uint16_t i = r->t.field_count;

	dpfix_ipfix_template_add(&r->t, 0, id, len);
	r->offsets[i] = r->len;
	r->lengths[i] = len;
	memcpy(r->data + r->len, v, len);
	r->len += len;
}

static void
field_u(struct rec *r, uint16_t id, uint64_t v, uint16_t len)
{
	uint8_t b[8];

	dpfix_put_be(b, v, len);
	field(r, id, b, len);
}

static void
field_v4(struct rec *r, uint16_t id, const char *a)
{
	uint8_t b[4];

	inet_pton(AF_INET, a, b);
	field(r, id, b, 4);
}

static struct rec
flow(const char *src, const char *dst, uint8_t proto, uint16_t dport, uint64_t octets)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	dpfix_ipfix_template_init(&r.t, 256, 0);
	field_v4(&r, IE_sourceIPv4Address, src);
	field_v4(&r, IE_destinationIPv4Address, dst);
	field_u(&r, IE_protocolIdentifier, proto, 1);
	field_u(&r, IE_destinationTransportPort, dport, 2);
	field_u(&r, IE_octetDeltaCount, octets, 4); /* reduced size */
	return r;
}

/* Whether expression e matches r (-1: it did not parse). */
static int
matches(const char *e, const struct rec *r)
{
	char err[256];
	struct med_filter *f = med_filter_parse(e, err, sizeof(err));
	int16_t field_of[64];
	int m;

	if (f == NULL) {
		fprintf(stderr, "  '%s': %s\n", e, err);
		return -1;
	}
	for (unsigned int i = 0; i < med_filter_leaves(f); i++) {
		const struct dpfix_ipfix_ie *ie = med_filter_leaf_element(f, i);

		field_of[i] = -1;
		for (uint16_t k = 0; k < r->t.field_count; k++)
			if (r->t.fields[k].id == ie->id && r->t.fields[k].pen == ie->pen)
				field_of[i] = (int16_t)k;
	}
	m = med_filter_match(f, field_of, r->data, r->offsets, r->lengths);
	med_filter_free(f);
	return m;
}

static void
test_filter_matches(void)
{
	struct rec web = flow("10.1.2.3", "192.0.2.80", 6, 443, 1500);
	struct rec dns = flow("192.168.7.9", "10.0.0.53", 17, 53, 80);

	CHECK(matches("protocolIdentifier == 6", &web) == 1);
	CHECK(matches("protocolIdentifier == 6", &dns) == 0);
	CHECK(matches("protocolIdentifier != 6", &dns) == 1);
	CHECK(matches("sourceIPv4Address in 10.0.0.0/8", &web) == 1);
	CHECK(matches("sourceIPv4Address in 10.0.0.0/8", &dns) == 0);
	CHECK(matches("sourceIPv4Address in 10.0.0.0/8, 192.168.0.0/16", &dns) == 1);
	CHECK(matches("sourceIPv4Address == 10.1.2.3", &web) == 1);
	CHECK(matches("sourceIPv4Address in 10.1.2.2/31", &web) == 1);
	CHECK(matches("sourceIPv4Address in 10.1.2.4/31", &web) == 0);
	CHECK(matches("destinationTransportPort in 80,443,8000..8080", &web) == 1);
	CHECK(matches("destinationTransportPort in 1..52,54..65535", &dns) == 0);
	CHECK(matches("octetDeltaCount >= 1500", &web) == 1);
	CHECK(matches("octetDeltaCount > 1500", &web) == 0);
	CHECK(matches("octetDeltaCount < 100 and protocolIdentifier == 17", &dns) == 1);
	CHECK(matches("octetDeltaCount <= 0x50", &dns) == 1);
	CHECK(matches("not (protocolIdentifier == 6 or destinationTransportPort == 53)", &dns) == 0);
	CHECK(matches("protocolIdentifier == 17 and not destinationIPv4Address in 10.0.0.0/8", &dns) == 0);
	CHECK(matches("protocolIdentifier == 6 or protocolIdentifier == 17 and octetDeltaCount > 1000",
			&dns) == 0); /* and binds tighter */
	CHECK(matches("(protocolIdentifier == 6 or protocolIdentifier == 17) and octetDeltaCount > 10",
			&dns) == 1);
	/* A record without the element: no comparison of it matches, so its not does. */
	CHECK(matches("sourceIPv6Address in ::/0", &web) == 0);
	CHECK(matches("not sourceIPv6Address in ::/0", &web) == 1);
	CHECK(matches("vlanId != 5", &web) == 0);
}

/* Errors name the place and the reason; nothing half-parsed is kept. */
static void
test_filter_errors(void)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"", "at character 1: an element name, 'not' or '(' was expected"},
		{"nosuchElement == 1", "at character 1: no information element has this name"},
		{"protocolIdentifier = 6", "at character 20: ==, !=, <, <=, >, >= or in was expected"},
		{"protocolIdentifier == six", "at character 26: not an unsigned integer or LO..HI range"},
		{"sourceIPv4Address in 10.0.0.0/33", "at character 33: a prefix length past the address"},
		{"sourceIPv4Address == ::1", "at character 25: not an IPv4 address or prefix"},
		{"sourceIPv4Address < 10.0.0.1", "at character 20: <, <=, > and >= compare numbers only"},
		{"(protocolIdentifier == 6", "at character 25: ')' was expected"},
		{"protocolIdentifier == 6 protocolIdentifier == 7", "at character 25: 'and', 'or' or the end was expected"},
		{"destinationTransportPort in 90..80", "at character 35: a range whose low end is above its high end"},
		{"octetDeltaCount < 0", "at character 20: a comparison no value can meet"},
		{"interfaceName == eth0", "at character 18: a string value is written \"in quotes\""},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct med_filter *f = med_filter_parse(bad[i].text, err, sizeof(err));

		CHECK(f == NULL);
		if (strcmp(err, bad[i].err) != 0) {
			fprintf(stderr, "  '%s': got '%s', want '%s'\n", bad[i].text, err, bad[i].err);
			CHECK(0);
		}
		med_filter_free(f);
	}
}

/* Mutations of valid expressions, cut at every length and with bytes changed, each in a
 * buffer of its exact length: parsed or refused, never a crash or a read past it (ASan). */
static void
test_filter_mutations(void)
{
	static const char *const seeds[] = {
		"protocolIdentifier == 6 and not (sourceIPv4Address in 10.0.0.0/8, 192.168.1.0/24)",
		"destinationTransportPort in 1..1023 or octetDeltaCount >= 0x1000",
		"sourceIPv6Address in 2001:db8::/32 and interfaceName == \"eth\\\"0\"",
		"sourceMacAddress == 02:00:00:00:00:01 or ipPayloadPacketSection == 0x0102",
	};
	static const char alphabet[] = " ()=!<>,./:0123456789abcdefx\"\\notandrin";
	uint32_t seed = 12345;
	unsigned int parsed = 0, refused = 0;
	char err[256];

	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t n = strlen(seeds[s]);

		for (int round = 0; round < 4000; round++) {
			size_t len = (size_t)round % (n + 1);
			char *text = malloc(len + 1);

			memcpy(text, seeds[s], len);
			text[len] = '\0';
			for (int k = 0; round >= (int)n && k < 3 && len > 0; k++) {
				seed = seed * 1103515245u + 12345u;
				text[(seed >> 8) % len] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
			}
			struct med_filter *f = med_filter_parse(text, err, sizeof(err));

			parsed += f != NULL;
			refused += f == NULL;
			med_filter_free(f);
			free(text);
		}
	}
	CHECK(parsed >= 8 && refused > 1000); /* the whole seeds and some cuts parse */
}

/* The key and sample trace of the Crypto-PAn reference distribution (IPv4), and the IPv6
 * vectors of Yawning Angel's Go cryptopan, which extends it to 128 bits the same way. */
static const uint8_t reference_key[MED_CRYPTOPAN_KEY_LEN] = {
	21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

static int
pseudonym_is(struct med_cryptopan *c, int family, const char *in, const char *want)
{
	uint8_t a[16], w[16];
	size_t len = family == AF_INET ? 4 : 16;

	inet_pton(family, in, a);
	inet_pton(family, want, w);
	med_cryptopan_address(c, a, len);
	if (memcmp(a, w, len) == 0)
		return 1;
	fprintf(stderr, "  %s: want %s\n", in, want);
	return 0;
}

static void
test_cryptopan_vectors(void)
{
	static const char *const v4[][2] = {
		{"128.11.68.132", "135.242.180.132"}, {"129.118.74.4", "134.136.186.123"},
		{"130.132.252.244", "133.68.164.234"}, {"141.223.7.43", "141.167.8.160"},
		{"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
		{"156.29.3.236", "147.225.12.42"}, {"165.247.96.84", "162.9.99.234"},
		{"192.102.249.13", "252.138.62.131"}, {"207.105.49.5", "241.118.205.138"},
		{"24.0.250.221", "100.15.198.226"}, {"4.3.88.225", "124.60.155.63"},
		{"64.14.118.196", "0.255.183.58"}, {"10.185.25.118", "117.161.29.118"},
	};
	static const char *const v6[][2] = {
		{"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
		{"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
		{"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
		{"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
		{"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
	};
	struct med_cryptopan *c = med_cryptopan_new(reference_key);

	CHECK(c != NULL);
	for (int round = 0; round < 2; round++) /* the second from the cache */
		for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
			CHECK(pseudonym_is(c, AF_INET, v4[i][0], v4[i][1]));
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
		CHECK(pseudonym_is(c, AF_INET6, v6[i][0], v6[i][1]));
	med_cryptopan_free(c);
}

static unsigned int
common_bits(const uint8_t *a, const uint8_t *b, size_t len)
{
	unsigned int n = 0;

	while (n < len * 8 && !((a[n / 8] ^ b[n / 8]) & (0x80u >> (n % 8))))
		n++;
	return n;
}

/* Any two addresses sharing k leading bits map to two sharing exactly k; a second
 * instance with the same key maps alike. */
static void
test_cryptopan_prefixes(void)
{
	uint8_t key[MED_CRYPTOPAN_KEY_LEN];
	struct med_cryptopan *c, *again;
	uint32_t seed = 7;
	int bad = 0;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 11);
	c = med_cryptopan_new(key);
	again = med_cryptopan_new(key);
	for (int i = 0; i < 3000 && !bad; i++) {
		size_t len = i % 3 == 0 ? 16 : 4;
		uint8_t a[16], b[16], pa[16], pb[16], pa2[16];
		unsigned int k;

		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			a[j] = b[j] = (uint8_t)(seed >> 16);
		}
		/* b: a with bit k flipped and random bits after it. */
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % (len * 8);
		b[k / 8] ^= (uint8_t)(0x80u >> (k % 8));
		for (unsigned int bit = k + 1; bit < len * 8; bit++)
			if ((seed >> (bit % 24)) & 1)
				b[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		memcpy(pa, a, len);
		memcpy(pb, b, len);
		memcpy(pa2, a, len);
		med_cryptopan_address(c, pa, len);
		med_cryptopan_address(c, pb, len);
		med_cryptopan_address(again, pa2, len);
		bad = common_bits(pa, pb, len) != k || memcmp(pa, pa2, len) != 0;
	}
	CHECK(!bad);
	med_cryptopan_free(c);
	med_cryptopan_free(again);
}

/* The config check names what is wrong in a process's text. */
static void
test_process_check(void)
{
	struct dpfix_mediate_process_spec spec = {.kind = DPFIX_MEDIATE_SELECT};
	char err[256];

	snprintf(spec.text, sizeof(spec.text), "protocolIdentifier == 6");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) == 0);
	snprintf(spec.text, sizeof(spec.text), "protocolIdentifier ==");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "at character 22: a value is missing") == 0);
	CHECK(dpfix_mediate_process_kind_of("aggregate") == DPFIX_MEDIATE_AGGREGATE);

	static const struct {
		const char *text, *err;
	} aggregate[] = {
		{"keys=sourceIPv4Address/24,protocolIdentifier values=octetDeltaCount,"
			"tcpControlBits,minimumTTL,flowEndSeconds active_timeout=1.5 by_exporter=no", NULL},
		{"values=octetDeltaCount", "keys=ELEMENT[/BITS],... is required"},
		{"keys=sourceIPv4Address/33", "key 'sourceIPv4Address/33': /BITS is for addresses, at most 32"},
		{"keys=protocolIdentifier/4", "key 'protocolIdentifier/4': /BITS is for addresses, at most 0"},
		{"keys=nothing", "key 'nothing': no information element has this name"},
		{"keys=interfaceName", "key 'interfaceName': a string cannot be a key here (fixed-size types only)"},
		{"keys=vlanId values=sourceTransportPort", "value 'sourceTransportPort': not a counter, "
			"flags, minimum, maximum or flow time: no way to aggregate it"},
		{"keys=vlanId idle_timeout=0", "'idle_timeout=0': not one of keys=, values=, "
			"active_timeout=SECONDS, idle_timeout=SECONDS, max_flows=1..67108864, by_exporter=yes|no"},
		{"keys=vlanId speed", "'speed': settings are NAME=VALUE"},
	};

	/* anonymise: its methods, and a key file's checks. */
	FILE *key = fopen("test_mediate.key", "w");

	fprintf(key, "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n");
	fclose(key);
	chmod("test_mediate.key", 0644);
	spec.kind = DPFIX_MEDIATE_ANONYMISE;
	snprintf(spec.text, sizeof(spec.text), "prefix-preserving test_mediate.key");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strstr(err, "accessible by group or others") != NULL);
	chmod("test_mediate.key", 0600);
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) == 0);
	snprintf(spec.text, sizeof(spec.text), "prefix-preserving test_mediate.key protocolIdentifier");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "'protocolIdentifier': prefix-preserving is for IPv4 and IPv6 addresses") == 0);
	key = fopen("test_mediate.key", "w");
	fprintf(key, "0011\n");
	fclose(key);
	snprintf(spec.text, sizeof(spec.text), "prefix-preserving test_mediate.key");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "key file test_mediate.key: want 64 hex digits (a 32-octet key)") == 0);
	remove("test_mediate.key");
	snprintf(spec.text, sizeof(spec.text), "truncate sourceIPv4Address/24,destinationIPv6Address/48");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) == 0);
	snprintf(spec.text, sizeof(spec.text), "truncate sourceIPv4Address/32");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "'sourceIPv4Address/32': BITS below the element's 32 bits of a "
			"fixed-size type") == 0);
	snprintf(spec.text, sizeof(spec.text), "blacken sourceTransportPort/8");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "'sourceTransportPort': only truncate takes /BITS") == 0);
	snprintf(spec.text, sizeof(spec.text), "scramble sourceTransportPort");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);

	spec.kind = DPFIX_MEDIATE_AGGREGATE;
	for (size_t i = 0; i < sizeof(aggregate) / sizeof(aggregate[0]); i++) {
		int ret;

		snprintf(spec.text, sizeof(spec.text), "%s", aggregate[i].text);
		err[0] = '\0';
		ret = dpfix_mediate_process_check(&spec, err, sizeof(err));
		if ((ret == 0) != (aggregate[i].err == NULL) ||
				(aggregate[i].err != NULL && strcmp(err, aggregate[i].err) != 0)) {
			fprintf(stderr, "  '%s': got %d '%s'\n", aggregate[i].text, ret, err);
			CHECK(0);
		}
	}
	CHECK(dpfix_mediate_process_kind_of("nonsense") == -1);

	spec.kind = DPFIX_MEDIATE_CORRELATE;
	snprintf(spec.text, sizeof(spec.text), "biflow timeout=2.5 max_waiting=100");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) == 0);
	snprintf(spec.text, sizeof(spec.text), "biflow");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) == 0);
	snprintf(spec.text, sizeof(spec.text), "timeout=2");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "'timeout=2': say what to correlate: 'biflow [timeout=S] "
			"[max_waiting=N]'") == 0);
	snprintf(spec.text, sizeof(spec.text), "biflow max_waiting=0");
	CHECK(dpfix_mediate_process_check(&spec, err, sizeof(err)) < 0);
	CHECK(strcmp(err, "'max_waiting=0': not one of timeout=SECONDS (up to 3600), "
			"max_waiting=1..16777216") == 0);
}

int
main(void)
{
	RUN_TEST(test_filter_matches);
	RUN_TEST(test_filter_errors);
	RUN_TEST(test_filter_mutations);
	RUN_TEST(test_cryptopan_vectors);
	RUN_TEST(test_cryptopan_prefixes);
	RUN_TEST(test_process_check);
	return unit_test_summary();
}
