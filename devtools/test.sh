#!/usr/bin/env bash
# Quick start, second command: installs and builds what is needed (warnings are errors),
# runs the whole test suite, and ends with one line "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
devtools/setup-deps.sh || exit 1
if [ ! -f build-test/build.ninja ]; then
	meson setup build-test -Dwerror=true >/dev/null || exit 1
fi
ninja -C build-test || exit 1
meson test -C build-test --print-errorlogs "$@"
status=$?
/usr/bin/python3 - build-test/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
