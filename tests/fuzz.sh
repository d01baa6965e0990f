#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (in build-fuzz,
# configured with -Dfuzz=true) and runs each one, one after another, for
# SECONDS on a copy of its seed corpus tests/fuzz/corpus/NAME. Prints one
# line per harness; any crash, leak, timeout or sanitizer report fails
# the run, and the input that caused it is kept under
# build-fuzz/fuzz-artifacts/NAME/.
#
#   bash tests/fuzz.sh               every harness, 20 s each
#   bash tests/fuzz.sh 60 ini path   those two, 60 s each
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-20}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
	echo "usage: tests/fuzz.sh [SECONDS] [NAME...]" >&2
	exit 2
	;;
esac

dir=${ECSFS_FUZZ_BUILD_DIR:-$top/build-fuzz}
if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for d in tests/fuzz/corpus/*/; do
		names+=("$(basename "$d")")
	done
fi

if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true >/dev/null
fi
targets=()
for n in "${names[@]}"; do
	targets+=("tests/fuzz/fuzz_$n")
done
ninja -C "$dir" "${targets[@]}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ecsfs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
printf '%-14s %10s %8s %7s %6s  %s\n' harness runs exec/s cov ft result
for n in "${names[@]}"; do
	corpus=$work/corpus-$n
	art=$dir/fuzz-artifacts/$n
	log=$work/$n.log
	mkdir -p "$corpus" "$art" "$work/tmp-$n"
	cp tests/fuzz/corpus/"$n"/* "$corpus"/
	rc=0
	# Reports go to the log (no log_path); a UBSan report stops the run
	# (the flags set -fno-sanitize-recover=undefined).
	TMPDIR=$work/tmp-$n \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/tests/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" \
		>"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' "$log" | tail -1)
	result=ok
	if [ $rc -ne 0 ] ||
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
		result="FAILED (exit $rc)"
		status=1
	fi
	printf '%-14s %10s %8s %7s %6s  %s\n' "$n" "${runs:--}" "${speed:--}" "${cov:--}" \
		"${ft:--}" "$result"
	if [ "$result" != ok ]; then
		{ grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written|^    #[0-9]' "$log" || true; } |
			head -40 | sed "s/^/  $n: /" >&2
		cp "$log" "$art/last.log"
		echo "  $n: whole log in $art/last.log" >&2
	fi
	# What a harness leaves in its temporary folder is a bug too.
	if [ -n "$(ls -A "$work/tmp-$n")" ]; then
		echo "  $n: left files in its temporary folder: $(ls -A "$work/tmp-$n")" >&2
		status=1
	fi
done
exit $status
