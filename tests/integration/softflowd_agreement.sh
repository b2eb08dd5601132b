#!/usr/bin/env bash
# IPFIX from another exporter: softflowd (-v 10) meters the bundled capture and exports
# to a UDP port on loopback while tshark captures it. dpfix-dump --json on that capture
# must hold every record softflowd says it exported, and the same records tshark's
# dissector sees, field by field (ipfix_agreement.py).
source "$(dirname "$0")/lib.sh"
: "${DPFIX_DUMP:?}"

port=$(free_port)
cap="$WORK/softflowd.pcapng"
capture_start softflowd "udp port $port"

# With -r, softflowd handles one batch of the file per control-socket command and exits
# by itself after the end of the file (ENVIRONMENT-NOTES section 4).
softflowd -r "$SAMPLE_PCAP" -v 10 -n "127.0.0.1:$port" -d -p "$WORK/sf.pid" -c "$WORK/sf.ctl" \
	>"$WORK/softflowd.log" 2>&1 &
SF_PID=$!
PIDS+=("$SF_PID")
for _ in $(seq 300); do
	kill -0 "$SF_PID" 2>/dev/null || break
	softflowctl -c "$WORK/sf.ctl" statistics >/dev/null 2>&1 || true
	sleep 0.1
done
kill -0 "$SF_PID" 2>/dev/null && fail "softflowd did not finish within 30 s"
wait "$SF_PID" || fail "softflowd exited with $?: $(tail -5 "$WORK/softflowd.log")"

# "Flows exported: 63 (115 records) in 5 packets": records counts both directions.
read -r records packets < <(sed -n 's/.*Flows exported: [0-9]* (\([0-9]*\) records) in \([0-9]*\) packets.*/\1 \2/p' \
	"$WORK/softflowd.log") || true
[ -n "${records:-}" ] && [ "$records" -gt 0 ] || fail "softflowd exported nothing: $(cat "$WORK/softflowd.log")"
capture_stop softflowd "$packets" "udp.dstport == $port"

"$DPFIX_DUMP" --json "$cap" >"$WORK/dump.json" 2>"$WORK/dump.stderr" ||
	fail "dpfix-dump exited with $?: $(head -5 "$WORK/dump.stderr")"
grep -q "data_records *$records$" "$WORK/dump.stderr" ||
	fail "dpfix-dump: softflowd exported $records records: $(grep data_records "$WORK/dump.stderr")"
grep -q "malformed_messages *0$" "$WORK/dump.stderr" || fail "dpfix-dump found malformed messages"
grep -q "sets_unknown_template *0$" "$WORK/dump.stderr" || fail "data before its template"
# softflowd's options record (meteringProcessId, systemInitTimeMilliseconds...) too.
grep -q '"meteringProcessId":' "$WORK/dump.json" || fail "softflowd's options record is missing"

$PY "$DPFIX_SOURCE_ROOT/tests/integration/ipfix_agreement.py" "$cap" udp "$port" "$WORK/dump.json" ||
	fail "tshark and dpfix-dump disagree on softflowd's export"
echo "softflowd_agreement: ok ($records records from softflowd)"
