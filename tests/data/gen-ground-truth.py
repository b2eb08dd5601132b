#!/usr/bin/python3
# Generates a capture with known flows for the parser's ground-truth test, and the exact
# results a correct probe reports for it under two configurations:
#   default  the default flow key (IP version, addresses, protocol, ports), VXLAN closed
#   keyed    flow_key = vlan,dscp,mpls,ingress_port and vxlan_inner = yes
# Every kind of header the parser knows appears: 802.1Q, QinQ (0x88a8 and 0x9100), MPLS
# stacks, IPv4 with options, IPv6 extension headers (hop-by-hop, routing, destination
# options, AH, ESP), TCP, UDP, SCTP, ICMP, ICMPv6, GRE (v0 and PPTP), VXLAN, IPv4 and IPv6
# fragments in order, out of order and orphaned; and one packet or more for every reason
# the parser skips or rejects a packet. The expectation comes from how each packet was
# built (its intended flow key and IP length), not from parsing the bytes back.
#
# usage: gen-ground-truth.py BASE [SEED_DIR]  -> BASE.pcap, BASE.expected.json; with SEED_DIR,
#        every distinct frame also becomes a fuzz seed there (first byte: configuration).
import json
import os
import random
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, Raw, fragment
from scapy.contrib.mpls import MPLS
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS, IPv6,
                                IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                IPv6ExtHdrRouting, fragment6)
from scapy.layers.ipsec import AH, ESP
from scapy.layers.l2 import GRE
from scapy.layers.sctp import SCTP, SCTPChunkData

rng = random.Random(20261123)
START = 1763900000.0
MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"
CONFIGS = {
    "default": {"options": [], "key": (), "vxlan": False},
    "keyed": {"options": ["--flow-key", "vlan,dscp,mpls,ingress_port", "--vxlan-inner", "yes"],
              "key": ("vlan", "dscp", "mpls", "ingress_port"), "vxlan": True},
}
PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6, PROTO_GRE, PROTO_SCTP = 6, 17, 1, 58, 47, 132

packets = []  # dicts: time, bytes, and per configuration what the probe must make of it
t_now = START


def tick(lo=0.0002, hi=0.004):
    global t_now
    t_now += rng.uniform(lo, hi)
    return t_now


def payload(n):
    return Raw(bytes(rng.getrandbits(8) for _ in range(n)))


def l2_bytes(tags=(), mpls=(), ethertype=0x0800):
    """The bytes before the IP header: MACs, VLAN tags (tpid, vid), MPLS labels."""
    b = bytes.fromhex(MAC_B.replace(":", "")) + bytes.fromhex(MAC_A.replace(":", ""))
    for tpid, vid in tags:
        b += struct.pack("!HH", tpid, vid)
    if mpls:
        b += struct.pack("!H", 0x8847)
        for i, (label, tc) in enumerate(mpls):
            bottom = 1 if i == len(mpls) - 1 else 0
            b += struct.pack("!I", label << 12 | tc << 9 | bottom << 8 | 64)
    else:
        b += struct.pack("!H", ethertype)
    return b


def mpls_top(mpls):
    if not mpls:
        return 0
    label, tc = mpls[0]
    return label << 4 | tc << 1 | (1 if len(mpls) == 1 else 0)


def flow(ver, src, dst, proto, sport, dport, octets, vlan=0, tos=0, mpls=()):
    return {"flow": {"ip_version": ver, "src": src, "dst": dst, "protocol": proto,
                     "src_port": sport, "dst_port": dport, "vlan": vlan, "dscp": tos >> 2,
                     "mpls": mpls_top(mpls), "ingress_port": 0},
            "octets": octets}


def add(frame, default, keyed=None, t=None):
    """A frame and what each configuration must make of it (keyed defaults to default)."""
    packets.append({"time": tick() if t is None else t, "bytes": bytes(frame),
                    "default": default, "keyed": keyed if keyed is not None else default})


def reason(name):
    return {"reason": name}


def ip_packet(ver, src, dst, l4, tos=0, ext=None, proto=None):
    """IP header over l4 (a scapy layer); ext: IPv6 extension headers to put between;
    proto: the protocol number when l4 is raw bytes (scapy cannot tell)."""
    extra = {} if proto is None else ({"proto": proto} if ver == 4 else {"nh": proto})
    if ver == 4:
        return IP(src=src, dst=dst, tos=tos, id=rng.randint(1, 65535), **extra) / l4
    p = IPv6(src=src, dst=dst, tc=tos, **(extra if ext is None else {}))
    if ext is not None:
        p = p / ext
    return p / l4


def l4_key(l4):
    """Protocol and ports (ICMP: 0 and type << 8 | code) of a scapy transport layer."""
    if isinstance(l4, TCP):
        return PROTO_TCP, l4.sport, l4.dport
    if isinstance(l4, UDP):
        return PROTO_UDP, l4.sport, l4.dport
    if isinstance(l4, SCTP):
        return PROTO_SCTP, l4.sport, l4.dport
    if isinstance(l4, ICMP):
        return PROTO_ICMP, 0, l4.type << 8 | l4.code
    raw = bytes(l4)
    return PROTO_ICMPV6, 0, raw[0] << 8 | raw[1]   # an ICMPv6 class


def send(ver, src, dst, l4, tos=0, tags=(), mpls=(), ext=None, proto_key=None):
    """One unfragmented packet of a flow: the same result in both configurations."""
    ip = ip_packet(ver, src, dst, l4, tos, ext,
                   proto_key[0] if proto_key is not None and isinstance(l4, Raw) else None)
    raw_ip = bytes(ip)
    proto, sport, dport = proto_key if proto_key is not None else l4_key(l4)
    frame = l2_bytes(tags, mpls, 0x0800 if ver == 4 else 0x86dd) + raw_ip
    add(frame, flow(ver, src, dst, proto, sport, dport, len(raw_ip),
                    tags[0][1] if tags else 0, tos, mpls))


# ---- ordinary flows: TCP (no FIN or RST, so each is one record), UDP, ICMP ----

def tcp_conversation(ver, cli, srv, sport, dport, n, tos=0, tags=(), mpls=()):
    send(ver, cli, srv, TCP(sport=sport, dport=dport, flags="S"), tos, tags, mpls)
    send(ver, srv, cli, TCP(sport=dport, dport=sport, flags="SA"), tos, tags, mpls)
    for _ in range(n):
        send(ver, cli, srv, TCP(sport=sport, dport=dport, flags="PA") / payload(rng.randint(1, 600)),
             tos, tags, mpls)
        send(ver, srv, cli, TCP(sport=dport, dport=sport, flags="A") / payload(rng.randint(0, 1200)),
             tos, tags, mpls)


for i in range(6):
    tcp_conversation(4, f"10.1.0.{i + 1}", "192.0.2.80", 40000 + i, 80, rng.randint(1, 5))
for i in range(4):
    tcp_conversation(6, f"2001:db8:1::{i + 1:x}", "2001:db8:ff::80", 41000 + i, 443, rng.randint(1, 4),
                     tos=0xb8)
for i in range(5):
    for _ in range(3):
        send(4, f"10.2.0.{i + 1}", "192.0.2.53", UDP(sport=50000 + i, dport=53) / payload(rng.randint(20, 80)))
        send(4, "192.0.2.53", f"10.2.0.{i + 1}", UDP(sport=53, dport=50000 + i) / payload(rng.randint(40, 400)))
for seq in range(3):
    send(4, "10.3.0.1", "198.51.100.1", ICMP(type=8, id=9, seq=seq) / payload(56))
    send(4, "198.51.100.1", "10.3.0.1", ICMP(type=0, id=9, seq=seq) / payload(56))
    send(6, "2001:db8:3::1", "2001:db8:ff::1", ICMPv6EchoRequest(id=9, seq=seq) / payload(56))
    send(6, "2001:db8:ff::1", "2001:db8:3::1", ICMPv6EchoReply(id=9, seq=seq) / payload(56))
send(6, "2001:db8:3::1", "ff02::1:ff00:1", ICMPv6ND_NS(tgt="2001:db8:3::99"))
# IPv4 options (record route, 40 bytes of header in all).
for _ in range(2):
    ip = IP(src="10.4.0.1", dst="10.4.0.2", options=[b"\x07\x13\x04" + bytes(16), b"\x01"]) / \
        UDP(sport=7000, dport=7001) / payload(30)
    raw_ip = bytes(ip)
    add(l2_bytes() + raw_ip, flow(4, "10.4.0.1", "10.4.0.2", PROTO_UDP, 7000, 7001, len(raw_ip)))
# DSCP changing inside one 5-tuple: one flow by default, two when DSCP is in the key.
for tos in (0x00, 0x00, 0x28, 0x28, 0x28):
    send(4, "10.5.0.1", "10.5.0.2", UDP(sport=9000, dport=9001) / payload(100), tos=tos)

# ---- VLAN, QinQ, MPLS: the same 5-tuple on several tags and labels ----
for vid in (100, 200):
    for _ in range(3):
        send(4, "10.6.0.1", "10.6.0.2", UDP(sport=1234, dport=5678) / payload(64), tags=((0x8100, vid),))
for outer in (0x88a8, 0x9100):
    tcp_conversation(4, "10.7.0.1", "10.7.0.2", 3333, 22, 2, tags=((outer, 300), (0x8100, 30)))
tcp_conversation(6, "2001:db8:7::1", "2001:db8:7::2", 3334, 22, 1,
                 tags=((0x9100, 301), (0x9100, 31), (0x88a8, 3), (0x8100, 4)))
for label in (16001, 16002):
    for _ in range(3):
        send(4, "10.8.0.1", "10.8.0.2", UDP(sport=4000, dport=4001) / payload(90), mpls=((label, 0),))
for _ in range(2):
    send(6, "2001:db8:8::1", "2001:db8:8::2", UDP(sport=4002, dport=4003) / payload(50),
         mpls=((1000, 5), (24, 0), (2, 0)), tags=((0x8100, 50),))
    send(4, "10.8.1.1", "10.8.1.2", TCP(sport=4004, dport=4005, flags="A") / payload(10),
         mpls=((0xfffff, 7), (0, 0)))

# ---- IPv6 extension headers, SCTP, GRE, ESP ----
for _ in range(2):
    send(6, "2001:db8:9::1", "2001:db8:9::2", UDP(sport=546, dport=547) / payload(40),
         ext=IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=["2001:db8:9::3"]) / IPv6ExtHdrDestOpt())
    send(6, "2001:db8:9::1", "2001:db8:9::2", TCP(sport=1111, dport=179, flags="PA") / payload(19),
         ext=AH(nh=6, payloadlen=4, spi=0x1000, seq=1, icv=bytes(12)))
    send(6, "2001:db8:9::1", "2001:db8:9::2", Raw(bytes(40)), proto_key=(50, 0, 0),
         ext=IPv6ExtHdrDestOpt(nh=50))
    send(4, "10.9.0.1", "10.9.0.2", ESP(spi=7, seq=1) / payload(60), proto_key=(50, 0, 0))
for _ in range(3):
    send(4, "10.10.0.1", "10.10.0.2", SCTP(sport=2905, dport=2905) / SCTPChunkData(data=payload(30).load))
    send(6, "2001:db8:a::1", "2001:db8:a::2", SCTP(sport=36412, dport=36412) / SCTPChunkData(data=b"x" * 20))
for _ in range(3):
    send(4, "10.11.0.1", "10.11.0.2", GRE(proto=0x0800) / IP(src="172.16.0.1", dst="172.16.0.2") / UDP() / payload(20),
         proto_key=(PROTO_GRE, 0, 0))
    send(4, "10.11.0.1", "10.11.0.2", GRE(key_present=1, seqnum_present=1, key=77, seqence_number=3, proto=0x6558) /
         payload(60), proto_key=(PROTO_GRE, 0, 0))
    send(6, "2001:db8:b::1", "2001:db8:b::2",
         Raw(struct.pack("!HHHHI", 0x3001, 0x880b, 8, 5, 9) + bytes(8)), proto_key=(PROTO_GRE, 0, 0))


# ---- VXLAN: a UDP flow by default, the inner packet's flow when opened ----

def vxlan_frame(inner_frame, outer_src, outer_dst, sport, flags=0x08, tags=(), cut=None):
    body = struct.pack("!II", flags << 24, 5000 << 8) + inner_frame
    if cut is not None:
        body = body[:cut]
    ip = IP(src=outer_src, dst=outer_dst, id=rng.randint(1, 65535)) / UDP(sport=sport, dport=4789) / Raw(body)
    raw_ip = bytes(ip)
    outer = flow(4, outer_src, outer_dst, PROTO_UDP, sport, 4789, len(raw_ip), tags[0][1] if tags else 0)
    return l2_bytes(tags) + raw_ip, outer


for i in range(3):
    for to_srv in (True, False):
        a, b = ("10.20.0.1", "10.20.0.2") if to_srv else ("10.20.0.2", "10.20.0.1")
        sp, dp = (51000 + i, 8080) if to_srv else (8080, 51000 + i)
        inner_ip = IP(src=a, dst=b, tos=0x48, id=rng.randint(1, 65535)) / TCP(sport=sp, dport=dp, flags="A") / \
            payload(rng.randint(0, 300))
        raw_inner = bytes(inner_ip)
        inner_frame = l2_bytes(((0x8100, 999),)) + raw_inner   # the tenant's tag
        frame, outer = vxlan_frame(inner_frame, "192.0.2.100", "192.0.2.200", 60000 + i, tags=((0x8100, 10),))
        add(frame, outer, flow(4, a, b, PROTO_TCP, sp, dp, len(raw_inner), 10, 0x48))
# IPv6 inside, and ARP inside (not IP once opened).
raw_inner = bytes(IPv6(src="2001:db8:20::1", dst="2001:db8:20::2") / UDP(sport=5, dport=6) / payload(33))
frame, outer = vxlan_frame(l2_bytes(ethertype=0x86dd) + raw_inner, "192.0.2.100", "192.0.2.200", 60010)
add(frame, outer, flow(6, "2001:db8:20::1", "2001:db8:20::2", PROTO_UDP, 5, 6, len(raw_inner)))
arp = bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.20.0.1", pdst="10.20.0.9"))
frame, outer = vxlan_frame(arp, "192.0.2.100", "192.0.2.200", 60011)
add(frame, outer, reason("NOT_IP"))
# Broken VXLAN: only malformed once opened.
frame, outer = vxlan_frame(b"", "192.0.2.100", "192.0.2.200", 60012, cut=5)
add(frame, outer, reason("TRUNCATED_VXLAN"))
frame, outer = vxlan_frame(arp, "192.0.2.100", "192.0.2.200", 60013, flags=0x00)
add(frame, outer, reason("BAD_VXLAN_FLAGS"))
frame, outer = vxlan_frame(l2_bytes() + bytes(IP(src="1.2.3.4", dst="5.6.7.8"))[:15], "192.0.2.100",
                           "192.0.2.200", 60014)
add(frame, outer, reason("TRUNCATED_IPV4"))
# Inner packets claiming more than the tunnel carries: the tunnel's own UDP flow is
# sound; its content is malformed once opened.
lying_v4 = bytearray(bytes(IP(src="10.21.0.1", dst="10.21.0.2") / UDP(sport=7, dport=8) / payload(12)))
lying_v4[2:4] = struct.pack("!H", 65535)
frame, outer = vxlan_frame(l2_bytes() + bytes(lying_v4), "192.0.2.100", "192.0.2.200", 60015)
add(frame, outer, reason("IPV4_LENGTH_PAST_FRAME"))
lying_v6 = bytearray(bytes(IPv6(src="2001:db8:21::1", dst="2001:db8:21::2") / UDP(sport=7, dport=8) / payload(12)))
lying_v6[4:6] = struct.pack("!H", 65535)
frame, outer = vxlan_frame(l2_bytes(ethertype=0x86dd) + bytes(lying_v6), "192.0.2.100", "192.0.2.200", 60016)
add(frame, outer, reason("IPV6_LENGTH_PAST_FRAME"))
# The UDP length, not the frame, ends the inner frame: a datagram 4 bytes short of
# what follows holds only part of its inner IPv4 packet.
inner_ok = l2_bytes() + bytes(IP(src="10.21.0.3", dst="10.21.0.4") / UDP(sport=9, dport=10) / payload(12))
frame, outer = vxlan_frame(inner_ok, "192.0.2.100", "192.0.2.200", 60017)
udp_len_at = len(l2_bytes()) + 20 + 4
frame = frame[:udp_len_at] + struct.pack("!H", 8 + 8 + len(inner_ok) - 4) + frame[udp_len_at + 2:]
add(frame, outer, reason("IPV4_LENGTH_PAST_FRAME"))


# ---- fragments: in order, out of order, and later fragments whose first never comes ----

def fragments_v4(src, dst, l4, size, ident, order, drop_first=False, tos=0):
    ip = IP(src=src, dst=dst, id=ident, tos=tos) / l4
    proto, sport, dport = l4_key(l4)
    frags = [bytes(f) for f in fragment(ip, size)]
    pieces = []
    for raw in frags:
        p = IP(raw)
        off, more, hl = p.frag * 8, bool(p.flags.MF), p.ihl * 4
        first = off == 0
        info = {"ver": 4, "src": src, "dst": dst, "id": ident, "map_proto": proto, "first": first,
                "offset": off, "len": p.len - hl, "more": more}
        f = flow(4, src, dst, proto, sport if first else 0, dport if first else 0, p.len, tos=tos)
        f["frag"] = info
        pieces.append((l2_bytes() + raw, f))
    if drop_first:
        pieces = pieces[1:]
    for i in order(len(pieces)):
        add(pieces[i][0], pieces[i][1])


def fragments_v6(src, dst, l4, size, ident, order, hop_by_hop=False):
    p = IPv6(src=src, dst=dst)
    if hop_by_hop:
        p = p / IPv6ExtHdrHopByHop()
    p = p / IPv6ExtHdrFragment(id=ident) / l4
    proto, sport, dport = l4_key(l4)
    pieces = []
    for f6 in fragment6(p, size):
        raw = bytes(f6)
        q = IPv6(raw)
        fh = q[IPv6ExtHdrFragment]
        off, more = fh.offset * 8, bool(fh.m)
        frag_len = len(bytes(fh.payload))
        first = off == 0
        info = {"ver": 6, "src": src, "dst": dst, "id": ident, "map_proto": 0, "first": first,
                "offset": off, "len": frag_len, "more": more}
        # A later fragment names the header after the fragment header (here the transport).
        f = flow(6, src, dst, proto if first else fh.nh, sport if first else 0, dport if first else 0,
                 len(raw))
        f["frag"] = info
        pieces.append((l2_bytes(ethertype=0x86dd) + raw, f))
    for i in order(len(pieces)):
        add(pieces[i][0], pieces[i][1])


in_order = lambda n: list(range(n))
reverse = lambda n: list(range(n))[::-1]
first_last = lambda n: list(range(1, n)) + [0]        # the first fragment arrives last
middle_first = lambda n: [1, 0] + list(range(2, n))   # one later fragment before the first
# The last fragment first, then the first one twice: a repeated fragment adds no bytes,
# so the middle ones still join the flow (counting bytes declared the datagram whole
# at the repeat and metered them with ports 0).
last_then_first_twice = lambda n: [n - 1, 0, 0] + list(range(1, n - 1))

fragments_v4("10.30.0.1", "10.30.0.2", UDP(sport=5000, dport=5001) / payload(3000), 1480, 101, in_order)
fragments_v4("10.30.0.1", "10.30.0.2", UDP(sport=5000, dport=5001) / payload(2000), 1480, 102, in_order)
fragments_v4("10.30.0.3", "10.30.0.4", UDP(sport=5002, dport=5003) / payload(4000), 1000, 103, reverse)
fragments_v4("10.30.0.3", "10.30.0.4", UDP(sport=5002, dport=5003) / payload(3500), 1000, 104, middle_first)
fragments_v4("10.30.0.5", "10.30.0.6", ICMP(type=8, id=1, seq=1) / payload(2500), 1480, 105, in_order, tos=0x20)
fragments_v4("10.30.0.7", "10.30.0.8", UDP(sport=5004, dport=5005) / payload(2500), 1000, 106, in_order,
             drop_first=True)
fragments_v4("10.30.0.9", "10.30.0.10", UDP(sport=5006, dport=5007) / payload(3000), 1000, 107,
             last_then_first_twice)
fragments_v6("2001:db8:30::1", "2001:db8:30::2", UDP(sport=6000, dport=6001) / payload(3000), 1280, 0x1001,
             in_order)
fragments_v6("2001:db8:30::1", "2001:db8:30::2", UDP(sport=6000, dport=6001) / payload(2000), 1280, 0x1002,
             first_last, hop_by_hop=True)
fragments_v6("2001:db8:30::3", "2001:db8:30::4", TCP(sport=6002, dport=6003, flags="PA") / payload(2500), 1280,
             0x1003, reverse)

# ---- skipped and malformed: at least one packet for every reason ----
MAC = l2_bytes()[:12]


def bad(frame, name, keyed=None):
    add(frame, reason(name), reason(keyed) if keyed else None)


ipv4_udp = bytes(IP(src="10.40.0.1", dst="10.40.0.2") / UDP(sport=1, dport=2) / payload(20))
ipv6_udp = bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2") / UDP(sport=1, dport=2) / payload(20))
for _ in range(2):
    bad(bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.40.0.1", pdst="10.40.0.9")), "NOT_IP")
bad(MAC + b"\x88\xcc" + bytes(30), "NOT_IP")
bad(l2_bytes(mpls=((100, 0),)) + bytes(4) + bytes(60), "MPLS_NOT_IP")
bad(l2_bytes(tags=[(0x8100, v) for v in range(1, 6)]) + ipv4_udp, "VLAN_TOO_DEEP")
bad(l2_bytes(mpls=[(100 + i, 0) for i in range(9)]) + ipv4_udp, "MPLS_TOO_DEEP")
bad(l2_bytes(ethertype=0x86dd) + bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2") /
                                       IPv6ExtHdrHopByHop() / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) /
                                       UDP(sport=1, dport=2)), "IPV6_EXT_TOO_DEEP")
bad(MAC + b"\x08", "TRUNCATED_L2")
bad(MAC + b"\x81\x00\x00", "TRUNCATED_L2")
bad(MAC + b"\x88\x47\x00\x06", "TRUNCATED_MPLS")
bad(l2_bytes(mpls=((100, 0),)), "TRUNCATED_MPLS")
bad(l2_bytes() + ipv4_udp[:12], "TRUNCATED_IPV4")
bad(l2_bytes() + b"\x65" + ipv4_udp[1:], "BAD_IPV4_VERSION")
bad(l2_bytes() + b"\x43" + ipv4_udp[1:], "BAD_IPV4_HEADER_LENGTH")
bad(l2_bytes() + ipv4_udp[:2] + struct.pack("!H", 12) + ipv4_udp[4:], "BAD_IPV4_TOTAL_LENGTH")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", frag=8189, proto=17) / payload(100)),
    "BAD_IPV4_FRAGMENT")
bad(l2_bytes(ethertype=0x86dd) + ipv6_udp[:30], "TRUNCATED_IPV6")
bad(l2_bytes(ethertype=0x86dd) + b"\x45" + ipv6_udp[1:], "BAD_IPV6_VERSION")
bad(l2_bytes(ethertype=0x86dd) + bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2", nh=0, plen=1)) + b"\x11",
    "TRUNCATED_IPV6_EXT")
bad(l2_bytes(ethertype=0x86dd) + bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2") / IPv6ExtHdrDestOpt() /
                                       IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2)), "BAD_IPV6_HOPOPTS")
bad(l2_bytes(ethertype=0x86dd) + bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2") /
                                       IPv6ExtHdrFragment(nh=17, offset=8190, m=0, id=5) / payload(16)),
    "BAD_IPV6_FRAGMENT")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=6) / payload(10)), "TRUNCATED_TCP")
# IP lengths claiming more than the frame carries (a 60-byte frame "of 65535 bytes"
# would meter 65535 octets), directly and behind VLAN tags, MPLS and IPv6 options.
lying = bytearray(bytes(IP(src="10.40.0.1", dst="10.40.0.2") / UDP(sport=1, dport=2) / payload(18)))
lying[2:4] = struct.pack("!H", 65535)
bad(l2_bytes() + bytes(lying), "IPV4_LENGTH_PAST_FRAME")
bad(l2_bytes(tags=((0x8100, 40),), mpls=((300, 0),)) + bytes(lying), "IPV4_LENGTH_PAST_FRAME")
lying[2:4] = struct.pack("!H", len(lying) + 1)
bad(l2_bytes() + bytes(lying), "IPV4_LENGTH_PAST_FRAME")
# A TCP header of 40 bytes "inside" a 60-byte IP length, in a frame holding 40 of them.
lying = bytearray(bytes(IP(src="10.40.0.1", dst="10.40.0.2") / TCP(sport=1, dport=2, dataofs=10, flags="S")))
lying[2:4] = struct.pack("!H", 60)
bad(l2_bytes() + bytes(lying), "IPV4_LENGTH_PAST_FRAME")
lying = bytearray(bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2") / IPv6ExtHdrHopByHop() /
                        UDP(sport=1, dport=2) / payload(10)))
lying[4:6] = struct.pack("!H", 65535)
bad(l2_bytes(ethertype=0x86dd) + bytes(lying), "IPV6_LENGTH_PAST_FRAME")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2") / TCP(sport=1, dport=2, dataofs=3)), "BAD_TCP_HEADER_LENGTH")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=17) / payload(5)), "TRUNCATED_UDP")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2") / UDP(sport=1, dport=2, len=4) / payload(10)),
    "BAD_UDP_LENGTH")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=132) / payload(3)), "TRUNCATED_SCTP")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=1) / payload(1)), "TRUNCATED_ICMP")
bad(l2_bytes(ethertype=0x86dd) + bytes(IPv6(src="2001:db8:40::1", dst="2001:db8:40::2", nh=58) / payload(1)),
    "TRUNCATED_ICMP")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=47) / payload(3)), "TRUNCATED_GRE")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2", proto=47) / Raw(b"\x20\x00\x08\x00\x00")),
    "TRUNCATED_GRE")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2") / GRE(version=3, proto=0x0800) / payload(20)),
    "BAD_GRE_HEADER")
bad(l2_bytes() + bytes(IP(src="10.40.0.1", dst="10.40.0.2") / GRE(routing_present=1, proto=0x0800) / payload(20)),
    "BAD_GRE_HEADER")

# ---- write the capture and what each configuration must report ----
packets.sort(key=lambda p: p["time"])


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for p in packets:
            sec = int(p["time"])
            usec = int(round((p["time"] - sec) * 1e6))
            if usec == 1000000:
                sec, usec = sec + 1, 0
            f.write(struct.pack("<IIII", sec, usec, len(p["bytes"]), len(p["bytes"])))
            f.write(p["bytes"])


def expected_for(config):
    """Replays the capture through a model of the fragment map and the flow key."""
    keyed = CONFIGS[config]["key"]
    flows, reasons = {}, {}
    frag = {"fragments_first": 0, "fragments_later": 0, "fragments_attributed": 0,
            "fragments_unattributed": 0, "fragments_out_of_order": 0, "fragments_overlapping": 0,
            "fragments_untracked": 0, "fragment_map_replaced": 0}
    datagrams = {}
    metered_packets = metered_octets = 0
    for p in packets:
        what = p[config]
        if "reason" in what:
            reasons[what["reason"]] = reasons.get(what["reason"], 0) + 1
            continue
        reasons["OK"] = reasons.get("OK", 0) + 1
        f = dict(what["flow"])
        fi = what.get("frag")
        if fi is not None:
            ident = (fi["ver"], fi["src"], fi["dst"], fi["map_proto"], fi["id"])
            d = datagrams.get(ident)
            if fi["first"]:
                frag["fragments_first"] += 1
                if d is not None and not d["first_seen"]:
                    frag["fragments_out_of_order"] += 1
                if d is None:
                    d = datagrams[ident] = {"first_seen": False, "seen": set(), "end": 0, "last": False}
                d.update(first_seen=True, key=(f["protocol"], f["src_port"], f["dst_port"]))
            else:
                frag["fragments_later"] += 1
                if d is not None and d["first_seen"]:
                    f["protocol"], f["src_port"], f["dst_port"] = d["key"]
                    frag["fragments_attributed"] += 1
                else:
                    frag["fragments_unattributed"] += 1
                if d is None:
                    d = datagrams[ident] = {"first_seen": False, "seen": set(), "end": 0, "last": False}
            # The bytes seen (the capture has no datagram in more than 16 pieces).
            piece = set(range(fi["offset"], fi["offset"] + fi["len"]))
            if piece & d["seen"]:
                frag["fragments_overlapping"] += 1
            d["seen"] |= piece
            d["end"] = max(d["end"], fi["offset"] + fi["len"])
            d["last"] = d["last"] or not fi["more"]
            if d["last"] and len(d["seen"]) == d["end"]:
                del datagrams[ident]
        for field in ("vlan", "dscp", "mpls", "ingress_port"):
            if field not in keyed:
                f[field] = None     # not part of this configuration's key
        k = tuple(sorted(f.items()))
        e = flows.setdefault(k, [0, 0])
        e[0] += 1
        e[1] += what["octets"]
        metered_packets += 1
        metered_octets += what["octets"]
    return {
        "options": CONFIGS[config]["options"],
        "key_fields": list(keyed),
        "parse_results": dict(sorted(reasons.items())),
        "fragments": frag,
        "metered_packets": metered_packets,
        "metered_octets": metered_octets,
        "flows": [dict(k) | {"packets": v[0], "octets": v[1]} for k, v in sorted(flows.items(), key=str)],
    }


base = sys.argv[1] if len(sys.argv) > 1 else "groundtruth"
write_pcap(base + ".pcap")
expected = {"capture_packets": len(packets),
            "configs": {name: expected_for(name) for name in CONFIGS}}
with open(base + ".expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
if len(sys.argv) > 2:
    # Fuzz seeds: each distinct frame once, under the configuration byte that opens VXLAN
    # and puts every optional field in the key.
    os.makedirs(sys.argv[2], exist_ok=True)
    seen = set()
    for p in packets:
        if p["bytes"] in seen:
            continue
        seen.add(p["bytes"])
        with open(os.path.join(sys.argv[2], f"gt-{len(seen):04d}"), "wb") as f:
            f.write(bytes([0x1f]) + p["bytes"])
print(f"{len(packets)} packets -> {base}.pcap; " + ", ".join(
    f"{n}: {len(c['flows'])} flows, {c['metered_packets']} metered" for n, c in expected["configs"].items()))
