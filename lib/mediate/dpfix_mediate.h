/* The IPFIX Mediator (RFC 6183, RFC 7119) as a library: a sink of lib/collect whose
 * records go through a chain of Intermediate Processes (selection, anonymisation,
 * aggregation RFC 7015, biflow correlation RFC 5103) into one Exporting Process
 * (lib/export) per collector. It keeps the template mapping database (each exporter's
 * templates, per session and observation domain, mapped to templates of its own
 * without collisions), adds originalExporterIPv4Address / originalExporterIPv6Address
 * and originalObservationDomainId, forwards options records with their scope mapped,
 * exports its own options records (Flow Keys of the records its processes make,
 * Metering and Exporting Process Reliability Statistics, RFC 6235 anonymisation
 * records), and accounts for every record it does not pass on. doc/mediator.md. */
#ifndef DPFIX_MEDIATE_H
#define DPFIX_MEDIATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dpfix_collect.h"
#include "dpfix_session.h"

#define DPFIX_MEDIATE_MAX_COLLECTORS 8
#define DPFIX_MEDIATE_MAX_PROCESSES 16
#define DPFIX_MEDIATE_SPEC_LEN 320

/* The kinds of Intermediate Process, each one config key (doc/mediator.md). */
#define DPFIX_MEDIATE_PROCESS_KINDS(X) \
	X(SELECT, "select", "keep only the records an expression matches") \
	X(ANONYMISE, "anonymise", "pseudonymise, truncate or blacken elements (RFC 6235)") \
	X(AGGREGATE, "aggregate", "aggregate flows on new flow keys (RFC 7015)") \
	X(CORRELATE, "correlate", "pair uniflows into biflows (RFC 5103)")

enum dpfix_mediate_process_kind {
#define DPFIX_MEDIATE_KIND_ENUM(name, key, text) DPFIX_MEDIATE_##name,
	DPFIX_MEDIATE_PROCESS_KINDS(DPFIX_MEDIATE_KIND_ENUM)
#undef DPFIX_MEDIATE_KIND_ENUM
	DPFIX_MEDIATE_KIND_COUNT
};

/* One process as configured: its kind and its text (the config line's value). */
struct dpfix_mediate_process_spec {
	enum dpfix_mediate_process_kind kind;
	char text[DPFIX_MEDIATE_SPEC_LEN];
};

/* The config key of a kind ("select"), and the kind of a key (-1 if none). */
const char *dpfix_mediate_process_key(enum dpfix_mediate_process_kind kind);
int dpfix_mediate_process_kind_of(const char *key);
/* Parses spec as its process would: 0, or -EINVAL with err saying what is wrong and
 * where in the text (for a config line's own error). */
int dpfix_mediate_process_check(const struct dpfix_mediate_process_spec *spec, char *err,
		size_t errlen);

struct dpfix_mediate_params {
	/* Outgoing observation domains: each record in the domain it came in
	 * (keep_domains), or all in `domain`. */
	int keep_domains;
	uint32_t domain;
	/* Records carry originalExporterIPv4Address or originalExporterIPv6Address and
	 * originalObservationDomainId (RFC 7119 4.2). */
	int original_exporter;
	/* The Exporting Processes' timers (dpfix_export_params). */
	uint64_t template_refresh_ns;
	uint64_t flush_ns;
	uint64_t options_interval_ns;
	/* Records held for each collector while it has no session that takes them (a
	 * reconnection, a TCP session's probation): at most this many bytes; past it,
	 * they are counted lost (backlog_drops). */
	uint64_t backlog_bytes;
	/* Each collector's replay buffer (dpfix_export_params.replay_bytes), used on a
	 * session that agreed on heartbeats (session.heartbeat_interval_ms). */
	uint64_t replay_bytes;
	/* A planned hand-off to a new session this often (dpfix_export_hand_off); 0: never. */
	uint64_t session_lifetime_ns;
	/* Logged as a warning at start-up and every hour (an allowed security downgrade);
	 * empty: none. */
	char hourly_warning[DPFIX_SESSION_ERRLEN];
	/* How the sessions to the collectors are opened. */
	struct dpfix_session_params session;
	struct dpfix_mediate_process_spec processes[DPFIX_MEDIATE_MAX_PROCESSES];
	unsigned int process_count;
};

struct dpfix_mediate;

/* NULL with err saying why (a process spec that does not parse, out of memory). */
struct dpfix_mediate *dpfix_mediate_create(const struct dpfix_mediate_params *p, char *err,
		size_t errlen);
/* Frees an instance whose sink was not given to lib/collect (a setup error). */
void dpfix_mediate_free(struct dpfix_mediate *m);
/* Opens the session to a collector (SCHEME://HOST:PORT) now: 0, or <0 with err. A
 * session that fails later is opened again, in a thread of its own, with a backoff. */
int dpfix_mediate_add_collector(struct dpfix_mediate *m, const char *url, char *err,
		size_t errlen);
/* The sink to add to the lib/collect instance whose records are mediated; that
 * instance frees the Mediator with itself (after dpfix_collect_finish has ended every
 * session, outbound ones included). */
void dpfix_mediate_sink(struct dpfix_mediate *m, struct dpfix_collect_sink *sink);

/* ---- security (seed 003 section 6) ---- */

/* The no-downgrade rule: when any listener is (D)TLS, every collector must be (D)TLS.
 * Returns 0 when the rule holds (a plaintext inbound feeding a (D)TLS outbound is said
 * in *upgrade, an empty string otherwise), else -EPERM with err naming the downgrade.
 * The caller may allow it (allow_security_downgrade) and warns then. */
int dpfix_mediate_check_security(const char *const *listen, unsigned int nb_listen,
		const char *const *collectors, unsigned int nb_collectors, char *err, size_t errlen,
		char *upgrade, size_t upgrade_len);

/* ---- counters ---- */

/* The Mediator's own counters: programs show them all, from this one list. */
#define DPFIX_MEDIATE_COUNTERS(X) \
	X(records_in, "data records received from exporters") \
	X(options_in, "options records received from exporters") \
	X(records_out, "data records handed to the Exporting Processes (per collector, " \
			"once)") \
	X(options_forwarded, "exporters' options records passed on with their scope mapped") \
	X(options_invalidated, "exporters' Flow Keys options records dropped: a process " \
			"changed the keys they describe") \
	X(options_unmapped, "exporters' options records dropped: the template their scope " \
			"names is not passed on") \
	X(records_no_template, "records of a template the Mediator could not map " \
			"(out of template ids or memory): lost") \
	X(records_too_long, "records longer than the Mediator passes on (4096 octets with " \
			"variable-length fields): lost") \
	X(templates_mapped, "exporters' templates mapped to outgoing templates") \
	X(templates_shared, "... of which to an outgoing template another exporter's " \
			"template already had") \
	X(templates_withdrawn, "outgoing templates withdrawn: no exporter used them any more") \
	X(backlog_drops, "records lost: a collector's backlog was full") \
	X(backlog_peak_bytes, "the most bytes one collector's backlog held")

struct dpfix_mediate_stats {
#define DPFIX_MEDIATE_COUNTER_FIELD(name, text) uint64_t name;
	DPFIX_MEDIATE_COUNTERS(DPFIX_MEDIATE_COUNTER_FIELD)
#undef DPFIX_MEDIATE_COUNTER_FIELD
};

void dpfix_mediate_stats(const struct dpfix_mediate *m, struct dpfix_mediate_stats *st);
/* Records the Mediator lost (its own counters and its Exporting Processes'), and
 * sessions whose end a collector did not confirm: nonzero makes the exit status 2. */
uint64_t dpfix_mediate_lost(const struct dpfix_mediate *m);
/* Its part of the summary: its counters, each process's, each collector's. */
void dpfix_mediate_write_summary(const struct dpfix_mediate *m, FILE *out);
/* Every counter as JSON members ("mediator": {...}, "processes": [...], "collectors":
 * [...]), for a --stats-json object. */
void dpfix_mediate_write_json(const struct dpfix_mediate *m, FILE *out);

#endif
