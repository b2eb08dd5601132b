/* Decoding speed: records/s that dpfix_ipfix_decode() delivers for the probe's IPv4
 * flow record, built by the probe's own schema (lib/flow/dpfix_flow_schema.h:
 * 18 fields, 62 bytes, uniflow, no sampling), in messages of a 1500-byte MTU (23
 * records a message), on one core. The messages are built in memory first; only
 * decoding is timed (process CPU time). Modes say what the record callback does:
 *   count   nothing but count (the decoder alone: bounds checks, template lookup)
 *   fields  split each record into its fields and sum octets and packets, as the
 *           collector's totals do
 *   json    format each record as JSON to /dev/null, as the collector's --json does
 * usage: bench_decode [count|fields|json] [records] [--write FILE]
 * --write stores the same message stream as a file (RFC 5655 layout: messages back to
 * back) for a peer such as libfixbuf's ipfixDump. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpfix_flow_schema.h"
#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"

#define MESSAGE_LIMIT 1472      /* 1500-byte MTU less IPv4 and UDP headers */
#define TEMPLATE_ID 256         /* the probe's IPv4 flow template */

/* A plausible TCP flow, different for each i. */
static void
make_flow(struct dpfix_flow_record *f, uint32_t i)
{
	memset(f, 0, sizeof(*f));
	f->key.ip_version = 4;
	dpfix_put32(f->key.src_addr, 0x0a000000u | (i & 0xffffff));
	dpfix_put32(f->key.dst_addr, 0xc0a80001u);
	f->key.src_port = (uint16_t)(1024 + i % 60000);
	f->key.dst_port = 443;
	f->key.protocol = 6;
	f->tcp_flags = 0x1b;
	f->min_ttl = 60;
	f->max_ttl = 64;
	f->packets = i % 100 + 1;
	f->octets = 1500ull * f->packets;
	f->first_ns = (1700000000000ull + i) * 1000000;
	f->last_ns = (1700000000500ull + i) * 1000000;
	f->end_reason = 1;      /* idle timeout */
}

struct sums {
	uint64_t records, packets, octets;
};

static void
cb_count(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)h;
	(void)t;
	(void)rec;
	(void)len;
	((struct sums *)ctx)->records++;
}

static void
cb_fields(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	struct sums *s = ctx;
	(void)h;

	s->records++;
	if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) < 0)
		return;
	for (uint16_t i = 0; i < t->field_count; i++) {
		if (t->fields[i].pen != 0)
			continue;
		if (t->fields[i].id == IE_packetDeltaCount)
			s->packets += dpfix_ipfix_read_unsigned(rec + offsets[i], lengths[i]);
		else if (t->fields[i].id == IE_octetDeltaCount)
			s->octets += dpfix_ipfix_read_unsigned(rec + offsets[i], lengths[i]);
	}
}

static FILE *json_sink;

static void
cb_json(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	(void)h;
	((struct sums *)ctx)->records++;
	dpfix_ipfix_record_to_json(t, rec, len, json_sink);
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static struct dpfix_ipfix_template t;
	static struct dpfix_ipfix_schema schema;
	const char *mode = argc > 1 ? argv[1] : "fields";
	uint64_t want = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;
	const char *write_path = argc > 4 && strcmp(argv[3], "--write") == 0 ? argv[4] : NULL;
	dpfix_ipfix_record_cb cb = strcmp(mode, "count") == 0 ? cb_count :
			strcmp(mode, "json") == 0 ? cb_json : cb_fields;
	uint32_t per_msg, record_len;
	uint32_t nb_msgs = 4096, msg_len;
	uint8_t rec[DPFIX_FLOW_RECORD_MAX], tmpl[256], *msgs;
	struct dpfix_flow_record flow;
	struct dpfix_ipfix_decoder_params p = {.transport = DPFIX_IPFIX_TRANSPORT_UDP,
		.template_lifetime_s = 1800};
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create_params(&p);
	struct dpfix_ipfix_msg m;
	struct sums sums = {0};
	uint64_t rounds, decoded = 0;
	uint32_t tmpl_len, seq = 0;
	double t0, secs;
	char err[256];

	if (strcmp(mode, "count") != 0 && strcmp(mode, "fields") != 0 && strcmp(mode, "json") != 0) {
		fprintf(stderr, "usage: bench_decode [count|fields|json] [records] [--write FILE]\n");
		return 2;
	}
	json_sink = fopen("/dev/null", "w");
	dpfix_flow_schema(&schema, TEMPLATE_ID, &(struct dpfix_flow_schema_params){.ip_version = 4});
	dpfix_ipfix_schema_template(&schema, &t);
	record_len = t.min_record_length;
	per_msg = (MESSAGE_LIMIT - DPFIX_IPFIX_HEADER_LEN - DPFIX_IPFIX_SET_HEADER_LEN) / record_len;
	if (d == NULL || json_sink == NULL)
		return 1;

	/* The template, then nb_msgs full data messages with running sequence numbers. */
	dpfix_ipfix_msg_begin(&m, tmpl, sizeof(tmpl));
	dpfix_ipfix_msg_add_template(&m, &t);
	tmpl_len = dpfix_ipfix_msg_finish(&m, 1700000000, 0, 1);
	msg_len = DPFIX_IPFIX_HEADER_LEN + DPFIX_IPFIX_SET_HEADER_LEN + per_msg * record_len;
	msgs = malloc((size_t)nb_msgs * msg_len);
	if (msgs == NULL)
		return 1;
	for (uint32_t k = 0; k < nb_msgs; k++) {
		dpfix_ipfix_msg_begin(&m, msgs + (size_t)k * msg_len, MESSAGE_LIMIT);
		for (uint32_t r = 0; r < per_msg; r++) {
			make_flow(&flow, k * per_msg + r);
			if (dpfix_ipfix_schema_encode(&schema, &flow, rec) != record_len)
				return 1;
			dpfix_ipfix_msg_add_record(&m, TEMPLATE_ID, rec, record_len);
		}
		if (dpfix_ipfix_msg_finish(&m, 1700000000, seq, 1) != msg_len)
			return 1;
		seq += per_msg;
	}
	if (write_path != NULL) {
		/* The file holds `want` records (rounded up to whole messages). */
		FILE *f = fopen(write_path, "wb");
		uint64_t written = 0;

		if (f == NULL)
			return 1;
		fwrite(tmpl, 1, tmpl_len, f);
		for (uint32_t k = 0; written < want; k = (k + 1) % nb_msgs) {
			/* Sequence numbers continue across repeats of the in-memory set. */
			uint8_t copy[MESSAGE_LIMIT];
			uint32_t s = (uint32_t)written;

			memcpy(copy, msgs + (size_t)k * msg_len, msg_len);
			dpfix_put32(copy + 8, s);
			fwrite(copy, 1, msg_len, f);
			written += per_msg;
		}
		fclose(f);
		printf("{\"written\":\"%s\",\"records\":%" PRIu64 "}\n", write_path, written);
		return 0;
	}
	if (dpfix_ipfix_decode(d, tmpl, tmpl_len, NULL, NULL, err, sizeof(err)) != 0)
		return 1;

	rounds = (want + (uint64_t)nb_msgs * per_msg - 1) / ((uint64_t)nb_msgs * per_msg);
	t0 = cpu_seconds();
	for (uint64_t r = 0; r < rounds; r++) {
		for (uint32_t k = 0; k < nb_msgs; k++) {
			if (dpfix_ipfix_decode(d, msgs + (size_t)k * msg_len, msg_len, cb, &sums, err,
					sizeof(err)) != 0) {
				fprintf(stderr, "decode: %s\n", err);
				return 1;
			}
		}
		decoded += (uint64_t)nb_msgs * per_msg;
	}
	secs = cpu_seconds() - t0;
	/* Each round replays the same sequence numbers: the decoder sees an exporter that
	 * restarts, which costs nothing per record. */
	printf("{\"mode\":\"%s\",\"records\":%" PRIu64 ",\"record_fields\":%u,\"record_bytes\":%u,"
			"\"records_per_message\":%u,"
			"\"cpu_seconds\":%.3f,\"records_per_s\":%.0f,\"ns_per_record\":%.2f,"
			"\"delivered\":%" PRIu64 ",\"packets\":%" PRIu64 "}\n", mode, decoded,
			t.field_count, record_len, per_msg, secs,
			decoded / secs, secs * 1e9 / decoded, sums.records, sums.packets);
	free(msgs);
	dpfix_ipfix_decoder_free(d);
	fclose(json_sink);
	return sums.records == decoded ? 0 : 1;
}
