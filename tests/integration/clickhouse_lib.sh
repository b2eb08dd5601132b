# Private ClickHouse servers for the tests (sourced after lib.sh): Debian's
# clickhouse-server 18.16, run as the user clickhouse with a config of its own under $WORK,
# on ports nobody else uses, stopped when the test ends. One server, or two shards of a
# cluster "dpfix_test" (remote_servers, no ZooKeeper) on 127.0.0.2 and 127.0.0.3 with the
# same ports, as a production cluster runs each shard on its own host with the same ports.

command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] ||
	fail "clickhouse-server is not installed (devtools/setup-deps.sh)"
CH_SERVER=/usr/sbin/clickhouse-server
CH_USER=dpfix
CH_PASSWORD=dpfix-test-$$-$RANDOM
CH_SERVERS=()          # "NAME PID" of every server started
# The server's directories lie under $WORK: the user clickhouse must reach them.
chmod 755 "$WORK"

# ch_write_config DIR ADDR HTTP TCP INTERSERVER [SHARD_ADDR...]: the server's config.xml
# and users.xml in DIR. With shard addresses, the cluster dpfix_test has one shard on each
# (their native port TCP).
ch_write_config() {
	local dir=$1 addr=$2 http=$3 tcp=$4 inter=$5
	shift 5
	mkdir -p "$dir/log"
	{
		cat <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log>
    <errorlog>$dir/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_port>$inter</interserver_http_port>
  <interserver_http_host>$addr</interserver_http_host>
  <listen_host>$addr</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>32</max_concurrent_queries>
  <keep_alive_timeout>10</keep_alive_timeout>
EOF
		if [ $# -gt 0 ]; then
			echo "  <remote_servers><dpfix_test>"
			for shard in "$@"; do
				echo "    <shard><replica><host>$shard</host><port>$tcp</port></replica></shard>"
			done
			echo "  </dpfix_test></remote_servers>"
		fi
		echo "</yandex>"
	} >"$dir/config.xml"
	# The user default (no password) is for the test's own queries; the collector logs
	# in as $CH_USER with a password, from a file.
	cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.0/8</ip></networks>
      <profile>default</profile><quota>default</quota></default>
    <$CH_USER><password>$CH_PASSWORD</password><networks><ip>127.0.0.0/8</ip></networks>
      <profile>default</profile><quota>default</quota></$CH_USER>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
	chown -R clickhouse: "$dir"
}

# ch_run NAME: starts the server configured in $WORK/ch-NAME (setpriv execs it, so the
# PID is the server's; CH_SERVER_ENV: "VAR=VALUE ..." in its environment) and waits
# until it answers /ping.
ch_run() {
	local name=$1 dir=$WORK/ch-$1 url
	url=$(cat "$dir/url")
	# shellcheck disable=SC2086 # VAR=VALUE words
	env ${CH_SERVER_ENV:-} setpriv --reuid clickhouse --regid clickhouse --init-groups \
		"$CH_SERVER" --config-file="$dir/config.xml" >>"$dir/log/stdout" 2>&1 &
	local pid=$!
	disown "$pid"   # no "Killed" line from bash when a test kills it
	PIDS+=("$pid")
	CH_SERVERS+=("$name $pid")
	for _ in $(seq 600); do
		[ "$(curl -s "$url/ping" 2>/dev/null)" = "Ok." ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "clickhouse-server $name exited: $(tail -5 "$dir/log/error.log" "$dir/log/stdout" 2>/dev/null)"
		sleep 0.1
	done
	fail "clickhouse-server $name did not answer /ping within 60 s"
}

# ch_pid NAME: the PID of a running server.
ch_pid() {
	local entry
	for entry in "${CH_SERVERS[@]}"; do
		[ "${entry%% *}" = "$1" ] && { echo "${entry#* }"; return 0; }
	done
	return 1
}

# ch_stop NAME [SIGNAL]: stops a server (TERM, or KILL to crash it) and waits for it.
ch_stop() {
	local pid
	pid=$(ch_pid "$1") || fail "no clickhouse-server $1"
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	timeout 60 tail --pid="$pid" -f /dev/null || { kill -9 "$pid"; fail "clickhouse-server $1 did not stop"; }
	wait "$pid" 2>/dev/null || true
	local kept=()
	for entry in "${CH_SERVERS[@]}"; do
		[ "${entry%% *}" = "$1" ] || kept+=("$entry")
	done
	CH_SERVERS=("${kept[@]}")
}

# ch_single NAME: one server on 127.0.0.1; sets CH_URL (the URL of server NAME is also in
# $WORK/ch-NAME/url).
ch_single() {
	local name=$1 dir=$WORK/ch-$1 http tcp inter
	http=$(free_port 127.0.0.1)
	tcp=$(free_port 127.0.0.1)
	inter=$(free_port 127.0.0.1)
	[ "$http" != "$tcp" ] && [ "$tcp" != "$inter" ] && [ "$http" != "$inter" ] ||
		{ ch_single "$@"; return; }
	ch_write_config "$dir" 127.0.0.1 "$http" "$tcp" "$inter"
	echo "http://127.0.0.1:$http" >"$dir/url"
	ch_run "$name"
	CH_URL=$(cat "$dir/url")
}

# ch_cluster NAME1 NAME2: two servers, shards 1 and 2 of the cluster dpfix_test, on
# 127.0.0.2 and 127.0.0.3 with the same ports; sets CH_URL to shard 1's.
ch_cluster() {
	local port http tcp inter i=2
	http=$(free_port 127.0.0.2 127.0.0.3)
	tcp=$(free_port 127.0.0.2 127.0.0.3)
	inter=$(free_port 127.0.0.2 127.0.0.3)
	[ "$http" != "$tcp" ] && [ "$tcp" != "$inter" ] && [ "$http" != "$inter" ] ||
		{ ch_cluster "$@"; return; }
	for name in "$@"; do
		ch_write_config "$WORK/ch-$name" "127.0.0.$i" "$http" "$tcp" "$inter" 127.0.0.2 127.0.0.3
		echo "http://127.0.0.$i:$http" >"$WORK/ch-$name/url"
		i=$((i + 1))
	done
	for name in "$@"; do
		ch_run "$name"
	done
	CH_URL=$(cat "$WORK/ch-$1/url")
}

# ch_url NAME: the server's URL.
ch_url() {
	cat "$WORK/ch-$1/url"
}

# ch_query URL SQL: the answer (TSV), or the test fails with ClickHouse's error.
ch_query() {
	local out
	out=$(curl -sS --fail-with-body "$1/" --data-binary "$2" 2>&1) ||
		fail "ClickHouse query failed: $2: $out"
	printf '%s\n' "$out"
}

# ch_credentials FILE: the collector's user and password, mode 600.
ch_credentials() {
	(umask 077 && printf '%s:%s\n' "$CH_USER" "$CH_PASSWORD" >"$1")
}

# ch_wait_rows URL TABLE WANT [SECONDS]: waits until TABLE (db.table) holds WANT rows;
# fails if it holds more, or fewer after SECONDS (default 60).
ch_wait_rows() {
	local url=$1 table=$2 want=$3 seconds=${4:-60} got=0 end
	end=$((SECONDS + seconds))
	while [ "$SECONDS" -lt "$end" ]; do
		got=$(curl -s "$url/" --data-binary "SELECT count() FROM $table" 2>/dev/null || true)
		[ "$got" = "$want" ] && return 0
		[[ $got =~ ^[0-9]+$ ]] && [ "$got" -gt "$want" ] && fail "$table holds $got rows, want $want"
		sleep 0.2
	done
	fail "$table holds ${got:-nothing} rows after ${seconds}s, want $want"
}

# ch_same_flows URL TABLE JSON...: the flow records of the collector's --json files
# (options records left out) are the rows of TABLE, field for field: addresses, ports,
# protocol, counters, times to the millisecond, end reason; and no batch twice.
ch_same_flows() {
	local url=$1 table=$2
	shift 2
	curl -sS --fail-with-body "$url/" --data-binary "SELECT
		if(sourceIPv4Address != 0, IPv4NumToString(sourceIPv4Address), IPv6NumToString(sourceIPv6Address)),
		if(destinationIPv4Address != 0, IPv4NumToString(destinationIPv4Address), IPv6NumToString(destinationIPv6Address)),
		sourceTransportPort, destinationTransportPort, protocolIdentifier,
		packetDeltaCount, octetDeltaCount, toUnixTimestamp(flowStartMilliseconds) * 1000 + flowStartMilliseconds_ms,
		toUnixTimestamp(flowEndMilliseconds) * 1000 + flowEndMilliseconds_ms, flowEndReason
		FROM $table FORMAT TSV" >"$WORK/ch_rows.tsv" || fail "reading $table: $(cat "$WORK/ch_rows.tsv")"
	$PY - "$WORK/ch_rows.tsv" "$@" <<'PYEOF' || fail "$table differs from the collector's JSON"
import collections, datetime, json, sys
def ms(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return str(round(t.timestamp() * 1000))
want = collections.Counter()
for path in sys.argv[2:]:
    for line in open(path):
        r = json.loads(line)
        if "packetDeltaCount" not in r:
            continue  # options records
        want["\t".join(str(x) for x in (
            r.get("sourceIPv4Address") or r.get("sourceIPv6Address"),
            r.get("destinationIPv4Address") or r.get("destinationIPv6Address"),
            r["sourceTransportPort"], r["destinationTransportPort"], r["protocolIdentifier"],
            r["packetDeltaCount"], r["octetDeltaCount"], ms(r["flowStartMilliseconds"]),
            ms(r["flowEndMilliseconds"]), r["flowEndReason"]))] += 1
got = collections.Counter(line.rstrip("\n") for line in open(sys.argv[1]))
if got != want:
    print(f"{sum(want.values())} flows in JSON, {sum(got.values())} rows", file=sys.stderr)
    for k in list((want - got).keys())[:3]:
        print(f"  missing: {k}", file=sys.stderr)
    for k in list((got - want).keys())[:3]:
        print(f"  extra:   {k}", file=sys.stderr)
    sys.exit(1)
PYEOF
}

# ch_batches_whole URL TABLE: every batch id in TABLE holds as many rows as one insert of
# it did, i.e. none came twice: for each batch, its rows are distinct records.
ch_no_batch_twice() {
	local dup
	dup=$(ch_query "$1" "SELECT count() FROM (SELECT dpfixBatchId, count() AS c,
		uniqExact(collectionTimeMilliseconds, collectionTimeMilliseconds_ms,
		exporterIPv6Address, sourceIPv4Address, sourceIPv6Address, destinationIPv4Address,
		destinationIPv6Address, sourceTransportPort, destinationTransportPort,
		flowStartMilliseconds, flowStartMilliseconds_ms, octetDeltaCount) AS u
		FROM $2 GROUP BY dpfixBatchId HAVING c != u)")
	[ "$dup" = 0 ] || fail "$2: $dup batches hold a row twice"
}
