#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves a queue's failed call is counted in its queue's row even when it
# reaches msgtapd first, while the rows for ids that name no queue are all
# taken (msgtapd --max-queues). The module drains its rings one CPU after
# the other, CPU 0 first: a successful send on CPU 1, then IPC_RMID and a
# send on CPU 0 to the stale id (EINVAL, no queue for the module to find),
# arrive failure first when one drain takes both; flush_ms=1000 makes that
# all but certain. msgtapd must hold the failure back until the success
# makes the queue's row, not fold it under msqid -1 as a made-up id.
. /tests/lib.sh

need msgtap-workload msgtap-verify taskset

get() { msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"; }
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}

[ "$(grep -c ^processor /proc/cpuinfo)" -ge 2 ] || fail "this scenario needs 2 CPUs"
msgtap_load flush_ms=1000
# 16 rows, of them one for an id that names no queue: the made-up id below.
daemon_start --max-queues 16
run_workload msgtap-workload /tmp/stray.json --mode stray --count 1
snapshot /tmp/a.json
check_eq "rows of ids that named no queue" 1 "$(get /tmp/a.json folded.stray_rows)"

for round in 1 2 3; do
	info "round $round: a success on CPU 1, then a failure on CPU 0 to the removed queue"
	run_workload taskset /tmp/t$round.json 2 msgtap-workload --mode doomed \
		--fail 1 --fail-cpu 0 --ready /tmp/t$round.ready
	q=$(sed -n 's/.*ipc_ns=\([0-9]*\) msqid=\([0-9]*\).*/\1:\2/p' /tmp/t$round.ready)
	snapshot /tmp/b$round.json
	einval=$(msgtap-verify --get /tmp/b$round.json "queues[$q].errors.EINVAL" || echo none)
	check_eq "queue $q: sends, failures, EINVAL" "1 1 1" \
		"$(get /tmp/b$round.json "queues[$q].sends_ok") $(get /tmp/b$round.json "queues[$q].sends_failed") $einval"
	check_eq "calls folded under msqid -1" 0 "$(get /tmp/b$round.json folded.sends)"
done

info "ids that name no queue are still folded once their row is taken"
run_workload msgtap-workload /tmp/stray2.json --mode stray --count 3 --key 16777300
snapshot /tmp/c.json
check_eq "rows of ids that named no queue, calls folded" "1 3" \
	"$(get /tmp/c.json folded.stray_rows) $(get /tmp/c.json folded.sends)"
daemon_stop || fail "msgtapd did not stop cleanly"
msgtap_unload
