#!/usr/bin/env bash
# Builds usrsctp from Debian's source package into .deps/usrsctp (a static library and
# usrsctp.h) with what dpfix needs and Debian's libusrsctp lacks: optimised code (Debian's
# is built -O0, the default of usrsctp's configure), HMAC-SHA256 for SCTP-AUTH (RFC 4895)
# offered first, and SHA-1/SHA-256 from OpenSSL's libcrypto (SHA-NI and AVX2 code) instead
# of usrsctp's portable SHA-1 (doc/decisions.md, "usrsctp built by the project"). Cached
# in /var/cache/dpfix like wolfSSL.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/.deps/usrsctp"
# shellcheck source=devtools/debian-source.sh
source "$top/devtools/debian-source.sh"

# OPENSSL_API_COMPAT: usrsctp calls OpenSSL's SHA1_Init/SHA256_Init family, which OpenSSL 3
# deprecates (but keeps, and runs without the EVP layer's per-call lookup).
cppflags="-DSCTP_USE_OPENSSL_SHA1 -DSCTP_SUPPORT_HMAC_SHA256 -DOPENSSL_API_COMPAT=0x10101000L"
options="--buildtype=release --default-library=static --libdir=lib -Db_staticpic=true
	-Dsctp_build_programs=false -Dsctp_debug=false -Dsctp_invariants=false"
# Changes of our own to usrsctp's source, applied in order (each file says why).
patches=("$top"/devtools/usrsctp-*.patch)
# shellcheck disable=SC2086
stamp=$(build_stamp libusrsctp-dev "$cppflags $(echo $options)" "${patches[@]}")
built_already usrsctp "$prefix" "$stamp" && exit 0

echo "build-usrsctp: building usrsctp ${stamp%% *} (about half a minute)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(patched_source libusrsctp "$work" "${patches[@]}") || { echo "build-usrsctp: no source" >&2; exit 1; }
cd "$src"
rm -rf "$prefix"
# shellcheck disable=SC2086
meson setup "$work/build" --prefix="$prefix" $options -Dc_args="$cppflags" >"$work/setup.log" 2>&1 ||
	{ tail -20 "$work/setup.log" >&2; exit 1; }
ninja -C "$work/build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
meson install -C "$work/build" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
# What was asked for is in the library: HMAC-SHA256, and both hashes from libcrypto (the
# portable SHA-1 calls no SHA1_Update).
lib="$prefix/lib/libusrsctp.a"
symbols=$(nm "$lib" 2>/dev/null)
for want in "U SHA256_Update" "U SHA1_Update"; do
	grep -q "$want\$" <<<"$symbols" || { echo "build-usrsctp: $lib lacks '$want'" >&2; exit 1; }
done
keep_built usrsctp "$prefix" "$stamp"
echo "build-usrsctp: installed into $prefix"
