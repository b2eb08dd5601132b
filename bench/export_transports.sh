#!/usr/bin/env bash
# Export throughput for each transport and security: bench_export (one core, 56-byte
# IPv4 records, messages as large as the session allows) into dpfix-collector on
# loopback, which must count every record. Both processes share this machine's cores.
# Usage: bench/export_transports.sh [BUILD] [N] [RUNS]; SCHEMES="sctp dtls+sctp" (in the
# environment) runs only those.
# Prints one JSON line per transport and run (collector_cpu_s_per_million: all of the
# collector's threads, handshake included; collector_lost: records not received, and
# collector_sequence_lost and collector_socket_drops: what the collector itself reported
# missing, in records and in datagrams the kernel dropped), then with RUNS > 1
# min/median/max records/s and records lost.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${2:-1000000}
runs=${3:-1}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'bench.example:000102030405060708090a0b0c0d0e0f\n' >"$work/psk"
chmod 600 "$work/psk"

# CPU nanoseconds used so far by all threads of a process.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

schemes=${SCHEMES:-udp tcp sctp dtls+udp tls+tcp dtls+sctp}
port=47390
for run in $(seq 1 "$runs"); do
	for scheme in $schemes; do
		port=$((port + 1))
		sec_c=() sec_p=()
		case $scheme in
		*+*) sec_c=(--psk-file "$work/psk"); sec_p=(--psk bench.example "$work/psk") ;;
		esac
		"$build/app/collector/dpfix-collector" --quiet --listen "$scheme://127.0.0.1:$port" \
			--sctp-udp-port $((port + 1000)) "${sec_c[@]}" >"$work/c.out" 2>"$work/c.err" &
		cpid=$!
		sleep 0.5
		result=$("$build/bench/bench_export" "$scheme://127.0.0.1:$port" "$n" \
			--sctp-udp-port $((port + 1000)) "${sec_p[@]}")
		sleep 1
		ccpu=$(cpu_ns $cpid)
		kill -INT $cpid
		wait $cpid
		got=$(grep -o 'flows [0-9]*' "$work/c.out" | awk '{print $2}')
		seq_lost=$(awk '$1 == "sequence_lost" {print $2}' "$work/c.out")
		drops=$(awk '$1 == "socket_drops" {print $2}' "$work/c.out")
		line=$(printf '%s,"collector_received":%s,"collector_lost":%s,"collector_sequence_lost":%s,"collector_socket_drops":%s,"collector_cpu_s_per_million":%.3f}' \
			"${result%\}}" "$got" $((n - got)) "$seq_lost" "${drops:-0}" \
			"$(echo "$ccpu $n" | awk '{print $1 / 1e9 / ($2 / 1e6)}')")
		echo "$line"
		echo "$line" >>"$work/all"
	done
done
[ "$runs" -gt 1 ] || exit 0
python3 - "$work/all" "$n" $schemes <<'EOF'
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
n = int(sys.argv[2])
for scheme in sys.argv[3:]:
    runs = [r for r in rows if r["url"].startswith(scheme + "://")]
    rate = sorted(r["records_per_s"] / 1e6 for r in runs)
    exporter = statistics.median(r["cpu_s_per_million"] for r in runs)
    collector = statistics.median(r["collector_cpu_s_per_million"] for r in runs)
    complete = sum(r["collector_received"] == n for r in runs)
    lost = sorted(r["collector_lost"] for r in runs)
    reported = sum(r["collector_sequence_lost"] == r["collector_lost"] for r in runs)
    print(f"{scheme:10} M records/s min {rate[0]:.2f} median {statistics.median(rate):.2f} "
          f"max {rate[-1]:.2f}; CPU s per M records (medians) exporter {exporter:.3f} "
          f"collector {collector:.3f}; all received in {complete} of {len(runs)} runs, "
          f"lost min {lost[0]} median {statistics.median(lost):.0f} max {lost[-1]} "
          f"(loss reported exactly in {reported} of {len(runs)})")
EOF
