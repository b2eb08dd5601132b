#!/usr/bin/env bash
# collector_mode replicate (issue 12): every record to every collector, each over its own
# session (here dtls+udp and tls+tcp, a pre-shared key). 1. The bundled capture: both
# collectors get every flow exactly once with its packets and octets, and the probe
# exits 0. 2. Endless input; the tls+tcp collector freezes (SIGSTOP): it is found dead
# by its heartbeats and its reconnection's handshake hangs for connect_timeout (5 s: its
# kernel still accepts the TCP connection), while the dtls+udp collector's export goes
# on all along (its records_exported grows while that handshake is pending: with a
# blocking open on the control lcore, which with two lcores does the export too, it
# stood still) with its one session; the frozen one's backlog (64 KiB) overflows, said
# once. Stopped (SIGINT), the probe's metered packets are all at the live collector, the
# frozen one's loss is counted and named for it alone, and the exit status is 2.
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

# ---- 2. one freezes: the other gets everything, without a stall ----
collectors frozen
prefix=dpfix-test-$$
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--collector "$U_URL" --collector "$T_URL" --collector-mode replicate "${PROBE_SEC[@]}" \
	--packet-timestamps no --idle-timeout 0.2 --active-timeout 0.2 --stats-interval 0 \
	--replicate-backlog 65536 >"$WORK/frozen.probe" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_flows "$WORK/frozen-u.json" 1
wait_for_flows "$WORK/frozen-t.json" 1
kill -STOP "$T_PID"
wait_for_text "$WORK/frozen.probe" "export: collector tls+tcp 127.0.0.1:${T_URL##*:} .* is dead" 15
# Its reconnection's handshake is under way (it fails after 5 s): collector 1's export
# goes on meanwhile.
r1=$(telemetry_value "$prefix" /dpfix/collector,0 records_exported)
sleep 2
r2=$(telemetry_value "$prefix" /dpfix/collector,0 records_exported)
grep -q "no (D)TLS handshake within" "$WORK/frozen.probe" &&
	fail "the handshake to the frozen collector ended before the second look; the test proves nothing"
[ "$r2" -gt "$r1" ] || fail "collector 1's export stood still ($r1 then $r2 records) while collector 2 reconnected"
wait_for_text "$WORK/frozen.probe" "no (D)TLS handshake within" 15
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
lost=$(counter "$p" collector_2_records_lost)
[ "$lost" -gt 0 ] || fail "collector 2's loss not counted"
backlog_lost=$(counter "$p" collector_2_backlog_lost)
[ "$backlog_lost" -gt 0 ] || fail "collector 2's backlog (64 KiB) did not overflow"
[ "$(grep -c "export: collector 2 ($T_URL): its backlog of [0-9]* records is full" "$p")" = 1 ] ||
	fail "the overflow of collector 2's backlog should be said once"
grep -q "dpfix-probe: collector 2 ($T_URL): $lost records lost ($backlog_lost for its full backlog)" "$p" ||
	fail "collector 2's loss not named"
! grep -q "dpfix-probe: collector 1 (" "$p" || fail "collector 1 named with a loss"
[ "$(counter "$p" records_lost)" = "$lost" ] || fail "records_lost is not collector 2's"
[ "$rc" = 2 ] || fail "probe exited with $rc, want 2 (collector 2's loss)"
echo "probe_replicate: ok (exact: $(expected flows) flows at each, exit 0; frozen: collector 1 $metered" \
	"packets, records_exported $r1 -> $r2 during collector 2's handshake; collector 2 lost $lost," \
	"$backlog_lost of them for its full backlog, exit 2)"
