#!/usr/bin/env bash
# Packets a port drops before any worker sees them are counted, per port and in total:
# the probe (net_af_xdp on a veth pair in namespaces of its own) is stopped with SIGSTOP
# while 6000 frames arrive, more than its socket's rx ring holds. Every frame sent is then
# either received or in rx_missed (the kernel's ring-full drops, which DPDK 22.11's
# af_xdp counts nowhere), in telemetry, the progress line, the summary, --stats-json
# (totals and ports) and the Metering Process Reliability options record; exit status 2.
source "$(dirname "$0")/lib.sh"
af_xdp_leak_unwind

tag=appl$$
veth_pair "$tag"
prefix="dpfix-test-$$"
port=$(free_port)
COLLECTOR_NETNS=${tag}p start_collector "$port" "$WORK/collector" --json "$WORK/records.json" --quiet
ip netns exec "${tag}p" "$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	-l 0-1 --log-level=lib.eal:warning --log-level=pmd.net.af_xdp:warning \
	--vdev "net_af_xdp0,iface=${tag}a" -- --collector "udp://127.0.0.1:$port" \
	--stats-interval 0.2 --stats-json "$WORK/stats.json" >"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/probe.stdout" "worker(s)" 20
send() { ip netns exec "${tag}s" "$PY" "$DPFIX_SOURCE_ROOT/tests/integration/send_frames.py" "${tag}b" "$@"; }

send 100 10
wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets']" 100
kill -STOP "$PROBE_PID"
send 6000 10
kill -CONT "$PROBE_PID"
wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets'] + c['rx_missed']" 6100
missed=$(telemetry_value "$prefix" /dpfix/stats rx_missed)
[ "$missed" -gt 0 ] || fail "nothing missed: the stopped probe's ring held 6000 frames?"
[ "$(telemetry_value "$prefix" /dpfix/port,0 rx_missed)" = "$missed" ] || fail "/dpfix/port,0 disagrees"
wait_for_text "$WORK/probe.stdout" "port 0: missed $missed nombuf 0 errors 0" 10
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 2 ] || fail "probe exited with $rc after dropping $missed packets, want 2"
[ "$(counter "$WORK/probe.stdout" port_0_rx_missed)" = "$missed" ] || fail "summary port_0_rx_missed"
[ "$(counter "$WORK/probe.stdout" rx_missed)" = "$missed" ] || fail "summary rx_missed"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector

$PY - "$WORK" "$missed" <<'PYEOF' || fail "counters"
import json, sys
work, missed = sys.argv[1], int(sys.argv[2])
stats = json.load(open(f"{work}/stats.json"))
t, ports = stats["totals"], stats["ports"]
want = {"rx_missed": missed, "rx_nombuf": 0, "rx_errors": 0}
got = {k: t[k] for k in want}
if got != want or t["rx_packets"] + missed != 6100:
    sys.exit(f"stats.json totals {got}, rx_packets {t['rx_packets']}: want {want} and 6100 in all")
if [(p["port"], p["name"], p["rx_missed"]) for p in ports] != [(0, "net_af_xdp0", missed)]:
    sys.exit(f"stats.json ports {ports}")
records = [json.loads(l) for l in open(f"{work}/records.json")]
mr = [r for r in records if "ignoredPacketTotalCount" in r][-1]
if mr["ignoredPacketTotalCount"] != missed or mr["flowStartMilliseconds"] == 0:
    sys.exit(f"metering reliability {mr}, want {missed} ignored packets with their times")
flows = [r for r in records if "packetDeltaCount" in r]
if sum(r["packetDeltaCount"] for r in flows) != t["rx_packets"]:
    sys.exit("the flows do not hold every packet received")
print(f"6100 frames: {t['rx_packets']} received and metered, {missed} missed at the port; "
      f"options record: {mr['ignoredPacketTotalCount']} ignored")
PYEOF
echo "port_drops: ok"
