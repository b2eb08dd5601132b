#!/usr/bin/env bash
# Installs every Debian package dpfix needs to build, run and test, then builds
# the project's own wolfSSL. Idempotent: a machine that has everything returns at once.
set -euo pipefail

packages=(
	# build
	gcc clang llvm lld meson ninja-build pkg-config libclang-rt-14-dev
	libdpdk-dev dpdk dpdk-dev libbpf-dev libxdp-dev libpcap-dev
	# wolfSSL and usrsctp from the distribution's source packages (usrsctp's SHA-1 and
	# SHA-256 come from OpenSSL's libcrypto)
	dpkg-dev autoconf automake libtool libssl-dev
	# tests: peers, decoders, traffic tools
	tshark nfdump pmacct libfixbuf-tools softflowd gnutls-bin python3-scapy
	socat iproute2 iputils-ping nftables openssl tcpreplay xdp-tools bpftool valgrind strace
	# the collector's ClickHouse output: tests start private servers (18.16 in Debian 12)
	clickhouse-server clickhouse-client
	# benchmarks: plots
	python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup-deps: installing ${missing[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	# tshark asks whether non-root users may capture; the default (no) is right.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

"$(dirname "$0")/build-wolfssl.sh"
"$(dirname "$0")/build-usrsctp.sh"
