#!/usr/bin/env bash
# Every transport and security combination, probe -> collector, real handshakes on
# loopback: records arrive complete (the capture's ground truth), nothing readable
# crosses a secured port, and an NSS key log lets tshark decrypt DTLS 1.2 and TLS 1.3
# and see the same IPFIX (ipfixDump reads it back).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki

# run_pair NAME SCHEME "COLLECTOR ARGS" "PROBE ARGS": one export end to end, captured.
run_pair() {
	local name=$1 scheme=$2 cargs=$3 pargs=$4 port filter
	port=$(free_port)
	filter="${scheme##*+} port $port"
	if [ "${scheme##*+}" = sctp ]; then
		# SCTP runs inside UDP (RFC 6951): a port of its own per test run.
		SCTP_UDP_PORT=$(free_port)
		filter="udp port $SCTP_UDP_PORT"
		cargs="$cargs --sctp-udp-port $SCTP_UDP_PORT"
		pargs="$pargs --sctp-udp-port $SCTP_UDP_PORT"
	fi
	capture_start "$name" "$filter"
	# shellcheck disable=SC2086
	start_collector_at "$scheme://127.0.0.1:$port" "$WORK/$name.collector" --quiet \
		--json "$WORK/$name.json" $cargs
	# shellcheck disable=SC2046,SC2086
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "$scheme://127.0.0.1:$port" $pargs >"$WORK/$name.probe" 2>&1 ||
		fail "$name: probe exited with $?: $(grep -v TELEMETRY "$WORK/$name.probe" | tail -3)"
	if [ "$scheme" = udp ]; then
		wait_for_records "$WORK/$name.json" "$(probe_records "$WORK/$name.probe")"
	else
		wait_for_close "$WORK/$name.collector"
	fi
	stop_collector
	# What the checks below read is in the capture: every datagram the collector read;
	# over TCP the exporter's FIN (after all it sent) and what ends the collector's side:
	# its FIN, or the exporter's RST should the collector not close within the 2 s the
	# exporter waits for it; over SCTP the exporter's SHUTDOWN (sent once all its DATA was
	# acknowledged).
	local received
	received=$(collector_datagrams "$WORK/$name.collector.stdout")
	case $scheme in
	udp) capture_stop "$name" "$received" "udp.dstport == $port" ;;
	dtls+udp)
		capture_stop "$name" "$received" "udp.dstport == $port && dtls.record.content_type == 23" \
			-d "udp.port==$port,dtls"
		;;
	tcp | tls+tcp)
		capture_stop "$name" 2 "tcp.flags.fin == 1 || tcp.flags.reset == 1"
		# The exporter's close begins with its FIN, also when the collector's close_notify
		# reached it first (it used to close with that unread: an RST and no FIN).
		tshark -r "$WORK/$name.pcapng" -Y "tcp.dstport == $port && tcp.flags.fin == 1" 2>/dev/null |
			grep -q . || fail "$name: the exporter sent no FIN: $(tshark -r "$WORK/$name.pcapng" \
			-Y "tcp.flags.fin == 1 || tcp.flags.reset == 1" 2>/dev/null | tr '\n' ';')"
		;;
	*) capture_stop "$name" 1 "sctp.chunk_type == 7" -d "udp.port==$SCTP_UDP_PORT,sctp" ;;
	esac
	for what in flows packets octets; do
		got=$(summary_value "$WORK/$name.collector.stdout" "$what")
		[ "$got" = "$(expected "$what")" ] || fail "$name: $what $got, want $(expected "$what")"
	done
	# Orderly close (FIN, close_notify) where the transport has one.
	[ "$scheme" = udp ] || grep -q "closed by the exporter" "$WORK/$name.collector.stderr" ||
		fail "$name: the exporter did not close the session in order"
	LAST_PORT=$port
	echo "ok $name: $(grep -o 'exporting to [^(]*' "$WORK/$name.probe")"
}

# Plaintext IPFIX must not appear on a secured port: the capture's own addresses
# (192.0.2.10, 2001:db8:ffff::80) are in nearly every record.
assert_no_cleartext() {
	local name=$1 field=$2
	tshark -r "$WORK/$name.pcapng" -T fields -e "$field" 2>/dev/null | tr -d ':' >"$WORK/$name.payload"
	[ -s "$WORK/$name.payload" ] || fail "$name: nothing captured"
	! grep -qi "c000020a\|20010db8ffff00000000000000000080" "$WORK/$name.payload" ||
		fail "$name: record contents visible on the wire"
}

PSK_P="--psk-identity probe1.example --psk-file $K/probe.psk"
PSK_C="--psk-file $K/collector.psk"
X509_P="--cert $K/probe.pem --key $K/probe.key --ca $K/ca.pem --peer-name collector.example"
# Both ends check the CA's CRL too (it revokes another certificate, not these).
X509_P="$X509_P --crl $K/crl.pem"
X509_C="--cert $K/collector.pem --key $K/collector.key --ca $K/ca.pem --peer-name probe.example --crl $K/crl.pem"

run_pair udp udp "" ""
run_pair tcp tcp "" ""
# The exporter's TCP close stays orderly when the collector still has something to say
# after the exporter's last message, as a TLS collector answers close_notify with its own:
# the exporter sends its FIN, then reads until the collector closes too. Closing with those
# bytes unread would reset the connection (RFC 1122 4.2.2.13). This collector answers the
# exporter's FIN with 31 bytes and its own FIN; its socket then ends in an orderly way
# (our FIN acknowledged) or reset. A plaintext IPFIX collector sends nothing, so the
# probe does not take those bytes as a confirmation of its end: it says so and exits 2
# (doc/sessions.md, "Orderly end"), though every record arrived.
port=$(free_port)
$PY - "$port" "$WORK/talkback.ipfix" >"$WORK/talkback.out" 2>&1 <<'PYEOF' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
TCP_CLOSE = 7  # include/net/tcp_states.h
srv = socket.create_server(("127.0.0.1", port))
print("listening", flush=True)
srv.settimeout(60)
conn, _ = srv.accept()
conn.settimeout(60)
data = b""
while chunk := conn.recv(65536):
    data += chunk
open(out, "wb").write(data)
try:
    conn.sendall(b"x" * 31)
    conn.shutdown(socket.SHUT_WR)
    end = time.monotonic() + 30
    while conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != TCP_CLOSE:
        if time.monotonic() > end:
            sys.exit("our FIN was neither acknowledged nor reset within 30 s")
        time.sleep(0.01)
    err = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
except OSError as e:
    err = e.errno
print(f"closed: {'reset, ' + __import__('os').strerror(err) if err else 'orderly'}")
PYEOF
talkback=$!
PIDS+=("$talkback")
wait_for_text "$WORK/talkback.out" "listening" 10
# shellcheck disable=SC2046
rc=0
timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
	--collector "tcp://127.0.0.1:$port" >"$WORK/talkback.probe" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "talkback: probe exited with $rc, want 2: $(grep -v TELEMETRY "$WORK/talkback.probe" | tail -3)"
grep -aqF "ended without the collector's confirmation: the collector sent 31 bytes instead of ending its side" \
	"$WORK/talkback.probe" || fail "talkback: the probe should name the 31 bytes: $(grep -a "export:" "$WORK/talkback.probe")"
wait "$talkback" || fail "talkback collector: $(cat "$WORK/talkback.out")"
grep -q "^closed: orderly$" "$WORK/talkback.out" ||
	fail "the exporter's close with the collector's last bytes unread: $(tail -1 "$WORK/talkback.out")"
ipfix_stream_cut "$WORK/talkback.ipfix" >/dev/null || fail "talkback: the exporter's stream is not whole"
echo "ok tcp: the exporter reads the collector's last bytes and its FIN before it closes"
run_pair dtls_udp_psk dtls+udp "$PSK_C" "$PSK_P --keylog-file $WORK/keys.log --ciphers DHE-PSK-AES128-GCM-SHA256"
dtls_port=$LAST_PORT
assert_no_cleartext dtls_udp_psk udp.payload
run_pair dtls_udp_x509 dtls+udp "$X509_C" "$X509_P"
assert_no_cleartext dtls_udp_x509 udp.payload
# The DTLS cookie exchange stays on (RFC 6347 4.2.1): the collector answers the first
# ClientHello with a HelloVerifyRequest, and only the ClientHello that echoes its cookie
# goes on to a ServerHello.
for name in dtls_udp_psk dtls_udp_x509; do
	port=$dtls_port
	[ "$name" = dtls_udp_x509 ] && port=$LAST_PORT
	hs=$(tshark -r "$WORK/$name.pcapng" -d "udp.port==$port,dtls" -Y "dtls.handshake.type" -T fields \
		-e udp.srcport -e dtls.handshake.type -e dtls.handshake.cookie_length 2>/dev/null |
		awk -v c="$port" '
			$1 != c && $2 == 1 { cookie = $3; seq = seq " hello(" $3 ")" }
			$1 == c && $2 == 3 { verify = 1; seq = seq " verify" }
			$1 == c && $2 == 2 && !done { done = 1; ok = verify && cookie > 0; seq = seq " server_hello" }
			END { print (ok ? "ok" : "bad") seq }')
	[ "${hs%% *}" = ok ] ||
		fail "$name: want a HelloVerifyRequest and then a ClientHello with its cookie before the ServerHello; got:${hs#* }"
done
echo "ok dtls+udp: cookie exchange before every ServerHello"
run_pair tls_tcp_psk tls+tcp "$PSK_C" "$PSK_P --keylog-file $WORK/keys13.log"
tls_port=$LAST_PORT
assert_no_cleartext tls_tcp_psk tcp.payload
run_pair tls_tcp_x509 tls+tcp "$X509_C" "$X509_P"
assert_no_cleartext tls_tcp_x509 tcp.payload
# TLS 1.2 over TCP too: a TLS 1.2-only suite on the exporter's side.
run_pair tls12_tcp_psk tls+tcp "$PSK_C" "$PSK_P --ciphers ECDHE-PSK-AES128-GCM-SHA256"
assert_no_cleartext tls12_tcp_psk tcp.payload
grep -q "exporting to tls+tcp .* TLSv1.2 ECDHE-PSK-AES128-GCM-SHA256" "$WORK/tls12_tcp_psk.probe" ||
	fail "tls+tcp did not negotiate TLS 1.2 with ECDHE-PSK-AES128-GCM-SHA256"
grep -q "DHE-PSK-AES128-GCM-SHA256" "$WORK/dtls_udp_psk.probe" || fail "the configured suite was not used"

# SCTP: templates only on stream 0 and data never there (RFC 7011 10.2), seen on the
# wire by tshark and in the collector's per-stream counts.
run_pair sctp sctp "" ""
tshark -r "$WORK/sctp.pcapng" -d "udp.port==$SCTP_UDP_PORT,sctp" -d "sctp.port==$LAST_PORT,cflow" \
	-Y sctp.data_sid -T fields -e sctp.data_sid -e cflow.flowset_id 2>/dev/null >"$WORK/sctp.streams"
$PY - "$WORK/sctp.streams" <<'PYEOF' || fail "SCTP stream use"
import sys
seen = {"templates_on_0": 0, "data_elsewhere": 0}
for line in open(sys.argv[1]):
    sid, _, sets = line.rstrip("\n").partition("\t")
    if "," in sid:
        continue  # chunks of several streams bundled in one packet: sets not attributable
    ids = {int(x) for x in sets.split(",") if x}
    if int(sid, 16) == 0:
        if ids - {2, 3}:
            sys.exit(f"data set ids {ids} on stream 0")
        seen["templates_on_0"] += bool(ids)
    else:
        if ids & {2, 3}:
            sys.exit(f"template sets on stream {sid}")
        seen["data_elsewhere"] += bool(ids)
# Packets that bundle chunks of both streams are not attributable; the collector's
# per-stream message counts below cover what they carry.
if not any(seen.values()):
    sys.exit(f"no SCTP packet with decodable IPFIX sets: {seen}")
print(f"tshark: {seen}")
PYEOF
# Stream 0: the templates, and their withdrawal when the exporter ends (RFC 7011 8.1).
grep -q "stream_0 *2$" "$WORK/sctp.collector.stdout" || fail "collector: want 2 template messages on stream 0"
# The two flow templates, by one all-templates withdrawal (the options templates stay:
# the session's end withdraws them; see doc/peer-collectors.md).
for name in tcp sctp tls_tcp_psk; do
	grep -q "templates_withdrawn *2$" "$WORK/$name.collector.stdout" ||
		fail "$name: templates not withdrawn at the end of the session"
	grep -q "withdrawals_all *1$" "$WORK/$name.collector.stdout" ||
		fail "$name: want 1 all-templates withdrawal"
	grep -q "withdrawals_invalid *0$" "$WORK/$name.collector.stdout" ||
		fail "$name: invalid withdrawals reported"
done
grep -q "stream_1 " "$WORK/sctp.collector.stdout" || fail "collector: no data on stream 1"
# tshark checks sequence numbers per domain in packet order; SCTP delivers each stream
# on its own, so a packet that bundles chunks of several streams (say the options
# records on stream 1 and the final withdrawal on stream 0) may carry them out of order.
# Only that warning, and only in such packets, is not a fault.
tshark -r "$WORK/sctp.pcapng" -d "udp.port==$SCTP_UDP_PORT,sctp" -d "sctp.port==$LAST_PORT,cflow" \
	-Y "_ws.malformed || _ws.expert.severity >= warning" -T fields -E occurrence=a -E aggregator='|' \
	-e frame.number -e _ws.expert.message -e sctp.data_sid 2>/dev/null |
	$PY -c '
import sys
for line in sys.stdin:
    frame, messages, sids = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    msgs = [m for m in messages.split("|") if m]
    if len(set(sids.split("|"))) > 1 and msgs and all(m.startswith("Unexpected flow sequence") for m in msgs):
        continue
    print(line, end="")' >"$WORK/sctp.bad"
[ ! -s "$WORK/sctp.bad" ] || fail "tshark flags the SCTP export: $(head -3 "$WORK/sctp.bad")"
# Data unordered and partially reliable when configured; templates stay ordered.
run_pair sctp_pr sctp "" "--sctp-data-unordered yes --sctp-data-lifetime 2"
sctp_stream_order "$WORK/sctp_pr.pcapng" "$SCTP_UDP_PORT" ||
	fail "sctp: want ordered templates on stream 0, unordered data on 1"
echo "ok sctp: unordered data chunks on stream 1, ordered templates on stream 0"
run_pair dtls_sctp_psk dtls+sctp "$PSK_C" "$PSK_P"
assert_no_cleartext dtls_sctp_psk udp.payload
# RFC 6083: every DATA chunk is authenticated (an AUTH chunk ahead of it in its packet),
# and the records on the data stream with key 1, the one exported from DTLS (key 0, the
# null key, serves the handshake only). Both ends are dpfix: HMAC-SHA256 (RFC 4895 HMAC
# identifier 3), which each offers first (SHA-1, 1, stays acceptable to other peers).
tshark -r "$WORK/dtls_sctp_psk.pcapng" -d "udp.port==$SCTP_UDP_PORT,sctp" -Y "sctp.chunk_type == 0" \
	-T fields -E separator=";" -e sctp.chunk_type -e sctp.shared_key_id -e sctp.data_sid \
	-e sctp.hmac_id 2>/dev/null |
	awk -F";" '{
		n = split($1, types, ","); auth = 0; ok = 0
		for (i = 1; i <= n; i++) { if (types[i] == 15) auth = 1; if (types[i] == 0) { ok = auth; break } }
		if (!ok) bad++
		if ($3 ~ /0x0001/) { data++; if ($2 != 1) wrongkey++ }
		if ($4 != 3) notsha256++
	} END { printf "%d %d %d %d\n", bad, data, wrongkey, notsha256 }' >"$WORK/auth.txt"
read -r unauth data wrongkey notsha256 <"$WORK/auth.txt"
[ "$unauth" = 0 ] || fail "dtls+sctp: $unauth packets carry DATA without a preceding AUTH chunk"
[ "$data" -gt 0 ] && [ "$wrongkey" = 0 ] ||
	fail "dtls+sctp: $data data-stream packets, $wrongkey not authenticated with key 1"
[ "$notsha256" = 0 ] || fail "dtls+sctp: $notsha256 packets with DATA authenticated by another HMAC than SHA-256" \
	"(identifiers seen: $(tshark -r "$WORK/dtls_sctp_psk.pcapng" -d "udp.port==$SCTP_UDP_PORT,sctp" \
	-Y sctp.hmac_id -T fields -e sctp.hmac_id 2>/dev/null | sort | uniq -c | tr -s ' \n' ' '))"
echo "ok dtls+sctp: every DATA chunk authenticated with HMAC-SHA256; $data data-stream packets with the DTLS-exported key 1"
run_pair dtls_sctp_x509 dtls+sctp "$X509_C" "$X509_P"
grep -q "stream_0 " "$WORK/dtls_sctp_x509.collector.stdout" && grep -q "stream_1 " "$WORK/dtls_sctp_x509.collector.stdout" ||
	fail "dtls+sctp: templates and data not on separate streams"

# The key log decrypts the DTLS capture; the plaintext is our IPFIX, complete.
grep -q "^CLIENT_RANDOM [0-9A-F]\{64\} [0-9A-F]\{96\}$" "$WORK/keys.log" || fail "key log line malformed"
grep -q "session keys" "$WORK/dtls_udp_psk.probe" || fail "no loud warning about the key log"
tshark -r "$WORK/dtls_udp_psk.pcapng" -o "tls.keylog_file:$WORK/keys.log" -d "udp.port==$dtls_port,dtls" \
	-Y "dtls.record.content_type == 23" -T fields -e data.data 2>"$WORK/decrypt.err" |
	tr -d ':\t\n' | xxd -r -p >"$WORK/decrypted.ipfix"
[ -s "$WORK/decrypted.ipfix" ] || fail "tshark decrypted nothing: $(head -3 "$WORK/decrypt.err")"
# Between the IPFIX messages, the heartbeats both ends agreed on: requests and the
# collector's responses, each one DTLS record.
read -r requests responses < <(strip_heartbeats "$WORK/decrypted.ipfix") || fail "decrypted DTLS"
[ "$requests" -ge 1 ] && [ "$responses" -ge 1 ] ||
	fail "dtls+udp: $requests heartbeat requests and $responses responses decrypted, want some of each"
# The flows and 2 x 6 options records (at start and at the end).
ipfix_dump_clean "$WORK/decrypted.ipfix" $(($(expected flows) + 12))
echo "ok key log: tshark decrypts DTLS, $requests heartbeat requests and $responses responses among the IPFIX; ipfixDump: $IPFIXDUMP_STATS"

# TLS 1.3 has no master secret: the key log carries its handshake and traffic secrets,
# one line each, and only its owner may read it.
grep -q "TLSv1.3" "$WORK/tls_tcp_psk.probe" || fail "tls+tcp with a PSK did not negotiate TLS 1.3"
for label in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
		CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0; do
	[ "$(grep -c "^$label [0-9A-F]\{64\} [0-9A-F]\{64\}$" "$WORK/keys13.log")" = 1 ] ||
		fail "key log: not exactly one well-formed $label line: $(cut -c1-40 "$WORK/keys13.log")"
done
[ "$(stat -c %a "$WORK/keys13.log")" = 600 ] || fail "key log mode $(stat -c %a "$WORK/keys13.log"), want 600"
tshark -r "$WORK/tls_tcp_psk.pcapng" -o "tls.keylog_file:$WORK/keys13.log" -d "tcp.port==$tls_port,tls" \
	-Y "tls.app_data" -T fields -e data.data 2>"$WORK/decrypt13.err" |
	tr -d ':\t\n,' | xxd -r -p >"$WORK/decrypted13.ipfix"
[ -s "$WORK/decrypted13.ipfix" ] || fail "tshark decrypted no TLS 1.3: $(head -3 "$WORK/decrypt13.err")"
read -r requests responses < <(strip_heartbeats "$WORK/decrypted13.ipfix") || fail "decrypted TLS 1.3"
[ "$requests" -ge 1 ] && [ "$responses" -ge 1 ] ||
	fail "tls+tcp: $requests heartbeat requests and $responses responses decrypted, want some of each"
# The stream is whole IPFIX messages ending with the orderly "withdraw all templates".
ipfix_stream_cut "$WORK/decrypted13.ipfix" >/dev/null || fail "decrypted TLS 1.3 is not a stream of IPFIX messages"
ipfix_dump_clean "$WORK/decrypted13.ipfix" $(($(expected flows) + 12))
echo "ok key log: tshark decrypts TLS 1.3; ipfixDump: $IPFIXDUMP_STATS"
# Orderly shutdown: one close_notify each way (the collector answers the exporter's).
notify=$(tshark -r "$WORK/tls_tcp_psk.pcapng" -o "tls.keylog_file:$WORK/keys13.log" -d "tcp.port==$tls_port,tls" \
	-Y "tls.alert_message.desc == 0" -T fields -e tcp.srcport 2>/dev/null | sort | tr '\n' ' ')
from_collector=$(echo "$notify" | tr ' ' '\n' | grep -cx "$tls_port" || true)
[ "$(echo "$notify" | wc -w)" = 2 ] && [ "$from_collector" = 1 ] ||
	fail "want one close_notify from each end, got them from ports: $notify"
echo "ok close_notify both ways"
echo "secure_transports: ok"
