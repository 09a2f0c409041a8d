#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that a sender blocked on a full queue and interrupted by a signal
# with a handler is recorded as interrupted (msgtapd counts it as EINTR,
# exactly as the workload saw it), and that one stopped and continued
# (SIGSTOP/SIGCONT: no handler, so the kernel restarts the call) gives two
# records: first interrupted with -ERESTARTNOHAND (-514), then the restarted
# call, which succeeds once the queue has room.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload msgtapctl msgtap-verify

msgtap_load

info "signal with a handler, counted by msgtapd"
daemon_start
msgtap-workload --mode blocked --senders 2 --then signal --truth /tmp/a.json ||
	fail "msgtap-workload --then signal deviated from its plan"
check_eq "truth: EINTR" 2 "$(truth_get /tmp/a.json '*' EINTR)"
msgtapctl stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
if ! msgtap-verify --snapshot /tmp/snap.json /tmp/a.json; then
	cat /tmp/a.json /tmp/snap.json
	fail "msgtapd's counts differ from the truth"
fi
daemon_stop || fail "msgtapd exited with status $?"

# blocked_records EVENTS MSQID: "TID RESULT FLAGS" of the blocking sends
# (msgflg 0; the fill used IPC_NOWAIT) in the order the calls began.
blocked_records() {
	awk -v q="$2" '
		{
			split("", kv)
			for (i = 1; i <= NF; i++) {
				p = index($i, "=")
				kv[substr($i, 1, p - 1)] = substr($i, p + 1)
			}
			if (kv["msqid"] == q && kv["msgflg"] == 0)
				print kv["ts"], kv["tid"], kv["result"], "intr=" kv["intr"] ",slept=" kv["slept"]
		}' "$1" | sort -n | cut -d' ' -f2-
}

info "signal with a handler, as records"
listener_start /tmp/ev1
msgtap-workload --mode blocked --senders 2 --then signal --truth /tmp/b.json --ready /tmp/rb ||
	fail "msgtap-workload --then signal deviated from its plan"
listener_stop
q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/rb)
blocked_records /tmp/ev1 "$q" | tee /tmp/b.rec
check_eq "interrupted records (-ERESTARTNOHAND, slept)" 2 \
	"$(kv_count /tmp/ev1 msqid="$q" msgflg=0 result=-514 intr=1 slept=1)"
check_eq "blocking sends recorded" 2 "$(wc -l </tmp/b.rec)"
check_eq "records with the interrupted flag" 2 "$(kv_count /tmp/ev1 intr=1)"
events_match_truth /tmp/ev1 /tmp/b.json || fail "the records differ from the truth"

info "SIGSTOP and SIGCONT: the kernel restarts the call"
listener_start /tmp/ev2
msgtap-workload --mode blocked --senders 2 --then stopcont --truth /tmp/c.json --ready /tmp/rc ||
	fail "msgtap-workload --then stopcont deviated from its plan"
listener_stop
q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/rc)
filled=$(sed -n 's/.*"filled": \([0-9]*\),.*/\1/p' /tmp/c.json)
# Userspace saw each blocked send succeed once, with no EINTR.
check_eq "truth: successful sends" $((filled + 2)) "$(truth_get /tmp/c.json "$q" sends_ok)"
check_eq "truth: EINTR" 0 "$(truth_get /tmp/c.json "$q" EINTR)"
blocked_records /tmp/ev2 "$q" | tee /tmp/c.rec
# Per sender: the interrupted call, then the restarted one.
awk '
	{ seq[$1] = seq[$1] " " $2 "/" $3 }
	END { for (t in seq) print seq[t] }' /tmp/c.rec | sort | uniq -c >/tmp/c.per-tid
cat /tmp/c.per-tid
check_eq "senders whose records are: interrupted (-514), then restarted and successful" \
	"2  -514/intr=1,slept=1 0/intr=0,slept=1" "$(sed 's/^ *//' /tmp/c.per-tid)"
check_eq "fill sends recorded" "$filled" "$(kv_count /tmp/ev2 msqid="$q" msgflg=2048 result=0)"
check_eq "records of the queue" $((filled + 1 + 4)) "$(kv_count /tmp/ev2 msqid="$q")"

msgtap-nlprobe stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
check_hits_add_up /tmp/stats
msgtap_unload
