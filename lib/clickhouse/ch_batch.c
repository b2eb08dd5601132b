/* Batches of flow records (ch_batch.h): bytes copied as they came, so building one costs
 * the collector's thread a copy per record; the encoding happens on the writer's. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ch_batch.h"
#include "dpfix_ipfix_bytes.h"

struct ch_batch *
ch_batch_create(void)
{
	return calloc(1, sizeof(struct ch_batch));
}

void
ch_batch_reset(struct ch_batch *b)
{
	b->id = 0;
	b->rows = 0;
	b->day = 0;
	b->first_ms = 0;
	b->last_ms = 0;
	b->data.len = 0;
	b->template_count = 0;
	b->shards_done = 0;
	b->shards_uncertain = 0;
	b->from_spool = 0;
	b->next = NULL;
}

void
ch_batch_free(struct ch_batch *b)
{
	if (b == NULL)
		return;
	for (uint32_t i = 0; i < CH_BATCH_MAX_TEMPLATES; i++)
		free(b->templates[i]);
	ch_buf_free(&b->data);
	free(b);
}

int
ch_batch_add_template(struct ch_batch *b, const struct dpfix_ipfix_template *t, int with_meta)
{
	struct dpfix_ipfix_template *copy;
	uint32_t slot = b->template_count;

	if (slot == CH_BATCH_MAX_TEMPLATES ||
			(with_meta && t->field_count + CH_META_FIELDS > DPFIX_IPFIX_MAX_FIELDS))
		return -ENOSPC;
	if (b->templates[slot] == NULL) {
		b->templates[slot] = malloc(sizeof(*copy));
		if (b->templates[slot] == NULL)
			return -ENOMEM;
	}
	copy = b->templates[slot];
	/* Only the fields in use are copied: a template struct has room for 512. */
	memcpy(copy, t, offsetof(struct dpfix_ipfix_template, fields) +
			t->field_count * sizeof(t->fields[0]));
	/* A spool file's template ids are the slots (256 + slot): one domain per file. */
	copy->id = (uint16_t)(DPFIX_IPFIX_SET_MIN_DATA + slot);
	if (with_meta) {
		dpfix_ipfix_template_add(copy, 0, IE_exporterIPv6Address, 16);
		dpfix_ipfix_template_add(copy, 0, IE_observationDomainId, 4);
		dpfix_ipfix_template_add(copy, 0, IE_collectionTimeMilliseconds, 8);
	}
	b->template_count++;
	return (int)slot;
}

int
ch_buf_reserve(struct ch_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 1u << 16;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void
ch_buf_free(struct ch_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
ch_batch_add_record(struct ch_batch *b, uint32_t slot, const uint8_t *rec, uint32_t len,
		const struct ch_meta *meta)
{
	struct ch_record_head h = {.slot = slot, .len = len + (meta ? CH_META_LEN : 0)};
	uint8_t *p;

	if (ch_buf_reserve(&b->data, sizeof(h) + h.len) < 0)
		return -ENOMEM;
	p = b->data.p + b->data.len;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, rec, len);
	if (meta != NULL) {
		p += len;
		memcpy(p, meta->exporter, 16);
		dpfix_put32(p + 16, meta->domain);
		dpfix_put_be(p + 20, meta->collection_time_ms, 8);
	}
	b->data.len += sizeof(h) + h.len;
	b->rows++;
	return 0;
}

int
ch_batch_next(const struct ch_batch *b, size_t *offset, uint32_t *slot, const uint8_t **rec,
		uint32_t *len)
{
	struct ch_record_head h;

	if (*offset >= b->data.len)
		return 0;
	memcpy(&h, b->data.p + *offset, sizeof(h));
	*slot = h.slot;
	*rec = b->data.p + *offset + sizeof(h);
	*len = h.len;
	*offset += sizeof(h) + h.len;
	return 1;
}

size_t
ch_batch_bytes(const struct ch_batch *b)
{
	return sizeof(*b) + b->data.cap + b->template_count * sizeof(struct dpfix_ipfix_template);
}
