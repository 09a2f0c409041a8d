#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves DISABLE and ENABLE: while disabled, every send (64-bit and 32-bit,
# early EFAULT ones included) is only counted in DISABLED, exactly, and none
# is recorded; sends already under way when DISABLE arrives (blocked senders)
# are still recorded; after ENABLE every send is recorded again, exactly;
# GET_STATS reports the state, and repeating a command changes nothing.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload msgtap-workload32

P=msgtap-nlprobe
msgtap_load
check_eq "enabled at load" 1 "$(nl_stat enabled)"
listener_start /tmp/ev

info "senders blocked when DISABLE arrives are still recorded"
msgtap-workload --mode blocked --senders 2 --truth /tmp/t1.json --ready /tmp/r1 --go /tmp/g1 &
wpid=$!
wait_for -t 20 test -e /tmp/r1 || fail "the blocked senders did not get ready"
$P disable || fail "msgtap-nlprobe disable failed"
$P disable || fail "a second disable failed"
check_eq "enabled after DISABLE" 0 "$(nl_stat enabled)"
touch /tmp/g1
wait $wpid || fail "msgtap-workload --mode blocked deviated from its plan"
$P stats >/tmp/s1 || fail "msgtap-nlprobe stats failed"
check_eq "disabled so far" 0 "$(nl_stat disabled /tmp/s1)"

info "while disabled, sends are only counted"
msgtap-workload --truth /tmp/t2.json || fail "msgtap-workload deviated from its plan"
msgtap-workload32 --via ipc --truth /tmp/t3.json || fail "msgtap-workload32 deviated from its plan"
$P stats >/tmp/s2 || fail "msgtap-nlprobe stats failed"
off=$(($(truth_get /tmp/t2.json '*' calls) + $(truth_get /tmp/t3.json '*' calls)))
check_eq "disabled (every send of the two workloads)" "$off" "$(nl_stat disabled /tmp/s2)"
check_eq "events_queued while disabled" "$(nl_stat events_queued /tmp/s1)" "$(nl_stat events_queued /tmp/s2)"
check_eq "probe_hits while disabled" $(($(nl_stat probe_hits /tmp/s1) + off)) "$(nl_stat probe_hits /tmp/s2)"

info "after ENABLE, every send is recorded"
$P enable || fail "msgtap-nlprobe enable failed"
$P enable || fail "a second enable failed"
check_eq "enabled after ENABLE" 1 "$(nl_stat enabled)"
msgtap-workload --truth /tmp/t4.json --seed 4 || fail "msgtap-workload deviated from its plan"
msgtap-workload32 --via syscall --truth /tmp/t5.json --seed 5 || fail "msgtap-workload32 deviated from its plan"
listener_stop

on=$(($(truth_get /tmp/t1.json '*' calls) + $(truth_get /tmp/t4.json '*' calls) + \
	$(truth_get /tmp/t5.json '*' calls)))
check_eq "records (blocked senders' run and the runs after ENABLE)" "$on" "$(kv_count /tmp/ev)"
events_match_truth /tmp/ev /tmp/t1.json /tmp/t4.json /tmp/t5.json ||
	fail "the records differ from the truth"
check_eq "records of the blocked senders" 2 "$(kv_count /tmp/ev msgflg=0 slept=1 result=0 msqid="$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/r1)")"
check_eq "early records (one per run while enabled)" 2 "$(kv_count /tmp/ev early=1)"

$P stats >/tmp/s3 || fail "msgtap-nlprobe stats failed"
cat /tmp/s3
check_eq "disabled at the end" "$off" "$(nl_stat disabled /tmp/s3)"
check_eq "events_queued" "$on" "$(nl_stat events_queued /tmp/s3)"
check_hits_add_up /tmp/s3
msgtap_unload
