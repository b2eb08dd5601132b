#!/usr/bin/python3
"""flows_exact.py RECORDS.json EXPECTED.json [ORIGIN_ADDRESS ORIGIN_DOMAIN]

Every flow of the bundled capture's ground truth (EXPECTED's flow_list) is in the
collector's --json RECORDS exactly once with its packets and octets; with ORIGIN, every
flow record also carries originalExporterIPv4Address (or IPv6) ORIGIN_ADDRESS and
originalObservationDomainId ORIGIN_DOMAIN, as a Mediator adds them (RFC 7119)."""
import json
import sys


def key_of_record(r):
    v6 = "sourceIPv6Address" in r
    src = r["sourceIPv6Address" if v6 else "sourceIPv4Address"]
    dst = r["destinationIPv6Address" if v6 else "destinationIPv4Address"]
    icmp = r.get("icmpTypeCodeIPv6" if v6 else "icmpTypeCodeIPv4", 0)
    dport = icmp if r["protocolIdentifier"] in (1, 58) else r["destinationTransportPort"]
    return (6 if v6 else 4, src, dst, r["protocolIdentifier"], r["sourceTransportPort"], dport)


def main():
    records = [r for r in map(json.loads, open(sys.argv[1])) if "octetDeltaCount" in r]
    expected = json.load(open(sys.argv[2]))["flow_list"]
    origin = sys.argv[3:5]
    got = {}
    for r in records:
        k = key_of_record(r)
        if k in got:
            sys.exit(f"flow {k} exported twice")
        got[k] = (r["packetDeltaCount"], r["octetDeltaCount"])
        if origin:
            address = r.get("originalExporterIPv4Address", r.get("originalExporterIPv6Address"))
            if [address, str(r.get("originalObservationDomainId"))] != origin:
                sys.exit(f"flow {k}: original exporter {address} domain "
                         f"{r.get('originalObservationDomainId')}, want {origin}")
    want = {(f["ip_version"], f["src"], f["dst"], f["protocol"], f["src_port"], f["dst_port"]):
            (f["packets"], f["octets"]) for f in expected}
    missing = set(want) - set(got)
    extra = set(got) - set(want)
    wrong = [k for k in want if k in got and got[k] != want[k]]
    if missing or extra or wrong:
        sys.exit(f"missing {sorted(missing)[:3]} extra {sorted(extra)[:3]} "
                 f"wrong {[(k, got[k], want[k]) for k in wrong[:3]]}")
    print(f"{len(got)} flows match exactly" + (f", each from {origin[0]} domain {origin[1]}"
                                                if origin else ""))


main()
