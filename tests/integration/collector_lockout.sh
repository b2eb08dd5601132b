#!/usr/bin/env bash
# One host must not lock the exporters out of the collector. Before: each UDP source
# port opened a session that never expired, and at 256 sessions every later exporter
# was refused until a restart (256 one-byte datagrams from distinct ports did it, or 256
# idle TCP connections), the refused probe losing everything while the collector said
# nothing of its datagrams. Now sessions that delivered no valid message make room and
# time out, idle UDP sessions end, refusals are counted and said, and 1200 exporters at
# once fit the default table.
source "$(dirname "$0")/lib.sh"

# udp_sessions PORT N PY-EXPR: N sockets each send the datagram PY-EXPR (of i, the
# socket's number) to PORT, all their sockets kept open until the end.
udp_send() {
	$PY - "$@" <<'PYEOF'
import socket, struct, sys, time
port, n, expr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def msg(i, seq=0):
    tmpl = struct.pack("!HH", 2, 16) + struct.pack("!HHHHHH", 256, 2, 2, 8, 1, 8)
    data = struct.pack("!HH", 256, 20) + struct.pack("!QQ", 1, 100 + i)
    body = tmpl + data
    return struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), seq, 1) + body
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(eval(expr), ("127.0.0.1", port))
    socks.append(s)
    if i % 100 == 99:
        time.sleep(0.01)   # paced: this is about sessions, not the socket buffer
PYEOF
}

# 1. Junk from 300 ports with room for 256 sessions: the junk makes room (evicted), and
# the probe's export afterwards arrives exact.
port=$(free_port)
start_collector "$port" "$WORK/junk" --quiet --json "$WORK/junk.json" --max-sessions 256 \
	--first-message-timeout 60
udp_send "$port" 300 'b"\x01"'
probe_export_exact "$WORK/junk" "udp://127.0.0.1:$port" "$WORK/junk.json"
out=$WORK/junk.stdout
[ "$(counter "$out" sessions_evicted)" -ge 45 ] || fail "junk: $(counter "$out" sessions_evicted) evicted, want at least 45"
[ "$(counter "$out" sessions_refused_full)" = 0 ] || fail "junk: a session was refused"
grep -q "more lines about sessions that delivered nothing valid not shown" "$WORK/junk.stderr" ||
	fail "junk: 300 sessions of junk were all logged line by line"
echo "ok junk from 300 ports: $(counter "$out" sessions_evicted) evicted, the probe's export exact"

# 2. Idle TCP connections: 100 of them with room for 64 sessions, then the probe over
# TCP: the idle ones make room, its export arrives exact, and every idle connection the
# collector closed is seen closed.
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/tcp" --quiet --json "$WORK/tcp.json" \
	--max-sessions 64 --first-message-timeout 60
$PY - "$port" "$WORK/tcp.idle" <<'PYEOF' &
import socket, sys, time, select
port, out = int(sys.argv[1]), sys.argv[2]
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
open(out, "w").write("connected\n")
end, closed = time.monotonic() + 60, set()
while time.monotonic() < end:
    r, _, _ = select.select([c for c in conns if c not in closed], [], [], 0.2)
    for c in r:
        if c.recv(1) == b"":
            closed.add(c)
    open(out, "w").write(f"connected\nclosed {len(closed)}\n")
PYEOF
idle=$!
PIDS+=("$idle")
wait_for_text "$WORK/tcp.idle" "connected" 10
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "tcp://127.0.0.1:$port" >"$WORK/tcp.probe" 2>&1 || fail "tcp probe failed: $(tail -3 "$WORK/tcp.probe")"
wait_for_close "$WORK/tcp"
# 100 connections for 64 places: 36 evicted as they came, 1 more for the probe.
evicted=37
wait_for_text "$WORK/tcp.idle" "closed $evicted$" 10
stop_collector
kill "$idle" 2>/dev/null || true
out=$WORK/tcp.stdout
for what in flows packets octets; do
	[ "$(summary_value "$out" "$what")" = "$(expected "$what")" ] || fail "tcp: $what"
done
[ "$(counter "$out" sessions_evicted)" = "$evicted" ] ||
	fail "tcp: $(counter "$out" sessions_evicted) evicted, want $evicted"
echo "ok 100 idle TCP connections: $evicted evicted and seen closed, the probe's TCP export exact"

# 3. A full table of exporters that all deliver: a newcomer is refused, said and counted
# with every datagram it sent, its data lost (exit status 2, named); sessions that
# deliver nothing time out; idle UDP sessions end after the template lifetime.
port=$(free_port)
start_collector "$port" "$WORK/full" --quiet --max-sessions 16 --first-message-timeout 1 \
	--template-lifetime 3
udp_send "$port" 16 'msg(i)'
wait_for_text "$WORK/full.stderr" "new session from" 10
$PY - "$port" <<'PYEOF'
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tmpl = struct.pack("!HH", 2, 16) + struct.pack("!HHHHHH", 256, 2, 2, 8, 1, 8)
for seq in range(5):
    body = tmpl + struct.pack("!HH", 256, 20) + struct.pack("!QQ", 1, 1)
    s.sendto(struct.pack("!HHIII", 10, 16 + len(body), 0, seq, 1) + body, ("127.0.0.1", int(__import__("sys").argv[1])))
    time.sleep(0.05)
PYEOF
wait_for_text "$WORK/full.stderr" "refused: 16 sessions (max_sessions) are open and each has delivered valid messages; its datagrams are dropped for 10 s" 10
# The 16 end once idle for 3 s; then junk from 8 ports times out after 1 s.
for _ in $(seq 200); do
	[ "$(grep -c "closed: nothing received for 3 s" "$WORK/full.stderr")" = 16 ] && break
	sleep 0.05
done
udp_send "$port" 8 'b"junk"'
for _ in $(seq 200); do
	[ "$(grep -c "no valid IPFIX message within 1000 ms" "$WORK/full.stderr")" = 8 ] && break
	sleep 0.05
done
stop_collector 2
out=$WORK/full.stdout
grep -q "^dpfix-collector: data lost (exit status 2): .*sessions_refused_full 1$" "$out" ||
	fail "full: the summary should name the refused exporter as the loss: $(grep -v '^  ' "$out")"
[ "$(counter "$out" sessions_refused_full)" = 1 ] || fail "full: $(counter "$out" sessions_refused_full) refused, want 1"
[ $(($(counter "$out" refused_drops) + $(counter "$out" unread_drops))) = 5 ] ||
	fail "full: the refused exporter's 5 datagrams are not all counted: refused_drops $(counter "$out" refused_drops), unread_drops $(counter "$out" unread_drops)"
[ "$(counter "$out" sessions_idle_expired)" = 16 ] || fail "full: $(counter "$out" sessions_idle_expired) idle sessions ended, want 16"
[ "$(counter "$out" sessions_no_message)" = 8 ] || fail "full: $(counter "$out" sessions_no_message) junk sessions timed out, want 8"
[ "$(summary_value "$out" flows)" = 16 ] || fail "full: $(summary_value "$out" flows) flows, want 16"
echo "ok full table: the newcomer refused and its 5 datagrams counted, 16 idle sessions ended, 8 junk sessions timed out"

# 4. 1200 exporters at once, each its own UDP session, with the default limits.
port=$(free_port)
start_collector "$port" "$WORK/many" --quiet --json "$WORK/many.json"
base=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$COLLECTOR_PID/status")
udp_send "$port" 1200 'msg(i)' &
sender=$!
wait_for_records "$WORK/many.json" 1200
rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$COLLECTOR_PID/status")
wait "$sender"
stop_collector
out=$WORK/many.stdout
[ "$(summary_value "$out" sessions)" = 1200 ] || fail "many: $(summary_value "$out" sessions) sessions, want 1200"
[ "$(summary_value "$out" flows)" = 1200 ] || fail "many: $(summary_value "$out" flows) flows"
[ "$(counter "$out" sessions_refused_full)" = 0 ] && [ "$(counter "$out" peer_drops)" = 0 ] ||
	fail "many: exporters were refused"
echo "ok 1200 UDP exporters at once: all decoded, $(((rss - base) / 1200)) KB resident per session"
echo "collector_lockout: ok"
