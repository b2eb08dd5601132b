#!/usr/bin/env bash
# The bundled capture is what its generator makes, byte for byte, with the totals
# recorded beside it; and tshark counts the same packets.
source "$(dirname "$0")/lib.sh"

$PY "$DPFIX_SOURCE_ROOT/tests/data/gen-sample-capture.py" "$WORK/sample" >/dev/null
cmp "$WORK/sample.pcap" "$SAMPLE_PCAP" || fail "sample.pcap differs from what gen-sample-capture.py makes"
cmp "$WORK/sample.expected.json" "$SAMPLE_EXPECTED" || fail "sample.expected.json is stale"
size=$(stat -c %s "$SAMPLE_PCAP")
[ "$size" -lt 1048576 ] || fail "sample.pcap is $size bytes, over 1 MB"
n=$(tshark -r "$SAMPLE_PCAP" 2>/dev/null | wc -l)
[ "$n" = "$(expected capture_packets)" ] || fail "tshark counts $n packets"
for proto in ip ipv6 vlan tcp udp icmp icmpv6 arp; do
	c=$(tshark -r "$SAMPLE_PCAP" -Y "$proto" 2>/dev/null | wc -l)
	[ "$c" -gt 0 ] || fail "the capture has no $proto packet"
done
echo "sample_capture: ok ($n packets, $size bytes)"
