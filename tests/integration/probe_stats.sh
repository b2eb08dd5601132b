#!/usr/bin/env bash
# Counters per worker and in total, live and at exit: two workers, each fed its own
# capture (net_pcap port 0: the generated ground-truth capture; port 1: the bundled
# sample), queried through DPDK telemetry with dpdk-telemetry.py while the probe runs,
# then written by stats_json (set in a config file) at exit. Each worker's parse results
# and fragment counters must be exactly its capture's; the totals their sum; the file
# the same numbers as telemetry.
source "$(dirname "$0")/lib.sh"

$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-ground-truth.py" "$WORK/gt" >"$WORK/gen.out" 2>&1 ||
	fail "generator: $(tail -3 "$WORK/gen.out")"
prefix="dpfix-test-$$"
cat >"$WORK/probe.conf" <<EOF
# the probe stays up after the captures end, long enough to be asked
input_end_idle = 30
stats_interval = 0
stats_json = $WORK/stats.json
flow_key = vlan
EOF
port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet
# Four lcores on this machine's two CPUs: control, two workers, exporter.
"$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	--lcores 0@0,1@1,2@1,3@0 --log-level=lib.eal:warning \
	--vdev "net_pcap0,rx_pcap=$WORK/gt.pcap" --vdev "net_pcap1,rx_pcap=$SAMPLE_PCAP" -- \
	--config "$WORK/probe.conf" --collector "udp://127.0.0.1:$port" \
	>"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")

telemetry() {
	echo "$1" | timeout 10 dpdk-telemetry.py -f "$prefix" 2>/dev/null
}
total=$(( $($PY -c "import json; print(json.load(open('$WORK/gt.expected.json'))['capture_packets'])") + \
	$(expected capture_packets) ))
seen=0
for _ in $(seq 100); do
	seen=$(telemetry /dpfix/stats | $PY -c 'import json,sys; print(json.load(sys.stdin)["/dpfix/stats"]["rx_packets"])' \
		2>/dev/null || echo 0)
	[ "$seen" = "$total" ] && break
	sleep 0.2
done
[ "$seen" = "$total" ] || fail "telemetry rx_packets $seen, want $total: $(tail -3 "$WORK/probe.stdout")"
for q in /dpfix/stats /dpfix/worker,0 /dpfix/worker,1 /dpfix/worker,2 /dpfix/worker,x; do
	telemetry "$q" >"$WORK/tel-$(echo "$q" | tr '/,' '__').json" || fail "dpdk-telemetry.py $q failed"
done
kill -INT "$PROBE_PID"
rc=0
timeout 20 tail --pid="$PROBE_PID" -f /dev/null || fail "probe did not stop on SIGINT"
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -3 "$WORK/probe.stdout")"
stop_collector

$PY - "$WORK" "$SAMPLE_EXPECTED" <<'PYEOF' || fail "counters differ"
import json, sys
work, sample_expected = sys.argv[1], sys.argv[2]
gt = json.load(open(f"{work}/gt.expected.json"))
sample = json.load(open(sample_expected))
tel = {name: json.load(open(f"{work}/tel-{name}.json")) for name in
       ("_dpfix_stats", "_dpfix_worker_0", "_dpfix_worker_1", "_dpfix_worker_2", "_dpfix_worker_x")}
totals = tel["_dpfix_stats"]["/dpfix/stats"]
w = [tel["_dpfix_worker_0"]["/dpfix/worker"], tel["_dpfix_worker_1"]["/dpfix/worker"]]
stats = json.load(open(f"{work}/stats.json"))
errors = []

def same(what, got, want):
    if got != want:
        errors.append(f"{what}: got {got}, want {want}")

same("no worker 2", tel["_dpfix_worker_2"]["/dpfix/worker"], None)
same("no worker x", tel["_dpfix_worker_x"]["/dpfix/worker"], None)
same("workers", totals["workers"], 2)
reasons = [k for k in totals if k.isupper()]
# Worker 0 metered the ground-truth capture (flow_key = vlan does not change what is
# parsed, skipped or rejected), worker 1 the sample.
g = gt["configs"]["default"]
same("w0 rx_packets", w[0]["rx_packets"], gt["capture_packets"])
same("w0 metered_packets", w[0]["metered_packets"], g["metered_packets"])
same("w0 metered_octets", w[0]["metered_octets"], g["metered_octets"])
for r in reasons:
    same(f"w0 {r}", w[0][r], g["parse_results"].get(r, 0))
for k, v in g["fragments"].items():
    same(f"w0 {k}", w[0][k], v)
same("w1 rx_packets", w[1]["rx_packets"], sample["capture_packets"])
same("w1 metered_packets", w[1]["metered_packets"], sample["packets"])
same("w1 metered_octets", w[1]["metered_octets"], sample["octets"])
same("w1 NOT_IP", w[1]["NOT_IP"], sample["non_ip"])
same("w1 malformed", w[1]["malformed_packets"], sample["malformed"])
same("w1 fragments", w[1]["fragments_first"] + w[1]["fragments_later"], 0)
same("w0/w1 lcores", (w[0]["lcore"], w[1]["lcore"]), (1, 2))
# Totals are the sums, and the file at exit says what telemetry said, for every counter
# that cannot change once the input has ended. Flows still end after it (TCP FIN/RST
# after a quiet time, and all of them at exit), so those counters move between queries.
def moving(k):
    return k.startswith(("flows_expired", "flows_ended", "flows_evicted")) or \
        k in ("records_enqueued", "active_flows", "emit_deferred")
ends = [k for k in stats["totals"] if k.startswith(("flows_expired", "flows_ended", "flows_evicted"))]
for k in w[0]:
    if k in ("worker", "lcore") or moving(k):
        continue
    same(f"total {k}", totals[k], w[0][k] + w[1][k])
    same(f"stats.json total {k}", stats["totals"][k], totals[k])
    for i in (0, 1):
        same(f"stats.json worker {i} {k}", stats["workers"][i][k], w[i][k])
# The ports' drops are the ports' (stats.json "ports"), not any worker's.
port_drops = ("rx_missed", "rx_nombuf", "rx_errors")
for k in port_drops:
    same(f"stats.json total {k} = sum of ports", stats["totals"][k], sum(p[k] for p in stats["ports"]))
same("stats.json ports", [(p["port"], p["name"]) for p in stats["ports"]], [(0, "net_pcap0"), (1, "net_pcap1")])
for k in stats["totals"]:
    if k != "workers" and k not in port_drops:
        same(f"stats.json total {k} = sum", stats["totals"][k],
             stats["workers"][0][k] + stats["workers"][1][k])
same("stats.json workers", [(x["worker"], x["lcore"]) for x in stats["workers"]], [(0, 1), (1, 2)])
same("stats.json active_flows at exit", stats["totals"]["active_flows"], 0)
same("stats.json flows ended", sum(stats["totals"][k] for k in ends), stats["totals"]["flows_created"])
same("stats.json exported", stats["exporter"]["records_exported"], stats["totals"]["flows_created"])
if errors:
    sys.exit("; ".join(errors[:10]))
print(f"telemetry and stats.json agree: {totals['rx_packets']} packets, {totals['malformed_packets']} "
      f"malformed, {totals['fragments_later']} later fragments, over 2 workers")
PYEOF
echo "probe_stats: ok"
