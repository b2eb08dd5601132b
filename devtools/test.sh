#!/usr/bin/env bash
# Quick start, second command: installs and builds what is needed, then runs the whole
# test suite twice: in a gcc -Werror build and in an ASan+UBSan build. Also compiles
# everything with clang -Werror, with the libFuzzer targets, and runs each of those
# for a bounded time (suite fuzz). Ends with one line "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# A step that fails before the tests still ends with the count line, as one failure.
broken() {
	echo "== $1 failed"
	echo "0 passed, 1 failed"
	exit 1
}
devtools/setup-deps.sh || broken "installing dependencies"

configure() {   # configure DIR [meson options...]
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] && return 0
	meson setup "$dir" -Dwerror=true "$@" >/tmp/dpfix-setup.log 2>&1 || { cat /tmp/dpfix-setup.log >&2; return 1; }
}

configure build-test || broken "meson setup build-test"
CC=clang configure build-clang -Dfuzzers=true || broken "meson setup build-clang"
# A build-clang configured before the fuzzers existed gets them too.
meson configure build-clang -Dfuzzers=true >/dev/null || broken "meson configure build-clang"
configure build-sanitize -Db_sanitize=address,undefined -Db_lundef=false || broken "meson setup build-sanitize"
for dir in build-test build-clang build-sanitize; do
	echo "== ninja -C $dir"
	ninja -C "$dir" >"$dir/dpfix-ninja.log" 2>&1 || { cat "$dir/dpfix-ninja.log" >&2; broken "ninja -C $dir"; }
done

status=0
# The tests mostly wait (on timers, sessions, peers), so three run at once (meson's
# default is one per core: two here).
export MESON_TESTTHREADS=${MESON_TESTTHREADS:-3}
# Counts come from these logs: none may be left over from an earlier run.
rm -f build-test/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json \
	build-clang/meson-logs/testlog.json
echo "== tests (gcc)"
meson test -C build-test --print-errorlogs "$@" || status=1
echo "== tests (ASan + UBSan)"
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-sanitize --print-errorlogs "$@" || status=1
echo "== fuzz targets (clang, libFuzzer + ASan + UBSan, bounded time each)"
meson test -C build-clang --suite fuzz --print-errorlogs || status=1

# Count test cases: a test program that prints its own "N passed, N failed" counts as
# N + N; any other test counts as one.
/usr/bin/python3 - build-test/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json \
	build-clang/meson-logs/testlog.json <<'PY'
import json, re, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    try:
        lines = open(log).readlines()
    except OSError as e:          # that meson test did not run at all
        print(f"{log}: {e.strerror}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        ok = t["result"] in ("OK", "EXPECTEDFAIL")
        if t["result"] == "SKIP":
            skipped += 1
            continue
        counts = re.findall(r"^(\d+) passed, (\d+) failed", t.get("stdout") or "", re.M)
        if counts:
            p, f = map(int, counts[-1])
            passed += p
            failed += f if (f or ok) else 1
        elif ok:
            passed += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(0 if failed == 0 else 1)
PY
[ $? -eq 0 ] || status=1
exit $status
