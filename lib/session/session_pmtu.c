/* The path MTU of an exporter's datagram session, found without ICMP (RFC 8899,
 * datagram PLPMTUD; doc/path-mtu.md): heartbeat requests padded to the size tried, DF
 * set, prove a size when answered; a search between the base size and the largest the
 * interface and export_mtu allow, a check of the size in use, and a search upward again
 * now and then. Messages are held to the largest size confirmed. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "session_log.h"
#include "session_private.h"
#include "session_tls.h"

/* RFC 8899 5.1.1's PROBE_TIMER and MAX_PROBES, the first shortened: its 15 s is for any
 * path, ours are to a collector a few milliseconds away, and a size that fails costs
 * PROBE_TRIES x PROBE_TIMEOUT_MS of the search (the target: all done within 10 s). */
#define PROBE_TIMEOUT_MS 300
#define PROBE_TRIES 3
/* The size in use is probed this often: PROBE_TRIES unanswered mean a black hole
 * (RFC 8899 4.3), and messages go back to the base size. */
#define CONFIRM_INTERVAL_MS 5000
/* RFC 8899 5.1.1's PMTU_RAISE_TIMER: the search upward again, for a path that grew. */
#define RAISE_INTERVAL_MS 600000
/* Probe ids: apart from the program's own heartbeats' (theirs are matched apart too). */
#define PROBE_ID_BASE 0xF0000000u
/* SCTP: a probe waits for a moment when no data is in flight (it must go alone). */
#define BUSY_RETRY_MS 10

/* The step between sizes a probe can have (SCTP: 4, its packets' alignment), and size
 * rounded down to one; low (the base size) is one. */
static uint32_t
granule(const struct dpfix_session *s)
{
	return s->conn.path_mtu_granule > 1 ? s->conn.path_mtu_granule : 1;
}

static uint32_t
largest(const struct dpfix_session *s)
{
	return s->conn.path_mtu_max - s->conn.path_mtu_max % granule(s);
}

static uint32_t
base_size(const struct dpfix_session *s)
{
	uint32_t base = s->conn.path_headers > 28 ? DPFIX_BASE_PMTU_IPV6 : DPFIX_BASE_PMTU_IPV4;

	return base < s->conn.path_mtu_max ? base : s->conn.path_mtu_max;
}

uint32_t
dpfix_session_path_mtu(const struct dpfix_session *s)
{
	return s->conn.path_mtu;
}

/* Messages are held to mtu from the next one on (dpfix_session_max_message). */
static void
use_size(struct dpfix_session *s, uint32_t mtu, const char *why)
{
	uint32_t before = s->conn.path_mtu;

	if (mtu == before || s->conn.ops->set_path_mtu(&s->conn, mtu) < 0)
		return;
	if (s->tls != NULL && s->endpoint.ip_protocol == IPPROTO_UDP)
		tls_set_mtu(s->tls, s->conn.max_payload);
	dpfix_session_log(DPFIX_LOG_INFO, "%s: path MTU %u -> %u octets: %s", s->name, before,
			mtu, why);
}

void
path_start(struct dpfix_session *s)
{
	struct session_path *p = &s->path;

	if (!s->params.path_mtu_discovery || s->server || !s->hb.agreed || s->tls == NULL ||
			s->endpoint.ip_protocol == IPPROTO_TCP || s->conn.path_mtu >= largest(s))
		return;
	p->probing = 1;
	p->low = s->conn.path_mtu;
	p->high = largest(s);
	p->raise_ms = 0; /* the caller's clock starts it, at the first poll */
	dpfix_session_log(DPFIX_LOG_INFO, "%s: path MTU %u octets (the base size) until a "
			"larger one is confirmed; probing up to %u", s->name, p->low, p->high);
}

void
dpfix_session_path_resume(struct dpfix_session *s, uint32_t mtu)
{
	struct session_path *p = &s->path;
	char why[96];

	if (!p->probing || mtu <= p->low || mtu > s->conn.path_mtu_max)
		return;
	snprintf(why, sizeof(why), "the session before had it confirmed; checking it first");
	use_size(s, mtu, why);
	p->low = mtu;
	p->confirm_first = 1;
}

int
path_probe_answered(struct dpfix_session *s, uint32_t id, const uint8_t *nonce)
{
	struct session_path *p = &s->path;

	if (p->probe_size == 0 || p->answered || id != p->probe_id ||
			memcmp(nonce, p->nonce, HEARTBEAT_NONCE) != 0)
		return 0;
	p->answered = 1;
	return 1;
}

/* Sends a probe of size octets (again, if tries > 0). 0, or -EMSGSIZE: the size cannot
 * even leave (beyond the local link), a failure at once. */
static int
send_probe(struct dpfix_session *s, uint32_t size, uint64_t now_ms)
{
	struct session_path *p = &s->path;
	uint32_t sent = size;
	int ret;

	if (p->probe_size != size) {
		p->probe_size = size;
		p->tries = 0;
	}
	p->probe_id = PROBE_ID_BASE | (p->probes_sent++ & 0x0FFFFFFFu);
	p->answered = 0;
	ret = heartbeat_send_request(s, p->probe_id, size, p->nonce, &sent);
	p->deadline_ms = now_ms + PROBE_TIMEOUT_MS;
	/* A probe of another size than asked (its padding is made up for from the next one
	 * on) proves, or fails, its own size. */
	if (ret == 0)
		p->probe_size = sent;
	if (ret == -EMSGSIZE)
		return ret;
	/* SCTP, data in flight: not a try, and none went (sent is still size), or one that
	 * did not go alone in one packet (sent 0), whose answer, if one comes, proves
	 * nothing: the next after the usual wait. */
	if (ret == -EBUSY) {
		p->probe_id = 0;
		p->deadline_ms = now_ms + (sent == 0 ? PROBE_TIMEOUT_MS : BUSY_RETRY_MS);
		return 0;
	}
	/* Not sent (-EAGAIN: the socket is full): counts as a try, the next comes soon. */
	p->tries++;
	return 0;
}

/* Once low and high meet: said once per search, with how long it took. */
static void
search_step_done(struct dpfix_session *s, uint64_t now_ms)
{
	struct session_path *p = &s->path;

	if (p->low < p->high) {
		p->next_ms = now_ms;
		return;
	}
	p->next_ms = now_ms + CONFIRM_INTERVAL_MS;
	if (p->search_started_ms == 0)
		return;
	dpfix_session_log(DPFIX_LOG_INFO, "%s: path MTU search done in %.1f s: %u octets "
			"confirmed, %s", s->name, (now_ms - p->search_started_ms) / 1000.0, p->low,
			p->low == largest(s) ? "the largest export_mtu and the interface allow" :
			"one more went unanswered");
	p->search_started_ms = 0;
}

static void
probe_answered(struct dpfix_session *s, uint64_t now_ms)
{
	struct session_path *p = &s->path;
	uint32_t size = p->probe_size;
	char why[96];

	p->probe_size = 0;
	if (size > p->low) {
		p->low = size;
		snprintf(why, sizeof(why), "a probe of %u octets was answered", size);
		use_size(s, size, why);
	}
	search_step_done(s, now_ms);
}

static void
probe_failed(struct dpfix_session *s, uint64_t now_ms)
{
	struct session_path *p = &s->path;
	uint32_t size = p->probe_size, base = base_size(s);
	char why[160];

	p->probe_size = 0;
	if (size > p->low) {
		p->high = size - granule(s);
		search_step_done(s, now_ms);
		return;
	}
	/* The size in use went unanswered: a black hole, or a collector that stopped
	 * answering (which the base size cannot make worse). */
	p->next_ms = now_ms + CONFIRM_INTERVAL_MS;
	if (p->low <= base)
		return;
	snprintf(why, sizeof(why), "%u probes of the size in use went unanswered (a black "
			"hole?): back to the base size, searching again", PROBE_TRIES);
	use_size(s, base, why);
	p->low = base;
	p->high = largest(s);
	p->next_ms = now_ms;
	p->search_started_ms = now_ms;
}

int
dpfix_session_path_poll(struct dpfix_session *s, uint64_t now_ms)
{
	struct session_path *p = &s->path;
	uint32_t size;

	if (!p->probing)
		return 0;
	if (p->raise_ms == 0) {
		p->search_started_ms = now_ms;
		p->raise_ms = now_ms + RAISE_INTERVAL_MS;
	}
	if (p->probe_size != 0) {
		if (p->answered)
			probe_answered(s, now_ms);
		else if (now_ms < p->deadline_ms)
			return 1;
		else if (p->tries < PROBE_TRIES)
			return send_probe(s, p->probe_size, now_ms) == 0 ? 1 : (probe_failed(s, now_ms), 0);
		else
			probe_failed(s, now_ms);
	}
	if (now_ms < p->next_ms)
		return 0;
	if (p->low >= p->high && now_ms >= p->raise_ms && p->low < largest(s)) {
		p->high = largest(s);
		p->search_started_ms = now_ms;
	}
	if (now_ms >= p->raise_ms)
		p->raise_ms = now_ms + RAISE_INTERVAL_MS;
	/* The middle of what is left, rounded up: each answer or failure halves it. A size
	 * taken over from the session before is checked first. */
	size = p->low < p->high && !p->confirm_first ?
			p->low + (p->high - p->low + granule(s)) / granule(s) / 2 * granule(s) : p->low;
	p->confirm_first = 0;
	if (send_probe(s, size, now_ms) < 0) {
		probe_failed(s, now_ms);
		return 0;
	}
	return 1;
}
