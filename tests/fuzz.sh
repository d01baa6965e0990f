#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (in build-fuzz,
# configured with -Dfuzz=true) and runs each one for SECONDS on a copy of
# its seed corpus tests/fuzz/corpus/NAME, as many at a time as there are
# CPUs. Prints one line per harness; any crash, leak, timeout or sanitizer
# report fails the run, and the input that caused it is kept under
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

# fuzz_one NAME: runs one harness; its table row goes to $work/NAME.row,
# what went wrong to $work/NAME.err, and its verdict to $work/NAME.rc.
fuzz_one() {
	local n=$1 corpus=$work/corpus-$1 art=$dir/fuzz-artifacts/$1 log=$work/$1.log
	local rc=0 runs speed cov ft result status=0
	mkdir -p "$corpus" "$art" "$work/tmp-$n"
	cp tests/fuzz/corpus/"$n"/* "$corpus"/
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
		"${ft:--}" "$result" >"$work/$n.row"
	: >"$work/$n.err"
	if [ "$result" != ok ]; then
		{ grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written|^    #[0-9]' "$log" || true; } |
			head -40 | sed "s/^/  $n: /" >>"$work/$n.err"
		cp "$log" "$art/last.log"
		echo "  $n: whole log in $art/last.log" >>"$work/$n.err"
	fi
	# What a harness leaves in its temporary folder is a bug too.
	if [ -n "$(ls -A "$work/tmp-$n")" ]; then
		echo "  $n: left files in its temporary folder: $(ls -A "$work/tmp-$n")" >>"$work/$n.err"
		status=1
	fi
	echo "$status" >"$work/$n.rc"
}

# As many harnesses at a time as there are CPUs (ECSFS_FUZZ_JOBS to change
# it): each still runs for SECONDS of its own.
jobs=${ECSFS_FUZZ_JOBS:-$(nproc)}
running=0
for n in "${names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz_one "$n" &
	running=$((running + 1))
done
wait

status=0
printf '%-14s %10s %8s %7s %6s  %s\n' harness runs exec/s cov ft result
for n in "${names[@]}"; do
	if [ -f "$work/$n.row" ]; then
		cat "$work/$n.row"
		cat "$work/$n.err" >&2
	else
		echo "  $n: did not run to the end" >&2
	fi
	[ "$(cat "$work/$n.rc" 2>/dev/null)" = 0 ] || status=1
done
exit $status
