#!/usr/bin/env bash
# The collector goes away in the middle of an export and comes back: the probe notices
# (FIN, SCTP SHUTDOWN, close_notify), holds records in its rings instead of losing them,
# reconnects with backoff from the control lcore, resends templates, and delivers every
# flow to the new collector. Over tcp, tls+tcp and sctp; and for SCTP also a collector
# killed without a word: restarted at once (its stack ABORTs the stale association) over
# dtls+sctp, and gone for good until the probe's heartbeats give the association up, over
# sctp.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki

# story TAG: what the probe said of its sessions, its loss counters, and what each
# collector said of them, for a failure's message (a loss seen once under load must say
# where it happened: a send, a give-up, the end).
story() {
	local p=$WORK/$1.probe
	echo
	grep -a "dpfix-probe: export" "$p" || true
	for c in records_enqueued records_exported records_lost records_unconfirmed send_failures \
			sessions_unconfirmed reconnects; do
		printf '%s %s; ' "$c" "$(counter "$p" "$c")"
	done
	echo
	grep -ah "session\\|missing\\|warning" "$WORK/$1.first.stderr" "$WORK/$1.second.stderr" 2>/dev/null || true
	grep -ah "data lost" "$WORK/$1.first.stdout" "$WORK/$1.second.stdout" 2>/dev/null || true
}

# reconnect SCHEME HOW COLLECTOR_ARGS PROBE_ARGS; HOW: stop (SIGTERM, orderly), kill
# (SIGKILL, back 1 s later), vanish (SIGKILL, back only once the probe said it is dead
# or down),
# stop_filling (stop, once flow records wait in a message being filled: FEW_FLOWS, see
# below) or freeze_kill
# (SIGSTOP before the first records, SIGKILL once some went into it, back at once: the
# records SCTP gives back go again on the new session, records_replayed).
# Every record the workers handed over is exported, and none lost.
reconnect() {
	local scheme=$1 how=$2 cargs=$3 pargs=$4 tag=$1.$2 port probe pcap=$SAMPLE_PCAP
	[ "$how" != stop_filling ] || pcap=$FEW_FLOWS
	port=$(free_port)
	if [ "${scheme#*+}" = sctp ]; then
		local up
		up=$(free_port)
		cargs="$cargs --sctp-udp-port $up"
		pargs="$pargs --sctp-udp-port $up"
	fi
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.first" --quiet $cargs
	# shellcheck disable=SC2046,SC2086
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" --stats-interval 0.5 $pargs >"$WORK/$tag.probe" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	wait_for_text "$WORK/$tag.first.stderr" "new session" 20
	sleep 0.5
	case $how in                         # the collector goes away...
	stop_filling)
		wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['records_enqueued'] > 0" True 20
		;&
	stop)
		stop_collector
		wait_for_text "$WORK/$tag.probe" "is down" 10
		sleep 1
		;;
	kill)
		kill -KILL "$COLLECTOR_PID"
		wait "$COLLECTOR_PID" 2>/dev/null || true
		sleep 1
		;;
	freeze_kill)
		# Frozen (its stack acknowledges nothing) before the first records expire, then
		# killed once records went into it, and back at once: its stack ABORTs the
		# stale association, whose SEND_FAILED notices give every record sent back.
		kill -STOP "$COLLECTOR_PID"
		wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['records_exported'] > 0" True 20
		kill -KILL "$COLLECTOR_PID"
		wait "$COLLECTOR_PID" 2>/dev/null || true
		;;
	vanish)
		kill -KILL "$COLLECTOR_PID"
		wait "$COLLECTOR_PID" 2>/dev/null || true
		# Dead (SCTP's own heartbeats found it gone) or down (its stack said so).
		wait_for_text "$WORK/$tag.probe" "is d\(ead\|own\)" 40
		;;
	esac
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.second" --quiet $cargs  # ...and is back
	wait_for_text "$WORK/$tag.probe" "resumed on" 30
	kill -INT "$probe"
	timeout 30 tail --pid="$probe" -f /dev/null || fail "$scheme ($how): probe did not stop"
	wait "$probe" || fail "$scheme ($how): probe exited with $?: $(story "$tag")"
	wait_for_close "$WORK/$tag.second"
	stop_collector
	exported=$(awk '$1 == "records_exported" {print $2}' "$WORK/$tag.probe")
	lost=$(awk '$1 == "records_lost" {print $2}' "$WORK/$tag.probe")
	reconnects=$(awk '$1 == "reconnects" {print $2}' "$WORK/$tag.probe")
	second=$(summary_value "$WORK/$tag.second.stdout" flows)
	enqueued=$(awk '$1 == "records_enqueued" {print $2}' "$WORK/$tag.probe")
	[ "$reconnects" -ge 1 ] || fail "$scheme ($how): no reconnect counted"
	[ "$enqueued" = "$exported" ] ||
		fail "$scheme ($how): the workers handed over $enqueued records, $exported exported, $lost lost: $(story "$tag")"
	[ "$lost" = 0 ] || fail "$scheme ($how): $lost records lost: $(story "$tag")"
	[ "$how" != stop_filling ] || [ "$(summary_value "$WORK/$tag.first.stdout" flows)" = 0 ] ||
		fail "$scheme ($how): a data message went before the stop, the first collector got" \
			"$(summary_value "$WORK/$tag.first.stdout" flows) records: $(story "$tag")"
	[ "$second" = "$exported" ] || fail "$scheme ($how): the new collector got $second of $exported records: $(story "$tag")"
	[ "$how" != freeze_kill ] || [ "$(counter "$WORK/$tag.probe" records_replayed)" -gt 0 ] ||
		fail "$scheme ($how): nothing was given back and sent again: $(story "$tag")"
	grep -q "^  templates *[2-9]" "$WORK/$tag.second.stdout" ||
		fail "$scheme ($how): templates were not resent on the new session"
	echo "ok $scheme ($how): reconnected $reconnects time(s), $second of $exported records delivered, 0 lost"
}

# refused NAME: a collector that takes every TCP connection and refuses it at once (the
# collector started by start_refusing_NAME; stop_refusing_NAME stops it and sets
# ACCEPTED to the connections it took). The probe must wait longer after each
# failed attempt (0.5 s, then 1, 2, 4 s), although every connect succeeds; say each
# failure once; send no flow record into a session on its probation; and, with no
# session when input ends, drop its records after the 5 s grace, counting them all.
refused() {
	local name=$1 port probe rc=0 syn="tcp.flags.syn == 1 && tcp.flags.ack == 0" got=0
	port=$(free_port)
	"start_refusing_$name" "$port"
	capture_start "$name" "tcp dst port $port"
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "tcp://127.0.0.1:$port" --stats-interval 0 >"$WORK/$name.probe" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	# Three connections (two waits), then the end of input: the rings hold every flow
	# when the fourth comes, during the grace.
	local end=$((SECONDS + 30))  # on the clock: tshark alone takes seconds under load
	while [ "$SECONDS" -lt "$end" ]; do
		got=$(tshark -r "$WORK/$name.pcapng" -Y "$syn" -T fields -e frame.number 2>/dev/null | grep -c . || true)
		[ "$got" -ge 3 ] && break
		kill -0 "$probe" 2>/dev/null || fail "$name: the probe stopped: $(grep -av '^  ' "$WORK/$name.probe")"
		sleep 0.1
	done
	[ "$got" -ge 3 ] || fail "$name: $got connection attempts in 30 s"
	kill -INT "$probe"
	timeout 30 tail --pid="$probe" -f /dev/null || fail "$name: probe did not stop"
	wait "$probe" || rc=$?
	[ "$rc" = 2 ] || fail "$name: probe exited with $rc, want 2 (records lost)"
	local p=$WORK/$name.probe attempts reconnects failures enqueued lost lines
	reconnects=$(counter "$p" reconnects)
	failures=$(counter "$p" connect_failures)
	enqueued=$(counter "$p" records_enqueued)
	lost=$(counter "$p" records_lost)
	"stop_refusing_$name"
	attempts=$ACCEPTED
	capture_stop "$name" "$attempts" "$syn"
	# Every attempt connected, so the capture shows them all; the wait before the Nth is
	# at least 0.5 s * 2^(N-2) after the one before it.
	tshark -r "$WORK/$name.pcapng" -Y "$syn" -T fields -e frame.time_epoch >"$WORK/$name.times"
	$PY - "$WORK/$name.times" "$attempts" <<'PYEOF' || fail "$name: the backoff did not grow"
import sys
times = [float(t) for t in open(sys.argv[1])]
gaps = [b - a for a, b in zip(times, times[1:])]
print("connections " + ", ".join(f"+{g:.2f} s" for g in gaps))
for i, gap in enumerate(gaps):
    if gap < 0.5 * 2 ** i - 0.02:
        sys.exit(f"connection {i + 2} came {gap:.3f} s after the one before, want {0.5 * 2 ** i} s or more")
if len(times) != int(sys.argv[2]) or len(times) < 4:
    sys.exit(f"{len(times)} connections captured, the collector took {sys.argv[2]} (want 4 or more)")
PYEOF
	# Each connection failed (the open, or the session before it lasted), each failure
	# said once with its count and the next wait, nothing else while it refuses. (The
	# last may come too late to fail before the probe stops.)
	[ "$failures" -ge $((attempts - 1)) ] && [ "$failures" -le "$attempts" ] &&
		[ "$reconnects" -lt "$attempts" ] ||
		fail "$name: reconnects $reconnects and connect_failures $failures for $attempts connections"
	lines=$(grep -c "failed attempts\? in a row" "$p" || true)
	[ "$lines" = "$failures" ] || fail "$name: $lines lines for $failures failed attempts: $(grep -a "dpfix-probe: export:" "$p")"
	grep -a "failed attempts\? in a row" "$p" | $PY -c '
import sys
for i, line in enumerate(sys.stdin):
    plural = "s" if i else ""
    want = f"{i + 1} failed attempt{plural} in a row, records wait in the rings; " \
           f"next try in {min(0.5 * 2 ** i, 30):.1f} s"
    if ("is down after" not in line and "reconnect failed: " not in line) or want not in line:
        sys.exit(f"failure {i + 1}: want \"{want}\" in: {line}")' || fail "$name: failed attempts not said as they should be"
	[ "$(grep -c "dpfix-probe: export:" "$p")" = $((failures + 1)) ] ||
		fail "$name: the probe said more than one line per failed attempt: $(grep -a "dpfix-probe: export:" "$p")"
	grep -q "input is over and no session to tcp 127.0.0.1:$port came up within 5 s" "$p" ||
		fail "$name: the probe did not say it dropped what was left: $(grep -a "dpfix-probe: export:" "$p")"
	# No flow record went into a refused session: all of them are counted as lost.
	[ "$enqueued" -gt 0 ] && [ "$lost" = "$enqueued" ] ||
		fail "$name: records_lost $lost of $enqueued records the workers handed over, none delivered"
	[ "$(counter "$p" records_exported)" = 0 ] || fail "$name: records were sent into refused sessions"
	echo "ok $name: $attempts attempts, each refused; $failures failures said in $lines lines; $lost of $enqueued records counted as lost"
}

# A TLS collector answers the plaintext probe's first message with an alert and closes.
start_refusing_plaintext_to_tls() {
	start_collector_at "tls+tcp://127.0.0.1:$1" "$WORK/plaintext_to_tls.c" --quiet --psk-file "$K/collector.psk"
}
stop_refusing_plaintext_to_tls() {
	local c=$WORK/plaintext_to_tls.c sessions
	stop_collector
	[ "$(summary_value "$c.stdout" flows)" = 0 ] || fail "plaintext_to_tls: records delivered"
	sessions=$(grep -c "new session from" "$c.stderr")
	[ "$(grep -c "plaintext IPFIX sent to a tls+tcp endpoint: refused" "$c.stderr")" = "$sessions" ] ||
		fail "plaintext_to_tls: the collector should refuse each of $sessions sessions: $(cat "$c.stderr")"
	ACCEPTED=$sessions
}
# A listener that resets each connection 0.3 s after it has accepted it (at once, the
# probe's first connection could fail before the probe started, which it then refuses to);
# start_refusing_reset PORT [NAME]: it writes $WORK/NAME.accepted (default reset).
start_refusing_reset() {
	$PY - "$1" "$WORK/${2:-reset}.accepted" <<'PYEOF' &
import socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
with open(sys.argv[2], "w", buffering=1) as out:
    print("listening", file=out)
    while True:
        c, _ = s.accept()
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        print("accepted", file=out)
PYEOF
	RESET_PID=$!
	PIDS+=("$RESET_PID")
	wait_for_text "$WORK/${2:-reset}.accepted" listening 10
}

# reset_first: the collector resets the probe's first session before its templates go
# (strace holds each of the probe's sends 1 s; the listener resets 0.3 s after accepting).
# The probe must say the session is down and try again: it once took that failed first
# session for one still on probation, said nothing and never reconnected.
reset_first() {
	local port
	port=$(free_port)
	start_refusing_reset "$port" reset_first
	# shellcheck disable=SC2046
	strace -f -qq -o /dev/null -e trace=sendto -e inject=sendto:delay_enter=1000000 \
		"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "tcp://127.0.0.1:$port" --stats-interval 0 >"$WORK/reset_first.probe" 2>&1 &
	PIDS+=("$!")
	wait_for_text "$WORK/reset_first.probe" "is down after .*; 1 failed attempt in a row" 20
	echo "ok reset_first: $(grep -a -m1 "is down after" "$WORK/reset_first.probe")"
}
stop_refusing_reset() {
	kill "$RESET_PID"
	ACCEPTED=$(grep -c accepted "$WORK/reset.accepted")
}

# stop_filling's capture: 4 flows (frames 1-12 of the sample), so 4 records a second
# with its 1 s active timeout. A data message over TCP (64 KB) holds about 940 records,
# and with its 60 s flush goes only when full: after some 230 s of this capture, far
# beyond the case's own bounds (20 s for the session, 20 s for the first records), so
# the collector always stops while records wait in the message. With the sample's 114
# flows it filled in about 8 s, and a stop later than that (the probe's telemetry
# answers slowly at load 40) found the records sent to the first collector instead.
FEW_FLOWS=$WORK/few_flows.pcap
editcap -F pcap -r "$SAMPLE_PCAP" "$FEW_FLOWS" 1-12 || fail "editcap could not cut $SAMPLE_PCAP"

PSK_C="--psk-file $K/collector.psk"
PSK_P="--psk-identity probe1.example --psk-file $K/probe.psk"
# Each case has ports, files and a probe of its own: they run side by side, the longest
# first. tcp stop_filling: flows ending all along, in a message still being filled when
# the session fails: they go on the new session (they were dropped without a count).
side_by_side 'reconnect sctp vanish "" ""' "refused plaintext_to_tls" "refused reset" reset_first \
	'reconnect tcp stop "" ""' \
	'reconnect tcp stop_filling "" "--active-timeout 1 --idle-timeout 1 --export-flush 60"' \
	'reconnect tls+tcp stop "$PSK_C" "$PSK_P"' 'reconnect sctp stop "" ""' \
	'reconnect dtls+sctp kill "$PSK_C" "$PSK_P"' \
	'reconnect sctp freeze_kill "" "--active-timeout 3 --idle-timeout 3"'
echo "export_reconnect: ok"
