#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapctl disable/enable/filter drive the kernel directly: while
# disabled msgtapd sees nothing and the kernel counts the hits as disabled;
# after enable msgtapd counts a workload exactly; filter set/show round-trips,
# bad LISTs are usage errors (exit 2), and an unprivileged caller gets exit 1
# with a message saying what permission is missing.
. /tests/lib.sh

need msgtap-workload msgtapctl msgtap-verify

# json_number FILE KEY: the first "KEY": N in a JSON document.
json_number() {
	sed -n "s/^ *\"$2\": \([0-9]*\),\{0,1\}\$/\1/p" "$1" | head -n 1
}

msgtap_load
daemon_start

info "disabled: nothing is recorded, the kernel counts the hits"
out=$(msgtapctl disable) || fail "msgtapctl disable failed"
check_eq "msgtapctl disable says" "capture disabled" "$out"
msgtap-workload --truth /tmp/t1.json --seed 1 || fail "msgtap-workload deviated from its plan"
msgtapctl stats --json >/tmp/snap1.json || fail "msgtapctl stats --json failed"
grep -q '"queues": *\[\]' /tmp/snap1.json || {
	cat /tmp/snap1.json
	fail "msgtapd recorded queues while capture was disabled"
}
msgtapctl status --json >/tmp/status1.json || fail "msgtapctl status --json failed"
grep -q '"enabled": false' /tmp/status1.json || {
	cat /tmp/status1.json
	fail "msgtapctl status --json does not say capture is disabled"
}
check_eq "kernel disabled counter (every call of the workload)" \
	"$(truth_get /tmp/t1.json '*' calls)" "$(json_number /tmp/status1.json disabled)"
msgtapctl status | grep -q '^capture: *disabled' || fail "msgtapctl status does not show capture disabled"

info "enabled again: msgtapd counts exactly"
out=$(msgtapctl enable) || fail "msgtapctl enable failed"
check_eq "msgtapctl enable says" "capture enabled" "$out"
run_workload msgtap-workload /tmp/t2.json --new-ipcns --seed 2
msgtapctl stats --json >/tmp/snap2.json || fail "msgtapctl stats --json failed"
verify_exact /tmp/snap2.json /tmp/t2.json
msgtapctl status --json >/tmp/status2.json || fail "msgtapctl status --json failed"
grep -q '"enabled": true' /tmp/status2.json || fail "msgtapctl status --json does not say enabled"

info "filter set, show, clear"
out=$(msgtapctl filter) || fail "msgtapctl filter failed"
check_eq "filter at load" "no filter" "$out"
msgtapctl filter set --failures-only || fail "msgtapctl filter set --failures-only failed"
out=$(msgtapctl filter show) || fail "msgtapctl filter show failed"
check_eq "filter show" "failures-only" "$out"
msgtapctl filter set --tgid 123,456 --uid '!0' --msqid 3 ||
	fail "msgtapctl filter set with rules failed"
msgtapctl filter show >/tmp/filter.txt || fail "msgtapctl filter show failed"
cat /tmp/filter.txt
grep -qx 'include tgid 123,456' /tmp/filter.txt || fail "filter show lacks the tgid rule"
grep -qx 'exclude uid 0' /tmp/filter.txt || fail "filter show lacks the uid rule"
grep -qx 'include msqid 3' /tmp/filter.txt || fail "filter show lacks the msqid rule"
msgtapctl filter show --json | grep -q '"failures_only": false' ||
	fail "filter show --json: set replaces the whole filter"
# --json on set and clear: the filter now in force, as show --json has it.
msgtapctl filter --json set --msqid 7 >/tmp/set.json || fail "msgtapctl filter --json set failed"
msgtapctl filter show --json >/tmp/show.json || fail "msgtapctl filter show --json failed"
cmp /tmp/set.json /tmp/show.json || fail "filter --json set does not print the filter in force"
msgtapctl filter clear || fail "msgtapctl filter clear failed"
check_eq "filter after clear" "no filter" "$(msgtapctl filter)"
msgtapctl filter --json clear >/tmp/clear.json || fail "msgtapctl filter --json clear failed"
msgtapctl filter show --json >/tmp/show.json || fail "msgtapctl filter show --json failed"
cmp /tmp/clear.json /tmp/show.json || fail "filter --json clear does not print the filter in force"

info "errors"
msgtapctl filter set --tgid abc 2>/tmp/err
check_eq "exit status of filter set --tgid abc" 2 $?
cat /tmp/err
grep -q -- '--tgid' /tmp/err || fail "the usage error does not name --tgid"
run_as_nobody msgtapctl disable 2>/tmp/err
check_eq "exit status of disable as nobody" 1 $?
cat /tmp/err
grep -q 'EPERM' /tmp/err || fail "the permission error does not name EPERM"
grep -q 'CAP_NET_ADMIN' /tmp/err || fail "the permission error does not name CAP_NET_ADMIN"
run_as_nobody msgtapctl filter set --failures-only 2>/tmp/err
check_eq "exit status of filter set as nobody" 1 $?
check_eq "filter after the refused set" "no filter" "$(msgtapctl filter)"
check_eq "enabled after the refused disable" 0 \
	"$(msgtapctl status --json | grep -c '"enabled": false')"

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
info "module not loaded: actionable message"
msgtapctl enable 2>/tmp/err
check_eq "exit status of enable without the module" 1 $?
cat /tmp/err
grep -q 'modprobe msgtap' /tmp/err || fail "no modprobe hint without the module"
