#!/usr/bin/env bash
# How the third-party decoders read the four Template Withdrawal forms of RFC 7011 8.1
# (Figure T in a Template Set and in an Options Template Set, Figures U and V), sent over
# TCP after a data template 256 and an options template 258 were defined and used. The
# probe sends only the data templates' all-templates withdrawal (Figure U) at the end
# of a TCP/SCTP session; this test pins down why not the options one (Figure V), as
# doc/peer-collectors.md tells: tshark 4.0 calls every options template withdrawal
# malformed, and libfixbuf 2.4's ipfixDump knows no withdrawal at all (it takes one for
# an empty template, and an all-templates withdrawal of either kind for an illegal
# template id, then crashes). dpfix-dump reads all four. When a tool changes what it does,
# this test fails and says which: the decision can then be made again.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_DUMP:?}"

$PY - "$WORK" <<'PYEOF'
import struct, sys
from scapy.all import IP, TCP, wrpcap

def message(seq, sets):
    body = b"".join(struct.pack(">HH", sid, 4 + len(p)) + p for sid, p in sets)
    return struct.pack(">HHIII", 10, 16 + len(body), 1700000000, seq, 1) + body

defs = message(0, [(2, struct.pack(">HHHHHH", 256, 2, 8, 4, 12, 4)),
                   (3, struct.pack(">HHHHHHH", 258, 2, 1, 149, 4, 41, 8))])
data = message(0, [(256, bytes([192, 0, 2, 1, 192, 0, 2, 2])), (258, struct.pack(">IQ", 1, 5))])
forms = {"data_one": (2, 256), "data_all": (2, 2), "options_one": (3, 258), "options_all": (3, 3)}
for name, (set_id, tid) in forms.items():
    msgs = [defs, data, message(2, [(set_id, struct.pack(">HH", tid, 0))])]
    open(f"{sys.argv[1]}/{name}.ipfix", "wb").write(b"".join(msgs))
    c, s, seq = ("192.0.2.10", 40000), ("192.0.2.20", 4739), 1000
    pkts = [IP(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="S", seq=seq - 1),
            IP(src=s[0], dst=c[0]) / TCP(sport=s[1], dport=c[1], flags="SA", seq=0, ack=seq)]
    for m in msgs:
        pkts.append(IP(src=c[0], dst=s[0]) / TCP(sport=c[1], dport=s[1], flags="PA", seq=seq, ack=1) / m)
        seq += len(m)
    wrpcap(f"{sys.argv[1]}/{name}.pcap", pkts)
PYEOF

tshark_version=$(tshark --version | head -1)
for form in data_one data_all options_one options_all; do
	case $form in
	data_one) wid=256 ;;
	data_all) wid=2 ;;
	options_one) wid=258 ;;
	options_all) wid=3 ;;
	esac
	# dpfix-dump: the withdrawal is honoured, nothing is malformed.
	"$DPFIX_DUMP" "$WORK/$form.pcap" >"$WORK/$form.dump" 2>&1 ||
		fail "$form: dpfix-dump exited with $?: $(grep -iE 'malformed|warning' "$WORK/$form.dump" | head -3)"
	case $form in
	data_*) gone=256 ;;
	options_*) gone=258 ;;
	esac
	[ "$(grep -c 'withdrawn$' "$WORK/$form.dump")" = 1 ] &&
		grep -q "^  template $gone (domain 1) withdrawn$" "$WORK/$form.dump" ||
		fail "$form: dpfix-dump does not show template $gone withdrawn: $(grep withdrawn "$WORK/$form.dump")"
	grep -qE "^  withdrawals_invalid +0$" "$WORK/$form.dump" && grep -qE "^  malformed_messages +0$" "$WORK/$form.dump" ||
		fail "$form: dpfix-dump reports an invalid withdrawal or a malformed message"

	# tshark: the frame of the withdrawal (the 5th) is dissected; in an Options
	# Template Set it reads a Scope Field Count after the Field Count of 0 and runs off
	# the 8-byte set.
	tshark -r "$WORK/$form.pcap" -d tcp.port==4739,cflow -Y "_ws.malformed || _ws.expert.severity >= warning" \
		-T fields -e frame.number -e _ws.expert.message >"$WORK/$form.tshark" 2>/dev/null ||
		fail "$form: tshark could not read the capture"
	tshark -r "$WORK/$form.pcap" -d tcp.port==4739,cflow -Y "frame.number == 5" -T fields \
		-e cflow.template_id 2>/dev/null | grep -qx "$wid" || fail "$form: tshark did not reach the withdrawal of $wid"
	case $form in
	data_*)
		[ ! -s "$WORK/$form.tshark" ] || fail "$form: $tshark_version flags: $(head -3 "$WORK/$form.tshark")" ;;
	options_*)
		[ "$(cat "$WORK/$form.tshark")" = "$(printf '5\tMalformed Packet (Exception occurred)')" ] ||
			fail "$form: $tshark_version no longer calls an options template withdrawal malformed" \
				"(it says: '$(cat "$WORK/$form.tshark")'): the probe could withdraw its options" \
				"templates too, see doc/peer-collectors.md" ;;
	esac

	# ipfixDump reads the stream of messages: no withdrawal handling at all.
	status=0
	(ulimit -c 0; ipfixDump -i "$WORK/$form.ipfix" -s) >"$WORK/$form.ipfixdump" 2>&1 || status=$?
	case $form in
	*_one)
		[ "$status" = 0 ] && ! grep -qiE "warning|error|illegal" "$WORK/$form.ipfixdump" &&
			grep -q "3 Messages, 2 Data Records, 3 Template Records" "$WORK/$form.ipfixdump" ||
			fail "$form: ipfixDump (exit $status): $(grep -iE 'warning|error|illegal|Stats' "$WORK/$form.ipfixdump" | head -3)" ;;
	*_all)
		grep -q "Warning: Illegal template id $wid" "$WORK/$form.ipfixdump" && [ "$status" -gt 128 ] ||
			fail "$form: ipfixDump now reads an all-templates withdrawal (exit $status:" \
				"$(head -3 "$WORK/$form.ipfixdump")): see doc/peer-collectors.md" ;;
	esac
	echo "ok $form: dpfix-dump withdraws $gone; tshark $([ -s "$WORK/$form.tshark" ] && echo malformed || echo clean);" \
		"ipfixDump exit $status"
done
echo "peer_withdrawals: ok"
