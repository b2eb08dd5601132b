/* The collecting side's decoder state, shared by the message decoder (ipfix_reader.c)
 * and the template store (ipfix_templates.c). Internal to lib/ipfix. */
#ifndef IPFIX_DECODER_H
#define IPFIX_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

#define MAX_TEMPLATES 4096      /* per session: bounds what one exporter can make us hold */
#define TEMPLATE_BUCKETS 256    /* power of two */
#define MAX_GAPS 16             /* sequence gaps remembered per domain, for late messages */

/* A template as stored: its definition takes the room its fields need (8 bytes a field
 * and this header), not a 512-field slot. */
struct stored_template {
	struct stored_template *next;   /* bucket chain */
	uint32_t domain;
	uint32_t bytes;                 /* this allocation, as counted in the budget */
	uint64_t refreshed_s;           /* decoder clock when last (re)defined */
	/* A field's length is one its element's type forbids: the definition is kept so
	 * that its resends, redefinition and withdrawal follow the rules of any template,
	 * but its data sets are skipped (sets_refused_template) and nobody is told of it. */
	int refused;
	uint16_t id;
	uint16_t field_count;
	uint16_t scope_count;
	uint16_t min_record_length;
	uint16_t varlen_count;
	struct dpfix_ipfix_field_spec fields[];
};

struct sequence_gap {
	uint32_t start;
	uint32_t len;
};

struct domain_state {
	uint32_t domain;
	uint32_t expected;              /* sequence number of the next message */
	uint32_t first;                 /* of the first message seen */
	uint32_t late_in_a_row;
	uint32_t gap_count;
	struct sequence_gap gaps[MAX_GAPS]; /* oldest first */
};

struct dpfix_ipfix_decoder {
	struct dpfix_ipfix_decoder_params params;
	struct stored_template *buckets[TEMPLATE_BUCKETS];
	uint32_t template_count;
	uint64_t template_bytes;        /* held by stored templates */
	uint64_t now_s;                 /* decoder clock: set_time, else export time */
	int clock_set;
	uint64_t last_sweep_s;
	struct domain_state *domains;   /* grown as domains appear, up to MAX_DOMAINS */
	uint32_t domain_count;
	uint32_t domain_room;
	uint32_t last_domain;           /* index of the domain of the previous message */
	int warned;                     /* a protocol violation is already in err */
	struct dpfix_ipfix_decode_stats stats;
	/* One full-size template (4 KB, off the stack): the record being read from a
	 * template set, then the stored template of the data set being decoded (view_of)
	 * spelled out for the record callbacks. */
	struct dpfix_ipfix_template scratch;
	const struct stored_template *view_of;
	dpfix_ipfix_template_cb template_cb;
	void *template_ctx;
};

/* A protocol violation that does not stop decoding (RFC 7011 8: "SHOULD log"): the
 * first one of a message goes to err. */
void decoder_warn(struct dpfix_ipfix_decoder *d, char *err, size_t errlen, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

/* ---- the template store (ipfix_templates.c) ---- */

/* The live template for a data set (expired ones are dropped here), or NULL. */
const struct stored_template *templates_lookup(struct dpfix_ipfix_decoder *d, uint32_t domain,
		uint16_t id);
/* s spelled out as a full template in d->scratch (kept while the same one is asked). */
const struct dpfix_ipfix_template *templates_view(struct dpfix_ipfix_decoder *d,
		const struct stored_template *s);
/* Stores t, just read, by the rules of the session's transport (RFC 7011 8, 8.4), or
 * refuses it: a field length its elements' types forbid (kept, marked), the session's
 * count limit (-ENOSPC), the shared template memory used up (-EDQUOT: not stored,
 * counted and said), no memory (-ENOMEM). */
int templates_store(struct dpfix_ipfix_decoder *d, uint32_t domain,
		const struct dpfix_ipfix_template *t, uint32_t rec_off, char *err, size_t errlen);
/* Template Withdrawal (RFC 7011 8.1) of id in a set of set_id. */
void templates_withdraw(struct dpfix_ipfix_decoder *d, uint32_t domain, uint16_t set_id,
		uint16_t id, uint32_t rec_off, char *err, size_t errlen);
/* UDP: drops every template past its lifetime (once per second of the clock). */
void templates_sweep(struct dpfix_ipfix_decoder *d);
void templates_free_all(struct dpfix_ipfix_decoder *d);

#endif
