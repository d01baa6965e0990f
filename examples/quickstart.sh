#!/usr/bin/env bash
# Builds ecsfs, starts the bundled ECS emulator with its example account
# (production-cluster and development-cluster) and mounts it at
# /tmp/ecsfs-demo/mnt, then shows the tree. Safe to run again: it stops the
# previous demo first.
#
#   bash examples/quickstart.sh         build, start, mount, show
#   bash examples/quickstart.sh stop    unmount and stop the emulator
#
# A mount still in use (a shell's working directory, a file open in it) is
# not pulled away: stop says which processes hold it and leaves the demo
# running until they let go. ECSFS_DEMO_DIR and ECSFS_BUILD_DIR change where
# the demo and the build live.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo=${ECSFS_DEMO_DIR:-/tmp/ecsfs-demo}
mnt=$demo/mnt
build=${ECSFS_BUILD_DIR:-$top/build}

. tests/deps.sh
ecsfs_install_deps build

# True while something is mounted at $1 (also when its daemon is gone).
mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts
}

# One line per process whose working directory, root or an open file is
# under $1: its pid, command and which of these. Reads only /proc, so it
# never blocks on the mount.
holders() {
	local p link target what
	for p in /proc/[0-9]*; do
		what=
		for link in "$p/cwd" "$p/root" "$p"/fd/*; do
			target=$(readlink "$link" 2>/dev/null) || continue
			case $target in
			"$1" | "$1"/*)
				case $link in
				*/fd/*) what="$what fd ${link##*/} ($target)" ;;
				*) what="$what ${link##*/} ($target)" ;;
				esac ;;
			esac
		done
		if [ -n "$what" ]; then
			printf '  pid %s %s:%s\n' "${p#/proc/}" "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null |
				cut -c1-60)" "$what"
		fi
	done
}

# Stop what a previous run left.
if mounted "$mnt"; then
	if ! err=$(fusermount3 -u "$mnt" 2>&1); then
		echo "ecsfs demo: cannot unmount $mnt: ${err##*: }" >&2
		list=$(holders "$mnt")
		if [ -n "$list" ]; then
			echo "It is in use by:" >&2
			echo "$list" >&2
			echo "Release it: cd out of $mnt in those shells and end or close the rest," >&2
		else
			echo "No process found using it (run as root to see every user's)." >&2
		fi
		echo "then run: bash $top/examples/quickstart.sh stop" >&2
		echo "The demo keeps running meanwhile." >&2
		exit 1
	fi
fi
if [ -f "$demo/ecsim.pid" ]; then
	kill "$(cat "$demo/ecsim.pid")" 2>/dev/null || true
	rm -f "$demo/ecsim.pid"
fi
if [ "${1:-}" = stop ]; then
	echo "ecsfs demo stopped"
	exit 0
fi

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

mkdir -p "$mnt"
rm -f "$demo/port"
setsid /usr/bin/python3 tests/ecsim/main.py --port 0 --port-file "$demo/port" \
	--seed example --time-scale 10 >"$demo/ecsim.log" 2>&1 </dev/null &
echo $! >"$demo/ecsim.pid"
for _ in $(seq 100); do
	[ -s "$demo/port" ] && break
	sleep 0.1
done
[ -s "$demo/port" ] || { cat "$demo/ecsim.log" >&2; exit 1; }
endpoint=http://127.0.0.1:$(cat "$demo/port")

# The emulator's example credentials; nothing from ~/.aws is used.
export AWS_ACCESS_KEY_ID=AKIAECSIMEXAMPLEKEY01
export AWS_SECRET_ACCESS_KEY=ecsimSecretKeyExample0123456789abcdefGHIJ
export AWS_CONFIG_FILE=$demo/aws-config AWS_SHARED_CREDENTIALS_FILE=$demo/aws-credentials
"$build/fs/ecsfs" -o "region=us-east-1,endpoint=$endpoint" "$mnt"

cd "$mnt"
echo "\$ ls $mnt"
ls
echo
echo "\$ ls production-cluster production-cluster/services"
ls production-cluster production-cluster/services
echo
echo "\$ grep . production-cluster/services/*/{desired_count,running_count,stable}"
grep . production-cluster/services/*/{desired_count,running_count,stable}
echo
echo "\$ cat production-cluster/services/api/deployments"
cat production-cluster/services/api/deployments
echo
echo "\$ ls -l production-cluster/services/worker/tasks | head -4"
ls -l production-cluster/services/worker/tasks | head -4
echo
echo "\$ cat .ecsfs/endpoint"
cat .ecsfs/endpoint
cat <<MSG

ecsfs is mounted at $mnt (emulator at $endpoint, log in $demo/ecsim.log).
Browse it with ls, cat and grep. Stop it with: bash examples/quickstart.sh stop
MSG
