#!/usr/bin/env bash
# Biflow (RFC 5103), on a timestamped capture made here with scapy: both directions of
# a TCP connection, a UDP exchange and an ICMP echo are one record each, the forward
# direction being that of the first packet (even when the server speaks first), with
# exact reverse counts; a one-way flow has zero reverse counts. Checked in the
# collector's JSON and in tshark's decoding of the export (reverse elements, PEN 29305).
source "$(dirname "$0")/lib.sh"

$PY - "$WORK/biflow.pcap" <<'PYEOF' || fail "could not generate the capture"
import sys
from scapy.all import ICMP, IP, TCP, UDP, Ether, wrpcap
E = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
T0 = 1763800000.0
c, s = "10.0.0.1", "192.0.2.80"
pk = []
def add(t, ip, l4, data=b""):
    p = Ether(**E) / ip / l4 / data
    p.time = T0 + t
    pk.append(p)
# TCP: client -> server 4 packets (SYN, ACK, data 100, FIN), server -> client 3 (SYN-ACK,
# data 1000, FIN-ACK); TTL 64 one way, 50 and 52 the other.
add(0.00, IP(src=c, dst=s, ttl=64), TCP(sport=40000, dport=80, flags="S"))
add(0.01, IP(src=s, dst=c, ttl=50), TCP(sport=80, dport=40000, flags="SA"))
add(0.02, IP(src=c, dst=s, ttl=64), TCP(sport=40000, dport=80, flags="A"))
add(0.03, IP(src=c, dst=s, ttl=64), TCP(sport=40000, dport=80, flags="PA"), b"q" * 100)
add(0.04, IP(src=s, dst=c, ttl=52), TCP(sport=80, dport=40000, flags="PA"), b"r" * 1000)
add(0.05, IP(src=c, dst=s, ttl=64), TCP(sport=40000, dport=80, flags="FA"))
add(0.06, IP(src=s, dst=c, ttl=50), TCP(sport=80, dport=40000, flags="FA"))
# UDP where the "server" speaks first: forward is 192.0.2.53 -> 10.0.0.2.
add(0.10, IP(src="192.0.2.53", dst="10.0.0.2"), UDP(sport=53, dport=5353), b"a" * 30)
add(0.11, IP(src="10.0.0.2", dst="192.0.2.53"), UDP(sport=5353, dport=53), b"b" * 20)
add(0.12, IP(src="192.0.2.53", dst="10.0.0.2"), UDP(sport=53, dport=5353), b"c" * 40)
# ICMP echo request and reply.
add(0.20, IP(src=c, dst=s), ICMP(type=8, id=7, seq=1), b"p" * 56)
add(0.21, IP(src=s, dst=c), ICMP(type=0, id=7, seq=1), b"p" * 56)
# One way only.
add(0.30, IP(src="10.0.0.9", dst="192.0.2.9"), UDP(sport=9999, dport=514), b"l" * 10)
wrpcap(sys.argv[1], pk)
PYEOF

port=$(free_port)
capture_start export "udp port $port"
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/biflow.pcap" -- \
	--collector "udp://127.0.0.1:$port" --biflow yes >"$WORK/probe.stdout" 2>&1 ||
	fail "probe exited with $?: $(tail -3 "$WORK/probe.stdout")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
capture_stop export "$(collector_datagrams "$WORK/collector.stdout")" "udp.dstport == $port"

# (src, dst, sport, dport or icmp type/code, proto): packets, octets, flags, ttl range,
# then the reverse direction's, and the reverse start/end offsets from T0 in ms.
$PY - "$WORK/records.json" <<'PYEOF' || fail "biflow records"
import json, sys
from datetime import datetime
T0 = 1763800000000
def ms(iso):   # the collector writes times as ISO 8601 UTC strings
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
recs = [r for r in map(json.loads, open(sys.argv[1])) if "protocolIdentifier" in r]
got = {}
for r in recs:
    icmp = r["protocolIdentifier"] == 1
    k = (r["sourceIPv4Address"], r["destinationIPv4Address"], r["sourceTransportPort"],
         r["icmpTypeCodeIPv4"] if icmp else r["destinationTransportPort"], r["protocolIdentifier"])
    rs = ms(r["reverseFlowStartMilliseconds"])
    re_ = ms(r["reverseFlowEndMilliseconds"])
    got[k] = (r["packetDeltaCount"], r["octetDeltaCount"], r["tcpControlBits"],
              r["minimumTTL"], r["maximumTTL"], ms(r["flowStartMilliseconds"]) - T0,
              ms(r["flowEndMilliseconds"]) - T0,
              r["reversePacketDeltaCount"], r["reverseOctetDeltaCount"],
              r["reverseTcpControlBits"], r["reverseMinimumTTL"], r["reverseMaximumTTL"],
              rs - T0 if rs else None, re_ - T0 if re_ else None)
want = {
    ("10.0.0.1", "192.0.2.80", 40000, 80, 6):
        (4, 40 + 40 + 140 + 40, 0x1b, 64, 64, 0, 50, 3, 40 + 1040 + 40, 0x1b, 50, 52, 10, 60),
    ("192.0.2.53", "10.0.0.2", 53, 5353, 17):
        (2, 58 + 68, 0, 64, 64, 100, 120, 1, 48, 0, 64, 64, 110, 110),
    ("10.0.0.1", "192.0.2.80", 0, 8 << 8, 1):
        (1, 84, 0, 64, 64, 200, 200, 1, 84, 0, 64, 64, 210, 210),
    ("10.0.0.9", "192.0.2.9", 9999, 514, 17):
        (1, 38, 0, 64, 64, 300, 300, 0, 0, 0, 0, 0, None, None),
}
if got != want:
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            print(f"{k}:\n   got  {got.get(k)}\n   want {want.get(k)}")
    sys.exit("biflow records differ")
print(f"{len(recs)} biflow records, forward and reverse counts exact")
PYEOF

# tshark decodes the reverse elements (PEN 29305) and finds nothing malformed.
tshark -r "$WORK/export.pcapng" -d "udp.port==$port,cflow" -V >"$WORK/tshark.txt" 2>&1 ||
	fail "tshark could not read the export"
grep -q "Malformed" "$WORK/tshark.txt" && fail "tshark: malformed export: $(grep -m3 Malformed "$WORK/tshark.txt")"
grep -q "29305" "$WORK/tshark.txt" || fail "tshark shows no PEN 29305 element in the template"
$PY - "$WORK/tshark.txt" <<'PYEOF' || fail "tshark's reverse counts"
import re, sys
text = open(sys.argv[1]).read()
# tshark marks a reverse element's value: "Octets: 1120 (Reverse Type 1 BYTES)"
rev = [int(v) for v in re.findall(r"^\s+Octets: (\d+) \(Reverse Type 1\b", text, re.M)]
fwd = [int(v) for v in re.findall(r"^\s+Octets: (\d+)$", text, re.M)]
if sorted(rev) != [0, 48, 84, 1120] or sorted(fwd) != [38, 84, 126, 260]:
    sys.exit(f"tshark: forward octets {sorted(fwd)}, reverse {sorted(rev)}")
print("tshark decodes forward and reverse octets of all 4 records")
PYEOF
echo "probe_biflow: ok"
