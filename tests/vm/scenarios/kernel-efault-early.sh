#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that a send whose msgp cannot be read, which fails with EFAULT
# before do_msgsnd() runs, is recorded once, flagged early (mtype 0), by the
# syscall-wrapper probes: 64-bit msgsnd (libc and syscall()), 32-bit msgsnd
# (libc and syscall()) and the 32-bit ipc(2) multiplexer; and that a send
# from a page not yet faulted in, which those probes follow too, is recorded
# once, by do_msgsnd(), as a success and not early. Every other send is
# recorded exactly as the workloads saw it and never as early; GET_STATS
# lists the four probes and the kprobe on msg_exit_ns (IPC namespace ends);
# every probe hit ends in exactly one counter.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload msgtap-workload32

msgtap_load
msgtap-nlprobe stats >/tmp/stats0 || fail "msgtap-nlprobe stats failed"
cat /tmp/stats0
for sym in do_msgsnd __x64_sys_msgsnd __ia32_compat_sys_msgsnd __ia32_compat_sys_ipc; do
	grep -q "^probe=$sym kind=kretprobe nmissed=0 maxactive=[1-9]" /tmp/stats0 ||
		fail "GET_STATS does not list a kretprobe on $sym"
	echo "ok: probe on $sym listed"
done
grep -q "^probe=msg_exit_ns kind=kprobe nmissed=0 maxactive=0$" /tmp/stats0 ||
	fail "GET_STATS does not list the kprobe on msg_exit_ns"
check_eq "probes listed" 5 "$(grep -c '^probe=' /tmp/stats0)"

listener_start /tmp/ev
runs="64:libc 64:syscall 32:libc 32:syscall 32:ipc"
i=0
for run in $runs; do
	i=$((i + 1))
	w=msgtap-workload
	[ "${run%%:*}" = 32 ] && w=msgtap-workload32
	info "$w --via ${run#*:}"
	$w --via "${run#*:}" --truth /tmp/t$i.json --ready /tmp/r$i ||
		fail "$w --via ${run#*:} deviated from its plan"
done
listener_stop

# Each run made one such send, from its main process, to its first queue.
i=0
calls=0
for run in $runs; do
	i=$((i + 1))
	compat=0
	[ "${run%%:*}" = 32 ] && compat=1
	pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' /tmp/r$i)
	q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/r$i)
	check_eq "$run: EFAULT sends in the truth of queue $q" 1 "$(truth_get /tmp/t$i.json "$q" EFAULT)"
	check_eq "$run: early EFAULT records (pid $pid, queue $q, compat $compat, mtype 0)" 1 \
		"$(kv_count /tmp/ev tgid="$pid" msqid="$q" result=-14 early=1 compat=$compat mtype=0 msgsz=10 msgflg=0 qknown=1)"
	# The wrapper could not read mtype without a fault and followed the call;
	# do_msgsnd() ran, so only its record exists.
	check_eq "$run: records of the send from a page not faulted in (mtype 424242)" 1 \
		"$(kv_count /tmp/ev tgid="$pid" msqid="$q" mtype=424242)"
	check_eq "$run: ... a success, not early" 1 \
		"$(kv_count /tmp/ev tgid="$pid" msqid="$q" mtype=424242 result=0 early=0 compat=$compat msgsz=10)"
	check_eq "$run: records of pid $pid with the wrong compat flag" 0 \
		"$(kv_count /tmp/ev tgid="$pid" compat=$((1 - compat)))"
	calls=$((calls + $(truth_get /tmp/t$i.json '*' calls)))
done
check_eq "early records" 5 "$(kv_count /tmp/ev early=1)"
check_eq "EFAULT records" 5 "$(kv_count /tmp/ev result=-14)"

# Everything else, queue by queue and errno by errno.
events_match_truth /tmp/ev /tmp/t1.json /tmp/t2.json /tmp/t3.json /tmp/t4.json /tmp/t5.json ||
	fail "the records differ from the workloads' truth"
echo "ok: every queue's records match the truth"
check_eq "records" "$calls" "$(kv_count /tmp/ev)"

msgtap-nlprobe stats >/tmp/stats1 || fail "msgtap-nlprobe stats failed"
cat /tmp/stats1
check_hits_add_up /tmp/stats1
check_eq "probe_hits (every call, early ones included)" "$calls" "$(nl_stat probe_hits /tmp/stats1)"
check_eq "events_queued" "$calls" "$(nl_stat events_queued /tmp/stats1)"
check_eq "events_delivered" "$calls" "$(nl_stat events_delivered /tmp/stats1)"
check_eq "probes that missed calls" 0 "$(grep '^probe=' /tmp/stats1 | grep -vc ' nmissed=0 ')"

msgtap_unload
