#!/usr/bin/env bash
# A collector refuses to start on an address another collector holds: over udp:// and
# dtls+udp:// (SO_REUSEADDR let both bind, and the kernel split the exporters' datagrams
# between them), tcp://, and sctp:// and dtls+sctp://, whose UDP port for SCTP (RFC 6951)
# the second collector's stack could not bind while it still said "listening". Each
# refusal is a clear error naming the URL and exit status 1; the first collector still
# works afterwards.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"

K=$WORK/pki
make_pki "$K"

# second_refused NAME URL ARGS...: a second collector on URL exits 1 at once, naming it.
second_refused() {
	local name=$1 url=$2 rc=0
	shift 2
	timeout 20 "$DPFIX_COLLECTOR" --listen "$url" "$@" >"$WORK/$name.second.stdout" \
		2>"$WORK/$name.second.stderr" || rc=$?
	[ "$rc" = 1 ] || fail "$name: a second collector on $url exited with $rc, want 1: $(cat "$WORK/$name.second.stderr")"
	grep -qF -- "--listen $url: " "$WORK/$name.second.stderr" ||
		fail "$name: the error does not name $url: $(cat "$WORK/$name.second.stderr")"
	grep -qi "in use" "$WORK/$name.second.stderr" ||
		fail "$name: the error does not say the address is in use: $(cat "$WORK/$name.second.stderr")"
	! grep -q "listening on" "$WORK/$name.second.stderr" ||
		fail "$name: the second collector said it was listening"
	echo "ok $name: $(head -1 "$WORK/$name.second.stderr")"
}

PSK_C="--psk-file $K/collector.psk"
PSK_P="--psk-identity probe1.example --psk-file $K/probe.psk"

for spec in udp: dtls+udp:psk tcp: ; do
	IFS=: read -r scheme sec <<<"$spec"
	name=${scheme/+/_}
	port=$(free_port)
	url="$scheme://127.0.0.1:$port"
	cargs=() pargs=()
	[ -z "$sec" ] || { read -ra cargs <<<"$PSK_C"; read -ra pargs <<<"$PSK_P"; }
	start_collector_at "$url" "$WORK/$name" --quiet --json "$WORK/$name.json" "${cargs[@]}"
	second_refused "$name" "$url" --quiet "${cargs[@]}"
	# The wildcard address covers 127.0.0.1 too.
	second_refused "$name-any" "$scheme://0.0.0.0:$port" --quiet "${cargs[@]}"
	probe_export_exact "$WORK/$name" "$url" "$WORK/$name.json" "${pargs[@]}"
done

# SCTP: the SCTP port lives in each process's own stack; what two collectors can clash
# on is the UDP port that carries it. A second collector with the same UDP port is
# refused whatever its SCTP port, naming that UDP port.
for spec in sctp: dtls+sctp:psk; do
	IFS=: read -r scheme sec <<<"$spec"
	name=${scheme/+/_}
	port=$(free_port) udp_port=$(free_port)
	url="$scheme://127.0.0.1:$port"
	cargs=() pargs=()
	[ -z "$sec" ] || { read -ra cargs <<<"$PSK_C"; read -ra pargs <<<"$PSK_P"; }
	start_collector_at "$url" "$WORK/$name" --quiet --json "$WORK/$name.json" \
		--sctp-udp-port "$udp_port" "${cargs[@]}"
	second_refused "$name" "$url" --quiet --sctp-udp-port "$udp_port" "${cargs[@]}"
	grep -q "UDP port $udp_port" "$WORK/$name.second.stderr" ||
		fail "$name: the error does not name UDP port $udp_port"
	other=$(free_port)
	second_refused "$name-other-sctp-port" "$scheme://127.0.0.1:$other" --quiet \
		--sctp-udp-port "$udp_port" "${cargs[@]}"
	probe_export_exact "$WORK/$name" "$url" "$WORK/$name.json" --sctp-udp-port "$udp_port" "${pargs[@]}"
done
echo "collector_address_in_use: ok"
