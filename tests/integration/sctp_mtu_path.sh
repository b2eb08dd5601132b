#!/usr/bin/env bash
# SCTP export through a router whose link to the collector has MTU 1280: the probe
# claims no delivery that did not happen. With ICMP from the router, the exporter's
# kernel learns the path MTU and fragments usrsctp's UDP datagrams, so every record
# arrives, late for the first big messages (retransmitted). That delay let the template
# withdrawal (stream 0) overtake the last data (stream 1), which the collector then
# dropped for want of a template (~1/3 of 3000 flows arrived) while the probe exited 0;
# now the withdrawal waits until the collector's stack has acknowledged all data, and
# the collector gets every record. Through a black hole (the collector's link drops what
# is larger, no ICMP) nothing large arrives: the probe exits 2 with every flow record
# counted as unconfirmed, in the summary and --stats-json; with a PR-SCTP lifetime
# (sctp_data_lifetime) the stack gives the records up and ends the association as if
# all were well, and the probe counts them as lost. Over sctp and dtls+sctp. The black
# holes are met with path_mtu_discovery = no (export_mtu taken as the path MTU); with it,
# the base size crosses them (pmtu_probing). And with the first DATA packet (the
# templates) lost, no data overtakes them.
source "$(dirname "$0")/lib.sh"

FLOWS=3000
$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-sampling-capture.py" "$WORK/flows.pcap" /dev/null "$FLOWS"
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"

# export_through PATH SCHEME [PROBE_ARGS...]: the probe in ${tag}e exports the capture to a
# collector in ${tag}c; sets RC, EXPORTED, OPTIONS, LOST, UNCONFIRMED, SESSIONS_UNCONFIRMED (from
# --stats-json, checked against the summary) and GOT_FLOWS, GOT_OPTIONS (the collector's).
export_through() {
	local path=$1 scheme=$2 name=$1.${2/+/_} security=()
	shift 2
	[ "$#" = 0 ] || name=$name.pr
	[ "$scheme" = sctp ] || security=(--psk-file "$WORK/psk")
	COLLECTOR_NETNS=${tag}c start_collector_at "$scheme://10.77.2.2:4740" "$WORK/$name.c" --quiet \
		"${security[@]}"
	[ "$scheme" = sctp ] || security+=(--psk-identity probe1.example)
	RC=0
	# shellcheck disable=SC2046
	timeout 60 ip netns exec "${tag}e" "$DPFIX_PROBE" $(eal_args) \
		--vdev "net_pcap0,rx_pcap=$WORK/flows.pcap" -- --collector "$scheme://10.77.2.2:4740" \
		"${security[@]}" --stats-json "$WORK/$name.json" "${DISCOVERY[@]}" "$@" >"$WORK/$name.p" 2>&1 || RC=$?
	[ "$RC" -ne 124 ] || fail "$name: probe hung"
	# A confirmed end: the collector has read everything. Otherwise what it has, it has.
	[ "$RC" != 0 ] || wait_for_close "$WORK/$name.c"
	# The collector exits 2 when it counted loss: here, records missing by sequence number,
	# which it sees only if a message after them arrived (checked against its summary).
	kill -TERM "$COLLECTOR_PID"
	timeout 10 tail --pid="$COLLECTOR_PID" -f /dev/null || fail "$name: collector did not exit on SIGTERM"
	COLLECTOR_RC=0
	wait "$COLLECTOR_PID" || COLLECTOR_RC=$?
	GOT_LOST=$(counter "$WORK/$name.c.stdout" sequence_lost)
	[ "$COLLECTOR_RC" = "$([ "$GOT_LOST" = 0 ] && echo 0 || echo 2)" ] ||
		fail "$name: collector exited $COLLECTOR_RC with sequence_lost $GOT_LOST: $(tail -1 "$WORK/$name.c.stdout")"
	read -r EXPORTED OPTIONS LOST UNCONFIRMED SESSIONS_UNCONFIRMED < <($PY - "$WORK/$name.json" <<'PYEOF'
import json, sys
x = json.load(open(sys.argv[1]))["exporter"]
print(x["records_exported"], x["options_records"], x["records_lost"], x["records_unconfirmed"],
      x["sessions_unconfirmed"])
PYEOF
	)
	for what in "records_exported $EXPORTED" "options_records $OPTIONS" "records_lost $LOST" \
			"records_unconfirmed $UNCONFIRMED" "sessions_unconfirmed $SESSIONS_UNCONFIRMED"; do
		[ "$(counter "$WORK/$name.p" "${what% *}")" = "${what#* }" ] ||
			fail "$name: summary ${what% *} $(counter "$WORK/$name.p" "${what% *}"), --stats-json ${what#* }"
	done
	GOT_FLOWS=$(counter "$WORK/$name.c.stdout" data_records)
	GOT_OPTIONS=$(counter "$WORK/$name.c.stdout" options_records)
	[ "$EXPORTED" = "$FLOWS" ] || fail "$name: the probe exported $EXPORTED flow records, want $FLOWS"
	# Never a claim beyond the facts: whatever did not arrive is counted as lost or unconfirmed.
	local missing=$((EXPORTED - GOT_FLOWS))
	if [ "$RC" = 0 ] && [ "$missing" != 0 ]; then
		fail "$name: the probe exited 0 ($LOST lost, $UNCONFIRMED unconfirmed) but the collector" \
			"got $GOT_FLOWS of $EXPORTED flow records ($(counter "$WORK/$name.c.stdout" \
			sets_unknown_template) sets of an unknown template, $(counter "$WORK/$name.c.stdout" \
			sequence_lost) records missing by sequence number)"
	fi
	[ "$missing" -le $((LOST + UNCONFIRMED)) ] ||
		fail "$name: $missing flow records missing at the collector, the probe counts $LOST lost and $UNCONFIRMED unconfirmed"
	# Only records the probe gave up (sctp_data_lifetime) or could not tell the fate of
	# leave a gap at the collector: under load the stack can give up the unconfirmed ones
	# after the end's wait and still deliver the last message (CI: 3000 missing by sequence
	# number, 2805 counted lost and 195 unconfirmed).
	[ "$GOT_LOST" -le $((LOST + UNCONFIRMED)) ] ||
		fail "$name: the collector misses $GOT_LOST records by sequence number, the probe counts $LOST lost and $UNCONFIRMED unconfirmed"
}

# ICMP reports the smaller MTU: everything arrives, and the probe says so.
DISCOVERY=()
tag=sctpm$$
router_path "$tag" 1280
for scheme in sctp dtls+sctp; do
	export_through icmp "$scheme"
	[ "$RC" = 0 ] || fail "icmp.$scheme: probe exited $RC: $(grep -a "export:" "$WORK/icmp.${scheme/+/_}.p" | tail -2)"
	[ "$GOT_OPTIONS" = "$OPTIONS" ] ||
		fail "icmp.$scheme: the collector got $GOT_OPTIONS of $OPTIONS options records"
	echo "ok $scheme through MTU 1280 with ICMP: all $GOT_FLOWS flow and $GOT_OPTIONS options records delivered, exit 0"
done

# The first DATA packet lost: the templates (stream 0), which the stack resends later.
# The options records (stream 1) went meanwhile and reached the collector first, which
# could not decode them (6 of 12 options records, "6 records missing by sequence
# number"), and the probe exited 0 with all confirmed; usrsctp's stream scheduler did the
# same on loopback now and then (dtls_sctp_repeat). A new session's data now waits until
# the collector's stack has acknowledged its templates.
tag=sctpd$$
router_path "$tag" 1500
ip netns exec "${tag}c" nft -f - <<'NFT'
table inet dpfix_test {
	set dropped { type inet_service; flags dynamic; }
	chain input {
		type filter hook input priority 0;
		# SCTP over UDP port 9899 (RFC 6951): the first chunk follows the 12-byte
		# common header; type 0 is DATA. Only the first such packet is dropped.
		udp dport 9899 @ih,96,8 0 udp dport @dropped accept
		udp dport 9899 @ih,96,8 0 add @dropped { udp dport } counter drop
	}
}
NFT
export_through first_lost sctp
[ "$RC" = 0 ] || fail "first_lost.sctp: probe exited $RC: $(grep -a "export:" "$WORK/first_lost.sctp.p" | tail -2)"
# Read once, then match: with pipefail, grep -q ending first fails nft's write (SIGPIPE).
rules=$(ip netns exec "${tag}c" nft list table inet dpfix_test)
grep -q "counter packets 1 " <<<"$rules" || fail "first_lost.sctp: no DATA packet was dropped: $rules"
for zero in sets_unknown_template sequence_lost; do
	[ "$(counter "$WORK/first_lost.sctp.c.stdout" "$zero")" = 0 ] ||
		fail "first_lost.sctp: collector $zero $(counter "$WORK/first_lost.sctp.c.stdout" "$zero")"
done
[ "$GOT_OPTIONS" = "$OPTIONS" ] ||
	fail "first_lost.sctp: the collector got $GOT_OPTIONS of $OPTIONS options records"
echo "ok sctp with its first DATA packet lost: all $GOT_FLOWS flow and $GOT_OPTIONS options records decoded, exit 0"

# A black hole: the probe cannot tell what was read, and says so.
DISCOVERY=(--path-mtu-discovery no)
tag=sctpb$$
router_path "$tag" 1280 silent
export_through hole sctp
[ "$RC" = 2 ] || fail "hole.sctp: probe exited $RC, want 2"
[ "$SESSIONS_UNCONFIRMED" = 1 ] && [ "$UNCONFIRMED" = "$EXPORTED" ] ||
	fail "hole.sctp: sessions_unconfirmed $SESSIONS_UNCONFIRMED, records_unconfirmed $UNCONFIRMED, want 1 and $EXPORTED"
grep -aq "ended without the collector's confirmation: the collector's sctp stack did not acknowledge all we sent" \
	"$WORK/hole.sctp.p" || fail "hole.sctp: the probe does not say why: $(grep -a "export:" "$WORK/hole.sctp.p" | tail -2)"
echo "ok sctp through a black hole: the collector got $GOT_FLOWS flow records, the probe exits 2 with $UNCONFIRMED unconfirmed"
# With a PR-SCTP lifetime the stack gives the records up, then acknowledges and ends the
# association as if all were well: what it gave up is lost, and counted. When the stack
# has given up all it could not deliver within the end's 3 s wait (FORWARD-TSN, small,
# crosses the hole), the end is confirmed and the last message (options records, small)
# reaches the collector after the gap: the collector counts every record given up as
# missing by sequence number and exits 2, as it must. With SCTP's retransmission timeout
# at most heartbeat_interval (1 s; it was usrsctp's 2 s) this is the usual outcome (3000
# lost, 0 unconfirmed); with the stack's defaults the 3 s ran out first (2805 lost, 195
# unconfirmed), the association was aborted before the last message, and the collector,
# which saw no gap, exited 0.
for scheme in sctp dtls+sctp; do
	export_through hole "$scheme" --sctp-data-lifetime 0.5
	name=hole.${scheme/+/_}.pr
	[ "$RC" = 2 ] || fail "$name: probe exited $RC, want 2"
	[ "$LOST" -gt 0 ] && grep -aq "gave up flow records it had taken" "$WORK/$name.p" ||
		fail "$name: records_lost $LOST: $(grep -a "export:" "$WORK/$name.p" | tail -2)"
	[ "$SESSIONS_UNCONFIRMED" != 0 ] || [ "$GOT_LOST" = "$LOST" ] ||
		fail "$name: a confirmed end, but the collector misses $GOT_LOST records by sequence number, the probe gave up $LOST"
	echo "ok $scheme with sctp_data_lifetime through a black hole: the collector got $GOT_FLOWS," \
		"the probe counts $LOST lost and $UNCONFIRMED unconfirmed, exit 2; the collector misses $GOT_LOST, exit $COLLECTOR_RC"
done
echo "sctp_mtu_path: ok"
