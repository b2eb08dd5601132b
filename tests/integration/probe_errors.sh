#!/usr/bin/env bash
# Operator mistakes get a clear error naming what is wrong, exit status 1, and no
# hang or crash: a bad config line, a bad option value, an unknown measure or measures
# whose records no message could carry, a missing capture, an unknown
# vdev, a bad collector URL, a PSK file others can read, a NULL or anonymous suite,
# and set-up that fails after EAL has started (too little memory, too many queues, a
# capture infinite_rx cannot hold, a collector that refuses), which must undo what was
# set up in order: no signal, no ring freed twice.
source "$(dirname "$0")/lib.sh"

# expect_error NAME TEXT -- PROBE ARGS...: the probe must exit 1 within 60 s (ASan
# builds are slow) and print TEXT.
expect_error() {
	local name=$1 text=$2 rc=0
	shift 3
	# shellcheck disable=SC2046
	timeout 60 "$DPFIX_PROBE" "$@" >"$WORK/$name.out" 2>&1 || rc=$?
	[ "$rc" -ne 124 ] || fail "$name: probe hung (killed after 60 s)"
	[ "$rc" -lt 128 ] || fail "$name: probe killed by signal $((rc - 128)): $(tail -3 "$WORK/$name.out")"
	[ "$rc" -eq 1 ] || fail "$name: probe exited $rc, not 1"
	grep -qF -- "$text" "$WORK/$name.out" || fail "$name: expected '$text' in: $(tail -5 "$WORK/$name.out")"
	# DPDK's own words when a ring is freed a second time (net_pcap after a failed
	# infinite_rx queue set-up): a use after free, fatal where freed memory is unmapped.
	! grep -q "Cannot free ring" "$WORK/$name.out" || fail "$name: a ring was freed twice"
	echo "ok $name: $(grep -F -- "$text" "$WORK/$name.out" | head -1)"
}

read -ra EAL <<<"$(eal_args)"
PCAP=(--vdev "net_pcap0,rx_pcap=$SAMPLE_PCAP")

printf '# a comment\nidle_timeout = 30\n\nactive_timeout = soon\n' >"$WORK/bad-value.conf"
expect_error bad_config_value "bad-value.conf:4: active_timeout 'soon' is not a duration" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/bad-value.conf"

printf 'idle_timeout = 30\nflow_tabel_size = 10\n' >"$WORK/unknown-key.conf"
expect_error unknown_config_key "unknown-key.conf:2: unknown option 'flow_tabel_size'" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/unknown-key.conf"

printf 'idle_timeout 30\n' >"$WORK/no-equals.conf"
expect_error config_line_without_equals "no-equals.conf:1: expected 'key = value'" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/no-equals.conf"

expect_error missing_config_file "$WORK/nonexistent.conf: cannot open" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/nonexistent.conf"

expect_error out_of_range_option "--flow-table-size: flow_table_size 5 is out of range" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --flow-table-size 5

expect_error active_shorter_than_idle "active_timeout 5 s is shorter than idle_timeout 30 s" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --idle-timeout 30 --active-timeout 5

printf 'idle_timeout = 30\nflow_key = vlan, dscpp\n' >"$WORK/flow-key.conf"
expect_error unknown_flow_key_field \
	"flow-key.conf:2: flow_key: unknown name 'dscpp' in 'vlan, dscpp' (known: vlan dscp mpls ingress_port; or none)" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/flow-key.conf"

printf 'idle_timeout = 30\nsampling = 0:sytematic:1:100\n' >"$WORK/sampling.conf"
expect_error unknown_selector \
	"sampling.conf:2: sampling '0:sytematic:1:100': unknown selector algorithm 'sytematic' (known: systematic, random, hash)" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --config "$WORK/sampling.conf"

expect_error selector_n_above_population "--sampling: sampling '0:random:5:4': random: n 5 is more than N 4" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --sampling 0:random:5:4

expect_error selector_bad_port "--sampling: sampling 'eth0:hash:1:10': port 'eth0' is not a port id 0..31 or all" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --sampling eth0:hash:1:10

expect_error selector_missing_port "--sampling: sampling names port 3, which does not exist (1 port(s))" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --sampling 3:systematic:1:2

expect_error stats_json_unwritable "stats_json $WORK/no/such/dir/stats.json: No such file or directory" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --stats-json "$WORK/no/such/dir/stats.json"

expect_error unknown_argument "unknown argument '--colector'" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --colector udp://127.0.0.1:4739

expect_error unknown_measure "--measures: measures: unknown name 'dsn' in 'tcp,dsn' (known: tcp http tls dns app lengths tunnel rtp; or none)" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --measures tcp,dsn

# Measures whose longest record no message could carry: refused, with what is missing.
expect_error measures_past_export_mtu "a flow record with these measures takes up to 686 bytes, more than a message holds (528): raise export_mtu by 158" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --measures http,tls,dns --export-mtu 576

expect_error bad_collector_url "port '0' is not in 1..65535" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --collector udp://127.0.0.1:0

expect_error unknown_transport "transport 'carrier-pigeon' is not available" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --collector carrier-pigeon://127.0.0.1:4739

expect_error missing_pcap_file "$WORK/missing.pcap" -- \
	"${EAL[@]}" --vdev "net_pcap0,rx_pcap=$WORK/missing.pcap" --

expect_error unknown_vdev "net_nosuchdriver0" -- \
	"${EAL[@]}" --vdev "net_nosuchdriver0" --

expect_error no_ports "no ports" -- "${EAL[@]}" --

# Security settings that must never be accepted (dtls+udp: refused before any packet).
printf 'probe1.example:000102030405060708090a0b0c0d0e0f\n' >"$WORK/open.psk"
chmod 644 "$WORK/open.psk"
expect_error psk_file_readable_by_others "open.psk is accessible by group or others (mode 0644); chmod 600 it" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --collector dtls+udp://127.0.0.1:9 --psk-identity probe1.example \
	--psk-file "$WORK/open.psk"
install -m 600 "$WORK/open.psk" "$WORK/ok.psk"
for suite in NULL-SHA256 ADH-AES128-SHA ECDHE-PSK-NULL-SHA256; do
	expect_error "weak_suite_$suite" "suites are never allowed" -- "${EAL[@]}" "${PCAP[@]}" -- \
		--collector dtls+udp://127.0.0.1:9 --psk-identity probe1.example --psk-file "$WORK/ok.psk" \
		--ciphers "ECDHE-PSK-AES128-GCM-SHA256:$suite"
done

# Set-up errors after EAL has started: each exits 1 with its message, and what was set
# up before it is undone in order (ports closed before the pool their queues use).
$PY - "$WORK" <<'PYEOF'
import struct, sys
def write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1000, i, len(fr), len(fr)) + fr)
def udp(i, payload=18):
    ip = struct.pack(">BBHIBBH4B4B", 0x45, 0, 28 + payload, 0, 64, 17, 0, 10, 0, i >> 8 & 255, i & 255, 10, 1, 0, 1)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + struct.pack(">HHHH", 1000, 53, 8 + payload, 0) + bytes(payload)
write(sys.argv[1] + "/frames20000.pcap", [udp(i) for i in range(20000)])
write(sys.argv[1] + "/jumbo.pcap", [udp(1), udp(2, 3000)])
PYEOF
expect_error infinite_rx_too_few_mbufs \
	"20000 frames, and 512 to receive with 1 worker(s), need mbuf_count 20512 or more (it is 16383)" -- \
	"${EAL[@]}" --vdev "net_pcap0,rx_pcap=$WORK/frames20000.pcap,infinite_rx=1" --
expect_error infinite_rx_jumbo_frame \
	"jumbo.pcap: frame 2 has 3042 bytes; infinite_rx holds each frame in one mbuf of 2048 bytes" -- \
	"${EAL[@]}" --vdev "net_pcap0,rx_pcap=$WORK/jumbo.pcap,infinite_rx=1" --
expect_error mbuf_pool_too_large "cannot create a pool of 16777216 mbufs" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --mbuf-count 16777216
expect_error flow_table_too_large "cannot allocate a 268435456-flow table" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --flow-table-size 268435456
expect_error export_ring_too_large "16777216-record ring" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --export-ring-size 16777216
MANY_PORTS=()
for i in $(seq 0 16); do MANY_PORTS+=(--vdev "net_pcap$i,rx_pcap=$SAMPLE_PCAP"); done
expect_error too_many_queues "more than 16 queues per worker" -- "${EAL[@]}" "${MANY_PORTS[@]}" --
expect_error one_lcore "needs at least 2 lcores" -- "${EAL[@]/#0-1/0}" "${PCAP[@]}" --
# The ports have started when the collector refuses.
CLOSED_PORT=$(free_port)
expect_error collector_refuses "collector tls+tcp://127.0.0.1:$CLOSED_PORT: Connection refused" -- \
	"${EAL[@]}" "${PCAP[@]}" -- --collector "tls+tcp://127.0.0.1:$CLOSED_PORT"
# Where freed memory is unmapped (hugepages with --in-memory) a ring freed twice was a
# SIGSEGV; run that case there too when this machine has hugepages to spare.
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 256 ] && grep -q hugetlbfs /proc/mounts; then
	expect_error infinite_rx_too_few_mbufs_hugepages "need mbuf_count 20512 or more" -- \
		--in-memory --no-pci -l 0-1 --vdev "net_pcap0,rx_pcap=$WORK/frames20000.pcap,infinite_rx=1" --
fi

echo "probe_errors: ok"
