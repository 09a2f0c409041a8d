#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that only CAP_NET_ADMIN in the initial user namespace may use the
# family: as a real unprivileged user (nobody), and as root of a user
# namespace of its own, every command (register, unregister, stats, flush,
# set/get-filter, enable, disable) fails with EPERM and changes nothing; the
# family has no multicast groups and every operation is admin-only, so a
# socket of nobody's listening all along receives nothing while root's
# listener receives every send; and in another network namespace the family
# does not exist.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

P=msgtap-nlprobe
msgtap_load
listener_start /tmp/ev
$P set-filter --rule uid!=12345 >/dev/null || fail "set-filter failed"
filter=$($P get-filter)

# refused RUNNER...: each command, run through RUNNER, fails with EPERM.
refused() {
	for cmd in register unregister stats flush "set-filter --none" get-filter enable disable \
		"raw SET_FILTER --attr 10:nest --end"; do
		# shellcheck disable=SC2086 # cmd is words
		"$@" $P $cmd >/tmp/out 2>&1
		check_eq "$* msgtap-nlprobe $cmd" "rc=1 EPERM" "rc=$? $(sed -n 's/^error=//p' /tmp/out)"
	done
}

info "as nobody"
run_as_nobody id
refused run_as_nobody
if run_as_nobody unshare -r true 2>/dev/null; then
	info "as root of a user namespace of nobody's"
	run_as_nobody unshare -r id
	refused run_as_nobody unshare -r
else
	info "this kernel lets no unprivileged user create a user namespace: skipped"
fi

$P stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
check_eq "listener after the refused requests" "$LISTENER_PORT" "$(nl_stat listener_portid /tmp/stats)"
check_eq "enabled after the refused requests" 1 "$(nl_stat enabled /tmp/stats)"
check_eq "filter after the refused requests" "$filter" "$($P get-filter)"

info "what an unprivileged user can see of the family"
run_as_nobody $P family >/tmp/family || fail "msgtap-nlprobe family failed as nobody"
cat /tmp/family
check_eq "multicast groups" 0 "$(sed -n 's/^mcast_groups=//p' /tmp/family)"
check_eq "operations" 8 "$(grep -c '^op=' /tmp/family)"
check_eq "operations without GENL_ADMIN_PERM" 0 "$(grep -c '^op=.* admin_perm=0' /tmp/family)"

info "nobody listens while root's listener receives"
rm -f /tmp/listen.stop
run_as_nobody $P listen --until /tmp/listen.stop >/tmp/listen &
lpid=$!
wait_for grep -q '^mcast_groups=' /tmp/listen || fail "msgtap-nlprobe listen did not start"
msgtap-workload --mode simple --count 40 --fail 4 --truth /tmp/t.json || fail "msgtap-workload deviated from its plan"
run_as_nobody msgtap-workload --mode simple --count 10 --truth /tmp/t2.json ||
	fail "msgtap-workload deviated from its plan"
touch /tmp/listen.stop
wait $lpid || fail "msgtap-nlprobe listen failed"
cat /tmp/listen
check_eq "what nobody's socket received" "received_events=0 received_msgs=0" "$(tail -n 1 /tmp/listen)"
listener_stop
check_eq "what root's listener received" 54 "$(kv_count /tmp/ev)"
events_match_truth /tmp/ev /tmp/t.json /tmp/t2.json || fail "the records differ from the truth"

info "another network namespace has no msgtap family"
unshare -n $P stats >/tmp/out 2>&1
check_eq "stats from another network namespace" "rc=1 ENOENT" "rc=$? $(sed -n 's/^error=//p' /tmp/out)"
unshare -n $P family >/tmp/out 2>&1
check_eq "the family from another network namespace" "rc=1 ENOENT" "rc=$? $(sed -n 's/^error=//p' /tmp/out)"

msgtap_unload
