#!/usr/bin/env bash
# Failover between collectors (collector_mode failover, issue 12): the probe exports to
# the primary (the first collector); frozen (SIGSTOP: sockets open, no reset), it is
# found dead by its unanswered heartbeats and export goes on to the backup, which gets
# decodable records; woken (SIGCONT), export goes back to it by a hand-off. Killed, it
# goes on to the backup again, which gets
# decodable records with their templates; once the primary is back, a planned hand-off
# (failback_interval 1 s) takes export back to it without a stall, and the backup's
# session ends in order. Then SIGHUP gives a list with one other collector that is not up
# yet: export stays where it is, the new one is tried every failback_interval, and once
# it is up export moves to it. Over tls+tcp with a pre-shared key, endless input.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki
CARGS="--psk-file $K/collector.psk"

primary=$(free_port)
backup=$(free_port)
# collector NAME PORT: a tls+tcp collector writing NAME.json; its pid in NAME_PID.
collector() {
	# shellcheck disable=SC2086
	start_collector_at "tls+tcp://127.0.0.1:$2" "$WORK/$1" $CARGS --json "$WORK/$1.json"
	eval "${1}_PID=$COLLECTOR_PID"
}
collector a1 "$primary"
collector b "$backup"
printf 'collector = tls+tcp://127.0.0.1:%s\ncollector = tls+tcp://127.0.0.1:%s\n' "$primary" "$backup" \
	>"$WORK/probe.conf"
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--config "$WORK/probe.conf" --psk-identity probe1.example --psk-file "$K/probe.psk" --packet-timestamps no \
	--idle-timeout 0.2 --active-timeout 0.2 --failback-interval 1 --stats-interval 0 \
	>"$WORK/probe" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_flows "$WORK/a1.json" 1
# The primary freezes: found dead (3 heartbeats of 1 s unanswered), export on the backup.
kill -STOP "$a1_PID"
wait_for_text "$WORK/probe" "export: collector tls+tcp 127.0.0.1:$primary .* is dead" 10
wait_for_text "$WORK/probe" "export: failed over to collector 2 of 2" 10
wait_for_flows "$WORK/b.json" 1
# Woken, it answers again: export back on it.
kill -CONT "$a1_PID"
wait_for_text "$WORK/probe" "export: back on the primary collector" 20
frozen_b=$(flow_lines "$WORK/b.json")
wait_for_text "$WORK/b.stderr" "closed by the exporter" 20
after=$(flow_lines "$WORK/a1.json")
wait_for_flows "$WORK/a1.json" $((after + 1))
# The primary dies: export goes on to the backup.
kill -KILL "$a1_PID"
wait "$a1_PID" 2>/dev/null || true
for _ in $(seq 200); do
	[ "$(grep -c "export: failed over to collector 2 of 2" "$WORK/probe")" = 2 ] && break
	sleep 0.1
done
[ "$(grep -c "export: failed over to collector 2 of 2" "$WORK/probe")" = 2 ] ||
	fail "no second failover: $(grep -a "export:" "$WORK/probe")"
wait_for_flows "$WORK/b.json" $((frozen_b + 1))
[ "$(grep -c "new session from" "$WORK/b.stderr")" = 2 ] || fail "the backup should have two sessions"
grep -q "does not answer yet" "$WORK/probe" || sleep 1.5 # a failback tried while it is away
# The primary is back: export returns to it.
collector a2 "$primary"
wait_for_text "$WORK/probe" "export: back on the primary collector" 20
wait_for_flows "$WORK/a2.json" 1
wait_for_text "$WORK/b.stderr" "closed by the exporter" 20   # the backup's end, in order
# A new list whose one collector is not up yet: export stays on a2 until it is.
third=$(free_port)
echo "collector = tls+tcp://127.0.0.1:$third" >"$WORK/probe.conf"
kill -HUP "$probe"
wait_for_text "$WORK/probe" "applied: collectors (1; export moves from tls+tcp://127.0.0.1:$primary to tls+tcp://127.0.0.1:$third by a hand-off)" 10
wait_for_text "$WORK/probe" "the primary collector does not answer yet" 10
collector c "$third"
wait_for_text "$WORK/probe" "export: on the primary collector of the new list, tls+tcp 127.0.0.1:$third" 20
wait_for_flows "$WORK/c.json" 1
wait_for_text "$WORK/a2.stderr" "closed by the exporter" 20
kill -INT "$probe"
rc=0
timeout 30 tail --pid="$probe" -f /dev/null || fail "probe did not stop"
wait "$probe" || rc=$?
# The killed primary's last records are the only ones in doubt (no end to confirm them).
[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "probe exited with $rc: $(grep -av '^  ' "$WORK/probe" | tail -5)"
wait_for_close "$WORK/c"
COLLECTOR_PID=$b_PID; stop_collector
COLLECTOR_PID=$a2_PID; stop_collector
COLLECTOR_PID=$c_PID; stop_collector
[ "$(counter "$WORK/probe" failovers)" = 5 ] || fail "failovers $(counter "$WORK/probe" failovers), want 5"
[ "$(counter "$WORK/probe" collectors_dead)" = 1 ] || fail "collectors_dead $(counter "$WORK/probe" collectors_dead), want 1"
for c in b a2 c; do
	[ "$(summary_value "$WORK/$c.stdout" flows)" -gt 0 ] || fail "$c: no flows"
	[ "$(counter "$WORK/$c.stdout" malformed_messages)" = 0 ] || fail "$c: malformed messages"
	grep -q "^  templates *[1-9]" "$WORK/$c.stdout" || fail "$c: no templates"
	grep -q "sequence_lost *0$" "$WORK/$c.stdout" || fail "$c: sequence loss: $(grep sequence_ "$WORK/$c.stdout")"
done
[ "$(counter "$WORK/probe" records_lost)" = 0 ] || fail "records_lost $(counter "$WORK/probe" records_lost)"
echo "probe_failover: ok (backup $(summary_value "$WORK/b.stdout" flows) records, primary again $(summary_value "$WORK/a2.stdout" flows), new list $(summary_value "$WORK/c.stdout" flows), exit $rc)"
