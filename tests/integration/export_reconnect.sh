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

# reconnect SCHEME HOW COLLECTOR_ARGS PROBE_ARGS; HOW: stop (SIGTERM, orderly), kill
# (SIGKILL, back 1 s later) or vanish (SIGKILL, back only once the probe said it is down).
reconnect() {
	local scheme=$1 how=$2 cargs=$3 pargs=$4 port probe
	port=$(free_port)
	if [ "${scheme#*+}" = sctp ]; then
		local up
		up=$(free_port)
		cargs="$cargs --sctp-udp-port $up"
		pargs="$pargs --sctp-udp-port $up"
	fi
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$scheme.$how.first" --quiet $cargs
	# shellcheck disable=SC2046,SC2086
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" --stats-interval 0.5 $pargs >"$WORK/$scheme.$how.probe" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	wait_for_text "$WORK/$scheme.$how.first.stderr" "new session" 20
	sleep 0.5
	case $how in                         # the collector goes away...
	stop)
		stop_collector
		wait_for_text "$WORK/$scheme.$how.probe" "is down" 10
		sleep 1
		;;
	kill)
		kill -KILL "$COLLECTOR_PID"
		wait "$COLLECTOR_PID" 2>/dev/null || true
		sleep 1
		;;
	vanish)
		kill -KILL "$COLLECTOR_PID"
		wait "$COLLECTOR_PID" 2>/dev/null || true
		wait_for_text "$WORK/$scheme.$how.probe" "is down" 40
		;;
	esac
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$scheme.$how.second" --quiet $cargs  # ...and is back
	wait_for_text "$WORK/$scheme.$how.probe" "resumed on" 30
	kill -INT "$probe"
	timeout 30 tail --pid="$probe" -f /dev/null || fail "$scheme: probe did not stop"
	wait "$probe" || fail "$scheme: probe exited with $?: $(grep -v '^ ' "$WORK/$scheme.$how.probe" | tail -3)"
	wait_for_close "$WORK/$scheme.$how.second"
	stop_collector
	exported=$(awk '$1 == "records_exported" {print $2}' "$WORK/$scheme.$how.probe")
	lost=$(awk '$1 == "records_lost" {print $2}' "$WORK/$scheme.$how.probe")
	reconnects=$(awk '$1 == "reconnects" {print $2}' "$WORK/$scheme.$how.probe")
	second=$(summary_value "$WORK/$scheme.$how.second.stdout" flows)
	[ "$reconnects" -ge 1 ] || fail "$scheme: no reconnect counted"
	[ "$lost" = 0 ] || fail "$scheme: $lost records lost"
	[ "$second" = "$exported" ] || fail "$scheme: the new collector got $second of $exported records"
	grep -q "^  templates *[2-9]" "$WORK/$scheme.$how.second.stdout" ||
		fail "$scheme: templates were not resent on the new session"
	echo "ok $scheme ($how): reconnected $reconnects time(s), $second of $exported records delivered, 0 lost"
}

reconnect tcp stop "" ""
reconnect tls+tcp stop "--psk-file $K/collector.psk" "--psk-identity probe1.example --psk-file $K/probe.psk"
reconnect sctp stop "" ""
reconnect dtls+sctp kill "--psk-file $K/collector.psk" "--psk-identity probe1.example --psk-file $K/probe.psk"
reconnect sctp vanish "" ""
echo "export_reconnect: ok"
