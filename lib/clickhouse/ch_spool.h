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
	int claimed;                    /* a writer is inserting it */
	int done;                       /* removed (kept in the list until those before are) */
};

/* Files are taken oldest first; several writers may each hold one (claimed) and finish
 * them in any order. A file is named by its sequence number. */
struct ch_spool {
	char dir[PATH_MAX - 64];
	struct ch_spool_file *files;    /* files[head..count-1], oldest first */
	uint32_t head, count, cap;
	uint32_t live;                  /* files not done */
	uint64_t bytes;                 /* what they take */
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
	return sp->live;
}

/* Writes the records of b that keep(arg, record...) says yes to (keep NULL: all) as a
 * new last file, durably (fsync, then rename into place). -ENOSPC if the spool would
 * grow past limit_bytes (0: no limit) or the disk is full, -EIO: err says why; nothing
 * is left behind then. 0 when no record was kept. */
int ch_spool_write(struct ch_spool *sp, const struct ch_batch *b,
		int (*keep)(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len), void *arg,
		uint64_t limit_bytes, char *err, size_t errlen);

/* The oldest file no writer holds, now held by the caller: its sequence number, or 0
 * if there is none. */
uint64_t ch_spool_claim(struct ch_spool *sp);
/* Whether a file waits that no writer holds. */
int ch_spool_waiting(const struct ch_spool *sp);
/* Reads file seq into b (reset first): its records, templates, id, and
 * shards_uncertain all ones if it is marked uncertain. -EBADMSG/-EIO with err when it
 * cannot be read whole (then ch_spool_reject keeps it aside). */
int ch_spool_read(struct ch_spool *sp, uint64_t seq, struct ch_batch *b, char *err,
		size_t errlen);
/* Marks file seq as maybe inserted (renamed -u), for a later run too. */
int ch_spool_mark_uncertain(struct ch_spool *sp, uint64_t seq);
/* Lets go of file seq: it is to be tried again. */
void ch_spool_release(struct ch_spool *sp, uint64_t seq);
/* Removes file seq: its rows are in ClickHouse. */
void ch_spool_remove(struct ch_spool *sp, uint64_t seq);
/* Moves file seq into dir/rejected/, out of the replay. */
void ch_spool_reject(struct ch_spool *sp, uint64_t seq);

#endif
