/* Filter expressions (mediate_filter.h): a recursive-descent parser into a small tree
 * whose leaves are element comparisons, each a set of values, ranges or prefixes read by
 * the element's registry type; matched against a record's fields where they lie. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mediate_filter.h"

#define MAX_NODES 128
#define MAX_ITEMS 256
#define MAX_DEPTH 32
#define POOL_LEN 1024

enum item_kind { ITEM_UNSIGNED, ITEM_SIGNED, ITEM_FLOAT, ITEM_PREFIX, ITEM_BYTES };
enum float_op { F_EQ, F_LT, F_LE, F_GT, F_GE };
enum node_kind { NODE_LEAF, NODE_AND, NODE_OR, NODE_NOT };

struct item {
	enum item_kind kind;
	union {
		struct { uint64_t lo, hi; } u;
		struct { int64_t lo, hi; } i;
		struct { double v; enum float_op op; } f;
		struct { uint8_t addr[16]; uint8_t len, bits; } p;  /* len 4 or 16; MAC: 6, bits 48 */
		struct { uint16_t off, len; } b;                    /* into the pool */
	};
};

struct leaf {
	const struct dpfix_ipfix_ie *ie;
	int negate;                 /* != */
	uint16_t first, count;      /* its items */
};

struct node {
	enum node_kind kind;
	int16_t a, b;               /* children; a leaf's index for NODE_LEAF */
};

struct med_filter {
	struct node nodes[MAX_NODES];
	unsigned int nb_nodes;
	int16_t root;
	struct leaf leaves[MAX_NODES];
	unsigned int nb_leaves;
	struct item items[MAX_ITEMS];
	unsigned int nb_items;
	uint8_t pool[POOL_LEN];
	unsigned int pool_len;
};

struct parser {
	const char *s;
	size_t pos;
	struct med_filter *f;
	char *err;
	size_t errlen;
	int failed;
	unsigned int depth;
};

static int
fail(struct parser *p, const char *what)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "at character %zu: %s", p->pos + 1, what);
	p->failed = 1;
	return -1;
}

static void
skip_space(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static int
ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The word w (and/or/not/in) at the cursor, taken if there. */
static int
take_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	skip_space(p);
	if (strncmp(p->s + p->pos, w, n) != 0 || ident_char(p->s[p->pos + n]))
		return 0;
	p->pos += n;
	return 1;
}

static int16_t
add_node(struct parser *p, enum node_kind kind, int16_t a, int16_t b)
{
	if (p->f->nb_nodes == MAX_NODES)
		return (int16_t)fail(p, "expression too long");
	p->f->nodes[p->f->nb_nodes] = (struct node){.kind = kind, .a = a, .b = b};
	return (int16_t)p->f->nb_nodes++;
}

static struct item *
add_item(struct parser *p, enum item_kind kind)
{
	if (p->f->nb_items == MAX_ITEMS) {
		fail(p, "too many values");
		return NULL;
	}
	p->f->items[p->f->nb_items] = (struct item){.kind = kind};
	return &p->f->items[p->f->nb_items++];
}

/* The characters of one value: up to a space, ',', ')' or the end. */
static size_t
value_token(struct parser *p, char *out, size_t cap)
{
	size_t n = 0;

	skip_space(p);
	while (p->s[p->pos + n] != '\0' && !isspace((unsigned char)p->s[p->pos + n]) &&
			p->s[p->pos + n] != ',' && p->s[p->pos + n] != ')' && n + 1 < cap) {
		out[n] = p->s[p->pos + n];
		n++;
	}
	out[n] = '\0';
	return n;
}

static int
parse_u64(const char *t, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)t[0]))
		return -1;
	errno = 0;
	*v = strtoull(t, &end, 0);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
parse_i64(const char *t, int64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)t[0]) && t[0] != '-')
		return -1;
	errno = 0;
	*v = strtoll(t, &end, 0);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* LO..HI or a single value, in the element's integer kind. */
static int
parse_integer_item(struct parser *p, const char *t, int is_signed)
{
	char lo[64], *dots;
	struct item *it = add_item(p, is_signed ? ITEM_SIGNED : ITEM_UNSIGNED);

	if (it == NULL)
		return -1;
	snprintf(lo, sizeof(lo), "%s", t);
	dots = strstr(lo, "..");
	if (dots != NULL)
		*dots = '\0';
	if (is_signed) {
		if (parse_i64(lo, &it->i.lo) < 0 || (dots != NULL && parse_i64(dots + 2, &it->i.hi) < 0))
			return fail(p, "not an integer or LO..HI range");
		if (dots == NULL)
			it->i.hi = it->i.lo;
		return it->i.lo <= it->i.hi ? 0 : fail(p, "a range whose low end is above its high end");
	}
	if (strcmp(lo, "true") == 0 || strcmp(lo, "false") == 0) {
		it->u.lo = it->u.hi = lo[0] == 't' ? 1 : 2; /* RFC 7011 6.1.5 */
		return 0;
	}
	if (parse_u64(lo, &it->u.lo) < 0 || (dots != NULL && parse_u64(dots + 2, &it->u.hi) < 0))
		return fail(p, "not an unsigned integer or LO..HI range");
	if (dots == NULL)
		it->u.hi = it->u.lo;
	return it->u.lo <= it->u.hi ? 0 : fail(p, "a range whose low end is above its high end");
}

static int
parse_address_item(struct parser *p, const char *t, enum dpfix_ipfix_type type)
{
	char addr[64], *slash;
	struct item *it = add_item(p, ITEM_PREFIX);
	int v6 = type == DPFIX_IPFIX_IPV6_ADDRESS;
	unsigned int max = v6 ? 128 : 32;

	if (it == NULL)
		return -1;
	snprintf(addr, sizeof(addr), "%s", t);
	slash = strchr(addr, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, it->p.addr) != 1)
		return fail(p, v6 ? "not an IPv6 address or prefix" : "not an IPv4 address or prefix");
	it->p.len = v6 ? 16 : 4;
	it->p.bits = (uint8_t)max;
	if (slash != NULL) {
		uint64_t bits;

		if (parse_u64(slash + 1, &bits) < 0 || bits > max)
			return fail(p, "a prefix length past the address");
		it->p.bits = (uint8_t)bits;
	}
	return 0;
}

static int
parse_mac_item(struct parser *p, const char *t)
{
	struct item *it = add_item(p, ITEM_PREFIX);
	unsigned int b[6];
	char extra;

	if (it == NULL)
		return -1;
	if (sscanf(t, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			&extra) != 6)
		return fail(p, "not a MAC address (aa:bb:cc:dd:ee:ff)");
	for (int i = 0; i < 6; i++)
		it->p.addr[i] = (uint8_t)b[i];
	it->p.len = 6;
	it->p.bits = 48;
	return 0;
}

static int
pool_bytes(struct parser *p, const uint8_t *b, size_t n)
{
	struct item *it;

	if (p->f->pool_len + n > POOL_LEN)
		return fail(p, "values too long");
	it = add_item(p, ITEM_BYTES);
	if (it == NULL)
		return -1;
	memcpy(p->f->pool + p->f->pool_len, b, n);
	it->b.off = (uint16_t)p->f->pool_len;
	it->b.len = (uint16_t)n;
	p->f->pool_len += (unsigned int)n;
	return 0;
}

/* "text" (\" and \\ escaped) for a string element. */
static int
parse_string_item(struct parser *p)
{
	uint8_t buf[256];
	size_t n = 0;

	skip_space(p);
	if (p->s[p->pos] != '"')
		return fail(p, "a string value is written \"in quotes\"");
	p->pos++;
	while (p->s[p->pos] != '"') {
		char c = p->s[p->pos];

		if (c == '\0')
			return fail(p, "a string without its closing quote");
		if (c == '\\' && (p->s[p->pos + 1] == '"' || p->s[p->pos + 1] == '\\'))
			c = p->s[++p->pos];
		if (n == sizeof(buf))
			return fail(p, "a string longer than 256 octets");
		buf[n++] = (uint8_t)c;
		p->pos++;
	}
	p->pos++;
	return pool_bytes(p, buf, n);
}

static int
parse_octets_item(struct parser *p, const char *t)
{
	uint8_t buf[256];
	size_t n = 0;

	if (strncmp(t, "0x", 2) != 0 || strlen(t) % 2 != 0)
		return fail(p, "an octetArray value is 0x and hex digits");
	for (t += 2; *t != '\0'; t += 2) {
		unsigned int b;

		if (!isxdigit((unsigned char)t[0]) || !isxdigit((unsigned char)t[1]) ||
				sscanf(t, "%2x", &b) != 1 || n == sizeof(buf))
			return fail(p, "an octetArray value is 0x and at most 256 hex octets");
		buf[n++] = (uint8_t)b;
	}
	return pool_bytes(p, buf, n);
}

/* One value of the leaf's element (or, for an ordered comparison, the range it means). */
static int
parse_item(struct parser *p, const struct dpfix_ipfix_ie *ie, const char *op)
{
	char t[128];
	enum dpfix_ipfix_type type = ie->type;

	if (type == DPFIX_IPFIX_STRING)
		return parse_string_item(p);
	if (value_token(p, t, sizeof(t)) == 0)
		return fail(p, "a value is missing");
	p->pos += strlen(t);
	switch (type) {
	case DPFIX_IPFIX_IPV4_ADDRESS:
	case DPFIX_IPFIX_IPV6_ADDRESS:
		return parse_address_item(p, t, type);
	case DPFIX_IPFIX_MAC_ADDRESS:
		return parse_mac_item(p, t);
	case DPFIX_IPFIX_OCTET_ARRAY:
		return parse_octets_item(p, t);
	case DPFIX_IPFIX_FLOAT32:
	case DPFIX_IPFIX_FLOAT64: {
		struct item *it = add_item(p, ITEM_FLOAT);
		char *end;

		if (it == NULL)
			return -1;
		it->f.v = strtod(t, &end);
		if (*end != '\0' || end == t)
			return fail(p, "not a number");
		it->f.op = strcmp(op, "<") == 0 ? F_LT : strcmp(op, "<=") == 0 ? F_LE :
				strcmp(op, ">") == 0 ? F_GT : strcmp(op, ">=") == 0 ? F_GE : F_EQ;
		return 0;
	}
	case DPFIX_IPFIX_UNSIGNED8: case DPFIX_IPFIX_UNSIGNED16: case DPFIX_IPFIX_UNSIGNED32:
	case DPFIX_IPFIX_UNSIGNED64: case DPFIX_IPFIX_BOOLEAN:
	case DPFIX_IPFIX_SIGNED8: case DPFIX_IPFIX_SIGNED16: case DPFIX_IPFIX_SIGNED32:
	case DPFIX_IPFIX_SIGNED64: {
		int is_signed = type >= DPFIX_IPFIX_SIGNED8 && type <= DPFIX_IPFIX_SIGNED64;

		if (parse_integer_item(p, t, is_signed) < 0)
			return -1;
		if (op[0] != '<' && op[0] != '>')
			return 0;
		/* x < v is x in MIN..v-1, and so on. */
		struct item *it = &p->f->items[p->f->nb_items - 1];
		int le = strcmp(op, "<=") == 0, lt = strcmp(op, "<") == 0, ge = strcmp(op, ">=") == 0;

		if (is_signed) {
			int64_t v = it->i.lo;

			if ((lt && v == INT64_MIN) || (!lt && !le && !ge && v == INT64_MAX))
				return fail(p, "a comparison no value can meet");
			it->i.lo = lt || le ? INT64_MIN : ge ? v : v + 1;
			it->i.hi = lt ? v - 1 : le ? v : INT64_MAX;
		} else {
			uint64_t v = it->u.lo;

			if ((lt && v == 0) || (!lt && !le && !ge && v == UINT64_MAX))
				return fail(p, "a comparison no value can meet");
			it->u.lo = lt || le ? 0 : ge ? v : v + 1;
			it->u.hi = lt ? v - 1 : le ? v : UINT64_MAX;
		}
		return 0;
	}
	default:
		return fail(p, "elements of this type cannot be compared (only integers, "
				"addresses, floats, strings and octet arrays)");
	}
}

static int16_t parse_or(struct parser *p);

static int16_t
parse_comparison(struct parser *p)
{
	char name[DPFIX_IPFIX_IE_NAME_MAX + 1], op[3] = "";
	size_t n = 0;
	struct leaf *leaf;
	const struct dpfix_ipfix_ie *ie;

	skip_space(p);
	while (ident_char(p->s[p->pos + n]) && n + 1 < sizeof(name)) {
		name[n] = p->s[p->pos + n];
		n++;
	}
	name[n] = '\0';
	if (n == 0)
		return (int16_t)fail(p, "an element name, 'not' or '(' was expected");
	ie = dpfix_ipfix_ie_by_name(name);
	if (ie == NULL)
		return (int16_t)fail(p, "no information element has this name");
	p->pos += n;
	skip_space(p);
	for (const char *const *o = (const char *const[]){"==", "!=", "<=", ">=", "<", ">", NULL};
			*o != NULL; o++)
		if (strncmp(p->s + p->pos, *o, strlen(*o)) == 0) {
			snprintf(op, sizeof(op), "%s", *o);
			p->pos += strlen(*o);
			break;
		}
	if (op[0] == '\0' && !take_word(p, "in"))
		return (int16_t)fail(p, "==, !=, <, <=, >, >= or in was expected");
	if (p->f->nb_leaves == MAX_NODES)
		return (int16_t)fail(p, "expression too long");
	if ((op[0] == '<' || op[0] == '>') && ie->type != DPFIX_IPFIX_FLOAT32 &&
			ie->type != DPFIX_IPFIX_FLOAT64 && (ie->type < DPFIX_IPFIX_UNSIGNED8 ||
			ie->type > DPFIX_IPFIX_SIGNED64))
		return (int16_t)fail(p, "<, <=, > and >= compare numbers only");
	leaf = &p->f->leaves[p->f->nb_leaves];
	*leaf = (struct leaf){.ie = ie, .negate = strcmp(op, "!=") == 0,
		.first = (uint16_t)p->f->nb_items};
	do {
		if (parse_item(p, ie, op) < 0)
			return -1;
		skip_space(p);
	} while (op[0] == '\0' && p->s[p->pos] == ',' && ++p->pos);
	leaf->count = (uint16_t)(p->f->nb_items - leaf->first);
	return add_node(p, NODE_LEAF, (int16_t)p->f->nb_leaves++, -1);
}

static int16_t
parse_unary(struct parser *p)
{
	int16_t n;

	if (++p->depth > MAX_DEPTH)
		return (int16_t)fail(p, "nested too deep");
	if (take_word(p, "not")) {
		n = parse_unary(p);
		n = n < 0 ? n : add_node(p, NODE_NOT, n, -1);
	} else if (skip_space(p), p->s[p->pos] == '(') {
		p->pos++;
		n = parse_or(p);
		skip_space(p);
		if (n >= 0 && p->s[p->pos] != ')')
			n = (int16_t)fail(p, "')' was expected");
		else if (n >= 0)
			p->pos++;
	} else {
		n = parse_comparison(p);
	}
	p->depth--;
	return n;
}

static int16_t
parse_and(struct parser *p)
{
	int16_t left = parse_unary(p);

	while (left >= 0 && take_word(p, "and")) {
		int16_t right = parse_unary(p);

		left = right < 0 ? right : add_node(p, NODE_AND, left, right);
	}
	return left;
}

static int16_t
parse_or(struct parser *p)
{
	int16_t left = parse_and(p);

	while (left >= 0 && take_word(p, "or")) {
		int16_t right = parse_and(p);

		left = right < 0 ? right : add_node(p, NODE_OR, left, right);
	}
	return left;
}

struct med_filter *
med_filter_parse(const char *text, char *err, size_t errlen)
{
	struct med_filter *f = calloc(1, sizeof(*f));
	struct parser p = {.s = text, .f = f, .err = err, .errlen = errlen};

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->root = parse_or(&p);
	skip_space(&p);
	if (f->root >= 0 && text[p.pos] != '\0')
		fail(&p, "'and', 'or' or the end was expected");
	if (p.failed) {
		free(f);
		return NULL;
	}
	return f;
}

void
med_filter_free(struct med_filter *f)
{
	free(f);
}

unsigned int
med_filter_leaves(const struct med_filter *f)
{
	return f->nb_leaves;
}

const struct dpfix_ipfix_ie *
med_filter_leaf_element(const struct med_filter *f, unsigned int i)
{
	return f->leaves[i].ie;
}

static int
prefix_match(const struct item *it, const uint8_t *v, uint16_t len)
{
	unsigned int full = it->p.bits / 8, rest = it->p.bits % 8;

	if (len != it->p.len || memcmp(v, it->p.addr, full) != 0)
		return 0;
	return rest == 0 || ((v[full] ^ it->p.addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int
item_match(const struct med_filter *f, const struct item *it, enum dpfix_ipfix_type type,
		const uint8_t *v, uint16_t len)
{
	switch (it->kind) {
	case ITEM_UNSIGNED: {
		uint64_t x;

		if (dpfix_ipfix_get_unsigned(v, len, &x) < 0)
			return 0;
		return x >= it->u.lo && x <= it->u.hi;
	}
	case ITEM_SIGNED: {
		int64_t x;

		if (dpfix_ipfix_get_signed(v, len, &x) < 0)
			return 0;
		return x >= it->i.lo && x <= it->i.hi;
	}
	case ITEM_FLOAT: {
		struct dpfix_ipfix_value x;

		if (dpfix_ipfix_value_decode(type, v, len, 0, &x) < 0)
			return 0;
		switch (it->f.op) {
		case F_LT: return x.f < it->f.v;
		case F_LE: return x.f <= it->f.v;
		case F_GT: return x.f > it->f.v;
		case F_GE: return x.f >= it->f.v;
		default: return x.f == it->f.v;
		}
	}
	case ITEM_PREFIX:
		return prefix_match(it, v, len);
	case ITEM_BYTES:
		return len == it->b.len && memcmp(v, f->pool + it->b.off, len) == 0;
	}
	return 0;
}

static int
leaf_match(const struct med_filter *f, unsigned int i, const int16_t *field_of,
		const uint8_t *data, const uint32_t *offsets, const uint16_t *lengths)
{
	const struct leaf *l = &f->leaves[i];
	int16_t field = field_of[i];
	int in = 0;

	if (field < 0)
		return 0;
	for (uint16_t k = 0; k < l->count && !in; k++)
		in = item_match(f, &f->items[l->first + k], l->ie->type, data + offsets[field],
				lengths[field]);
	return l->negate ? !in : in;
}

static int
node_match(const struct med_filter *f, int16_t n, const int16_t *field_of, const uint8_t *data,
		const uint32_t *offsets, const uint16_t *lengths)
{
	const struct node *node = &f->nodes[n];

	switch (node->kind) {
	case NODE_LEAF:
		return leaf_match(f, (unsigned int)node->a, field_of, data, offsets, lengths);
	case NODE_AND:
		return node_match(f, node->a, field_of, data, offsets, lengths) &&
				node_match(f, node->b, field_of, data, offsets, lengths);
	case NODE_OR:
		return node_match(f, node->a, field_of, data, offsets, lengths) ||
				node_match(f, node->b, field_of, data, offsets, lengths);
	case NODE_NOT:
		return !node_match(f, node->a, field_of, data, offsets, lengths);
	}
	return 0;
}

int
med_filter_match(const struct med_filter *f, const int16_t *field_of, const uint8_t *data,
		const uint32_t *offsets, const uint16_t *lengths)
{
	return node_match(f, f->root, field_of, data, offsets, lengths);
}
