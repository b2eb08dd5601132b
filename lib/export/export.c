/* The Exporting Process's messages: per observation domain the templates of its record
 * schemas, the sequence number, the data message being filled and its flush timer, and
 * the options records on their schedule. Sessions and their failures: export_session.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_log.h"
#include "export_private.h"

/* Message buffers on cache lines, as the kernel likes to copy them. */
static uint8_t *
buffer_alloc(void)
{
	return aligned_alloc(64, EXPORT_BUF_LEN);
}

static void (*logger)(enum dpfix_log_level level, const char *msg);

void
dpfix_export_set_logger(void (*fn)(enum dpfix_log_level level, const char *msg))
{
	logger = fn;
}

void
export_log(enum dpfix_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dpfix_log_via(logger, level, "export: ", fmt, ap);
	va_end(ap);
}

struct dpfix_export *
dpfix_export_create(const struct dpfix_export_params *p, char *err, size_t errlen)
{
	struct dpfix_export *x = calloc(1, sizeof(*x));

	if (x != NULL) {
		x->ctl_buf = buffer_alloc();
		x->scratch = malloc(DPFIX_IPFIX_SCHEMA_MAX_LENGTH);
	}
	if (x == NULL || x->ctl_buf == NULL || x->scratch == NULL) {
		snprintf(err, errlen, "out of memory for the export buffers");
		dpfix_export_free(x);
		return NULL;
	}
	x->params = *p;
	x->state = DPFIX_EXPORT_NO_SESSION;
	if (export_replay_init(x, p->replay_bytes) < 0) {
		snprintf(err, errlen, "out of memory for a %" PRIu64 "-byte replay buffer",
				p->replay_bytes);
		dpfix_export_free(x);
		return NULL;
	}
	return x;
}

void
dpfix_export_free(struct dpfix_export *x)
{
	if (x == NULL)
		return;
	export_hand_off_fini(x, 0);
	export_answer_end_wait(x, 0);
	if (x->state == DPFIX_EXPORT_FAILED)
		dpfix_session_abort(x->session); /* nothing to confirm; no one may answer */
	else
		dpfix_session_close(x->session);
	for (unsigned int i = 0; i < x->nb_domains; i++) {
		dpfix_ipfix_tm_free(&x->domains[i]->tm);
		free(x->domains[i]->buf);
		free(x->domains[i]->opt_buf);
		free(x->domains[i]);
	}
	free(x->ctl_buf);
	free(x->scratch);
	free(x->returned_buf);
	export_replay_free(x);
	free(x);
}

int
dpfix_export_add_domain(struct dpfix_export *x, uint32_t id, struct dpfix_export_domain **out)
{
	struct dpfix_export_domain *d;

	for (unsigned int i = 0; i < x->nb_domains; i++)
		if (x->domains[i]->id == id)
			return -EEXIST;
	if (x->nb_domains == DPFIX_EXPORT_MAX_DOMAINS)
		return -ENOSPC;
	d = calloc(1, sizeof(*d));
	if (d != NULL) {
		d->buf = buffer_alloc();
		d->opt_buf = buffer_alloc();
	}
	if (d == NULL || d->buf == NULL || d->opt_buf == NULL) {
		if (d != NULL) {
			free(d->buf);
			free(d->opt_buf);
		}
		free(d);
		return -ENOMEM;
	}
	d->x = x;
	d->data.state = &x->state;
	d->id = id;
	dpfix_ipfix_tm_init(&d->tm, x->params.template_refresh_ns);
	/* No room until a session says how much (export_refit_messages), unless one is up
	 * (a domain added as records come, by a Mediator): then its template rules too. */
	dpfix_ipfix_msg_begin(&d->data.msg, d->buf, 0);
	if (x->state == DPFIX_EXPORT_PROBATION || x->state == DPFIX_EXPORT_TRUSTED) {
		dpfix_ipfix_tm_session(&d->tm, dpfix_session_is_reliable(x->session));
		dpfix_ipfix_msg_begin(&d->data.msg, d->buf, dpfix_session_max_message(x->session));
	}
	x->domains[x->nb_domains++] = d;
	*out = d;
	return 0;
}

int
dpfix_export_add_schema(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s)
{
	static struct dpfix_ipfix_template t; /* 4 KiB: not on the stack */

	dpfix_ipfix_schema_template(s, &t);
	return dpfix_ipfix_tm_add(&d->tm, &t);
}

static uint32_t
session_limit(const struct dpfix_export *x)
{
	return dpfix_session_max_message(x->session);
}

/* Ends message m of domain d: export time, the sequence number (data records exported
 * before it) and the observation domain in its header. Returns its length. */
static uint32_t
finish_message(const struct dpfix_export_domain *d, struct dpfix_ipfix_msg *m, uint64_t now_ns)
{
	return dpfix_ipfix_msg_finish(m, (uint32_t)(now_ns / 1000000000ull), d->sequence, d->id);
}

/* Templates travel in messages of their own: SCTP must carry them on stream 0 and
 * data never there (RFC 7011 10.2), and one rule for every transport is simplest. */
static void
send_domain_templates(struct dpfix_export_domain *d, uint64_t now_ns)
{
	struct dpfix_export *x = d->x;
	int pending;

	do {
		uint32_t len;

		dpfix_ipfix_msg_begin(&x->ctl_msg, x->ctl_buf, session_limit(x));
		pending = dpfix_ipfix_tm_write(&d->tm, &x->ctl_msg, now_ns);
		/* Before a replay, templates carry the number it begins with. */
		len = dpfix_ipfix_msg_finish(&x->ctl_msg, (uint32_t)(now_ns / 1000000000ull),
				x->replay.pending ? d->replay_sequence : d->sequence, d->id);
		if (export_send(x, x->ctl_buf, len, DPFIX_MESSAGE_TEMPLATES, 0, now_ns) < 0)
			x->stats.send_failures++;
		else
			x->stats.messages_sent++;
	} while (pending > 0);
}

void
export_send_templates(struct dpfix_export *x, uint64_t now_ns)
{
	for (unsigned int i = 0; i < x->nb_domains; i++)
		if (x->state != DPFIX_EXPORT_FAILED && dpfix_ipfix_tm_due(&x->domains[i]->tm, now_ns))
			send_domain_templates(x->domains[i], now_ns);
}

/* The next data message of d: templates first if the session lacks any or, on UDP, they
 * are due again (RFC 7011 8.4). */
static void
start_message(struct dpfix_export_domain *d, uint64_t now_ns)
{
	struct dpfix_export *x = d->x;

	if (x->state != DPFIX_EXPORT_FAILED && dpfix_ipfix_tm_due(&d->tm, now_ns))
		send_domain_templates(d, now_ns);
	dpfix_ipfix_msg_begin(&d->data.msg, d->buf, session_limit(x));
	d->msg_started_ns = now_ns;
	d->data.msg_packets = 0;
	d->data.msg_octets = 0;
}

/* A data message longer than its session takes now: its path MTU shrank after the
 * message was begun (DTLS: the probes of the size in use went unanswered, back to the
 * base size). It goes as several that fit, instead of failing whole with EMSGSIZE. 0
 * once sent (each piece counted in messages_sent); if it cannot be split, what
 * export_send says (the failure is said, and the records counted lost); -1 if the
 * session failed in the middle: the whole message then goes the way of a failed one (a
 * replay holds it), so the pieces sent are not counted in session_records twice. */
static int
split_data(struct dpfix_export *x, const uint8_t *m, uint32_t len, uint32_t records,
		uint64_t now_ns)
{
	uint64_t before = x->session_records;
	int ret = export_send_split(x, m, len, records, now_ns);

	if (ret == 1)
		return export_send(x, m, len, DPFIX_MESSAGE_DATA, records, now_ns);
	if (ret < 0)
		x->session_records = before;
	return ret;
}

/* Sends d's data message and starts the next. One that cannot be sent is counted with
 * its records: the loss is never silent. With may_hold (hold_when_full), one the
 * transport has no room for stays as it is, to go later: -EAGAIN, else 0. */
static int
send_data(struct dpfix_export_domain *d, uint64_t now_ns, int may_hold)
{
	struct dpfix_export *x = d->x;
	uint32_t records = d->data.msg.data_records;
	uint32_t len;
	int ret;

	/* A message filled between a take-up and the next poll goes behind the replay, which
	 * carries older sequence numbers: sent first, the collector would read a reset. */
	if (x->replay.pending && x->state == DPFIX_EXPORT_TRUSTED)
		export_replay_send(x, now_ns);
	len = finish_message(d, &d->data.msg, now_ns);
	if (x->state == DPFIX_EXPORT_FAILED) {
		ret = -EPIPE;
	} else if (len > dpfix_session_max_message(x->session)) {
		ret = split_data(x, d->buf, len, records, now_ns);
	} else {
		ret = may_hold && x->params.hold_when_full ?
				export_send_or_hold(x, d->buf, len, records, now_ns) :
				export_send(x, d->buf, len, DPFIX_MESSAGE_DATA, records, now_ns);
		/* Held: more records may still join it (a set of their own after the one
		 * the finish closed), and its header is written again when it goes. */
		if (ret == -EAGAIN && may_hold && x->params.hold_when_full &&
				x->state == DPFIX_EXPORT_TRUSTED)
			return -EAGAIN;
		if (ret == 0) {
			x->stats.messages_sent++;
			x->session_records += records;
		}
	}
	if (ret == 0) {
		export_replay_add(x, d->buf, len, records, d->data.msg_packets, d->data.msg_octets);
	} else if (x->state == DPFIX_EXPORT_FAILED && export_replay_on(x)) {
		/* Its session failed on it: it goes on the next with the others kept. */
		x->stats.send_failures++;
		x->session_records += records;
		export_replay_add(x, d->buf, len, records, d->data.msg_packets, d->data.msg_octets);
	} else if (x->state == DPFIX_EXPORT_FAILED &&
			export_replay_keep(x, d->buf, len, records) == 0) {
		/* Its session failed on it without heartbeats (tcp://, sctp://: a send into an
		 * association already lost): no transport took it, so it goes whole on the
		 * next session, as a message SCTP gives back does (records_replayed). */
		x->stats.send_failures++;
	} else {
		x->stats.send_failures++;
		export_count_lost(x, records, d->data.msg_packets, d->data.msg_octets, now_ns);
	}
	/* The sequence counts records exported, sent or not (RFC 7011 3.1), so a
	 * collector sees the loss. */
	d->sequence += records;
	x->stats.records_exported += records;
	start_message(d, now_ns);
	return 0;
}

void
export_refit_messages(struct dpfix_export *x, uint64_t now_ns)
{
	uint32_t limit = session_limit(x);

	for (unsigned int i = 0; i < x->nb_domains; i++) {
		struct dpfix_export_domain *d = x->domains[i];

		if (d->data.msg.len <= limit) {
			d->data.msg.limit = limit;
			if (d->data.msg.data_records == 0)
				d->msg_started_ns = now_ns;
			continue;
		}
		export_count_lost(x, d->data.msg.data_records, d->data.msg_packets, d->data.msg_octets, now_ns);
		d->sequence += d->data.msg.data_records;
		x->stats.records_exported += d->data.msg.data_records;
		start_message(d, now_ns);
	}
}

void
export_drop_messages(struct dpfix_export *x, uint64_t now_ns)
{
	for (unsigned int i = 0; i < x->nb_domains; i++) {
		struct dpfix_export_domain *d = x->domains[i];

		export_count_lost(x, d->data.msg.data_records, d->data.msg_packets, d->data.msg_octets, now_ns);
		dpfix_ipfix_msg_begin(&d->data.msg, d->buf, 0);
		d->data.msg_packets = 0;
		d->data.msg_octets = 0;
	}
}

int
dpfix_export_record_slow(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		const void *src, uint64_t packets, uint64_t octets, uint64_t now_ns)
{
	struct dpfix_export *x = d->x;

	if (x->state != DPFIX_EXPORT_TRUSTED) {
		if (x->state != DPFIX_EXPORT_DROPPING)
			return -EAGAIN;
		export_count_lost(x, 1, packets, octets, now_ns);
		return 0;
	}
	/* The message is full (or held: hold_when_full). */
	if (send_data(d, now_ns, 1) < 0 || x->state != DPFIX_EXPORT_TRUSTED)
		return -EAGAIN; /* held, or that send failed the session */
	/* An empty message always has room for one record: a session carries at least
	 * 512-octet messages, and a schema says what it may be longer than. */
	if (dpfix_ipfix_msg_add_encoded(&d->data.msg, s, src) < 0) {
		export_count_lost(x, 1, packets, octets, now_ns);
		return 0;
	}
	d->data.msg_packets += packets;
	d->data.msg_octets += octets;
	return 0;
}

/* Sends the options records gathered in d's options message (on SCTP on a data stream:
 * options data are data, RFC 7011 10.2). They count in the sequence like flow records. */
static void
flush_options(struct dpfix_export_domain *d, uint64_t now_ns)
{
	struct dpfix_export *x = d->x;
	uint32_t records = d->opt_msg.data_records;
	uint32_t len;

	if (records == 0)
		return;
	len = finish_message(d, &d->opt_msg, now_ns);
	if (x->state == DPFIX_EXPORT_FAILED ||
			export_send(x, d->opt_buf, len, DPFIX_MESSAGE_DATA, 0, now_ns) < 0) {
		x->stats.send_failures++;
	} else {
		x->stats.messages_sent++;
		/* Kept with the data: a replay's sequence numbers run without a gap. */
		export_replay_add(x, d->opt_buf, len, 0, 0, 0);
	}
	d->sequence += records;
	x->stats.options_records += records;
	dpfix_ipfix_msg_begin(&d->opt_msg, d->opt_buf, session_limit(x));
}

/* Encoded apart, then copied: records with strings fill messages to the last octet. */
void
dpfix_export_option(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		const void *src, uint64_t now_ns)
{
	uint8_t *rec = d->x->scratch;
	uint32_t len = dpfix_ipfix_schema_encode(s, src, rec);

	if (dpfix_ipfix_msg_add_record(&d->opt_msg, s->template_id, rec, len) == -ENOSPC) {
		flush_options(d, now_ns);
		dpfix_ipfix_msg_add_record(&d->opt_msg, s->template_id, rec, len);
	}
}

static void
send_options(struct dpfix_export *x, uint64_t now_ns)
{
	if (x->params.write_options == NULL)
		return;
	for (unsigned int i = 0; i < x->nb_domains; i++)
		dpfix_ipfix_msg_begin(&x->domains[i]->opt_msg, x->domains[i]->opt_buf,
				session_limit(x));
	x->params.write_options(x, x->params.ctx, now_ns);
	for (unsigned int i = 0; i < x->nb_domains; i++)
		flush_options(x->domains[i], now_ns);
	x->options_sent_ns = now_ns;
	x->options_due = 0;
}

void
dpfix_export_options_due(struct dpfix_export *x)
{
	x->options_due = 1;
}

void
dpfix_export_poll(struct dpfix_export *x, uint64_t now_ns)
{
	export_answer_end_poll(x, now_ns);
	export_check_liveness(x, now_ns);
	export_probe_path(x, now_ns);
	export_hand_off_poll(x, now_ns);
	if (x->state != DPFIX_EXPORT_PROBATION && x->state != DPFIX_EXPORT_TRUSTED)
		return;
	export_send_heartbeats(x, now_ns);
	/* What a failed session left unconfirmed goes first, once this one is trusted, then
	 * the options records and the data records. */
	if (x->replay.pending) {
		if (x->state != DPFIX_EXPORT_TRUSTED)
			return;
		export_replay_send(x, now_ns);
		if (x->state != DPFIX_EXPORT_TRUSTED)
			return;
	}
	if ((x->options_due || now_ns - x->options_sent_ns >= x->params.options_interval_ns) &&
			export_templates_acknowledged(x, now_ns))
		send_options(x, now_ns);
	for (unsigned int i = 0; i < x->nb_domains && x->state == DPFIX_EXPORT_TRUSTED; i++) {
		struct dpfix_export_domain *d = x->domains[i];

		if (d->data.msg.data_records > 0 && now_ns - d->msg_started_ns >= x->params.flush_ns)
			send_data(d, now_ns, 1);
	}
}

void
export_send_data_messages(struct dpfix_export *x, uint64_t now_ns)
{
	for (unsigned int i = 0; i < x->nb_domains && x->state == DPFIX_EXPORT_TRUSTED; i++)
		if (x->domains[i]->data.msg.data_records > 0)
			send_data(x->domains[i], now_ns, 0);
}

void
dpfix_export_flush(struct dpfix_export *x, uint64_t now_ns)
{
	if (x->state == DPFIX_EXPORT_DROPPING) {
		export_drop_messages(x, now_ns);
		return;
	}
	if (x->state != DPFIX_EXPORT_TRUSTED)
		return;
	export_send_data_messages(x, now_ns);
	/* The last statistics, once every record is accounted for. */
	if (x->state == DPFIX_EXPORT_TRUSTED)
		send_options(x, now_ns);
}

void
export_withdraw_templates(struct dpfix_export *x, uint64_t now_ns)
{
	for (unsigned int i = 0; i < x->nb_domains; i++) {
		struct dpfix_export_domain *d = x->domains[i];
		uint32_t len;

		dpfix_ipfix_msg_begin(&x->ctl_msg, x->ctl_buf, session_limit(x));
		/* Options templates are left to the session's end, which withdraws them too
		 * (RFC 7011 8.1): tshark 4.0 calls any options template withdrawal malformed,
		 * reading a Scope Field Count the record does not have
		 * (doc/peer-collectors.md). */
		if (dpfix_ipfix_tm_withdraw_all(&d->tm, DPFIX_IPFIX_TM_DATA, &x->ctl_msg) <= 0)
			continue;
		len = finish_message(d, &x->ctl_msg, now_ns);
		export_send(x, x->ctl_buf, len, DPFIX_MESSAGE_TEMPLATES, 0, now_ns);
	}
}

/* A session that is up has every template before the records that use it: the new one
 * goes at once, ahead of the data message being filled (which may take records of it). */
int
dpfix_export_add_schema_now(struct dpfix_export_domain *d, const struct dpfix_ipfix_schema *s,
		uint64_t now_ns)
{
	int ret = dpfix_export_add_schema(d, s);

	if (ret == 0 && (d->x->state == DPFIX_EXPORT_PROBATION || d->x->state == DPFIX_EXPORT_TRUSTED))
		send_domain_templates(d, now_ns);
	return ret;
}

int
dpfix_export_remove_schema(struct dpfix_export_domain *d, uint16_t template_id, uint64_t now_ns)
{
	struct dpfix_export *x = d->x;
	int up = x->state == DPFIX_EXPORT_PROBATION || x->state == DPFIX_EXPORT_TRUSTED;
	uint32_t len;
	int ret;

	if (dpfix_ipfix_tm_get(&d->tm, template_id) == NULL)
		return -ENOENT;
	if (d->data.msg.data_records > 0) {
		/* Records waiting for a session would reach the next one without their
		 * template. */
		if (x->state != DPFIX_EXPORT_TRUSTED)
			return -EBUSY;
		send_data(d, now_ns, 0);
	}
	dpfix_ipfix_msg_begin(&x->ctl_msg, x->ctl_buf, up ? session_limit(x) : UINT16_MAX);
	ret = dpfix_ipfix_tm_remove(&d->tm, template_id, &x->ctl_msg);
	if (ret < 0 || x->ctl_msg.len == DPFIX_IPFIX_HEADER_LEN || !up)
		return ret;
	len = finish_message(d, &x->ctl_msg, now_ns);
	if (export_send(x, x->ctl_buf, len, DPFIX_MESSAGE_TEMPLATES, 0, now_ns) < 0)
		x->stats.send_failures++;
	else
		x->stats.messages_sent++;
	return 0;
}

const struct dpfix_export_stats *
dpfix_export_stats(const struct dpfix_export *x)
{
	return &x->stats;
}
