#!/usr/bin/env bash
# The Mediator's template mapping database (RFC 7119 5): two probes export to one
# dpfix-mediator over TCP at the same time, with the same template ids (256, 257, ...)
# for different templates (one exports uniflows, the other biflows with RFC 5103
# reverse elements, in observation domain 2). The Mediator maps each exporter's
# templates to ids of its own, so the collector decodes every record of both with its
# own template: the uniflows match the capture flow by flow, the biflows carry all its
# packets and octets, each with its exporter's observation domain. When the probes end
# their sessions (withdrawing their templates), the Mediator withdraws the templates no
# record uses any more from the collector (RFC 7011 8.1), before its own orderly end.
source "$(dirname "$0")/lib.sh"

cport=$(free_port)
mport=$(free_port)
start_collector_at "tcp://127.0.0.1:$cport" "$WORK/collector" --json "$WORK/records.json" --quiet
start_mediator "$WORK/mediator" --listen "tcp://127.0.0.1:$mport" --collector "tcp://127.0.0.1:$cport"

# probe NAME [ARGS...]: the probe exports the capture to the Mediator; its own EAL
# runtime directory, as two run at once.
probe() {
	local name=$1
	shift
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args | sed "s/dpfix-test-$$/dpfix-test-$$-$name/") \
		--vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- --collector "tcp://127.0.0.1:$mport" "$@" \
		>"$WORK/$name.stdout" 2>&1
}
probe uni &
uni=$!
probe bi --biflow yes --observation-domain 2 &
bi=$!
wait "$uni" || fail "the uniflow probe exited with $?: $(tail -3 "$WORK/uni.stdout")"
wait "$bi" || fail "the biflow probe exited with $?: $(tail -3 "$WORK/bi.stdout")"
rm -rf "/var/run/dpdk/dpfix-test-$$-uni" "/var/run/dpdk/dpfix-test-$$-bi"

uniflows=$(expected flows)
biflows=$(counter "$WORK/bi.stdout" records_exported)
wait_for_flows "$WORK/records.json" $((uniflows + biflows))
# Both sessions ended: their templates are withdrawn downstream a couple of seconds
# after the last record that used them (MED_WITHDRAW_DELAY_NS).
wait_for_text "$WORK/mediator.stderr" "closed by the exporter" 10
sleep 3
stop_mediator
wait_for_close "$WORK/collector"
stop_collector

$PY - "$WORK/records.json" "$SAMPLE_EXPECTED" "$WORK/uni.json" <<'PYEOF' || fail "records of the two exporters"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
expected = json.load(open(sys.argv[2]))
flows = [r for r in records if "octetDeltaCount" in r]
uni = [r for r in flows if r["originalObservationDomainId"] == 1]
bi = [r for r in flows if r["originalObservationDomainId"] == 2]
if any("reverseOctetDeltaCount" in r for r in uni):
    sys.exit("a uniflow record was decoded with the biflow template")
if not all("reverseOctetDeltaCount" in r for r in bi):
    sys.exit("a biflow record was decoded without the reverse elements")
if len(uni) != expected["flows"]:
    sys.exit(f"{len(uni)} uniflow records, want {expected['flows']}")
packets = sum(r["packetDeltaCount"] + r["reversePacketDeltaCount"] for r in bi)
octets = sum(r["octetDeltaCount"] + r["reverseOctetDeltaCount"] for r in bi)
if (packets, octets) != (expected["packets"], expected["octets"]):
    sys.exit(f"biflows carry {packets} packets, {octets} octets, want "
             f"{expected['packets']}, {expected['octets']}")
with open(sys.argv[3], "w") as f:
    for r in uni:
        f.write(json.dumps(r) + "\n")
print(f"{len(uni)} uniflows and {len(bi)} biflows ({packets} packets, {octets} octets)")
PYEOF
$PY "$DPFIX_SOURCE_ROOT/tests/integration/flows_exact.py" "$WORK/uni.json" "$SAMPLE_EXPECTED" \
	127.0.0.1 1 || fail "uniflows, flow by flow"

# Each probe's 7 templates (2 flow, 5 options) were withdrawn when it ended; the
# Mediator had mapped the 14 to its own (none shared: the definitions differ or the
# domains do) and withdrew from the collector each one no record used any more.
mapped=$(counter "$WORK/mediator.stdout" templates_mapped)
withdrawn=$(counter "$WORK/mediator.stdout" templates_withdrawn)
[ "$(counter "$WORK/mediator.stdout" templates_withdrawn)" -ge 14 ] ||
	fail "the Mediator withdrew $withdrawn templates, want the 14 its exporters withdrew"
[ "$(counter "$WORK/collector.stdout" templates_withdrawn)" -ge "$withdrawn" ] ||
	fail "the collector saw $(counter "$WORK/collector.stdout" templates_withdrawn) withdrawals, want $withdrawn"
grep -q "withdrawals_invalid *0$" "$WORK/collector.stdout" || fail "invalid withdrawals at the collector"
grep -q "sets_unknown_template *0$" "$WORK/collector.stdout" || fail "data without its template at the collector"
grep -q "templates_redefined_invalid *0$" "$WORK/collector.stdout" || fail "a template id redefined at the collector"
grep -q "sequence_lost *0$" "$WORK/collector.stdout" || fail "sequence loss at the collector"
echo "mediator_templates: ok ($mapped templates mapped, $withdrawn withdrawn)"
