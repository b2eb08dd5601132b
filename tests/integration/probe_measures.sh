#!/usr/bin/env bash
# Every measure (issue 16) on a generated capture with exact truth
# (tests/data/gen-measures-capture.py: a TCP handshake with known times, HTTP, TLS, DNS
# over UDP and TCP, SSH, QUIC, RTP with jittered arrivals, VXLAN, GRE, and payloads that
# lie or are cut short): with `measures = tcp,http,tls,dns,app,lengths,tunnel,rtp` as
# uniflows and as biflows, every value of every record in the collector's --json (the
# enterprise elements named by config/measures.elements) equals the truth, the
# templates are new ones (268, 269) with unchanged Flow Keys, RFC 6759 options records
# name the applicationIds, and the malformed payloads are counted by reason in
# --stats-json. tshark decodes the IANA elements of the export with the same values.
# `measures = none` exports today's templates (256, 257) with the same flows.
source "$(dirname "$0")/lib.sh"

$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-measures-capture.py" "$WORK/m" ||
	fail "could not generate the capture"
ELEMENTS=$DPFIX_SOURCE_ROOT/config/measures.elements
ALL=tcp,http,tls,dns,app,lengths,tunnel,rtp

# run NAME MEASURES [probe options...]: the probe on the capture into a collector.
run() {
	local name=$1 measures=$2 port
	shift 2
	port=$(free_port)
	[ "$name" = none ] || capture_start "export-$name" "udp port $port"
	start_collector "$port" "$WORK/c-$name" --quiet --elements "$ELEMENTS" \
		--json "$WORK/$name.json"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/m.pcap" -- \
		--collector "udp://127.0.0.1:$port" --measures "$measures" --vxlan-inner yes \
		--stats-json "$WORK/$name.stats.json" "$@" >"$WORK/$name.stdout" 2>&1 ||
		fail "$name: probe exited with $?: $(tail -3 "$WORK/$name.stdout")"
	wait_for_records "$WORK/$name.json" "$(probe_records "$WORK/$name.stdout")"
	stop_collector
	[ "$name" = none ] || capture_stop "export-$name" \
		"$(collector_datagrams "$WORK/c-$name.stdout")" "udp.dstport == $port"
	PORT[$name]=$port
}

declare -A PORT

run uniflow "$ALL"
run biflow "$ALL" --biflow yes
run none none

$PY - "$WORK" <<'PYEOF' || fail "measured records"
import json, sys
work = sys.argv[1]
truth = json.load(open(f"{work}/m.expected.json"))
bad = 0
for mode in ("uniflow", "biflow"):
    recs = [json.loads(l) for l in open(f"{work}/{mode}.json")]
    flows = [r for r in recs if "protocolIdentifier" in r]
    got = {}
    for r in flows:
        k = " ".join(str(x) for x in (r["sourceIPv4Address"], r["destinationIPv4Address"],
                                      r["sourceTransportPort"], r["destinationTransportPort"],
                                      r["protocolIdentifier"]))
        if k in got:
            sys.exit(f"{mode}: two records of {k}")
        got[k] = r
    want = truth[mode]
    if sorted(got) != sorted(want):
        sys.exit(f"{mode}: records {sorted(set(got) ^ set(want))} differ")
    for k, w in want.items():
        for name, value in w.items():
            if got[k].get(name) != value:
                print(f"{mode} {k}: {name} = {got[k].get(name)!r}, want {value!r}")
                bad += 1
    # No element left unnamed: every measure's elements are IANA's or in the file.
    unnamed = {n for r in flows for n in r if ":" in n or n.startswith("_ie")}
    if unnamed:
        sys.exit(f"{mode}: unnamed elements {sorted(unnamed)}")
    # The measured templates are new; their flow keys what the plain ones say.
    keys = {r["templateId"]: r["flowKeyIndicator"] for r in recs if "flowKeyIndicator" in r}
    if keys != {268: 159, 269: 159}:
        sys.exit(f"{mode}: flow keys {keys}")
    names = {r["applicationId"]: r["applicationName"] for r in recs if "applicationName" in r}
    if names != {"0d000001": "http", "0d000002": "tls", "0d000003": "dns", "0d000004": "ssh",
                 "0d000005": "quic"}:
        sys.exit(f"{mode}: application names {names}")
    stats = json.load(open(f"{work}/{mode}.stats.json"))["totals"]
    for name, value in truth["counters"].items():
        if stats.get(name) != value:
            print(f"{mode}: counter {name} = {stats.get(name)}, want {value}")
            bad += 1
    print(f"{mode}: {len(flows)} records, {sum(len(w) for w in want.values())} values exact")
# measures = none: today's templates, the same flows, no measure in them.
recs = [json.loads(l) for l in open(f"{work}/none.json")]
flows = [r for r in recs if "protocolIdentifier" in r]
keys = {r["templateId"] for r in recs if "flowKeyIndicator" in r}
if len(flows) != len(truth["uniflow"]) or keys != {256, 257} or any("tcpSynTotalCount" in r for r in flows):
    sys.exit(f"none: {len(flows)} records, flow key templates {keys}")
stats = json.load(open(f"{work}/none.stats.json"))["totals"]
if "payloads_read" in stats:
    sys.exit("none: measure counters shown")
sys.exit(1 if bad else 0)
PYEOF

# tshark decodes the IANA elements of the export with the same values: each element's
# values, over all records, as a multiset, against the collector's. (A biflow template
# with every measure has 63 fields: past tshark's default limit of 60, which its
# preference cflow.max_template_fields raises; doc/measures.md.)
TS=(-o cflow.max_template_fields:100)
for name in uniflow biflow; do
	tshark -r "$WORK/export-$name.pcapng" "${TS[@]}" -d "udp.port==${PORT[$name]},cflow" -V \
		>"$WORK/tshark-$name.txt" 2>&1 || fail "tshark could not read the $name export"
	grep -q "Malformed" "$WORK/tshark-$name.txt" &&
		fail "tshark: $name: malformed: $(grep -m3 Malformed "$WORK/tshark-$name.txt")"
done
fields=(cflow.total_tcp_syn cflow.total_tcp_fin cflow.total_tcp_rst cflow.total_tcp_psh
	cflow.total_tcp_ack cflow.total_tcp_urg cflow.length_min cflow.length_max
	cflow.http_request_method cflow.http_request_host cflow.http_request_target
	cflow.http_user_agent cflow.http_statuscode cflow.appl_id.classification_engine_id
	cflow.appl_id.selector_id cflow.layer2_segment_id cflow.gre_key
	cflow.rfc3550_jitter_microseconds)
for f in "${fields[@]}"; do
	tshark -r "$WORK/export-uniflow.pcapng" "${TS[@]}" -d "udp.port==${PORT[uniflow]},cflow" \
		-T fields -E occurrence=a \
		-E separator=/t -e "$f" 2>/dev/null | tr ',' '\n' | grep -v '^$' | sort >"$WORK/ts.$f" || true
done
$PY - "$WORK" "${fields[@]}" <<'PYEOF' || fail "tshark's values"
import json, os, sys
work, fields = sys.argv[1], sys.argv[2:]
recs = [json.loads(l) for l in open(f"{work}/uniflow.json")]
names = {"cflow.total_tcp_syn": "tcpSynTotalCount", "cflow.total_tcp_fin": "tcpFinTotalCount",
         "cflow.total_tcp_rst": "tcpRstTotalCount", "cflow.total_tcp_psh": "tcpPshTotalCount",
         "cflow.total_tcp_ack": "tcpAckTotalCount", "cflow.total_tcp_urg": "tcpUrgTotalCount",
         "cflow.length_min": "minimumIpTotalLength", "cflow.length_max": "maximumIpTotalLength",
         "cflow.http_request_method": "httpRequestMethod", "cflow.http_request_host": "httpRequestHost",
         "cflow.http_request_target": "httpRequestTarget", "cflow.http_user_agent": "httpUserAgent",
         "cflow.http_statuscode": "httpStatusCode", "cflow.layer2_segment_id": "layer2SegmentId",
         "cflow.gre_key": "greKey", "cflow.rfc3550_jitter_microseconds": "rfc3550JitterMicroseconds"}
bad = 0
for f in fields:
    ts = [l.rstrip("\n") for l in open(f"{work}/ts.{f}")]
    if f.startswith("cflow.appl_id."):
        ids = [int(r["applicationId"], 16) for r in recs if "applicationId" in r]
        want = [str(i >> 24) if f.endswith("engine_id") else str(i & 0xffffff) for i in ids]
    else:
        # tshark leaves empty strings out.
        want = [str(r[names[f]]) for r in recs if names[f] in r and r[names[f]] != ""]
    if f == "cflow.gre_key" or f == "cflow.layer2_segment_id":
        ts = [str(int(v, 0)) for v in ts]
    if f == "cflow.appl_id.selector_id":    # tshark shows the selector's octets in hex
        ts = [str(int(v, 16)) for v in ts]
    if sorted(ts) != sorted(want):
        print(f"{f}: tshark {sorted(ts)[:12]}..., collector {sorted(want)[:12]}...")
        bad += 1
print(f"tshark decodes {len(fields)} IANA elements with the collector's values")
sys.exit(1 if bad else 0)
PYEOF
# The biflow export's RFC 5103 reverse elements of the measures, as tshark reads them
# ("Total TCP ack: 3 (Reverse Type 222 tcpAckTotalCount)"), against the collector's.
$PY - "$WORK" <<'PYEOF' || fail "tshark's reverse values"
import json, re, sys
work = sys.argv[1]
recs = [json.loads(l) for l in open(f"{work}/biflow.json")]
text = open(f"{work}/tshark-biflow.txt").read()
names = {218: "reverseTcpSynTotalCount", 219: "reverseTcpFinTotalCount",
         220: "reverseTcpRstTotalCount", 221: "reverseTcpPshTotalCount",
         222: "reverseTcpAckTotalCount", 223: "reverseTcpUrgTotalCount",
         25: "reverseMinimumIpTotalLength", 26: "reverseMaximumIpTotalLength",
         386: "reverseRfc3550JitterMicroseconds"}
bad = 0
for ie, name in names.items():
    ts = sorted(int(v) for v in re.findall(r": (\d+) \(Reverse Type %d [^)]*\)" % ie, text))
    want = sorted(r[name] for r in recs if name in r)
    if ts != want or not want:
        print(f"{name}: tshark {ts}, collector {want}")
        bad += 1
print(f"tshark decodes {len(names)} reverse elements of the measures with the collector's values")
sys.exit(1 if bad else 0)
PYEOF
echo "probe_measures: ok"
