#!/usr/bin/python3
"""Record-by-record agreement between tshark's IPFIX dissector and dpfix-dump --json on
one capture: same number of records, in the same order, and every field equal where
both decode it (tshark's name for each IANA element is in FIELDS below). A field one
side has and the other lacks is a failure too.

usage: ipfix_agreement.py CAPTURE udp|tcp PORT DUMP_JSON
Prints how many records and field values agreed; exits non-zero at the first
difference, naming the record, the field and both values."""

import datetime
import decimal
import ipaddress
import json
import os
import subprocess
import sys


def integer(ours, theirs):
    return int(ours) == int(theirs, 0)


def address(ours, theirs):
    return ipaddress.ip_address(ours) == ipaddress.ip_address(theirs)


def ns_of_ours(text):
    """dpfix's dateTime rendering: 2025-11-22T08:26:40.016Z (fraction optional)."""
    base, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def ns_of_tshark(text):
    """tshark's absolute time: Nov 22, 2025 08:26:40.016000000 UTC."""
    if not text.endswith(" UTC"):
        raise ValueError(f"tshark time not in UTC: {text}")
    base, _, frac = text[:-4].partition(".")
    t = datetime.datetime.strptime(base, "%b %d, %Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def abs_time(ours, theirs):
    return ns_of_ours(ours) == ns_of_tshark(theirs)


def uptime_ms(ours, theirs):
    """flowStart/EndSysUpTime: ours in milliseconds, tshark's in seconds."""
    return decimal.Decimal(int(ours)) == decimal.Decimal(theirs) * 1000


def text(ours, theirs):
    return ours == theirs


def hex_bytes(ours, theirs):
    """flowKeyIndicator: tshark shows the 8 bytes as 00:..:9f."""
    return int(ours) == int(theirs.replace(":", ""), 16)


def type_code(ours, theirs):
    """icmpTypeCodeIPv6: tshark shows the type and the code as two fields."""
    icmp_type, code = theirs
    return int(ours) == int(icmp_type, 0) << 8 | int(code, 0)


# IANA element name -> (tshark field, how to compare).
def mpls_section(ours, theirs):
    """Our hex octets (label << 4 | TC << 1 | S) against tshark's three subfields."""
    label, exp, bos = (int(v) for v in theirs)
    return int(ours, 16) == label << 4 | exp << 1 | bos


FIELDS = {
    "sourceIPv4Address": ("cflow.srcaddr", address),
    "destinationIPv4Address": ("cflow.dstaddr", address),
    "sourceIPv6Address": ("cflow.srcaddrv6", address),
    "destinationIPv6Address": ("cflow.dstaddrv6", address),
    "sourceTransportPort": ("cflow.srcport", integer),
    "destinationTransportPort": ("cflow.dstport", integer),
    "protocolIdentifier": ("cflow.protocol", integer),
    "ipClassOfService": ("cflow.tos", integer),
    "tcpControlBits": ("cflow.tcpflags", integer),
    "icmpTypeCodeIPv4": ("cflow.icmp_type_code_ipv4", integer),
    "icmpTypeCodeIPv6": (("cflow.icmp_ipv6_type", "cflow.icmp_ipv6_code"), type_code),
    "vlanId": ("cflow.vlanid", integer),
    "ingressInterface": ("cflow.inputint", integer),
    "egressInterface": ("cflow.outputint", integer),
    "minimumTTL": ("cflow.ttl_min", integer),
    "maximumTTL": ("cflow.ttl_max", integer),
    "octetDeltaCount": ("cflow.octets", integer),
    "packetDeltaCount": ("cflow.packets", integer),
    "flowStartMilliseconds": ("cflow.abstimestart", abs_time),
    "flowEndMilliseconds": ("cflow.abstimeend", abs_time),
    "flowStartSysUpTime": ("cflow.timestart", uptime_ms),
    "flowEndSysUpTime": ("cflow.timeend", uptime_ms),
    "flowEndReason": ("cflow.flow_end_reason", integer),
    "mplsTopLabelStackSection": (("cflow.mpls_label", "cflow.mpls_exp", "cflow.mpls_bos"),
                                 mpls_section),
    "flowDirection": ("cflow.direction", integer),
    "ipVersion": ("cflow.ip_version", integer),
    "meteringProcessId": ("cflow.mp_id", integer),
    "systemInitTimeMilliseconds": ("cflow.sys_init_time", abs_time),
    "samplingPacketInterval": ("cflow.sampling_packet_interval", integer),
    "samplingPacketSpace": ("cflow.sampling_packet_space", integer),
    "selectorAlgorithm": ("cflow.selector_algorithm", integer),
    "interfaceName": ("cflow.if_name", text),
    # The probe's options records (RFC 7011 section 4 and interface names).
    "interfaceDescription": ("cflow.if_descr", text),
    "observationDomainId": ("cflow.od_id", integer),
    "exportingProcessId": ("cflow.flow_exporter", integer),
    "exportedMessageTotalCount": ("cflow.packetsexp", integer),
    "exportedFlowRecordTotalCount": ("cflow.flowsexp", integer),
    "exportedOctetTotalCount": ("cflow.octetsexp", integer),
    "ignoredPacketTotalCount": ("cflow.ignore_packets", integer),
    "ignoredOctetTotalCount": ("cflow.ignore_octets", integer),
    "notSentFlowTotalCount": ("cflow.notsent_flows", integer),
    "notSentPacketTotalCount": ("cflow.notsent_packets", integer),
    "notSentOctetTotalCount": ("cflow.notsent_octets", integer),
    "templateId": ("cflow.template_id", integer),
    "flowKeyIndicator": ("cflow.post_key", hex_bytes),
}
# tshark's derived values (a duration, flag bits): not elements of the record.
DERIVED = {"cflow.timedelta", "cflow.tcpflags_tree", "cflow.if_name_tree", "cflow.if_descr_tree"}


def flatten(pairs):
    """A tshark "Flow N" object as one dict; the start/end times sit in a subtree."""
    flat = {}
    for key, value in pairs:
        if key == "cflow.timedelta_tree" or key.startswith("MPLS-Label"):
            flat.update(flatten(value))   # subtrees: times; MPLS label, exp, bottom
        elif key in DERIVED or key.startswith("_ws."):
            continue
        elif key in flat:
            raise ValueError(f"tshark shows {key} twice in one record")
        else:
            flat[key] = value
    return flat


def tshark_records(capture, proto, port):
    env = dict(os.environ, TZ="UTC")
    out = subprocess.run(["tshark", "-r", capture, "-d", f"{proto}.port=={port},cflow",
                          "-T", "json", "-J", "cflow"],
                         capture_output=True, text=True, check=True, env=env).stdout
    records = []
    # Pairs, not dicts: a frame may hold several cflow layers (TCP), keys repeat.
    for frame in json.loads(out, object_pairs_hook=list):
        source = dict(frame)["_source"]
        for layer, value in dict(source)["layers"]:
            if layer != "cflow":
                continue
            for set_key, set_value in value:
                if not set_key.startswith("Set "):
                    continue
                for key, flow in set_value:
                    if key.startswith("Flow "):
                        records.append(flatten(flow))
    return records


def main():
    capture, proto, port, dump_json = sys.argv[1:5]
    theirs = tshark_records(capture, proto, port)
    ours = [json.loads(line) for line in open(dump_json)]
    if len(ours) != len(theirs):
        sys.exit(f"dpfix-dump decoded {len(ours)} records, tshark {len(theirs)}")
    compared = 0
    for i, (mine, their) in enumerate(zip(ours, theirs), 1):
        used = set()
        for name, value in mine.items():
            if name not in FIELDS:
                sys.exit(f"record {i}: no tshark field known for {name}: add it to FIELDS")
            tnames, same = FIELDS[name]
            tnames = tnames if isinstance(tnames, tuple) else (tnames,)
            for tname in tnames:
                if tname not in their:
                    sys.exit(f"record {i}: tshark does not show {name} ({tname}); "
                             f"it has {sorted(their)}")
            tvalue = their[tnames[0]] if len(tnames) == 1 else [their[t] for t in tnames]
            if not same(value, tvalue):
                sys.exit(f"record {i}: {name}: dpfix-dump {value!r}, tshark {tvalue!r}")
            used.update(tnames)
            compared += 1
        extra = set(their) - used
        if extra:
            sys.exit(f"record {i}: tshark decodes {sorted(extra)} that dpfix-dump does not")
    print(f"tshark and dpfix-dump agree: {len(ours)} records, {compared} field values")


if __name__ == "__main__":
    main()
