#!/usr/bin/env bash
# Intake on two threads (intake_threads 2, issue 14; doc/collector-threads.md): 6
# exporters over TCP and 3 over UDP at once into one collector listening on both, with
# a record sink (--json) and a message sink (--write). Every record is there, exactly:
# the totals are the exporters' ground truth, the records the same multiset as a
# one-thread run of the same export, the stored file as long, and every decode, session
# and listener counter equal; both threads decoded sessions (TCP on the second, UDP on
# the first, which owns the listeners).
source "$(dirname "$0")/lib.sh"
: "${DPFIX_BUILD_ROOT:?}"
BENCH_EXPORT=$DPFIX_BUILD_ROOT/bench/bench_export
N=10000 TCP=6 UDP=3
EXPORTERS=$((TCP + UDP))

# run NAME THREADS: every exporter at once, waited for, then the collector stopped.
run() {
	local name=$1 threads=$2 port pids=() p
	port=$(free_port)
	start_collector_at "udp://127.0.0.1:$port" "$WORK/$name" --listen "tcp://127.0.0.1:$port" \
		--quiet --json "$WORK/$name.json" --write "$WORK/$name.ipfix" --intake-threads "$threads"
	for i in $(seq $TCP); do
		"$BENCH_EXPORT" "tcp://127.0.0.1:$port" $N --probe-records >"$WORK/$name.tcp$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq $UDP); do
		# Paced: the whole UDP export fits in the socket buffer, even under ASan.
		"$BENCH_EXPORT" "udp://127.0.0.1:$port" $N --probe-records --rate 40000 \
			>"$WORK/$name.udp$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "$name: an exporter failed: $(cat "$WORK/$name".tcp* "$WORK/$name".udp*)"
	done
	wait_for_records "$WORK/$name.json" $((EXPORTERS * N))
	stop_collector
}

run one 1
run two 2

out=$WORK/two.stdout
# Ground truth: each exporter sent records 0..N-1, record i with i % 100 + 1 packets of
# 1500 bytes (bench_export's make_flow).
packets=$(awk -v n=$N -v e=$EXPORTERS 'BEGIN {for (i = 0; i < n; i++) s += i % 100 + 1; print s * e}')
for want in "flows $((EXPORTERS * N))" "packets $packets" "octets $((packets * 1500))" \
		"sessions $EXPORTERS"; do
	set -- $want
	[ "$(summary_value "$out" "$1")" = "$2" ] ||
		fail "summary $1 is $(summary_value "$out" "$1"), want $2: $(head -1 "$out")"
done
for name in sequence_lost socket_drops queue_drops sessions_refused; do
	[ "$(counter "$out" $name)" = 0 ] || fail "$name is $(counter "$out" $name): $(cat "$out")"
done
[ "$(grep -c '"packetDeltaCount"' "$WORK/two.json")" = $((EXPORTERS * N)) ] ||
	fail "$(grep -c '"packetDeltaCount"' "$WORK/two.json") flow records in --json, want $((EXPORTERS * N))"
# The same records as one thread's, and the same bytes stored.
cmp -s <(sort "$WORK/one.json") <(sort "$WORK/two.json") ||
	fail "the records of two threads differ from one thread's"
[ "$(stat -c %s "$WORK/one.ipfix")" = "$(stat -c %s "$WORK/two.ipfix")" ] ||
	fail "--write stored $(stat -c %s "$WORK/two.ipfix") bytes with two threads, $(stat -c %s "$WORK/one.ipfix") with one"
# Every counter equal but those of timing (peaks) and the threads' own lines.
counters() {
	grep -E '^  +[a-z_]+ +[0-9]+$' "$1" | grep -vE '_peak |^  intake_|^  write_flushes '
}
diff <(counters "$WORK/one.stdout") <(counters "$out") >"$WORK/counters.diff" ||
	fail "counters differ between one and two threads: $(cat "$WORK/counters.diff")"
# Both threads decoded: the UDP sessions on the first, TCP ones on the second.
s0=$(counter "$out" intake_0_sessions) s1=$(counter "$out" intake_1_sessions)
[ "$s0" -ge "$UDP" ] && [ "$s1" -ge 1 ] && [ $((s0 + s1)) = $EXPORTERS ] ||
	fail "sessions per thread: $s0 and $s1: $(grep intake_ "$out")"
[ $(($(counter "$out" intake_0_flows) + $(counter "$out" intake_1_flows))) = $((EXPORTERS * N)) ] ||
	fail "flows per thread do not add up: $(grep intake_ "$out")"
grep intake_ "$out"
echo "collector_threads: ok"
