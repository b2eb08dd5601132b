/* The path MTU of an SCTP association over UDP (RFC 6951), for lib/session's search
 * (doc/path-mtu.md): the size its packets are held to, and the probes that find a larger
 * one over DTLS/SCTP, each one packet of the size tried. usrsctp 0.9.5 has no PLPMTUD,
 * ignores ICMP, and never raises the size it cuts DATA chunks to once lowered: what it
 * allows is said where it is used. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <usrsctp.h>

#include "dpfix_transport.h"
#include "sctp_private.h"

#define SCTP_COMMON_HEADER 12   /* before the chunks of every SCTP packet */
#define DATA_CHUNK_HEADER 16    /* usrsctp sends DATA, not I-DATA, unless told to */
#define MAX_AUTH_CHUNK 40       /* AUTH with HMAC-SHA-256 (SHA-1: 28) */

/* usrsctp has no path MTU discovery of its own (no PLPMTUD; it ignores ICMP): with
 * path_mtu_discovery the association's path MTU is set, and its DATA chunks are cut to
 * it (doc/path-mtu.md). usrsctp 0.9.5 takes spp_pathmtu as the room for chunks: its
 * packets are that plus the IP and SCTP common headers and, not counted by usrsctp, the
 * UDP header that encapsulates them (an IPv4 datagram is spp_pathmtu + 40 octets). */
static uint32_t
chunk_room(const struct dpfix_conn *c, uint32_t mtu)
{
	return mtu - c->path_headers - SCTP_COMMON_HEADER;
}

static int
set_chunk_room(struct sctp_conn *t, uint32_t room)
{
	struct sctp_paddrparams pp = {.spp_flags = SPP_PMTUD_DISABLE, .spp_pathmtu = room};

	memcpy(&pp.spp_address, &t->peer_addr, sizeof(pp.spp_address));
	return usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp,
			sizeof(pp)) < 0 ? -errno : 0;
}

/* usrsctp 0.9.5 never raises the size it cuts a message's DATA chunks to (its
 * smallest_mtu): a larger size set later only lets more chunks share a packet. */
int
sctp_set_path_mtu(struct dpfix_conn *c, uint32_t mtu)
{
	struct sctp_conn *t = c->priv;
	int ret;

	if (mtu > c->path_mtu_max || mtu <= c->path_headers + 256)
		return -EINVAL;
	ret = set_chunk_room(t, chunk_room(c, mtu));
	if (ret < 0)
		return ret;
	if (t->smallest_room == 0 || chunk_room(c, mtu) < t->smallest_room)
		t->smallest_room = chunk_room(c, mtu);
	c->path_mtu = mtu;
	return 0;
}

/* The MTU of the route to the collector, as the kernel knows it (usrsctp's UDP socket is
 * not connected): 0 if it cannot tell. */
uint32_t
sctp_route_mtu(const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 0;
	socklen_t mtu_len = sizeof(mtu);

	if (fd < 0)
		return 0;
	if (connect(fd, sa, len) < 0 || getsockopt(fd, sa->sa_family == AF_INET6 ? IPPROTO_IPV6 :
			IPPROTO_IP, sa->sa_family == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu, &mtu_len) < 0)
		mtu = 0;
	close(fd);
	return mtu > 0 ? (uint32_t)mtu : 0;
}

/* A path MTU probe is one message that fills one packet (doc/path-mtu.md): usrsctp cuts
 * it into DATA chunks of frag octets (its fragmentation point, which stays that of the
 * base size) and, with the path's MTU raised to the probe's size for its send, puts them
 * all in one packet, after the AUTH chunk (auth octets) that DTLS/SCTP's DATA carries.
 * usrsctp tells frag; auth is what is left of the smallest room (it is 0, 28 or 40). */
static int
probe_layout(const struct sctp_conn *t, uint32_t *frag, uint32_t *auth)
{
	struct sctp_assoc_value av = {.assoc_id = SCTP_FUTURE_ASSOC};
	socklen_t len = sizeof(av);
	uint32_t room = t->smallest_room & ~3u;

	if (usrsctp_getsockopt(t->sock, IPPROTO_SCTP, SCTP_MAXSEG, &av, &len) < 0)
		return -errno;
	if (av.assoc_value == 0 || av.assoc_value % 4 != 0 ||
			av.assoc_value + DATA_CHUNK_HEADER > room ||
			room - DATA_CHUNK_HEADER - av.assoc_value > MAX_AUTH_CHUNK)
		return -EOPNOTSUPP; /* not the usrsctp this was written for */
	*frag = av.assoc_value;
	*auth = room - DATA_CHUNK_HEADER - av.assoc_value;
	return 0;
}

/* The IP datagram a probe of len octets makes. */
static uint32_t
probe_packet(const struct dpfix_conn *c, uint32_t len, uint32_t frag, uint32_t auth)
{
	uint32_t size = c->path_headers + SCTP_COMMON_HEADER + auth;

	for (; len > frag; len -= frag)
		size += DATA_CHUNK_HEADER + frag;
	return size + DATA_CHUNK_HEADER + ((len + 3) & ~3u);
}

/* DATA chunks sent and not acknowledged yet, and the congestion window (octets). */
static int
chunks_in_flight(const struct sctp_conn *t, uint32_t *cwnd)
{
	struct sctp_status st = {0};
	socklen_t len = sizeof(st);

	if (usrsctp_getsockopt(t->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0)
		return -errno;
	if (cwnd != NULL)
		*cwnd = st.sstat_primary.spinfo_cwnd;
	return st.sstat_unackdata;
}

/* A probe goes only when nothing but earlier probes (lost ones, most likely: answered
 * ones are acknowledged at once) is in flight, and the congestion window lets it go at
 * once (usrsctp sends while what is in flight is less than the window): otherwise it
 * would wait, and go later in packets of the size in use. -EBUSY: not now. */
static int
probe_may_go(struct sctp_conn *t)
{
	uint32_t cwnd = 0;
	int in_flight = chunks_in_flight(t, &cwnd);

	if (in_flight == 0)
		t->probe_chunks = t->probe_bytes = 0;
	if (in_flight < 0 || (uint32_t)in_flight > t->probe_chunks ||
			(in_flight > 0 && t->probe_bytes >= cwnd))
		return -EBUSY;
	return in_flight;
}

static uint64_t
packets_sent(void)
{
	struct sctpstat st;

	usrsctp_get_stat(&st);
	return st.sctps_outpackets;
}

int
sctp_probe_room(struct dpfix_conn *c, uint32_t ip_size, uint32_t *room)
{
	struct sctp_conn *t = c->priv;
	uint32_t frag, auth, overhead, left, len = 0;
	int ret;

	if (ip_size > c->path_mtu_max)
		return -EMSGSIZE;
	if ((ret = probe_layout(t, &frag, &auth)) < 0)
		return ret;
	if ((ret = probe_may_go(t)) < 0)
		return ret;
	overhead = c->path_headers + SCTP_COMMON_HEADER + auth;
	if (ip_size < overhead + DATA_CHUNK_HEADER + 64)
		return -EMSGSIZE;
	/* Whole fragments while they fit, then the rest of the room, in 4-octet steps. */
	for (left = ip_size - overhead; left > DATA_CHUNK_HEADER;) {
		uint32_t part = (left - DATA_CHUNK_HEADER) & ~3u;

		if (part > frag)
			part = frag;
		len += part;
		left -= DATA_CHUNK_HEADER + part;
		if (part < frag)
			break;
	}
	*room = len;
	return 0;
}

/* Sends a path MTU probe: alone, in one packet of its size (the association's MTU raised
 * for its send only), unordered, and abandoned rather than resent if lost (PR-SCTP, no
 * retransmission: a lost probe neither blocks data nor goes again in smaller packets).
 * One that cannot go at once in one packet is dropped, or left to go later in packets of
 * the size in use: c->last_probe_size 0 says its answer proves nothing. It went alone in
 * one packet when all its chunks left during the send (they are in flight) in exactly
 * one packet (usrsctp's count of packets sent: its other threads' SACKs and
 * retransmissions add to it, and the probe is then taken for not alone). A control chunk
 * that usrsctp bundles first (a SACK, a FORWARD-TSN) pushes the last fragment into a
 * packet of its own: seen, and so not taken for one packet of the size asked. */
int
sctp_send_probe(struct dpfix_conn *c, struct sctp_conn *t, const void *buf, size_t len,
		const struct dpfix_send_opts *opts)
{
	struct sctp_sendv_spa spa = {
		.sendv_flags = SCTP_SEND_SNDINFO_VALID | SCTP_SEND_PRINFO_VALID,
		.sendv_sndinfo = {.snd_sid = opts->stream, .snd_context = PROBE_CONTEXT,
				.snd_flags = SCTP_UNORDERED | SCTP_SACK_IMMEDIATELY},
		.sendv_prinfo = {.pr_policy = SCTP_PR_SCTP_RTX, .pr_value = 0},
	};
	uint32_t frag, auth, size, chunks;
	uint64_t packets;
	int before, after, ret;
	ssize_t n;

	c->last_send_len = (uint32_t)len;
	c->last_probe_size = 0;
	if (probe_layout(t, &frag, &auth) < 0 || (before = probe_may_go(t)) < 0)
		return 0; /* as if lost */
	size = probe_packet(c, (uint32_t)len, frag, auth);
	if (size > c->path_mtu_max)
		return 0;
	chunks = ((uint32_t)len + frag - 1) / frag;
	if (size > c->path_mtu && (ret = set_chunk_room(t, chunk_room(c, size))) < 0)
		return ret;
	packets = packets_sent();
	n = usrsctp_sendv(t->sock, buf, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
	packets = packets_sent() - packets;
	after = n < 0 ? -1 : chunks_in_flight(t, NULL);
	if (size > c->path_mtu && (ret = set_chunk_room(t, chunk_room(c, c->path_mtu))) < 0)
		return ret;
	if (n < 0)
		return errno == EWOULDBLOCK ? 0 : -errno;
	t->probe_chunks += chunks;
	t->probe_bytes += size;
	if (after == before + (int)chunks && packets == 1)
		c->last_probe_size = size;
	return 0;
}

/* What the collector sends (heartbeat answers) is acknowledged at once: a SACK delayed
 * until our next send would share a probe's packet (sctp_send_probe). A lost probe stays
 * in flight until the retransmission timer gives it up, and the congestion window holds
 * the next probe back until then: a timer of at least 1 s (RFC 4960's minimum) made a
 * size that fails cost 3 to 6 s; the collector is milliseconds away, and its SACKs come
 * within its 200 ms delay. */
void
sctp_path_probing_options(struct sctp_conn *t)
{
	struct sctp_sack_info sack = {.sack_assoc_id = SCTP_FUTURE_ASSOC, .sack_delay = 0,
			.sack_freq = 1};
	/* The association is up: its initial timeout is of no use, any in min..max does. */
	struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC, .srto_min = SCTP_RTO_MIN_MS,
			.srto_initial = SCTP_RTO_MIN_MS};

	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sack, sizeof(sack));
	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto));
}
