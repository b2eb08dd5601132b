#!/usr/bin/env bash
# Builds wolfSSL from Debian's source package with the options dpfix needs (DTLS MTU
# control, DTLS-SCTP mode, AES-NI, PSK, ALPN, keying-material export) into .deps/wolfssl.
# Debian's own libwolfssl lacks most of these (see doc/wolfssl.md), so it is never used.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/.deps/wolfssl"
cache=${DPFIX_CACHE:-/var/cache/dpfix}

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
version=$(apt-cache policy libwolfssl-dev 2>/dev/null | awk '/Candidate/ {print $2}')
stamp="$version $cppflags $(echo $options) patches $(cat "${patches[@]}" | sha256sum | cut -c1-16)"
key=$(printf '%s' "$stamp" | sha256sum | cut -c1-16)

if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$stamp" ]; then
	exit 0
fi
if [ -f "$cache/wolfssl-$key.tar" ]; then
	rm -rf "$prefix" && mkdir -p "$prefix"
	tar -C "$prefix" -xf "$cache/wolfssl-$key.tar"
	[ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ] && exit 0
fi

echo "build-wolfssl: building wolfSSL $version (about a minute)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! apt-get source --print-uris wolfssl >/dev/null 2>&1 || \
   [ -z "$(apt-get source --print-uris wolfssl 2>/dev/null | grep -F .orig.)" ]; then
	# apt-get source needs a deb-src entry; add one for the configured Debian mirrors.
	sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
		$SUDO tee /etc/apt/sources.list.d/dpfix-deb-src.sources >/dev/null
	$SUDO apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -qq wolfssl >/dev/null 2>&1)
src=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'wolfssl-*' | head -n 1)
[ -n "$src" ] || { echo "build-wolfssl: apt-get source wolfssl produced no source tree" >&2; exit 1; }
cd "$src"
for p in "${patches[@]}"; do
	patch -p1 -s <"$p" || { echo "build-wolfssl: $p does not apply" >&2; exit 1; }
done
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
echo "$stamp" >"$prefix/.stamp"
if mkdir -p "$cache" 2>/dev/null; then
	tar -C "$prefix" -cf "$cache/wolfssl-$key.tar" .
fi
echo "build-wolfssl: installed into $prefix"
