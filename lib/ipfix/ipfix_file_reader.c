/* IPFIX files and streams (RFC 5655): splitting a byte stream into messages, and reading
 * a file message by message with each one's offset; a stream that breaks is not read
 * further (it cannot be re-framed). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_file.h"

/* ---- framing ---- */

int
dpfix_ipfix_frame(const uint8_t *buf, size_t avail, char *err, size_t errlen)
{
	uint16_t length;

	if (avail < 2)
		return 0;
	if (dpfix_get16(buf) != DPFIX_IPFIX_VERSION) {
		snprintf(err, errlen, "version %u is not IPFIX (10)", dpfix_get16(buf));
		return -EBADMSG;
	}
	if (avail < 4)
		return 0;
	length = dpfix_get16(buf + 2);
	if (length < DPFIX_IPFIX_HEADER_LEN) {
		snprintf(err, errlen, "message length %u is below the %u-byte header", length,
				DPFIX_IPFIX_HEADER_LEN);
		return -EBADMSG;
	}
	return avail >= length ? length : 0;
}

/* ---- reader ---- */

struct dpfix_ipfix_file_reader {
	FILE *in;
	uint64_t offset;        /* of the next message */
	int error;              /* sticky: a stream cannot be re-framed after corruption */
	char error_text[256];
	uint8_t buf[DPFIX_IPFIX_MAX_MESSAGE];
};

struct dpfix_ipfix_file_reader *
dpfix_ipfix_file_reader_create(FILE *in)
{
	struct dpfix_ipfix_file_reader *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->in = in;
	return r;
}

void
dpfix_ipfix_file_reader_free(struct dpfix_ipfix_file_reader *r)
{
	free(r);
}

static int
reader_fail(struct dpfix_ipfix_file_reader *r, int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error_text, sizeof(r->error_text), fmt, ap);
	va_end(ap);
	r->error = ret;
	snprintf(err, errlen, "%s", r->error_text);
	return ret;
}

int
dpfix_ipfix_file_read(struct dpfix_ipfix_file_reader *r, const uint8_t **msg, size_t *len,
		uint64_t *offset, char *err, size_t errlen)
{
	char why[128];
	size_t got;
	int n;

	if (r->error != 0) {
		snprintf(err, errlen, "%s", r->error_text);
		return r->error;
	}
	got = fread(r->buf, 1, DPFIX_IPFIX_HEADER_LEN, r->in);
	if (ferror(r->in))
		return reader_fail(r, -EIO, err, errlen, "offset %" PRIu64 ": read error", r->offset);
	if (got == 0)
		return 0;
	n = dpfix_ipfix_frame(r->buf, got, why, sizeof(why));
	if (n < 0)
		return reader_fail(r, -EBADMSG, err, errlen, "offset %" PRIu64 ": %s", r->offset, why);
	if (got < DPFIX_IPFIX_HEADER_LEN)
		return reader_fail(r, -EBADMSG, err, errlen, "offset %" PRIu64 ": truncated: the "
				"stream ends %zu bytes into a 16-byte message header", r->offset, got);
	n = dpfix_get16(r->buf + 2);
	got += fread(r->buf + got, 1, (size_t)n - got, r->in);
	if (ferror(r->in))
		return reader_fail(r, -EIO, err, errlen, "offset %" PRIu64 ": read error", r->offset);
	if (got < (size_t)n)
		return reader_fail(r, -EBADMSG, err, errlen, "offset %" PRIu64 ": truncated: message "
				"of %d bytes, the stream ends after %zu of them", r->offset, n, got);
	*msg = r->buf;
	*len = (size_t)n;
	*offset = r->offset;
	r->offset += (uint64_t)n;
	return 1;
}
