#!/usr/bin/env bash
# Loss over UDP is never silent. A stopped collector with a small receive buffer is sent
# more than the buffer holds: the kernel drops the end of that burst, which no sequence
# number can reveal, so the collector must report the drops by its socket's count, while
# it happens and in its summary, exactly. A later message then shows the gap by sequence
# number, and a second exporter's gap (partly filled by a late message) is counted apart.
# What is queued when the collector is told to stop is read before its summary. The loss
# makes the exit status 2, the summary naming the counters that say so; with nothing
# lost it is 0. Without the privilege to exceed net.core.rmem_max, the buffer obtained
# is said.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json" \
	--udp-receive-buffer 32768
out=$WORK/collector

# send.py NAME SPEC...: from the UDP socket kept for NAME (one exporter session each), a
# template message, or data messages: "t" or "d:SEQ:RECORDS[:COUNT]" (COUNT messages of
# RECORDS records, the sequence number counting on).
cat >"$WORK/send.py" <<'PYEOF'
import socket, struct, sys, os
port, name = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["SRC_" + name])))
def msg(seq, body):
    return struct.pack("!HHIII", 10, 16 + len(body), 0, seq, 1) + body
for spec in sys.argv[3:]:
    if spec == "t":   # template 256: addresses, packetDeltaCount, octetDeltaCount
        rec = struct.pack("!HHHHHHHHHH", 256, 4, 8, 4, 12, 4, 2, 8, 1, 8)
        s.sendto(msg(0, struct.pack("!HH", 2, 4 + len(rec)) + rec), ("127.0.0.1", port))
        continue
    _, seq, n, *count = spec.split(":")
    seq, n = int(seq), int(n)
    for _ in range(int(count[0]) if count else 1):
        recs = b"".join(struct.pack("!IIQQ", 0x0a000001, 0x0a000002, 1, 100) for _ in range(n))
        s.sendto(msg(seq, struct.pack("!HH", 256, 4 + len(recs)) + recs), ("127.0.0.1", port))
        seq += n
PYEOF
export SRC_A SRC_B
SRC_A=$(free_port)
SRC_B=$(free_port)
send() { $PY "$WORK/send.py" "$port" "$@"; }

# 300 messages of 10 records while the collector is stopped: 64 KB of socket buffer
# (32 KB asked, doubled by the kernel) holds far fewer.
kill -STOP "$COLLECTOR_PID"
send A t d:0:10:300
kill -CONT "$COLLECTOR_PID"
wait_for_text "$out.stderr" "datagrams lost before decoding" 10
# Every drop happened while the collector was stopped, so its first report has them all.
dropped=$(grep -o "[0-9]* datagrams lost before decoding" "$out.stderr" | awk '{print $1}')
[ "$dropped" -gt 0 ] || fail "nothing was dropped: the test sends too little for the buffer"
grep -q ": $dropped datagrams lost before decoding ($dropped in all: socket buffer full $dropped," \
	"$out.stderr" || fail "drops not all counted as the socket's: $(cat "$out.stderr")"
got_a=$(((300 - dropped) * 10))
wait_for_records "$WORK/records.json" "$got_a"
! grep -q "records missing" "$out.stderr" ||
	fail "a loss at the end of a stream cannot show in sequence numbers: $(cat "$out.stderr")"

# The next message from A shows the gap: 10 records per dropped message. B loses 7
# records (sequence 5..11), then 4 of them arrive late.
send A d:3000:10
send B t d:0:5 d:12:5 d:5:4
wait_for_records "$WORK/records.json" $((got_a + 10 + 14))
stop_collector 2

lost=$((dropped * 10))
for c in "socket_drops $dropped" "queue_drops 0" "peer_drops 0" "sequence_lost $((lost + 7))" \
		"sequence_recovered 4" "sequence_out_of_order 1" "data_records $((got_a + 24))"; do
	set -- $c
	[ "$(counter "$out.stdout" "$1")" = "$2" ] ||
		fail "summary: $1 is $(counter "$out.stdout" "$1"), want $2: $(cat "$out.stdout")"
done
[ "$(grep -c "records missing by sequence number (reported once per session)" "$out.stderr")" = 2 ] ||
	fail "each exporter's gap is reported once: $(cat "$out.stderr")"
grep -q "udp 127.0.0.1:$SRC_A: closed at shutdown after $((got_a / 10 + 2)) messages, $lost records missing" \
	"$out.stderr" || fail "A's close line does not count $lost missing records: $(cat "$out.stderr")"
grep -q "udp 127.0.0.1:$SRC_B: closed at shutdown after 4 messages, 3 records missing" \
	"$out.stderr" || fail "B's close line does not count 3 missing records: $(cat "$out.stderr")"
grep -qx "dpfix-collector: data lost (exit status 2): sequence_lost $((lost + 7)) (4 recovered), socket_drops $dropped" \
	"$out.stdout" || fail "the summary does not name the loss: $(grep -v '^  ' "$out.stdout")"

# Stopped with a backlog: what was queued before the signal is read before the summary
# (4000 datagrams, far more than the rounds a stop used to allow, well within the
# default buffer).
port2=$(free_port)
start_collector "$port2" "$WORK/backlog" --quiet
kill -STOP "$COLLECTOR_PID"
SRC_A=$(free_port) $PY "$WORK/send.py" "$port2" A t d:0:10:4000
kill -TERM "$COLLECTOR_PID"
kill -CONT "$COLLECTOR_PID"
timeout 20 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "backlog collector did not exit"
rc=0
wait "$COLLECTOR_PID" || rc=$?
[ "$rc" = 0 ] && ! grep -q "data lost" "$WORK/backlog.stdout" ||
	fail "stopped with a backlog, nothing lost: exit status $rc, want 0: $(grep -v '^  ' "$WORK/backlog.stdout")"
for c in "data_records 40000" "socket_drops 0" "sequence_lost 0"; do
	set -- $c
	[ "$(counter "$WORK/backlog.stdout" "$1")" = "$2" ] ||
		fail "stopped with a backlog: $1 is $(counter "$WORK/backlog.stdout" "$1"), want $2"
done

# Without CAP_NET_ADMIN the buffer stops at net.core.rmem_max, and the collector says so.
rmem_max=$(cat /proc/sys/net/core/rmem_max)
want=$((rmem_max * 2))
if [ "$want" -le $((1 << 30)) ]; then   # the option's maximum
	setpriv --inh-caps=-net_admin --bounding-set=-net_admin timeout -s INT 1 "$DPFIX_COLLECTOR" \
		--listen "udp://127.0.0.1:$port" --udp-receive-buffer "$want" >/dev/null 2>"$out.nocap" || true
	grep -q "receive buffer $rmem_max bytes, not the $want asked" "$out.nocap" ||
		fail "no warning for a buffer capped at rmem_max $rmem_max: $(cat "$out.nocap")"
fi

echo "collector_udp_loss: ok ($dropped of 300 datagrams dropped by the kernel, all reported)"
