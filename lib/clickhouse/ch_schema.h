/* The flow table's columns: one per information element, named exactly like the
 * collector's --json keys, typed from the element's abstract data type with the best
 * type ClickHouse 18.16 has; the columns dpfix creates; and the columns of an existing
 * table matched back to elements (doc/clickhouse.md). */
#ifndef CH_SCHEMA_H
#define CH_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

/* How a field's value becomes a column's (ch_native.c). */
enum ch_conv {
	CH_CONV_UINT8, CH_CONV_UINT16, CH_CONV_UINT32, CH_CONV_UINT64,
	CH_CONV_INT8, CH_CONV_INT16, CH_CONV_INT32, CH_CONV_INT64,
	CH_CONV_FLOAT32, CH_CONV_FLOAT64,
	CH_CONV_BOOL,           /* UInt8: 1 true, 0 false (IPFIX: 1 and 2) */
	CH_CONV_MAC,            /* UInt64, as MACNumToString reads it */
	CH_CONV_IPV4,           /* UInt32, as IPv4NumToString reads it */
	CH_CONV_STRING,         /* String: the text, without the NUL padding of a fixed field */
	CH_CONV_BYTES,          /* String: the octets as they are (octetArray, lists) */
	CH_CONV_FIXED,          /* FixedString(N): the octets (ipv6Address 16, unsigned256 32) */
	CH_CONV_DATETIME,       /* DateTime: the whole seconds of any dateTime* value */
	CH_CONV_MS,             /* NAME_ms UInt16: its milliseconds */
	CH_CONV_US,             /* NAME_us UInt32: its microseconds */
	CH_CONV_NS,             /* NAME_ns UInt32: its nanoseconds */
	CH_CONV_BATCH_ID,       /* dpfixBatchId UInt64: the insert it came in */
};

#define CH_COLUMN_NAME_MAX (DPFIX_IPFIX_IE_NAME_MAX + 4)
#define CH_BATCH_ID_COLUMN "dpfixBatchId"

struct ch_column {
	char name[CH_COLUMN_NAME_MAX + 1];
	char type[24];                  /* as ClickHouse spells it: "UInt32", "FixedString(16)" */
	const struct dpfix_ipfix_ie *ie; /* whose value it holds; NULL for dpfixBatchId */
	enum ch_conv conv;
	uint16_t fixed_len;             /* CH_CONV_FIXED */
};

struct ch_schema {
	struct ch_column *columns;
	uint32_t count;
	uint32_t cap;
};

/* The columns an element takes: its own and, for dateTimeMilliseconds/Microseconds/
 * Nanoseconds, the fraction beside it. Appended to s; -ENOMEM. */
int ch_schema_add_element(struct ch_schema *s, const struct dpfix_ipfix_ie *ie);
int ch_schema_add_batch_id(struct ch_schema *s);
/* What a column named name must be to be filled: 0 with *out set, -ENOENT if no element
 * has that name. */
int ch_schema_column_by_name(const char *name, struct ch_column *out);

/* The columns of a table dpfix creates: the reception time, exporter and observation
 * domain, the elements of the flow records dpfix-probe exports and common ones of other
 * exporters, extra elements named in extra (comma-separated; NULL or "" for none), and
 * dpfixBatchId. -EINVAL with err naming an unknown extra element; -ENOMEM. */
int ch_schema_default(struct ch_schema *s, const char *extra, char *err, size_t errlen);

/* "CREATE TABLE IF NOT EXISTS `db`.`table` (...) ENGINE = MergeTree ..." into out:
 * partitioned by the UTC day of the reception time, ordered by its minute, the exporter
 * and the source address. Returns the length, or -ENAMETOOLONG. */
int ch_schema_create_table(const struct ch_schema *s, const char *db, const char *table,
		char *out, size_t outlen);

/* Matches the columns of an existing table (TSV lines "name\ttype\tdefault_kind", as
 * system.columns gives them) to elements into s; a column that is not an element's with
 * its type, or is ALIAS/MATERIALIZED, is skipped and said through note(arg, text).
 * 0, or -ENOMEM. */
int ch_schema_from_columns(struct ch_schema *s, const char *tsv,
		void (*note)(void *arg, const char *text), void *arg);

/* Keeps only the columns of s that other also has (same name and type). */
void ch_schema_intersect(struct ch_schema *s, const struct ch_schema *other);
int ch_schema_find(const struct ch_schema *s, const char *name);
void ch_schema_free(struct ch_schema *s);

/* Whether name is a safe identifier for a database, table or cluster: letters, digits, '_'. */
int ch_identifier_valid(const char *name);

#endif
