#!/usr/bin/env bash
# dpfix-collector --write onto a full disk (a 256 KiB tmpfs this test mounts and fills):
# the failure is said once; "writing works again" only once a write of the buffered
# messages has succeeded, after the test makes room (it was said after every message
# taken into the buffer, 86 times with the file still empty); every message is either
# stored or counted as lost, the count said, in the summary and the exit status (2); the
# file holds whole messages that ipfixDump reads cleanly, exactly the stored ones.
source "$(dirname "$0")/lib.sh"

disk=$WORK/disk
mkdir -p "$disk"
mount -t tmpfs -o size=256k "dpfix-coll-write-full" "$disk" || fail "cannot mount a tmpfs"
# The collector holds a file there: it is killed first, and the mount detached lazily.
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	umount -l "$disk" 2>/dev/null || true; cleanup' EXIT
dd if=/dev/zero of="$disk/filler" bs=4k 2>/dev/null || true   # fills it: ENOSPC ends dd
PER=10

port=$(free_port) src=$(free_port)
start_collector "$port" "$WORK/c" --quiet --write "$disk/out.ipfix"
# send FIRST COUNT: COUNT messages of PER records from one exporter (source port src),
# sequence numbers going on from message FIRST.
send() {
	$PY - "$port" "$src" "$1" "$2" "$PER" <<'PYEOF'
import socket, struct, sys, time
port, src, first, count, per = map(int, sys.argv[1:6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", src))   # one exporter, one session, across the three sends
tmpl = struct.pack("!HH", 2, 16) + struct.pack("!HHHHHH", 256, 2, 2, 8, 1, 8)
for k in range(first, first + count):
    recs = b"".join(struct.pack("!QQ", 1, 100 + k) for _ in range(per))
    body = tmpl + struct.pack("!HH", 256, 4 + len(recs)) + recs
    s.sendto(struct.pack("!HHIII", 10, 16 + len(body), int(time.time()), k * per, 1) + body,
             ("127.0.0.1", port))
    time.sleep(0.02)
PYEOF
}
send 0 40
wait_for_text "$WORK/c.stderr" "write: .*out.ipfix: write failed: No space left on device" 10
send 40 40
sleep 1.5   # a flush of those 40 is tried (once a second) and fails again
! grep -q "works again" "$WORK/c.stderr" ||
	fail "'works again' said while the disk is still full: $(grep -c "works again" "$WORK/c.stderr") times"
rm "$disk/filler"
send 80 40
wait_for_text "$WORK/c.stderr" "writing works again; [0-9]* messages were lost" 10
rc=0
kill -TERM "$COLLECTOR_PID"
wait "$COLLECTOR_PID" || rc=$?
[ "$rc" = 2 ] || fail "exit status $rc with messages lost, want 2"
[ "$(grep -c "works again" "$WORK/c.stderr")" = 1 ] || fail "'works again' said more than once"
[ "$(grep -c "write failed" "$WORK/c.stderr")" = 1 ] || fail "the failure said more than once"
out=$WORK/c.stdout
stored=$(counter "$out" write_messages)
lost=$(counter "$out" write_messages_lost)
said=$(grep -o "works again; [0-9]*" "$WORK/c.stderr" | grep -o "[0-9]*$")
[ "$lost" -gt 0 ] && [ "$lost" = "$said" ] || fail "lost $lost, said $said"
[ $((stored + lost)) = 120 ] || fail "$stored stored + $lost lost, want the 120 sent"
grep -q "$lost messages received were not stored (write_messages_lost)" "$WORK/c.stderr" ||
	fail "the loss is not said at the end"
ipfix_dump_clean "$disk/out.ipfix" $((stored * PER))
echo "collector_write_full: ok ($lost messages lost while the disk was full and said once, $stored stored and read back by ipfixDump, exit 2)"
