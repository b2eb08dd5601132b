#!/usr/bin/env bash
# The Mediator's security rules (seed 003 section 6): records received over (D)TLS are
# never exported in plaintext unless allow_security_downgrade = yes, which is warned
# about loudly at start (and every hour); plaintext feeding a (D)TLS export is said at
# start (no upgrade of trust goes unsaid).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
make_pki "$WORK/pki" || fail "could not make test certificates"
K=$WORK/pki

# Refused: DTLS in, UDP out. Exit 1, naming both ends, before any session is opened.
mport=$(free_port)
cport=$(free_port)
rc=0
"$DPFIX_MEDIATOR" --listen "dtls+udp://127.0.0.1:$mport" --collector "udp://127.0.0.1:$cport" \
	--psk-file "$K/collector.psk" >"$WORK/refused.stdout" 2>"$WORK/refused.stderr" || rc=$?
[ "$rc" = 1 ] || fail "a downgrade exited with $rc, want 1: $(cat "$WORK/refused.stderr")"
grep -q "security downgrade: records received over (D)TLS (dtls+udp://127.0.0.1:$mport) would be exported in plaintext to udp://127.0.0.1:$cport" \
	"$WORK/refused.stderr" || fail "the refusal does not name the downgrade: $(cat "$WORK/refused.stderr")"

# Allowed with the flag, and warned.
start_collector "$cport" "$WORK/collector" --quiet
start_mediator "$WORK/allowed" --listen "dtls+udp://127.0.0.1:$mport" --collector "udp://127.0.0.1:$cport" \
	--psk-file "$K/collector.psk" --allow-security-downgrade yes
wait_for_text "$WORK/allowed.stderr" "warning: SECURITY DOWNGRADE ALLOWED (allow_security_downgrade = yes): security downgrade" 10
stop_mediator
stop_collector

# An upgrade: UDP in, TLS out, said at start.
cport=$(free_port)
printf 'mediator.example:0f0e0d0c0b0a09080706050403020100\n' >"$K/mediator.psk"
chmod 600 "$K/mediator.psk"
start_collector_at "tls+tcp://127.0.0.1:$cport" "$WORK/tls-collector" --quiet --psk-file "$K/mediator.psk"
start_mediator "$WORK/upgrade" --listen "udp://127.0.0.1:$mport" --collector "tls+tcp://127.0.0.1:$cport" \
	--psk-file "$K/mediator.psk" --psk-identity mediator.example
grep -q "records received in plaintext (udp://127.0.0.1:$mport) are exported protected (tls+tcp://127.0.0.1:$cport)" \
	"$WORK/upgrade.stderr" || fail "the upgrade was not said: $(cat "$WORK/upgrade.stderr")"
! grep -q "DOWNGRADE" "$WORK/upgrade.stderr" || fail "an upgrade warned of a downgrade"
stop_mediator
stop_collector
echo "mediator_security: ok"
