#!/usr/bin/env bash
# What --write adds to dpfix-collector's work per message, in instructions (callgrind):
# the collector (--quiet: totals only) receives the same IPFIX/UDP stream (bench_decode's
# records of the probe's template) without --write, with --write, and with --write
# --write-details; callgrind_annotate then splits the --write path (collector_write_message,
# lib/collect's file_message since issue 11) into the file
# writer's own decode (its reader's view of the file) and the rest. Results:
# bench/RESULTS.md, "Collector --write".
# Usage: bench/collector_write_cost.sh [BUILD_DIR] [RECORDS]   (BUILD_DIR without
# AVX-512: valgrind 3.19 cannot decode it; meson setup build-cg -Dc_args=-mno-avx512f)
set -euo pipefail
build=${1:-build-cg}
records=${2:-200000}
work=$(mktemp -d /tmp/collector_write_cost.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

"$build/bench/bench_decode" fields "$records" --write "$work/in.ipfix" >/dev/null
for mode in plain write details; do
	case $mode in
	plain) opts=() ;;
	write) opts=(--write "$work/out.ipfix") ;;
	details) opts=(--write "$work/out-details.ipfix" --write-details yes) ;;
	esac
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	valgrind --tool=callgrind --callgrind-out-file="$work/cg.$mode" \
		"$build/app/collector/dpfix-collector" --listen "udp://127.0.0.1:$port" --quiet yes \
		"${opts[@]}" >"$work/$mode.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do grep -qs "listening on" "$work/$mode.log" && break; sleep 0.1; done
	# The whole stream fits the collector's 16 MB socket buffer: nothing is dropped
	# while it runs slowly under valgrind.
	/usr/bin/python3 - "$work/in.ipfix" "$port" >"$work/messages" <<'PY'
import socket, struct, sys, time
data, port = open(sys.argv[1], "rb").read(), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
off = n = 0
while off < len(data):
    ln = struct.unpack_from(">H", data, off + 2)[0]
    s.sendto(data[off:off + ln], ("127.0.0.1", port))
    off, n = off + ln, n + 1
    if n % 200 == 0:
        time.sleep(0.001)
print(n)
PY
	# Wait until the collector has read everything (its CPU time stops growing).
	last=-1
	while :; do
		sleep 2
		now=$(awk '{print $14 + $15}' "/proc/${pids[-1]}/stat")
		[ "$now" = "$last" ] && break
		last=$now
	done
	kill -TERM "${pids[-1]}"
	wait "${pids[-1]}" || true
	grep -o "summary: .*" "$work/$mode.log" | head -1
done

/usr/bin/python3 - "$work" "$(cat "$work/messages")" <<'PY'
import re, subprocess, sys
work, msgs = sys.argv[1], int(sys.argv[2])
def inclusive(mode):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling",
                          f"{work}/cg.{mode}"], capture_output=True, text=True).stdout
    total = int(re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", out, re.M).group(1).replace(",", ""))
    def get(pattern):
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\*\s+\S*" + pattern, out, re.M)
        return int(m.group(1).replace(",", "")) if m else 0
    def child(parent, pattern):
        block = re.search(r"^\s*[\d,]+ \([^)]*\)\s+\*\s+\S*" + parent + r".*?(?=\n\n)", out, re.M | re.S)
        if not block:
            return 0, 0
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+>\s+\S*" + pattern + r" \(([\d,]+)x\)", block.group(0), re.M)
        return (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else (0, 0)
    return total, get(r"(?:collector_write_message|file_message) \["), child(r"dpfix_ipfix_file_write \[", r"dpfix_ipfix_decode"), \
        child(r"(?:collector_write_message|file_message) \[", r"set_address")
print(f"{msgs} messages; instructions per message:")
print("mode     total Ir       --write path  writer's decode  address parsing  decode share")
for mode in ("plain", "write", "details"):
    total, cw, (dec, _), (addr, _) = inclusive(mode)
    print(f"{mode:8} {total:13,}  {cw / msgs:12.0f}  {dec / msgs:15.0f}  {addr / msgs:15.0f}"
          f"  {100 * dec / total:11.1f}%")
PY
