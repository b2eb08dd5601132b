/* The information-element registry: IANA and RFC 5103 reverse elements from the
 * generated table, enterprise elements added at run time, lookups by id and name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix_ie_table.h"

/* Enterprise elements: one allocation each (so pointers handed out stay valid),
 * indexed twice, by (pen, id) and by name, both kept sorted for binary search.
 * Process-wide: vendors' element numbers mean the same to every session. */
static struct {
	struct dpfix_ipfix_ie **by_key;
	struct dpfix_ipfix_ie **by_name;
	uint32_t count;
	uint32_t capacity;
} enterprise;

static const char *const type_names[DPFIX_IPFIX_TYPE_COUNT] = {
	[DPFIX_IPFIX_OCTET_ARRAY] = "octetArray",
	[DPFIX_IPFIX_UNSIGNED8] = "unsigned8",
	[DPFIX_IPFIX_UNSIGNED16] = "unsigned16",
	[DPFIX_IPFIX_UNSIGNED32] = "unsigned32",
	[DPFIX_IPFIX_UNSIGNED64] = "unsigned64",
	[DPFIX_IPFIX_SIGNED8] = "signed8",
	[DPFIX_IPFIX_SIGNED16] = "signed16",
	[DPFIX_IPFIX_SIGNED32] = "signed32",
	[DPFIX_IPFIX_SIGNED64] = "signed64",
	[DPFIX_IPFIX_FLOAT32] = "float32",
	[DPFIX_IPFIX_FLOAT64] = "float64",
	[DPFIX_IPFIX_BOOLEAN] = "boolean",
	[DPFIX_IPFIX_MAC_ADDRESS] = "macAddress",
	[DPFIX_IPFIX_STRING] = "string",
	[DPFIX_IPFIX_DATETIME_SECONDS] = "dateTimeSeconds",
	[DPFIX_IPFIX_DATETIME_MILLISECONDS] = "dateTimeMilliseconds",
	[DPFIX_IPFIX_DATETIME_MICROSECONDS] = "dateTimeMicroseconds",
	[DPFIX_IPFIX_DATETIME_NANOSECONDS] = "dateTimeNanoseconds",
	[DPFIX_IPFIX_IPV4_ADDRESS] = "ipv4Address",
	[DPFIX_IPFIX_IPV6_ADDRESS] = "ipv6Address",
	[DPFIX_IPFIX_BASIC_LIST] = "basicList",
	[DPFIX_IPFIX_SUB_TEMPLATE_LIST] = "subTemplateList",
	[DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST] = "subTemplateMultiList",
	[DPFIX_IPFIX_UNSIGNED256] = "unsigned256",
};

static const char *const semantics_names[DPFIX_IPFIX_SEM_COUNT] = {
	[DPFIX_IPFIX_SEM_NONE] = "",
	[DPFIX_IPFIX_SEM_DEFAULT] = "default",
	[DPFIX_IPFIX_SEM_QUANTITY] = "quantity",
	[DPFIX_IPFIX_SEM_TOTAL_COUNTER] = "totalCounter",
	[DPFIX_IPFIX_SEM_DELTA_COUNTER] = "deltaCounter",
	[DPFIX_IPFIX_SEM_IDENTIFIER] = "identifier",
	[DPFIX_IPFIX_SEM_FLAGS] = "flags",
	[DPFIX_IPFIX_SEM_LIST] = "list",
	[DPFIX_IPFIX_SEM_SNMP_COUNTER] = "snmpCounter",
	[DPFIX_IPFIX_SEM_SNMP_GAUGE] = "snmpGauge",
};

/* Index of name in names[count], or -1. */
static int
name_index(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *
dpfix_ipfix_type_name(enum dpfix_ipfix_type type)
{
	return (unsigned int)type < DPFIX_IPFIX_TYPE_COUNT ? type_names[type] : "unknown";
}

int
dpfix_ipfix_type_by_name(const char *name, enum dpfix_ipfix_type *type)
{
	int i = name_index(type_names, DPFIX_IPFIX_TYPE_COUNT, name);

	if (i < 0)
		return -EINVAL;
	*type = (enum dpfix_ipfix_type)i;
	return 0;
}

const char *
dpfix_ipfix_semantics_name(enum dpfix_ipfix_semantics semantics)
{
	return (unsigned int)semantics < DPFIX_IPFIX_SEM_COUNT ? semantics_names[semantics] : "unknown";
}

int
dpfix_ipfix_semantics_by_name(const char *name, enum dpfix_ipfix_semantics *semantics)
{
	int i = name_index(semantics_names, DPFIX_IPFIX_SEM_COUNT, name);

	if (i < 0)
		return -EINVAL;
	*semantics = (enum dpfix_ipfix_semantics)i;
	return 0;
}

static int
key_cmp(uint32_t pen, uint16_t id, const struct dpfix_ipfix_ie *ie)
{
	if (pen != ie->pen)
		return pen < ie->pen ? -1 : 1;
	return id < ie->id ? -1 : id > ie->id;
}

/* Index of the first enterprise element not before (pen, id). */
static uint32_t
key_lower_bound(uint32_t pen, uint16_t id)
{
	uint32_t lo = 0, hi = enterprise.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (key_cmp(pen, id, enterprise.by_key[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t
name_lower_bound(const char *name)
{
	uint32_t lo = 0, hi = enterprise.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(name, enterprise.by_name[mid]->name) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct dpfix_ipfix_ie *
dpfix_ipfix_ie_by_id(uint32_t pen, uint16_t id)
{
	uint32_t i;

	if (pen == 0 || pen == DPFIX_IPFIX_PEN_REVERSE) {
		const uint16_t *slot = pen == 0 ? ipfix_ie_iana_slot : ipfix_ie_reverse_slot;

		if (id > DPFIX_IPFIX_IE_IANA_MAX_ID || slot[id] == UINT16_MAX)
			return NULL;
		return &ipfix_ie_table[slot[id]];
	}
	i = key_lower_bound(pen, id);
	if (i < enterprise.count && key_cmp(pen, id, enterprise.by_key[i]) == 0)
		return enterprise.by_key[i];
	return NULL;
}

static const struct dpfix_ipfix_ie *
registry_by_name(const char *name)
{
	uint32_t lo = 0, hi = ipfix_ie_table_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct dpfix_ipfix_ie *ie = &ipfix_ie_table[ipfix_ie_name_order[mid]];
		int c = strcmp(name, ie->name);

		if (c == 0)
			return ie;
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct dpfix_ipfix_ie *
dpfix_ipfix_ie_by_name(const char *name)
{
	const struct dpfix_ipfix_ie *ie = registry_by_name(name);
	uint32_t i;

	if (ie != NULL)
		return ie;
	i = name_lower_bound(name);
	if (i < enterprise.count && strcmp(name, enterprise.by_name[i]->name) == 0)
		return enterprise.by_name[i];
	return NULL;
}

/* Element names are identifiers (the registry's own are), so they can key JSON
 * objects and never look like "PEN:ID" or "_ieN". */
static bool
name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > DPFIX_IPFIX_IE_NAME_MAX ||
			!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static int
check_new(const struct dpfix_ipfix_ie *ie)
{
	if (ie->pen == 0 || ie->pen == DPFIX_IPFIX_PEN_REVERSE || ie->id == 0 || ie->id > 0x7fff ||
			ie->name == NULL || !name_valid(ie->name) ||
			(unsigned int)ie->type >= DPFIX_IPFIX_TYPE_COUNT ||
			(unsigned int)ie->semantics >= DPFIX_IPFIX_SEM_COUNT ||
			(ie->status != DPFIX_IPFIX_STATUS_CURRENT &&
			 ie->status != DPFIX_IPFIX_STATUS_DEPRECATED) ||
			(ie->has_range && ie->range_low > ie->range_high) ||
			(ie->units != NULL && strlen(ie->units) > DPFIX_IPFIX_IE_NAME_MAX))
		return -EINVAL;
	if (dpfix_ipfix_ie_by_id(ie->pen, ie->id) != NULL || dpfix_ipfix_ie_by_name(ie->name) != NULL)
		return -EEXIST;
	return 0;
}

static int
grow(void)
{
	uint32_t capacity = enterprise.capacity ? enterprise.capacity * 2 : 64;
	struct dpfix_ipfix_ie **by_key, **by_name;

	by_key = realloc(enterprise.by_key, capacity * sizeof(*by_key));
	if (by_key == NULL)
		return -ENOMEM;
	enterprise.by_key = by_key;
	by_name = realloc(enterprise.by_name, capacity * sizeof(*by_name));
	if (by_name == NULL)
		return -ENOMEM;
	enterprise.by_name = by_name;
	enterprise.capacity = capacity;
	return 0;
}

/* Adds one element after check_new() accepted it. */
static int
insert(const struct dpfix_ipfix_ie *ie)
{
	size_t name_len = strlen(ie->name) + 1;
	size_t units_len = ie->units != NULL ? strlen(ie->units) + 1 : 0;
	struct dpfix_ipfix_ie *copy;
	uint32_t k, n;

	if (enterprise.count == enterprise.capacity && grow() < 0)
		return -ENOMEM;
	copy = malloc(sizeof(*copy) + name_len + units_len);
	if (copy == NULL)
		return -ENOMEM;
	*copy = *ie;
	copy->name = memcpy((char *)(copy + 1), ie->name, name_len);
	copy->units = ie->units != NULL ?
			memcpy((char *)(copy + 1) + name_len, ie->units, units_len) : NULL;
	k = key_lower_bound(ie->pen, ie->id);
	n = name_lower_bound(ie->name);
	memmove(&enterprise.by_key[k + 1], &enterprise.by_key[k],
			(enterprise.count - k) * sizeof(enterprise.by_key[0]));
	memmove(&enterprise.by_name[n + 1], &enterprise.by_name[n],
			(enterprise.count - n) * sizeof(enterprise.by_name[0]));
	enterprise.by_key[k] = copy;
	enterprise.by_name[n] = copy;
	enterprise.count++;
	return 0;
}

int
ipfix_ie_remove(uint32_t pen, uint16_t id)
{
	uint32_t k = key_lower_bound(pen, id), n;
	struct dpfix_ipfix_ie *ie;

	if (k == enterprise.count || key_cmp(pen, id, enterprise.by_key[k]) != 0)
		return -ENOENT;
	ie = enterprise.by_key[k];
	n = name_lower_bound(ie->name);
	memmove(&enterprise.by_key[k], &enterprise.by_key[k + 1],
			(enterprise.count - k - 1) * sizeof(enterprise.by_key[0]));
	memmove(&enterprise.by_name[n], &enterprise.by_name[n + 1],
			(enterprise.count - n - 1) * sizeof(enterprise.by_name[0]));
	enterprise.count--;
	free(ie);
	return 0;
}

/* "octetCount" -> "reverseOctetCount", as RFC 5103 names reverse elements. */
int
ipfix_ie_reverse_name(const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "reverse%c%s", name[0] >= 'a' && name[0] <= 'z' ?
			name[0] - 'a' + 'A' : name[0], name + 1);

	return n < 0 || (size_t)n >= outlen ? -EINVAL : 0;
}

int
dpfix_ipfix_ie_add(const struct dpfix_ipfix_ie *ie)
{
	char reverse_name[DPFIX_IPFIX_IE_NAME_MAX + 16];
	struct dpfix_ipfix_ie reverse;
	int ret = check_new(ie);

	if (ret < 0)
		return ret;
	if (!ie->reversible)
		return insert(ie);
	/* RFC 5103 6.2 leaves enterprise reverse elements to the enterprise; the
	 * convention it suggests (and CERT uses) is the forward id with bit 0x4000. */
	if (ie->id & DPFIX_IPFIX_IE_REVERSE_BIT)
		return -EINVAL;
	reverse = *ie;
	reverse.id = ie->id | DPFIX_IPFIX_IE_REVERSE_BIT;
	reverse.reversible = false;
	if (ipfix_ie_reverse_name(ie->name, reverse_name, sizeof(reverse_name)) < 0)
		return -EINVAL;
	reverse.name = reverse_name;
	ret = check_new(&reverse);
	if (ret < 0)
		return ret;
	ret = insert(ie);
	if (ret < 0)
		return ret;
	ret = insert(&reverse);
	if (ret < 0)
		ipfix_ie_remove(ie->pen, ie->id);
	return ret;
}

void
dpfix_ipfix_ie_reset(void)
{
	for (uint32_t i = 0; i < enterprise.count; i++)
		free(enterprise.by_key[i]);
	free(enterprise.by_key);
	free(enterprise.by_name);
	memset(&enterprise, 0, sizeof(enterprise));
}
