/* Unit tests for lib/flow's biflows (RFC 5103: both directions in one record) and the
 * per-flow extension a measure keeps beside each record. */
#include "flow_test.h"
#include "unit_test.h"

static void
swap_direction(struct dpfix_packet_info *p)
{
	struct dpfix_flow_key k;

	dpfix_flow_key_reverse(&p->key, &k);
	p->key = k;
}

/* test_extension's on_packet: packets forward and reverse, and the frame length seen. */
static void
count_in_ext(void *ctx, const struct dpfix_flow_record *rec, void *ext, int reverse,
		const struct dpfix_packet_info *p, const struct dpfix_flow_frame *frame,
		uint64_t now_ns)
{
	uint64_t *e = ext;

	(void)p;
	(void)now_ns;
	(*(uint64_t *)ctx)++;
	e[reverse]++;
	e[2] += frame != NULL ? frame->len : 1000;
	/* Called once the packet is counted in its record. */
	CHECK(e[0] == rec->packets && e[1] == rec->rev_packets);
}

/* The per-flow extension: zeroed when a record starts (a new flow, a restart after its
 * timeout), given to on_packet after each packet with its direction and frame, emitted
 * with its record; dpfix_flow_table_find gives a live flow's record and extension. */
static void
test_extension(void)
{
	uint64_t calls = 0;
	struct dpfix_flow_frame frame = {(const uint8_t *)"x", 60};
	struct dpfix_packet_info a, b, rev;
	struct dpfix_flow_table *t;
	void *ext;
	uint64_t now;

	for (int biflow = 0; biflow < 2; biflow++) {
		t = dpfix_flow_table_create(&(struct dpfix_flow_params){
			.name = biflow ? "ft_ext_bi" : "ft_ext", .capacity = CAPACITY, .socket = -1,
			.idle_ns = 1000, .active_ns = 100000, .tcp_end_ns = 1000, .biflow = biflow,
			.emit = sink_emit, .emit_ctx = &sink, .hash_seed = HASH_SEED, .ext_size = 24,
			.on_packet = count_in_ext, .on_packet_ctx = &calls});
		CHECK(t != NULL);
		if (t == NULL)
			return;
		CHECK_EQ_U64(dpfix_flow_table_ext_stride(t), 32);
		sink_reset(&sink, -1);
		calls = 0;
		make_packet(&a, 1, 100, 0x10, 64);
		make_packet(&b, 2, 100, 0x10, 64);
		rev = a;
		swap_direction(&rev);
		meter(t, &a, 10);
		meter(t, &a, 20);
		now = 30;
		dpfix_flow_table_update_bulk_frames(t, &rev, &frame, &now, 1, 0);
		meter(t, &b, 40);
		CHECK(dpfix_flow_table_find(t, &a.key, &ext) != NULL && ext != NULL);
		CHECK_EQ_U64(((uint64_t *)ext)[0], 2);
		CHECK_EQ_U64(((uint64_t *)ext)[2], biflow ? 2060 : 2000);
		/* In a biflow only the record's forward direction finds it; a uniflow's reverse
		 * key is a flow of its own. */
		CHECK((dpfix_flow_table_find(t, &rev.key, &ext) == NULL) == biflow);
		/* b after its idle timeout: its record ends, the new one starts from zero. */
		meter(t, &b, 2000);
		CHECK_EQ_U64(calls, 5);
		CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
		CHECK_EQ_U64(sink.n, biflow ? 3 : 4);
		for (uint32_t i = 0; i < sink.n && i < MAX_EMITTED; i++) {
			const struct dpfix_flow_record *r = &sink.rec[i];
			/* The one packet given with its frame: a's reverse. */
			int framed = biflow ? key_number(&r->key) == 1 : r->key.src_addr[0] == 192;

			CHECK_EQ_U64(sink.ext[i][0], r->packets);
			CHECK_EQ_U64(sink.ext[i][1], r->rev_packets);
			CHECK_EQ_U64(sink.ext[i][2], 1000 * (r->packets + r->rev_packets) - (framed ? 940 : 0));
		}
		dpfix_flow_table_free(t);
	}
	/* An extension needs its callback. */
	CHECK(dpfix_flow_table_create(&(struct dpfix_flow_params){.name = "ft_ext_bad",
		.capacity = 16, .socket = -1, .idle_ns = 1, .active_ns = 1, .emit = sink_emit,
		.ext_size = 8}) == NULL);
}

/* Biflow: both directions in one record, forward being the first packet's. */
static void
test_biflow(void)
{
	struct dpfix_flow_table *t = table_with("ft_biflow", CAPACITY, 1000, 100000, 1000, 1);
	struct dpfix_packet_info fwd, rev, echo, reply, other;
	const struct dpfix_flow_record *r;

	if (t == NULL)
		return;
	make_packet(&fwd, 3, 100, 0x02, 60);
	rev = fwd;
	swap_direction(&rev);
	rev.ip_octets = 1500;
	rev.tcp_flags = 0x12;
	rev.ttl = 120;
	sink_reset(&sink, -1);
	/* The reverse direction comes first here: it is the forward one of the record. */
	meter(t, &rev, 10);
	meter(t, &fwd, 20);
	meter(t, &rev, 30);
	fwd.ttl = 58;
	fwd.tcp_flags = 0x10;
	meter(t, &fwd, 40);
	meter(t, &fwd, 50);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 1);

	/* ICMP echo request and reply pair up; an unrelated type does not. */
	make_packet(&echo, 9, 84, 0, 64);
	echo.key.protocol = 1;
	echo.key.src_port = 0;
	echo.key.dst_port = 8 << 8;
	reply = echo;
	swap_direction(&reply);
	CHECK_EQ_U64(reply.key.dst_port, 0);
	CHECK(memcmp(reply.key.src_addr, echo.key.dst_addr, 16) == 0);
	other = reply;
	other.key.dst_port = 3 << 8 | 1;
	meter(t, &echo, 100);
	meter(t, &reply, 110);
	meter(t, &other, 120);
	CHECK_EQ_U64(dpfix_flow_table_count(t), 3);

	CHECK(dpfix_flow_table_flush(t, DPFIX_FLOW_END_FORCED) == 0);
	CHECK_EQ_U64(sink.n, 3);
	r = NULL;
	for (uint32_t i = 0; i < sink.n; i++)
		if (sink.rec[i].key.protocol == 6)
			r = &sink.rec[i];
	CHECK(r != NULL);
	if (r != NULL) {
		CHECK(memcmp(&r->key, &rev.key, sizeof(r->key)) == 0);
		CHECK_EQ_U64(r->packets, 2);
		CHECK_EQ_U64(r->octets, 3000);
		CHECK_EQ_U64(r->first_ns, 10);
		CHECK_EQ_U64(r->last_ns, 30);
		CHECK_EQ_U64(r->tcp_flags, 0x12);
		CHECK_EQ_U64(r->min_ttl, 120);
		CHECK_EQ_U64(r->rev_packets, 3);
		CHECK_EQ_U64(r->rev_octets, 300);
		CHECK_EQ_U64(r->rev_first_ns, 20);
		CHECK_EQ_U64(r->rev_last_ns, 50);
		CHECK_EQ_U64(r->rev_tcp_flags, 0x12);
		CHECK_EQ_U64(r->rev_min_ttl, 58);
		CHECK_EQ_U64(r->rev_max_ttl, 60);
	}
	for (uint32_t i = 0; i < sink.n; i++) {
		if (sink.rec[i].key.protocol != 1)
			continue;
		if (sink.rec[i].key.dst_port == 8 << 8)
			CHECK(sink.rec[i].packets == 1 && sink.rec[i].rev_packets == 1);
		else
			CHECK(sink.rec[i].packets == 1 && sink.rec[i].rev_packets == 0);
	}
	dpfix_flow_table_free(t);
}

int
main(void)
{
	char *eal_args[] = {"test_flow", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"-l", "0", "--log-level=lib.eal:error"};
	int ret;

	ret = rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])), eal_args);
	if (ret < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	RUN_TEST(test_biflow);
	RUN_TEST(test_extension);
	ret = unit_test_summary();
	rte_eal_cleanup();
	return ret;
}
