#!/usr/bin/env bash
# 1000 exporter sessions at once on one collector: 250 each over UDP, TCP, TLS/TCP and
# DTLS/UDP (pre-shared key), all open together (the collector's sessions_peak is 1000),
# then each sends 40 records and ends (TCP and TLS in order, the end confirmed):
#  - every session's records are all there, session by session (each exports its own
#    sourceIPv4Address), none missing by sequence number, none refused or evicted;
#  - the collector's memory per session (its peak resident memory over what it held
#    listening, by sessions) stays within the bound README and doc/decisions.md give.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_BUILD_ROOT:?}"
PER_TRANSPORT=${DPFIX_TEST_SESSIONS:-250}
RECORDS=40
# README (max_sessions) gives what each takes: UDP 12 KB, DTLS 22, TCP 27, TLS 55, all the
# memory allocated for it (meson test sets MALLOC_PERTURB_, which writes every byte
# malloc gives: resident memory then counts what was allocated, not only touched).
BOUND_KB=48
sessions=$((4 * PER_TRANSPORT))
# Under AddressSanitizer every allocation carries redzones and freed memory waits in a
# quarantine: a smaller quarantine, and a bound for its redzones.
# (grep reads all of ldd's output: with -q it stops at the first match, ldd dies of
# SIGPIPE on its next line, and pipefail took the build for one without ASan.)
if ldd "$DPFIX_COLLECTOR" | grep libasan >/dev/null; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8
	BOUND_KB=$((BOUND_KB * 3))
fi

printf 'many.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
pu=$(free_port) pt=$(free_port) ps=$(free_port) pd=$(free_port)
start_collector_at "udp://127.0.0.1:$pu" "$WORK/c" --listen "tcp://127.0.0.1:$pt" \
	--listen "tls+tcp://127.0.0.1:$ps" --listen "dtls+udp://127.0.0.1:$pd" \
	--psk-file "$WORK/psk" --quiet --json "$WORK/records.json" --first-message-timeout 0
wait_for_text "$WORK/c.stderr" "listening on dtls+udp" 10
base_kb=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$COLLECTOR_PID/status")

"$DPFIX_BUILD_ROOT/bench/bench_sessions" --records $RECORDS --psk many.example "$WORK/psk" \
	"udp://127.0.0.1:$pu=$PER_TRANSPORT" "tcp://127.0.0.1:$pt=$PER_TRANSPORT" \
	"tls+tcp://127.0.0.1:$ps=$PER_TRANSPORT" "dtls+udp://127.0.0.1:$pd=$PER_TRANSPORT" \
	>"$WORK/bench.out" 2>&1 || fail "bench_sessions: $(tail -5 "$WORK/bench.out")"
wait_for_records "$WORK/records.json" $((sessions * RECORDS))
peak_kb=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$COLLECTOR_PID/status")
stop_collector

# Every session's records, by its source address.
$PY - "$WORK/records.json" "$sessions" "$RECORDS" <<'PYEOF' || fail "records missing or extra"
import collections, json, sys
want_sessions, want = int(sys.argv[2]), int(sys.argv[3])
count = collections.Counter(json.loads(line)["sourceIPv4Address"] for line in open(sys.argv[1]))
expected = {f"10.0.{s >> 8}.{s & 255}" for s in range(want_sessions)}
bad = {a: n for a, n in count.items() if n != want or a not in expected}
missing = expected - set(count)
if bad or missing:
    print(f"sessions with other than {want} records: {list(bad.items())[:5]}; missing: {sorted(missing)[:5]}", file=sys.stderr)
    sys.exit(1)
PYEOF
for name in sessions_opened sessions_peak; do
	[ "$(counter "$WORK/c.stdout" $name)" = "$sessions" ] ||
		fail "$name $(counter "$WORK/c.stdout" $name), want $sessions"
done
for name in sequence_lost sessions_refused sessions_refused_full sessions_evicted socket_drops \
		queue_drops peer_drops; do
	[ "$(counter "$WORK/c.stdout" $name)" = 0 ] || fail "$name $(counter "$WORK/c.stdout" $name)"
done
per_session=$(((peak_kb - base_kb) / sessions))
[ "$per_session" -le "$BOUND_KB" ] ||
	fail "the collector took $((peak_kb - base_kb)) KB for $sessions sessions: $per_session KB each, over $BOUND_KB"
echo "collector_sessions: ok ($sessions sessions, $((sessions * RECORDS)) records; memory" \
	"$base_kb KB listening, $peak_kb KB at peak: $per_session KB a session;" \
	"$(cat "$WORK/bench.out"))"
