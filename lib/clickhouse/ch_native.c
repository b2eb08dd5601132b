/* Native blocks from IPFIX records (ch_native.h). Native is ClickHouse's own columnar
 * format: a block is its number of columns and rows (LEB128), then each column's name and
 * type (Strings) and all its values, each as RowBinary has it: numbers little-endian at
 * their full width, String a LEB128 length and the bytes, FixedString(N) N bytes,
 * DateTime a UInt32 of UNIX seconds. ClickHouse takes a fixed-width column whole, with a
 * copy, where RowBinary costs it a call per value (bench/RESULTS.md: 0.77x the server's
 * CPU per row). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ch_native.h"
#include "dpfix_ipfix_bytes.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Native numbers are little-endian: stored here with memcpy of native values"
#endif

void
ch_plan_free(struct ch_plan *p)
{
	free(p->ops);
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
put_varuint(uint8_t *o, uint64_t n)
{
	do {
		uint8_t b = n & 0x7f;

		n >>= 7;
		*o++ = n ? (uint8_t)(b | 0x80) : b;
	} while (n);
	return o;
}

static uint8_t *
put_string(uint8_t *o, const uint8_t *v, uint32_t len)
{
	o = put_varuint(o, len);
	memcpy(o, v, len);
	return o + len;
}

size_t
ch_native_block_head(uint8_t *out, uint64_t columns, uint64_t rows)
{
	return (size_t)(put_varuint(put_varuint(out, columns), rows) - out);
}

int
ch_native_column_head(struct ch_buf *out, const struct ch_column *c)
{
	size_t name = strlen(c->name), type = strlen(c->type);

	out->len = 0;
	if (ch_buf_reserve(out, name + type + 20) < 0)
		return -ENOMEM;
	out->len = (size_t)(put_string(put_string(out->p, (const uint8_t *)c->name, (uint32_t)name),
			(const uint8_t *)c->type, (uint32_t)type) - out->p);
	return 0;
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

enum op_kind {
	OP_ZERO,        /* n zero bytes: columns the record lacks (an empty String is one 0) */
	OP_BE,          /* an unsigned field of the column's width, byte-swapped */
	OP_COPY,        /* a FixedString of the field's length, copied */
	OP_STRING,      /* octets with a LEB128 length */
	OP_BATCH_ID,
	OP_MS_SECONDS,  /* dateTimeMilliseconds (8 octets): its seconds as a DateTime ... */
	OP_MS_FRACTION, /* ... and its milliseconds (NAME_ms) */
	OP_GENERIC,     /* put_value: reduced sizes, signs, floats, times, strings' padding */
};

int
ch_plan_compile(struct ch_plan *p, const struct ch_schema *s, const uint8_t *used)
{
	struct ch_op *ops = realloc(p->ops, (s->count + 1) * sizeof(*ops));
	uint32_t n = 0;

	if (ops == NULL)
		return -ENOMEM;
	p->ops = ops;
	for (uint32_t c = 0; c < s->count; c++) {
		const struct ch_column *col = &s->columns[c];
		int32_t f = p->source[c];
		uint32_t w = width(col);
		struct ch_op op = {.width = (uint8_t)w, .field = f, .n = c};

		if (!used[c])
			continue;
		if (col->conv == CH_CONV_BATCH_ID) {
			op.kind = OP_BATCH_ID;
		} else if (f < 0) {
			/* A zero of the column's width; an empty String is its length, 0. */
			op = (struct ch_op){.kind = OP_ZERO, .field = -1, .n = w ? w : 1};
		} else {
			uint16_t len = p->t->fields[f].length;

			op.field_len = len;
			switch (col->conv) {
			case CH_CONV_UINT8: case CH_CONV_UINT16: case CH_CONV_UINT32: case CH_CONV_UINT64:
			case CH_CONV_IPV4:
				op.kind = len == w ? OP_BE : OP_GENERIC;
				break;
			case CH_CONV_FIXED:
				op.kind = len == w ? OP_COPY : OP_GENERIC;
				break;
			case CH_CONV_BYTES:
				op.kind = OP_STRING;
				break;
			case CH_CONV_DATETIME:
			case CH_CONV_MS:
				op.kind = col->ie->type == DPFIX_IPFIX_DATETIME_MILLISECONDS && len == 8 ?
					(col->conv == CH_CONV_MS ? OP_MS_FRACTION : OP_MS_SECONDS) : OP_GENERIC;
				break;
			default:
				op.kind = OP_GENERIC;
				break;
			}
		}
		ops[n++] = op;
	}
	p->op_count = n;
	return 0;
}

int
ch_row_encode(struct ch_buf *columns, const struct ch_schema *s, const struct ch_plan *p,
		const uint8_t *rec, uint64_t batch_id)
{
	for (uint32_t i = 0; i < p->op_count; i++) {
		const struct ch_op *op = &p->ops[i];
		const uint8_t *v = op->field >= 0 ? rec + p->offsets[op->field] : NULL;
		struct ch_buf *out = &columns[i];
		/* A String's length prefix takes at most 5 bytes. */
		size_t most = op->kind == OP_ZERO ? op->n : op->width ? op->width :
			5u + p->lengths[op->field];
		uint8_t *o;
		uint64_t x;
		uint32_t x32;
		uint16_t x16;

		if (out->cap - out->len < most && ch_buf_reserve(out, most) < 0)
			return -ENOMEM;
		o = out->p + out->len;
		switch (op->kind) {
		case OP_ZERO:
			if (op->n == 16)
				memset(o, 0, 16);
			else
				memset(o, 0, op->n);
			o += op->n;
			break;
		case OP_BE:
			switch (op->width) {
			case 1:
				*o = *v;
				break;
			case 2:
				memcpy(&x16, v, 2);
				x16 = __builtin_bswap16(x16);
				memcpy(o, &x16, 2);
				break;
			case 4:
				memcpy(&x32, v, 4);
				x32 = __builtin_bswap32(x32);
				memcpy(o, &x32, 4);
				break;
			default:
				memcpy(&x, v, 8);
				x = __builtin_bswap64(x);
				memcpy(o, &x, 8);
				break;
			}
			o += op->width;
			break;
		case OP_COPY:
			/* The 16 octets of an IPv6 address (every row: the exporter) as two
			 * moves; a length known only at run time costs a rep movs. */
			if (op->width == 16)
				memcpy(o, v, 16);
			else
				memcpy(o, v, op->width);
			o += op->width;
			break;
		case OP_STRING:
			o = put_string(o, v, p->lengths[op->field]);
			break;
		case OP_BATCH_ID:
			memcpy(o, &batch_id, 8);
			o += 8;
			break;
		case OP_MS_SECONDS:
			memcpy(&x, v, 8);
			x = __builtin_bswap64(x) / 1000;
			x32 = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
			memcpy(o, &x32, 4);
			o += 4;
			break;
		case OP_MS_FRACTION:
			memcpy(&x, v, 8);
			x16 = (uint16_t)(__builtin_bswap64(x) % 1000);
			memcpy(o, &x16, 2);
			o += 2;
			break;
		default:
			o = put_value(o, &s->columns[op->n], v, p->lengths[op->field]);
			break;
		}
		out->len = (size_t)(o - out->p);
	}
	return 0;
}
