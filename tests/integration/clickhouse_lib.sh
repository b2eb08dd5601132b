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
# PID is the server's) and waits until it answers /ping.
ch_run() {
	local name=$1 dir=$WORK/ch-$1 url
	url=$(cat "$dir/url")
	setpriv --reuid clickhouse --regid clickhouse --init-groups \
		"$CH_SERVER" --config-file="$dir/config.xml" >>"$dir/log/stdout" 2>&1 &
	local pid=$!
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
