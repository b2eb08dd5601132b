#!/usr/bin/env bash
# Third-party agreement on our wire format and on dpfix-dump: the probe exports the
# bundled capture over UDP and over TCP while tshark captures loopback. On each capture
# dpfix-dump --json must give exactly the collector's --json lines, and tshark's IPFIX
# dissector must decode the same records with the same value in every field both decode
# (ipfix_agreement.py). A changed value must make that comparison fail.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_DUMP:?}"
AGREE="$DPFIX_SOURCE_ROOT/tests/integration/ipfix_agreement.py"
flows=$(expected flows)

for transport in udp tcp; do
	port=$(free_port)
	[ "$transport" = udp ] && udp_port=$port
	[ "$transport" = tcp ] && tcp_port=$port
	cap="$WORK/$transport.pcapng"
	capture_start "$transport" "$transport port $port"
	start_collector_at "$transport://127.0.0.1:$port" "$WORK/collector.$transport" --quiet \
		--json "$WORK/collector.$transport.json"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$transport://127.0.0.1:$port" >"$WORK/probe.$transport.stdout" 2>&1 ||
		fail "$transport: probe exited with $?: $(tail -5 "$WORK/probe.$transport.stdout")"
	if [ "$transport" = udp ]; then
		wait_for_records "$WORK/collector.udp.json" "$(probe_records "$WORK/probe.udp.stdout")"
		stop_collector
		capture_stop udp "$(collector_datagrams "$WORK/collector.udp.stdout")" "udp.dstport == $port"
	else
		wait_for_close "$WORK/collector.$transport"
		stop_collector
		# The exporter's FIN comes after all it sent.
		capture_stop tcp 1 "tcp.flags.fin == 1 && tcp.dstport == $port"
	fi
	[ "$(summary_value "$WORK/collector.$transport.stdout" flows)" = "$flows" ] ||
		fail "$transport: the collector did not get all $flows flows"

	"$DPFIX_DUMP" --json "$cap" >"$WORK/dump.$transport.json" 2>"$WORK/dump.$transport.stderr" ||
		fail "$transport: dpfix-dump exited with $?: $(head -5 "$WORK/dump.$transport.stderr")"
	cmp -s "$WORK/dump.$transport.json" "$WORK/collector.$transport.json" ||
		fail "$transport: dpfix-dump --json differs from the collector's --json: $(diff \
			"$WORK/dump.$transport.json" "$WORK/collector.$transport.json" | head -4)"
	# The flows, and the probe's options records (RFC 7011 4) at start and at the end.
	[ "$(grep -c '"octetDeltaCount"' "$WORK/dump.$transport.json")" -eq "$flows" ] ||
		fail "$transport: record count"
	[ "$(wc -l <"$WORK/dump.$transport.json")" -eq $((flows + 12)) ] ||
		fail "$transport: record count with the options records"
	grep -q "data_records *$flows$" "$WORK/dump.$transport.stderr" || fail "$transport: summary"

	$PY "$AGREE" "$cap" "$transport" "$port" "$WORK/dump.$transport.json" ||
		fail "$transport: tshark and dpfix-dump disagree"

	# The readable form: one line per record, the two templates, the messages.
	"$DPFIX_DUMP" "$cap" >"$WORK/dump.$transport.txt" 2>/dev/null || fail "$transport: text mode"
	[ "$(grep -c '^  record 25[67]: sourceIPv' "$WORK/dump.$transport.txt")" -eq "$flows" ] ||
		fail "$transport: text mode: record lines"
	[ "$(grep -c '^  template 25[67] (domain 1, 18 fields): sourceIPv' "$WORK/dump.$transport.txt")" -eq 2 ] ||
		fail "$transport: text mode: template lines"
	grep -q "^message ($transport 127.0.0.1:[0-9]* > 127.0.0.1:$port, " "$WORK/dump.$transport.txt" ||
		fail "$transport: text mode: message lines"
done

# The TCP session ends with the all-templates withdrawal of the data templates (RFC 7011
# 8.1, Figure U: one Set 2 with Template ID 2) and withdraws no options template: tshark
# 4.0 would call that malformed (doc/peer-collectors.md, tests/integration/
# peer_withdrawals.sh). tshark finds nothing wrong in the whole TCP export.
grep "^message " "$WORK/dump.tcp.txt" | tail -1 | grep -q ", sets 2/8$" ||
	fail "tcp: the last message is not one all-templates withdrawal: $(grep "^message " "$WORK/dump.tcp.txt" | tail -1)"
[ "$(grep "withdrawn$" "$WORK/dump.tcp.txt" | sort | tr -d '\n')" = \
	"  template 256 (domain 1) withdrawn  template 257 (domain 1) withdrawn" ] ||
	fail "tcp: want templates 256 and 257 withdrawn, and no other: $(grep withdrawn "$WORK/dump.tcp.txt")"
tshark -r "$WORK/tcp.pcapng" -d "tcp.port==$tcp_port,cflow" -Y "_ws.malformed || _ws.expert.severity >= warning" \
	-T fields -e frame.number -e _ws.expert.message >"$WORK/tshark.tcp.bad" 2>/dev/null ||
	fail "tcp: tshark could not read the capture"
[ ! -s "$WORK/tshark.tcp.bad" ] || fail "tcp: tshark flags the export: $(head -3 "$WORK/tshark.tcp.bad")"

# The comparison is able to fail: one octet count changed by one.
$PY - "$WORK/dump.udp.json" "$WORK/changed.json" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
lines[7]["octetDeltaCount"] += 1
open(sys.argv[2], "w").write("".join(json.dumps(l) + "\n" for l in lines))
PYEOF
! $PY "$AGREE" "$WORK/udp.pcapng" udp "$udp_port" "$WORK/changed.json" >"$WORK/changed.out" 2>&1 ||
	fail "a changed value went unnoticed"
grep -q "record 8: octetDeltaCount" "$WORK/changed.out" || fail "the difference was not named: $(cat "$WORK/changed.out")"
echo "dump_tshark_agreement: ok"
