#!/bin/bash
# ecsfs-step.sh: what every shell step of the Harness kit shares (sourced, bash).
#
# A step calls `ecsfs_begin [ro]` once, then reads and writes the tree with
# tree-relative paths (production-cluster/services/api/desired_count):
#
#   tree_cat PATH...      what cat prints (a wait file streams; the status is the verdict)
#   tree_ls PATH          the names in a folder, one a line, sorted as in the C locale
#   tree_kind PATH        "directory" or "regular file"; else the error on stderr, status 1
#   tree_write VALUE PATH one write of "VALUE\n" to PATH, as `echo VALUE > PATH`
#   tree_journal          the journal lines of this step
#
# The mode is chosen at run time: a mount when /dev/fuse is usable
# (fusermount3 present and the device opens), the commands (ecsfs ls|cat|tee)
# otherwise; ECSFS_MODE=mount or ECSFS_MODE=command in the delegate's
# environment overrides. Both modes give the same results, outputs and
# journal. Options: region=$AWS_REGION, dry_run when DRY_RUN=true, ro when
# asked, then ECSFS_MOUNT_OPTIONS. The journal goes to ECSFS_JOURNAL_FILE
# (kept after the step) or to a file of the step's own. The mount, if any,
# is released when the step ends, also on failure or abort.

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

# ecsfs_begin [ro]: picks the mode, mounts if it is a mount, says what it uses.
ecsfs_begin() {
  ECSFS_STEP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecsfs.XXXXXX")
  ECSFS_JOURNAL=${ECSFS_JOURNAL_FILE:-$ECSFS_STEP_DIR/journal}
  ECSFS_OPTS="region=$AWS_REGION"
  if [ "${1:-}" = ro ]; then ECSFS_OPTS="$ECSFS_OPTS,ro"; fi
  if [ "${DRY_RUN:-false}" = true ]; then ECSFS_OPTS="$ECSFS_OPTS,dry_run"; fi
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

tree_journal() {
  cat -- "$ECSFS_JOURNAL" 2>/dev/null || true
}
