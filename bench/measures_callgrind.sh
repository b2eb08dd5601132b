#!/usr/bin/env bash
# Instructions per packet of the worker lcore for a set of measures (issue 16), counted
# by callgrind on a fixed capture read once to its end, so two builds or two measure sets
# see exactly the same packets and their counts compare exactly (the line-rate script
# runs for a time, and how many packets fit in it changes the share of flow creation).
# The capture: FLOWS flows of 64-byte UDP frames, PASSES packets each (one per flow per
# pass), as bench/line_rate.sh's; with --tcp, each flow a TCP connection instead (SYN,
# SYN/ACK, ACK, then PASSES-3 data packets with 100-byte payloads alternating direction).
# Last, the export lcore's instructions per record exported (exporter_poll inclusive:
# taking records off the rings, encoding, sending, and its polls while idle; user space
# only), and of them the ring's copying (rte_ring_elem_pvt.h); with more FLOWS than
# TABLE_SIZE (env, default 131072) most records are evictions, as in a flood.
# Usage: bench/measures_callgrind.sh [--tcp] BUILD_DIR MEASURES [FLOWS] [PASSES]
#   (env PROBE_OPTS: more probe options, e.g. --biflow yes)
#   MEASURES: as the probe's `measures` option (none: the option is not given at all)
set -euo pipefail
kind=udp
if [ "${1:-}" = --tcp ]; then
	kind=tcp
	shift
fi
build=${1:?build dir}
measures=${2:?measures}
flows=${3:-65536}
passes=${4:-8}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/measures_cg.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/in.pcap" "$kind" "$flows" "$passes" <<'PYEOF'
import socket, struct, sys
out, kind, flows, passes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
MAC = bytes.fromhex("020000000002" "020000000001" "0800")
def ip(src, dst, proto, l4):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return MAC + h + l4
def udp(src, dst, sp, dp, payload):
    return ip(src, dst, 17, struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload)
def tcp(src, dst, sp, dp, flags, payload=b""):
    return ip(src, dst, 6, struct.pack("!HHIIBBHHH", sp, dp, 1, 1, 5 << 4, flags, 65535, 0, 0)
              + payload)
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    n = 0
    for p in range(passes):
        for fl in range(flows):
            c, s = f"10.99.{fl >> 8 & 255}.{fl & 255}", "10.97.0.1"
            cp = 10000 + fl % 50000
            if kind == "udp":
                fr = udp(c, s, cp, 4000, b"\0" * 18)
            elif p == 0:
                fr = tcp(c, s, cp, 443, 0x02)
            elif p == 1:
                fr = tcp(s, c, 443, cp, 0x12)
            elif p == 2:
                fr = tcp(c, s, cp, 443, 0x10)
            elif p % 2:
                fr = tcp(c, s, cp, 443, 0x18, b"q" * 100)
            else:
                fr = tcp(s, c, 443, cp, 0x18, b"r" * 100)
            f.write(struct.pack("<IIII", 1700000000 + n // 1000000, n % 1000000, len(fr), len(fr)) + fr)
            n += 1
PYEOF
# none: the option is left out, so a build from before measures runs the same command.
measure_opt=()
[ "$measures" = none ] || measure_opt=(--measures "$measures")
port=$((20000 + RANDOM % 10000))
"$build/app/collector/dpfix-collector" --listen "udp://127.0.0.1:$port" --quiet >/dev/null 2>&1 &
cpid=$!
valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.%p" \
	"$build/app/probe/dpfix-probe" --no-huge -m 1024 --no-pci --no-shconf -l 0-1 \
	--file-prefix dpfix-mcg-$$ --log-level=lib.eal:error \
	--vdev "net_pcap0,rx_pcap=$work/in.pcap" -- --collector "udp://127.0.0.1:$port" \
	--stats-interval 0 --flow-table-size ${TABLE_SIZE:-131072} ${measure_opt[@]+"${measure_opt[@]}"} ${PROBE_OPTS:-} \
	>"$work/probe.out" 2>&1 || true
kill $cpid; wait $cpid 2>/dev/null || true
rx=$(awk '$1 == "rx_packets" {print $2}' "$work/probe.out")
for f in "$work"/cg.*-*; do
	callgrind_annotate --inclusive=yes "$f" >"$work/incl" 2>/dev/null || continue
	grep -q "worker.c:worker_main" "$work/incl" && cp "$work/incl" "$work/worker.incl"
	grep -q "exporter.c:exporter_poll" "$work/incl" && cp "$work/incl" "$work/export.incl"
done
echo "packets $rx ($kind, $flows flows x $passes), measures $measures"
echo "inclusive instructions per packet on the worker lcore:"
for fn in worker.c:worker_main worker.c:worker_meter_burst worker.c:worker_meter_burst_measured \
		dpfix_parse.c:dpfix_parse_ethernet \
		dpfix_flow.c:dpfix_flow_table_update_bulk dpfix_flow.c:dpfix_flow_table_update_bulk_frames \
		dpfix_flow.c:dpfix_flow_table_lookup_start dpfix_flow.c:dpfix_flow_table_update_looked_up \
		measure.c:dpfix_measure_packet \
		dpfix_flow.c:dpfix_flow_table_flush; do
	# The function's own line (not one whose name it begins).
	ir=$(awk -v fn="$fn" '{for (i = 2; i <= NF; i++) if ($i ~ ":" && substr($i, length($i) - length(fn) + 1) == fn) {gsub(",", "", $1); print $1; exit}}' "$work/worker.incl")
	[ -n "$ir" ] && printf "  %-45s %8.1f\n" "$fn" "$(echo "$ir / $rx" | bc -l)"
done
records=$(awk '$1 == "records_exported" {print $2}' "$work/probe.out")
poll=$(awk '{for (i = 2; i <= NF; i++) if ($i ~ ":exporter_poll$") {gsub(",", "", $1); print $1; exit}}' "$work/export.incl")
copy=$(awk '$NF == "/usr/include/dpdk/rte_ring_elem_pvt.h:exporter_poll" {gsub(",", "", $1); print $1; exit}' "$work/export.incl")
echo "export lcore, instructions per record exported ($records records):"
printf "  %-45s %8.1f\n" exporter.c:exporter_poll "$(echo "$poll / $records" | bc -l)" \
	"of it the ring's copying (rte_ring_elem_pvt.h)" "$(echo "${copy:-0} / $records" | bc -l)"
