#!/usr/bin/env bash
# Whole-probe line rate (bench/RESULTS.md, "Whole probe"): dpfix-probe reads 64-byte
# frames from net_pcap with infinite_rx (a generated capture looping in memory), meters
# them and exports to a collector on loopback; the rate is taken from telemetry over
# DURATION seconds once it runs. Cases: 64K, 1M and 4M active flows (one frame per flow
# per pass of the capture) and the flood (a 1M-frame capture into a 64K-flow table: every
# packet a new flow evicting the oldest) and the SYN flood (the same with TCP SYNs), with
# 1 and 2 workers (2 workers: two ports, one
# capture each). The source alone is measured the same way with dpdk-testpmd rxonly on
# the same capture (its cost is inside the probe's figure). Prints one JSON line per run
# and writes $OUT.json and $OUT.png (packets per second per worker, probe and source).
# Needs hugepages: it adds HUGEPAGES (2 MB each) and takes them back at the end.
# Usage: bench/line_rate.sh [BUILD_DIR] [OUT]   (env: DURATION, CASES, WORKERS, REPEAT,
#   PROBE_OPTS: more probe options, e.g. "--measures tcp,lengths"; SOURCE=no skips testpmd;
#   VS=OTHER_BUILD_DIR: that build's probe too, right after this one's in each round, for
#   a ratio taken in the same round: vs_pps, probe_vs_ratio; probe_source_ratio likewise;
#   VS_NAME names it in the plot)
set -euo pipefail
build=${1:-build}
out=${2:-bench/line_rate}
DURATION=${DURATION:-5}
CASES=${CASES:-"64k 1m 4m flood syn"}
WORKERS=${WORKERS:-"1 2"}
REPEAT=${REPEAT:-1}
PROBE_OPTS=${PROBE_OPTS:-}
SOURCE=${SOURCE:-yes}
VS=${VS:-}
top=$(cd "$(dirname "$0")/.." && pwd)
probe="$build/app/probe/dpfix-probe"
collector="$build/app/collector/dpfix-collector"
caps=${CAPTURES:-/tmp/dpfix-line-rate}
PY=/usr/bin/python3
mkdir -p "$caps"
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
results=$(mktemp /tmp/line_rate.XXXXXX)
pids=()

# Frames in the capture and the flow table size of each case; memory, in hugepages: one
# mbuf (2.3 KB) per frame and port, and per table slot its record, index share, wheel
# links and free-list entry (176 bytes at most; 1.4 GB for the 4M case's 8M slots).
declare -A frames=([64k]=65536 [1m]=1048576 [4m]=4194304 [flood]=1048576 [syn]=1048576)
declare -A table=([64k]=131072 [1m]=2097152 [4m]=8388608 [flood]=65536 [syn]=65536)
pages=0
# 4M flows with 2 workers would take 8M mbufs (19 GB): 1 worker only.
skip() { [ $(( frames[$1] * $2 )) -gt 4194304 ]; }
for c in $CASES; do
	for w in $WORKERS; do
		skip $c $w && continue
		need=$(( (frames[$c] * 2304 + table[$c] * 176) * w / 2097152 + 512 ))
		[ $need -gt $pages ] && pages=$need
	done
done
old_pages=$(cat $hp)
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	echo "$old_pages" >$hp
	rm -f "$results" "$results".*
}
trap cleanup EXIT
echo $(( old_pages + pages )) >$hp
if [ "$(cat $hp)" -lt $(( old_pages + pages )) ]; then
	echo "line_rate: only $(( $(cat $hp) - old_pages )) of $pages hugepages could be reserved" >&2
	exit 1
fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages

capture() {   # capture CASE: the capture file's path, made once
	local f=$caps/${frames[$1]}.pcap syn=
	if [ "$1" = syn ]; then
		f=$caps/syn-${frames[$1]}.pcap
		syn=--syn
	fi
	if [ ! -f "$f" ]; then
		$PY "$top/tests/integration/send_frames.py" - "${frames[$1]}" "${frames[$1]}" $syn --pcap "$f.part"
		mv "$f.part" "$f"
	fi
	echo "$f"
}

port_counts() {   # port_counts PREFIX PORTS: each port's packets received so far ("" if not up)
	local v p
	for p in $(seq 0 $(($2 - 1))); do
		v=$(echo "/ethdev/stats,$p" | dpdk-telemetry.py -f "$1" 2>/dev/null |
			$PY -c 'import json,sys; print(json.load(sys.stdin)["/ethdev/stats"]["ipackets"])' 2>/dev/null) || return 0
		echo "$v"
	done
}

rate() {   # rate PREFIX PORTS FRAMES: packets per second over DURATION, once every port receives
	local prefix=$1 ports=$2 frames=$3 counts a= b t0 t1 end=$((SECONDS + 300))
	# net_pcap's infinite_rx counts the capture into the port's statistics as it loads it
	# into mbufs (which takes a while for millions of frames), then sets them back to 0: a
	# window begun during the load measured garbage (0, or a negative rate). Only a count
	# past the capture's frames, on every port, is surely the receive's.
	while :; do
		[ $SECONDS -lt $end ] || { echo "$prefix did not start receiving" >&2; echo 0; return; }
		sleep 1
		counts=$(port_counts "$prefix" "$ports")
		[ "$(echo "$counts" | grep -c .)" = "$ports" ] || continue
		[ "$(echo "$counts" | sort -n | head -1)" -gt "$frames" ] && break
	done
	a=$(port_counts "$prefix" "$ports" | paste -sd+ | bc)
	t0=$(date +%s.%N)
	sleep "$DURATION"
	b=$(port_counts "$prefix" "$ports" | paste -sd+ | bc)
	t1=$(date +%s.%N)
	$PY -c "print(round(($b - $a) / ($t1 - $t0)))"
}

vdevs() {   # vdevs CASE WORKERS: one net_pcap port per worker on the case's capture
	local cap
	cap=$(capture "$1")
	for i in $(seq 0 $(($2 - 1))); do
		echo "--vdev net_pcap$i,rx_pcap=$cap,infinite_rx=1"
	done
}

lcores() {   # the probe's: control and export share CPU 0 with worker 0 when 2 workers
	[ "$1" = 1 ] && echo "-l 0-1" || echo "--lcores 0@0,1@0,2@1,3@0"
}

source_lcores() {   # testpmd's: its main lcore and one forwarding lcore per port
	[ "$1" = 1 ] && echo "-l 0-1" || echo "--lcores 0@0,1@0,2@1"
}

port=$((20000 + RANDOM % 10000))
"$collector" --listen "udp://127.0.0.1:$port" --quiet >/dev/null 2>&1 &
pids+=($!)
for r in $(seq "$REPEAT"); do
	for c in $CASES; do
		for w in $WORKERS; do
			skip $c $w && continue
			mbufs=$(( frames[$c] * w + 8192 ))
			# The source alone: testpmd rxonly, one forwarding core per port.
			prefix=dpfix-lr-src-$$
			src=0
			if [ "$SOURCE" = yes ]; then
				dpdk-testpmd --in-memory --no-pci $(source_lcores $w) --file-prefix $prefix \
					--log-level=lib.eal:error $(vdevs $c $w) -- --forward-mode=rxonly \
					--auto-start --total-num-mbufs=$mbufs --nb-cores=$w --stats-period=100 \
					</dev/null >/dev/null 2>&1 &
				spid=$!
				pids+=($spid)
				src=$(rate $prefix $w ${frames[$c]})
				kill -INT $spid
				wait $spid || true
			fi
			# The whole probe (and VS's, after it: both then run on the same machine state).
			run_probe() {   # run_probe PROBE STATS: its packets per second
				"$1" --in-memory --no-pci $(lcores $w) --file-prefix $prefix --log-level=lib.eal:error \
					$(vdevs $c $w) -- --mbuf-count $mbufs --flow-table-size ${table[$c]} \
					--rx-ring-size 4096 --collector "udp://127.0.0.1:$port" --stats-interval 0 \
					--stats-json "$2" $PROBE_OPTS >"$results.probe" 2>&1 &
				ppid=$!
				pids+=($ppid)
				rate $prefix $w ${frames[$c]}
				kill -INT $ppid
				wait $ppid || true
				# A probe that did not run says why.
				grep -q "rx_packets  *[1-9]" "$results.probe" || head -5 "$results.probe" >&2
			}
			prefix=dpfix-lr-$$
			probe_pps=$(run_probe "$probe" "$results.stats")
			vs_pps=0
			[ -z "$VS" ] || vs_pps=$(run_probe "$VS/app/probe/dpfix-probe" "$results.vs")
			$PY - "$results.stats" "$c" "$w" "$probe_pps" "$src" "${frames[$c]}" "$PROBE_OPTS" "$vs_pps" \
				"${table[$c]}" <<'PY' | tee -a "$results"
import json, sys
s = json.load(open(sys.argv[1]))
case, workers, pps, src, frames = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
vs, table = int(sys.argv[8]), int(sys.argv[9])
t, x = s["totals"], s["exporter"]
# Exact accounting, checked on every run: each packet metered or counted ignored, each
# flow's record exported or counted lost (the probe ends every flow when stopped); in a
# flood (every packet a new flow, unless an ignored packet left its flow's last record
# in the table for the capture's next pass), each new flow found room (the first
# table-size per worker) or the table full, and each table-full evicted a flow or was
# ignored; both hold as long as no flow ended by a timeout (timeout_ends).
timeout_ends = t["flows_expired_idle"] + t["flows_expired_active"] + t["flows_ended_tcp"]
exact = (t["rx_packets"] == t["metered_packets"] + t["ignored_packets"] and
         t["flows_created"] == x["records_exported"] + x["records_lost"])
if case in ("flood", "syn") and timeout_ends == 0:
    exact = (exact and
             t["table_full"] == t["flows_created"] + t["ignored_packets"] - table * workers and
             t["table_full"] == t["flows_evicted"] + t["ignored_packets"])
print(json.dumps({"case": case, "workers": workers, "frames": frames,
    "probe_opts": sys.argv[7], "probe_pps": pps,
    "probe_pps_per_worker": pps // workers, "source_pps": src, "source_pps_per_core": src // workers,
    "ns_per_packet_per_worker": round(1e9 * workers / pps, 1) if pps else None,
    "source_ns_per_packet": round(1e9 * workers / src, 1) if src else None,
    "rx_missed": t["rx_missed"], "rx_nombuf": t["rx_nombuf"], "rx_packets": t["rx_packets"],
    "flows_created": t["flows_created"], "flows_evicted": t["flows_evicted"],
    "table_full": t["table_full"], "ignored_packets": t["ignored_packets"],
    "timeout_ends": timeout_ends, "exact": exact,
    "records_exported": x["records_exported"], "records_lost": x["records_lost"],
    "probe_source_ratio": round(pps / src, 3) if src else None,
    "vs_pps": vs, "probe_vs_ratio": round(pps / vs, 3) if vs else None}))
PY
		done
	done
done

cp "$results" "$out.json"
$PY - "$out.json" "$out.png" "${VS_NAME:-$VS}" <<'PY'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = [json.loads(l) for l in open(sys.argv[1])]
cases = [c for c in ("64k", "1m", "4m", "flood", "syn") if any(r["case"] == c for r in rows)]
fig, ax = plt.subplots(figsize=(8, 4.5))
series = [(1, "probe, 1 worker", "probe_pps_per_worker"),
          (2, "probe, 2 workers (per worker)", "probe_pps_per_worker"),
          (1, "probe built from %s, 1 worker" % sys.argv[3], "vs_pps"),
          (1, "source alone (testpmd rxonly), 1 core", "source_pps_per_core")]
series = [x for x in series if any(r["workers"] == x[0] and r.get(x[2]) for r in rows)]
width = 0.8 / len(series)
for i, (w, what, key) in enumerate(series):
    ys = []
    for c in cases:
        v = [r[key] for r in rows if r["case"] == c and r["workers"] == w and r.get(key)]
        ys.append(sorted(v)[len(v) // 2] / 1e6 if v else 0)
    ax.bar([x + (i - (len(series) - 1) / 2) * width for x in range(len(cases))], ys, width, label=what)
ax.axhline(30, color="grey", linestyle="--", linewidth=0.8)
ax.axhline(20, color="grey", linestyle=":", linewidth=0.8)
ax.set_xticks(range(len(cases)))
names = {"64k": "64K flows", "1m": "1M flows", "4m": "4M flows", "flood": "flood (64K table)",
         "syn": "SYN flood (64K table)"}
ax.set_xticklabels([names[c] for c in cases])
ax.set_ylabel("Mpps per worker core (64-byte frames)")
ax.set_title("dpfix-probe whole path: net_pcap infinite_rx -> parse -> table -> export")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
PY
echo "wrote $out.json and $out.png"
