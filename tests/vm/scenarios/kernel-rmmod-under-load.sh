#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtap.ko can be removed at the worst moments without harm (the
# harness fails the scenario on any oops, WARN or leak in the kernel log):
# while 8 senders run flat out and a listener receives, the senders seeing no
# error; while senders sleep in do_msgsnd on a full queue, holding the
# probe's instances, which once drained finish normally, every send
# succeeding; then loaded and removed 50 times, a listener registered each
# time; and loaded once more, it records exactly.
#
# Needs single-threaded TCG (MSGTAP_ACCEL=tcg,thread=single) or KVM: qemu
# 7.2's multi-threaded TCG lets a vCPU go on running stale code after another
# one patched it, so arming or disarming any ftrace-based probe on a function
# the other vCPU runs flat out (do_msgsnd here) soon hangs on or oopses at a
# stale int3, with no msgtap involved: toggling the function tracer on
# __x64_sys_msgsnd does the same. The 50 rounds run without the senders, so
# that only the one removal under load meets that.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

P=msgtap-nlprobe

# a_listener: registers a reading listener in the background (LPID).
a_listener() {
	$P register --read >/tmp/l.out 2>&1 &
	LPID=$!
	wait_for grep -q '^registered portid=' /tmp/l.out || {
		cat /tmp/l.out
		fail "the listener did not register"
	}
}

info "rmmod while 8 senders run flat out"
msgtap_load
a_listener
msgtap-workload --mode flood --senders 8 --until /tmp/stop --truth /tmp/t1.json &
wpid=$!
busy() { [ "$(nl_stat events_delivered)" -gt 2000 ]; }
wait_for -t 20 busy || fail "the senders' records did not reach the listener"
rmmod msgtap || fail "rmmod msgtap failed under load"
msgtap_loaded && fail "msgtap is still loaded"
echo "ok: removed under load"
sleep 1
touch /tmp/stop
wait $wpid || fail "the senders saw errors while the module went away"
kill -TERM $LPID
wait $LPID
check_eq "failed sends of the 8 senders" 0 \
	$(($(truth_get /tmp/t1.json '*' calls) - $(truth_get /tmp/t1.json '*' sends_ok)))
echo "ok: $(truth_get /tmp/t1.json '*' sends_ok) sends, all successful"

info "rmmod while senders sleep in do_msgsnd"
msgtap_load
listener_start /tmp/ev
msgtap-workload --mode blocked --senders 4 --then drain --truth /tmp/t2.json --ready /tmp/r --go /tmp/go &
wpid=$!
wait_for -t 20 test -e /tmp/r || fail "the senders did not block"
rmmod msgtap || fail "rmmod msgtap failed while senders slept in do_msgsnd"
msgtap_loaded && fail "msgtap is still loaded"
kill -TERM "$LISTENER_PID"
wait "$LISTENER_PID"
touch /tmp/go
# The workload checks that each blocked send slept and then succeeded.
wait $wpid || fail "the blocked senders did not finish normally"
filled=$(sed -n 's/.*"filled": \([0-9]*\),.*/\1/p' /tmp/t2.json)
check_eq "successful sends (fill and the 4 blocked)" $((filled + 4)) "$(truth_get /tmp/t2.json '*' sends_ok)"

info "load and remove 50 times, a listener registered each time"
i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	insmod $MSGTAP_KO || fail "insmod failed (round $i)"
	a_listener
	msgtap-workload --mode simple --count 5 --truth /tmp/t.json 2>/dev/null ||
		fail "msgtap-workload failed (round $i)"
	rmmod msgtap || fail "rmmod failed (round $i)"
	# Its last FLUSH finds the family gone: the status does not matter.
	kill -TERM $LPID
	wait $LPID
done
echo "ok: 50 rounds"

info "loaded again, the module records exactly"
msgtap_load
listener_start /tmp/ev2
msgtap-workload --mode simple --count 50 --fail 5 --truth /tmp/t3.json || fail "msgtap-workload deviated from its plan"
listener_stop
check_eq "records" 55 "$(kv_count /tmp/ev2)"
events_match_truth /tmp/ev2 /tmp/t3.json || fail "the records differ from the truth"
msgtap_unload
