#!/usr/bin/env bash
# Flow ends other than timeouts, on timestamped captures made here with scapy:
# - table pressure: 1500 single-packet flows into a 1024-flow table evict exactly the
#   476 oldest with flowEndReason 5 (lackOfResources), and none is lost;
# - TCP: after a FIN or RST the flow ends once it is tcp_end_wait quiet (reason 3),
#   packets within the wait stay in the record, and a packet after it starts another.
source "$(dirname "$0")/lib.sh"

$PY - "$WORK" <<'PYEOF' || fail "could not generate the captures"
import sys
from scapy.all import IP, TCP, UDP, Ether, wrpcap
out = sys.argv[1]
E = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
T0 = 1763800000.0

def at(t, p):
    p.time = t
    return p

# 1500 UDP flows, one packet each, 1 ms apart; flow i has i + 1 bytes of payload.
pkts = [at(T0 + i / 1000, Ether(**E) / IP(src="10.1.%d.%d" % (i // 250, i % 250 + 1),
        dst="192.0.2.1") / UDP(sport=1000 + i, dport=53) / (b"x" * (i + 1)))
        for i in range(1500)]
wrpcap(out + "/pressure.pcap", pkts)

# Two TCP connections. A -> B: SYN, data, FIN at T0+1.0, its last ACK 0.5 s later
# (within the 1 s wait), then a data packet at T0+5 (after the wait: a new record).
# C -> D: data, then RST at T0+2.
a, b = dict(src="10.0.0.1", dst="10.0.0.2"), dict(sport=40000, dport=80)
c, d = dict(src="10.0.0.3", dst="10.0.0.4"), dict(sport=40001, dport=443)
tcp = [
    at(T0 + 0.0, Ether(**E) / IP(**a) / TCP(flags="S", **b)),
    at(T0 + 0.1, Ether(**E) / IP(**a) / TCP(flags="PA", **b) / (b"d" * 100)),
    at(T0 + 0.2, Ether(**E) / IP(**c) / TCP(flags="PA", **d) / (b"e" * 10)),
    at(T0 + 1.0, Ether(**E) / IP(**a) / TCP(flags="FA", **b)),
    at(T0 + 1.5, Ether(**E) / IP(**a) / TCP(flags="A", **b)),
    at(T0 + 2.0, Ether(**E) / IP(**c) / TCP(flags="R", **d)),
    at(T0 + 5.0, Ether(**E) / IP(**a) / TCP(flags="PA", **b) / (b"f" * 7)),
]
wrpcap(out + "/tcp.pcap", tcp)
PYEOF

run_probe() {   # run_probe NAME PCAP [probe options]: probe -> collector, JSON records
	local name=$1 pcap=$2 port
	shift 2
	port=$(free_port)
	start_collector "$port" "$WORK/$name.collector" --quiet --json "$WORK/$name.json"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$pcap" -- \
		--collector "udp://127.0.0.1:$port" "$@" >"$WORK/$name.probe" 2>&1 ||
		fail "$name: probe exited with $?: $(tail -3 "$WORK/$name.probe")"
	wait_for_records "$WORK/$name.json" "$(probe_records "$WORK/$name.probe")"
	stop_collector
}

run_probe pressure "$WORK/pressure.pcap" --flow-table-size 1024 --idle-timeout 60 --active-timeout 120
[ "$(counter "$WORK/pressure.probe" flows_created)" = 1500 ] || fail "pressure: flows_created"
[ "$(counter "$WORK/pressure.probe" flows_evicted)" = 476 ] || fail "pressure: flows_evicted $(counter "$WORK/pressure.probe" flows_evicted), want 476"
[ "$(counter "$WORK/pressure.probe" table_full)" = 476 ] || fail "pressure: table_full"
[ "$(counter "$WORK/pressure.probe" ignored_packets)" = 0 ] || fail "pressure: ignored_packets"
[ "$(counter "$WORK/pressure.probe" flows_expired_forced)" = 1024 ] || fail "pressure: flows_expired_forced"
$PY - "$WORK/pressure.json" <<'PYEOF' || fail "pressure: records"
import json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if "flowEndReason" in r]  # flows, not options
if len(recs) != 1500:
    sys.exit(f"{len(recs)} records, want 1500")
by_port = {r["sourceTransportPort"] - 1000: r for r in recs}
if sorted(by_port) != list(range(1500)):
    sys.exit("some flow is missing or doubled")
for i, r in by_port.items():
    want_reason = 5 if i < 476 else 4      # the oldest go first
    if r["flowEndReason"] != want_reason:
        sys.exit(f"flow {i}: flowEndReason {r['flowEndReason']}, want {want_reason}")
    if (r["packetDeltaCount"], r["octetDeltaCount"]) != (1, 20 + 8 + i + 1):
        sys.exit(f"flow {i}: {r['packetDeltaCount']} packets, {r['octetDeltaCount']} octets")
print("pressure: 476 evicted (reason 5) oldest first, 1024 at end of input (4), all counted")
PYEOF

run_probe tcp "$WORK/tcp.pcap" --tcp-end-wait 1 --idle-timeout 30 --active-timeout 120
[ "$(counter "$WORK/tcp.probe" flows_ended_tcp)" = 2 ] || fail "tcp: flows_ended_tcp $(counter "$WORK/tcp.probe" flows_ended_tcp), want 2"
$PY - "$WORK/tcp.json" <<'PYEOF' || fail "tcp: records"
import json, sys
recs = sorted((r for r in map(json.loads, open(sys.argv[1])) if "flowEndReason" in r),
              key=lambda r: (r["sourceTransportPort"], r["flowStartMilliseconds"]))
got = [(r["sourceTransportPort"], r["packetDeltaCount"], r["octetDeltaCount"],
        r["tcpControlBits"], r["flowEndReason"]) for r in recs]
want = [
    (40000, 4, 40 + 140 + 40 + 40, 0x1b, 3),   # SYN, data, FIN, last ACK: end of flow
    (40000, 1, 47, 0x18, 4),                   # after the wait: a new record, to the end
    (40001, 2, 50 + 40, 0x1c, 3),              # data, RST: end of flow
]
if got != want:
    sys.exit(f"records {got}\n   want {want}")
print("tcp: FIN and RST end their flows (reason 3) after the wait; later packets start anew")
PYEOF
echo "probe_flow_end: ok"
