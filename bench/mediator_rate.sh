#!/usr/bin/env bash
# Records per second through dpfix-mediator on one core, against dpfix-collector alone
# in the same run (issue 13's benchmark). bench_export --probe-records (the probe's
# 62-byte IPv4 flow records of distinct flows, messages as large as the session allows)
# sends N records to
#   collector: dpfix-collector --quiet on the inbound transport, or
#   mediator:  dpfix-mediator (inbound -> outbound) in front of a dpfix-collector --quiet,
#              passing records through, or with aggregation (keys=sourceIPv4Address/24,
#              destinationIPv4Address/24,protocolIdentifier);
# for each pair udp -> udp and dtls+udp -> tls+tcp (PSK), alternating, RUNS times.
# The Mediator's loop is one thread, so its CPU time (all its threads, from /proc) per
# record it took gives records per CPU-second: what one core carries. The collector
# alone is measured the same way. Every figure is also checked for loss: records sent,
# taken in, received downstream, lost as the programs report it.
# The sender goes as fast as it can, or at UDP_RATE and DTLS_RATE records/s (issue 13's
# targets: 1000000 and 500000): then a Mediator that keeps up loses nothing.
# Usage: [UDP_RATE=R] [DTLS_RATE=R] bench/mediator_rate.sh [BUILD] [N] [RUNS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
n=${2:-1000000}
runs=${3:-3}
work=$(mktemp -d /tmp/mediator_rate.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
printf 'bench.example:000102030405060708090a0b0c0d0e0f\n' >"$work/psk"
chmod 600 "$work/psk"

# CPU nanoseconds used so far by all threads of a process.
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listening() {
	for _ in $(seq 100); do grep -qs "listening on" "$1" && return 0; sleep 0.05; done
	echo "no 'listening on' in $1: $(cat "$1")" >&2
	exit 1
}
# The first counter NAME in a summary (the Mediator's own, not a collector's).
value() {
	awk -v n="$2" '$1 == n && !done {v = $2; done = 1} END {print v + 0}' "$1"
}
# Waits until process $1 has read all it was sent: under 5 ms of CPU in half a second
# (an idle loop still wakes up).
wait_idle() {
	local last=-1 now
	while :; do
		sleep 0.5
		now=$(cpu_ns "$1")
		[ "$last" -ge 0 ] && [ $((now - last)) -lt 5000000 ] && return 0
		last=$now
	done
}

# one KIND IN OUT RATE: one measurement, a JSON line; RATE: records/s the sender keeps
# to (0: as fast as it can).
one() {
	local kind=$1 in=$2 out=$3 rate=$4 cport mport sec=() cpid mpid sent ccpu mcpu=0 took got lost=0 proc=()
	cport=$(free_port)
	mport=$(free_port)
	rm -f "$work"/c.* "$work"/m.*
	case $in in *+*) sec=(--psk-file "$work/psk") ;; esac
	[ "$kind" = aggregate ] && proc=(--aggregate "keys=sourceIPv4Address/24,destinationIPv4Address/24,protocolIdentifier")
	if [ "$kind" = collector ]; then
		"$build/app/collector/dpfix-collector" --quiet yes --listen "$in://127.0.0.1:$cport" \
			"${sec[@]}" >"$work/c.out" 2>"$work/c.err" &
		cpid=$!
		wait_listening "$work/c.err"
		sent=$("$build/bench/bench_export" "$in://127.0.0.1:$cport" "$n" --probe-records \
			--rate "$rate" ${sec:+--psk bench.example "$work/psk"})
		wait_idle $cpid
		ccpu=$(cpu_ns $cpid)
		kill -INT $cpid
		wait $cpid || true
		took=$(grep -o 'flows [0-9]*' "$work/c.out" | awk '{print $2}')
		got=$took
		lost=$(value "$work/c.out" sequence_lost)
		mcpu=$ccpu
	else
		local osec=()
		case $out in *+*) osec=(--psk-file "$work/psk") ;; esac
		"$build/app/collector/dpfix-collector" --quiet yes --listen "$out://127.0.0.1:$cport" \
			"${osec[@]}" >"$work/c.out" 2>"$work/c.err" &
		cpid=$!
		wait_listening "$work/c.err"
		"$build/app/mediator/dpfix-mediator" --listen "$in://127.0.0.1:$mport" \
			--collector "$out://127.0.0.1:$cport" ${sec:+--psk-file "$work/psk" --psk-identity bench.example} \
			--allow-security-downgrade yes "${proc[@]}" >"$work/m.out" 2>"$work/m.err" &
		mpid=$!
		wait_listening "$work/m.err"
		sent=$("$build/bench/bench_export" "$in://127.0.0.1:$mport" "$n" --probe-records \
			--rate "$rate" ${sec:+--psk bench.example "$work/psk"})
		wait_idle $mpid
		mcpu=$(cpu_ns $mpid)
		kill -TERM $mpid
		wait $mpid || true
		wait_idle $cpid
		kill -INT $cpid
		wait $cpid || true
		took=$(value "$work/m.out" records_in)
		got=$(grep -o 'flows [0-9]*' "$work/c.out" | awk '{print $2}')
		# Lost on the way in (sequence numbers), inside and on the way out.
		lost=$(($(value "$work/m.out" sequence_lost) + $(value "$work/m.out" backlog_drops) +
			$(awk '$1 == "records_lost" {s += $2} END {print s + 0}' "$work/m.out")))
	fi
	printf '{"kind":"%s","in":"%s","out":"%s","sent":%s,"taken":%s,"downstream":%s,"reported_lost":%s,"cpu_s":%.3f,"records_per_cpu_s":%.0f,"exporter":%s}\n' \
		"$kind" "$in" "$out" "$n" "$took" "$got" "$lost" "$(echo "$mcpu" | awk '{print $1 / 1e9}')" \
		"$(echo "$mcpu $took" | awk '{print $2 / ($1 / 1e9)}')" "$sent"
}

# ONLY="KIND IN OUT RATE": that one measurement (KEEP=1 keeps its files).
# shellcheck disable=SC2086
[ -z "${ONLY:-}" ] || { one $ONLY; exit 0; }
for _ in $(seq 1 "$runs"); do
	for pair in "udp udp ${UDP_RATE:-0}" "dtls+udp tls+tcp ${DTLS_RATE:-0}"; do
		# shellcheck disable=SC2086
		set -- $pair
		for kind in collector mediator aggregate; do
			one "$kind" "$1" "$2" "$3" | tee -a "$work/all"
		done
	done
done
python3 - "$work/all" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for pair in (("udp", "udp"), ("dtls+udp", "tls+tcp")):
    for kind in ("collector", "mediator", "aggregate"):
        r = [x for x in rows if (x["in"], x["out"], x["kind"]) == (*pair, kind)]
        rate = sorted(x["records_per_cpu_s"] / 1e6 for x in r)
        taken = sum(x["taken"] for x in r)
        offered = statistics.median(x["exporter"]["records_per_s"] / 1e6 for x in r)
        print(f"{kind:9} {pair[0]:>8} -> {pair[1] if kind != 'collector' else '-':7} "
              f"M records per CPU-s min {rate[0]:.2f} median {statistics.median(rate):.2f} "
              f"max {rate[-1]:.2f}; sender's M records/s (median) {offered:.2f}; sent {sum(x['sent'] for x in r)}, taken {taken}, "
              f"downstream {sum(x['downstream'] for x in r)}, reported lost {sum(x['reported_lost'] for x in r)}")
PY
