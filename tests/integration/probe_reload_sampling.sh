#!/usr/bin/env bash
# SIGHUP changes packet selection live where it can (issue 15): endless input sampled
# systematically 1 in 2 on every port; the config then says 1 in 4: the reload line says
# it applied it, from then on the workers select exactly 1 of every 4 packets (systematic:
# the counts' deltas, to within a block), their counts go on, and the selector report
# (options record) says the new interval and space. A change of algorithm needs new
# templates: named as needing a restart, nothing changes.
source "$(dirname "$0")/lib.sh"

prefix="dpfix-test-$$"
port=$(free_port)
conf=$WORK/probe.conf
write_conf() {
	cat >"$conf" <<EOC
collector = udp://127.0.0.1:$port
packet_timestamps = no
idle_timeout = 0.5
active_timeout = 0.5
options_interval = 1
sampling = all:$1
EOC
}
write_conf systematic:1:2
start_collector "$port" "$WORK/collector" --json "$WORK/records.json" --quiet
"$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" -l 0-1 \
	--log-level=lib.eal:warning --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--config "$conf" --stats-interval 0 >"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
counts() { probe_telemetry "$prefix" /dpfix/stats | $PY -c "import json,sys; c=list(json.load(sys.stdin).values())[0]; print(c['selector_observed'], c['selector_selected'])"; }
wait_for_telemetry "$prefix" /dpfix/stats "c['selector_observed'] > 100000" True 20
read -r o1 s1 <<<"$(counts)"
[ $((o1 / 2 - s1)) -le 1 ] && [ $((s1 - o1 / 2)) -le 1 ] || fail "1 in 2: $s1 of $o1 selected"

write_conf systematic:1:4
kill -HUP "$PROBE_PID"
wait_for_text "$WORK/probe.stdout" "SIGHUP: config reloaded; applied: sampling (same ports and algorithms: new parameters); needs a restart: nothing$" 10
sleep 0.2 # the workers take it between bursts
read -r o2 s2 <<<"$(counts)"
wait_for_telemetry "$prefix" /dpfix/stats "c['selector_observed'] > $((o2 + 100000))" True 20
read -r o3 s3 <<<"$(counts)"
[ "$s2" -ge "$s1" ] || fail "the selected count went back: $s1 then $s2"
$PY - "$o2" "$s2" "$o3" "$s3" <<'PYEOF' || fail "after the reload the selection is not 1 in 4"
import sys
o2, s2, o3, s3 = map(int, sys.argv[1:])
observed, selected = o3 - o2, s3 - s2
print(f"after the reload: {selected} of {observed} selected")
# Each queue's selector is a systematic 1 in 4 from its restart: within a block of each.
sys.exit(0 if abs(selected - observed / 4) <= 4 else 1)
PYEOF
# The selector report says the new parameters: interval 1, space 3.
for _ in $(seq 100); do
	grep -q '"samplingPacketSpace": *3' "$WORK/records.json" 2>/dev/null && break
	sleep 0.05
done
grep -q '"samplingPacketSpace": *3' "$WORK/records.json" || fail "no selector report with the new space: $(grep -m2 samplingPacket "$WORK/records.json")"

write_conf random:1:4
kill -HUP "$PROBE_PID"
wait_for_text "$WORK/probe.stdout" "applied: nothing; needs a restart: sampling$" 10
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -5 "$WORK/probe.stdout")"
stop_collector
echo "probe_reload_sampling: ok (1 in 2: $s1 of $o1; then 1 in 4)"
