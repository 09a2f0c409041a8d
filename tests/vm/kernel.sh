#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Resolves a kernel spec to a Debian kernel version and fetches its image.
#
# Usage:
#   tests/vm/kernel.sh resolve SPEC   print the kernel version (KVER) for SPEC
#   tests/vm/kernel.sh fetch KVER     download and unpack linux-image-KVER into
#                                     the cache, print the unpacked directory
#
# SPEC is a short name that follows a Debian meta-package, so the tests move
# to a new ABI as soon as the archive does:
#   6.1           linux-image-cloud-amd64 (the default)
#   6.1-generic   linux-image-amd64
#   6.1-rt        linux-image-rt-amd64
#   6.12          linux-image-6.12-cloud-amd64
#   6.12-generic  linux-image-6.12-amd64
#   6.12-rt       linux-image-6.12-rt-amd64
# or a full version such as 6.1.0-56-cloud-amd64, taken as it is.
#
# The unpacked package stays in ${MSGTAP_CACHE:-/var/cache/msgtap}/kernels/KVER
# (boot/vmlinuz-KVER and lib/modules/KVER), outside the source tree, and is
# reused by every later run.
set -euo pipefail

cache=${MSGTAP_CACHE:-/var/cache/msgtap}

die() {
	echo "kernel: $*" >&2
	exit 1
}

# apt-cache knows nothing until the package lists exist; refresh them at most
# once per invocation, and only when a lookup came back empty.
apt_updated=
apt_update_once() {
	[ -n "$apt_updated" ] && return 1
	apt_updated=1
	echo "kernel: refreshing the package lists (apt-get update)" >&2
	apt-get update -qq >&2 || die "apt-get update failed"
}

meta_package() {
	local spec=$1 series flavour
	series=${spec%%-*}
	flavour=${spec#"$series"}
	flavour=${flavour#-}
	case $flavour in
	"" | cloud) flavour=cloud-amd64 ;;
	generic) flavour=amd64 ;;
	rt) flavour=rt-amd64 ;;
	*) return 1 ;;
	esac
	case $series in
	# 6.1 is bookworm's own kernel: its meta-packages carry no version.
	6.1) echo "linux-image-$flavour" ;;
	[0-9]*.[0-9]*) echo "linux-image-$series-$flavour" ;;
	*) return 1 ;;
	esac
}

resolve() {
	local spec=$1 meta dep
	if [[ $spec =~ ^[0-9]+\.[0-9]+\.[0-9]+[^[:space:]/]*-amd64$ ]]; then
		echo "$spec"
		return
	fi
	meta=$(meta_package "$spec") ||
		die "unknown kernel spec '$spec' (try 6.1, 6.12, 6.1-generic, 6.12-rt or a full version like 6.1.0-56-cloud-amd64)"
	while :; do
		dep=$(apt-cache depends "$meta" 2>/dev/null |
			sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[^ ]*\).*/\1/p' | head -n1)
		[ -n "$dep" ] && break
		apt_update_once || die "cannot resolve '$spec': apt-cache knows no dependency of $meta"
	done
	dep=${dep#linux-image-}
	echo "${dep%-unsigned}"
}

has_candidate() {
	local policy
	policy=$(apt-cache policy "$1" 2>/dev/null)
	[[ $policy == *"Candidate: "[!\(]* ]]
}

fetch() {
	local kver=$1 dir="$cache/kernels/$1" pkg tmp deb
	if [ -f "$dir/boot/vmlinuz-$kver" ]; then
		echo "$dir"
		return
	fi
	mkdir -p "$cache/kernels"
	# Two runs may share the cache: let one download while the other waits.
	exec 8>"$cache/kernels/.lock"
	flock 8
	if [ -f "$dir/boot/vmlinuz-$kver" ]; then
		echo "$dir"
		return
	fi
	# The signed package holds the same image and modules as -unsigned; use
	# whichever the archive has.
	while :; do
		pkg=
		for p in "linux-image-$kver" "linux-image-$kver-unsigned"; do
			if has_candidate "$p"; then
				pkg=$p
				break
			fi
		done
		[ -n "$pkg" ] && break
		apt_update_once || die "no package linux-image-$kver in the archive"
	done
	tmp=$(mktemp -d "$cache/kernels/.fetch.XXXXXX")
	# apt drops privileges to _apt for downloads; let it write here.
	chmod 0755 "$tmp"
	if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
	echo "kernel: downloading $pkg" >&2
	(cd "$tmp" && apt-get download -qq "$pkg" >&2) || {
		rm -rf "$tmp"
		die "apt-get download $pkg failed"
	}
	deb=$(ls "$tmp"/*.deb)
	mkdir "$tmp/root"
	dpkg-deb -x "$deb" "$tmp/root" || {
		rm -rf "$tmp"
		die "cannot unpack $deb"
	}
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] || {
		rm -rf "$tmp"
		die "$pkg has no boot/vmlinuz-$kver"
	}
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	echo "$dir"
}

case ${1:-} in
resolve)
	[ $# -eq 2 ] || die "usage: $0 resolve SPEC"
	resolve "$2"
	;;
fetch)
	[ $# -eq 2 ] || die "usage: $0 fetch KVER"
	fetch "$2"
	;;
*)
	die "usage: $0 resolve SPEC | fetch KVER"
	;;
esac
