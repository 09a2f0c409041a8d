#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd's per-queue view: two queues with the same msqid in two
# IPC namespaces (and one in the init namespace) are kept apart, each with
# its live depth read by msgctl inside its own namespace; sizes, latency,
# mtypes and senders are counted; a restarted msgtapd continues the counts;
# removed queues are shown removed, then retired with their totals kept.
. /tests/lib.sh

need msgtap-workload msgtap-verify

msgtap_load
daemon_start --retire-after 4

get() {
	msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"
}
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}

rm -f /tmp/go /tmp/linger
msgtap-workload --mode hold --count 7 --new-ipcns --truth /tmp/a.json --ready /tmp/ra \
	--go /tmp/go --linger /tmp/linger &
pa=$!
msgtap-workload --mode hold --count 5 --new-ipcns --truth /tmp/b.json --ready /tmp/rb \
	--go /tmp/go --linger /tmp/linger &
pb=$!
msgtap-workload --mode hold --count 3 --truth /tmp/c.json --ready /tmp/rc \
	--go /tmp/go --linger /tmp/linger &
pc=$!
wait_for test -e /tmp/ra -a -e /tmp/rb -a -e /tmp/rc || fail "the hold workloads did not get ready"
cat /tmp/ra /tmp/rb /tmp/rc
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }
A="$(field /tmp/ra ipc_ns):$(field /tmp/ra msqid)"
B="$(field /tmp/rb ipc_ns):$(field /tmp/rb msqid)"
C="$(field /tmp/rc ipc_ns):$(field /tmp/rc msqid)"
check_eq "the two new namespaces' queues have the same msqid" \
	"$(field /tmp/ra msqid)" "$(field /tmp/rb msqid)"
[ "$(field /tmp/ra ipc_ns)" != "$(field /tmp/rb ipc_ns)" ] || fail "the namespaces are the same"

# The state of one queue in one line: sends, live state and depth.
queue_line() {
	echo "$(get "$1" "queues[$2].sends_ok") $(get "$1" "queues[$2].live.state")" \
		"$(get "$1" "queues[$2].live.qnum") $(get "$1" "queues[$2].live.cbytes")"
}

snapshot /tmp/s1.json
check_eq "queue $A: sends, state, depth" "7 present 7 700" "$(queue_line /tmp/s1.json "$A")"
check_eq "queue $B: sends, state, depth" "5 present 5 500" "$(queue_line /tmp/s1.json "$B")"
check_eq "queue $C: sends, state, depth" "3 present 3 300" "$(queue_line /tmp/s1.json "$C")"
check_eq "queue $A: capacity (msgmnb of its namespace)" 16384 "$(get /tmp/s1.json "queues[$A].live.qbytes")"
check_eq "queue $A: owner, mode, key" "0 384 0" \
	"$(get /tmp/s1.json "queues[$A].uid") $(get /tmp/s1.json "queues[$A].mode") $(get /tmp/s1.json "queues[$A].key")"
check_eq "queue $A: size histogram (100 bytes: le 128)" "[[128,7]]" \
	"$(get /tmp/s1.json "queues[$A].size_bytes.buckets")"
check_eq "queue $A: latency histogram count" 7 "$(get /tmp/s1.json "queues[$A].latency_ns.count")"
check_eq "queue $A: distinct mtypes, distinct senders" "3 1" \
	"$(get /tmp/s1.json "queues[$A].mtypes.distinct") $(get /tmp/s1.json "queues[$A].senders.distinct")"
top="queues[$A].senders.top.0"
check_eq "queue $A: the sender, its count and error bound" "$(field /tmp/ra pid) msgtap-workload 7 0" \
	"$(get /tmp/s1.json $top.tgid) $(get /tmp/s1.json $top.comm) $(get /tmp/s1.json $top.count) $(get /tmp/s1.json $top.error)"

info "msgtapd restarts: the counts continue"
daemon_stop || fail "msgtapd exited with status $?"
MSGTAP_KEEP_STATE=1 daemon_start --retire-after 4
grep -q "continuing from $MSGTAP_JSON" $MSGTAPD_LOG || fail "the new msgtapd did not continue the state"
snapshot /tmp/s2.json
check_eq "queue $A after the restart" "7 present 7 700" "$(queue_line /tmp/s2.json "$A")"
check_eq "queue $B after the restart" "5 present 5 500" "$(queue_line /tmp/s2.json "$B")"

info "the queues are removed; the workloads stay in their namespaces"
touch /tmp/go
wait_for test -e /tmp/a.json -a -e /tmp/b.json -a -e /tmp/c.json || fail "the workloads did not finish"
snapshot /tmp/s3.json
for q in "$A" "$B" "$C"; do
	check_eq "queue $q is shown removed" removed "$(get /tmp/s3.json "queues[$q].live.state")"
done
check_eq "queue $A: sends as the truth says" "$(truth_get /tmp/a.json '*' sends_ok)" \
	"$(get /tmp/s3.json "queues[$A].sends_ok")"
check_eq "queue $B: sends as the truth says" "$(truth_get /tmp/b.json '*' sends_ok)" \
	"$(get /tmp/s3.json "queues[$B].sends_ok")"
check_eq "queue $C: sends as the truth says" "$(truth_get /tmp/c.json '*' sends_ok)" \
	"$(get /tmp/s3.json "queues[$C].sends_ok")"

info "after --retire-after the removed queues are forgotten, their totals kept"
gone() {
	snapshot /tmp/s4.json
	! msgtap-verify --get /tmp/s4.json "queues[$A]" >/dev/null 2>&1 &&
		! msgtap-verify --get /tmp/s4.json "queues[$B]" >/dev/null 2>&1 &&
		! msgtap-verify --get /tmp/s4.json "queues[$C]" >/dev/null 2>&1
}
wait_for -t 20 gone || fail "the removed queues were not retired"
check_eq "retired queues, sends" "3 15" \
	"$(get /tmp/s4.json retired.queues) $(get /tmp/s4.json retired.sends_ok)"
check_eq "nothing lost" 0 "$(get /tmp/s4.json loss.total)"

touch /tmp/linger
for p in $pa $pb $pc; do
	wait $p || fail "a hold workload deviated from its plan"
done
daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
