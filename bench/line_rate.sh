#!/usr/bin/env bash
# Whole-probe line rate (bench/RESULTS.md, "Whole probe"): dpfix-probe meters 64-byte
# frames and exports to a collector on loopback; the rate is taken from telemetry over
# DURATION seconds once it runs. Two feeds, in each round one after the other:
#   pcap: net_pcap with infinite_rx, a generated capture looping in memory; its receive
#     (a copy out of one cold mbuf per frame: 1M mbufs at 1M flows) is paid on the
#     worker's core.
#   ring: bench/ring_source, a DPDK secondary process on the other CPU (lcore 7@0),
#     fills the probe's net_ring0 from the probe's own pool of RING_MBUFS mbufs, as a
#     NIC would (the frame pushed to the shared cache, the mbuf header left clean in the
#     worker's cache); the worker pays a ring dequeue a burst. 1 worker only: the
#     generator needs the second CPU. Its JSON (its rate, cycles a packet, how often it
#     found the ring full) is kept in each row: a ring full most of the time proves
#     that the worker set the rate.
# Cases: 64K, 1M and 4M active flows (one frame per flow per pass) and the flood (1M
# flows in turn into a 64K-flow table: every packet a new flow evicting the oldest) and
# the SYN flood (the same with TCP SYNs), with 1 and 2 workers (2 workers, pcap only: two
# ports, one capture each). The source alone is read by a core doing nothing else:
# dpdk-testpmd rxonly on the same capture, or ring_source --consume (the same generator
# and a testpmd-like reader of its own net_ring0). Each run also reads the worker
# threads' CPU time: on a shared machine, the rate per CPU-second of the worker
# (probe_pps_per_worker_cpu) is what it would do with its core to itself.
# Prints one JSON line per run, a table of medians, and writes $OUT.json and $OUT.png.
# Needs hugepages: it adds HUGEPAGES (2 MB each) and takes them back at the end.
# Usage: bench/line_rate.sh [BUILD_DIR] [OUT]   (env: DURATION, CASES, WORKERS, REPEAT,
#   FEEDS: "pcap ring" (default) or one of them; RING_MBUFS: the probe's pool on the
#   ring feed (default 4096: what a NIC's 4096-descriptor rx ring, the probe's
#   --rx-ring-size here, keeps in flight); RING_OPTS: ring_source options, e.g.
#   "--mbuf-reset --no-demote" (the harsher source); PROBE_OPTS: more probe options, e.g.
#   "--measures tcp,lengths"; SOURCE=no skips the source alone; VS=OTHER_BUILD_DIR:
#   that build's probe too, right after this one's in each round, for a ratio taken in
#   the same round: vs_pps, probe_vs_ratio; probe_source_ratio likewise; VS_NAME names
#   it in the plot)
set -euo pipefail
build=${1:-build}
out=${2:-bench/line_rate}
DURATION=${DURATION:-5}
CASES=${CASES:-"64k 1m 4m flood syn"}
WORKERS=${WORKERS:-"1 2"}
REPEAT=${REPEAT:-1}
PROBE_OPTS=${PROBE_OPTS:-}
SOURCE=${SOURCE:-yes}
FEEDS=${FEEDS:-"pcap ring"}
RING_MBUFS=${RING_MBUFS:-4096}
RING_OPTS=${RING_OPTS:-}
VS=${VS:-}
top=$(cd "$(dirname "$0")/.." && pwd)
probe="$build/app/probe/dpfix-probe"
collector="$build/app/collector/dpfix-collector"
ring_source="$build/bench/ring_source"
caps=${CAPTURES:-/tmp/dpfix-line-rate}
PY=/usr/bin/python3
mkdir -p "$caps"
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
results=$(mktemp /tmp/line_rate.XXXXXX)
pids=()
gpid=

# Frames in the capture and the flow table size of each case; memory, in hugepages: one
# mbuf (2.3 KB) per frame and port, and per table slot its record, index share, wheel
# links and free-list entry (176 bytes at most; 1.4 GB for the 4M case's 8M slots).
declare -A frames=([64k]=65536 [1m]=1048576 [4m]=4194304 [flood]=1048576 [syn]=1048576)
declare -A table=([64k]=131072 [1m]=2097152 [4m]=8388608 [flood]=65536 [syn]=65536)
pages=0
# 4M flows with 2 workers would take 8M mbufs (19 GB): 1 worker only. The ring feed
# needs the second CPU for its generator: 1 worker only.
skip() {   # skip FEED CASE WORKERS
	[ "$1" = ring ] && [ "$3" != 1 ] && return 0
	[ "$1" = pcap ] && [ $(( frames[$2] * $3 )) -gt 4194304 ]
}
for f in $FEEDS; do
	for c in $CASES; do
		for w in $WORKERS; do
			skip $f $c $w && continue
			mb=$(( frames[$c] * w ))
			[ $f = ring ] && mb=$RING_MBUFS
			need=$(( (mb * 2304 + table[$c] * 176 * w) / 2097152 + 512 ))
			[ $need -gt $pages ] && pages=$need
		done
	done
done
forget_prefix() {   # the files a DPDK process run without --in-memory leaves
	rm -rf /dev/hugepages/"$1"map_* /var/run/dpdk/"$1"
}

old_pages=$(cat $hp)
cleanup() {
	for p in "${pids[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
	# The ring feed's processes share memory through files (no --in-memory).
	for p in dpfix-lr-$$ dpfix-lr-src-$$ dpfix-lr-ring-$$; do forget_prefix $p; done
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

worker_ticks() {   # worker_ticks PID WORKERS: CPU time (ticks) of the threads of lcores 1..WORKERS
	local t comm sum=0
	for t in /proc/$1/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		# DPDK 22.11 names lcore N's thread rte-worker-N (later releases dpdk-workerN).
		case $comm in *-worker-[0-9]*) ;; *) continue ;; esac
		[ "${comm##*-}" -le "$2" ] || continue
		sum=$((sum + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)))
	done
	echo $sum
}

wait_up() {   # wait_up PREFIX: until the DPDK process of PREFIX answers telemetry with port 0
	local end=$((SECONDS + 300))
	until [ -n "$(port_counts "$1" 1)" ]; do
		[ $SECONDS -lt $end ] || { echo "$1 did not start" >&2; return 1; }
		sleep 0.5
	done
}

rate() {   # rate PREFIX PORTS FRAMES PID: packets per second over DURATION, once every port
	# receives, and the share of a CPU the worker threads (lcores 1..PORTS of PID) had
	local prefix=$1 ports=$2 frames=$3 pid=$4 counts a= b t0 t1 c0 c1 end=$((SECONDS + 300))
	# net_pcap's infinite_rx counts the capture into the port's statistics as it loads it
	# into mbufs (which takes a while for millions of frames), then sets them back to 0: a
	# window begun during the load measured garbage (0, or a negative rate). Only a count
	# past the capture's frames, on every port, is surely the receive's (and on the ring
	# feed, past the first pass over the flows, which creates them).
	while :; do
		[ $SECONDS -lt $end ] || { echo "$prefix did not start receiving" >&2; echo 0 0; return; }
		sleep 1
		counts=$(port_counts "$prefix" "$ports")
		[ "$(echo "$counts" | grep -c .)" = "$ports" ] || continue
		[ "$(echo "$counts" | sort -n | head -1)" -gt "$frames" ] && break
	done
	c0=$(worker_ticks "$pid" "$ports")
	a=$(port_counts "$prefix" "$ports" | paste -sd+ | bc)
	t0=$(date +%s.%N)
	sleep "$DURATION"
	b=$(port_counts "$prefix" "$ports" | paste -sd+ | bc)
	t1=$(date +%s.%N)
	c1=$(worker_ticks "$pid" "$ports")
	$PY -c "print(round(($b - $a) / ($t1 - $t0)), round(($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0) / $ports, 3))"
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

syn_flag() { [ "$1" = syn ] && echo --syn || true; }

start_generator() {   # start_generator PREFIX POOL CASE OUT: ring_source into PREFIX's net_ring0
	"$ring_source" --proc-type=secondary --file-prefix "$1" --lcores 7@0 --no-pci --no-telemetry \
		--log-level=lib.eal:error -- --pool "$2" --flows ${frames[$3]} $(syn_flag $3) $RING_OPTS \
		>"$4" 2>&1 &
	gpid=$!
	pids+=($gpid)
}

stop_generator() {   # its JSON line is in its output file once it has ended
	[ -n "$gpid" ] || return 0
	kill -INT $gpid 2>/dev/null || true
	wait $gpid || true
	gpid=
}

# run_source FEED CASE WORKERS: the source alone, read by one core per port that does
# nothing else: "pps cpu_share" into $results.rate, the generator's JSON into
# $results.srcgen. pcap: testpmd rxonly. ring: ring_source --consume, its own pool and
# net_ring0 read as testpmd rxonly does on the worker's CPU (testpmd itself cannot host
# the generator: ring_source.c says why).
run_source() {
	local feed=$1 c=$2 w=$3 prefix=dpfix-lr-src-$$ spid
	echo "0 0" >"$results.rate"
	echo "{}" >"$results.srcgen"
	[ "$SOURCE" = yes ] || return 0
	if [ "$feed" = ring ]; then
		"$ring_source" --in-memory --no-pci --vdev net_ring0 --lcores 7@0,1@1 --main-lcore 7 \
			--file-prefix $prefix --no-telemetry --log-level=lib.eal:error -- --consume \
			--mbufs $RING_MBUFS --flows ${frames[$c]} $(syn_flag $c) --seconds $DURATION $RING_OPTS \
			>"$results.srcgen" 2>&1 || true
		$PY -c 'import json, sys
d = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("{")))
print(round(d["reader"]["mpps"] * 1e6), d["reader"]["cpu_share"])' "$results.srcgen" \
			>"$results.rate" 2>/dev/null || { cat "$results.srcgen" >&2; echo "0 0" >"$results.rate"; }
		return 0
	fi
	dpdk-testpmd --in-memory --no-pci $(source_lcores $w) --file-prefix $prefix \
		--log-level=lib.eal:error $(vdevs $c $w) -- --forward-mode=rxonly \
		--auto-start --total-num-mbufs=$(( frames[$c] * w + 8192 )) --nb-cores=$w \
		--stats-period=100 </dev/null >/dev/null 2>&1 &
	spid=$!
	pids+=($spid)
	rate $prefix $w ${frames[$c]} $spid >"$results.rate"
	kill -INT $spid
	wait $spid || true
}

# run_probe PROBE STATS FEED CASE WORKERS: the whole probe; "pps cpu_share" into
# $results.rate, the generator's JSON into $results.gen
run_probe() {
	local probe=$1 stats=$2 feed=$3 c=$4 w=$5 prefix=dpfix-lr-$$ ppid eal mbufs
	echo "{}" >"$results.gen"
	if [ "$feed" = pcap ]; then
		eal="--in-memory $(vdevs $c $w)"
		mbufs=$(( frames[$c] * w + 8192 ))
	else
		prefix=dpfix-lr-ring-$$
		eal="--vdev net_ring0"
		mbufs=$RING_MBUFS
	fi
	"$probe" --no-pci $(lcores $w) --file-prefix $prefix --log-level=lib.eal:error $eal \
		-- --mbuf-count $mbufs --flow-table-size ${table[$c]} \
		--rx-ring-size 4096 --collector "udp://127.0.0.1:$port" --stats-interval 0 \
		--stats-json "$stats" $PROBE_OPTS >"$results.probe" 2>&1 &
	ppid=$!
	pids+=($ppid)
	if [ "$feed" = ring ]; then
		wait_up $prefix && start_generator $prefix mbufs $c "$results.gen"
	fi
	rate $prefix $w ${frames[$c]} $ppid >"$results.rate"
	# The generator stops first: the worker then drains the ring, so the probe's
	# rx_packets must be the generator's packets exactly.
	[ "$feed" = pcap ] || { stop_generator; sleep 0.5; }
	kill -INT $ppid
	wait $ppid || true
	[ "$feed" = pcap ] || forget_prefix $prefix
	# A probe that did not run says why.
	grep -q "rx_packets  *[1-9]" "$results.probe" || head -5 "$results.probe" >&2
}

port=$((20000 + RANDOM % 10000))
"$collector" --listen "udp://127.0.0.1:$port" --quiet >/dev/null 2>&1 &
pids+=($!)
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
start_time=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
echo "line_rate: $start_time; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs;" \
	"load average $start_load; tree $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?');" \
	"FEEDS=\"$FEEDS\" CASES=\"$CASES\" WORKERS=\"$WORKERS\" REPEAT=$REPEAT DURATION=$DURATION" \
	"RING_MBUFS=$RING_MBUFS RING_OPTS=\"$RING_OPTS\" PROBE_OPTS=\"$PROBE_OPTS\""
for r in $(seq "$REPEAT"); do
	for c in $CASES; do
		for w in $WORKERS; do
			for feed in $FEEDS; do
				skip $feed $c $w && continue
				run_source $feed $c $w
				read -r src src_share <"$results.rate"
				cp "$results.srcgen" "$results.srcgen.row"
				# The whole probe (and VS's, after it: both then run on the same machine state).
				run_probe "$probe" "$results.stats" $feed $c $w
				read -r probe_pps probe_share <"$results.rate"
				cp "$results.gen" "$results.gen.row"
				vs_pps=0
				if [ -n "$VS" ]; then
					run_probe "$VS/app/probe/dpfix-probe" "$results.vs" $feed $c $w
					read -r vs_pps _ <"$results.rate"
				fi
				$PY - "$results.stats" "$c" "$w" "$probe_pps" "$src" "${frames[$c]}" "$PROBE_OPTS" \
					"$vs_pps" "${table[$c]}" "$feed" "$probe_share" "$src_share" \
					"$results.gen.row" "$results.srcgen.row" <<'PY' | tee -a "$results"
import json, sys
s = json.load(open(sys.argv[1]))
case, workers, pps, src, frames = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
vs, table, feed = int(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
share, src_share = float(sys.argv[11]), float(sys.argv[12])
def generator(path):   # ring_source's JSON line, {} if it printed none
    for line in open(path):
        if line.startswith("{"):
            return json.loads(line)
    return {}
gen, srcgen = generator(sys.argv[13]), generator(sys.argv[14])
t, x = s["totals"], s["exporter"]
# Exact accounting, checked on every run: each packet metered or counted ignored, each
# flow's record exported or counted lost (the probe ends every flow when stopped); in a
# flood (every packet a new flow, unless an ignored packet left its flow's last record
# in the table for the capture's next pass), each new flow found room (the first
# table-size per worker) or the table full, and each table-full evicted a flow or was
# ignored; both hold as long as no flow ended by a timeout (timeout_ends). On the ring
# feed, every packet the generator made was received.
timeout_ends = t["flows_expired_idle"] + t["flows_expired_active"] + t["flows_ended_tcp"]
exact = (t["rx_packets"] == t["metered_packets"] + t["ignored_packets"] and
         t["flows_created"] == x["records_exported"] + x["records_lost"])
if case in ("flood", "syn") and timeout_ends == 0:
    exact = (exact and
             t["table_full"] == t["flows_created"] + t["ignored_packets"] - table * workers and
             t["table_full"] == t["flows_evicted"] + t["ignored_packets"])
if feed == "ring":
    exact = exact and t["rx_packets"] == gen.get("packets")
print(json.dumps({"feed": feed, "case": case, "workers": workers, "frames": frames,
    "probe_opts": sys.argv[7], "probe_pps": pps,
    "probe_pps_per_worker": pps // workers, "source_pps": src, "source_pps_per_core": src // workers,
    "ns_per_packet_per_worker": round(1e9 * workers / pps, 1) if pps else None,
    "source_ns_per_packet": round(1e9 * workers / src, 1) if src else None,
    "worker_cpu_share": share,
    "probe_pps_per_worker_cpu": round(pps / workers / share) if share else None,
    "source_cpu_share": src_share,
    "source_pps_per_core_cpu": round(src / workers / src_share) if src_share else None,
    "generator_mpps": gen.get("mpps"), "generator_cycles_per_packet": gen.get("cycles_per_packet"),
    "ring_full_fraction": gen.get("ring_full_fraction"),
    "generator_waiting_share": gen.get("waiting_share"),
    "source_ring_full_fraction": srcgen.get("ring_full_fraction"),
    "source_generator_cycles_per_packet": srcgen.get("cycles_per_packet"),
    "source_reader_cycles_per_packet": srcgen.get("reader", {}).get("cycles_per_packet"),
    # The source's cost on the core that reads it: testpmd's whole time on net_pcap; the
    # reader's time in full bursts on the ring.
    "source_cost_ns_per_packet": (round(1e9 * srcgen["reader"]["cycles_per_packet"] / srcgen["tsc_hz"], 1)
        if srcgen.get("reader") else round(1e9 * workers / src, 1) if src else None),
    "rx_missed": t["rx_missed"], "rx_nombuf": t["rx_nombuf"], "rx_packets": t["rx_packets"],
    "flows_created": t["flows_created"], "flows_evicted": t["flows_evicted"],
    "table_full": t["table_full"], "ignored_packets": t["ignored_packets"],
    "timeout_ends": timeout_ends, "exact": exact,
    "records_exported": x["records_exported"], "records_lost": x["records_lost"],
    "probe_source_ratio": round(pps / src, 3) if src else None,
    "vs_pps": vs, "probe_vs_ratio": round(pps / vs, 3) if vs else None,
    "generator": gen, "source_generator": srcgen}))
PY
			done
		done
	done
done
end_load=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$results" "$out.json"
$PY - "$out.json" "$out.png" "${VS_NAME:-$VS}" "$start_time" "$start_load" "$end_load" <<'PY'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    r.setdefault("feed", "pcap")
cases = [c for c in ("64k", "1m", "4m", "flood", "syn") if any(r["case"] == c for r in rows)]
names = {"64k": "64K flows", "1m": "1M flows", "4m": "4M flows", "flood": "flood (64K table)",
         "syn": "SYN flood (64K table)"}

def median(v):
    v = sorted(x for x in v if x is not None)
    return v[len(v) // 2] if v else None

def pick(feed, case, workers, key):
    return [r.get(key) for r in rows if r["feed"] == feed and r["case"] == case and
            r["workers"] == workers and r.get(key)]

fig, ax = plt.subplots(figsize=(9, 4.8))
series = [("ring", 1, "probe on ring_source (generator on the other CPU), 1 worker", "probe_pps_per_worker"),
          ("pcap", 1, "probe on net_pcap infinite_rx, 1 worker", "probe_pps_per_worker"),
          ("pcap", 2, "probe on net_pcap, 2 workers (per worker)", "probe_pps_per_worker"),
          ("ring", 1, "probe built from %s on ring_source, 1 worker" % sys.argv[3], "vs_pps"),
          ("pcap", 1, "probe built from %s on net_pcap, 1 worker" % sys.argv[3], "vs_pps"),
          ("ring", 1, "ring_source alone (--consume: a reader like testpmd rxonly), 1 core", "source_pps_per_core"),
          ("pcap", 1, "net_pcap alone (testpmd rxonly), 1 core", "source_pps_per_core")]
series = [x for x in series if any(pick(x[0], c, x[1], x[3]) for c in cases)]
width = 0.8 / max(len(series), 1)
for i, (feed, w, what, key) in enumerate(series):
    ys = [(median(pick(feed, c, w, key)) or 0) / 1e6 for c in cases]
    ax.bar([x + (i - (len(series) - 1) / 2) * width for x in range(len(cases))], ys, width, label=what)
ax.axhline(30, color="grey", linestyle="--", linewidth=0.8, label="target at 64K flows: 30 Mpps/worker")
ax.axhline(20, color="grey", linestyle=":", linewidth=0.8, label="target at 1M flows: 20 Mpps/worker")
ax.set_xticks(range(len(cases)))
ax.set_xticklabels([names[c] for c in cases])
ax.set_ylabel("Mpps per worker core (64-byte frames)")
ax.set_title("dpfix-probe whole path: rx -> parse -> table -> export (medians; %s)" % sys.argv[4],
             fontsize=9)
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)

# The medians, readable without the JSON.
print("\nMedians over the rounds. probe: Mpps per worker; per CPU-s: that rate over the "
      "worker thread's CPU time (what it would do with its core to itself, if its source kept "
      "up); wk CPU: the share of a CPU the worker had; source alone: Mpps one core reads from "
      "the source doing nothing else; src ns/pkt: the source's cost on that core (ring: its "
      "reader's time in full bursts); ring full: the share of the generator's enqueues that "
      "found the probe's ring full, gen wait: the share of its time it waited for room (high: "
      "the worker set the rate); exact: runs whose every packet and record is accounted for. "
      "Targets: >= 30 Mpps per worker at 64K flows, >= 20 at 1M.")
head = ("feed", "case", "wk", "runs", "probe", "min-max", "per CPU-s", "wk CPU",
        "source alone", "src ns/pkt", "ring full", "gen wait", "gen cyc/pkt", "exact", "exported",
        "lost", "rx_missed")
print("%-5s %-6s %2s %4s %6s %13s %9s %6s %12s %10s %9s %8s %11s %5s %10s %5s %9s" % head)
for feed in ("ring", "pcap"):
    for c in cases:
        for w in (1, 2):
            rs = [r for r in rows if r["feed"] == feed and r["case"] == c and r["workers"] == w]
            if not rs:
                continue
            pps = [r["probe_pps_per_worker"] / 1e6 for r in rs]
            def m(key, scale=1.0, fmt="%.2f"):   # 0 or absent: not measured (SOURCE=no)
                v = median([r.get(key) for r in rs if r.get(key) != 0 or "fraction" in key
                            or "share" in key])
                return fmt % (v / scale) if v is not None else "-"
            print("%-5s %-6s %2d %4d %6.2f %13s %9s %6s %12s %10s %9s %8s %11s %5s %10d %5d %9d" % (
                feed, c, w, len(rs), median(pps), "%.2f-%.2f" % (min(pps), max(pps)),
                m("probe_pps_per_worker_cpu", 1e6), m("worker_cpu_share"),
                m("source_pps_per_core", 1e6), m("source_cost_ns_per_packet", fmt="%.1f"),
                m("ring_full_fraction", fmt="%.3f"),
                m("generator_waiting_share", fmt="%.3f"),
                m("generator_cycles_per_packet", fmt="%.1f"),
                "%d/%d" % (sum(r["exact"] for r in rs), len(rs)),
                sum(r["records_exported"] for r in rs), sum(r["records_lost"] for r in rs),
                sum(r["rx_missed"] for r in rs)))
print("load average (1, 5, 15 min) at start %s, at end %s" % (sys.argv[5], sys.argv[6]))
PY
echo "wrote $out.json and $out.png"
