#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages ecsfs needs to build, run
# and test, when any is missing. The tests need clang, its sanitizer and
# libFuzzer runtimes (libclang-rt-14-dev) and llvm-symbolizer (llvm-14)
# for tests/fuzz.sh and tests/tsan/run.sh, and stress-ng for runs under load. Safe to run again: it installs nothing
# when everything is there. Sourced or run by examples/quickstart.sh and
# tests/run.sh.
set -euo pipefail

ecsfs_build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libfuse3-dev fuse3
	libcurl4-openssl-dev libjansson-dev libssl-dev libxml2-dev openssl ca-certificates
	python3 python3-botocore)
ecsfs_test_pkgs=(python3-pytest python3-pytest-xdist python3-boto3 awscli python3-yaml python3-jsonschema groff-base shellcheck
	jq procps psmisc
	clang libclang-rt-14-dev llvm-14 stress-ng)

ecsfs_install_deps() {
	local want=("${ecsfs_build_pkgs[@]}")
	[ "${1:-}" = test ] && want+=("${ecsfs_test_pkgs[@]}")
	local missing=()
	local p
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "ecsfs: installing ${missing[*]}" >&2
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	ecsfs_install_deps "${1:-build}"
fi
