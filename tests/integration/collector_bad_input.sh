#!/usr/bin/env bash
# Hostile input to the collector: garbage datagrams, truncated and lying IPFIX, data
# for unknown templates, templates with field lengths their elements' types forbid. It must count and report them, keep running, and still decode
# a real export completely afterwards. The records of the sets it could not decode are
# lost (exit status 2, named); malformed messages and refused templates are counted as
# bad input, not as records lost. tshark must flag the same malformed message, so
# the malformed-frame check in probe_to_collector is shown able to fail.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
capture_start bad "udp port $port"
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"

$PY - "$port" <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))   # one exporter session for all the bad messages
def msg(sets, seq=0, length=None):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, length if length is not None else 16 + len(body), 0, seq, 7) + body
def tmpl_set(tid, fields):
    rec = struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", i, l) for i, l in fields)
    return struct.pack("!HH", 2, 4 + len(rec)) + rec
bad = [
    b"",                                   # empty datagram
    b"\x00\x0a\x00",                       # shorter than a header
    b"GET / HTTP/1.1\r\n\r\n",             # not IPFIX at all
    struct.pack("!HHIII", 9, 16, 0, 0, 7), # NetFlow v9 version
    msg([], length=200),                   # header claims more than was sent
    msg([struct.pack("!HH", 256, 2)]),     # set length below 4
    msg([struct.pack("!HH", 256, 40) + b"\0" * 8]),   # set overruns the message
    msg([struct.pack("!HH", 2, 12) + struct.pack("!HHHH", 300, 5, 8, 4)]),  # template fields cut short
    msg([struct.pack("!HH", 1, 8) + b"\0" * 4]),      # NetFlow v9 template set id
]
for b in bad:
    s.sendto(b, ("127.0.0.1", port))
# Data for a template never sent: skipped and counted, not an error.
s.sendto(msg([struct.pack("!HH", 999, 12) + b"\1" * 8]), ("127.0.0.1", port))
# Another exporter: field lengths the elements' types forbid (RFC 7011 6.2, 7), each
# template with records whose bytes would inflate the totals if they were believed: a
# 9-octet octetDeltaCount (8 of its octets were summed: 72340172838245249), an IPv4
# address of 2 octets, an IPv6 address of 17, a 3-octet dateTimeMilliseconds.
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s2.bind(("127.0.0.1", 0))
for seq, (tid, fields) in enumerate([(300, [(1, 9), (2, 8)]), (301, [(8, 2), (1, 8)]),
                                     (302, [(27, 17), (1, 8)]), (303, [(152, 3), (1, 8)])]):
    rec = b"\1" * sum(l for _, l in fields)
    data = struct.pack("!HH", tid, 4 + 2 * len(rec)) + rec * 2
    s2.sendto(msg([tmpl_set(tid, fields), data], seq=0), ("127.0.0.1", port))
PYEOF
wait_for_text "$WORK/collector.stderr" "malformed message (reported once per session)" 30
kill -0 "$COLLECTOR_PID" || fail "collector died on bad input"

# A real export after the garbage, from the probe: complete and exact.
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "udp://127.0.0.1:$port" >"$WORK/probe.stdout" 2>&1 || fail "probe failed"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector 2
capture_stop bad "$(collector_datagrams "$WORK/collector.stdout")" "udp.dstport == $port"

out="$WORK/collector.stdout"
for what in flows packets octets; do
	[ "$(summary_value "$out" "$what")" = "$(expected "$what")" ] || fail "$what after bad input"
done
grep -q "malformed_messages *9$" "$out" || fail "expected 9 malformed messages: $(cat "$out")"
grep -q "sets_unknown_template *1$" "$out" || fail "expected 1 set with an unknown template"
grep -q "templates_refused_length *4$" "$out" || fail "expected 4 templates refused for their field lengths"
grep -q "sets_refused_template *4$" "$out" || fail "expected 4 data sets of refused templates skipped"
grep -qx "dpfix-collector: data lost (exit status 2): sets_unknown_template 1, sets_refused_template 4" "$out" ||
	fail "the summary should name the sets not decoded as the loss: $(grep -v '^  ' "$out")"
[ "$(grep -c "template 30[0-3] at offset .* refused: field 0, .*, which its type .* forbids" "$WORK/collector.stderr")" = 1 ] ||
	fail "the refused templates are not reported once for their session: $(grep -i refused "$WORK/collector.stderr")"
grep -q "malformed message (reported once per session)" "$WORK/collector.stderr" ||
	fail "malformed input not reported"
[ "$(grep -c 'malformed message' "$WORK/collector.stderr")" -eq 1 ] || fail "reported more than once"

flagged=$(tshark -r "$WORK/bad.pcapng" -d "udp.port==$port,cflow" \
	-Y "_ws.malformed || _ws.expert.severity >= warning" -T fields -e frame.number | wc -l)
[ "$flagged" -ge 1 ] || fail "tshark flagged none of the malformed messages"
echo "collector_bad_input: ok (tshark flagged $flagged frames)"
