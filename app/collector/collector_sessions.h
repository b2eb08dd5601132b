/* dpfix-collector's exporter sessions: each with its decoder (templates, sequence
 * numbers), taken from the listeners and served round by round, within limits that keep
 * one host from locking the others out: a table of max_sessions, sessions that deliver
 * no valid message closed after first_message_timeout and evicted first when the table
 * is full, idle UDP sessions closed after the template lifetime. */
#ifndef COLLECTOR_SESSIONS_H
#define COLLECTOR_SESSIONS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_ipfix.h"
#include "dpfix_session.h"

struct collector_session_limits {
	uint32_t max_sessions;
	uint64_t first_message_timeout_ms;   /* 0: never */
	uint32_t template_lifetime_s;        /* UDP: templates and idle sessions; 0: never */
	struct dpfix_ipfix_template_budget *budget;
};

/* Every session's counters, for the summary. */
#define COLLECTOR_SESSION_COUNTERS(X) \
	X(sessions_opened, "sessions opened") \
	X(sessions_peak, "most sessions open at once") \
	X(sessions_refused, "sessions closed: their handshake or framing failed") \
	X(sessions_refused_full, "new sessions refused: max_sessions were open and every one " \
			"had delivered a valid message (a UDP exporter's datagrams are then dropped " \
			"for 10 s: refused_drops)") \
	X(sessions_evicted, "sessions closed to make room for a new one: they had delivered no " \
			"valid message") \
	X(sessions_no_message, "sessions closed: no valid message within first_message_timeout") \
	X(sessions_idle_expired, "UDP sessions closed: nothing received for template_lifetime")

struct collector_session_stats {
#define COLLECTOR_SESSION_FIELD(name, text) uint64_t name;
	COLLECTOR_SESSION_COUNTERS(COLLECTOR_SESSION_FIELD)
#undef COLLECTOR_SESSION_FIELD
};

/* The monotonic clock sessions are timed with, in milliseconds. */
uint64_t collector_now_ms(void);
/* Takes the table's memory. 0 or -ENOMEM. */
int collector_sessions_init(const struct collector_session_limits *limits);
/* One round: new sessions from every listener, then what each session has (at most 64
 * messages each). stop_now, when not NULL, is asked between sessions and ends the
 * round. Returns the number of messages handled. */
int collector_sessions_serve(struct dpfix_listener **listeners, unsigned int nb_listen,
		uint8_t *buf, size_t cap, int (*stop_now)(void));
/* Adds the sessions' own descriptors to fds (room for max_sessions). Returns how many. */
unsigned int collector_sessions_poll_fds(struct pollfd *fds);
/* Once a second or so: closes sessions past their first-message or idle time. */
void collector_sessions_expire(void);
/* Closes every session and frees the table. */
void collector_sessions_close_all(const char *why);
const struct collector_session_stats *collector_sessions_stats(void);
/* The decoders' counters, of closed and open sessions, and messages per SCTP stream. */
void collector_sessions_decode_stats(struct dpfix_ipfix_decode_stats *sum,
		uint64_t stream_messages[DPFIX_MAX_STREAMS]);

#endif
