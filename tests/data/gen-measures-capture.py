#!/usr/bin/python3
# Generates a capture for the measures (issue 16) and the exact values a correct probe
# exports for it with `measures = tcp,http,tls,dns,app,lengths,tunnel,rtp` and
# vxlan_inner, as uniflows and as biflows. Every value comes from how a packet was
# built (its time, length, flags, the text put in it), not from reading it back:
#   HTTP/1.1 over TCP with a known handshake (SYN, SYN/ACK 1.5 ms later, ACK 0.75 ms
#   after), request with Host and User-Agent, response 200; a second with a User-Agent
#   longer than its bound; a TLS ClientHello with SNI, ALPN and supported_versions (and
#   GREASE); DNS over UDP (NXDOMAIN) and over TCP; SSH banners; a QUIC Initial; an RTP
#   stream each way with jittered arrivals (jitter by RFC 3550 A.8's recurrence in ns);
#   an inner flow of VXLAN 5001; GRE with a key; and payloads that lie or are cut short:
#   a ClientHello cut before its extensions, a DNS name pointing forward, an HTTP/9.9
#   request line.
# usage: gen-measures-capture.py BASE [SEED_DIR]  -> BASE.pcap, BASE.expected.json; with
#        SEED_DIR, the first frames with payload of each flow also become seeds of
#        fuzz_parse there (first byte: the configuration that opens VXLAN).
import json
import os
import struct
import sys

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap
from scapy.layers.l2 import GRE
from scapy.layers.vxlan import VXLAN

T0_US = 1763800000 * 1000000
E = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
PAYLOAD_PACKETS = 4

packets = []    # (time_us, scapy packet, direction record)


class Conn:
    """One connection: its packets, and what each direction's record and the whole
    connection must carry (the direction that sent the first packet is 'fwd')."""

    def __init__(self, proto, client, server, cport, sport):
        self.proto, self.client, self.server, self.cport, self.sport = proto, client, server, cport, sport
        self.pk = []            # (time_us, from_client, ip_len, flags, payload_len)
        self.values = {True: {}, False: {}}     # content values per sender: client, server
        self.connection = {}    # connection-level values (both in one biflow record)
        self.initiator = {}     # values only the initiator's uniflow record carries
        self.app = None

    def send(self, t_us, from_client, flags=0, data=b""):
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
        if self.proto == 6:
            l4 = TCP(sport=sp, dport=dp, flags=flags, seq=1000, ack=1, window=65535)
        else:
            l4 = UDP(sport=sp, dport=dp)
        p = Ether(**E) / IP(src=src, dst=dst, ttl=64) / l4 / Raw(data)
        packets.append((t_us, p))
        self.pk.append((t_us, from_client, len(p[IP]), flags, len(data)))


conns = []


def conn(*a):
    c = Conn(*a)
    conns.append(c)
    return c


F, S, R, P, A, U = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def handshake(c, t, syn_synack_us, synack_ack_us):
    c.send(t, True, S)
    c.send(t + syn_synack_us, False, S | A)
    c.send(t + syn_synack_us + synack_ack_us, True, A)
    c.initiator["tcpServerRoundTripMicroseconds"] = syn_synack_us
    c.initiator["tcpClientRoundTripMicroseconds"] = synack_ack_us
    return t + syn_synack_us + synack_ack_us


def app(engine, selector):
    return "%02x%06x" % (engine, selector)


HTTP, TLS, DNS, SSH, QUIC = (app(13, i) for i in range(1, 6))

# HTTP with a known handshake.
c = conn(6, "10.1.0.1", "192.0.2.10", 40001, 8080)
t = handshake(c, T0_US, 1500, 750)
req = (b"GET /index.html?lang=en HTTP/1.1\r\nHost: www.example.com\r\n"
       b"User-Agent: dpfix-test/1.0\r\nAccept: */*\r\n\r\n")
c.send(t + 1000, True, P | A, req)
c.send(t + 8000, False, P | A, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
c.send(t + 9000, True, A)
c.send(t + 19000, True, F | A)
c.send(t + 20000, False, F | A)
c.send(t + 21000, True, A)
c.values[True] = {"httpRequestMethod": "GET", "httpRequestHost": "www.example.com",
                  "httpRequestTarget": "/index.html?lang=en", "httpUserAgent": "dpfix-test/1.0"}
c.values[False] = {"httpStatusCode": 200}
c.app = HTTP

# HTTP whose User-Agent is longer than its bound (127): cut, and counted.
c = conn(6, "10.1.0.11", "192.0.2.10", 40011, 80)
ua = "Mozilla/5.0 " + "x" * 200
c.send(T0_US + 50000, True, P | A,
       b"POST /upload HTTP/1.0\r\nUser-Agent: " + ua.encode() + b"\r\nHost: up.example.com\r\n\r\n")
c.send(T0_US + 51000, False, P | A, b"HTTP/1.0 404 Not Found\r\n\r\n")
c.values[True] = {"httpRequestMethod": "POST", "httpRequestHost": "up.example.com",
                  "httpRequestTarget": "/upload", "httpUserAgent": ua[:127]}
c.values[False] = {"httpStatusCode": 404}
c.app = HTTP


def tls_client_hello(sni, alpns, versions):
    def ext(typ, body):
        return struct.pack("!HH", typ, len(body)) + body
    name = sni.encode()
    exts = ext(0x1a1a, b"")
    exts += ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    protos = b"".join(bytes([len(a)]) + a.encode() for a in alpns)
    exts += ext(16, struct.pack("!H", len(protos)) + protos)
    exts += ext(43, bytes([2 * len(versions)]) + b"".join(struct.pack("!H", v) for v in versions))
    body = struct.pack("!H", 0x0303) + bytes(range(32)) + b"\x20" + bytes(32)
    body += struct.pack("!H", 6) + struct.pack("!HHH", 0x1301, 0x1302, 0xc02f) + b"\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


# TLS: ClientHello, the server's handshake record, then a reset.
c = conn(6, "10.1.0.2", "192.0.2.20", 40002, 443)
t = handshake(c, T0_US + 100000, 333, 111)
c.send(t + 200, True, P | A, tls_client_hello("secure.example.org", ["h2", "http/1.1"],
                                              [0x2a2a, 0x0304, 0x0303]))
c.send(t + 900, False, P | A, b"\x16\x03\x03\x00\x30\x02\x00\x00\x2c" + bytes(44))
c.send(t + 1500, True, R | A)
c.values[True] = {"TLSSNI": "secure.example.org", "tlsAlpn": "h2", "tlsClientVersion": 0x0304}
c.app = TLS


def dns_message(qid, flags, name, qtype, tcp=False):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    m = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)
    return struct.pack("!H", len(m)) + m if tcp else m


# DNS over UDP: a query and an NXDOMAIN.
c = conn(17, "10.1.0.3", "192.0.2.53", 5353, 53)
c.send(T0_US + 200000, True, data=dns_message(7, 0x0100, "www.example.net", 1))
c.send(T0_US + 204200, False, data=dns_message(7, 0x8183, "www.example.net", 1))
c.values[True] = {"DNSName": "www.example.net", "DNSQType": 1}
c.values[False] = {"DNSName": "www.example.net", "DNSQType": 1, "DNSRCode": 3}
c.app = DNS

# DNS over TCP.
c = conn(6, "10.1.0.4", "192.0.2.53", 40004, 53)
t = handshake(c, T0_US + 300000, 2000, 1000)
c.send(t + 100, True, P | A, dns_message(9, 0x0100, "ipv6.example.com", 28, tcp=True))
c.send(t + 3000, False, P | A, dns_message(9, 0x8180, "ipv6.example.com", 28, tcp=True))
c.values[True] = {"DNSName": "ipv6.example.com", "DNSQType": 28}
c.values[False] = {"DNSName": "ipv6.example.com", "DNSQType": 28, "DNSRCode": 0}
c.app = DNS

# SSH: both banners, the server's first.
c = conn(6, "10.1.0.5", "192.0.2.22", 40005, 22)
t = handshake(c, T0_US + 400000, 500, 250)
c.send(t + 1000, False, P | A, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
c.send(t + 2000, True, P | A, b"SSH-2.0-dpfix-test\r\n")
c.app = SSH

# QUIC: a client Initial (version 1).
c = conn(17, "10.1.0.6", "192.0.2.30", 40006, 443)
c.send(T0_US + 500000, True, data=b"\xc3\x00\x00\x00\x01\x08" + bytes(range(8)) + b"\x00\x00" + bytes(40))
c.app = QUIC


def rtp_packet(seq, ts, ssrc, pt):
    return struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + bytes(160)


def jitter_us(arrivals_us, stamps, rate):
    """RFC 3550 A.8 on transit times in ns, as the probe computes it; microseconds."""
    j16 = 0
    for i in range(1, len(arrivals_us)):
        d = (arrivals_us[i] - arrivals_us[i - 1]) * 1000 - \
            (stamps[i] - stamps[i - 1]) * 1000000000 // rate
        j16 += abs(d) - ((j16 + 8) >> 4)
    return (j16 >> 4) // 1000


# RTP both ways: PCMU (8 kHz) from the client with arrivals off by up to 2.9 ms, PCMA
# from the server off by up to 0.5 ms; and an RTCP packet on the same ports.
c = conn(17, "10.1.0.7", "192.0.2.40", 16384, 16386)
arr_c, ts_c, arr_s, ts_s = [], [], [], []
for i in range(60):
    a = T0_US + 600000 + i * 20000 + (i * 7919) % 2900
    arr_c.append(a)
    ts_c.append(1000 + 160 * i)
    c.send(a, True, data=rtp_packet(i, ts_c[-1], 0x11223344, 0))
    a = T0_US + 605000 + i * 20000 + (i * 104729) % 500
    arr_s.append(a)
    ts_s.append(50000 + 160 * i)
    c.send(a, False, data=rtp_packet(1000 + i, ts_s[-1], 0x55667788, 8))
c.send(T0_US + 600000 + 60 * 20000, True, data=b"\x80\xc8\x00\x06" + bytes(24))
c.values[True] = {"rfc3550JitterMicroseconds": jitter_us(arr_c, ts_c, 8000)}
c.values[False] = {"rfc3550JitterMicroseconds": jitter_us(arr_s, ts_s, 8000)}

# Payloads that lie or are cut short: each counted, none taken.
c = conn(6, "10.1.0.8", "192.0.2.20", 40008, 443)
ch = tls_client_hello("cut.example.org", ["h2"], [0x0304])
c.send(T0_US + 2000000, True, P | A, ch[:60])          # cut before its extensions
c = conn(17, "10.1.0.9", "192.0.2.53", 5000, 53)
bad = bytearray(dns_message(3, 0x0100, "x.example", 1))
bad[12:14] = b"\xc0\x40"                                # a pointer forward
c.send(T0_US + 2100000, True, data=bytes(bad))
c = conn(6, "10.1.0.10", "192.0.2.10", 40010, 80)
c.send(T0_US + 2200000, True, P | A, b"GET /x HTTP/9.9\r\nHost: h\r\n\r\n")

# Not connections of their own: an inner flow of VXLAN 5001, and GRE with a key.
tunnels = []
for i in range(3):
    t = T0_US + 3000000 + i * 1000
    inner = Ether(**E) / IP(src="10.2.0.1", dst="10.2.0.2", ttl=64) / UDP(sport=1000, dport=2000) / Raw(bytes(20 + i))
    p = Ether(**E) / IP(src="172.16.0.1", dst="172.16.0.2", ttl=64) / UDP(sport=50000, dport=4789) / VXLAN(vni=5001) / inner
    packets.append((t, p))
    tunnels.append(len(inner[IP]))
gre_lens = []
for i in range(2):
    p = Ether(**E) / IP(src="172.16.1.1", dst="172.16.1.2", ttl=64) / GRE(key_present=1, key=0x01020304, proto=0x0800) / IP(src="10.3.0.1", dst="10.3.0.2") / Raw(bytes(10))
    packets.append((T0_US + 3100000 + i * 1000, p))
    gre_lens.append(len(p[IP]))

packets.sort(key=lambda x: x[0])
for t, p in packets:
    p.time = t / 1000000          # exact: pcap keeps microseconds
wrpcap(sys.argv[1] + ".pcap", [p for _, p in packets])
if len(sys.argv) > 2:
    os.makedirs(sys.argv[2], exist_ok=True)
    seen, per_flow = set(), {}
    for _, p in packets:
        b, flow = bytes(p), (p[IP].src, p[IP].dst, p[IP].proto, bytes(p[IP].payload)[:4])
        per_flow[flow] = per_flow.get(flow, 0) + 1
        if Raw not in p or b in seen or per_flow[flow] > 3:
            continue
        seen.add(b)
        with open(os.path.join(sys.argv[2], f"measures-{len(seen):03d}"), "wb") as f:
            f.write(bytes([0x10]) + b)

# ---- the truth ----

ZERO_TCP = {k: 0 for k in ("tcpSynTotalCount", "tcpFinTotalCount", "tcpRstTotalCount",
                           "tcpPshTotalCount", "tcpAckTotalCount", "tcpUrgTotalCount")}
FLAG_KEYS = [(S, "tcpSynTotalCount"), (F, "tcpFinTotalCount"), (R, "tcpRstTotalCount"),
             (P, "tcpPshTotalCount"), (A, "tcpAckTotalCount"), (U, "tcpUrgTotalCount")]
EMPTY = {"httpRequestMethod": "", "httpRequestHost": "", "httpRequestTarget": "",
         "httpUserAgent": "", "httpStatusCode": 0, "TLSSNI": "", "tlsAlpn": "",
         "tlsClientVersion": 0, "DNSName": "", "DNSQType": 0, "DNSRCode": 0,
         "tcpServerRoundTripMicroseconds": 0, "tcpClientRoundTripMicroseconds": 0,
         "layer2SegmentId": 0, "greKey": 0, "tunnelSourceIPv6Address": "::",
         "tunnelDestinationIPv6Address": "::", "rfc3550JitterMicroseconds": 0}


def direction(pk, prefix=""):
    """Counters of one direction's packets, as (reverse) element values."""
    v = {}
    for bit, k in FLAG_KEYS:
        v[k] = sum(1 for p in pk if p[3] & bit)
    if pk:
        v["minimumIpTotalLength"] = min(p[2] for p in pk)
        v["maximumIpTotalLength"] = max(p[2] for p in pk)
        v["flowDurationMicroseconds"] = pk[-1][0] - pk[0][0]
    else:
        v.update(minimumIpTotalLength=0, maximumIpTotalLength=0, flowDurationMicroseconds=0)
    if prefix:
        return {prefix + k[0].upper() + k[1:]: x for k, x in v.items()}
    return v


def lower_port_app(c):
    return app(3, min(c.cport, c.sport))


uni, bi = {}, {}
payloads_read = 0
for c in conns:
    by_dir = {d: [p for p in c.pk if p[1] == d] for d in (True, False)}
    for d in (True, False):
        payloads_read += sum(1 for p in by_dir[d][:PAYLOAD_PACKETS] if p[4] > 0)
    first = c.pk[0][1]
    for d in (True, False):
        if not by_dir[d]:
            continue
        key = [c.client, c.server, c.cport, c.sport] if d else [c.server, c.client, c.sport, c.cport]
        rec = dict(EMPTY)
        rec.update(direction(by_dir[d]))
        rec.update(c.values[d])
        if d == first:
            rec.update(c.initiator)
        # Every direction of a connection with an application sends content saying so.
        rec["applicationId"] = c.app or lower_port_app(c)
        uni[" ".join(map(str, key + [c.proto]))] = rec
    key = [c.client, c.server, c.cport, c.sport] if first else [c.server, c.client, c.sport, c.cport]
    rec = dict(EMPTY)
    rec.update(direction(by_dir[first]))
    rec.update(direction(by_dir[not first], "reverse"))
    rec.update(c.values[not first])
    rec.update(c.values[first])
    rec.update(c.initiator)
    rec["applicationId"] = c.app or lower_port_app(c)
    if "rfc3550JitterMicroseconds" in c.values[not first]:
        rec["rfc3550JitterMicroseconds"] = c.values[first]["rfc3550JitterMicroseconds"]
        rec["reverseRfc3550JitterMicroseconds"] = c.values[not first]["rfc3550JitterMicroseconds"]
    bi[" ".join(map(str, key + [c.proto]))] = rec

# The one-way flows: the VXLAN inner flow, GRE.
times = [T0_US + 3000000 + i * 1000 for i in range(3)]
inner = dict(EMPTY, **ZERO_TCP, minimumIpTotalLength=min(tunnels), maximumIpTotalLength=max(tunnels),
             flowDurationMicroseconds=2000, layer2SegmentId=1 << 56 | 5001,
             tunnelSourceIPv6Address="::ffff:172.16.0.1",
             tunnelDestinationIPv6Address="::ffff:172.16.0.2", applicationId=app(3, 1000))
gre = dict(EMPTY, **ZERO_TCP, minimumIpTotalLength=min(gre_lens), maximumIpTotalLength=max(gre_lens),
           flowDurationMicroseconds=1000, greKey=0x01020304, applicationId=app(1, 47))
payloads_read += 3              # the inner UDP datagrams carry payload
for table in (uni, bi):
    table["10.2.0.1 10.2.0.2 1000 2000 17"] = dict(inner)
    table["172.16.1.1 172.16.1.2 0 0 47"] = dict(gre)
for k, rec in bi.items():
    for key in list(rec):
        if key in ("minimumIpTotalLength", "maximumIpTotalLength", "flowDurationMicroseconds") \
                or key in ZERO_TCP or key == "rfc3550JitterMicroseconds":
            rec.setdefault("reverse" + key[0].upper() + key[1:], 0)

counters = {"HTTP_REQUEST": 2, "HTTP_RESPONSE": 2, "TLS_CLIENT_HELLO": 1, "DNS_MESSAGE": 4,
            "TRUNCATED_HTTP": 0, "BAD_HTTP": 1, "TRUNCATED_TLS": 1, "BAD_TLS": 0,
            "TRUNCATED_DNS": 0, "BAD_DNS": 1, "malformed_payloads": 3,
            "payloads_read": payloads_read, "values_cut": 1, "counts_saturated": 0}
json.dump({"uniflow": uni, "biflow": bi, "counters": counters}, open(sys.argv[1] + ".expected.json", "w"),
          indent=1, sort_keys=True)
