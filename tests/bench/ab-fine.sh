#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: the cost per send of a few probe
# configurations, measured in many short runs (40 rounds of 4,000 calls, the
# configurations in rotating order) instead of make bench's few long ones.
# The host's speed changes over seconds; short interleaved runs let those
# changes fall on every configuration alike, so smaller differences show.
# With a second msgtap.ko at /tests/old.ko it also runs that one (early=1,
# without a listener and with msgtapd): an A/B of two builds, or, with the
# same build twice, an A/A, the method's own resolution.
#   MSGTAP_QEMU_APPEND="clocksource=tsc tsc=reliable" tests/vm/run --kernel 6.1 \
#     --verbose --add build/bench/msgtap-bench:/tests/bin/msgtap-bench \
#     --add build/bench/KVER/kmod/msgtap_bench_bare.ko \
#     [--add OTHER/msgtap.ko:/tests/old.ko] tests/bench/ab-fine.sh
# (tests/bench/run builds msgtap-bench and the bare module.) Prints one
# "AB round config workload ns" line per run; results/ab-fine-*.txt keep
# runs with their summaries (median over rounds of each round's ratio to
# its own baseline).
. /tests/lib.sh
B=/tests/bin/msgtap-bench
BARE_KO=/lib/msgtap/msgtap_bench_bare.ko
T=/sys/kernel/tracing
[ -x $B ] || fail "no msgtap-bench: add build/bench/msgtap-bench:/tests/bin/msgtap-bench"
# ab.configs=A,B,... and ab.rounds=N on the kernel command line
# (MSGTAP_QEMU_APPEND) choose other configurations and another count.
param() {
	_v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^ab\.$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}
ROUNDS=$(param rounds 40)
CONFIGS="base bare msgtap-e0 msgtap-e1 msgtapd-stopped-e1 msgtapd-e1 syscall-events"
[ -f /tests/old.ko ] && CONFIGS="$CONFIGS old-e1 msgtapd-old-e1"
# shellcheck disable=SC2046
set -- $(param configs "$CONFIGS" | tr ',' ' ')
case " $* " in
*" base "*) ;;
*) fail "ab.configs must include base: every run is compared with its round's" ;;
esac
case " $* " in
*" bare "*) [ -f $BARE_KO ] || fail "no $BARE_KO: add build/bench/KVER/kmod/msgtap_bench_bare.ko" ;;
esac
setup() {
	case $1 in
	base) ;;
	bare) insmod $BARE_KO ;;
	msgtap-e0) insmod $MSGTAP_KO early=0 ;;
	msgtap-e1) insmod $MSGTAP_KO early=1 ;;
	msgtapd-e1) insmod $MSGTAP_KO early=1 && daemon_start_default ;;
	# Records written and delivered into msgtapd's socket, not read
	# until the run ends: what the listener costs without msgtapd's work.
	msgtapd-stopped-e1) insmod $MSGTAP_KO early=1 && daemon_start_default &&
		kill -STOP "$MSGTAPD_PID" ;;
	old-e1) insmod /tests/old.ko early=1 ;;
	syscall-events) echo 1 >$T/events/syscalls/sys_enter_msgsnd/enable &&
		echo 1 >$T/events/syscalls/sys_exit_msgsnd/enable ;;
	msgtapd-old-e1) insmod /tests/old.ko early=1 && daemon_start_default ;;
	esac || fail "cannot set up $1"
}
teardown() {
	case $1 in
	base) ;;
	bare) rmmod msgtap_bench_bare ;;
	msgtapd-e1 | msgtapd-old-e1) daemon_stop && rmmod msgtap ;;
	syscall-events) echo 0 >$T/events/syscalls/sys_enter_msgsnd/enable &&
		echo 0 >$T/events/syscalls/sys_exit_msgsnd/enable && echo >$T/trace ;;
	msgtapd-stopped-e1) kill -CONT "$MSGTAPD_PID" && daemon_stop && rmmod msgtap ;;
	*) rmmod msgtap ;;
	esac || fail "cannot tear down $1"
}
$B pair --count 20000 --reps 1 >/dev/null || fail "msgtap-bench failed"
round=1
while [ $round -le "$ROUNDS" ]; do
	for config in "$@"; do
		setup "$config"
		for w in pair loop; do
			out=$($B $w --count 4000 --reps 1) || fail "msgtap-bench $w failed under $config"
			echo "AB $round $config $out"
		done
		teardown "$config"
	done
	_first=$1
	shift
	set -- "$@" "$_first"
	round=$((round + 1))
done
exit 0
