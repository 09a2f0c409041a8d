#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: where the guest's CPU goes while two
# senders flood msgtap early=1 + msgtapd for 10 s (perf, all CPUs, call
# graphs; TCG has no PMU, so cpu-clock). perf comes from the host:
#   MSGTAP_QEMU_APPEND="clocksource=tsc tsc=reliable" tests/vm/run --kernel 6.1 \
#     --verbose --add /usr/bin/perf:/tests/bin/perf tests/bench/profile-flood.sh
# Prints the events counted, then the shares by process and by symbol of
# msgtapd, the delivery kworker and the senders (BENCHMARKS.md quotes them;
# results/profile-flood-*.txt are two runs).
. /tests/lib.sh
need msgtap-workload msgtapctl
[ -x /tests/bin/perf ] || fail "no perf in the guest: add the host's with --add /usr/bin/perf:/tests/bin/perf"
P=/tests/bin/perf
msgtap_load early=1
daemon_start
$P record -a -g -e cpu-clock -F 2000 -o /tmp/perf.data -- \
	msgtap-workload --mode flood --senders 2 --seconds 10 --truth /tmp/flood.json \
	>/dev/null 2>/tmp/perf.err || fail "perf record or the flood failed: $(cat /tmp/perf.err)"
tail -n 3 /tmp/perf.err
msgtapctl --socket $MSGTAP_SOCKET stats | head -n 30
report() { $P report -i /tmp/perf.data --stdio --no-children -g none "$@" 2>/dev/null | grep -v -e '^#' -e '^$'; }
echo "== by comm"
report --sort comm | head -n 15
echo "== msgtapd symbols"
report --comm msgtapd --sort dso,sym | head -n 45
echo "== kworker symbols"
report --sort comm,sym | grep kworker | head -n 25
echo "== sender symbols"
report --comm msgtap-workload --sort sym | head -n 45
daemon_stop
exit 0
