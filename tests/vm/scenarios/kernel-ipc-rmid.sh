#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that senders blocked on a full queue when it is removed (IPC_RMID)
# are recorded with the EIDRM they got, exactly one record each, as having
# slept, with the queue's identity from when they began; in the initial IPC
# namespace and in one of the workload's own.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

msgtap_load

# rmid_round TAG SENDERS [WORKLOAD-ARG...]
rmid_round() {
	_tag=$1
	_n=$2
	shift 2
	listener_start /tmp/ev$_tag
	msgtap-workload --mode blocked --senders "$_n" --then rmid --truth /tmp/t$_tag.json \
		--ready /tmp/r$_tag "$@" || fail "msgtap-workload --then rmid deviated from its plan"
	listener_stop
	_q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/r$_tag)
	_ns=$(sed -n 's/.* ipc_ns=\([0-9]*\) .*/\1/p' /tmp/r$_tag)
	_filled=$(sed -n 's/.*"filled": \([0-9]*\),.*/\1/p' /tmp/t$_tag.json)
	check_eq "truth: EIDRM" "$_n" "$(truth_get /tmp/t$_tag.json "$_q" EIDRM)"
	check_eq "EIDRM records (slept, queue known, ipc_ns $_ns, msqid $_q)" "$_n" \
		"$(kv_count /tmp/ev$_tag ipc_ns="$_ns" msqid="$_q" result=-43 msgflg=0 slept=1 qknown=1 q_uid=0 q_mode=0600)"
	check_eq "senders with an EIDRM record" "$_n" \
		"$(grep ' result=-43 ' /tmp/ev$_tag | sed 's/.* tid=\([0-9]*\) .*/\1/' | sort -u | wc -l)"
	check_eq "records" $((_filled + 1 + _n)) "$(kv_count /tmp/ev$_tag)"
	events_match_truth /tmp/ev$_tag /tmp/t$_tag.json || fail "the records differ from the truth"
}

info "initial IPC namespace, 5 blocked senders"
rmid_round a 5
info "a new IPC namespace, 3 blocked senders"
rmid_round b 3 --new-ipcns

msgtap-nlprobe stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
check_hits_add_up /tmp/stats
msgtap_unload
