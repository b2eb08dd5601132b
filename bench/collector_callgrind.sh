#!/usr/bin/env bash
# The collector's receive path in instructions per datagram (callgrind): dpfix-collector
# --quiet under valgrind receives RECORDS records from bench_export (56-byte IPv4
# records, 23-24 per datagram) over udp and dtls+udp on loopback. Counted: the round
# that accepts, reads, decodes and hands records on (collector_sessions_serve before
# lib/collect, collect_sessions_serve after: inclusive), and the whole process, each divided
# by the datagrams decoded; and main (the process less the dynamic loader and the static
# libraries' constructors, which differ between builds: usrsctp linked statically or not).
# Results: bench/RESULTS.md, "Collector receive path through lib/collect".
# Usage: bench/collector_callgrind.sh [BUILD_DIR] [RECORDS]
# BUILD_DIR without AVX-512 (valgrind 3.19 cannot decode it):
#   meson setup build-cg -Dc_args=-mno-avx512f
#   ninja -C build-cg app/collector/dpfix-collector bench/bench_export
# COLLECTOR=path overrides the collector binary (to compare an older build in one run).
set -euo pipefail
build=${1:-build-cg}
records=${2:-200000}
collector=${COLLECTOR:-$build/app/collector/dpfix-collector}
work=$(mktemp -d /tmp/collector_callgrind.XXXXXX)
cpid=
cleanup() {
	[ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
printf 'bench.example:000102030405060708090a0b0c0d0e0f\n' >"$work/psk"
chmod 600 "$work/psk"

free_udp_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

for scheme in udp dtls+udp; do
	sec_c=() sec_p=()
	case $scheme in
	dtls+*) sec_c=(--psk-file "$work/psk"); sec_p=(--psk bench.example "$work/psk") ;;
	esac
	port=$(free_udp_port)
	valgrind --tool=callgrind --callgrind-out-file="$work/cg.$scheme" "$collector" --quiet yes \
		--listen "$scheme://127.0.0.1:$port" "${sec_c[@]}" >"$work/$scheme.out" 2>"$work/$scheme.err" &
	cpid=$!
	for _ in $(seq 300); do grep -qs "listening on" "$work/$scheme.err" && break; sleep 0.1; done
	# 200 000 records are about 8 700 datagrams: they fit the listener's 16 MB buffer,
	# so nothing is dropped while the collector runs slowly under valgrind.
	"$build/bench/bench_export" "$scheme://127.0.0.1:$port" "$records" "${sec_p[@]}" >/dev/null
	# Wait until the collector has read everything (its CPU time stops growing).
	last=-1
	while :; do
		sleep 2
		now=$(awk '{print $14 + $15}' "/proc/$cpid/stat")
		[ "$now" = "$last" ] && break
		last=$now
	done
	kill -TERM "$cpid"
	wait "$cpid" || true
	cpid=
	flows=$(grep -o 'flows [0-9]*' "$work/$scheme.out" | awk '{print $2}')
	messages=$(awk '$1 == "messages" {print $2}' "$work/$scheme.out")
	/usr/bin/python3 - "$work/cg.$scheme" "$scheme" "$flows" "$messages" "$records" <<'PY'
import re, subprocess, sys
path, scheme, flows, messages, records = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True, text=True).stdout
total = int(re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", out, re.M).group(1).replace(",", ""))
def inclusive(names):
    for name in names:
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + name + r" ", out, re.M)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0
serve = inclusive(("collector_sessions_serve", "collect_sessions_serve"))
main = inclusive(("main",))
print(f'{{"scheme":"{scheme}","records":{records},"records_decoded":{flows},"datagrams":{messages},'
      f'"serve_per_datagram":{serve / messages:.0f},"main_per_datagram":{main / messages:.0f},'
      f'"process_per_datagram":{total / messages:.0f}}}')
PY
done
