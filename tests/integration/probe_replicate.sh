#!/usr/bin/env bash
# collector_mode replicate (issue 12): every record to every collector, each over its own
# session. 1. The bundled capture to a dtls+udp and a tls+tcp collector (a pre-shared
# key): both get every flow exactly once with its packets and octets, and the probe exits
# 0; again with the tls+tcp collector started only once the probe has said it took no
# session: its records wait in its backlog for its first session, it gets every flow
# exactly too, and the exit status is 0. 2. Endless input to those two and a plain tcp:// one; the tls+tcp collector freezes
# (SIGSTOP: found dead by its heartbeats; its kernel still accepts TCP, so its
# reconnection's handshake hangs for connect_timeout, 5 s) and the tcp:// one becomes a
# black hole (its session closed, then SYNs dropped unanswered: the reconnection's
# connect hangs 5 s). The dtls+udp collector's export goes on all along, over its one
# session: its records_exported grows while both reconnections are pending (with a
# blocking open on the control lcore, which with two lcores does the export too, it
# stood still: the handshake before the open went in steps, the TCP connect before it
# waited in tcp_connect). The frozen one's backlog (64 KiB) overflows, said once.
# Stopped (SIGINT), the probe's metered packets are all at the live collector, each
# other one's loss is counted and named for it alone, and the exit status is 2.
source "$(dirname "$0")/lib.sh"

printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
SEC=(--psk-file "$WORK/psk")
PROBE_SEC=(--psk-file "$WORK/psk" --psk-identity probe1.example)

# lane_records FILE N: the records (flows and options) the probe's summary says it
# exported to collector N.
lane_records() {
	echo $(($(counter "$1" "collector_$2_records_exported") + $(counter "$1" "collector_$2_options_records")))
}

# collectors TAG: a dtls+udp one (TAG-u) and a tls+tcp one (TAG-t); their pids in
# U_PID and T_PID, their URLs in U_URL and T_URL.
collectors() {
	U_URL="dtls+udp://127.0.0.1:$(free_port)"
	T_URL="tls+tcp://127.0.0.1:$(free_port)"
	start_collector_at "$U_URL" "$WORK/$1-u" "${SEC[@]}" --quiet --json "$WORK/$1-u.json"
	U_PID=$COLLECTOR_PID
	start_collector_at "$T_URL" "$WORK/$1-t" "${SEC[@]}" --quiet --json "$WORK/$1-t.json"
	T_PID=$COLLECTOR_PID
}

# ---- 1. both get every record exactly ----
collectors exact
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "$U_URL" --collector "$T_URL" --collector-mode replicate "${PROBE_SEC[@]}" \
	--stats-interval 0 --stats-json "$WORK/exact-stats.json" >"$WORK/exact.probe" 2>&1 ||
	fail "probe exited with $?: $(grep -av '^  ' "$WORK/exact.probe" | tail -5)"
wait_for_records "$WORK/exact-u.json" "$(lane_records "$WORK/exact.probe" 1)"
wait_for_close "$WORK/exact-t"
wait_for_records "$WORK/exact-t.json" "$(lane_records "$WORK/exact.probe" 2)"
COLLECTOR_PID=$U_PID stop_collector
COLLECTOR_PID=$T_PID stop_collector
for c in u t; do
	for what in flows packets octets; do
		[ "$(summary_value "$WORK/exact-$c.stdout" "$what")" = "$(expected "$what")" ] ||
			fail "$c: $what $(summary_value "$WORK/exact-$c.stdout" "$what"), want $(expected "$what")"
	done
	grep -q "sequence_lost *0$" "$WORK/exact-$c.stdout" || fail "$c: sequence loss"
	$PY "$DPFIX_SOURCE_ROOT/tests/integration/flows_exact.py" "$WORK/exact-$c.json" "$SAMPLE_EXPECTED" ||
		fail "$c: per-flow comparison"
done
$PY - "$WORK/exact-stats.json" "$U_URL" "$T_URL" "$(expected flows)" <<'PYEOF' || fail "stats-json collectors"
import json, sys
st = json.load(open(sys.argv[1]))
lanes = st["collectors"]
assert [c["url"] for c in lanes] == sys.argv[2:4], lanes
for c in lanes:
    assert c["records_exported"] == int(sys.argv[4]), c
    assert c["records_lost"] == 0 and c["backlog_lost"] == 0, c
assert st["exporter"]["records_exported"] == 2 * int(sys.argv[4]), st["exporter"]
PYEOF

# ---- 1b. one is not up at start: its records wait in its backlog, none is lost ----
U_URL="dtls+udp://127.0.0.1:$(free_port)"
T_URL="tls+tcp://127.0.0.1:$(free_port)"
start_collector_at "$U_URL" "$WORK/late-u" "${SEC[@]}" --quiet --json "$WORK/late-u.json"
U_PID=$COLLECTOR_PID
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "$U_URL" --collector "$T_URL" --collector-mode replicate "${PROBE_SEC[@]}" \
	--stats-interval 0 >"$WORK/late.probe" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_text "$WORK/late.probe" "collector 2 of 2 ($T_URL) took no session at start" 10
start_collector_at "$T_URL" "$WORK/late-t" "${SEC[@]}" --quiet --json "$WORK/late-t.json"
T_PID=$COLLECTOR_PID
rc=0
wait "$probe" || rc=$?
[ "$rc" = 0 ] || fail "late: probe exited with $rc: $(grep -av '^  ' "$WORK/late.probe" | tail -5)"
wait_for_records "$WORK/late-u.json" "$(lane_records "$WORK/late.probe" 1)"
wait_for_close "$WORK/late-t"
wait_for_records "$WORK/late-t.json" "$(lane_records "$WORK/late.probe" 2)"
COLLECTOR_PID=$U_PID stop_collector
COLLECTOR_PID=$T_PID stop_collector
for c in u t; do
	$PY "$DPFIX_SOURCE_ROOT/tests/integration/flows_exact.py" "$WORK/late-$c.json" "$SAMPLE_EXPECTED" ||
		fail "late $c: per-flow comparison"
done
[ "$(counter "$WORK/late.probe" collector_2_connect_failures)" -ge 1 ] || fail "late: no failed attempt counted"
[ "$(counter "$WORK/late.probe" records_lost)" = 0 ] || fail "late: records lost"

# ---- 2. one freezes, one becomes unreachable: the other gets everything, no stall ----
collectors frozen
# A plain tcp:// collector that takes the session (and reads nothing), until
# $WORK/hole.go appears: then it closes it and listens again on the same port with its
# accept queue full, so that the kernel drops every new SYN unanswered, as for a host
# that is gone: a connect waits connect_timeout.
H_PORT=$(free_port)
$PY - "$H_PORT" "$WORK/hole.go" >"$WORK/hole.out" 2>&1 <<'PYEOF' &
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
def listener(backlog):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port))
    l.listen(backlog)
    return l
l = listener(8)
print("listening", flush=True)
l.settimeout(0.05)
held = []
while not os.path.exists(go):
    try:
        held.append(l.accept()[0])
    except socket.timeout:
        pass
for c in held + [l]:
    c.close()
l = listener(0)
fill = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
print("black hole", flush=True)
time.sleep(600)
PYEOF
PIDS+=("$!")
wait_for_text "$WORK/hole.out" listening 10
H_URL="tcp://127.0.0.1:$H_PORT"
prefix=dpfix-test-$$
LOOKS=
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--collector "$U_URL" --collector "$T_URL" --collector "$H_URL" --collector-mode replicate \
	"${PROBE_SEC[@]}" \
	--packet-timestamps no --idle-timeout 0.2 --active-timeout 0.2 --stats-interval 0 \
	--replicate-backlog 65536 >"$WORK/frozen.probe" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_flows "$WORK/frozen-u.json" 1
wait_for_flows "$WORK/frozen-t.json" 1
wait_for_telemetry "$prefix" /dpfix/collector,2 "c['records_exported'] > 0" True 20
kill -STOP "$T_PID"
wait_for_text "$WORK/frozen.probe" "export: collector tls+tcp 127.0.0.1:${T_URL##*:} .* is dead" 15
# look_while TEXT WHAT: collector 1's records_exported twice, 1.5 s apart (one telemetry
# connection, so the look takes no longer), while the reconnection to WHAT, which ends
# by saying TEXT, is under way: it must grow.
look_while() {
	local looked
	looked=$($PY - "/var/run/dpdk/$prefix/dpdk_telemetry.v2" <<'PYEOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
def records():
    s.send(b"/dpfix/collector,0")
    return json.loads(s.recv(65536))["/dpfix/collector"]["records_exported"]
r1 = records()
time.sleep(1.5)
print(r1, records())
PYEOF
) || fail "telemetry: $looked"
	! grep -q "$1" "$WORK/frozen.probe" ||
		fail "the reconnection to $2 ended before the second look; the test proves nothing"
	set -- "$2" $looked
	[ "$3" -gt "$2" ] || fail "collector 1's export stood still ($2 then $3 records) while $1 reconnected"
	LOOKS="$LOOKS $2 -> $3 ($1);"
}
# Its reconnection's handshake (0.5 s on, for 5 s): collector 1's export goes on.
sleep 0.6
look_while "no (D)TLS handshake within" "the frozen collector"
# The plain one becomes a black hole: its reconnection's connect (0.5 s on, for 5 s).
touch "$WORK/hole.go"
wait_for_text "$WORK/hole.out" "black hole" 10
wait_for_text "$WORK/frozen.probe" "export: session tcp 127.0.0.1:$H_PORT.* is down" 10
sleep 0.6
look_while "no answer within" "the black hole"
wait_for_text "$WORK/frozen.probe" "no (D)TLS handshake within" 15
wait_for_text "$WORK/frozen.probe" "reconnect failed: collector $H_URL: no answer within 5000 ms" 15
kill -INT "$probe"
rc=0
timeout 40 tail --pid="$probe" -f /dev/null || fail "probe did not stop"
wait "$probe" || rc=$?
p=$WORK/frozen.probe
wait_for_records "$WORK/frozen-u.json" "$(lane_records "$p" 1)"
COLLECTOR_PID=$U_PID stop_collector
metered=$(counter "$p" metered_packets)
[ "$(summary_value "$WORK/frozen-u.stdout" packets)" = "$metered" ] ||
	fail "collector 1 got $(summary_value "$WORK/frozen-u.stdout" packets) packets, the probe metered $metered"
[ "$(counter "$p" collector_1_records_lost)" = 0 ] || fail "collector 1 lost records"
[ "$(counter "$p" collector_1_collectors_dead)" = 0 ] || fail "collector 1 found dead"
[ "$(grep -c "new session from" "$WORK/frozen-u.stderr")" = 1 ] || fail "collector 1 had more than one session"
[ "$(counter "$p" collector_2_collectors_dead)" = 1 ] || fail "collector 2 not found dead once"
# No lane's data waited for room in its transport (hold_when_full: a full one holds its
# message, the records behind it wait in its backlog). This run does not fill the frozen
# collector's 4 MB TCP buffer before it is found dead; unit_export's test_held_when_full
# does, and shows the wait it replaces (14.9 s for 4 MB, 137149 records lost).
for n in 1 2 3; do
	[ "$(counter "$p" "collector_${n}_send_wait_ms")" = 0 ] ||
		fail "collector $n's export waited $(counter "$p" "collector_${n}_send_wait_ms") ms for room"
done
lost=$(counter "$p" collector_2_records_lost)
[ "$lost" -gt 0 ] || fail "collector 2's loss not counted"
backlog_lost=$(counter "$p" collector_2_backlog_lost)
[ "$backlog_lost" -gt 0 ] || fail "collector 2's backlog (64 KiB) did not overflow"
[ "$(grep -c "export: collector 2 ($T_URL): its backlog of [0-9]* records is full" "$p")" = 1 ] ||
	fail "the overflow of collector 2's backlog should be said once"
grep -q "dpfix-probe: collector 2 ($T_URL): $lost records lost ($backlog_lost for its full backlog)" "$p" ||
	fail "collector 2's loss not named"
! grep -q "dpfix-probe: collector 1 (" "$p" || fail "collector 1 named with a loss"
[ "$(counter "$p" collector_3_connect_failures)" -ge 1 ] || fail "collector 3's connect failure not counted"
lost3=$(counter "$p" collector_3_records_lost)
[ "$lost3" -gt 0 ] || fail "collector 3's loss not counted"
grep -q "dpfix-probe: collector 3 ($H_URL): $lost3 records lost" "$p" || fail "collector 3's loss not named"
[ "$(counter "$p" records_lost)" = $((lost + lost3)) ] || fail "records_lost is not collectors 2's and 3's"
[ "$rc" = 2 ] || fail "probe exited with $rc, want 2 (collector 2's loss)"
echo "probe_replicate: ok (exact: $(expected flows) flows at each, exit 0; frozen: collector 1 $metered" \
	"packets, records_exported$LOOKS collector 2 lost $lost," \
	"$backlog_lost of them for its full backlog; collector 3 lost $lost3; exit 2)"
