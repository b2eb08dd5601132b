#!/usr/bin/python3
"""Sends generated Ethernet/IPv4/UDP frames out of an interface through an AF_PACKET
socket, exactly as many as asked, and can write the same frames to a pcap file.

send_frames.py IFACE COUNT FLOWS [--src-net A.B] [--dst IP] [--both-directions] [--pcap FILE]
    [--part K/N] [--syn]
Flow f goes from A.B.(f>>8).(f&255):(10000 + f) to DST:4000 (UDP, 64-byte frames);
--syn makes each frame a TCP SYN instead (64 bytes with the Ethernet padding: a SYN flood
when every frame is a flow of its own);
--both-directions alternates each flow's forward and reverse packets (for RSS tests);
--part K/N sends only the K-th of N equal parts of the COUNT frames (K from 0); IFACE -
sends nothing (with --pcap: only writes the file).
"""
import argparse
import socket
import struct


def checksum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    return (~(t + (t >> 16))) & 0xFFFF


def frame(src, dst, sport, dport, size=64, syn=False):
    if syn:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
        proto, pad = 6, b"\0" * (size - 14 - 20 - len(l4))
    else:
        payload = b"\0" * (size - 14 - 20 - 8)
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        proto, pad = 17, b""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes.fromhex("020000000002" "020000000001" "0800") + ip + l4 + pad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("count", type=int)
    ap.add_argument("flows", type=int)
    ap.add_argument("--src-net", default="10.99")
    ap.add_argument("--dst", default="10.97.0.1")
    ap.add_argument("--both-directions", action="store_true")
    ap.add_argument("--pcap")
    ap.add_argument("--part", default="0/1")
    ap.add_argument("--syn", action="store_true")
    a = ap.parse_args()
    frames = []
    for i in range(a.count):
        f = (i // 2 if a.both_directions else i) % a.flows
        src = f"{a.src_net}.{f >> 8 & 255}.{f & 255}"
        sport = 10000 + f % 50000
        if a.both_directions and i % 2:
            frames.append(frame(a.dst, src, 4000, sport, syn=a.syn))
        else:
            frames.append(frame(src, a.dst, sport, 4000, syn=a.syn))
    if a.pcap:
        with open(a.pcap, "wb") as out:
            out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for n, fr in enumerate(frames):
                out.write(struct.pack("<IIII", 1700000000 + n // 1000, n % 1000 * 1000, len(fr), len(fr)) + fr)
    k, n = map(int, a.part.split("/"))
    if a.iface != "-":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((a.iface, 0))
        for fr in frames[k * len(frames) // n:(k + 1) * len(frames) // n]:
            s.send(fr)


main()
