#!/usr/bin/env bash
# Hand-off gap (issue 12): the longest pause between two data messages that reach the
# collector across a planned hand-off, against the longest between two data messages
# of one session in the same run, and the target: one export_flush interval (0.5 s).
# The whole probe (net_pcap infinite_rx on the bundled capture, flows ending every 0.2 s so
# records flow all the time) hands off every second (session_lifetime 1) to
# dpfix-collector on loopback; tshark captures (tls+tcp: decrypted with the probe's key
# log), the IPFIX stream of each connection is cut into messages, and a data message is one
# with a data set (id >= 256), timed by the segment that completes it.
# Usage: bench/handoff_gap.sh [BUILD] [HANDOFFS]; SCHEMES="tcp tls+tcp" (default) chooses.
# Prints one JSON line per transport.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
handoffs=${2:-10}
work=$(mktemp -d /tmp/dpfix-bench-handoff.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work" /var/run/dpdk/dpfix-bench-handoff' EXIT
printf 'bench.example:000102030405060708090a0b0c0d0e0f\n' >"$work/psk"
chmod 600 "$work/psk"
port=47590
for scheme in ${SCHEMES:-tcp tls+tcp}; do
	port=$((port + 1))
	sec_c=() sec_p=() dec=()
	case $scheme in
	tls+tcp)
		sec_c=(--psk-file "$work/psk")
		sec_p=(--psk-identity bench.example --psk-file "$work/psk" --keylog-file "$work/keys")
		dec=(-o "tls.keylog_file:$work/keys" -d "tcp.port==$port,tls" -Y "tls.app_data && tcp.dstport == $port" -e data.data)
		;;
	tcp) dec=(-Y "tcp.len > 0 && tcp.dstport == $port" -e tcp.payload) ;;
	esac
	tshark -q -i lo -f "tcp port $port" -w "$work/cap.pcapng" 2>"$work/tshark.err" &
	tpid=$!
	for _ in $(seq 100); do grep -q "Capturing on" "$work/tshark.err" && break; sleep 0.05; done
	"$build/app/collector/dpfix-collector" --quiet --listen "$scheme://127.0.0.1:$port" \
		"${sec_c[@]}" >"$work/c.out" 2>"$work/c.err" &
	cpid=$!
	sleep 0.5
	"$build/app/probe/dpfix-probe" --no-huge -m 512 --no-pci --no-shconf \
		--file-prefix dpfix-bench-handoff -l 0-1 --log-level=lib.eal:warning \
		--vdev "net_pcap0,rx_pcap=$top/tests/data/sample.pcap,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" --packet-timestamps no --idle-timeout 0.2 \
		--active-timeout 0.2 --session-lifetime 1 --stats-interval 0 "${sec_p[@]}" \
		>"$work/p.out" 2>&1 &
	ppid=$!
	for _ in $(seq 600); do
		[ "$(grep -c "handed over to" "$work/p.out")" -ge "$handoffs" ] && break
		sleep 0.1
	done
	kill -INT $ppid
	wait $ppid || true
	sleep 1
	kill -INT $cpid
	wait $cpid || true
	kill -INT $tpid
	wait $tpid || true
	[ -z "${DETAIL:-}" ] || grep -a "export:\|error\|refused" "$work/p.out" "$work/c.err" >&2 || true
	tshark -r "$work/cap.pcapng" -T fields -e frame.time_epoch -e tcp.stream "${dec[@]}" \
		2>/dev/null >"$work/data.txt"
	python3 - "$work/data.txt" "$scheme" "$(grep -c "handed over to" "$work/p.out" || true)" ${DETAIL:+detail} <<'PYEOF'
import json, sys
# Each connection's bytes in order, cut into IPFIX messages (and dpfix heartbeat frames,
# marker 0xDF48, skipped): the data messages with the time their last byte came.
streams, msgs = {}, []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or not f[2]:
        continue
    t, s = float(f[0]), int(f[1])
    buf = streams.setdefault(s, bytearray())
    buf += bytes.fromhex(f[2].replace(",", "").replace(":", ""))
    while len(buf) >= 4:
        length = int.from_bytes(buf[2:4], "big")
        if length < 4 or len(buf) < length:
            break
        msg, buf[:] = bytes(buf[:length]), buf[length:]
        if msg[:2] != b"\x00\x0a":
            continue
        at, data = 16, False
        while at + 4 <= len(msg):
            set_id, set_len = int.from_bytes(msg[at:at + 2], "big"), int.from_bytes(msg[at + 2:at + 4], "big")
            data |= set_id >= 256
            at += max(set_len, 4)
        if data:
            msgs.append((t, s))
msgs.sort()
gaps = [(t1 - t0, s1 != s0) for (t0, s0), (t1, s1) in zip(msgs, msgs[1:])]
across = [g for g, switch in gaps if switch]
within = [g for g, switch in gaps if not switch]
# Around a switch: the gaps just before, across and just after it (the old session's
# last messages, the new one's first).
around = [max(g for g, _ in gaps[max(i - 1, 0):i + 2]) for i, (_, switch) in enumerate(gaps) if switch]
if len(sys.argv) > 4:
    for i, (g, switch) in enumerate(gaps):
        if switch:
            print("switch:", " ".join(f"{1000 * x:.1f}" for x, _ in gaps[max(i - 2, 0):i + 3]), file=sys.stderr)
print(json.dumps({"transport": sys.argv[2], "handoffs": int(sys.argv[3]),
    "sessions_with_data": len({s for _, s in msgs}), "data_messages": len(msgs),
    "gap_across_max_ms": round(1000 * max(across), 1) if across else None,
    "gap_across_median_ms": round(1000 * sorted(across)[len(across) // 2], 1) if across else None,
    "gap_around_max_ms": round(1000 * max(around), 1) if around else None,
    "gap_within_max_ms": round(1000 * max(within), 1) if within else None,
    "gap_within_median_ms": round(1000 * sorted(within)[len(within) // 2], 1) if within else None,
    "target_ms": 500}))
PYEOF
done
