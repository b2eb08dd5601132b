/* libFuzzer target for the IPFIX decoder. The input's first byte picks the transport
 * kind of the session (low 2 bits) and the UDP template lifetime in seconds (the rest,
 * measured with the messages' export times); the rest of the input is a stream of messages as a collector receives them
 * on that session: each message is cut at the length
 * its header claims (or the rest of the input when that length is impossible), so
 * templates learned from one message apply to the next. Every delivered record is
 * split into fields, checked against its elements' types, and formatted as JSON, the
 * way the collector uses it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_ipfix.h"

static FILE *sink;

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	static uint32_t offsets[DPFIX_IPFIX_MAX_FIELDS];
	static uint16_t lengths[DPFIX_IPFIX_MAX_FIELDS];
	(void)ctx;
	(void)h;

	/* The decoder delivered it whole, so splitting it must succeed. */
	if (dpfix_ipfix_record_fields(t, rec, len, offsets, lengths) != (int)len)
		__builtin_trap();
	/* And no field has a length its element's type forbids (RFC 7011 6.2, 7): such
	 * templates are refused, so their records never arrive here. */
	for (uint16_t i = 0; i < t->field_count; i++) {
		const struct dpfix_ipfix_ie *ie = dpfix_ipfix_ie_by_id(t->fields[i].pen,
				t->fields[i].id);

		if (ie != NULL && t->fields[i].length != DPFIX_IPFIX_VARLEN &&
				!dpfix_ipfix_type_length_valid(ie->type, lengths[i]))
			__builtin_trap();
	}
	dpfix_ipfix_record_to_json(t, rec, len, sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpfix_ipfix_decoder_params p;
	struct dpfix_ipfix_decoder *d;
	char err[256];
	size_t off = 1;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	if (size < 1)
		return 0;
	p = (struct dpfix_ipfix_decoder_params){
		.transport = (enum dpfix_ipfix_transport)(data[0] & 3),
		.template_lifetime_s = data[0] >> 2,
	};
	d = dpfix_ipfix_decoder_create_params(&p);
	if (d == NULL)
		return 0;
	while (off < size) {
		size_t left = size - off, n = left;

		if (left >= 4) {
			size_t claimed = (size_t)data[off + 2] << 8 | data[off + 3];

			if (claimed >= DPFIX_IPFIX_HEADER_LEN && claimed <= left)
				n = claimed;
		}
		dpfix_ipfix_decode(d, data + off, n, on_record, NULL, err, sizeof(err));
		off += n;
	}
	dpfix_ipfix_decoder_free(d);
	return 0;
}
