/* dpfix-collector --write: what it receives, stored as RFC 5655 IPFIX files with
 * rotation, each message with where it came from. */
#ifndef COLLECTOR_WRITE_H
#define COLLECTOR_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_session.h"

struct collector_write_params {
	const char *path;
	uint64_t rotate_bytes;       /* 0: never by size */
	uint64_t rotate_interval_ms; /* 0: never by time */
	int details;                 /* RFC 5655 Message and Export Session Details */
};

/* Returns 0, or -1 with the reason printed. */
int collector_write_open(const struct collector_write_params *p);
/* Stores one message received on s (malformed ones are counted, not stored). */
void collector_write_message(const struct dpfix_session *s, const uint8_t *msg, size_t len);
void collector_write_session_closed(const struct dpfix_session *s);
/* Closes a file whose interval has ended; flushes once a second. */
void collector_write_tick(void);
/* Messages received that could not be stored (a write failed). */
uint64_t collector_write_lost(void);
/* Finishes and closes the current file. */
void collector_write_close(void);
/* The file counters, as summary lines (final ones once closed). */
void collector_write_print_summary(FILE *out);

#endif
