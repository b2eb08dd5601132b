#!/usr/bin/env bash
# A collector stopped (SIGTERM) while a probe exports to it over tcp and tls+tcp ends each
# session in order (RFC 7011 10.4.1.2): it tells the exporter (TLS: its close_notify;
# TCP: its FIN), reads on until the exporter has ended its side, and only then closes.
# The probe stops sending when it learns, ends its side, and takes its records as read
# only when the collector's close says so. The probe is frozen (SIGSTOP) while the stop
# comes and woken 0.5 s later with a burst of records due. So every record the probe exported is in the
# collector's output and none is counted unconfirmed; the records that waited for a
# session that never came are counted lost by the probe (exit 2), the collector exits 0.
# The same through a Mediator stopped in its place (tcp in, tcp out): its collector gets
# every record the probe exported.
# Before, the collector closed as soon as a round found nothing to read: records sent
# meanwhile were reset unread, and the probe counted as unconfirmed every record since
# its last confirmation, read or not (collector records + unconfirmed != exported).
source "$(dirname "$0")/lib.sh"

# 8000 flows, each a packet, replayed without end: with 1 s timeouts the probe exports
# without pause, so records are in flight whenever the collector stops.
$PY - "$WORK/flows.pcap" <<'PYEOF'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(8000):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                         bytes([10, 1, i >> 8, i & 255]), bytes([10, 2, 0, 1]))
        frame = bytes.fromhex("0200000000020200000000010800") + ip + struct.pack("!HHHH", 1024 + i, 4739, 8, 0)
        f.write(struct.pack("<IIII", 1, i, len(frame), len(frame)) + frame)
PYEOF
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"

stopped() {
	local scheme=$1 tag=${1/+/_} port probe rc=0 crc=0 cargs=() pargs=() ready="c['records_exported'] > 12000"
	port=$(free_port)
	if [ "$scheme" = tls+tcp ]; then
		cargs=(--psk-file "$WORK/psk")
		pargs=(--psk-file "$WORK/psk" --psk-identity probe1.example)
		ready="$ready and c['heartbeats_answered'] >= 1"
	fi
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$tag.c" --quiet "${cargs[@]}"
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/flows.pcap,infinite_rx=1" -- \
		--collector "$scheme://127.0.0.1:$port" "${pargs[@]}" --stats-interval 0 \
		--active-timeout 1 --idle-timeout 1 --export-flush 0.02 \
		--stats-json "$WORK/$tag.json" >"$WORK/$tag.p" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	(wait_for_telemetry "dpfix-test-$$" /dpfix/stats "$ready" True 20) ||
		fail "$scheme: the probe: $(grep -av '^  ' "$WORK/$tag.p" | tail -5); the collector: $(tail -3 "$WORK/$tag.c.stderr")"
	# The probe is frozen while the stop comes, so that it sends the records that fall
	# due meanwhile after it: when it wakes, the collector must still be reading.
	kill -STOP "$probe"
	kill -TERM "$COLLECTOR_PID"
	sleep 0.5
	kill -CONT "$probe"
	timeout 10 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "$scheme: the collector did not exit on SIGTERM"
	wait "$COLLECTOR_PID" || crc=$?
	wait_for_text "$WORK/$tag.p" "is down" 10
	kill -INT "$probe"
	wait "$probe" || rc=$?
	read -r exported lost unconfirmed < <($PY - "$WORK/$tag.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
print(x["records_exported"], x["records_lost"], x["records_unconfirmed"])
PYEOF
	)
	enqueued=$(counter "$WORK/$tag.p" records_enqueued)
	flows=$(summary_value "$WORK/$tag.c.stdout" flows)
	echo "$scheme: exported $exported, the collector read $flows, unconfirmed $unconfirmed, lost $lost (of $enqueued), probe exit $rc"
	[ $((flows + unconfirmed)) = "$exported" ] ||
		fail "$scheme: the collector read $flows + $unconfirmed unconfirmed, the probe exported $exported: $(grep -a "export" "$WORK/$tag.p"); $(grep "session\|data lost" "$WORK/$tag.c.stderr" "$WORK/$tag.c.stdout")"
	[ "$unconfirmed" = 0 ] ||
		fail "$scheme: $unconfirmed records unconfirmed: $(grep -a "export" "$WORK/$tag.p")"
	[ $((exported + lost)) = "$enqueued" ] || fail "$scheme: $exported exported + $lost lost, $enqueued enqueued"
	[ "$crc" = 0 ] || fail "$scheme: collector exit $crc, want 0: $(tail -2 "$WORK/$tag.c.stdout")"
	[ "$rc" = 2 ] || fail "$scheme: probe exit $rc, want 2 (records that waited for a session counted lost)"
	grep -q "ended by the exporter after our stop" "$WORK/$tag.c.stderr" ||
		fail "$scheme: $(grep session "$WORK/$tag.c.stderr")"
	echo "ok $scheme: all $exported records exported were read, none unconfirmed"
}

# The Mediator's inbound side is lib/collect's too: stopped the same way, it reads all
# the probe sent, and its exporting side passes every record on to its collector.
mediated() {
	local port cport probe rc=0 mrc=0
	port=$(free_port)
	cport=$(free_port)
	start_collector_at "tcp://127.0.0.1:$cport" "$WORK/m.c" --quiet
	start_mediator "$WORK/m" --listen "tcp://127.0.0.1:$port" --collector "tcp://127.0.0.1:$cport"
	# shellcheck disable=SC2046
	"$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$WORK/flows.pcap,infinite_rx=1" -- \
		--collector "tcp://127.0.0.1:$port" --stats-interval 0 --active-timeout 1 \
		--idle-timeout 1 --export-flush 0.02 --stats-json "$WORK/m.json" >"$WORK/m.p" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	(wait_for_telemetry "dpfix-test-$$" /dpfix/stats "c['records_exported'] > 12000" True 20) ||
		fail "mediator: the probe: $(grep -av '^  ' "$WORK/m.p" | tail -5)"
	kill -STOP "$probe"
	kill -TERM "$MEDIATOR_PID"
	sleep 0.5
	kill -CONT "$probe"
	timeout 30 tail --pid="$MEDIATOR_PID" -f /dev/null || fail "mediator: did not exit on SIGTERM"
	wait "$MEDIATOR_PID" || mrc=$?
	wait_for_text "$WORK/m.p" "is down" 10
	kill -INT "$probe"
	wait "$probe" || rc=$?
	stop_collector
	read -r exported unconfirmed < <($PY - "$WORK/m.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
print(x["records_exported"], x["records_unconfirmed"])
PYEOF
	)
	flows=$(summary_value "$WORK/m.c.stdout" flows)
	echo "mediator: the probe exported $exported, unconfirmed $unconfirmed; the collector behind the Mediator has $flows; Mediator exit $mrc"
	[ "$unconfirmed" = 0 ] && [ "$flows" = "$exported" ] ||
		fail "mediator: $(grep -a "export" "$WORK/m.p"); $(grep "session\|lost" "$WORK/m.stderr" "$WORK/m.stdout")"
	[ "$mrc" = 0 ] || fail "mediator: exit $mrc: $(tail -2 "$WORK/m.stdout")"
	grep -q "ended by the exporter after our stop" "$WORK/m.stderr" || fail "mediator: $(grep session "$WORK/m.stderr")"
	echo "ok mediator: all $exported records the probe exported passed on, none unconfirmed"
}

for s in ${HALFCLOSE_SCHEMES:-tcp tls+tcp mediator}; do
	if [ "$s" = mediator ]; then mediated; else stopped "$s"; fi
done
echo "collector_stop_sessions: ok"
