#!/usr/bin/env bash
# The export lcore's work per flow record in two builds: bench_export --probe-records
# (each record, a metered flow, handed to the Exporting Process with the probe's own
# schema, then messages assembled and sent over UDP to a dpfix-collector of BUILD_B on
# loopback; before lib/export, the bench did that assembly itself). First the
# instructions per record under callgrind (repeatable on a noisy machine: user space
# only, the send syscalls' kernel work is not counted), then CPU seconds per million
# records, RUNS runs of each build in turn (A B A B ...) with min/median/max.
# Usage: bench/export_ab.sh BUILD_A BUILD_B [RUNS] [RECORDS]
set -euo pipefail
a=$1/bench/bench_export
b=$2/bench/bench_export
runs=${3:-5}
records=${4:-1000000}
callgrind_records=200000
work=$(mktemp -d /tmp/export_ab.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$2/app/collector/dpfix-collector" --quiet --listen "udp://127.0.0.1:$port" \
	>"$work/collector.out" 2>&1 &
sleep 0.5
url="udp://127.0.0.1:$port"

for mode in "" --biflow; do
	for side in A B; do
		exe=$a
		[ $side = B ] && exe=$b
		valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$exe" "$url" \
			"$callgrind_records" --probe-records $mode >"$work/out" 2>/dev/null
		ir=$(callgrind_annotate "$work/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
		bytes=$(grep -o '"record_bytes":[0-9]*' "$work/out" | cut -d: -f2)
		echo "callgrind $side ${mode:---uniflow} ${bytes}-byte records: $((ir / callgrind_records)) instructions per record"
	done
done

for mode in "" --biflow; do
	: >"$work/A" && : >"$work/B"
	for _ in $(seq 1 "$runs"); do
		for side in A B; do
			exe=$a
			[ $side = B ] && exe=$b
			"$exe" "$url" "$records" --probe-records $mode |
				grep -o '"cpu_s_per_million":[0-9.]*' | cut -d: -f2 >>"$work/$side"
		done
	done
	python3 - "$work/A" "$work/B" "${mode:---uniflow}" <<'EOF'
import statistics, sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
ratios = sorted(y / x for x, y in zip(a, b))
fmt = lambda v: f"{min(v):.3f} / {statistics.median(v):.3f} / {max(v):.3f}"
print(f"cpu_s_per_million {sys.argv[3]}: A {fmt(a)}, B {fmt(b)} (min / median / max), "
      f"B/A median {statistics.median(ratios):.2f}")
EOF
done
kill -INT %1
wait || true
grep -o 'flows [0-9]*' "$work/collector.out" || true
