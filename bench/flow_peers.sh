#!/usr/bin/env bash
# The same capture through dpfix-probe, softflowd and pmacctd (nfprobe plugin), each
# exporting IPFIX to a local UDP sink: CPU time (user + system, all processes and
# threads of the meter) per packet, as packets per CPU-second and as ratios to dpfix.
# Fixed costs (start-up, dpfix's end-of-input wait) are taken out by also running each
# meter on a 1-packet capture and subtracting. Results: bench/RESULTS.md, "Flow table".
# Usage: bench/flow_peers.sh [BUILD_DIR] [PACKETS] [FLOWS]
set -euo pipefail
build=${1:-build}
packets=${2:-2000000}
flows=${3:-65536}
repeat=${REPEAT:-3}
work=$(mktemp -d /tmp/flow_peers.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 -- "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# Capture: Ethernet/IPv4/UDP, 64-byte frames (60 on the wire without FCS), flows picked
# at random, 1 microsecond apart. Written directly (scapy is too slow for millions).
/usr/bin/python3 - "$work/big.pcap" "$packets" "$flows" <<'PY'
import random, struct, sys
path, n, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(4)
out = open(path, "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
t0 = 1763800000
for i in range(n):
    f = rng.randrange(flows)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                     bytes((10, (f >> 16) & 255, (f >> 8) & 255, f & 255)), bytes((192, 0, 2, 1)))
    udp = struct.pack("!HHHH", 1024 + (f >> 24), 53, 26, 0) + b"\0" * 18
    frame = eth + ip + udp
    out.write(struct.pack("<IIII", t0 + i // 1000000, i % 1000000, len(frame), len(frame)) + frame)
PY
/usr/bin/python3 - "$work/big.pcap" "$work/one.pcap" <<'PY'
import sys
data = open(sys.argv[1], "rb").read(24 + 16 + 60)
open(sys.argv[2], "wb").write(data)
PY

sink_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
socat -u "UDP-RECV:$sink_port,bind=127.0.0.1" /dev/null &
pids+=($!)

cpu() {     # cpu FILE: user + system seconds written by /usr/bin/time -f "%U %S"
	awk 'END {print $1 + $2}' "$1"
}

run_dpfix() {   # run_dpfix PCAP: CPU seconds of the probe
	/usr/bin/time -f "%U %S" -o "$work/time" "$build/app/probe/dpfix-probe" --no-huge -m 512 \
		--no-pci --no-shconf --file-prefix flow-peers-$$ -l 0-1 --log-level=lib.eal:error \
		--vdev "net_pcap0,rx_pcap=$1" -- --collector "udp://127.0.0.1:$sink_port" \
		--stats-interval 0 >"$work/dpfix.out" 2>&1
	grep -q "metered_packets" "$work/dpfix.out" || { cat "$work/dpfix.out" >&2; exit 1; }
	cpu "$work/time"
}

run_softflowd() {   # run_softflowd PCAP: CPU seconds of softflowd (it reads 8192
	# packets per control command in -r mode, so softflowctl keeps asking)
	rm -f "$work/sf.ctl"
	/usr/bin/time -f "%U %S" -o "$work/time" softflowd -r "$1" -v 10 \
		-n "127.0.0.1:$sink_port" -d -p "$work/sf.pid" -c "$work/sf.ctl" >"$work/sf.out" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		softflowctl -c "$work/sf.ctl" statistics >/dev/null 2>&1 || sleep 0.01
	done
	wait "$pid" || true
	grep -q "Flows exported" "$work/sf.out" || { cat "$work/sf.out" >&2; exit 1; }
	cpu "$work/time"
}

run_pmacctd() {     # run_pmacctd PCAP: CPU seconds of pmacctd and its plugin
	cat >"$work/pm.conf" <<CONF
daemonize: false
pcap_savefile: $1
pcap_savefile_wait: false
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$sink_port
nfprobe_version: 10
aggregate: src_host, dst_host, src_port, dst_port, proto
CONF
	# In its own process group (pmacctd forks a plugin process), so it can be stopped
	# as a whole, by that group's id, if it does not end by itself.
	setsid /usr/bin/time -f "%U %S" -o "$work/time" pmacctd -f "$work/pm.conf" \
		>"$work/pm.out" 2>&1 &
	local pid=$! waited=0
	pids+=("-$pid")
	while kill -0 "$pid" 2>/dev/null && [ $waited -lt 3000 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill -9 -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -s "$work/time" ] || { echo "pmacctd did not finish: $(tail -3 "$work/pm.out")" >&2; exit 1; }
	cpu "$work/time"
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A per_packet
for meter in dpfix softflowd pmacctd; do
	for r in $(seq "$repeat"); do
		big=$("run_$meter" "$work/big.pcap")
		one=$("run_$meter" "$work/one.pcap")
		echo "$big $one" | awk '{printf "%.9f\n", ($1 - $2)}'
	done >"$work/$meter.samples"
	per_packet[$meter]=$(median <"$work/$meter.samples")
	echo "$meter: CPU seconds over the 1-packet run, $repeat runs: $(tr '\n' ' ' <"$work/$meter.samples")" >&2
done

echo "{\"packets\":$packets,\"flows\":$flows,\"frame\":64,\"cpu_s\":{\"dpfix\":${per_packet[dpfix]},\"softflowd\":${per_packet[softflowd]},\"pmacctd\":${per_packet[pmacctd]}}}"
printf "\n| meter | CPU s for %d packets | packets per CPU-second | dpfix's advantage |\n|---|---|---|---|\n" "$packets"
for meter in dpfix softflowd pmacctd; do
	awk -v m="$meter" -v c="${per_packet[$meter]}" -v d="${per_packet[dpfix]}" -v n="$packets" \
		'BEGIN {printf "| %s | %.3f | %.2f M | %.1fx |\n", m, c, n / c / 1e6, c / d}'
done
