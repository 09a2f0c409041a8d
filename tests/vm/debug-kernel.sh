#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds, once, a small debug kernel (KASAN, lockdep, kmemleak) from Debian's
# linux-source-6.1 for running the VM suite under sanitizers.
#
# Usage: tests/vm/debug-kernel.sh [--print-dir]
#
# Prints the kernel tree's path on stdout; progress goes to stderr, and with
# --print-dir only a note that a build started. In the tree:
#   arch/x86/boot/bzImage                  the kernel to boot
#   make -C TREE M=/path/to/kmod modules   builds an out-of-tree module
#
# The tree is ${MSGTAP_CACHE:-/var/cache/msgtap}/debug-kernel/KEY/linux-source-6.1,
# outside the source tree; build.log sits beside it. KEY is the package
# version plus a hash of debug-kernel.config, the compiler and the recipe
# below, so editing the fragment or upgrading either package rebuilds. The
# stamp file "complete" is written last: a tree without it is rebuilt from
# scratch, and a tree with it is reused in a fraction of a second. Old KEY
# directories (about 2 GB each) are left alone; remove them by hand.
#
# The kernel is `make tinyconfig` plus debug-kernel.config, which says what
# it adds and why; options it does not name stay off. Guest notes: give it
# 1 GiB (KASAN's shadow takes an eighth of RAM), boot with panic_on_warn=1
# and qemu's -no-reboot (PANIC_TIMEOUT=-1 turns a panic into an exit), and
# trigger kmemleak scans by hand (automatic scanning is off); under TCG a
# scan takes about 10 s, so scan once per scenario at most.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/debug-kernel.config
cache=${MSGTAP_CACHE:-/var/cache/msgtap}
pkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
# Bump when the steps in build() change in a way that needs a rebuild.
recipe=1

quiet=
case ${1:-} in
"") ;;
--print-dir) quiet=1 ;;
*)
	echo "usage: $0 [--print-dir]" >&2
	exit 2
	;;
esac
[ $# -le 1 ] || {
	echo "usage: $0 [--print-dir]" >&2
	exit 2
}

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

say() {
	[ -n "$quiet" ] || echo "debug-kernel: $*" >&2
}

installed_version() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$pkg" 2>/dev/null |
		sed -n 's/^ii *//p'
}

has_candidate() {
	[[ $(apt-cache policy "$pkg" 2>/dev/null) == *"Candidate: "[!\(]* ]]
}

ensure_source() {
	if [ -n "$(installed_version)" ] && [ -f "$tarball" ]; then
		return
	fi
	[ "$(id -u)" = 0 ] || die "$pkg is not installed; run: apt-get install $pkg"
	echo "debug-kernel: installing $pkg" >&2
	if ! apt-get install -y -qq "$pkg" >&2; then
		# Only stale or missing package lists justify a refresh.
		has_candidate && die "apt-get install $pkg failed"
		echo "debug-kernel: refreshing the package lists (apt-get update)" >&2
		apt-get update -qq >&2 || die "apt-get update failed"
		apt-get install -y -qq "$pkg" >&2 || die "apt-get install $pkg failed"
	fi
	[ -f "$tarball" ] || die "$pkg is installed but $tarball is missing"
}

# run LOG COMMAND...: runs COMMAND with its output appended to LOG; on
# failure shows the log's tail and exits.
run() {
	local log=$1
	shift
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1 && return
	echo "debug-kernel: failed: $*" >&2
	echo "debug-kernel: last lines of $log:" >&2
	tail -n 40 "$log" >&2
	exit 1
}

# Every line of the fragment must survive olddefconfig: a dependency that is
# not met drops an option silently.
check_config() {
	local config=$1 line sym bad=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}
			grep -qxF -- "$line" "$config" && continue
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$config" || continue
			;;
		*) continue ;;
		esac
		bad+="  wanted: $line"$'\n'
		bad+="  got:    $(grep -E "^(# )?${sym}[= ]" "$config" || echo "(no $sym: unknown or hidden by a dependency)")"$'\n'
	done <"$fragment"
	[ -z "$bad" ] || die "options from ${fragment##*/} did not stick in $config:"$'\n'"${bad%$'\n'}"
}

# What the suite relies on beyond the config: a probe-able do_msgsnd, generic
# netlink, and the files out-of-tree modules build against.
check_build() {
	local tree=$1 f
	for f in arch/x86/boot/bzImage net/netlink/genetlink.o Module.symvers \
		scripts/mod/modpost scripts/module.lds; do
		[ -e "$tree/$f" ] || die "build finished but $tree/$f is missing"
	done
	grep -qE '^[0-9a-f]+ [tT] do_msgsnd$' "$tree/System.map" ||
		die "do_msgsnd is not a text symbol in $tree/System.map (inlined or renamed?)"
}

build() {
	local dir=$1 tree=$1/linux-source-6.1 log=$1/build.log start
	start=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$log"
	say "unpacking $tarball into $dir"
	run "$log" tar -xf "$tarball" -C "$dir"
	[ -d "$tree" ] || die "$tarball did not unpack to $tree"
	say "configuring (tinyconfig + ${fragment##*/})"
	run "$log" make -C "$tree" tinyconfig
	# -n: allnoconfig over tinyconfig's choices plus the fragment. olddefconfig
	# would switch on every default in the menus the fragment opens (IPv6,
	# wireless, VT, PS/2 mice, cpufreq, thermal): a slower build and boot.
	run "$log" env -C "$tree" scripts/kconfig/merge_config.sh -n .config "$fragment"
	check_config "$tree/.config"
	say "building bzImage and modules_prepare with -j$(nproc) (15-30 minutes on 2 cores), log: $log"
	run "$log" make -C "$tree" -j"$(nproc)" bzImage modules_prepare modules
	check_build "$tree"
	printf '%s %s\nfragment %s\nbuilt in %ss on %s\n' "$pkg" "$version" \
		"$(sha256sum <"$fragment" | cut -c1-64)" "$(($(date +%s) - start))" \
		"$(date -u +%FT%TZ)" >"$dir/complete"
	say "built in $(($(date +%s) - start))s: $tree/arch/x86/boot/bzImage"
}

[ "$(uname -m)" = x86_64 ] || die "builds an x86_64 kernel on an x86_64 host only"
[ -f "$fragment" ] || die "config fragment $fragment is missing"
ensure_source
version=$(installed_version)
[ -n "$version" ] || die "cannot read the version of $pkg"
hash=$({
	echo "recipe $recipe"
	gcc --version | head -n1
	cat "$fragment"
} | sha256sum | cut -c1-12)
key=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+-' '_')-$hash
dir=$cache/debug-kernel/$key
tree=$dir/linux-source-6.1

if [ ! -f "$dir/complete" ]; then
	mkdir -p "$cache/debug-kernel"
	# Two runs may share the cache: one builds while the other waits.
	exec 9>"$cache/debug-kernel/.lock"
	if ! flock -n 9; then
		echo "debug-kernel: waiting for another run to finish building" >&2
		flock 9
	fi
	if [ ! -f "$dir/complete" ]; then
		[ -z "$quiet" ] || echo "debug-kernel: building $tree (15-30 minutes on 2 cores), log: $dir/build.log" >&2
		build "$dir"
	fi
	exec 9>&-
fi
echo "$tree"
