#!/usr/bin/env bash
# The worker's packet rate with measures on against off (issue 16: >= 80 %), at 64K
# flows: bench/line_rate.sh's 64K case (net_pcap infinite_rx, 64-byte frames, one
# worker), run with `measures = none` and with MEASURES in turn, ROUNDS times, so load
# from elsewhere falls on both alike; prints each pair's ratio and the median ratio.
# Usage: bench/measures_rate.sh [BUILD_DIR] [MEASURES]   (env: ROUNDS, DURATION)
set -euo pipefail
build=${1:-build}
measures=${2:-tcp,http,tls,dns,app,lengths,tunnel,rtp}
ROUNDS=${ROUNDS:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/measures_rate.XXXXXX)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$ROUNDS"); do
	for m in none "$measures"; do
		opts=""
		[ "$m" = none ] || opts="--measures $m"
		CASES=64k WORKERS=1 FEEDS=pcap SOURCE=no PROBE_OPTS="$opts" "$top/bench/line_rate.sh" "$build" \
			"$out/run" >/dev/null
		cat "$out/run.json" >>"$out/all.json"
	done
done
/usr/bin/python3 - "$out/all.json" "$measures" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
off = [r["probe_pps"] for r in rows if r["probe_opts"] == ""]
on = [r["probe_pps"] for r in rows if r["probe_opts"] != ""]
ratios = sorted(b / a for a, b in zip(off, on))
for i, (a, b) in enumerate(zip(off, on)):
    print(f"round {i + 1}: measures none {a / 1e6:.2f} Mpps, {sys.argv[2]} {b / 1e6:.2f} Mpps, ratio {b / a:.3f}")
print(f"median ratio {ratios[len(ratios) // 2]:.3f} over {len(ratios)} rounds; "
      f"medians {sorted(off)[len(off) // 2] / 1e6:.2f} and {sorted(on)[len(on) // 2] / 1e6:.2f} Mpps")
PY
