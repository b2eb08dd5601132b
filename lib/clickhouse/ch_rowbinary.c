/* RowBinary rows from IPFIX records (ch_rowbinary.h). RowBinary is ClickHouse's own
 * row format: numbers little-endian at their full width, String a LEB128 length and the
 * bytes, FixedString(N) N bytes, DateTime a UInt32 of UNIX seconds. It costs the server
 * the least to parse, and the writer a store per column. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ch_rowbinary.h"
#include "dpfix_ipfix_bytes.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "RowBinary numbers are little-endian: stored here with memcpy of native values"
#endif

void
ch_plan_free(struct ch_plan *p)
{
	free(p->source);
	free(p->offsets);
	free(p->lengths);
	free(p->unmapped_fields);
	memset(p, 0, sizeof(*p));
}

int
ch_plan_build(struct ch_plan *p, const struct ch_schema *s, const struct dpfix_ipfix_template *t)
{
	uint16_t n = t->field_count;

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->exporter_field = -1;
	p->source = malloc((s->count + 1) * sizeof(*p->source));
	p->offsets = calloc(n + 1u, sizeof(*p->offsets));
	p->lengths = calloc(n + 1u, sizeof(*p->lengths));
	p->unmapped_fields = malloc((n + 1u) * sizeof(*p->unmapped_fields));
	if (p->source == NULL || p->offsets == NULL || p->lengths == NULL ||
			p->unmapped_fields == NULL) {
		ch_plan_free(p);
		return -ENOMEM;
	}
	for (uint32_t c = 0; c < s->count; c++) {
		const struct dpfix_ipfix_ie *ie = s->columns[c].ie;

		p->source[c] = -1;
		for (uint16_t i = 0; ie != NULL && i < n; i++)
			if (t->fields[i].id == ie->id && t->fields[i].pen == ie->pen)
				p->source[c] = i;
	}
	for (uint16_t i = 0; i < n; i++) {
		const struct dpfix_ipfix_field_spec *f = &t->fields[i];
		int mapped = 0;

		if (f->pen == 0 && f->id == IE_exporterIPv6Address && f->length == 16)
			p->exporter_field = i;
		for (uint32_t c = 0; c < s->count && !mapped; c++)
			mapped = p->source[c] == i;
		if (!mapped)
			p->unmapped_fields[p->unmapped++] = i;
	}
	/* Without variable-length fields every record has the same layout. */
	if (t->varlen_count == 0) {
		uint32_t off = 0;

		for (uint16_t i = 0; i < n; i++) {
			p->offsets[i] = off;
			p->lengths[i] = t->fields[i].length;
			off += t->fields[i].length;
		}
	}
	return 0;
}

int
ch_plan_fields(struct ch_plan *p, const uint8_t *rec, uint32_t len)
{
	if (p->t->varlen_count == 0)
		return len >= p->t->min_record_length ? 0 : -EBADMSG;
	return dpfix_ipfix_record_fields(p->t, rec, len, p->offsets, p->lengths) < 0 ? -EBADMSG : 0;
}

const uint8_t *
ch_row_exporter(const struct ch_plan *p, const uint8_t *rec)
{
	static const uint8_t none[16];

	return p->exporter_field >= 0 ? rec + p->offsets[p->exporter_field] : none;
}

/* Column widths of the fixed-size conversions, 0 for String. */
static uint32_t
width(const struct ch_column *c)
{
	switch (c->conv) {
	case CH_CONV_UINT8: case CH_CONV_INT8: case CH_CONV_BOOL:
		return 1;
	case CH_CONV_UINT16: case CH_CONV_INT16: case CH_CONV_MS:
		return 2;
	case CH_CONV_UINT32: case CH_CONV_INT32: case CH_CONV_FLOAT32: case CH_CONV_IPV4:
	case CH_CONV_DATETIME: case CH_CONV_US: case CH_CONV_NS:
		return 4;
	case CH_CONV_UINT64: case CH_CONV_INT64: case CH_CONV_FLOAT64: case CH_CONV_MAC:
	case CH_CONV_BATCH_ID:
		return 8;
	case CH_CONV_FIXED:
		return c->fixed_len;
	case CH_CONV_STRING: case CH_CONV_BYTES:
		return 0;
	}
	return 0;
}

static uint8_t *
put_string(uint8_t *o, const uint8_t *v, uint32_t len)
{
	uint32_t n = len;

	do {
		uint8_t b = n & 0x7f;

		n >>= 7;
		*o++ = n ? (uint8_t)(b | 0x80) : b;
	} while (n);
	memcpy(o, v, len);
	return o + len;
}

/* A time in whole seconds and nanoseconds; seconds outside DateTime's range (UInt32)
 * are held to it. */
static void
read_time(const struct ch_column *c, const uint8_t *v, uint16_t len, uint32_t *sec, uint32_t *ns)
{
	struct dpfix_ipfix_value val;
	int64_t s;

	*ns = 0;
	switch (c->ie->type) {
	case DPFIX_IPFIX_DATETIME_SECONDS:
		s = (int64_t)dpfix_ipfix_read_unsigned(v, len);
		break;
	case DPFIX_IPFIX_DATETIME_MILLISECONDS: {
		uint64_t ms = dpfix_ipfix_read_unsigned(v, len);

		s = (int64_t)(ms / 1000);
		*ns = (uint32_t)(ms % 1000) * 1000000;
		break;
	}
	default:
		if (dpfix_ipfix_value_decode(c->ie->type, v, len, DPFIX_IPFIX_NTP_PIVOT_DEFAULT,
				&val) < 0)
			val.t = (struct dpfix_ipfix_time){0, 0};
		s = val.t.sec;
		*ns = val.t.nsec;
		break;
	}
	*sec = s < 0 ? 0 : s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* One column's value from field v of len octets (the decoder held every field to a
 * length its type allows: RFC 7011 6.2 reduced sizes are widened here). */
static uint8_t *
put_value(uint8_t *o, const struct ch_column *c, const uint8_t *v, uint16_t len)
{
	uint64_t u;
	int64_t i;
	uint32_t sec, ns, u32;
	float f;
	double d;

	switch (c->conv) {
	case CH_CONV_UINT8: case CH_CONV_UINT16: case CH_CONV_UINT32: case CH_CONV_UINT64:
	case CH_CONV_MAC: case CH_CONV_IPV4:
		u = dpfix_ipfix_read_unsigned(v, len);
		memcpy(o, &u, width(c));
		return o + width(c);
	case CH_CONV_INT8: case CH_CONV_INT16: case CH_CONV_INT32: case CH_CONV_INT64:
		if (dpfix_ipfix_get_signed(v, len, &i) < 0)
			i = 0;
		memcpy(o, &i, width(c));
		return o + width(c);
	case CH_CONV_FLOAT32:
		u32 = len == 4 ? dpfix_get32(v) : 0;
		memcpy(&f, &u32, 4);
		memcpy(o, &f, 4);
		return o + 4;
	case CH_CONV_FLOAT64:
		if (len == 4) {
			u32 = dpfix_get32(v);
			memcpy(&f, &u32, 4);
			d = f;
		} else {
			u = len == 8 ? dpfix_get_be(v, 8) : 0;
			memcpy(&d, &u, 8);
		}
		memcpy(o, &d, 8);
		return o + 8;
	case CH_CONV_BOOL:
		*o = len == 1 && v[0] == 1;
		return o + 1;
	case CH_CONV_STRING:
		while (len > 0 && v[len - 1] == '\0')
			len--;
		return put_string(o, v, len);
	case CH_CONV_BYTES:
		return put_string(o, v, len);
	case CH_CONV_FIXED:
		memset(o, 0, c->fixed_len);
		memcpy(o, v, len < c->fixed_len ? len : c->fixed_len);
		return o + c->fixed_len;
	case CH_CONV_DATETIME: case CH_CONV_MS: case CH_CONV_US: case CH_CONV_NS:
		read_time(c, v, len, &sec, &ns);
		if (c->conv == CH_CONV_MS) {
			uint16_t ms = (uint16_t)(ns / 1000000);

			memcpy(o, &ms, 2);
			return o + 2;
		}
		u32 = c->conv == CH_CONV_DATETIME ? sec : c->conv == CH_CONV_US ? ns / 1000 : ns;
		memcpy(o, &u32, 4);
		return o + 4;
	case CH_CONV_BATCH_ID:
		break;
	}
	return o;
}

int
ch_row_encode(struct ch_buf *out, const struct ch_schema *s, const struct ch_plan *p,
		const uint8_t *rec, uint64_t batch_id)
{
	size_t most = 0;
	uint8_t *o;

	/* Room for the row: a String takes at most its field plus a 5-byte length. */
	for (uint32_t c = 0; c < s->count; c++)
		most += width(&s->columns[c]) ? width(&s->columns[c]) :
			(p->source[c] >= 0 ? p->lengths[p->source[c]] : 0) + 5u;
	if (ch_buf_reserve(out, most) < 0)
		return -ENOMEM;
	o = out->p + out->len;
	for (uint32_t c = 0; c < s->count; c++) {
		const struct ch_column *col = &s->columns[c];
		int32_t f = p->source[c];

		if (col->conv == CH_CONV_BATCH_ID) {
			memcpy(o, &batch_id, 8);
			o += 8;
		} else if (f >= 0) {
			o = put_value(o, col, rec + p->offsets[f], p->lengths[f]);
		} else {
			/* Not in this record: the column's zero (an empty String). */
			uint32_t w = width(col);

			memset(o, 0, w ? w : 1);
			o += w ? w : 1;
		}
	}
	out->len = (size_t)(o - out->p);
	return 0;
}
