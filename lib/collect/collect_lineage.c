/* One exporter's sessions linked across a planned hand-off (seed 002 4.2): a new
 * session from the same authenticated identity (PSK identity or certificate name) as a
 * session still open, or closed within LINEAGE_WINDOW_MS, continues it, and its sequence
 * numbers must go on where that one's ended, per observation domain. Each session's own
 * accounting (RFC 7011 10.3.2) cannot see records lost between the two; this does, and
 * says a continuation that is whole as such. The check waits until the earlier session
 * is over (all of it read: its last messages may come after the new one's first, on
 * another socket) and the new one has a message of the domain. Plaintext sessions prove
 * no identity and are never linked. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collect_private.h"
#include "dpfix_log.h"

/* A session closed this long ago is still continued by a new one of its exporter. */
#define LINEAGE_WINDOW_MS 10000

/* The sequence numbers where s's domains ended (its decoder: all it read). */
static void
take_ends(struct collect_lineage_end *e, const struct collect_session *s)
{
	uint32_t first;

	e->nb_domains = 0;
	while (e->nb_domains < COLLECT_LINEAGE_DOMAINS && dpfix_ipfix_decoder_sequence(s->decoder,
			e->nb_domains, &e->domain[e->nb_domains], &first,
			&e->expected[e->nb_domains]) == 0)
		e->nb_domains++;
	e->final = 1;
}

/* Each domain of the earlier session that s has now seen: checked once. */
static void
check(struct dpfix_collect *c, struct collect_session *s)
{
	struct collect_lineage_end *e = &s->continues;
	uint32_t domain, first, expected;

	if (!e->final)
		return;
	for (uint32_t i = 0; dpfix_ipfix_decoder_sequence(s->decoder, i, &domain, &first,
			&expected) == 0; i++) {
		for (unsigned int k = 0; k < e->nb_domains; k++) {
			uint32_t gap;

			if (e->domain[k] != domain || (e->checked & (1u << k)))
				continue;
			e->checked |= 1u << k;
			gap = first - e->expected[k]; /* serial arithmetic */
			if (gap == 0)
				continue;
			if (gap < 0x80000000u) {
				c->stats.sequence_lost_across += gap;
				dpfix_log(DPFIX_LOG_WARNING, "%s: %" PRIu32 " records missing by sequence "
						"number between session %" PRIu64 " and this one, which continues it "
						"(domain %" PRIu32 ": it ended at %" PRIu32 ", this one began at %" PRIu32
						")", dpfix_session_name(s->info.session), gap, e->id, domain,
						e->expected[k], first);
			} else {
				dpfix_log(DPFIX_LOG_WARNING, "%s: its sequence numbers begin %" PRIu32 " below "
						"where session %" PRIu64 ", which it continues, ended (domain %" PRIu32
						"): the exporter began anew", dpfix_session_name(s->info.session),
						0u - gap, e->id, domain);
			}
		}
	}
}

void
collect_lineage_start(struct dpfix_collect *c, struct collect_session *s)
{
	const char *identity = s->info.identity;
	struct collect_session *prev = NULL;
	struct collect_closed_session *closed = NULL;
	uint64_t now = dpfix_collect_now_ms();

	if (identity == NULL || identity[0] == '\0')
		return;
	/* The latest session of the same exporter not continued yet: open, else closed. */
	for (unsigned int i = 0; i < c->session_count; i++) {
		struct collect_session *o = c->sessions[i];

		if (o != s && o->started && o->continued_by == NULL &&
				strcmp(o->info.identity, identity) == 0 &&
				(prev == NULL || o->info.id > prev->info.id))
			prev = o;
	}
	if (prev == NULL)
		for (unsigned int i = 0; i < COLLECT_LINEAGE_CLOSED; i++) {
			struct collect_closed_session *o = &c->closed_sessions[i];

			if (o->end.id != 0 && !o->continued && now - o->closed_ms <= LINEAGE_WINDOW_MS &&
					strcmp(o->identity, identity) == 0 &&
					(closed == NULL || o->end.id > closed->end.id))
				closed = o;
		}
	if (prev == NULL && closed == NULL)
		return;
	if (prev != NULL) {
		prev->continued_by = s;
		s->continues = (struct collect_lineage_end){.id = prev->info.id};
	} else {
		closed->continued = 1;
		s->continues = closed->end;
	}
	s->continues.linked = 1;
	c->stats.sessions_continued++;
	dpfix_log(DPFIX_LOG_INFO, "%s: continues session %" PRIu64 " of the same exporter (%s), "
			"%s: sequence numbers are checked across the two",
			dpfix_session_name(s->info.session), s->continues.id, identity,
			prev != NULL ? "still open" : "closed");
}

void
collect_lineage_decoded(struct dpfix_collect *c, struct collect_session *s)
{
	struct collect_lineage_end *e = &s->continues;

	if (e->linked && e->final && e->checked != (1u << e->nb_domains) - 1)
		check(c, s);
}

void
collect_lineage_close(struct dpfix_collect *c, struct collect_session *s)
{
	struct collect_session *next = s->continued_by;

	/* Its successor learns where it ended, now that all of it was read. */
	if (next != NULL) {
		take_ends(&next->continues, s);
		next->continues.id = s->info.id;
		check(c, next);
	}
	/* It no longer waits for where its predecessor ends. */
	for (unsigned int i = 0; i < c->session_count; i++)
		if (c->sessions[i]->continued_by == s)
			c->sessions[i]->continued_by = NULL;
	/* Kept for a session of its exporter that comes later. */
	if (next == NULL && s->started && s->info.identity != NULL && s->info.identity[0] != '\0') {
		struct collect_closed_session *slot = &c->closed_sessions[c->next_closed++ %
				COLLECT_LINEAGE_CLOSED];

		*slot = (struct collect_closed_session){.closed_ms = dpfix_collect_now_ms()};
		snprintf(slot->identity, sizeof(slot->identity), "%s", s->info.identity);
		take_ends(&slot->end, s);
		slot->end.id = s->info.id;
	}
}
