#!/usr/bin/env bash
# Quick start, first command: installs and builds what is needed, then runs the probe on
# the bundled capture (DPDK net_pcap vdev) exporting IPFIX/UDP to the collector on
# loopback, prints what the collector received and checks it against the capture.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
devtools/build.sh

port=${DPFIX_DEMO_PORT:-4739}
pcap=tests/data/sample.pcap
out=$(mktemp -d /tmp/dpfix-demo.XXXXXX)
trap 'kill $collector 2>/dev/null || true; rm -rf "$out"' EXIT

build/app/collector/dpfix-collector --listen "udp://127.0.0.1:$port" >"$out/collector.txt" &
collector=$!
sleep 0.3
echo "== dpfix-probe on $pcap -> udp://127.0.0.1:$port"
build/app/probe/dpfix-probe --no-huge -m 512 --no-pci --no-shconf -l 0-1 \
	--log-level=lib.eal:warning --vdev "net_pcap0,rx_pcap=$pcap" -- \
	--config config/probe-udp.conf --collector "udp://127.0.0.1:$port"
sleep 0.3
kill -TERM $collector
wait $collector
echo
echo "== dpfix-collector received (first 5 of $(grep -c '^source' "$out/collector.txt") records)"
grep '^source' "$out/collector.txt" | head -5
echo "..."
sed -n '/summary:/,$p' "$out/collector.txt"
echo
/usr/bin/python3 - "$out/collector.txt" tests/data/sample.expected.json <<'PY'
import json, re, sys
summary = open(sys.argv[1]).read()
want = json.load(open(sys.argv[2]))
got = {k: int(re.search(k + r" (\d+)", summary).group(1)) for k in ("flows", "packets", "octets")}
ok = all(got[k] == want[k] for k in got)
print(("MATCH" if ok else "MISMATCH") + ": the capture holds " +
      ", ".join(f"{want[k]} {k}" for k in got) + "; the collector received " +
      ", ".join(f"{got[k]} {k}" for k in got))
sys.exit(0 if ok else 1)
PY
