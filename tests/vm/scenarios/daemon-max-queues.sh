#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd's memory is bounded by the queues it keeps apart, not by the
# ids senders make up: a msgsnd() to an id that names no queue costs any user
# nothing, and each new id used to cost msgtapd a row (about 1 KB) for
# --retire-after seconds. Ids that named no queue get a sixteenth of
# --max-queues rows; the calls of further ones are counted under msqid -1 of
# their namespace and as folded, in the JSON, /metrics and msgtapctl stats.
# Queues in use still get their own rows and exact counts, and a restarted
# msgtapd continues the folded count. From 3/4 of the rows on, removed
# queues go at each interval's end, without waiting --retire-after
# (stopped containers' queues too: daemon-crowded-namespaces).
. /tests/lib.sh

need msgtap-workload msgtap-verify wget

get() { msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"; }
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}
rows_at_most() {
	_rows=$(msgtapctl --socket $MSGTAP_SOCKET status --json |
		sed -n 's/.*"queues": *\([0-9][0-9]*\),.*/\1/p' | head -n 1)
	[ -n "$_rows" ] && [ "$_rows" -le "$1" ]
}
# What msgtapd keeps: the lowest VmRSS over 2 s. One reading can land while
# it holds a document it is rendering or writing (a few MB, freed after).
rss_kb() {
	_i=0
	while [ $_i -lt 10 ]; do
		awk '/^VmRSS:/ { print $2 }' /proc/$MSGTAPD_PID/status
		sleep 0.2
		_i=$((_i + 1))
	done | sort -n | head -n 1
}
ns=$(stat -L -c %i /proc/self/ns/ipc)
first=16777216

msgtap_load
daemon_start

info "2,048 made-up ids: each gets a row, as many as the default --max-queues allows"
run_workload msgtap-workload /tmp/s1.json --mode stray --count 2048 --key $first
snapshot /tmp/a.json
check_eq "rows of ids that named no queue" 2048 "$(get /tmp/a.json folded.stray_rows)"
check_eq "the most of them" 2048 "$(get /tmp/a.json folded.max_stray_ids)"
check_eq "calls folded" 0 "$(get /tmp/a.json folded.sends)"
check_eq "a row's EINVAL count" 1 "$(get /tmp/a.json "queues[$ns:$first].errors.EINVAL")"
rss1=$(rss_kb)

info "20,000 more made-up ids: counted under msqid -1, without new rows"
run_workload msgtap-workload /tmp/s2.json --mode stray --count 20000 --key $((first + 2048))
snapshot /tmp/b.json
check_eq "rows of ids that named no queue" 2048 "$(get /tmp/b.json folded.stray_rows)"
check_eq "calls folded" 20000 "$(get /tmp/b.json folded.sends)"
check_eq "EINVAL under msqid -1" 20000 "$(get /tmp/b.json "queues[$ns:-1].errors.EINVAL")"
msgtap-verify --get /tmp/b.json "queues[$ns:$((first + 2048))]" >/dev/null 2>&1 &&
	fail "id $((first + 2048)) got a row beyond the limit"
msgtapctl --socket $MSGTAP_SOCKET status --json >/tmp/st.json
grep -q '"queues": *2049,' /tmp/st.json || { cat /tmp/st.json; fail "msgtapd does not hold 2,049 rows"; }
rss2=$(rss_kb)
# A row each would be 20 MB and more (and as much again for the document).
info "msgtapd's RSS: $rss1 kB after 2,048 ids, $rss2 kB after 22,048"
[ $((rss2 - rss1)) -lt 8192 ] || fail "msgtapd grew by $((rss2 - rss1)) kB for 20,000 made-up ids"
# Logged as they happen, a line per round that folded: 20,000 in all by the
# round of the snapshot above.
check_eq "calls folded, as logged" 20000 "$(awk '/more calls counted under msqid -1/ {
	sub(/.*msgtapd: /, ""); n += $1 } END { print n + 0 }' $MSGTAPD_LOG)"
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
grep -qx "msgtap_folded_sends_total 20000" /tmp/metrics ||
	{ grep msgtap_folded /tmp/metrics; fail "/metrics lacks msgtap_folded_sends_total 20000"; }
daemon_stop || fail "msgtapd did not stop cleanly"

info "--max-queues 16: one row for a made-up id; queues in use still count exactly"
# A call that fails before it finds its queue (EFAULT) makes a row only while
# there is room for made-up ids; when it arrives before the calls of the
# other CPU that found the queue, msgtapd holds it back for them
# (daemon-stray-order). msgtap-verify compares with the module's counters:
# they start anew too.
msgtap_unload
msgtap_load
daemon_start --max-queues 16
run_workload msgtap-workload /tmp/s3.json --mode stray --count 100 --key $first
run_workload msgtap-workload /tmp/mix.json --new-ipcns
snapshot /tmp/c.json
check_eq "rows of ids that named no queue, calls folded" "1 99" \
	"$(get /tmp/c.json folded.stray_rows) $(get /tmp/c.json folded.sends)"
verify_exact /tmp/c.json /tmp/mix.json
msgtapctl --socket $MSGTAP_SOCKET stats >/tmp/stats.txt || fail "msgtapctl stats failed"
grep -q "^folded: 99 calls .* msqid -1 (msgtapd --max-queues 16, of them 1 for ids" /tmp/stats.txt ||
	{ cat /tmp/stats.txt; fail "msgtapctl stats does not say what was folded"; }
daemon_stop || fail "msgtapd did not stop cleanly"

info "a restarted msgtapd continues the folded count"
MSGTAP_KEEP_STATE=1 daemon_start --max-queues 16
snapshot /tmp/d.json
check_eq "calls folded after the restart" 99 "$(get /tmp/d.json folded.sends)"
run_workload msgtap-workload /tmp/s4.json --mode stray --count 5 --key $((first + 100))
snapshot /tmp/e.json
check_eq "calls folded" 104 "$(get /tmp/e.json folded.sends)"

info "queues made and removed in a loop: from 3/4 of --max-queues, removed ones go at once"
# 7 rows now: the stray row, this namespace's -1 row, and the 4 queues and -1
# row of the namespace the first mix ran in (its process has exited). A mix
# here makes 4 queues, removed at its end, and sends to msqid -1.
# Two mixes while msgtapd is stopped: it then counts them in one go (15
# rows, none folded), and its next interval's end finds their 8 queues
# removed in a crowded table, the made-up id too (msgctl finds no queue),
# and the other namespace without a process: 14 rows go, this -1 row stays.
kill -STOP $MSGTAPD_PID
run_workload msgtap-workload /tmp/mix2.json
run_workload msgtap-workload /tmp/mix3.json
kill -CONT $MSGTAPD_PID
wait_for -t 10 grep -q "retired 14 .*without waiting --retire-after" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "a crowded table did not retire its removed queues"; }
wait_for -t 10 rows_at_most 1 ||
	{ cat $MSGTAPD_LOG; fail "the removed queues of a crowded table are still there"; }
run_workload msgtap-workload /tmp/mix4.json
snapshot /tmp/f.json
# Without the early retirement, 15 rows would leave one for the last mix.
sed -n 's/^ *{"msqid": \([0-9][0-9]*\), "sends_ok": \([0-9]*\),.*/\1 \2/p' /tmp/mix4.json >/tmp/q4
check_eq "queues of the last mix" 4 "$(wc -l </tmp/q4)"
while read -r id sends; do
	check_eq "queue $id of the last mix: sends in its own row" "$sends" \
		"$(get /tmp/f.json "queues[$ns:$id].sends_ok")"
done </tmp/q4
check_eq "calls folded" 104 "$(get /tmp/f.json folded.sends)"
daemon_stop || fail "msgtapd did not stop cleanly"
msgtap_unload
