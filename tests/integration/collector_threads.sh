#!/usr/bin/env bash
# Intake on two threads (intake_threads 2, issue 14; doc/collector-threads.md): 6
# exporters over TCP, 3 over UDP and 2 over TLS (PSK, two identities from one host: one
# lane, by its address) at once into one collector listening on all three, with
# a record sink (--json) and a message sink (--write). Every record is there, exactly:
# the totals are the exporters' ground truth, the records the same multiset as a
# one-thread run of the same export, the stored file as long, and every decode, session
# and listener counter equal; both threads decoded sessions (TCP on the second, UDP on
# the first, which owns the listeners). With three threads the same, the TLS sessions on
# the third (pinned by their host's address).
source "$(dirname "$0")/lib.sh"
: "${DPFIX_BUILD_ROOT:?}"
BENCH_EXPORT=$DPFIX_BUILD_ROOT/bench/bench_export
N=10000 TCP=6 UDP=3 TLS=2
EXPORTERS=$((TCP + UDP + TLS))
mkdir "$WORK/pki"
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/pki/probe1.psk"
printf 'probe2.example:f0e0d0c0b0a090807060504030201000\n' >"$WORK/pki/probe2.psk"
cat "$WORK/pki/probe1.psk" "$WORK/pki/probe2.psk" >"$WORK/pki/collector.psk"
chmod 600 "$WORK"/pki/*.psk

# run NAME THREADS: every exporter at once, waited for, then the collector stopped.
run() {
	local name=$1 threads=$2 port tls_port pids=() p
	port=$(free_port)
	tls_port=$(free_port)
	start_collector_at "udp://127.0.0.1:$port" "$WORK/$name" --listen "tcp://127.0.0.1:$port" \
		--listen "tls+tcp://127.0.0.1:$tls_port" --psk-file "$WORK/pki/collector.psk" \
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
	for i in 1 2; do
		"$BENCH_EXPORT" "tls+tcp://127.0.0.1:$tls_port" $N --probe-records \
			--psk "probe$i.example" "$WORK/pki/probe$i.psk" >"$WORK/$name.tls$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "$name: an exporter failed: $(cat "$WORK/$name".tcp* "$WORK/$name".udp* "$WORK/$name".tls*)"
	done
	wait_for_records "$WORK/$name.json" $((EXPORTERS * N))
	stop_collector
}

run one 1
run two 2
run three 3

# Ground truth: each exporter sent records 0..N-1, record i with i % 100 + 1 packets of
# 1500 bytes (bench_export's make_flow).
packets=$(awk -v n=$N -v e=$EXPORTERS 'BEGIN {for (i = 0; i < n; i++) s += i % 100 + 1; print s * e}')
# Every counter but those of timing (peaks, flushes) and the threads' own lines.
counters() {
	grep -E '^  +[a-z_]+ +[0-9]+$' "$1" | grep -vE '_peak |^  intake_|^  write_flushes '
}
for name in one two three; do
	out=$WORK/$name.stdout
	for want in "flows $((EXPORTERS * N))" "packets $packets" "octets $((packets * 1500))" \
			"sessions $EXPORTERS"; do
		set -- $want
		[ "$(summary_value "$out" "$1")" = "$2" ] ||
			fail "$name: summary $1 is $(summary_value "$out" "$1"), want $2: $(head -1 "$out")"
	done
	for c in sequence_lost socket_drops queue_drops sessions_refused sessions_continued; do
		[ "$(counter "$out" $c)" = 0 ] || fail "$name: $c is $(counter "$out" $c): $(cat "$out")"
	done
	[ "$(grep -c '"packetDeltaCount"' "$WORK/$name.json")" = $((EXPORTERS * N)) ] ||
		fail "$name: $(grep -c '"packetDeltaCount"' "$WORK/$name.json") flow records in --json, want $((EXPORTERS * N))"
	[ "$name" = one ] && continue
	# The same records as one thread's, the same bytes stored, the same counters.
	cmp -s <(sort "$WORK/one.json") <(sort "$WORK/$name.json") ||
		fail "$name: the records differ from one thread's"
	[ "$(stat -c %s "$WORK/one.ipfix")" = "$(stat -c %s "$WORK/$name.ipfix")" ] ||
		fail "$name: --write stored $(stat -c %s "$WORK/$name.ipfix") bytes, $(stat -c %s "$WORK/one.ipfix") with one thread"
	diff <(counters "$WORK/one.stdout") <(counters "$out") >"$WORK/counters.diff" ||
		fail "$name: counters differ from one thread's: $(cat "$WORK/counters.diff")"
	grep intake_ "$out"
done
# Who decoded what. Two threads: the UDP sessions on the first, TCP ones on both.
# Three: the TLS ones on the lane their host hashes to (127.0.0.1: the third).
out=$WORK/two.stdout
s0=$(counter "$out" intake_0_sessions) s1=$(counter "$out" intake_1_sessions)
[ "$s0" -ge "$UDP" ] && [ "$s1" -ge 1 ] && [ $((s0 + s1)) = $EXPORTERS ] ||
	fail "two: sessions per thread: $s0 and $s1: $(grep intake_ "$out")"
[ $(($(counter "$out" intake_0_flows) + $(counter "$out" intake_1_flows))) = $((EXPORTERS * N)) ] ||
	fail "two: flows per thread do not add up: $(grep intake_ "$out")"
[ "$(counter "$WORK/three.stdout" intake_2_sessions)" -ge "$TLS" ] ||
	fail "three: the TLS sessions were not on the third thread: $(grep intake_ "$WORK/three.stdout")"
echo "collector_threads: ok"
