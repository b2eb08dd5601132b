#!/usr/bin/env bash
# The collector at scale against nfcapd (nfdump), on the same export in the same run.
# bench_export sends N of the probe's IPv4 flow records (62 bytes, realistic values):
#   over UDP at a steady RATE records/s (a probe's export is paced by its traffic), in turn to
#     files:      dpfix-collector --write FILE (RFC 5655)
#     nfcapd:     nfcapd -w DIR (nfdump's collector, its own file format; UDP only)
#     clickhouse: dpfix-collector --clickhouse into a private clickhouse-server 18.16
#     json:       dpfix-collector --json /dev/null (not in the default CASES)
#   each with a 4 MiB socket receive buffer (nfcapd's -B is held to net.core.rmem_max;
#   dpfix gets the same);
#   and over TCP as fast as the collector takes them (TCP's flow control paces the
#   exporter to the receiver: its rate is the receiver's capacity), to files and to
#   ClickHouse (nfcapd has no TCP).
# For each: records stored (the collector's summary, nfdump -I, count() in ClickHouse),
# lost (sent - stored; socket_drops_datagrams: the datagrams of ~21 records the socket
# dropped), the receiver's CPU seconds per million records
# (all threads, /proc schedstat), and for ClickHouse the server's CPU too and rows/s:
# rows stored / seconds from the first record sent to the last row in (all in, or none
# more for 10 s; then the collector stops, inserting what it can in 10 s more and
# spooling the rest: left_in_spool_files).
# THREADS="1 2": each dpfix case once per intake_threads value, in turn within each run
# (doc/collector-threads.md); EXPORTERS=K: K bench_export at once, N/K records each (the
# exporter line is then the first one's, records_per_s all N over the seconds from the
# first one's start to the last one's end).
# TRANSPORTS="udp dtls+udp": the paced cases over each (DTLS with a PSK identity per
# exporter, every second one from ::1, the others from 127.0.0.1: a DTLS session's lane
# is its host's; json and files only).
# COLLECTOR_B=PATH: every dpfix case also with that dpfix-collector (another build, e.g.
# the code before a change), in turn with this build's: "build":"b" in its lines;
# CH_ARGS_B: its ClickHouse options instead of CH_ARGS (COLLECTOR_B may be this build,
# to compare settings, e.g. batch sizes, in the same run).
# CH_SERVER_ENV_B="VAR=VALUE ...": the COLLECTOR_B runs go to a second clickhouse-server
# started with that environment (e.g. MALLOC_CONF=oversize_threshold:0 for its jemalloc).
# ClickHouse's CPU is given twice: until the last row is in, and until its merges of those
# rows stopped (no merge for 2 s; _merged), with the active parts the table then has.
# Usage: [CASES="files nfcapd clickhouse"] [CH_ARGS="--clickhouse-batch-rows 200000"] \
#        [THREADS="1 2"] [EXPORTERS=K] [TRANSPORTS="udp dtls+udp"] [COLLECTOR_B=PATH] \
#        [CH_ARGS_B="..."] [CH_SERVER_ENV_B="..."] \
#        bench/collector_scale.sh [BUILD] [N] [RATES] [RUNS]   (RATES "": TCP only)
#   e.g. bench/collector_scale.sh build 4000000 "1000000 2000000" 3
# Prints one JSON line per receiver, transport, rate and run.
set -euo pipefail
trap 'echo "collector_scale.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
n=${2:-4000000}
rates=${3-"1000000 2000000"}
runs=${4:-1}
export DPFIX_PROBE=$build/app/probe/dpfix-probe DPFIX_COLLECTOR=$build/app/collector/dpfix-collector
export DPFIX_SOURCE_ROOT=$top
source "$top/tests/integration/lib.sh"
source "$top/tests/integration/clickhouse_lib.sh"
bench_export=$build/bench/bench_export
buffer=4194304
exporters=${EXPORTERS:-1}
threads=1

cpu_s() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.3f", s / 1e9}'
}
now() {
	date +%s.%N
}
per_million() {
	awk -v c="$1" -v n="$2" 'BEGIN {printf "%.3f", n ? c / (n / 1e6) : 0}'
}
# stop_collector PID: SIGINT, then its CPU seconds just before it exits (it reads what is
# queued, and with --clickhouse inserts what is left, first): the most read, as a thread
# that ended (an intake thread joined) leaves /proc/PID/task with its time.
stop_collector() {
	local pid=$1 cpu last
	cpu=$(cpu_s "$pid")
	kill -INT "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		last=$(cpu_s "$pid")
		cpu=$(awk -v a="$cpu" -v b="$last" 'BEGIN {print (b > a ? b : a)}')
		sleep 0.02
	done
	wait "$pid" || true
	echo "$cpu"
}
# collector TRANSPORT NAME ARGS...: starts dpfix-collector on a free port; sets pid, url.
collector() {
	local transport=$1 name=$2 port more=()
	shift 2
	port=$(free_port)
	url=$transport://127.0.0.1:$port
	[ "$transport" = dtls+udp ] &&
		more=(--listen "dtls+udp://[::1]:$port" --psk-file "$WORK/pki/collector.psk")
	# The last run's "listening on" must not be taken for this one's.
	rm -f "$WORK/$name.err"
	"$collector_bin" --listen "$url" "${more[@]}" --quiet --udp-receive-buffer $buffer \
		--intake-threads "$threads" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	pid=$!
	wait_for_text "$WORK/$name.err" "listening on" 30
}
# export URL [RATE]: the exporter's JSON line (EXPORTERS at once: the first one's, with
# records_per_s all of theirs over the wall time; RATE shared among them).
export_to() {
	local k pids=() t0
	t0=$(now)
	for k in $(seq "$exporters"); do
		local to=$1 psk=()
		if [[ $1 == dtls+udp://* ]]; then
			psk=(--psk "probe$k.example" "$WORK/pki/probe$k.psk")
			[ $((k % 2)) = 0 ] && to=${1/127.0.0.1/[::1]}
		fi
		if [ -n "${2:-}" ]; then
			"$bench_export" "$to" $((n / exporters)) --probe-records --rate $(($2 / exporters)) "${psk[@]}"
		else
			"$bench_export" "$to" $((n / exporters)) --probe-records "${psk[@]}"
		fi >"$WORK/export.$k" &
		pids+=($!)
	done
	for k in "${pids[@]}"; do
		wait "$k"
	done
	[ "$exporters" = 1 ] && cat "$WORK/export.1" && return
	sed "s/\"records_per_s\":[0-9]*/\"records_per_s\":$(awk -v n="$n" -v a="$t0" \
		-v b="$(now)" 'BEGIN {printf "%.0f", n / (b - a)}')/" "$WORK/export.1"
}

files() {   # TRANSPORT RATE
	local sent cpu got
	collector "$1" files --write "$WORK/files.ipfix"
	sent=$(export_to "$url" "$2")
	cpu=$(stop_collector "$pid")
	got=$(summary_value "$WORK/files.out" flows)
	echo "{\"receiver\":\"dpfix-collector --write\",\"build\":\"$build_name\",\"intake_threads\":$threads,\"exporters\":$exporters,\"transport\":\"$1\",\"run\":$run,\"rate\":${2:-0},\"records\":$n,\"stored\":$got,\"lost\":$((n - got)),\"socket_drops_datagrams\":$(counter "$WORK/files.out" socket_drops),\"cpu_s_per_million\":$(per_million "$cpu" "$got"),\"exporter\":$sent}"
	rm -f "$WORK"/files.ipfix*
}

json() {   # TRANSPORT RATE: a record sink (formatted on each intake thread)
	local sent cpu got
	collector "$1" json --json /dev/null
	sent=$(export_to "$url" "$2")
	cpu=$(stop_collector "$pid")
	got=$(summary_value "$WORK/json.out" flows)
	echo "{\"receiver\":\"dpfix-collector --json /dev/null\",\"build\":\"$build_name\",\"intake_threads\":$threads,\"exporters\":$exporters,\"transport\":\"$1\",\"run\":$run,\"rate\":${2:-0},\"records\":$n,\"stored\":$got,\"lost\":$((n - got)),\"socket_drops_datagrams\":$(counter "$WORK/json.out" socket_drops),\"cpu_s_per_million\":$(per_million "$cpu" "$got"),\"exporter\":$sent}"
}

nfcapd_run() {   # RATE
	local port sent cpu got
	port=$(free_port)
	rm -rf "$WORK/nf" && mkdir "$WORK/nf"
	nfcapd -p "$port" -b 127.0.0.1 -w "$WORK/nf" -t 3600 -B $buffer >"$WORK/nf.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		ss -Huln "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	sent=$(export_to "udp://127.0.0.1:$port" "$1")
	sleep 0.5   # nfcapd has no drain on stop: give it the queue's time
	cpu=$(cpu_s $pid)
	kill -TERM $pid
	wait $pid || true
	got=$(nfdump -R "$WORK/nf" -I | awk '$1 == "Flows:" {print $2}')
	echo "{\"receiver\":\"nfcapd\",\"transport\":\"udp\",\"run\":$run,\"rate\":$1,\"records\":$n,\"stored\":$got,\"lost\":$((n - got)),\"cpu_s_per_million\":$(per_million "$cpu" "$got"),\"exporter\":$sent}"
}

clickhouse() {   # TRANSPORT RATE
	local table=bench_${run}_$1_${2:-0}_$build_name sent cpu chcpu0 chcpu chcpu_merged t0 t1 got stored last rate_rows
	collector "$1" ch --clickhouse "$CH_URL" --clickhouse-credentials "$WORK/ch.credentials" \
		--clickhouse-table "$table" $ch_args --clickhouse-spool-dir "$WORK/spool"
	chcpu0=$(cpu_s "$chpid")
	t0=$(now)
	sent=$(export_to "$url" "$2")
	# Rows arrive until all are in, or nothing more comes for 10 s after the export ended
	# (spooled batches wait for a writer; what never comes is dropped or left in the
	# spool: the summary says).
	stored=0 last=-1 t1=$(now)
	while [ "$stored" -lt "$n" ] && [ "$(awk -v a="$(now)" -v b="$t1" 'BEGIN {print (a - b > 10)}')" = 0 ]; do
		sleep 0.1
		stored=$(curl -s "$CH_URL/" --data-binary "SELECT count() FROM dpfix.$table" || true)
		[[ $stored =~ ^[0-9]+$ ]] || stored=0   # the table is not created yet
		[ "$stored" = "$last" ] || t1=$(now)
		last=$stored
	done
	chcpu=$(awk -v a="$(cpu_s "$chpid")" -v b="$chcpu0" 'BEGIN {print a - b}')
	rate_rows=$stored
	# The merges those inserts caused count too: ClickHouse's CPU once none has run for
	# 2 s (at most 30 s more).
	local quiet=0 waited=0 merges
	while [ "$quiet" -lt 20 ] && [ "$waited" -lt 300 ]; do
		sleep 0.1
		merges=$(curl -s "$CH_URL/" --data-binary "SELECT count() FROM system.merges" || true)
		[ "$merges" = 0 ] && quiet=$((quiet + 1)) || quiet=0
		waited=$((waited + 1))
	done
	chcpu_merged=$(awk -v a="$(cpu_s "$chpid")" -v b="$chcpu0" 'BEGIN {print a - b}')
	cpu=$(stop_collector "$pid")
	got=$(summary_value "$WORK/ch.out" flows)
	stored=$(ch_query "$CH_URL" "SELECT count() FROM dpfix.$table")
	echo "{\"receiver\":\"dpfix-collector --clickhouse\",\"build\":\"$build_name\",\"intake_threads\":$threads,\"exporters\":$exporters,\"transport\":\"$1\",\"run\":$run,\"rate\":${2:-0},\"records\":$n,\"received\":$got,\"stored\":$stored,\"not_stored\":$((n - stored)),\"socket_drops_datagrams\":$(counter "$WORK/ch.out" socket_drops),\"rows_dropped\":$(counter "$WORK/ch.out" clickhouse_rows_dropped),\"left_in_spool_files\":$(counter "$WORK/ch.out" clickhouse_spool_files),\"spooled\":$(counter "$WORK/ch.out" clickhouse_rows_spooled),\"rows_per_s\":$(awk -v n="$rate_rows" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}'),\"cpu_s_per_million\":$(per_million "$cpu" "$stored"),\"clickhouse_cpu_s_per_million\":$(per_million "$chcpu" "$stored"),\"clickhouse_cpu_s_per_million_merged\":$(per_million "$chcpu_merged" "$stored"),\"parts\":$(ch_query "$CH_URL" "SELECT count() FROM system.parts WHERE active AND table = '$table'"),\"exporter\":$sent}"
	ch_query "$CH_URL" "DROP TABLE dpfix.$table" >/dev/null
	rm -rf "$WORK/spool"
}

cases=${CASES:-"files nfcapd clickhouse"}
want() {
	[[ " $cases " == *" $1 "* ]]
}
if want clickhouse; then
	ch_single bench
	ch_credentials "$WORK/ch.credentials"
	chpid=$(ch_pid bench) ch_url_a=$CH_URL
	chpid_a=$chpid ch_url_b=$CH_URL chpid_b=$chpid
	if [ -n "${CH_SERVER_ENV_B:-}" ]; then
		CH_SERVER_ENV=$CH_SERVER_ENV_B ch_single bench_b
		chpid_b=$(ch_pid bench_b) ch_url_b=$CH_URL
		CH_URL=$ch_url_a
	fi
fi
# A PSK identity per exporter, for dtls+udp.
mkdir -p "$WORK/pki"
for k in $(seq "$exporters"); do
	printf 'probe%s.example:%032x\n' "$k" "$k" >"$WORK/pki/probe$k.psk"
	cat "$WORK/pki/probe$k.psk" >>"$WORK/pki/collector.psk"
done
chmod 600 "$WORK"/pki/*.psk
collector_bin=$DPFIX_COLLECTOR build_name=a ch_args=${CH_ARGS:-}
# each_build CASE ARGS...: the case with this build's collector, then COLLECTOR_B's.
each_build() {
	collector_bin=$DPFIX_COLLECTOR build_name=a
	"$@"
	if [ -n "${COLLECTOR_B:-}" ]; then
		collector_bin=$COLLECTOR_B build_name=b ch_args=${CH_ARGS_B-${CH_ARGS:-}}
		CH_URL=${ch_url_b:-} chpid=${chpid_b:-}
		"$@"
		ch_args=${CH_ARGS:-} CH_URL=${ch_url_a:-} chpid=${chpid_a:-}
		collector_bin=$DPFIX_COLLECTOR build_name=a
	fi
}
for run in $(seq "$runs"); do
	for rate in $rates; do
		for transport in ${TRANSPORTS:-udp}; do
			for threads in ${THREADS:-1}; do
				want files && each_build files "$transport" "$rate"
				want json && each_build json "$transport" "$rate"
			done
		done
		threads=1
		want nfcapd && nfcapd_run "$rate"
		for threads in ${THREADS:-1}; do
			want clickhouse && each_build clickhouse udp "$rate"
		done
	done
	for threads in ${THREADS:-1}; do
		want files && each_build files tcp ""
		want json && each_build json tcp ""
		want clickhouse && each_build clickhouse tcp ""
	done
done
