/* A raw IPFIX message builder for unit tests, so they can write what no encoder would
 * (bad lengths, forbidden field sizes, withdrawals of any form). */
#ifndef IPFIX_RAW_H
#define IPFIX_RAW_H

#include <stdint.h>

#include "dpfix_ipfix.h"

struct raw {
	uint8_t b[70000];
	uint32_t len;
	uint32_t set_off;
};

static inline void
put(struct raw *m, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		m->b[m->len++] = (uint8_t)(v >> (8 * i));
}

static inline void
rbegin(struct raw *m, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	m->len = 0;
	put(m, 10, 2);
	put(m, 0, 2);
	put(m, export_time, 4);
	put(m, seq, 4);
	put(m, domain, 4);
}

static inline void
rset(struct raw *m, uint16_t id)
{
	m->set_off = m->len;
	put(m, id, 2);
	put(m, 0, 2);
}

static inline void
rset_end(struct raw *m)
{
	m->b[m->set_off + 2] = (uint8_t)((m->len - m->set_off) >> 8);
	m->b[m->set_off + 3] = (uint8_t)(m->len - m->set_off);
}

static inline void
rend(struct raw *m)
{
	m->b[2] = (uint8_t)(m->len >> 8);
	m->b[3] = (uint8_t)m->len;
}

/* A template record: id, count, [scope], then (id, length) pairs. */
static inline void
rtemplate(struct raw *m, const struct dpfix_ipfix_template *t)
{
	put(m, t->id, 2);
	put(m, t->field_count, 2);
	if (t->scope_count)
		put(m, t->scope_count, 2);
	for (uint16_t i = 0; i < t->field_count; i++) {
		put(m, t->fields[i].id | (t->fields[i].pen ? 0x8000 : 0), 2);
		put(m, t->fields[i].length, 2);
		if (t->fields[i].pen)
			put(m, t->fields[i].pen, 4);
	}
}

static inline void
rwithdraw(struct raw *m, uint16_t set_id, uint16_t id)
{
	rset(m, set_id);
	put(m, id, 2);
	put(m, 0, 2);
	rset_end(m);
}

#endif
