#!/usr/bin/env bash
# Ground truth for the parser: a generated capture with every header kind the parser
# knows (VLAN, QinQ, MPLS, IPv6 extension headers, GRE, SCTP, ICMPv6, VXLAN, IPv4 and
# IPv6 fragments in and out of order) and a packet for every reason it skips or rejects
# one, run through the probe (net_pcap) under two configurations: the default key, and
# flow_key = vlan,dscp,mpls,ingress_port with VXLAN opened. The probe's --stats-json must
# give every parse result, the fragment counters and the flow count exactly; the
# collector's --json must give every flow's packets and octets exactly.
source "$(dirname "$0")/lib.sh"

$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-ground-truth.py" "$WORK/gt" >"$WORK/gen.out" 2>&1 ||
	fail "generator: $(tail -3 "$WORK/gen.out")"
n=$(tshark -r "$WORK/gt.pcap" 2>/dev/null | wc -l)
want=$($PY -c "import json; print(json.load(open('$WORK/gt.expected.json'))['capture_packets'])")
[ "$n" = "$want" ] || fail "tshark reads $n packets of the capture, the generator wrote $want"

for config in default keyed; do
	# shellcheck disable=SC2207
	opts=($($PY -c "import json; print(' '.join(json.load(open('$WORK/gt.expected.json'))['configs']['$config']['options']))"))
	port=$(free_port)
	start_collector "$port" "$WORK/collector-$config" --quiet --json "$WORK/records-$config.json"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/gt.pcap" -- \
		--collector "udp://127.0.0.1:$port" --stats-interval 0 --idle-timeout 600 \
		--active-timeout 600 --stats-json "$WORK/stats-$config.json" "${opts[@]}" \
		>"$WORK/probe-$config.stdout" 2>&1 ||
		fail "probe ($config) exited with $?: $(tail -3 "$WORK/probe-$config.stdout")"
	wait_for_records "$WORK/records-$config.json" "$(probe_records "$WORK/probe-$config.stdout")"
	stop_collector

	$PY - "$WORK/gt.expected.json" "$config" "$WORK/stats-$config.json" "$WORK/records-$config.json" <<'PYEOF' ||
import json, sys
from collections import Counter

exp_all = json.load(open(sys.argv[1]))
exp = exp_all["configs"][sys.argv[2]]
stats = json.load(open(sys.argv[3]))
tot = stats["totals"]
errors = []

def same(what, got, want):
    if got != want:
        errors.append(f"{what}: got {got}, want {want}")

# Counters: every parse result (absent from the expectation means 0), fragments, flows.
same("rx_packets", tot["rx_packets"], exp_all["capture_packets"])
same("metered_packets", tot["metered_packets"], exp["metered_packets"])
same("metered_octets", tot["metered_octets"], exp["metered_octets"])
reasons = [k for k in tot if k.isupper()]
if len(reasons) < 25:
    errors.append(f"only {len(reasons)} parse results in the stats")
for r in reasons:
    same(r, tot[r], exp["parse_results"].get(r, 0))
same("parse results + metered", sum(tot[r] for r in reasons) + tot["metered_packets"], tot["rx_packets"])
for k, v in exp["fragments"].items():
    same(k, tot[k], v)
same("flows_created", tot["flows_created"], len(exp["flows"]))
# One worker: its counters are the totals.
same("workers", len(stats["workers"]), 1)
w = dict(stats["workers"][0])
for k in ("worker", "lcore"):
    w.pop(k)
# (The ports' drops are the ports', in stats["ports"]; none from a capture file.)
port_drops = ("rx_missed", "rx_nombuf", "rx_errors")
same("worker 0 vs totals", {k: v for k, v in w.items()},
     {k: v for k, v in tot.items() if k != "workers" and k not in port_drops})
same("port drops", [[p[k] for k in port_drops] for p in stats["ports"]], [[0, 0, 0]])

# Flows: group the collector's records and the expected flows by what the export shows
# of this configuration's key (mplsTopLabelStackSection only if the export carries it;
# without it, flows that differ only by label fall into one group of several records).
keyed = set(exp["key_fields"])
records = [json.loads(l) for l in open(sys.argv[4])]
records = [r for r in records if "packetDeltaCount" in r]
have_mpls = any("mplsTopLabelStackSection" in r for r in records)

def visible(ver, src, dst, proto, sport, dport, vlan, dscp, mpls, ingress):
    k = (ver, src, dst, proto, sport, dport)
    if "vlan" in keyed:
        k += (("vlan", vlan),)
    if "dscp" in keyed:
        k += (("dscp", dscp),)
    if "ingress_port" in keyed:
        k += (("ingress", ingress),)
    if "mpls" in keyed and have_mpls:
        k += (("mpls", mpls),)
    return k

def of_record(r):
    v6 = "sourceIPv6Address" in r
    proto = r["protocolIdentifier"]
    icmp = r.get("icmpTypeCodeIPv6" if v6 else "icmpTypeCodeIPv4", 0)
    mpls = r.get("mplsTopLabelStackSection")
    if isinstance(mpls, str):
        mpls = int(mpls, 16)
    return visible(6 if v6 else 4, r["sourceIPv6Address" if v6 else "sourceIPv4Address"],
                   r["destinationIPv6Address" if v6 else "destinationIPv4Address"], proto,
                   r["sourceTransportPort"], icmp if proto in (1, 58) else r["destinationTransportPort"],
                   r.get("vlanId"), r.get("ipClassOfService", 0) >> 2, mpls, r.get("ingressInterface"))

got, want = {}, {}
for r in records:
    g = got.setdefault(of_record(r), [0, 0, 0])
    g[0] += 1
    g[1] += r["packetDeltaCount"]
    g[2] += r["octetDeltaCount"]
for f in exp["flows"]:
    k = visible(f["ip_version"], f["src"], f["dst"], f["protocol"], f["src_port"], f["dst_port"],
                f["vlan"], f["dscp"], f["mpls"], f["ingress_port"])
    e = want.setdefault(k, [0, 0, 0])
    e[0] += 1
    e[1] += f["packets"]
    e[2] += f["octets"]
missing = sorted(set(want) - set(got), key=str)
extra = sorted(set(got) - set(want), key=str)
wrong = [(k, got[k], want[k]) for k in want if k in got and got[k] != want[k]]
if missing or extra or wrong:
    errors.append(f"flows: missing {missing[:3]} extra {extra[:3]} wrong (records, packets, octets) "
                  f"got/want {wrong[:3]}")
same("records", len(records), len(exp["flows"]))
if errors:
    sys.exit(f"{sys.argv[2]}: " + "; ".join(errors[:8]))
print(f"{sys.argv[2]}: {len(records)} records in {len(got)} groups, {tot['metered_packets']} packets, "
      f"{tot['malformed_packets']} malformed, {tot['skipped_packets']} skipped: all exact")
PYEOF
		fail "ground truth ($config) differs"
done

# A capture cut by its snapshot length (128): net_pcap gives the captured bytes only. A
# frame as long as the snapshot length may have been cut, so its IP length is believed
# and it is counted in snaplen_cut_packets; a shorter frame was captured whole, so an IP
# length beyond it is a lie (IPV4_LENGTH_PAST_FRAME), not 65535 octets.
$PY - "$WORK/cut.pcap" <<'PYEOF'
import struct, sys
def frame(src, dst, proto, ip_len, body):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 1, 0, 64, proto, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return b"\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x08\x00" + ip + body
tcp = struct.pack("!HHIIBBHHH", 1000, 80, 1, 0, 5 << 4, 0x10, 1024, 0, 0)
recs = []
for i in range(3):   # 1000-byte frames, 128 bytes captured
    recs.append((frame("10.50.0.1", "10.50.0.2", 6, 986, tcp + bytes(946))[:128], 1000))
lie = frame("10.50.0.3", "10.50.0.4", 17, 65535, struct.pack("!HHHH", 1, 2, 26, 0) + bytes(18))
recs.append((lie, len(lie)))  # 60 bytes, whole
whole = frame("10.50.0.1", "10.50.0.2", 6, 114, tcp + bytes(74))
recs.append((whole, len(whole)))  # exactly 128 bytes, whole: cannot be told from a cut one
for _ in range(2):
    f = frame("10.50.0.5", "10.50.0.6", 17, 66, struct.pack("!HHHH", 3, 4, 46, 0) + bytes(38))
    recs.append((f, len(f)))
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 128, 1))
    for i, (data, wire) in enumerate(recs):
        out.write(struct.pack("<IIII", 1763900000, i, len(data), wire) + data)
PYEOF
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/cut.pcap" -- \
	--collector "udp://127.0.0.1:$(free_port)" --stats-interval 0 --stats-json "$WORK/stats-cut.json" \
	>"$WORK/probe-cut.stdout" 2>&1 || [ $? -eq 2 ] || fail "probe (cut capture): $(tail -3 "$WORK/probe-cut.stdout")"
$PY - "$WORK/stats-cut.json" <<'PYEOF' || fail "snapshot-length capture metered wrong"
import json, sys
tot = json.load(open(sys.argv[1]))["totals"]
want = {"rx_packets": 7, "metered_packets": 6, "metered_octets": 3 * 986 + 114 + 2 * 66,
        "snaplen_cut_packets": 4, "IPV4_LENGTH_PAST_FRAME": 1, "malformed_packets": 1,
        "flows_created": 2}
got = {k: tot[k] for k in want}
if got != want:
    sys.exit(f"got {got}, want {want}")
print(f"snapshot length 128: {got}")
PYEOF
echo "ground_truth: ok"
