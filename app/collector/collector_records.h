/* dpfix-collector's records: each decoded record printed (--quiet: not), written as JSON
 * (--json) and counted into the summary's totals. */
#ifndef COLLECTOR_RECORDS_H
#define COLLECTOR_RECORDS_H

#include <stdint.h>
#include <stdio.h>

#include "dpfix_ipfix.h"

struct collector_record_totals {
	uint64_t flow_records;
	uint64_t options_records;
	uint64_t packets;
	uint64_t octets;
};

/* print: one line per record on stdout; json: NULL, or where JSON objects go. */
void collector_records_setup(int print, FILE *json);
/* Before each message is decoded: the counters' layout is worked out anew. */
void collector_records_message_start(void);
/* The decoder's record callback (dpfix_ipfix_record_cb). */
void collector_records_cb(void *ctx, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len);
const struct collector_record_totals *collector_records_totals(void);
/* What was decoded so far goes out now (the collector ran out of input). */
void collector_records_flush(void);

#endif
