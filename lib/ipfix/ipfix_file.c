/* IPFIX files (RFC 5655): a writer that stores received messages so that every file,
 * rotated or not, decodes on its own with consistent sequence numbers per observation
 * domain. Reading them: ipfix_file_reader.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_file.h"
#include "ipfix_file_details.h"

#define MAX_FILE_DOMAINS 1024
#define PATH_LEN 4096
#define FLUSH_INTERVAL_MS 1000
#define FILE_BUFFER (1 << 20)
#define DETAILS_MAX 128         /* bytes a Message (or Session) Details record and template take */
#define MAX_TEMPLATE_IDS 4096   /* a decoder holds no more templates per session */

static int
fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* ---- writer ---- */

/* One (session, exporter's observation domain) pair and its domain in the files. */
struct file_domain {
	const void *session;
	int closed;             /* the session has ended: forgotten with the file */
	uint32_t source_domain;
	uint32_t file_domain;
	uint32_t next_sequence; /* data records stored before in this domain, modulo 2^32 */
	uint16_t details_id;    /* our Message Details template in the current file, 0 if none */
	uint8_t details_v6, details_sctp; /* the shape of that template */
	/* For its Export Session Details record when the file closes. */
	struct sockaddr_storage exporter, collector; /* of its last message */
	uint8_t transport;
	char identity[256];     /* the exporter's, "" without security */
	uint32_t file_messages;             /* its messages in this file */
	uint32_t min_export, max_export;    /* their export times */
};

enum write_kind {
	WRITE_RECEIVED,         /* a message the caller received */
	WRITE_TEMPLATES,        /* templates written again at a file's start or after a loss */
	WRITE_DETAILS,          /* an Export Session Details message */
	WRITE_KINDS
};

struct dpfix_ipfix_file_writer {
	struct dpfix_ipfix_file_params p;
	char base[PATH_LEN];
	char path[PATH_LEN + 64];
	int fd;                 /* the current file, -1 when none is open */
	uint8_t *out;           /* whole messages not yet written */
	size_t out_len;
	uint32_t out_count[WRITE_KINDS]; /* messages in it, by kind */
	uint64_t on_disk;       /* bytes of the current file written: whole messages */
	int resend_templates;   /* a write failed: messages that defined templates may be lost */
	uint64_t file_bytes;    /* on disk and buffered */
	uint64_t file_messages;
	unsigned int file_domains;  /* domains with messages in this file */
	size_t file_identity_bytes; /* what their identities add to the Session Details */
	uint64_t interval_end_ms;
	uint64_t last_flush_ms;
	unsigned int counter;
	/* A reader's view of the current file: every byte written is decoded here, so the
	 * writer knows which templates a reader holds at any point. */
	struct dpfix_ipfix_decoder *decoder;
	struct dpfix_ipfix_decoder *carried; /* the closed file's, for the next file's start */
	struct file_domain domains[MAX_FILE_DOMAINS];
	unsigned int domain_count;
	struct file_domain *decoding; /* whose message is being decoded */
	uint32_t records;             /* records counted while decoding it */
	struct dpfix_ipfix_file_stats stats;
	struct dpfix_ipfix_template scratch;
	uint8_t used_ids[65536 / 8];
	uint16_t withdraw_ids[MAX_TEMPLATE_IDS];
	uint8_t work[DPFIX_IPFIX_MAX_MESSAGE];
	uint8_t extra[DPFIX_IPFIX_MAX_MESSAGE];
};

int
dpfix_ipfix_file_name(const char *path, uint64_t time_ms, unsigned int counter, char *out,
		size_t outlen)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	const char *dot = strrchr(name, '.');
	time_t t = (time_t)(time_ms / 1000);
	size_t stem;
	char stamp[32];
	struct tm tm;
	int n;

	if (dot == NULL || dot == name)
		dot = name + strlen(name); /* no extension (a leading dot is not one) */
	stem = (size_t)(dot - path);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	n = snprintf(out, outlen, "%.*s-%s-%04u%s", (int)stem, path, stamp, counter, dot);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return n;
}

static void
on_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *record, uint32_t len)
{
	struct dpfix_ipfix_file_writer *w = ctx;

	(void)h;
	(void)t;
	(void)record;
	(void)len;
	w->records++;
}

/* An exporter's template that replaces or withdraws ours takes its id: ours must be
 * defined again, under a free id, before our next record. */
static void
on_template(void *ctx, uint32_t domain, uint16_t id, const struct dpfix_ipfix_template *t)
{
	struct dpfix_ipfix_file_writer *w = ctx;
	struct file_domain *d = w->decoding;

	(void)t;
	if (d != NULL && d->file_domain == domain && d->details_id == id)
		d->details_id = 0;
}

/* Files are created when data comes; a directory that cannot take them is refused
 * at once, while the operator is still looking. dir gets the directory's name. */
static int
directory_writable(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, dirlen, ".");
	else if (slash == path)
		snprintf(dir, dirlen, "/");
	else
		snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	return access(dir, W_OK | X_OK) == 0;
}

struct dpfix_ipfix_file_writer *
dpfix_ipfix_file_writer_create(const struct dpfix_ipfix_file_params *p, char *err, size_t errlen)
{
	struct dpfix_ipfix_file_writer *w;
	char probe[PATH_LEN + 64];

	if (p->path == NULL || p->path[0] == '\0') {
		fail(-EINVAL, err, errlen, "no file name given");
		return NULL;
	}
	if (strlen(p->path) >= PATH_LEN ||
			dpfix_ipfix_file_name(p->path, 0, 0, probe, sizeof(probe)) < 0) {
		fail(-EINVAL, err, errlen, "%s: file name too long", p->path);
		return NULL;
	}
	if (!directory_writable(p->path, probe, sizeof(probe))) {
		fail(-EACCES, err, errlen, "%s: cannot create files in %s: %s", p->path, probe,
				strerror(errno));
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		fail(-ENOMEM, err, errlen, "%s: no memory for the file writer", p->path);
		return NULL;
	}
	w->out = malloc(FILE_BUFFER);
	if (w->out == NULL) {
		free(w);
		fail(-ENOMEM, err, errlen, "%s: no memory for the file writer", p->path);
		return NULL;
	}
	w->fd = -1;
	w->p = *p;
	snprintf(w->base, sizeof(w->base), "%s", p->path);
	w->p.path = w->base;
	return w;
}

/* What a message in the buffer is, so that a write that fails takes each back from its
 * own counter: only received messages count as lost (the others are written again). */
static uint64_t *
kind_counter(struct dpfix_ipfix_file_writer *w, enum write_kind kind)
{
	switch (kind) {
	case WRITE_TEMPLATES: return &w->stats.template_messages;
	case WRITE_DETAILS: return &w->stats.session_details;
	default: return &w->stats.messages;
	}
}

static int
rotating(const struct dpfix_ipfix_file_writer *w)
{
	return w->p.rotate_bytes != 0 || w->p.rotate_interval_ms != 0;
}

/* Writes the buffered messages. A failed write (disk full, file size limit) must not
 * leave part of a message behind: the file is cut back to its last whole message, the
 * buffered received messages are counted as lost (and as not written), and the templates
 * are written again before the next message, since lost messages may have defined some.
 * Each write that succeeds is counted (flushes): only that says writing works. */
static int
flush_out(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen)
{
	size_t done = 0;

	while (done < w->out_len) {
		ssize_t n = write(w->fd, w->out + done, w->out_len - done);
		int e = errno;

		if (n < 0 && e == EINTR)
			continue;
		if (n <= 0) {
			/* A device (/dev/full) cannot be cut back; a file can. */
			if (ftruncate(w->fd, (off_t)w->on_disk) == 0)
				lseek(w->fd, (off_t)w->on_disk, SEEK_SET);
			w->stats.write_errors++;
			w->stats.messages_lost += w->out_count[WRITE_RECEIVED];
			for (int k = 0; k < WRITE_KINDS; k++)
				*kind_counter(w, (enum write_kind)k) -= w->out_count[k];
			w->stats.bytes -= w->out_len;
			w->file_bytes = w->on_disk;
			w->out_len = 0;
			memset(w->out_count, 0, sizeof(w->out_count));
			w->resend_templates = 1;
			return fail(-EIO, err, errlen, "%s: write failed: %s", w->path,
					strerror(n < 0 ? e : ENOSPC));
		}
		done += (size_t)n;
	}
	if (w->out_len != 0)
		w->stats.flushes++;
	w->on_disk += w->out_len;
	w->out_len = 0;
	memset(w->out_count, 0, sizeof(w->out_count));
	return 0;
}

/* One whole message into the file's buffer; its kind's counter goes up with it. */
static int
write_bytes(struct dpfix_ipfix_file_writer *w, const uint8_t *buf, size_t len,
		enum write_kind kind, char *err, size_t errlen)
{
	if (w->out_len + len > FILE_BUFFER && flush_out(w, err, errlen) < 0) {
		if (kind == WRITE_RECEIVED)
			w->stats.messages_lost++;
		return -EIO;
	}
	memcpy(w->out + w->out_len, buf, len);
	w->out_len += len;
	w->out_count[kind]++;
	(*kind_counter(w, kind))++;
	w->file_bytes += len;
	w->stats.bytes += len;
	return 0;
}

/* Decodes what is written into the reader's view, counting its records. */
static int
follow(struct dpfix_ipfix_file_writer *w, struct file_domain *d, const uint8_t *msg, size_t len,
		char *err, size_t errlen)
{
	int ret;

	w->decoding = d;
	w->records = 0;
	ret = dpfix_ipfix_decode(w->decoder, msg, len, on_record, w, err, errlen);
	w->decoding = NULL;
	return ret;
}

struct template_copy {
	struct dpfix_ipfix_file_writer *w;
	struct file_domain *d;
	int follow;             /* decode into the reader's view (not when it is the source) */
	struct dpfix_ipfix_msg m;
	uint64_t now_ms;
	int ret;
	char *err;
	size_t errlen;
};

static int
flush_template_message(struct template_copy *c)
{
	struct dpfix_ipfix_file_writer *w = c->w;
	uint32_t len;

	if (c->m.len == DPFIX_IPFIX_HEADER_LEN)
		return 0;
	len = dpfix_ipfix_msg_finish(&c->m, (uint32_t)(c->now_ms / 1000), c->d->next_sequence,
			c->d->file_domain);
	if (c->follow && follow(w, NULL, w->extra, len, c->err, c->errlen) < 0)
		return -EBADMSG; /* cannot happen: these are templates the decoder accepted */
	if (write_bytes(w, w->extra, len, WRITE_TEMPLATES, c->err, c->errlen) < 0)
		return -EIO;
	dpfix_ipfix_msg_begin(&c->m, w->extra, DPFIX_IPFIX_MAX_MESSAGE);
	return 0;
}

static void
copy_template(void *ctx, uint32_t domain, uint16_t id, const struct dpfix_ipfix_template *t)
{
	struct template_copy *c = ctx;

	(void)id;
	if (c->ret != 0 || domain != c->d->file_domain)
		return;
	if (dpfix_ipfix_msg_add_template(&c->m, t) == 0)
		return;
	c->ret = flush_template_message(c);
	if (c->ret == 0)
		dpfix_ipfix_msg_add_template(&c->m, t); /* fits: an empty message holds any template */
}

/* Writes, per live domain, one message holding every template `from` has for it. */
static int
write_templates(struct dpfix_ipfix_file_writer *w, const struct dpfix_ipfix_decoder *from,
		int follow_them, uint64_t now_ms, char *err, size_t errlen)
{
	struct template_copy c = {.w = w, .follow = follow_them, .now_ms = now_ms, .err = err,
		.errlen = errlen};

	for (unsigned int i = 0; i < w->domain_count && c.ret == 0; i++) {
		c.d = &w->domains[i];
		dpfix_ipfix_msg_begin(&c.m, w->extra, DPFIX_IPFIX_MAX_MESSAGE);
		dpfix_ipfix_decoder_foreach_template(from, copy_template, &c);
		if (c.ret == 0)
			c.ret = flush_template_message(&c);
	}
	return c.ret;
}

/* The next file starts with the templates every live domain had in the last one. */
static int
write_carried_templates(struct dpfix_ipfix_file_writer *w, uint64_t now_ms, char *err,
		size_t errlen)
{
	int ret = 0;

	if (w->carried != NULL)
		ret = write_templates(w, w->carried, 1, now_ms, err, errlen);
	dpfix_ipfix_decoder_free(w->carried);
	w->carried = NULL;
	return ret;
}

static int
open_file(struct dpfix_ipfix_file_writer *w, uint64_t now_ms, char *err, size_t errlen)
{
	uint64_t start_ms = now_ms;
	int fd = -1;

	if (w->p.rotate_interval_ms != 0) {
		start_ms = now_ms - now_ms % w->p.rotate_interval_ms;
		w->interval_end_ms = start_ms + w->p.rotate_interval_ms;
	}
	if (!rotating(w)) {
		snprintf(w->path, sizeof(w->path), "%s", w->base);
		fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		/* Never overwrite: an earlier run may have left a file of the same name. */
		for (unsigned int tries = 0; fd < 0 && tries < 10000; tries++) {
			dpfix_ipfix_file_name(w->base, start_ms, ++w->counter, w->path, sizeof(w->path));
			fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0 && errno != EEXIST)
				break;
		}
	}
	if (fd < 0)
		return fail(-EIO, err, errlen, "%s: cannot create: %s", w->path, strerror(errno));
	w->decoder = dpfix_ipfix_decoder_create();
	if (w->decoder == NULL) {
		close(fd);
		return fail(-EIO, err, errlen, "%s: no memory to write it", w->path);
	}
	w->fd = fd;
	dpfix_ipfix_decoder_set_template_cb(w->decoder, on_template, w);
	w->on_disk = 0;
	w->resend_templates = 0; /* a new file gets the templates anyway */
	w->file_bytes = 0;
	w->file_domains = 0;
	w->file_identity_bytes = 0;
	w->file_messages = 0;
	w->last_flush_ms = now_ms;
	w->stats.files++;
	return write_carried_templates(w, now_ms, err, errlen);
}

static int write_session_details(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen);

/* Closes the current file (with the Export Session Details records when details are
 * on); its templates are kept for the start of the next one, and the domains of
 * sessions that have ended are forgotten. */
static int
close_file(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen)
{
	int ret = 0;
	unsigned int kept = 0;

	if (w->fd < 0)
		return 0;
	if (w->p.details)
		ret = write_session_details(w, err, errlen);
	if (flush_out(w, err, errlen) < 0)
		ret = -EIO;
	if (close(w->fd) != 0 && ret == 0) {
		w->stats.write_errors++;
		ret = fail(-EIO, err, errlen, "%s: write failed: %s", w->path, strerror(errno));
	}
	w->fd = -1;
	dpfix_ipfix_decoder_free(w->carried);
	w->carried = w->decoder;
	w->decoder = NULL;
	for (unsigned int i = 0; i < w->domain_count; i++) {
		w->domains[i].file_messages = 0;
		if (!w->domains[i].closed)
			w->domains[kept++] = w->domains[i];
	}
	w->domain_count = kept;
	return ret;
}

static int
domain_taken(const struct dpfix_ipfix_file_writer *w, uint32_t id)
{
	for (unsigned int i = 0; i < w->domain_count; i++)
		if (w->domains[i].file_domain == id)
			return 1;
	return 0;
}

static struct file_domain *
find_domain(struct dpfix_ipfix_file_writer *w, const void *session, uint32_t source_domain,
		uint32_t sequence)
{
	struct file_domain *d;
	uint32_t id = source_domain;

	for (unsigned int i = 0; i < w->domain_count; i++) {
		d = &w->domains[i];
		if (d->session == session && d->source_domain == source_domain && !d->closed)
			return d;
	}
	if (w->domain_count == MAX_FILE_DOMAINS)
		return NULL;
	/* Templates are scoped per domain, and a file is one scope: two sessions must not
	 * share a domain id in it. Each taken id is one entry, so this loop is bounded. */
	while (domain_taken(w, id))
		id++;
	if (id != source_domain)
		w->stats.domains_renumbered++;
	d = &w->domains[w->domain_count++];
	*d = (struct file_domain){
		.session = session, .source_domain = source_domain, .file_domain = id,
		.next_sequence = sequence, /* the file continues the exporter's numbering */
	};
	return d;
}

static void
mark_used(void *ctx, uint32_t domain, uint16_t id, const struct dpfix_ipfix_template *t)
{
	struct dpfix_ipfix_file_writer *w = ctx;

	(void)t;
	if (domain == w->decoding->file_domain)
		w->used_ids[id / 8] |= (uint8_t)(1u << (id % 8));
}

/* A template id no template of the domain uses, from the top: exporters count up from
 * 256, so clashes stay rare. 0 if all are taken. */
static uint16_t
free_template_id(struct dpfix_ipfix_file_writer *w, struct file_domain *d)
{
	memset(w->used_ids, 0, sizeof(w->used_ids));
	w->decoding = d;
	dpfix_ipfix_decoder_foreach_template(w->decoder, mark_used, w);
	w->decoding = NULL;
	for (uint32_t id = 65535; id >= DPFIX_IPFIX_SET_MIN_DATA; id--)
		if (!(w->used_ids[id / 8] & (1u << (id % 8))))
			return (uint16_t)id;
	return 0;
}

static int
is_v6(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6;
}

/* Appends a Message Details record (and its template when the file lacks it) to the
 * message in w->work; returns the message's new length, or len if there is no room. */
static size_t
append_details(struct dpfix_ipfix_file_writer *w, struct file_domain *d,
		const struct dpfix_ipfix_file_origin *o, size_t len)
{
	int v6 = is_v6(&o->exporter), sctp = o->transport == IPPROTO_SCTP;
	struct file_details details = {.collection_time_ms = o->collection_time_ms,
		.transport = o->transport, .sctp_stream = o->sctp_stream};
	struct dpfix_ipfix_schema schema;
	struct dpfix_ipfix_msg m;
	uint8_t rec[FILE_DETAILS_MAX_LEN];
	uint32_t rec_len, extra_len;
	uint16_t id = d->details_id;

	if (id == 0 || d->details_v6 != v6 || d->details_sctp != sctp)
		id = free_template_id(w, d);
	if (id == 0)
		goto no_room;
	/* Built as a message of its own, so the reader's view can follow it. */
	dpfix_ipfix_msg_begin(&m, w->extra, (uint32_t)(DPFIX_IPFIX_MAX_MESSAGE - len +
			DPFIX_IPFIX_HEADER_LEN));
	file_message_details_schema(&schema, id, v6, sctp);
	if (id != d->details_id) {
		dpfix_ipfix_schema_template(&schema, &w->scratch);
		if (dpfix_ipfix_msg_add_template(&m, &w->scratch) < 0)
			goto no_room;
	}
	file_details_session(&details, &o->exporter, &o->collector, v6);
	rec_len = dpfix_ipfix_schema_encode(&schema, &details, rec);
	if (dpfix_ipfix_msg_add_record(&m, id, rec, rec_len) < 0)
		goto no_room;
	extra_len = dpfix_ipfix_msg_finish(&m, dpfix_get32(w->work + 4), dpfix_get32(w->work + 8),
			d->file_domain);
	if (dpfix_ipfix_decode(w->decoder, w->extra, extra_len, NULL, NULL, NULL, 0) < 0)
		goto no_room; /* cannot happen: we built it */
	d->details_id = id;
	d->details_v6 = (uint8_t)v6;
	d->details_sctp = (uint8_t)sctp;
	memcpy(w->work + len, w->extra + DPFIX_IPFIX_HEADER_LEN, extra_len - DPFIX_IPFIX_HEADER_LEN);
	len += extra_len - DPFIX_IPFIX_HEADER_LEN;
	dpfix_put16(w->work + 2, (uint16_t)len);
	w->records++;
	return len;
no_room:
	w->stats.details_skipped++;
	return len;
}

struct kind_ids {
	uint32_t domain;
	int options;
	uint16_t *ids;
	unsigned int count;
};

static void
collect_id(void *ctx, uint32_t domain, uint16_t id, const struct dpfix_ipfix_template *t)
{
	struct kind_ids *k = ctx;

	if (domain == k->domain && (t->scope_count != 0) == k->options && k->count < MAX_TEMPLATE_IDS)
		k->ids[k->count++] = id;
}

/* A Template or Options Template Set of withdrawals only (RFC 7011 8.1): records of 4
 * bytes with a field count of 0 (zero padding looks the same and is skipped). */
static int
withdrawals_only(const uint8_t *set, uint16_t set_len)
{
	if (set_len <= DPFIX_IPFIX_SET_HEADER_LEN || set_len % 4 != 0)
		return 0;
	for (uint16_t off = DPFIX_IPFIX_SET_HEADER_LEN; off < set_len; off += 4)
		if (dpfix_get16(set + off + 2) != 0)
			return 0;
	return 1;
}

/* Withdrawals as a file needs them. From UDP sessions they are dropped: the collector
 * ignores them there (RFC 7011 8.1), and so must a reader of the file. Otherwise the
 * all-templates form, which exporters send at the end of a TCP or SCTP session and
 * libfixbuf 2.4 refuses ("Illegal template id 2"), is spelled out as one withdrawal per
 * template of that kind the domain has in the file. Only sets made of withdrawals are
 * touched; anything malformed is left for the decoder to refuse. Returns the length. */
static size_t
rewrite_withdrawals(struct dpfix_ipfix_file_writer *w, struct file_domain *d, uint8_t transport,
		size_t len)
{
	const uint8_t *in = w->work;
	uint8_t *out = w->extra;
	size_t off = DPFIX_IPFIX_HEADER_LEN, n = DPFIX_IPFIX_HEADER_LEN;
	int changed = 0;

	memcpy(out, in, DPFIX_IPFIX_HEADER_LEN);
	while (off + DPFIX_IPFIX_SET_HEADER_LEN <= len) {
		uint16_t set_id = dpfix_get16(in + off), set_len = dpfix_get16(in + off + 2);
		size_t start = n;

		if (set_len < DPFIX_IPFIX_SET_HEADER_LEN || set_len > len - off)
			return len;
		if ((set_id != DPFIX_IPFIX_SET_TEMPLATE && set_id != DPFIX_IPFIX_SET_OPTIONS_TEMPLATE) ||
				!withdrawals_only(in + off, set_len)) {
			if (n + set_len > DPFIX_IPFIX_MAX_MESSAGE)
				return len;
			memcpy(out + n, in + off, set_len);
			n += set_len;
			off += set_len;
			continue;
		}
		changed = 1;
		n += DPFIX_IPFIX_SET_HEADER_LEN;
		for (size_t r = off + DPFIX_IPFIX_SET_HEADER_LEN; r < off + set_len &&
				transport != IPPROTO_UDP; r += 4) {
			struct kind_ids k = {.domain = d->file_domain, .ids = w->withdraw_ids,
				.options = set_id == DPFIX_IPFIX_SET_OPTIONS_TEMPLATE};
			uint16_t id = dpfix_get16(in + r);

			if (id == 0)
				continue; /* padding */
			if (id == set_id) {
				dpfix_ipfix_decoder_foreach_template(w->decoder, collect_id, &k);
			} else {
				k.ids[0] = id;
				k.count = 1;
			}
			for (unsigned int i = 0; i < k.count; i++) {
				if (n + 4 > DPFIX_IPFIX_MAX_MESSAGE)
					return len;
				dpfix_put16(out + n, k.ids[i]);
				dpfix_put16(out + n + 2, 0);
				n += 4;
			}
			if (id == set_id)
				w->stats.withdrawals_expanded++;
		}
		if (transport == IPPROTO_UDP)
			w->stats.withdrawals_dropped++;
		if (n == start + DPFIX_IPFIX_SET_HEADER_LEN) {
			n = start; /* nothing left in it */
		} else {
			dpfix_put16(out + start, set_id);
			dpfix_put16(out + start + 2, (uint16_t)(n - start));
		}
		off += set_len;
	}
	if (!changed || off != len)
		return len;
	dpfix_put16(out + 2, (uint16_t)n);
	memcpy(w->work, out, n);
	return n;
}

/* RFC 5655 8.1.3, one record per domain of the file that ends here: the session's
 * exporter and collector, and the export times of its first and last message in this
 * file. Its template is defined in the same message, under an id free in the reader's
 * view; the view does not follow (the file ends), so the next file does not carry it. */
static int
write_session_details(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < w->domain_count; i++) {
		struct file_domain *d = &w->domains[i];
		int v6 = is_v6(&d->exporter);
		struct file_details details = {.transport = d->transport,
			.min_export = d->min_export, .max_export = d->max_export,
			.identity = d->identity};
		struct dpfix_ipfix_schema schema;
		struct dpfix_ipfix_msg m;
		uint8_t rec[FILE_SESSION_DETAILS_MAX_LEN];
		uint16_t id;
		uint32_t len;

		if (d->file_messages == 0)
			continue;
		id = free_template_id(w, d);
		if (id == 0) {
			w->stats.details_skipped++;
			continue;
		}
		file_session_details_schema(&schema, id, v6, d->identity[0] != '\0');
		dpfix_ipfix_schema_template(&schema, &w->scratch);
		file_details_session(&details, &d->exporter, &d->collector, v6);
		dpfix_ipfix_msg_begin(&m, w->extra, DPFIX_IPFIX_MAX_MESSAGE);
		dpfix_ipfix_msg_add_template(&m, &w->scratch);
		dpfix_ipfix_msg_add_record(&m, id, rec, dpfix_ipfix_schema_encode(&schema, &details, rec));
		len = dpfix_ipfix_msg_finish(&m, d->max_export, d->next_sequence, d->file_domain);
		if (write_bytes(w, w->extra, len, WRITE_DETAILS, err, errlen) < 0)
			return -EIO;
		d->next_sequence++;
	}
	return 0;
}

static int
has_identity(const struct dpfix_ipfix_file_origin *o)
{
	return o->identity != NULL && o->identity[0] != '\0';
}

int
dpfix_ipfix_file_write(struct dpfix_ipfix_file_writer *w, const struct dpfix_ipfix_file_origin *o,
		const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	uint64_t now = o->collection_time_ms;
	struct file_domain *d;
	char why[256];
	int ret;

	if (len < DPFIX_IPFIX_HEADER_LEN || dpfix_get16(msg) != DPFIX_IPFIX_VERSION ||
			dpfix_get16(msg + 2) != len) {
		w->stats.refused_malformed++;
		return fail(-EBADMSG, err, errlen, "%s: message of %zu bytes is not one IPFIX "
				"message: not written", w->base, len);
	}
	if (w->fd >= 0 && w->p.rotate_interval_ms != 0 && now >= w->interval_end_ms &&
			(ret = close_file(w, err, errlen)) < 0)
		return ret;
	/* With details, room for this message's record and every domain's session record
	 * at the end (one more domain, perhaps, with this message), identities included. */
	if (w->fd >= 0 && w->p.rotate_bytes != 0 && w->file_messages > 0 &&
			w->file_bytes + len + (w->p.details ? (w->file_domains + 2) * DETAILS_MAX +
				w->file_identity_bytes + (has_identity(o) ? FILE_DETAILS_IDENTITY_MAX : 0) :
				0) > w->p.rotate_bytes && (ret = close_file(w, err, errlen)) < 0)
		return ret;
	/* Opened before a new domain is added: the new file's first messages carry the
	 * templates of the domains the last file had, and only those. */
	if (w->fd < 0 && (ret = open_file(w, now, err, errlen)) < 0)
		return ret;
	if (w->resend_templates) {
		if ((ret = write_templates(w, w->decoder, 0, now, err, errlen)) < 0)
			return ret;
		w->resend_templates = 0;
	}
	d = find_domain(w, o->session, dpfix_get32(msg + 12), dpfix_get32(msg + 8));
	if (d == NULL) {
		w->stats.refused_domains++;
		return fail(-ENOSPC, err, errlen, "%s: more than %u observation domains in one "
				"file: message not written", w->base, MAX_FILE_DOMAINS);
	}
	memcpy(w->work, msg, len);
	dpfix_put32(w->work + 8, d->next_sequence);
	dpfix_put32(w->work + 12, d->file_domain);
	len = rewrite_withdrawals(w, d, o->transport, len);
	if (follow(w, d, w->work, len, why, sizeof(why)) < 0) {
		w->stats.refused_malformed++;
		return fail(-EBADMSG, err, errlen, "%s: malformed message not written: %s", w->base,
				why);
	}
	if (w->p.details)
		len = append_details(w, d, o, len);
	if ((ret = write_bytes(w, w->work, len, WRITE_RECEIVED, err, errlen)) < 0)
		return ret;
	d->next_sequence += w->records;
	d->exporter = o->exporter;
	d->collector = o->collector;
	d->transport = o->transport;
	if (d->file_messages == 0 || dpfix_get32(w->work + 4) < d->min_export)
		d->min_export = dpfix_get32(w->work + 4);
	if (d->file_messages == 0 || dpfix_get32(w->work + 4) > d->max_export)
		d->max_export = dpfix_get32(w->work + 4);
	if (d->file_messages++ == 0) {
		w->file_domains++;
		/* The same for the whole session: taken once a file. */
		snprintf(d->identity, sizeof(d->identity), "%s", has_identity(o) ? o->identity : "");
		if (has_identity(o))
			w->file_identity_bytes += FILE_DETAILS_IDENTITY_MAX;
	}
	w->file_messages++;
	return 0;
}

int
dpfix_ipfix_file_writer_tick(struct dpfix_ipfix_file_writer *w, uint64_t now_ms, char *err,
		size_t errlen)
{
	if (w->fd < 0)
		return 0;
	if (w->p.rotate_interval_ms != 0 && now_ms >= w->interval_end_ms)
		return close_file(w, err, errlen);
	if (w->out_len != 0 && now_ms - w->last_flush_ms >= FLUSH_INTERVAL_MS) {
		w->last_flush_ms = now_ms;
		return flush_out(w, err, errlen);
	}
	return 0;
}

void
dpfix_ipfix_file_writer_session_closed(struct dpfix_ipfix_file_writer *w, const void *session)
{
	/* The entry stays until the file closes: its domain id stays taken in this file. */
	for (unsigned int i = 0; i < w->domain_count; i++)
		if (w->domains[i].session == session)
			w->domains[i].closed = 1;
}

int
dpfix_ipfix_file_writer_finish(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen)
{
	return close_file(w, err, errlen);
}

int
dpfix_ipfix_file_writer_close(struct dpfix_ipfix_file_writer *w, char *err, size_t errlen)
{
	int ret;

	if (w == NULL)
		return 0;
	ret = close_file(w, err, errlen);
	dpfix_ipfix_decoder_free(w->carried);
	free(w->out);
	free(w);
	return ret;
}

const struct dpfix_ipfix_file_stats *
dpfix_ipfix_file_writer_stats(const struct dpfix_ipfix_file_writer *w)
{
	return &w->stats;
}

const char *
dpfix_ipfix_file_writer_path(const struct dpfix_ipfix_file_writer *w)
{
	return w->path;
}
