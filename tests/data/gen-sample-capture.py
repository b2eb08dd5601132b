#!/usr/bin/python3
# Generates tests/data/sample.pcap, the bundled capture, and sample.expected.json, the
# totals a correct probe must report for it. Deterministic: same bytes on every run.
#
# The flow key is dpfix's default (IP version, addresses, protocol, ports; ICMP type/code
# in place of ports), so the expected flow count is the number of distinct keys below.
# Octets are IP-layer octets (RFC 7012 octetDeltaCount): the IP total length, without
# Ethernet, VLAN tags or frame padding.
import json
import random
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, IPv6, Raw, wrpcap)

rng = random.Random(20261122)
START = 1763800000.0
MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"

packets = []   # (time, scapy packet)
flows = {}     # key -> [packets, octets]
pkt_flow = {}  # id(packet) -> key, for the flows' first and last timestamps
malformed = 0
non_ip = 0


def add(t, pkt, key, ip_len):
    packets.append((t, pkt))
    pkt_flow[id(pkt)] = key
    f = flows.setdefault(key, [0, 0])
    f[0] += 1
    f[1] += ip_len


def l2(vlan):
    e = Ether(src=MAC_A, dst=MAC_B)
    return e / Dot1Q(vlan=vlan) if vlan else e


def payload(n):
    return Raw(bytes(rng.getrandbits(8) for _ in range(n)))


def tcp_conversation(t, v6, cli, srv, sport, dport, vlan=None):
    """Handshake, a few data segments each way, FIN exchange: two flows."""
    ipc = (lambda: IPv6(src=cli, dst=srv)) if v6 else (lambda: IP(src=cli, dst=srv))
    ips = (lambda: IPv6(src=srv, dst=cli)) if v6 else (lambda: IP(src=srv, dst=cli))
    fwd = (6 if v6 else 4, cli, srv, 6, sport, dport)
    rev = (6 if v6 else 4, srv, cli, 6, dport, sport)
    steps = [(True, "S", 0), (False, "SA", 0), (True, "A", 0)]
    for _ in range(rng.randint(1, 6)):
        steps.append((True, "PA", rng.randint(20, 900)))
        steps.append((False, "PA", rng.randint(100, 1400)))
    steps += [(True, "FA", 0), (False, "FA", 0), (True, "A", 0)]
    for to_srv, flags, n in steps:
        t += rng.uniform(0.0005, 0.02)
        ip = ipc() if to_srv else ips()
        seg = TCP(sport=sport if to_srv else dport, dport=dport if to_srv else sport, flags=flags)
        pkt = l2(vlan) / ip / seg / (payload(n) if n else b"")
        pkt = Ether(bytes(pkt))  # fill in lengths and checksums
        ip_len = len(pkt[IPv6]) if v6 else pkt[IP].len
        add(t, pkt, fwd if to_srv else rev, ip_len)
    return t


def udp_exchange(t, v6, cli, srv, sport, dport, count, vlan=None):
    ip_cls = IPv6 if v6 else IP
    for _ in range(count):
        for to_srv in (True, False):
            t += rng.uniform(0.0005, 0.03)
            src, dst = (cli, srv) if to_srv else (srv, cli)
            sp, dp = (sport, dport) if to_srv else (dport, sport)
            pkt = Ether(bytes(l2(vlan) / ip_cls(src=src, dst=dst) / UDP(sport=sp, dport=dp) /
                              payload(rng.randint(8, 500))))
            ip_len = len(pkt[IPv6]) if v6 else pkt[IP].len
            add(t, pkt, (6 if v6 else 4, src, dst, 17, sp, dp), ip_len)
    return t


def ping(t, v6, a, b, count):
    for seq in range(count):
        for req in (True, False):
            t += rng.uniform(0.001, 0.05)
            src, dst = (a, b) if req else (b, a)
            if v6:
                icmp = (ICMPv6EchoRequest if req else ICMPv6EchoReply)(id=7, seq=seq)
                pkt = Ether(bytes(Ether(src=MAC_A, dst=MAC_B) / IPv6(src=src, dst=dst) / icmp / payload(56)))
                key = (6, src, dst, 58, 0, (128 if req else 129) << 8)
                add(t, pkt, key, len(pkt[IPv6]))
            else:
                icmp = ICMP(type=8 if req else 0, id=7, seq=seq)
                pkt = Ether(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src=src, dst=dst) / icmp / payload(56)))
                key = (4, src, dst, 1, 0, (8 if req else 0) << 8)
                add(t, pkt, key, pkt[IP].len)
    return t


# Conversations start at staggered times and interleave once sorted by time.
for i in range(20):
    tcp_conversation(START + i * 0.1, False, f"10.0.0.{i + 1}", "192.0.2.10", 40000 + i, 443)
for i in range(15):
    udp_exchange(START + 0.05 + i * 0.12, False, f"10.0.1.{i + 1}", "192.0.2.53", 50000 + i, 53, 3)
for i in range(3):
    ping(START + 0.2 + i * 0.3, False, f"10.0.2.{i + 1}", "198.51.100.1", 4)
for i in range(5):
    tcp_conversation(START + 0.3 + i * 0.2, True, f"2001:db8::{i + 1:x}", "2001:db8:ffff::80", 41000 + i, 80)
for i in range(5):
    udp_exchange(START + 0.4 + i * 0.15, True, f"2001:db8:1::{i + 1:x}", "2001:db8:ffff::53", 51000 + i, 53, 2)
for i in range(2):
    ping(START + 0.5 + i * 0.4, True, f"2001:db8:2::{i + 1:x}", "2001:db8:ffff::1", 3)
for i in range(5):
    udp_exchange(START + 0.6 + i * 0.1, False, f"172.16.5.{i + 1}", "203.0.113.9", 52000 + i, 4789, 2, vlan=100 + i)
for i in range(2):
    tcp_conversation(START + 0.7 + i * 0.3, True, f"2001:db8:5::{i + 1:x}", "2001:db8:ffff::443", 42000 + i, 443, vlan=200)

# Not flows: ARP is counted as non-IP; two broken IPv4 headers are counted as malformed.
for i in range(4):
    packets.append((START + 0.9 + i * 0.2, Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") /
                    ARP(psrc="10.0.0.1", pdst=f"10.0.0.{200 + i}")))
    non_ip += 1
ipv4_header_cut_short = Ether(src=MAC_A, dst=MAC_B, type=0x0800) / Raw(bytes(bytes(IP(src="10.9.9.9", dst="10.9.9.8"))[:12]))
ipv4_ihl_too_small = Ether(bytes(Ether(src=MAC_A, dst=MAC_B) / IP(src="10.9.9.9", dst="10.9.9.8", ihl=3) / UDP() / payload(20)))
packets.append((START + 1.5, ipv4_header_cut_short))
packets.append((START + 1.6, ipv4_ihl_too_small))
malformed += 2

packets.sort(key=lambda tp: tp[0])
out = []
for t, p in packets:
    p.time = round(t, 6)
    out.append(p)

base = sys.argv[1] if len(sys.argv) > 1 else "tests/data/sample"
wrpcap(base + ".pcap", out)

# Each flow's first and last packet time in microseconds, as the file holds them (the
# record headers' seconds and microseconds, read back rather than recomputed).
times = {}
with open(base + ".pcap", "rb") as f:
    data = f.read()
off = 24
for p in out:
    sec, usec, caplen = struct.unpack_from("<III", data, off)
    off += 16 + caplen
    key = pkt_flow.get(id(p))
    if key is not None:
        t = times.setdefault(key, [sec * 1000000 + usec] * 2)
        t[1] = sec * 1000000 + usec
expected = {
    "capture_packets": len(out),
    "flows": len(flows),
    "packets": sum(f[0] for f in flows.values()),
    "octets": sum(f[1] for f in flows.values()),
    "ipv4_flows": sum(1 for k in flows if k[0] == 4),
    "ipv6_flows": sum(1 for k in flows if k[0] == 6),
    "non_ip": non_ip,
    "malformed": malformed,
    "flow_list": [
        {"ip_version": k[0], "src": k[1], "dst": k[2], "protocol": k[3], "src_port": k[4],
         "dst_port": k[5], "packets": v[0], "octets": v[1],
         "first_us": times[k][0], "last_us": times[k][1]}
        for k, v in sorted(flows.items(), key=lambda kv: (kv[0][0], str(kv[0])))
    ],
}
with open(base + ".expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print(f"{len(out)} packets, {expected['flows']} flows, {expected['packets']} flow packets, "
      f"{expected['octets']} octets -> {base}.pcap")
