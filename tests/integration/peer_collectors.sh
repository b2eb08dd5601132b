#!/usr/bin/env bash
# Third-party collectors read what the probe exports: the probe meters the bundled
# capture and exports IPFIX/UDP to nfdump's nfcapd and to pmacct's nfacctd, as uniflows,
# as RFC 5103 biflows, and as uniflows of a 1-in-2 systematic packet selection (PSAMP).
# Each tool's per-flow records (addresses, ports, protocol, packets, octets, first/last
# times) must equal the capture's ground truth (for the selection: that of the packets
# the rule selects), and neither may log an error about the export: flow templates, the
# options records of RFC 7011 section 4, interface names, reverse elements (PEN 29305),
# PSAMP reports (RFC 5476) and selectorId. Where a tool is known to misread our export,
# doc/peer-collectors.md has the evidence, and the check below is narrowed to exactly
# that.
source "$(dirname "$0")/lib.sh"

export TZ=UTC   # both tools print local times
GROUPS_TO_KILL=()
kill_groups() {
	for g in "${GROUPS_TO_KILL[@]}"; do kill -9 -- "-$g" 2>/dev/null || true; done
	cleanup
}
trap kill_groups EXIT

# nfcapd writes its flow file when it stops on SIGTERM (ENVIRONMENT-NOTES section 4).
start_nfcapd() {
	local name=$1 port=$2
	mkdir -p "$WORK/$name"
	nfcapd -p "$port" -b 127.0.0.1 -w "$WORK/$name" -t 60 >"$WORK/$name.log" 2>&1 &
	PID_OF[$name]=$!
	PIDS+=("${PID_OF[$name]}")
	wait_for_text "$WORK/$name.log" "Startup nfcapd" 10
}

# nfacctd forks a plugin process and a child per cache purge. Its core ignores SIGTERM;
# SIGINT is its orderly stop (final purge, then every process exits). It runs in a
# process group of its own so that nothing can outlive the test: the group is killed
# with SIGKILL on any exit, and must be empty after the orderly stop.
start_nfacctd() {
	local name=$1 port=$2
	cat >"$WORK/$name.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
plugins: print
aggregate: src_host,dst_host,src_port,dst_port,proto,timestamp_start,timestamp_end
print_output: csv
print_output_file: $WORK/$name.csv
print_output_file_append: true
print_refresh_time: 1
print_num_protos: true
timestamps_since_epoch: true
EOF
	setsid nfacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
	PID_OF[$name]=$!
	GROUPS_TO_KILL+=("${PID_OF[$name]}")
	PIDS+=("${PID_OF[$name]}")
	# The child calls setsid() a moment after the fork.
	for _ in $(seq 100); do
		[ "$(ps -o pgid= -p "${PID_OF[$name]}" | tr -d ' ')" = "${PID_OF[$name]}" ] && break
		sleep 0.02
	done
	[ "$(ps -o pgid= -p "${PID_OF[$name]}" | tr -d ' ')" = "${PID_OF[$name]}" ] ||
		fail "$name: nfacctd is not in a process group of its own"
	wait_for_text "$WORK/$name.log" "waiting for NetFlow/IPFIX data on 127.0.0.1:$port" 10
}

# Asks nfacctd to stop once its print plugin has written `rows` records (it purges
# every second).
end_nfacctd() {
	local name=$1 rows=$2
	for _ in $(seq 100); do
		[ "$(($( { wc -l <"$WORK/$name.csv"; } 2>/dev/null || echo 1) - 1))" -ge "$rows" ] && break
		sleep 0.1
	done
	kill -INT "${PID_OF[$name]}"
}

# wait_exit NAME SIGNAL: the process exits 0 within 10 s of SIGNAL, its group empty.
wait_exit() {
	local name=$1 signal=$2 pid=${PID_OF[$1]} rc=0
	timeout 10 tail -s 0.1 --pid="$pid" -f /dev/null || fail "$name did not exit on $signal"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "$name exited with $rc: $(tail -3 "$WORK/$name.log")"
	for _ in $(seq 50); do
		pgrep -g "$pid" >/dev/null || return 0
		sleep 0.1
	done
	fail "$name: processes left behind: $(ps -o pid,cmd -g "$pid")"
}

# run_probe PORT OUT [probe options]: meters the capture, exports to udp PORT.
run_probe() {
	local port=$1 out=$2
	shift 2
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" $(eal_args) --vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP" -- \
		--collector "udp://127.0.0.1:$port" "$@" >"$WORK/$out.stdout" 2>&1 ||
		fail "probe ($out) exited with $?: $(tail -3 "$WORK/$out.stdout")"
}
probe_value() { awk -v k="$2" '$1 == k {print $2}' "$WORK/$1.stdout"; }

# Every collector first (they start in parallel), then the probe runs one after the
# other, then every collector stops (in parallel: nfacctd takes seconds to).
MODES=(uni bi sampled)
declare -A PID_OF PORT_OF
for mode in "${MODES[@]}"; do
	for who in nfcapd nfacctd; do
		PORT_OF[$who-$mode]=$(free_port)
		"start_$who" "$who-$mode" "${PORT_OF[$who-$mode]}"
	done
done
for mode in "${MODES[@]}"; do
	case $mode in
	uni) opts=() ;;
	bi) opts=(--biflow yes) ;;
	sampled) opts=(--sampling 0:systematic:1:2) ;;
	esac
	for who in nfcapd nfacctd; do
		run_probe "${PORT_OF[$who-$mode]}" "probe-$who-$mode" "${opts[@]}"
	done
done
sleep 0.3   # UDP on loopback: the last message is read by now
for mode in "${MODES[@]}"; do
	kill -TERM "${PID_OF[nfcapd-$mode]}"
	end_nfacctd "nfacctd-$mode" "$(probe_value "probe-nfacctd-$mode" records_exported)"
done
for mode in "${MODES[@]}"; do
	wait_exit "nfcapd-$mode" SIGTERM
	wait_exit "nfacctd-$mode" SIGINT
done

for mode in "${MODES[@]}"; do
	for who in nfcapd nfacctd; do
		[ "$(probe_value "probe-$who-$mode" records_lost)" = 0 ] || fail "probe ($who, $mode) lost records"
		# 2 x 6 of RFC 7011 section 4 and interfaces, with sampling 2 x 3 of RFC 5476
		want=12
		[ "$mode" = sampled ] && want=18
		[ "$(probe_value "probe-$who-$mode" options_records)" = $want ] ||
			fail "probe ($who, $mode) sent $(probe_value "probe-$who-$mode" options_records) options records, want $want"
	done

	# nfcapd's own tally (one line per file; a minute boundary rotates the file): the
	# probe's records, packets and octets (those it metered: all of the capture's IP
	# packets, or the selected ones), no sequence error.
	log="$WORK/nfcapd-$mode.log"
	want="$(probe_value "probe-nfcapd-$mode" records_exported) $(probe_value "probe-nfcapd-$mode" metered_packets)"
	want="$want $(probe_value "probe-nfcapd-$mode" metered_octets) 0 0"
	[ "$mode" = sampled ] || [ "${want#* }" = "$(expected packets) $(expected octets) 0 0" ] ||
		fail "probe ($mode) metered packets, octets: ${want#* }, want the ground truth's"
	tally=$(awk '/^Ident:/ {gsub(",", ""); f += $4; p += $6; b += $8; s += $11; x += $14}
		END {print f, p, b, s, x}' "$log")
	[ "$tally" = "$want" ] || fail "nfcapd ($mode) flows/packets/bytes/sequence errors/bad packets: $tally, want $want"
	# Its complaints, known ones (doc/peer-collectors.md): nfdump takes an options
	# template with interfaceDescription, or with ingressInterface outside the scope,
	# for an interface-name table of fixed-length fields. Our interface record has
	# variable-length names (an error); with sampling, the PSAMP selection sequence
	# record has ingressInterface (a note of bytes left over). Each record is sent
	# twice: at start and at the end.
	known='^Process_ifvrf_option: nbar option size error: option size: 65543, size left: [0-9]+$'
	[ "$(grep -cE "$known" "$log")" = 2 ] || fail "nfcapd ($mode): want the known interface-name error twice: $(cat "$log")"
	if [ "$mode" = sampled ]; then
		known2='^Proces ifvrf data record - 8 extra bytes$'
		[ "$(grep -cE "$known2" "$log")" = 2 ] ||
			fail "nfcapd ($mode): want the known selection-sequence note twice: $(cat "$log")"
		known="$known|$known2"
	fi
	others=$(grep -vE "$known|^Ident:" "$log" | grep -iE "error|warn|malformed|invalid|skip|unknown|fail|extra bytes" || true)
	[ -z "$others" ] || fail "nfcapd ($mode) complains: $(echo "$others" | head -3)"
	nfdump -R "$WORK/nfcapd-$mode" -o json >"$WORK/nfdump-$mode.json" 2>"$WORK/nfdump-$mode.stderr" ||
		fail "nfdump ($mode) exited with $?: $(head -3 "$WORK/nfdump-$mode.stderr")"
	[ ! -s "$WORK/nfdump-$mode.stderr" ] || fail "nfdump ($mode) complains: $(head -3 "$WORK/nfdump-$mode.stderr")"

	# nfacctd logs everything at INFO or above; the only lines expected are its start,
	# its cache purges and its exit.
	log="$WORK/nfacctd-$mode.log"
	! grep -vE "^INFO \( default(_print)?/(core|print) \): (NetFlow Accounting Daemon|Reading configuration file|waiting for NetFlow/IPFIX data|cache entries=|\*\*\* Purging cache - (START|END)|OK, Exiting| ')" "$log" |
		grep -q . || fail "nfacctd ($mode) logs: $(grep -vE "Purging|^INFO \( default/core \):  '" "$log" | head -5)"
done

# Every record, field by field, against the ground truth.
$PY - "$WORK" "$SAMPLE_EXPECTED" "$SAMPLE_PCAP" <<'PYEOF' || fail "a peer's records differ from the ground truth"
import csv, json, sys
from datetime import datetime, timezone
from scapy.all import IP, TCP, UDP, IPv6, rdpcap

work, truth = sys.argv[1], json.load(open(sys.argv[2]))
all_flows = {(f["src"], f["dst"], f["protocol"], f["src_port"], f["dst_port"]): f for f in truth["flow_list"]}
ICMP = (1, 58)

def selected_flows():
    """The ground truth of the packets systematic 1-in-2 selects: every other packet
    of the capture from the first (RFC 5475 5.1; one worker, the selector counts every
    packet it sees), each attributed to its flow by scapy's dissection."""
    flows = {}
    for i, pkt in enumerate(rdpcap(sys.argv[3])):
        if i % 2:
            continue
        ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
        if ip is None:
            continue
        proto = ip.nh if ip.version == 6 else ip.proto
        sport = dport = 0
        if pkt.haslayer(TCP) or pkt.haslayer(UDP):
            l4 = pkt.getlayer(TCP) or pkt.getlayer(UDP)
            sport, dport = l4.sport, l4.dport
        elif proto in ICMP:
            raw = bytes(ip.payload)
            dport = raw[0] << 8 | raw[1]
        k = (ip.src, ip.dst, proto, sport, dport)
        if k not in all_flows:
            continue   # the capture's malformed packets (scapy dresses them up)
        t = int(pkt.time * 1000000)
        f = flows.setdefault(k, {"packets": 0, "octets": 0, "first_us": t})
        f["packets"] += 1
        f["octets"] += ip.plen + 40 if ip.version == 6 else ip.len
        f["last_us"] = t
    return flows
# The reverse of an ICMP echo request is the reply: the probe pairs them in a biflow.
ECHO = {8 << 8: 0, 0: 8 << 8, 128 << 8: 129 << 8, 129 << 8: 128 << 8}

def reverse_key(k):
    src, dst, proto, sport, dport = k
    if proto in ICMP:
        return (dst, src, proto, 0, ECHO.get(dport, dport))
    return (dst, src, proto, dport, sport)

def ms(us):
    return us // 1000   # flowStart/EndMilliseconds: the packet time, truncated

errors = []
def check(who, mode, recs, has_reverse, has_times, icmp_type):
    """recs: (key, packets, octets, first_ms, last_ms, rev_packets, rev_octets)."""
    covered = {}
    for k, pk, oc, first, last, rpk, roc in recs:
        if not icmp_type and k[2] in ICMP:
            # The tool shows no ICMP type/code: find the flow by the rest of the key.
            cands = [f for f in flows if f[:3] == k[:3]]
            if len(cands) != 1:
                errors.append(f"{who} {mode}: ICMP record {k} matches {len(cands)} flows")
                continue
            k = cands[0]
        f = flows.get(k)
        if f is None:
            errors.append(f"{who} {mode}: record {k} is not a flow of the capture")
            continue
        got = (pk, oc) + ((first, last) if has_times else ())
        want = (f["packets"], f["octets"]) + ((ms(f["first_us"]), ms(f["last_us"])) if has_times else ())
        if got != want:
            errors.append(f"{who} {mode}: {k}: packets, octets, first, last {got}, want {want}")
        covered[k] = covered.get(k, 0) + 1
        if mode == "bi":
            rk = reverse_key(k)
            rf = flows.get(rk)
            if has_reverse:
                if (rpk, roc) != ((rf["packets"], rf["octets"]) if rf else (0, 0)):
                    errors.append(f"{who} {mode}: {k}: reverse {(rpk, roc)}, want {rk}: {rf}")
                if rf:
                    covered[rk] = covered.get(rk, 0) + 1
            elif rf:
                covered[rk] = covered.get(rk, 0) + 1   # not shown by the tool
    twice = [k for k, n in covered.items() if n > 1]
    missing = [k for k in flows if k not in covered]
    if twice or missing:
        errors.append(f"{who} {mode}: flows counted twice {twice[:3]}, missing {missing[:3]}")
    print(f"{who} {mode}: {len(recs)} records")

for mode in ("uni", "bi", "sampled"):
    flows = selected_flows() if mode == "sampled" else all_flows
    # nfdump: JSON, addresses as text, ICMP type and code, times in ms (local = UTC).
    def t(s):
        return round(datetime.fromisoformat(s).replace(tzinfo=timezone.utc).timestamp() * 1000)
    recs = []
    for r in json.load(open(f"{work}/nfdump-{mode}.json")):
        if r["type"] != "FLOW":
            errors.append(f"nfdump {mode}: unexpected record type {r['type']}")
            continue
        v6 = "src6_addr" in r
        proto = r["proto"]
        if proto in ICMP:
            sport, dport = 0, r["icmp_type"] << 8 | r["icmp_code"]
        else:
            sport, dport = r["src_port"], r["dst_port"]
        k = (r["src6_addr" if v6 else "src4_addr"], r["dst6_addr" if v6 else "dst4_addr"], proto, sport, dport)
        recs.append((k, r["in_packets"], r["in_bytes"], t(r["first"]), t(r["last"]),
                     r.get("out_packets", 0), r.get("out_bytes", 0)))
    # nfdump 1.7.1 takes the reverse flowStart/EndMilliseconds of a biflow for the
    # forward ones (doc/peer-collectors.md): times are compared on uniflows only.
    check("nfdump", mode, recs, has_reverse=True, has_times=(mode == "uni"), icmp_type=True)

    # pmacct: CSV, times as seconds since the epoch with microseconds; no ICMP type or
    # code for IPFIX input, and RFC 5103 reverse elements are not read (forward only).
    recs = []
    with open(f"{work}/nfacctd-{mode}.csv") as fh:
        for r in csv.DictReader(fh):
            k = (r["SRC_IP"], r["DST_IP"], int(r["PROTOCOL"]), int(r["SRC_PORT"]), int(r["DST_PORT"]))
            first = round(float(r["TIMESTAMP_START"]) * 1000)
            last = round(float(r["TIMESTAMP_END"]) * 1000)
            recs.append((k, int(r["PACKETS"]), int(r["BYTES"]), first, last, None, None))
    check("nfacctd", mode, recs, has_reverse=False, has_times=True, icmp_type=False)

if errors:
    sys.exit("\n".join(errors[:20]))
PYEOF
echo "peer_collectors: ok"
