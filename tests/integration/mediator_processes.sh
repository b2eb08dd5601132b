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

echo "mediator_processes: ok"
