#!/usr/bin/env bash
# The collector told about a vendor's elements (--elements FILE): a record mixing IANA,
# RFC 5103 reverse, loaded enterprise and unknown enterprise elements comes out of
# --json keyed by their names with values by their types; dpfix-dump --elements reads
# the capture into the same JSON; tshark reads the same reverse counters and
# microsecond timestamp from the wire. A bad elements file stops
# the collector with FILE:LINE: reason 'value'.
source "$(dirname "$0")/lib.sh"

cat >"$WORK/vendor.csv" <<'EOF'
# Vendor elements (PEN 40000) and one of CERT's (PEN 6871), reversible the RFC 5103 6.2 way
40000, 1, vendorApplication, string
40000, 2, vendorRiskScore, signed16, quantity, , 0-1000
6871, 14, initialTCPFlags, unsigned8, flags, , , reversible
EOF

port=$(free_port)
capture_start elements "udp port $port"
start_collector "$port" "$WORK/collector" --quiet --elements "$WORK/vendor.csv" \
	--json "$WORK/records.json"
grep -q "4 enterprise elements from $WORK/vendor.csv" "$WORK/collector.stderr" ||
	fail "elements file not reported loaded: $(cat "$WORK/collector.stderr")"

$PY - "$port" <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
def field(ie, length, pen=0):
    return struct.pack("!HH", ie | (0x8000 if pen else 0), length) + (struct.pack("!I", pen) if pen else b"")
fields = [
    field(8, 4),                      # sourceIPv4Address
    field(154, 8),                    # flowStartMicroseconds
    field(1, 8, 29305),               # reverseOctetDeltaCount
    field(2, 4, 29305),               # reversePacketDeltaCount, reduced size
    field(1, 0xffff, 40000),          # vendorApplication, variable length
    field(2, 2, 40000),               # vendorRiskScore
    field(14 | 0x4000, 1, 6871),      # reverseInitialTCPFlags
    field(99, 3, 40000),              # nobody described 40000:99
    field(276, 1),                    # dataRecordsReliability (boolean)
]
tmpl = struct.pack("!HH", 300, len(fields)) + b"".join(fields)
ntp = 1700000000 + 2208988800
frac = round(123456 * (1 << 21) / 1000000) << 11    # 123456 us, low 11 bits zero
app = "caf\u00e9".encode()
rec = (bytes([192, 0, 2, 7]) + struct.pack("!II", ntp, frac) + struct.pack("!Q", 123456789012)
       + struct.pack("!I", 4242) + bytes([len(app)]) + app + struct.pack("!h", -7)
       + bytes([0x12]) + b"\xab\xcd\xef" + bytes([1]))
sets = struct.pack("!HH", 2, 4 + len(tmpl)) + tmpl + struct.pack("!HH", 300, 4 + len(rec)) + rec
msg = struct.pack("!HHIII", 10, 16 + len(sets), 1700000000, 0, 1) + sets
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(msg, ("127.0.0.1", port))
PYEOF
wait_for_records "$WORK/records.json" 1
stop_collector
capture_stop elements "$(collector_datagrams "$WORK/collector.stdout")" "udp.dstport == $port"

want='{"sourceIPv4Address":"192.0.2.7","flowStartMicroseconds":"2023-11-14T22:13:20.123456Z","reverseOctetDeltaCount":123456789012,"reversePacketDeltaCount":4242,"vendorApplication":"café","vendorRiskScore":-7,"reverseInitialTCPFlags":18,"40000:99":"abcdef","dataRecordsReliability":true}'
got=$(cat "$WORK/records.json")
[ "$got" = "$want" ] || fail "JSON differs:
got:    $got
wanted: $want"

# dpfix-dump, told the same elements, reads the capture into the same JSON.
"$DPFIX_DUMP" --json --elements "$WORK/vendor.csv" "$WORK/elements.pcapng" \
	>"$WORK/dump.json" 2>"$WORK/dump.stderr" || fail "dpfix-dump failed: $(cat "$WORK/dump.stderr")"
[ "$(cat "$WORK/dump.json")" = "$want" ] || fail "dpfix-dump --json differs:
got:    $(cat "$WORK/dump.json")
wanted: $want"

# tshark agrees on the reverse counters and the microsecond time (it shows the NTP
# fraction to the nanosecond: .123456001).
seen=$(tshark -r "$WORK/elements.pcapng" -d "udp.port==$port,cflow" -T fields -E separator=";" \
	-e cflow.octets -e cflow.packets -e cflow.abstimestart 2>/dev/null | grep . | head -1)
case "$seen" in
"123456789012;4242;Nov 14, 2023 22:13:20.123456"*) ;;
*) fail "tshark reads octets;packets;start as '$seen'" ;;
esac

# A bad line refuses the whole start, naming file, line and value.
printf '40000, 1, fine, string\n40000, 2, broken, uint16\n' >"$WORK/bad.csv"
rc=0
"$DPFIX_COLLECTOR" --listen "udp://127.0.0.1:$(free_port)" --elements "$WORK/bad.csv" \
	>"$WORK/bad.stdout" 2>"$WORK/bad.stderr" || rc=$?
[ "$rc" -ne 0 ] || fail "collector accepted a bad elements file"
grep -q "$WORK/bad.csv:2: unknown abstract data type .*'uint16'" "$WORK/bad.stderr" ||
	fail "bad elements file error: $(cat "$WORK/bad.stderr")"
echo "collector_elements: ok"
