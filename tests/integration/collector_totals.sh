#!/usr/bin/env bash
# The collector's packet and octet totals follow each record's template exactly: a
# template redefined between two data sets of one message, counters behind
# variable-length fields (a different place in every record), a template without
# counters, and a layout carried over to the next message.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
start_collector "$port" "$WORK/collector" --quiet --json "$WORK/records.json"

$PY - "$port" <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
seq = 0
def send(*sets, records=0):
    global seq
    body = b"".join(sets)
    s.sendto(struct.pack("!HHIII", 10, 16 + len(body), 0, seq, 1) + body, ("127.0.0.1", port))
    seq += records
def tmpl(tid, fields):   # fields: (element id, length), 65535 = variable length
    rec = struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", i, l) for i, l in fields)
    return struct.pack("!HH", 2, 4 + len(rec)) + rec
def data(tid, recs):
    body = b"".join(recs)
    return struct.pack("!HH", tid, 4 + len(body)) + body
def varlen(b):
    return bytes([len(b)]) + b
# One message: template 256 (packets, octets: 8 bytes each), 3 records; 256 redefined
# (octets in 4 bytes, an address, packets in 2 bytes), 2 records.
send(tmpl(256, [(2, 8), (1, 8)]),
     data(256, [struct.pack("!QQ", p, o) for p, o in ((1, 10), (2, 20), (3, 30))]),
     tmpl(256, [(1, 4), (8, 4), (2, 2)]),
     data(256, [struct.pack("!IIH", o, 0x0a000001, p) for p, o in ((5, 100), (6, 200))]),
     records=5)
# Counters behind an interfaceName of variable length; a template without counters.
send(tmpl(257, [(82, 65535), (2, 4), (1, 4)]), tmpl(258, [(8, 4), (12, 4)]),
     data(257, [varlen(b"a") + struct.pack("!II", 7, 70), varlen(b"eth0") + struct.pack("!II", 8, 80)]),
     data(258, [struct.pack("!II", 1, 2)]),
     records=3)
# The next message uses 256 as redefined.
send(data(256, [struct.pack("!IIH", 1000, 0x0a000001, 9)]), records=1)
PYEOF
wait_for_records "$WORK/records.json" 9
stop_collector

out=$WORK/collector.stdout
for want in "flows 9" "packets 41" "octets 1510"; do
	set -- $want
	[ "$(summary_value "$out" "$1")" = "$2" ] ||
		fail "summary $1 is $(summary_value "$out" "$1"), want $2: $(head -1 "$out")"
done
[ "$(counter "$out" templates_replaced)" = 1 ] || fail "template 256 was not redefined: $(cat "$out")"
echo "collector_totals: ok"
