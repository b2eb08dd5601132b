#!/usr/bin/env bash
# Endless input (net_pcap with infinite_rx) stopped by SIGINT: every flow in the tables
# is exported before the probe exits, and the collector receives exactly what the probe
# metered: no silent loss at shutdown.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
	--collector "udp://127.0.0.1:$port" --stats-interval 0.5 >"$WORK/probe.stdout" 2>&1 &
probe=$!
PIDS+=("$probe")
wait_for_text "$WORK/probe.stdout" "records exported" 20   # running and metering
kill -INT "$probe"
rc=0
timeout 30 tail --pid="$probe" -f /dev/null || fail "probe did not exit within 30 s of SIGINT"
wait "$probe" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -5 "$WORK/probe.stdout")"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector

metered=$(awk '$1 == "metered_packets" {print $2}' "$WORK/probe.stdout")
octets=$(awk '$1 == "metered_octets" {print $2}' "$WORK/probe.stdout")
exported=$(awk '$1 == "records_exported" {print $2}' "$WORK/probe.stdout")
[ "$metered" -gt "$(expected packets)" ] || fail "probe metered only $metered packets in its run"
[ "$(summary_value "$WORK/collector.stdout" packets)" = "$metered" ] || fail "collector packets != probe metered $metered"
[ "$(summary_value "$WORK/collector.stdout" octets)" = "$octets" ] || fail "collector octets != probe metered $octets"
[ "$(summary_value "$WORK/collector.stdout" flows)" = "$exported" ] || fail "collector flows != probe exported $exported"
# Endless replay of the same flows with long timeouts: each flow is one record.
[ "$exported" = "$(expected flows)" ] || fail "exported $exported records, want $(expected flows)"
grep -q "sequence_lost *0$" "$WORK/collector.stdout" || fail "sequence loss"
echo "probe_sigint: ok ($metered packets metered and delivered)"
