#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: one /metrics scrape of 10,000 queues
# while two senders flood (until 04b067b msgtapd read no events while it
# rendered the page; now it renders it in pieces between events). Prints msgtapd's state every 3 s, when the scrape ended, and the
# loss. msgtap-bench comes from `make bench`'s build:
#   tests/vm/run --kernel 6.1 --verbose --scenario-timeout 600 \
#     --add build/bench/msgtap-bench:/tests/bin/msgtap-bench tests/bench/scrape-flood.sh
# (busybox wget crashed with -T here: none is given.)
. /tests/lib.sh
echo 32000 >/proc/sys/kernel/msgmni
need msgtap-workload msgtapctl wget
[ -x /tests/bin/msgtap-bench ] || fail "add build/bench/msgtap-bench as /tests/bin/msgtap-bench"
msgtap_load
daemon_start_default
/tests/bin/msgtap-bench spread --queues 10000 --sends 20000 --truth /tmp/spread.json >/dev/null || fail spread
t() { cut -d' ' -f1 /proc/uptime; }
mon() { set -- $(cat /proc/$MSGTAPD_PID/stat); echo "$(t) msgtapd state=$3 utime=${14} stime=${15} wchan=$(cat /proc/$MSGTAPD_PID/wchan) rss=$(grep VmRSS /proc/$MSGTAPD_PID/status | tr -s ' ' | cut -d' ' -f2)"; }
echo "$(t) spread done"; mon
msgtap-workload --mode flood --senders 2 --seconds 20 --truth /tmp/flood.json >/dev/null &
FLOOD=$!
sleep 3
( s=$(t); wget -q -O /tmp/m http://127.0.0.1:9464/metrics; echo "$(t) scrape rc=$? from $s size $(wc -c </tmp/m)" ) &
SCRAPE=$!
for i in $(seq 1 40); do sleep 3; mon; kill -0 $SCRAPE 2>/dev/null || [ $i -lt 8 ] || break; done
wait $FLOOD; echo "$(t) flood done"
kill $SCRAPE 2>/dev/null
timeout 120 msgtapctl --socket $MSGTAP_SOCKET stats >/tmp/stats.txt; echo "$(t) stats rc=$?"; tail -n 2 /tmp/stats.txt
mon
tail -n 20 $MSGTAPD_LOG
cat /proc/$MSGTAPD_PID/stack 2>/dev/null | head
kill $MSGTAPD_PID; sleep 2
exit 0
