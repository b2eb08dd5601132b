/* A batch: the flow records of one insert, kept as IPFIX (each record's bytes under a
 * copy of its template) with where and when it was received appended to it, so the same
 * batch becomes a Native block for ClickHouse or an RFC 5655 spool file, and a spool file
 * becomes the same batch again. */
#ifndef CH_BATCH_H
#define CH_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

/* Appended to every record as three more fields of its template: exporterIPv6Address
 * (16: an IPv4 exporter as ::ffff:a.b.c.d), observationDomainId (4) and
 * collectionTimeMilliseconds (8). */
#define CH_META_FIELDS 3
#define CH_META_LEN 28
#define CH_BATCH_MAX_TEMPLATES 256
#define CH_BATCH_MAX_SHARDS 64

/* A growing byte buffer. */
struct ch_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Room for more bytes after len; -ENOMEM. */
int ch_buf_reserve(struct ch_buf *b, size_t more);
void ch_buf_free(struct ch_buf *b);

struct ch_meta {
	uint8_t exporter[16];
	uint32_t domain;
	uint64_t collection_time_ms;
};

struct ch_batch {
	uint64_t id;                    /* dpfixBatchId: random, kept through the spool */
	uint32_t rows;
	uint32_t day;                   /* UTC day (UNIX days) of the records' reception */
	uint64_t first_ms, last_ms;     /* the records' reception times, lowest and highest */
	struct ch_buf data;             /* records: struct ch_record_head, then the bytes */
	struct dpfix_ipfix_template *templates[CH_BATCH_MAX_TEMPLATES];
	uint32_t template_count;
	/* The writer's state of it. */
	uint64_t shards_done;           /* bit per shard that has its rows */
	uint64_t shards_uncertain;      /* bit per shard whose insert may or may not have run */
	uint64_t from_spool;            /* read back from this spool file (its sequence); 0: not */
	struct ch_batch *next;          /* queue link */
};

struct ch_record_head {
	uint32_t slot;
	uint32_t len;
};

struct ch_batch *ch_batch_create(void);
/* Empties b for new records (keeps its memory). */
void ch_batch_reset(struct ch_batch *b);
void ch_batch_free(struct ch_batch *b);

/* Copies template t into b: with_meta appends the three fields of struct ch_meta. The
 * slot, or -ENOSPC (CH_BATCH_MAX_TEMPLATES, or no room for the fields), -ENOMEM. */
int ch_batch_add_template(struct ch_batch *b, const struct dpfix_ipfix_template *t, int with_meta);
/* Appends a record of slot's template; meta (NULL when the record carries it already)
 * is appended to it. -ENOMEM. */
int ch_batch_add_record(struct ch_batch *b, uint32_t slot, const uint8_t *rec, uint32_t len,
		const struct ch_meta *meta);

/* The record at *offset: 1 with its slot, bytes and length, offset moved past it; 0 at
 * the end. */
int ch_batch_next(const struct ch_batch *b, size_t *offset, uint32_t *slot, const uint8_t **rec,
		uint32_t *len);

/* The memory b holds. */
size_t ch_batch_bytes(const struct ch_batch *b);

#endif
