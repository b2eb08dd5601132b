#!/usr/bin/env bash
# The Mediator restarted in the middle of a stream loses only what it reports (issue
# 13): the probe exports the bundled capture in a loop (net_pcap infinite_rx) over TCP
# to dpfix-mediator, which exports over TCP to dpfix-collector. The Mediator is stopped
# (SIGTERM: it reads what came, ends the probe's session in order, passes everything on
# and ends its own session) and a new one started on the same port; the probe holds its
# records meanwhile and resumes on it. Every record the probe exported reached one of
# the two Mediators but those the probe counts unconfirmed (sent over plain TCP as the first
# Mediator closed), and the collector holds every record they took but the ones they
# report lost (none, here): records and packets both.
source "$(dirname "$0")/lib.sh"

cport=$(free_port)
mport=$(free_port)
start_collector_at "tcp://127.0.0.1:$cport" "$WORK/collector" --quiet
start_mediator "$WORK/first" --listen "tcp://127.0.0.1:$mport" --collector "tcp://127.0.0.1:$cport"
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--collector "tcp://127.0.0.1:$mport" --stats-interval 0.5 --idle-timeout 1 --active-timeout 1 \
	>"$WORK/probe.stdout" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_text "$WORK/first.stderr" "new session" 20
# The stream runs through the first Mediator a while (the probe ends every flow each
# second: the capture loops, so its flows never go idle).
sleep 2.5
stop_mediator
wait_for_text "$WORK/probe.stdout" "is down" 10
start_mediator "$WORK/second" --listen "tcp://127.0.0.1:$mport" --collector "tcp://127.0.0.1:$cport"
wait_for_text "$WORK/probe.stdout" "resumed on" 30
sleep 2.5
kill -INT "$probe"
timeout 30 tail --pid="$probe" -f /dev/null || fail "probe did not stop"
rc=0
wait "$probe" || rc=$?
# Over plain TCP the probe cannot know whether records it sent as the first Mediator
# closed were read: those it counts unconfirmed, and exits 2. That is the only loss
# allowed, and only as counted.
unconfirmed=$(counter "$WORK/probe.stdout" records_unconfirmed)
if [ "${unconfirmed:-0}" -gt 0 ]; then want=2; else want=0; fi
[ "$rc" = "$want" ] ||
	fail "probe exited with $rc ($unconfirmed unconfirmed): $(grep -v '^ ' "$WORK/probe.stdout" | tail -3)"
wait_for_text "$WORK/second.stderr" "closed by the exporter" 10
stop_mediator
stop_collector

exported=$(counter "$WORK/probe.stdout" records_exported)
[ "$(counter "$WORK/probe.stdout" records_lost)" = 0 ] || fail "the probe lost records"
in1=$(counter "$WORK/first.stdout" records_in)
in2=$(counter "$WORK/second.stdout" records_in)
[ "$in1" -gt 0 ] && [ "$in2" -gt 0 ] || fail "records through the first Mediator $in1, the second $in2"
[ $((in1 + in2)) -le "$exported" ] && [ $((in1 + in2 + ${unconfirmed:-0})) -ge "$exported" ] ||
	fail "the probe exported $exported records ($unconfirmed unconfirmed), the Mediators took $in1 + $in2"
lost=0
for m in first second; do
	for what in records_lost backlog_drops records_no_template records_too_long; do
		lost=$((lost + $(awk -v n=$what '$1 == n {s += $2} END {print s + 0}' "$WORK/$m.stdout")))
	done
	[ "$(counter "$WORK/$m.stdout" records_out)" = "$(counter "$WORK/$m.stdout" records_in)" ] ||
		fail "$m Mediator: records_in and records_out differ"
done
got=$(summary_value "$WORK/collector.stdout" flows)
[ "$got" = $((in1 + in2 - lost)) ] ||
	fail "the collector holds $got records: the Mediators took $in1 + $in2 and report $lost lost"
packets=$(summary_value "$WORK/collector.stdout" packets)
metered=$(counter "$WORK/probe.stdout" metered_packets)
[ "$packets" = "$metered" ] || { [ "${unconfirmed:-0}" -gt 0 ] && [ "$packets" -lt "$metered" ]; } ||
	fail "the collector holds $(summary_value "$WORK/collector.stdout" packets) packets, the probe metered $(counter "$WORK/probe.stdout" metered_packets)"
grep -q "sequence_lost *0$" "$WORK/collector.stdout" || fail "sequence loss at the collector"
echo "mediator_restart: ok ($exported records: $in1 through the first Mediator, $in2 through the second, $lost reported lost, $got at the collector, ${unconfirmed:-0} unconfirmed by the probe)"
