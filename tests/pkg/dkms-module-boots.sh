#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that the msgtap.ko DKMS built (dkms-build-install) is a working
# module: a Debian 6.1 cloud guest loads it, counts a workload exactly with
# it, and unloads it (the VM scenarios boot-module-loads, e2e-exact-64bit).
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

kver=$(kver_of "${MSGTAP_PKG_BOOT_KERNEL:-6.1}")
ko=$MSGTAP_PKG_OUT/dkms-msgtap-$kver.ko
[ -f "$ko" ] || fail "no $ko: dkms-build-install did not build it"
modinfo -F signer "$ko" | grep -q DKMS || fail "$ko is not the module dkms built and signed"

log=$MSGTAP_PKG_OUT/dkms-module-boots.vm.log
MSGTAP_MODULE=$ko tests/vm/run --no-build --kernel "$kver" \
	boot-module-loads e2e-exact-64bit 2>&1 | tee "$log"
grep -q "using the prebuilt module $ko" "$log" || fail "the VM did not boot the dkms module"
grep -qx '2 passed, 0 failed' "$log" || fail "the VM scenarios failed with the dkms module"
ok "the guest loaded the dkms-built module and counted exactly"
