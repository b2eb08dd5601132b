/* lib/mediate's parts that need no sessions: filter expressions (parse errors with
 * their place, matches on records of any layout), and the processes' config checks. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

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
}

int
main(void)
{
	RUN_TEST(test_filter_matches);
	RUN_TEST(test_filter_errors);
	RUN_TEST(test_filter_mutations);
	RUN_TEST(test_process_check);
	return unit_test_summary();
}
