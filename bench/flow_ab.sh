#!/usr/bin/env bash
# Two builds of bench_flow on one case, run in turn (A B A B ...) so that both see the
# same machine load; prints min/median/max Mpps of each and of the ratio B/A taken
# pair by pair (bench/RESULTS.md quotes these). As root: it reserves hugepages
# (HUGEPAGES, 2 MB each) and gives them back.
# Usage: [PACKETS=N] [EXTRA='--random-keys'] bench/flow_ab.sh BUILD_A BUILD_B RUNS CASE
#   CASE: flood (every packet a new flow, 1M-flow table), N (worker path, N active
#   flows), tN (the flow table alone, N flows), cN (the table alone, N flows whose keys
#   share one CRC32C: --collide). EXTRA: more bench_flow options for both.
set -euo pipefail
a=$1/bench/bench_flow
b=$2/bench/bench_flow
runs=$3
case=$4
HUGEPAGES=${HUGEPAGES:-700}
packets=${PACKETS:-20000000}
case $case in
flood) args="--mode worker --flood --table-size 1048576" ;;
t*) args="--mode table --flows ${case#t}" ;;
c*) args="--mode table --collide --flows ${case#c}" ;;
*) args="--mode worker --flows $case" ;;
esac
args="$args ${EXTRA:-}"
out=$(mktemp /tmp/flow_ab.XXXXXX)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
old_hp=$(cat $hp)
mounted_here=0
cleanup() {
	echo "$old_hp" >$hp
	[ "$mounted_here" = 1 ] && umount /dev/hugepages || true
	rm -f "$out" "$out".*
}
trap cleanup EXIT
[ "$old_hp" -lt "$HUGEPAGES" ] && echo "$HUGEPAGES" >$hp
mkdir -p /dev/hugepages
if ! mountpoint -q /dev/hugepages; then
	mount -t hugetlbfs nodev /dev/hugepages
	mounted_here=1
fi
eal="--in-memory --no-pci -l 0 --log-level=lib.eal:error"
for i in $(seq "$runs"); do
	"$a" $eal -- $args --packets "$packets" 2>/dev/null >>"$out.a"
	"$b" $eal -- $args --packets "$packets" 2>/dev/null >>"$out.b"
done
/usr/bin/python3 - "$out.a" "$out.b" "$case" "$1" "$2" <<'PY'
import json, statistics, sys
rate = lambda r: r["mpps"] if r["mode"] == "worker" else r["table_mpps"]
a = [rate(json.loads(l)) for l in open(sys.argv[1])]
b = [rate(json.loads(l)) for l in open(sys.argv[2])]
q = [y / x for x, y in zip(a, b)]
f = lambda v: f"min {min(v):.2f} median {statistics.median(v):.2f} max {max(v):.2f}"
print(f"case {sys.argv[3]}, {len(a)} runs each")
print(f"  A {sys.argv[4]}: Mpps {f(a)}")
print(f"  B {sys.argv[5]}: Mpps {f(b)}")
print(f"  B/A per pair: {f(q)}")
PY
