#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages that building and testing msgtap need.
#
# Usage: tests/deps.sh [KVER...]
#   Each KVER (e.g. 6.1.0-56-cloud-amd64) also pulls in linux-headers-KVER so
#   that /lib/modules/KVER/build exists for building the module against it.
# Quiet and without network access when everything is already installed.
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	qemu-system-x86 busybox-static cpio kmod
	gcc-multilib libc6-dev-i386
	libnl-3-dev libnl-genl-3-dev libcli11-dev libgtest-dev libgmock-dev
	nlohmann-json3-dev libfmt-dev libsystemd-dev
	# msgtapd's receive path on the host (tests/bench/host).
	libbenchmark-dev
	python3 prometheus
	# What kbuild needs to build out-of-tree modules against Debian's headers.
	bc flex bison libelf-dev libssl-dev dwarves
	# The packaging tests (tests/pkg): DKMS, the Debian package build and
	# its checks, and the chroot the packages are installed into.
	dkms dh-dkms debhelper dpkg-dev fakeroot lintian debootstrap
	man-db groff-base systemd
)
for kver in "$@"; do
	packages+=("linux-headers-$kver")
done

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
