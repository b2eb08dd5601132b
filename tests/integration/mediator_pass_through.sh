#!/usr/bin/env bash
# The Mediator passing records through (RFC 7119): the probe exports the bundled capture
# to dpfix-mediator, which exports to dpfix-collector. Over UDP in and out, UDP in and
# SCTP out with PR-SCTP (unordered data with a lifetime), and DTLS/UDP in and TLS/TCP
# out (PSK both ways): every flow arrives exactly once with its
# packets and octets and the original exporter's address and observation domain; the
# probe's options records are passed on with their templateId mapped to the Mediator's
# own ids; the Mediator's export is judged by ipfixDump (sequence numbers, sets) and
# tshark; both programs end in order with nothing lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\nmediator.example:0f0e0d0c0b0a09080706050403020100\n' >"$K/mediator.psk"
printf 'mediator.example:0f0e0d0c0b0a09080706050403020100\n' >"$K/collector-of-mediator.psk"
chmod 600 "$K"/*.psk

flows=$(expected flows)

# run_probe URL [ARGS...]: the probe meters the capture and exports to URL.
run_probe() {
	local url=$1
	shift
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$url" "$@" >"$WORK/probe.stdout" 2>&1 ||
		fail "probe to $url exited with $?: $(tail -3 "$WORK/probe.stdout")"
}

# check_totals NAME: the collector's totals are the capture's, the Mediator passed every
# record on and lost nothing.
check_totals() {
	local name=$1 what
	for what in flows packets octets; do
		[ "$(summary_value "$WORK/$name-collector.stdout" "$what")" = "$(expected "$what")" ] ||
			fail "$name: collector $what $(summary_value "$WORK/$name-collector.stdout" "$what"), want $(expected "$what")"
	done
	[ "$(counter "$WORK/$name-mediator.stdout" records_in)" = "$flows" ] || fail "$name: mediator records_in"
	[ "$(counter "$WORK/$name-mediator.stdout" records_out)" = "$flows" ] || fail "$name: mediator records_out"
	[ "$(counter "$WORK/$name-mediator.stdout" records_lost)" = 0 ] || fail "$name: mediator lost records"
	grep -q "sequence_lost *0$" "$WORK/$name-collector.stdout" || fail "$name: sequence loss at the collector"
	$PY "$DPFIX_SOURCE_ROOT/tests/integration/flows_exact.py" "$WORK/$name.json" "$SAMPLE_EXPECTED" \
		127.0.0.1 1 || fail "$name: per-flow comparison"
}

# ---- UDP in, UDP out ----
cport=$(free_port)
mport=$(free_port)
capture_start udp "udp port $cport"
start_collector "$cport" "$WORK/udp-collector" --json "$WORK/udp.json" --quiet
start_mediator "$WORK/udp-mediator" --listen "udp://127.0.0.1:$mport" --collector "udp://127.0.0.1:$cport"
run_probe "udp://127.0.0.1:$mport"
wait_for_flows "$WORK/udp.json" "$flows"
stop_mediator
stop_collector
check_totals udp
# The probe's options records went on: its two Flow Keys records (one per flow template)
# now name the Mediator's template ids, and its interface record is there.
$PY - "$WORK/udp.json" <<'PYEOF' || fail "options records passed on"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
keys = [r for r in records if "flowKeyIndicator" in r and "originalObservationDomainId" in r]
ids = sorted({r["templateId"] for r in keys})
if len(ids) != 2 or min(ids) < 264 or any(r["flowKeyIndicator"] != 0x9f for r in keys):
    sys.exit(f"the probe's Flow Keys records as passed on: {keys}")
if not any(r.get("interfaceName") == "net_pcap0" for r in records):
    sys.exit("the probe's interface options record is missing")
# The Mediator's own Exporting Process Reliability Statistics: nothing lost.
own = [r for r in records if "notSentFlowTotalCount" in r and "originalObservationDomainId" not in r]
if not own or own[-1]["notSentFlowTotalCount"] != 0:
    sys.exit(f"the Mediator's exporting reliability records: {own}")
print(f"options: Flow Keys of templates {ids}, the interface record, the Mediator's own statistics")
PYEOF
datagrams=$(counter "$WORK/udp-mediator.stdout" messages_sent)
capture_stop udp "$datagrams" "udp.dstport == $cport"
udp_payloads "$WORK/udp.pcapng" "$WORK/udp.ipfix"
ipfix_dump_clean "$WORK/udp.ipfix"
echo "ipfixDump on the Mediator's export: $IPFIXDUMP_STATS"
tshark -r "$WORK/udp.pcapng" -d "udp.port==$cport,cflow" -Y "_ws.malformed || _ws.expert.severity >= warning" \
	-T fields -e frame.number -e _ws.expert.message >"$WORK/tshark.bad" 2>/dev/null ||
	fail "tshark could not read the Mediator's export"
[ ! -s "$WORK/tshark.bad" ] || fail "tshark reports malformed frames: $(head -3 "$WORK/tshark.bad")"

# ---- UDP in, SCTP out with PR-SCTP (seed 003 3.6) ----
# Data messages unordered with a 2 s lifetime (RFC 3758) on stream 1, templates ordered
# on stream 0; both ends announce Forward-TSN support in their INIT and INIT ACK.
cport=$(free_port)
mport=$(free_port)
sport=$(free_port)
capture_start sctp "udp port $sport"
start_collector_at "sctp://127.0.0.1:$cport" "$WORK/sctp-collector" --json "$WORK/sctp.json" --quiet \
	--sctp-udp-port "$sport"
start_mediator "$WORK/sctp-mediator" --listen "udp://127.0.0.1:$mport" --collector "sctp://127.0.0.1:$cport" \
	--sctp-udp-port "$sport" --sctp-data-unordered yes --sctp-data-lifetime 2
run_probe "udp://127.0.0.1:$mport"
wait_for_flows "$WORK/sctp.json" "$flows"
stop_mediator
wait_for_close "$WORK/sctp-collector"
stop_collector
check_totals sctp
# The SHUTDOWN COMPLETE: the association's end is in the capture.
capture_stop sctp 1 "sctp.chunk_type == 14" -d "udp.port==$sport,sctp"
sctp_stream_order "$WORK/sctp.pcapng" "$sport" || fail "sctp: want ordered templates on stream 0, unordered data on 1"
[ "$(tshark -r "$WORK/sctp.pcapng" -d "udp.port==$sport,sctp" \
	-Y "(sctp.chunk_type == 1 || sctp.chunk_type == 2) && sctp.parameter_type == 0xc000" \
	-T fields -e frame.number 2>/dev/null | grep -c .)" = 2 ] ||
	fail "sctp: INIT and INIT ACK do not both announce Forward-TSN (PR-SCTP)"
echo "sctp out: every flow exact, data unordered on stream 1 with PR-SCTP, templates ordered on stream 0"

# ---- DTLS/UDP in, TLS/TCP out, pre-shared keys both ways ----
cport=$(free_port)
mport=$(free_port)
start_collector_at "tls+tcp://127.0.0.1:$cport" "$WORK/tls-collector" --json "$WORK/tls.json" --quiet \
	--psk-file "$K/collector-of-mediator.psk"
start_mediator "$WORK/tls-mediator" --listen "dtls+udp://127.0.0.1:$mport" \
	--collector "tls+tcp://127.0.0.1:$cport" --psk-file "$K/mediator.psk" --psk-identity mediator.example \
	--stats-json "$WORK/tls-mediator.json"
run_probe "dtls+udp://127.0.0.1:$mport" --psk-identity probe1.example --psk-file "$K/probe.psk"
wait_for_flows "$WORK/tls.json" "$flows"
stop_mediator
wait_for_close "$WORK/tls-collector"
stop_collector
check_totals tls
grep -q "psk mediator.example: session established" "$WORK/tls-collector.stderr" ||
	fail "the collector did not see the Mediator's identity: $(head -3 "$WORK/tls-collector.stderr")"
grep -q "sessions_unconfirmed *0$" "$WORK/tls-mediator.stdout" || fail "the TLS session's end was not confirmed"
# check_identity NAME IDENTITY: the Mediator's own session details name the identity the
# exporter authenticated with: its session's lines, the summary and stats_json, with
# every record it sent.
check_identity() {
	local name=$1 id=$2
	grep -q "exporter session .*: authenticated as '$id'" "$WORK/$name-mediator.stderr" ||
		fail "$name: the session's start does not name '$id': $(cat "$WORK/$name-mediator.stderr")"
	grep -q "exporter session .* (identity '$id'): .*; $flows records and [0-9]* options records in" \
		"$WORK/$name-mediator.stderr" || fail "$name: the session's end does not name '$id'"
	grep -q "^exporter identity: $id$" "$WORK/$name-mediator.stdout" || fail "$name: the summary does not name '$id'"
	[ "$(counter "$WORK/$name-mediator.stdout" identity_records_in)" = "$flows" ] ||
		fail "$name: identity_records_in $(counter "$WORK/$name-mediator.stdout" identity_records_in), want $flows"
	$PY - "$WORK/$name-mediator.json" "$id" "$flows" <<'PYEOF' || fail "$name: stats_json exporter_identities"
import json, sys
ids = json.load(open(sys.argv[1]))["exporter_identities"]
assert [(i["identity"], i["sessions"], i["records_in"]) for i in ids] == [(sys.argv[2], 1, int(sys.argv[3]))], ids
PYEOF
}
check_identity tls probe1.example
echo "tls: the exporter's PSK identity is in the Mediator's session details"

# ---- TLS/TCP in and out with certificates: the exporter is named by its certificate ----
cport=$(free_port)
mport=$(free_port)
X509_M="--cert $K/collector.pem --key $K/collector.key --ca $K/ca.pem"
# shellcheck disable=SC2086
start_collector_at "tls+tcp://127.0.0.1:$cport" "$WORK/x509-collector" --json "$WORK/x509.json" --quiet \
	$X509_M --peer-name collector.example
# shellcheck disable=SC2086
start_mediator "$WORK/x509-mediator" --listen "tls+tcp://127.0.0.1:$mport" \
	--collector "tls+tcp://127.0.0.1:$cport" $X509_M --peer-name collector.example \
	--stats-json "$WORK/x509-mediator.json"
run_probe "tls+tcp://127.0.0.1:$mport" --cert "$K/probe.pem" --key "$K/probe.key" --ca "$K/ca.pem" \
	--peer-name collector.example
wait_for_flows "$WORK/x509.json" "$flows"
stop_mediator
wait_for_close "$WORK/x509-collector"
stop_collector
check_totals x509
check_identity x509 probe.example
echo "x509: the exporter's certificate name is in the Mediator's session details"
echo "mediator_pass_through: ok"
