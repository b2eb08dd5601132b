/* The UDP listener's peer table (udp_peers.h): a fixed array of slots, a free list, a
 * chained hash keyed with a secret drawn at start, and a FIFO of peers not yet accepted,
 * so that neither a datagram nor an accept walks the table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "udp_peers.h"

static unsigned int
pow2_at_least(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

int
udp_peers_init(struct udp_peers *t, unsigned int size, void *listener)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	t->slots = calloc(size, sizeof(t->slots[0]));
	t->bucket_mask = pow2_at_least(size) - 1;
	t->buckets = calloc(t->bucket_mask + 1, sizeof(t->buckets[0]));
	if (t->slots == NULL || t->buckets == NULL) {
		udp_peers_fini(t);
		return -ENOMEM;
	}
	if (getrandom(t->key, sizeof(t->key), 0) != sizeof(t->key))
		for (int i = 0; i < 4; i++)
			t->key[i] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull + (uint64_t)i;
	for (unsigned int i = size; i-- > 0;) {
		t->slots[i].listener = listener;
		t->slots[i].next = t->free;
		t->free = &t->slots[i];
	}
	return 0;
}

static void
free_queue(struct udp_peer *p)
{
	while (p->count > 0) {
		free(p->queue[p->head]);
		p->queue[p->head] = NULL;
		p->head = (p->head + 1) % PEER_QUEUE;
		p->count--;
	}
}

void
udp_peers_fini(struct udp_peers *t)
{
	for (unsigned int i = 0; t->slots != NULL && i < t->size; i++)
		free_queue(&t->slots[i]);
	free(t->slots);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* Keyed multiply-add over the address's 64-bit words (family, port and address all
 * in them): the bucket depends on a secret the sender cannot see. */
static uint32_t
bucket_of(const struct udp_peers *t, const struct sockaddr_storage *addr, socklen_t len)
{
	uint64_t h = t->key[0];
	const uint8_t *b = (const uint8_t *)addr;

	for (socklen_t off = 0; off < len; off += 8) {
		uint64_t w = 0;

		memcpy(&w, b + off, len - off < 8 ? (size_t)(len - off) : 8);
		h = (h ^ (w + t->key[1])) * (t->key[2] | 1);
		h ^= h >> 29;
	}
	h = (h ^ t->key[3]) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & t->bucket_mask;
}

static int
same_addr(const struct udp_peer *p, const struct sockaddr_storage *addr, socklen_t len)
{
	return p->addr_len == len && memcmp(&p->addr, addr, len) == 0;
}

static void
unlink_hash(struct udp_peers *t, struct udp_peer *p)
{
	struct udp_peer **slot = &t->buckets[bucket_of(t, &p->addr, p->addr_len)];

	while (*slot != NULL && *slot != p)
		slot = &(*slot)->hash_next;
	if (*slot == p)
		*slot = p->hash_next;
}

static void
free_slot(struct udp_peers *t, struct udp_peer *p)
{
	unlink_hash(t, p);
	if (p->refused_until_ms != 0)
		t->refused--;
	if (t->last == p)
		t->last = NULL;
	p->addr_len = 0;
	p->accepted = 0;
	p->refused_until_ms = 0;
	p->next = t->free;
	t->free = p;
}

/* A full table: the first refused peer still in its quiet time gives up its slot (a
 * walk, but only when every slot is taken and some are refused). */
static void
reclaim_refused(struct udp_peers *t)
{
	for (unsigned int i = 0; t->refused > 0 && i < t->size; i++)
		if (t->slots[i].refused_until_ms != 0) {
			free_slot(t, &t->slots[i]);
			return;
		}
}

struct udp_peer *
udp_peers_find(struct udp_peers *t, const struct sockaddr_storage *addr, socklen_t len,
		uint64_t now_ms)
{
	uint32_t b;
	struct udp_peer *p;

	if (t->last != NULL && same_addr(t->last, addr, len) &&
			(t->last->refused_until_ms == 0 || now_ms < t->last->refused_until_ms))
		return t->last;
	b = bucket_of(t, addr, len);
	for (p = t->buckets[b]; p != NULL; p = p->hash_next) {
		if (!same_addr(p, addr, len))
			continue;
		if (p->refused_until_ms != 0 && now_ms >= p->refused_until_ms) {
			free_slot(t, p); /* forgotten: this datagram is a new exporter's */
			break;
		}
		return t->last = p;
	}
	if (t->free == NULL)
		reclaim_refused(t);
	if ((p = t->free) == NULL)
		return NULL;
	t->free = p->next;
	p->next = NULL;
	memcpy(&p->addr, addr, len);
	p->addr_len = len;
	p->wake_fd = -1;
	p->hash_next = t->buckets[b];
	t->buckets[b] = p;
	if (t->new_tail != NULL)
		t->new_tail->next = p;
	else
		t->new_head = p;
	t->new_tail = p;
	return t->last = p;
}

struct udp_peer *
udp_peers_next_new(struct udp_peers *t)
{
	struct udp_peer *p = t->new_head;

	if (p == NULL)
		return NULL;
	t->new_head = p->next;
	if (t->new_head == NULL)
		t->new_tail = NULL;
	p->next = NULL;
	p->accepted = 1;
	return p;
}

unsigned int
udp_peers_release(struct udp_peers *t, struct udp_peer *p)
{
	unsigned int dropped = p->count;

	free_queue(p);
	free_slot(t, p);
	return dropped;
}

unsigned int
udp_peers_refuse(struct udp_peers *t, struct udp_peer *p, uint64_t until_ms)
{
	unsigned int dropped = p->count;

	free_queue(p);
	if (p->refused_until_ms == 0)
		t->refused++;
	p->refused_until_ms = until_ms;
	return dropped;
}
