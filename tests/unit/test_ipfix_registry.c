/* Unit tests of lib/ipfix's information model: the generated IANA registry, type names,
 * RFC 5103 reverse elements, and enterprise elements added or loaded from files (with
 * every error a file can have). */
#include "ipfix_types_test.h"
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
	return unit_test_summary();
}
