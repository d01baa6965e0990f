#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs the C unit
# tests and the pytest integration tests, then does it all again in a
# build with AddressSanitizer and UndefinedBehaviorSanitizer, where any
# sanitizer report fails the run.
#
#   bash tests/run.sh            both builds
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

# run_suite NAME MESON_ARGS...: configure, build, unit tests, pytest.
run_suite() {
	local name=$1
	shift
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
	ECSFS_BUILD_DIR=$dir /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		${PYTEST_ARGS:-} tests || return 1
}

run_suite build || status=1

if [ "$mode" != quick ] && [ $status -eq 0 ]; then
	san_logs=$(mktemp -d)
	export ASAN_OPTIONS="log_path=$san_logs/asan:detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="log_path=$san_logs/ubsan:print_stacktrace=1:halt_on_error=0"
	export ECSFS_SANITIZER_LOGS=$san_logs
	run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false || status=1
	if compgen -G "$san_logs/*" >/dev/null; then
		echo "== sanitizer reports:" >&2
		cat "$san_logs"/* >&2
		status=1
	fi
	rm -rf "$san_logs"
fi

exit $status
