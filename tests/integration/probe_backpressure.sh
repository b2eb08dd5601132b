#!/usr/bin/env bash
# A full export ring with a full flow table. From a capture file the worker waits for
# room: 200 000 packets over 30 000 flows through a 1024-flow table and a 64-record ring
# to a TCP collector are every one metered and delivered, octets exact, exit 0 (it used
# to ignore tens of thousands, count them as metered too, and exit 0). A live port cannot
# wait: its packets that find no room are ignored, counted apart from the metered ones,
# named at exit, in the Metering Process Reliability record with their time window, and
# the exit status is 2. A file whose collector is gone waits, and still stops when told.
source "$(dirname "$0")/lib.sh"

$PY - "$WORK" <<'PYEOF'
import random, struct, sys
rng = random.Random(11)
mac = b"\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x08\x00"
def frame(k, payload):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + payload, 1, 0, 64, 17, 0,
                     bytes([10, 80, k >> 8, k & 255]), bytes([10, 81, 0, 1]))
    return mac + ip + struct.pack("!HHHH", 2000 + k % 13, 53, 8 + payload, 0) + bytes(payload)
def write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1763900000 + i // 100000, i % 100000 * 10, len(fr), len(fr)) + fr)
octets, frames = 0, []
for i in range(200000):
    k, payload = rng.randrange(30000), rng.randrange(18, 200)
    frames.append(frame(k, payload))
    octets += 28 + payload
write(sys.argv[1] + "/file.pcap", frames)
open(sys.argv[1] + "/file.octets", "w").write(f"{octets}\n")
write(sys.argv[1] + "/live.pcap", [frame(k, 18) for k in range(4096)])
PYEOF

# From a file: nothing ignored, every packet metered and delivered.
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/file.collector" --quiet
# shellcheck disable=SC2046
timeout 120 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/file.pcap" -- \
	--collector "tcp://127.0.0.1:$port" --flow-table-size 1024 --export-ring-size 64 \
	--stats-interval 0 --stats-json "$WORK/file.stats.json" >"$WORK/file.probe" 2>&1 ||
	fail "file: probe exited with $?: $(tail -3 "$WORK/file.probe")"
wait_for_close "$WORK/file.collector"
stop_collector
$PY - "$WORK" <<'PYEOF' || fail "file input lost packets"
import json, re, sys
work = sys.argv[1]
t = json.load(open(f"{work}/file.stats.json"))["totals"]
summary = open(f"{work}/file.collector.stdout").read()
got = {k: int(re.search(rf"\b{k} (\d+)", summary).group(1)) for k in ("packets", "octets", "flows")}
octets = int(open(f"{work}/file.octets").read())
errors = []
if t["ring_full"] == 0:
    errors.append("the export ring was never full: the test tests nothing")
for k, want in (("rx_packets", 200000), ("metered_packets", 200000), ("ignored_packets", 0),
                ("metered_octets", octets)):
    if t[k] != want:
        errors.append(f"{k} {t[k]}, want {want}")
if got != {"packets": 200000, "octets": octets, "flows": t["records_enqueued"]}:
    errors.append(f"collector {got}, want 200000 packets, {octets} octets, "
                  f"{t['records_enqueued']} flows")
if errors:
    sys.exit("; ".join(errors))
print(f"file: 200000 packets, {got['flows']} records, the worker waited {t['ring_full']} times")
PYEOF

# From a file, with the collector gone: the worker waits for a reconnection that does not
# come; told to stop, the probe gives the records up after its 5 s grace, counted (exit 2).
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/gone.collector" --quiet
gone_collector=$COLLECTOR_PID
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/file.pcap" -- \
	--collector "tcp://127.0.0.1:$port" --flow-table-size 1024 --export-ring-size 64 \
	--stats-interval 0 --stats-json "$WORK/gone.stats.json" >"$WORK/gone.probe" 2>&1 &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/gone.collector.stderr" "session from" 30
kill -9 "$gone_collector"
wait_for_text "$WORK/gone.probe" "reconnect failed" 30
kill -INT "$PROBE_PID"
rc=0
timeout 30 tail --pid="$PROBE_PID" -f /dev/null || fail "gone: the probe did not stop within 30 s of SIGINT"
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 2 ] || fail "gone: probe exited with $rc, want 2"
$PY - "$WORK/gone.stats.json" <<'PYEOF' || fail "gone: counters"
import json, sys
s = json.load(open(sys.argv[1]))
t, x = s["totals"], s["exporter"]
if t["rx_packets"] != t["metered_packets"] + t["ignored_packets"] or x["records_lost"] == 0:
    sys.exit(f"rx {t['rx_packets']}, metered {t['metered_packets']}, ignored {t['ignored_packets']}, "
             f"records lost {x['records_lost']}")
print(f"gone: {t['rx_packets']} read before the stop, {x['records_lost']} records counted as lost")
PYEOF

# A live port (infinite_rx: no end, so no waiting): stopped once packets were ignored.
prefix="dpfix-test-$$"
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/live.collector" --quiet --json "$WORK/live.json"
# shellcheck disable=SC2046
"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/live.pcap,infinite_rx=1" -- \
	--collector "tcp://127.0.0.1:$port" --flow-table-size 1024 --export-ring-size 64 \
	--mbuf-count 8192 --stats-interval 0 --stats-json "$WORK/live.stats.json" \
	>"$WORK/live.probe" 2>"$WORK/live.stderr" &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_for_text "$WORK/live.probe" "worker(s)" 30
wait_for_telemetry "$prefix" /dpfix/stats "c['ignored_packets'] > 0" True 30
kill -INT "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
[ "$rc" -eq 2 ] || fail "live: probe exited with $rc after ignoring packets, want 2"
grep -q "packets were not metered: the flow table was full and the export ring too" "$WORK/live.stderr" ||
	fail "live: no word of the ignored packets at exit: $(tail -3 "$WORK/live.stderr")"
wait_for_close "$WORK/live.collector"
stop_collector
$PY - "$WORK" <<'PYEOF' || fail "live port: ignored packets miscounted"
import json, re, sys
work = sys.argv[1]
t = json.load(open(f"{work}/live.stats.json"))["totals"]
records = [json.loads(l) for l in open(f"{work}/live.json")]
flows = [r for r in records if "packetDeltaCount" in r]
mr = [r for r in records if "ignoredPacketTotalCount" in r][-1]
errors = []
if t["ignored_packets"] == 0 or t["rx_packets"] != t["metered_packets"] + t["ignored_packets"]:
    errors.append(f"rx {t['rx_packets']} != metered {t['metered_packets']} + ignored "
                  f"{t['ignored_packets']}")
if sum(r["packetDeltaCount"] for r in flows) != t["metered_packets"]:
    errors.append(f"the records hold {sum(r['packetDeltaCount'] for r in flows)} packets, "
                  f"metered {t['metered_packets']}")
if mr["ignoredPacketTotalCount"] != t["ignored_packets"]:
    errors.append(f"options record ignoredPacketTotalCount {mr['ignoredPacketTotalCount']}")
window = [v for k, v in mr.items() if k.endswith("Milliseconds")]
if len(window) != 2 or any(str(v).startswith("1970") for v in window):
    errors.append(f"ignored-packet time window {window}")
if errors:
    sys.exit("; ".join(errors))
print(f"live: {t['rx_packets']} received, {t['ignored_packets']} ignored, window {window}")
PYEOF
echo "probe_backpressure: ok"
