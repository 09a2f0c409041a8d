#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that DKMS adds, builds, signs and installs msgtap from the tree
# `make dkms-install` writes, for Debian's 6.1 and 6.12 cloud kernels, and
# removes it again; keeps each built msgtap.ko in build/pkg for
# dkms-module-boots.
#
# dkms runs with its default paths, as an operator's would, but in a
# private mount namespace where /var/lib/dkms (the DKMS tree and its MOK
# signing key) and /lib/modules/KVER (where it installs and runs depmod) are
# scratch directories: the host is left as it was, and the test checks that.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

read -r -a specs <<<"${MSGTAP_PKG_DKMS_KERNELS:-6.1 6.12}"
kvers=()
for spec in "${specs[@]}"; do
	kver=$(kver_of "$spec") || fail "cannot resolve kernel $spec"
	kvers+=("$kver")
done
tests/deps.sh "${kvers[@]}"
for kver in "${kvers[@]}"; do
	[ -d "/lib/modules/$kver/build" ] || fail "no headers for $kver"
done

scratch=$MSGTAP_PKG_OUT/dkms
rm -rf "$scratch"
mkdir -p "$scratch/dkms"
make --no-print-directory dkms-install DESTDIR="$scratch/root" >/dev/null
sourcetree=$scratch/root/usr/src

before=$scratch/host-before
{
	tree_listing /var/lib/dkms
	for kver in "${kvers[@]}"; do tree_listing "/lib/modules/$kver"; done
} >"$before"

# The script the namespace runs; every dkms command as an operator types it.
inner=$scratch/inner.sh
{
	echo 'set -euxo pipefail'
	echo "mount --bind $scratch/dkms /var/lib/dkms"
	for kver in "${kvers[@]}"; do
		m=$scratch/modules/$kver
		mkdir -p "$m"
		for l in build source; do
			t=$(readlink "/lib/modules/$kver/$l") && ln -s "$t" "$m/$l"
		done
		echo "mount --bind $m /lib/modules/$kver"
	done
	echo "dkms add -m msgtap -v $MSGTAP_VERSION --sourcetree $sourcetree"
	for kver in "${kvers[@]}"; do
		echo "dkms build -m msgtap -v $MSGTAP_VERSION -k $kver"
		echo "dkms install -m msgtap -v $MSGTAP_VERSION -k $kver"
	done
	echo "dkms status msgtap > $scratch/status-installed"
	for kver in "${kvers[@]}"; do
		echo "cp /lib/modules/$kver/updates/dkms/msgtap.ko $MSGTAP_PKG_OUT/dkms-msgtap-$kver.ko"
		echo "cp /lib/modules/$kver/modules.dep $scratch/modules.dep-$kver"
	done
	echo "dkms remove -m msgtap -v $MSGTAP_VERSION --all"
	echo "dkms status msgtap > $scratch/status-removed"
} >"$inner"
rm -f "$MSGTAP_PKG_OUT"/dkms-msgtap-*.ko
unshare --mount --propagation private bash "$inner" || fail "a dkms command failed"

after=$scratch/host-after
{
	tree_listing /var/lib/dkms
	for kver in "${kvers[@]}"; do tree_listing "/lib/modules/$kver"; done
} >"$after"
diff "$before" "$after" || fail "the host's /var/lib/dkms or /lib/modules changed"
ok "the host's /var/lib/dkms and /lib/modules/KVER are as they were"

cat "$scratch/status-installed"
for kver in "${kvers[@]}"; do
	grep -q "^msgtap/$MSGTAP_VERSION, $kver, x86_64: installed" "$scratch/status-installed" ||
		fail "dkms status does not show msgtap installed for $kver"
	ok "dkms status: msgtap/$MSGTAP_VERSION installed for $kver"
	ko=$MSGTAP_PKG_OUT/dkms-msgtap-$kver.ko
	vermagic=$(modinfo -F vermagic "$ko")
	check_eq "vermagic of the $kver module" "$kver" "${vermagic%% *}"
	check_eq "version of the $kver module" "$MSGTAP_VERSION" "$(modinfo -F version "$ko")"
	grep -q '^updates/dkms/msgtap.ko:' "$scratch/modules.dep-$kver" ||
		fail "depmod did not list updates/dkms/msgtap.ko for $kver"
	ok "depmod lists updates/dkms/msgtap.ko for $kver"
	# DKMS signs with its own key (Secure Boot: enroll mok.pub with mokutil).
	check_eq "signer of the $kver module" "DKMS module signing key" "$(modinfo -F signer "$ko")"
done
[ -f "$scratch/dkms/mok.pub" ] || fail "dkms made no mok.pub"
ok "dkms made its MOK key pair in /var/lib/dkms"
if grep -q msgtap "$scratch/status-removed"; then
	cat "$scratch/status-removed"
	fail "dkms status still lists msgtap after dkms remove --all"
fi
for kver in "${kvers[@]}"; do
	[ ! -e "$scratch/modules/$kver/updates/dkms/msgtap.ko" ] ||
		fail "dkms remove left msgtap.ko in /lib/modules/$kver"
done
ok "dkms remove --all took msgtap out of every kernel"
