#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: where the sender's own time goes in
# the pair workload (msgsnd+msgrcv, one process) with the bare counting
# kretprobe, with msgtap early=1 and no listener, and with msgtapd
# registered but stopped (every call recorded and delivered, nothing read).
# perf samples the sender only (cpu-clock; TCG has no PMU), so work on the
# other vCPU is left out: run it under multi-threaded TCG to see what a
# sender pays on hardware. After tests/bench/run --fine has built the bench:
#   MSGTAP_ACCEL=tcg,thread=multi MSGTAP_QEMU_APPEND="clocksource=tsc tsc=reliable" \
#     tests/vm/run --kernel 6.1 --verbose --add /usr/bin/perf:/tests/bin/perf \
#     --add build/bench/KVER/kmod/msgtap_bench_bare.ko \
#     --add build/bench/msgtap-bench:/tests/bin/msgtap-bench tests/bench/profile-sender.sh
# Prints, per configuration, ns per pair and the sender's samples by symbol.
. /tests/lib.sh
need msgtap-bench
[ -x /tests/bin/perf ] || fail "no perf in the guest: add the host's with --add /usr/bin/perf:/tests/bin/perf"
P=/tests/bin/perf
BARE_KO=/lib/msgtap/msgtap_bench_bare.ko
COUNT=${PROFILE_COUNT:-100000}
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

profile() {
	msgtap-bench pair --count 20000 >/dev/null || fail "warm-up of $1 failed"
	$P record -g -e cpu-clock -F 4000 -o /tmp/$1.data -- \
		msgtap-bench pair --count "$COUNT" >/tmp/$1.out 2>/tmp/$1.err ||
		fail "perf record of $1 failed: $(cat /tmp/$1.err)"
	echo "== $1: $(cat /tmp/$1.out) ns per pair; $(tail -n 1 /tmp/$1.err)"
	$P report -i /tmp/$1.data --stdio --no-children -g none -n --sort sym 2>/dev/null |
		grep -v -e '^#' -e '^$' | head -n 70
}

profile baseline
insmod $BARE_KO || fail "insmod $BARE_KO failed"
profile bare
rmmod msgtap_bench_bare
msgtap_load early=1
profile nolistener
daemon_start_default
kill -STOP "$MSGTAPD_PID"
profile stopped
kill -CONT "$MSGTAPD_PID"
daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
exit 0
