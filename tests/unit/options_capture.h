/* Round trips of the options record builders (test_ipfix_options.c, test_ipfix_psamp.c):
 * on_record, the decoder's callback, keeps each decoded record with its template, and
 * got_fields splits one of them into its fields. */
#ifndef OPTIONS_CAPTURE_H
#define OPTIONS_CAPTURE_H

#include <stdint.h>
#include <string.h>

#include "dpfix_ipfix.h"

#define MAX_GOT 16

struct got {
	unsigned int n;
	struct dpfix_ipfix_template t[MAX_GOT];
	uint8_t rec[MAX_GOT][600];
	uint32_t len[MAX_GOT];
};

static struct got got;

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	(void)h;
	if (got.n == MAX_GOT || len > sizeof(got.rec[0]))
		return;
	got.t[got.n] = *t;
	memcpy(got.rec[got.n], rec, len);
	got.len[got.n++] = len;
}

/* Whether record k is exactly its template's fields: their offsets and lengths into
 * off and len. */
static int
got_fields(unsigned int k, uint32_t *off, uint16_t *len)
{
	return dpfix_ipfix_record_fields(&got.t[k], got.rec[k], got.len[k], off, len) ==
			(int)got.len[k];
}

#endif
