/* dpfix-probe: sets up DPDK ports, flow tables and rings from the settings, starts
 * the worker and export lcores, and runs the control loop on the main lcore. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>

#include "capture_input.h"
#include "dpfix_xdp_user.h"
#include "port_stats.h"
#include "probe.h"
#include "probe_log.h"
#include "probe_control.h"
#include "probe_stats.h"
#include "probe_reload.h"
#include "xdp_capture.h"

atomic_int probe_stop;

_Static_assert(RTE_MAX_ETHPORTS <= PROBE_MAX_PORTS, "sampling lines cannot name every port");

static struct probe_settings settings;
static struct worker_ctx *workers;
static unsigned int nb_workers;
static struct exporter_ctx exporter;
static FILE *stats_json;
static struct capture_input captures;
static struct rte_mempool *mbuf_pool;

/* How far each port got, so that every exit undoes exactly what was done. */
enum port_state { PORT_UNTOUCHED, PORT_CONFIGURED, PORT_STARTED };
static uint8_t port_states[RTE_MAX_ETHPORTS];

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		atomic_store(&probe_reload_requested, 1);
	else
		atomic_store(&probe_stop, 1);
}


static int
port_setup(uint16_t port, uint16_t nb_queues, struct rte_mempool *pool)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = {0};
	uint8_t rss_key[255];
	uint16_t nb_rxd = (uint16_t)settings.rx_ring_size, nb_txd = 64;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	if (nb_queues > 1) {
		/* The key's 16-bit period repeated to the length the NIC takes (i40e and
		 * ice: 52 bytes, refused at 40; most others 40): still symmetric. */
		uint8_t key_len = info.hash_key_size != 0 ? info.hash_key_size : DPFIX_FLOW_RSS_KEY_LEN;

		for (unsigned int i = 0; i < key_len; i++)
			rss_key[i] = dpfix_flow_symmetric_rss_key[i % 2];
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		/* Both directions of a flow to the same worker: biflow needs it, and
		 * uniflows lose nothing by it. */
		conf.rx_adv_conf.rss_conf.rss_key = rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
				(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	if (settings.packet_timestamps && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	}
	ret = rte_eth_dev_configure(port, nb_queues, 1, &conf);
	if (ret != 0)
		return ret;
	port_states[port] = PORT_CONFIGURED;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	for (uint16_t q = 0; q < nb_queues; q++) {
		port_stats_queue_setup_begin();
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd, rte_eth_dev_socket_id(port), NULL, pool);
		port_stats_queue_setup_end(port);
		if (ret != 0)
			return ret;
	}
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, rte_eth_dev_socket_id(port), NULL);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	port_states[port] = PORT_STARTED;
	rte_eth_promiscuous_enable(port); /* a probe sees everything; some PMDs refuse: fine */
	return 0;
}

/* Stops and closes every port this run configured, before the mempool its queues
 * hold mbufs of is freed. */
static void
close_ports(void)
{
	uint16_t port;

	RTE_ETH_FOREACH_DEV(port) {
		if (port_states[port] == PORT_STARTED && rte_eth_dev_stop(port) != 0)
			PROBE_LOG(WARNING, "port %u: cannot stop it", port);
		if (port_states[port] != PORT_UNTOUCHED)
			rte_eth_dev_close(port);
		port_states[port] = PORT_UNTOUCHED;
	}
}

/* Undoes the set-up in reverse order, from wherever it stopped: ports (which hold
 * mbufs of the pool), the workers' tables, fragment maps and rings, the pool, the
 * exporter, then EAL. Every field it frees may still be NULL. */
static void
teardown(void)
{
	close_ports();
	for (unsigned int i = 0; workers != NULL && i < nb_workers; i++) {
		dpfix_flow_table_free(workers[i].table);
		rte_free(workers[i].frags);
		rte_ring_free(workers[i].ring);
	}
	rte_free(workers);
	workers = NULL;
	rte_mempool_free(mbuf_pool);
	mbuf_pool = NULL;
	exporter_fini(&exporter);
	if (stats_json != NULL)
		fclose(stats_json); /* a setup error: no counters to write */
	stats_json = NULL;
	rte_eal_cleanup();
	dpfix_xdp_default_program_free(); /* EAL is done with the arguments */
}

/* Packets no flow table had room for (ignored_packets): lost for lack of resources,
 * so said at exit and in the exit status. */
static uint64_t
packets_ignored(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nb_workers; i++)
		n += dpfix_flow_table_stats(workers[i].table)->ignored_packets;
	if (n != 0)
		PROBE_LOG(WARNING, "%" PRIu64 " packets were not metered: the flow table "
				"was full and the export ring too (ignored_packets; raise flow_table_size "
				"or export_ring_size)", n);
	return n;
}

/* Drivers known to stamp packets with UNIX time, and the unit they use. */
static uint32_t
timestamp_unit_ns(const struct rte_eth_dev_info *info)
{
	if (strcmp(info->driver_name, "net_pcap") == 0)
		return 1000; /* the capture file's time, in microseconds */
	return 0;
}

/* Lcore roles: the main lcore controls; with three or more lcores the last one
 * exports and the rest meter; with two, the main lcore also exports. */
static int
assign_lcores(unsigned int *export_lcore)
{
	unsigned int lcore, count = rte_lcore_count();

	if (count < 2) {
		PROBE_LOG(ERR, "needs at least 2 lcores (control+export, worker); "
				"got %u (use e.g. -l 0-1)", count);
		return -EINVAL;
	}
	*export_lcore = RTE_MAX_LCORE;
	nb_workers = count >= 3 ? count - 2 : 1;
	workers = rte_zmalloc("workers", sizeof(*workers) * nb_workers, RTE_CACHE_LINE_SIZE);
	if (workers == NULL)
		return -ENOMEM;
	unsigned int i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i < nb_workers)
			workers[i++].lcore_id = lcore;
		else
			*export_lcore = lcore;
	}
	return 0;
}

/* Sampling lines must name existing ports; a random selector without a seed gets one
 * now (printed, so a run can be repeated). Each selector is announced. */
static int
setup_sampling(void)
{
	uint16_t port;
	char text[256];

	for (unsigned int p = 0; p < PROBE_MAX_PORTS; p++)
		if (settings.sampling[p].set && !rte_eth_dev_is_valid_port((uint16_t)p)) {
			PROBE_LOG(ERR, "%s: sampling names port %u, which does not exist "
					"(%u port(s))", settings.sampling[p].origin, p,
					rte_eth_dev_count_avail());
			return -EINVAL;
		}
	for (unsigned int p = 0; p <= PROBE_MAX_PORTS; p++) {
		struct dpfix_sample_params *sp = &settings.sampling[p].params;

		if (settings.sampling[p].set && sp->algorithm == DPFIX_SAMPLE_RANDOM && !sp->seed_given)
			sp->seed = rte_rand();
	}
	RTE_ETH_FOREACH_DEV(port) {
		const struct probe_sampling *ps = probe_sampling_of_port(&settings, port);

		if (ps == NULL)
			continue;
		dpfix_sample_describe(&ps->params, text, sizeof(text));
		printf("dpfix-probe: port %u: selectorId %" PRIu64 ", %s\n", port,
				PROBE_SELECTOR_ID(port), text);
	}
	return 0;
}

static int
setup_workers(int finite)
{
	uint16_t port;
	unsigned int next = 0, instances = 0;
	char name[64], err[DPFIX_CONFIG_ERRLEN];
	int ts_offset = -1;
	uint64_t ts_flag = 0;

	if (capture_input_check_mbufs(&captures, settings.mbuf_count, nb_workers, err,
			sizeof(err)) != 0) {
		PROBE_LOG(ERR, "%s", err);
		return -EINVAL;
	}
	mbuf_pool = rte_pktmbuf_pool_create("mbufs", settings.mbuf_count, 256, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (mbuf_pool == NULL) {
		PROBE_LOG(ERR, "cannot create a pool of %u mbufs: %s",
				settings.mbuf_count, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/* Some PMDs (net_pcap) stamp packets without advertising the offload; the
	 * per-mbuf flag tells the worker which packets carry a timestamp. */
	if (settings.packet_timestamps && rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag) != 0)
		ts_offset = -1;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		uint16_t nb_queues;
		int ret;

		rte_eth_dev_info_get(port, &info);
		nb_queues = (uint16_t)RTE_MIN(nb_workers, info.max_rx_queues);
		ret = port_setup(port, nb_queues, mbuf_pool);
		if (ret != 0) {
			PROBE_LOG(ERR, "port %u (%s): setup failed: %s", port,
					info.driver_name, strerror(-ret));
			return ret;
		}
		for (uint16_t q = 0; q < nb_queues; q++) {
			struct worker_ctx *w = &workers[next++ % nb_workers];
			const struct probe_sampling *ps = probe_sampling_of_port(&settings, port);
			struct probe_rx_queue *rq = &w->queues[w->nb_queues];

			if (w->nb_queues == PROBE_MAX_QUEUES_PER_WORKER) {
				PROBE_LOG(ERR, "more than %u queues per worker",
						PROBE_MAX_QUEUES_PER_WORKER);
				return -EINVAL;
			}
			*rq = (struct probe_rx_queue){
				.port = port, .queue = q,
				.timestamp_ns_per_unit = ts_offset >= 0 ? timestamp_unit_ns(&info) : 0,
				.snaplen = q < CAPTURE_MAX_QUEUES ? captures.snaplen[port][q] : 0,
			};
			/* Each queue its own instance: selection needs no shared state. */
			if (ps != NULL) {
				rq->sampler = &w->samplers[w->nb_queues];
				rq->sample_instance = instances++;
				dpfix_sample_init(rq->sampler, &ps->params, rq->sample_instance);
			}
			w->nb_queues++;
		}
	}
	if (next == 0) {
		PROBE_LOG(ERR, "no ports: give a NIC or a vdev "
				"(e.g. --vdev net_pcap0,rx_pcap=FILE)");
		return -ENODEV;
	}
	for (unsigned int i = 0; i < nb_workers; i++) {
		struct worker_ctx *w = &workers[i];

		w->index = i;
		w->settings = &settings;
		w->input_is_finite = finite;
		w->timestamp_offset = ts_offset;
		w->timestamp_flag = ts_flag;
		w->parse_cfg = (struct dpfix_parse_config){
			.key_fields = settings.flow_key,
			.vxlan_inner = (uint8_t)settings.vxlan_inner,
			.vxlan_port = (uint16_t)settings.vxlan_port,
		};
		w->frags = rte_zmalloc_socket("fragments",
				dpfix_frag_map_memsize(settings.fragment_map_size), RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(w->lcore_id));
		if (w->frags == NULL) {
			PROBE_LOG(ERR, "worker %u: cannot allocate a fragment map of %u "
					"entries (try a smaller fragment_map_size)", i,
					settings.fragment_map_size);
			return -ENOMEM;
		}
		dpfix_frag_map_init(w->frags, settings.fragment_map_size,
				settings.fragment_timeout_ms * 1000000ull, (uint32_t)rte_rand());
		w->ring_elem_size = sizeof(struct dpfix_flow_record);
		if (settings.measures != 0) {
			if (dpfix_measure_init(&w->measure, &(struct dpfix_measure_params){
					.measures = settings.measures,
					.payload_packets = settings.measure_payload_packets,
					.biflow = settings.biflow, .parse_cfg = w->parse_cfg}) != 0) {
				fprintf(stderr, "dpfix-probe: measures 0x%x: not a measure set\n",
						settings.measures);
				return -EINVAL;
			}
			w->measured = 1;
			w->ring_elem_size += w->measure.layout.size;
		}
		snprintf(name, sizeof(name), "flows_w%u", i);
		w->table = dpfix_flow_table_create(&(struct dpfix_flow_params){
			.name = name,
			.capacity = settings.flow_table_size,
			.socket = (int)rte_lcore_to_socket_id(w->lcore_id),
			.idle_ns = settings.idle_timeout_ms * 1000000ull,
			.active_ns = settings.active_timeout_ms * 1000000ull,
			.tcp_end_ns = settings.tcp_end_wait_ms * 1000000ull,
			.biflow = settings.biflow,
			.emit = worker_emit,
			.emit_ctx = w,
			.hash_seed = rte_rand(),
			.ext_size = w->measured ? w->measure.layout.size : 0,
			.on_packet = dpfix_measure_packet,
			.on_packet_ctx = &w->measure,
		});
		if (w->table != NULL && w->measured)
			dpfix_measure_set_table(&w->measure, w->table);
		snprintf(name, sizeof(name), "export_w%u", i);
		w->ring = rte_ring_create_elem(name, w->ring_elem_size,
				settings.export_ring_size, (int)rte_lcore_to_socket_id(w->lcore_id),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->table == NULL || w->ring == NULL) {
			PROBE_LOG(ERR, "worker %u: cannot allocate a %u-flow table and "
					"%u-record ring (try a smaller flow_table_size or more memory: -m)",
					i, settings.flow_table_size, settings.export_ring_size);
			return -ENOMEM;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[DPFIX_CONFIG_ERRLEN];
	unsigned int export_lcore;
	struct port_drops port_drops;
	uint64_t ignored;
	struct exporter_counters xc;
	int eal_args, ret, finite;

	probe_log_libraries();
	/* net_af_xdp ports load dpfix's XDP program unless their --vdev names one. */
	argv = dpfix_xdp_default_program(argc, argv);
	eal_args = rte_eal_init(argc, argv);
	if (eal_args < 0) {
		PROBE_LOG(ERR, "DPDK EAL initialisation failed: %s",
				rte_strerror(rte_errno));
		return 1;
	}
	probe_settings_defaults(&settings);
	ret = probe_settings_from_args(&settings, argc - eal_args - 1, argv + eal_args + 1, err,
			sizeof(err));
	if (ret != 0) {
		if (ret < 0)
			PROBE_LOG(ERR, "%s", err);
		teardown();
		return ret < 0 ? 1 : 0;
	}
	/* Opened now so that a bad path is refused before any packet is metered. */
	if (settings.stats_json[0] != '\0') {
		stats_json = fopen(settings.stats_json, "w");
		if (stats_json == NULL) {
			PROBE_LOG(ERR, "stats_json %s: %s", settings.stats_json,
					strerror(errno));
			teardown();
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	probe_reload_init(argc - eal_args - 1, argv + eal_args + 1);
	probe_apply_log_level(&settings);
	signal(SIGHUP, on_signal);
	probe_clock_init();
	if (capture_input_scan(argc, argv, &captures, err, sizeof(err)) != 0) {
		PROBE_LOG(ERR, "%s", err);
		teardown();
		return 1;
	}
	finite = capture_input_is_finite(&captures);

	exporter.settings = &settings;
	if (setup_sampling() != 0 || assign_lcores(&export_lcore) != 0 ||
			setup_workers(finite) != 0 || xdp_capture_setup(&settings) != 0) {
		teardown();
		return 1;
	}
	exporter.workers = workers;
	exporter.nb_workers = nb_workers;
	if (exporter_init(&exporter, err, sizeof(err)) != 0) {
		PROBE_LOG(ERR, "collector: %s", err);
		teardown();
		return 1;
	}
	for (unsigned int k = 0; k < exporter.nb_lanes; k++) {
		const struct export_lane *l = &exporter.lanes[k];
		const struct dpfix_session *s = dpfix_export_session(l->export);

		if (k == 0)
			printf("dpfix-probe: %u worker(s), export on %s, ", nb_workers,
					export_lcore == RTE_MAX_LCORE ? "the main lcore" : "its own lcore");
		else
			printf("dpfix-probe: and ");
		if (s != NULL)
			printf("exporting to %s (messages up to %u bytes)", l->control.session_name,
					dpfix_session_max_message(s));
		else
			printf("exporting to %s: no session yet", l->control.session_name);
		printf("%s\n", k == 0 && finite ? ", stopping at end of input" : "");
		heartbeats_describe(l);
	}
	fflush(stdout);

	for (unsigned int i = 0; i < nb_workers; i++)
		rte_eal_remote_launch(worker_main, &workers[i], workers[i].lcore_id);
	if (export_lcore != RTE_MAX_LCORE)
		rte_eal_remote_launch(exporter_main, &exporter, export_lcore);

	control_run(&settings, workers, nb_workers, &exporter, export_lcore == RTE_MAX_LCORE);

	rte_eal_mp_wait_lcore();
	exporter_end(&exporter);
	stats_print_summary(stdout, workers, nb_workers, &exporter);
	port_drops_total(&port_drops);
	exporter_counters(&exporter, &xc);
	ignored = packets_ignored();
	ret = xc.send_failures || xc.records_lost || xc.sessions_unconfirmed ||
			port_drops.rx_missed || port_drops.rx_nombuf || ignored ? 2 : 0;
	if (stats_json != NULL) {
		int werr = stats_write_json(stats_json, workers, nb_workers, &exporter);

		if (fclose(stats_json) != 0 || werr != 0) {
			PROBE_LOG(ERR, "stats_json %s: cannot write the counters",
					settings.stats_json);
			if (ret == 0)
				ret = 1;
		}
		stats_json = NULL;
	}
	teardown();
	return ret;
}
