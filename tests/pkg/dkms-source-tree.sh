#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that `make dkms-install` copies exactly the module's sources (the
# kmod/ files git tracks, the uapi header, VERSION) and a dkms.conf that
# names msgtap at the version of ./VERSION, builds only where kprobes,
# kretprobes and SysV IPC exist, and autoinstalls; and that VERSION is the
# one place the version lives (debian/changelog agrees with it).
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

dest=$MSGTAP_PKG_OUT/dkms-source-tree
rm -rf "$dest"
make --no-print-directory dkms-install DESTDIR="$dest"
src=$dest/usr/src/msgtap-$MSGTAP_VERSION
[ -d "$src" ] || fail "make dkms-install made no $src"

if git rev-parse --git-dir >/dev/null 2>&1; then
	kmod_files=$(git ls-files kmod)
else
	kmod_files=$(ls kmod/Kbuild kmod/Makefile kmod/*.[ch])
fi
expected=$(printf '%s\n' $kmod_files include/uapi/linux/msgtap.h VERSION dkms.conf | LC_ALL=C sort)
actual=$(cd "$src" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
if [ "$expected" != "$actual" ]; then
	diff <(echo "$expected") <(echo "$actual") || true
	fail "the DKMS tree holds other files than the module's sources (- expected, + copied)"
fi
ok "the DKMS tree holds exactly: $(echo $actual)"
for f in $kmod_files include/uapi/linux/msgtap.h VERSION; do
	cmp -s "$f" "$src/$f" || fail "$src/$f differs from $f"
done
ok "every copied file is identical to the tree's"

# dkms.conf is shell; read it the way dkms does, with kernelver set.
conf() {
	# shellcheck disable=SC1090,SC2034
	(kernelver=KVER kernel_source_dir=KDIR; . "$src/dkms.conf"; eval "echo \"\${$1}\"")
}
check_eq PACKAGE_NAME msgtap "$(conf PACKAGE_NAME)"
check_eq PACKAGE_VERSION "$MSGTAP_VERSION" "$(conf PACKAGE_VERSION)"
check_eq 'BUILT_MODULE_NAME[0]' msgtap "$(conf 'BUILT_MODULE_NAME[0]')"
check_eq AUTOINSTALL yes "$(conf AUTOINSTALL)"
for opt in CONFIG_KPROBES CONFIG_KRETPROBES CONFIG_SYSVIPC; do
	[[ " $(conf BUILD_EXCLUSIVE_CONFIG) " == *" $opt "* ]] ||
		fail "BUILD_EXCLUSIVE_CONFIG lacks $opt"
done
ok "BUILD_EXCLUSIVE_CONFIG = $(conf BUILD_EXCLUSIVE_CONFIG)"
# The probes read x86-64 syscall registers: elsewhere dkms must skip the
# build with its own message instead of failing in the compiler.
check_eq BUILD_EXCLUSIVE_ARCH x86_64 "$(conf BUILD_EXCLUSIVE_ARCH)"
[[ $(conf 'MAKE[0]') == *"KVER=KVER KDIR=KDIR"* ]] ||
	fail "MAKE[0] does not pass the kernel dkms builds for: $(conf 'MAKE[0]')"
ok "MAKE[0] builds for dkms's kernel"

# One place for the version: the top-level dkms.conf has the placeholder,
# and the Debian package's version is VERSION.
grep -q '^PACKAGE_VERSION="#MODULE_VERSION#"$' dkms.conf ||
	fail "dkms.conf spells a version instead of the placeholder"
check_eq "debian/changelog version" "$MSGTAP_VERSION" "$(dpkg-parsechangelog -S Version)"
