#!/usr/bin/env bash
# A template flood: 250 UDP source ports each define 4096 one-field templates (8 MB
# sent). Each template took a fixed 512-field slot (4 KB: 1.6 GB and more); now it
# takes what its fields need, and the templates the sessions hold together beyond each
# one's 64 KiB reserve are capped (--template-memory): the collector's peak resident
# memory stays within that bound, every template is either stored or refused and
# counted, the refusal is said, and a real exporter that comes after the flood still
# has its templates taken (its session's reserve) and its export decoded exactly.
source "$(dirname "$0")/lib.sh"

PORTS=${FLOOD_PORTS:-250}
PER_PORT=4096
CAP=$((16 << 20))
port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json" --template-memory "$CAP"
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
base=$(rss_kb "$COLLECTOR_PID" VmRSS)

# The flood's sockets stay open until the test ends: a closed one's port could be the
# probe's below, which would then be the flood's session, its templates over the cap.
$PY - "$port" "$PORTS" "$PER_PORT" >"$WORK/flood.out" <<'PYEOF' &
import socket, struct, sys, time
port, ports, per_port = map(int, sys.argv[1:4])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(ports)]
PER_DATAGRAM = 170   # one-field template records of 8 bytes
for s in socks:
    seq = 0
    for first in range(256, 256 + per_port, PER_DATAGRAM):
        ids = range(first, min(first + PER_DATAGRAM, 256 + per_port))
        recs = b"".join(struct.pack("!HHHH", i, 1, 2, 8) for i in ids)   # packetDeltaCount, 8
        body = struct.pack("!HH", 2, 4 + len(recs)) + recs
        s.sendto(struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), 0, 1) + body,
                 ("127.0.0.1", port))
    time.sleep(0.002)   # paced per port: the test is about memory, not socket drops
print("sent", flush=True)
time.sleep(600)
PYEOF
PIDS+=("$!")
disown   # the exit trap kills it; no job notice
wait_for_text "$WORK/flood.out" "^sent" 120

# The flood is read once the socket's queue stays empty (a later exporter's datagrams
# are not in it yet).
udp_queue() {
	$PY -c '
import sys
port = "%04X" % int(sys.argv[1])
for line in open("/proc/net/udp").readlines()[1:]:
    f = line.split()
    if f[1].endswith(":" + port):
        print(int(f[4].split(":")[1], 16))
        break
else:
    print(0)' "$1"
}
empty=0
for _ in $(seq 600); do
	[ "$(udp_queue "$port")" = 0 ] && empty=$((empty + 1)) || empty=0
	[ "$empty" -ge 3 ] && break
	sleep 0.1
done
peak=$(rss_kb "$COLLECTOR_PID" VmHWM)
grown=$(((peak - base) / 1024))
# The bound: the cap, each session's reserve, each session's own state (under 100 KB:
# decoder, session, a full UDP queue) and malloc's own overhead.
bound=$(((CAP + PORTS * (64 << 10) + PORTS * (100 << 10)) / 1048576 + 16))
echo "peak RSS grew $grown MB after $PORTS x $PER_PORT templates (bound $bound MB)"
[ "$grown" -le "$bound" ] || fail "the template flood grew the collector by $grown MB, bound $bound MB"

# A real exporter after the flood: its templates fit its own reserve.
probe_export_exact "$WORK/collector" "udp://127.0.0.1:$port" "$WORK/records.json"
out=$WORK/collector.stdout
stored=$(counter "$out" templates)
refused=$(counter "$out" templates_refused_memory)
[ "$refused" -gt 0 ] || fail "no template refused for memory: $stored stored"
flood=$((PORTS * PER_PORT))
[ $((stored + refused)) -ge "$flood" ] ||
	fail "$stored stored + $refused refused, want at least the flood's $flood"
grep -q "template memory (16777216 bytes beyond each session's 65536) is used up" "$WORK/collector.stderr" ||
	fail "the refusal is not said: $(grep -m3 -i template "$WORK/collector.stderr")"
[ "$(grep -c "is used up" "$WORK/collector.stderr")" -le "$PORTS" ] || fail "refusals said more than once per session"
echo "collector_template_flood: ok ($stored templates stored, $refused refused, peak +$grown MB, $(counter "$out" template_bytes_peak) bytes of templates at most)"
