#!/usr/bin/env bash
# Instructions and simulated cache misses per new flow in the flood (every packet a new
# flow into a full 1M-flow table, each one evicting the oldest), from callgrind: the
# same run with 2M and with 4M packets, the difference divided by 2M, so the start-up
# and the first million flows (which fill the table without evicting) cancel out.
# The cache is this machine's L3 (32 MB, 16-way; callgrind reads a wrong size from
# this VM's CPUID) behind callgrind's default L1. Callgrind ignores prefetch
# instructions, so the misses counted are the cold lines touched, prefetched or not.
# Needs a build valgrind can run (no AVX-512): the ordinary one, built for x86-64-v3.
# Usage: bench/flood_callgrind.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
out=$(mktemp -d /tmp/flood_callgrind.XXXXXX)
trap 'rm -rf "$out"' EXIT
for p in 2000000 4000000; do
	valgrind --tool=callgrind --cache-sim=yes --LL=33554432,16,64 \
		--callgrind-out-file="$out/$p.cg" "$build/bench/bench_flow" --no-huge -m 1024 \
		--no-pci --no-shconf -l 0 --log-level=lib.eal:error -- --mode worker --flood \
		--table-size 1048576 --packets $p >/dev/null 2>&1
	callgrind_annotate --inclusive=yes "$out/$p.cg" >"$out/$p.txt"
done
echo "per new flow (4M-packet run - 2M-packet run) / 2M:"
printf '%-30s %7s %8s %8s\n' "function (inclusive)" Ir "D1 miss" "LL miss"
# Inclusive cost of each function: the loop, the worker's burst, and its parts.
/usr/bin/python3 "$(dirname "$0")/callgrind_rows.py" "$out/2000000.txt" "$out/4000000.txt" 2e6 \
	run_worker worker_meter_burst dpfix_parse_ethernet rte_pktmbuf_free_bulk \
	dpfix_flow_table_update_bulk flow_end worker_emit dpfix_flow_table_expire drain
