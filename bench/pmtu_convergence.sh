#!/usr/bin/env bash
# Path MTU convergence (issue 12: a size confirmed within 10 s): the probe exports over
# SCHEME (dtls+udp, or dtls+sctp) through a router whose link to the collector has MTU MTU and whose ICMP
# "fragmentation needed" is dropped (tests/integration/lib.sh's router_path and
# router_drop_too_big), ROUNDS times; each round reads the probe's "path MTU search done
# in X s: N octets confirmed" (from the session's first poll to the last probe's verdict)
# and the wall time from the probe's start to that line. Prints one line per round and
# min / median / max. Usage: bench/pmtu_convergence.sh [BUILD_DIR]  (env: ROUNDS, MTU,
# SCHEME)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
ROUNDS=${ROUNDS:-10}
MTU=${MTU:-1280}
SCHEME=${SCHEME:-dtls+udp}
top=$(cd "$(dirname "$0")/.." && pwd)
export DPFIX_PROBE=$build/app/probe/dpfix-probe DPFIX_COLLECTOR=$build/app/collector/dpfix-collector
export DPFIX_SOURCE_ROOT=$top
# shellcheck source=tests/integration/lib.sh
source "$top/tests/integration/lib.sh"

$PY "$top/tests/data/gen-sampling-capture.py" "$WORK/flows.pcap" /dev/null 3000
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/psk"
chmod 600 "$WORK/psk"
tag=pmtub$$
router_path "$tag" "$MTU"
router_drop_too_big "$tag"
for r in $(seq "$ROUNDS"); do
	COLLECTOR_NETNS=${tag}c start_collector_at "$SCHEME://10.77.2.2:4740" "$WORK/c$r" --quiet \
		--psk-file "$WORK/psk"
	start=$(date +%s.%N)
	# shellcheck disable=SC2046
	ip netns exec "${tag}e" "$DPFIX_PROBE" $(eal_args) \
		--vdev "net_pcap0,rx_pcap=$WORK/flows.pcap,infinite_rx=1" -- \
		--collector "$SCHEME://10.77.2.2:4740" --psk-file "$WORK/psk" \
		--psk-identity probe1.example --packet-timestamps no >"$WORK/p$r" 2>&1 &
	probe=$!
	PIDS+=("$probe")
	wait_for_text "$WORK/p$r" "path MTU search done" 60
	done_at=$(date +%s.%N)
	kill -INT "$probe"
	wait "$probe" || true
	stop_collector
	line=$(grep -ao "path MTU search done in [0-9.]* s: [0-9]* octets confirmed" "$WORK/p$r")
	echo "round $r: ${line#path MTU }; $(echo "$done_at - $start" | bc) s from the probe's start"
done | tee "$WORK/rounds"
/usr/bin/python3 - "$WORK/rounds" <<'PY'
import re, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("round")]
search = sorted(float(re.search(r"done in ([0-9.]+) s", l).group(1)) for l in rows)
wall = sorted(float(re.search(r"; ([0-9.]+) s from", l).group(1)) for l in rows)
sizes = sorted({int(re.search(r"s: ([0-9]+) octets", l).group(1)) for l in rows})
print(f"search s min/median/max: {search[0]:.1f} / {statistics.median(search):.1f} / {search[-1]:.1f};"
      f" from the probe's start: {wall[0]:.1f} / {statistics.median(wall):.1f} / {wall[-1]:.1f};"
      f" sizes confirmed: {sizes}")
PY
