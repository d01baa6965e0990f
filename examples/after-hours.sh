#!/usr/bin/env bash
# After-hours cost saving through an ecsfs mount: scale every service of a
# cluster to zero in the evening, remembering each desired count, and
# bring them back in the morning.
#
#   after-hours.sh down MOUNT CLUSTER [STATE_FILE]
#   after-hours.sh up   MOUNT CLUSTER [STATE_FILE]
#
# STATE_FILE (default /var/lib/ecsfs/after-hours-CLUSTER) holds one
# "SERVICE COUNT" line per service. Running "down" twice keeps the counts
# of the first run; "up" leaves services not in the file alone. Cron:
#   0 20 * * 1-5  /usr/local/share/ecsfs/after-hours.sh down /mnt/ecs development-cluster
#   0 7  * * 1-5  /usr/local/share/ecsfs/after-hours.sh up   /mnt/ecs development-cluster
set -euo pipefail

usage() {
	echo "usage: $0 down|up MOUNT CLUSTER [STATE_FILE]" >&2
	exit 2
}

[ $# -ge 3 ] || usage
action=$1 mount=$2 cluster=$3
state=${4:-/var/lib/ecsfs/after-hours-$cluster}
services=$mount/$cluster/services

[ -d "$services" ] || { echo "$0: no such cluster: $mount/$cluster" >&2; exit 1; }

case $action in
down)
	tmp=$(mktemp "${state}.XXXXXX" 2>/dev/null) || {
		mkdir -p "$(dirname "$state")"
		tmp=$(mktemp "${state}.XXXXXX")
	}
	running=0
	for dir in "$services"/*/; do
		name=$(basename "$dir")
		count=$(cat "$dir/desired_count")
		echo "$name $count" >>"$tmp"
		[ "$count" -gt 0 ] && running=1
	done
	# Everything already at zero: keep the counts remembered before.
	if [ $running -eq 0 ] && [ -s "$state" ]; then
		rm -f "$tmp"
		echo "$cluster: already scaled down; keeping $state"
		exit 0
	fi
	mv "$tmp" "$state"
	echo 0 | tee "$services"/*/desired_count >/dev/null
	echo "$cluster: scaled $(wc -l <"$state") services to 0; counts saved in $state"
	;;
up)
	[ -s "$state" ] || { echo "$0: no saved counts in $state" >&2; exit 1; }
	while read -r name count; do
		if [ -d "$services/$name" ]; then
			echo "$count" >"$services/$name/desired_count"
		else
			echo "$0: $cluster/$name no longer exists; skipped" >&2
		fi
	done <"$state"
	echo "$cluster: restored $(wc -l <"$state") services from $state"
	;;
*)
	usage
	;;
esac
