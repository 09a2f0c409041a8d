#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves a disk that does not answer holds up none of msgtapd's work but the
# files: with its file writer thread held still (as a write or fsync() that
# does not return would), msgtapd still receives every event, answers
# msgtapctl and /metrics with exact counts, bounds what waits to be written,
# and says how many snapshots it skipped; once the disk answers again, the
# files catch up, and a stop writes the last snapshot whole.
. /tests/lib.sh

need msgtap-workload msgtap-verify msgtap-stall wget

get() { msgtap-verify --get "$1" "$2" || fail "$1 has no $2"; }
status_json() {
	msgtapctl --socket $MSGTAP_SOCKET status --json >/tmp/st.json || fail "msgtapctl status failed"
}
skipped_at_least() {
	status_json
	[ "$(get /tmp/st.json msgtapd.file_writes_skipped)" -ge "$1" ]
}
written_after() { # the JSON file's timestamp is later than $1
	_ts=$(msgtap-verify --get $MSGTAP_JSON timestamp 2>/dev/null) || return 1
	awk -v a="$_ts" -v b="$1" 'BEGIN { exit !(a > b) }'
}

rm -f /tmp/unstall /tmp/h.jsonl /tmp/m.prom
msgtap_load
daemon_start --textfile /tmp/m.prom --json-lines /tmp/h.jsonl
wait_for -t 10 test -s $MSGTAP_JSON || fail "msgtapd wrote no JSON file"

info "the file writer held still: receiving and answering go on"
msgtap-stall $MSGTAPD_PID msgtapd-writer /tmp/unstall >/tmp/stall.out 2>&1 &
stall=$!
wait_for -t 10 grep -q "^stalled" /tmp/stall.out || { cat /tmp/stall.out; fail "msgtap-stall did not stop the writer"; }
before=$(get $MSGTAP_JSON timestamp)
lines_before=$(wc -l </tmp/h.jsonl)
run_workload msgtap-workload /tmp/truth.json
msgtapctl --socket $MSGTAP_SOCKET stats --json >/tmp/s1.json || fail "msgtapctl stats failed"
verify_exact /tmp/s1.json /tmp/truth.json
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
grep -q '^msgtap_queue_sends_total{' /tmp/metrics || fail "/metrics has no queue"

info "more than 4 snapshots waiting: the oldest are skipped, counted and logged"
wait_for -t 20 skipped_at_least 2 || { cat /tmp/st.json; fail "no snapshot was skipped"; }
# Four wait; a fifth if the writer was held in the middle of one.
pending=$(get /tmp/st.json msgtapd.file_writes_pending)
[ "$pending" = 4 ] || [ "$pending" = 5 ] || fail "$pending writes waiting: expected 4 (or 5)"
grep -q "snapshots behind (a slow disk?): skipped the oldest waiting one" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not log the skipped snapshot"; }
# One line for the first skip, not one per interval.
check_eq "lines logged for skipped snapshots" 1 "$(grep -c "snapshots behind" $MSGTAPD_LOG)"
msgtapctl --socket $MSGTAP_SOCKET status >/tmp/st.txt || fail "msgtapctl status failed"
grep -q "snapshots not written: the disk was slower than the interval ([45] writes waiting)" /tmp/st.txt ||
	{ cat /tmp/st.txt; fail "msgtapctl status does not say snapshots were skipped"; }
# Held still, the writer wrote nothing.
check_eq "the JSON file's timestamp while held" "$before" "$(get $MSGTAP_JSON timestamp)"
check_eq "json-lines while held" "$lines_before" "$(wc -l </tmp/h.jsonl)"

info "the disk answers again: the files catch up"
touch /tmp/unstall
wait $stall || { cat /tmp/stall.out; fail "msgtap-stall failed"; }
wait_for -t 10 written_after "$before" || fail "the JSON file was not written after the stall"
wait_for -t 10 grep -q "writing the files has caught up: [0-9]* snapshot(s) skipped" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not log how many snapshots it skipped once caught up"; }
wait_for -t 10 sh -c '[ "$(wc -l </tmp/h.jsonl)" -gt '"$lines_before"' ]' ||
	fail "no json-lines line after the stall"
grep -q '^msgtap_queue_sends_total{' /tmp/m.prom || fail "the textfile has no queue"
daemon_stop || fail "msgtapd did not stop cleanly"
verify_exact $MSGTAP_JSON /tmp/truth.json
msgtap_unload
