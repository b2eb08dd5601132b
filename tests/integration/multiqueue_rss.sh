#!/usr/bin/env bash
# Multi-queue capture, end to end: a two-queue net_af_packet port (PACKET_FANOUT_HASH: the
# kernel spreads frames by a symmetric flow hash, as a NIC with dpfix's symmetric RSS key
# does) read by two workers, one queue each, with biflow. The peer sends both directions
# of 64 UDP connections, interleaved. Every connection must come out as one biflow record
# holding both directions' packets (a connection split between the workers would be two
# one-way records), both workers must have had connections, and the workers' counters
# must add up to the frames sent.
source "$(dirname "$0")/lib.sh"

tag=appl$$
veth_pair "$tag"
prefix="dpfix-test-$$"
port=$(free_port)
COLLECTOR_NETNS=${tag}p start_collector "$port" "$WORK/collector" --json "$WORK/records.json" --quiet
# Four lcores on two CPUs: control, two workers, exporter. The sender's four parts may be
# far apart on a loaded machine (a sanitizer build, CI): idle and active timeouts much longer
# than the test keep each connection one flow, as the test needs.
ip netns exec "${tag}p" "$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	--lcores 0@0,1@1,2@0,3@1 --log-level=lib.eal:warning \
	--vdev "net_af_packet0,iface=${tag}a,qpairs=2,framecnt=4096" -- \
	--collector "udp://127.0.0.1:$port" --biflow yes --stats-interval 0 \
	--idle-timeout 600 --active-timeout 600 \
	--stats-json "$WORK/stats.json" >"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/probe.stdout" "2 worker(s)" 20
# 64 connections x 40 frames (20 each way), in parts that the sockets' rings hold whole:
# PACKET_FANOUT_FLAG_ROLLOVER (set by DPDK) would move frames to the other queue if one
# were full, which is not what is tested here.
for part in 0 1 2 3; do
	ip netns exec "${tag}s" "$PY" "$DPFIX_SOURCE_ROOT/tests/integration/send_frames.py" "${tag}b" 2560 64 \
		--both-directions --part $part/4
	wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets']" $((640 * (part + 1)))
done
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -5 "$WORK/probe.stdout")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector

$PY - "$WORK" <<'PYEOF' || fail "connections split between workers"
import json, sys
work = sys.argv[1]
stats = json.load(open(f"{work}/stats.json"))
records = [json.loads(l) for l in open(f"{work}/records.json")]
flows = [r for r in records if "packetDeltaCount" in r]
by_conn = {}
for r in flows:
    ends = sorted([(r["sourceIPv4Address"], r["sourceTransportPort"]),
                   (r["destinationIPv4Address"], r["destinationTransportPort"])])
    by_conn.setdefault(tuple(ends), []).append(r)
errors = []
if len(by_conn) != 64:
    errors.append(f"{len(by_conn)} connections, want 64")
for conn, rs in sorted(by_conn.items()):
    got = [(r["packetDeltaCount"], r.get("reversePacketDeltaCount")) for r in rs]
    if got != [(20, 20)]:
        errors.append(f"{conn}: records {got}, want one with 20 packets each way")
w = stats["workers"]
rx = [x["rx_packets"] for x in w]
if sum(rx) != 2560 or min(rx) == 0:
    errors.append(f"workers received {rx}: want 2560 in all, some on each")
for x in w:
    # Each worker's records are whole connections: 40 frames each.
    if x["rx_packets"] != 40 * x["flows_created"]:
        errors.append(f"worker {x['worker']}: {x['rx_packets']} frames in {x['flows_created']} flows")
if stats["totals"]["rx_missed"] != 0:
    errors.append(f"rx_missed {stats['totals']['rx_missed']}")
if errors:
    sys.exit("; ".join(errors[:8]))
print(f"64 connections, each one biflow record on one worker; frames per worker {rx}, "
      f"connections per worker {[x['flows_created'] for x in w]}")
PYEOF
echo "multiqueue_rss: ok"
