#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The guest half of `make bench` (run by tests/vm/run as a scenario): cost per
# send under each probe configuration, throughput and loss, and scale. It
# prints only BENCH-* lines for the host to read (tests/bench/report.py):
#   BENCH-INFO KEY VALUE...
#   BENCH-COST ROUND CONFIG WORKLOAD NS NS NS      (ns per call, per repetition)
#   BENCH-KV SECTION KEY=VALUE...
#   BENCH-JSON TAG {...}                           (a snapshot without its queues)
# Tunables come from the kernel command line (bench.rounds=N ...), so a quick
# trial run needs no rebuild: see tests/bench/run --help. senders=none,
# queues=none and blocked=0 skip those steps (tests/bench/run --fine: cost
# per send only, in many short rounds). A second msgtap.ko at /tests/old.ko
# (tests/bench/run --old) adds the configurations old-e1 and msgtapd-old-e1:
# an A/B of two builds in one boot. bench.ab=NAME,... (tests/bench/run --ab)
# floods with other builds of msgtap.ko and msgtapd, /tests/ab/NAME.ko and
# /tests/ab/NAME.msgtapd ("this" is this build's), in alternating order.
. /tests/lib.sh

need msgtap-bench msgtap-workload msgtapd msgtapctl msgtap-verify msgtap-nlprobe

BARE_KO=/lib/msgtap/msgtap_bench_bare.ko
OLD_KO=/tests/old.ko
T=/sys/kernel/tracing

# bench.NAME=VALUE from the kernel command line, else DEFAULT.
param() {
	_v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^bench\.$1=//p" | tail -n 1)
	echo "${_v:-$2}"
}
# Many short rounds rather than a few long ones: the host's speed changes
# over seconds, and short interleaved runs let it change for every
# configuration alike (BENCHMARKS.md, "Short interleaved runs").
ROUNDS=$(param rounds 40)
COUNT=$(param count 4000)
WORKLOADS=$(param workloads "loop pair")
REPS=$(param reps 1)
TPUT_SECONDS=$(param seconds 30)
TPUT_SENDERS=$(param senders "1 2 4")
SCALE_QUEUES=$(param queues "1 100 10000")
SCALE_SENDS=$(param sends 200000)
BLOCKED=$(param blocked 1000)
CONFIGS=$(param configs "baseline bare msgtap-e0 msgtap-e1 nlprobe-e1 msgtapd-stopped-e1 msgtapd-e0 msgtapd-e1 syscall-events syscall-events-read kprobe-events")
AB_VARIANTS=$(param ab "")
AB_ROUNDS=$(param ab_rounds 6)
AB_SENDERS=$(param ab_senders "1 2")
AB_SECONDS=$(param ab_seconds 10)
CONFIGS=$(echo "$CONFIGS" | tr ',' ' ')
AB_VARIANTS=$(echo "$AB_VARIANTS" | tr ',' ' ')
AB_SENDERS=$(echo "$AB_SENDERS" | tr ',' ' ')
WORKLOADS=$(echo "$WORKLOADS" | tr ',' ' ')
TPUT_SENDERS=$(echo "$TPUT_SENDERS" | tr ',' ' ')
SCALE_QUEUES=$(echo "$SCALE_QUEUES" | tr ',' ' ')
[ "$TPUT_SENDERS" = none ] && TPUT_SENDERS=
[ "$SCALE_QUEUES" = none ] && SCALE_QUEUES=

# CPU ticks (utime + stime) of a process; comm has no spaces here.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Busy ticks of the whole guest (user, nice, system, irq, softirq, steal of
# every CPU): with the senders flat out, what the floods' calls and msgtapd
# used together, measured over the same seconds as msgtapd's share of it.
guest_busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# "utime stime" ticks of a process (all its threads) and of its first
# thread, msgtapd's event loop: "UT ST LOOP_UT LOOP_ST".
cpu_split() {
	echo "$(awk '{ print $14, $15 }' "/proc/$1/stat") $(awk '{ print $14, $15 }' "/proc/$1/task/$1/stat")"
}

# A line of /proc/PID/status in kB.
status_kb() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# Sets EXACT to 1 if the snapshot in /tmp/snap.json matches the ground truth
# TRUTH queue by queue, else to 0, showing the first mismatches.
check_exact() {
	if msgtap-verify --snapshot /tmp/snap.json "$1" >/tmp/verify.out 2>&1; then
		EXACT=1
	else
		EXACT=0
		sed 's/^/verify: /' /tmp/verify.out | head -n 20
	fi
}

# The snapshot of msgtapd (flushed first) on one line, without its queues.
snapshot_line() {
	msgtapctl --socket $MSGTAP_SOCKET stats --json >"$1" || fail "msgtapctl stats --json failed"
	tr -d '\n' <"$1" | sed -e 's/, *"queues": *\[.*$/}/'
}

# --- configurations -----------------------------------------------------------

setup() {
	case $1 in
	baseline) ;;
	bare) insmod $BARE_KO || fail "insmod $BARE_KO failed" ;;
	msgtap-e0) insmod $MSGTAP_KO early=0 || fail "insmod msgtap early=0 failed" ;;
	msgtap-e1) insmod $MSGTAP_KO early=1 || fail "insmod msgtap early=1 failed" ;;
	nlprobe-e1)
		# A listener that only reads and checks sequence numbers (libnl,
		# no aggregation): how much of msgtapd's cost is receiving.
		insmod $MSGTAP_KO early=1 || fail "insmod msgtap early=1 failed"
		msgtap-nlprobe register --read >/tmp/nlprobe.out 2>&1 &
		NLPROBE_PID=$!
		wait_for grep -q '^registered portid=' /tmp/nlprobe.out ||
			fail "msgtap-nlprobe did not register"
		;;
	msgtapd-stopped-e1)
		# msgtapd registered but stopped: every record is written and
		# delivered into its socket (64 MB), and read only after the run.
		# Splits msgtapd's row into recording and delivery, and msgtapd.
		insmod $MSGTAP_KO early=1 || fail "insmod msgtap early=1 failed"
		daemon_start_default
		kill -STOP "$MSGTAPD_PID"
		;;
	msgtapd-e0)
		insmod $MSGTAP_KO early=0 || fail "insmod msgtap early=0 failed"
		daemon_start_default
		;;
	msgtapd-e1)
		insmod $MSGTAP_KO early=1 || fail "insmod msgtap early=1 failed"
		daemon_start_default
		;;
	old-e1) insmod $OLD_KO early=1 || fail "insmod $OLD_KO early=1 failed" ;;
	msgtapd-old-e1)
		insmod $OLD_KO early=1 || fail "insmod $OLD_KO early=1 failed"
		daemon_start_default
		;;
	syscall-events)
		echo 1 >$T/events/syscalls/sys_enter_msgsnd/enable &&
			echo 1 >$T/events/syscalls/sys_exit_msgsnd/enable ||
			fail "cannot enable the msgsnd syscall events"
		;;
	syscall-events-read)
		# As above, and read as a user would: trace_pipe to a consumer.
		echo 1 >$T/events/syscalls/sys_enter_msgsnd/enable &&
			echo 1 >$T/events/syscalls/sys_exit_msgsnd/enable ||
			fail "cannot enable the msgsnd syscall events"
		cat $T/trace_pipe >/dev/null &
		READER_PID=$!
		;;
	kprobe-events)
		# What msgtap records of the call, as a user would write it.
		echo 'p:bench/snd do_msgsnd msqid=%di:s32 mtype=%si:s64 msgsz=%cx:u64 msgflg=%r8:s32' >>$T/kprobe_events &&
			echo 'r:bench/snd_ret do_msgsnd ret=$retval:s64' >>$T/kprobe_events &&
			echo 1 >$T/events/bench/enable ||
			fail "cannot add the do_msgsnd kprobe events"
		;;
	*) fail "unknown configuration $1" ;;
	esac
}

teardown() {
	case $1 in
	bare) rmmod msgtap_bench_bare || fail "rmmod msgtap_bench_bare failed" ;;
	msgtap-e0 | msgtap-e1 | old-e1) rmmod msgtap || fail "rmmod msgtap failed" ;;
	nlprobe-e1)
		kill -TERM $NLPROBE_PID
		wait $NLPROBE_PID
		rmmod msgtap || fail "rmmod msgtap failed"
		;;
	msgtapd-e0 | msgtapd-e1 | msgtapd-stopped-e1 | msgtapd-old-e1)
		[ "$1" = msgtapd-stopped-e1 ] && kill -CONT "$MSGTAPD_PID"
		daemon_stop || fail "msgtapd exited with status $?"
		rmmod msgtap || fail "rmmod msgtap failed"
		;;
	syscall-events | syscall-events-read)
		[ "$1" = syscall-events-read ] && kill $READER_PID && wait $READER_PID
		echo 0 >$T/events/syscalls/sys_enter_msgsnd/enable
		echo 0 >$T/events/syscalls/sys_exit_msgsnd/enable
		echo >$T/trace
		;;
	kprobe-events)
		echo 0 >$T/events/bench/enable
		echo >$T/kprobe_events || fail "cannot remove the kprobe events"
		echo >$T/trace
		;;
	esac
}

# --- what the guest is -----------------------------------------------------------

echo "BENCH-INFO kernel $(uname -r)"
echo "BENCH-INFO cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "BENCH-INFO ncpus $(grep -c '^processor' /proc/cpuinfo)"
echo "BENCH-INFO clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "BENCH-INFO memory_kb $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "BENCH-INFO record_bytes $(msgtap-bench recsize)"
echo "BENCH-INFO ns_record_bytes $(msgtap-bench nsrecsize)"
echo "BENCH-INFO params rounds=$ROUNDS count=$COUNT reps=$REPS seconds=$TPUT_SECONDS senders=${TPUT_SENDERS:-none} queues=${SCALE_QUEUES:-none} sends=$SCALE_SENDS blocked=$BLOCKED workloads=$(echo $WORKLOADS | tr " " ",")"
[ -f $BARE_KO ] || fail "$BARE_KO missing from the initramfs"
case " $CONFIGS " in
*" old-e1 "* | *" msgtapd-old-e1 "*)
	[ -f $OLD_KO ] || fail "old-e1 and msgtapd-old-e1 need a second module: tests/bench/run --old FILE" ;;
esac
[ -d $T/events/syscalls/sys_enter_msgsnd ] || fail "no syscall trace events in this kernel"
grep -q do_msgsnd $T/available_filter_functions || fail "do_msgsnd is not traceable"

# --- 1. cost per send ----------------------------------------------------------------

info "cost per send: $ROUNDS rounds of: $CONFIGS"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	# Rotate the order each round so no configuration always follows the
	# same one (a module load's after-effects, a daemon's first snapshot).
	set -- $CONFIGS
	i=1
	while [ "$i" -lt "$round" ]; do
		_first=$1
		shift
		set -- "$@" "$_first"
		i=$((i + 1))
	done
	for config in "$@"; do
		setup "$config"
		for w in $WORKLOADS; do
			out=$(msgtap-bench $w --count "$COUNT" --reps "$REPS") ||
				fail "msgtap-bench $w failed under $config"
			echo "BENCH-COST $round $config ${out}"
		done
		teardown "$config"
	done
	round=$((round + 1))
done
dmesg | grep msgtap_bench_bare | tail -n 1

# --- 2. throughput and loss ---------------------------------------------------------------

# ns per untraced msgsnd of the loop workload, one per repetition, comma-
# separated: each flood's msgtapd CPU per event is compared with a sender's
# call measured just before and after it (the host's speed drifts).
untraced_loop() {
	out=$(msgtap-bench loop --count 20000 --reps 3) || fail "msgtap-bench loop failed"
	echo "${out#loop }" | tr ' ' ','
}

# flood N SECONDS TRUTH: N flat-out senders for SECONDS (ground truth to
# TRUTH), then a tenth of a second for what is still in flight (one flush_ms)
# to be received within the window. Sets FLOOD_SECONDS, the time it took.
flood() {
	_t0=$(cut -d' ' -f1 /proc/uptime)
	msgtap-workload --mode flood --senders "$1" --seconds "$2" \
		--truth "$3" >/dev/null || fail "the flood workload deviated"
	_t1=$(cut -d' ' -f1 /proc/uptime)
	FLOOD_SECONDS=$(awk "BEGIN { print $_t1 - $_t0 }")
	sleep 0.1
}

for n in $TPUT_SENDERS; do
	info "throughput: $n flat-out senders for $TPUT_SECONDS s, msgtapd running"
	before=$(untraced_loop)
	msgtap_load
	modsize=$(awk '$1 == "msgtap" { print $2 }' /proc/modules)
	daemon_start_default
	c0=$(cpu_ticks $MSGTAPD_PID)
	b0=$(guest_busy)
	flood "$n" "$TPUT_SECONDS" /tmp/tput.json
	c1=$(cpu_ticks $MSGTAPD_PID)
	b1=$(guest_busy)
	line=$(snapshot_line /tmp/snap.json)
	hwm=$(status_kb $MSGTAPD_PID VmHWM)
	rss=$(status_kb $MSGTAPD_PID VmRSS)
	check_exact /tmp/tput.json
	daemon_stop || fail "msgtapd exited with status $?"
	msgtap_unload
	ipcrm -a 2>/dev/null
	after=$(untraced_loop)
	echo "BENCH-KV tput senders=$n seconds=$FLOOD_SECONDS sends_ok=$(truth_get /tmp/tput.json '*' sends_ok) calls=$(truth_get /tmp/tput.json '*' calls) cpu_ticks=$((c1 - c0)) guest_busy_ticks=$((b1 - b0)) clk_tck=100 vmhwm_kb=$hwm vmrss_kb=$rss module_bytes=$modsize exact=$EXACT untraced_ns=$before,$after"
	echo "BENCH-JSON tput-$n $line"
done

# --- 2b. floods with other builds, alternating (bench.ab) -------------------------

# A flood of N senders for AB_SECONDS under build VARIANT: its msgtap.ko and
# msgtapd, their CPU split into user and system time, event loop and other
# threads (the file writer), and an untraced msgsnd measured just before.
ab_flood() {
	_v=$1 _n=$2 _r=$3
	if [ "$_v" = this ]; then
		_ko=$MSGTAP_KO _d=msgtapd
	else
		_ko=/tests/ab/$_v.ko _d=/tests/ab/$_v.msgtapd
	fi
	_before=$(untraced_loop)
	insmod "$_ko" || fail "insmod $_ko failed"
	MSGTAPD_BIN=$_d daemon_start_default
	set -- $(cpu_split $MSGTAPD_PID)
	_u0=$1 _s0=$2 _lu0=$3 _ls0=$4
	_b0=$(guest_busy)
	flood "$_n" "$AB_SECONDS" /tmp/ab.json
	set -- $(cpu_split $MSGTAPD_PID)
	_u1=$1 _s1=$2 _lu1=$3 _ls1=$4
	_b1=$(guest_busy)
	line=$(snapshot_line /tmp/snap.json)
	check_exact /tmp/ab.json
	daemon_stop || fail "msgtapd ($_v) exited with status $?"
	rmmod msgtap || fail "rmmod msgtap ($_v) failed"
	ipcrm -a 2>/dev/null
	echo "BENCH-KV ab variant=$_v round=$_r senders=$_n seconds=$FLOOD_SECONDS calls=$(truth_get /tmp/ab.json '*' calls) utime=$((_u1 - _u0)) stime=$((_s1 - _s0)) loop_utime=$((_lu1 - _lu0)) loop_stime=$((_ls1 - _ls0)) guest_busy_ticks=$((_b1 - _b0)) clk_tck=100 exact=$EXACT untraced_ns=$_before"
	echo "BENCH-JSON ab-$_v-$_n-$_r $line"
}

if [ -n "$AB_VARIANTS" ]; then
	for _v in $AB_VARIANTS; do
		[ "$_v" = this ] && continue
		[ -f /tests/ab/$_v.ko ] && [ -x /tests/ab/$_v.msgtapd ] ||
			fail "bench.ab: /tests/ab/$_v.ko or /tests/ab/$_v.msgtapd missing (tests/bench/run --ab)"
	done
	info "floods A/B: $AB_ROUNDS rounds of $AB_SECONDS s, senders $AB_SENDERS, builds $AB_VARIANTS"
	r=1
	while [ "$r" -le "$AB_ROUNDS" ]; do
		# Odd rounds in the given order, even rounds reversed: A B, B A, ...
		order=$AB_VARIANTS
		if [ $((r % 2)) -eq 0 ]; then
			order=
			for v in $AB_VARIANTS; do order="$v $order"; done
		fi
		for n in $AB_SENDERS; do
			for v in $order; do
				ab_flood "$v" "$n" "$r"
			done
		done
		r=$((r + 1))
	done
fi

# --- 3. scale ------------------------------------------------------------------------------

# A fresh module and daemon per step: the kernel's counters, which the
# verifier compares with the daemon's, are then the step's own.
echo 32000 >/proc/sys/kernel/msgmni
for q in $SCALE_QUEUES; do
	info "scale: $SCALE_SENDS sends over $q queue(s)"
	msgtap_load
	daemon_start_default
	# The sends over fresh queues, then as many again over the same ones:
	# a queue's first records pay for creating its statistics, the next
	# ones only for the record (msgtap-bench reads msgtapd's ticks).
	c0=$(cpu_ticks $MSGTAPD_PID)
	out=$(msgtap-bench spread --queues "$q" --sends "$SCALE_SENDS" --again \
		--watch "$MSGTAPD_PID" --truth /tmp/spread.json) || fail "msgtap-bench spread failed"
	echo "$out"
	c1=$(cpu_ticks $MSGTAPD_PID)
	split=$(echo "$out" | sed -n 's/^spread-cpu //p')
	line=$(snapshot_line /tmp/snap.json)
	c2=$(cpu_ticks $MSGTAPD_PID)
	hwm=$(status_kb $MSGTAPD_PID VmHWM)
	rss=$(status_kb $MSGTAPD_PID VmRSS)
	# Then one Prometheus scrape of every queue, as a fleet's Prometheus does;
	# its peak memory is reported on its own.
	wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
	c3=$(cpu_ticks $MSGTAPD_PID)
	check_exact /tmp/spread.json
	echo "BENCH-KV scale queues=$q sends=$((2 * SCALE_SENDS)) $split cpu_ticks=$((c1 - c0)) snapshot_ticks=$((c2 - c1)) scrape_ticks=$((c3 - c2)) scrape_bytes=$(wc -c </tmp/metrics) scrape_vmhwm_kb=$(status_kb $MSGTAPD_PID VmHWM) clk_tck=100 vmhwm_kb=$hwm vmrss_kb=$rss exact=$EXACT"
	echo "BENCH-JSON scale-$q $line"
	daemon_stop || fail "msgtapd exited with status $?"
	msgtap_unload
done

if [ "$BLOCKED" -gt 0 ]; then
	info "scale: $BLOCKED senders blocked in msgsnd at once"
	msgtap_load
	daemon_start_default
	c0=$(cpu_ticks $MSGTAPD_PID)
	msgtap-bench blocked --senders "$BLOCKED" --truth /tmp/blocked.json || fail "msgtap-bench blocked failed"
	sleep 0.1
	c1=$(cpu_ticks $MSGTAPD_PID)
	line=$(snapshot_line /tmp/snap.json)
	check_exact /tmp/blocked.json
	echo "BENCH-KV blocked senders=$BLOCKED sends=$(truth_get /tmp/blocked.json '*' calls) cpu_ticks=$((c1 - c0)) clk_tck=100 vmhwm_kb=$(status_kb $MSGTAPD_PID VmHWM) vmrss_kb=$(status_kb $MSGTAPD_PID VmRSS) exact=$EXACT"
	echo "BENCH-JSON blocked $line"
	daemon_stop || fail "msgtapd exited with status $?"
	msgtap_unload
fi
echo "BENCH-END"
