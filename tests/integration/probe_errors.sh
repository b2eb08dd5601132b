#!/usr/bin/env bash
# Operator mistakes get a clear error naming what is wrong, a non-zero exit, and no
# hang: a bad config line, a bad option value, a missing capture, an unknown vdev,
# a bad collector URL, a PSK file others can read, a NULL or anonymous suite.
source "$(dirname "$0")/lib.sh"

# expect_error NAME TEXT -- PROBE ARGS...: the probe must fail within 30 s and print TEXT.
expect_error() {
	local name=$1 text=$2 rc=0
	shift 3
	# shellcheck disable=SC2046
	timeout 30 "$DPFIX_PROBE" "$@" >"$WORK/$name.out" 2>&1 || rc=$?
	[ "$rc" -ne 124 ] || fail "$name: probe hung (killed after 30 s)"
	[ "$rc" -ne 0 ] || fail "$name: probe exited 0"
	grep -qF -- "$text" "$WORK/$name.out" || fail "$name: expected '$text' in: $(tail -5 "$WORK/$name.out")"
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

echo "probe_errors: ok"
