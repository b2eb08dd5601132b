# Helpers for the integration tests: run the real programs on loopback, check results.
# Sourced by each test; meson passes the program paths in the environment.
set -euo pipefail

: "${DPFIX_PROBE:?}" "${DPFIX_COLLECTOR:?}" "${DPFIX_SOURCE_ROOT:?}"
PY=/usr/bin/python3    # Debian's python: the one that has scapy
SAMPLE_PCAP="$DPFIX_SOURCE_ROOT/tests/data/sample.pcap"
SAMPLE_EXPECTED="$DPFIX_SOURCE_ROOT/tests/data/sample.expected.json"

WORK=$(mktemp -d /tmp/dpfix-test.XXXXXX)
SIDE_RUNS=0
PIDS=()
NETNS=()
# kill_tree PID: kills PID and every process below it (a side_by_side case's subshell
# killed alone would leave its probe and collector running).
kill_tree() {
	local c
	while read -r c; do kill_tree "$c"; done < <(pgrep -P "$1")
	kill -9 "$1" 2>/dev/null || true
}

# stop_started: kills the processes and removes the namespaces this shell started.
stop_started() {
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	# Deleting a namespace deletes its end of each veth pair, and so the pair.
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
cleanup() {
	stop_started
	# A test that ends (a failure, meson's timeout) while side_by_side's cases run: what
	# each had said so far.
	if [ -n "${SIDE_PENDING:-}" ]; then
		for f in "$SIDE_PENDING".*[0-9]; do
			echo "== side_by_side case ${f##*.} (the test ended before the cases did):" >&2
			cat "$f" >&2
		done
	fi
	[ -n "${DPFIX_KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
	rm -rf "/var/run/dpdk/dpfix-test-$$" "/var/run/dpdk/dpfix-test-$$"-*
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A port free for both UDP and TCP on 127.0.0.1 (free_port ADDR...: on each of those
# addresses). It is drawn below the kernel's range
# for ephemeral ports (net.ipv4.ip_local_port_range): a port from that range can be
# taken by any process's outgoing connection between this check and the test's bind,
# which on a busy machine (other test runs, builds) happens.
free_port() {
	$PY - "${@:-127.0.0.1}" <<'PYEOF'
import random, socket, sys
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    port = random.randrange(10000, low) if low > 11000 else 0
    try:
        for addr in sys.argv[1:]:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind((addr, port))
                    port = s.getsockname()[1]
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port")
PYEOF
}

# The DPDK file prefix of this test's probe (its runtime directory, where its telemetry
# socket is): one of its own for each case side_by_side runs (EAL_TAG).
eal_prefix() {
	echo "dpfix-test-$$${EAL_TAG:+-$EAL_TAG}"
}

# EAL arguments for a test run: no hugepages, no PCI, a private runtime directory.
eal_args() {
	echo "--no-huge -m 512 --no-pci --no-shconf --file-prefix $(eal_prefix) -l 0-1 --log-level=lib.eal:warning"
}

# side_by_side COMMAND...: the test's cases that do not meet (ports, namespaces, files of
# their own) run at once, at most SIDE_BY_SIDE (default 3) at a time, each COMMAND (a
# function of the test and its arguments) in a subshell with a DPDK file prefix of its
# own (eal_prefix), which kills the processes and removes the namespaces it started when
# it ends. Each case's output is printed once all have ended, in the order given; fails
# if any case failed. A case still running after SIDE_CASE_LIMIT seconds (default 120,
# well under meson's 300 s for the whole test) is given up: case_hung says what it was
# doing and stops it, and the test fails naming it.
side_by_side() {
	local i pid rc running=0 failed='' cmds=("$@") status=() out=$WORK/side.$((++SIDE_RUNS))
	local limit=${SIDE_CASE_LIMIT:-120} started=()
	declare -A case_of
	for i in "${!cmds[@]}"; do
		while [ "$running" -ge "${SIDE_BY_SIDE:-3}" ]; do
			side_reap && running=$((running - 1))
		done
		# shellcheck disable=SC2030,SC2031
		(
			EAL_TAG=s$i PIDS=() NETNS=()
			trap stop_started EXIT
			eval "${cmds[$i]}"
		) >"$out.$i" 2>&1 &
		case_of[$!]=$i
		started[i]=$SECONDS
		PIDS+=("$!")
		running=$((running + 1))
		SIDE_PENDING=$out
	done
	while [ "$running" -gt 0 ]; do
		side_reap && running=$((running - 1))
	done
	SIDE_PENDING=
	for i in "${!cmds[@]}"; do
		cat "$out.$i"
		[ "${status[$i]}" = "exited 0" ] || failed+="${failed:+; }'${cmds[$i]}' ${status[$i]}"
	done
	[ -z "$failed" ] || fail "$failed"
}

# side_reap (side_by_side's): true once one of its running cases has ended, or been given
# up for running past the limit, with its status recorded; false after a short sleep
# if none has.
side_reap() {
	local pid i rc
	for pid in "${!case_of[@]}"; do
		i=${case_of[$pid]}
		if ! kill -0 "$pid" 2>/dev/null; then
			rc=0
			wait "$pid" || rc=$?
			status[i]="exited $rc"
		elif [ $((SECONDS - started[i])) -ge "$limit" ]; then
			# shellcheck disable=SC2094  # it reads other files
			case_hung "$pid" "$out.$i" >>"$out.$i" 2>&1
			wait "$pid" || true
			status[i]="still ran after $limit s (given up: its output says what it was doing)"
		else
			continue
		fi
		unset "case_of[$pid]"
		return 0
	done
	sleep 0.2
	return 1
}

# case_hung PID OUTPUT: what the subshell PID running a case and each process under it
# were doing (ps, where each waits in the kernel, the last lines of each one's output
# files other than OUTPUT), then stops them all: the subshell first with SIGTERM (its
# EXIT trap removes the case's namespaces once the process it waits for is gone), then
# every one of them with SIGKILL.
case_hung() {
	local top=$1 output=$2 tree p f
	mapfile -t tree < <(ps -e -o pid=,ppid= | awk -v top="$top" '
		{ parent[$1] = $2 }
		END { for (p in parent) for (q = p; q != ""; q = parent[q]) if (q == top) { print p; break } }')
	echo "FAIL: this case ran longer than $limit s; its processes:"
	ps -o pid,ppid,stat,etime,time,wchan:24,args -p "$(IFS=,; echo "${tree[*]}")" || true
	for p in "${tree[@]}"; do
		echo "--- $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-160)"
		head -8 "/proc/$p/stack" 2>/dev/null | sed 's/^/  kernel: /' || true
		for f in $(readlink "/proc/$p/fd/1" "/proc/$p/fd/2" 2>/dev/null | sort -u); do
			[ -f "$f" ] && [ "$f" != "$output" ] || continue
			echo "  last lines of $f:"
			tail -5 "$f" | sed 's/^/    /'
		done
	done
	kill -TERM "$top" 2>/dev/null || true
	for p in "${tree[@]}"; do
		[ "$p" = "$top" ] || kill -KILL "$p" 2>/dev/null || true
	done
	timeout 5 tail --pid="$top" -f /dev/null || kill -KILL "$top" 2>/dev/null || true
}

expected() {
	$PY -c "import json,sys; print(json.load(open('$SAMPLE_EXPECTED'))['$1'])"
}

# start_collector PORT OUTPREFIX [args...]: the collector on udp://127.0.0.1:PORT, in the
# background; start_collector_at URL OUTPREFIX [args...] for any other endpoint.
start_collector() {
	local port=$1
	shift
	start_collector_at "udp://127.0.0.1:$port" "$@"
}

start_collector_at() {
	local url=$1 out=$2
	shift 2
	# COLLECTOR_NETNS: run it in that network namespace (with the probe under test).
	${COLLECTOR_NETNS:+ip netns exec "$COLLECTOR_NETNS"} "$DPFIX_COLLECTOR" --listen "$url" "$@" \
		>"$out.stdout" 2>"$out.stderr" &
	COLLECTOR_PID=$!
	PIDS+=("$COLLECTOR_PID")
	wait_for_text "$out.stderr" "listening on" 10
}

# stop_collector: SIGTERM, then wait; the collector must exit 0 on its own.
# stop_collector [STATUS]: SIGTERM, and the exit status must be STATUS (default 0; 2
# when it lost data, which its summary's "data lost" line names).
stop_collector() {
	kill -TERM "$COLLECTOR_PID"
	local rc=0
	timeout 10 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "collector did not exit on SIGTERM"
	wait "$COLLECTOR_PID" || rc=$?
	[ "$rc" -eq "${1:-0}" ] || fail "collector exited with $rc, want ${1:-0}"
}

# start_mediator OUTPREFIX ARGS...: dpfix-mediator in the background, returning once it
# listens (its first session to each collector is open by then).
start_mediator() {
	local out=$1
	shift
	: "${DPFIX_MEDIATOR:?}"
	"$DPFIX_MEDIATOR" "$@" >"$out.stdout" 2>"$out.stderr" &
	MEDIATOR_PID=$!
	PIDS+=("$MEDIATOR_PID")
	wait_for_text "$out.stderr" "listening on" 20
}

# stop_mediator [RC]: SIGTERM, then wait; it must exit with RC (default 0) on its own,
# having drained its input and ended every session.
stop_mediator() {
	local rc=0 want=${1:-0}
	kill -TERM "$MEDIATOR_PID"
	timeout 30 tail --pid="$MEDIATOR_PID" -f /dev/null || fail "mediator did not exit on SIGTERM"
	wait "$MEDIATOR_PID" || rc=$?
	[ "$rc" -eq "$want" ] || fail "mediator exited with $rc, want $want"
}

# flow_lines FILE: the flow records (lines with octetDeltaCount) in a collector's --json.
flow_lines() {
	grep -c '"octetDeltaCount"' "$1" 2>/dev/null || true
}

# wait_for_flows FILE COUNT: the collector's --json FILE holds COUNT flow records.
wait_for_flows() {
	poll_until 30 0.05 flows_reach "$1" "$2" ||
		fail "the collector decoded $POLL_SEEN flow records into $1 within 30 s (looked for $POLL_WAITED s), want $2"
}
flows_reach() {
	POLL_SEEN=$(flow_lines "$1")
	[ "${POLL_SEEN:-0}" -ge "$2" ]
}

# wait_for_close OUTPREFIX: the collector has seen the exporter's orderly close (FIN,
# SCTP SHUTDOWN, close_notify), so it has read everything sent before. A fixed sleep
# is not enough for SCTP, whose stack runs in threads of its own.
wait_for_close() {
	wait_for_text "$1.stderr" "closed by the exporter" 30
}

# wait_for_text FILE TEXT SECONDS: a line of FILE matches TEXT (grep's basic regular
# expression) within SECONDS.
wait_for_text() {
	poll_until "$3" 0.05 text_in "$1" "$2" ||
		fail "'$2' did not appear in $1 within $3 s (looked for $POLL_WAITED s): $(cat "$1" 2>/dev/null)"
}
text_in() {
	grep -q "$2" "$1" 2>/dev/null
}

# poll_until SECONDS INTERVAL COMMAND...: runs COMMAND (in this shell) every INTERVAL
# seconds until it succeeds (true), or until a try fails SECONDS (a whole number) or more
# on the clock after the first began (false). Bounded on the clock,
# not by a count of tries: under load a try (a grep, a tshark, a python) takes longer than
# the sleep between tries, so a count stretches the bound and the failure's message
# understates the time waited. POLL_WAITED: the seconds it waited, to a tenth, for the
# caller's message, which can also say what COMMAND last saw if it sets POLL_SEEN. A wait
# that succeeds after more than half its bound says so on stderr ("slow wait"), so that a
# bound load is about to outgrow shows in the log of a passing test.
poll_until() {
	local seconds=$1 interval=$2 start waited met
	shift 2
	POLL_SEEN=
	start=${EPOCHREALTIME/[.,]/}
	while :; do
		met=0
		"$@" && met=1
		waited=$((${EPOCHREALTIME/[.,]/} - start))
		POLL_WAITED=$((waited / 1000000)).$((waited / 100000 % 10))
		if [ "$met" = 1 ]; then
			[ "$waited" -le $((seconds * 500000)) ] ||
				echo "slow wait: $* took $POLL_WAITED s of its $seconds s" >&2
			return 0
		fi
		[ "$waited" -lt $((seconds * 1000000)) ] || return 1
		sleep "$interval"
	done
}

# summary_value FILE NAME: a number from the collector's summary line or table.
summary_value() {
	local file=$1 name=$2
	grep -m1 "summary:" "$file" | grep -o "$name [0-9]*" | awk '{print $2}'
}

# counter FILE NAME: a number from a summary table (the probe's, the collector's,
# dpfix-dump's): the last line whose first word is NAME.
counter() {
	awk -v n="$2" '$1 == n {v = $2} END {print v}' "$1"
}

# probe_records FILE: the records the probe's summary in FILE says it exported, flows and
# options records alike (each is one line of the collector's --json).
probe_records() {
	echo $(($(counter "$1" records_exported) + $(counter "$1" options_records)))
}

# collector_datagrams FILE: the messages the collector's summary counts, malformed ones
# included; over UDP, the datagrams it read.
collector_datagrams() {
	echo $(($(counter "$1" messages) + $(counter "$1" malformed_messages)))
}

# wait_for_records FILE COUNT: the collector's --json FILE holds COUNT records. It writes
# out what it has decoded whenever it runs out of input, so this says it has read all
# that was sent: datagrams have no close to wait for (wait_for_close). 30 s only bounds
# a hang.
wait_for_records() {
	poll_until 30 0.05 records_reach "$1" "$2" ||
		fail "the collector decoded $POLL_SEEN records into $1 within 30 s (looked for $POLL_WAITED s), want $2"
}
records_reach() {
	POLL_SEEN=$(wc -l <"$1" 2>/dev/null || echo 0)
	[ "$POLL_SEEN" -ge "$2" ]
}

# probe_export_exact OUTPREFIX URL JSON [PROBE ARGS...]: the probe exports the bundled
# capture to the collector started with OUTPREFIX and --json JSON at URL; once JSON holds
# every record the probe exported, the collector is stopped and its summary's flows,
# packets and octets must be the capture's.
probe_export_exact() {
	local out=$1 url=$2 json=$3 what
	shift 3
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$url" "$@" >"$out.probe" 2>&1 || fail "probe to $url failed: $(tail -3 "$out.probe")"
	wait_for_records "$json" "$(probe_records "$out.probe")"
	stop_collector
	for what in flows packets octets; do
		[ "$(summary_value "$out.stdout" "$what")" = "$(expected "$what")" ] ||
			fail "$url: $what $(summary_value "$out.stdout" "$what"), want $(expected "$what")"
	done
}

# capture_start NAME FILTER: dumpcap captures what crosses loopback and matches the
# capture FILTER into $WORK/NAME.pcapng, and this returns once the capture is running:
# dumpcap prints "File:" after its filter is attached and the file's header written.
# (tshark's "Capturing on" comes before it has even started its dumpcap.)
declare -A CAPTURE_PID
capture_start() {
	local name=$1 filter=$2
	dumpcap -q -i lo -f "$filter" -w "$WORK/$name.pcapng" 2>"$WORK/$name.dumpcap" &
	CAPTURE_PID[$name]=$!
	PIDS+=("$!")
	wait_for_text "$WORK/$name.dumpcap" "^File: " 20
}

# capture_stop NAME COUNT FILTER [TSHARK OPTIONS...]: stops the capture once it holds
# COUNT packets that match the display FILTER (read by tshark with the options, e.g.
# -d udp.port==P,cflow), what the test knows crossed loopback; dumpcap writes packets
# out up to a second or so after they pass. 30 s only bounds a hang.
capture_stop() {
	local name=$1 want=$2 filter=$3
	shift 3
	poll_until 30 0.1 capture_holds "$WORK/$name.pcapng" "$want" "$filter" "$@" ||
		fail "capture $name: $POLL_SEEN packets match '$filter' after $POLL_WAITED s (30 s allowed), want $want"
	kill -INT "${CAPTURE_PID[$name]}"
	wait "${CAPTURE_PID[$name]}" || fail "capture $name: dumpcap exited with $?: $(cat "$WORK/$name.dumpcap")"
}
# capture_holds CAPTURE COUNT FILTER [TSHARK OPTIONS...]: COUNT packets of CAPTURE match
# FILTER. The last packet may be half-written: tshark reads those before it and says so.
capture_holds() {
	local cap=$1 want=$2 filter=$3
	shift 3
	POLL_SEEN=$(tshark -r "$cap" "$@" -Y "$filter" -T fields -e frame.number 2>/dev/null | grep -c . || true)
	[ "$POLL_SEEN" -ge "$want" ]
}

# ipfix_dump_clean FILE [RECORDS]: libfixbuf's ipfixDump reads the IPFIX messages in FILE
# without a warning or error (it checks set structure and sequence numbers per domain),
# and RECORDS data records when given (options records count as data records). Its
# statistics line ("N Messages, N Data Records, N Template Records") is left in
# IPFIXDUMP_STATS.
ipfix_dump_clean() {
	local out=$1.ipfixdump
	ipfixDump -i "$1" -s >"$out" 2>&1 || fail "ipfixDump failed on $1: $(head -3 "$out")"
	! grep -qiE "warning|error|critical|illegal" "$out" ||
		fail "ipfixDump complains about $1: $(grep -iE "warning|error|critical|illegal" "$out" | head -3)"
	IPFIXDUMP_STATS=$(grep -m1 "File Stats" "$out") || fail "ipfixDump on $1 printed no statistics: $(head -3 "$out")"
	[ $# -lt 2 ] || [[ $IPFIXDUMP_STATS == *"Messages, $2 Data Records,"* ]] ||
		fail "ipfixDump on $1: $IPFIXDUMP_STATS, want $2 data records"
}

# ipfix_stream_cut FILE: the lengths of the IPFIX messages FILE holds back to back (what
# a TCP or TLS session carried), one a line; fails unless it is whole messages ending
# with "withdraw all templates" (RFC 7011 8.1, the orderly end of a TCP session), which
# it cuts off FILE: libfixbuf 2.4.1's ipfixDump crashes on that message.
ipfix_stream_cut() {
	$PY - "$1" <<'PYEOF'
import sys
data = open(sys.argv[1], "rb").read()
starts, offset = [], 0
while offset < len(data):
    version = int.from_bytes(data[offset:offset + 2], "big")
    length = int.from_bytes(data[offset + 2:offset + 4], "big")
    if version != 10 or length < 16 or offset + length > len(data):
        sys.exit(f"{sys.argv[1]}: no whole IPFIX message at byte {offset} of {len(data)}")
    starts.append(offset)
    print(length)
    offset += length
if not starts or data[starts[-1] + 16:] != bytes.fromhex("0002000800020000") or len(data) - starts[-1] != 24:
    sys.exit(f"{sys.argv[1]}: the last message does not withdraw all templates")
open(sys.argv[1], "wb").write(data[:starts[-1]])
PYEOF
}

# strip_heartbeats FILE: FILE holds what a (D)TLS session carried, decrypted, back to back:
# IPFIX messages and dpfix heartbeats (doc/heartbeats.md: marker 0xDF48, length, type 1 or
# 2, payload length, payload, at least 16 octets of padding). Leaves the IPFIX messages
# in FILE and prints how many heartbeat requests and responses it took out; fails on a
# malformed heartbeat or anything that is neither.
strip_heartbeats() {
	$PY - "$1" <<'PYEOF'
import sys
data = open(sys.argv[1], "rb").read()
kept, counts, off = bytearray(), {1: 0, 2: 0}, 0
while off < len(data):
    marker = int.from_bytes(data[off:off + 2], "big")
    length = int.from_bytes(data[off + 2:off + 4], "big")
    if marker not in (10, 0xDF48) or length < 4 or off + length > len(data):
        sys.exit(f"{sys.argv[1]}: neither IPFIX nor a heartbeat at byte {off}")
    msg = data[off:off + length]
    if marker == 10:
        kept += msg
    else:
        payload = int.from_bytes(msg[5:7], "big")
        if msg[4] not in counts or length < 7 + payload + 16:
            sys.exit(f"{sys.argv[1]}: malformed heartbeat at byte {off}: {msg[:8].hex()}")
        counts[msg[4]] += 1
    off += length
open(sys.argv[1], "wb").write(kept)
print(counts[1], counts[2])
PYEOF
}

# run_softflowd PORT: softflowd (-v 10) meters the bundled capture and exports IPFIX
# to udp 127.0.0.1:PORT; returns once it has exited, with what it says it exported in
# SOFTFLOWD_RECORDS (records count both directions of its flows) and SOFTFLOWD_PACKETS
# (datagrams). With -r, softflowd handles one batch of the file per control-socket
# command and exits by itself after the end of the file (ENVIRONMENT-NOTES section 4).
run_softflowd() {
	local pid
	softflowd -r "$SAMPLE_PCAP" -v 10 -n "127.0.0.1:$1" -d -p "$WORK/sf.pid" -c "$WORK/sf.ctl" \
		>"$WORK/softflowd.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	poll_until 30 0.1 softflowd_done "$pid" ||
		fail "softflowd did not finish within 30 s (waited $POLL_WAITED s)"
	wait "$pid" || fail "softflowd exited with $?: $(tail -5 "$WORK/softflowd.log")"
	# "Flows exported: 63 (115 records) in 5 packets"
	read -r SOFTFLOWD_RECORDS SOFTFLOWD_PACKETS < <(sed -n \
		's/.*Flows exported: [0-9]* (\([0-9]*\) records) in \([0-9]*\) packets.*/\1 \2/p' \
		"$WORK/softflowd.log") || true
	[ -n "${SOFTFLOWD_RECORDS:-}" ] && [ "$SOFTFLOWD_RECORDS" -gt 0 ] ||
		fail "softflowd exported nothing: $(cat "$WORK/softflowd.log")"
}

# softflowd_done PID: softflowd (PID) has exited; else one more batch of its file read.
softflowd_done() {
	kill -0 "$1" 2>/dev/null || return 0
	softflowctl -c "$WORK/sf.ctl" statistics >/dev/null 2>&1 || true
	return 1
}

# sctp_stream_order CAPTURE UDP_PORT: the DATA chunks in CAPTURE (SCTP over UDP_PORT)
# are the templates ordered on stream 0 and the data unordered on stream 1, and only
# those (sctp_data_unordered).
sctp_stream_order() {
	tshark -r "$1" -d "udp.port==$2,sctp" -Y sctp.data_sid -T fields \
		-e sctp.data_sid -e sctp.data_u_bit 2>/dev/null | $PY -c '
import sys
chunks = set()
for line in sys.stdin:
    sids, _, ubits = line.rstrip("\n").partition("\t")
    # one value per DATA chunk, in order, also when chunks are bundled in one packet
    chunks |= set(zip(sids.split(","), ubits.split(",")))
if chunks != {("0x0000", "0"), ("0x0001", "1")}:
    sys.exit(f"(stream, U bit) pairs seen: {sorted(chunks)}")'
}

# udp_payloads CAPTURE FILE: the UDP payloads in CAPTURE one after the other, as ipfixDump
# reads a stream of IPFIX messages.
udp_payloads() {
	tshark -r "$1" -T fields -e udp.payload 2>/dev/null | tr -d ':\n' | xxd -r -p >"$2"
	[ -s "$2" ] || fail "no UDP payload in $1"
}

# Under ASan: DPDK's net_af_xdp leaks what tests/lsan.supp names, and those frames
# (libraries built without frame pointers) are only seen with the slow unwinder. Tests
# that run net_af_xdp call this first.
af_xdp_leak_unwind() {
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0
}

# veth_pair TAG: two network namespaces, ${TAG}p (the probe's) and ${TAG}s (the sender's),
# joined by a veth pair ${TAG}a -- ${TAG}b, up, IPv6 off so that the kernel sends nothing
# of its own (neighbour discovery) and every frame on the link is the test's; removed on
# exit. TAG must hold the engineer's or test's name and fit 13 characters. QUEUES
# (default 1): receive and transmit queues of each end (the sender's kernel spreads its
# frames over them by flow hash).
veth_pair() {
	local tag=$1 q=${2:-1}
	ip netns add "${tag}p" && NETNS+=("${tag}p")
	ip netns add "${tag}s" && NETNS+=("${tag}s")
	ip link add "${tag}a" numtxqueues "$q" numrxqueues "$q" netns "${tag}p" type veth \
		peer name "${tag}b" numtxqueues "$q" numrxqueues "$q" netns "${tag}s"
	for side in p:a s:b; do
		local ns=${tag}${side%:*} dev=${tag}${side#*:}
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" ip link set "$dev" up
	done
}

# stamp_lines FILE: copies its input to FILE line by line, each line headed by the wall
# clock (seconds since the epoch, to the microsecond) at which it was read: when a program
# said something, to within the scheduling of this reader. Bash's $EPOCHREALTIME is the
# same clock.
stamp_lines() {
	$PY -u -c '
import sys, time
with open(sys.argv[1], "w", buffering=1) as out:
    for line in sys.stdin:
        out.write(f"{time.time():.6f} {line}")' "$1"
}

# probe_telemetry PREFIX COMMAND: a DPDK telemetry query to the probe run with --file-prefix
# PREFIX; prints the JSON answer.
probe_telemetry() {
	echo "$2" | timeout 10 dpdk-telemetry.py -f "$1" 2>/dev/null
}

# telemetry_value PREFIX COMMAND KEY: one number from a telemetry answer (0 if none).
telemetry_value() {
	probe_telemetry "$1" "$2" | $PY -c "import json,sys; d=json.load(sys.stdin); print(list(d.values())[0]['$3'])" \
		2>/dev/null || echo 0
}

# wait_for_telemetry PREFIX COMMAND EXPR WANT [SECONDS]: waits until the python
# expression EXPR over the answer's counters (a dict named c) equals WANT.
wait_for_telemetry() {
	local seconds=${5:-30}
	poll_until "$seconds" 0.1 telemetry_is "$1" "$2" "$3" "$4" ||
		fail "telemetry $2: $3 is '$POLL_SEEN' after $POLL_WAITED s ($seconds s allowed), want $4"
}
# telemetry_is PREFIX COMMAND EXPR WANT: EXPR over the answer's counters equals WANT now.
telemetry_is() {
	POLL_SEEN=$(probe_telemetry "$1" "$2" | $PY -c "import json,sys; c=list(json.load(sys.stdin).values())[0]; print($3)" \
		2>/dev/null || true)
	[ "$POLL_SEEN" = "$4" ]
}

# router_path TAG MTU [silent]: an exporter and a collector in namespaces of their own,
# ${TAG}e (10.77.1.2) and ${TAG}c (10.77.2.2), joined by a router ${TAG}r whose link to the
# collector has this MTU, smaller than the exporter's own link's (1500): the router
# reports larger packets with ICMP "fragmentation needed". With "silent" only the
# collector's end of that link has the MTU: the router forwards larger packets and the
# collector's link drops them without a word, a path MTU black hole. Removed on exit.
# TAG must hold the engineer's or test's name and fit 12 characters.
router_path() {
	local tag=$1 mtu=$2 silent=${3:-} ns
	for ns in e r c; do
		ip netns add "$tag$ns" && NETNS+=("$tag$ns")
		ip -n "$tag$ns" link set lo up
	done
	ip link add "${tag}e0" netns "${tag}e" type veth peer name "${tag}r0" netns "${tag}r"
	ip link add "${tag}r1" netns "${tag}r" type veth peer name "${tag}c0" netns "${tag}c"
	ip -n "${tag}e" addr add 10.77.1.2/24 dev "${tag}e0"
	ip -n "${tag}r" addr add 10.77.1.1/24 dev "${tag}r0"
	ip -n "${tag}r" addr add 10.77.2.1/24 dev "${tag}r1"
	ip -n "${tag}c" addr add 10.77.2.2/24 dev "${tag}c0"
	[ -n "$silent" ] || ip -n "${tag}r" link set "${tag}r1" mtu "$mtu"
	ip -n "${tag}c" link set "${tag}c0" mtu "$mtu"
	for ns in e:e0 r:r0 r:r1 c:c0; do
		ip -n "$tag${ns%:*}" link set "$tag${ns#*:}" up
	done
	ip -n "${tag}e" route add default via 10.77.1.1
	ip -n "${tag}c" route add default via 10.77.2.1
	ip netns exec "${tag}r" sysctl -qw net.ipv4.ip_forward=1
}

# router_drop_too_big TAG: the router of router_path TAG says nothing of the packets too
# large for its link to the collector (an nft rule drops its ICMP "fragmentation needed"
# and ICMPv6 "packet too big" as they leave): they vanish, as behind a filtering firewall.
router_drop_too_big() {
	ip netns exec "${1}r" nft -f - <<'NFTEOF'
table inet dpfix_too_big {
	chain output {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable icmp code frag-needed drop
		icmpv6 type packet-too-big drop
	}
}
NFTEOF
}
