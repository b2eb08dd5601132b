#!/usr/bin/env bash
# SIGHUP reloads the config: the probe (the bundled sample, then kept up by a long
# input_end_idle) is given a shorter idle_timeout, a progress interval, another collector
# and another flow_table_size; it says it applied the first three (export moves to the
# new collector by a hand-off) and that flow_table_size needs a restart, and the flows
# still open then end by idle timeout (flowEndReason 1) while it runs, at the new
# collector, which with the old timeout (60 s) they could not: none is left for the exit.
# Given the first collector back, export moves back to it. A config
# with an error changes nothing and says why; longer timeouts than at start apply too.
# The probe keeps running throughout and exits 0 on SIGINT with every flow exported once.
source "$(dirname "$0")/lib.sh"

prefix="dpfix-test-$$"
port=$(free_port)
conf=$WORK/probe.conf
write_conf() {
	cat >"$conf" <<EOC
collector = udp://127.0.0.1:$port
input_end_idle = 60
idle_timeout = $1
active_timeout = 120
stats_interval = $2
EOC
	[ $# -lt 3 ] || echo "$3" >>"$conf"
}
write_conf 60 0
start_collector "$port" "$WORK/collector" --json "$WORK/records.json" --quiet
"$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" -l 0-1 \
	--log-level=lib.eal:warning --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- --config "$conf" \
	>"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets']" "$(expected capture_packets)"
idle_ended() { $PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('flowEndReason') == 1))" \
	"$WORK/records.json" 2>/dev/null || echo 0; }
sleep 1
[ "$(idle_ended)" = 0 ] || fail "flows ended by idle timeout before the reload"
open_flows=$(telemetry_value "$prefix" /dpfix/stats active_flows)
[ "$open_flows" -gt 0 ] || fail "no flows open to time out"

# 1. Live changes, and one that needs a restart.
first_pid=$COLLECTOR_PID
other=$(free_port)
start_collector "$other" "$WORK/collector2" --json "$WORK/records2.json" --quiet
write_conf 1 0.5 "collector = udp://127.0.0.1:$other
flow_table_size = 2048"
sed -i "0,/^collector = .*/{/^collector = udp:\/\/127.0.0.1:$port$/d}" "$conf"
kill -HUP "$PROBE_PID"
wait_for_text "$WORK/probe.stdout" "SIGHUP: config reloaded; applied: stats_interval, idle_timeout 1 s, active_timeout 120 s, tcp_end_wait 2 s, collectors (1; export moves from udp://127.0.0.1:$port to udp://127.0.0.1:$other by a hand-off); needs a restart: flow_table_size$" 10
wait_for_text "$WORK/probe.stdout" "export: on the primary collector of the new list, udp 127.0.0.1:$other" 10
# Every flow open at the reload ends while the probe runs (before, at exit: reason 4).
wait_for_telemetry "$prefix" /dpfix/stats "c['active_flows']" 0 20
wait_for_text "$WORK/probe.stdout" "^dpfix-probe: rx " 5
kill -0 "$PROBE_PID" || fail "the probe did not survive SIGHUP"

# 2. A config with an error: nothing changes.
write_conf 1 0.5 "idle_timeout = soon"
kill -HUP "$PROBE_PID"
wait_for_text "$WORK/probe.stdout" "SIGHUP: the config was not reloaded, nothing changed: $conf:6: .*soon" 10

# 3. Longer timeouts than at start apply too; an unchanged config changes nothing.
write_conf 600 0.5 "active_timeout = 86400"
kill -HUP "$PROBE_PID"
# (flow_table_size is the one the probe runs with again: nothing to restart for.)
wait_for_text "$WORK/probe.stdout" "SIGHUP: config reloaded; applied: idle_timeout 600 s, active_timeout 8.64e+04 s, tcp_end_wait 2 s, collectors (1; export moves from udp://127.0.0.1:$other to udp://127.0.0.1:$port by a hand-off); needs a restart: nothing$" 10
wait_for_text "$WORK/probe.stdout" "export: on the primary collector of the new list, udp 127.0.0.1:$port" 10
kill -HUP "$PROBE_PID"
wait_for_text "$WORK/probe.stdout" "SIGHUP: config reloaded; applied: nothing; needs a restart: nothing$" 10

kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -5 "$WORK/probe.stdout")"
# Both collectors together hold every record.
want=$(probe_records "$WORK/probe.stdout")
for _ in $(seq 600); do
	[ $(($(wc -l <"$WORK/records.json") + $(wc -l <"$WORK/records2.json"))) -ge "$want" ] && break
	sleep 0.05
done
stop_collector
COLLECTOR_PID=$first_pid
stop_collector
cat "$WORK/records2.json" >>"$WORK/records.json"
[ "$(counter "$WORK/probe.stdout" failovers)" = 2 ] || fail "failovers $(counter "$WORK/probe.stdout" failovers), want 2"
moved=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('flowEndReason') == 1))" "$WORK/records2.json")
[ "$moved" -gt 0 ] || fail "no flow ended by idle timeout reached the new collector"
flows=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if 'packetDeltaCount' in json.loads(l)))" "$WORK/records.json")
[ "$flows" = "$(expected flows)" ] || fail "$flows flow records, want $(expected flows)"
forced=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('flowEndReason') == 4))" "$WORK/records.json")
[ "$forced" = 0 ] || fail "$forced flows were still open at exit: the reloaded idle timeout did not reach them"
[ "$(idle_ended)" -gt 0 ] || fail "no flow ended by idle timeout"
echo "probe_reload: ok ($(idle_ended) of $open_flows open flows ended by the reloaded idle timeout)"
