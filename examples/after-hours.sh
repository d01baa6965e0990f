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
#
# Application Auto Scaling: a service with a scalable target
# (services/S/autoscaling/) whose min_capacity is above zero would be
# brought back to that minimum within minutes, and ecsfs refuses to scale
# it below (ERANGE). So "down" lowers min_capacity to 0 before scaling to
# 0 and keeps the old minimum as a third field, "SERVICE COUNT MIN", in the
# same STATE_FILE; "up" restores it after scaling back. A service whose
# scaling is suspended (autoscaling/suspended is true) keeps its minimum.
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

# The min_capacity that keeps a service above zero, or nothing: none when
# it has no scalable target, its scaling is suspended or its minimum is 0.
# Fails when that cannot be told (e.g. Application Auto Scaling's endpoint
# does not answer): nothing is changed then.
floor_of() {
	local as=$1/autoscaling min out susp
	if ! out=$(LC_ALL=C stat -c %F -- "$as" 2>&1); then
		case $out in
		*": No such file or directory") return 0 ;;
		esac
		echo "$0: $as: cannot tell whether auto scaling keeps it up: ${out##*: }" >&2
		return 1
	fi
	# Each read checked: set -e does not reach into the $(...) this runs in.
	susp=$(cat "$as/suspended") || return 1
	[ "$susp" != true ] || return 0
	min=$(cat "$as/min_capacity") || return 1
	case $min in
	'' | *[!0-9]*)
		echo "$0: $as/min_capacity: not a count: '$min'" >&2
		return 1 ;;
	esac
	if [ "$min" -gt 0 ]; then echo "$min"; fi
}

case $action in
down)
	tmp=$(mktemp "${state}.XXXXXX" 2>/dev/null) || {
		mkdir -p "$(dirname "$state")"
		tmp=$(mktemp "${state}.XXXXXX")
	}
	trap 'rm -f "$tmp"' EXIT
	running=0
	lower=()
	for dir in "$services"/*/; do
		dir=${dir%/}
		name=${dir##*/}
		count=$(cat "$dir/desired_count")
		min=$(floor_of "$dir")
		echo "$name $count${min:+ $min}" >>"$tmp"
		if [ -n "$min" ]; then lower+=("$name $min"); fi
		if [ "$count" -gt 0 ]; then running=1; fi
	done
	# Everything already at zero: keep the counts remembered before.
	if [ $running -eq 0 ] && [ -s "$state" ]; then
		rm -f "$tmp"
		echo "$cluster: already scaled down; keeping $state"
		exit 0
	fi
	mv "$tmp" "$state"
	for entry in "${lower[@]}"; do
		name=${entry% *}
		echo 0 >"$services/$name/autoscaling/min_capacity"
		echo "$cluster/$name: autoscaling min ${entry#* } -> 0 before scaling to 0"
	done
	echo 0 | tee "$services"/*/desired_count >/dev/null
	echo "$cluster: scaled $(wc -l <"$state") services to 0; counts saved in $state"
	;;
up)
	[ -s "$state" ] || { echo "$0: no saved counts in $state" >&2; exit 1; }
	while read -r name count min; do
		dir=$services/$name
		if [ ! -d "$dir" ]; then
			echo "$0: $cluster/$name no longer exists; skipped" >&2
			continue
		fi
		echo "$count" >"$dir/desired_count"
		[ -n "$min" ] || continue
		if [ ! -d "$dir/autoscaling" ]; then
			echo "$0: $cluster/$name has no scalable target any more; min_capacity $min not restored" >&2
			continue
		fi
		now=$(cat "$dir/autoscaling/min_capacity")
		echo "$min" >"$dir/autoscaling/min_capacity"
		echo "$cluster/$name: autoscaling min $now -> $min restored after scaling to $count"
	done <"$state"
	echo "$cluster: restored $(wc -l <"$state") services from $state"
	;;
*)
	usage
	;;
esac
