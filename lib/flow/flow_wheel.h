/* The flow table's expiry timer wheel, internal to lib/flow. Each flow sits in the
 * slot of a time at or before its expiry; ordinary packets never move it, so metering
 * does no wheel work. When a slot's time has passed, each flow in it is checked: ended
 * if due, else moved to the slot of its new expiry. A flow is moved out of turn only
 * when its expiry comes closer (a TCP FIN or RST), once per flow. Slots are FIFO
 * lists, so the first flow of the earliest slot is the oldest filed. The links live
 * beside the records (the records are exactly two cache lines without them). */
#ifndef FLOW_WHEEL_H
#define FLOW_WHEEL_H

#include <stdint.h>

#define FLOW_WHEEL_NONE UINT32_MAX      /* in heads[] and tails[]: slot empty */
#define FLOW_WHEEL_END 0x80000000u      /* in a link: no neighbour; the slot is below */

struct flow_wheel_link {
	uint32_t next;          /* record number, or FLOW_WHEEL_END | slot */
	uint32_t prev;
	/* Not the wheel's: the table keeps the flow's index bucket and signature here,
	 * so ending a flow reads them with its links instead of hashing its key again. */
	uint32_t bucket;
	uint16_t sig;
};

struct flow_wheel {
	uint32_t *heads;        /* slot -> first record number, FLOW_WHEEL_NONE if empty */
	uint32_t *tails;        /* slot -> last record number */
	struct flow_wheel_link *links;  /* by record number (< FLOW_WHEEL_END) */
	uint32_t nb_slots;      /* a power of 2, below FLOW_WHEEL_END */
	unsigned int slot_shift;        /* a slot is 2^slot_shift ns */
	uint64_t cursor;        /* absolute number of the first slot not yet passed */
	uint64_t evict_hint;    /* no flow in slots [cursor, evict_hint) */
};

static inline uint64_t
flow_wheel_slot_of(const struct flow_wheel *wh, uint64_t t_ns)
{
	return t_ns >> wh->slot_shift;
}

/* Appends rec to absolute slot s. */
static inline void
flow_wheel_push(struct flow_wheel *wh, uint32_t rec, uint64_t s)
{
	uint32_t i = (uint32_t)s & (wh->nb_slots - 1);
	uint32_t last = wh->tails[i];

	wh->links[rec].next = FLOW_WHEEL_END | i;
	if (last == FLOW_WHEEL_NONE) {
		wh->links[rec].prev = FLOW_WHEEL_END | i;
		wh->heads[i] = rec;
	} else {
		wh->links[rec].prev = last;
		wh->links[last].next = rec;
	}
	wh->tails[i] = rec;
	if (s < wh->evict_hint)
		wh->evict_hint = s;
}

/* Puts rec back first in absolute slot s (a flow that could not be ended yet). */
static inline void
flow_wheel_push_front(struct flow_wheel *wh, uint32_t rec, uint64_t s)
{
	uint32_t i = (uint32_t)s & (wh->nb_slots - 1);
	uint32_t first = wh->heads[i];

	wh->links[rec].prev = FLOW_WHEEL_END | i;
	if (first == FLOW_WHEEL_NONE) {
		wh->links[rec].next = FLOW_WHEEL_END | i;
		wh->tails[i] = rec;
	} else {
		wh->links[rec].next = first;
		wh->links[first].prev = rec;
	}
	wh->heads[i] = rec;
	if (s < wh->evict_hint)
		wh->evict_hint = s;
}

/* Files rec in the slot of due_ns. A flow due before the cursor goes to the cursor's
 * slot, one due beyond the wheel's span to its last slot: early is always safe, since
 * a flow found not yet due is moved on. */
static inline void
flow_wheel_add(struct flow_wheel *wh, uint32_t rec, uint64_t due_ns)
{
	uint64_t s = flow_wheel_slot_of(wh, due_ns);

	if (s < wh->cursor)
		s = wh->cursor;
	else if (s - wh->cursor >= wh->nb_slots)
		s = wh->cursor + wh->nb_slots - 1;
	flow_wheel_push(wh, rec, s);
}

/* Unlinks rec from its slot. */
static inline void
flow_wheel_remove(struct flow_wheel *wh, uint32_t rec)
{
	uint32_t p = wh->links[rec].prev, n = wh->links[rec].next;

	if (p & FLOW_WHEEL_END)
		wh->heads[p & ~FLOW_WHEEL_END] = (n & FLOW_WHEEL_END) ? FLOW_WHEEL_NONE : n;
	else
		wh->links[p].next = n;
	if (n & FLOW_WHEEL_END)
		wh->tails[n & ~FLOW_WHEEL_END] = (p & FLOW_WHEEL_END) ? FLOW_WHEEL_NONE : p;
	else
		wh->links[n].prev = p;
}

/* Takes the first flow of absolute slot s, or FLOW_WHEEL_NONE. */
static inline uint32_t
flow_wheel_pop(struct flow_wheel *wh, uint64_t s)
{
	uint32_t rec = wh->heads[(uint32_t)s & (wh->nb_slots - 1)];

	if (rec != FLOW_WHEEL_NONE)
		flow_wheel_remove(wh, rec);
	return rec;
}

static inline int
flow_wheel_slot_empty(const struct flow_wheel *wh, uint64_t s)
{
	return wh->heads[(uint32_t)s & (wh->nb_slots - 1)] == FLOW_WHEEL_NONE;
}

/* The first non-empty slot at or after the cursor, or UINT64_MAX if the wheel is
 * empty. Amortised: the hint only moves back when a flow is filed before it. */
static inline uint64_t
flow_wheel_first_busy(struct flow_wheel *wh)
{
	uint64_t end = wh->cursor + wh->nb_slots;

	if (wh->evict_hint < wh->cursor)
		wh->evict_hint = wh->cursor;
	while (wh->evict_hint < end && flow_wheel_slot_empty(wh, wh->evict_hint))
		wh->evict_hint++;
	if (wh->evict_hint == end) {
		wh->evict_hint = wh->cursor;
		return UINT64_MAX;
	}
	return wh->evict_hint;
}

#endif
