/* The Mediator's instance (dpfix_mediate.h): the chain of Intermediate Processes, the
 * loop's rounds and the end as lib/collect's sink, the security rules of seed 003
 * section 6, and the counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpfix_log.h"
#include "mediate_private.h"

/* Timers are looked at this often (lib/collect calls tick every round). */
#define TICK_NS 1000000ull
#define WITHDRAW_CHECK_NS 100000000ull
#define HOURLY_WARNING_NS (3600ull * 1000000000ull)

static const char *const kind_keys[] = {
#define KIND_KEY(name, key, text) key,
	DPFIX_MEDIATE_PROCESS_KINDS(KIND_KEY)
#undef KIND_KEY
};

static const struct med_process_ops *const kind_ops[] = {
	[DPFIX_MEDIATE_SELECT] = &med_select_ops,
	[DPFIX_MEDIATE_ANONYMISE] = &med_anonymise_ops,
	[DPFIX_MEDIATE_AGGREGATE] = &med_aggregate_ops,
	[DPFIX_MEDIATE_CORRELATE] = &med_correlate_ops,
};

const char *
dpfix_mediate_process_key(enum dpfix_mediate_process_kind kind)
{
	return kind < DPFIX_MEDIATE_KIND_COUNT ? kind_keys[kind] : "?";
}

int
dpfix_mediate_process_kind_of(const char *key)
{
	for (int k = 0; k < DPFIX_MEDIATE_KIND_COUNT; k++)
		if (strcmp(key, kind_keys[k]) == 0)
			return k;
	return -1;
}

int
dpfix_mediate_process_check(const struct dpfix_mediate_process_spec *spec, char *err,
		size_t errlen)
{
	struct dpfix_mediate m;
	struct med_process p = {.ops = kind_ops[spec->kind], .m = &m, .kind = spec->kind};
	int ret;

	memset(&m, 0, sizeof(m));
	ret = p.ops->create(&p, spec->text, err, errlen);
	if (ret == 0)
		p.ops->free(&p);
	return ret;
}

uint64_t
med_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
med_count_lost(struct dpfix_mediate *m, const struct med_record *r)
{
	uint64_t now_ms = dpfix_collect_wall_clock_ms();

	if (r->layout != NULL && r->layout->t.scope_count == 0) {
		m->lost_packets += med_record_unsigned(r, r->layout->packets_field);
		m->lost_octets += med_record_unsigned(r, r->layout->octets_field);
	}
	if (m->first_lost_ms == 0)
		m->first_lost_ms = now_ms;
	m->last_lost_ms = now_ms;
}

void
med_forward(struct dpfix_mediate *m, unsigned int stage, const struct med_record *r)
{
	/* Options records pass by the processes that do not take them. */
	while (stage < m->nb_procs && r->layout->t.scope_count != 0 &&
			!m->procs[stage].ops->takes_options)
		stage++;
	if (stage >= m->nb_procs) {
		med_output(m, r);
		return;
	}
	m->procs[stage].records_in++;
	m->procs[stage].ops->record(&m->procs[stage], r);
}

void
med_emit(struct med_process *p, const struct med_record *r)
{
	p->records_out++;
	med_forward(p->m, p->stage + 1, r);
}

struct dpfix_mediate *
dpfix_mediate_create(const struct dpfix_mediate_params *p, char *err, size_t errlen)
{
	struct dpfix_mediate *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->scratch = malloc(UINT16_MAX + 1)) == NULL ||
			med_input_create(m) < 0) {
		snprintf(err, errlen, "out of memory");
		dpfix_mediate_free(m);
		return NULL;
	}
	m->params = *p;
	m->now_ns = med_now_ns();
	for (unsigned int i = 0; i < p->process_count; i++) {
		const struct dpfix_mediate_process_spec *spec = &p->processes[i];
		struct med_process *proc = &m->procs[i];
		char why[DPFIX_SESSION_ERRLEN];

		*proc = (struct med_process){.ops = kind_ops[spec->kind], .m = m, .stage = i,
			.kind = spec->kind};
		if (proc->ops->create(proc, spec->text, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s = %s: %s", kind_keys[spec->kind], spec->text, why);
			dpfix_mediate_free(m);
			return NULL;
		}
		m->nb_procs++;
		m->keys_changed |= proc->ops->changes_keys;
	}
	return m;
}

int
dpfix_mediate_add_collector(struct dpfix_mediate *m, const char *url, char *err, size_t errlen)
{
	struct med_collector *c;
	int ret;

	if (m->nb_collectors == DPFIX_MEDIATE_MAX_COLLECTORS) {
		snprintf(err, errlen, "more than %d collectors", DPFIX_MEDIATE_MAX_COLLECTORS);
		return -ENOSPC;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->m = m;
	c->index = m->nb_collectors;
	c->backlog.cap = m->params.backlog_bytes;
	ret = med_collector_open(c, url, err, errlen);
	if (ret < 0) {
		med_collector_free(c);
		return ret;
	}
	m->collectors[m->nb_collectors++] = c;
	return 0;
}

void
dpfix_mediate_sink(struct dpfix_mediate *m, struct dpfix_collect_sink *sink)
{
	*sink = (struct dpfix_collect_sink){.ops = &med_sink_ops, .ctx = m};
}

/* ---- the loop's rounds and the end (lib/collect's sink ops) ---- */

static void
poll_all(struct dpfix_mediate *m, uint64_t now_ns)
{
	m->now_ns = now_ns;
	for (unsigned int i = 0; i < m->nb_procs; i++)
		if (m->procs[i].ops->tick != NULL)
			m->procs[i].ops->tick(&m->procs[i], now_ns);
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		med_collector_poll(m->collectors[i], now_ns);
	if (m->params.hourly_warning[0] != '\0' && now_ns >= m->next_warning_ns) {
		dpfix_log(DPFIX_LOG_WARNING, "%s", m->params.hourly_warning);
		m->next_warning_ns = now_ns + HOURLY_WARNING_NS;
	}
	if (now_ns - m->withdraw_checked_ns >= WITHDRAW_CHECK_NS) {
		m->withdraw_checked_ns = now_ns;
		med_out_withdraw_unused(m, now_ns);
	}
}

void
med_sink_tick(void *ctx, uint64_t now_ms)
{
	struct dpfix_mediate *m = ctx;
	uint64_t now_ns = med_now_ns();

	(void)now_ms;
	if (now_ns - m->now_ns < TICK_NS && now_ns >= m->now_ns)
		return;
	poll_all(m, now_ns);
}

void
med_sink_idle(void *ctx)
{
	poll_all(ctx, med_now_ns());
}

/* After the exporters' sessions ended: what the processes hold goes out (each in
 * chain order, so what one flushes passes through those after it), then each
 * collector's records and the orderly end of its session. */
void
med_sink_finish(void *ctx)
{
	struct dpfix_mediate *m = ctx;

	m->now_ns = med_now_ns();
	for (unsigned int i = 0; i < m->nb_procs; i++)
		if (m->procs[i].ops->flush != NULL)
			m->procs[i].ops->flush(&m->procs[i], m->now_ns);
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		med_collector_end(m->collectors[i], med_now_ns());
}

void
med_sink_counters(void *ctx, void (*fn)(void *arg, const char *name, uint64_t value), void *arg)
{
	struct dpfix_mediate_stats st;

	dpfix_mediate_stats(ctx, &st);
#define SHOW(name, text) fn(arg, #name, st.name);
	DPFIX_MEDIATE_COUNTERS(SHOW)
#undef SHOW
}

uint64_t
med_sink_lost(void *ctx)
{
	return dpfix_mediate_lost(ctx);
}

void
dpfix_mediate_free(struct dpfix_mediate *m)
{
	if (m == NULL)
		return;
	for (unsigned int i = 0; i < m->nb_procs; i++)
		m->procs[i].ops->free(&m->procs[i]);
	for (unsigned int i = 0; i < m->nb_collectors; i++)
		med_collector_free(m->collectors[i]);
	m->nb_collectors = 0;
	med_input_free(m);
	m->nb_procs = 0;
	med_out_free(m);
	free(m->scratch);
	free(m);
}

void
med_sink_free(void *ctx)
{
	dpfix_mediate_free(ctx);
}

/* ---- security (seed 003 section 6) ---- */

static int
endpoint_secure(const char *url, int *secure)
{
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN];

	if (dpfix_endpoint_parse(url, &ep, err, sizeof(err)) < 0)
		return -EINVAL;
	*secure = ep.security != DPFIX_SECURITY_NONE;
	return 0;
}

int
dpfix_mediate_check_security(const char *const *listen, unsigned int nb_listen,
		const char *const *collectors, unsigned int nb_collectors, char *err, size_t errlen,
		char *upgrade, size_t upgrade_len)
{
	const char *secure_in = NULL, *plain_in = NULL, *secure_out = NULL, *plain_out = NULL;

	for (unsigned int i = 0; i < nb_listen; i++) {
		int secure;

		if (endpoint_secure(listen[i], &secure) == 0)
			*(secure ? &secure_in : &plain_in) = listen[i];
	}
	for (unsigned int i = 0; i < nb_collectors; i++) {
		int secure;

		if (endpoint_secure(collectors[i], &secure) == 0 && !secure && plain_out == NULL)
			plain_out = collectors[i];
		else if (secure && secure_out == NULL)
			secure_out = collectors[i];
	}
	upgrade[0] = '\0';
	if (plain_in != NULL && secure_out != NULL)
		snprintf(upgrade, upgrade_len, "records received in plaintext (%s) are exported "
				"protected (%s): the collector cannot tell them from records whose exporter "
				"was authenticated (seed 003, 6.2)", plain_in, secure_out);
	if (secure_in != NULL && plain_out != NULL) {
		snprintf(err, errlen, "security downgrade: records received over (D)TLS (%s) would "
				"be exported in plaintext to %s (seed 003, 6.1); export over (D)TLS, or set "
				"allow_security_downgrade = yes", secure_in, plain_out);
		return -EPERM;
	}
	return 0;
}

/* ---- counters ---- */

void
dpfix_mediate_stats(const struct dpfix_mediate *m, struct dpfix_mediate_stats *st)
{
	*st = m->stats;
}

uint64_t
dpfix_mediate_lost(const struct dpfix_mediate *m)
{
	uint64_t lost = m->stats.records_no_template + m->stats.records_too_long +
			m->stats.backlog_drops;

	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		const struct dpfix_export_stats *xs = dpfix_export_stats(m->collectors[i]->x);

		lost += xs->records_lost + xs->sessions_unconfirmed;
	}
	return lost;
}

/* A collector's counters, for the summary and stats_json alike: its Exporting Process's
 * and what the Mediator counts for it. */
static void
collector_counters(const struct med_collector *c, void (*fn)(void *arg, const char *name,
		uint64_t value), void *arg)
{
	const struct dpfix_export_stats *xs = dpfix_export_stats(c->x);

#define SHOW(n, text) fn(arg, #n, xs->n);
	DPFIX_EXPORT_COUNTERS(SHOW)
#undef SHOW
	fn(arg, "connect_failures", c->connect_failures);
	fn(arg, "backlog_replayed", c->backlog_replayed);
	fn(arg, "backlog_drops", c->backlog_drops);
	fn(arg, "collectors_dead", c->collectors_dead);
	fn(arg, "hand_offs", c->hand_offs);
}

static void
print_counter(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "  %-28s %" PRIu64 "\n", name, value);
}

void
dpfix_mediate_write_summary(const struct dpfix_mediate *m, FILE *out)
{
	char name[64];

	for (unsigned int i = 0; i < m->nb_procs; i++) {
		const struct med_process *p = &m->procs[i];

		fprintf(out, "process %u: %s\n", i + 1, kind_keys[p->kind]);
		snprintf(name, sizeof(name), "process_%u_records_in", i + 1);
		print_counter(out, name, p->records_in);
		snprintf(name, sizeof(name), "process_%u_records_out", i + 1);
		print_counter(out, name, p->records_out);
		if (p->ops->counters != NULL)
			p->ops->counters(p, print_counter, out);
	}
	for (unsigned int i = 0; i < m->nb_identities; i++) {
		const struct med_identity *who = &m->identities[i];

		fprintf(out, "exporter identity: %s\n", who->identity);
		print_counter(out, "identity_sessions", who->sessions);
		print_counter(out, "identity_records_in", who->records_in);
		print_counter(out, "identity_options_in", who->options_in);
	}
	if (m->identities_untracked != 0)
		print_counter(out, "identities_untracked", m->identities_untracked);
	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		fprintf(out, "collector %u: %s\n", i + 1, m->collectors[i]->url);
		collector_counters(m->collectors[i], print_counter, out);
	}
	fflush(out);
}

static void
json_counter(void *arg, const char *name, uint64_t value)
{
	int *first = ((void **)arg)[1];

	fprintf(((void **)arg)[0], "%s\"%s\": %" PRIu64, *first ? "" : ", ", name, value);
	*first = 0;
}

/* A PSK identity or certificate name inside a JSON string: quotes, backslashes and
 * control characters escaped. */
static void
json_string(FILE *out, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
}

void
dpfix_mediate_write_json(const struct dpfix_mediate *m, FILE *out)
{
	int first = 1;
	void *arg[2] = {out, &first};

	fprintf(out, "\"mediator\": {");
	med_sink_counters((void *)m, json_counter, arg);
	fprintf(out, "}, \"processes\": [");
	for (unsigned int i = 0; i < m->nb_procs; i++) {
		const struct med_process *p = &m->procs[i];

		first = 1;
		fprintf(out, "%s{\"kind\": \"%s\", ", i == 0 ? "" : ", ", kind_keys[p->kind]);
		json_counter(arg, "records_in", p->records_in);
		json_counter(arg, "records_out", p->records_out);
		if (p->ops->counters != NULL)
			p->ops->counters(p, json_counter, arg);
		fprintf(out, "}");
	}
	fprintf(out, "], \"exporter_identities\": [");
	for (unsigned int i = 0; i < m->nb_identities; i++) {
		const struct med_identity *who = &m->identities[i];

		first = 1;
		fprintf(out, "%s{\"identity\": \"", i == 0 ? "" : ", ");
		json_string(out, who->identity);
		fprintf(out, "\", ");
		json_counter(arg, "sessions", who->sessions);
		json_counter(arg, "records_in", who->records_in);
		json_counter(arg, "options_in", who->options_in);
		fprintf(out, "}");
	}
	fprintf(out, "], \"identities_untracked\": %" PRIu64 ", \"collectors\": [",
			m->identities_untracked);
	for (unsigned int i = 0; i < m->nb_collectors; i++) {
		const struct med_collector *c = m->collectors[i];

		first = 1;
		fprintf(out, "%s{\"url\": \"%s\", ", i == 0 ? "" : ", ", c->url);
		collector_counters(c, json_counter, arg);
		json_counter(arg, "bytes_sent", dpfix_export_stats(c->x)->bytes_sent);
		fprintf(out, "}");
	}
	fprintf(out, "]");
}
