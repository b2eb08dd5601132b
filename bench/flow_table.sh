#!/usr/bin/env bash
# Metering benchmarks of issue 4 on one worker core (bench/RESULTS.md, "Flow table"):
#   1. the worker path (parse + flow table + mbuf free) at 1K, 64K, 1M, 4M active flows
#      and the flood (every packet a new flow into a 1M-flow table), 64-byte frames;
#   2. lib/flow's index against rte_hash_lookup_bulk_data at the same flow counts;
#   3. instruction counts of both indexes under callgrind (64K flows, 2M packets).
# Each timed case runs REPEAT times; the table shows the median. Needs hugepages: the
# script reserves them (HUGEPAGES, 2 MB each) and gives them back at the end.
# Usage: bench/flow_table.sh [BUILD_DIR] [PACKETS]
set -euo pipefail
build=${1:-build}
packets=${2:-20000000}
REPEAT=${REPEAT:-3}
HUGEPAGES=${HUGEPAGES:-1280}
bench="$build/bench/bench_flow"
out=$(mktemp /tmp/bench_flow.XXXXXX)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
old_hp=$(cat $hp)
mounted_here=0
cleanup() {
	echo "$old_hp" >$hp
	[ "$mounted_here" = 1 ] && umount /dev/hugepages || true
	rm -f "$out"
}
trap cleanup EXIT
echo "$HUGEPAGES" >$hp
mkdir -p /dev/hugepages
if ! mountpoint -q /dev/hugepages; then
	mount -t hugetlbfs nodev /dev/hugepages
	mounted_here=1
fi
eal="--in-memory --no-pci -l 0 --log-level=lib.eal:error"

for r in $(seq "$REPEAT"); do
	for f in 1024 65536 1048576 4194304; do
		"$bench" $eal -- --mode worker --flows $f --packets "$packets" 2>/dev/null >>"$out"
		for impl in own rte_hash; do
			"$bench" $eal -- --mode table --impl $impl --flows $f --packets "$packets" 2>/dev/null >>"$out"
		done
	done
	"$bench" $eal -- --mode worker --flood --table-size 1048576 --packets "$packets" 2>/dev/null >>"$out"
done
cat "$out"

for impl in own rte_hash; do
	valgrind --tool=callgrind --callgrind-out-file="$out.cg.$impl" "$bench" --no-huge -m 1024 \
		--no-pci --no-shconf -l 0 --log-level=lib.eal:error -- --mode table --impl $impl \
		--flows 65536 --packets 2000000 >/dev/null 2>&1
	fn=$([ $impl = own ] && echo dpfix_flow_table_update_bulk || echo rte_hash_update_bulk)
	ir=$(callgrind_annotate --inclusive=yes "$out.cg.$impl" | awk -v fn="$fn" '$0 ~ fn && !done {gsub(",", "", $1); print $1; done = 1}')
	echo "{\"callgrind\":\"$impl\",\"packets\":$((2000000 + 65536)),\"ir\":$ir,\"ir_per_packet\":$((ir / (2000000 + 65536)))}"
	rm -f "$out.cg.$impl"
done

/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(sel, field):
    v = [r[field] for r in rows if all(r.get(k) == x for k, x in sel.items())]
    return statistics.median(v) if v else float("nan")
print("\n| active flows | worker Mpps (with source) | cycles/packet | metering only: Mpps | cycles/packet | table alone, own: Mpps | rte_hash: Mpps | own / rte_hash |")
print("|---|---|---|---|---|---|---|---|")
for f in (1024, 65536, 1048576, 4194304):
    w = dict(mode="worker", flows=f, flood=0)
    own = med(dict(mode="table", impl="own", flows=f), "table_mpps")
    rh = med(dict(mode="table", impl="rte_hash", flows=f), "table_mpps")
    print(f"| {f} | {med(w, 'mpps'):.1f} | {med(w, 'cycles_per_packet'):.0f} | "
          f"{med(w, 'metering_mpps'):.1f} | {med(w, 'metering_cycles_per_packet'):.0f} | "
          f"{own:.1f} | {rh:.1f} | {own / rh:.2f} |")
w = dict(mode="worker", flood=1)
print(f"| flood (1M table) | {med(w, 'mpps'):.2f} M new flows/s | {med(w, 'cycles_per_packet'):.0f} | "
      f"{med(w, 'metering_mpps'):.2f} | {med(w, 'metering_cycles_per_packet'):.0f} | | | |")
PY
