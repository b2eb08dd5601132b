/* An exporter association's liveness (doc/heartbeats.md): SCTP's own heartbeats and the
 * bound after which the stack gives the collector up follow heartbeat_interval and
 * heartbeat_misses, and when it does (SCTP_COMM_LOST after the collector's address was
 * found unreachable, not an ABORT or SHUTDOWN from it), the connection says so with how
 * long nothing had come from the collector: the program reports a dead collector, as it
 * does when its own heartbeats find one. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <usrsctp.h>

#include "dpfix_clock.h"
#include "dpfix_transport.h"
#include "sctp_private.h"

/* When each exporter association last heard from its collector: a SACK or a
 * HEARTBEAT-ACK, its answers (not its own HEARTBEATs: a collector that does not take
 * ours in may still send them). usrsctp calls a socket's upcall on its receive thread
 * right after each packet the association took in, with no lock held (and otherwise
 * only with the socket in error: the loss itself). The packet was an answer if the
 * stack's count of SACK and HEARTBEAT-ACK chunks taken in moved since the packet before
 * (usrsctp counts them for the whole process, and takes packets in one at a time on its
 * receive thread: a process that also serves associations, a Mediator, may now and then
 * take another's answer for this one's). The cells outlive the connections, since an
 * upcall may still be running while one closes: a closed connection's cell goes to the
 * next. */
#define HEARD_CELLS 256

static pthread_mutex_t cells_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t cell_used[HEARD_CELLS];
static _Atomic uint64_t heard_ns[HEARD_CELLS];
static _Atomic uint32_t answers_seen;

static void
heard_upcall(struct socket *sock, void *arg, int flags)
{
	struct sctpstat st;
	uint32_t answers;

	(void)flags;
	if (usrsctp_get_events(sock) & SCTP_EVENT_ERROR)
		return;
	usrsctp_get_stat(&st);
	answers = st.sctps_recvsacks + st.sctps_recvheartbeatack;
	if (atomic_exchange_explicit(&answers_seen, answers, memory_order_relaxed) != answers)
		atomic_store_explicit(&heard_ns[(uintptr_t)arg], dpfix_monotonic_ns(), memory_order_relaxed);
}

static void
watch(struct sctp_conn *t)
{
	t->heard_cell = -1;
	pthread_mutex_lock(&cells_lock);
	for (int i = 0; i < HEARD_CELLS; i++)
		if (!cell_used[i]) {
			cell_used[i] = 1;
			t->heard_cell = i;
			break;
		}
	pthread_mutex_unlock(&cells_lock);
	if (t->heard_cell < 0)
		return; /* the loss is still reported, without the silence's length */
	atomic_store_explicit(&heard_ns[t->heard_cell], dpfix_monotonic_ns(), memory_order_relaxed);
	usrsctp_set_upcall(t->sock, heard_upcall, (void *)(uintptr_t)t->heard_cell);
}

void
sctp_liveness_unwatch(struct sctp_conn *t)
{
	if (t->heard_cell < 0)
		return;
	usrsctp_set_upcall(t->sock, NULL, NULL);
	pthread_mutex_lock(&cells_lock);
	cell_used[t->heard_cell] = 0;
	pthread_mutex_unlock(&cells_lock);
	t->heard_cell = -1;
}

void
sctp_liveness_lost(struct dpfix_conn *c, struct sctp_conn *t)
{
	uint64_t heard;

	if (!t->unreachable)
		return;
	c->peer_unanswered = t->misses != 0 ? t->misses : UINT32_MAX;
	if (t->heard_cell < 0)
		return;
	heard = atomic_load_explicit(&heard_ns[t->heard_cell], memory_order_relaxed);
	c->peer_silent_ns = dpfix_monotonic_ns() - heard;
}

/* SCTP's own heartbeats follow the dpfix ones' settings (doc/heartbeats.md): one every
 * interval_ms (plus the retransmission timeout, which usrsctp adds and doubles while
 * they go unanswered), and the association given up after misses unanswered in a row,
 * heartbeats or retransmissions of data alike (SCTP_COMM_LOST). The timeout runs from
 * 300 ms to interval_ms: data unacknowledged for about interval x misses ends the
 * association, as TCP_USER_TIMEOUT does on TCP; an idle association whose collector
 * froze ends after (misses + 1) heartbeat periods at most. Without it (interval 0) the
 * stack's defaults stay: every second, 5 in a row, 2 s at most. The collector's address
 * found unreachable (SCTP_PEER_ADDR_CHANGE) is what tells the stack's giving up from an
 * ABORT the collector sent. */
void
sctp_liveness_options(struct sctp_conn *t, uint32_t interval_ms, uint32_t misses)
{
	struct sctp_paddrparams pp = {.spp_flags = SPP_HB_ENABLE, .spp_hbinterval = interval_ms,
			.spp_pathmaxrxt = (uint16_t)misses};
	struct sctp_assocparams ap = {.sasoc_assoc_id = SCTP_FUTURE_ASSOC,
			.sasoc_asocmaxrxt = (uint16_t)misses};
	uint32_t max = interval_ms < SCTP_RTO_MIN_MS ? SCTP_RTO_MIN_MS :
			interval_ms > SCTP_RTO_MAX_MS ? SCTP_RTO_MAX_MS : interval_ms;
	struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_FUTURE_ASSOC, .srto_min = SCTP_RTO_MIN_MS,
			.srto_initial = SCTP_RTO_MIN_MS, .srto_max = max};

	struct sctp_event unreachable = {.se_assoc_id = SCTP_ALL_ASSOC,
			.se_type = SCTP_PEER_ADDR_CHANGE, .se_on = 1};

	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_EVENT, &unreachable, sizeof(unreachable));
	watch(t);
	if (interval_ms == 0 || misses == 0)
		return;
	t->misses = misses;
	memcpy(&pp.spp_address, &t->peer_addr, sizeof(pp.spp_address));
	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp));
	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof(ap));
	usrsctp_setsockopt(t->sock, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto));
}
