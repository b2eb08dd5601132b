#!/usr/bin/env bash
# Instructions per packet of the whole probe's worker lcore (rx burst from net_pcap
# infinite_rx -> parse -> flow table -> mbuf free), split into the source (the PMD's rx
# burst) and dpfix's own work: callgrind counts instructions, which a noisy machine does
# not change. The probe runs under callgrind for SECONDS on a 64K-frame capture of 64K
# flows, then is stopped; the worker thread's inclusive costs are divided by the packets
# it received (bench/RESULTS.md, "Whole probe").
# Usage: bench/line_rate_callgrind.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-60}
packets=65536
flows=65536
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/line_rate_cg.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
/usr/bin/python3 "$top/tests/integration/send_frames.py" - "$packets" "$flows" --pcap "$work/in.pcap"
port=$((20000 + RANDOM % 10000))
"$build/app/collector/dpfix-collector" --listen "udp://127.0.0.1:$port" --quiet >/dev/null 2>&1 &
cpid=$!
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.%p" \
	"$build/app/probe/dpfix-probe" --no-huge -m 1024 --no-pci --no-shconf -l 0-1 \
	--file-prefix dpfix-lrcg-$$ --log-level=lib.eal:error \
	--vdev "net_pcap0,rx_pcap=$work/in.pcap,infinite_rx=1" -- --mbuf-count 73727 \
	--collector "udp://127.0.0.1:$port" --stats-interval 0 --flow-table-size 131072 \
	>"$work/probe.out" 2>&1 &
vpid=$!
sleep "$seconds"
kill -INT $vpid
wait $vpid || true
kill $cpid; wait $cpid 2>/dev/null || true
rx=$(awk '$1 == "rx_packets" {print $2}' "$work/probe.out")
for f in "$work"/cg.*-*; do
	callgrind_annotate --inclusive=yes "$f" >"$work/incl" 2>/dev/null || continue
	grep -q "worker.c:worker_main" "$work/incl" && cp "$work/incl" "$work/worker.incl"
done
echo "packets $rx (64-byte frames, $flows flows, ${seconds} s under callgrind)"
echo "inclusive instructions per packet on the worker lcore:"
# The worker's loop and poll_queue are inlined into worker_main: the rx burst shows as
# rte_ethdev.h:worker_main (the source's cost), the free as free_burst. "dpfix's loop"
# is worker_main less the source and the shutdown flush.
for fn in worker.c:worker_main 'rte_ethdev.h:worker_main' \
		worker.c:worker_meter_burst dpfix_parse.c:dpfix_parse_ethernet \
		dpfix_flow.c:dpfix_flow_table_update_bulk dpfix_flow.c:dpfix_flow_table_lookup_start \
		dpfix_flow.c:dpfix_flow_table_update_looked_up worker.c:free_burst \
		dpfix_flow.c:dpfix_flow_table_expire dpfix_flow.c:dpfix_flow_table_flush; do
	ir=$(grep -m1 -F "$fn" "$work/worker.incl" | awk '{gsub(",", "", $1); print $1}' || true)
	[ -n "$ir" ] && printf "  %-45s %8.1f\n" "$fn" "$(echo "$ir / $rx" | bc -l)"
	eval "ir_${fn//[^a-z]/_}=${ir:-0}"
done
printf "  %-45s %8.1f\n" "dpfix's loop (worker_main - rx - flush)" \
	"$(echo "($ir_worker_c_worker_main - $ir_rte_ethdev_h_worker_main - $ir_dpfix_flow_c_dpfix_flow_table_flush) / $rx" | bc -l)"
