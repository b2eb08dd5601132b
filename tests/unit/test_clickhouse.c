/* Unit tests for lib/clickhouse's parts that need no server: the columns and their types,
 * the table's DDL, Native columns byte for byte (reduced sizes, times, strings, absent
 * fields, the collector's own exporter winning), the shard choice against ClickHouse's
 * own sipHash64, batches, and the spool: round trip, order, the uncertain mark, the size
 * bound, a shard filter, a crash's leftovers, and memory full with the spiller late
 * (the collector's thread spools, nothing dropped); the HTTP client against a loopback peer
 * that closes without answering. The server side is tested in
 * tests/integration/collector_clickhouse*.sh against real clickhouse-server processes. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ch_batch.h"
#include "ch_http.h"
#include "ch_internal.h"
#include "ch_native.h"
#include "ch_schema.h"
#include "ch_shard.h"
#include "ch_spool.h"
#include "dpfix_ipfix_bytes.h"
#include "unit_test.h"

static const struct ch_column *
column(const struct ch_schema *s, const char *name)
{
	int i = ch_schema_find(s, name);

	return i < 0 ? NULL : &s->columns[i];
}

static void
test_default_columns(void)
{
	struct ch_schema s = {0};
	char err[256], ddl[8192];
	const struct ch_column *c;

	CHECK(ch_schema_default(&s, "bgpNextHopIPv4Address, interfaceName", err, sizeof(err)) == 0);
	CHECK(strcmp(s.columns[0].name, "collectionTimeMilliseconds") == 0);
	CHECK(strcmp(s.columns[0].type, "DateTime") == 0);
	CHECK(strcmp(s.columns[1].name, "collectionTimeMilliseconds_ms") == 0);
	CHECK(strcmp(s.columns[1].type, "UInt16") == 0);
	CHECK(strcmp(s.columns[s.count - 1].name, CH_BATCH_ID_COLUMN) == 0);
	c = column(&s, "exporterIPv6Address");
	CHECK(c != NULL && strcmp(c->type, "FixedString(16)") == 0 && c->fixed_len == 16);
	c = column(&s, "sourceIPv4Address");
	CHECK(c != NULL && strcmp(c->type, "UInt32") == 0 && c->conv == CH_CONV_IPV4);
	c = column(&s, "octetDeltaCount");
	CHECK(c != NULL && strcmp(c->type, "UInt64") == 0);
	c = column(&s, "reverseOctetDeltaCount");
	CHECK(c != NULL && strcmp(c->type, "UInt64") == 0 && c->ie->pen == DPFIX_IPFIX_PEN_REVERSE);
	c = column(&s, "reverseFlowEndMilliseconds_ms");
	CHECK(c != NULL && c->conv == CH_CONV_MS);
	CHECK(column(&s, "egressInterface") == NULL);   /* not dpfix-probe's: by name only */
	CHECK(ch_schema_add_element(&s, dpfix_ipfix_ie_by_name("flowStartSeconds")) == 0);
	c = column(&s, "flowStartSeconds");
	CHECK(c != NULL && strcmp(c->type, "DateTime") == 0);
	CHECK(column(&s, "flowStartSeconds_ms") == NULL);
	c = column(&s, "interfaceName");
	CHECK(c != NULL && strcmp(c->type, "String") == 0 && c->conv == CH_CONV_STRING);
	CHECK(column(&s, "bgpNextHopIPv4Address") != NULL);
	c = column(&s, "mplsTopLabelStackSection");
	CHECK(c != NULL && c->conv == CH_CONV_BYTES);
	CHECK(ch_schema_create_table(&s, "dpfix", "flows", ddl, sizeof(ddl)) > 0);
	CHECK(strstr(ddl, "CREATE TABLE IF NOT EXISTS `dpfix`.`flows` (`collectionTimeMilliseconds` "
			"DateTime, `collectionTimeMilliseconds_ms` UInt16, ") == ddl);
	CHECK(strstr(ddl, "PARTITION BY toYYYYMMDD(collectionTimeMilliseconds, 'UTC')") != NULL);
	CHECK(strstr(ddl, "ORDER BY (toStartOfMinute(collectionTimeMilliseconds), "
			"exporterIPv6Address, sourceIPv4Address, sourceIPv6Address)") != NULL);
	CHECK(ch_schema_create_table(&s, "dpfix", "flows", ddl, 100) == -ENAMETOOLONG);
	ch_schema_free(&s);
	CHECK(ch_schema_default(&s, "noSuchElement", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "noSuchElement") != NULL);
	ch_schema_free(&s);
	CHECK(ch_identifier_valid("flows_2") && !ch_identifier_valid("a`b") && !ch_identifier_valid(""));
}

static int notes;

static void
count_note(void *arg, const char *text)
{
	(void)arg;
	(void)text;
	notes++;
}

static void
test_table_columns(void)
{
	struct ch_schema s = {0}, other = {0};

	notes = 0;
	/* Unknown names, a wrong type and an ALIAS column are left alone; the rest match. */
	CHECK(ch_schema_from_columns(&s,
			"octetDeltaCount\tUInt64\t\n"
			"comment\tString\t\n"
			"sourceIPv4Address\tString\t\n"
			"flowEndMilliseconds\tDateTime\t\n"
			"flowEndMilliseconds_ms\tUInt16\t\n"
			"flowEndMilliseconds_us\tUInt32\t\n"
			"bytes\tUInt64\tALIAS\n"
			"dpfixBatchId\tUInt64\tDEFAULT\n", count_note, NULL) == 0);
	CHECK_EQ_U64(s.count, 4);
	CHECK_EQ_U64(notes, 3);
	CHECK(column(&s, "flowEndMilliseconds_ms")->conv == CH_CONV_MS);
	CHECK(column(&s, CH_BATCH_ID_COLUMN)->conv == CH_CONV_BATCH_ID);
	CHECK(ch_schema_from_columns(&other, "octetDeltaCount\tUInt64\t\n"
			"flowEndMilliseconds\tUInt32\t\n", count_note, NULL) == 0);
	ch_schema_intersect(&s, &other);
	CHECK_EQ_U64(s.count, 1);
	ch_schema_free(&s);
	ch_schema_free(&other);
}

/* A template with reduced sizes, a time in milliseconds, a string of variable length and
 * the collector's meta fields after an exporterIPv6Address of the exporter's own. */
static void
build_template(struct dpfix_ipfix_template *t)
{
	dpfix_ipfix_template_init(t, 300, 0);
	dpfix_ipfix_template_add(t, 0, IE_exporterIPv6Address, 16);      /* the exporter's: loses */
	dpfix_ipfix_template_add(t, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(t, 0, IE_octetDeltaCount, 4);           /* reduced */
	dpfix_ipfix_template_add(t, 0, IE_flowEndMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, 82 /* interfaceName */, DPFIX_IPFIX_VARLEN);
	dpfix_ipfix_template_add(t, 0, IE_exporterIPv6Address, 16);
	dpfix_ipfix_template_add(t, 0, IE_observationDomainId, 4);
	dpfix_ipfix_template_add(t, 0, IE_collectionTimeMilliseconds, 8);
}

static size_t
build_record(uint8_t *r, uint32_t src, uint32_t octets, const char *name, uint8_t exporter_last)
{
	uint8_t *p = r;

	memset(p, 0xee, 16);                    /* the exporter's own exporterIPv6Address */
	p += 16;
	dpfix_put32(p, src);
	p += 4;
	dpfix_put32(p, octets);
	p += 4;
	p = dpfix_put_be(p, 1700000000123ull, 8);
	*p++ = (uint8_t)strlen(name);
	memcpy(p, name, strlen(name));
	p += strlen(name);
	memset(p, 0, 16);                       /* the collector's: ::ffff:10.0.0.X */
	p[10] = p[11] = 0xff;
	p[12] = 10;
	p[15] = exporter_last;
	p += 16;
	dpfix_put32(p, 7);
	p += 4;
	p = dpfix_put_be(p, 1700000001999ull, 8);
	return (size_t)(p - r);
}

static void
test_native(void)
{
	struct ch_schema s = {0};
	struct dpfix_ipfix_template t;
	struct ch_plan plan;
	struct ch_buf cols[12] = {{0}};
	uint8_t rec[128], rec2[128], used[12], head[CH_NATIVE_HEAD_MAX];
	size_t len, len2, off = 0;
	/* Each column's bytes for one record (as RowBinary has the row, column by column). */
	static const uint32_t widths[12] = {4, 2, 16, 4, 4, 8, 4, 2, 5, 1, 1, 8};
	static const uint8_t expect[] = {
		/* collectionTimeMilliseconds DateTime 1700000001, _ms UInt16 999 */
		0x01, 0xf1, 0x53, 0x65, 0xe7, 0x03,
		/* exporterIPv6Address: the collector's, the last of the record */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5,
		/* observationDomainId 7 */
		7, 0, 0, 0,
		/* sourceIPv4Address 192.0.2.1 as UInt32 */
		0x01, 0x02, 0x00, 0xc0,
		/* octetDeltaCount from 4 octets, 8 in the column */
		0x40, 0xe2, 0x01, 0, 0, 0, 0, 0,
		/* flowEndMilliseconds 1700000000, _ms 123 */
		0x00, 0xf1, 0x53, 0x65, 0x7b, 0x00,
		/* interfaceName "eth0" as String */
		4, 'e', 't', 'h', '0',
		/* protocolIdentifier: absent, 0 */
		0,
		/* applicationName: absent, an empty String */
		0,
		/* dpfixBatchId */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	};
	static const uint8_t source_head[] = {17, 's', 'o', 'u', 'r', 'c', 'e', 'I', 'P', 'v',
		'4', 'A', 'd', 'd', 'r', 'e', 's', 's', 6, 'U', 'I', 'n', 't', '3', '2'};

	notes = 0;
	CHECK(ch_schema_from_columns(&s,
			"collectionTimeMilliseconds\tDateTime\t\n"
			"collectionTimeMilliseconds_ms\tUInt16\t\n"
			"exporterIPv6Address\tFixedString(16)\t\n"
			"observationDomainId\tUInt32\t\n"
			"sourceIPv4Address\tUInt32\t\n"
			"octetDeltaCount\tUInt64\t\n"
			"flowEndMilliseconds\tDateTime\t\n"
			"flowEndMilliseconds_ms\tUInt16\t\n"
			"interfaceName\tString\t\n"
			"protocolIdentifier\tUInt8\t\n"
			"applicationName\tString\t\n"
			"dpfixBatchId\tUInt64\t\n", count_note, NULL) == 0);
	CHECK_EQ_U64(notes, 0);
	build_template(&t);
	len = build_record(rec, 0xc0000201, 123456, "eth0", 5);
	len2 = build_record(rec2, 0xc0000202, 123456, "eth0", 5);
	CHECK(ch_plan_build(&plan, &s, &t) == 0);
	CHECK_EQ_U64(plan.exporter_field, 5);
	CHECK_EQ_U64(plan.unmapped, 1);         /* the exporter's own exporterIPv6Address */
	CHECK_EQ_U64(plan.unmapped_fields[0], 0);
	CHECK(ch_plan_fields(&plan, rec, (uint32_t)len) == 0);
	CHECK(ch_row_exporter(&plan, rec)[15] == 5);
	memset(used, 1, sizeof(used));
	CHECK(ch_plan_compile(&plan, &s, used) == 0);
	CHECK_EQ_U64(plan.op_count, 12);
	CHECK(ch_row_encode(cols, &s, &plan, rec, 0x1122334455667788ull) == 0);
	CHECK(ch_plan_fields(&plan, rec2, (uint32_t)len2) == 0);
	CHECK(ch_row_encode(cols, &s, &plan, rec2, 0x1122334455667788ull) == 0);
	/* Each column holds its value of the first record, then of the second: the same but
	 * for the source address. */
	for (uint32_t c = 0; c < 12; c++) {
		CHECK_EQ_U64(cols[c].len, 2 * widths[c]);
		CHECK(cols[c].len == 2 * widths[c] && memcmp(cols[c].p, expect + off, widths[c]) == 0);
		if (c != 4)
			CHECK(cols[c].len == 2 * widths[c] &&
					memcmp(cols[c].p + widths[c], expect + off, widths[c]) == 0);
		off += widths[c];
	}
	CHECK(cols[4].len == 8 && memcmp(cols[4].p + 4, "\x02\x02\x00\xc0", 4) == 0);
	/* Only the columns an insert names: without the absent protocolIdentifier and
	 * applicationName (ClickHouse gives them their defaults), the batch id is the tenth. */
	used[9] = used[10] = 0;
	for (uint32_t c = 0; c < 12; c++)
		cols[c].len = 0;
	CHECK(ch_plan_fields(&plan, rec, (uint32_t)len) == 0);
	CHECK(ch_plan_compile(&plan, &s, used) == 0);
	CHECK_EQ_U64(plan.op_count, 10);
	CHECK(ch_row_encode(cols, &s, &plan, rec, 0x1122334455667788ull) == 0);
	CHECK(cols[9].len == 8 && memcmp(cols[9].p, expect + sizeof(expect) - 8, 8) == 0);
	CHECK_EQ_U64(cols[10].len, 0);
	/* The heads: a block's counts, a column's name and type. */
	CHECK_EQ_U64(ch_native_block_head(head, 10, 300), 3);
	CHECK(head[0] == 10 && head[1] == 0xac && head[2] == 0x02);
	CHECK(ch_native_column_head(&cols[0], &s.columns[4]) == 0);
	CHECK(cols[0].len == sizeof(source_head) && memcmp(cols[0].p, source_head,
			sizeof(source_head)) == 0);
	/* A record cut short is refused, never read past. */
	CHECK(ch_plan_fields(&plan, rec, 30) == -EBADMSG);
	ch_plan_free(&plan);
	for (uint32_t c = 0; c < 12; c++)
		ch_buf_free(&cols[c]);
	ch_schema_free(&s);
}

static void
test_shards(void)
{
	static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	struct ch_shard_map m;
	uint32_t weights[3] = {1, 2, 0}, count[3] = {0};

	/* SELECT sipHash64(toFixedString(unhex('00000000000000000000ffff7f000001'), 16)) */
	CHECK_EQ_U64(ch_siphash64(loopback, 16), 10499450800141231160ull);
	/* SipHash-2-4's own test vector (key 0..15 differs: only the empty input with a zero
	 * key is checked against ClickHouse: SELECT sipHash64('')). */
	CHECK_EQ_U64(ch_siphash64((const uint8_t *)"", 0), 2202906307356721367ull);
	CHECK(ch_shard_map_init(&m, weights, 3) == 0);
	CHECK_EQ_U64(m.total_weight, 3);
	for (uint32_t i = 0; i < 3000; i++) {
		uint8_t a[16] = {0};

		dpfix_put32(a + 12, i * 2654435761u);
		count[ch_shard_of(&m, a)]++;
	}
	/* Weights 1:2:0 share 3000 exporters about 1000:2000:0. */
	CHECK(count[0] > 850 && count[0] < 1150 && count[2] == 0);
	CHECK_EQ_U64(count[0] + count[1], 3000);
	ch_shard_map_free(&m);
	weights[0] = weights[1] = 0;
	CHECK(ch_shard_map_init(&m, weights, 2) == -EINVAL);
}

static char spool_dir[64];

static struct ch_batch *
make_batch(uint64_t id, uint32_t rows)
{
	struct ch_batch *b = ch_batch_create();
	struct dpfix_ipfix_template t, plain;
	uint8_t rec[128];
	struct ch_meta meta = {.domain = 9, .collection_time_ms = 1700000002000ull};
	int slot_a, slot_b;

	build_template(&t);
	dpfix_ipfix_template_init(&plain, 256, 0);
	dpfix_ipfix_template_add(&plain, 0, IE_packetDeltaCount, 8);
	b->id = id;
	slot_a = ch_batch_add_template(b, &t, 0);
	slot_b = ch_batch_add_template(b, &plain, 1);
	CHECK(slot_a == 0 && slot_b == 1);
	CHECK_EQ_U64(b->templates[1]->field_count, 1 + CH_META_FIELDS);
	CHECK_EQ_U64(b->templates[1]->id, 257);
	for (uint32_t i = 0; i < rows; i++) {
		if (i % 3 == 2) {
			uint8_t p[8];

			dpfix_put_be(p, i, 8);
			meta.exporter[15] = (uint8_t)i;
			CHECK(ch_batch_add_record(b, 1, p, 8, &meta) == 0);
		} else {
			size_t len = build_record(rec, i, i * 10, i % 2 ? "ge-0/0/1" : "x", (uint8_t)i);

			CHECK(ch_batch_add_record(b, 0, rec, (uint32_t)len, NULL) == 0);
		}
	}
	b->first_ms = 1700000001999ull;
	b->last_ms = 1700000002000ull;
	return b;
}

/* The records of a and b, slot by slot and byte for byte. */
static int
same_records(const struct ch_batch *a, const struct ch_batch *b)
{
	size_t oa = 0, ob = 0;
	const uint8_t *ra, *rb;
	uint32_t sa, sb, la, lb;

	if (a->rows != b->rows)
		return 0;
	while (ch_batch_next(a, &oa, &sa, &ra, &la)) {
		const struct dpfix_ipfix_template *ta = a->templates[sa], *tb;

		if (!ch_batch_next(b, &ob, &sb, &rb, &lb))
			return 0;
		tb = b->templates[sb];
		if (la != lb || memcmp(ra, rb, la) != 0 || ta->field_count != tb->field_count ||
				memcmp(ta->fields, tb->fields, ta->field_count * sizeof(ta->fields[0])) != 0)
			return 0;
	}
	return 1;
}

static int
keep_odd(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len)
{
	(void)arg;
	(void)slot;
	return rec[len - 28 + 15] & 1;  /* the last octet of the collector's exporter */
}

static void
test_spool(void)
{
	struct ch_batch *b1 = make_batch(0xabc, 1000), *b2 = make_batch(0xdef, 10);
	struct ch_batch *back = ch_batch_create();
	struct ch_spool sp;
	char err[512], path[256];
	uint64_t one;
	int fd;

	snprintf(spool_dir, sizeof(spool_dir), "/tmp/dpfix-unit-spool.XXXXXX");
	CHECK(mkdtemp(spool_dir) != NULL);
	CHECK(ch_spool_open(&sp, spool_dir, err, sizeof(err)) == 0);
	CHECK_EQ_U64(ch_spool_files(&sp), 0);
	CHECK(ch_spool_write(&sp, b1, NULL, NULL, 0, err, sizeof(err)) == 1);
	one = sp.bytes;
	b2->shards_uncertain = 1;
	CHECK(ch_spool_write(&sp, b2, NULL, NULL, 0, err, sizeof(err)) == 1);
	/* Past the bound nothing is written, and nothing is left behind. */
	CHECK(ch_spool_write(&sp, b1, NULL, NULL, sp.bytes + one / 2, err, sizeof(err)) == -ENOSPC);
	CHECK(strstr(err, "the spool is full") != NULL);
	CHECK_EQ_U64(ch_spool_files(&sp), 2);
	snprintf(path, sizeof(path), "%s/00000000000000000002-0000000000000def-u.ipfix", spool_dir);
	CHECK(access(path, F_OK) == 0);
	ch_spool_close(&sp);

	/* A crash's leftover, removed when the spool opens. */
	snprintf(path, sizeof(path), "%s/.00000000000000000009.tmp", spool_dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	CHECK(ch_spool_open(&sp, spool_dir, err, sizeof(err)) == 0);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ_U64(ch_spool_files(&sp), 2);
	CHECK_EQ_U64(sp.next_seq, 3);
	/* Two writers take the two files, oldest first, and may end them in any order. The
	 * first file may have been inserted by a run that stopped before removing it. */
	CHECK_EQ_U64(ch_spool_claim(&sp), 1);
	CHECK(ch_spool_waiting(&sp));
	CHECK_EQ_U64(ch_spool_claim(&sp), 2);
	CHECK(!ch_spool_waiting(&sp));
	CHECK_EQ_U64(ch_spool_claim(&sp), 0);
	err[0] = '\0';
	CHECK(ch_spool_read(&sp, 1, back, err, sizeof(err)) == 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);
	CHECK(back->id == 0xabc && back->shards_uncertain != 0 && back->from_spool == 1);
	CHECK(same_records(b1, back));
	CHECK_EQ_U64(back->first_ms, 1700000001999ull);
	CHECK_EQ_U64(back->last_ms, 1700000002000ull);
	CHECK(ch_spool_read(&sp, 2, back, err, sizeof(err)) == 0);
	CHECK(back->id == 0xdef && back->shards_uncertain != 0);
	CHECK(same_records(b2, back));
	ch_spool_remove(&sp, 2);
	CHECK_EQ_U64(ch_spool_files(&sp), 1);
	CHECK_EQ_U64(sp.bytes, one);
	/* The first fails: let go, marked for a check, taken again. */
	CHECK(ch_spool_mark_uncertain(&sp, 1) == 0);
	snprintf(path, sizeof(path), "%s/00000000000000000001-0000000000000abc-u.ipfix", spool_dir);
	CHECK(access(path, F_OK) == 0);
	ch_spool_release(&sp, 1);
	CHECK_EQ_U64(ch_spool_claim(&sp), 1);
	CHECK(ch_spool_read(&sp, 1, back, err, sizeof(err)) == 0);
	CHECK(same_records(b1, back));
	ch_spool_remove(&sp, 1);
	CHECK_EQ_U64(ch_spool_files(&sp), 0);
	CHECK_EQ_U64(sp.bytes, 0);
	CHECK(access(path, F_OK) != 0);

	/* Only the rows a shard still lacks are kept. */
	b1->shards_uncertain = 0;
	CHECK(ch_spool_write(&sp, b1, keep_odd, NULL, 0, err, sizeof(err)) == 1);
	CHECK_EQ_U64(ch_spool_claim(&sp), 3);
	CHECK(ch_spool_read(&sp, 3, back, err, sizeof(err)) == 0);
	CHECK_EQ_U64(back->rows, 500);
	CHECK(back->shards_uncertain == 0);
	/* A file that is not a batch is set aside, not replayed. */
	ch_spool_remove(&sp, 3);
	snprintf(path, sizeof(path), "%s/00000000000000000007-0000000000000001.ipfix", spool_dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "\x00\x0a\x00\x05junk", 8) == 8);
	close(fd);
	ch_spool_close(&sp);
	CHECK(ch_spool_open(&sp, spool_dir, err, sizeof(err)) == 0);
	CHECK_EQ_U64(ch_spool_claim(&sp), 7);
	CHECK(ch_spool_read(&sp, 7, back, err, sizeof(err)) == -EBADMSG);
	ch_spool_reject(&sp, 7);
	CHECK_EQ_U64(ch_spool_files(&sp), 0);
	snprintf(path, sizeof(path), "%s/rejected/00000000000000000007-0000000000000001.ipfix",
			spool_dir);
	CHECK(access(path, F_OK) == 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rejected", spool_dir);
	rmdir(path);
	ch_spool_close(&sp);
	CHECK(rmdir(spool_dir) == 0);
	ch_batch_free(b1);
	ch_batch_free(b2);
	ch_batch_free(back);
}

static void
test_url(void)
{
	struct ch_http_server s;
	char err[256], q[64] = "";

	CHECK(ch_http_parse_url("http://127.0.0.1:8124", &s, err, sizeof(err)) == 0);
	CHECK(strcmp(s.host, "127.0.0.1") == 0 && s.port == 8124);
	CHECK(ch_http_parse_url("http://[::1]:9/", &s, err, sizeof(err)) == 0);
	CHECK(strcmp(s.host, "::1") == 0 && s.port == 9);
	CHECK(ch_http_parse_url("http://ch.example", &s, err, sizeof(err)) == 0 && s.port == 8123);
	CHECK(ch_http_parse_url("https://ch.example", &s, err, sizeof(err)) == -EINVAL);
	CHECK(ch_http_parse_url("http://user:pw@ch.example", &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "from a file") != NULL);
	CHECK(ch_http_parse_url("http://h:0", &s, err, sizeof(err)) == -EINVAL);
	CHECK(ch_http_parse_url("http://h:8123/x", &s, err, sizeof(err)) == -EINVAL);
	CHECK(ch_http_set_credentials(&s, "dpfix", "pass") == 0);
	CHECK(strcmp(s.authorization, "Basic ZHBmaXg6cGFzcw==") == 0);
	CHECK(ch_http_query_escape(q, sizeof(q), "a b/c") == 9 && strcmp(q, "a%20b%2Fc") == 0);
}

/* A server killed while a request is under way: it took the request whole, then its
 * connection closed with nothing sent back (kill -9 of clickhouse-server mid-insert). */
static void *
read_request_and_close(void *arg)
{
	int listener = *(int *)arg, fd = accept(listener, NULL, NULL);
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (fd >= 0 && len < sizeof(buf) - 1 &&
			(n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The first request of a response that never held a body meets a connection closed
 * without an answer: "no answer" (it may have run), not a crash. A writer thread's first
 * insert when ClickHouse was killed made dpfix-collector dereference the NULL body. */
static void
test_closed_without_answer(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct ch_http_response r = {0};
	struct ch_http_server s;
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char err[256] = "", url[64];
	pthread_t peer;
	int ret;

	CHECK(listener >= 0);
	CHECK(bind(listener, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(listener, 1) == 0);
	CHECK(getsockname(listener, (struct sockaddr *)&a, &alen) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(a.sin_port));
	CHECK(ch_http_parse_url(url, &s, err, sizeof(err)) == 0);
	s.timeout_ms = 5000;
	CHECK(pthread_create(&peer, NULL, read_request_and_close, &listener) == 0);
	ret = ch_http_post(&s, "/", NULL, 0, 0, &r, err, sizeof(err));
	pthread_join(peer, NULL);
	CHECK(ret == -EBADMSG);
	CHECK(r.outcome == CH_HTTP_NO_ANSWER);
	CHECK(strstr(err, "the connection ended before a whole answer") != NULL);
	ch_http_response_free(&r);
	close(listener);
}

/* Memory full while the spiller is late (here: never started, nor any writer), with a
 * spool that has room: the collector's thread spools the oldest batches itself, in order;
 * nothing is dropped. The old code dropped every batch that found memory full (a 20 000
 * row batch's buffer grows to ~4 MiB: with 8 MiB the spiller had ~100 ms). */
static void
test_memory_full_spools(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int closed = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char dir[64] = "/tmp/dpfix-unit-spill.XXXXXX", url[64], err[256];
	struct dpfix_clickhouse_params p = {.batch_rows = 100, .memory_bytes = 512 * 1024,
		.timeout_ms = 1000};
	struct dpfix_clickhouse_origin o = {.session = 1, .domain = 7,
		.time_ms = 1700000000000ull};
	struct dpfix_ipfix_template t;
	struct dpfix_clickhouse *ch;
	struct dpfix_clickhouse_stats st;
	struct ch_batch *back = ch_batch_create(), *b;
	struct ch_spool sp;
	uint64_t in_memory = 0, next = 0, seq;
	const uint32_t records = 5000;

	/* A port nobody listens on: ClickHouse is away. */
	CHECK(closed >= 0);
	CHECK(bind(closed, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(closed, (struct sockaddr *)&a, &alen) == 0);
	close(closed);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(a.sin_port));
	CHECK(mkdtemp(dir) != NULL);
	p.url = url;
	p.spool_dir = dir;
	ch = ch_create(&p, 0, err, sizeof(err));
	CHECK(ch != NULL);
	if (ch == NULL)
		return;
	dpfix_ipfix_template_init(&t, 256, 0);
	dpfix_ipfix_template_add(&t, 0, IE_packetDeltaCount, 8);
	for (uint32_t i = 0; i < records; i++) {
		uint8_t rec[8];

		dpfix_put_be(rec, i, 8);
		dpfix_clickhouse_add(ch, &o, &t, rec, sizeof(rec));
	}
	dpfix_clickhouse_finish(ch);
	dpfix_clickhouse_stats(ch, &st);
	for (b = ch->queue_head; b != NULL; b = b->next)
		in_memory += b->rows;
	CHECK_EQ_U64(st.rows_dropped, 0);
	CHECK_EQ_U64(st.batches_dropped, 0);
	CHECK(st.rows_spooled > 0 && in_memory > 0);
	CHECK_EQ_U64(st.rows_spooled + in_memory, records);
	CHECK(ch->queued_bytes <= p.memory_bytes);
	dpfix_clickhouse_free(ch);

	/* The spool holds the oldest records, each once, in the order received. */
	CHECK(ch_spool_open(&sp, dir, err, sizeof(err)) == 0);
	while ((seq = ch_spool_claim(&sp)) != 0) {
		size_t off = 0;
		const uint8_t *rec;
		uint32_t slot, len;

		CHECK(ch_spool_read(&sp, seq, back, err, sizeof(err)) == 0);
		while (ch_batch_next(back, &off, &slot, &rec, &len)) {
			CHECK_EQ_U64(dpfix_get_be(rec, 8), next);
			next++;
		}
		ch_spool_remove(&sp, seq);
	}
	CHECK_EQ_U64(next, st.rows_spooled);
	ch_spool_close(&sp);
	CHECK(rmdir(dir) == 0);
	ch_batch_free(back);
}

int
main(void)
{
	RUN_TEST(test_default_columns);
	RUN_TEST(test_table_columns);
	RUN_TEST(test_native);
	RUN_TEST(test_shards);
	RUN_TEST(test_spool);
	RUN_TEST(test_url);
	RUN_TEST(test_closed_without_answer);
	RUN_TEST(test_memory_full_spools);
	return unit_test_summary();
}
