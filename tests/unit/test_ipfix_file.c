/* Unit tests for RFC 5655 files in lib/ipfix: stream framing, the reader on whole,
 * truncated and corrupt files, and the writer: round trip, sequence numbers, domains of
 * several sessions, rotation by size and time (each file decodes alone), file names,
 * and Message Details records. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_file.h"
#include "unit_test.h"

static char dir[64];
/* Handles that stand for transport sessions. */
static int sess_a, sess_b;

static struct dpfix_ipfix_template t_flow;  /* 256 */
static struct dpfix_ipfix_template t_other; /* 256 as another exporter defines it */

static void
build_templates(void)
{
	dpfix_ipfix_template_init(&t_flow, 256, 0);
	dpfix_ipfix_template_add(&t_flow, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(&t_flow, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(&t_flow, 0, IE_packetDeltaCount, 8);
	dpfix_ipfix_template_add(&t_flow, 0, 82 /* interfaceName */, DPFIX_IPFIX_VARLEN);

	dpfix_ipfix_template_init(&t_other, 256, 0);
	dpfix_ipfix_template_add(&t_other, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(&t_other, 0, IE_octetDeltaCount, 4);
}

/* A flow record of t_flow: addresses and counter from n, a name of n % 7 bytes. */
static uint32_t
flow_record(uint8_t *r, uint32_t n)
{
	uint32_t len = 0;

	r[len++] = 10;
	r[len++] = 0;
	r[len++] = (uint8_t)(n >> 8);
	r[len++] = (uint8_t)n;
	r[len++] = 192;
	r[len++] = 168;
	r[len++] = 0;
	r[len++] = (uint8_t)(n % 250);
	for (int i = 7; i >= 0; i--)
		r[len++] = (uint8_t)((uint64_t)n * 1000 >> (i * 8));
	r[len++] = (uint8_t)(n % 7);
	for (uint32_t i = 0; i < n % 7; i++)
		r[len++] = (uint8_t)('a' + i);
	return len;
}

/* A message of domain with optional template t and `records` records from first. */
static uint32_t
make_message(uint8_t *buf, uint32_t domain, uint32_t seq, const struct dpfix_ipfix_template *t,
		uint32_t first, uint32_t records)
{
	struct dpfix_ipfix_msg m;
	uint8_t rec[64];

	dpfix_ipfix_msg_begin(&m, buf, 65535);
	if (t != NULL)
		dpfix_ipfix_msg_add_template(&m, t);
	for (uint32_t i = 0; i < records; i++)
		dpfix_ipfix_msg_add_record(&m, 256, rec, flow_record(rec, first + i));
	return dpfix_ipfix_msg_finish(&m, 1700000000, seq, domain);
}

static struct dpfix_ipfix_file_origin
origin(const void *session, uint64_t ms)
{
	struct dpfix_ipfix_file_origin o = {.session = session, .collection_time_ms = ms,
		.transport = IPPROTO_UDP};
	struct sockaddr_in *e = (struct sockaddr_in *)&o.exporter;
	struct sockaddr_in *c = (struct sockaddr_in *)&o.collector;

	e->sin_family = AF_INET;
	e->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.2", &e->sin_addr);
	c->sin_family = AF_INET;
	c->sin_port = htons(4739);
	inet_pton(AF_INET, "127.0.0.1", &c->sin_addr);
	return o;
}

/* What a reader makes of a file: records as JSON lines, counters, any error. */
struct file_result {
	char *json;
	size_t json_len;
	uint64_t messages;
	struct dpfix_ipfix_decode_stats stats;
	int read_ret;        /* 0: clean end */
	int decode_errors;
	char err[256];
	uint32_t domains[8]; /* domain of each of the first messages */
};

static void
to_json(void *ctx, const struct dpfix_ipfix_header *h, const struct dpfix_ipfix_template *t,
		const uint8_t *record, uint32_t len)
{
	(void)h;
	dpfix_ipfix_record_to_json(t, record, len, ctx);
}

static void
read_stream(FILE *in, struct file_result *res)
{
	struct dpfix_ipfix_file_reader *r = dpfix_ipfix_file_reader_create(in);
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	FILE *json;
	const uint8_t *msg;
	size_t len;
	uint64_t offset;
	int ret;

	memset(res, 0, sizeof(*res));
	json = open_memstream(&res->json, &res->json_len);
	while ((ret = dpfix_ipfix_file_read(r, &msg, &len, &offset, res->err, sizeof(res->err))) == 1) {
		if (res->messages < 8)
			res->domains[res->messages] = (uint32_t)msg[12] << 24 | (uint32_t)msg[13] << 16 |
				(uint32_t)msg[14] << 8 | msg[15];
		res->messages++;
		if (dpfix_ipfix_decode(d, msg, len, to_json, json, NULL, 0) < 0)
			res->decode_errors++;
	}
	res->read_ret = ret;
	res->stats = *dpfix_ipfix_decoder_stats(d);
	fclose(json);
	dpfix_ipfix_decoder_free(d);
	dpfix_ipfix_file_reader_free(r);
}

static void
read_file(const char *path, struct file_result *res)
{
	FILE *in = fopen(path, "rb");

	CHECK(in != NULL);
	if (in == NULL) {
		memset(res, 0, sizeof(*res));
		res->json = strdup("");
		return;
	}
	read_stream(in, res);
	fclose(in);
}

/* The JSON lines of decoding the given messages directly, one session. */
static char *
expected_json(const uint8_t *msgs, const uint32_t *lens, int count)
{
	struct dpfix_ipfix_decoder *d = dpfix_ipfix_decoder_create();
	char *out = NULL;
	size_t out_len = 0;
	FILE *json = open_memstream(&out, &out_len);

	for (int i = 0; i < count; i++) {
		dpfix_ipfix_decode(d, msgs, lens[i], to_json, json, NULL, 0);
		msgs += lens[i];
	}
	fclose(json);
	dpfix_ipfix_decoder_free(d);
	return out;
}

static void
remove_dir_files(void)
{
	DIR *dd = opendir(dir);
	struct dirent *e;
	char path[320];

	while (dd != NULL && (e = readdir(dd)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (dd != NULL)
		closedir(dd);
}

/* Files in dir, sorted by name. Returns the count. */
static int
list_files(char names[][320], int max)
{
	DIR *dd = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (dd != NULL && (e = readdir(dd)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(names[n++], 320, "%s/%s", dir, e->d_name);
	}
	if (dd != NULL)
		closedir(dd);
	qsort(names, (size_t)n, 320, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* Removes from text the lines that contain what. */
static void
filter_lines(char *text, const char *what)
{
	char *out = text, *line = text;

	while (*line != '\0') {
		char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) + 1 : strlen(line);

		if (memmem(line, len, what, strlen(what)) == NULL) {
			memmove(out, line, len);
			out += len;
		}
		line += len;
	}
	*out = '\0';
}

/* ---- tests ---- */

static void
test_frame(void)
{
	uint8_t b[32] = {0, 10, 0, 20};
	char err[128] = "";

	CHECK_EQ_U64(dpfix_ipfix_frame(b, 0, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_frame(b, 1, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_frame(b, 3, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_frame(b, 19, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_frame(b, 20, err, sizeof(err)), 20);
	CHECK_EQ_U64(dpfix_ipfix_frame(b, 32, err, sizeof(err)), 20);
	b[1] = 9;
	CHECK(dpfix_ipfix_frame(b, 2, err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "version 9") != NULL);
	b[1] = 10;
	b[3] = 15;
	CHECK(dpfix_ipfix_frame(b, 32, err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "length 15") != NULL);
}

/* Messages written without rotation come back with the same records, with the
 * sequence numbers made consistent (the exporter's had a gap). */
static void
test_round_trip(void)
{
	static uint8_t msgs[8][65536];
	static uint8_t all[8 * 65536];
	uint32_t lens[8], seq = 500, total = 0;
	struct dpfix_ipfix_file_params p = {0};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&p, 1700000000000ull);
	struct file_result res;
	char path[128], err[256];
	char *want;

	snprintf(path, sizeof(path), "%s/round.ipfix", dir);
	p.path = path;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	for (int i = 0; i < 8; i++) {
		lens[i] = make_message(msgs[i], 7, seq, i == 0 || i == 5 ? &t_flow : NULL, 20 * i,
				(uint32_t)i * 3);
		seq += (uint32_t)i * 3 + (i == 3 ? 9 : 0); /* 9 records lost after message 3 */
		memcpy(all + total, msgs[i], lens[i]);
		total += lens[i];
		CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, msgs[i], lens[i], err, sizeof(err)), 0);
	}
	CHECK(strcmp(dpfix_ipfix_file_writer_path(w), path) == 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->messages, 8);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->bytes, total);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);

	read_file(path, &res);
	want = expected_json(all, lens, 8);
	CHECK_EQ_U64(res.read_ret, 0);
	CHECK_EQ_U64(res.messages, 8);
	CHECK_EQ_U64(res.decode_errors, 0);
	CHECK_EQ_U64(res.stats.data_records, 84);
	CHECK_EQ_U64(res.stats.sequence_lost, 0);
	CHECK_EQ_U64(res.stats.sequence_out_of_order, 0);
	CHECK_EQ_U64(res.domains[0], 7);
	CHECK(res.json_len > 0 && strcmp(res.json, want) == 0);
	free(want);
	free(res.json);
	remove_dir_files();
}

/* A file cut at every offset: whole messages before the cut, then an error naming the
 * offset of the message that was cut; a cut between messages is a clean end. */
static void
test_truncation_every_offset(void)
{
	static uint8_t buf[4096];
	uint32_t starts[4], len = 0;

	starts[0] = 0;
	len += make_message(buf, 1, 0, &t_flow, 0, 2);
	starts[1] = len;
	len += make_message(buf + len, 1, 2, NULL, 2, 3);
	starts[2] = len;
	len += make_message(buf + len, 1, 5, NULL, 5, 1);
	starts[3] = len;
	for (uint32_t cut = 0; cut <= len; cut++) {
		FILE *in = fmemopen(buf, cut, "rb");
		struct file_result res;
		uint32_t whole = 0;
		int boundary = 0;
		char want[64];

		if (cut == 0) {
			/* fmemopen refuses size 0 on some libcs: an empty stream from /dev/null. */
			in = fopen("/dev/null", "rb");
		}
		for (int i = 0; i < 4; i++) {
			if (starts[i] <= cut)
				whole = (uint32_t)i;
			boundary |= starts[i] == cut;
		}
		read_stream(in, &res);
		fclose(in);
		CHECK_EQ_U64(res.messages, whole);
		CHECK_EQ_U64(res.decode_errors, 0);
		if (boundary) {
			CHECK_EQ_U64(res.read_ret, 0);
		} else {
			CHECK(res.read_ret == -EBADMSG);
			snprintf(want, sizeof(want), "offset %u: truncated", starts[whole]);
			if (strstr(res.err, want) == NULL) {
				fprintf(stderr, "  cut %u: got '%s', want '%s'\n", cut, res.err, want);
				CHECK(0);
			}
		}
		free(res.json);
	}
}

static void
test_corrupt_stream(void)
{
	static uint8_t buf[4096];
	uint32_t len = 0, second;
	struct file_result res;
	FILE *in;

	len += make_message(buf, 1, 0, &t_flow, 0, 2);
	second = len;
	len += make_message(buf + len, 1, 2, NULL, 2, 3);
	buf[second + 1] = 5; /* version 5 */
	in = fmemopen(buf, len, "rb");
	read_stream(in, &res);
	fclose(in);
	CHECK_EQ_U64(res.messages, 1);
	CHECK(res.read_ret == -EBADMSG);
	CHECK(strstr(res.err, "version 5 is not IPFIX") != NULL);
	CHECK(strstr(res.err, "offset 0") == NULL);
	free(res.json);

	buf[second + 1] = 10;
	buf[second + 2] = 0;
	buf[second + 3] = 3; /* length 3 */
	in = fmemopen(buf, len, "rb");
	read_stream(in, &res);
	fclose(in);
	CHECK_EQ_U64(res.messages, 1);
	CHECK(res.read_ret == -EBADMSG);
	CHECK(strstr(res.err, "length 3 is below") != NULL);
	free(res.json);
}

/* Two sessions that use the same domain id and template id with different definitions:
 * the second gets another domain in the file, and both decode correctly. */
static void
test_two_sessions_one_domain(void)
{
	static uint8_t a[65536], b[65536];
	struct dpfix_ipfix_file_params p = {0};
	struct dpfix_ipfix_file_origin oa = origin(&sess_a, 1), ob = origin(&sess_b, 2);
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_msg m;
	struct file_result res;
	char path[128], err[256];
	uint8_t rec[5] = {17, 0, 0, 1, 0};
	uint32_t la, lb;

	snprintf(path, sizeof(path), "%s/two.ipfix", dir);
	p.path = path;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	la = make_message(a, 1, 0, &t_flow, 0, 3);
	dpfix_ipfix_msg_begin(&m, b, 65535);
	dpfix_ipfix_msg_add_template(&m, &t_other);
	dpfix_ipfix_msg_add_record(&m, 256, rec, 5);
	dpfix_ipfix_msg_add_record(&m, 256, rec, 5);
	lb = dpfix_ipfix_msg_finish(&m, 1, 0, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &oa, a, la, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &ob, b, lb, err, sizeof(err)), 0);
	la = make_message(a, 1, 3, NULL, 3, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &oa, a, la, err, sizeof(err)), 0);
	lb = make_message(b, 1, 2, NULL, 0, 0); /* b's numbering continues at 2 */
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &ob, b, lb, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->domains_renumbered, 1);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));

	read_file(path, &res);
	CHECK_EQ_U64(res.read_ret, 0);
	CHECK_EQ_U64(res.messages, 4);
	CHECK_EQ_U64(res.domains[0], 1);
	CHECK_EQ_U64(res.domains[1], 2);
	CHECK_EQ_U64(res.domains[2], 1);
	CHECK_EQ_U64(res.stats.data_records, 7);
	CHECK_EQ_U64(res.stats.sequence_lost + res.stats.sequence_out_of_order, 0);
	CHECK(strstr(res.json, "{\"protocolIdentifier\":17,\"octetDeltaCount\":256}") != NULL);
	CHECK(strstr(res.json, "\"sourceIPv4Address\":\"10.0.0.4\"") != NULL);
	free(res.json);
	remove_dir_files();
}

static void
test_file_names(void)
{
	char out[256];

	/* 2024-05-01T12:05:00Z */
	CHECK(dpfix_ipfix_file_name("/data/flows.ipfix", 1714565100000ull, 1, out, sizeof(out)) > 0);
	CHECK(strcmp(out, "/data/flows-20240501T120500Z-0001.ipfix") == 0);
	CHECK(dpfix_ipfix_file_name("flows", 1714565100999ull, 12345, out, sizeof(out)) > 0);
	CHECK(strcmp(out, "flows-20240501T120500Z-12345") == 0);
	CHECK(dpfix_ipfix_file_name("/a.b/.hidden", 0, 2, out, sizeof(out)) > 0);
	CHECK(strcmp(out, "/a.b/.hidden-19700101T000000Z-0002") == 0);
	CHECK(dpfix_ipfix_file_name("x.tar.ipfix", 0, 3, out, sizeof(out)) > 0);
	CHECK(strcmp(out, "x.tar-19700101T000000Z-0003.ipfix") == 0);
	CHECK(dpfix_ipfix_file_name("/data/flows.ipfix", 0, 1, out, 20) == -ENAMETOOLONG);
}

/* Rotation by size: several files, none past the limit, each decodes alone (its own
 * templates at its start), and together they hold every record in order. */
static void
rotation_by_size(int details)
{
	static uint8_t msgs[40][2048];
	static uint8_t all[40 * 2048];
	uint32_t lens[40], total = 0, seq = 0;
	struct dpfix_ipfix_file_params p = {.rotate_bytes = 1000, .details = details};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&sess_a, 1714565100000ull);
	char path[128], err[256], names[64][320];
	char *want, *got = NULL;
	size_t got_len = 0;
	FILE *cat = open_memstream(&got, &got_len);
	uint64_t records = 0;
	int n;

	snprintf(path, sizeof(path), "%s/flows.ipfix", dir);
	p.path = path;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	for (int i = 0; i < 40; i++) {
		lens[i] = make_message(msgs[i], 3, seq, i == 0 ? &t_flow : NULL, seq, 10);
		seq += 10;
		memcpy(all + total, msgs[i], lens[i]);
		total += lens[i];
		CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, msgs[i], lens[i], err, sizeof(err)), 0);
	}
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	n = list_files(names, 64);
	CHECK(n >= 9);
	for (int i = 0; i < n; i++) {
		struct file_result res;
		char want_name[256];

		dpfix_ipfix_file_name(path, 1714565100000ull, (unsigned int)i + 1, want_name,
				sizeof(want_name));
		CHECK(strcmp(names[i], want_name) == 0);
		read_file(names[i], &res);
		CHECK_EQ_U64(res.read_ret, 0);
		CHECK_EQ_U64(res.decode_errors, 0);
		CHECK_EQ_U64(res.stats.sets_unknown_template, 0);
		CHECK_EQ_U64(res.stats.sequence_lost + res.stats.sequence_out_of_order, 0);
		/* Ours: the Message Details template, and at the end the Session Details one. */
		CHECK_EQ_U64(res.stats.templates, details ? 3 : 1);
		/* Details on every message but the templates that start a later file. */
		CHECK_EQ_U64(res.stats.options_records, details ? res.messages - (i > 0) : 0);
		records += res.stats.data_records;
		if (details) /* only the flows: the options records are not in want */
			filter_lines(res.json, "Scope\":");
		fwrite(res.json, 1, strlen(res.json), cat);
		free(res.json);
		{
			FILE *f = fopen(names[i], "rb");
			long size;

			fseek(f, 0, SEEK_END);
			size = ftell(f);
			fclose(f);
			CHECK(size <= 1000);
		}
	}
	fclose(cat);
	CHECK_EQ_U64(records, 400);
	want = expected_json(all, lens, 40);
	CHECK(strcmp(got, want) == 0);
	free(want);
	free(got);
	remove_dir_files();
}

static void
test_rotation_by_size(void)
{
	rotation_by_size(0);
	rotation_by_size(1);
}

/* Rotation by time: files start at multiples of the interval and are named by that
 * start; tick closes a file whose interval has ended even with no new message; a
 * session that ended does not carry its templates into the next file. */
static void
test_rotation_by_time(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {.rotate_interval_ms = 60000};
	struct dpfix_ipfix_file_writer *w;
	uint64_t t0 = 1714565100000ull; /* 12:05:00 */
	struct dpfix_ipfix_file_origin o1 = origin(&sess_a, t0 + 1500), o2 = origin(&sess_b, t0 + 2000);
	char path[128], err[256], names[8][320], want[256];
	struct file_result res;
	uint32_t len;
	int n;

	snprintf(path, sizeof(path), "%s/t.ipfix", dir);
	p.path = path;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	len = make_message(m, 1, 0, &t_flow, 0, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o1, m, len, err, sizeof(err)), 0);
	len = make_message(m, 2, 0, &t_other, 0, 0);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o2, m, len, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_tick(w, t0 + 59999, err, sizeof(err)), 0);
	dpfix_ipfix_file_writer_session_closed(w, &sess_b);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_tick(w, t0 + 60000, err, sizeof(err)), 0);
	/* Nothing for two intervals, then more from session 1: its templates come first. */
	o1.collection_time_ms = t0 + 3 * 60000 + 10;
	len = make_message(m, 1, 2, NULL, 2, 3);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o1, m, len, err, sizeof(err)), 0);
	o1.collection_time_ms = t0 + 4 * 60000;
	len = make_message(m, 1, 5, NULL, 5, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o1, m, len, err, sizeof(err)), 0);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w) != NULL, 1);

	n = list_files(names, 8);
	CHECK_EQ_U64(n, 3);
	dpfix_ipfix_file_name(path, t0, 1, want, sizeof(want));
	CHECK(strcmp(names[0], want) == 0);
	dpfix_ipfix_file_name(path, t0 + 3 * 60000, 2, want, sizeof(want));
	CHECK(strcmp(names[1], want) == 0);
	dpfix_ipfix_file_name(path, t0 + 4 * 60000, 3, want, sizeof(want));
	CHECK(strcmp(names[2], want) == 0);
	read_file(names[0], &res);
	CHECK_EQ_U64(res.messages, 2);
	CHECK_EQ_U64(res.stats.data_records, 2);
	free(res.json);
	read_file(names[1], &res);
	CHECK_EQ_U64(res.messages, 2); /* session 1's template, then its message */
	CHECK_EQ_U64(res.stats.templates, 1);
	CHECK_EQ_U64(res.stats.data_records, 3);
	CHECK_EQ_U64(res.stats.sets_unknown_template, 0);
	CHECK_EQ_U64(res.domains[0], 1);
	free(res.json);
	read_file(names[2], &res);
	CHECK_EQ_U64(res.stats.data_records, 1);
	CHECK_EQ_U64(res.stats.sets_unknown_template, 0);
	free(res.json);
	remove_dir_files();
}

/* Rotated files are never overwritten: a name that exists is skipped. */
static void
test_rotation_never_overwrites(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {.rotate_interval_ms = 60000};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&sess_a, 0);
	char path[128], err[256], first[256], names[8][320];
	FILE *f;
	uint32_t len;

	snprintf(path, sizeof(path), "%s/x.ipfix", dir);
	p.path = path;
	dpfix_ipfix_file_name(path, 0, 1, first, sizeof(first));
	f = fopen(first, "w");
	fputs("keep", f);
	fclose(f);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	len = make_message(m, 1, 0, &t_flow, 0, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	CHECK_EQ_U64(list_files(names, 8), 2);
	f = fopen(first, "r");
	CHECK(f != NULL && fgetc(f) == 'k');
	fclose(f);
	remove_dir_files();
}

/* Message Details: one options record per stored message with the collection time,
 * addresses, ports and transport; an exporter template that takes our template's id,
 * or withdraws all options templates, makes the writer define ours again. */
static void
test_message_details(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {.details = 1};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&sess_a, 1714565100123ull);
	struct dpfix_ipfix_template high = t_other;
	struct dpfix_ipfix_msg mb;
	struct file_result res;
	char path[128], err[256];
	const char *want = "{\"messageScope\":0,\"collectionTimeMilliseconds\":"
		"\"2024-05-01T12:05:00.123Z\",\"exporterIPv4Address\":\"127.0.0.2\","
		"\"exporterTransportPort\":40000,\"collectorIPv4Address\":\"127.0.0.1\","
		"\"collectorTransportPort\":4739,\"exportTransportProtocol\":6,"
		"\"exportProtocolVersion\":10}";
	const char *at;
	uint32_t len;
	uint8_t rec[5] = {6, 0, 0, 0, 99};
	int count = 0;

	snprintf(path, sizeof(path), "%s/details.ipfix", dir);
	p.path = path;
	o.transport = IPPROTO_TCP; /* withdrawals count on TCP */
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	len = make_message(m, 1, 0, &t_flow, 0, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	/* The exporter defines 65535 (ours) and sends a record with it. */
	high.id = 65535;
	dpfix_ipfix_msg_begin(&mb, m, 65535);
	dpfix_ipfix_msg_add_template(&mb, &high);
	dpfix_ipfix_msg_add_record(&mb, 65535, rec, 5);
	len = dpfix_ipfix_msg_finish(&mb, 1, 2, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	/* All options templates withdrawn (a TCP exporter may do that). */
	dpfix_ipfix_msg_begin(&mb, m, 65535);
	dpfix_ipfix_msg_add_withdrawal(&mb, DPFIX_IPFIX_SET_OPTIONS_TEMPLATE,
			DPFIX_IPFIX_SET_OPTIONS_TEMPLATE);
	len = dpfix_ipfix_msg_finish(&mb, 1, 3, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	len = make_message(m, 1, 3, NULL, 2, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->details_skipped, 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);

	read_file(path, &res);
	CHECK_EQ_U64(res.read_ret, 0);
	CHECK_EQ_U64(res.messages, 5);               /* and the Export Session Details */
	CHECK_EQ_U64(res.decode_errors, 0);
	CHECK_EQ_U64(res.stats.sets_unknown_template, 0);
	CHECK_EQ_U64(res.stats.data_records, 4);     /* 2 + 1 + 1 flows, one from 65535 */
	CHECK_EQ_U64(res.stats.options_records, 5);  /* one Message Details per message + 1 */
	CHECK_EQ_U64(res.stats.templates_withdrawn, 1); /* ours, spelled out */
	CHECK_EQ_U64(res.stats.withdrawals_all, 0);
	CHECK_EQ_U64(res.stats.sequence_lost + res.stats.sequence_out_of_order, 0);
	for (at = res.json; (at = strstr(at, want)) != NULL; at++)
		count++;
	CHECK_EQ_U64(count, 4);
	CHECK(strstr(res.json, "{\"protocolIdentifier\":6,\"octetDeltaCount\":99}") != NULL);
	/* Last, the session: its export times 1 and 1700000000 (make_message's). */
	at = strrchr(res.json, '{');
	CHECK(at != NULL && strcmp(at, "{\"sessionScope\":0,\"exporterIPv4Address\":\"127.0.0.2\","
		"\"exporterTransportPort\":40000,\"collectorIPv4Address\":\"127.0.0.1\","
		"\"collectorTransportPort\":4739,\"exportTransportProtocol\":6,"
		"\"exportProtocolVersion\":10,\"minExportSeconds\":\"1970-01-01T00:00:01Z\","
		"\"maxExportSeconds\":\"2023-11-14T22:13:20Z\"}\n") == 0);
	free(res.json);
	remove_dir_files();
}

/* Withdrawals: from TCP the all-templates form becomes one withdrawal per template
 * (libfixbuf refuses the other); from UDP, where a collector ignores them, none is
 * stored. Either way the file means to a reader what the session meant. */
static void
test_withdrawals(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {0};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin tcp = origin(&sess_a, 0), udp = origin(&sess_b, 0);
	struct dpfix_ipfix_template t2 = t_other;
	struct dpfix_ipfix_msg mb;
	struct file_result res;
	char path[128], err[256];
	uint32_t len;

	snprintf(path, sizeof(path), "%s/w.ipfix", dir);
	p.path = path;
	tcp.transport = IPPROTO_TCP;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	t2.id = 300;
	for (int i = 0; i < 2; i++) {
		struct dpfix_ipfix_file_origin *o = i == 0 ? &tcp : &udp;

		dpfix_ipfix_msg_begin(&mb, m, 65535);
		dpfix_ipfix_msg_add_template(&mb, &t_flow);
		dpfix_ipfix_msg_add_template(&mb, &t2);
		len = dpfix_ipfix_msg_finish(&mb, 1, 0, 9);
		CHECK_EQ_U64(dpfix_ipfix_file_write(w, o, m, len, err, sizeof(err)), 0);
		dpfix_ipfix_msg_begin(&mb, m, 65535);
		dpfix_ipfix_msg_add_withdrawal(&mb, DPFIX_IPFIX_SET_TEMPLATE, DPFIX_IPFIX_SET_TEMPLATE);
		len = dpfix_ipfix_msg_finish(&mb, 1, 0, 9);
		CHECK_EQ_U64(dpfix_ipfix_file_write(w, o, m, len, err, sizeof(err)), 0);
	}
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->withdrawals_expanded, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->withdrawals_dropped, 1);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	read_file(path, &res);
	CHECK_EQ_U64(res.read_ret, 0);
	CHECK_EQ_U64(res.decode_errors, 0);
	CHECK_EQ_U64(res.messages, 4);
	CHECK_EQ_U64(res.stats.templates, 4);
	CHECK_EQ_U64(res.stats.withdrawals_all, 0);
	CHECK_EQ_U64(res.stats.templates_withdrawn, 2); /* 256 and 300 of the TCP session */
	CHECK_EQ_U64(res.stats.withdrawals_invalid, 0);
	free(res.json);
	remove_dir_files();
}

/* A write that fails (here the process's file size limit, as a full disk would) leaves
 * no partial message: the file is cut back to its last whole message, the lost
 * messages are counted, and the templates are written again before the next message,
 * so the file still decodes completely, its sequence numbers showing the loss. */
static void
test_write_failure(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {0};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&sess_a, 1000);
	struct dpfix_ipfix_template t2 = t_other;
	struct dpfix_ipfix_msg mb;
	uint8_t rec[5] = {6, 0, 0, 0, 99};
	struct rlimit saved, small;
	struct file_result res;
	char path[128], err[256];
	uint32_t len, first;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "%s/full.ipfix", dir);
	p.path = path;
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	first = make_message(m, 1, 0, &t_flow, 0, 4);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, first, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_tick(w, 3000, err, sizeof(err)), 0);
	/* Room for half of the next message only. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &saved);
	small = saved;
	small.rlim_cur = first + 60;
	CHECK_EQ_U64(setrlimit(RLIMIT_FSIZE, &small), 0);
	len = make_message(m, 1, 4, NULL, 4, 5);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	/* The lost message also defines template 300, which the last message uses. */
	t2.id = 300;
	dpfix_ipfix_msg_begin(&mb, m, 65535);
	dpfix_ipfix_msg_add_template(&mb, &t2);
	dpfix_ipfix_msg_add_record(&mb, 300, rec, 5);
	len = dpfix_ipfix_msg_finish(&mb, 1, 9, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	CHECK(dpfix_ipfix_file_writer_tick(w, 5000, err, sizeof(err)) == -EIO);
	CHECK(strstr(err, "write failed: File too large") != NULL);
	setrlimit(RLIMIT_FSIZE, &saved);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->messages_lost, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->write_errors, 1);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	CHECK_EQ_U64(size, first);
	dpfix_ipfix_msg_begin(&mb, m, 65535);
	dpfix_ipfix_msg_add_record(&mb, 300, rec, 5);
	dpfix_ipfix_msg_add_record(&mb, 300, rec, 5);
	len = dpfix_ipfix_msg_finish(&mb, 1, 10, 1);
	CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);
	read_file(path, &res);
	CHECK_EQ_U64(res.read_ret, 0);
	CHECK_EQ_U64(res.decode_errors, 0);
	CHECK_EQ_U64(res.messages, 3); /* the first, the templates again, the last */
	CHECK_EQ_U64(res.stats.data_records, 6);
	CHECK_EQ_U64(res.stats.sets_unknown_template, 0);
	CHECK_EQ_U64(res.stats.sequence_lost, 6);
	CHECK(strstr(res.json, "{\"protocolIdentifier\":6,\"octetDeltaCount\":99}") != NULL);
	free(res.json);
	remove_dir_files();
}

static void
test_refused(void)
{
	static uint8_t m[65536];
	struct dpfix_ipfix_file_params p = {0};
	struct dpfix_ipfix_file_writer *w;
	struct dpfix_ipfix_file_origin o = origin(&sess_a, 0);
	char path[128], err[256];
	uint32_t len;

	CHECK(dpfix_ipfix_file_writer_create(&p, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no file name") != NULL);
	snprintf(path, sizeof(path), "%s/no/such/dir/f.ipfix", dir);
	p.path = path;
	CHECK(dpfix_ipfix_file_writer_create(&p, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no/such/dir: No such file or directory") != NULL);
	/* A name the writer cannot create (a directory of that name) fails at the write. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0755);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	len = make_message(m, 1, 0, &t_flow, 0, 2);
	CHECK(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)) == -EIO);
	CHECK(strstr(err, "cannot create") != NULL);
	CHECK(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)) == -EIO);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	rmdir(path);

	snprintf(path, sizeof(path), "%s/r.ipfix", dir);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	CHECK(dpfix_ipfix_file_write(w, &o, m, len - 1, err, sizeof(err)) == -EBADMSG);
	m[len - 1 - 3 - 8] = 200; /* a record's variable length now overruns its set */
	m[18] = 0;
	m[19] = 3;                /* template set length 3 */
	CHECK(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)) == -EBADMSG);
	CHECK(strstr(err, "malformed message not written") != NULL);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->refused_malformed, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->messages, 0);
	dpfix_ipfix_file_writer_close(w, err, sizeof(err));
	remove_dir_files();
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/dpfix-unit-file.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	build_templates();
	RUN_TEST(test_frame);
	RUN_TEST(test_round_trip);
	RUN_TEST(test_truncation_every_offset);
	RUN_TEST(test_corrupt_stream);
	RUN_TEST(test_two_sessions_one_domain);
	RUN_TEST(test_file_names);
	RUN_TEST(test_rotation_by_size);
	RUN_TEST(test_rotation_by_time);
	RUN_TEST(test_rotation_never_overwrites);
	RUN_TEST(test_message_details);
	RUN_TEST(test_withdrawals);
	RUN_TEST(test_write_failure);
	RUN_TEST(test_refused);
	remove_dir_files();
	rmdir(dir);
	return unit_test_summary();
}
