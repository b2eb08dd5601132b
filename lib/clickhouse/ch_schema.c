/* The flow table's columns (ch_schema.h). ClickHouse 18.16 has no IPv4/IPv6 and no
 * DateTime64 types: addresses are UInt32 and FixedString(16) (IPv4NumToString,
 * IPv6NumToString read them), MAC addresses UInt64 (MACNumToString), and a time finer
 * than seconds is a DateTime with its fraction in a column of its own (NAME_ms). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_schema.h"

/* The elements of the table dpfix creates, after the reception time, exporter and
 * observation domain: those of dpfix-probe's flow and biflow records. Each column costs
 * ClickHouse work on every row inserted, used or not, so other exporters' elements
 * (egressInterface, bgpSourceAsNumber, ...) are added by name (clickhouse_columns). */
static const char *const default_elements[] = {
	"sourceIPv4Address", "destinationIPv4Address", "sourceIPv6Address",
	"destinationIPv6Address", "sourceTransportPort", "destinationTransportPort",
	"protocolIdentifier", "ipClassOfService", "tcpControlBits", "icmpTypeCodeIPv4",
	"icmpTypeCodeIPv6", "vlanId", "ingressInterface", "minimumTTL", "maximumTTL",
	"octetDeltaCount", "packetDeltaCount", "flowStartMilliseconds", "flowEndMilliseconds",
	"flowEndReason", "mplsTopLabelStackSection", "selectorId",
	"reverseOctetDeltaCount", "reversePacketDeltaCount", "reverseTcpControlBits",
	"reverseMinimumTTL", "reverseMaximumTTL", "reverseFlowStartMilliseconds",
	"reverseFlowEndMilliseconds",
};

int
ch_identifier_valid(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > 64)
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				(*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	}
	return 1;
}

static int
push(struct ch_schema *s, const struct ch_column *c)
{
	if (s->count == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct ch_column *n = realloc(s->columns, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		s->columns = n;
		s->cap = cap;
	}
	s->columns[s->count++] = *c;
	return 0;
}

/* The column that holds an element's value (the whole seconds of a time). */
static void
main_column(const struct dpfix_ipfix_ie *ie, struct ch_column *c)
{
	static const struct {
		enum ch_conv conv;
		const char *type;
	} by_type[DPFIX_IPFIX_TYPE_COUNT] = {
		[DPFIX_IPFIX_OCTET_ARRAY] = {CH_CONV_BYTES, "String"},
		[DPFIX_IPFIX_UNSIGNED8] = {CH_CONV_UINT8, "UInt8"},
		[DPFIX_IPFIX_UNSIGNED16] = {CH_CONV_UINT16, "UInt16"},
		[DPFIX_IPFIX_UNSIGNED32] = {CH_CONV_UINT32, "UInt32"},
		[DPFIX_IPFIX_UNSIGNED64] = {CH_CONV_UINT64, "UInt64"},
		[DPFIX_IPFIX_SIGNED8] = {CH_CONV_INT8, "Int8"},
		[DPFIX_IPFIX_SIGNED16] = {CH_CONV_INT16, "Int16"},
		[DPFIX_IPFIX_SIGNED32] = {CH_CONV_INT32, "Int32"},
		[DPFIX_IPFIX_SIGNED64] = {CH_CONV_INT64, "Int64"},
		[DPFIX_IPFIX_FLOAT32] = {CH_CONV_FLOAT32, "Float32"},
		[DPFIX_IPFIX_FLOAT64] = {CH_CONV_FLOAT64, "Float64"},
		[DPFIX_IPFIX_BOOLEAN] = {CH_CONV_BOOL, "UInt8"},
		[DPFIX_IPFIX_MAC_ADDRESS] = {CH_CONV_MAC, "UInt64"},
		[DPFIX_IPFIX_STRING] = {CH_CONV_STRING, "String"},
		[DPFIX_IPFIX_DATETIME_SECONDS] = {CH_CONV_DATETIME, "DateTime"},
		[DPFIX_IPFIX_DATETIME_MILLISECONDS] = {CH_CONV_DATETIME, "DateTime"},
		[DPFIX_IPFIX_DATETIME_MICROSECONDS] = {CH_CONV_DATETIME, "DateTime"},
		[DPFIX_IPFIX_DATETIME_NANOSECONDS] = {CH_CONV_DATETIME, "DateTime"},
		[DPFIX_IPFIX_IPV4_ADDRESS] = {CH_CONV_IPV4, "UInt32"},
		[DPFIX_IPFIX_IPV6_ADDRESS] = {CH_CONV_FIXED, "FixedString(16)"},
		[DPFIX_IPFIX_BASIC_LIST] = {CH_CONV_BYTES, "String"},
		[DPFIX_IPFIX_SUB_TEMPLATE_LIST] = {CH_CONV_BYTES, "String"},
		[DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST] = {CH_CONV_BYTES, "String"},
		[DPFIX_IPFIX_UNSIGNED256] = {CH_CONV_FIXED, "FixedString(32)"},
	};

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", ie->name);
	c->ie = ie;
	c->conv = by_type[ie->type].conv;
	snprintf(c->type, sizeof(c->type), "%s", by_type[ie->type].type);
	if (c->conv == CH_CONV_FIXED)
		c->fixed_len = ie->type == DPFIX_IPFIX_IPV6_ADDRESS ? 16 : 32;
}

/* The fraction column of a time finer than seconds; 0 if the type has none. */
static int
fraction_column(const struct dpfix_ipfix_ie *ie, struct ch_column *c)
{
	const char *suffix, *type;

	switch (ie->type) {
	case DPFIX_IPFIX_DATETIME_MILLISECONDS:
		c->conv = CH_CONV_MS, suffix = "_ms", type = "UInt16";
		break;
	case DPFIX_IPFIX_DATETIME_MICROSECONDS:
		c->conv = CH_CONV_US, suffix = "_us", type = "UInt32";
		break;
	case DPFIX_IPFIX_DATETIME_NANOSECONDS:
		c->conv = CH_CONV_NS, suffix = "_ns", type = "UInt32";
		break;
	default:
		return 0;
	}
	snprintf(c->name, sizeof(c->name), "%s%s", ie->name, suffix);
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->ie = ie;
	c->fixed_len = 0;
	return 1;
}

int
ch_schema_add_element(struct ch_schema *s, const struct dpfix_ipfix_ie *ie)
{
	struct ch_column c;
	int ret;

	main_column(ie, &c);
	ret = push(s, &c);
	if (ret == 0 && fraction_column(ie, &c))
		ret = push(s, &c);
	return ret;
}

int
ch_schema_add_batch_id(struct ch_schema *s)
{
	struct ch_column c = {.name = CH_BATCH_ID_COLUMN, .type = "UInt64",
		.conv = CH_CONV_BATCH_ID};

	return push(s, &c);
}

int
ch_schema_column_by_name(const char *name, struct ch_column *out)
{
	const struct dpfix_ipfix_ie *ie;
	size_t len = strlen(name);

	if (strcmp(name, CH_BATCH_ID_COLUMN) == 0) {
		*out = (struct ch_column){.name = CH_BATCH_ID_COLUMN, .type = "UInt64",
			.conv = CH_CONV_BATCH_ID};
		return 0;
	}
	ie = dpfix_ipfix_ie_by_name(name);
	if (ie != NULL) {
		main_column(ie, out);
		return 0;
	}
	/* NAME_ms, NAME_us, NAME_ns: the fraction of time element NAME. */
	if (len > 3 && len - 3 <= DPFIX_IPFIX_IE_NAME_MAX && name[len - 3] == '_') {
		char base[DPFIX_IPFIX_IE_NAME_MAX + 1];

		memcpy(base, name, len - 3);
		base[len - 3] = '\0';
		ie = dpfix_ipfix_ie_by_name(base);
		if (ie != NULL && fraction_column(ie, out) && strcmp(out->name, name) == 0)
			return 0;
	}
	return -ENOENT;
}

static int
add_by_name(struct ch_schema *s, const char *name, char *err, size_t errlen)
{
	const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_name(name);

	if (ie == NULL) {
		snprintf(err, errlen, "no information element is called '%s'", name);
		return -EINVAL;
	}
	if (ch_schema_find(s, name) >= 0)
		return 0;
	return ch_schema_add_element(s, ie);
}

int
ch_schema_default(struct ch_schema *s, const char *extra, char *err, size_t errlen)
{
	static const char *const meta[] = {
		"collectionTimeMilliseconds", "exporterIPv6Address", "observationDomainId",
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]) && ret == 0; i++)
		ret = add_by_name(s, meta[i], err, errlen);
	for (size_t i = 0; i < sizeof(default_elements) / sizeof(default_elements[0]) && ret == 0; i++)
		ret = add_by_name(s, default_elements[i], err, errlen);
	while (ret == 0 && extra != NULL && *extra != '\0') {
		char name[DPFIX_IPFIX_IE_NAME_MAX + 1];
		size_t len = strcspn(extra, ", ");

		if (len > 0 && len < sizeof(name)) {
			memcpy(name, extra, len);
			name[len] = '\0';
			ret = add_by_name(s, name, err, errlen);
		} else if (len > 0) {
			snprintf(err, errlen, "element name too long: '%.*s'", (int)len, extra);
			ret = -EINVAL;
		}
		extra += len;
		extra += strspn(extra, ", ");
	}
	return ret == 0 ? ch_schema_add_batch_id(s) : ret;
}

int
ch_schema_create_table(const struct ch_schema *s, const char *db, const char *table, char *out,
		size_t outlen)
{
	size_t n = 0;
	int k;

#define PUT(...) do { \
		k = snprintf(out + n, outlen - n, __VA_ARGS__); \
		if (k < 0 || (size_t)k >= outlen - n) \
			return -ENAMETOOLONG; \
		n += (size_t)k; \
	} while (0)
	PUT("CREATE TABLE IF NOT EXISTS `%s`.`%s` (", db, table);
	for (uint32_t i = 0; i < s->count; i++)
		PUT("%s`%s` %s", i ? ", " : "", s->columns[i].name, s->columns[i].type);
	/* A day per partition, UTC whatever the server's time zone: retention drops whole
	 * days, and a batch never spans two (the collector cuts batches at midnight UTC),
	 * so each insert is one part, all there or not at all. */
	PUT(") ENGINE = MergeTree PARTITION BY toYYYYMMDD(collectionTimeMilliseconds, 'UTC') "
		"ORDER BY (toStartOfMinute(collectionTimeMilliseconds), exporterIPv6Address, "
		"sourceIPv4Address, sourceIPv6Address)");
#undef PUT
	return (int)n;
}

int
ch_schema_from_columns(struct ch_schema *s, const char *tsv,
		void (*note)(void *arg, const char *text), void *arg)
{
	char text[1200];

	while (*tsv != '\0') {
		const char *end = tsv + strcspn(tsv, "\n");
		char line[512], *name = line, *type, *kind;
		struct ch_column c;
		size_t len = (size_t)(end - tsv);

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, tsv, len);
		line[len] = '\0';
		tsv = *end == '\n' ? end + 1 : end;
		if (line[0] == '\0')
			continue;
		type = strchr(line, '\t');
		if (type == NULL)
			continue;
		*type++ = '\0';
		kind = strchr(type, '\t');
		if (kind != NULL)
			*kind++ = '\0';
		if (kind != NULL && (strcmp(kind, "ALIAS") == 0 || strcmp(kind, "MATERIALIZED") == 0))
			continue;
		if (ch_schema_column_by_name(name, &c) < 0) {
			snprintf(text, sizeof(text), "column %s is not an information element's: "
					"left to its default", name);
			note(arg, text);
			continue;
		}
		if (strcmp(c.type, type) != 0) {
			snprintf(text, sizeof(text), "column %s is %s, not %s as its element's type "
					"asks: left to its default", name, type, c.type);
			note(arg, text);
			continue;
		}
		if (push(s, &c) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
ch_schema_find(const struct ch_schema *s, const char *name)
{
	for (uint32_t i = 0; i < s->count; i++)
		if (strcmp(s->columns[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
ch_schema_intersect(struct ch_schema *s, const struct ch_schema *other)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < s->count; i++) {
		int j = ch_schema_find(other, s->columns[i].name);

		if (j >= 0 && strcmp(other->columns[j].type, s->columns[i].type) == 0)
			s->columns[kept++] = s->columns[i];
	}
	s->count = kept;
}

void
ch_schema_free(struct ch_schema *s)
{
	free(s->columns);
	memset(s, 0, sizeof(*s));
}
