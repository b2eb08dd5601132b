#!/usr/bin/env bash
# log_level filters the collector's and dpfix-dump's lines on stderr, never what they
# count: at warning, a junk exporter's session and malformed message are not said but
# are in the summary; at info (the default) they are said; a bad level is refused with
# the names it takes.
source "$(dirname "$0")/lib.sh"

junk() {
	$PY - "$1" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"not IPFIX", ("127.0.0.1", int(sys.argv[1])))
PYEOF
}

for level in warning info; do
	port=$(free_port)
	"$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$port" --log-level "$level" \
		>"$WORK/$level.stdout" 2>"$WORK/$level.stderr" &
	COLLECTOR_PID=$!
	PIDS+=("$COLLECTOR_PID")
	# At warning even "listening on" is not said: wait for the socket itself.
	for _ in $(seq 200); do
		ss -Huln "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	junk "$port"
	# Loopback delivers at once: the stop's drain reads the datagram.
	stop_collector
	[ "$(summary_value "$WORK/$level.stdout" sessions)" = 1 ] || fail "$level: sessions: $(cat "$WORK/$level.stdout")"
	grep -q "malformed_messages *1$" "$WORK/$level.stdout" || fail "$level: the junk was not counted"
done
! grep -q "malformed message\|new session from" "$WORK/warning.stderr" ||
	fail "log_level warning still says: $(cat "$WORK/warning.stderr")"
grep -q "malformed message (reported once per session)" "$WORK/info.stderr" ||
	fail "log_level info does not say the malformed message: $(cat "$WORK/info.stderr")"
grep -q "new session from" "$WORK/info.stderr" || fail "log_level info does not say the session"

"$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$(free_port)" --log-level loud >"$WORK/bad.out" 2>&1 &&
	fail "log_level loud was taken"
grep -q "log_level 'loud' is not one of error, warning, info, debug" "$WORK/bad.out" ||
	fail "bad level: $(cat "$WORK/bad.out")"

# dpfix-dump: at error its problems are still said (they are errors); the summary too.
printf 'not IPFIX at all' >"$WORK/junk.bin"
"$DPFIX_DUMP" --log-level error "$WORK/junk.bin" >/dev/null 2>"$WORK/dump.err" && fail "dump took junk"
grep -q "not IPFIX, pcap or pcapng" "$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
echo "collector_log_level: ok"
