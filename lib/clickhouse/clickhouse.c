/* ClickHouse output, the collector's side (dpfix_clickhouse.h): set-up at start, records
 * copied into the batch being built, batches handed to the writer thread. Nothing here
 * waits for ClickHouse or the disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch_internal.h"
#include "dpfix_config.h"

#define MS_PER_DAY 86400000ull

void
ch_log(struct dpfix_clickhouse *ch, int error, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ch->p.log != NULL)
		ch->p.log(ch->p.log_arg, error, text);
}

static void
note(void *arg, const char *text)
{
	ch_log(arg, 0, "%s", text);
}

/* One "user:password" line; a file others can read is refused, as a PSK file is. */
static int
read_credentials(struct dpfix_clickhouse *ch, const char *path, char *err, size_t errlen)
{
	char line[512], *colon, *end;
	FILE *f = dpfix_config_open_secret("clickhouse_credentials", path, err, errlen);

	if (f == NULL)
		return -errno;
	do {
		if (fgets(line, sizeof(line), f) == NULL) {
			line[0] = '\0';
			break;
		}
	} while (line[0] == '#' || line[0] == '\n');
	fclose(f);
	end = line + strcspn(line, "\r\n");
	*end = '\0';
	colon = strchr(line, ':');
	if (colon == NULL || colon == line || (size_t)(colon - line) >= sizeof(ch->user) ||
			strlen(colon + 1) >= sizeof(ch->password)) {
		memset(line, 0, sizeof(line));
		snprintf(err, errlen, "clickhouse_credentials %s:1: expected user:password", path);
		return -EINVAL;
	}
	*colon = '\0';
	snprintf(ch->user, sizeof(ch->user), "%s", line);
	snprintf(ch->password, sizeof(ch->password), "%s", colon + 1);
	memset(line, 0, sizeof(line));
	return 0;
}

/* Copies what the caller's strings say: the writer thread outlives none of them. */
static int
copy_params(struct dpfix_clickhouse *ch, const struct dpfix_clickhouse_params *p, char *err,
		size_t errlen)
{
	ch->p = *p;
#define COPY(field, value) do { \
		if (snprintf(ch->field, sizeof(ch->field), "%s", (value) ? (value) : "") >= \
				(int)sizeof(ch->field)) { \
			snprintf(err, errlen, "clickhouse " #field " too long"); \
			return -ENAMETOOLONG; \
		} \
	} while (0)
	COPY(url, p->url);
	COPY(database, p->database ? p->database : "dpfix");
	COPY(table, p->table ? p->table : "flows");
	COPY(cluster, p->cluster);
	COPY(columns, p->columns);
	COPY(spool_dir, p->spool_dir);
#undef COPY
	if (ch->p.batch_rows == 0)
		ch->p.batch_rows = DPFIX_CLICKHOUSE_BATCH_ROWS;
	if (ch->p.batch_rows > DPFIX_CLICKHOUSE_BATCH_ROWS_MAX) {
		snprintf(err, errlen, "clickhouse_batch_rows %u is more than %u", ch->p.batch_rows,
				DPFIX_CLICKHOUSE_BATCH_ROWS_MAX);
		return -EINVAL;
	}
	if (ch->p.batch_interval_ms == 0)
		ch->p.batch_interval_ms = DPFIX_CLICKHOUSE_BATCH_INTERVAL_MS;
	if (ch->p.memory_bytes == 0)
		ch->p.memory_bytes = DPFIX_CLICKHOUSE_MEMORY_BYTES;
	if (ch->p.timeout_ms == 0)
		ch->p.timeout_ms = DPFIX_CLICKHOUSE_TIMEOUT_MS;
	if (ch->p.connections == 0)
		ch->p.connections = DPFIX_CLICKHOUSE_CONNECTIONS;
	ch->server_params = (struct ch_server_params){
		.url = ch->url, .user = ch->user, .password = ch->password,
		.database = ch->database, .table = ch->table, .cluster = ch->cluster,
		.columns = ch->columns, .timeout_ms = ch->p.timeout_ms, .note = note, .arg = ch,
	};
	return 0;
}

struct dpfix_clickhouse *
dpfix_clickhouse_create(const struct dpfix_clickhouse_params *p, char *err, size_t errlen)
{
	return ch_create(p, 1, err, errlen);
}

struct dpfix_clickhouse *
ch_create(const struct dpfix_clickhouse_params *p, int threads, char *err, size_t errlen)
{
	struct dpfix_clickhouse *ch = calloc(1, sizeof(*ch));
	char why[512];
	enum ch_result res;

	if (ch == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ch->queue_lock, NULL);
	pthread_cond_init(&ch->wake, NULL);
	pthread_cond_init(&ch->spill_wake, NULL);
	pthread_mutex_init(&ch->state_lock, NULL);
	pthread_rwlock_init(&ch->server_lock, NULL);
	pthread_mutex_init(&ch->said_lock, NULL);
	if (copy_params(ch, p, err, errlen) < 0 ||
			(p->credentials_file != NULL && p->credentials_file[0] != '\0' &&
			 read_credentials(ch, p->credentials_file, err, errlen) < 0) ||
			ch_server_init(&ch->server, &ch->server_params, err, errlen) < 0)
		goto fail;
	if (ch->spool_dir[0] != '\0') {
		if (ch_spool_open(&ch->spool, ch->spool_dir, err, errlen) < 0)
			goto fail;
		ch->spooling = 1;
		if (ch_spool_files(&ch->spool) > 0)
			ch_log(ch, 0, "clickhouse: %u batches (%llu bytes) in the spool %s from an "
					"earlier run: they go first", ch_spool_files(&ch->spool),
					(unsigned long long)ch->spool.bytes, ch->spool_dir);
	}
	ch->current = ch_batch_create();
	if (ch->current == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Answers that no retry will change fail the start; an absent server does not. */
	res = ch_server_setup(&ch->server, &ch->server_params, why, sizeof(why));
	switch (res) {
	case CH_OK:
		ch->ready = 1;
		ch->schema_generation = 1;
		break;
	case CH_UNREACHABLE:
	case CH_NO_ANSWER:
		ch_log(ch, 1, "clickhouse: %s; %s until it answers", why, ch->spooling ?
				"spooling" : "batches wait in memory");
		ch->down = 1;
		ch->down_since_ms = ch_now_ms();
		break;
	default:
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	ch->spiller.ch = ch;
	if (threads && ch_writers_start(ch, ch->p.connections) < 0) {
		snprintf(err, errlen, "cannot start the ClickHouse writer threads");
		goto fail;
	}
	return ch;
fail:
	dpfix_clickhouse_free(ch);
	return NULL;
}

void
ch_recycle(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	if (ch->free_count < CH_FREE_BATCHES) {
		ch_batch_reset(b);
		b->next = ch->free_batches;
		ch->free_batches = b;
		ch->free_count++;
	} else {
		ch_batch_free(b);
	}
}

/* The batch being built goes to the writer. When memory is full, the oldest batches go
 * to the spool on this thread (the spiller is late); without a spool it is dropped. */
static void
hand_off(struct dpfix_clickhouse *ch)
{
	struct ch_batch *b = ch->current, *next;
	size_t bytes = ch_batch_bytes(b);

	if (b->rows == 0)
		return;
	pthread_mutex_lock(&ch->queue_lock);
	if (ch->spooling && ch->queued_bytes + bytes > ch->p.memory_bytes &&
			ch->queue_head != NULL) {
		/* The state lock comes before the queue's. */
		pthread_mutex_unlock(&ch->queue_lock);
		ch_spool_to_fit(ch, bytes);
		pthread_mutex_lock(&ch->queue_lock);
	}
	if (ch->queued_bytes + bytes > ch->p.memory_bytes && ch->queue_head != NULL) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_count(&ch->stats.rows_dropped, b->rows);
		if (!ch->memory_full_said)
			ch_log(ch, 1, "clickhouse: batches waiting in memory reached clickhouse_memory "
					"(%llu bytes): batches are dropped (rows_dropped) until there is room",
					(unsigned long long)ch->p.memory_bytes);
		ch->memory_full_said = 1;
		ch_batch_reset(b);
		pthread_mutex_unlock(&ch->queue_lock);
		ch->cache_count = 0;
		return;
	}
	if (ch->memory_full_said)
		ch_log(ch, 0, "clickhouse: memory has room for batches again");
	ch->memory_full_said = 0;
	b->next = NULL;
	if (ch->queue_tail != NULL)
		ch->queue_tail->next = b;
	else
		ch->queue_head = b;
	ch->queue_tail = b;
	ch->queued_bytes += bytes;
	next = ch->free_batches;
	if (next != NULL) {
		ch->free_batches = next->next;
		ch->free_count--;
	}
	pthread_cond_signal(&ch->wake);
	if (ch->spooling && ch->queued_bytes > ch->p.memory_bytes / 2)
		pthread_cond_signal(&ch->spill_wake);
	pthread_mutex_unlock(&ch->queue_lock);
	ch->current = next != NULL ? next : ch_batch_create();
	ch->cache_count = 0;
}

/* A random batch id: unique across collectors writing into the same table. */
static uint64_t
new_batch_id(void)
{
	static __thread uint64_t state;
	uint64_t x;

	if (state == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		state = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
			((uint64_t)(uintptr_t)&ts << 20);
	}
	/* splitmix64 */
	x = (state += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (x ^ (x >> 31)) | 1;
}

static int
slot_of(struct dpfix_clickhouse *ch, const struct dpfix_clickhouse_origin *o,
		const struct dpfix_ipfix_template *t)
{
	uint32_t i = ch->cache_last;
	int slot;

#define HIT(k) (ch->cache[k].session == o->session && ch->cache[k].domain == o->domain && \
		ch->cache[k].id == t->id && ch->cache[k].field_count == t->field_count)
	if (i < ch->cache_count && HIT(i))
		return (int)ch->cache[i].slot;
	for (i = ch->cache_count; i-- > 0;) {
		if (HIT(i)) {
			ch->cache_last = i;
			return (int)ch->cache[i].slot;
		}
	}
#undef HIT
	slot = ch_batch_add_template(ch->current, t, 1);
	if (slot == -ENOSPC && ch->current->rows > 0) {
		/* A batch holds at most CH_BATCH_MAX_TEMPLATES: the next one starts. */
		hand_off(ch);
		if (ch->current == NULL)
			return -ENOMEM;
		slot = ch_batch_add_template(ch->current, t, 1);
	}
	if (slot < 0)
		return slot;
	if (ch->cache_count == CH_TEMPLATE_CACHE)
		ch->cache_count = 0;
	i = ch->cache_count++;
	ch->cache[i].session = o->session;
	ch->cache[i].domain = o->domain;
	ch->cache[i].id = t->id;
	ch->cache[i].field_count = t->field_count;
	ch->cache[i].slot = (uint32_t)slot;
	ch->cache_last = i;
	return slot;
}

void
dpfix_clickhouse_add(struct dpfix_clickhouse *ch, const struct dpfix_clickhouse_origin *o,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len)
{
	struct ch_meta meta;
	struct ch_batch *b;
	uint32_t day = (uint32_t)(o->time_ms / MS_PER_DAY);
	int slot;

	if (t->scope_count != 0) {
		ch_count(&ch->stats.options_records_skipped, 1);
		return;
	}
	if (ch->current == NULL && (ch->current = ch_batch_create()) == NULL)
		goto lost;
	/* A batch holds one UTC day: one partition, so its insert is one part. */
	if (ch->current->rows > 0 && ch->current->day != day)
		hand_off(ch);
	if (ch->current == NULL)
		goto lost;
	slot = slot_of(ch, o, t);
	if (slot < 0)
		goto lost;
	b = ch->current;
	if (b->rows == 0) {
		b->id = new_batch_id();
		b->day = day;
		b->first_ms = o->time_ms;
		ch->current_started_ms = ch_now_ms();
	}
	memcpy(meta.exporter, o->exporter, 16);
	meta.domain = o->domain;
	meta.collection_time_ms = o->time_ms;
	if (ch_batch_add_record(b, (uint32_t)slot, rec, len, &meta) < 0)
		goto lost;
	if (o->time_ms > b->last_ms)
		b->last_ms = o->time_ms;
	if (o->time_ms < b->first_ms)
		b->first_ms = o->time_ms;
	if (b->rows >= ch->p.batch_rows)
		hand_off(ch);
	return;
lost:
	ch_count(&ch->stats.rows_dropped, 1);
}

void
dpfix_clickhouse_templates_changed(struct dpfix_clickhouse *ch)
{
	ch->cache_count = 0;
}

void
dpfix_clickhouse_tick(struct dpfix_clickhouse *ch)
{
	if (ch->current != NULL && ch->current->rows > 0 &&
			ch_now_ms() - ch->current_started_ms >= ch->p.batch_interval_ms)
		hand_off(ch);
}

void
dpfix_clickhouse_finish(struct dpfix_clickhouse *ch)
{
	if (ch->current != NULL)
		hand_off(ch);
	ch_writers_stop(ch);
}

void
dpfix_clickhouse_stats(const struct dpfix_clickhouse *ch, struct dpfix_clickhouse_stats *st)
{
#define LOAD(name, text) st->name = __atomic_load_n(&ch->stats.name, __ATOMIC_RELAXED);
	DPFIX_CLICKHOUSE_COUNTERS(LOAD)
#undef LOAD
}

uint64_t
dpfix_clickhouse_lost(const struct dpfix_clickhouse *ch)
{
	return __atomic_load_n(&ch->stats.rows_dropped, __ATOMIC_RELAXED);
}

void
dpfix_clickhouse_free(struct dpfix_clickhouse *ch)
{
	if (ch == NULL)
		return;
	ch_writers_stop(ch);
	while (ch->queue_head != NULL) {
		struct ch_batch *b = ch->queue_head;

		ch->queue_head = b->next;
		ch_batch_free(b);
	}
	while (ch->free_batches != NULL) {
		struct ch_batch *b = ch->free_batches;

		ch->free_batches = b->next;
		ch_batch_free(b);
	}
	ch_batch_free(ch->current);
	ch_writers_free(ch);
	ch_server_free(&ch->server);
	ch_spool_close(&ch->spool);
	memset(ch->password, 0, sizeof(ch->password));
	pthread_mutex_destroy(&ch->queue_lock);
	pthread_cond_destroy(&ch->wake);
	pthread_cond_destroy(&ch->spill_wake);
	pthread_mutex_destroy(&ch->state_lock);
	pthread_rwlock_destroy(&ch->server_lock);
	pthread_mutex_destroy(&ch->said_lock);
	free(ch);
}
