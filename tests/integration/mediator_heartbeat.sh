#!/usr/bin/env bash
# The Mediator's outbound side watches and rolls its sessions as the probe does (issue
# 13, "heartbeats and hand-off behave as the probe's"), through the same library calls:
# - a collector frozen with SIGSTOP (sockets open, no reset, no ICMP) is found dead by
#   the Mediator's unanswered heartbeats within heartbeat_interval x heartbeat_misses +
#   1 s of the freeze, said in one line with "dead", counted (collectors_dead), and
#   export resumes on a new session after the thaw;
# - with session_lifetime 2 the Mediator hands each collector over to a new session
#   every 2 s (the old one ends in order) while the probe exports without pause, and
#   the collector holds every record the Mediator passed on.
# Over tls+tcp and dtls+udp (and the frozen collector over plain sctp://, found by SCTP's
# own heartbeats), the probe feeding the Mediator over udp.
source "$(dirname "$0")/lib.sh"

printf 'mediator.example:0f0e0d0c0b0a09080706050403020100\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
INTERVAL=1
MISSES=3

# run_mediator TAG SCHEME CPORT [MEDIATOR ARGS]: the probe (endless input) -> udp ->
# the Mediator -> SCHEME -> the collector (started before); the Mediator's stderr
# stamped with the wall clock.
run_mediator() {
	local tag=$1 scheme=$2 cport=$3 mport
	shift 3
	mport=$(free_port)
	"$DPFIX_MEDIATOR" --listen "udp://127.0.0.1:$mport" --collector "$scheme://127.0.0.1:$cport" \
		--psk-file "$WORK/psk" --psk-identity mediator.example "$@" \
		>"$WORK/$tag.m.stdout" 2> >(stamp_lines "$WORK/$tag.m.stderr") &
	MEDIATOR_PID=$!
	PIDS+=("$MEDIATOR_PID")
	wait_for_text "$WORK/$tag.m.stderr" "listening on" 20
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "udp://127.0.0.1:$mport" --stats-interval 0 --active-timeout 1 \
		--idle-timeout 1 >"$WORK/$tag.p" 2>&1 &
	PROBE_PID=$!
	PIDS+=("$PROBE_PID")
	wait_for_text "$WORK/$tag.m.stderr" "new session" 20
}

stop_probe() {
	kill -INT "$PROBE_PID"
	timeout 30 tail --pid="$PROBE_PID" -f /dev/null || fail "probe did not stop"
	wait "$PROBE_PID" || fail "probe exited with $?: $(grep -v '^ ' "$WORK/$1.p" | tail -3)"
}

# The Mediator's per-collector counter NAME (its summary's last).
med_counter() {
	counter "$WORK/$1.m.stdout" "$2"
}

frozen() {
	local scheme=$1 tag=frozen_${1/+/_} cport t0 t1 sargs=()
	cport=$(free_port)
	start_collector_at "$scheme://127.0.0.1:$cport" "$WORK/$tag.c" --quiet --psk-file "$WORK/psk"
	run_mediator "$tag" "$scheme" "$cport"
	# Records and heartbeats flow a while (a heartbeat a second from the session's start).
	sleep 2
	kill -STOP "$COLLECTOR_PID"
	t0=$EPOCHREALTIME
	wait_for_text "$WORK/$tag.m.stderr" "is dead" 15
	t1=$(grep -a "is dead" "$WORK/$tag.m.stderr" | head -1 | cut -d' ' -f1)
	kill -CONT "$COLLECTOR_PID"
	$PY - "$t0" "$t1" "$INTERVAL" "$MISSES" "$scheme" <<'PYEOF' || fail "$scheme: detection out of bounds"
import sys
t0, t1, interval, misses = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
took = t1 - t0
print(f"{sys.argv[5]}: frozen collector found dead by the Mediator after {took:.3f} s", file=sys.stderr)
if took < (misses - 0.5) * interval - 0.05 or took > misses * interval + 1:
    sys.exit(f"found dead {took:.3f} s after the freeze, want {(misses - 0.5) * interval:.1f}"
             f" to {misses * interval + 1:.1f} s")
PYEOF
	wait_for_text "$WORK/$tag.m.stderr" "resumed on" 30
	grep -aq "collector $scheme://127.0.0.1:$cport: $scheme 127.0.0.1:$cport .* is dead: $MISSES heartbeats in a row unanswered" \
		"$WORK/$tag.m.stderr" || fail "$scheme: the dead line: $(grep -a dead "$WORK/$tag.m.stderr")"
	[ "$(grep -ac "dead" "$WORK/$tag.m.stderr")" = 1 ] ||
		fail "$scheme: 'dead' said more than once: $(grep -a dead "$WORK/$tag.m.stderr")"
	stop_probe "$tag"
	stop_mediator 0
	stop_collector
	[ "$(med_counter "$tag" collectors_dead)" = 1 ] ||
		fail "$scheme: collectors_dead $(med_counter "$tag" collectors_dead), want 1"
	[ "$(med_counter "$tag" heartbeats_answered)" -ge 2 ] ||
		fail "$scheme: heartbeats_answered $(med_counter "$tag" heartbeats_answered)"
	echo "ok $scheme: the Mediator found its frozen collector dead in one line, counted, resumed after the thaw"
}

# frozen_sctp: over plain sctp:// no dpfix heartbeats can be agreed (they need (D)TLS);
# SCTP's own, which follow heartbeat_interval and heartbeat_misses, lose the association
# with the frozen collector, and the Mediator says and counts that as the heartbeats'
# verdict ("is dead", collectors_dead), as the probe does (before: only "is down", 0).
frozen_sctp() {
	local tag=frozen_sctp cport sport rc=0
	cport=$(free_port)
	sport=$(free_port)
	start_collector_at "sctp://127.0.0.1:$cport" "$WORK/$tag.c" --quiet --sctp-udp-port "$sport"
	run_mediator "$tag" sctp "$cport" --sctp-udp-port "$sport"
	sleep 2
	kill -STOP "$COLLECTOR_PID"
	wait_for_text "$WORK/$tag.m.stderr" "is dead" 15
	kill -CONT "$COLLECTOR_PID"
	grep -aq "collector sctp://127.0.0.1:$cport: .* is dead: SCTP's own heartbeats or retransmissions went unanswered $MISSES times in a row, nothing heard for" \
		"$WORK/$tag.m.stderr" || fail "sctp: the dead line: $(grep -a dead "$WORK/$tag.m.stderr")"
	[ "$(grep -ac "dead" "$WORK/$tag.m.stderr")" = 1 ] ||
		fail "sctp: 'dead' said more than once: $(grep -a dead "$WORK/$tag.m.stderr")"
	wait_for_text "$WORK/$tag.m.stderr" "resumed on" 30
	stop_probe "$tag"
	# Plain SCTP confirms nothing end to end: what the frozen collector's stack had not
	# acknowledged when the association was lost is counted unconfirmed, which is data
	# lost to the exit status (2) when there was any.
	kill -TERM "$MEDIATOR_PID"
	wait "$MEDIATOR_PID" || rc=$?
	[ "$rc" = "$(if [ "$(med_counter "$tag" records_unconfirmed)" = 0 ]; then echo 0; else echo 2; fi)" ] ||
		fail "sctp: the Mediator exited with $rc: $(grep -a 'exit status' "$WORK/$tag.m.stdout")"
	stop_collector
	[ "$(med_counter "$tag" collectors_dead)" = 1 ] ||
		fail "sctp: collectors_dead $(med_counter "$tag" collectors_dead), want 1"
	echo "ok sctp: SCTP's own heartbeats found the frozen collector dead: said in one line, counted, resumed after the thaw"
}

rolled() {
	local scheme=$1 tag=rolled_${1/+/_} cport out got
	cport=$(free_port)
	start_collector_at "$scheme://127.0.0.1:$cport" "$WORK/$tag.c" --quiet --psk-file "$WORK/psk"
	run_mediator "$tag" "$scheme" "$cport" --session-lifetime 2
	wait_for_text "$WORK/$tag.m.stderr" "handed over to" 20
	# Two hand-offs at least under a steady stream.
	for _ in $(seq 200); do
		[ "$(grep -ac "handed over to" "$WORK/$tag.m.stderr")" -ge 2 ] && break
		sleep 0.05
	done
	stop_probe "$tag"
	stop_mediator 0
	stop_collector
	[ "$(med_counter "$tag" hand_offs)" -ge 2 ] || fail "$scheme: hand_offs $(med_counter "$tag" hand_offs), want 2 or more"
	[ "$(med_counter "$tag" collectors_dead)" = 0 ] || fail "$scheme: a collector found dead across hand-offs"
	out=$(counter "$WORK/$tag.m.stdout" records_out)
	[ "$out" = "$(counter "$WORK/$tag.m.stdout" records_in)" ] || fail "$scheme: records_in and records_out differ"
	got=$(summary_value "$WORK/$tag.c.stdout" flows)
	[ "$out" -gt 0 ] && [ "$got" = "$out" ] ||
		fail "$scheme: the Mediator passed on $out records, the collector holds $got"
	[ "$(counter "$WORK/$tag.m.stdout" records_unconfirmed)" = 0 ] || fail "$scheme: records unconfirmed"
	grep -q "sequence_lost *0$" "$WORK/$tag.c.stdout" || fail "$scheme: sequence loss at the collector"
	echo "ok $scheme: session_lifetime 2: $(med_counter "$tag" hand_offs) hand-offs, $got of $out records at the collector"
}

frozen tls+tcp
frozen dtls+udp
frozen_sctp
rolled tls+tcp
rolled dtls+udp
