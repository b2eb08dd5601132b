/* Unit tests of lib/ipfix's information model and type codecs: the generated IANA
 * registry, RFC 5103 reverse elements, enterprise elements from files, and the
 * encoding and decoding of every abstract data type (RFC 7011 sections 6 and 7). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "unit_test.h"

/* ---- the IANA registry ---- */

struct known_ie {
	uint16_t id;
	const char *name;
	enum dpfix_ipfix_type type;
	enum dpfix_ipfix_semantics semantics;
	enum dpfix_ipfix_status status;
	const char *units;
	bool has_range;
	uint64_t low, high;
};

/* Records of lib/ipfix/registry/ipfix.xml, read by eye. 91's range was 0-32 in
 * copies of 2025 and before; 530-533 were registered on 2026-04-02 (RFC 9951). */
static const struct known_ie known[] = {
	{1, "octetDeltaCount", DPFIX_IPFIX_UNSIGNED64, DPFIX_IPFIX_SEM_DELTA_COUNTER,
		DPFIX_IPFIX_STATUS_CURRENT, "octets", false, 0, 0},
	{6, "tcpControlBits", DPFIX_IPFIX_UNSIGNED16, DPFIX_IPFIX_SEM_FLAGS,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{27, "sourceIPv6Address", DPFIX_IPFIX_IPV6_ADDRESS, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{31, "flowLabelIPv6", DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_SEM_IDENTIFIER,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, true, 0, 0xfffff},
	{40, "exportedOctetTotalCount", DPFIX_IPFIX_UNSIGNED64, DPFIX_IPFIX_SEM_TOTAL_COUNTER,
		DPFIX_IPFIX_STATUS_CURRENT, "octets", false, 0, 0},
	{56, "sourceMacAddress", DPFIX_IPFIX_MAC_ADDRESS, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{64, "ipv6ExtensionHeaders", DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_SEM_FLAGS,
		DPFIX_IPFIX_STATUS_DEPRECATED, NULL, false, 0, 0},
	{82, "interfaceName", DPFIX_IPFIX_STRING, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{91, "mplsTopLabelPrefixLength", DPFIX_IPFIX_UNSIGNED8, DPFIX_IPFIX_SEM_QUANTITY,
		DPFIX_IPFIX_STATUS_CURRENT, "bits", true, 0, 128},
	{88, "fragmentOffset", DPFIX_IPFIX_UNSIGNED16, DPFIX_IPFIX_SEM_QUANTITY,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, true, 0, 0x1fff},
	{89, "forwardingStatus", DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_SEM_IDENTIFIER,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{152, "flowStartMilliseconds", DPFIX_IPFIX_DATETIME_MILLISECONDS, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, "milliseconds", false, 0, 0},
	{154, "flowStartMicroseconds", DPFIX_IPFIX_DATETIME_MICROSECONDS, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, "microseconds", false, 0, 0},
	{156, "flowStartNanoseconds", DPFIX_IPFIX_DATETIME_NANOSECONDS, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, "nanoseconds", false, 0, 0},
	{173, "flowKeyIndicator", DPFIX_IPFIX_UNSIGNED64, DPFIX_IPFIX_SEM_FLAGS,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{210, "paddingOctets", DPFIX_IPFIX_OCTET_ARRAY, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{236, "VRFname", DPFIX_IPFIX_STRING, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{239, "biflowDirection", DPFIX_IPFIX_UNSIGNED8, DPFIX_IPFIX_SEM_IDENTIFIER,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{276, "dataRecordsReliability", DPFIX_IPFIX_BOOLEAN, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{291, "basicList", DPFIX_IPFIX_BASIC_LIST, DPFIX_IPFIX_SEM_LIST,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{292, "subTemplateList", DPFIX_IPFIX_SUB_TEMPLATE_LIST, DPFIX_IPFIX_SEM_LIST,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{295, "IPSecSPI", DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_SEM_IDENTIFIER,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{320, "absoluteError", DPFIX_IPFIX_FLOAT64, DPFIX_IPFIX_SEM_QUANTITY,
		DPFIX_IPFIX_STATUS_CURRENT, "inferred", false, 0, 0},
	{412, "dot1qServiceInstanceId", DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_SEM_IDENTIFIER,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, true, 0, 0xffffff},
	{434, "mibObjectValueInteger", DPFIX_IPFIX_SIGNED32, DPFIX_IPFIX_SEM_QUANTITY,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{458, "sourceTransportPortsLimit", DPFIX_IPFIX_UNSIGNED16, DPFIX_IPFIX_SEM_QUANTITY,
		DPFIX_IPFIX_STATUS_CURRENT, "ports", true, 1, 65535},
	{515, "ipv6ExtensionHeadersFull", DPFIX_IPFIX_UNSIGNED256, DPFIX_IPFIX_SEM_FLAGS,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{517, "ipv6ExtensionHeadersLimit", DPFIX_IPFIX_BOOLEAN, DPFIX_IPFIX_SEM_DEFAULT,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{529, "udpUnsafeExIDList", DPFIX_IPFIX_BASIC_LIST, DPFIX_IPFIX_SEM_LIST,
		DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{530, "pathDelayMeanDeltaMicroseconds", DPFIX_IPFIX_UNSIGNED32,
		DPFIX_IPFIX_SEM_DELTA_COUNTER, DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
	{533, "pathDelaySumDeltaMicroseconds", DPFIX_IPFIX_UNSIGNED64,
		DPFIX_IPFIX_SEM_DELTA_COUNTER, DPFIX_IPFIX_STATUS_CURRENT, NULL, false, 0, 0},
};

static bool
same_units(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_known(const struct dpfix_ipfix_ie *ie, const struct known_ie *k, uint32_t pen,
		const char *name)
{
	CHECK(ie != NULL);
	if (ie == NULL) {
		fprintf(stderr, "  (%u, %u) %s missing\n", pen, k->id, name);
		return;
	}
	CHECK_EQ_U64(ie->id, k->id);
	CHECK_EQ_U64(ie->pen, pen);
	CHECK(strcmp(ie->name, name) == 0);
	CHECK_EQ_U64(ie->type, k->type);
	CHECK_EQ_U64(ie->semantics, k->semantics);
	CHECK_EQ_U64(ie->status, k->status);
	CHECK(same_units(ie->units, k->units));
	CHECK_EQ_U64(ie->has_range, k->has_range);
	CHECK_EQ_U64(ie->range_low, k->low);
	CHECK_EQ_U64(ie->range_high, k->high);
	CHECK(dpfix_ipfix_ie_by_name(name) == ie);
}

static void
test_registry_known(void)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		check_known(dpfix_ipfix_ie_by_id(0, known[i].id), &known[i], 0, known[i].name);
	/* The id enum is generated from the same registry. */
	CHECK_EQ_U64(IE_octetDeltaCount, 1);
	CHECK_EQ_U64(IE_VRFname, 236);
	CHECK_EQ_U64(IE_udpUnsafeExIDList, 529);
	CHECK_EQ_U64(IE_pathDelayMeanDeltaMicroseconds, 530);
	CHECK_EQ_U64(IE_pathDelaySumDeltaMicroseconds, 533);
	CHECK_EQ_U64(DPFIX_IPFIX_IE_IANA_MAX_ID, 533);
	CHECK(strcmp(dpfix_ipfix_type_name(dpfix_ipfix_ie_by_id(0, 154)->type),
			"dateTimeMicroseconds") == 0);
	CHECK(strcmp(dpfix_ipfix_semantics_name(dpfix_ipfix_ie_by_id(0, 1)->semantics),
			"deltaCounter") == 0);
}

/* Type and semantics names both ways, as RFC 7012 and the registry spell them. */
static void
test_type_names(void)
{
	enum dpfix_ipfix_type type;
	enum dpfix_ipfix_semantics sem;

	for (int t = 0; t < DPFIX_IPFIX_TYPE_COUNT; t++) {
		CHECK(dpfix_ipfix_type_by_name(dpfix_ipfix_type_name((enum dpfix_ipfix_type)t),
				&type) == 0);
		CHECK_EQ_U64(type, t);
	}
	for (int s = 0; s < DPFIX_IPFIX_SEM_COUNT; s++) {
		CHECK(dpfix_ipfix_semantics_by_name(
				dpfix_ipfix_semantics_name((enum dpfix_ipfix_semantics)s), &sem) == 0);
		CHECK_EQ_U64(sem, s);
	}
	CHECK(dpfix_ipfix_type_by_name("unsigned256", &type) == 0 && type == DPFIX_IPFIX_UNSIGNED256);
	CHECK(dpfix_ipfix_type_by_name("subTemplateMultiList", &type) == 0 &&
			type == DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST);
	CHECK(dpfix_ipfix_type_by_name("Unsigned8", &type) == -EINVAL);
	CHECK(dpfix_ipfix_type_by_name("", &type) == -EINVAL);
	CHECK(dpfix_ipfix_semantics_by_name("snmpGauge", &sem) == 0 && sem == DPFIX_IPFIX_SEM_SNMP_GAUGE);
	CHECK(dpfix_ipfix_semantics_by_name("", &sem) == 0 && sem == DPFIX_IPFIX_SEM_NONE);
	CHECK(dpfix_ipfix_semantics_by_name("counter", &sem) == -EINVAL);
	CHECK(strcmp(dpfix_ipfix_type_name(DPFIX_IPFIX_TYPE_COUNT), "unknown") == 0);
}

/* Unassigned ids, reserved ranges and near-miss names are not elements. */
static void
test_registry_unknown(void)
{
	static const uint16_t unassigned[] = {0, 65, 69, 97, 105, 127, 416, 419, 534, 4096, 0x7fff,
		0xffff};
	static const char *const not_names[] = {"", "octetdeltacount", "OctetDeltaCount",
		"octetDeltaCount ", "Reserved", "Unassigned", "reverseFlowId", "reverseflowId",
		"reverse", "29305:1", "_ie1"};

	for (size_t i = 0; i < sizeof(unassigned) / sizeof(unassigned[0]); i++) {
		CHECK(dpfix_ipfix_ie_by_id(0, unassigned[i]) == NULL);
		CHECK(dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE, unassigned[i]) == NULL);
	}
	for (size_t i = 0; i < sizeof(not_names) / sizeof(not_names[0]); i++)
		CHECK(dpfix_ipfix_ie_by_name(not_names[i]) == NULL);
	CHECK(dpfix_ipfix_ie_by_id(6871, 1) == NULL);
	CHECK(dpfix_ipfix_ie_by_id(1, 1) == NULL);
}

/* Every id has at most one element, every name one id; ids, names and the two
 * lookups agree for the whole table. This copy has 502 IANA elements, 17
 * of them deprecated, 25 not reversible. */
static void
test_registry_whole(void)
{
	unsigned int iana = 0, reverse = 0, deprecated = 0;

	for (uint32_t id = 0; id <= 0x7fff; id++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(0, (uint16_t)id);
		const struct dpfix_ipfix_ie *rev = dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE,
				(uint16_t)id);
		char want[160];

		if (ie == NULL) {
			CHECK(rev == NULL);
			continue;
		}
		iana++;
		deprecated += ie->status == DPFIX_IPFIX_STATUS_DEPRECATED;
		CHECK(ie->id == id && ie->pen == 0);
		CHECK(dpfix_ipfix_ie_by_name(ie->name) == ie);
		CHECK((unsigned int)ie->type < DPFIX_IPFIX_TYPE_COUNT);
		CHECK(!ie->has_range || ie->range_low <= ie->range_high);
		CHECK_EQ_U64(ie->reversible, rev != NULL);
		if (rev == NULL)
			continue;
		reverse++;
		snprintf(want, sizeof(want), "reverse%c%s", ie->name[0] >= 'a' && ie->name[0] <= 'z' ?
				ie->name[0] - 'a' + 'A' : ie->name[0], ie->name + 1);
		CHECK(strcmp(rev->name, want) == 0);
		CHECK(rev->id == id && rev->pen == DPFIX_IPFIX_PEN_REVERSE);
		CHECK(rev->type == ie->type && rev->semantics == ie->semantics);
		CHECK(same_units(rev->units, ie->units));
		CHECK(!rev->reversible);
		CHECK(dpfix_ipfix_ie_by_name(rev->name) == rev);
	}
	CHECK_EQ_U64(iana, 502);
	CHECK_EQ_U64(deprecated, 17);
	CHECK_EQ_U64(reverse, iana - 25);
}

/* RFC 5103 6.1: every element is reversible except the identifiers flowId,
 * templateId, observationDomainId, commonPropertiesId, the process configuration
 * (RFC 5102 5.2) and statistics (5.3) elements, paddingOctets and biflowDirection. */
static void
test_reverse_elements(void)
{
	static const uint16_t not_reversible[] = {
		148, 145, 149, 137,                             /* identifiers */
		130, 131, 173, 211, 212, 213, 214, 215, 216, 217, /* 5.2 configuration */
		40, 41, 42, 163, 164, 165, 166, 167, 168,       /* 5.3 statistics */
		210, 239,
	};
	/* Flow keys and other identifiers stay reversible (RFC 5103 6.1, last note). */
	static const uint16_t reversible[] = {4, 7, 8, 10, 14, 138, 141, 142, 143, 144, 152, 515};
	struct known_ie rev = known[0];

	rev.id = 1;
	check_known(dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE, 1), &rev,
			DPFIX_IPFIX_PEN_REVERSE, "reverseOctetDeltaCount");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE,
				known[i].id);
		char name[128];

		snprintf(name, sizeof(name), "reverse%c%s", known[i].name[0] >= 'a' ?
				known[i].name[0] - 'a' + 'A' : known[i].name[0], known[i].name + 1);
		if (ie == NULL)
			continue;
		check_known(ie, &known[i], DPFIX_IPFIX_PEN_REVERSE, name);
	}
	CHECK(dpfix_ipfix_ie_by_name("reverseVRFname") != NULL);
	CHECK(dpfix_ipfix_ie_by_name("reverseIPSecSPI") != NULL);
	CHECK(dpfix_ipfix_ie_by_name("reversePathDelaySumDeltaMicroseconds") ==
			dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE, 533));
	for (size_t i = 0; i < sizeof(not_reversible) / sizeof(not_reversible[0]); i++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(0, not_reversible[i]);

		CHECK(ie != NULL && !ie->reversible);
		CHECK(dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE, not_reversible[i]) == NULL);
	}
	CHECK(dpfix_ipfix_ie_by_name("reversePaddingOctets") == NULL);
	CHECK(dpfix_ipfix_ie_by_name("reverseBiflowDirection") == NULL);
	CHECK(dpfix_ipfix_ie_by_name("reverseTemplateId") == NULL);
	for (size_t i = 0; i < sizeof(reversible) / sizeof(reversible[0]); i++)
		CHECK(dpfix_ipfix_ie_by_id(DPFIX_IPFIX_PEN_REVERSE, reversible[i]) != NULL);
}

/* ---- enterprise elements ---- */

static void
test_enterprise_add(void)
{
	struct dpfix_ipfix_ie ie = {
		.pen = 6871, .id = 14, .name = "initialTCPFlags", .type = DPFIX_IPFIX_UNSIGNED8,
		.semantics = DPFIX_IPFIX_SEM_FLAGS, .reversible = true,
	};
	const struct dpfix_ipfix_ie *got, *rev;
	char units[] = "octets";

	dpfix_ipfix_ie_reset();
	CHECK(dpfix_ipfix_ie_add(&ie) == 0);
	got = dpfix_ipfix_ie_by_id(6871, 14);
	rev = dpfix_ipfix_ie_by_id(6871, 14 | DPFIX_IPFIX_IE_REVERSE_BIT);
	CHECK(got != NULL && got != &ie && strcmp(got->name, "initialTCPFlags") == 0);
	CHECK(got != NULL && got->type == DPFIX_IPFIX_UNSIGNED8 && got->units == NULL);
	CHECK(rev != NULL && strcmp(rev->name, "reverseInitialTCPFlags") == 0 && !rev->reversible);
	CHECK(dpfix_ipfix_ie_by_name("initialTCPFlags") == got);
	CHECK(dpfix_ipfix_ie_by_name("reverseInitialTCPFlags") == rev);

	/* The entry is a copy: the caller's strings may go away. */
	ie.id = 7;
	ie.name = "someOctets";
	ie.units = units;
	ie.reversible = false;
	ie.type = DPFIX_IPFIX_UNSIGNED64;
	CHECK(dpfix_ipfix_ie_add(&ie) == 0);
	units[0] = 'X';
	got = dpfix_ipfix_ie_by_id(6871, 7);
	CHECK(got != NULL && strcmp(got->units, "octets") == 0);
	CHECK(dpfix_ipfix_ie_by_id(6871, 7 | DPFIX_IPFIX_IE_REVERSE_BIT) == NULL);

	/* Refusals: taken ids and names, IANA's PENs, bad ids and names. */
	CHECK(dpfix_ipfix_ie_add(&ie) == -EEXIST);
	ie.id = 8;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EEXIST);          /* name taken */
	ie.name = "octetDeltaCount";
	CHECK(dpfix_ipfix_ie_add(&ie) == -EEXIST);          /* an IANA name */
	ie.name = "reverseOctetDeltaCount";
	CHECK(dpfix_ipfix_ie_add(&ie) == -EEXIST);
	ie.name = "fine";
	ie.pen = 0;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.pen = DPFIX_IPFIX_PEN_REVERSE;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.pen = 9;
	ie.id = 0;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.id = 0x8000;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.id = 0x4001;
	ie.reversible = true;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);          /* its reverse would be itself */
	ie.reversible = false;
	ie.id = 1;
	ie.name = "9lives";
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.name = "has space";
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.name = "12345:1";
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.name = "fine";
	ie.type = DPFIX_IPFIX_TYPE_COUNT;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.type = DPFIX_IPFIX_UNSIGNED8;
	ie.has_range = true;
	ie.range_low = 2;
	ie.range_high = 1;
	CHECK(dpfix_ipfix_ie_add(&ie) == -EINVAL);
	ie.has_range = false;
	CHECK(dpfix_ipfix_ie_add(&ie) == 0);
	CHECK(dpfix_ipfix_ie_by_id(9, 1) != NULL);
	/* A reverse twin whose id or name is taken refuses the pair. */
	ie.id = 2;
	ie.name = "twin";
	ie.reversible = true;
	CHECK(dpfix_ipfix_ie_add(&(struct dpfix_ipfix_ie){.pen = 9, .id = 0x4002, .name = "x"}) == 0);
	CHECK(dpfix_ipfix_ie_add(&ie) == -EEXIST);
	CHECK(dpfix_ipfix_ie_by_id(9, 2) == NULL);

	dpfix_ipfix_ie_reset();
	CHECK(dpfix_ipfix_ie_by_id(6871, 14) == NULL);
	CHECK(dpfix_ipfix_ie_by_name("reverseInitialTCPFlags") == NULL);
	CHECK(dpfix_ipfix_ie_by_id(0, 1) != NULL);
}

/* Many elements from many enterprises: both indexes stay sorted and complete. */
static void
test_enterprise_many(void)
{
	unsigned int missing = 0;

	dpfix_ipfix_ie_reset();
	for (uint32_t i = 0; i < 3000; i++) {
		char name[32];
		uint32_t pen = 1 + (i * 7919) % 13;
		uint16_t id = (uint16_t)(1 + (i * 104729) % 30000);
		struct dpfix_ipfix_ie ie = {.pen = pen, .id = id, .name = name,
			.type = DPFIX_IPFIX_OCTET_ARRAY};

		snprintf(name, sizeof(name), "e%uN%u", pen, id);
		dpfix_ipfix_ie_add(&ie);
	}
	for (uint32_t i = 0; i < 3000; i++) {
		char name[32];
		uint32_t pen = 1 + (i * 7919) % 13;
		uint16_t id = (uint16_t)(1 + (i * 104729) % 30000);
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(pen, id);

		snprintf(name, sizeof(name), "e%uN%u", pen, id);
		if (ie == NULL || strcmp(ie->name, name) != 0 || dpfix_ipfix_ie_by_name(name) != ie)
			missing++;
	}
	CHECK_EQ_U64(missing, 0);
	CHECK(dpfix_ipfix_ie_by_id(14, 1) == NULL);
	dpfix_ipfix_ie_reset();
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *
temp_file(const char *text)
{
	static char path[64];
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/dpfix-ie-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return "/nonexistent";
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text; returns the result and leaves the message in err. */
static int
load_text(const char *text, char *err, size_t errlen, char *path, size_t pathlen)
{
	const char *p = temp_file(text);
	int ret;

	snprintf(path, pathlen, "%s", p);
	err[0] = '\0';
	ret = dpfix_ipfix_ie_load(p, err, errlen);
	unlink(p);
	return ret;
}

static void
test_enterprise_file(void)
{
	static const char good[] =
		"# CERT's elements (PEN 6871), a subset\n"
		"\n"
		"6871, 14, initialTCPFlags, unsigned8, flags, , , reversible\n"
		"6871,15,unionTCPFlags,unsigned8,flags,,,reversible\r\n"
		"  6871 , 21 , reverseFlowDeltaMilliseconds , unsigned32 , quantity , milliseconds\n"
		"6871, 0x1e, silkAppLabel, unsigned16, identifier, , 0-65535\n"
		"40000, 1, vendorName, string\n"
		"\t# indented comment\n"
		"40000, 2, vendorBlob, octetArray, default, , , \n";
	const struct dpfix_ipfix_ie *ie;
	char err[512], path[64];

	dpfix_ipfix_ie_reset();
	CHECK_EQ_U64(load_text(good, err, sizeof(err), path, sizeof(path)), 8); /* 6 + 2 reverse */
	if (err[0] != '\0')
		fprintf(stderr, "  %s\n", err);
	ie = dpfix_ipfix_ie_by_id(6871, 14);
	CHECK(ie != NULL && strcmp(ie->name, "initialTCPFlags") == 0 &&
			ie->type == DPFIX_IPFIX_UNSIGNED8 && ie->semantics == DPFIX_IPFIX_SEM_FLAGS);
	ie = dpfix_ipfix_ie_by_id(6871, 14 | 0x4000);
	CHECK(ie != NULL && strcmp(ie->name, "reverseInitialTCPFlags") == 0);
	ie = dpfix_ipfix_ie_by_id(6871, 15 | 0x4000);
	CHECK(ie != NULL && strcmp(ie->name, "reverseUnionTCPFlags") == 0);
	ie = dpfix_ipfix_ie_by_id(6871, 21);
	CHECK(ie != NULL && strcmp(ie->name, "reverseFlowDeltaMilliseconds") == 0 &&
			ie->units != NULL && strcmp(ie->units, "milliseconds") == 0 &&
			ie->type == DPFIX_IPFIX_UNSIGNED32 && !ie->has_range);
	ie = dpfix_ipfix_ie_by_name("silkAppLabel");
	CHECK(ie != NULL && ie->pen == 6871 && ie->id == 30 && ie->has_range &&
			ie->range_low == 0 && ie->range_high == 65535 && ie->units == NULL);
	ie = dpfix_ipfix_ie_by_name("vendorName");
	CHECK(ie != NULL && ie->type == DPFIX_IPFIX_STRING && ie->semantics == DPFIX_IPFIX_SEM_NONE);
	ie = dpfix_ipfix_ie_by_name("vendorBlob");
	CHECK(ie != NULL && ie->type == DPFIX_IPFIX_OCTET_ARRAY && !ie->reversible);

	/* Loading the same file again: every element is already there. */
	CHECK(load_text(good, err, sizeof(err), path, sizeof(path)) == -EEXIST);
	CHECK(dpfix_ipfix_ie_by_name("vendorBlob") != NULL);
	dpfix_ipfix_ie_reset();
}

/* Each bad line: the error names file:line, the reason and the value, and the
 * good lines before it are not kept. */
static void
test_enterprise_file_errors(void)
{
	/* Each case follows three lines: a comment, a blank line and a good element. */
	static const struct {
		const char *lines;
		unsigned int line;      /* of the whole file */
		int ret;
		const char *reason;
		const char *value;
		bool preload;           /* (6871, 16387) "taken" exists beforehand */
	} bad[] = {
		{"6871, 14, x\n", 4, -EINVAL, "found 3 columns", "'6871, 14, x'"},
		{"6871,1,a,string,,,,,\n", 4, -EINVAL, "more than 8", "'6871,1,a,string,,,,,'"},
		{"cert, 14, x, unsigned8\n", 4, -EINVAL, "PEN must be a number", "'cert'"},
		{"0, 14, x, unsigned8\n", 4, -EINVAL, "PEN must be a number", "'0'"},
		{"4294967296, 14, x, unsigned8\n", 4, -EINVAL, "PEN must be", "'4294967296'"},
		{"-1, 14, x, unsigned8\n", 4, -EINVAL, "PEN must be", "'-1'"},
		{"29305, 14, x, unsigned8\n", 4, -EINVAL, "RFC 5103", "'29305'"},
		{"6871, 0, x, unsigned8\n", 4, -EINVAL, "element id must be", "'0'"},
		{"6871, 32768, x, unsigned8\n", 4, -EINVAL, "element id must be", "'32768'"},
		{"6871, 12x, x, unsigned8\n", 4, -EINVAL, "element id must be", "'12x'"},
		{"6871, 14, x, unsigned7\n", 4, -EINVAL, "unknown abstract data type", "'unsigned7'"},
		{"6871, 14, x, unsigned8, counter\n", 4, -EINVAL, "unknown data type semantics",
			"'counter'"},
		{"6871, 14, x, unsigned8, , , 5\n", 4, -EINVAL, "range must be LOW-HIGH", "'5'"},
		{"6871, 14, x, unsigned8, , , 9-1\n", 4, -EINVAL, "range must be LOW-HIGH", "'9-1'"},
		{"6871, 14, x, unsigned8, , , a-b\n", 4, -EINVAL, "range must be LOW-HIGH", "'a-b'"},
		{"6871, 14, x, unsigned8, , , , yes\n", 4, -EINVAL, "'reversible' or empty", "'yes'"},
		{"6871, 16384, x, unsigned8, , , , reversible\n", 4, -EINVAL, "below 16384",
			"'16384'"},
		{"6871, 14, 1x, unsigned8\n", 4, -EINVAL, "letters and digits", "'1x'"},
		{"6871, 14, a-b, unsigned8\n", 4, -EINVAL, "letters and digits", "'a-b'"},
		{"6871, 14, octetDeltaCount, unsigned8\n", 4, -EEXIST, "name already taken",
			"'octetDeltaCount'"},
		{"6871, 1, good, unsigned8\n", 4, -EEXIST, "6871:1 is already defined as", "'first'"},
		{"6871, 2, first, unsigned8\n", 4, -EEXIST, "name already taken", "'first'"},
		{"6871, 16385, x, unsigned8\n6871, 1, y, unsigned8, , , , reversible\n", 5, -EEXIST,
			"6871:1 is already defined as", "'first'"},
		{"6871, 3, y, unsigned8, , , , reversible\n", 4, -EEXIST,
			"reverse element 6871:16387 is already defined as", "'taken'", true},
		{"6871, 4, aken, unsigned8, , , , reversible\n6871, 5, reverseAken, unsigned8\n", 5,
			-EEXIST, "name already taken", "'reverseAken'"},
		{"6871, 4, a, unsigned8\n\x01\x02\x03\n", 5, -EINVAL, "found 1 columns",
			"'\x01\x02\x03'"},
	};
	char err[512], path[64], want[256], text[512];
	int ret;

	dpfix_ipfix_ie_reset();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i].preload)
			dpfix_ipfix_ie_add(&(struct dpfix_ipfix_ie){.pen = 6871, .id = 16387,
					.name = "taken"});
		snprintf(text, sizeof(text), "# test %zu\n\n6871, 1, first, unsigned8\n%s", i,
				bad[i].lines);
		ret = load_text(text, err, sizeof(err), path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%u: ", path, bad[i].line);
		if (ret != bad[i].ret || strncmp(err, want, strlen(want)) != 0 ||
				strstr(err, bad[i].reason) == NULL || strstr(err, bad[i].value) == NULL) {
			fprintf(stderr, "  case %zu: ret %d, err \"%s\"; wanted %d, \"%s...%s...%s\"\n",
					i, ret, err, bad[i].ret, want, bad[i].reason, bad[i].value);
			CHECK(0);
		}
		/* Nothing of a file with an error stays. */
		CHECK(dpfix_ipfix_ie_by_name("first") == NULL);
		CHECK(dpfix_ipfix_ie_by_id(6871, 1) == NULL);
		CHECK(dpfix_ipfix_ie_by_id(6871, 4) == NULL);
		CHECK(dpfix_ipfix_ie_by_id(6871, 16385) == NULL);
		CHECK(dpfix_ipfix_ie_by_name("reverseAken") == NULL);
		dpfix_ipfix_ie_reset();
	}

	/* Lines too long, NUL bytes, missing files. */
	{
		char longline[1100];

		memset(longline, 'a', sizeof(longline) - 2);
		longline[sizeof(longline) - 2] = '\n';
		longline[sizeof(longline) - 1] = '\0';
		ret = load_text(longline, err, sizeof(err), path, sizeof(path));
		snprintf(want, sizeof(want), "%s:1: line longer than 1023 characters 'aaaa", path);
		CHECK(ret == -EINVAL && strncmp(err, want, strlen(want)) == 0);
	}
	{
		const char *p = temp_file("");
		FILE *f = fopen(p, "w");

		fwrite("6871, 1, a\0b, unsigned8\n", 1, 24, f);
		fclose(f);
		ret = dpfix_ipfix_ie_load(p, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:1: line holds a NUL byte", p);
		CHECK(ret == -EINVAL && strncmp(err, want, strlen(want)) == 0);
		unlink(p);
	}
	ret = dpfix_ipfix_ie_load("/nonexistent/elements.csv", err, sizeof(err));
	CHECK(ret == -ENOENT);
	CHECK(strcmp(err, "/nonexistent/elements.csv: cannot open: No such file or directory") == 0);
	CHECK(load_text("", err, sizeof(err), path, sizeof(path)) == 0);
	CHECK(load_text("# nothing\n\n", err, sizeof(err), path, sizeof(path)) == 0);
}

/* ---- values: integers ---- */

static const enum dpfix_ipfix_type unsigned_types[] = {DPFIX_IPFIX_UNSIGNED8,
	DPFIX_IPFIX_UNSIGNED16, DPFIX_IPFIX_UNSIGNED32, DPFIX_IPFIX_UNSIGNED64};
static const enum dpfix_ipfix_type signed_types[] = {DPFIX_IPFIX_SIGNED8, DPFIX_IPFIX_SIGNED16,
	DPFIX_IPFIX_SIGNED32, DPFIX_IPFIX_SIGNED64};

/* Encodes val in len octets, checks the octets (if want is given) and decodes them
 * back into *back. Returns the encoder's result. */
static int
round_trip(const struct dpfix_ipfix_value *val, uint16_t len, const uint8_t *want,
		struct dpfix_ipfix_value *back)
{
	uint8_t buf[64], canary[64];
	int ret;

	memset(buf, 0xa5, sizeof(buf));
	memset(canary, 0xa5, sizeof(canary));
	ret = dpfix_ipfix_value_encode(val, buf, len);
	/* Nothing past the field is touched, whatever the outcome. */
	CHECK(memcmp(buf + len, canary, sizeof(buf) - len) == 0);
	if (ret != 0)
		return ret;
	if (want != NULL && memcmp(buf, want, len) != 0) {
		fprintf(stderr, "  type %s in %u octets: wrong octets\n",
				dpfix_ipfix_type_name(val->type), len);
		CHECK(0);
	}
	CHECK(dpfix_ipfix_value_decode(val->type, buf, len, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, back) == 0);
	CHECK(back->type == val->type);
	return 0;
}

static void
test_unsigned_values(void)
{
	struct dpfix_ipfix_value v, back;
	uint8_t raw[9] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
	uint64_t x;

	for (size_t t = 0; t < 4; t++) {
		uint16_t size = dpfix_ipfix_type_size(unsigned_types[t]);

		for (uint16_t len = 1; len <= size; len++) {
			uint64_t max = len == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * len)) - 1;
			const uint64_t values[] = {0, 1, 0x80, max / 3, max - 1, max};

			v = (struct dpfix_ipfix_value){.type = unsigned_types[t]};
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
				v.u = values[i];
				CHECK(round_trip(&v, len, NULL, &back) == 0 && back.u == values[i]);
			}
			/* One more than fits is refused, not truncated. */
			if (len < 8) {
				v.u = max + 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
				v.u = UINT64_MAX;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
			}
		}
		/* Lengths the type cannot have. */
		v = (struct dpfix_ipfix_value){.type = unsigned_types[t], .u = 1};
		CHECK(round_trip(&v, 0, NULL, &back) == -EINVAL);
		CHECK(round_trip(&v, (uint16_t)(size + 1), NULL, &back) == -EINVAL);
		CHECK(dpfix_ipfix_value_decode(unsigned_types[t], raw, 0, 0, &back) == -EBADMSG);
		CHECK(dpfix_ipfix_value_decode(unsigned_types[t], raw, (uint16_t)(size + 1), 0,
				&back) == -EBADMSG);
	}
	/* Big-endian octets, reduced sizes drop leading zeros only (RFC 7011 6.2). */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED64, .u = 0x010203};
	CHECK(round_trip(&v, 3, (const uint8_t[]){1, 2, 3}, &back) == 0 && back.u == 0x010203);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0, 1, 2, 3}, &back) == 0);
	CHECK(round_trip(&v, 2, NULL, &back) == -ERANGE);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED8, .u = 256};
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);
	CHECK(dpfix_ipfix_get_unsigned(raw, 8, &x) == 0 && x == 0x0102030405060708);
	CHECK(dpfix_ipfix_get_unsigned(raw, 9, &x) == -EBADMSG);
	CHECK(dpfix_ipfix_put_unsigned(raw, 9, 1) == -EINVAL);
}

/* The two unsigned readers at every length: get refuses what no unsigned type can
 * be, read (for callers that checked the template) takes at most the first 8 octets. */
static void
test_unsigned_readers(void)
{
	static const uint8_t raw[10] = {0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a};

	for (uint16_t len = 0; len <= sizeof(raw); len++) {
		uint64_t want = 0, x = 42;

		for (uint16_t i = 0; i < len && i < 8; i++)
			want = want << 8 | raw[i];
		CHECK_EQ_U64(dpfix_ipfix_read_unsigned(raw, len), want);
		if (len >= 1 && len <= 8) {
			CHECK(dpfix_ipfix_get_unsigned(raw, len, &x) == 0);
			CHECK_EQ_U64(x, want);
		} else {
			CHECK(dpfix_ipfix_get_unsigned(raw, len, &x) == -EBADMSG);
			CHECK_EQ_U64(x, 42);
		}
	}
}

static void
test_signed_values(void)
{
	struct dpfix_ipfix_value v, back;

	for (size_t t = 0; t < 4; t++) {
		uint16_t size = dpfix_ipfix_type_size(signed_types[t]);

		for (uint16_t len = 1; len <= size; len++) {
			int64_t max = len == 8 ? INT64_MAX : (INT64_C(1) << (8 * len - 1)) - 1;
			int64_t min = -max - 1;
			const int64_t values[] = {0, 1, -1, 127, -128, max, min, max / 7, min / 7};

			v = (struct dpfix_ipfix_value){.type = signed_types[t]};
			for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
				if (values[i] > max || values[i] < min)
					continue;
				v.i = values[i];
				CHECK(round_trip(&v, len, NULL, &back) == 0 && back.i == values[i]);
			}
			if (len < 8) {
				v.i = max + 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
				v.i = min - 1;
				CHECK(round_trip(&v, len, NULL, &back) == -ERANGE);
			}
		}
		v = (struct dpfix_ipfix_value){.type = signed_types[t]};
		CHECK(round_trip(&v, (uint16_t)(size + 1), NULL, &back) == -EINVAL);
	}
	/* Two's complement, sign-extended from the reduced size's own top bit. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED32, .i = -1};
	CHECK(round_trip(&v, 3, (const uint8_t[]){0xff, 0xff, 0xff}, &back) == 0 && back.i == -1);
	v.i = -8388608;
	CHECK(round_trip(&v, 3, (const uint8_t[]){0x80, 0, 0}, &back) == 0 && back.i == -8388608);
	v.i = 8388607;
	CHECK(round_trip(&v, 3, (const uint8_t[]){0x7f, 0xff, 0xff}, &back) == 0);
	v.i = 128;
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);   /* 0x80 would read as -128 */
	CHECK(round_trip(&v, 2, (const uint8_t[]){0x00, 0x80}, &back) == 0 && back.i == 128);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED64, .i = INT64_MIN};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x80, 0, 0, 0, 0, 0, 0, 0}, &back) == 0 &&
			back.i == INT64_MIN);
	v.i = -2;
	CHECK(round_trip(&v, 2, (const uint8_t[]){0xff, 0xfe}, &back) == 0 && back.i == -2);
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_SIGNED8, .i = -128};
	CHECK(round_trip(&v, 1, (const uint8_t[]){0x80}, &back) == 0 && back.i == -128);
}

/* ---- values: floats ---- */

static uint64_t
bits64(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static void
test_float_values(void)
{
	const double doubles[] = {0.0, -0.0, 1.5, -0.25, 0.1, 1e-310 /* subnormal */, 1.7976931348623157e308,
		2.2250738585072014e-308, INFINITY, -INFINITY};
	const float floats[] = {0.0f, -0.0f, 1.5f, 0.1f, 3.4028235e38f, 1.17549435e-38f,
		1e-45f /* subnormal */, INFINITY, -INFINITY};
	struct dpfix_ipfix_value v, back;

	/* float64 at full size: bit-exact. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT64};
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		v.f = doubles[i];
		CHECK(round_trip(&v, 8, NULL, &back) == 0 && bits64(back.f) == bits64(doubles[i]));
	}
	v.f = 0.1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a},
			&back) == 0);
	v.f = NAN;
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && isnan(back.f));
	/* float32, and float64 reduced to 4 octets (RFC 7011 6.2): what float32 holds. */
	for (int reduced = 0; reduced < 2; reduced++) {
		v = (struct dpfix_ipfix_value){.type = reduced ? DPFIX_IPFIX_FLOAT64 : DPFIX_IPFIX_FLOAT32};
		for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
			v.f = floats[i];
			CHECK(round_trip(&v, 4, NULL, &back) == 0 && bits64(back.f) == bits64(floats[i]));
		}
		v.f = 1.5;
		CHECK(round_trip(&v, 4, (const uint8_t[]){0x3f, 0xc0, 0, 0}, &back) == 0);
		v.f = NAN;
		CHECK(round_trip(&v, 4, NULL, &back) == 0 && isnan(back.f));
		/* Finite but beyond float32: refused, not turned into infinity. */
		v.f = 1e39;
		CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
		v.f = -1e300;
		CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
		v.f = 0.1;  /* precision is what float32 has: the RFC's price for 4 octets */
		CHECK(round_trip(&v, 4, NULL, &back) == 0 && back.f == (double)0.1f);
	}
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT32, .f = 1};
	CHECK(round_trip(&v, 8, NULL, &back) == -EINVAL);
	v.type = DPFIX_IPFIX_FLOAT64;
	CHECK(round_trip(&v, 2, NULL, &back) == -EINVAL);
	CHECK(round_trip(&v, 6, NULL, &back) == -EINVAL);
}

/* ---- values: booleans, addresses, strings, octets ---- */

static void
test_boolean_values(void)
{
	struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_BOOLEAN, .b = true}, back;
	const uint8_t bad[] = {0, 3, 0x7f, 0x80, 0xff};

	CHECK(round_trip(&v, 1, (const uint8_t[]){1}, &back) == 0 && back.b);
	v.b = false;
	CHECK(round_trip(&v, 1, (const uint8_t[]){2}, &back) == 0 && !back.b);
	/* RFC 7011 6.1.5: any other octet is not a boolean: an error to report. */
	for (size_t i = 0; i < sizeof(bad); i++)
		CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_BOOLEAN, &bad[i], 1, 0, &back) == -EBADMSG);
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){0, 1}, 2, 0, &back) ==
			-EBADMSG);
	CHECK(round_trip(&v, 2, NULL, &back) == -EINVAL);
}

static void
test_address_values(void)
{
	static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc};
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const struct {
		enum dpfix_ipfix_type type;
		const uint8_t *addr;
		uint16_t len;
	} cases[] = {
		{DPFIX_IPFIX_MAC_ADDRESS, mac, 6},
		{DPFIX_IPFIX_IPV4_ADDRESS, v4, 4},
		{DPFIX_IPFIX_IPV6_ADDRESS, v6, 16},
	};
	struct dpfix_ipfix_value v, back;

	for (size_t i = 0; i < 3; i++) {
		v = (struct dpfix_ipfix_value){.type = cases[i].type};
		memcpy(v.addr, cases[i].addr, cases[i].len);
		CHECK(round_trip(&v, cases[i].len, cases[i].addr, &back) == 0 &&
				memcmp(back.addr, cases[i].addr, cases[i].len) == 0);
		/* Addresses have internal structure: no reduced size (6.2). */
		CHECK(round_trip(&v, (uint16_t)(cases[i].len - 1), NULL, &back) == -EINVAL);
		CHECK(round_trip(&v, (uint16_t)(cases[i].len + 1), NULL, &back) == -EINVAL);
		CHECK(dpfix_ipfix_value_decode(cases[i].type, v6, (uint16_t)(cases[i].len - 1), 0,
				&back) == -EBADMSG);
	}
}

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		int next;               /* dpfix_ipfix_utf8_next at s[0] */
	} cases[] = {
		{"a", 1},
		{"\xc3\xa9", 2},                /* e acute */
		{"\xe2\x82\xac", 3},            /* euro sign */
		{"\xf0\x9f\x98\x80", 4},        /* U+1F600 */
		{"\xf4\x8f\xbf\xbf", 4},        /* U+10FFFF, the last */
		{"\xed\x9f\xbf", 3},            /* U+D7FF, just below the surrogates */
		{"\xee\x80\x80", 3},            /* U+E000, just above */
		{"\x80", -1},                   /* a lone continuation byte */
		{"\xc0\x80", -1},               /* overlong NUL */
		{"\xc1\xbf", -1},               /* overlong */
		{"\xe0\x80\x80", -1},           /* overlong 3-byte */
		{"\xe0\x9f\xbf", -1},
		{"\xed\xa0\x80", -1},           /* surrogate U+D800 */
		{"\xf0\x8f\xbf\xbf", -1},       /* overlong 4-byte */
		{"\xf4\x90\x80\x80", -1},       /* above U+10FFFF */
		{"\xf5\x80\x80\x80", -1},
		{"\xff", -1},
		{"\xe2\x82", -2},               /* cut short after two bytes */
		{"\xe2\x82" "A", -2},
		{"\xf0\x9f\x98", -3},
		{"\xc3", -1},
		{"\xc3" "A", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *s = (const uint8_t *)cases[i].s;
		size_t len = strlen(cases[i].s);
		int n = dpfix_ipfix_utf8_next(s, len);

		if (n != cases[i].next)
			fprintf(stderr, "  case %zu: utf8_next %d, wanted %d\n", i, n, cases[i].next);
		CHECK(n == cases[i].next);
		CHECK(dpfix_ipfix_utf8_valid(s, len) == ((size_t)cases[i].next == len));
	}
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"", 0));
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"a\0b", 3));
	CHECK(dpfix_ipfix_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac", 9));
	CHECK(!dpfix_ipfix_utf8_valid((const uint8_t *)"caf\xc3\xa9 \xe2\x82", 8));
}

static void
test_string_octet_values(void)
{
	static const uint8_t blob[5] = {0xde, 0xad, 0x00, 0xbe, 0xef};
	struct dpfix_ipfix_value v, back;
	uint8_t buf[8];

	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_STRING,
		.octets = {(const uint8_t *)"eth0", 4}};
	CHECK(round_trip(&v, 4, (const uint8_t *)"eth0", &back) == 0 && back.octets.len == 4 &&
			memcmp(back.octets.p, "eth0", 4) == 0);
	/* A string shorter than a fixed-length field is padded with zeros. */
	CHECK(round_trip(&v, 8, (const uint8_t *)"eth0\0\0\0\0", &back) == 0 &&
			back.octets.len == 8);
	CHECK(round_trip(&v, 3, NULL, &back) == -ERANGE);
	v.octets.p = (const uint8_t *)"bad\xe2\x82";
	v.octets.len = 5;
	CHECK(round_trip(&v, 5, NULL, &back) == -EILSEQ);   /* exporters MUST NOT (6.1.6) */
	/* A collector sees ill-formed UTF-8 as such, with the octets still at hand. */
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_STRING, (const uint8_t *)"bad\xe2\x82", 5, 0,
			&back) == -EILSEQ && back.octets.len == 5);
	CHECK(dpfix_ipfix_value_decode(DPFIX_IPFIX_STRING, buf, 0, 0, &back) == 0 &&
			back.octets.len == 0);

	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_OCTET_ARRAY, .octets = {blob, 5}};
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.len == 5 &&
			memcmp(back.octets.p, blob, 5) == 0);
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);    /* octet arrays are not padded */
	CHECK(round_trip(&v, 6, NULL, &back) == -ERANGE);
	v.octets.len = 0;
	CHECK(round_trip(&v, 0, NULL, &back) == 0 && back.octets.len == 0);
	/* The RFC 6313 lists stay opaque octets. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_BASIC_LIST, .octets = {blob, 5}};
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.p != NULL);
	v.type = DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST;
	CHECK(round_trip(&v, 5, blob, &back) == 0 && back.octets.len == 5);
}

static void
test_unsigned256_values(void)
{
	uint8_t full[32] = {0}, bits[32];
	struct dpfix_ipfix_value v, back;

	for (int i = 0; i < 32; i++)
		bits[i] = (uint8_t)(0x11 * (i % 15 + 1));
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_UNSIGNED256, .octets = {bits, 32}};
	CHECK(round_trip(&v, 32, bits, &back) == 0 && back.octets.len == 32 &&
			memcmp(back.octets.p, bits, 32) == 0);
	CHECK(round_trip(&v, 31, NULL, &back) == -ERANGE);
	/* Leading zero octets may be dropped (reduced size) or added. */
	full[30] = 0x01;
	full[31] = 0x02;
	v.octets.p = full;
	CHECK(round_trip(&v, 2, (const uint8_t[]){1, 2}, &back) == 0 && back.octets.len == 2);
	CHECK(round_trip(&v, 1, NULL, &back) == -ERANGE);
	v.octets.p = full + 30;
	v.octets.len = 2;
	CHECK(round_trip(&v, 32, full, &back) == 0);
	CHECK(round_trip(&v, 33, NULL, &back) == -EINVAL);
	CHECK(round_trip(&v, 0, NULL, &back) == -EINVAL);
}

/* ---- values: times ---- */

#define NTP_OFFSET INT64_C(2208988800)

static struct dpfix_ipfix_value
time_value(enum dpfix_ipfix_type type, int64_t sec, uint32_t nsec)
{
	return (struct dpfix_ipfix_value){.type = type, .t = {.sec = sec, .nsec = nsec}};
}

/* Decodes an NTP timestamp (seconds, fraction) of type around pivot. */
static struct dpfix_ipfix_time
ntp_decode(enum dpfix_ipfix_type type, uint32_t sec, uint32_t frac, int64_t pivot)
{
	uint8_t b[8];
	struct dpfix_ipfix_value v;

	dpfix_ipfix_put_unsigned(b, 4, sec);
	dpfix_ipfix_put_unsigned(b + 4, 4, frac);
	CHECK(dpfix_ipfix_value_decode(type, b, 8, pivot, &v) == 0);
	return v.t;
}

static void
test_time_seconds_milliseconds(void)
{
	struct dpfix_ipfix_value v, back;

	v = time_value(DPFIX_IPFIX_DATETIME_SECONDS, 0, 0);
	CHECK(round_trip(&v, 4, (const uint8_t[]){0, 0, 0, 0}, &back) == 0 && back.t.sec == 0);
	v.t.sec = 1700000000;
	v.t.nsec = 999999999;   /* floored: a start time is never reported late */
	CHECK(round_trip(&v, 4, (const uint8_t[]){0x65, 0x53, 0xf1, 0x00}, &back) == 0 &&
			back.t.sec == 1700000000 && back.t.nsec == 0);
	v.t.sec = UINT32_MAX;   /* 2106-02-07T06:28:15Z, the last */
	v.t.nsec = 0;
	CHECK(round_trip(&v, 4, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, &back) == 0 &&
			back.t.sec == UINT32_MAX);
	v.t.sec = (int64_t)UINT32_MAX + 1;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	v.t.sec = -1;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	v.t.sec = 0;
	v.t.nsec = 1000000000;
	CHECK(round_trip(&v, 4, NULL, &back) == -ERANGE);
	CHECK(round_trip(&v, 8, NULL, &back) == -EINVAL);   /* no reduced size for times */

	v = time_value(DPFIX_IPFIX_DATETIME_MILLISECONDS, 1700000000, 123999999);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b},
			&back) == 0 && back.t.sec == 1700000000 && back.t.nsec == 123000000);
	v.t = (struct dpfix_ipfix_time){0, 1000000};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}, &back) == 0 &&
			back.t.sec == 0 && back.t.nsec == 1000000);
	/* The largest: UINT64_MAX milliseconds. */
	v.t = (struct dpfix_ipfix_time){(int64_t)(UINT64_MAX / 1000), (UINT64_MAX % 1000) * 1000000};
	CHECK(round_trip(&v, 8, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			&back) == 0 && back.t.sec == v.t.sec && back.t.nsec == v.t.nsec);
	v.t.sec++;
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t = (struct dpfix_ipfix_time){-1, 0};
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	CHECK(round_trip(&v, 4, NULL, &back) == -EINVAL);
}

/* Every microsecond of a second, and nanoseconds across the second, come back
 * exactly through the NTP fraction (RFC 7011 6.1.9, 6.1.10). */
static void
test_time_ntp_exact(void)
{
	struct dpfix_ipfix_value v, back;
	uint32_t bad_us = 0, bad_ns = 0, low_bits = 0;
	uint8_t b[8];

	for (uint32_t us = 0; us < 1000000; us++) {
		v = time_value(DPFIX_IPFIX_DATETIME_MICROSECONDS, 1700000000, us * 1000 + us % 1000);
		if (dpfix_ipfix_value_encode(&v, b, 8) != 0 ||
				dpfix_ipfix_value_decode(v.type, b, 8, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) != 0 ||
				back.t.sec != 1700000000 || back.t.nsec != us * 1000)
			bad_us++;
		low_bits += b[7] != 0 || (b[6] & 0x07) != 0; /* the 11 ignored bits */
	}
	for (uint32_t ns = 0; ns < 1000000000; ns += 997) {
		v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 1700000000, ns);
		if (dpfix_ipfix_value_encode(&v, b, 8) != 0 ||
				dpfix_ipfix_value_decode(v.type, b, 8, DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) != 0 ||
				back.t.sec != 1700000000 || back.t.nsec != ns)
			bad_ns++;
	}
	CHECK_EQ_U64(bad_us, 0);
	CHECK_EQ_U64(bad_ns, 0);
	CHECK_EQ_U64(low_bits, 0);

	/* Known octets: 0.5 s is fraction 0x80000000; 1 ns is 4.29 units, so 4. */
	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 500000000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x80, 0, 0, 0}, &back) == 0);
	v.t.nsec = 1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0, 0, 0, 4}, &back) == 0 &&
			back.t.nsec == 1);
	v.t.nsec = 999999999;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0xff, 0xff, 0xff, 0xfc},
			&back) == 0 && back.t.nsec == 999999999);
	/* Microseconds: the fraction is a multiple of 2^11, nearest to the microsecond. */
	v = time_value(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0, 1000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x10, 0x00},
			&back) == 0 && back.t.nsec == 1000);
	v.t.nsec = 7000;        /* 14.68 units of 2^-21 s: nearest is 15, not 14 */
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x78, 0x00},
			&back) == 0 && back.t.nsec == 7000);
	v.t.nsec = 500000000;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0x83, 0xaa, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x00},
			&back) == 0 && back.t.nsec == 500000000);
	v.t.nsec = 999999999;   /* floored to 999999 us */
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && back.t.nsec == 999999000 && back.t.sec == 0);

	/* Decoding rounds to the nearest unit, carrying into the next second. */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0xffffffff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).sec == 1);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0xffffffff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 0);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0x83aa7e80, 0xfffff800,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).sec == 1);
	/* The low 11 fraction bits carry no microseconds and are ignored (6.1.9). */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0x83aa7e80, 0x800007ff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 500000000);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0x800007ff,
			DPFIX_IPFIX_NTP_PIVOT_DEFAULT).nsec == 500000477);

	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 1000000000);
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t = (struct dpfix_ipfix_time){-NTP_OFFSET - 1, 0};   /* before 1900 */
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	CHECK(round_trip(&v, 8, NULL, &back) == -ERANGE);
	v.t.sec = 0;
	CHECK(round_trip(&v, 4, NULL, &back) == -EINVAL);
}

/* NTP eras (RFC 7011 5.2): the era is implicit on the wire, and the decoder picks
 * the one that puts the time within 2^31 s of its pivot. */
static void
test_time_ntp_eras(void)
{
	const int64_t era1 = INT64_C(4294967296) - NTP_OFFSET;  /* 2036-02-07T06:28:16Z */
	const int64_t pivot = DPFIX_IPFIX_NTP_PIVOT_DEFAULT;
	struct dpfix_ipfix_value v, back;
	struct dpfix_ipfix_time t;

	CHECK_EQ_U64(era1, pivot);
	/* The last second of era 0 and the first of era 1. */
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0xffffffff, 0, pivot);
	CHECK(t.sec == era1 - 1 && t.nsec == 0);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, pivot);
	CHECK(t.sec == era1 && t.nsec == 0);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_MICROSECONDS, 0, 0x80000000, pivot);
	CHECK(t.sec == era1 && t.nsec == 500000000);
	/* The default window's ends: 1968-01-20T03:14:08Z and 2104-02-26T09:42:23Z. */
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x80000000, 0, pivot);
	CHECK(t.sec == -61505152);
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x7fffffff, 0, pivot);
	CHECK(t.sec == INT64_C(4233462143));
	t = ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0, pivot);
	CHECK(t.sec == 0);
	/* Other pivots: around 1970, 1900 is too far and 2036 is taken; around 2200,
	 * NTP second 0 is the start of era 2 (2172). */
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, 0).sec == era1);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0x83aa7e80, 0, 0).sec == 0);
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, INT64_C(7258118400)).sec ==
			era1 + INT64_C(4294967296));
	CHECK(ntp_decode(DPFIX_IPFIX_DATETIME_NANOSECONDS, 0, 0, -NTP_OFFSET).sec == -NTP_OFFSET);

	/* Encoding leaves the era implicit: era 1 times start again at second 0. */
	v = time_value(DPFIX_IPFIX_DATETIME_NANOSECONDS, era1, 250000000);
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1 && back.t.nsec == 250000000);
	v.t.sec = era1 - 1;
	CHECK(round_trip(&v, 8, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1 - 1);
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	v.t.sec = era1 + 3600;
	CHECK(round_trip(&v, 8, NULL, &back) == 0 && back.t.sec == era1 + 3600 &&
			back.t.nsec == 250000000);
	v.t.sec = -NTP_OFFSET;   /* 1900-01-01T00:00:00Z: NTP zero, read back in era 1 */
	CHECK(round_trip(&v, 8, (const uint8_t[]){0, 0, 0, 0, 0x40, 0, 0, 0}, &back) == 0 &&
			back.t.sec == era1);
}

/* ---- variable length (RFC 7011 7) and whole fields ---- */

static void
test_varlen_prefix(void)
{
	static const struct {
		uint32_t len;
		uint8_t prefix[3];
		int n;
	} cases[] = {
		{0, {0}, 1}, {1, {1}, 1}, {254, {254}, 1},
		{255, {255, 0, 255}, 3}, {256, {255, 1, 0}, 3}, {65535, {255, 255, 255}, 3},
	};
	uint8_t buf[4];
	uint16_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 0xee, sizeof(buf));
		CHECK(dpfix_ipfix_varlen_encode(buf, sizeof(buf), cases[i].len) == cases[i].n);
		CHECK(memcmp(buf, cases[i].prefix, (size_t)cases[i].n) == 0 && buf[cases[i].n] == 0xee);
		CHECK(dpfix_ipfix_varlen_decode(buf, (size_t)cases[i].n, &len) == cases[i].n);
		CHECK_EQ_U64(len, cases[i].len);
		CHECK(dpfix_ipfix_varlen_encode(buf, (size_t)cases[i].n - 1, cases[i].len) == -ENOSPC);
	}
	CHECK(dpfix_ipfix_varlen_encode(buf, sizeof(buf), 65536) == -ERANGE);
	/* The long form may carry short lengths too (a writer picks the short form). */
	CHECK(dpfix_ipfix_varlen_decode((const uint8_t[]){255, 0, 3}, 3, &len) == 3 && len == 3);
	CHECK(dpfix_ipfix_varlen_decode((const uint8_t[]){255, 0}, 2, &len) == -EBADMSG);
	CHECK(dpfix_ipfix_varlen_decode(buf, 0, &len) == -EBADMSG);
}

/* Variable-length strings and octet arrays of 0, 254, 255 and 65535 octets written
 * with dpfix_ipfix_field_encode are split again by the record reader, with the
 * fixed field after them in place. */
static void
test_varlen_fields(void)
{
	static const uint16_t lengths[] = {0, 1, 254, 255, 256, 65515};
	static uint8_t data[65535], rec[65540];
	static struct dpfix_ipfix_template t;
	uint32_t offsets[2];
	uint16_t flens[2];
	int ret;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct dpfix_ipfix_value v = {.type = i % 2 ? DPFIX_IPFIX_OCTET_ARRAY : DPFIX_IPFIX_STRING,
			.octets = {data, lengths[i]}};
		struct dpfix_ipfix_value port = {.type = DPFIX_IPFIX_UNSIGNED16, .u = 4739}, back;
		uint32_t n;

		memset(&t, 0, sizeof(t));
		t.id = 300;
		dpfix_ipfix_template_add(&t, 0, i % 2 ? IE_paddingOctets : IE_interfaceName,
				DPFIX_IPFIX_VARLEN);
		dpfix_ipfix_template_add(&t, 0, IE_sourceTransportPort, 2);
		ret = dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, sizeof(rec));
		CHECK(ret == (lengths[i] < 255 ? 1 : 3) + lengths[i]);
		CHECK(rec[0] == (lengths[i] < 255 ? lengths[i] : 255));
		if (ret < 0)
			continue;
		n = (uint32_t)ret;
		CHECK(dpfix_ipfix_field_encode(&port, 2, rec + n, sizeof(rec) - n) == 2);
		n += 2;
		CHECK((uint32_t)dpfix_ipfix_record_fields(&t, rec, n, offsets, flens) == n);
		CHECK_EQ_U64(flens[0], lengths[i]);
		CHECK_EQ_U64(offsets[1], n - 2);
		CHECK(dpfix_ipfix_value_decode(v.type, rec + offsets[0], flens[0], 0, &back) == 0);
		CHECK(back.octets.len == lengths[i] && memcmp(back.octets.p, data, lengths[i]) == 0);
	}
	/* The largest: 65535 octets after the 3-octet prefix. */
	{
		struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_STRING, .octets = {data, 65535}};
		uint16_t len;

		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 65538) == 65538);
		CHECK(rec[0] == 255 && rec[1] == 255 && rec[2] == 255 && memcmp(rec + 3, data, 65535) == 0);
		CHECK(dpfix_ipfix_varlen_decode(rec, 65538, &len) == 3 && len == 65535);
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 65537) == -ENOSPC);
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, 2) == -ENOSPC);
	}
	/* Fixed lengths: the value in that many octets, or refused. */
	{
		struct dpfix_ipfix_value v = {.type = DPFIX_IPFIX_UNSIGNED64, .u = 70000};

		CHECK(dpfix_ipfix_field_encode(&v, 3, rec, sizeof(rec)) == 3);
		CHECK(rec[0] == 0x01 && rec[1] == 0x11 && rec[2] == 0x70);
		CHECK(dpfix_ipfix_field_encode(&v, 2, rec, sizeof(rec)) == -ERANGE);
		CHECK(dpfix_ipfix_field_encode(&v, 8, rec, 7) == -ENOSPC);
		/* A fixed-size type in a variable-length field: its full size. */
		CHECK(dpfix_ipfix_field_encode(&v, DPFIX_IPFIX_VARLEN, rec, sizeof(rec)) == 9);
		CHECK(rec[0] == 8);
	}
}

/* One record with a field of every abstract type, at full size and at every
 * reduced size, written with dpfix_ipfix_field_encode and read back through the
 * record reader: each value comes back. */
static void
test_record_every_type(void)
{
	static uint8_t rec[4096];
	static struct dpfix_ipfix_template t;
	static struct dpfix_ipfix_value values[DPFIX_IPFIX_MAX_FIELDS];
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t flens[DPFIX_IPFIX_MAX_FIELDS];
	static const uint8_t octets[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint32_t n = 0, mismatches = 0;

	memset(&t, 0, sizeof(t));
	t.id = 400;
	for (int type = 0; type < DPFIX_IPFIX_TYPE_COUNT; type++) {
		uint16_t size = dpfix_ipfix_type_size((enum dpfix_ipfix_type)type);
		uint16_t lens[40];
		int nlens = 0;

		if (size == 0) {
			lens[nlens++] = 16;
			lens[nlens++] = DPFIX_IPFIX_VARLEN;
		}
		for (uint16_t len = 1; len <= size; len++)
			if (dpfix_ipfix_type_length_valid((enum dpfix_ipfix_type)type, len))
				lens[nlens++] = len;
		for (int k = 0; k < nlens; k++) {
			struct dpfix_ipfix_value *v = &values[t.field_count];
			uint16_t vlen = lens[k] == DPFIX_IPFIX_VARLEN ? 16 : lens[k];
			int ret;

			*v = (struct dpfix_ipfix_value){.type = (enum dpfix_ipfix_type)type};
			/* The largest value the length holds. */
			if (type >= DPFIX_IPFIX_UNSIGNED8 && type <= DPFIX_IPFIX_UNSIGNED64)
				v->u = vlen == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * vlen)) - 1;
			else if (type >= DPFIX_IPFIX_SIGNED8 && type <= DPFIX_IPFIX_SIGNED64)
				v->i = vlen == 8 ? INT64_MIN : -(INT64_C(1) << (8 * vlen - 1));
			else if (type == DPFIX_IPFIX_FLOAT32 || type == DPFIX_IPFIX_FLOAT64)
				v->f = vlen == 4 ? -1.25 : 1e300;
			else if (type == DPFIX_IPFIX_BOOLEAN)
				v->b = true;
			else if (type == DPFIX_IPFIX_MAC_ADDRESS || type == DPFIX_IPFIX_IPV4_ADDRESS ||
					type == DPFIX_IPFIX_IPV6_ADDRESS)
				memcpy(v->addr, octets, size);
			else if (type >= DPFIX_IPFIX_DATETIME_SECONDS &&
					type <= DPFIX_IPFIX_DATETIME_NANOSECONDS)
				v->t = (struct dpfix_ipfix_time){1700000000, type ==
					DPFIX_IPFIX_DATETIME_NANOSECONDS ? 123456789 :
					type == DPFIX_IPFIX_DATETIME_MICROSECONDS ? 123456000 :
					type == DPFIX_IPFIX_DATETIME_MILLISECONDS ? 123000000 : 0};
			else if (type == DPFIX_IPFIX_STRING)
				v->octets = (struct dpfix_ipfix_value){.octets = {(const uint8_t *)
					"h\xc3\xa9llo w\xc3\xb6rld!!!", 16}}.octets;
			else if (type == DPFIX_IPFIX_UNSIGNED256)
				v->octets = (struct dpfix_ipfix_value){.octets = {octets, vlen}}.octets;
			else
				v->octets = (struct dpfix_ipfix_value){.octets = {octets, 16}}.octets;
			ret = dpfix_ipfix_field_encode(v, lens[k], rec + n, sizeof(rec) - n);
			CHECK(ret > 0);
			if (ret <= 0) {
				fprintf(stderr, "  %s in %u: %d\n", dpfix_ipfix_type_name(v->type), lens[k], ret);
				continue;
			}
			n += (uint32_t)ret;
			dpfix_ipfix_template_add(&t, 12345, (uint16_t)(t.field_count + 1), lens[k]);
		}
	}
	CHECK(t.field_count > 70);
	CHECK((uint32_t)dpfix_ipfix_record_fields(&t, rec, n, offsets, flens) == n);
	for (uint16_t i = 0; i < t.field_count; i++) {
		const struct dpfix_ipfix_value *v = &values[i];
		struct dpfix_ipfix_value back;
		bool same;

		CHECK(dpfix_ipfix_value_decode(v->type, rec + offsets[i], flens[i],
				DPFIX_IPFIX_NTP_PIVOT_DEFAULT, &back) == 0);
		switch (v->type) {
		case DPFIX_IPFIX_UNSIGNED8: case DPFIX_IPFIX_UNSIGNED16:
		case DPFIX_IPFIX_UNSIGNED32: case DPFIX_IPFIX_UNSIGNED64:
			same = back.u == v->u;
			break;
		case DPFIX_IPFIX_SIGNED8: case DPFIX_IPFIX_SIGNED16:
		case DPFIX_IPFIX_SIGNED32: case DPFIX_IPFIX_SIGNED64:
			same = back.i == v->i;
			break;
		case DPFIX_IPFIX_FLOAT32: case DPFIX_IPFIX_FLOAT64:
			same = back.f == v->f;
			break;
		case DPFIX_IPFIX_BOOLEAN:
			same = back.b == v->b;
			break;
		case DPFIX_IPFIX_MAC_ADDRESS: case DPFIX_IPFIX_IPV4_ADDRESS:
		case DPFIX_IPFIX_IPV6_ADDRESS:
			same = memcmp(back.addr, v->addr, flens[i]) == 0;
			break;
		case DPFIX_IPFIX_DATETIME_SECONDS: case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		case DPFIX_IPFIX_DATETIME_MICROSECONDS: case DPFIX_IPFIX_DATETIME_NANOSECONDS:
			same = back.t.sec == v->t.sec && back.t.nsec == v->t.nsec;
			break;
		default:
			same = back.octets.len == v->octets.len &&
					memcmp(back.octets.p, v->octets.p, v->octets.len) == 0;
			break;
		}
		if (!same && mismatches++ == 0)
			fprintf(stderr, "  field %u (%s, %u octets) differs\n", i,
					dpfix_ipfix_type_name(v->type), flens[i]);
	}
	CHECK_EQ_U64(mismatches, 0);
}

/* ---- JSON ---- */

static void
check_json_value(enum dpfix_ipfix_type type, const void *v, uint16_t len, const char *want)
{
	char out[512];
	int n = dpfix_ipfix_format_json_value(type, v, len, out, sizeof(out));

	if (strcmp(out, want) != 0)
		fprintf(stderr, "  %s, %u octets: got %s, wanted %s\n", dpfix_ipfix_type_name(type),
				len, out, want);
	CHECK(strcmp(out, want) == 0);
	CHECK_EQ_U64(n, strlen(want));
}

/* Ill-formed UTF-8 prints as U+FFFD per maximal subpart; the JSON stays UTF-8. */
static void
test_json_strings(void)
{
	check_json_value(DPFIX_IPFIX_STRING, "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	check_json_value(DPFIX_IPFIX_STRING, "caf\xc3", 4, "\"caf\xef\xbf\xbd\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xe2\x82" "A", 3, "\"\xef\xbf\xbd" "A\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xf0\x80\x80", 3,
			"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xed\xa0\x80x", 4,
			"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\"");
	check_json_value(DPFIX_IPFIX_STRING, "a\xffz", 3, "\"a\xef\xbf\xbdz\"");
	check_json_value(DPFIX_IPFIX_STRING, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
	/* NUL padding of a fixed-length field is not part of the text; inner NULs are. */
	check_json_value(DPFIX_IPFIX_STRING, "eth0\0\0\0\0", 8, "\"eth0\"");
	check_json_value(DPFIX_IPFIX_STRING, "a\0b\0", 4, "\"a\\u0000b\"");
	check_json_value(DPFIX_IPFIX_STRING, "\0\0", 2, "\"\"");
	check_json_value(DPFIX_IPFIX_STRING, "tab\there \"q\" \\", 15,
			"\"tab\\u0009here \\\"q\\\" \\\\\"");
}

static void
test_json_numbers_times(void)
{
	const uint8_t nan32[4] = {0x7f, 0xc0, 0, 0}, inf32[4] = {0x7f, 0x80, 0, 0};
	const uint8_t ninf64[8] = {0xff, 0xf0, 0, 0, 0, 0, 0, 0};
	const uint8_t nan64[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 1};
	const uint8_t big[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t u256[4] = {0x00, 0x01, 0x80, 0xff};
	uint8_t b[8];
	struct dpfix_ipfix_value v;

	/* JSON has no NaN or infinity literals. */
	check_json_value(DPFIX_IPFIX_FLOAT32, nan32, 4, "\"NaN\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, inf32, 4, "\"Infinity\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, ninf64, 8, "\"-Infinity\"");
	check_json_value(DPFIX_IPFIX_FLOAT64, nan64, 8, "\"NaN\"");
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_FLOAT64, .f = -1.25e300};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(DPFIX_IPFIX_FLOAT64, b, 8, "-1.2500000000000001e+300");
	/* Signed and unsigned in reduced sizes. */
	check_json_value(DPFIX_IPFIX_SIGNED32, (const uint8_t[]){0xff, 0xfb}, 2, "-5");
	check_json_value(DPFIX_IPFIX_UNSIGNED64, big, 8, "18446744073709551615");
	/* unsigned256 as the hex of its octets, like an octet array. */
	check_json_value(DPFIX_IPFIX_UNSIGNED256, u256, 4, "\"000180ff\"");
	check_json_value(DPFIX_IPFIX_SUB_TEMPLATE_LIST, u256, 4, "\"000180ff\"");
	/* Every precision, exact. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_DATETIME_NANOSECONDS,
		.t = {1700000000, 123456789}};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123456789Z\"");
	v.type = DPFIX_IPFIX_DATETIME_MICROSECONDS;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123456Z\"");
	v.type = DPFIX_IPFIX_DATETIME_MILLISECONDS;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2023-11-14T22:13:20.123Z\"");
	v.type = DPFIX_IPFIX_DATETIME_SECONDS;
	dpfix_ipfix_value_encode(&v, b, 4);
	check_json_value(v.type, b, 4, "\"2023-11-14T22:13:20Z\"");
	/* Across the NTP era boundary of 2036. */
	v = (struct dpfix_ipfix_value){.type = DPFIX_IPFIX_DATETIME_NANOSECONDS,
		.t = {INT64_C(2085978496), 1}};
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2036-02-07T06:28:16.000000001Z\"");
	v.t.sec--;
	dpfix_ipfix_value_encode(&v, b, 8);
	check_json_value(v.type, b, 8, "\"2036-02-07T06:28:15.000000001Z\"");
	/* Milliseconds past year 9999 have no ISO 8601 basic form: hex. */
	check_json_value(DPFIX_IPFIX_DATETIME_MILLISECONDS, big, 8, "\"ffffffffffffffff\"");
	check_json_value(DPFIX_IPFIX_DATETIME_MILLISECONDS,
			(const uint8_t[]){0, 0, 0xe6, 0x77, 0xd2, 0x1f, 0xdb, 0xff}, 8,
			"\"9999-12-31T23:59:59.999Z\"");
	/* Booleans other than 1 and 2 show their octet. */
	check_json_value(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){0}, 1, "\"00\"");
	check_json_value(DPFIX_IPFIX_BOOLEAN, (const uint8_t[]){2}, 1, "false");
}

/* Every element of the registry prints with its registry type: a record with one
 * field of the element, filled with a value of that type, gives the same JSON as
 * formatting that type directly, keyed by the element's name. */
static void
test_json_every_element(void)
{
	static struct dpfix_ipfix_template t;
	uint8_t rec[64], oct[16] = {0x41, 0x42, 0x43};
	unsigned int checked = 0, wrong = 0;

	for (uint32_t pen = 0; pen <= DPFIX_IPFIX_PEN_REVERSE; pen += DPFIX_IPFIX_PEN_REVERSE) {
		for (uint32_t id = 1; id <= DPFIX_IPFIX_IE_IANA_MAX_ID; id++) {
			const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(pen, (uint16_t)id);
			struct dpfix_ipfix_value v;
			uint16_t len;
			char *json = NULL, value[256], want[512];
			size_t size = 0;
			FILE *f;

			if (ie == NULL)
				continue;
			len = dpfix_ipfix_type_size(ie->type);
			v = (struct dpfix_ipfix_value){.type = ie->type};
			if (len == 0 || ie->type == DPFIX_IPFIX_UNSIGNED256) {
				len = 3;
				v.octets.p = oct;
				v.octets.len = 3;
			} else if (ie->type >= DPFIX_IPFIX_DATETIME_SECONDS &&
					ie->type <= DPFIX_IPFIX_DATETIME_NANOSECONDS) {
				v.t = (struct dpfix_ipfix_time){1700000000, 987654321};
			} else if (ie->type == DPFIX_IPFIX_BOOLEAN) {
				v.b = true;
			} else if (ie->type >= DPFIX_IPFIX_UNSIGNED8 && ie->type <= DPFIX_IPFIX_SIGNED64) {
				v.u = 0x0102030405060708 >> (8 * (8 - len));
			} else if (ie->type == DPFIX_IPFIX_FLOAT32 || ie->type == DPFIX_IPFIX_FLOAT64) {
				v.f = 2.5;
			} else {
				memcpy(v.addr, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
			}
			if (dpfix_ipfix_value_encode(&v, rec, len) != 0) {
				fprintf(stderr, "  %s: cannot encode a %s\n", ie->name,
						dpfix_ipfix_type_name(ie->type));
				wrong++;
				continue;
			}
			memset(&t, 0, sizeof(t));
			t.id = 256;
			dpfix_ipfix_template_add(&t, pen, (uint16_t)id, len);
			f = open_memstream(&json, &size);
			if (f == NULL)
				continue;
			CHECK(dpfix_ipfix_record_to_json(&t, rec, len, f) == 0);
			fclose(f);
			dpfix_ipfix_format_json_value(ie->type, rec, len, value, sizeof(value));
			snprintf(want, sizeof(want), "{\"%s\":%s}\n", ie->name, value);
			/* The value is typed: only octet-like types print as hex. */
			if (strcmp(json, want) != 0 || (len != 3 && value[0] == '"' &&
					ie->type != DPFIX_IPFIX_MAC_ADDRESS && ie->type != DPFIX_IPFIX_IPV4_ADDRESS &&
					ie->type != DPFIX_IPFIX_IPV6_ADDRESS && ie->type < DPFIX_IPFIX_DATETIME_SECONDS)) {
				if (wrong++ < 3)
					fprintf(stderr, "  got %s  wanted %s", json, want);
			}
			checked++;
			free(json);
		}
	}
	CHECK_EQ_U64(wrong, 0);
	CHECK_EQ_U64(checked, 502 + 477);
}

/* Keys: registry names, reverse names, loaded enterprise names, then "PEN:ID" and
 * "_ieN" for what no one described (values of those as hex). */
static void
test_json_record_keys(void)
{
	static struct dpfix_ipfix_template t;
	static const uint8_t rec[] = {
		0xe8, 0xfe, 0x6f, 0x80, 0x80, 0, 0, 0,                 /* flowStartMicroseconds */
		0x00, 0x2a,                                             /* reverseOctetDeltaCount */
		0x01,                                                   /* dataRecordsReliability */
		0xff, 0xfe,                                             /* vendorScore, signed16 */
		0xca, 0xfe,                                             /* 40000:9 */
		0xbe, 0xef,                                             /* _ie600 */
		0x00, 0x01, 0x86, 0xa0,                 /* pathDelayMeanDeltaMicroseconds */
		0x12, 0x34,                                             /* _ie534 */
		0x03, 'e', 't', 'h',                                    /* interfaceName, varlen */
	};
	char *json = NULL;
	size_t size = 0;
	FILE *f;

	dpfix_ipfix_ie_reset();
	CHECK(dpfix_ipfix_ie_add(&(struct dpfix_ipfix_ie){.pen = 40000, .id = 8, .name = "vendorScore",
			.type = DPFIX_IPFIX_SIGNED16}) == 0);
	memset(&t, 0, sizeof(t));
	t.id = 256;
	dpfix_ipfix_template_add(&t, 0, IE_flowStartMicroseconds, 8);
	dpfix_ipfix_template_add(&t, DPFIX_IPFIX_PEN_REVERSE, IE_octetDeltaCount, 2);
	dpfix_ipfix_template_add(&t, 0, IE_dataRecordsReliability, 1);
	dpfix_ipfix_template_add(&t, 40000, 8, 2);
	dpfix_ipfix_template_add(&t, 40000, 9, 2);
	dpfix_ipfix_template_add(&t, 0, 600, 2);
	dpfix_ipfix_template_add(&t, 0, IE_pathDelayMeanDeltaMicroseconds, 4);
	dpfix_ipfix_template_add(&t, 0, 534, 2);
	dpfix_ipfix_template_add(&t, 0, IE_interfaceName, DPFIX_IPFIX_VARLEN);
	f = open_memstream(&json, &size);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(dpfix_ipfix_record_to_json(&t, rec, sizeof(rec), f) == 0);
	fclose(f);
	if (strcmp(json, "{\"flowStartMicroseconds\":\"2023-11-14T22:13:20.500000Z\","
			"\"reverseOctetDeltaCount\":42,\"dataRecordsReliability\":true,"
			"\"vendorScore\":-2,\"40000:9\":\"cafe\",\"_ie600\":\"beef\","
			"\"pathDelayMeanDeltaMicroseconds\":100000,\"_ie534\":\"1234\","
			"\"interfaceName\":\"eth\"}\n") != 0) {
		fprintf(stderr, "  %s", json);
		CHECK(0);
	}
	free(json);
	dpfix_ipfix_ie_reset();
}

int
main(void)
{
	RUN_TEST(test_registry_known);
	RUN_TEST(test_type_names);
	RUN_TEST(test_registry_unknown);
	RUN_TEST(test_registry_whole);
	RUN_TEST(test_reverse_elements);
	RUN_TEST(test_enterprise_add);
	RUN_TEST(test_enterprise_many);
	RUN_TEST(test_enterprise_file);
	RUN_TEST(test_enterprise_file_errors);
	RUN_TEST(test_unsigned_values);
	RUN_TEST(test_unsigned_readers);
	RUN_TEST(test_signed_values);
	RUN_TEST(test_float_values);
	RUN_TEST(test_boolean_values);
	RUN_TEST(test_address_values);
	RUN_TEST(test_utf8);
	RUN_TEST(test_string_octet_values);
	RUN_TEST(test_unsigned256_values);
	RUN_TEST(test_time_seconds_milliseconds);
	RUN_TEST(test_time_ntp_exact);
	RUN_TEST(test_time_ntp_eras);
	RUN_TEST(test_varlen_prefix);
	RUN_TEST(test_varlen_fields);
	RUN_TEST(test_record_every_type);
	RUN_TEST(test_json_strings);
	RUN_TEST(test_json_numbers_times);
	RUN_TEST(test_json_every_element);
	RUN_TEST(test_json_record_keys);
	return unit_test_summary();
}
