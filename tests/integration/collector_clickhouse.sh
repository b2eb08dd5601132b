#!/usr/bin/env bash
# dpfix-collector --clickhouse into a private clickhouse-server 18.16 (one start for the
# whole script), judged against the collector's own --json of the same run, so any
# capture does (DPFIX_TEST_CAPTURE, default the bundled one):
#  1. probe -> collector -> ClickHouse: the table dpfix creates holds exactly the flow
#     records of the JSON, field for field; the summary counts them inserted; exit 0;
#     the README's example queries run on it and agree; config/collector-clickhouse.conf
#     (its paths and ports changed) runs and inserts what is sent over TCP and UDP;
#  2. ClickHouse away during the export: the batches go to the spool (RFC 5655 files
#     that ipfixDump reads); the collector stops with them; restarted once ClickHouse
#     is back it replays them before anything else; then ClickHouse killed while that
#     collector runs, an export, ClickHouse back: replayed while running; every flow
#     once;
#  3. ClickHouse killed -9 in the middle of a stream of 600 000 records and restarted:
#     every record inserted once (the batches whose insert went unanswered are checked
#     by batch id), totals equal to the collector's;
#  3b. ClickHouse hung (SIGSTOP) during a stream: what passes half of clickhouse_memory
#     spooled at once, nothing dropped, every record once after it answers again;
#  4. refused credentials, a credentials file others can read, an unknown cluster: exit
#     1 with one clear line; ClickHouse unreachable and no spool: the collector runs,
#     says so, and at the end counts what it could not insert as lost, exit 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clickhouse_lib.sh"
: "${DPFIX_BUILD_ROOT:?}"
CAPTURE=${DPFIX_TEST_CAPTURE:-$SAMPLE_PCAP}
BENCH_EXPORT=$DPFIX_BUILD_ROOT/bench/bench_export

ch_single one
ch_credentials "$WORK/ch.credentials"
CH=(--clickhouse "$CH_URL" --clickhouse-credentials "$WORK/ch.credentials"
	--clickhouse-batch-interval 0.2)

probe_to() {
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$CAPTURE" -- \
		--collector "$1" >"$WORK/probe.stdout" 2>&1 || fail "probe to $1 exited with $?: $(tail -5 "$WORK/probe.stdout")"
}

# flows_in JSON: the flow records (not options records) of a --json file.
flows_in() {
	grep -c '"packetDeltaCount"' "$1"
}

# 1. The exact path.
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c1" --quiet --json "$WORK/one.json" "${CH[@]}"
probe_to "tcp://127.0.0.1:$port"
wait_for_records "$WORK/one.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
flows=$(flows_in "$WORK/one.json")
[ "$flows" -gt 0 ] || fail "1: no flow records"
[ "$(summary_value "$WORK/c1.stdout" flows)" = "$flows" ] || fail "1: summary flows"
ch_same_flows "$CH_URL" dpfix.flows "$WORK/one.json"
[ "$(counter "$WORK/c1.stdout" clickhouse_rows_inserted)" = "$flows" ] || fail "1: clickhouse_rows_inserted"
[ "$(counter "$WORK/c1.stdout" clickhouse_options_records_skipped)" = \
	"$(counter "$WORK/c1.stdout" options_records)" ] || fail "1: options records skipped"
[ "$(ch_query "$CH_URL" "SELECT sum(packetDeltaCount), sum(octetDeltaCount) FROM dpfix.flows")" = \
	"$(summary_value "$WORK/c1.stdout" packets)	$(summary_value "$WORK/c1.stdout" octets)" ] ||
	fail "1: packet and octet sums differ from the collector's"
[ "$(ch_query "$CH_URL" "SELECT DISTINCT IPv6NumToString(exporterIPv6Address), observationDomainId FROM dpfix.flows")" = \
	"::ffff:127.0.0.1	1" ] || fail "1: exporter or domain"
# The reception time is the collector's clock: within the test's minutes.
[ "$(ch_query "$CH_URL" "SELECT countIf(abs(toUnixTimestamp(collectionTimeMilliseconds) - toUnixTimestamp(now())) > 600) FROM dpfix.flows")" = 0 ] ||
	fail "1: collectionTimeMilliseconds is not the reception time"

# The README's example queries run on this table as written: the traffic per exporter
# per minute counts every flow of the run, the top talkers are the busiest sources.
$PY - "$DPFIX_SOURCE_ROOT/README.md" >"$WORK/readme.sql" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("### Flows in ClickHouse", 1)[1].split("\n### ", 1)[0]
sql = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
for query in sql.split(";\n"):
    lines = [l for l in query.splitlines() if l.strip() and not l.startswith("--")]
    if lines:
        print(" ".join(lines))
PYEOF
[ "$(wc -l <"$WORK/readme.sql")" = 3 ] || fail "1: the README's example queries: $(cat "$WORK/readme.sql")"
mapfile -t readme_sql <"$WORK/readme.sql"
talkers=$(ch_query "$CH_URL" "${readme_sql[0]}")
[ "$(echo "$talkers" | head -1 | cut -f2)" = \
	"$(ch_query "$CH_URL" "SELECT max(o) FROM (SELECT sum(octetDeltaCount) AS o FROM dpfix.flows
		GROUP BY sourceIPv4Address, sourceIPv6Address)")" ] || fail "1: README top talkers: $talkers"
[ "$(ch_query "$CH_URL" "${readme_sql[1]}" | awk '{n += $(NF - 1)} END {print n}')" = "$flows" ] ||
	fail "1: README traffic per exporter per minute: $(ch_query "$CH_URL" "${readme_sql[1]}")"
ch_query "$CH_URL" "${readme_sql[2]}" >/dev/null

# config/collector-clickhouse.conf as shipped, but for where this test keeps things (its
# ports, server, credentials, spool and a table of its own): it starts, and what an
# exporter sends over TCP and UDP is in ClickHouse, with days kept (clickhouse_ttl_days).
port=$(free_port)
sed -e "s|0\.0\.0\.0:4739|127.0.0.1:$port|; s|http://127\.0\.0\.1:8123|$CH_URL|" \
	-e "s|/etc/dpfix/clickhouse.credentials|$WORK/ch.credentials|" \
	-e "s|/var/lib/dpfix/clickhouse-spool|$WORK/spool-example|; s|^clickhouse_table = flows|clickhouse_table = example|" \
	"$DPFIX_SOURCE_ROOT/config/collector-clickhouse.conf" >"$WORK/example.conf"
grep -q "^clickhouse_table = example" "$WORK/example.conf" && grep -q "$CH_URL" "$WORK/example.conf" ||
	fail "1: config/collector-clickhouse.conf is not as this test expects: $(cat "$WORK/example.conf")"
"$DPFIX_COLLECTOR" --config "$WORK/example.conf" >"$WORK/example.stdout" 2>"$WORK/example.stderr" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")
wait_for_text "$WORK/example.stderr" "listening on tcp://127.0.0.1:$port" 10
"$BENCH_EXPORT" "tcp://127.0.0.1:$port" 1000 --probe-records >/dev/null
"$BENCH_EXPORT" "udp://127.0.0.1:$port" 1000 --probe-records --rate 100000 >/dev/null
ch_wait_rows "$CH_URL" dpfix.example 2000 30
stop_collector

# 2. ClickHouse away: spool, stop, restart with the spool, replay; again while running.
ch_stop one KILL
spool=$WORK/spool
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c2" --quiet --json "$WORK/two.json" "${CH[@]}" \
	--clickhouse-table spooled --clickhouse-spool-dir "$spool"
grep -q "Connection refused; spooling until it answers" "$WORK/c2.stderr" ||
	fail "2: an unreachable ClickHouse is not said: $(cat "$WORK/c2.stderr")"
probe_to "tcp://127.0.0.1:$port"
wait_for_records "$WORK/two.json" "$(probe_records "$WORK/probe.stdout")"
stop_collector
[ "$(counter "$WORK/c2.stdout" clickhouse_rows_spooled)" = "$flows" ] || fail "2: rows spooled"
[ "$(counter "$WORK/c2.stdout" clickhouse_rows_dropped)" = 0 ] || fail "2: rows dropped"
grep -q "stay in the spool" "$WORK/c2.stderr" || fail "2: the spool left is not said"
mkdir "$WORK/spool.copy"
cp "$spool"/*.ipfix "$WORK/spool.copy/"
for f in "$WORK/spool.copy"/*.ipfix; do
	ipfix_dump_clean "$f"
done
ch_run one
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c3" --quiet --json "$WORK/three.json" "${CH[@]}" \
	--clickhouse-table spooled --clickhouse-spool-dir "$spool"
grep -q "in the spool $spool from an earlier run: they go first" "$WORK/c3.stderr" ||
	fail "2: the earlier run's spool is not said: $(cat "$WORK/c3.stderr")"
ch_wait_rows "$CH_URL" dpfix.spooled "$flows"
ch_same_flows "$CH_URL" dpfix.spooled "$WORK/two.json"
ch_stop one KILL
probe_to "tcp://127.0.0.1:$port"
wait_for_records "$WORK/three.json" "$(probe_records "$WORK/probe.stdout")"
wait_for_text "$WORK/c3.stderr" "spooling, trying again" 20
ch_run one
ch_wait_rows "$CH_URL" dpfix.spooled $((2 * flows))
stop_collector
ch_same_flows "$CH_URL" dpfix.spooled "$WORK/two.json" "$WORK/three.json"
ch_no_batch_twice "$CH_URL" dpfix.spooled
[ "$(counter "$WORK/c3.stdout" clickhouse_rows_replayed)" = $((2 * flows)) ] || fail "2: rows replayed"
[ -z "$(ls "$spool")" ] || fail "2: the spool is not empty: $(ls "$spool")"

# stream_until_rows PORT RECORDS TABLE ROWS OUT: bench_export sends RECORDS at 200 000 a
# second over TCP in the background (its PID in bench, its line in OUT); returns once
# dpfix.TABLE holds more than ROWS rows.
stream_until_rows() {
	"$BENCH_EXPORT" "tcp://127.0.0.1:$1" "$2" --probe-records --rate 200000 >"$5" 2>&1 &
	bench=$!
	PIDS+=("$bench")
	for _ in $(seq 300); do
		[ "$(curl -s "$CH_URL/" --data-binary "SELECT count() FROM dpfix.$3" 2>/dev/null || echo 0)" -gt "$4" ] && break
		sleep 0.05
	done
}

# 3. Killed in the middle of a stream.
records=600000
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c4" --quiet "${CH[@]}" --clickhouse-table killed \
	--clickhouse-spool-dir "$WORK/spool4" --clickhouse-batch-rows 20000
# Once rows are arriving, ClickHouse dies with inserts under way.
stream_until_rows "$port" "$records" killed 40000 "$WORK/bench.out"
ch_stop one KILL
sleep 1
ch_run one
wait "$bench" || fail "3: bench_export: $(cat "$WORK/bench.out"); the collector: $(tail -5 "$WORK/c4.stderr")"
ch_wait_rows "$CH_URL" dpfix.killed "$records" 120
stop_collector
[ "$(summary_value "$WORK/c4.stdout" flows)" = "$records" ] || fail "3: the collector's flows"
[ "$(ch_query "$CH_URL" "SELECT sum(packetDeltaCount), sum(octetDeltaCount) FROM dpfix.killed")" = \
	"$(summary_value "$WORK/c4.stdout" packets)	$(summary_value "$WORK/c4.stdout" octets)" ] ||
	fail "3: packet and octet sums differ from the collector's"
ch_no_batch_twice "$CH_URL" dpfix.killed
[ "$(counter "$WORK/c4.stdout" clickhouse_rows_inserted)" = "$records" ] || fail "3: rows inserted"
[ "$(counter "$WORK/c4.stdout" clickhouse_batches_retried)" -gt 0 ] || fail "3: no insert failed"

# 3b. ClickHouse hung (stopped: it takes connections, answers nothing) during a stream:
# both writers wait in an insert for clickhouse_timeout while memory (8 MiB) fills in
# under a second; the batches past half of it go to the spool at once, none dropped
# (before the spiller, the writers looked at memory only between inserts: 280 000 of
# the 400 000 records dropped; with the spiller late, under load or ASan, the receiving
# thread spools them itself: it dropped 20 000-40 000 before); once it answers, every
# record is there once.
records3=400000
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c6" --quiet "${CH[@]}" --clickhouse-table hung \
	--clickhouse-spool-dir "$WORK/spool6" --clickhouse-batch-rows 20000 \
	--clickhouse-memory $((8 << 20)) --clickhouse-timeout 20
stream_until_rows "$port" "$records3" hung 0 "$WORK/bench6.out"
chpid=$(ch_pid one)
kill -STOP "$chpid"
wait "$bench" || { kill -CONT "$chpid"; fail "3b: bench_export: $(cat "$WORK/bench6.out")"; }
kill -CONT "$chpid"
ch_wait_rows "$CH_URL" dpfix.hung "$records3" 120
stop_collector
[ "$(counter "$WORK/c6.stdout" clickhouse_rows_dropped)" = 0 ] ||
	fail "3b: $(counter "$WORK/c6.stdout" clickhouse_rows_dropped) rows dropped with a spool that had room"
[ "$(counter "$WORK/c6.stdout" clickhouse_rows_spooled)" -gt 0 ] || fail "3b: nothing spooled"
ch_no_batch_twice "$CH_URL" dpfix.hung
[ "$(counter "$WORK/c6.stdout" clickhouse_rows_inserted)" = "$records3" ] || fail "3b: rows inserted"

# 4. Errors at start, and no spool.
printf '%s:wrong\n' "$CH_USER" >"$WORK/bad.credentials"
chmod 600 "$WORK/bad.credentials"
expect_refusal() {
	local want=$1 rc=0
	shift
	timeout 30 "$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$(free_port)" --quiet "$@" \
		>"$WORK/refused.stdout" 2>"$WORK/refused.stderr" || rc=$?
	[ "$rc" = 1 ] || fail "4: exit $rc, want 1: $*"
	grep -q "$want" "$WORK/refused.stderr" || fail "4: '$want' not said: $(cat "$WORK/refused.stderr")"
}
expect_refusal "Wrong password for user $CH_USER (code 193)" --clickhouse "$CH_URL" \
	--clickhouse-credentials "$WORK/bad.credentials"
chmod 644 "$WORK/bad.credentials"
expect_refusal "is accessible by group or others (mode 0644); chmod 600 it" \
	--clickhouse "$CH_URL" --clickhouse-credentials "$WORK/bad.credentials"
expect_refusal "has no cluster 'nope' in its remote_servers" "${CH[@]}" --clickhouse-cluster nope
expect_refusal "expected http://HOST:PORT" --clickhouse "https://127.0.0.1:1"
ch_stop one KILL
port=$(free_port)
start_collector_at "tcp://127.0.0.1:$port" "$WORK/c5" --quiet "${CH[@]}" --clickhouse-table lost
grep -q "Connection refused; batches wait in memory until it answers" "$WORK/c5.stderr" ||
	fail "4: an unreachable ClickHouse is not said: $(cat "$WORK/c5.stderr")"
probe_to "tcp://127.0.0.1:$port"
wait_for_close "$WORK/c5"
kill -TERM "$COLLECTOR_PID"
rc=0
wait "$COLLECTOR_PID" || rc=$?
[ "$rc" = 2 ] || fail "4: exit $rc with flows lost, want 2"
[ "$(counter "$WORK/c5.stdout" clickhouse_rows_dropped)" = "$flows" ] || fail "4: rows dropped"
grep -q "flow records are lost (rows_dropped" "$WORK/c5.stderr" || fail "4: the loss is not said"
echo "collector_clickhouse: ok ($flows flows; $records records through a ClickHouse crash)"
