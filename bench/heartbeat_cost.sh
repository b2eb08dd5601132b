#!/usr/bin/env bash
# Heartbeats (doc/heartbeats.md): how long a frozen collector takes to be found dead, and
# what heartbeats cost a session.
# Usage: bench/heartbeat_cost.sh [BUILD] [FREEZES] [SECONDS]
#  - detection: per scheme (dtls+udp, tls+tcp, dtls+sctp), one probe exporting endlessly
#    to dpfix-collector on loopback; FREEZES times the collector is frozen (SIGSTOP) at a
#    random point of the heartbeat cadence, found dead ("is dead", its time stamped as
#    the probe says it), thawed, and the probe's new session awaited. Prints each time
#    and min / median / p90 / max, with the bound heartbeat_interval x misses + 1 s.
#  - cost: per scheme, a probe with nothing to export (a one-packet capture replayed,
#    one flow, active_timeout 600) for SECONDS with heartbeat_interval 1 and then 0:
#    the bytes on the wire each way (every frame to and from the collector's port,
#    headers included, from a loopback capture by dumpcap) and the collector's CPU time (all its
#    threads, /proc schedstat). The difference is the heartbeats'.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
freezes=${2:-20}
seconds=${3:-20}
export DPFIX_SOURCE_ROOT=$top DPFIX_PROBE=$build/app/probe/dpfix-probe
export DPFIX_COLLECTOR=$build/app/collector/dpfix-collector
source "$top/tests/integration/lib.sh"

printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
PREFIX=dpfix-test-$$

# One UDP packet, 10.9.9.1:1000 -> 10.9.9.2:2000, as a pcap: replayed endlessly it is
# one flow that never ends within the run, so nothing but options records is exported.
$PY - "$WORK/one.pcap" <<'PYEOF'
import struct, sys
payload = b"x" * 18
udp = struct.pack("!HHHH", 1000, 2000, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 bytes([10, 9, 9, 1]), bytes([10, 9, 9, 2]))
frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
PYEOF

# cpu_ns PID: CPU nanoseconds used so far by all threads of a process.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# run_probe SCHEME PORT LOG PCAP_VDEV_ARGS [PROBE ARGS]: the probe in the background
# (PROBE_PID), its lines time-stamped into LOG.
run_probe() {
	local scheme=$1 port=$2 log=$3 vdev=$4
	shift 4
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "$vdev" -- --collector "$scheme://127.0.0.1:$port" \
		--psk-file "$WORK/psk" --psk-identity probe1.example "$@" --stats-interval 0 2>&1 |
		stamp_lines "$log" &
	PROBE_PID=$(jobs -p | tail -1)
	PIDS+=("$PROBE_PID")
}

stop_probe() {
	kill -INT "$(pgrep -f "file-prefix $PREFIX" | head -1)" 2>/dev/null || true
	wait "$PROBE_PID" 2>/dev/null || true
}

detection() {
	local scheme=$1 port sargs=() tag=${1/+/_} n
	port=$(free_port)
	[ "${scheme#*+}" != sctp ] || sargs=(--sctp-udp-port "$(free_port)")
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c" --quiet --psk-file "$WORK/psk" "${sargs[@]}"
	run_probe "$scheme" "$port" "$WORK/$tag.p" "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" \
		"${sargs[@]}" --active-timeout 1 --idle-timeout 1
	wait_for_telemetry "$PREFIX" /dpfix/stats "c['heartbeats_answered'] >= 2" True 30
	: >"$WORK/$tag.times"
	for n in $(seq 1 "$freezes"); do
		# A random point of the cadence.
		sleep "$($PY -c 'import random; print(round(random.uniform(0.5, 1.5), 3))')"
		kill -STOP "$COLLECTOR_PID"
		local t0=$EPOCHREALTIME t1
		for _ in $(seq 150); do
			[ "$(grep -ac "is dead" "$WORK/$tag.p")" -ge "$n" ] && break
			sleep 0.05
		done
		kill -CONT "$COLLECTOR_PID"
		t1=$(grep -a "is dead" "$WORK/$tag.p" | sed -n "${n}p" | cut -d' ' -f1)
		[ -n "$t1" ] || fail "$scheme: freeze $n not found dead in 7.5 s"
		echo "$t0 $t1" >>"$WORK/$tag.times"
		for _ in $(seq 300); do
			[ "$(grep -ac "resumed on" "$WORK/$tag.p")" -ge "$n" ] && break
			sleep 0.05
		done
		local answered
		answered=$(telemetry_value "$PREFIX" /dpfix/stats heartbeats_answered)
		wait_for_telemetry "$PREFIX" /dpfix/stats "c['heartbeats_answered'] > $answered" True 30
	done
	stop_probe
	stop_collector
	$PY - "$scheme" "$WORK/$tag.times" <<'PYEOF'
import statistics, sys
took = sorted(float(b) - float(a) for a, b in (line.split() for line in open(sys.argv[2])))
p90 = took[min(len(took) - 1, int(round(0.9 * (len(took) - 1))))]
print(f"{sys.argv[1]}: {len(took)} freezes, found dead after min {took[0]:.3f} / median "
      f"{statistics.median(took):.3f} / p90 {p90:.3f} / max {took[-1]:.3f} s (bound 4.000)")
print("  " + " ".join(f"{t:.3f}" for t in took))
PYEOF
}

# cost SCHEME INTERVAL: prints bytes/s to and from the collector and its CPU ms/s.
cost() {
	local scheme=$1 interval=$2 port sargs=() tag=cost.${1/+/_}.$2 c0 c1 filter
	port=$(free_port)
	filter="tcp port $port or udp port $port"
	if [ "${scheme#*+}" = sctp ]; then
		local up
		up=$(free_port)
		sargs=(--sctp-udp-port "$up")
		filter="udp port $up"
	fi
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c" --quiet --psk-file "$WORK/psk" "${sargs[@]}"
	run_probe "$scheme" "$port" "$WORK/$tag.p" "net_pcap0,rx_pcap=$WORK/one.pcap,infinite_rx=1" \
		"${sargs[@]}" --active-timeout 600 --idle-timeout 600 --packet-timestamps no \
		--heartbeat-interval "$interval"
	wait_for_text "$WORK/$tag.p" "liveness:" 30
	sleep 2 # the handshake and the first options records out of the window
	capture_start "$tag" "$filter"
	c0=$(cpu_ns "$COLLECTOR_PID")
	sleep "$seconds"
	c1=$(cpu_ns "$COLLECTOR_PID")
	kill -INT "${CAPTURE_PID[$tag]}"
	wait "${CAPTURE_PID[$tag]}" || true
	stop_probe
	stop_collector
	tshark -r "$WORK/$tag.pcapng" -T fields -e frame.len -e udp.dstport -e tcp.dstport 2>/dev/null |
		$PY -c '
import sys
port, up, secs, cpu = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
to = back = 0
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if port in f[1:] or (up and up in f[1:]):
        to += int(f[0])
    else:
        back += int(f[0])
print(f"{to / secs:.0f} {back / secs:.0f} {cpu / secs / 1e6:.3f}")' "$port" "${up:-}" "$seconds" "$((c1 - c0))"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for scheme in dtls+udp tls+tcp dtls+sctp; do
	detection "$scheme"
done
for scheme in dtls+udp tls+tcp dtls+sctp; do
	read -r on_to on_back on_cpu < <(cost "$scheme" 1)
	read -r off_to off_back off_cpu < <(cost "$scheme" 0)
	echo "$scheme: heartbeat_interval 1: to the collector $on_to B/s, back $on_back B/s, collector CPU $on_cpu ms/s; 0: $off_to B/s, $off_back B/s, $off_cpu ms/s; heartbeats $((on_to - off_to)) + $((on_back - off_back)) B/s"
done
