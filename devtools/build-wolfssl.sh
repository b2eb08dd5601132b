#!/usr/bin/env bash
# Builds wolfSSL from Debian's source package with the options dpfix needs (DTLS MTU
# control, DTLS-SCTP mode, AES-NI, PSK, ALPN, keying-material export) into .deps/wolfssl.
# Debian's own libwolfssl lacks most of these (see doc/wolfssl.md), so it is never used.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/.deps/wolfssl"
# shellcheck source=devtools/debian-source.sh
source "$top/devtools/debian-source.sh"

# --enable-sctp refuses to configure without kernel SCTP; all it adds is -DWOLFSSL_SCTP.
# HAVE_SECRET_CALLBACK gives the NSS key log callback TLS 1.3's traffic secrets (no
# configure option turns it on in 5.5.4).
cppflags="-DWOLFSSL_SCTP -DHAVE_SECRET_CALLBACK"
options="--enable-static --disable-shared --with-pic
	--enable-dtls --enable-dtls13 --enable-dtls-mtu --enable-dtlscid --enable-psk
	--enable-aesni --enable-intelasm --enable-alpn --enable-keying-material
	--enable-opensslextra --enable-crl --enable-sni --enable-tls13
	--disable-examples --disable-crypttests --disable-benchmark"
# Fixes of our own to wolfSSL's source, applied in order (each file says why).
patches=("$top"/devtools/wolfssl-*.patch)
# shellcheck disable=SC2086
stamp=$(build_stamp libwolfssl-dev "$cppflags $(echo $options)" "${patches[@]}")
built_already wolfssl "$prefix" "$stamp" && exit 0

echo "build-wolfssl: building wolfSSL ${stamp%% *} (about a minute)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(patched_source wolfssl "$work" "${patches[@]}") || { echo "build-wolfssl: no source" >&2; exit 1; }
cd "$src"
./autogen.sh >"$work/autogen.log" 2>&1 || { tail -20 "$work/autogen.log" >&2; exit 1; }
# shellcheck disable=SC2086
CPPFLAGS="$cppflags" ./configure --prefix="$prefix" $options >"$work/configure.log" 2>&1 ||
	{ tail -20 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
rm -rf "$prefix"
make install >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
for want in WOLFSSL_SCTP WOLFSSL_DTLS_MTU WOLFSSL_AESNI HAVE_KEYING_MATERIAL HAVE_ALPN \
		HAVE_SECRET_CALLBACK; do
	grep -q "$want" "$prefix/include/wolfssl/options.h" ||
		{ echo "build-wolfssl: $want missing from options.h" >&2; exit 1; }
done
keep_built wolfssl "$prefix" "$stamp"
echo "build-wolfssl: installed into $prefix"
