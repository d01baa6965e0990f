#!/bin/bash
# ecsfs-step.sh: what every shell step of the Harness kit shares (sourced, bash).
#
# A step calls `ecsfs_begin [ro|check]` once, then reads and writes the tree
# with tree-relative paths (production-cluster/services/api/desired_count):
#
#   tree_cat PATH...      what cat prints (a wait file streams; the status is the verdict)
#   tree_ls PATH          the names in a folder, one a line, sorted as in the C locale
#   tree_kind PATH        "directory" or "regular file"; else the error on stderr, status 1
#   tree_write VALUE PATH one write of "VALUE\n" to PATH, as `echo VALUE > PATH`
#   tree_journal          the journal lines of this step
#   tree_need WHAT PATH   status 0 when the folder PATH is there, else 1 with NEED_ERROR
#   tree_journal_of PATH  the last journal line about PATH's object (a service, ...)
#   tree_scale C S VALUE  VALUE (N, +N, -N) to C/services/S/desired_count, so that
#                         Application Auto Scaling cannot undo it (below)
#   autoscaling_of C S    AS_MIN, AS_MAX, AS_SUSPENDED of the service's scalable
#                         target (all empty without one); status 1 when it cannot tell
#   scaled_count CUR VALUE  the count VALUE makes of CUR (floor 0)
#   items TEXT            the names of a list ("api, web"), one a line
#   inputs_given VAR...   empties each VAR that Harness passed as "null"
#
# `ecsfs_begin ro` mounts read-only; `ecsfs_begin check` is a dry run whatever
# DRY_RUN says: a step that only checks writes (a revision to deploy) makes
# them there, validated by ecsfs and ECS, and nothing is sent that mutates.
#
# The mode is chosen at run time: a mount when /dev/fuse is usable
# (fusermount3 present and the device opens), the commands (ecsfs ls|cat|tee)
# otherwise; ECSFS_MODE=mount or ECSFS_MODE=command in the delegate's
# environment overrides. Both modes give the same results, outputs and
# journal. Options: region=$AWS_REGION, dry_run when DRY_RUN=true, ro when
# asked, then ECSFS_MOUNT_OPTIONS. The journal goes to ECSFS_JOURNAL_FILE
# (kept after the step) or to a file of the step's own. The mount, if any,
# is released when the step ends, also on failure or abort.
#
# tree_scale and a scalable target (services/S/autoscaling/): ecsfs refuses a
# count outside [min_capacity, max_capacity] while scaling is not suspended
# (ERANGE), since Application Auto Scaling would move it back. A count below
# min_capacity first lowers min_capacity to that count, and the old minimum is
# saved; a later count at or above the saved minimum restores it after the
# write. A count above max_capacity is refused before anything is written.
# The saved minimums are "CLUSTER/SERVICE MIN" lines in
# $ECSFS_STATE_DIR/autoscaling-REGION (default ~/.local/state/ecsfs), on the
# delegate: give the delegates of the tag one shared ECSFS_STATE_DIR (a
# volume) when a scale-up may run on another delegate than the scale-down.
# Steps that save at the same moment take turns (state_locked below).

items() { tr -s ', ' '\n' <<<"$1" | sed '/^$/d'; }

# inputs_given VAR...: Harness passes an input left empty in an input set,
# and the output of a step that did not run, as "null"; such a VAR is emptied.
inputs_given() {
  local v
  for v in "$@"; do
    if [ "${!v:-}" = null ]; then printf -v "$v" ''; fi
  done
}

ecsfs_fuse_usable() {
  command -v fusermount3 >/dev/null 2>&1 && [ -c /dev/fuse ] && { : <>/dev/fuse; } 2>/dev/null
}

ecsfs_end() {
  cd /
  if [ "${ECSFS_MODE:-}" = mount ] && [ -n "${ECSFS_MNT:-}" ]; then
    fusermount3 -u "$ECSFS_MNT" 2>/dev/null || fusermount3 -u -z "$ECSFS_MNT" 2>/dev/null || true
    rmdir "$ECSFS_MNT" 2>/dev/null || true
  fi
  if [ -n "${ECSFS_STEP_DIR:-}" ]; then rm -rf "$ECSFS_STEP_DIR"; fi
}

# ecsfs_begin [ro|check]: picks the mode, mounts if it is a mount, says what it uses.
ecsfs_begin() {
  ECSFS_STEP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecsfs.XXXXXX")
  ECSFS_JOURNAL=${ECSFS_JOURNAL_FILE:-$ECSFS_STEP_DIR/journal}
  ECSFS_OPTS="region=$AWS_REGION"
  ECSFS_DRY_RUN=false
  case ${1:-} in
    "") ;;
    ro) ECSFS_OPTS="$ECSFS_OPTS,ro" ;;
    check) ECSFS_DRY_RUN=true ;;
    *) echo "ecsfs_begin: '$1' is not ro or check" >&2; return 1 ;;
  esac
  if [ "${DRY_RUN:-false}" = true ]; then ECSFS_DRY_RUN=true; fi
  if [ "$ECSFS_DRY_RUN" = true ]; then ECSFS_OPTS="$ECSFS_OPTS,dry_run"; fi
  ECSFS_OPTS="$ECSFS_OPTS,journal=$ECSFS_JOURNAL${ECSFS_MOUNT_OPTIONS:+,$ECSFS_MOUNT_OPTIONS}"
  case ${ECSFS_MODE:-} in
    mount | command) ;;
    "") if ecsfs_fuse_usable; then ECSFS_MODE="mount"; else ECSFS_MODE="command"; fi ;;
    *) echo "ECSFS_MODE is '$ECSFS_MODE', not mount or command" >&2; return 1 ;;
  esac
  trap ecsfs_end EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ "$ECSFS_MODE" = mount ]; then
    ECSFS_MNT=$ECSFS_STEP_DIR/mnt
    mkdir "$ECSFS_MNT"
    ecsfs -o "$ECSFS_OPTS" "$ECSFS_MNT" || return 1
  fi
  local version
  version=$(tree_cat .ecsfs/version) || return 1
  echo "$version ($ECSFS_MODE${1:+, $1}): region=$(tree_cat .ecsfs/region) dry_run=$(tree_cat .ecsfs/dry_run)"
}

tree_cat() {
  if [ "$ECSFS_MODE" = mount ]; then
    local p args=()
    for p in "$@"; do args+=("$ECSFS_MNT/$p"); done
    cat -- "${args[@]}"
  else
    ecsfs -o "$ECSFS_OPTS" cat -- "$@"
  fi
}

tree_ls() {
  if [ "$ECSFS_MODE" = mount ]; then
    LC_ALL=C ls -- "$ECSFS_MNT/${1:-}"
  else
    ecsfs -o "$ECSFS_OPTS" ls -- "${1:-.}"
  fi
}

tree_kind() {
  local out
  if [ "$ECSFS_MODE" = mount ]; then
    LC_ALL=C stat -c %F -- "$ECSFS_MNT/$1"
    return
  fi
  if out=$(ecsfs -o "$ECSFS_OPTS" cat -- "$1" 2>&1 >/dev/null); then
    echo "regular file"
  elif [ "${out##*: }" = "Is a directory" ]; then
    echo directory
  else
    echo "$out" >&2
    return 1
  fi
}

tree_write() {
  if [ "$ECSFS_MODE" = mount ]; then
    printf '%s\n' "$1" >"$ECSFS_MNT/$2"
  else
    printf '%s\n' "$1" | ecsfs -o "$ECSFS_OPTS" tee -- "$2" >/dev/null
  fi
}

# tree_need WHAT PATH: status 0 when the folder PATH is there. Else status 1,
# and NEED_ERROR says whether it is missing ("no WHAT": ENOENT) or could not
# be checked ("cannot check WHAT: ERROR": the endpoint is down, the policy
# refuses the Describe call, ...).
# shellcheck disable=SC2034 # NEED_ERROR is for the step that calls it
tree_need() {
  local out why
  NEED_ERROR=''
  if out=$(tree_kind "$2" 2>&1); then
    [ "$out" = directory ] && return 0
    NEED_ERROR="no $1 ($2 is a $out)"
    return 1
  fi
  why=${out##*: }
  if [ "$why" = "No such file or directory" ]; then
    NEED_ERROR="no $1"
  else
    NEED_ERROR="cannot check $1: $why"
  fi
  return 1
}

tree_journal() {
  cat -- "$ECSFS_JOURNAL" 2>/dev/null || true
}

# tree_journal_of PATH: the last journal line whose target is PATH (a
# service's folder, CLUSTER/services/S), or nothing.
tree_journal_of() {
  local line last=
  while IFS= read -r line; do
    case $line in *" target=$1 "*) last=$line ;; esac
  done < <(tree_journal)
  if [ -n "$last" ]; then printf '%s\n' "$last"; fi
}

# scaled_count CUR VALUE: the count VALUE (N, +N or -N) makes of CUR; as
# ecsfs computes a relative write, a result below 0 is 0.
scaled_count() {
  local n
  case $2 in
    +*) n=$(($1 + 10#${2#+})) ;;
    -*) n=$(($1 - 10#${2#-})) ;;
    *) n=$((10#$2)) ;;
  esac
  if [ "$n" -lt 0 ]; then n=0; fi
  echo "$n"
}

# autoscaling_of CLUSTER SERVICE: sets AS_MIN, AS_MAX and AS_SUSPENDED from
# the service's autoscaling/ folder, or empties them when it has none.
# Returns 1 with the reason in AS_ERROR when that cannot be told (e.g. the
# policy refuses DescribeScalableTargets).
autoscaling_of() {
  local as=$1/services/$2/autoscaling out f
  AS_MIN='' AS_MAX='' AS_SUSPENDED='' AS_ERROR=''
  if ! out=$(tree_kind "$as" 2>&1); then
    if [ "${out##*: }" = "No such file or directory" ]; then return 0; fi
    AS_ERROR=${out##*: }
    return 1
  fi
  for f in min_capacity max_capacity suspended; do
    if ! out=$(tree_cat "$as/$f" 2>&1); then
      AS_ERROR=${out##*: }
      AS_MIN='' AS_MAX='' AS_SUSPENDED=''
      return 1
    fi
    case $f in
      min_capacity) AS_MIN=$out ;;
      max_capacity) AS_MAX=$out ;;
      *) AS_SUSPENDED=$out ;;
    esac
  done
}

ecsfs_state_file() {
  printf '%s/autoscaling-%s\n' "${ECSFS_STATE_DIR:-${HOME:-/tmp}/.local/state/ecsfs}" "$AWS_REGION"
}

# saved_min KEY: the minimum saved for KEY (CLUSTER/SERVICE), or nothing.
saved_min() {
  local f k v
  f=$(ecsfs_state_file)
  [ -r "$f" ] || return 0
  while read -r k v; do
    if [ "$k" = "$1" ]; then
      echo "$v"
      return 0
    fi
  done <"$f"
}

# state_locked FILE CMD...: runs CMD with FILE's lock held, so that steps
# saving at the same moment (on one delegate, or on a volume the delegates
# share) do not lose each other's lines. flock(1) where it is installed;
# else a directory FILE.lock (mkdir is atomic on any filesystem), broken when
# older than a minute (its step died holding it; holding it takes
# milliseconds). Gives up after 30 s, saying why.
state_locked() {
  local f=$1 lock=$1.lock rc n=0
  shift
  if command -v flock >/dev/null 2>&1; then
    {
      if ! flock -w 30 9; then
        echo "cannot lock $lock: another step has held it for 30 s" >&2
        return 1
      fi
      "$@"
    } 9>>"$lock"
    return
  fi
  until mkdir "$lock.d" 2>/dev/null; do
    if [ -n "$(find "$lock.d" -maxdepth 0 -mmin +1 2>/dev/null)" ]; then
      rmdir "$lock.d" 2>/dev/null
    elif [ $((n += 1)) -gt 300 ]; then
      echo "cannot lock $lock.d: another step has held it for 30 s" >&2
      return 1
    else
      sleep 0.1
    fi
  done
  "$@"
  rc=$?
  rmdir "$lock.d"
  return $rc
}

# saved_rewrite FILE KEY [MIN]: FILE with KEY's line replaced by MIN, or dropped.
saved_rewrite() {
  local f=$1 tmp k v
  tmp=$(mktemp "$f.XXXXXX") || return 1
  if [ -r "$f" ]; then
    while read -r k v; do
      if [ "$k" != "$2" ]; then printf '%s %s\n' "$k" "$v"; fi
    done <"$f" >"$tmp"
  fi
  if [ -n "${3:-}" ]; then printf '%s %s\n' "$2" "$3" >>"$tmp"; fi
  mv -f "$tmp" "$f"
}

# saved_put KEY [MIN]: saves MIN for KEY, or forgets KEY when MIN is not given.
saved_put() {
  local f
  f=$(ecsfs_state_file)
  mkdir -p "${f%/*}" || return 1
  state_locked "$f" saved_rewrite "$f" "$@"
}

# tree_scale CLUSTER SERVICE VALUE: see the top of this file. Prints a line
# for each change of the scalable target; status 1 (with the reason on
# stderr) when a write failed or the count is above max_capacity.
tree_scale() {
  local c=$1 s=$2 value=$3 d=$1/services/$2 cur new saved min
  if ! autoscaling_of "$c" "$s"; then
    echo "$s: cannot read its autoscaling: $AS_ERROR" >&2
    return 1
  fi
  if [ -z "$AS_MIN" ]; then
    tree_write "$value" "$d/desired_count"
    return
  fi
  cur=$(tree_cat "$d/desired_count") || return 1
  new=$(scaled_count "$cur" "$value")
  saved=$(saved_min "$c/$s")
  min=$AS_MIN
  if [ "$AS_SUSPENDED" != true ] && [ "$new" -gt "$AS_MAX" ]; then
    echo "$s: $new is above its autoscaling max_capacity $AS_MAX; raise $d/autoscaling/max_capacity first" >&2
    return 1
  fi
  if [ "$AS_SUSPENDED" != true ] && [ "$new" -lt "$min" ]; then
    tree_write "$new" "$d/autoscaling/min_capacity" || return 1
    echo "$s: autoscaling min $min -> $new before scaling to $new"
    if [ "$ECSFS_DRY_RUN" = true ]; then
      # The minimum is not really lowered, so ecsfs would refuse the count (ERANGE).
      echo "$s: dry run: desired_count $value would follow"
      return 0
    fi
    if [ -z "$saved" ]; then saved_put "$c/$s" "$min" || return 1; fi
    tree_write "$value" "$d/desired_count"
    return
  fi
  tree_write "$value" "$d/desired_count" || return 1
  if [ -n "$saved" ] && [ "$new" -ge "$saved" ]; then
    # A minimum raised by hand since is left as it is.
    if [ "$min" -lt "$saved" ]; then
      tree_write "$saved" "$d/autoscaling/min_capacity" || return 1
      echo "$s: autoscaling min $min -> $saved restored after scaling to $new"
    fi
    if [ "$ECSFS_DRY_RUN" != true ]; then saved_put "$c/$s" || return 1; fi
  elif [ -n "$saved" ] && [ "$min" -lt "$saved" ]; then
    echo "$s: autoscaling min stays $min (its saved $saved comes back with a count of $saved or more)"
  fi
}
