#!/usr/bin/env bash
# Path MTU discovery without ICMP (RFC 8899, doc/path-mtu.md): the probe exports a
# 3000-flow capture through a router whose link to the collector has MTU 1280 and which
# drops its own ICMP "fragmentation needed" (nft), so larger packets vanish without a
# word. Over dtls+udp, dtls+sctp and sctp every flow record arrives: messages are held
# to the base size (1200) from the first one, and path_mtu (--stats-json) is within
# 1200..1280. With path_mtu_discovery = no (export_mtu 1400 taken as the path MTU) the
# same export loses records on every transport. Over dtls+udp, with endless input, padded
# heartbeats find 1280 exactly, then 1250 when the path shrinks without a word (a black
# hole found by probes of the size in use), and every record arrives; and 1280 so with
# the router's ICMP let through.
source "$(dirname "$0")/lib.sh"

FLOWS=3000
$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-sampling-capture.py" "$WORK/flows.pcap" /dev/null "$FLOWS"
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"

# silent_path TAG: the path of router_path TAG 1280 whose router drops its own ICMP
# "fragmentation needed" (nft), and counts the SCTP datagrams (over UDP port 9899, RFC
# 6951) larger than the base size it forwards (over_base): usrsctp's own sum of its
# headers left out the UDP one, and sent 1232 octets while path_mtu said 1200.
silent_path() {
	router_path "$1" 1280
	router_drop_too_big "$1"
	ip netns exec "${1}r" nft -f - <<'NFT'
table inet dpfix_sizes {
	counter over_base { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		udp dport 9899 ip length > 1200 counter name over_base
	}
}
NFT
}

# path_as_met: the path as the probe meets it: 1280 octets cross, 1281 vanish and nothing
# says so.
path_as_met() {
	local tag=pmpc$$
	silent_path "$tag"
	ip netns exec "${tag}e" ping -c 1 -W 2 -M do -s 1252 10.77.2.2 >/dev/null ||
		fail "a 1280-octet ping does not cross the path"
	! ip netns exec "${tag}e" ping -c 1 -W 1 -M do -s 1253 10.77.2.2 >"$WORK/ping" 2>&1 ||
		fail "a 1281-octet ping crossed the path"
	! grep -q "mtu\|too long" "$WORK/ping" || fail "the router told of its MTU: $(cat "$WORK/ping")"
	echo "ok the path: 1280 octets cross, 1281 vanish without a word"
}

# collector_stop_any: SIGTERM, and its exit status in CRC (a collector may report loss).
collector_stop_any() {
	kill -TERM "$COLLECTOR_PID"
	timeout 10 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "collector did not exit on SIGTERM"
	CRC=0
	wait "$COLLECTOR_PID" || CRC=$?
}

# settled FILE WANT: waits until the collector's --json FILE holds the WANT records the
# probe says it exported (probe_records), or stops growing (for a second: a datagram
# export has no end to wait for; its losses leave fewer records than were sent).
settled() {
	local before=-1 now still=0 end=$((SECONDS + 20))
	while [ "$SECONDS" -lt "$end" ]; do
		now=$(wc -l <"$1" 2>/dev/null || echo 0)
		[ "$now" -lt "$2" ] || return 0
		if [ "$now" = "$before" ]; then
			still=$((still + 1))
			[ "$still" -lt 10 ] || return 0
		else
			still=0
		fi
		before=$now
		sleep 0.1
	done
}

# export_over SCHEME NAME [PROBE_ARGS...]: the capture through the path to a collector in
# ${tag}c; sets RC (the probe's), EXPORTED, PATH_MTU (--stats-json) and GOT (the flow
# records the collector decoded).
export_over() {
	local scheme=$1 name=$2 security=()
	shift 2
	[ "$scheme" = sctp ] || security=(--psk-file "$WORK/psk")
	COLLECTOR_NETNS=${tag}c start_collector_at "$scheme://10.77.2.2:4740" "$WORK/$name.c" --quiet \
		--json "$WORK/$name.c.json" "${security[@]}"
	[ "$scheme" = sctp ] || security+=(--psk-identity probe1.example)
	RC=0
	# shellcheck disable=SC2046
	timeout 60 ip netns exec "${tag}e" "$DPFIX_PROBE" $(eal_args) \
		--vdev "net_pcap0,rx_pcap=$WORK/flows.pcap" -- --collector "$scheme://10.77.2.2:4740" \
		"${security[@]}" --stats-json "$WORK/$name.json" "$@" >"$WORK/$name.p" 2>&1 || RC=$?
	[ "$RC" -ne 124 ] || fail "$name: probe hung"
	if [ "$scheme" != dtls+udp ] && [ "$RC" = 0 ]; then
		wait_for_close "$WORK/$name.c"
	else
		settled "$WORK/$name.c.json" "$(probe_records "$WORK/$name.p")"
	fi
	collector_stop_any
	read -r EXPORTED PATH_MTU < <($PY - "$WORK/$name.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
print(x["records_exported"], x["path_mtu"])
PYEOF
	)
	[ "$(counter "$WORK/$name.p" path_mtu)" = "$PATH_MTU" ] ||
		fail "$name: summary path_mtu $(counter "$WORK/$name.p" path_mtu), --stats-json $PATH_MTU"
	[ "$EXPORTED" = "$FLOWS" ] || fail "$name: the probe exported $EXPORTED flow records, want $FLOWS"
	GOT=$(counter "$WORK/$name.c.stdout" data_records)
}

# short SCHEME: two letters for it, in the names of its path's namespaces.
short() {
	case $1 in
	dtls+udp) echo du ;;
	dtls+sctp) echo ds ;;
	sctp) echo sc ;;
	esac
}

# discovery_on SCHEME: every flow record arrives, and nothing larger than path_mtu
# crosses.
discovery_on() {
	local scheme=$1 name=on.${1/+/_} tag=pmn$(short "$1")$$ over
	silent_path "$tag"
	export_over "$scheme" "$name"
	over=$(ip netns exec "${tag}r" nft list counter inet dpfix_sizes over_base | grep -o "packets [0-9]*")
	[ "$PATH_MTU" != 1200 ] || [ "$over" = "packets 0" ] ||
		fail "$name: path_mtu 1200, but the router forwarded SCTP datagrams larger ($over)"
	[ "$RC" = 0 ] && [ "$CRC" = 0 ] ||
		fail "$name: probe exited $RC, collector $CRC: $(grep -a "export:" "$WORK/$name.p" | tail -2)"
	[ "$GOT" = "$FLOWS" ] || fail "$name: the collector got $GOT of $FLOWS flow records"
	[ "$PATH_MTU" -ge 1200 ] && [ "$PATH_MTU" -le 1280 ] ||
		fail "$name: path_mtu $PATH_MTU, want 1200..1280"
	echo "ok $scheme through MTU 1280 without ICMP: all $GOT flow records, path_mtu $PATH_MTU"
}

# discovery_off SCHEME: without discovery the same export loses records, and the probe
# cannot tell on UDP.
discovery_off() {
	local scheme=$1 name=off.${1/+/_} tag=pmf$(short "$1")$$
	silent_path "$tag"
	export_over "$scheme" "$name" --path-mtu-discovery no
	[ "$GOT" -lt "$FLOWS" ] || fail "$name: the collector got all $GOT flow records without discovery"
	[ "$PATH_MTU" != 0 ] || [ "$scheme" != dtls+udp ] || fail "$name: path_mtu 0"
	echo "ok $scheme with path_mtu_discovery no: the collector got $GOT of $FLOWS, probe exit $RC"
}

# search_over SCHEME NAME [SHRINK]: endless input over SCHEME (dtls+udp, dtls+sctp)
# through ${tag}'s path: the search ends at WANT (1280 unless set) while records wait in
# the flow table; at the stop every flow's record crosses in messages of that size, and
# no send failed. With SHRINK, the path's MTU then shrinks to SHRINK (a route change, as
# silent as the rest): the probes of 1280 go unanswered, the probe goes back to the base
# size and finds SHRINK. SEARCH_ARGS: more probe options.
search_over() {
	local scheme=$1 name=$2 shrink=${3:-} want=${WANT:-1280}
	COLLECTOR_NETNS=${tag}c start_collector_at "$scheme://10.77.2.2:4740" "$WORK/$name.c" --quiet \
		--json "$WORK/$name.c.json" --psk-file "$WORK/psk"
	# shellcheck disable=SC2046
	ip netns exec "${tag}e" "$DPFIX_PROBE" $(eal_args) \
		--vdev "net_pcap0,rx_pcap=$WORK/flows.pcap,infinite_rx=1" -- \
		--collector "$scheme://10.77.2.2:4740" --psk-file "$WORK/psk" --psk-identity probe1.example \
		--packet-timestamps no --stats-json "$WORK/$name.json" "${SEARCH_ARGS[@]}" >"$WORK/$name.p" 2>&1 &
	PROBE_PID=$!
	PIDS+=("$PROBE_PID")
	wait_for_text "$WORK/$name.p" "path MTU search done" 30
	grep -q "path MTU search done in [0-9.]* s: $want octets confirmed" "$WORK/$name.p" ||
		fail "$name: $(grep -a "path MTU" "$WORK/$name.p")"
	if [ -n "$shrink" ]; then
		ip -n "${tag}r" link set "${tag}r1" mtu "$shrink"
		ip -n "${tag}c" link set "${tag}c0" mtu "$shrink"
		local end=$((SECONDS + 30))
		until [ "$(grep -c "path MTU search done" "$WORK/$name.p")" -ge 2 ]; do
			[ "$SECONDS" -lt "$end" ] || fail "$name: no second search within 30 s after" \
				"the MTU shrank: $(grep -a "path MTU" "$WORK/$name.p" | tail -3)"
			sleep 0.1
		done
		grep -q "went unanswered (a black hole?): back to the base size" "$WORK/$name.p" &&
			grep -q "path MTU search done in [0-9.]* s: $shrink octets confirmed" "$WORK/$name.p" ||
			fail "$name: $(grep -a "path MTU" "$WORK/$name.p" | tail -4)"
		want=$shrink
	fi
	kill -INT "$PROBE_PID"
	RC=0
	wait "$PROBE_PID" || RC=$?
	[ "$RC" = 0 ] || fail "$name: probe exited $RC: $(tail -3 "$WORK/$name.p")"
	settled "$WORK/$name.c.json" "$(probe_records "$WORK/$name.p")"
	collector_stop_any
	GOT=$(counter "$WORK/$name.c.stdout" data_records)
	read -r EXPORTED PATH_MTU FAILURES < <($PY - "$WORK/$name.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
print(x["records_exported"], x["path_mtu"], x["send_failures"])
PYEOF
	)
	[ "$PATH_MTU" = "$want" ] || fail "$name: path_mtu $PATH_MTU, want $want"
	[ "$FAILURES" = 0 ] || fail "$name: $FAILURES messages could not be sent"
	[ "$GOT" = "$EXPORTED" ] && [ "$EXPORTED" -ge "$FLOWS" ] ||
		fail "$name: the collector got $GOT of $EXPORTED flow records"
}
SEARCH_ARGS=()
# Over dtls+sctp the same probes, each one SCTP packet of the size tried, abandoned if
# lost (doc/path-mtu.md): 1280 exactly, never more, and every record arrives.
search_dtls_sctp() {
	tag=pmss$$
	silent_path "$tag"
	search_over dtls+sctp search.dtls_sctp
	echo "ok dtls+sctp search: $(grep -ao "path MTU search done in [0-9.]* s" "$WORK/search.dtls_sctp.p"), all $GOT records"
}
search_dtls_udp_shrink() {
	tag=pmsu$$
	silent_path "$tag"
	search_over dtls+udp search.dtls_udp 1250
	echo "ok dtls+udp search: $(grep -ao "path MTU search done in [0-9.]* s" "$WORK/search.dtls_udp.p" |
		head -1); the path shrank to 1250: the black hole found, back to 1200, $(grep -ao \
		"path MTU search done in [0-9.]* s" "$WORK/search.dtls_udp.p" | tail -1); all $GOT records in messages of up to 1250 octets"
}

# Where the router does say "fragmentation needed", the same: Linux reports each ICMP on
# the next send or read of the socket, which costs neither a message nor the session.
search_icmp() {
	tag=pmti$$
	router_path "$tag" 1280
	search_over dtls+udp search_icmp.dtls_udp
	# shellcheck disable=SC2016
	icmp=$(ip netns exec "${tag}e" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) f[$i] = i; h = 1 }
		else print $f["InDestUnreachs"] }' /proc/net/snmp)
	[ "$icmp" -ge 1 ] || fail "search_icmp: the exporter received no ICMP destination unreachable"
	echo "ok dtls+udp search with ICMP ($icmp received): $(grep -ao "path MTU search done in [0-9.]* s" "$WORK/search_icmp.dtls_udp.p"), all $GOT records"
}
# A path of 1500 everywhere, export_mtu 1500: dtls+sctp finds all of it.
search_1500() {
	tag=pmtf$$
	router_path "$tag" 1500
	SEARCH_ARGS=(--export-mtu 1500)
	WANT=1500 search_over dtls+sctp search1500.dtls_sctp
	echo "ok dtls+sctp search through MTU 1500: $(grep -ao "path MTU search done in [0-9.]* s" "$WORK/search1500.dtls_sctp.p"), all $GOT records"
}

# Each case has a path (namespaces, router), files and a probe of its own: they run side
# by side, the longest first.
side_by_side search_dtls_udp_shrink search_dtls_sctp search_icmp search_1500 \
	"discovery_on dtls+udp" "discovery_on dtls+sctp" "discovery_on sctp" \
	"discovery_off dtls+udp" "discovery_off dtls+sctp" "discovery_off sctp" path_as_met
echo "pmtu_probing: ok"
