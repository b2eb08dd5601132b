#!/usr/bin/env bash
# Stopping the collector with SIGINT/SIGTERM: many start/burst/SIGINT cycles, each
# signal at a random moment of a burst from many UDP ports while the collector prints
# every record to a pipe that is full (its reader starts late). Each cycle the collector
# must stop on the one signal, print its summary and exit 0, and its stdout must hold
# exactly the records its summary counts: a signal handler's interrupted write() made
# stdio drop a buffer of printed records (4 KB) whenever the signal came while the
# output was full. Then a second signal ends the reading of queued input at once
# (without it that reading lasts up to 10 s while an exporter keeps sending), and what
# it leaves unread is counted.
source "$(dirname "$0")/lib.sh"

CYCLES=${COLLECTOR_STOP_CYCLES:-15}

cat >"$WORK/burst.py" <<'PYEOF'
import os, random, signal, socket, struct, sys, time
port, pid, records_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
PORTS, DATAGRAMS, PER = 40, 1200, 20
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(PORTS)]
tmpl = struct.pack("!HH", 2, 16) + struct.pack("!HHHHHH", 256, 2, 1, 8, 2, 8)
seq = [0] * PORTS
stop_at = random.randrange(0, DATAGRAMS)
sent = 0
for k in range(DATAGRAMS):
    i = k % PORTS
    recs = b"".join(struct.pack("!QQ", 1000 + k, 1) for _ in range(PER))
    body = tmpl + struct.pack("!HH", 256, 4 + len(recs)) + recs
    socks[i].sendto(struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), seq[i], 1) + body,
                    ("127.0.0.1", port))
    seq[i] += PER
    sent += PER
    if k == stop_at:
        os.kill(pid, signal.SIGINT)
open(records_file, "w").write(f"{sent}\n")
PYEOF

for cycle in $(seq "$CYCLES"); do
	port=$(free_port)
	out=$WORK/c$cycle
	# The reader starts late: the pipe (64 KB) is full during most of the burst.
	{ rc=0; "$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$port" 2>"$out.stderr" || rc=$?; echo $rc >"$out.rc"; } |
		{ sleep 0.5; cat >"$out.stdout"; } &
	reader=$!
	PIDS+=("$reader")
	wait_for_text "$out.stderr" "listening on" 10
	cpid=$(pgrep -n -f "dpfix-collector --listen udp://127.0.0.1:$port") || fail "cycle $cycle: no collector"
	PIDS+=("$cpid")
	$PY "$WORK/burst.py" "$port" "$cpid" "$out.sent"
	timeout 30 tail --pid="$cpid" -f /dev/null ||
		fail "cycle $cycle: the collector did not stop within 30 s of one SIGINT: $(tail -3 "$out.stderr")"
	wait "$reader"
	grep -q "summary:" "$out.stdout" || fail "cycle $cycle: no summary: $(tail -3 "$out.stderr")"
	flows=$(summary_value "$out.stdout" flows)
	printed=$(grep -c "octetDeltaCount=" "$out.stdout" || true)
	[ "$printed" = "$flows" ] ||
		fail "cycle $cycle: $printed records printed, the summary counts $flows (sent $(cat "$out.sent"))"
	[ "$flows" -gt 0 ] || fail "cycle $cycle: nothing decoded"
	[ "$(cat "$out.rc")" = 0 ] || fail "cycle $cycle: exit status $(cat "$out.rc")"
done
echo "ok $CYCLES cycles: one SIGINT each, every decoded record printed"

# A second signal while the collector reads what is queued: 3000 datagrams wait (the
# collector was SIGSTOPped while they came) and it prints their 60000 records to a slow
# reader, which makes that reading last seconds. A second SIGINT ends it at once; every
# datagram is then either decoded (and its records printed) or counted as unread.
port=$(free_port)
out=$WORK/second
{ rc=0; "$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$port" 2>"$out.stderr" || rc=$?; echo $rc >"$out.rc"; } |
	$PY -c '
import sys, time
out = open(sys.argv[1], "wb")
while chunk := sys.stdin.buffer.read1(4096):
    out.write(chunk)
    time.sleep(0.01)
' "$out.stdout" &
reader=$!
PIDS+=("$reader")
wait_for_text "$out.stderr" "listening on" 10
cpid=$(pgrep -n -f "dpfix-collector --listen udp://127.0.0.1:$port") || fail "no collector"
PIDS+=("$cpid")
kill -STOP "$cpid"
$PY - "$port" <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tmpl = struct.pack("!HH", 2, 16) + struct.pack("!HHHHHH", 256, 2, 1, 8, 2, 8)
for k in range(3000):
    recs = b"".join(struct.pack("!QQ", 1000 + k, 1) for _ in range(20))
    body = tmpl + struct.pack("!HH", 256, 4 + len(recs)) + recs
    s.sendto(struct.pack("!HHIII", 10, 16 + len(body), 0, k * 20, 1) + body, ("127.0.0.1", port))
PYEOF
kill -INT "$cpid"
kill -CONT "$cpid"
wait_for_text "$out.stderr" "a second signal stops at once" 10
sleep 0.5
kill -INT "$cpid"
timeout 5 tail --pid="$cpid" -f /dev/null ||
	fail "the collector still read queued input 5 s after a second SIGINT"
wait "$reader"
rc=$(cat "$out.rc")
grep -q "summary:" "$out.stdout" || fail "no summary after a second SIGINT"
grep -q "a second signal: stopped reading" "$out.stderr" ||
	fail "the early stop is not said: $(tail -3 "$out.stderr")"
messages=$(counter "$out.stdout" messages)
unread=$(counter "$out.stdout" unread_drops)
flows=$(summary_value "$out.stdout" flows)
printed=$(grep -c "octetDeltaCount=" "$out.stdout" || true)
[ "$unread" -gt 0 ] || fail "the second signal left nothing unread: $messages messages decoded"
[ $((messages + unread)) = 3000 ] ||
	fail "$messages datagrams decoded + $unread counted unread, want 3000 sent"
[ "$printed" = "$flows" ] && [ "$flows" = $((messages * 20)) ] ||
	fail "$printed records printed, $flows in the summary, $messages messages of 20"
[ "$rc" = 2 ] || fail "exit status $rc after datagrams were left unread, want 2"
echo "ok second SIGINT: $messages datagrams decoded and printed, $unread counted unread"
echo "collector_stop: ok"
