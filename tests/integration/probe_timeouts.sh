#!/usr/bin/env bash
# Idle and active timeouts on capture time: with timeouts shorter than the gaps and
# lifetimes in the bundled capture, flows are split into several records, each ended
# for the right reason, and not one packet or octet is lost or counted twice.
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
echo "probe_timeouts: ok"
