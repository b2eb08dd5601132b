#!/usr/bin/env bash
# Installs what is missing (devtools/setup-deps.sh), then configures and builds dpfix
# into ./build. Extra arguments go to `meson setup` on the first run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
devtools/setup-deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build "$@" >build-setup.log 2>&1 || { cat build-setup.log >&2; exit 1; }
	rm -f build-setup.log
fi
ninja -C build >/dev/null || ninja -C build
