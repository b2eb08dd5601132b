#!/usr/bin/env bash
# Simulated cache misses per packet on the worker path at a number of active flows, from
# callgrind's cache simulation: bench_flow --mode worker (the probe's worker_meter_burst
# on 64-byte frames, each packet's flow picked at random among FLOWS after one pass that
# created them all; table twice FLOWS, as bench/line_rate.sh's) run with 2M and with 4M
# packets, the difference divided by 2M, so start-up and the creation pass cancel out.
# The last-level cache is set to 32 MB, 16-way (an appliance's L3; callgrind reads a
# wrong size from this VM's CPUID), behind callgrind's default L1. Callgrind ignores
# prefetch instructions: the misses counted are the cold lines each packet touches,
# prefetched or not, i.e. the memory traffic a packet costs, not the stalls left after
# the table's prefetches (those only wall-clock runs show: bench/line_rate.sh).
# Needs a build valgrind can run (no AVX-512): the ordinary one, built for x86-64-v3.
# Usage: bench/flow_misses.sh [BUILD_DIR] [FLOWS ...]   (default 65536 1048576 4194304)
set -euo pipefail
build=${1:-build}
shift || true
flows=${*:-65536 1048576 4194304}
out=$(mktemp -d /tmp/flow_misses.XXXXXX)
trap 'rm -rf "$out"' EXIT
for f in $flows; do
	for p in 2000000 4000000; do
		valgrind --tool=callgrind --cache-sim=yes --LL=33554432,16,64 \
			--callgrind-out-file="$out/$f.$p.cg" "$build/bench/bench_flow" --no-huge -m 3072 \
			--no-pci --no-shconf -l 0 --log-level=lib.eal:error -- --mode worker \
			--flows "$f" --table-size $((2 * f)) --packets $p >/dev/null 2>&1
		callgrind_annotate --inclusive=yes "$out/$f.$p.cg" >"$out/$f.$p.txt"
	done
done
echo "per packet, (4M-packet run - 2M-packet run) / 2M, inclusive:"
printf '%8s %-30s %7s %8s %8s\n' flows function Ir "D1 miss" "LL miss"
for f in $flows; do
	/usr/bin/python3 "$(dirname "$0")/callgrind_rows.py" "$out/$f.2000000.txt" "$out/$f.4000000.txt" \
		2e6 --label "$f" worker_meter_burst dpfix_parse_ethernet dpfix_flow_table_update_bulk free_burst
done
