#!/usr/bin/python3
# Generates the captures of the packet-selection (PSAMP) test: COUNT packets, each its
# own flow (source port 1024 + i tells packet i apart in the exported flows), seen at
# two hops of one path:
#   HOP_A  as sent: TTL/hop limit 64, DSCP 0, untagged
#   HOP_B  one router later: TTL/hop limit 63, DSCP re-marked on every other packet,
#          other MAC addresses, an 802.1Q tag; the IPv4 checksum follows the TTL
# The IP packets are otherwise identical, so a hash-based selector over invariant
# content must pick the same packets at both hops. A mix of IPv4 and IPv6, TCP and UDP,
# with IPv4 identifications and payload bytes that differ per packet. Built with struct
# rather than scapy: scapy takes about 10 s per 20000 packets on the test machines.
#
# usage: gen-sampling-capture.py HOP_A.pcap HOP_B.pcap COUNT
import struct
import sys

START_US = 1763900000 * 1000000
DST_PORT = 47001


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def transport(i):
    """TCP for every third packet, else UDP; 16 payload bytes that depend on i."""
    data = struct.pack("!IIII", i, i * 2654435761 & 0xffffffff, ~i & 0xffffffff, 0x5a5a5a5a)
    if i % 3 == 0:
        seq = i * 40503 & 0xffffffff
        return 6, struct.pack("!HHIIBBHHH", 1024 + i, DST_PORT, seq, 0, 5 << 4, 0x18, 65535,
                              0, 0) + data
    return 17, struct.pack("!HHHH", 1024 + i, DST_PORT, 8 + len(data), 0) + data


def ip_packet(i, hop_b):
    proto, l4 = transport(i)
    ttl = 63 if hop_b else 64
    tos = 0xb8 if hop_b and i % 2 == 0 else 0
    if i % 4 == 3:
        first = 0x60000000 | tos << 20 | 0x12345
        return struct.pack("!IHBB16s16s", first, len(l4), proto, ttl,
                           bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]),
                           bytes([0x20, 0x01, 0x0d, 0xb8, 0, 1] + [0] * 9 + [1])) + l4
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(l4), i * 40503 & 0xffff,
                                   0x4000, ttl, proto, 0, bytes([10, 0, 0, 1]),
                                   bytes([10, 0, 1, 1])))
    struct.pack_into("!H", header, 10, checksum(bytes(header)))
    return bytes(header) + l4


def frame(i, hop_b):
    ip = ip_packet(i, hop_b)
    ethertype = 0x86dd if ip[0] >> 4 == 6 else 0x0800
    if hop_b:
        l2 = bytes.fromhex("020000000b02020000000b01") + struct.pack("!HHH", 0x8100, 100, ethertype)
    else:
        l2 = bytes.fromhex("020000000a02020000000a01") + struct.pack("!H", ethertype)
    return l2 + ip


def write_pcap(path, count, hop_b):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            data = frame(i, hop_b)
            t = START_US + i * 10
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(data), len(data)))
            f.write(data)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen-sampling-capture.py HOP_A.pcap HOP_B.pcap COUNT")
    count = int(sys.argv[3])
    if not 0 < count <= 60000:
        sys.exit("COUNT must be 1..60000 (source ports 1024 + i)")
    write_pcap(sys.argv[1], count, False)
    write_pcap(sys.argv[2], count, True)


if __name__ == "__main__":
    main()
