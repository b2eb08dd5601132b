#!/usr/bin/env bash
# The first path end to end: the probe meters the bundled capture through net_pcap and
# exports IPFIX/UDP to the collector; totals and every flow must match the capture's
# ground truth exactly, and tshark must decode the same export without complaint.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
capture_start export "udp port $port"
start_collector "$port" "$WORK/collector" --json "$WORK/records.json"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "udp://127.0.0.1:$port" >"$WORK/probe.stdout" 2>"$WORK/probe.stderr" ||
	fail "probe exited with $?: $(cat "$WORK/probe.stderr")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
capture_stop export "$(collector_datagrams "$WORK/collector.stdout")" "udp.dstport == $port"

for what in flows packets octets; do
	got=$(summary_value "$WORK/collector.stdout" "$what")
	want=$(expected "$what")
	[ "$got" = "$want" ] || fail "collector $what: got '$got', want $want"
done
grep -q "sequence_lost *0$" "$WORK/collector.stdout" || fail "sequence loss reported"
grep -q "malformed_messages *0$" "$WORK/collector.stdout" || fail "malformed messages reported"

# The probe's own accounting of what was not metered.
grep -q "NOT_IP *$(expected non_ip) " "$WORK/probe.stdout" || fail "probe non-IP count"
malformed=$(awk '/TRUNCATED|BAD_/ {s += $2} END {print s + 0}' "$WORK/probe.stdout")
[ "$malformed" = "$(expected malformed)" ] || fail "probe malformed: got $malformed"

# Every flow, field by field.
$PY - "$WORK/records.json" "$SAMPLE_EXPECTED" <<'PYEOF' || fail "per-flow comparison"
import json, sys
records = [r for r in map(json.loads, open(sys.argv[1])) if "octetDeltaCount" in r]
expected = json.load(open(sys.argv[2]))["flow_list"]
def key_of_record(r):
    v6 = "sourceIPv6Address" in r
    src = r["sourceIPv6Address" if v6 else "sourceIPv4Address"]
    dst = r["destinationIPv6Address" if v6 else "destinationIPv4Address"]
    icmp = r.get("icmpTypeCodeIPv6" if v6 else "icmpTypeCodeIPv4", 0)
    dport = icmp if r["protocolIdentifier"] in (1, 58) else r["destinationTransportPort"]
    return (6 if v6 else 4, src, dst, r["protocolIdentifier"], r["sourceTransportPort"], dport)
got = {}
for r in records:
    k = key_of_record(r)
    if k in got:
        sys.exit(f"flow {k} exported twice")
    got[k] = (r["packetDeltaCount"], r["octetDeltaCount"])
want = {(f["ip_version"], f["src"], f["dst"], f["protocol"], f["src_port"], f["dst_port"]):
        (f["packets"], f["octets"]) for f in expected}
missing = set(want) - set(got)
extra = set(got) - set(want)
wrong = [k for k in want if k in got and got[k] != want[k]]
if missing or extra or wrong:
    sys.exit(f"missing {sorted(missing)[:3]} extra {sorted(extra)[:3]} "
             f"wrong {[(k, got[k], want[k]) for k in wrong[:3]]}")
print(f"{len(got)} flows match exactly")
PYEOF

# Options records (RFC 7011 4): at start and at the end, the last ones with the final
# counts, and the port's name from DPDK.
probe_value() { counter "$WORK/probe.stdout" "$1"; }
ignored=$(( $(probe_value rx_packets) - $(probe_value metered_packets) + $(probe_value ignored_packets) ))
options=$(probe_value options_records)
[ "$options" = 12 ] || fail "probe exported $options options records, want 2 x 6"
grep -q "options_records *12$" "$WORK/collector.stdout" || fail "collector options_records != 12"
grep -q "^options 262 (scope 1): ingressInterface=0 interfaceName=\"net_pcap0\" interfaceDescription=\"net_pcap\"" \
	"$WORK/collector.stdout" || fail "collector does not show the interface options record readably"
$PY - "$WORK/records.json" "$(expected flows)" "$ignored" <<'PYEOF' || fail "options records"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
flows, ignored = int(sys.argv[2]), int(sys.argv[3])
def last(key):
    rs = [r for r in records if key in r]
    if len(rs) != 2:
        sys.exit(f"{len(rs)} records with {key}, want 2 (start and end): {rs}")
    return rs[-1]
ms = last("exportedFlowRecordTotalCount")
if ms["exportedFlowRecordTotalCount"] != flows or ms["exportedMessageTotalCount"] < 2:
    sys.exit(f"metering statistics {ms}, want {flows} flow records")
mr = last("ignoredPacketTotalCount")
if mr["ignoredPacketTotalCount"] != ignored or (ignored > 0) != (mr["ignoredOctetTotalCount"] > 0):
    sys.exit(f"metering reliability {mr}, want {ignored} ignored packets")
er = last("notSentFlowTotalCount")
if er["notSentFlowTotalCount"] != 0 or er["notSentPacketTotalCount"] != 0:
    sys.exit(f"exporting reliability {er}, want nothing lost")
iface = last("interfaceName")
if (iface["ingressInterface"], iface["interfaceName"], iface["interfaceDescription"]) != (0, "net_pcap0", "net_pcap"):
    sys.exit(f"interface record {iface}")
# Key fields of both flow templates: addresses, ports, protocol, ICMP type/code
# (positions 0-4 and 7 of the template).
# (A registry without flowKeyIndicator shows it as hex under "_ie173".)
def indicator(r):
    v = r.get("flowKeyIndicator", r.get("_ie173"))
    return int(v, 16) if isinstance(v, str) else v
keys = {r["templateId"]: indicator(r) for r in records if "templateId" in r}
if keys != {256: 0x9f, 257: 0x9f}:
    sys.exit(f"flow keys {keys}")
print(f"options records: final metering stats {ms}, interface {iface}")
PYEOF

# tshark's IPFIX dissector is the judge of the wire format.
tshark -r "$WORK/export.pcapng" -d "udp.port==$port,cflow" -Y "_ws.malformed || _ws.expert.severity >= warning" \
	-T fields -e frame.number -e _ws.expert.message >"$WORK/tshark.bad" 2>"$WORK/tshark.read.stderr" ||
	fail "tshark could not read the export capture: $(cat "$WORK/tshark.read.stderr")"
[ ! -s "$WORK/tshark.bad" ] || fail "tshark reports malformed or erroneous frames: $(head -5 "$WORK/tshark.bad")"
$PY - "$WORK/export.pcapng" "$port" <<PYEOF || fail "tshark totals"
import subprocess, sys
out = subprocess.run(["tshark", "-r", sys.argv[1], "-d", f"udp.port=={sys.argv[2]},cflow",
                      "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                      "-e", "cflow.packets", "-e", "cflow.octets"],
                     capture_output=True, text=True, check=True).stdout
pk = oc = n = 0
for line in out.splitlines():
    p, o = line.split("\t")
    if not p:
        continue
    ps, os_ = p.split(","), o.split(",")
    n += len(ps)
    pk += sum(map(int, ps))
    oc += sum(map(int, os_))
want = ($(expected flows), $(expected packets), $(expected octets))
if (n, pk, oc) != want:
    sys.exit(f"tshark decoded flows/packets/octets {(n, pk, oc)}, want {want}")
print(f"tshark: {n} flows, {pk} packets, {oc} octets")
PYEOF
# libfixbuf's ipfixDump reads the same messages as an IPFIX stream and checks sequence
# numbers ("out of sequence" warnings) and set structure.
udp_payloads "$WORK/export.pcapng" "$WORK/export.ipfix"
ipfix_dump_clean "$WORK/export.ipfix" $(($(expected flows) + options))
[[ $IPFIXDUMP_STATS == *" 7 Template Records"* ]] || fail "ipfixDump template count differs: $IPFIXDUMP_STATS"
echo "ipfixDump: $IPFIXDUMP_STATS"
echo "probe_to_collector: ok"
