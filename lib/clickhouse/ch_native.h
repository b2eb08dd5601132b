/* Flow records as the columns of a ClickHouse Native block: a plan per template says which
 * field fills each column (the last field of the column's element: the collector's own
 * exporter, domain and reception time, appended to the record, win over any the exporter
 * put in it); compiled for the columns an insert names, it is a step per column (a field
 * byte-swapped, a zero for a column the record lacks, ...) run per record, each step
 * appending the record's value to its column's buffer. */
#ifndef CH_NATIVE_H
#define CH_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "ch_batch.h"
#include "ch_schema.h"
#include "dpfix_ipfix.h"

/* One step of a compiled plan: one column's value. */
struct ch_op {
	uint8_t kind;               /* enum in ch_native.c */
	uint8_t width;              /* bytes written, fixed-size kinds */
	uint16_t field_len;         /* the field's length in the template */
	int32_t field;              /* the field it reads; -1: none */
	uint32_t n;                 /* zero: bytes; generic: the column in the schema */
};

struct ch_plan {
	const struct dpfix_ipfix_template *t;
	struct ch_op *ops;          /* compiled: ch_plan_compile, one per column used */
	uint32_t op_count;
	int32_t *source;            /* per column of the schema: the field, or -1 */
	uint32_t *offsets;          /* per field; fixed once when the template has no varlen */
	uint16_t *lengths;
	int exporter_field;         /* the field that says which shard the row goes to; -1 */
	uint32_t unmapped;          /* fields of the template with no column */
	int32_t *unmapped_fields;   /* their indexes */
};

/* -ENOMEM. */
int ch_plan_build(struct ch_plan *p, const struct ch_schema *s, const struct dpfix_ipfix_template *t);
void ch_plan_free(struct ch_plan *p);

/* Compiles p for the columns used[c] marks (the batch's insert, in the schema's order).
 * -ENOMEM. */
int ch_plan_compile(struct ch_plan *p, const struct ch_schema *s, const uint8_t *used);

/* Lays out rec's fields in p->offsets/lengths (nothing to do for a fixed layout).
 * 0, or -EBADMSG if the record does not fit its template. */
int ch_plan_fields(struct ch_plan *p, const uint8_t *rec, uint32_t len);

/* Appends rec (laid out by ch_plan_fields) as one row, by the compiled plan: its value of
 * the i-th column used to columns[i]. -ENOMEM. */
int ch_row_encode(struct ch_buf *columns, const struct ch_schema *s, const struct ch_plan *p,
		const uint8_t *rec, uint64_t batch_id);

/* A Native block's head: its number of columns and of rows. Returns its length (at most
 * CH_NATIVE_HEAD_MAX). */
#define CH_NATIVE_HEAD_MAX 20
size_t ch_native_block_head(uint8_t *out, uint64_t columns, uint64_t rows);
/* Empties a column's buffer and starts it with the column's name and type, as each column
 * of a Native block begins (its values follow). -ENOMEM. */
int ch_native_column_head(struct ch_buf *out, const struct ch_column *c);

/* The 16 exporter octets of a laid-out record (zeros when the template has none). */
const uint8_t *ch_row_exporter(const struct ch_plan *p, const uint8_t *rec);

#endif
