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

run_softflowd "$port"
records=$SOFTFLOWD_RECORDS
capture_stop softflowd "$SOFTFLOWD_PACKETS" "udp.dstport == $port"

# softflowd numbers each message by the flow records up to and including it (RFC 7011
# 3.1: those before it), and leaves its options record out: a reader sees gaps, which
# dpfix-dump names as records missing by sequence number (exit status 2). Nothing else
# may be named: every record decoded.
rc=0
"$DPFIX_DUMP" --json "$cap" >"$WORK/dump.json" 2>"$WORK/dump.stderr" || rc=$?
[ "$rc" = 2 ] && grep -qx "dpfix-dump: data lost (exit status 2): sequence_lost [0-9]*" "$WORK/dump.stderr" ||
	fail "dpfix-dump exited with $rc: $(grep -v '^  .* 0$' "$WORK/dump.stderr" | head -12)"
grep -q "data_records *$records$" "$WORK/dump.stderr" ||
	fail "dpfix-dump: softflowd exported $records records: $(grep data_records "$WORK/dump.stderr")"
grep -q "malformed_messages *0$" "$WORK/dump.stderr" || fail "dpfix-dump found malformed messages"
grep -q "sets_unknown_template *0$" "$WORK/dump.stderr" || fail "data before its template"
# softflowd's options record (meteringProcessId, systemInitTimeMilliseconds...) too.
grep -q '"meteringProcessId":' "$WORK/dump.json" || fail "softflowd's options record is missing"

$PY "$DPFIX_SOURCE_ROOT/tests/integration/ipfix_agreement.py" "$cap" udp "$port" "$WORK/dump.json" ||
	fail "tshark and dpfix-dump disagree on softflowd's export"
echo "softflowd_agreement: ok ($records records from softflowd)"
