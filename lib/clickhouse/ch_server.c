/* ClickHouse requests (ch_server.h). A cluster's shards are found in the entry server's
 * system.clusters and reached over HTTP at their address with the entry's HTTP port
 * (ClickHouse lists only their native port): the collector creates the tables there
 * itself, as distributed DDL (ON CLUSTER) needs ZooKeeper, and inserts into each shard's
 * table, which makes each shard's insert all or nothing, so a retry never doubles the
 * rows a shard took when another refused. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch_batch.h"
#include "ch_server.h"

#define SQL_MAX 16384

static int
code_in(int code, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == code)
			return 1;
	return 0;
}

/* The exception codes (ClickHouse's ErrorCodes) that decide what to do. */
static enum ch_result
classify(const struct ch_http_response *r)
{
	static const int auth[] = {192, 193, 194, 195, 516};
	static const int schema[] = {10, 16, 47, 60, 81};
	static const int bad_data[] = {6, 26, 27, 32, 33, 38, 41, 53, 70, 117};

	if (r->outcome == CH_HTTP_NOT_SENT)
		return CH_UNREACHABLE;
	if (r->outcome == CH_HTTP_NO_ANSWER)
		return CH_NO_ANSWER;
	if (r->status == 200)
		return CH_OK;
	if (r->status == 401 || code_in(r->exception_code, auth, sizeof(auth) / sizeof(auth[0])))
		return CH_AUTH;
	if (code_in(r->exception_code, schema, sizeof(schema) / sizeof(schema[0])))
		return CH_SCHEMA;
	if (code_in(r->exception_code, bad_data, sizeof(bad_data) / sizeof(bad_data[0])))
		return CH_BAD_DATA;
	return CH_REFUSED;
}

static enum ch_result
post(struct ch_http_response *r, const struct ch_http_server *h, const struct iovec *iov,
		int iovcnt, size_t len, char *err, size_t errlen)
{
	enum ch_result res;

	ch_http_post(h, "/", iov, iovcnt, len, r, err, errlen);
	res = classify(r);
	if (res != CH_OK && r->outcome == CH_HTTP_ANSWERED) {
		/* ClickHouse's message ("Code: N, e.displayText() = DB::Exception: TEXT, e.what()
		 * = ..." and a stack trace) as "TEXT (code N)" on one line. */
		const char *body = r->body, *text = strstr(body, "DB::Exception: ");
		size_t n;

		text = text != NULL ? text + 15 : body;
		n = strcspn(text, "\n");
		if (strstr(text, ", e.what()") != NULL && (size_t)(strstr(text, ", e.what()") - text) < n)
			n = (size_t)(strstr(text, ", e.what()") - text);
		if (n > 300)
			n = 300;
		snprintf(err, errlen, "%s:%u: HTTP %d: %.*s (code %d)", h->host, h->port,
				r->status, (int)n, text, r->exception_code);
	}
	return res;
}

enum ch_result
ch_server_query(struct ch_http_response *r, const struct ch_http_server *h, const char *sql,
		char *err, size_t errlen)
{
	struct iovec iov = {.iov_base = (void *)sql, .iov_len = strlen(sql)};

	return post(r, h, &iov, 1, iov.iov_len, err, errlen);
}

int
ch_server_insert_query(const struct ch_server *s, const uint8_t *used, struct ch_buf *out)
{
	size_t need = 64 + strlen(s->table);
	int n;

	for (uint32_t i = 0; i < s->schema.count; i++)
		need += strlen(s->schema.columns[i].name) + 4;
	out->len = 0;
	if (ch_buf_reserve(out, need) < 0)
		return -ENOMEM;
	n = sprintf((char *)out->p, "INSERT INTO %s (", s->table);
	for (uint32_t i = 0, first = 1; i < s->schema.count; i++) {
		if (!used[i])
			continue;
		n += sprintf((char *)out->p + n, "%s`%s`", first ? "" : ", ", s->schema.columns[i].name);
		first = 0;
	}
	n += sprintf((char *)out->p + n, ") FORMAT Native\n");
	out->len = (size_t)n;
	return 0;
}

enum ch_result
ch_server_insert(const struct ch_server *s, struct ch_http_response *r, uint32_t shard,
		const struct iovec *iov, int iovcnt, char *err, size_t errlen)
{
	size_t len = 0;

	/* The query leads the body and the data follow it: the query never meets a URL's
	 * length limit, however many columns. */
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	return post(r, &s->shards[shard], iov, iovcnt, len, err, errlen);
}

int
ch_server_init(struct ch_server *s, const struct ch_server_params *p, char *err, size_t errlen)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = ch_http_parse_url(p->url, &s->entry, err, errlen);
	if (ret < 0)
		return ret;
	s->entry.timeout_ms = p->timeout_ms;
	if (p->user != NULL && p->user[0] != '\0' &&
			ch_http_set_credentials(&s->entry, p->user, p->password ? p->password : "") < 0) {
		snprintf(err, errlen, "user and password too long");
		return -EINVAL;
	}
	if (!ch_identifier_valid(p->database) || !ch_identifier_valid(p->table) ||
			(p->cluster != NULL && p->cluster[0] != '\0' && !ch_identifier_valid(p->cluster))) {
		snprintf(err, errlen, "database, table and cluster names are letters, digits and "
				"'_' (got '%s', '%s', '%s')", p->database, p->table,
				p->cluster ? p->cluster : "");
		return -EINVAL;
	}
	return 0;
}

void
ch_server_free(struct ch_server *s)
{
	free(s->shards);
	ch_shard_map_free(&s->map);
	ch_schema_free(&s->schema);
	ch_http_response_free(&s->response);
	memset(s, 0, sizeof(*s));
}

/* The shards of cluster, from the entry's system.clusters: the first replica of each
 * (a shard with replicas replicates by itself, ReplicatedMergeTree). */
static enum ch_result
find_shards(struct ch_server *s, const char *cluster, char *err, size_t errlen)
{
	uint32_t weights[CH_BATCH_MAX_SHARDS];
	char sql[512];
	enum ch_result res;
	const char *p;

	snprintf(sql, sizeof(sql), "SELECT shard_weight, host_address FROM system.clusters "
			"WHERE cluster = '%s' AND replica_num = 1 ORDER BY shard_num FORMAT TSV", cluster);
	res = ch_server_query(&s->response, &s->entry, sql, err, errlen);
	if (res != CH_OK)
		return res;
	free(s->shards);
	s->shards = NULL;
	s->shard_count = 0;
	for (p = s->response.body; *p != '\0';) {
		const char *end = p + strcspn(p, "\n"), *tab = strchr(p, '\t');
		struct ch_http_server *h;
		size_t len;

		if (tab == NULL || tab > end)
			break;
		if (s->shard_count == CH_BATCH_MAX_SHARDS) {
			snprintf(err, errlen, "cluster %s has more than %d shards", cluster,
					CH_BATCH_MAX_SHARDS);
			return CH_REFUSED;
		}
		h = realloc(s->shards, (s->shard_count + 1) * sizeof(*h));
		if (h == NULL)
			return CH_REFUSED;
		s->shards = h;
		h = &s->shards[s->shard_count];
		*h = s->entry;
		len = (size_t)(end - tab - 1);
		if (len >= sizeof(h->host))
			len = sizeof(h->host) - 1;
		memcpy(h->host, tab + 1, len);
		h->host[len] = '\0';
		weights[s->shard_count++] = (uint32_t)strtoul(p, NULL, 10);
		p = *end ? end + 1 : end;
	}
	if (s->shard_count == 0) {
		snprintf(err, errlen, "%s:%u has no cluster '%s' in its remote_servers",
				s->entry.host, s->entry.port, cluster);
		return CH_REFUSED;
	}
	ch_shard_map_free(&s->map);
	if (ch_shard_map_init(&s->map, weights, s->shard_count) < 0) {
		snprintf(err, errlen, "cluster %s: shard weights must be 0..1000, not all 0", cluster);
		return CH_REFUSED;
	}
	return CH_OK;
}

static int
same_server(const struct ch_http_server *a, const struct ch_http_server *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Adds a column for each extra element the table lacks (and to the Distributed table). */
static enum ch_result
add_extra_columns(struct ch_server *s, const struct ch_http_server *h, const struct ch_schema *want,
		const struct ch_server_params *p, const char *local, int distributed, char *err,
		size_t errlen)
{
	struct ch_schema have = {0};
	char sql[1024];
	enum ch_result res;

	if (p->columns == NULL || p->columns[0] == '\0')
		return CH_OK;
	snprintf(sql, sizeof(sql), "SELECT name, type, default_kind FROM system.columns "
			"WHERE database = '%s' AND table = '%s' FORMAT TSV", p->database, local);
	res = ch_server_query(&s->response, h, sql, err, errlen);
	if (res != CH_OK)
		return res;
	ch_schema_from_columns(&have, s->response.body, p->note ? p->note : NULL, p->arg);
	for (uint32_t i = 0; i < want->count && res == CH_OK; i++) {
		const struct ch_column *c = &want->columns[i];
		const char *name = c->ie ? c->ie->name : "";
		size_t len = strlen(name);
		const char *hit = strstr(p->columns, name);

		/* Only the elements asked for by name: dpfix never adds to a table otherwise. */
		if (hit == NULL || (hit[len] != '\0' && hit[len] != ',' && hit[len] != ' ') ||
				ch_schema_find(&have, c->name) >= 0)
			continue;
		for (int d = 0; d <= distributed && res == CH_OK; d++) {
			snprintf(sql, sizeof(sql), "ALTER TABLE `%s`.`%s` ADD COLUMN `%s` %s",
					p->database, d ? p->table : local, c->name, c->type);
			res = ch_server_query(&s->response, h, sql, err, errlen);
		}
		if (res == CH_OK && p->note) {
			snprintf(sql, sizeof(sql), "%s:%u: added column %s %s", h->host, h->port,
					c->name, c->type);
			p->note(p->arg, sql);
		}
	}
	ch_schema_free(&have);
	return res;
}

/* Creates the database and the table on h; with a cluster also the Distributed table. */
static enum ch_result
create_tables(struct ch_server *s, const struct ch_http_server *h, const struct ch_schema *want,
		const struct ch_server_params *p, const char *local, int is_shard, char *err,
		size_t errlen)
{
	int cluster = p->cluster != NULL && p->cluster[0] != '\0';
	char *sql = malloc(SQL_MAX);
	enum ch_result res;
	int n;

	if (sql == NULL)
		return CH_REFUSED;
	snprintf(sql, SQL_MAX, "CREATE DATABASE IF NOT EXISTS `%s`", p->database);
	res = ch_server_query(&s->response, h, sql, err, errlen);
	if (res == CH_OK && is_shard) {
		n = ch_schema_create_table(want, p->database, local, sql, SQL_MAX);
		res = n < 0 ? CH_REFUSED : ch_server_query(&s->response, h, sql, err, errlen);
	}
	if (res == CH_OK && cluster) {
		/* The same columns; the create statement's head and engine changed. */
		n = ch_schema_create_table(want, p->database, p->table, sql, SQL_MAX);
		if (n < 0) {
			res = CH_REFUSED;
		} else {
			char *engine = strstr(sql, ") ENGINE = ");

			snprintf(engine, SQL_MAX - (size_t)(engine - sql),
					") ENGINE = Distributed(%s, %s, %s, " CH_SHARDING_KEY ")", p->cluster,
					p->database, local);
			res = ch_server_query(&s->response, h, sql, err, errlen);
		}
	}
	if (res == CH_OK && is_shard)
		res = add_extra_columns(s, h, want, p, local, cluster, err, errlen);
	free(sql);
	return res;
}

static enum ch_result
read_columns(struct ch_server *s, const struct ch_http_server *h, const struct ch_server_params *p,
		const char *local, struct ch_schema *out, char *err, size_t errlen)
{
	char sql[512], where[CH_HTTP_HOST_MAX + 200];
	enum ch_result res;

	snprintf(sql, sizeof(sql), "SELECT name, type, default_kind FROM system.columns "
			"WHERE database = '%s' AND table = '%s' FORMAT TSV", p->database, local);
	res = ch_server_query(&s->response, h, sql, err, errlen);
	if (res != CH_OK)
		return res;
	snprintf(where, sizeof(where), "%s:%u %s.%s", h->host, h->port, p->database, local);
	if (ch_schema_from_columns(out, s->response.body, p->note, p->arg) < 0)
		return CH_REFUSED;
	if (out->count == 0) {
		snprintf(err, errlen, "%s has no column dpfix can fill", where);
		return CH_SCHEMA;
	}
	return CH_OK;
}

enum ch_result
ch_server_setup(struct ch_server *s, const struct ch_server_params *p, char *err, size_t errlen)
{
	int cluster = p->cluster != NULL && p->cluster[0] != '\0';
	struct ch_schema want = {0};
	char local[80];
	enum ch_result res;
	int entry_is_shard = 0;

	res = ch_server_query(&s->response, &s->entry, "SELECT version()", err, errlen);
	if (res != CH_OK)
		return res;
	snprintf(local, sizeof(local), cluster ? "%s_local" : "%s", p->table);
	if (cluster) {
		res = find_shards(s, p->cluster, err, errlen);
		if (res != CH_OK)
			return res;
	} else {
		free(s->shards);
		s->shards = malloc(sizeof(*s->shards));
		if (s->shards == NULL)
			return CH_REFUSED;
		s->shards[0] = s->entry;
		s->shard_count = 1;
	}
	if (ch_schema_default(&want, p->columns, err, errlen) < 0)
		return CH_REFUSED;
	for (uint32_t i = 0; i < s->shard_count && res == CH_OK; i++) {
		res = create_tables(s, &s->shards[i], &want, p, local, 1, err, errlen);
		entry_is_shard |= same_server(&s->shards[i], &s->entry);
	}
	if (res == CH_OK && cluster && !entry_is_shard)
		res = create_tables(s, &s->entry, &want, p, local, 0, err, errlen);
	ch_schema_free(&want);
	ch_schema_free(&s->schema);
	for (uint32_t i = 0; i < s->shard_count && res == CH_OK; i++) {
		struct ch_schema cols = {0};

		res = read_columns(s, &s->shards[i], p, local, &cols, err, errlen);
		if (res == CH_OK && i == 0)
			s->schema = cols;
		else if (res == CH_OK)
			ch_schema_intersect(&s->schema, &cols);
		if (i > 0)
			ch_schema_free(&cols);
	}
	if (res != CH_OK)
		return res;
	snprintf(s->table, sizeof(s->table), "`%s`.`%s`", p->database, local);
	s->has_batch_id = ch_schema_find(&s->schema, CH_BATCH_ID_COLUMN) >= 0;
	s->has_time = ch_schema_find(&s->schema, "collectionTimeMilliseconds") >= 0;
	if (!s->has_batch_id && p->note)
		p->note(p->arg, "the table has no column " CH_BATCH_ID_COLUMN " UInt64: an insert "
				"whose answer is lost cannot be checked and is sent again (its rows may "
				"then be there twice)");
	return CH_OK;
}

enum ch_result
ch_server_count_batch(const struct ch_server *s, struct ch_http_response *r, uint32_t shard,
		uint64_t id, uint64_t first_ms, uint64_t last_ms, uint64_t *count, char *err,
		size_t errlen)
{
	char sql[512], times[160] = "";
	enum ch_result res;

	/* The reception times narrow the search to a few granules of the sort key. */
	if (s->has_time && first_ms != 0)
		snprintf(times, sizeof(times), " AND collectionTimeMilliseconds >= toDateTime(%" PRIu64
				") AND collectionTimeMilliseconds <= toDateTime(%" PRIu64 ")",
				first_ms / 1000, last_ms / 1000);
	snprintf(sql, sizeof(sql), "SELECT count() FROM %s WHERE " CH_BATCH_ID_COLUMN " = %" PRIu64
			"%s FORMAT TSV", s->table, id, times);
	res = ch_server_query(r, &s->shards[shard], sql, err, errlen);
	if (res == CH_OK)
		*count = strtoull(r->body, NULL, 10);
	return res;
}

enum ch_result
ch_server_drop_old_days(const struct ch_server *s, struct ch_http_response *r, uint32_t keep_days,
		uint64_t now_ms, uint64_t *dropped, char *err, size_t errlen)
{
	time_t cut = (time_t)(now_ms / 1000) - (time_t)keep_days * 86400;
	char sql[1024], oldest[16];
	enum ch_result res = CH_OK;
	struct tm tm;

	gmtime_r(&cut, &tm);
	strftime(oldest, sizeof(oldest), "%Y%m%d", &tm);
	for (uint32_t i = 0; i < s->shard_count && res == CH_OK; i++) {
		char days[64][9];
		uint32_t n = 0;

		/* Only a table partitioned by day (as dpfix makes it) has partitions YYYYMMDD.
		 * s->table is `db`.`t`: system.parts has the names unquoted. */
		{
			char plain[160], *o = plain;

			for (const char *c = s->table; *c != '\0' && o < plain + sizeof(plain) - 1; c++)
				if (*c != '`')
					*o++ = *c;
			*o = '\0';
			snprintf(sql, sizeof(sql), "SELECT DISTINCT partition FROM system.parts WHERE "
					"active AND concat(database, '.', table) = '%s' AND "
					"match(partition, '^[0-9]{8}$') AND partition < '%s' ORDER BY partition "
					"LIMIT 64 FORMAT TSV", plain, oldest);
		}
		res = ch_server_query(r, &s->shards[i], sql, err, errlen);
		for (const char *p = r->body; res == CH_OK && *p != '\0' && n < 64;) {
			size_t len = strcspn(p, "\n");

			if (len == 8) {
				memcpy(days[n], p, 8);
				days[n++][8] = '\0';
			}
			p += len + (p[len] == '\n');
		}
		for (uint32_t d = 0; d < n && res == CH_OK; d++) {
			snprintf(sql, sizeof(sql), "ALTER TABLE %s DROP PARTITION %s", s->table, days[d]);
			res = ch_server_query(r, &s->shards[i], sql, err, errlen);
			if (res == CH_OK)
				(*dropped)++;
		}
	}
	return res;
}
