#!/usr/bin/env bash
# dpfix-collector --write: RFC 5655 files of what it receives, judged by libfixbuf's
# ipfixDump (no warning, exact record counts; it checks sequence numbers per domain) and
# read back by dpfix-dump with exactly the records of the collector's --json.
#  1. two probe runs over UDP into one file (config file keys): two sessions that both
#     use domain 1, so the second gets domain 2 in the file;
#  2. TCP, rotation by size, details: several files, each decodes alone, together
#     they hold every record; one Message Details record per message naming the
#     exporter, the collector and TCP, one Export Session Details record per file; the
#     session's template withdrawals are stored as ipfixDump accepts them;
#  3. rotation by time (1 s) across two probe runs;
#  4. SCTP: each message's Message Details name its stream;
#  5. a directory that cannot take files is refused at start;
#  6. TLS over TCP with a PSK: the Export Session Details name the exporter's
#     identity (an enterprise element, read by name with config/measures.elements);
#     plaintext ones (2) have none.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_DUMP:?}"
flows=$(expected flows)

probe_to() {
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$1" >"$WORK/probe.stdout" 2>&1 || fail "probe to $1 exited with $?: $(tail -5 "$WORK/probe.stdout")"
}

# 1. Two sessions, one file, options from a config file.
port=$(free_port)
cat >"$WORK/collector.conf" <<EOF
listen = udp://127.0.0.1:$port
write = $WORK/one.ipfix
json = $WORK/one.json
quiet = yes
EOF
"$DPFIX_COLLECTOR" --config "$WORK/collector.conf" >"$WORK/c1.stdout" 2>"$WORK/c1.stderr" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_for_text "$WORK/c1.stderr" "listening on" 10
probe_to "udp://127.0.0.1:$port"
sent=$(probe_records "$WORK/probe.stdout")
probe_to "udp://127.0.0.1:$port"
wait_for_records "$WORK/one.json" $((sent + $(probe_records "$WORK/probe.stdout")))
stop_collector
[ "$(summary_value "$WORK/c1.stdout" flows)" = $((2 * flows)) ] || fail "1: collector flows"
grep -qE "write_domains_renumbered +1$" "$WORK/c1.stdout" || fail "1: the second session keeps domain 1"
grep -qE "write_refused_malformed +0$" "$WORK/c1.stdout" || fail "1: messages refused"
# ipfixDump counts options records (the probe's RFC 7011 section 4 ones) as data records.
ipfix_dump_clean "$WORK/one.ipfix" $(($(counter "$WORK/c1.stdout" data_records) + \
	$(counter "$WORK/c1.stdout" options_records)))
[[ $IPFIXDUMP_STATS == *" $(counter "$WORK/c1.stdout" templates) Template Records"* ]] ||
	fail "1: template records: $IPFIXDUMP_STATS, the collector learned $(counter "$WORK/c1.stdout" templates)"
"$DPFIX_DUMP" --json "$WORK/one.ipfix" >"$WORK/one.dump.json" 2>"$WORK/one.dump.stderr" ||
	fail "1: dpfix-dump exited with $?: $(head -3 "$WORK/one.dump.stderr")"
cmp -s "$WORK/one.dump.json" "$WORK/one.json" || fail "1: dpfix-dump's records differ from the collector's"
"$DPFIX_DUMP" "$WORK/one.ipfix" >"$WORK/one.txt" 2>/dev/null || fail "1: dpfix-dump text"
grep -q "^message (.*domain 2, " "$WORK/one.txt" || fail "1: no domain 2 in the file"

# 2. TCP, rotation by size, Message Details.
port=$(free_port)
mkdir "$WORK/rot"
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c2" --quiet --json "$WORK/two.json" \
	--write "$WORK/rot/flows.ipfix" --write-rotate-size 4000 --write-details
probe_to "tcp://127.0.0.1:$port"
wait_for_close "$WORK/c2"
stop_collector
files=("$WORK"/rot/*)
[ "${#files[@]}" -ge 3 ] || fail "2: ${#files[@]} files with rotation at 4000 bytes"
[ "$(grep -E "write_files +" "$WORK/c2.stdout" | awk '{print $2}')" = "${#files[@]}" ] || fail "2: write_files"
messages=$(grep -E "write_messages +" "$WORK/c2.stdout" | awk '{print $2}')
: >"$WORK/two.dump.json"
total=0
for f in "${files[@]}"; do
	[[ "$(basename "$f")" =~ ^flows-[0-9]{8}T[0-9]{6}Z-[0-9]{4}\.ipfix$ ]] || fail "2: file name $f"
	# Each file alone: every data set has its template, and ipfixDump is content.
	"$DPFIX_DUMP" --json "$f" >>"$WORK/two.dump.json" 2>"$WORK/f.stderr" ||
		fail "2: dpfix-dump $f: $(head -3 "$WORK/f.stderr")"
	grep -qE "sets_unknown_template +0$" "$WORK/f.stderr" || fail "2: $f does not decode alone"
	n=$(counter "$WORK/f.stderr" data_records)
	ipfix_dump_clean "$f" $((n + $(counter "$WORK/f.stderr" options_records)))
	total=$((total + n))
done
[ "$total" -eq "$flows" ] || fail "2: $total data records in the files, want $flows"
grep -vE '"(message|session)Scope"' "$WORK/two.dump.json" | cmp -s - "$WORK/two.json" ||
	fail "2: the files' records differ from the collector's --json"
$PY - "$WORK/two.dump.json" "$port" "$messages" "${#files[@]}" <<'PYEOF' || fail "2: Message Details"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
details = [r for r in records if "messageScope" in r]
sessions = [r for r in records if "sessionScope" in r]
if len(details) != int(sys.argv[3]):
    sys.exit(f"{len(details)} Message Details records for {sys.argv[3]} messages")
# One Export Session Details record at the end of each file: the one TCP session.
if len(sessions) != int(sys.argv[4]):
    sys.exit(f"{len(sessions)} Export Session Details records in {sys.argv[4]} files")
for d in sessions:
    if d["minExportSeconds"] > d["maxExportSeconds"] or d["exportTransportProtocol"] != 6 or \
            d["collectorTransportPort"] != int(sys.argv[2]) or \
            any(k.startswith("32473:") for k in d):
        sys.exit(f"Export Session Details record {d}")
for d in details:
    want = {"messageScope": 0, "exporterIPv4Address": "127.0.0.1", "collectorIPv4Address": "127.0.0.1",
            "collectorTransportPort": int(sys.argv[2]), "exportTransportProtocol": 6,
            "exportProtocolVersion": 10}
    if any(d.get(k) != v for k, v in want.items()) or not 1024 <= d["exporterTransportPort"] <= 65535:
        sys.exit(f"Message Details record {d}")
print(f"{len(details)} Message Details and {len(sessions)} Export Session Details records")
PYEOF
grep -qE "write_withdrawals_expanded +[1-9]" "$WORK/c2.stdout" || fail "2: the withdrawals at the session's end"

# 3. Rotation by time: two runs more than a second apart make files of different seconds.
port=$(free_port)
mkdir "$WORK/time"
start_collector "$port" "$WORK/c3" --quiet --write "$WORK/time/t.ipfix" --write-rotate-interval 1 \
	--json "$WORK/three.json"
probe_to "udp://127.0.0.1:$port"
sent=$(probe_records "$WORK/probe.stdout")
sleep 1.2
probe_to "udp://127.0.0.1:$port"
wait_for_records "$WORK/three.json" $((sent + $(probe_records "$WORK/probe.stdout")))
stop_collector
files=("$WORK"/time/*)
[ "${#files[@]}" -ge 2 ] || fail "3: ${#files[@]} files with a 1 s interval across 2 runs"
total=0
for f in "${files[@]}"; do
	"$DPFIX_DUMP" --quiet "$f" 2>"$WORK/f.stderr" || fail "3: dpfix-dump $f: $(head -3 "$WORK/f.stderr")"
	n=$(counter "$WORK/f.stderr" data_records)
	ipfix_dump_clean "$f" $((n + $(counter "$WORK/f.stderr" options_records)))
	total=$((total + n))
done
[ "$total" -eq $((2 * flows)) ] || fail "3: $total data records in the files, want $((2 * flows))"

# 4. SCTP (over UDP, RFC 6951): the Message Details name the stream of each message,
#    0 for the templates, 1 for the data.
port=$(free_port)
sctp_udp=$(free_port)
start_collector_at "sctp://127.0.0.1:$port" "$WORK/c5" --quiet --json "$WORK/sctp.json" \
	--sctp-udp-port "$sctp_udp" --write "$WORK/sctp.ipfix" --write-details
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "sctp://127.0.0.1:$port" --sctp-udp-port "$sctp_udp" >"$WORK/probe.stdout" 2>&1 ||
	fail "4: probe over SCTP exited with $?: $(tail -5 "$WORK/probe.stdout")"
wait_for_close "$WORK/c5"
stop_collector
ipfix_dump_clean "$WORK/sctp.ipfix" $(($(counter "$WORK/c5.stdout" data_records) + \
	$(counter "$WORK/c5.stdout" options_records) + $(counter "$WORK/c5.stdout" write_messages) + \
	$(counter "$WORK/c5.stdout" write_session_details)))
"$DPFIX_DUMP" --json "$WORK/sctp.ipfix" >"$WORK/sctp.dump.json" 2>/dev/null || fail "4: dpfix-dump"
grep -vE '"(message|session)Scope"' "$WORK/sctp.dump.json" | cmp -s - "$WORK/sctp.json" ||
	fail "4: the file's records differ from the collector's --json"
$PY - "$WORK/sctp.dump.json" <<'PYEOF' || fail "4: Message Details over SCTP"
import json, sys
details = [r for r in map(json.loads, open(sys.argv[1])) if "messageScope" in r]
if {d["exportTransportProtocol"] for d in details} != {132}:
    sys.exit(f"transport {[d['exportTransportProtocol'] for d in details]}")
streams = sorted(d["exportSctpStreamId"] for d in details)
if streams[0] != 0 or streams[-1] != 1 or set(streams) != {0, 1}:
    sys.exit(f"streams {streams}: want templates on 0 and data on 1")
print(f"SCTP streams of the stored messages: {streams}")
PYEOF

# 5. Refused at start, with the reason.
rc=0
"$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$port" --write /nonexistent-dir/x.ipfix \
	>/dev/null 2>"$WORK/c4.stderr" || rc=$?
[ "$rc" -eq 1 ] || fail "5: exit status $rc for an impossible --write"
grep -q "cannot create files in /nonexistent-dir: No such file or directory" "$WORK/c4.stderr" ||
	fail "5: $(cat "$WORK/c4.stderr")"
# 6. PSK over TLS: who the exporter proved to be, in its Export Session Details.
port=$(free_port)
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
start_collector_at "tls+tcp://127.0.0.1:$port" "$WORK/c6" --quiet --psk-file "$WORK/psk" \
	--write "$WORK/tls.ipfix" --write-details
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "tls+tcp://127.0.0.1:$port" --psk-identity probe1.example --psk-file "$WORK/psk" \
	>"$WORK/probe.stdout" 2>&1 || fail "6: probe over TLS exited with $?: $(tail -5 "$WORK/probe.stdout")"
wait_for_close "$WORK/c6"
stop_collector
ipfix_dump_clean "$WORK/tls.ipfix" $(($(counter "$WORK/c6.stdout" data_records) + \
	$(counter "$WORK/c6.stdout" options_records) + $(counter "$WORK/c6.stdout" write_messages) + \
	$(counter "$WORK/c6.stdout" write_session_details)))
"$DPFIX_DUMP" --json --elements "$DPFIX_SOURCE_ROOT/config/measures.elements" "$WORK/tls.ipfix" \
	>"$WORK/tls.dump.json" 2>/dev/null || fail "6: dpfix-dump"
$PY - "$WORK/tls.dump.json" <<'PYEOF' || fail "6: the exporter's identity in the Export Session Details"
import json, sys
sessions = [r for r in map(json.loads, open(sys.argv[1])) if "sessionScope" in r]
if len(sessions) != 1 or sessions[0].get("exporterIdentity") != "probe1.example":
    sys.exit(f"Export Session Details {sessions}")
print(f"Export Session Details of the TLS session: {sessions[0]}")
PYEOF

echo "collector_write: ok (${#files[@]} files by time, rotation by size and details checked)"
