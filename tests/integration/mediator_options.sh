#!/usr/bin/env bash
# The Mediator's options records (RFC 7119 6, issue 13): its own Exporting Process
# Reliability Statistics tell the collector the records it could not send, and the
# exporters' options records go on with their scope mapped into a merged observation
# domain. The probe exports the bundled capture over UDP to dpfix-mediator
# (observation_domain = 7, a 4 KiB backlog), which exports over TCP to dpfix-collector.
# The collector stops; the probe exports the capture again, so the Mediator's backlog
# overflows; a collector comes back on the same port and gets what the backlog held.
# Every record handed to the Exporting Process reached one of the two collectors or is
# counted (records_lost, backlog_drops); the last reliability record the collector got
# says exactly that many; the Mediator exits 2. Then records the Mediator loses itself
# (too long to pass on) show in its own Metering Process Reliability record.
source "$(dirname "$0")/lib.sh"

cport=$(free_port)
mport=$(free_port)
run_probe() {
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "udp://127.0.0.1:$mport" >"$WORK/probe$1.stdout" 2>&1 ||
		fail "probe $1 exited with $?: $(tail -3 "$WORK/probe$1.stdout")"
}
start_collector_at "tcp://127.0.0.1:$cport" "$WORK/first" --json "$WORK/first.json" --quiet
start_mediator "$WORK/mediator" --listen "udp://127.0.0.1:$mport" --collector "tcp://127.0.0.1:$cport" \
	--observation-domain 7 --backlog-memory 4096
# The Mediator's session to the collector holds data for its first 0.5 s (lib/export's
# probation): records that come then wait in the backlog, which is small here on purpose.
# The probe's whole export comes in one burst, and on a loaded machine it came within
# that time and overflowed the backlog (30 of 114 records, 8 runs in 12 four at once):
# the first export starts once the session is past its probation.
wait_for_text "$WORK/first.stderr" "new session from" 10
sleep 1
run_probe 1
wait_for_flows "$WORK/first.json" "$(expected flows)"
stop_collector
wait_for_text "$WORK/mediator.stderr" "tcp://127.0.0.1:$cport.*\(down\|lost\|closed\)" 10
run_probe 2
wait_for_text "$WORK/mediator.stderr" "backlog of records waiting for a session is full" 10
start_collector_at "tcp://127.0.0.1:$cport" "$WORK/second" --json "$WORK/second.json" --quiet
wait_for_text "$WORK/mediator.stderr" "resumed on" 30
stop_mediator 2
wait_for_close "$WORK/second"
stop_collector

$PY - "$WORK/first.json" "$WORK/second.json" "$WORK/mediator.stdout" <<'PYEOF' || fail "options records"
import json, sys
records = [json.loads(l) for path in sys.argv[1:3] for l in open(path)]
summary = [l.split() for l in open(sys.argv[3])]
def counter(name, section=0):
    """The Mediator's counter; section 1: the first collector's."""
    seen = 0
    for words in summary:
        if words and words[0] == "collector":
            seen += 1
        if len(words) == 2 and words[0] == name and seen == section:
            return int(words[1])
    sys.exit(f"no counter {name}")
drops, lost = counter("backlog_drops", 1), counter("records_lost", 1)
if drops == 0:
    sys.exit("the backlog dropped nothing: the test shows nothing")
# What each collector got of what the Mediator handed to its Exporting Process (data
# records and the probe's options records it passed on).
handed = counter("records_out") + counter("options_forwarded")
passed = [r for r in records if "originalObservationDomainId" in r]
if len(passed) != handed - drops - lost:
    sys.exit(f"the collectors got {len(passed)} records, the Mediator handed on {handed} "
             f"and reports {drops} dropped from its backlog and {lost} lost")
own = [r for r in records if "notSentFlowTotalCount" in r and "originalObservationDomainId" not in r]
if not own or own[-1]["notSentFlowTotalCount"] != drops + lost:
    sys.exit(f"the Mediator's last Exporting Process Reliability record: "
             f"{own[-1] if own else None}, want notSentFlowTotalCount {drops + lost}")
# The probe's Metering Process Reliability Statistics, scoped by its observation domain:
# now the merged domain 7, the probe's own domain in originalObservationDomainId.
probe_mr = [r for r in passed if "ignoredPacketTotalCount" in r]
if not probe_mr or any((r["observationDomainId"], r["originalObservationDomainId"]) != (7, 1)
                       for r in probe_mr):
    sys.exit(f"the probe's metering reliability records as passed on: {probe_mr}")
print(f"{len(passed)} of {handed} records through, {drops} dropped from the backlog and "
      f"{lost} lost, as the last of {len(own)} reliability records says; the probe's "
      f"{len(probe_mr)} metering reliability records in domain 7")
PYEOF
echo "mediator_options: ok"

# The Mediator's own Metering Process Reliability Statistics: records it loses itself
# (here: longer than it passes on, 4076 octets) are counted with their packets and
# octets, and those go downstream in its record for the domain (RFC 7011 4.2).
cport=$(free_port)
mport=$(free_port)
start_collector "$cport" "$WORK/long-collector" --json "$WORK/long.json" --quiet
start_mediator "$WORK/long-mediator" --listen "udp://127.0.0.1:$mport" --collector "udp://127.0.0.1:$cport"
$PY - "$mport" <<'PYEOF' || fail "could not send the long records"
import socket, struct, sys, time
def record(addr, packets, octets, name):
    n = len(name)
    size = bytes([n]) if n < 255 else b"\xff" + struct.pack(">H", n)
    return socket.inet_aton(addr) + struct.pack(">QQ", packets, octets) + size + name
# Template 300: sourceIPv4Address, packetDeltaCount, octetDeltaCount, interfaceName (varlen).
template = struct.pack(">HH", 300, 4) + struct.pack(">HHHHHHHH", 8, 4, 2, 8, 1, 8, 82, 65535)
records = (record("192.0.2.1", 3, 300, b"eth0") + record("192.0.2.2", 7, 700, b"x" * 5000) +
           record("192.0.2.3", 7, 700, b"y" * 5000))
sets = struct.pack(">HH", 2, 4 + len(template)) + template + struct.pack(">HH", 300, 4 + len(records)) + records
msg = struct.pack(">HHIII", 10, 16 + len(sets), int(time.time()), 0, 5) + sets
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(msg, ("127.0.0.1", int(sys.argv[1])))
PYEOF
wait_for_flows "$WORK/long.json" 1
stop_mediator 2
stop_collector
[ "$(counter "$WORK/long-mediator.stdout" records_too_long)" = 2 ] ||
	fail "records_too_long $(counter "$WORK/long-mediator.stdout" records_too_long), want 2"
$PY - "$WORK/long.json" <<'PYEOF' || fail "the Mediator's metering reliability record"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
flows = [r for r in records if "octetDeltaCount" in r]
if [(r["sourceIPv4Address"], r["interfaceName"]) for r in flows] != [("192.0.2.1", "eth0")]:
    sys.exit(f"flow records: {flows}")
own = [r for r in records if "ignoredPacketTotalCount" in r]
if not own or (own[-1]["observationDomainId"], own[-1]["ignoredPacketTotalCount"],
               own[-1]["ignoredOctetTotalCount"]) != (5, 14, 1400):
    sys.exit(f"the Mediator's Metering Process Reliability records: {own}")
print("2 records too long to pass on: 14 packets, 1400 octets in the Mediator's own "
      "Metering Process Reliability record")
PYEOF
echo "mediator_options: ok (long records)"
