#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves a table 3/4 full (msgtapd --max-queues) lets the queues of stopped
# containers go at once: when every process of an IPC namespace has exited,
# the namespace goes, and its queues with it, without a call or msgctl() to
# tell. msgtapd knows no process left in it and retires its rows at the
# next interval's end, their counts kept in the retired totals, instead of
# holding them for --retire-after while new queues are folded. Namespaces
# with a process left keep their rows.
. /tests/lib.sh

need msgtap-workload msgtap-verify

get() { msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"; }
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}
# NS:MSQID of workload N's queue, from its ready file.
queue_of() { sed -n 's/.*ipc_ns=\([0-9]*\) msqid=\([0-9]*\).*/\1:\2/p' /tmp/hold$1.ready; }
retired_is() { snapshot /tmp/r.json && [ "$(get /tmp/r.json retired.queues)" = "$1" ]; }

rm -f /tmp/hold*.ready
msgtap_load
# Eight namespaces with a queue each: the table (8 rows) stays crowded (6 or
# more) whatever round finds the two stopped ones gone.
daemon_start --max-queues 8
pids=
for i in 1 2 3 4 5 6 7 8; do
	msgtap-workload --new-ipcns --mode hold --count 1 --ready /tmp/hold$i.ready \
		--go /tmp/never --truth /tmp/hold$i.json &
	pids="$pids $!"
done
for i in 1 2 3 4 5 6 7 8; do
	wait_for -t 60 test -s /tmp/hold$i.ready || fail "workload $i did not get ready"
done
snapshot /tmp/g.json
for i in 1 2 3 4 5 6 7 8; do
	check_eq "queue $(queue_of $i): sends" 1 "$(get /tmp/g.json "queues[$(queue_of $i)].sends_ok")"
done

info "two containers stop: their rows go without waiting --retire-after"
set -- $pids
kill -KILL $1 $2
wait $1 $2 2>/dev/null
wait_for -t 20 retired_is 2 ||
	{ cat $MSGTAPD_LOG; fail "a crowded table kept the queues of namespaces that are gone"; }
grep -q "without waiting --retire-after" $MSGTAPD_LOG || fail "msgtapd did not log the retirement"
check_eq "their sends, in the retired totals" 2 "$(get /tmp/r.json retired.sends_ok)"
for i in 1 2; do
	msgtap-verify --get /tmp/r.json "queues[$(queue_of $i)]" >/dev/null 2>&1 &&
		fail "the row of stopped namespace $(queue_of $i) is still there"
done
for i in 3 4 5 6 7 8; do
	check_eq "queue $(queue_of $i), its namespace still running: sends" 1 \
		"$(get /tmp/r.json "queues[$(queue_of $i)].sends_ok")"
done
kill -KILL $pids 2>/dev/null
wait $pids 2>/dev/null
daemon_stop || fail "msgtapd did not stop cleanly"
msgtap_unload
