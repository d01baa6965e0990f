#!/usr/bin/env bash
# The ThreadSanitizer pass: builds ecsfs and the unit tests with clang and
# -fsanitize=thread in build-tsan, runs the unit tests (cache_threads,
# pace, creds and creds_process start threads; the rest cost little), then
# tests/tsan/smoke.py, a burst of concurrent reads and writes through a
# mount of the emulator. Any ThreadSanitizer report fails it; the only
# suppressions are jansson's reference counting (tests/tsan/suppressions.txt).
#
#   bash tests/tsan/run.sh [ROUNDS]     ROUNDS of the smoke burst, default 10
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
dir=${ECSFS_TSAN_BUILD_DIR:-$top/build-tsan}
rounds=${1:-10}

if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Db_sanitize=thread -Db_lundef=false >/dev/null
fi
ninja -C "$dir" >/dev/null

# exitcode: a test or the daemon that reported exits 66 and so fails.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$top/tests/tsan/suppressions.txt"
status=0
echo "== build-tsan: unit tests"
meson test -C "$dir" --print-errorlogs || status=1
echo "== build-tsan: daemon smoke test"
ECSFS_BUILD_DIR=$dir /usr/bin/python3 tests/tsan/smoke.py "$rounds" || status=1
exit $status
