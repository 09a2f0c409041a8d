#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: where msgtapd's CPU goes when many
# queues appear at once (10,000 fresh queues, two sends each: the scale
# step's cost per new queue, without the sends that dilute it). perf and
# msgtap-bench come from the host:
#   MSGTAP_QEMU_APPEND="clocksource=tsc tsc=reliable" tests/vm/run --kernel 6.1 \
#     --verbose --add build/bench/msgtap-bench:/tests/bin/msgtap-bench \
#     --add /usr/bin/perf:/tests/bin/perf tests/bench/profile-newqueues.sh
# (tests/bench/run builds msgtap-bench.) Prints msgtapd's CPU ticks over the
# step, its peak RSS, the guest's page faults, and the shares by process and
# by msgtapd's symbols (BENCHMARKS.md quotes them).
. /tests/lib.sh
need msgtapctl msgtap-verify
[ -x /tests/bin/perf ] || fail "no perf in the guest: add the host's with --add /usr/bin/perf:/tests/bin/perf"
[ -x /tests/bin/msgtap-bench ] || fail "no msgtap-bench: add build/bench/msgtap-bench:/tests/bin/msgtap-bench"
P=/tests/bin/perf
echo 32000 >/proc/sys/kernel/msgmni
msgtap_load
daemon_start_default
ticks() { awk '{ print $14 + $15 }' /proc/$MSGTAPD_PID/stat; }
faults0=$(awk '$1 == "pgfault" { print $2 }' /proc/vmstat)
c0=$(ticks)
$P record -a -g -e cpu-clock -F 2000 -o /tmp/perf.data >/dev/null 2>/tmp/perf.err &
perf_pid=$!
sleep 1
/tests/bin/msgtap-bench spread --queues 10000 --sends 20000 --truth /tmp/spread.json ||
	fail "msgtap-bench spread failed"
sleep 0.3
kill -INT $perf_pid
wait $perf_pid
c1=$(ticks)
faults1=$(awk '$1 == "pgfault" { print $2 }' /proc/vmstat)
echo "msgtapd CPU over the step: $((c1 - c0)) ticks of 10 ms"
echo "page faults in the guest over the step: $((faults1 - faults0))"
grep -E 'VmHWM|VmRSS' /proc/$MSGTAPD_PID/status
msgtapctl --socket $MSGTAP_SOCKET stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
msgtap-verify --snapshot /tmp/snap.json /tmp/spread.json || fail "the counts are not exact"
report() { $P report -i /tmp/perf.data --stdio --no-children -g none "$@" 2>/dev/null | grep -v -e '^#' -e '^$'; }
echo "== by comm"
report --sort comm | head -n 8
echo "== msgtapd symbols"
report --comm msgtapd --sort dso,sym | head -n 40
daemon_stop
exit 0
