#!/usr/bin/env bash
# dpfix-collector --clickhouse-cluster: two clickhouse-server 18.16 processes, shards 1
# and 2 of the cluster dpfix_test (remote_servers in both configs, no ZooKeeper), on
# 127.0.0.2 and 127.0.0.3. Eight exporters on 127.0.0.10..16 and one more send the probe's export
# of the capture over UDP. The collector creates flows_local and the Distributed table
# flows on both shards; then:
#  - flows, read through the Distributed table on either server, holds exactly the
#    flow records of the collector's --json, and the summary's totals;
#  - both shards hold rows, each exporter's on one shard only, the one Distributed's
#    sharding key (sipHash64(exporterIPv6Address)) gives it;
#  - shard 2 killed while an exporter sends: its rows wait in the spool while shard 1
#    keeps inserting, and arrive when it is back; none twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse_lib.sh"
CAPTURE=${DPFIX_TEST_CAPTURE:-$SAMPLE_PCAP}
EXPORTERS=8

ch_cluster s1 s2
ch_credentials "$WORK/ch.credentials"

# The probe's export of the capture, as an RFC 5655 file to send again from other hosts.
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c0" --quiet --json "$WORK/zero.json" \
	--write "$WORK/export.ipfix"
# shellcheck disable=SC2046
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$CAPTURE" -- \
	--collector "tcp://127.0.0.1:$port" >"$WORK/probe.stdout" 2>&1 || fail "probe: $(tail -3 "$WORK/probe.stdout")"
wait_for_records "$WORK/zero.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
records=$(probe_records "$WORK/probe.stdout")

# send_from FIRST LAST PORT: exporters 127.0.0.FIRST..LAST send the file's messages over
# UDP, each its own session, at a pace the collector keeps up with.
send_from() {
	$PY - "$WORK/export.ipfix" "$1" "$2" "$3" <<'PYEOF'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
messages, offset = [], 0
while offset < len(data):
    length = int.from_bytes(data[offset + 2:offset + 4], "big")
    messages.append(data[offset:offset + length])
    offset += length
for host in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((f"127.0.0.{host}", 0))
    for m in messages:
        s.sendto(m, ("127.0.0.1", int(sys.argv[4])))
        time.sleep(0.0005)
    s.close()
PYEOF
}

port=$(free_port)
start_collector_at "udp://127.0.0.1:$port" "$WORK/c1" --quiet --json "$WORK/one.json" \
	--clickhouse "$CH_URL" --clickhouse-credentials "$WORK/ch.credentials" \
	--clickhouse-cluster dpfix_test --clickhouse-batch-interval 0.2 \
	--clickhouse-spool-dir "$WORK/spool"
send_from 10 $((10 + EXPORTERS - 2)) "$port"
wait_for_records "$WORK/one.json" $(((EXPORTERS - 1) * records))
flows=$(grep -c '"packetDeltaCount"' "$WORK/one.json")
ch_wait_rows "$CH_URL" dpfix.flows "$flows"

# Shard 2 goes away, and an exporter whose rows are shard 2's sends.
last=$(ch_query "$CH_URL" "SELECT min(number) FROM numbers(250) WHERE number >= 20
	AND sipHash64(toFixedString(unhex(concat('00000000000000000000ffff7f0000', hex(toUInt8(number)))), 16)) % 2 = 1")
ch_stop s2 KILL
send_from "$last" "$last" "$port"
wait_for_records "$WORK/one.json" $((EXPORTERS * records))
flows=$(grep -c '"packetDeltaCount"' "$WORK/one.json")
sleep 1
ch_run s2
ch_wait_rows "$(ch_url s2)" dpfix.flows "$flows"
stop_collector

[ "$(summary_value "$WORK/c1.stdout" flows)" = "$flows" ] || fail "summary flows"
ch_same_flows "$(ch_url s1)" dpfix.flows "$WORK/one.json"
ch_same_flows "$(ch_url s2)" dpfix.flows "$WORK/one.json"
[ "$(ch_query "$(ch_url s2)" "SELECT sum(packetDeltaCount), sum(octetDeltaCount) FROM dpfix.flows")" = \
	"$(summary_value "$WORK/c1.stdout" packets)	$(summary_value "$WORK/c1.stdout" octets)" ] ||
	fail "packet and octet sums differ from the collector's"
ch_no_batch_twice "$(ch_url s1)" dpfix.flows
for shard in 1 2; do
	url=$(ch_url "s$shard")
	rows=$(ch_query "$url" "SELECT count() FROM dpfix.flows_local")
	[ "$rows" -gt 0 ] || fail "shard $shard holds no rows"
	wrong=$(ch_query "$url" "SELECT count() FROM dpfix.flows_local WHERE sipHash64(exporterIPv6Address) % 2 != $((shard - 1))")
	[ "$wrong" = 0 ] || fail "shard $shard holds $wrong rows the sharding key puts on the other"
	ch_query "$url" "SELECT DISTINCT IPv6NumToString(exporterIPv6Address) FROM dpfix.flows_local" \
		>"$WORK/exporters.$shard"
	engine=$(ch_query "$url" "SELECT engine_full FROM system.tables WHERE database = 'dpfix' AND name = 'flows'")
	[ "$engine" = "Distributed(dpfix_test, dpfix, flows_local, sipHash64(exporterIPv6Address))" ] ||
		fail "shard $shard: flows is $engine"
done
[ "$(sort "$WORK/exporters.1" "$WORK/exporters.2" | uniq -d | wc -l)" = 0 ] || fail "an exporter on both shards"
[ "$(cat "$WORK/exporters.1" "$WORK/exporters.2" | wc -l)" = "$EXPORTERS" ] || fail "exporters missing"
echo "collector_clickhouse_cluster: ok ($flows flows from $EXPORTERS exporters on 2 shards:" \
	"$(wc -l <"$WORK/exporters.1") and $(wc -l <"$WORK/exporters.2") exporters)"
