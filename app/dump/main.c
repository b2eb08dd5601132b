/* dpfix-dump: reads IPFIX from a file (RFC 5655), stdin, or a pcap/pcapng capture of
 * IPFIX over UDP or TCP, and prints messages, sets, templates and records readably,
 * or one JSON object per record (--json, the shape the collector writes). Malformed
 * input is counted and reported with its offset; the exit status says whether any. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "dpfix_config.h"
#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_file.h"
#include "dpfix_log.h"
#include "dump.h"

#define EXIT_BAD_INPUT 2

struct dump_settings {
	int json;
	int quiet;
	struct dpfix_config_list port;
	struct dpfix_config_list elements;
	uint32_t log_level;             /* enum dpfix_log_level */
};

#define OPT(key, type, field, min, max, help) \
	DPFIX_CONFIG_OPTION(struct dump_settings, key, type, field, min, max, help)

static const struct dpfix_config_option dump_options[] = {
	OPT("json", DPFIX_CONFIG_BOOL, json, 0, 1,
		"one JSON object per record, keyed by IE names (as dpfix-collector --json)"),
	OPT("quiet", DPFIX_CONFIG_BOOL, quiet, 0, 1, "print nothing but problems and the summary"),
	OPT("port", DPFIX_CONFIG_LIST, port, 0, 0,
		"captures: only UDP/TCP packets from or to this port (repeatable; default all)"),
	OPT("elements", DPFIX_CONFIG_LIST, elements, 0, 0,
		"enterprise information elements to decode by name and type: a file of "
		"'PEN, ElementID, Name, type[, semantics, units, range, reversible]' lines "
		"(doc/information-elements.md)"),
	DPFIX_CONFIG_CHOICE_OPTION(struct dump_settings, "log_level", log_level,
		dpfix_log_level_names, "info", "lines on stderr up to this level (problems found in "
		"the input are errors)"),
	{NULL, 0, 0, 0, 0, 0, NULL},
};

static struct dump_settings cfg;
static struct dpfix_ipfix_decode_stats decode_totals;
static uint64_t problems_reported;

#define MAX_REPORTS 1000 /* then only counted: a broken input must not flood */

void
dump_error(const char *fmt, ...)
{
	va_list ap;

	if (++problems_reported > MAX_REPORTS) {
		if (problems_reported == MAX_REPORTS + 1)
			dpfix_log(DPFIX_LOG_ERROR, "more than %d problems: the rest are only counted",
					MAX_REPORTS);
		return;
	}
	va_start(ap, fmt);
	dpfix_log_v(DPFIX_LOG_ERROR, fmt, ap);
	va_end(ap);
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: dpfix-dump [options] [FILE]\n\n"
		"Reads IPFIX from FILE (an IPFIX file, or a pcap/pcapng capture of IPFIX over UDP or\n"
		"TCP; told apart by their first bytes), or from stdin when FILE is absent or '-'.\n"
		"Templates are scoped per transport session and observation domain: the file is\n"
		"one session; in a capture, each UDP or TCP flow direction is one. A summary goes\n"
		"to stderr. Exit status: 0, 1 if the input cannot be opened, 2 if any of it is\n"
		"malformed, truncated or could not be decoded (each problem is reported with its\n"
		"offset or packet number).\n\n");
	dpfix_config_print_help(dump_options, out);
}

static void
print_template(void *ctx, uint32_t domain, uint16_t id, const struct dpfix_ipfix_template *t)
{
	char name[128];

	(void)ctx;
	if (t == NULL) {
		printf("  template %u (domain %u) withdrawn\n", id, domain);
		return;
	}
	if (t->scope_count != 0)
		printf("  options template %u (domain %u, %u fields, the first %u scope):", id, domain,
				t->field_count, t->scope_count);
	else
		printf("  template %u (domain %u, %u field%s):", id, domain, t->field_count,
				t->field_count == 1 ? "" : "s");
	for (uint16_t i = 0; i < t->field_count; i++) {
		dpfix_ipfix_field_name(&t->fields[i], name, sizeof(name));
		if (t->fields[i].length == DPFIX_IPFIX_VARLEN)
			printf(" %s/var", name);
		else
			printf(" %s/%u", name, t->fields[i].length);
	}
	putchar('\n');
}

static void
print_record(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *record, uint32_t len)
{
	(void)ctx;
	(void)h;
	if (cfg.json) {
		dpfix_ipfix_record_to_json(t, record, len, stdout);
		return;
	}
	printf("  %srecord %u: ", t->scope_count != 0 ? "options " : "", t->id);
	dpfix_ipfix_record_to_text(t, record, len, stdout);
}

/* The message line: header fields and the sets it holds (id/length), walked only as far
 * as the set lengths stay inside the message; the decoder judges the rest. */
static void
print_message(const struct dump_session *s, const uint8_t *msg, size_t len, const char *where)
{
	struct dpfix_ipfix_header h;
	time_t t;
	struct tm tm;
	char stamp[32];
	size_t off = DPFIX_IPFIX_HEADER_LEN;

	if (dpfix_ipfix_read_header(msg, len, &h) < 0)
		return;
	t = (time_t)h.export_time;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("message (%s, %s): length %u, export time %s, sequence %u, domain %u, sets", s->name,
			where, h.length, stamp, h.sequence, h.domain);
	while (off + DPFIX_IPFIX_SET_HEADER_LEN <= len && off + DPFIX_IPFIX_SET_HEADER_LEN <= h.length) {
		uint16_t set_len = dpfix_get16(msg + off + 2);

		printf(" %u/%u", dpfix_get16(msg + off), set_len);
		if (set_len < DPFIX_IPFIX_SET_HEADER_LEN)
			break;
		off += set_len;
	}
	putchar('\n');
}

void
dump_message(struct dump_session *s, const uint8_t *msg, size_t len, const char *where)
{
	char err[256];
	int text = !cfg.json && !cfg.quiet, ret;

	if (text)
		print_message(s, msg, len, where);
	dpfix_ipfix_decoder_set_template_cb(s->decoder, text ? print_template : NULL, NULL);
	ret = dpfix_ipfix_decode(s->decoder, msg, len, cfg.quiet ? NULL : print_record, NULL, err,
			sizeof(err));
	if (ret < 0)
		dump_error("%s: %s: malformed message: %s", s->name, where, err);
	else if (ret == DPFIX_IPFIX_DECODE_WARNING) /* decoded; a template rule was broken */
		dump_error("%s: %s: warning: %s", s->name, where, err);
}

/* ---- input: the first bytes tell a capture from an IPFIX stream, or from neither ---- */

struct peeked {
	FILE *in;
	uint8_t head[4];
	size_t head_len, head_pos;
};

static ssize_t
peeked_read(void *cookie, char *buf, size_t size)
{
	struct peeked *p = cookie;
	size_t n = 0;

	while (p->head_pos < p->head_len && n < size)
		buf[n++] = (char)p->head[p->head_pos++];
	if (n < size)
		n += fread(buf + n, 1, size - n, p->in);
	return ferror(p->in) && n == 0 ? -1 : (ssize_t)n;
}

static int
peeked_close(void *cookie)
{
	struct peeked *p = cookie;
	int ret = p->in == stdin ? 0 : fclose(p->in);

	free(p);
	return ret;
}

/* A stream that replays the bytes looked at, then the rest of in; it owns in. */
static FILE *
open_peeked(FILE *in, uint8_t *head, size_t *head_len)
{
	struct peeked *p = calloc(1, sizeof(*p));
	cookie_io_functions_t io = {.read = peeked_read, .close = peeked_close};
	FILE *f;

	if (p == NULL)
		return NULL;
	p->in = in;
	p->head_len = fread(p->head, 1, sizeof(p->head), in);
	memcpy(head, p->head, p->head_len);
	*head_len = p->head_len;
	f = fopencookie(p, "r", io);
	if (f == NULL)
		free(p);
	return f;
}

/* What the first bytes say the input is. */
enum input_kind {
	INPUT_IPFIX,            /* an IPFIX stream (RFC 5655): empty, or version 10 first */
	INPUT_CAPTURE,          /* pcap (either byte order, micro- or nanoseconds) or pcapng */
	INPUT_UNKNOWN,
};

static enum input_kind
input_kind(const uint8_t *h, size_t len)
{
	static const uint8_t magics[][4] = {
		{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, /* pcap, microseconds */
		{0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1}, /* pcap, nanoseconds */
		{0x0a, 0x0d, 0x0d, 0x0a},                           /* pcapng section header */
	};
	static const uint8_t ipfix_version[2] = {0x00, 0x0a};

	for (size_t i = 0; len == 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(h, magics[i], 4) == 0)
			return INPUT_CAPTURE;
	/* Shorter than a version field, it can only be an IPFIX stream cut short, which the
	 * reader reports as such. */
	if (memcmp(h, ipfix_version, len < 2 ? len : 2) == 0)
		return INPUT_IPFIX;
	return INPUT_UNKNOWN;
}

static void
dump_ipfix_stream(FILE *in, const char *name)
{
	struct dump_session s = {.decoder = dpfix_ipfix_decoder_create()};
	struct dpfix_ipfix_file_reader *r = dpfix_ipfix_file_reader_create(in);
	const uint8_t *msg;
	size_t len;
	uint64_t offset;
	char err[256], where[48];
	int ret;

	if (s.decoder == NULL || r == NULL) {
		dump_error("%s: no memory", name);
		dump_counters.input_errors++;
		goto out;
	}
	snprintf(s.name, sizeof(s.name), "%s", name);
	while ((ret = dpfix_ipfix_file_read(r, &msg, &len, &offset, err, sizeof(err))) == 1) {
		snprintf(where, sizeof(where), "offset %" PRIu64, offset);
		dump_message(&s, msg, len, where);
	}
	if (ret < 0) {
		dump_counters.input_errors++;
		dump_error("%s: %s", name, err);
	}
	decode_totals = *dpfix_ipfix_decoder_stats(s.decoder);
out:
	dpfix_ipfix_file_reader_free(r);
	dpfix_ipfix_decoder_free(s.decoder);
}

static void
add_session_stats(struct dump_session *s, void *ctx)
{
	(void)ctx;
	dpfix_ipfix_decode_stats_add(&decode_totals, dpfix_ipfix_decoder_stats(s->decoder));
}

/* Prints the summary; returns whether the input had anything bad in it, or records
 * lost (missing by sequence number, or in sets that could not be decoded). */
static int
summary(int capture)
{
	int bad = decode_totals.malformed_messages != 0;
	char lost[512] = "";

	fprintf(stderr, "dpfix-dump: summary:\n");
#define SHOW(name, text) fprintf(stderr, "  %-27s %" PRIu64 "\n", #name, decode_totals.name);
	DPFIX_IPFIX_DECODE_COUNTERS(SHOW)
#undef SHOW
	for (int r = 0; r < DPFIX_IPFIX_MALFORMED_COUNT; r++)
		if (decode_totals.malformed[r] != 0)
			fprintf(stderr, "    malformed_%-16s %" PRIu64 "  (%s)\n",
					dpfix_ipfix_malformed_name(r), decode_totals.malformed[r],
					dpfix_ipfix_malformed_text(r));
#define SHOW_DUMP(name, is_bad, text) \
	if (capture || dump_counters.name != 0) \
		fprintf(stderr, "  %-27s %" PRIu64 "\n", #name, dump_counters.name); \
	bad |= is_bad && dump_counters.name != 0;
	DUMP_COUNTERS(SHOW_DUMP)
#undef SHOW_DUMP
	if (dpfix_ipfix_decode_loss(&decode_totals, lost, sizeof(lost))) {
		fprintf(stderr, "dpfix-dump: data lost (exit status 2): %s\n", lost);
		bad = 1;
	}
	return bad;
}

/* The command line: options go to the option table, one other word is the input. */
static int
parse_args(int argc, char **argv, const char **input)
{
	char *opts[256];
	int n = 0, ret;
	char err[DPFIX_CONFIG_ERRLEN];

	*input = NULL;
	for (int i = 1; i < argc && n < 250; i++) {
		const struct dpfix_config_option *o;

		if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i], "--") == 0) {
			if (strcmp(argv[i], "--") == 0 && ++i >= argc)
				break;
			if (*input != NULL) {
				dpfix_log(DPFIX_LOG_ERROR, "one input only ('%s' and '%s')", *input, argv[i]);
				return -1;
			}
			*input = argv[i];
			continue;
		}
		opts[n++] = argv[i];
		o = dpfix_config_find_cli(dump_options, argv[i] + 2);
		if (o != NULL && o->type != DPFIX_CONFIG_BOOL && i + 1 < argc)
			opts[n++] = argv[++i];
	}
	ret = dpfix_config_defaults(dump_options, &cfg, err, sizeof(err));
	if (ret == 0)
		ret = dpfix_config_from_args(dump_options, &cfg, n, opts, err, sizeof(err));
	if (ret == 1) {
		usage(stdout);
		return 1;
	}
	if (ret < 0) {
		dpfix_log(DPFIX_LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint16_t ports[DPFIX_CONFIG_LIST_MAX];
	char err[DPFIX_CONFIG_ERRLEN];
	const char *input;
	FILE *raw, *in;
	uint8_t head[4];
	size_t head_len;
	enum input_kind kind;
	int ret;

	dpfix_log_setup("dpfix-dump", DPFIX_LOG_INFO);
	ret = parse_args(argc, argv, &input);
	if (ret != 0)
		return ret == 1 ? 0 : 1;
	dpfix_log_setup("dpfix-dump", cfg.log_level);
	if (dpfix_ipfix_ie_load_files(&cfg.elements, err, sizeof(err)) < 0) {
		dpfix_log(DPFIX_LOG_ERROR, "--elements %s", err);
		return 1;
	}
	for (unsigned int i = 0; i < cfg.port.count; i++) {
		char *end;
		unsigned long p = strtoul(cfg.port.items[i], &end, 10);

		if (*end != '\0' || p == 0 || p > 65535) {
			dpfix_log(DPFIX_LOG_ERROR, "--port %s: not a port number (1..65535)",
					cfg.port.items[i]);
			return 1;
		}
		ports[i] = (uint16_t)p;
	}
	if (input == NULL || strcmp(input, "-") == 0) {
		input = "stdin";
		raw = stdin;
	} else if ((raw = fopen(input, "rb")) == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s: %s", input, strerror(errno));
		return 1;
	}
	in = open_peeked(raw, head, &head_len);
	if (in == NULL) {
		dpfix_log(DPFIX_LOG_ERROR, "%s: no memory", input);
		return 1;
	}
	kind = input_kind(head, head_len);
	if (kind == INPUT_CAPTURE) {
		if (dump_pcap(in, ports, cfg.port.count) < 0)
			fclose(in); /* libpcap took it only if it could read it */
		dump_pcap_foreach_session(add_session_stats, NULL);
		dump_pcap_free();
	} else if (kind == INPUT_IPFIX) {
		dump_ipfix_stream(in, input);
		fclose(in);
	} else {
		char first[3 * sizeof(head)] = "";
		size_t n = 0;

		for (size_t i = 0; i < head_len; i++)
			n += (size_t)snprintf(first + n, sizeof(first) - n, "%s%02x", i ? " " : "", head[i]);
		dump_counters.input_errors++;
		dump_error("%s: not IPFIX, pcap or pcapng: its first bytes are %s (IPFIX starts with "
				"00 0a, pcap with a1 b2 c3 d4 or a1 b2 3c 4d in either byte order, pcapng "
				"with 0a 0d 0d 0a)", input, first);
		fclose(in);
	}
	fflush(stdout);
	return summary(kind == INPUT_CAPTURE) ? EXIT_BAD_INPUT : 0;
}
