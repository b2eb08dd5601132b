/* The spool: batches ClickHouse could not take yet, one RFC 5655 file per batch in a
 * directory, named by their order and batch id (SEQUENCE-ID.ipfix, SEQUENCE-ID-u.ipfix
 * when an insert of it may have run), replayed oldest first. Each file holds the batch's
 * templates and records with the exporter, domain and reception time as fields, so any
 * IPFIX reader (dpfix-dump, ipfixDump) reads it too. */
#ifndef CH_SPOOL_H
#define CH_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ch_batch.h"

struct ch_spool_file {
	uint64_t seq;
	uint64_t id;
	uint64_t bytes;
	int uncertain;                  /* an insert of it may have run */
	int marked;                     /* named so (-u), for a later run */
};

struct ch_spool {
	char dir[PATH_MAX - 64];
	struct ch_spool_file *files;    /* files[head..count-1], oldest first */
	uint32_t head, count, cap;
	uint64_t bytes;                 /* what the files take */
	uint64_t next_seq;
};

/* Opens (creates) dir and lists the files an earlier run left, oldest first; leftovers of
 * an interrupted write are removed. The first file is taken as uncertain: a run that
 * stopped between its insert and its removal leaves it. 0, or <0 with err. */
int ch_spool_open(struct ch_spool *sp, const char *dir, char *err, size_t errlen);
void ch_spool_close(struct ch_spool *sp);

static inline uint32_t
ch_spool_files(const struct ch_spool *sp)
{
	return sp->count - sp->head;
}

/* Writes the records of b that keep(arg, record...) says yes to (keep NULL: all) as a
 * new last file, durably (fsync, then rename into place). -ENOSPC if the spool would
 * grow past limit_bytes (0: no limit) or the disk is full, -EIO: err says why; nothing
 * is left behind then. 0 when no record was kept. */
int ch_spool_write(struct ch_spool *sp, const struct ch_batch *b,
		int (*keep)(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len), void *arg,
		uint64_t limit_bytes, char *err, size_t errlen);

/* Reads the first file into b (reset first): its records, templates, id, and
 * shards_uncertain all ones if it is marked uncertain. -EBADMSG/-EIO with err when it
 * cannot be read whole (ch_spool_reject_first then keeps it aside). */
int ch_spool_read_first(struct ch_spool *sp, struct ch_batch *b, char *err, size_t errlen);
/* Marks the first file as maybe inserted (renamed -u), for a later run too. */
int ch_spool_mark_first_uncertain(struct ch_spool *sp);
/* Removes the first file: its rows are in ClickHouse. */
void ch_spool_remove_first(struct ch_spool *sp);
/* Moves the first file into dir/rejected/, out of the replay. */
void ch_spool_reject_first(struct ch_spool *sp);

#endif
