#!/usr/bin/env bash
# net_af_xdp with dpfix's own XDP program (loaded by default): a veth pair in namespaces
# of its own, the probe's end with the address 10.98.0.1 kept for the kernel
# (xdp_pass). The peer pings that address (the kernel must answer: ARP and ICMP stay
# with it, unmetered) and sends a generated capture of 2000 frames in 40 UDP flows to
# other addresses, which must reach the collector exactly. The program's per-queue
# counters account for every frame the peer sent, and it leaves with the probe. Then a
# queue the probe does not read: its frames are counted as missed.
source "$(dirname "$0")/lib.sh"
af_xdp_leak_unwind

# Rules are checked before anything runs: a bad one names itself; rules without an
# AF_XDP port are refused.
rc=0
"$DPFIX_PROBE" $(eal_args) --vdev net_null0 -- --xdp-pass 10.0.0.300:udp >"$WORK/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "xdp_pass '10.0.0.300:udp' is not ADDRESS\[:PROTOCOL\[:PORT\]\]" "$WORK/bad.out" ||
	fail "bad xdp_pass: exit $rc, $(cat "$WORK/bad.out")"
rc=0
"$DPFIX_PROBE" $(eal_args) --vdev net_null0 -- --xdp-pass 10.0.0.1:icmp:7 >"$WORK/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "a port only with tcp, udp or sctp" "$WORK/bad.out" ||
	fail "xdp_pass with an ICMP port: exit $rc, $(cat "$WORK/bad.out")"
rc=0
"$DPFIX_PROBE" $(eal_args) --vdev net_null0 -- --xdp-pass '[2001:db8::1]:tcp:22' >"$WORK/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "xdp_pass is set but no port is net_af_xdp" "$WORK/bad.out" ||
	fail "xdp_pass without an AF_XDP port: exit $rc, $(cat "$WORK/bad.out")"

tag=appl$$
veth_pair "$tag"
ip netns exec "${tag}p" ip addr add 10.98.0.1/24 dev "${tag}a"
ip netns exec "${tag}s" ip addr add 10.98.0.2/24 dev "${tag}b"
prefix="dpfix-test-$$"
port=$(free_port)
COLLECTOR_NETNS=${tag}p start_collector "$port" "$WORK/collector" --json "$WORK/records.json" --quiet
ip netns exec "${tag}p" "$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	-l 0-1 --log-level=lib.eal:warning --log-level=pmd.net.af_xdp:warning \
	--vdev "net_af_xdp0,iface=${tag}a" -- --collector "udp://127.0.0.1:$port" \
	--xdp-pass 10.98.0.1 --stats-interval 0 --stats-json "$WORK/stats.json" \
	>"$WORK/probe.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/probe.stdout" "worker(s)" 20
grep -q "port 0 (net_af_xdp0): XDP program dpfix_xdp_captu .* 1 rule(s)" "$WORK/probe.stdout" ||
	fail "dpfix's XDP program was not found on the port: $(cat "$WORK/probe.stdout")"
ip netns exec "${tag}p" ip -d link show "${tag}a" | grep -q "prog/xdp" || fail "no XDP program attached"

ip netns exec "${tag}s" ping -c 3 -i 0.2 -W 2 10.98.0.1 >"$WORK/ping.out" ||
	fail "the kernel behind the probe did not answer: $(cat "$WORK/ping.out")"
# In four parts of 500, each read before the next: a burst longer than the socket's rx
# ring (1024) is lost whenever the sender (and the veth's softirq) runs on the worker's
# CPU, as it may on this two-CPU machine; port_drops counts such loss.
for part in 0 1 2 3; do
	ip netns exec "${tag}s" "$PY" "$DPFIX_SOURCE_ROOT/tests/integration/send_frames.py" "${tag}b" 2000 40 \
		--part $part/4
	wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets']" $((500 * (part + 1)))
done
sent=$(ip netns exec "${tag}s" cat "/sys/class/net/${tag}b/statistics/tx_packets")
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "probe exited with $rc: $(tail -5 "$WORK/probe.stdout")"
! ip netns exec "${tag}p" ip -d link show "${tag}a" | grep -q "prog/xdp" || fail "the XDP program outlived the probe"
wait_for_records "$WORK/records.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector

$PY - "$WORK" "$sent" <<'PYEOF' || fail "counters or flows"
import json, sys
work, sent = sys.argv[1], int(sys.argv[2])
stats = json.load(open(f"{work}/stats.json"))
t, p = stats["totals"], stats["ports"][0]
errors = []
def same(what, got, want):
    if got != want:
        errors.append(f"{what}: got {got}, want {want}")
same("rx_packets", t["rx_packets"], 2000)
same("metered_packets", t["metered_packets"], 2000)
same("NOT_IP (no ARP metered)", t["NOT_IP"], 0)
same("xdp_redirected", p["xdp_redirected"], 2000)
same("xdp_queue_0_redirected", p["xdp_queue_0_redirected"], 2000)
same("xdp_kernel_unarmed", p["xdp_kernel_unarmed"], 0)
same("xdp_kernel_no_socket", p["xdp_kernel_no_socket"], 0)
# Every frame the peer sent: the capture, and for the kernel the ARP and 3 echo requests.
same("xdp_kernel_rule", p["xdp_kernel_rule"], sent - 2000)
if p["xdp_kernel_rule"] < 4:
    errors.append(f"xdp_kernel_rule {p['xdp_kernel_rule']}: the ping's ARP and 3 requests went elsewhere")
same("rx_missed", p["rx_missed"], 0)
flows = [json.loads(l) for l in open(f"{work}/records.json")]
flows = [r for r in flows if "packetDeltaCount" in r]
got = sorted((r["sourceIPv4Address"], r["sourceTransportPort"], r["destinationIPv4Address"],
              r["destinationTransportPort"], r["protocolIdentifier"], r["packetDeltaCount"],
              r["octetDeltaCount"]) for r in flows)
want = sorted((f"10.99.0.{f}", 10000 + f, "10.97.0.1", 4000, 17, 50, 50 * 50) for f in range(40))
same("flows", got, want)
if errors:
    sys.exit("; ".join(errors))
print(f"{sent} frames from the peer: 2000 captured into 40 exact flows, "
      f"{p['xdp_kernel_rule']} left to the kernel (ARP, ping)")
PYEOF
# A two-queue interface read on one queue: RSS puts some flows on the other, where the
# program finds no socket and leaves them to the kernel. Said at start, and counted as
# missed (rx_missed: the probe's loss, exit status 2), per queue in the XDP counters.
tag=appl$$q
veth_pair "$tag" 2
COLLECTOR_NETNS=${tag}p start_collector "$port" "$WORK/collector2" --quiet
ip netns exec "${tag}p" "$DPFIX_PROBE" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$prefix" \
	-l 0-1 --log-level=lib.eal:warning --log-level=pmd.net.af_xdp:warning \
	--vdev "net_af_xdp0,iface=${tag}a,queue_count=1" -- --collector "udp://127.0.0.1:$port" \
	--stats-interval 0 --stats-json "$WORK/stats2.json" >"$WORK/probe2.stdout" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/probe2.stdout" "worker(s)" 20
grep -q "warning: ${tag}a has 2 receive queues and the probe reads 1: .*queue_count=2" "$WORK/probe2.stdout" ||
	fail "no warning about the unread queue: $(cat "$WORK/probe2.stdout")"
ip netns exec "${tag}s" "$PY" "$DPFIX_SOURCE_ROOT/tests/integration/send_frames.py" "${tag}b" 400 40
wait_for_telemetry "$prefix" /dpfix/stats "c['rx_packets'] + c['rx_missed']" 400
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 2 ] || fail "probe exited with $rc after missing a queue's frames, want 2"
[ "$(counter "$WORK/probe2.stdout" records_lost)" = 0 ] || fail "records lost: exit 2 for another reason"
stop_collector
$PY - "$WORK/stats2.json" <<'PYEOF' || fail "unread queue"
import json, sys
p = json.load(open(sys.argv[1]))["ports"][0]
if not (p["rx_missed"] > 0 and p["rx_missed"] == p["xdp_queue_1_kernel_no_socket"] == p["xdp_kernel_no_socket"]
        and p["xdp_queue_0_redirected"] + p["rx_missed"] == 400):
    sys.exit(f"port counters {p}")
print(f"two queues, one read: {p['xdp_queue_0_redirected']} captured, {p['rx_missed']} missed on queue 1")
PYEOF
echo "capture_xdp: ok"
