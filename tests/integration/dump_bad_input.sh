#!/usr/bin/env bash
# dpfix-dump on bad input: truncated and corrupt IPFIX files, garbage and other files that
# are neither IPFIX nor a capture (named with their first bytes, from a file or stdin), an
# empty file, a missing file, and a capture with every kind of broken IPFIX over UDP and
# TCP (not IPFIX, cut short, malformed sets, IP fragments, snapshot-cut packets, a TCP gap,
# a TCP stream of garbage, a stream ending inside a message, out-of-order segments that do
# reassemble). Each problem is counted exactly and reported with its offset or packet,
# the good parts are still decoded, the exit status is 2 (1 for a missing file), and
# nothing crashes (the sanitizer build runs this too).
source "$(dirname "$0")/lib.sh"
: "${DPFIX_DUMP:?}"

$PY - "$WORK" <<'PYEOF'
import struct, sys
work = sys.argv[1]

def msg(sets, seq, domain=1, length=None):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, length if length is not None else 16 + len(body),
                       1700000000, seq, domain) + body

def tset(tid, fields):
    rec = struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", i, l) for i, l in fields)
    return struct.pack("!HH", 2, 4 + len(rec)) + rec

def dset(tid, records):
    body = b"".join(records)
    return struct.pack("!HH", tid, 4 + len(body)) + body

def rec(n):  # sourceIPv4Address, packetDeltaCount (4 bytes)
    return bytes([10, 0, 0, n]) + struct.pack("!I", n * 10)

T = tset(256, [(8, 4), (2, 4)])
m1 = msg([T], 0)
m2 = msg([dset(256, [rec(1), rec(2)])], 0)
m3 = msg([dset(256, [rec(3), rec(4), rec(5)])], 2)
good = m1 + m2 + m3
open(f"{work}/good.ipfix", "wb").write(good)
s2 = len(m1)
s3 = len(m1) + len(m2)
open(f"{work}/offsets", "w").write(f"{s2} {s3}\n")
open(f"{work}/cut_header.ipfix", "wb").write(good[:s2 + 5])
open(f"{work}/cut_body.ipfix", "wb").write(good[:s2 + 30])
open(f"{work}/garbage.ipfix", "wb").write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
open(f"{work}/empty.ipfix", "wb").write(b"")
# Neither IPFIX nor a capture: a gzip header, and two bytes of one. One zero byte could
# still begin an IPFIX header: a truncated IPFIX stream.
open(f"{work}/gzip.ipfix", "wb").write(b"\x1f\x8b\x08\x00" + bytes(20))
open(f"{work}/two_bytes.ipfix", "wb").write(b"\x1f\x8b")
open(f"{work}/one_zero.ipfix", "wb").write(b"\x00")
# A set that overruns its message, then a good message: framing holds, decoding goes on.
bad_set = msg([struct.pack("!HH", 256, 200) + rec(9)], 2)
open(f"{work}/bad_set.ipfix", "wb").write(m1 + m2 + bad_set + m3)
# A message header claiming 10 bytes: the stream cannot be framed past it.
open(f"{work}/short_len.ipfix", "wb").write(m1 + m2 + msg([], 2, length=10) + m3)

# ---- a capture, written by hand: Ethernet, IPv4, UDP/TCP ----
def eth_ip(proto, payload, src="10.9.0.1", dst="10.9.0.2", frag=0):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, frag, 64, proto, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + payload

def udp(sport, payload, frag=0):
    return eth_ip(17, struct.pack("!HHHH", sport, 4739, 8 + len(payload), 0) + payload, frag=frag)

SYN, FIN, ACK, PSH = 0x02, 0x01, 0x10, 0x08
def tcp(sport, seq, flags, payload=b""):
    return eth_ip(6, struct.pack("!HHIIBBHHH", sport, 4739, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload)

packets = []  # (frame, captured length or None for all)
packets.append((udp(1000, m1), None))                                  # 1 template
packets.append((udp(1000, m2), None))                                  # 2 two records
packets.append((udp(1000, m3[:-4]), None))                             # 3 cut short
packets.append((udp(1000, b"SSH-2.0-OpenSSH_9.2\r\n"), None))          # 4 not IPFIX
packets.append((udp(1000, bad_set), None))                             # 5 malformed set
packets.append((udp(1000, m3, frag=0x2000), None))                     # 6 a fragment
packets.append((udp(1000, m3), 40))                                    # 7 snapshot-cut
packets.append((udp(1000, m3), None))                                  # 8 three records
# TCP stream 2000: a gap (the second segment is not in the capture).
a = m1 + m2 + m3
packets.append((tcp(2000, 100, SYN), None))
packets.append((tcp(2000, 101, ACK | PSH, a[:len(m1)]), None))
packets.append((tcp(2000, 101 + len(m1) + len(m2), ACK | PSH, a[len(m1) + len(m2):]), None))
packets.append((tcp(2000, 101 + len(a), FIN | ACK), None))
# TCP stream 3000: not IPFIX at all.
packets.append((tcp(3000, 500, SYN), None))
packets.append((tcp(3000, 501, ACK | PSH, b"\x16\x03\x01\x02\x00" + b"\x01" * 40), None))
# TCP stream 4000: segments out of order, split inside messages: reassembles whole.
packets.append((tcp(4000, 7000, SYN), None))
cuts = [0, 10, 37, len(a) - 9, len(a)]
segs = [tcp(4000, 7001 + cuts[i], ACK | PSH, a[cuts[i]:cuts[i + 1]]) for i in range(4)]
for i in (1, 0, 3, 2):
    packets.append((segs[i], None))
packets.append((tcp(4000, 7001 + len(a), FIN | ACK), None))
# TCP stream 5000: ends 7 bytes into a message.
packets.append((tcp(5000, 900, SYN), None))
packets.append((tcp(5000, 901, ACK | PSH, m1 + m2[:7]), None))
packets.append((tcp(5000, 901 + len(m1) + 7, FIN | ACK), None))

out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
for i, (frame, caplen) in enumerate(packets):
    data = frame if caplen is None else frame[:caplen]
    out += struct.pack("<IIII", 1700000000 + i, 0, len(data), len(frame)) + data
open(f"{work}/bad.pcap", "wb").write(out)
open(f"{work}/cut.pcap", "wb").write(out[:len(out) - 20])

# Linux cooked v2 ("tshark -i any"), IPv6 with a hop-by-hop header, UDP: all good.
def sll2_ip6_udp(payload):
    udp6 = struct.pack("!HHHH", 1000, 4739, 8 + len(payload), 0) + payload
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    ip6 = struct.pack("!IHBB", 6 << 28, len(hbh) + len(udp6), 0, 64) + \
        bytes.fromhex("20010db8000000000000000000000001") + \
        bytes.fromhex("20010db8000000000000000000000002") + hbh + udp6
    return struct.pack("!HHIHBB8s", 0x86dd, 0, 1, 772, 0, 6, b"") + ip6
out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 276)
for i, m in enumerate((m1, m2, m3)):
    frame = sll2_ip6_udp(m)
    out += struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame
open(f"{work}/v6.pcap", "wb").write(out)
PYEOF
read -r s2 s3 <"$WORK/offsets"

# run NAME FILE WANT_STATUS [OPTION...]: dpfix-dump --json FILE into NAME.json / NAME.stderr.
run() {
	local rc=0
	"$DPFIX_DUMP" --json "$2" "${@:4}" >"$WORK/$1.json" 2>"$WORK/$1.stderr" || rc=$?
	[ "$rc" -eq "$3" ] || fail "$1: exit status $rc, want $3: $(head -5 "$WORK/$1.stderr")"
	grep -qiE "sanitizer|runtime error|segmentation" "$WORK/$1.stderr" && fail "$1: $(head -5 "$WORK/$1.stderr")"
	return 0
}
want_text() { grep -qF -- "$2" "$WORK/$1.stderr" || fail "$1: '$2' not reported: $(head -8 "$WORK/$1.stderr")"; }
want_count() { grep -qE "^  $2 +$3$" "$WORK/$1.stderr" || fail "$1: $2 should be $3: $(grep -E "^  $2 " "$WORK/$1.stderr")"; }
records() { [ "$(wc -l <"$WORK/$1.json")" -eq "$2" ] || fail "$1: $(wc -l <"$WORK/$1.json") records, want $2"; }

run good "$WORK/good.ipfix" 0
records good 5
"$DPFIX_DUMP" --json - <"$WORK/good.ipfix" >"$WORK/stdin.json" 2>/dev/null || fail "stdin"
cmp -s "$WORK/stdin.json" "$WORK/good.json" || fail "stdin gives other records than the file"

run cut_header "$WORK/cut_header.ipfix" 2
want_text cut_header "offset $s2: truncated: the stream ends 5 bytes into a 16-byte message header"
records cut_header 0

run cut_body "$WORK/cut_body.ipfix" 2
want_text cut_body "offset $s2: truncated: message of 36 bytes, the stream ends after 30 of them"
want_count cut_body input_errors 1

# The first bytes decide: IPFIX (00 0a), pcap or pcapng magic, or an error naming them.
run garbage "$WORK/garbage.ipfix" 2
want_text garbage "dpfix-dump: $WORK/garbage.ipfix: not IPFIX, pcap or pcapng: its first bytes are 47 45 54 20 (IPFIX starts with 00 0a, pcap with a1 b2 c3 d4 or a1 b2 3c 4d in either byte order, pcapng with 0a 0d 0d 0a)"
want_count garbage input_errors 1
want_count garbage messages 0
run gzip "$WORK/gzip.ipfix" 2
want_text gzip "$WORK/gzip.ipfix: not IPFIX, pcap or pcapng: its first bytes are 1f 8b 08 00 (IPFIX"
want_count gzip input_errors 1
run two_bytes "$WORK/two_bytes.ipfix" 2
want_text two_bytes "$WORK/two_bytes.ipfix: not IPFIX, pcap or pcapng: its first bytes are 1f 8b (IPFIX"
run one_zero "$WORK/one_zero.ipfix" 2
want_text one_zero "$WORK/one_zero.ipfix: offset 0: truncated: the stream ends 1 bytes into a 16-byte message header"
rc=0
"$DPFIX_DUMP" - <"$WORK/gzip.ipfix" >/dev/null 2>"$WORK/gzip_stdin.stderr" || rc=$?
[ "$rc" -eq 2 ] || fail "gzip on stdin: exit status $rc, want 2"
want_text gzip_stdin "dpfix-dump: stdin: not IPFIX, pcap or pcapng: its first bytes are 1f 8b 08 00 (IPFIX"

run empty "$WORK/empty.ipfix" 0
want_count empty messages 0

run bad_set "$WORK/bad_set.ipfix" 2
want_text bad_set "offset $s3: malformed message: set 256 at offset 16: length 200 outside 4..12"
want_count bad_set malformed_messages 1
grep -qE "^    malformed_SET_LENGTH +1  " "$WORK/bad_set.stderr" || fail "bad_set: reason not counted"
records bad_set 5

run short_len "$WORK/short_len.ipfix" 2
want_text short_len "offset $s3: message length 10 is below the 16-byte header"
records short_len 2

rc=0
"$DPFIX_DUMP" "$WORK/no-such-file" >/dev/null 2>"$WORK/missing.stderr" || rc=$?
[ "$rc" -eq 1 ] || fail "missing file: exit status $rc, want 1"
grep -q "no-such-file: No such file or directory" "$WORK/missing.stderr" || fail "missing file not named"

run pcap "$WORK/bad.pcap" 2
want_text pcap "udp 10.9.0.1:1000 > 10.9.0.2:4739: packet 3: datagram of 40 bytes holds a message of 44 bytes"
want_text pcap "udp 10.9.0.1:1000 > 10.9.0.2:4739: packet 4: not IPFIX: version 21331 is not IPFIX (10)"
want_text pcap "udp 10.9.0.1:1000 > 10.9.0.2:4739: packet 5: malformed message: set 256 at offset 16"
want_text pcap "packet 6: IPv4 fragment: not reassembled"
want_text pcap "packet 7: 40 of its 86 bytes captured (snapshot length): not decoded"
want_text pcap "tcp 10.9.0.1:2000 > 10.9.0.2:4739: stream offset 32: 36 bytes missing from the capture"
want_text pcap "tcp 10.9.0.1:3000 > 10.9.0.2:4739: stream offset 0: version 5635 is not IPFIX (10)"
want_text pcap "tcp 10.9.0.1:5000 > 10.9.0.2:4739: stream offset 32: the stream ends 7 bytes into a message"
want_count pcap packets 23
want_count pcap udp_not_ipfix 2
want_count pcap malformed_messages 1
want_count pcap ip_fragments 1
want_count pcap packets_truncated 1
want_count pcap tcp_streams 4
want_count pcap tcp_gap_bytes 36
want_count pcap tcp_bytes_not_decoded 89
want_count pcap tcp_framing_errors 1
want_count pcap tcp_truncated_streams 1
# Decoded: UDP 2 + 3, the gap stream's template only, the reordered stream 5.
records pcap 10
want_count pcap data_records 10

# Only the packets of a --port: none here but the one the snapshot length cut.
run port "$WORK/bad.pcap" 2 --port 9999
want_count port packets_ignored 22
want_count port packets_truncated 1
want_count port ip_fragments 0
records port 0

run v6 "$WORK/v6.pcap" 0
records v6 5
"$DPFIX_DUMP" "$WORK/v6.pcap" >"$WORK/v6.txt" 2>/dev/null || fail "v6: text mode"
grep -q "^message (udp \[2001:db8::1\]:1000 > \[2001:db8::2\]:4739, packet 3): length 44," "$WORK/v6.txt" ||
	fail "v6: $(head -3 "$WORK/v6.txt")"

run cut_pcap "$WORK/cut.pcap" 2
want_text cut_pcap "after packet 22: the capture is truncated or corrupt"
echo "dump_bad_input: ok"
