#!/usr/bin/env bash
# Foreign exporters and collectors around the Mediator (issue 13): softflowd (-v 10)
# meters the bundled capture and exports IPFIX/UDP to dpfix-mediator, which exports to
# two collectors at once, nfdump's nfcapd and dpfix-collector (UDP). Both must hold
# exactly what softflowd says it exported (records), with the packets and octets of
# softflowd's own records (dpfix-dump of a capture of softflowd's export, taken in the
# same run), and softflowd's options record passed on; nfcapd's tally must equal them
# with no complaint. The Mediator's sequence numbers are checked by ipfixDump on a
# capture of what went to nfcapd (RFC 7011: options records count); nfcapd 1.7.1 counts
# only the flow records of a message, so it reports a sequence error after each message
# with options records once flows came (doc/peer-collectors.md): the test expects
# exactly those.
source "$(dirname "$0")/lib.sh"
export TZ=UTC

mport=$(free_port)
nport=$(free_port)
cport=$(free_port)

mkdir -p "$WORK/nfcapd"
capture_start mediated "udp port $nport"
nfcapd -p "$nport" -b 127.0.0.1 -w "$WORK/nfcapd" -t 60 >"$WORK/nfcapd.log" 2>&1 &
NFCAPD_PID=$!
PIDS+=("$NFCAPD_PID")
wait_for_text "$WORK/nfcapd.log" "Startup nfcapd" 10
start_collector "$cport" "$WORK/collector" --json "$WORK/collector.json" --quiet
start_mediator "$WORK/mediator" --listen "udp://127.0.0.1:$mport" \
	--collector "udp://127.0.0.1:$nport" --collector "udp://127.0.0.1:$cport"

# softflowd sends to the Mediator; tshark keeps a copy of what it sent (softflowd's
# own count of its records is per direction of its bidirectional flows).
capture_start softflowd "udp port $mport"
run_softflowd "$mport"
records=$SOFTFLOWD_RECORDS
capture_stop softflowd "$SOFTFLOWD_PACKETS" "udp.dstport == $mport"
# softflowd's sequence numbers show gaps where none are (softflowd_agreement says why):
# dpfix-dump and the Mediator name them (exit status 2), and nothing else.
rc=0
"$DPFIX_DUMP" --json "$WORK/softflowd.pcapng" >"$WORK/softflowd.json" 2>"$WORK/dump.stderr" || rc=$?
[ "$rc" = 2 ] && grep -qx "dpfix-dump: data lost (exit status 2): sequence_lost [0-9]*" "$WORK/dump.stderr" ||
	fail "dpfix-dump exited with $rc: $(grep -v '^  .* 0$' "$WORK/dump.stderr" | head -12)"

# What softflowd sent is in the Mediator's socket buffer: a stop reads it all.
stop_mediator 2
grep -qx "dpfix-mediator: data lost (exit status 2): sequence_lost [0-9]*" "$WORK/mediator.stdout" ||
	fail "the Mediator should name softflowd's sequence gaps only: $(grep -v '^  ' "$WORK/mediator.stdout")"
wait_for_flows "$WORK/collector.json" "$records"
stop_collector
kill -TERM "$NFCAPD_PID"
wait "$NFCAPD_PID" || fail "nfcapd exited with $?: $(tail -3 "$WORK/nfcapd.log")"

[ "$(counter "$WORK/mediator.stdout" records_in)" = "$records" ] ||
	fail "the Mediator received $(counter "$WORK/mediator.stdout" records_in) records, softflowd sent $records"
[ "$(counter "$WORK/mediator.stdout" records_lost)" = 0 ] || fail "the Mediator lost records"

# softflowd's own records (from the capture of its export) against dpfix-collector's,
# record by record, and their totals against nfcapd's tally.
$PY - "$WORK/softflowd.json" "$WORK/collector.json" "$records" >"$WORK/totals" <<'PYEOF' ||
import json, sys
from collections import Counter
def flows(path, mediated):
    out = Counter()
    for line in open(path):
        r = json.loads(line)
        if "octetDeltaCount" not in r:
            continue
        if mediated and (r.get("originalExporterIPv4Address"), r.get("originalObservationDomainId")) \
                != ("127.0.0.1", 0):
            sys.exit(f"a record without softflowd's address and domain: {r}")
        v = "6" if "sourceIPv6Address" in r else "4"
        out[(r[f"sourceIPv{v}Address"], r[f"destinationIPv{v}Address"], r.get("sourceTransportPort"),
             r.get("destinationTransportPort"), r["protocolIdentifier"], r["packetDeltaCount"],
             r["octetDeltaCount"], r["flowStartSysUpTime"], r["flowEndSysUpTime"])] += 1
    return out
sent, got = flows(sys.argv[1], False), flows(sys.argv[2], True)
if sum(sent.values()) != int(sys.argv[3]):
    sys.exit(f"the capture of softflowd's export holds {sum(sent.values())} records, it says {sys.argv[3]}")
if sent != got:
    sys.exit(f"dpfix-collector's records differ from softflowd's: {list((sent - got).items())[:2]} "
             f"{list((got - sent).items())[:2]}")
if not any("meteringProcessId" in json.loads(l) for l in open(sys.argv[2])):
    sys.exit("softflowd's options record was not passed on")
print(sum(k[5] * n for k, n in sent.items()), sum(k[6] * n for k, n in sent.items()))
PYEOF
	fail "dpfix-collector behind the Mediator"
read -r spackets soctets <"$WORK/totals"
echo "dpfix-collector: $records records, $spackets packets, $soctets octets: softflowd's, record by record"

# What went to nfcapd: sequence numbers right, nothing malformed (ipfixDump); the
# messages after which nfcapd's reckoning (flow records only) is off.
capture_stop mediated "$(counter "$WORK/mediator.stdout" messages_sent)" "udp.dstport == $nport"
udp_payloads "$WORK/mediated.pcapng" "$WORK/mediated.ipfix"
ipfix_dump_clean "$WORK/mediated.ipfix"
"$DPFIX_DUMP" --port "$nport" "$WORK/mediated.pcapng" >"$WORK/mediated.txt" 2>&1 ||
	fail "dpfix-dump on the Mediator's export exited with $?"
nfcapd_errors=$($PY - "$WORK/mediated.txt" <<'PYEOF'
import re, sys
expect, flows_seen, errors, flows = None, False, 0, 0
for line in open(sys.argv[1]):
    m = re.match(r"message .*, sequence (\d+), domain", line)
    if m:
        seq = int(m.group(1))
        if expect is not None and seq != expect and flows_seen:
            errors += 1
        expect = seq
        continue
    if line.startswith("  record "):
        expect += 1
        flows_seen = True
print(errors)
PYEOF
)
# nfcapd's tally (one line per file): records, packets, bytes, sequence errors, bad packets.
tally=$(awk '/^Ident:/ {gsub(",", ""); f += $4; p += $6; b += $8; s += $11; x += $14}
	END {print f, p, b, s, x}' "$WORK/nfcapd.log")
[ "$tally" = "$records $spackets $soctets $nfcapd_errors 0" ] ||
	fail "nfcapd flows/packets/bytes/sequence errors/bad packets: $tally, want $records $spackets $soctets $nfcapd_errors 0"
others=$(grep -v "^Ident:" "$WORK/nfcapd.log" | grep -iE "error|warn|malformed|invalid|skip|unknown|fail|extra bytes" || true)
[ -z "$others" ] || fail "nfcapd complains: $(echo "$others" | head -3)"
echo "nfcapd: $tally; ipfixDump on the Mediator's export: $IPFIXDUMP_STATS"
echo "mediator_interop: ok"
