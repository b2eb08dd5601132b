#!/usr/bin/env bash
# A collector that freezes (SIGSTOP: its sockets stay open, no reset, no ICMP, its
# kernel still acknowledges TCP and its usrsctp threads stop with it) is found dead by the
# probe's heartbeats within heartbeat_interval x heartbeat_misses + 1 s (the issue's
# bound; by design (misses + 0.5) x interval, the rest is margin for this machine's
# scheduling; on the probe's own clock, which leaves out how late this test's shell
# runs: see frozen), said in one line that names it, counted (collectors_dead), and replaced
# once it thaws (SIGCONT): export resumes on a new session. Over dtls+udp, tls+tcp and
# dtls+sctp, with the default heartbeat_interval 1 s and heartbeat_misses 3.
source "$(dirname "$0")/lib.sh"

printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
INTERVAL=1
MISSES=3

frozen() {
	local scheme=$1 port probe tag=${1/+/_} sargs=() t0 t1 rc=0
	port=$(free_port)
	if [ "${scheme#*+}" = sctp ]; then
		sargs=(--sctp-udp-port "$(free_port)")
	fi
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c" --quiet --psk-file "$WORK/psk" "${sargs[@]}"
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" --psk-file "$WORK/psk" --psk-identity probe1.example \
		"${sargs[@]}" --stats-interval 0 --active-timeout 1 --idle-timeout 1 \
		--stats-json "$WORK/$tag.json" 2>&1 | stamp_lines "$WORK/$tag.p" &
	probe=$(jobs -p | tail -1)
	PIDS+=("$probe")
	wait_for_text "$WORK/$tag.p" "liveness: heartbeats every $INTERVAL s" 20
	# Heartbeats answered and records delivered before the freeze.
	(wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['heartbeats_answered'] >= 2 and c['records_exported'] > 0" True 20) ||
		fail "$scheme: the probe: $(grep -av '^  ' "$WORK/$tag.p" | tail -5); the collector: $(tail -3 "$WORK/$tag.c.stderr")"
	kill -STOP "$COLLECTOR_PID"
	t0=$EPOCHREALTIME # a builtin, no fork: the freeze is this instant
	wait_for_text "$WORK/$tag.p" "is dead" 15
	t1=$(grep -a "is dead" "$WORK/$tag.p" | head -1 | cut -d' ' -f1)
	heard=$(grep -a "is dead" "$WORK/$tag.p" | head -1 | sed -n 's/.*nothing heard for \([0-9.]*\) s.*/\1/p')
	kill -CONT "$COLLECTOR_PID"
	$PY - "$t0" "$t1" "$heard" "$INTERVAL" "$MISSES" "$scheme" <<'PYEOF' || fail "$scheme: detection out of bounds"
import sys
t0, t1, heard, interval = map(float, sys.argv[1:5])
misses, took = int(sys.argv[5]), t1 - t0
print(f"{sys.argv[6]}: frozen collector found dead after {took:.3f} s (the test's clock), "
      f"nothing heard for {heard} s (the probe's)", file=sys.stderr)
# Never before (misses - 0.5) intervals (less a loopback round trip): t0 is read after the
# freeze and t1 when the line is read, both no earlier than the events, so load on this
# machine can only make took longer.
if took < (misses - 0.5) * interval - 0.05:
    sys.exit(f"found dead {took:.3f} s after the freeze, want {(misses - 0.5) * interval:.1f} s or more")
# The issue's bound above, on the probe's own clock: the time from the last answer it had
# to its verdict. That answer left the collector before the freeze, so this is no shorter
# than the time from the freeze to the verdict (less the answer's way over loopback); and
# it leaves out how late this test's shell and reader run, which on a loaded machine are
# not the probe's doing.
if heard > misses * interval + 1:
    sys.exit(f"nothing heard for {heard} s when found dead, want {misses * interval + 1:.1f} s at most")
PYEOF
	wait_for_text "$WORK/$tag.p" "resumed on" 30
	# The dead line names the collector, once.
	grep -aq "export: collector $scheme 127.0.0.1:$port .* is dead: $MISSES heartbeats in a row unanswered" "$WORK/$tag.p" ||
		fail "$scheme: the dead line: $(grep -a dead "$WORK/$tag.p")"
	[ "$(grep -ac "is dead" "$WORK/$tag.p")" = 1 ] || fail "$scheme: 'dead' said more than once: $(grep -a "is dead" "$WORK/$tag.p")"
	kill -INT "$(pgrep -f "file-prefix $(eal_prefix) " | head -1)"
	wait "$probe" || rc=$?
	stop_collector
	cut -d' ' -f2- "$WORK/$tag.p" >"$WORK/$tag.summary"
	[ "$(counter "$WORK/$tag.summary" collectors_dead)" = 1 ] ||
		fail "$scheme: collectors_dead $(counter "$WORK/$tag.summary" collectors_dead), want 1"
	$PY - "$WORK/$tag.json" <<'PYEOF' || fail "$scheme: --stats-json"
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
assert x["collectors_dead"] == 1 and x["heartbeats_answered"] >= 2, x
PYEOF
	echo "ok $scheme: found dead in one line, counted, export resumed after the thaw"
}

# killed SCHEME [PROBE ARGS]: the collector is killed (SIGKILL) in the middle of an
# export, with records it took (its kernel did) and never read: it is frozen first, and
# killed once more have been sent. A new one is started at once on the same port. Export resumes on a new session
# with templates first; what the first collector had not confirmed with an answered
# heartbeat is sent again, so that between them the two collectors have every flow
# record the probe exported (some twice: the records sent again that the first had read;
# told apart here as byte-for-byte equal records), no loss is counted, and the probe
# exits 0. Six heartbeat misses, not three: the frozen collector must take records
# before the heartbeats find it dead (its session is then replaced, and the replacement's
# handshake never ends while it is frozen, so nothing more is exported). With the five
# cases side by side at load 22, three in one CI run exported nothing for 20 s after the
# freeze: their next export came after the verdict, 2-3 s after the freeze.
# With replay_buffer 0, what went unconfirmed is counted instead, exit 2; and so
# over plain tcp://, which has no heartbeats: the records sent into the session that
# failed were counted neither lost nor unconfirmed before (798 exported, 684 arrived,
# exit 0).
killed() {
	local scheme=$1 port probe tag=killed.${1/+/_} sargs=() cargs=() pargs=() rc=0 what sent
	local ready="c['heartbeats_answered'] >= 2 and c['records_exported'] > 200"
	shift
	[ $# = 0 ] || tag=$tag.noreplay
	port=$(free_port)
	if [ "${scheme#*+}" = sctp ]; then
		sargs=(--sctp-udp-port "$(free_port)")
	fi
	if [ "$scheme" = tcp ]; then
		ready="c['records_exported'] > 200"
	else
		cargs=(--psk-file "$WORK/psk")
		pargs=(--psk-file "$WORK/psk" --psk-identity probe1.example)
	fi
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c1" --quiet "${cargs[@]}" \
		"${sargs[@]}" --json "$WORK/$tag.c1.json"
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" "${pargs[@]}" \
		"${sargs[@]}" --stats-interval 0 --active-timeout 1 --idle-timeout 1 --packet-timestamps no \
		--export-flush 0.2 --heartbeat-misses 6 --stats-json "$WORK/$tag.json" "$@" >"$WORK/$tag.p" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	(wait_for_telemetry "$(eal_prefix)" /dpfix/stats "$ready" True 20) ||
		fail "$tag: the probe: $(grep -av '^  ' "$WORK/$tag.p" | tail -5); the collector: $(tail -3 "$WORK/$tag.c1.stderr")"
	kill -STOP "$COLLECTOR_PID"
	sent=$(telemetry_value "$(eal_prefix)" /dpfix/stats records_exported)
	(wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['records_exported'] > $sent" True 20) ||
		fail "$tag: nothing exported to the frozen collector: $(grep -a 'export:' "$WORK/$tag.p" | tail -3)"
	kill -KILL "$COLLECTOR_PID"
	wait "$COLLECTOR_PID" 2>/dev/null || true
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c2" --quiet "${cargs[@]}" \
		"${sargs[@]}" --json "$WORK/$tag.c2.json"
	wait_for_text "$WORK/$tag.p" "resumed on" 20
	[ "$scheme" = tcp ] || wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['heartbeats_answered'] >= 4" True 20
	# Records on the new session too.
	sent=$(telemetry_value "$(eal_prefix)" /dpfix/stats records_exported)
	wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['records_exported'] > $sent" True 20
	kill -INT "$probe"
	wait "$probe" || rc=$?
	[ "$scheme" = dtls+udp ] || wait_for_close "$WORK/$tag.c2"
	[ "$scheme" != dtls+udp ] || wait_for_records "$WORK/$tag.c2.json" \
		"$(($(counter "$WORK/$tag.p" records_exported) + $(counter "$WORK/$tag.p" options_records) - \
		$(grep -c . "$WORK/$tag.c1.json") - 100))"
	stop_collector
	grep -q "^  templates *[1-9]" "$WORK/$tag.c2.stdout" || fail "$tag: no templates on the new session"
	read -r what < <($PY - "$WORK/$tag.json" "$WORK/$tag.c1.json" "$WORK/$tag.c2.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
seen, lines = set(), 0
for path in sys.argv[2:]:
    for line in open(path):
        if '"packetDeltaCount"' in line:
            lines += 1
            seen.add(line)
print(x["records_exported"], len(seen), lines, x["records_lost"], x["records_unconfirmed"],
      x["records_replayed"])
PYEOF
	)
	read -r exported distinct lines lost unconfirmed replayed <<<"$what"
	echo "$tag: exported $exported, the collectors have $distinct ($lines with repeats), replayed $replayed, lost $lost, unconfirmed $unconfirmed, exit $rc"
	if [ $# = 0 ]; then
		[ "$rc" = 0 ] && [ "$lost" = 0 ] && [ "$unconfirmed" = 0 ] || fail "$tag: exit $rc, $lost lost, $unconfirmed unconfirmed"
		[ "$distinct" = "$exported" ] || fail "$tag: the collectors have $distinct of $exported flow records"
	else
		# Whatever is missing is counted, and said in the exit status.
		[ "$rc" = 2 ] && [ "$replayed" = 0 ] || fail "$tag: exit $rc, $replayed replayed"
		[ $((exported - distinct)) -le $((lost + unconfirmed)) ] ||
			fail "$tag: $((exported - distinct)) records missing, $lost lost and $unconfirmed unconfirmed counted"
	fi
	echo "ok $tag"
}

# blackholed SCHEME: a plain tcp:// or sctp:// collector (no heartbeats: they cannot be
# agreed without (D)TLS) whose host stops answering anything (its namespace drops every
# packet: no reset, no ICMP). TCP_USER_TIMEOUT of heartbeat_interval x heartbeat_misses
# ends the connection once data has waited that long unacknowledged (by default TCP
# would retransmit for some 15 minutes): the session is down within 3 s of the first
# unacknowledged data, and said so. SCTP's own heartbeats and retransmissions follow the
# same settings (the association lost after heartbeat_misses in a row, its timeout at
# most heartbeat_interval): down within 8 s, 6.5 s measured (with usrsctp's defaults,
# 5 in a row and up to 2 s each, 9.3 to 9.7 s for a frozen collector).
# Probe and collector in namespaces of their own joined by a router.
blackholed() {
	local scheme=$1 tag=hbd${1:0:1}$$ port=4739 probe t0 t1 bh=$WORK/bh.$1 most=6 silent
	local found="is dead" lost="is dead: TCP's own keepalives or retransmissions went unanswered, nothing heard for"
	router_path "$tag" 1500
	COLLECTOR_NETNS=${tag}c start_collector_at "$scheme://10.77.2.2:$port" "$bh.c" --quiet
	# shellcheck disable=SC2046
	ip netns exec "${tag}e" "$DPFIX_PROBE" $(eal_args) \
		--vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP,infinite_rx=1" -- --collector "$scheme://10.77.2.2:$port" \
		--stats-interval 0 --active-timeout 1 --idle-timeout 1 --export-flush 0.2 2>&1 |
		stamp_lines "$bh.p" &
	probe=$(jobs -p | tail -1)
	PIDS+=("$probe")
	wait_for_text "$bh.p" "liveness: no heartbeats without (D)TLS, where they cannot be agreed: ${scheme^^}" 20
	(wait_for_telemetry "$(eal_prefix)" /dpfix/stats "c['records_exported'] > 200" True 20) ||
		fail "blackholed: the probe: $(grep -av '^  ' "$bh.p" | tail -5)"
	ip netns exec "${tag}c" nft -f - <<'NFT'
table inet dpfix_hb_test {
	chain input { type filter hook input priority 0; policy drop; }
}
NFT
	t0=$EPOCHREALTIME
	# The transport's own watch finds the collector dead (TCP: ETIMEDOUT; SCTP:
	# SCTP_COMM_LOST with its address unreachable): said and counted as the dpfix
	# heartbeats' finding is, with how long nothing was heard from it (before, "is down
	# (Connection timed out)" or "(Software caused connection abort)", collectors_dead 0).
	if [ "$scheme" = sctp ]; then
		lost="is dead: SCTP's own heartbeats or retransmissions went unanswered 3 times in a row, nothing heard for"
		most=8
	fi
	wait_for_text "$bh.p" "$found" 15
	t1=$(grep -a "$found" "$bh.p" | head -1 | cut -d' ' -f1)
	grep -a "$found" "$bh.p" | head -1 | grep -q "$lost" ||
		fail "blackholed: $(grep -a "$found" "$bh.p" | head -1)"
	kill -INT "$(pgrep -f "file-prefix $(eal_prefix) " | head -1)"
	wait "$probe" || true
	kill -9 "$COLLECTOR_PID" 2>/dev/null || true
	wait "$COLLECTOR_PID" 2>/dev/null || true
	cut -d' ' -f2- "$bh.p" >"$bh.summary"
	[ "$(counter "$bh.summary" collectors_dead)" = 1 ] ||
		fail "blackholed: collectors_dead $(counter "$bh.summary" collectors_dead), want 1"
	# The silence it says runs from the collector's last SACK or ACK before the black
	# hole to the loss: nothing is heard after the black hole, so never much less than the
	# detection measured here (less the moment the probe takes to log it), and the
	# collector answered shortly before it (records go every 0.2 s, its SACKs within
	# 0.2 s; 0.7 s with four tests at once on this machine).
	silent=$(grep -a "$found" "$bh.p" | head -1 | sed 's/.*nothing heard for \([0-9.]*\) s.*/\1/')
	$PY -c "import sys; took = $t1 - $t0; sys.exit(not took - 0.5 <= $silent <= took + 1.5)" ||
		fail "blackholed: nothing heard for $silent s, said $($PY -c "print(round($t1 - $t0, 3))") s after the black hole"
	# Records go every 0.2 s, so data waits unacknowledged from at most then: 3 s of
	# TCP_USER_TIMEOUT, and the retransmission timer that notices it (the kernel's own
	# retries would take some 15 minutes).
	$PY -c "import sys; took = $t1 - $t0; print(f'blackholed: $scheme session down {took:.3f} s after the black hole', file=sys.stderr); sys.exit(took > $most)" ||
		fail "blackholed: the $scheme session was down only $($PY -c "print(round($t1 - $t0, 3))") s after the black hole, want $most s at most"
	echo "ok blackholed: a silent $scheme:// collector ends the session: $(grep -a "$found" "$bh.p" | head -1 | cut -d' ' -f2-)"
}

# The cases with a bound on time one at a time: another probe beside them (each one's
# worker polls without a pause) delays their probe's lcores, and so their verdict. The
# others side by side.
blackholed tcp
blackholed sctp
for scheme in dtls+udp tls+tcp dtls+sctp; do
	frozen "$scheme"
done
side_by_side "killed tls+tcp" "killed dtls+udp" "killed dtls+sctp" "killed tls+tcp --replay-buffer 0" \
	"killed tcp --replay-buffer 0"
echo "heartbeat_dead: ok"
