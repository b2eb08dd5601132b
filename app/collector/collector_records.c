/* dpfix-collector's records (collector_records.h): printed, written as JSON, and counted
 * into the totals, whose packet and octet fields are located once per data set. */
#include <stdio.h>
#include <string.h>

#include "collector_records.h"

static struct collector_record_totals totals;
static FILE *json_out;
static int print_records = 1;

void
collector_records_setup(int print, FILE *json)
{
	print_records = print;
	json_out = json;
}

/* Where the packet and octet counters (the summary's totals) lie in the records of the
 * data set being decoded, worked out once per set instead of once per record: a set's
 * records follow one another (each starts where the previous one ended), and a
 * template can change only in a set of its own, between data sets. A layout with
 * variable-length fields differs per record; the first occurrence of each counter in
 * a template is the one counted. Forgotten before each message. */
static struct {
	const uint8_t *next;    /* where the set's next record would start; NULL: unknown */
	uint32_t packets_at, octets_at;
	uint16_t packets_len, octets_len; /* 0: the template has no such field */
} counters;

static void
locate_counters(const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];

	memset(&counters, 0, sizeof(counters));
	if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) < 0)
		return;
	for (uint16_t i = t->field_count; i-- > 0;) {
		if (t->fields[i].pen != 0)
			continue;
		if (t->fields[i].id == IE_packetDeltaCount) {
			counters.packets_at = offsets[i];
			counters.packets_len = lengths[i];
		} else if (t->fields[i].id == IE_octetDeltaCount) {
			counters.octets_at = offsets[i];
			counters.octets_len = lengths[i];
		}
	}
}

static void
add_counts(const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	if (rec != counters.next)
		locate_counters(t, rec, len);
	totals.packets += dpfix_ipfix_read_unsigned(rec + counters.packets_at, counters.packets_len);
	totals.octets += dpfix_ipfix_read_unsigned(rec + counters.octets_at, counters.octets_len);
	counters.next = t->varlen_count == 0 ? rec + len : NULL;
}

void
collector_records_cb(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)ctx;
	(void)h;

	if (t->scope_count != 0) {
		totals.options_records++;
	} else {
		totals.flow_records++;
		add_counts(t, rec, len);
	}
	if (print_records) {
		/* Options records say so, and how many leading fields are their scope. */
		if (t->scope_count != 0)
			printf("options %u (scope %u): ", t->id, t->scope_count);
		dpfix_ipfix_record_to_text(t, rec, len, stdout);
	}
	if (json_out != NULL)
		dpfix_ipfix_record_to_json(t, rec, len, json_out);
}

void
collector_records_message_start(void)
{
	counters.next = NULL;
}

const struct collector_record_totals *
collector_records_totals(void)
{
	return &totals;
}

/* Nothing left to read: the records decoded so far go out now, so whoever reads them (a
 * pipe, a test waiting for a count) sees each message's records without waiting for a
 * full stdio buffer. A write only when the collector runs out of input. */
void
collector_records_flush(void)
{
	fflush(stdout);
	if (json_out != NULL)
		fflush(json_out);
}
