#!/usr/bin/env bash
# Export throughput for each transport and security: bench_export (one core, 56-byte
# IPv4 records, messages as large as the session allows) into dpfix-collector on
# loopback, which must count every record. Usage: bench/export_transports.sh [BUILD] [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${2:-1000000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'bench.example:000102030405060708090a0b0c0d0e0f\n' >"$work/psk"
chmod 600 "$work/psk"

port=47390
for scheme in udp tcp sctp dtls+udp tls+tcp dtls+sctp; do
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
	kill -INT $cpid
	wait $cpid
	got=$(grep -o 'flows [0-9]*' "$work/c.out" | awk '{print $2}')
	echo "${result%\}},\"collector_received\":$got}"
done
