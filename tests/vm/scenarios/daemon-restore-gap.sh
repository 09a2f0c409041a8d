#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves a restarted msgtapd that continues its predecessor's counts
# (--restore) says what they miss: the calls made while no msgtapd was
# registered are loss.restore_gap, exactly, in the JSON, /metrics, the
# msgtapctl loss line and the log; a later restart carries it forward; a
# start without --restore has nothing to miss; what a killed msgtapd
# received after its last document is restore_gap too; and a module reloaded under
# the saved document is named, with the calls it saw without a listener,
# even when its counters have all passed the saved ones (the load id).
. /tests/lib.sh

need msgtap-workload msgtap-verify wget

get() { msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"; }
snapshot() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
}
stop() { daemon_stop || fail "msgtapd did not stop cleanly"; }

msgtap_load
daemon_start
run_workload msgtap-workload /tmp/a.json --mode simple --count 10
stop

info "7 calls while no msgtapd runs, then a msgtapd that continues the counts"
run_workload msgtap-workload /tmp/b.json --mode stray --count 7
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s1.json
check_eq "loss.restore_gap" 7 "$(get /tmp/s1.json loss.restore_gap)"
check_eq "loss.total" 7 "$(get /tmp/s1.json loss.total)"
check_eq "loss.nothing_lost" false "$(get /tmp/s1.json loss.nothing_lost)"
grep -q "7 calls were made while no msgtapd was registered" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not log the gap"; }
msgtapctl --socket $MSGTAP_SOCKET stats >/tmp/stats.txt || fail "msgtapctl stats failed"
grep -q "^lost: 7 (.*restore_gap 7)" /tmp/stats.txt ||
	{ cat /tmp/stats.txt; fail "msgtapctl stats does not show the gap"; }
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
grep -qx 'msgtap_lost_events_total{stage="restore_gap"} 7' /tmp/metrics ||
	{ grep msgtap_lost /tmp/metrics; fail "/metrics does not show the gap"; }
run_workload msgtap-workload /tmp/c.json --mode simple --count 3
stop

info "a restart with no calls in between carries the gap and adds nothing"
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s2.json
check_eq "loss.restore_gap" 7 "$(get /tmp/s2.json loss.restore_gap)"
stop

info "without --restore there is nothing to miss"
run_workload msgtap-workload /tmp/d.json --mode stray --count 2
MSGTAP_KEEP_STATE=1 daemon_start --no-restore
snapshot /tmp/s3.json
check_eq "loss.restore_gap, nothing_lost" "0 true" \
	"$(get /tmp/s3.json loss.restore_gap) $(get /tmp/s3.json loss.nothing_lost)"
stop

# The document (the one it wrote at start, or its predecessor's from its
# clean stop: both end where it began) has none of the 10 calls; they reach
# its counts, and it is killed before its next document.
info "a msgtapd killed between documents: what it received after the last one"
MSGTAP_KEEP_STATE=1 _msgtapd_launch --interval 3600
run_workload msgtap-workload /tmp/k.json --mode simple --count 10
snapshot /tmp/k1.json
check_eq "sends the killed msgtapd counted" 10 "$(get /tmp/k1.json daemon.events_received)"
kill -KILL "$MSGTAPD_PID"
wait "$MSGTAPD_PID"
MSGTAPD_PID=
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s3k.json
check_eq "loss.restore_gap" 10 "$(get /tmp/s3k.json loss.restore_gap)"
grep -q "10 records were delivered after .* was written" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not log the records after the document"; }
stop
info "a clean stop in between leaves nothing after the document"
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s3c.json
check_eq "loss.restore_gap (the 10 carried)" 10 "$(get /tmp/s3c.json loss.restore_gap)"
stop

info "the module reloaded under the saved document"
msgtap_unload
msgtap_load
run_workload msgtap-workload /tmp/e.json --mode stray --count 5
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s4.json
check_eq "loss.restore_gap (10 carried, 5 since the reload)" 15 "$(get /tmp/s4.json loss.restore_gap)"
grep -q "module was reloaded since" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not say the module was reloaded"; }
stop

# Every counter of the new load passes the document's before msgtapd starts:
# only the load id tells the reload (the counters alone would give 40).
info "a reload whose counters all passed the saved ones"
load_id=$(get /tmp/s4.json kernel.load_id)
echo "$load_id" | grep -qx '[0-9a-f]\{16\}' || fail "kernel.load_id '$load_id' is not 16 hex digits"
msgtap_unload
msgtap_load
run_workload msgtap-workload /tmp/f.json --mode stray --count 30
MSGTAP_KEEP_STATE=1 daemon_start
snapshot /tmp/s5.json
[ "$(get /tmp/s5.json kernel.load_id)" != "$load_id" ] || fail "the load id did not change with a reload"
check_eq "loss.restore_gap (15 carried, 30 since the reload)" 45 "$(get /tmp/s5.json loss.restore_gap)"
stop
msgtap_unload
