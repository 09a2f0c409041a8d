#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that dpkg-buildpackage builds msgtap and msgtap-dkms from the tree;
# that msgtap ships the same files as `make install PREFIX=/usr`, its config
# as a conffile and its unit neither enabled nor started; that msgtap-dkms
# ships exactly the DKMS source tree and hands it to dkms on install and
# removal; and that lintian finds no error, and no warning but those listed
# in tests/pkg/lintian-allowed. MSGTAP_PKG_REUSE_DEBS=1 checks the .debs of
# the last run again instead of building (for working on this test).
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

out=$MSGTAP_PKG_OUT/debs
[ -n "${MSGTAP_PKG_REUSE_DEBS:-}" ] || tests/pkg/build-debs "$out" || fail "dpkg-buildpackage failed"
arch=$(dpkg --print-architecture)
deb=$out/msgtap_${MSGTAP_VERSION}_$arch.deb
dkmsdeb=$out/msgtap-dkms_${MSGTAP_VERSION}_all.deb
for f in "$deb" "$dkmsdeb"; do
	[ -f "$f" ] || fail "no $f"
done
ok "built $(basename "$deb") and $(basename "$dkmsdeb")"

files() { # files DEB: its regular files and links, sorted, without /usr/share/doc
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' |
		grep -v '^/usr/share/doc/' | LC_ALL=C sort
}

# --- msgtap ------------------------------------------------------------------
expected=$(printf '%s\n' /usr/sbin/msgtapd /usr/bin/msgtapctl /lib/systemd/system/msgtapd.service \
	/etc/msgtap/msgtapd.conf /usr/lib/modules-load.d/msgtap.conf \
	/usr/share/man/man8/msgtapd.8.gz /usr/share/man/man8/msgtapctl.8.gz \
	/usr/share/msgtap/msgtap-alerts.yml | LC_ALL=C sort)
actual=$(files "$deb")
if [ "$expected" != "$actual" ]; then
	diff <(echo "$expected") <(echo "$actual") || true
	fail "msgtap ships other files (- expected, + shipped)"
fi
ok "msgtap ships: $(echo $actual)"
ctl=$out/control-msgtap
rm -rf "$ctl"
dpkg-deb -e "$deb" "$ctl"
grep -qx /etc/msgtap/msgtapd.conf "$ctl/conffiles" || fail "msgtapd.conf is not a conffile"
ok "/etc/msgtap/msgtapd.conf is a conffile"
# dh_installsystemd --no-enable --no-start: no start at all, and enable only
# re-applies an operator's choice on upgrade (debian-installed guards it).
# debs-chroot-dkms checks the outcome on a real installation.
if grep -q 'deb-systemd-invoke' "$ctl/postinst"; then
	fail "msgtap's postinst starts msgtapd"
fi
grep -q "deb-systemd-helper debian-installed 'msgtapd.service'" "$ctl/postinst" ||
	fail "msgtap's postinst enables msgtapd on a first installation"
ok "installing msgtap neither enables nor starts msgtapd"
grep -q 'deb-systemd-helper purge' "$ctl/postrm" || fail "msgtap's postrm does not purge the unit's state"
ok "purging msgtap purges the unit's state"
dpkg-deb -f "$deb" Recommends | grep -q msgtap-dkms || fail "msgtap does not recommend msgtap-dkms"

# --- msgtap-dkms -------------------------------------------------------------
src=/usr/src/msgtap-$MSGTAP_VERSION
make --no-print-directory dkms-install DESTDIR="$out/dkms-ref" >/dev/null
expected=$(cd "$out/dkms-ref" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort)
actual=$(files "$dkmsdeb")
if [ "$expected" != "$actual" ]; then
	diff <(echo "$expected") <(echo "$actual") || true
	fail "msgtap-dkms ships other files than make dkms-install (- expected, + shipped)"
fi
ok "msgtap-dkms ships exactly the DKMS tree of make dkms-install"
dpkg-deb --fsys-tarfile "$dkmsdeb" | tar -xO ".$src/dkms.conf" |
	cmp -s - "$out/dkms-ref$src/dkms.conf" || fail "msgtap-dkms's dkms.conf differs from make dkms-install's"
ok "its dkms.conf is make dkms-install's, version $MSGTAP_VERSION"
dctl=$out/control-msgtap-dkms
rm -rf "$dctl"
dpkg-deb -e "$dkmsdeb" "$dctl"
{ grep -q '^DKMS_NAME=msgtap$' "$dctl/postinst" && grep -q 'common.postinst' "$dctl/postinst"; } ||
	fail "msgtap-dkms's postinst does not hand msgtap to dkms"
{ grep -q '^DKMS_NAME=msgtap$' "$dctl/prerm" && grep -q 'dkms remove -m $DKMS_NAME' "$dctl/prerm"; } ||
	fail "msgtap-dkms's prerm does not dkms remove msgtap"
dpkg-deb -f "$dkmsdeb" Depends | grep -q '\bdkms\b' || fail "msgtap-dkms does not depend on dkms"
ok "msgtap-dkms depends on dkms, adds and builds on install, removes on removal"

# --- lintian -----------------------------------------------------------------
changes=$(ls "$out"/msgtap_"$MSGTAP_VERSION"_*.changes)
lintian --version
lintian --info --display-level '>=pedantic' --tag-display-limit 0 "$changes" \
	>"$out/lintian.txt" 2>&1 || true
grep -v -e '^N:' -e 'root privileges' "$out/lintian.txt" || true
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
[ "$errors" -eq 0 ] || fail "lintian reports $errors error(s)"
ok "lintian: no errors"
allowed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' tests/pkg/lintian-allowed)
while read -r tag; do
	[ -n "$tag" ] || continue
	grep -qxF "$tag" <<<"$allowed" || fail "lintian warning $tag is not in tests/pkg/lintian-allowed"
done < <(sed -n 's/^W: [^ ]*: \([^ ]*\).*/\1/p' "$out/lintian.txt" | sort -u)
ok "lintian: no warnings but the allowed ones"
