#!/usr/bin/env bash
# The Mediator's Intermediate Processes, each checked against an independent computation
# in Python from the bundled capture's ground truth: the probe exports the capture to
# dpfix-mediator (UDP), which runs the process and exports to dpfix-collector (UDP).
source "$(dirname "$0")/lib.sh"

# mediate NAME [MEDIATOR ARGS...]: one run; the collector's records are in
# $WORK/NAME.json, the summaries in $WORK/NAME-mediator.stdout and NAME-collector.stdout.
# The Mediator is stopped once the probe is done: it reads what is queued, passes on
# what its processes hold and sends everything before it exits.
mediate() {
	local name=$1 cport mport
	shift
	cport=$(free_port)
	mport=$(free_port)
	start_collector "$cport" "$WORK/$name-collector" --json "$WORK/$name.json" --quiet
	start_mediator "$WORK/$name-mediator" --listen "udp://127.0.0.1:$mport" \
		--collector "udp://127.0.0.1:$cport" "$@"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "udp://127.0.0.1:$mport" >"$WORK/$name-probe.stdout" 2>&1 ||
		fail "$name: probe exited with $?: $(tail -3 "$WORK/$name-probe.stdout")"
	# What the probe sent is in the Mediator's socket buffer: a stop reads it all.
	sleep "${PAUSE:-0}"
	stop_mediator
	wait_for_records "$WORK/$name.json" $(($(counter "$WORK/$name-mediator.stdout" records_exported) +
		$(counter "$WORK/$name-mediator.stdout" options_records)))
	stop_collector
	[ "$(counter "$WORK/$name-mediator.stdout" records_in)" = "$(expected flows)" ] ||
		fail "$name: the Mediator received $(counter "$WORK/$name-mediator.stdout" records_in) records"
	[ "$(counter "$WORK/$name-mediator.stdout" records_lost)" = 0 ] || fail "$name: records lost"
}

# ---- selection ----
expr='protocolIdentifier == 17 or (sourceIPv4Address in 10.0.0.0/29 and not destinationTransportPort in 443,1000..2000)'
mediate select --select "$expr"
$PY - "$WORK/select.json" "$SAMPLE_EXPECTED" "$(counter "$WORK/select-mediator.stdout" records_not_selected)" <<'PYEOF' || fail "selection"
import ipaddress, json, sys
records = [r for r in map(json.loads, open(sys.argv[1])) if "octetDeltaCount" in r]
flows = json.load(open(sys.argv[2]))["flow_list"]
def selected(f):
    if f["protocol"] == 17:
        return True
    # ICMP flows carry destinationTransportPort 0 (their type and code are apart).
    port = 0 if f["protocol"] in (1, 58) else f["dst_port"]
    return (f["ip_version"] == 4 and ipaddress.ip_address(f["src"]) in ipaddress.ip_network("10.0.0.0/29")
            and not (port == 443 or 1000 <= port <= 2000))
want = sorted((f["src"], f["dst"], f["protocol"], f["packets"], f["octets"]) for f in flows if selected(f))
got = sorted((r.get("sourceIPv4Address", r.get("sourceIPv6Address")),
              r.get("destinationIPv4Address", r.get("destinationIPv6Address")),
              r["protocolIdentifier"], r["packetDeltaCount"], r["octetDeltaCount"]) for r in records)
if got != want:
    sys.exit(f"selected {len(got)} records, want {len(want)}: first differences "
             f"{[g for g in got if g not in want][:2]} {[w for w in want if w not in got][:2]}")
if int(sys.argv[3]) != len(flows) - len(want):
    sys.exit(f"records_not_selected {sys.argv[3]}, want {len(flows) - len(want)}")
print(f"selection: {len(got)} of {len(flows)} flows, exactly those the expression matches")
PYEOF
# Options records are not filtered: the probe's Flow Keys records went on.
[ "$(grep -c '"flowKeyIndicator"' "$WORK/select.json")" -ge 2 ] || fail "selection dropped options records"

# ---- aggregation (RFC 7015) ----
# New keys: IPv4 addresses cut to /24 and /16, IPv6 sources to /64, the protocol; ports
# dropped. Timeouts longer than the run: every Aggregated Flow ends at the Mediator's end.
mediate aggregate --aggregate "keys=sourceIPv4Address/24,destinationIPv4Address/16,sourceIPv6Address/64,protocolIdentifier idle_timeout=600 active_timeout=600"
$PY - "$WORK/aggregate.json" "$SAMPLE_EXPECTED" <<'PYEOF' || fail "aggregation"
import datetime, ipaddress, json, sys
from collections import defaultdict
records = [json.loads(l) for l in open(sys.argv[1])]
flows = json.load(open(sys.argv[2]))["flow_list"]
def net(a, bits):
    return str(ipaddress.ip_network(f"{a}/{bits}", strict=False).network_address)
# The independent computation, from the capture's ground truth.
want = defaultdict(lambda: [0, 0, 0, None, None])
for f in flows:
    if f["ip_version"] == 4:
        k = (net(f["src"], 24), 24, net(f["dst"], 16), 16, f["protocol"])
    else:
        k = (net(f["src"], 64), 64, f["protocol"])
    a = want[k]
    a[0] += f["packets"]
    a[1] += f["octets"]
    a[2] += 1
    first, last = f["first_us"] // 1000, f["last_us"] // 1000
    a[3] = first if a[3] is None else min(a[3], first)
    a[4] = last if a[4] is None else max(a[4], last)
def ms(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
got = {}
for r in records:
    if "originalFlowsPresent" not in r:
        continue
    if "sourceIPv4Address" in r:
        k = (r["sourceIPv4Address"], r["sourceIPv4PrefixLength"], r["destinationIPv4Address"],
             r["destinationIPv4PrefixLength"], r["protocolIdentifier"])
    else:
        k = (r["sourceIPv6Address"], r["sourceIPv6PrefixLength"], r["protocolIdentifier"])
    if k in got:
        sys.exit(f"aggregate {k} exported twice")
    if (r["originalFlowsInitiated"], r["originalFlowsCompleted"]) != (r["originalFlowsPresent"],) * 2:
        sys.exit(f"aggregate {k}: original flows {r}")
    if (r["originalExporterIPv4Address"], r["originalObservationDomainId"]) != ("127.0.0.1", 1):
        sys.exit(f"aggregate {k}: original exporter {r}")
    got[k] = [r["packetDeltaCount"], r["octetDeltaCount"], r["originalFlowsPresent"],
              ms(r["flowStartMilliseconds"]), ms(r["flowEndMilliseconds"])]
want = {k: v for k, v in want.items()}
if got != want:
    bad = [k for k in set(got) | set(want) if got.get(k) != want.get(k)]
    sys.exit(f"{len(got)} aggregates, want {len(want)}; differing: "
             f"{[(k, got.get(k), want.get(k)) for k in bad[:3]]}")
# The Mediator's own Flow Keys records describe its two templates: the keys and prefix
# lengths (IPv4: 5 fields, IPv6: 3).
keys = sorted({r["flowKeyIndicator"] for r in records
               if "flowKeyIndicator" in r and "originalObservationDomainId" not in r})
if keys != [0x7, 0x1f]:
    sys.exit(f"the Mediator's Flow Keys records: {keys}")
print(f"aggregation: {len(flows)} flows into {len(got)} aggregates, each exactly as computed")
PYEOF
[ "$(counter "$WORK/aggregate-mediator.stdout" options_invalidated)" = 4 ] ||
	fail "the probe's Flow Keys records were not dropped as untrue after aggregation"
[ "$(counter "$WORK/aggregate-mediator.stdout" aggregates_ended_at_end)" = \
	"$(counter "$WORK/aggregate-mediator.stdout" aggregates_created)" ] || fail "aggregates ended early"
# Its own idle timeout: the same aggregates end 0.5 s after their last record, before
# the Mediator's end.
PAUSE=2 mediate aggregate_idle --aggregate "keys=sourceIPv4Address/24,destinationIPv4Address/16,sourceIPv6Address/64,protocolIdentifier idle_timeout=0.5"
[ "$(counter "$WORK/aggregate_idle-mediator.stdout" aggregates_ended_idle)" = 15 ] ||
	fail "aggregates ended by idle timeout: $(counter "$WORK/aggregate_idle-mediator.stdout" aggregates_ended_idle), want 15"
[ "$(grep -c originalFlowsPresent "$WORK/aggregate_idle.json")" = 15 ] || fail "idle-ended aggregates missing"

# ---- anonymisation (RFC 6235) ----
# Crypto-PAn on every address, source ports blackened; then a restart with the same key.
printf '%s\n' 000102030405060708090a0b0c0d0e0f f0e1d2c3b4a5968778695a4b3c2d1e0f >"$WORK/anon.key"
chmod 600 "$WORK/anon.key"
mediate anon --anonymise "prefix-preserving $WORK/anon.key" --anonymise "blacken sourceTransportPort"
mediate anon_again --anonymise "prefix-preserving $WORK/anon.key"
$PY - "$WORK/anon.json" "$WORK/anon_again.json" "$SAMPLE_EXPECTED" <<'PYEOF' || fail "anonymisation"
import datetime, ipaddress, itertools, json, sys
def load(path):
    return [json.loads(l) for l in open(path)]
runs = [load(sys.argv[1]), load(sys.argv[2])]
flows = json.load(open(sys.argv[3]))["flow_list"]
def ms(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
def ident(proto, dport, packets, octets, first_ms):
    return (proto, dport, packets, octets, first_ms)
truth = {}
for f in flows:
    dport = 0 if f["protocol"] in (1, 58) else f["dst_port"]
    k = ident(f["protocol"], dport, f["packets"], f["octets"], f["first_us"] // 1000)
    if k in truth:
        sys.exit(f"the test cannot tell flows {k} apart")
    truth[k] = f
mappings = []
for n, records in enumerate(runs):
    mapping = {}
    flow_records = [r for r in records if "octetDeltaCount" in r]
    if len(flow_records) != len(flows):
        sys.exit(f"run {n}: {len(flow_records)} flow records")
    for r in flow_records:
        v = "6" if "sourceIPv6Address" in r else "4"
        f = truth[ident(r["protocolIdentifier"], r["destinationTransportPort"], r["packetDeltaCount"],
                        r["octetDeltaCount"], ms(r["flowStartMilliseconds"]))]
        for orig, anon in ((f["src"], r[f"sourceIPv{v}Address"]), (f["dst"], r[f"destinationIPv{v}Address"])):
            if mapping.setdefault(orig, anon) != anon:
                sys.exit(f"run {n}: {orig} became both {mapping[orig]} and {anon}")
        if n == 0 and r["sourceTransportPort"] != 0:
            sys.exit(f"sourceTransportPort not blackened: {r}")
        if r["originalExporterIPv4Address"] != "127.0.0.1":
            sys.exit("the original exporter's address was anonymised")
    mappings.append(mapping)
if mappings[0] != mappings[1]:
    sys.exit("a restart with the same key mapped addresses differently")
m = mappings[0]
if any(o == a for o, a in m.items()):
    sys.exit("an address went through unchanged")
def bits(a):
    x = ipaddress.ip_address(a)
    return int(x), x.max_prefixlen
def common(a, b):
    (x, n), (y, _) = bits(a), bits(b)
    d = x ^ y
    return n if d == 0 else n - d.bit_length()
pairs = 0
for a, b in itertools.combinations(m, 2):
    if ipaddress.ip_address(a).version != ipaddress.ip_address(b).version:
        continue
    pairs += 1
    if common(a, b) != common(m[a], m[b]):
        sys.exit(f"{a} and {b} share {common(a, b)} bits, their pseudonyms {m[a]} and {m[b]} {common(m[a], m[b])}")
# RFC 6235 records: what was done to which element of the Mediator's flow templates.
done = {(r["informationElementId"], r["anonymizationTechnique"], r["anonymizationFlags"])
        for r in runs[0] if "anonymizationTechnique" in r}
want = {(8, 6, 3), (12, 6, 3), (27, 6, 3), (28, 6, 3), (7, 2, 3)}
if not want <= done:
    sys.exit(f"anonymisation records {sorted(done)}, want {sorted(want)}")
print(f"anonymisation: {len(m)} addresses, {pairs} pairs keep their common prefix, "
      f"the same after a restart; RFC 6235 records {sorted(done)}")
PYEOF

# ---- correlation into biflows (RFC 5103) ----
# The probe's uniflows paired by the Mediator; the independent pairing is the capture's
# ground truth: the two directions of each 5-tuple (ICMP: addresses and protocol, the
# records carry no ports), forward the one that started first.
mediate correlate --correlate "biflow timeout=600"
$PY - "$WORK/correlate.json" "$SAMPLE_EXPECTED" "$WORK/correlate-mediator.stdout" <<'PYEOF' || fail "correlation"
import datetime, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
flows = json.load(open(sys.argv[2]))["flow_list"]
counters = dict(l.split()[:2] for l in open(sys.argv[3]) if len(l.split()) >= 2)
def ms(t):
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
def key(src, sport, dst, dport, proto):
    return (src, 0, dst, 0, proto) if proto in (1, 58) else (src, sport, dst, dport, proto)
by_key = {key(f["src"], f["src_port"], f["dst"], f["dst_port"], f["protocol"]): f for f in flows}
def counts(f):
    return (f["packets"], f["octets"], f["first_us"] // 1000, f["last_us"] // 1000)
want_pairs, want_single = {}, {}
for k, f in by_key.items():
    r = by_key.get((k[2], k[3], k[0], k[1], k[4]))
    if r is None:
        want_single[k] = counts(f)
    elif counts(f)[2] <= counts(r)[2]:
        want_pairs[k] = (counts(f), counts(r))
got_pairs, got_single = {}, {}
for r in records:
    if "octetDeltaCount" not in r:
        continue
    v = "6" if "sourceIPv6Address" in r else "4"
    k = key(r[f"sourceIPv{v}Address"], r["sourceTransportPort"], r[f"destinationIPv{v}Address"],
            r["destinationTransportPort"], r["protocolIdentifier"])
    fwd = (r["packetDeltaCount"], r["octetDeltaCount"], ms(r["flowStartMilliseconds"]),
           ms(r["flowEndMilliseconds"]))
    if (r["originalExporterIPv4Address"], r["originalObservationDomainId"]) != ("127.0.0.1", 1):
        sys.exit(f"{k}: original exporter {r}")
    if "reverseOctetDeltaCount" not in r:
        got_single[k] = fwd
        continue
    rev = (r["reversePacketDeltaCount"], r["reverseOctetDeltaCount"],
           ms(r["reverseFlowStartMilliseconds"]), ms(r["reverseFlowEndMilliseconds"]))
    if k in got_pairs:
        sys.exit(f"biflow {k} exported twice")
    got_pairs[k] = (fwd, rev)
# Two directions that started in the same millisecond: either may be forward.
for k, (fwd, rev) in list(want_pairs.items()):
    rk = (k[2], k[3], k[0], k[1], k[4])
    if fwd[2] == rev[2] and rk in got_pairs:
        want_pairs[rk] = (rev, fwd)
        del want_pairs[k]
if got_pairs != want_pairs or got_single != want_single:
    bad = [k for k in set(got_pairs) | set(want_pairs) if got_pairs.get(k) != want_pairs.get(k)]
    sys.exit(f"{len(got_pairs)} biflows and {len(got_single)} uniflows, want {len(want_pairs)} "
             f"and {len(want_single)}; differing: {[(k, got_pairs.get(k), want_pairs.get(k)) for k in bad[:3]]}")
if (int(counters["biflows_paired"]), int(counters["uniflows_unpaired"])) != (len(want_pairs), len(want_single)):
    sys.exit(f"counters: biflows_paired {counters['biflows_paired']}, uniflows_unpaired {counters['uniflows_unpaired']}")
# The Mediator's Flow Keys records for its biflow templates: the probe's keys (0x9f).
keys = [r for r in records if "flowKeyIndicator" in r and "originalObservationDomainId" not in r]
if not keys or any(r["flowKeyIndicator"] != 0x9f for r in keys):
    sys.exit(f"the Mediator's Flow Keys records: {keys}")
print(f"correlation: {len(flows)} uniflows into {len(got_pairs)} biflows and {len(got_single)} "
      "uniflows, forward and reverse counts and times exact")
PYEOF
[ "$(counter "$WORK/correlate-mediator.stdout" options_invalidated)" -gt 0 ] ||
	fail "the probe's Flow Keys records were not dropped past correlation"
# One record may wait: the older goes on unpaired when another comes, and every uniflow
# is still accounted for, in a biflow or as itself.
mediate correlate_full --correlate "biflow max_waiting=1"
paired=$(counter "$WORK/correlate_full-mediator.stdout" biflows_paired)
unpaired=$(counter "$WORK/correlate_full-mediator.stdout" uniflows_unpaired)
[ "$unpaired" -gt 0 ] && [ $((2 * paired + unpaired)) = "$(expected flows)" ] &&
	[ "$(grep -c '"octetDeltaCount"' "$WORK/correlate_full.json")" = $((paired + unpaired)) ] ||
	fail "max_waiting=1: $paired biflows and $unpaired uniflows for $(expected flows) flows"
# Records whose partner never comes (selected away) go on after timeout seconds of the
# Mediator's time, while it runs: the collector has them all before the Mediator stops.
cport=$(free_port)
mport=$(free_port)
start_collector "$cport" "$WORK/timeout-collector" --json "$WORK/timeout.json" --quiet
start_mediator "$WORK/timeout-mediator" --listen "udp://127.0.0.1:$mport" --collector "udp://127.0.0.1:$cport" \
	--select "protocolIdentifier == 6 and destinationTransportPort in 80,443" --correlate "biflow timeout=0.5"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "udp://127.0.0.1:$mport" >"$WORK/timeout-probe.stdout" 2>&1 || fail "timeout: probe exited with $?"
want=$($PY -c "import json,sys; print(sum(f['protocol'] == 6 and f['dst_port'] in (80, 443) for f in json.load(open(sys.argv[1]))['flow_list']))" "$SAMPLE_EXPECTED")
wait_for_flows "$WORK/timeout.json" "$want"
stop_mediator
stop_collector
[ "$(counter "$WORK/timeout-mediator.stdout" uniflows_unpaired)" = "$want" ] &&
	[ "$(counter "$WORK/timeout-mediator.stdout" biflows_paired)" = 0 ] &&
	[ "$(flow_lines "$WORK/timeout.json")" = "$want" ] ||
	fail "timeout: $(counter "$WORK/timeout-mediator.stdout" uniflows_unpaired) uniflows unpaired, want $want"
# The probe's Flow Keys records are dropped past correlation; the Mediator says them
# itself for the probe's templates whose records went on unchanged (one per IP version).
$PY - "$WORK/timeout.json" "$SAMPLE_EXPECTED" <<'PYEOF' || fail "timeout: the Mediator's Flow Keys records"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
versions = {f["ip_version"] for f in json.load(open(sys.argv[2]))["flow_list"]
            if f["protocol"] == 6 and f["dst_port"] in (80, 443)}
own = [r for r in records if "flowKeyIndicator" in r and "originalObservationDomainId" not in r]
passed = [r for r in records if "flowKeyIndicator" in r and "originalObservationDomainId" in r]
if passed or not own or any(r["flowKeyIndicator"] != 0x9f for r in own) or \
        len({r["templateId"] for r in own}) != len(versions):
    sys.exit(f"Flow Keys records: the Mediator's {own}, the probe's passed on {passed}")
print(f"the Mediator's Flow Keys for the {len(versions)} templates of the unpaired uniflows")
PYEOF

echo "mediator_processes: ok"
