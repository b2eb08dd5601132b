#!/usr/bin/env bash
# The probe's orderly end is confirmed by the collector's (doc/sessions.md, "Orderly
# end"): over tcp, tls+tcp, sctp and dtls+sctp a collector that reads everything ends its
# side and the probe exits 0 with nothing unconfirmed; a tcp collector that is stopped
# (SIGSTOP) while the probe sends, so that it has read nothing when the probe ends, and
# then never answers, or is killed (its socket reset, unread data in it), leaves the
# probe saying so, counting every record it sent as unconfirmed, and exiting 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki
FLOWS=$(expected flows)

# run_probe NAME URL [ARGS...]: the probe over the sample capture; its exit status in RC.
run_probe() {
	local name=$1 url=$2
	shift 2
	RC=0
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$url" "$@" >"$WORK/$name.p" 2>&1 || RC=$?
	[ "$RC" -ne 124 ] || fail "$name: probe hung"
}

# probe_counts NAME "COUNTER VALUE"...: the probe's summary holds exactly these.
probe_counts() {
	local name=$1 what
	shift
	for what in "$@"; do
		[ "$(counter "$WORK/$name.p" "${what% *}")" = "${what#* }" ] ||
			fail "$name: probe's ${what% *} $(counter "$WORK/$name.p" "${what% *}"), want ${what#* }"
	done
}

# Confirmed ends: every record at the collector, nothing unconfirmed, exit 0.
up=$(free_port)
for scheme in tcp tls+tcp sctp dtls+sctp; do
	name=${scheme/+/_}
	port=$(free_port)
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$name.c" --psk-file "$K/collector.psk" \
		--sctp-udp-port "$up"
	run_probe "$name" "$scheme://127.0.0.1:$port" --psk-identity probe1.example \
		--psk-file "$K/probe.psk" --sctp-udp-port "$up"
	[ "$RC" = 0 ] || fail "$name: probe exited $RC: $(grep -a "export:" "$WORK/$name.p" | tail -3)"
	! grep -aq "confirmation" "$WORK/$name.p" || fail "$name: $(grep -a confirmation "$WORK/$name.p")"
	probe_counts "$name" "records_exported $FLOWS" "sessions_unconfirmed 0" "records_unconfirmed 0"
	wait_for_close "$WORK/$name.c"
	stop_collector
	[ "$(summary_value "$WORK/$name.c.stdout" flows)" = "$FLOWS" ] ||
		fail "$name: the collector has $(summary_value "$WORK/$name.c.stdout" flows) flows, want $FLOWS"
	echo "ok $name: the collector confirmed the end; $FLOWS flows delivered, probe exit 0"
done

# A tcp collector stopped from the start: the kernel takes the connection and the data;
# the probe ends its side (FIN: the collector's socket in CLOSE_WAIT) and waits for the
# collector's end. Never: after 3 s the probe gives up. Killed: its socket, with the
# probe's data unread in it, is reset.
for how in silent killed; do
	port=$(free_port)
	start_collector_at "tcp://127.0.0.1:$port" "$WORK/$how.c" --quiet
	kill -STOP "$COLLECTOR_PID"
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "tcp://127.0.0.1:$port" >"$WORK/$how.p" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	if [ "$how" = killed ]; then
		end=$((SECONDS + 30))
		until ss -Htn state close-wait "( sport = :$port )" | grep -q .; do
			[ "$SECONDS" -lt "$end" ] || fail "killed: the probe did not end its session within 30 s"
			sleep 0.02
		done
		kill -KILL "$COLLECTOR_PID"
		want="the collector reset the connection (or aborted the association) before it had read all we sent"
	else
		want="the collector did not end its side within 3000 ms of ours"
	fi
	rc=0
	wait "$probe" || rc=$?
	kill -KILL "$COLLECTOR_PID" 2>/dev/null || true
	[ "$rc" = 2 ] || fail "$how: probe exited $rc, want 2: $(grep -a "export:" "$WORK/$how.p" | tail -3)"
	grep -aqF "export: session tcp 127.0.0.1:$port ended without the collector's confirmation: $want; its $FLOWS flow records may not have been read" \
		"$WORK/$how.p" || fail "$how: probe should say '$want': $(grep -a "export:" "$WORK/$how.p" | tail -3)"
	probe_counts "$how" "records_exported $FLOWS" "records_lost 0" "sessions_unconfirmed 1" \
		"records_unconfirmed $FLOWS"
	echo "ok $how collector: $(grep -ao "ended without.*" "$WORK/$how.p" | cut -c1-150)"
done
echo "export_end: ok"
