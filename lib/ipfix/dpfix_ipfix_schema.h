/* Record schemas: each kind of record is one list of {element, length, where the value
 * comes from}, and that list drives both its template and its encoder, so the two
 * cannot disagree; the record's size and its field count come from the list too.
 *
 * A list is an X-macro, one line a field (CESNET ipfixprobe's ipfix-elements.hpp does
 * the same):
 *
 *   #define MY_FIELDS(X) \
 *           X(0, IE_octetDeltaCount, 8, UINT, r->octets) \
 *           X(0, IE_interfaceName, DPFIX_IPFIX_VARLEN, STRING, r->name)
 *
 * PEN (0 for IANA elements), element id, length in the template, how the value is
 * written, and the value: a C expression of `r`, the record being encoded (a pointer
 * to the list's source type), and `g`, its group (g->ctx: the group's own data). How:
 *   UINT    an unsigned integer expression, written big-endian in LENGTH (1..8)
 *           octets (RFC 7011 6.2: reduced size; the value must fit)
 *   OCTETS  a pointer to LENGTH octets, copied (addresses)
 *   STRING  a const char * (NULL is ""), variable length (LENGTH DPFIX_IPFIX_VARLEN):
 *           a one-octet length then at most 254 octets, cut at a UTF-8 character
 *           boundary so no half character ever reaches a collector
 *
 * DPFIX_IPFIX_GROUP_DEFINE makes a group of a list: its fields as template data and an
 * encoder generated from the same lines (straight-line code, as fast as one written by
 * hand). A schema is a template id and a sequence of groups, composed at run time:
 * an optional part of a record (RFC 5103 reverse counters, selectorId, a measurement
 * that configuration turns on) is a group added or not, so no combination of options
 * needs a template of its own (VPP's flowprobe pairs template field groups with encoder
 * groups the same way). A group may also be made at run time, its fields filled in and
 * its encoder reading them (a Mediator re-exporting what it received). */
#ifndef DPFIX_IPFIX_SCHEMA_H
#define DPFIX_IPFIX_SCHEMA_H

#include <stdint.h>
#include <string.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"

struct dpfix_ipfix_group;

/* Writes g's fields of the record src at p and returns where they end. */
typedef uint8_t *(*dpfix_ipfix_group_encode_t)(const struct dpfix_ipfix_group *g,
		const void *src, uint8_t *p);

struct dpfix_ipfix_group {
	const char *name;
	const struct dpfix_ipfix_field_spec *fields;
	uint16_t field_count;
	uint16_t scope_count;       /* options records: the first fields are the scope */
	uint32_t max_length;        /* the most octets its fields take in a record */
	dpfix_ipfix_group_encode_t encode;
	const void *ctx;            /* the encoder's own data (dpfix_ipfix_schema_add) */
};

#define DPFIX_IPFIX_SCHEMA_MAX_GROUPS 16
/* The longest record a schema may describe: one that fits in the largest message. */
#define DPFIX_IPFIX_SCHEMA_MAX_LENGTH \
	(UINT16_MAX - DPFIX_IPFIX_HEADER_LEN - DPFIX_IPFIX_SET_HEADER_LEN)

/* A record kind as exported: its template id and its groups, in record order. */
struct dpfix_ipfix_schema {
	uint16_t template_id;
	uint16_t scope_count;       /* nonzero for options records */
	uint16_t field_count;
	uint16_t group_count;
	uint32_t min_length;        /* the shortest record (variable-length fields empty) */
	uint32_t max_length;        /* the longest: what an encode may write */
	struct dpfix_ipfix_group groups[DPFIX_IPFIX_SCHEMA_MAX_GROUPS];
};

/* An empty schema for records of template template_id (256 or more). */
void dpfix_ipfix_schema_init(struct dpfix_ipfix_schema *s, uint16_t template_id);
/* Appends group g (copied), its encoder to be given ctx. Only the first group may
 * have a scope. -EINVAL if g has a scope and is not first, or a field's length does
 * not suit its element's registry type (RFC 7011 6.2); -ENOSPC past
 * DPFIX_IPFIX_SCHEMA_MAX_GROUPS groups, DPFIX_IPFIX_MAX_FIELDS fields or
 * DPFIX_IPFIX_SCHEMA_MAX_LENGTH octets. The schema is unchanged on error. */
int dpfix_ipfix_schema_add(struct dpfix_ipfix_schema *s, const struct dpfix_ipfix_group *g,
		const void *ctx);
/* The template of s's records. */
void dpfix_ipfix_schema_template(const struct dpfix_ipfix_schema *s,
		struct dpfix_ipfix_template *t);

/* Encodes the record src into out (room for s->max_length octets); returns its length. */
static inline uint32_t
dpfix_ipfix_schema_encode(const struct dpfix_ipfix_schema *s, const void *src, uint8_t *out)
{
	uint8_t *p = out;

	for (uint16_t i = 0; i < s->group_count; i++)
		p = s->groups[i].encode(&s->groups[i], src, p);
	return (uint32_t)(p - out);
}

/* Variable-length records at most this long may go through dpfix_ipfix_msg_add_encoded
 * (it encodes one apart, on its stack, when the message has no room for the longest). */
#define DPFIX_IPFIX_ENCODE_APART_MAX 4096

/* Encodes the record src of schema s straight into m's Data Set for s's template, no
 * copy made, when m has room for s's longest record; else, for a schema with
 * variable-length fields (at most DPFIX_IPFIX_ENCODE_APART_MAX long), encodes it apart
 * and adds it if it fits, so messages fill to the last octet. -ENOSPC if it does not
 * fit (m is unchanged then), -E2BIG for a longer variable-length schema whose record
 * could not be encoded straight into m. */
int dpfix_ipfix_msg_add_encoded(struct dpfix_ipfix_msg *m, const struct dpfix_ipfix_schema *s,
		const void *src);

/* ---- writing a value (the HOW of a list line) ---- */

static inline uint8_t *
dpfix_ipfix_put_octets(uint8_t *p, const void *v, uint16_t len)
{
	memcpy(p, v, len);
	return p + len;
}

/* The one-octet length form, cut to 254 octets without splitting a UTF-8 character. */
static inline uint8_t *
dpfix_ipfix_put_string(uint8_t *p, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > 254) {
		n = 254;
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
			n--;
	}
	*p++ = (uint8_t)n;
	if (n != 0)
		memcpy(p, s, n);
	return p + n;
}

#define DPFIX_IPFIX_PUT_UINT(p, len, v) dpfix_put_be(p, (uint64_t)(v), len)
#define DPFIX_IPFIX_PUT_OCTETS(p, len, v) dpfix_ipfix_put_octets(p, v, len)
#define DPFIX_IPFIX_PUT_STRING(p, len, v) dpfix_ipfix_put_string(p, v)
/* The most octets a field takes in a record. */
#define DPFIX_IPFIX_MAX_UINT(len) (len)
#define DPFIX_IPFIX_MAX_OCTETS(len) (len)
#define DPFIX_IPFIX_MAX_STRING(len) (1 + 254)
/* The template lengths each HOW can write. */
#define DPFIX_IPFIX_LENGTH_OK_UINT(len) ((len) >= 1 && (len) <= 8)
#define DPFIX_IPFIX_LENGTH_OK_OCTETS(len) ((len) >= 1 && (len) < DPFIX_IPFIX_VARLEN)
#define DPFIX_IPFIX_LENGTH_OK_STRING(len) ((len) == DPFIX_IPFIX_VARLEN)

/* ---- turning a list into a group ---- */

#define DPFIX_IPFIX_FIELD_SPEC_(pen_, ie_, len_, how_, v_) \
	{.id = (ie_), .length = (len_), .pen = (pen_)},
#define DPFIX_IPFIX_FIELD_PUT_(pen_, ie_, len_, how_, v_) p = DPFIX_IPFIX_PUT_##how_(p, len_, v_);
#define DPFIX_IPFIX_FIELD_MAX_(pen_, ie_, len_, how_, v_) + DPFIX_IPFIX_MAX_##how_(len_)
#define DPFIX_IPFIX_FIELD_COUNT_(pen_, ie_, len_, how_, v_) + 1
#define DPFIX_IPFIX_FIELD_CHECK_(pen_, ie_, len_, how_, v_) \
	_Static_assert(DPFIX_IPFIX_LENGTH_OK_##how_(len_), #ie_ ": length " #len_ \
			" is not one " #how_ " can write");

/* The most octets the fields of LIST take in a record, as a constant expression. */
#define DPFIX_IPFIX_LIST_MAX_LENGTH(LIST) (0 LIST(DPFIX_IPFIX_FIELD_MAX_))

/* Defines `static const struct dpfix_ipfix_group name_` from LIST, whose values read
 * a `const type_ *r`; the first scope_count_ fields are an options record's scope. */
#define DPFIX_IPFIX_GROUP_DEFINE(name_, type_, scope_count_, LIST) \
	LIST(DPFIX_IPFIX_FIELD_CHECK_) \
	static const struct dpfix_ipfix_field_spec name_##_fields[] = { \
		LIST(DPFIX_IPFIX_FIELD_SPEC_) \
	}; \
	static uint8_t * \
	name_##_encode(const struct dpfix_ipfix_group *g, const void *src, uint8_t *restrict p) \
	{ \
		const type_ *r = src; \
		(void)g; \
		(void)r; \
		LIST(DPFIX_IPFIX_FIELD_PUT_) \
		return p; \
	} \
	static const struct dpfix_ipfix_group name_ = { \
		.name = #name_, \
		.fields = name_##_fields, \
		.field_count = 0 LIST(DPFIX_IPFIX_FIELD_COUNT_), \
		.scope_count = (scope_count_), \
		.max_length = DPFIX_IPFIX_LIST_MAX_LENGTH(LIST), \
		.encode = name_##_encode, \
	}

/* Defines `int fn(struct dpfix_ipfix_schema *s, uint16_t template_id)`, which makes s
 * the schema of records that are LIST alone (returns as dpfix_ipfix_schema_add). */
#define DPFIX_IPFIX_SCHEMA_DEFINE(fn, type_, scope_count_, LIST) \
	DPFIX_IPFIX_GROUP_DEFINE(fn##_group, type_, scope_count_, LIST); \
	int \
	fn(struct dpfix_ipfix_schema *s, uint16_t template_id) \
	{ \
		dpfix_ipfix_schema_init(s, template_id); \
		return dpfix_ipfix_schema_add(s, &fn##_group, NULL); \
	}

#endif
