/* The UDP listener's exporters, told apart by source address and port: a table sized
 * for the collector's sessions, found by a keyed hash (an attacker picks the source
 * ports: no chain he can lengthen at will), new ones queued until a session takes them. */
#ifndef UDP_PEERS_H
#define UDP_PEERS_H

#include <stdint.h>
#include <sys/socket.h>

#define PEER_QUEUE 64

struct datagram {
	uint32_t len;
	uint8_t data[];
};

struct udp_peer {
	void *listener;
	struct udp_peer *hash_next;     /* its bucket's chain */
	struct udp_peer *next;          /* free list, or the not-yet-accepted queue */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct datagram *queue[PEER_QUEUE];
	unsigned int head, count;
	int accepted;
	/* Read on another thread than the listener's (an intake thread): its eventfd, written
	 * when a datagram comes with none waiting; else -1. */
	int wake_fd;
	uint64_t refused_until_ms;      /* refused: its datagrams are dropped until then */
};

struct udp_peers {
	struct udp_peer *slots;
	unsigned int size;
	struct udp_peer **buckets;
	uint32_t bucket_mask;
	uint64_t key[4];                /* the hash's secret */
	struct udp_peer *free;
	struct udp_peer *new_head, *new_tail; /* known, not yet taken by a session */
	struct udp_peer *last;          /* the last datagram's: most likely the next one's */
	unsigned int refused;           /* kept for their quiet time */
};

/* A table of size peers. 0 or -ENOMEM. */
int udp_peers_init(struct udp_peers *t, unsigned int size, void *listener);
void udp_peers_fini(struct udp_peers *t);
/* The peer of addr; a new one (queued for accept) if it is not known; NULL when every
 * slot is taken by a peer a session holds. A refused peer whose quiet time is over is
 * forgotten here, and one still quiet gives way to a new peer when the table is full. */
struct udp_peer *udp_peers_find(struct udp_peers *t, const struct sockaddr_storage *addr,
		socklen_t len, uint64_t now_ms);
/* The oldest peer no session has taken yet, or NULL. */
struct udp_peer *udp_peers_next_new(struct udp_peers *t);
/* Its session is closed: frees its queued datagrams (returns how many) and its slot. */
unsigned int udp_peers_release(struct udp_peers *t, struct udp_peer *p);
/* Its session refused it: its queue is freed (returns how many) and its datagrams are
 * dropped until until_ms. */
unsigned int udp_peers_refuse(struct udp_peers *t, struct udp_peer *p, uint64_t until_ms);

#endif
