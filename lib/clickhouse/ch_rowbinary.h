/* Flow records as ClickHouse RowBinary rows: a plan per template says which field fills
 * each column of the insert (the last field of the column's element: the collector's
 * own exporter, domain and reception time, appended to the record, win over any the
 * exporter put in it), then each record is written column by column. */
#ifndef CH_ROWBINARY_H
#define CH_ROWBINARY_H

#include <stddef.h>
#include <stdint.h>

#include "ch_batch.h"
#include "ch_schema.h"
#include "dpfix_ipfix.h"

struct ch_plan {
	const struct dpfix_ipfix_template *t;
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

/* Lays out rec's fields in p->offsets/lengths (nothing to do for a fixed layout).
 * 0, or -EBADMSG if the record does not fit its template. */
int ch_plan_fields(struct ch_plan *p, const uint8_t *rec, uint32_t len);

/* Appends rec (laid out by ch_plan_fields) as one row. -ENOMEM. */
int ch_row_encode(struct ch_buf *out, const struct ch_schema *s, const struct ch_plan *p,
		const uint8_t *rec, uint64_t batch_id);

/* The 16 exporter octets of a laid-out record (zeros when the template has none). */
const uint8_t *ch_row_exporter(const struct ch_plan *p, const uint8_t *rec);

#endif
