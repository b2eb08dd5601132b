#!/usr/bin/env bash
# Intake on two threads (intake_threads 2, issue 14; doc/collector-threads.md): 6
# exporters over TCP, 3 over UDP, 2 over TLS (PSK, an identity each, from one host: one
# lane, by its address) and 4 over DTLS/UDP (two from 127.0.0.1, two from ::1) at once
# into one collector listening on all of them, with a record sink (--json) and a message
# sink (--write). Every record is there, exactly: the totals are the exporters' ground
# truth, the records the same multiset as a one-thread run of the same export, the
# stored file as long, and every decode, session and listener counter equal. With three
# threads the same. Where the sessions went: the secured ones by their host (127.0.0.1
# on the second lane, ::1 on the first, with two threads), so the DTLS ones were read on
# both threads; then a run of plain UDP exporters alone puts them on both threads.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_BUILD_ROOT:?}"
BENCH_EXPORT=$DPFIX_BUILD_ROOT/bench/bench_export
N=10000 TCP=6 UDP=3 TLS=2 DTLS=4
EXPORTERS=$((TCP + UDP + TLS + DTLS))
# An identity each (two sessions of one identity would be taken for a hand-off).
mkdir "$WORK/pki"
for i in $(seq $((TLS + DTLS))); do
	printf 'probe%s.example:%032x\n' "$i" "$i" >"$WORK/pki/probe$i.psk"
	cat "$WORK/pki/probe$i.psk" >>"$WORK/pki/collector.psk"
done
chmod 600 "$WORK"/pki/*.psk

# run NAME THREADS [TCP UDP TLS DTLS]: every exporter at once (the secured ones'
# handshakes first), waited for, then the collector stopped.
run() {
	local name=$1 threads=$2 tcp=${3:-$TCP} udp=${4:-$UDP} tls=${5:-$TLS} dtls=${6:-$DTLS}
	local port tls_port dtls_port pids=() p
	port=$(free_port)
	tls_port=$(free_port)
	dtls_port=$(free_port)
	start_collector_at "udp://127.0.0.1:$port" "$WORK/$name" --listen "tcp://127.0.0.1:$port" \
		--listen "tls+tcp://127.0.0.1:$tls_port" --listen "dtls+udp://127.0.0.1:$dtls_port" \
		--listen "dtls+udp://[::1]:$dtls_port" --psk-file "$WORK/pki/collector.psk" \
		--quiet --json "$WORK/$name.json" --write "$WORK/$name.ipfix" --intake-threads "$threads"
	# The secured exporters first, the others once the collector has said their sessions
	# are established. A busy intake thread no longer holds a handshake up (its rounds
	# are short: doc/collector-threads.md, "Rounds"; unit_collect's
	# test_busy_sessions_leave_handshakes_their_turn), but with three copies of this
	# test at once under ASan at load 40-57 a DTLS exporter still missed its own 5 s
	# connect timeout now and then, every process getting a few % of a core.
	for i in $(seq "$tls"); do
		"$BENCH_EXPORT" "tls+tcp://127.0.0.1:$tls_port" $N --probe-records \
			--psk "probe$i.example" "$WORK/pki/probe$i.psk" >"$WORK/$name.tls$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq "$dtls"); do
		host=127.0.0.1
		[ $((i % 2)) = 0 ] && host=[::1]
		"$BENCH_EXPORT" "dtls+udp://$host:$dtls_port" $N --probe-records --rate 40000 \
			--psk "probe$((TLS + i)).example" "$WORK/pki/probe$((TLS + i)).psk" \
			>"$WORK/$name.dtls$i" 2>&1 &
		pids+=($!)
	done
	for _ in $(seq 600); do
		[ "$(grep -c 'session established' "$WORK/$name.stderr")" -ge $((tls + dtls)) ] && break
		sleep 0.05
	done
	[ "$(grep -c 'session established' "$WORK/$name.stderr")" -ge $((tls + dtls)) ] ||
		fail "$name: $((tls + dtls)) secured sessions not established within 30 s: $(cat "$WORK/$name".*[0-9] "$WORK/$name.stderr")"
	for i in $(seq "$tcp"); do
		"$BENCH_EXPORT" "tcp://127.0.0.1:$port" $N --probe-records >"$WORK/$name.tcp$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq "$udp"); do
		# Paced: the whole UDP export fits in the socket buffer, even under ASan.
		"$BENCH_EXPORT" "udp://127.0.0.1:$port" $N --probe-records --rate 40000 \
			>"$WORK/$name.udp$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "$name: an exporter failed: $(cat "$WORK/$name".*[0-9])"
	done
	wait_for_records "$WORK/$name.json" $(((tcp + udp + tls + dtls) * N))
	stop_collector
}

run one 1
run two 2
run three 3
run udp 2 0 3 0 0

# Ground truth: each exporter sent records 0..N-1, record i with i % 100 + 1 packets of
# 1500 bytes (bench_export's make_flow).
packets=$(awk -v n=$N -v e=$EXPORTERS 'BEGIN {for (i = 0; i < n; i++) s += i % 100 + 1; print s * e}')
# sort_json FILE: its lines sorted in a bounded buffer. Unbounded, sort takes a buffer
# by the machine's memory, and with MALLOC_PERTURB_ (meson test sets it) glibc writes
# all of it: 4.5 GB and 7 s a sort here (133 MB and 0.25 s with -S 128M), and with
# three of these tests at once the kernel killed one ("the records differ": its
# output was empty).
sort_json() {
	sort -S 128M "$1"
}
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
	for c in sequence_lost socket_drops queue_drops sessions_refused sessions_handshake_timeout \
			sessions_continued; do
		[ "$(counter "$out" $c)" = 0 ] || fail "$name: $c is $(counter "$out" $c): $(cat "$out")"
	done
	[ "$(grep -c '"packetDeltaCount"' "$WORK/$name.json")" = $((EXPORTERS * N)) ] ||
		fail "$name: $(grep -c '"packetDeltaCount"' "$WORK/$name.json") flow records in --json, want $((EXPORTERS * N))"
	[ "$name" = one ] && continue
	# The same records as one thread's, the same bytes stored, the same counters.
	diff <(sort_json "$WORK/one.json") <(sort_json "$WORK/$name.json") >"$WORK/records.diff" ||
		fail "$name: the records differ from one thread's ($(grep -c '^[<>]' "$WORK/records.diff") lines; one thread's <, $name's >): $(head -c 2000 "$WORK/records.diff")"
	[ "$(stat -c %s "$WORK/one.ipfix")" = "$(stat -c %s "$WORK/$name.ipfix")" ] ||
		fail "$name: --write stored $(stat -c %s "$WORK/$name.ipfix") bytes, $(stat -c %s "$WORK/one.ipfix") with one thread"
	diff <(counters "$WORK/one.stdout") <(counters "$out") >"$WORK/counters.diff" ||
		fail "$name: counters differ from one thread's: $(cat "$WORK/counters.diff")"
	grep intake_ "$out"
done
# Who decoded what. Two threads: TLS and DTLS from 127.0.0.1 on the second (its host
# hashes there), DTLS from ::1 on the first; plain sessions wherever fewer are open.
out=$WORK/two.stdout
s0=$(counter "$out" intake_0_sessions) s1=$(counter "$out" intake_1_sessions)
[ "$s0" -ge $((DTLS / 2)) ] && [ "$s1" -ge $((TLS + DTLS / 2)) ] && [ $((s0 + s1)) = $EXPORTERS ] ||
	fail "two: sessions per thread: $s0 and $s1: $(grep intake_ "$out")"
[ $(($(counter "$out" intake_0_flows) + $(counter "$out" intake_1_flows))) = $((EXPORTERS * N)) ] ||
	fail "two: flows per thread do not add up: $(grep intake_ "$out")"
# Three: 127.0.0.1 on the second, ::1 on the third.
out=$WORK/three.stdout
[ "$(counter "$out" intake_1_sessions)" -ge $((TLS + DTLS / 2)) ] &&
	[ "$(counter "$out" intake_2_sessions)" -ge $((DTLS / 2)) ] ||
	fail "three: the secured sessions were not where their hosts hash: $(grep intake_ "$out")"
# Plain UDP alone, two threads: each new session goes where fewer are open, so both
# threads read some, and every record is there.
out=$WORK/udp.stdout
[ "$(summary_value "$out" flows)" = $((UDP * N)) ] && [ "$(counter "$out" queue_drops)" = 0 ] &&
	[ "$(counter "$out" socket_drops)" = 0 ] ||
	fail "udp: $(head -1 "$out"), want $((UDP * N)) flows, none dropped: $(cat "$out")"
[ "$(counter "$out" intake_0_sessions)" -ge 1 ] && [ "$(counter "$out" intake_1_sessions)" -ge 1 ] &&
	[ "$(counter "$out" intake_0_flows)" -ge "$N" ] && [ "$(counter "$out" intake_1_flows)" -ge "$N" ] ||
	fail "udp: the UDP sessions were not read on both threads: $(grep intake_ "$out")"
echo "collector_threads: ok"
