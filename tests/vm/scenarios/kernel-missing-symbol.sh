#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that msgtap.ko refuses to load when the function it is told to probe
# does not exist: insmod fails, nothing of the module stays behind, the
# kernel log names the missing symbol, and the probes on the syscall wrappers
# that init attached first are gone (a normal load afterwards succeeds and
# lists exactly its own probes).
. /tests/lib.sh

missing=no_such_function
[ -f $MSGTAP_KO ] || fail "$MSGTAP_KO missing from the initramfs"
dmesg -c >/dev/null

info "insmod msgtap.ko symbol=$missing"
if insmod $MSGTAP_KO symbol=$missing 2>/tmp/insmod.err; then
	fail "insmod with symbol=$missing succeeded"
fi
cat /tmp/insmod.err
echo "ok: insmod failed"
msgtap_loaded && fail "msgtap is in /proc/modules after a failed load"
[ -d /sys/module/msgtap ] && fail "/sys/module/msgtap exists after a failed load"

dmesg >/tmp/kmsg
cat /tmp/kmsg
grep -q "^.*msgtap: .*$missing" /tmp/kmsg ||
	fail "the kernel log has no msgtap line naming $missing"
echo "ok: the kernel log names $missing"
grep "msgtap: .*$missing" /tmp/kmsg | grep -q "no function $missing in this kernel" ||
	fail "the message does not say that $missing is missing from this kernel"
echo "ok: the message says the function is missing"

# The failed init must have unregistered every probe it made.
msgtap_load
need msgtap-nlprobe
msgtap-nlprobe stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
grep '^probe=' /tmp/stats
grep -q "^probe=$missing " /tmp/stats && fail "a probe on $missing is listed"
grep -q '^probe=do_msgsnd ' /tmp/stats || fail "no probe on do_msgsnd after a normal load"
msgtap_unload
exit 0
