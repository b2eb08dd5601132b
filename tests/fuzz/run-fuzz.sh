#!/usr/bin/env bash
# run-fuzz.sh TARGET SEED_CORPUS SECONDS: runs a libFuzzer target for a bounded time.
# New inputs go to a scratch corpus, never into the committed seeds; a crash leaves
# its input in the build directory (crash-*) and fails the test.
set -euo pipefail
target=$1 seeds=$2 seconds=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/dpfix-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$(dirname "$target")/artifacts-$(basename "$target")"
mkdir -p "$artifacts"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$work" "$seeds"
