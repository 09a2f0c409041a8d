#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that with maxactive=4 the do_msgsnd probe follows at most 4 calls at
# once and counts the rest: 10 senders blocked on a full queue, then
# drained, give exactly 4 records of blocked sends and nmissed exactly 6,
# while the workload saw all 10 succeed; hits still add up, since a missed
# call is no hit.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

msgtap_load maxactive=4
listener_start /tmp/ev

msgtap-workload --mode blocked --senders 10 --then drain --truth /tmp/t.json \
	--ready /tmp/r --go /tmp/go &
wpid=$!
wait_for -t 40 test -e /tmp/r || fail "the 10 senders did not all block"
# While they sleep, 4 hold the probe's instances and 6 went unfollowed.
msgtap-nlprobe stats >/tmp/s1 || fail "msgtap-nlprobe stats failed"
grep '^probe=' /tmp/s1
check_eq "do_msgsnd probe while 10 senders sleep" "probe=do_msgsnd kind=kretprobe nmissed=6 maxactive=4" \
	"$(grep '^probe=do_msgsnd ' /tmp/s1)"
touch /tmp/go
wait $wpid || fail "msgtap-workload deviated from its plan"
listener_stop

q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/r)
filled=$(sed -n 's/.*"filled": \([0-9]*\),.*/\1/p' /tmp/t.json)
check_eq "truth: successful sends (fill and the 10 blocked)" $((filled + 10)) "$(truth_get /tmp/t.json "$q" sends_ok)"
check_eq "truth: EAGAIN (the fill's end)" 1 "$(truth_get /tmp/t.json "$q" EAGAIN)"
check_eq "records of blocked sends (msgflg 0)" 4 "$(kv_count /tmp/ev msqid="$q" msgflg=0)"
check_eq "records of blocked sends that slept and succeeded" 4 \
	"$(kv_count /tmp/ev msqid="$q" msgflg=0 result=0 slept=1)"
check_eq "records of the fill" $((filled + 1)) "$(kv_count /tmp/ev msqid="$q" msgflg=2048)"
check_eq "records" $((filled + 1 + 4)) "$(kv_count /tmp/ev)"

msgtap-nlprobe stats >/tmp/s2 || fail "msgtap-nlprobe stats failed"
cat /tmp/s2
check_eq "do_msgsnd probe after the drain" "probe=do_msgsnd kind=kretprobe nmissed=6 maxactive=4" \
	"$(grep '^probe=do_msgsnd ' /tmp/s2)"
check_eq "wrapper probes that missed calls" 0 "$(grep '^probe=' /tmp/s2 | grep -v '^probe=do_msgsnd ' | grep -vc ' nmissed=0 ')"
check_hits_add_up /tmp/s2
check_eq "probe_hits (missed calls are no hits)" $((filled + 1 + 4)) "$(nl_stat probe_hits /tmp/s2)"

msgtap_unload
