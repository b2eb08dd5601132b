/* lib/mediate's inside, shared by its files: the instance, the record kinds it knows
 * (layouts), where records come from (origins), the outgoing domains and templates, the
 * collectors, and the Intermediate Processes' contract. Internal. */
#ifndef MEDIATE_PRIVATE_H
#define MEDIATE_PRIVATE_H

#include <pthread.h>
#include <stdint.h>

#include "dpfix_export.h"
#include "dpfix_mediate.h"
#include "dpfix_peer_watch.h"

/* Records of variable length are passed on up to this long: lib/export encodes one that
 * may be shorter than its longest on its stack (DPFIX_IPFIX_ENCODE_APART_MAX). */
#define MED_VARLEN_RECORD_MAX (DPFIX_IPFIX_ENCODE_APART_MAX - 20)
/* Outgoing template ids the Mediator keeps in every domain for its own options records. */
#define MED_TID_METERING_RELIABILITY 256
#define MED_TID_EXPORTING_RELIABILITY 257
#define MED_TID_FLOW_KEYS 258
#define MED_TID_ANONYMISATION 259
#define MED_TID_FIRST_MAPPED 264
/* An outgoing template no record uses any more is withdrawn this long after its last
 * use: a withdrawal over SCTP (stream 0) must not overtake the data that used it. */
#define MED_WITHDRAW_DELAY_NS 2000000000ull

struct med_out_template;

/* Where records come from: one exporter's transport session. */
struct med_origin {
	uint32_t refs;
	int family;                 /* AF_INET, AF_INET6; 0: the address is not known */
	uint8_t addr[16];
	uint64_t session_id;
	char peer[64];
	char identity[256];
};

/* A layout's outgoing template for records of one origin family in one outgoing
 * domain. */
struct med_mapping {
	struct med_mapping *next;
	int family;
	uint32_t domain;            /* the outgoing domain */
	struct med_out_template *out;
};

/* A kind of record the Mediator handles: an exporter's template (per session and
 * observation domain), or one a process makes (aggregation, biflows). */
struct med_layout {
	uint32_t refs;
	uint32_t fixed_length;      /* every record's length; 0: they vary */
	uint32_t *offsets;          /* fixed_length: where each field starts */
	uint16_t *lengths;          /* each field's length, DPFIX_IPFIX_VARLEN for varying */
	int32_t packets_field;      /* packetDeltaCount's index, -1 if none */
	int32_t octets_field;       /* octetDeltaCount's */
	/* Flow keys (bit i: field i), as its exporter's Flow Keys options record said or
	 * as the process that makes it knows; 0: not known. */
	uint64_t flow_key_indicator;
	int own;                    /* made by a process: the Mediator says its flow keys */
	struct med_mapping *mappings;
	struct med_mapping *last_mapping; /* the one the last record used */
	void *proc[DPFIX_MEDIATE_MAX_PROCESSES]; /* each process's view of it */
	struct dpfix_ipfix_template t;
};

/* A record on its way through the processes. */
struct med_record {
	struct med_layout *layout;
	const uint8_t *data;
	uint32_t len;
	const uint32_t *offsets;    /* where each field starts in data */
	const uint16_t *lengths;    /* and how long it is */
	struct med_origin *origin;  /* NULL: the Mediator's own (aggregated across exporters) */
	uint32_t domain;            /* the observation domain it came in */
};

/* ---- Intermediate Processes ---- */

struct med_process;

struct med_process_ops {
	/* Reads its config text: 0, or -EINVAL with err. */
	int (*create)(struct med_process *p, const char *text, char *err, size_t errlen);
	/* One record: passed on (med_emit) or not, now or later. */
	void (*record)(struct med_process *p, const struct med_record *r);
	/* Timers (every loop round). */
	void (*tick)(struct med_process *p, uint64_t now_ns);
	/* The end: everything held is passed on. */
	void (*flush)(struct med_process *p, uint64_t now_ns);
	/* A layout is freed: the process frees its view (l->proc[p->stage]). NULL: the view
	 * is one allocation, which med_layout_put frees. */
	void (*layout_gone)(struct med_process *p, struct med_layout *l);
	/* Anonymisation: what it does to element (pen, id), RFC 6235 (0: nothing). */
	int (*technique)(const struct med_process *p, uint32_t pen, uint16_t id,
			uint16_t *flags, uint16_t *technique);
	void (*counters)(const struct med_process *p,
			void (*fn)(void *arg, const char *name, uint64_t value), void *arg);
	void (*free)(struct med_process *p);
	/* Its records have other flow keys than those it takes (aggregation, biflows):
	 * exporters' Flow Keys options records do not hold past it. */
	int changes_keys;
	/* Options records go through it too (anonymisation); else they pass it by. */
	int takes_options;
};

struct med_process {
	const struct med_process_ops *ops;
	struct dpfix_mediate *m;
	unsigned int stage;         /* its place in the chain */
	enum dpfix_mediate_process_kind kind;
	uint64_t records_in;
	uint64_t records_out;
	void *state;
};

extern const struct med_process_ops med_select_ops;
extern const struct med_process_ops med_anonymise_ops;
extern const struct med_process_ops med_aggregate_ops;
extern const struct med_process_ops med_correlate_ops;

/* Passes r to the stage after p (or the output). */
void med_emit(struct med_process *p, const struct med_record *r);

/* ---- outgoing domains and templates (mediate_output.c) ---- */

struct med_out_domain {
	struct med_out_domain *next;
	uint32_t id;
	struct dpfix_export_domain *xd[DPFIX_MEDIATE_MAX_COLLECTORS];
	uint16_t next_id;           /* ids are given round, so one is reused late */
	uint32_t template_count;
	struct med_out_template *buckets[256]; /* by content */
	uint8_t used_ids[8192];     /* a bit per template id */
};

/* Anonymisation done to a field of an outgoing template (RFC 6235). */
struct med_anon_note {
	uint16_t field;
	uint16_t ie;
	uint32_t pen;
	uint16_t flags;
	uint16_t technique;
};

struct med_out_template {
	struct med_out_template *next;  /* in its domain's bucket */
	struct med_out_domain *d;
	uint32_t refs;              /* mappings and backlog entries */
	uint16_t id;
	int family;                 /* origin fields appended: AF_INET, AF_INET6, 0 none */
	uint32_t hash;
	uint64_t unused_since_ns;   /* refs fell to 0: withdrawn after MED_WITHDRAW_DELAY_NS */
	uint64_t flow_key_indicator; /* the Mediator's own Flow Keys options record; 0 none */
	int withdrawn[DPFIX_MEDIATE_MAX_COLLECTORS];
	struct med_anon_note *notes;
	uint16_t note_count;
	struct dpfix_ipfix_schema schema;
	struct dpfix_ipfix_field_spec *fields;
	uint16_t field_count;
};

/* What an outgoing template's encoder reads (the schema's one group). */
struct med_encode_src {
	const uint8_t *data;
	uint32_t len;
	const uint8_t *origin_addr; /* 4 or 16 octets, as the template's family */
	uint32_t origin_domain;
};

/* The outgoing domain of id, made (in every collector's Exporting Process) if new.
 * NULL: no room or memory, said once. */
struct med_out_domain *med_out_domain(struct dpfix_mediate *m, uint32_t id);
/* r's outgoing template, found or made: NULL if none can be (counted by the caller). */
struct med_out_template *med_out_template_of(struct dpfix_mediate *m, const struct med_record *r);
/* Every mapping of l is let go. */
void med_layout_unmap(struct dpfix_mediate *m, struct med_layout *l);
void med_out_template_put(struct dpfix_mediate *m, struct med_out_template *t, uint64_t now_ns);
/* Withdraws templates unused for MED_WITHDRAW_DELAY_NS. */
void med_out_withdraw_unused(struct dpfix_mediate *m, uint64_t now_ns);
void med_out_free(struct dpfix_mediate *m);
/* The record r as it goes out: to every collector (an options record through
 * med_options_forward first). */
void med_output(struct dpfix_mediate *m, const struct med_record *r);
/* r to every collector in its outgoing template, as it is. */
void med_output_mapped(struct dpfix_mediate *m, const struct med_record *r);

/* ---- collectors (mediate_collector.c) ---- */

struct med_backlog {
	uint8_t *buf;
	uint64_t cap, head, used;   /* a ring of entries */
	uint64_t entries;
};

struct med_collector {
	struct dpfix_mediate *m;
	unsigned int index;
	char url[DPFIX_MEDIATE_SPEC_LEN];
	struct dpfix_endpoint ep;
	struct dpfix_export *x;
	char name[DPFIX_SESSION_ERRLEN];    /* its last session's */
	struct med_backlog backlog;
	/* Reconnection: a thread opens the next session (a handshake blocks), another
	 * closes the one replaced. */
	pthread_mutex_t lock;
	pthread_t opener, closer;
	int opener_running, opener_done, closer_running;
	struct dpfix_session *opened;
	char open_err[DPFIX_SESSION_ERRLEN];
	uint64_t backoff_ms;
	uint64_t next_attempt_ns;
	unsigned int failures_in_row;
	uint64_t connect_failures;
	uint64_t backlog_replayed;
	uint64_t backlog_drops;
	int down_said;
	/* Heartbeats on a session that agreed (doc/heartbeats.md): the watch decides, the
	 * Exporting Process sends and hears; ids go on across sessions. */
	struct dpfix_peer_watch watch;
	int watching;
	uint32_t last_heartbeat_id;
	int found_dead;                     /* the session in use failed as dead: abort it */
	uint64_t collectors_dead;
	/* Planned hand-offs (session_lifetime): the opener's session is for one. */
	uint64_t session_since_ns;
	int opening_for_hand_off, handing_off;
	uint64_t hand_offs;
};

int med_collector_open(struct med_collector *c, const char *url, char *err, size_t errlen);
/* One record for c: into its Exporting Process, or its backlog. */
void med_collector_record(struct med_collector *c, struct med_out_template *t,
		const struct med_encode_src *src, uint64_t packets, uint64_t octets, uint64_t now_ns);
/* Timers, reconnection, backlog replay. */
void med_collector_poll(struct med_collector *c, uint64_t now_ns);
/* The end: the backlog and messages sent, the session ended in order (what cannot go
 * within a few seconds is counted lost). */
void med_collector_end(struct med_collector *c, uint64_t now_ns);
void med_collector_free(struct med_collector *c);

/* ---- options records (mediate_options.c) ---- */

/* lib/export's write_options for collector c: the Mediator's own options records. */
void med_options_write(struct dpfix_export *x, void *ctx, uint64_t now_ns);
/* An exporter's options record at the output: its scope mapped (templateId to the
 * outgoing template's, observationDomainId to the outgoing domain), or dropped. */
void med_options_forward(struct dpfix_mediate *m, const struct med_record *r);
/* Learns an exporter's Flow Keys options record (templateId -> flowKeyIndicator). */
void med_options_learn(struct dpfix_mediate *m, const struct med_record *r);
/* Adds the Mediator's options schemas to domain d of collector c. */
int med_options_add_schemas(struct dpfix_mediate *m, struct dpfix_export_domain *xd);

/* ---- the instance ---- */

struct med_input;

/* Exporters by the identity they authenticated with ((D)TLS: PSK identity or the
 * certificate's name), the Mediator's own session details: the summary and stats_json
 * name each. At most MED_MAX_IDENTITIES; sessions beyond count in identities_untracked. */
#define MED_MAX_IDENTITIES 64
struct med_identity {
	char identity[256];
	uint64_t sessions, records_in, options_in;
};

struct dpfix_mediate {
	struct dpfix_mediate_params params;
	struct dpfix_mediate_stats stats;
	struct med_identity identities[MED_MAX_IDENTITIES];
	unsigned int nb_identities;
	uint64_t identities_untracked;
	struct med_process procs[DPFIX_MEDIATE_MAX_PROCESSES];
	unsigned int nb_procs;
	int keys_changed;           /* a process changes flow keys */
	struct med_collector *collectors[DPFIX_MEDIATE_MAX_COLLECTORS];
	unsigned int nb_collectors;
	struct med_out_domain *domains;
	unsigned int nb_domains;
	int domains_full_said;
	struct med_input *input;    /* exporters' templates and sessions (mediate_input.c) */
	uint64_t now_ns;
	uint64_t withdraw_checked_ns;
	uint64_t next_warning_ns;       /* params.hourly_warning */
	/* Records lost by the Mediator itself, for its Metering Process Reliability
	 * Statistics (RFC 7011 4.2). */
	uint64_t lost_packets, lost_octets;
	uint64_t first_lost_ms, last_lost_ms;
	/* Scratch for one record's copy and its varying fields' layout. */
	uint8_t *scratch;
	uint32_t field_offsets[DPFIX_IPFIX_MAX_FIELDS];
	uint16_t field_lengths[DPFIX_IPFIX_MAX_FIELDS];
	struct dpfix_ipfix_schema options_schemas[4];
};

/* The monotonic clock (coarse: read per record), in ns. */
uint64_t med_now_ns(void);
/* A record lost inside the Mediator (counted by the caller by reason). */
void med_count_lost(struct dpfix_mediate *m, const struct med_record *r);
/* Hands r to stage `stage` of the chain (the output after the last). */
void med_forward(struct dpfix_mediate *m, unsigned int stage, const struct med_record *r);

/* ---- layouts (mediate_layout.c) ---- */

/* A layout for template t (copied): refs 1. NULL: out of memory. */
struct med_layout *med_layout_new(const struct dpfix_ipfix_template *t);
void med_layout_get(struct med_layout *l);
void med_layout_put(struct dpfix_mediate *m, struct med_layout *l);
/* The index of the first field of element (pen, id) in l, or -1. */
int med_layout_find(const struct med_layout *l, uint32_t pen, uint16_t id);
/* An unsigned field's value (0 if the field is -1). */
uint64_t med_record_unsigned(const struct med_record *r, int field);
void med_origin_put(struct med_origin *o);

/* ---- exporters' sessions and templates (mediate_input.c) ---- */

int med_input_create(struct dpfix_mediate *m);
void med_input_free(struct dpfix_mediate *m);
extern const struct dpfix_collect_sink_ops med_sink_ops;
/* The layout of an exporter's template (session, domain, id), or NULL. */
struct med_layout *med_input_layout(struct dpfix_mediate *m, uint64_t session_id,
		uint32_t domain, uint16_t template_id);

#endif
