#!/usr/bin/env bash
# Planned hand-off under load (issue 12): with session_lifetime 2 over endless input
# (net_pcap infinite_rx, the time the probe's own; the flows end every 0.2 s, so records
# flow all the time), the probe brings a new session up
# beside the one in use every 2 s and moves export to it, so the collector sees at least
# three sessions; every metered packet is in exactly one record the collector decoded
# (the probe's metered_packets is the collector's packet sum), with no sequence gap and
# no record lost or unconfirmed; the collector links each session to the one it
# continues (the same PSK identity) and the sequence numbers go on across. Over dtls+udp, tls+tcp and dtls+sctp; and the other
# triggers: the operator's telemetry command (tcp) and session_bytes (udp).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki

# hand_off SCHEME ROLLS WHY PROBE_ARGS...: runs until ROLLS hand-offs are done, each
# said with WHY, then stops. WHY "operator": asked for over telemetry, once a second.
hand_off() {
	local scheme=$1 rolls=$2 why=$3 tag=${1/+/_} port cargs="" probe rc=0 pargs="${*:4}"
	if [ "${scheme%+*}" != "$scheme" ]; then
		cargs="--psk-file $K/collector.psk"
		pargs="$pargs --psk-identity probe1.example --psk-file $K/probe.psk"
	fi
	port=$(free_port)
	if [ "${scheme#*+}" = sctp ]; then
		local up
		up=$(free_port)
		cargs="$cargs --sctp-udp-port $up"
		pargs="$pargs --sctp-udp-port $up"
	fi
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c" $cargs --json "$WORK/$tag.json"
	# shellcheck disable=SC2046,SC2086
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" --packet-timestamps no \
		--idle-timeout 0.2 --active-timeout 0.2 --stats-interval 0 $pargs >"$WORK/$tag.probe" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	if [ "$why" = operator ]; then
		why="the operator's /dpfix/hand_off"
		# The probe answers telemetry once it is up (its EAL start took over a second
		# with four tests at once on a loaded machine: no answer, and this failed).
		wait_for_telemetry "dpfix-test-$$" /dpfix/stats "c['records_exported'] > 0" True 30
		for _ in $(seq "$rolls"); do
			sleep 1
			probe_telemetry "dpfix-test-$$" /dpfix/hand_off | grep -q '"hand_off_requested": 1' ||
				fail "$scheme: /dpfix/hand_off was not taken"
		done
	fi
	wait_for_telemetry "dpfix-test-$$" /dpfix/stats "c['sessions_rolled_over'] >= $rolls" True 30
	kill -INT "$probe"
	timeout 30 tail --pid="$probe" -f /dev/null || fail "$scheme: probe did not stop"
	wait "$probe" || rc=$?
	[ "$rc" = 0 ] || fail "$scheme: probe exited with $rc: $(grep -av '^  ' "$WORK/$tag.probe" | tail -5)"
	# Every session ended in order (close_notify; and FIN or SHUTDOWN), so the collector
	# has read all of each; plain UDP has no end: its records are counted in.
	local opened closed
	for _ in $(seq 300); do
		opened=$(grep -c "new session from" "$WORK/$tag.c.stderr" || true)
		closed=$(grep -c "closed by the exporter" "$WORK/$tag.c.stderr" || true)
		[ "$closed" = "$opened" ] || [ "$scheme" = udp ] && break
		sleep 0.1
	done
	[ "$closed" = "$opened" ] || [ "$scheme" = udp ] ||
		fail "$scheme: $closed of $opened sessions closed by the exporter"
	wait_for_records "$WORK/$tag.json" "$(probe_records "$WORK/$tag.probe")"
	stop_collector
	local p=$WORK/$tag.probe c=$WORK/$tag.c.stdout metered packets sessions rolled
	metered=$(counter "$p" metered_packets)
	packets=$(summary_value "$c" packets)
	rolled=$(counter "$p" sessions_rolled_over)
	sessions=$(grep -c "new session from" "$WORK/$tag.c.stderr")
	[ "$rolled" -ge "$rolls" ] && [ "$sessions" = $((rolled + 1)) ] ||
		fail "$scheme: $rolled hand-offs, the collector saw $sessions sessions"
	[ "$(grep -c "dpfix-probe: export: handed over to .* ($why)" "$p")" = "$rolled" ] ||
		fail "$scheme: each hand-off should be said once: $(grep -a "export:" "$p")"
	# A hand-off is no reconnection (over SCTP the new session waits for its templates'
	# acknowledgement after the switch, which once read as one).
	! grep -q "resumed on" "$p" || fail "$scheme: a hand-off said as a reconnection: $(grep -a "export:" "$p")"
	[ "$metered" -gt "$(expected packets)" ] || fail "$scheme: the probe metered only $metered packets"
	[ "$packets" = "$metered" ] || fail "$scheme: the collector got $packets packets, the probe metered $metered"
	[ "$(summary_value "$c" flows)" = "$(counter "$p" records_exported)" ] ||
		fail "$scheme: collector flows $(summary_value "$c" flows), probe exported $(counter "$p" records_exported)"
	for zero in records_lost records_unconfirmed sessions_unconfirmed send_failures collectors_dead; do
		[ "$(counter "$p" $zero)" = 0 ] || fail "$scheme: $zero $(counter "$p" $zero)"
	done
	# Heartbeats go on across hand-offs (doc/heartbeats.md): at most the one in flight at
	# each switch and at the end goes unanswered.
	if [ "${scheme%+*}" != "$scheme" ]; then
		local sent answered
		sent=$(counter "$p" heartbeats_sent)
		answered=$(counter "$p" heartbeats_answered)
		[ "$sent" -ge 3 ] && [ $((sent - answered)) -le $((rolled + 1)) ] ||
			fail "$scheme: $answered of $sent heartbeats answered over $rolled hand-offs"
	fi
	grep -q "sequence_lost *0$" "$c" || fail "$scheme: sequence loss: $(grep sequence_ "$c")"
	# The collector links each new session to the one before it by the exporter's PSK
	# identity, and the sequence numbers go on across (plaintext proves no identity).
	local continued=$rolled
	[ "$cargs" != "" ] || continued=0
	[ "$(counter "$c" sessions_continued)" = "$continued" ] &&
		[ "$(grep -c "continues session .* (probe1.example)" "$WORK/$tag.c.stderr")" = "$continued" ] ||
		fail "$scheme: $(counter "$c" sessions_continued) sessions continued, want $continued"
	[ "$(counter "$c" sequence_lost_across)" = 0 ] ||
		fail "$scheme: $(counter "$c" sequence_lost_across) records missing across hand-offs"
	echo "ok $scheme: $sessions sessions, $rolled hand-offs, $packets of $metered packets"
}

hand_off dtls+udp 2 "session_lifetime 2 s" --session-lifetime 2
hand_off tls+tcp 2 "session_lifetime 2 s" --session-lifetime 2
hand_off dtls+sctp 2 "session_lifetime 2 s" --session-lifetime 2
hand_off tcp 1 operator
hand_off udp 1 "session_bytes 100000" --session-bytes 100000
echo "probe_handoff: ok"
