#!/usr/bin/env bash
# Packet selection (PSAMP) end to end. A generated path (tests/data/gen-sampling-capture.py:
# 20000 packets, each its own flow, seen at hop A and, one router later, at hop B with
# another TTL, DSCP, MACs and a VLAN tag) is metered by one probe on four net_pcap ports:
#   port 0  hop A, hash-based 1/10 (BOB, initialiser 0x5eed)
#   port 1  hop B, the same hash-based selector
#   port 2  hop A, systematic 1 of every 10
#   port 3  hop A, random 1 of every 10 (seed 12345)
# The flow key holds the ingress port, so each port's packets make flows of their own.
# Checked from the collector's records: systematic selects exactly packets 0, 10, 20...;
# random exactly one per block of 10, each position of the block within an exact
# binomial bound at 1e-6 false-failure probability; hash the same packets at both hops
# (trajectory consistency) and a count within its binomial bound; every flow names its
# selector. The selector report, selection sequence and statistics options records carry
# the configured parameters and exact counts, as does --stats-json; tshark decodes the
# export without complaint and reads the same PSAMP values; ipfixDump reads it cleanly.
source "$(dirname "$0")/lib.sh"

COUNT=20000
$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-sampling-capture.py" "$WORK/hop-a.pcap" "$WORK/hop-b.pcap" \
	"$COUNT" || fail "capture generator failed"

port=$(free_port)
capture_start export "udp port $port"
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"
# shellcheck disable=SC2046
timeout 120 "$DPFIX_PROBE" $(eal_args) \
	--vdev "net_pcap0,rx_pcap=$WORK/hop-a.pcap" --vdev "net_pcap1,rx_pcap=$WORK/hop-b.pcap" \
	--vdev "net_pcap2,rx_pcap=$WORK/hop-a.pcap" --vdev "net_pcap3,rx_pcap=$WORK/hop-a.pcap" -- \
	--collector "udp://127.0.0.1:$port" --stats-interval 0 --idle-timeout 600 \
	--active-timeout 600 --stats-json "$WORK/stats.json" --flow-key ingress_port \
	--sampling all:hash:1:10:seed=0x5eed --sampling 2:systematic:1:10 \
	--sampling 3:random:1:10:seed=12345 >"$WORK/probe.stdout" 2>"$WORK/probe.stderr" ||
	fail "probe exited with $?: $(tail -5 "$WORK/probe.stderr")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
capture_stop export "$(collector_datagrams "$WORK/collector.stdout")" "udp.dstport == $port"

grep -q "port 2: selectorId 3, systematic count-based (selectorAlgorithm 1): the first 1 of every 10" \
	"$WORK/probe.stdout" || fail "the probe does not announce port 2's selector: $(head -5 "$WORK/probe.stdout")"
grep -q "sequence_lost *0$" "$WORK/collector.stdout" || fail "sequence loss reported"
grep -q "malformed_messages *0$" "$WORK/collector.stdout" || fail "malformed messages reported"

$PY - "$WORK/records.json" "$WORK/stats.json" "$COUNT" <<'PYEOF' || fail "selection results"
import json, math, sys

records = [json.loads(line) for line in open(sys.argv[1])]
stats = json.load(open(sys.argv[2]))
count = int(sys.argv[3])
FALSE_FAILURE = 1e-6
errors = []

def binomial_interval(n, p, delta):
    """[lo, hi] with P(X < lo) <= delta/2 and P(X > hi) <= delta/2, X ~ Binomial(n, p)."""
    def pmf(k):
        return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) +
                        k * math.log(p) + (n - k) * math.log1p(-p))
    tail, lo = 0.0, 0
    while lo < n and tail + pmf(lo) <= delta / 2:
        tail += pmf(lo)
        lo += 1
    tail, hi = 0.0, n
    while hi > 0 and tail + pmf(hi) <= delta / 2:
        tail += pmf(hi)
        hi -= 1
    return lo, hi

def within(what, x, n, p, delta):
    lo, hi = binomial_interval(n, p, delta)
    if not lo <= x <= hi:
        errors.append(f"{what}: {x} of {n} outside [{lo}, {hi}] (p {p})")
    return lo, hi

# Ports are the vdevs in order: the interface options records say so.
names = {r["ingressInterface"]: r["interfaceName"] for r in records if "interfaceName" in r}
if names != {p: f"net_pcap{p}" for p in range(4)}:
    sys.exit(f"port ids are not the vdevs in order: {names}")

selected = {p: set() for p in range(4)}
for r in records:
    if "octetDeltaCount" not in r:
        continue
    port, index = r["ingressInterface"], r["sourceTransportPort"] - 1024
    if r.get("selectorId") != port + 1:
        errors.append(f"flow of packet {index} on port {port} has selectorId {r.get('selectorId')}")
    if r["packetDeltaCount"] != 1 or index in selected[port]:
        errors.append(f"packet {index} on port {port}: {r['packetDeltaCount']} packets, twice: "
                      f"{index in selected[port]}")
    selected[port].add(index)

# Systematic 1 of 10: exactly the first packet of every 10.
if selected[2] != set(range(0, count, 10)):
    errors.append(f"systematic selected {len(selected[2])} packets, not exactly 0, 10, 20...: "
                  f"{sorted(selected[2] ^ set(range(0, count, 10)))[:5]}")

# Random 1 of 10: exactly one per block; over the 2000 blocks each position is chosen
# with probability 1/10 (10 checks share the false-failure budget).
blocks = count // 10
per_block = [0] * blocks
at = [0] * 10
for i in selected[3]:
    per_block[i // 10] += 1
    at[i % 10] += 1
if per_block != [1] * blocks:
    errors.append(f"random: blocks without exactly one packet: "
                  f"{[b for b, k in enumerate(per_block) if k != 1][:5]}")
for pos in range(10):
    within(f"random: position {pos} of the block", at[pos], blocks, 0.1, FALSE_FAILURE / 10)

# Hash 1/10: the same packets at both hops, about a tenth of them.
range_max = (1 << 32) // 10 - 1
if selected[0] != selected[1]:
    errors.append(f"hash: hop A and hop B selected different packets: "
                  f"{sorted(selected[0] ^ selected[1])[:5]} ({len(selected[0])} and {len(selected[1])})")
lo, hi = within("hash: packets selected", len(selected[0]), count, (range_max + 1) / 2**32,
                FALSE_FAILURE)

# The options records, last values (sent at the end, after every flow).
def last(key, selector):
    rs = [r for r in records if key in r and r.get("selectorId") == selector]
    return rs[-1] if rs else {}
want_reports = {
    1: {"selectorAlgorithm": 6, "hashIPPayloadOffset": 0, "hashIPPayloadSize": 8,
        "hashOutputRangeMin": 0, "hashOutputRangeMax": 2**32 - 1, "hashSelectedRangeMin": 0,
        "hashSelectedRangeMax": range_max, "hashInitialiserValue": 0x5eed},
    3: {"selectorAlgorithm": 1, "samplingPacketInterval": 1, "samplingPacketSpace": 9},
    4: {"selectorAlgorithm": 3, "samplingSize": 1, "samplingPopulation": 10},
}
want_reports[2] = want_reports[1]
for sid, want in want_reports.items():
    got = last("selectorAlgorithm", sid)
    got = {k: got.get(k) for k in want}
    if got != want:
        errors.append(f"selector {sid} report {got}, want {want}")
    seq = [r for r in records if r.get("selectionSequenceId") == sid]
    if not seq or (seq[-1]["ingressInterface"], seq[-1]["selectorId"]) != (sid - 1, sid):
        errors.append(f"selection sequence {sid}: {seq[-1:]}")
    st = last("selectorIdTotalPktsObserved", sid)
    want_st = (count, len(selected[sid - 1]))
    got_st = (st.get("selectorIdTotalPktsObserved"), st.get("selectorIdTotalPktsSelected"))
    if got_st != want_st:
        errors.append(f"selector {sid} statistics {got_st}, want observed and selected {want_st}")
    js = stats["totals"]
    got_js = (js.get(f"selector_{sid}_observed"), js.get(f"selector_{sid}_selected"))
    if got_js != want_st:
        errors.append(f"stats_json selector_{sid}: {got_js}, want {want_st}")

tot = stats["totals"]
if (tot["rx_packets"], tot["selector_observed"]) != (4 * count, 4 * count):
    errors.append(f"stats_json rx_packets {tot['rx_packets']} selector_observed {tot['selector_observed']}")
if tot["metered_packets"] != tot["selector_selected"] or \
        tot["selector_selected"] != sum(len(s) for s in selected.values()):
    errors.append(f"metered {tot['metered_packets']}, selected {tot['selector_selected']}, "
                  f"flows {sum(len(s) for s in selected.values())}")
# Packets a selector passed over are not "ignored" (RFC 7011 4.2): none were here.
mr = [r for r in records if "ignoredPacketTotalCount" in r]
if not mr or mr[-1]["ignoredPacketTotalCount"] != 0:
    errors.append(f"metering reliability {mr[-1:]}: want 0 ignored packets")
if errors:
    sys.exit("\n".join(errors))
print(f"systematic {len(selected[2])}, random {len(selected[3])} (one per block), "
      f"hash {len(selected[0])} at both hops (bound [{lo}, {hi}])")
PYEOF

# tshark: no malformed frame or warning, and the same PSAMP values in the last options
# message (selectors in port order: hash, hash, systematic, random).
tshark -r "$WORK/export.pcapng" -d "udp.port==$port,cflow" -Y "_ws.malformed || _ws.expert.severity >= warning" \
	-T fields -e frame.number -e _ws.expert.message >"$WORK/tshark.bad" 2>"$WORK/tshark.read.stderr" ||
	fail "tshark could not read the export capture: $(cat "$WORK/tshark.read.stderr")"
[ ! -s "$WORK/tshark.bad" ] || fail "tshark reports malformed or erroneous frames: $(head -5 "$WORK/tshark.bad")"
tshark -r "$WORK/export.pcapng" -d "udp.port==$port,cflow" -Y cflow.selector_id_total_pkts_observed \
	-T fields -E occurrence=a -E aggregator=, -e cflow.selector_id_total_pkts_observed \
	-e cflow.selector_id_total_pkts_selected -e cflow.selector_algorithm \
	-e cflow.sampling_packet_interval -e cflow.sampling_packet_space -e cflow.sampling_size \
	-e cflow.sampling_population -e cflow.hash_selected_range_max \
	-e cflow.hash_initialiser_value 2>/dev/null | tail -1 >"$WORK/tshark.psamp"
$PY - "$WORK/tshark.psamp" "$WORK/records.json" "$COUNT" <<'PYEOF' || fail "tshark's PSAMP values"
import json, sys
fields = open(sys.argv[1]).read().rstrip("\n").split("\t")
records = [json.loads(line) for line in open(sys.argv[2])]
count = int(sys.argv[3])
def ints(f):
    return [int(v, 0) for v in f.split(",")] if f else []
observed, selected, algorithms, interval, space, size, population, range_max, init = map(ints, fields)
flows = [sum(1 for r in records if r.get("ingressInterface") == p and "octetDeltaCount" in r)
         for p in range(4)]
want = {
    "observed": [count] * 4, "selected": flows, "algorithms": [6, 6, 1, 3],
    "interval": [1], "space": [9], "size": [1], "population": [10],
    "range_max": [(1 << 32) // 10 - 1] * 2, "init": [0x5eed] * 2,
}
got = {"observed": observed, "selected": selected, "algorithms": algorithms,
       "interval": interval, "space": space, "size": size, "population": population,
       "range_max": range_max, "init": init}
if got != want:
    sys.exit(f"tshark decoded {got}, want {want}")
print(f"tshark: PSAMP records decoded alike: {got}")
PYEOF

udp_payloads "$WORK/export.pcapng" "$WORK/export.ipfix"
ipfix_dump_clean "$WORK/export.ipfix"
# Templates: 2 flow, 5 RFC 7011 section 4, 3 selector reports, statistics, sequence.
[[ $IPFIXDUMP_STATS == *"Data Records, 12 Template Records"* ]] ||
	fail "ipfixDump template count differs: $IPFIXDUMP_STATS"
echo "ipfixDump: $IPFIXDUMP_STATS"

# What the probe prints at exit, per selector.
grep -q "selector_3_selected *$((COUNT / 10))  (port 2)" "$WORK/probe.stdout" ||
	fail "probe summary: $(grep selector_ "$WORK/probe.stdout")"
echo "probe_sampling: ok"
