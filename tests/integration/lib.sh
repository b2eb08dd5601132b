# Helpers for the integration tests: run the real programs on loopback, check results.
# Sourced by each test; meson passes the program paths in the environment.
set -euo pipefail

: "${DPFIX_PROBE:?}" "${DPFIX_COLLECTOR:?}" "${DPFIX_SOURCE_ROOT:?}"
PY=/usr/bin/python3    # Debian's python: the one that has scapy
SAMPLE_PCAP="$DPFIX_SOURCE_ROOT/tests/data/sample.pcap"
SAMPLE_EXPECTED="$DPFIX_SOURCE_ROOT/tests/data/sample.expected.json"

WORK=$(mktemp -d /tmp/dpfix-test.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${DPFIX_KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
	rm -rf "/var/run/dpdk/dpfix-test-$$"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A port free for both UDP and TCP on 127.0.0.1. It is drawn below the kernel's range
# for ephemeral ports (net.ipv4.ip_local_port_range): a port from that range can be
# taken by any process's outgoing connection between this check and the test's bind,
# which on a busy machine (other test runs, builds) happens.
free_port() {
	$PY - <<'PYEOF'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randrange(10000, low) if low > 11000 else 0
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", port))
                port = s.getsockname()[1]
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port")
PYEOF
}

# EAL arguments for a test run: no hugepages, no PCI, a private runtime directory.
eal_args() {
	echo "--no-huge -m 512 --no-pci --no-shconf --file-prefix dpfix-test-$$ -l 0-1 --log-level=lib.eal:warning"
}

expected() {
	$PY -c "import json,sys; print(json.load(open('$SAMPLE_EXPECTED'))['$1'])"
}

# start_collector PORT OUTPREFIX [args...]: the collector on udp://127.0.0.1:PORT, in the
# background; start_collector_at URL OUTPREFIX [args...] for any other endpoint.
start_collector() {
	local port=$1
	shift
	start_collector_at "udp://127.0.0.1:$port" "$@"
}

start_collector_at() {
	local url=$1 out=$2
	shift 2
	"$DPFIX_COLLECTOR" --listen "$url" "$@" >"$out.stdout" 2>"$out.stderr" &
	COLLECTOR_PID=$!
	PIDS+=("$COLLECTOR_PID")
	wait_for_text "$out.stderr" "listening on" 10
}

# stop_collector: SIGTERM, then wait; the collector must exit 0 on its own.
stop_collector() {
	kill -TERM "$COLLECTOR_PID"
	local rc=0
	timeout 10 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "collector did not exit on SIGTERM"
	wait "$COLLECTOR_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "collector exited with $rc"
}

# wait_for_close OUTPREFIX: the collector has seen the exporter's orderly close (FIN,
# SCTP SHUTDOWN, close_notify), so it has read everything sent before. A fixed sleep
# is not enough for SCTP, whose stack runs in threads of its own.
wait_for_close() {
	wait_for_text "$1.stderr" "closed by the exporter" 30
}

wait_for_text() {
	local file=$1 text=$2 seconds=$3
	for _ in $(seq $((seconds * 20))); do
		grep -q "$text" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "'$text' did not appear in $file within ${seconds}s: $(cat "$file" 2>/dev/null)"
}

# summary_value FILE NAME: a number from the collector's summary line or table.
summary_value() {
	local file=$1 name=$2
	grep -m1 "summary:" "$file" | grep -o "$name [0-9]*" | awk '{print $2}'
}
