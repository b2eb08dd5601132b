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
/usr/bin/python3 - "$out/2000000.txt" "$out/4000000.txt" <<'PY'
import re, sys
# Inclusive cost of each function: the loop, the worker's burst, and its parts.
want = ["run_worker", "worker_meter_burst", "dpfix_parse_ethernet", "rte_pktmbuf_free_bulk",
        "dpfix_flow_table_update_bulk", "flow_end", "worker_emit", "dpfix_flow_table_expire",
        "drain"]
def load(path):
    rows = {}
    for line in open(path):
        toks = re.sub(r"\(\s*[\d.]+%\)", "", line).split()
        vals = []
        while toks and len(vals) < 9 and re.fullmatch(r"[\d,]+|\.", toks[0]):
            t = toks.pop(0)
            vals.append(0 if t == "." else int(t.replace(",", "")))
        if len(vals) == 9 and toks:
            fn = re.sub(r"\s*\[.*\]$", "", " ".join(toks)).split(":")[-1]
            rows.setdefault(fn, vals)
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
print("per new flow (4M-packet run - 2M-packet run) / 2M:")
print(f"{'function (inclusive)':30s} {'Ir':>7s} {'D1 miss':>8s} {'LL miss':>8s}")
for fn in want:
    if fn in a and fn in b:
        d = [(y - x) / 2e6 for x, y in zip(a[fn], b[fn])]
        print(f"{fn:30s} {d[0]:7.1f} {d[4] + d[5]:8.2f} {d[7] + d[8]:8.2f}")
PY
