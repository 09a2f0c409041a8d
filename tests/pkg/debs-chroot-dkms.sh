#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that the two .debs (debs-build-lintian) install on a fresh Debian
# system that has only dkms and the headers of a 6.1 cloud kernel: dkms
# builds, signs and installs msgtap.ko for that kernel (the package's own
# postinst and `dkms autoinstall`), depmod finds it, msgtapd is installed
# but neither enabled nor started, the tools run; and that purging both
# packages takes the module, the DKMS tree and the config away again.
#
# The system is a debootstrap chroot (tests/pkg/chroot-base, cached),
# unpacked afresh and entered in a private mount namespace.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

kver=$(kver_of "${MSGTAP_PKG_CHROOT_KERNEL:-6.1}")
arch=$(dpkg --print-architecture)
debs=$MSGTAP_PKG_OUT/debs
deb=$debs/msgtap_${MSGTAP_VERSION}_$arch.deb
dkmsdeb=$debs/msgtap-dkms_${MSGTAP_VERSION}_all.deb
for f in "$deb" "$dkmsdeb"; do
	[ -f "$f" ] || fail "no $f: debs-build-lintian did not build it"
done

base=$(tests/pkg/chroot-base "$kver") || fail "no base chroot"
root=$MSGTAP_PKG_OUT/chroot
rm -rf "$root"
mkdir -p "$root"
info "unpacking $base"
tar -C "$root" -xzf "$base"
mkdir -p "$root/tmp/debs"
cp "$deb" "$dkmsdeb" "$root/tmp/debs/"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

cat >"$root/tmp/inner.sh" <<INNER
set -euo pipefail
kver=$kver
version=$MSGTAP_VERSION
INNER
cat >>"$root/tmp/inner.sh" <<'INNER'
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
export DEBIAN_FRONTEND=noninteractive
mount -t proc proc /proc
ko=/lib/modules/$kver/updates/dkms/msgtap.ko

# Their dependencies are in the base already: no network needed, unless
# the archive moved on since the base was made.
install_debs() {
	apt-get install -y --no-install-recommends /tmp/debs/msgtap-dkms_*.deb /tmp/debs/msgtap_*.deb
}
if ! install_debs; then
	apt-get update -qq
	install_debs || fail "apt-get install of the two .debs failed"
fi
ok "installed msgtap and msgtap-dkms"
dkms autoinstall -k "$kver" || fail "dkms autoinstall -k $kver failed"
dkms status
dkms status msgtap | grep -q "^msgtap/$version, $kver, [^:]*: installed" ||
	fail "dkms status does not show msgtap installed for $kver"
ok "dkms status: msgtap/$version installed for $kver"
[ -f "$ko" ] || fail "no $ko"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$kver" ] || fail "$ko has vermagic $vermagic"
# modinfo -k finds a module by name through depmod's index.
[ "$(modinfo -k "$kver" -n msgtap)" = "$ko" ] || fail "depmod does not know msgtap for $kver"
ok "$ko built for $kver, found by name through depmod"
[ "$(modinfo -F signer "$ko")" = "DKMS module signing key" ] || fail "the module is not signed by dkms"
[ -f /var/lib/dkms/mok.pub ] || fail "no /var/lib/dkms/mok.pub to enroll"
ok "signed with the DKMS key; /var/lib/dkms/mok.pub is there to enroll"

[ -f /lib/systemd/system/msgtapd.service ] || fail "no msgtapd.service"
if ls /etc/systemd/system/*.wants/msgtapd.service 2>/dev/null; then
	fail "installing msgtap enabled msgtapd"
fi
ok "msgtapd.service is installed and not enabled"
[ "$(msgtapd --version)" = "$version" ] || fail "msgtapd does not run"
[ "$(msgtapctl --version)" = "$version" ] || fail "msgtapctl does not run"
ok "msgtapd and msgtapctl run"
grep -q '^#msgtap$' /usr/lib/modules-load.d/msgtap.conf || fail "no modules-load.d entry"
[ -f /etc/msgtap/msgtapd.conf ] || fail "no /etc/msgtap/msgtapd.conf"

apt-get purge -y msgtap msgtap-dkms || fail "apt-get purge failed"
[ ! -e "$ko" ] || fail "purging msgtap-dkms left $ko"
[ ! -e "/usr/src/msgtap-$version" ] || fail "purging msgtap-dkms left /usr/src/msgtap-$version"
[ ! -e /var/lib/dkms/msgtap ] || fail "purging msgtap-dkms left /var/lib/dkms/msgtap"
[ ! -e /etc/msgtap ] || fail "purging msgtap left /etc/msgtap"
[ -z "$(modinfo -k "$kver" -n msgtap 2>/dev/null)" ] || fail "depmod still knows msgtap after the purge"
ok "purging both packages removed the module, the DKMS tree and the config"
INNER

unshare --mount --propagation private chroot "$root" /bin/bash /tmp/inner.sh ||
	fail "inside the chroot (kept in $root)"
rm -rf "$root"
