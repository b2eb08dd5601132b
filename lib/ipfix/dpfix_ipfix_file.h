/* IPFIX files (RFC 5655): a file is a stream of IPFIX messages. A bounds-checked reader
 * that names the byte offset of anything wrong, and a writer that keeps every file
 * self-contained (templates at its start) and its sequence numbers consistent. */
#ifndef DPFIX_IPFIX_FILE_H
#define DPFIX_IPFIX_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "dpfix_ipfix.h"

#define DPFIX_IPFIX_MAX_MESSAGE 65535

/* ---- framing a byte stream ---- */

/* Looks at the message that starts at buf, of which avail bytes are present. Returns
 * its length when it is all there, 0 when more bytes are needed, or -EBADMSG with err
 * saying why the bytes cannot start a message (version not 10, length below 16). */
int dpfix_ipfix_frame(const uint8_t *buf, size_t avail, char *err, size_t errlen);

/* ---- reader ---- */

struct dpfix_ipfix_file_reader;

/* Reads messages from in (a file, a pipe, stdin); the caller keeps and closes in. */
struct dpfix_ipfix_file_reader *dpfix_ipfix_file_reader_create(FILE *in);
void dpfix_ipfix_file_reader_free(struct dpfix_ipfix_file_reader *r);

/* The next message: 1 with *msg, *len and its byte offset in the stream; 0 at a clean
 * end (the stream ends between messages); -EBADMSG when the stream is corrupt or ends
 * inside a message, -EIO on a read error, err naming the offset and the reason. After
 * an error the reader stays at that error: framing cannot be recovered. *msg stays
 * valid until the next call. */
int dpfix_ipfix_file_read(struct dpfix_ipfix_file_reader *r, const uint8_t **msg, size_t *len,
		uint64_t *offset, char *err, size_t errlen);

/* ---- writer ---- */

struct dpfix_ipfix_file_params {
	const char *path;
	/* Rotation. Without either, the file is path itself (truncated when opened). With
	 * either, each file is named by dpfix_ipfix_file_name and none is ever overwritten. */
	uint64_t rotate_bytes;       /* a new file before this one would grow past it; 0 never */
	uint64_t rotate_interval_ms; /* a new file at each multiple of this in UNIX time; 0 never */
	/* RFC 5655 options: a Message Details record (8.1.4: collection time, exporter and
	 * collector address and port, transport, SCTP stream) appended to each stored
	 * message, and an Export Session Details record (8.1.3: the same session fields,
	 * the export times of its first and last message) per session when a file ends. */
	int details;
};

/* Where and when a message was received. */
struct dpfix_ipfix_file_origin {
	const void *session;         /* the caller's handle of the transport session */
	uint64_t collection_time_ms; /* UNIX time */
	struct sockaddr_storage exporter;  /* ss_family 0 when unknown */
	struct sockaddr_storage collector;
	uint8_t transport;           /* IPPROTO_UDP, IPPROTO_TCP or IPPROTO_SCTP */
	uint16_t sctp_stream;        /* with IPPROTO_SCTP: the stream it came on */
	/* Who the exporter proved to be ((D)TLS PSK identity or certificate name), NULL or
	 * "" without security: with details, in its Export Session Details. */
	const char *identity;
};

#define DPFIX_IPFIX_FILE_COUNTERS(X) \
	X(files, "files opened") \
	X(messages, "messages written (buffered ones whose write failed are taken back)") \
	X(bytes, "bytes written") \
	X(template_messages, "messages of templates written at the start of a file") \
	X(refused_malformed, "messages not written: malformed") \
	X(refused_domains, "messages not written: too many observation domains in one file") \
	X(domains_renumbered, "observation domains given another id: the id was taken by another session") \
	X(details_skipped, "Message or Session Details not written: no room or no free template id") \
	X(session_details, "Export Session Details records written (per session, when a file ends)") \
	X(withdrawals_expanded, "all-templates withdrawals stored as one withdrawal per template") \
	X(withdrawals_dropped, "sets of withdrawals from UDP sessions not stored (RFC 7011 8.1)") \
	X(write_errors, "writes that failed") \
	X(messages_lost, "messages not stored: a write failed (the file is cut back to whole messages)") \
	X(flushes, "writes of the buffered messages that succeeded")

struct dpfix_ipfix_file_stats {
#define DPFIX_IPFIX_FILE_FIELD(name, text) uint64_t name;
	DPFIX_IPFIX_FILE_COUNTERS(DPFIX_IPFIX_FILE_FIELD)
#undef DPFIX_IPFIX_FILE_FIELD
};

struct dpfix_ipfix_file_writer;

/* Checks the parameters; the first file is created with the first message. NULL with
 * err filled in on a bad parameter or no memory. */
struct dpfix_ipfix_file_writer *dpfix_ipfix_file_writer_create(const struct dpfix_ipfix_file_params *p,
		char *err, size_t errlen);

/* Stores one received message. Each (session, observation domain) pair gets its own
 * domain in the file: the exporter's id unless another session already uses it there.
 * Withdrawals are stored as a reader of the file needs them: dropped from UDP sessions,
 * the all-templates form spelled out template by template.
 * The header's sequence number is rewritten to count the data records stored before in
 * that domain, so the file's numbering is consistent whatever was lost on the way.
 * Returns 0, -EBADMSG (malformed: not written), -ENOSPC (too many domains), or -EIO
 * (the file could not be created or written), with err saying what and where. */
int dpfix_ipfix_file_write(struct dpfix_ipfix_file_writer *w, const struct dpfix_ipfix_file_origin *o,
		const uint8_t *msg, size_t len, char *err, size_t errlen);

/* Call now and then: closes a file whose interval has ended, writes what is buffered
 * once a second. Returns 0 or -EIO with err. */
int dpfix_ipfix_file_writer_tick(struct dpfix_ipfix_file_writer *w, uint64_t now_ms, char *err,
		size_t errlen);

/* The session ended: its templates are not carried into later files. */
void dpfix_ipfix_file_writer_session_closed(struct dpfix_ipfix_file_writer *w, const void *session);

/* Finishes the current file (its Export Session Details, the buffer) and closes it; a
 * later message starts a new one. Returns 0 or -EIO with err. */
int dpfix_ipfix_file_writer_finish(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen);

/* Finishes the current file and frees w. Returns 0 or -EIO with err. */
int dpfix_ipfix_file_writer_close(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen);

const struct dpfix_ipfix_file_stats *dpfix_ipfix_file_writer_stats(const struct dpfix_ipfix_file_writer *w);
/* The file being written, "" before the first message. */
const char *dpfix_ipfix_file_writer_path(const struct dpfix_ipfix_file_writer *w);

/* The name of a rotated file: path with "-YYYYMMDDTHHMMSSZ-NNNN" inserted before its
 * extension (flows.ipfix -> flows-20240501T120500Z-0001.ipfix), the UTC time the file
 * starts (the interval's start with interval rotation) and a counter. Returns the
 * length, or -ENAMETOOLONG. */
int dpfix_ipfix_file_name(const char *path, uint64_t time_ms, unsigned int counter, char *out,
		size_t outlen);

#endif
