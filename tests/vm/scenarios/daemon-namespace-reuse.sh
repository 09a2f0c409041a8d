#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd keeps the queues of an IPC namespace apart from those of a
# later one the kernel gave the same inode number (it hands out the lowest
# free one): the module records the first namespace's end, msgtapd marks its
# rows removed, and the second namespace's first calls start rows of their
# own while the first's counts move to the retired totals. A namespace that
# ends while no msgtapd is registered is recorded too: a restarted msgtapd
# that continues its rows learns of it, and one that ends when the module
# has no room left is counted, shown in the snapshot and warned about.
. /tests/lib.sh

need msgtap-workload msgtapctl msgtap-verify msgtap-nlprobe

msgtap_load
daemon_start

get() {
	msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"
}
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}
truth_ns() { sed -n 's/^{"ipc_ns": \([0-9]*\),.*/\1/p' "$1"; }
gone_received() {
	snapshot /tmp/gone.json
	[ "$(get /tmp/gone.json daemon.ipcns_gone_received)" -ge "$1" ]
}

run_workload msgtap-workload /tmp/t1.json --new-ipcns --seed 1
NS=$(truth_ns /tmp/t1.json)
[ -n "$NS" ] || fail "no ipc_ns in /tmp/t1.json"
# The namespace is freed by a kernel worker after its last process exits.
wait_for -t 30 gone_received 1 || fail "msgtapd heard of no freed IPC namespace"
snapshot /tmp/s1.json
check_eq "queue $NS:0 of the freed namespace is marked" "removed|its IPC namespace was freed" \
	"$(get /tmp/s1.json "queues[$NS:0].live.state")|$(get /tmp/s1.json "queues[$NS:0].live.note")"
retired_before=$(get /tmp/s1.json retired.sends_ok)

run_workload msgtap-workload /tmp/t2.json --new-ipcns --seed 2
# Without a reused number this test would prove nothing: say so loudly.
check_eq "the second namespace got the first one's inode number" "$NS" "$(truth_ns /tmp/t2.json)"
wait_for -t 30 gone_received 2 || fail "msgtapd heard of no second freed IPC namespace"

snapshot /tmp/s2.json
# Every row of that number holds only the second namespace's calls, and the
# first's are in the retired totals (msgtap-verify checks both).
verify_exact /tmp/s2.json /tmp/t1.json /tmp/t2.json
check_eq "queue $NS:0 holds the second namespace's successful sends" \
	"$(truth_get /tmp/t2.json 0 sends_ok)" "$(get /tmp/s2.json "queues[$NS:0].sends_ok")"
check_eq "the first namespace's successful sends were retired" \
	"$(($(truth_get /tmp/t1.json '*' sends_ok) + retired_before))" \
	"$(get /tmp/s2.json retired.sends_ok)"
check_eq "namespace records missing by sequence number" 0 \
	"$(get /tmp/s2.json daemon.ipcns_gone_seq_gaps)"

msgtap-nlprobe stats >/tmp/k.txt || fail "msgtap-nlprobe stats failed"
cat /tmp/k.txt
check_eq "kernel: freed namespaces without a record" 0 "$(nl_stat ipcns_gone_lost /tmp/k.txt)"
check_eq "kernel: namespace records queued = delivered" \
	"$(nl_stat ipcns_gone_queued /tmp/k.txt)" "$(nl_stat ipcns_gone_delivered /tmp/k.txt)"

info "a namespace with that number ends while no msgtapd is registered"
rm -f /tmp/go
msgtap-workload --mode hold --count 4 --new-ipcns --truth /tmp/t3.json --ready /tmp/r3 \
	--go /tmp/go &
p3=$!
wait_for test -e /tmp/r3 || fail "the hold workload did not get ready"
cat /tmp/r3
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }
check_eq "the third namespace got the number too" "$NS" "$(field /tmp/r3 ipc_ns)"
Q3="$NS:$(field /tmp/r3 msqid)"
snapshot /tmp/s3.json
check_eq "queue $Q3: the hold workload's sends" 4 "$(get /tmp/s3.json "queues[$Q3].sends_ok")"
daemon_stop || fail "msgtapd exited with status $?"
queued=$(nl_stat ipcns_gone_queued)
touch /tmp/go
wait $p3 || fail "the hold workload deviated from its plan"
ended() { [ "$(nl_stat ipcns_gone_queued)" -gt "$queued" ]; }
wait_for -t 30 ended || fail "the module recorded no end of the third namespace"

MSGTAP_KEEP_STATE=1 daemon_start
grep -q "continuing from $MSGTAP_JSON" $MSGTAPD_LOG || fail "the new msgtapd did not continue the state"
marked() {
	snapshot /tmp/s4.json
	[ "$(get /tmp/s4.json "queues[$Q3].live.note")" = "its IPC namespace was freed" ]
}
wait_for -t 30 marked || fail "the restarted msgtapd did not learn that queue $Q3's namespace ended"

run_workload msgtap-workload /tmp/t4.json --new-ipcns --seed 4
check_eq "the fourth namespace got the number too" "$NS" "$(truth_ns /tmp/t4.json)"
snapshot /tmp/s5.json
check_eq "queue $NS:0 holds only the fourth namespace's successful sends" \
	"$(truth_get /tmp/t4.json 0 sends_ok)" "$(get /tmp/s5.json "queues[$NS:0].sends_ok")"

info "more namespaces end while no msgtapd is registered than the module keeps"
daemon_stop || fail "msgtapd exited with status $?"
msgtap-nlprobe stats >/tmp/k0.txt || fail "msgtap-nlprobe stats failed"
lost0=$(nl_stat ipcns_gone_lost /tmp/k0.txt)
# Each CPU keeps ns_ring_size ends (the default, 256): more than all of them
# together hold overflows at least one CPU's, wherever the ends fall.
cpus=$(nl_stat nr_cpus /tmp/k0.txt)
check_eq "GET_STATS ns_ring_size (the default)" 256 "$(nl_stat ns_ring_size /tmp/k0.txt)"
room=$((256 * cpus))
ends=$((room + 88))
end_ipc_namespaces $ends /tmp/k0.txt
kept=$NS_KEPT
lost=$NS_LOST
[ "$lost" -gt 0 ] || fail "no end was lost: the rings kept all $ends, so this proves nothing"
[ "$kept" -le $room ] || fail "the rings kept $kept ends, more than $cpus CPUs x 256"

daemon_start
wait_for -t 30 gone_received "$kept" ||
	fail "msgtapd did not receive the $kept ends the module kept for it"
check_eq "snapshot: the kernel's ends lost" "$(nl_stat ipcns_gone_lost)" \
	"$(get /tmp/gone.json kernel.ipcns_gone_lost)"
check_eq "snapshot: the kernel's ns_ring_size" 256 "$(get /tmp/gone.json kernel.ns_ring_size)"
check_eq "snapshot: namespace records missing by sequence number" 0 \
	"$(get /tmp/gone.json daemon.ipcns_gone_seq_gaps)"
grep "ends of IPC namespaces not recorded: $((lost0 + lost)) " $MSGTAPD_LOG >/tmp/warn ||
	fail "msgtapd did not warn that $((lost0 + lost)) namespace ends were not recorded"
grep -q "the module keeps 256 per CPU while msgtapd is not running (module parameter ns_ring_size)" /tmp/warn ||
	fail "msgtapd's warning does not name the module's ns_ring_size of 256"

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
