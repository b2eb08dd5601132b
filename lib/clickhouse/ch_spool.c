/* The spool directory (ch_spool.h). A file is written under a temporary name, synced and
 * renamed, so a crash leaves whole files or none; the directory listing alone says the
 * order, the batch ids and which may already be in ClickHouse. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ch_spool.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_file.h"

#define SPOOL_MESSAGE 65000     /* bytes per message written */

static void
file_name(const struct ch_spool *sp, const struct ch_spool_file *f, char *out, size_t len)
{
	snprintf(out, len, "%s/%020" PRIu64 "-%016" PRIx64 "%s.ipfix", sp->dir, f->seq, f->id,
			f->marked ? "-u" : "");
}

/* SEQUENCE-ID.ipfix or SEQUENCE-ID-u.ipfix; 0 if name is not a spool file's. */
static int
parse_name(const char *name, struct ch_spool_file *f)
{
	char *end;

	if (strlen(name) < 20 + 1 + 16 + 6 || name[20] != '-')
		return 0;
	f->seq = strtoull(name, &end, 10);
	if (end != name + 20)
		return 0;
	f->id = strtoull(name + 21, &end, 16);
	if (end != name + 37)
		return 0;
	f->marked = f->uncertain = strcmp(end, "-u.ipfix") == 0;
	return f->marked || strcmp(end, ".ipfix") == 0;
}

static int
by_seq(const void *a, const void *b)
{
	const struct ch_spool_file *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
push(struct ch_spool *sp, const struct ch_spool_file *f)
{
	if (sp->head > 0 && sp->head == sp->count)
		sp->head = sp->count = 0;
	if (sp->count == sp->cap) {
		uint32_t cap = sp->cap ? sp->cap * 2 : 64;
		struct ch_spool_file *n;

		if (sp->head > 0) {
			/* Reuse the room of files already replayed. */
			memmove(sp->files, sp->files + sp->head,
					(sp->count - sp->head) * sizeof(*sp->files));
			sp->count -= sp->head;
			sp->head = 0;
			return push(sp, f);
		}
		n = realloc(sp->files, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		sp->files = n;
		sp->cap = cap;
	}
	sp->files[sp->count++] = *f;
	sp->bytes += f->bytes;
	sp->live++;
	return 0;
}

int
ch_spool_open(struct ch_spool *sp, const char *dir, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d;

	size_t len = strlen(dir);

	memset(sp, 0, sizeof(*sp));
	if (len >= sizeof(sp->dir)) {
		snprintf(err, errlen, "spool directory name too long");
		return -ENAMETOOLONG;
	}
	memcpy(sp->dir, dir, len + 1);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "spool directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "spool directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		struct ch_spool_file f = {0};
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp") != NULL) {
			unlink(path);   /* a write a crash interrupted: never renamed, never replayed */
			continue;
		}
		if (!parse_name(e->d_name, &f) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		f.bytes = (uint64_t)st.st_size;
		if (push(sp, &f) < 0) {
			closedir(d);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	closedir(d);
	if (sp->count > 1)
		qsort(sp->files, sp->count, sizeof(*sp->files), by_seq);
	sp->next_seq = sp->count ? sp->files[sp->count - 1].seq + 1 : 1;
	if (sp->count > 0)
		sp->files[0].uncertain = 1;
	return 0;
}

void
ch_spool_close(struct ch_spool *sp)
{
	free(sp->files);
	sp->files = NULL;
	sp->head = sp->count = sp->cap = 0;
}

struct writer {
	int fd;
	uint8_t buf[SPOOL_MESSAGE];
	struct dpfix_ipfix_msg m;
	uint32_t export_time;
	uint32_t sequence;
	int open;
	int error;
};

static void
message_flush(struct writer *w)
{
	uint32_t len;

	if (!w->open)
		return;
	len = dpfix_ipfix_msg_finish(&w->m, w->export_time, w->sequence, 0);
	w->sequence += w->m.data_records;
	w->open = 0;
	for (uint32_t done = 0; done < len && w->error == 0;) {
		ssize_t n = write(w->fd, w->buf + done, len - done);

		if (n < 0 && errno != EINTR)
			w->error = errno;
		else if (n > 0)
			done += (uint32_t)n;
	}
}

static void
message_begin(struct writer *w)
{
	if (!w->open)
		dpfix_ipfix_msg_begin(&w->m, w->buf, sizeof(w->buf));
	w->open = 1;
}

int
ch_spool_write(struct ch_spool *sp, const struct ch_batch *b,
		int (*keep)(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len), void *arg,
		uint64_t limit_bytes, char *err, size_t errlen)
{
	struct writer *wp = malloc(sizeof(*wp));
	struct ch_spool_file f = {.seq = sp->next_seq, .id = b->id,
		.uncertain = b->shards_uncertain != 0, .marked = b->shards_uncertain != 0};
	uint8_t used[CH_BATCH_MAX_TEMPLATES] = {0};
	char tmp[PATH_MAX], path[PATH_MAX];
	const uint8_t *rec;
	uint32_t slot, len, kept = 0;
	size_t off = 0;
	struct stat st;
	int error;

	while (ch_batch_next(b, &off, &slot, &rec, &len))
		if (keep == NULL || keep(arg, slot, rec, len))
			used[slot] = 1, kept++;
	if (kept == 0) {
		free(wp);
		return 0;
	}
	if (wp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	file_name(sp, &f, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/.%020" PRIu64 ".tmp", sp->dir, f.seq);
	wp->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (wp->fd < 0) {
		int e = errno;

		free(wp);
		snprintf(err, errlen, "spool %s: %s", tmp, strerror(e));
		return e == ENOSPC ? -ENOSPC : -EIO;
	}
	wp->export_time = (uint32_t)(b->last_ms / 1000);
	wp->sequence = 0;
	wp->open = 0;
	wp->error = 0;
	/* The templates first, each message as full as it goes. */
	for (uint32_t s = 0; s < b->template_count; s++) {
		if (!used[s])
			continue;
		message_begin(wp);
		if (dpfix_ipfix_msg_add_template(&wp->m, b->templates[s]) < 0) {
			message_flush(wp);
			message_begin(wp);
			dpfix_ipfix_msg_add_template(&wp->m, b->templates[s]);
		}
	}
	message_flush(wp);
	off = 0;
	while (ch_batch_next(b, &off, &slot, &rec, &len) && wp->error == 0) {
		if (keep != NULL && !keep(arg, slot, rec, len))
			continue;
		message_begin(wp);
		if (dpfix_ipfix_msg_add_record(&wp->m, b->templates[slot]->id, rec, len) < 0) {
			message_flush(wp);
			message_begin(wp);
			dpfix_ipfix_msg_add_record(&wp->m, b->templates[slot]->id, rec, len);
		}
	}
	message_flush(wp);
	if (wp->error == 0 && fstat(wp->fd, &st) < 0)
		wp->error = errno;
	if (wp->error == 0 && limit_bytes != 0 && sp->bytes + (uint64_t)st.st_size > limit_bytes)
		wp->error = EDQUOT;
	if (wp->error == 0 && fsync(wp->fd) < 0)
		wp->error = errno;
	close(wp->fd);
	if (wp->error == 0 && rename(tmp, path) < 0)
		wp->error = errno;
	error = wp->error;
	free(wp);
	if (error != 0) {
		unlink(tmp);
		if (error == EDQUOT) {
			snprintf(err, errlen, "the spool is full (%" PRIu64 " bytes in %u files, "
					"clickhouse_spool_bytes %" PRIu64 ")", sp->bytes, ch_spool_files(sp),
					limit_bytes);
			return -ENOSPC;
		}
		snprintf(err, errlen, "spool %s: %s", path, strerror(error));
		return error == ENOSPC ? -ENOSPC : -EIO;
	}
	/* The name must survive a crash too. */
	{
		int dfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	f.bytes = (uint64_t)st.st_size;
	sp->next_seq++;
	if (push(sp, &f) < 0) {
		unlink(path);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 1;
}

struct reader {
	struct ch_batch *b;
	int16_t slot_of[CH_BATCH_MAX_TEMPLATES];
	int error;
};

static void
read_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *rec, uint32_t len)
{
	struct reader *r = ctx;
	const struct dpfix_ipfix_field_spec *last;
	uint32_t i = (uint32_t)t->id - DPFIX_IPFIX_SET_MIN_DATA;
	int slot;

	(void)h;
	if (r->error != 0)
		return;
	if (i >= CH_BATCH_MAX_TEMPLATES || t->scope_count != 0) {
		r->error = -EBADMSG;
		return;
	}
	if (r->slot_of[i] < 0) {
		slot = ch_batch_add_template(r->b, t, 0);
		if (slot < 0) {
			r->error = slot;
			return;
		}
		r->slot_of[i] = (int16_t)slot;
	}
	if (ch_batch_add_record(r->b, (uint32_t)r->slot_of[i], rec, len, NULL) < 0) {
		r->error = -ENOMEM;
		return;
	}
	/* The reception time is the last field (8 octets: the record's last): the bounds of
	 * the batch's times. */
	last = &t->fields[t->field_count - 1];
	if (last->pen == 0 && last->id == IE_collectionTimeMilliseconds &&
			last->length == 8 && len >= 8) {
		uint64_t ms = dpfix_get_be(rec + len - 8, 8);

		if (r->b->first_ms == 0 || ms < r->b->first_ms)
			r->b->first_ms = ms;
		if (ms > r->b->last_ms)
			r->b->last_ms = ms;
	}
}

static struct ch_spool_file *
find(struct ch_spool *sp, uint64_t seq)
{
	for (uint32_t i = sp->head; i < sp->count; i++)
		if (sp->files[i].seq == seq && !sp->files[i].done)
			return &sp->files[i];
	return NULL;
}

uint64_t
ch_spool_claim(struct ch_spool *sp)
{
	for (uint32_t i = sp->head; i < sp->count; i++) {
		if (!sp->files[i].done && !sp->files[i].claimed) {
			sp->files[i].claimed = 1;
			return sp->files[i].seq;
		}
	}
	return 0;
}

int
ch_spool_waiting(const struct ch_spool *sp)
{
	for (uint32_t i = sp->head; i < sp->count; i++)
		if (!sp->files[i].done && !sp->files[i].claimed)
			return 1;
	return 0;
}

int
ch_spool_read(struct ch_spool *sp, uint64_t seq, struct ch_batch *b, char *err, size_t errlen)
{
	struct ch_spool_file *f = find(sp, seq);
	struct reader r = {.b = b};
	struct dpfix_ipfix_file_reader *fr;
	struct dpfix_ipfix_decoder *d;
	char path[PATH_MAX], why[256];
	const uint8_t *msg;
	uint64_t offset;
	size_t len;
	FILE *in;
	int ret;

	if (f == NULL)
		return -ENOENT;
	ch_batch_reset(b);
	memset(r.slot_of, 0xff, sizeof(r.slot_of));
	file_name(sp, f, path, sizeof(path));
	in = fopen(path, "rb");
	if (in == NULL) {
		snprintf(err, errlen, "spool %s: %s", path, strerror(errno));
		return -EIO;
	}
	fr = dpfix_ipfix_file_reader_create(in);
	d = dpfix_ipfix_decoder_create();
	if (fr == NULL || d == NULL) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while ((ret = dpfix_ipfix_file_read(fr, &msg, &len, &offset, why, sizeof(why))) == 1) {
		if (dpfix_ipfix_decode(d, msg, len, read_record, &r, why, sizeof(why)) < 0 ||
				r.error != 0) {
			ret = r.error == -ENOMEM ? -ENOMEM : -EBADMSG;
			if (r.error != 0)
				snprintf(why, sizeof(why), "offset %" PRIu64 ": not a batch dpfix wrote",
						offset);
			break;
		}
	}
	if (ret < 0)
		snprintf(err, errlen, "spool %s: %s", path, why);
out:
	dpfix_ipfix_decoder_free(d);
	dpfix_ipfix_file_reader_free(fr);
	fclose(in);
	if (ret < 0)
		return ret;
	b->id = f->id;
	b->shards_uncertain = f->uncertain ? ~0ull : 0;
	b->from_spool = seq;
	return 0;
}

int
ch_spool_mark_uncertain(struct ch_spool *sp, uint64_t seq)
{
	struct ch_spool_file *f = find(sp, seq);
	char from[PATH_MAX], to[PATH_MAX];

	if (f == NULL || f->marked)
		return 0;
	file_name(sp, f, from, sizeof(from));
	f->uncertain = f->marked = 1;
	file_name(sp, f, to, sizeof(to));
	return rename(from, to) < 0 ? -errno : 0;
}

void
ch_spool_release(struct ch_spool *sp, uint64_t seq)
{
	struct ch_spool_file *f = find(sp, seq);

	if (f != NULL)
		f->claimed = 0;
}

/* File f is gone: the list forgets the files done at its head. */
static void
forget(struct ch_spool *sp, struct ch_spool_file *f)
{
	f->done = 1;
	f->claimed = 0;
	sp->bytes -= f->bytes;
	sp->live--;
	while (sp->head < sp->count && sp->files[sp->head].done)
		sp->head++;
}

void
ch_spool_remove(struct ch_spool *sp, uint64_t seq)
{
	struct ch_spool_file *f = find(sp, seq);
	char path[PATH_MAX];

	if (f == NULL)
		return;
	file_name(sp, f, path, sizeof(path));
	unlink(path);
	forget(sp, f);
}

void
ch_spool_reject(struct ch_spool *sp, uint64_t seq)
{
	struct ch_spool_file *f = find(sp, seq);
	char path[PATH_MAX], dir[PATH_MAX], to[PATH_MAX + 16];

	if (f == NULL)
		return;
	file_name(sp, f, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s/rejected", sp->dir);
	mkdir(dir, 0700);
	snprintf(to, sizeof(to), "%s/%s", dir, strrchr(path, '/') + 1);
	if (rename(path, to) < 0)
		unlink(path);
	forget(sp, f);
}
