#!/usr/bin/env bash
# A foreign DTLS stack as the collector: the probe's DTLS client completes handshakes
# with GnuTLS's gnutls-serv (X.509 mutual authentication, then PSK) and its records are
# decrypted there (gnutls-serv --echo processes what it receives).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki

# interop NAME "GNUTLS ARGS" "PROBE ARGS" SUITE_TEXT
interop() {
	local name=$1 gargs=$2 pargs=$3 suite=$4 port gpid
	port=$(free_port)
	# shellcheck disable=SC2086
	gnutls-serv --udp --echo -p "$port" $gargs >"$WORK/$name.gnutls" 2>&1 &
	gpid=$!
	PIDS+=("$gpid")
	wait_for_text "$WORK/$name.gnutls" "listening on IPv4" 10
	# shellcheck disable=SC2046,SC2086
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "dtls+udp://127.0.0.1:$port" $pargs >"$WORK/$name.probe" 2>&1 ||
		fail "$name: probe exited with $?: $(grep -av TELEMETRY "$WORK/$name.probe" | tail -3)"
	sleep 0.5
	kill "$gpid"
	grep -q "exporting to dtls+udp.*DTLSv1.2 $suite" "$WORK/$name.probe" ||
		fail "$name: no DTLS 1.2 session with $suite: $(grep -a exporting "$WORK/$name.probe")"
	grep -q "records_lost *0$" "$WORK/$name.probe" || fail "$name: records lost"
	grep -aq "Processing [1-9][0-9]* bytes" "$WORK/$name.gnutls" ||
		fail "$name: gnutls-serv decrypted nothing"
	echo "ok $name: $(grep -o 'DTLSv1.2 [^ ]*' "$WORK/$name.probe" | head -1) with gnutls-serv"
}

interop x509 "--x509certfile $K/collector.pem --x509keyfile $K/collector.key --x509cafile $K/ca.pem --require-client-cert" \
	"--cert $K/probe.pem --key $K/probe.key --ca $K/ca.pem --peer-name collector.example" "ECDHE-ECDSA-"
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/gnutls.psk"
interop psk "--pskpasswd $WORK/gnutls.psk --priority NORMAL:+ECDHE-PSK:+DHE-PSK" \
	"--psk-identity probe1.example --psk-file $K/probe.psk" "DHE-PSK-"
echo "interop_gnutls: ok"
