#!/usr/bin/env bash
# Idle and active timeouts on capture time: with timeouts shorter than the gaps and
# lifetimes in the bundled capture, flows are split into several records, each ended
# for the right reason, and not one packet or octet is lost or counted twice; and
# packets older than their record's start never stretch it past the timeouts.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "udp://127.0.0.1:$port" --idle-timeout 0.04 --active-timeout 0.06 \
	>"$WORK/probe.stdout" 2>&1 || fail "probe failed: $(tail -3 "$WORK/probe.stdout")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector

$PY - "$WORK/records.json" "$SAMPLE_EXPECTED" "$SAMPLE_PCAP" <<'PYEOF' || fail "timeout accounting"
import json, sys
from scapy.all import ICMP, IP, TCP, UDP, IPv6, rdpcap

IDLE_NS, ACTIVE_NS = 40_000_000, 60_000_000

def key(pkt):
    """The probe's default flow key, from scapy's own dissection."""
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if ip is None or (pkt.haslayer(IP) and pkt[IP].ihl < 5):
        return None
    v6 = ip.version == 6
    proto = ip.nh if v6 else ip.proto
    sport = dport = 0
    if pkt.haslayer(TCP) or pkt.haslayer(UDP):
        l4 = pkt.getlayer(TCP) or pkt.getlayer(UDP)
        sport, dport = l4.sport, l4.dport
    elif proto in (1, 58):
        raw = bytes(ip.payload)
        dport = raw[0] << 8 | raw[1]
    return (ip.version, ip.src, ip.dst, proto, sport, dport)

# An independent model of exact timeouts: a packet starts a new record when its flow has
# been idle for IDLE_NS or active for ACTIVE_NS.
# Only packets of the capture's known flows (scapy dresses a cut-short IPv4 header up
# with default addresses; the probe rightly counts it as malformed).
want = json.load(open(sys.argv[2]))
known = {(f["ip_version"], f["src"], f["dst"], f["protocol"], f["src_port"], f["dst_port"])
         for f in want["flow_list"]}
state, model_records = {}, 0
for pkt in rdpcap(sys.argv[3]):
    k = key(pkt)
    if k not in known:
        continue
    t = round(float(pkt.time) * 1e6) * 1000
    if k not in state or t - state[k][1] >= IDLE_NS or t - state[k][0] >= ACTIVE_NS:
        model_records += 1
        state[k] = [t, t]
    state[k][1] = t

# Flow records only; the options records (RFC 7011 4) are checked in probe_to_collector.
records = [r for r in map(json.loads, open(sys.argv[1])) if "flowEndReason" in r]
reasons = {}
for r in records:
    reasons[r["flowEndReason"]] = reasons.get(r["flowEndReason"], 0) + 1
    start, end = r["flowStartMilliseconds"], r["flowEndMilliseconds"]
    if end < start:
        sys.exit(f"record ends before it starts: {r}")
packets = sum(r["packetDeltaCount"] for r in records)
octets = sum(r["octetDeltaCount"] for r in records)
if (packets, octets) != (want["packets"], want["octets"]):
    sys.exit(f"packets/octets {packets}/{octets}, want {want['packets']}/{want['octets']}")
if len(records) != model_records:
    sys.exit(f"{len(records)} records, the timeout model says {model_records}")
if len(records) <= want["flows"]:
    sys.exit(f"{len(records)} records: timeouts split no flow")
# 1 = idle timeout, 2 = active timeout (RFC 7012 flowEndReason)
if reasons.get(1, 0) == 0 or reasons.get(2, 0) == 0:
    sys.exit(f"end reasons {reasons}: want both idle (1) and active (2)")
print(f"{len(records)} records for {want['flows']} flows, end reasons {reasons}")
PYEOF
grep -q "flows_expired_idle" "$WORK/probe.stdout" || fail "no expiry counters in the probe summary"

# Late packets (idle_timeout 15, active_timeout 120): a packet 99 s older than its flow's
# first, and one 10 years older, count at their record's start (late_packets 2) instead
# of stretching it past the timeouts; one 5 s older (reordering) moves the start back.
$PY - "$WORK/late.pcap" <<'PYEOF'
import struct, sys
T = 1763900000
def udp(src_last, sport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 36, 1, 0, 64, 17, 0, bytes([10, 60, 0, src_last]),
                     bytes([10, 60, 0, 200]))
    return b"\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x08\x00" + ip + \
        struct.pack("!HHHH", sport, 53, 16, 0) + bytes(8)
packets = [(T + 100, udp(1, 1001)), (T + 1, udp(1, 1001)),            # 99 s early
           (T + 10, udp(2, 1002)), (T + 5, udp(2, 1002)),             # 5 s early
           (T + 50, udp(3, 1003)), (T + 50 - 3650 * 86400, udp(3, 1003))]  # 10 years early
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, frame in packets:
        f.write(struct.pack("<IIII", t, 0, len(frame), len(frame)) + frame)
PYEOF
port=$(free_port)
start_collector "$port" "$WORK/collector-late" --quiet --json "$WORK/late.json"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/late.pcap" -- \
	--collector "udp://127.0.0.1:$port" --idle-timeout 15 --active-timeout 120 \
	--stats-json "$WORK/late-stats.json" >"$WORK/probe-late.stdout" 2>&1 ||
	fail "probe (late packets) failed: $(tail -3 "$WORK/probe-late.stdout")"
wait_for_records "$WORK/late.json" "$(probe_records "$WORK/probe-late.stdout")"
stop_collector
$PY - "$WORK/late.json" "$WORK/late-stats.json" <<'PYEOF' || fail "late packets stretched a record"
import json, sys
from datetime import datetime
def ms(iso):
    return round(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
T = 1763900000 * 1000
records = {r["sourceTransportPort"]: r for r in map(json.loads, open(sys.argv[1]))
           if "flowEndReason" in r}
want = {1001: (T + 100000, T + 100000), 1002: (T + 5000, T + 10000), 1003: (T + 50000, T + 50000)}
got = {p: (ms(r["flowStartMilliseconds"]), ms(r["flowEndMilliseconds"])) for p, r in records.items()}
if got != want or any(r["packetDeltaCount"] != 2 for r in records.values()):
    sys.exit(f"records (start, end) {got}, want {want}")
late = json.load(open(sys.argv[2]))["totals"]["late_packets"]
if late != 2:
    sys.exit(f"late_packets {late}, want 2")
print(f"late packets: {got}, late_packets {late}")
PYEOF
echo "probe_timeouts: ok"
