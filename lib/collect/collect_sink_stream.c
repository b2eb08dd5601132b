/* lib/collect's readable sinks: each record as one line of text or one JSON object on a
 * stdio stream the program opened (and closes). Flushed whenever the collector runs out
 * of input, so whoever reads them (a pipe, a test waiting for a count) sees each
 * message's records without waiting for a full stdio buffer: a write only when idle. */
#include "dpfix_collect.h"

static void
text_record(void *ctx, const struct dpfix_collect_session *s, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	FILE *out = ctx;

	(void)s;
	(void)h;
	/* Options records say so, and how many leading fields are their scope. */
	if (t->scope_count != 0)
		fprintf(out, "options %u (scope %u): ", t->id, t->scope_count);
	dpfix_ipfix_record_to_text(t, rec, len, out);
}

static void
json_record(void *ctx, const struct dpfix_collect_session *s, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	(void)s;
	(void)h;
	dpfix_ipfix_record_to_json(t, rec, len, ctx);
}

static void
stream_flush(void *ctx)
{
	fflush(ctx);
}

static const struct dpfix_collect_sink_ops text_ops = {
	.name = "text", .record = text_record, .idle = stream_flush, .finish = stream_flush,
	.record_to_stream = 1,
};

static const struct dpfix_collect_sink_ops json_ops = {
	.name = "json", .record = json_record, .idle = stream_flush, .finish = stream_flush,
	.record_to_stream = 1,
};

int
dpfix_collect_sink_text(FILE *out, struct dpfix_collect_sink *sink)
{
	*sink = (struct dpfix_collect_sink){.ops = &text_ops, .ctx = out};
	return 0;
}

int
dpfix_collect_sink_json(FILE *out, struct dpfix_collect_sink *sink)
{
	*sink = (struct dpfix_collect_sink){.ops = &json_ops, .ctx = out};
	return 0;
}
