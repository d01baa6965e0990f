#!/usr/bin/env bash
# Builds ecsfs, starts the bundled ECS emulator with its example account
# (production-cluster and development-cluster) and mounts it at
# /tmp/ecsfs-demo/mnt, then shows the tree. Safe to run again: it stops the
# previous demo first.
#
#   bash examples/quickstart.sh         build, start, mount, show
#   bash examples/quickstart.sh stop    unmount and stop the emulator
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo=${ECSFS_DEMO_DIR:-/tmp/ecsfs-demo}
mnt=$demo/mnt

. tests/deps.sh
ecsfs_install_deps build

# Stop what a previous run left.
if mountpoint -q "$mnt" 2>/dev/null; then
	fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"
fi
if [ -f "$demo/ecsim.pid" ]; then
	kill "$(cat "$demo/ecsim.pid")" 2>/dev/null || true
	rm -f "$demo/ecsim.pid"
fi
if [ "${1:-}" = stop ]; then
	echo "ecsfs demo stopped"
	exit 0
fi

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

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
"$top/build/fs/ecsfs" -o "region=us-east-1,endpoint=$endpoint" "$mnt"

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
