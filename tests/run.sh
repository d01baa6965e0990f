#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs the C unit
# tests and the pytest integration tests, then does it all again in a
# build with AddressSanitizer and UndefinedBehaviorSanitizer, where any
# sanitizer report fails the run. After that, every libFuzzer harness for
# 20 s (tests/fuzz.sh) and the ThreadSanitizer build with its daemon smoke
# test (tests/tsan/run.sh).
#
#   bash tests/run.sh            everything
#   bash tests/run.sh quick      the plain build only
#   PYTEST_ARGS="-k scale" bash tests/run.sh quick
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
. tests/deps.sh
ecsfs_install_deps test

# The suite mounts FUSE filesystems and needs root and /dev/fuse.
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
	echo "tests/run.sh: needs root and /dev/fuse (FUSE mounts are part of the suite)" >&2
	exit 1
fi

mode=${1:-full}
status=0

# run_suite NAME MARKS MESON_ARGS...: configure, build, unit tests, pytest
# (MARKS: a pytest -m expression, or "" for every test).
# shellcheck disable=SC2317  # called through stage
run_suite() {
	local name=$1 marks=$2
	shift 2
	local dir=$top/$name
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" -Dwerror=true "$@" >/dev/null
	else
		meson configure "$dir" -Dwerror=true "$@" >/dev/null
	fi
	ninja -C "$dir"
	echo "== $name: unit tests"
	meson test -C "$dir" --print-errorlogs || return 1
	echo "== $name: integration tests"
	# Exit 5 is "no tests collected": a failure too, as every other non-zero.
	local rc=0
	# Four tests at a time (pytest-xdist): most of a test's time is waiting
	# for the emulator's latency and the scheduler, and every test must pass
	# on a machine loaded by other work anyway. ECSFS_PYTEST_JOBS=1: one.
	# shellcheck disable=SC2086  # PYTEST_ARGS is split into arguments
	ECSFS_BUILD_DIR=$dir /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		-n "${ECSFS_PYTEST_JOBS:-4}" -rs --durations=15 ${marks:+-m "$marks"} \
		${PYTEST_ARGS:-} tests || rc=$?
	if [ "$rc" -eq 5 ]; then
		echo "== $name: pytest collected no tests" >&2
	fi
	[ "$rc" -eq 0 ]
}

# stage NAME COMMAND...: runs a stage and says how long it took.
stage() {
	local name=$1 start=$SECONDS rc=0
	shift
	"$@" || rc=$?
	echo "== $name: $((SECONDS - start)) s, $([ "$rc" -eq 0 ] && echo ok || echo FAILED)"
	return "$rc"
}

# run_asan: the suite again with AddressSanitizer and UBSan; any report fails
# it. Tests of the emulator alone (marked emulator_only) run nothing that was
# built, so they ran once already and are left out here.
# shellcheck disable=SC2317  # called through stage
run_asan() {
	local san_logs rc=0
	san_logs=$(mktemp -d)
	ASAN_OPTIONS="log_path=$san_logs/asan:detect_leaks=1:abort_on_error=0" \
		UBSAN_OPTIONS="log_path=$san_logs/ubsan:print_stacktrace=1:halt_on_error=0" \
		ECSFS_SANITIZER_LOGS=$san_logs \
		run_suite build-asan "not emulator_only" -Db_sanitize=address,undefined -Db_lundef=false || rc=1
	if compgen -G "$san_logs/*" >/dev/null; then
		echo "== sanitizer reports:" >&2
		cat "$san_logs"/* >&2
		rc=1
	fi
	rm -rf "$san_logs"
	return "$rc"
}

stage build run_suite build "" || status=1

if [ "$mode" != quick ] && [ $status -eq 0 ]; then
	stage build-asan run_asan || status=1
	stage fuzz bash tests/fuzz.sh 20 || status=1
	stage build-tsan bash tests/tsan/run.sh || status=1
fi

exit $status
