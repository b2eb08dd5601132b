/* The replay buffer (doc/heartbeats.md, "Replay"): on a session that agreed on heartbeats,
 * every data and options message sent is kept until the collector answers a heartbeat
 * sent after it; if the session fails first, the messages kept are sent again on the
 * next session, byte for byte (sequence numbers and export times as they were), before
 * anything new; one longer than the new session's limit is re-split into messages that
 * fit, numbered so that the collector still reads one run of sequence numbers.
 * Bounded: the oldest entries make room for new ones, and what they held counts as
 * unconfirmed if the session then fails. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_private.h"

#define ENTRY_SKIPPED 1u        /* no new session can carry it: counted lost, not sent */

struct entry {
	uint32_t len;           /* the message's; 0: nothing until the ring's end */
	uint32_t records;       /* flow records in it */
	uint32_t flags;
	uint32_t pad;
	uint64_t packets, octets;
};

static uint64_t
entry_size(uint32_t len)
{
	return sizeof(struct entry) + ((len + 7u) & ~7u);
}

static struct entry *
entry_at(const struct export_replay *r, uint64_t pos)
{
	return (struct entry *)(r->buf + pos % r->cap);
}

/* The oldest entry's end: the next entry, past a gap to the ring's start. */
static uint64_t
next_entry(const struct export_replay *r, uint64_t pos)
{
	const struct entry *e = entry_at(r, pos);

	if (e->len == 0 || r->cap - pos % r->cap < sizeof(struct entry))
		return pos + (r->cap - pos % r->cap);
	return pos + entry_size(e->len);
}

/* Lets the oldest entry go. */
static void
drop_oldest(struct export_replay *r)
{
	const struct entry *e = entry_at(r, r->start);

	if (r->cap - r->start % r->cap >= sizeof(struct entry) && e->len != 0)
		r->records -= e->records;
	r->start = next_entry(r, r->start);
}

int
export_replay_init(struct dpfix_export *x, uint64_t bytes)
{
	struct export_replay *r = &x->replay;

	memset(r, 0, sizeof(*r));
	if (bytes == 0)
		return 0;
	r->cap = (bytes + 7) & ~7ull;
	r->buf = aligned_alloc(64, (r->cap + 63) & ~63ull);
	return r->buf != NULL ? 0 : -1;
}

void
export_replay_free(struct dpfix_export *x)
{
	free(x->replay.buf);
	x->replay.buf = NULL;
}

int
export_replay_on(const struct dpfix_export *x)
{
	return x->replay.cap != 0 && x->session != NULL && dpfix_session_heartbeats(x->session);
}

/* A message into the ring; the oldest entries make room if need be. */
static void
append(struct dpfix_export *x, const uint8_t *msg, uint32_t len, uint32_t flow_records,
		uint64_t packets, uint64_t octets)
{
	struct export_replay *r = &x->replay;
	uint64_t need = entry_size(len), room_to_end;
	struct entry *e;

	if (need > r->cap) {
		/* Larger than the whole buffer (a tiny replay_buffer): it cannot be kept. */
		while (r->start != r->end)
			drop_oldest(r);
		return;
	}
	room_to_end = r->cap - r->end % r->cap;
	if (room_to_end < need) {
		/* An entry never wraps: the rest of the ring becomes a gap, once it is free. */
		while (r->end + room_to_end - r->start > r->cap)
			drop_oldest(r);
		if (room_to_end >= sizeof(struct entry))
			entry_at(r, r->end)->len = 0;
		if (r->start == r->end)
			r->start += room_to_end; /* nothing held: begin past the gap */
		r->end += room_to_end;
	}
	while (r->end + need - r->start > r->cap)
		drop_oldest(r);
	e = entry_at(r, r->end);
	*e = (struct entry){.len = len, .records = flow_records, .packets = packets,
		.octets = octets};
	memcpy(e + 1, msg, len);
	r->end += need;
	r->records += flow_records;
}

void
export_replay_add(struct dpfix_export *x, const uint8_t *msg, uint32_t len,
		uint32_t flow_records, uint64_t packets, uint64_t octets)
{
	if (export_replay_on(x))
		append(x, msg, len, flow_records, packets, octets);
}

int
export_replay_keep(struct dpfix_export *x, const uint8_t *msg, uint32_t len,
		uint32_t flow_records)
{
	struct export_replay *r = &x->replay;
	uint64_t need = entry_size(len), room_to_end;

	if (r->cap == 0) /* replay_buffer 0 */
		return -1;
	room_to_end = r->cap - r->end % r->cap;
	/* Only into free room: an entry let go here would take its records uncounted. */
	if (r->end - r->start + (room_to_end < need ? room_to_end : 0) + need > r->cap)
		return -1;
	append(x, msg, len, flow_records, 0, 0);
	return 0;
}

void
export_replay_mark(struct dpfix_export *x, uint32_t id)
{
	struct export_replay *r = &x->replay;
	unsigned int i;

	if (r->mark_count == EXPORT_REPLAY_MARKS) { /* the oldest was never answered */
		r->mark_head = (r->mark_head + 1) % EXPORT_REPLAY_MARKS;
		r->mark_count--;
	}
	i = (r->mark_head + r->mark_count++) % EXPORT_REPLAY_MARKS;
	r->marks[i].id = id;
	/* Until the replay has gone, an answer on this session confirms none of what is
	 * held: the collector has not been sent it yet. */
	r->marks[i].pos = r->pending ? r->start : r->end;
	r->marks[i].session_records = x->session_records;
}

void
export_replay_confirm(struct dpfix_export *x, uint32_t id)
{
	struct export_replay *r = &x->replay;

	/* Marks are in the order the requests went; an answer confirms its own and every
	 * older one (the collector read those messages before it). */
	for (unsigned int n = 0; n < r->mark_count; n++) {
		unsigned int i = (r->mark_head + n) % EXPORT_REPLAY_MARKS;

		if (r->marks[i].id != id)
			continue;
		if (r->marks[i].session_records > x->confirmed_records)
			x->confirmed_records = r->marks[i].session_records;
		while (r->cap != 0 && r->start < r->marks[i].pos && r->start != r->end)
			drop_oldest(r);
		r->mark_head = (i + 1) % EXPORT_REPLAY_MARKS;
		r->mark_count -= n + 1;
		return;
	}
}

void
export_replay_prepare(struct dpfix_export *x)
{
	struct export_replay *r = &x->replay;
	int found[DPFIX_EXPORT_MAX_DOMAINS] = {0};

	r->mark_count = 0;
	r->pending = r->cap != 0 && r->start != r->end;
	if (!r->pending)
		return;
	/* Each domain's templates carry the sequence number its first message held
	 * begins with: the collector then reads one run of numbers. */
	for (uint64_t pos = r->start; pos != r->end; pos = next_entry(r, pos)) {
		const struct entry *e = entry_at(r, pos);
		const uint8_t *m = (const uint8_t *)(e + 1);
		uint32_t domain;

		if (r->cap - pos % r->cap < sizeof(struct entry) || e->len == 0 ||
				(e->flags & ENTRY_SKIPPED))
			continue;
		domain = dpfix_get32(m + 12);
		for (unsigned int i = 0; i < x->nb_domains; i++)
			if (x->domains[i]->id == domain && !found[i]) {
				found[i] = 1;
				x->domains[i]->replay_sequence = dpfix_get32(m + 8);
			}
	}
	for (unsigned int i = 0; i < x->nb_domains; i++)
		if (!found[i])
			x->domains[i]->replay_sequence = x->domains[i]->sequence;
}

/* Calls add(ctx, template, record, length) for each data record of message m (len
 * octets) in order. -1 if a set is not a data set of a template domain d has (the
 * replay holds data and options messages only), or a record would not fit in a message
 * of limit octets by itself; add's -1 stops the walk. */
static int
each_record(const struct dpfix_export_domain *d, const uint8_t *m, uint32_t len,
		uint32_t limit, int (*add)(void *, const struct dpfix_ipfix_template *,
			const uint8_t *, uint32_t), void *ctx)
{
	uint32_t off = DPFIX_IPFIX_HEADER_LEN;

	while (off + DPFIX_IPFIX_SET_HEADER_LEN <= len) {
		uint16_t set_id = dpfix_get16(m + off), set_len = dpfix_get16(m + off + 2);
		const struct dpfix_ipfix_template *t = set_id >= DPFIX_IPFIX_SET_MIN_DATA ?
				dpfix_ipfix_tm_get(&d->tm, set_id) : NULL;
		uint32_t pos = off + DPFIX_IPFIX_SET_HEADER_LEN, end = off + set_len;

		if (t == NULL || t->min_record_length == 0 || set_len < DPFIX_IPFIX_SET_HEADER_LEN ||
				end > len)
			return -1;
		/* Shorter than the smallest record: padding (RFC 7011 3.3.1). */
		while (end - pos >= t->min_record_length) {
			int r = dpfix_ipfix_record_fields(t, m + pos, end - pos, NULL, NULL);

			if (r < 0 || DPFIX_IPFIX_HEADER_LEN + DPFIX_IPFIX_SET_HEADER_LEN + (uint32_t)r >
					limit)
				return -1;
			if (add != NULL && add(ctx, t, m + pos, (uint32_t)r) < 0)
				return -1;
			pos += (uint32_t)r;
		}
		off = end;
	}
	return 0;
}

/* A message held, re-split into messages of the new session's limit as they fill. */
struct pieces {
	struct dpfix_export *x;
	struct dpfix_ipfix_msg msg;     /* the one being filled */
	uint32_t export_time, sequence, domain;
	uint32_t flow_records;          /* the held message's, not yet sent */
	uint64_t *replayed;             /* NULL: not a replay */
	uint64_t now_ns;
};

static int
send_piece(struct pieces *p)
{
	uint32_t len = dpfix_ipfix_msg_finish(&p->msg, p->export_time, p->sequence, p->domain);
	/* A data message's records are all flow records, an options message's none. */
	uint32_t flow = p->msg.data_records < p->flow_records ? p->msg.data_records :
			p->flow_records;

	if (export_send(p->x, p->msg.buf, len, DPFIX_MESSAGE_DATA, flow, p->now_ns) < 0)
		return -1;
	p->x->stats.messages_sent++;
	p->x->session_records += flow;
	if (p->replayed != NULL)
		*p->replayed += flow;
	/* The next begins where this one's data records end: one run of numbers. */
	p->sequence += p->msg.data_records;
	p->flow_records -= flow;
	dpfix_ipfix_msg_begin(&p->msg, p->msg.buf, p->msg.limit);
	return 0;
}

static int
add_to_piece(void *ctx, const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len)
{
	struct pieces *p = ctx;

	if (dpfix_ipfix_msg_add_record(&p->msg, t->id, record, len) == -ENOSPC) {
		if (send_piece(p) < 0)
			return -1;
		/* An empty message takes it: each_record checked. */
		dpfix_ipfix_msg_add_record(&p->msg, t->id, record, len);
	}
	return 0;
}

/* Sends message m (len octets, flow_records flow records, longer than limit) as several
 * that each fit, its records in order: same domain and export time, each numbered by the
 * data records before it in m. 1 if it cannot be split (then nothing is sent: a set
 * other than a data set, a record larger than limit by itself), 0 once sent, -1 if a
 * send failed. */
static int
send_resplit(struct dpfix_export *x, const uint8_t *m, uint32_t len, uint32_t flow_records,
		uint32_t limit, uint64_t *replayed, uint64_t now_ns)
{
	const struct dpfix_export_domain *d = NULL;
	struct pieces p = {.x = x, .export_time = dpfix_get32(m + 4),
		.sequence = dpfix_get32(m + 8), .domain = dpfix_get32(m + 12),
		.flow_records = flow_records, .replayed = replayed, .now_ns = now_ns};

	for (unsigned int i = 0; i < x->nb_domains; i++)
		if (x->domains[i]->id == p.domain)
			d = x->domains[i];
	if (d == NULL || each_record(d, m, len, limit, NULL, NULL) < 0)
		return 1;
	/* The templates' buffer is free: they went before the replay. */
	dpfix_ipfix_msg_begin(&p.msg, x->ctl_buf, limit);
	if (each_record(d, m, len, limit, add_to_piece, &p) < 0)
		return -1;
	return p.msg.data_records != 0 ? (send_piece(&p) < 0 ? -1 : 0) : 0;
}

int
export_send_split(struct dpfix_export *x, const uint8_t *m, uint32_t len, uint32_t flow_records,
		uint64_t now_ns)
{
	return send_resplit(x, m, len, flow_records, dpfix_session_max_message(x->session), NULL,
			now_ns);
}

void
export_replay_send(struct dpfix_export *x, uint64_t now_ns)
{
	struct export_replay *r = &x->replay;
	uint32_t limit = dpfix_session_max_message(x->session);
	uint64_t replayed = 0, resplit = 0;

	for (uint64_t pos = r->start; pos != r->end; pos = next_entry(r, pos)) {
		struct entry *e = entry_at(r, pos);
		int ret;

		if (r->cap - pos % r->cap < sizeof(struct entry) || e->len == 0 ||
				(e->flags & ENTRY_SKIPPED))
			continue;
		if (e->len > limit) {
			/* A smaller limit than the session it went on (DTLS/UDP at its base path
			 * MTU, a backup on another path): its records go in smaller messages. */
			ret = send_resplit(x, (const uint8_t *)(e + 1), e->len, e->records, limit,
					&replayed, now_ns);
			if (ret < 0)
				return; /* the session failed: the rest waits for the next */
			if (ret == 0) {
				resplit++;
				continue;
			}
			/* A record it cannot split into a message that fits: lost, and counted. */
			export_count_lost(x, e->records, e->packets, e->octets, now_ns);
			r->records -= e->records;
			e->records = 0;
			e->flags |= ENTRY_SKIPPED;
			continue;
		}
		if (export_send(x, (const uint8_t *)(e + 1), e->len, DPFIX_MESSAGE_DATA, e->records,
				now_ns) < 0)
			return; /* the session failed: the rest waits for the next */
		x->stats.messages_sent++;
		x->session_records += e->records;
		replayed += e->records;
	}
	x->stats.records_replayed += replayed;
	r->pending = 0;
	/* Without heartbeats nothing will confirm them: sent, they are the session's now
	 * (its transport gives back again what it cannot deliver). */
	if (!export_replay_on(x))
		export_replay_forget(x);
	if (replayed != 0 && resplit == 0)
		export_log(DPFIX_LOG_INFO, "sent again %" PRIu64 " flow records the collector had not "
				"confirmed, on %s (records_replayed)", replayed,
				dpfix_session_name(x->session));
	else if (replayed != 0)
		export_log(DPFIX_LOG_INFO, "sent again %" PRIu64 " flow records the collector had not "
				"confirmed, on %s (records_replayed), re-splitting %" PRIu64 " messages "
				"longer than its %u-octet limit", replayed, dpfix_session_name(x->session),
				resplit, limit);
}

void
export_replay_drop(struct dpfix_export *x)
{
	struct export_replay *r = &x->replay;

	if (r->records != 0) {
		x->stats.sessions_unconfirmed++;
		x->stats.records_unconfirmed += r->records;
		export_log(DPFIX_LOG_WARNING, "no session came to send again %" PRIu64 " flow records "
				"the collector had not confirmed: they may not have been read "
				"(records_unconfirmed)", r->records);
	}
	export_replay_forget(x);
}

void
export_replay_forget(struct dpfix_export *x)
{
	struct export_replay *r = &x->replay;

	r->start = r->end;
	r->records = 0;
	r->pending = 0;
	r->mark_count = 0;
}
