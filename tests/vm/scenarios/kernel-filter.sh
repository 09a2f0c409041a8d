#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves the in-kernel filter: SET_FILTER/GET_FILTER round-trip every field,
# both rule kinds, 64 values and the flags; each rule kind on each field
# (tgid, uid, IPC namespace, msqid, cgroup), failures-only and a combination
# records exactly the matching workload's sends and counts exactly the other
# one's in FILTERED; and malformed requests (wrong types, unknown flag bits,
# out-of-range or missing or repeated fields, more than 64 values, negative
# msqids, unknown attributes, attributes where a command takes none, non-zero
# reserved header bytes) fail with the errno and extack message the protocol
# promises, changing nothing.

# shellcheck disable=SC2086 # $simple, $other and runners are word lists
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

P=msgtap-nlprobe

# expect_fail ERRNO EXTACK CMD...: CMD exits 1 printing error=ERRNO and
# extack=EXTACK. A difference is noted in /tmp/refusals and the scenario
# goes on, so that one run shows every answer that differs; it fails at
# the end.
expect_fail() {
	_want="rc=1 $1 $2"
	shift 2
	"$@" >/tmp/out 2>&1
	_got="rc=$? $(sed -n 's/^error=//p' /tmp/out) $(sed -n 's/^extack=//p' /tmp/out)"
	if [ "$_got" = "$_want" ]; then
		echo "ok: $* = $_want"
	else
		echo "MISMATCH: $*: expected '$_want', got '$_got'" | tee -a /tmp/refusals
	fi
}

msgtap_load

info "GET_FILTER answers what SET_FILTER set"
check_eq "filter at load" "filter=empty" "$($P get-filter)"
$P set-filter --failures-only --rule tgid=5,6 --rule uid!=0 --rule ipcns=4026531839 \
	--rule msqid=0,7,2147483647 --rule cgroup!=1,18446744073709551615 || fail "set-filter failed"
check_eq "filter" "flags=0x1
rule tgid=5,6
rule uid!=0
rule ipcns=4026531839
rule msqid=0,7,2147483647
rule cgroup!=1,18446744073709551615" "$($P get-filter)"
$P set-filter --rule uid=1..64 >/dev/null || fail "set-filter with 64 values failed"
check_eq "filter with 64 values" "flags=0
rule uid=$(seq -s, 1 64)" "$($P get-filter)"
$P set-filter --empty >/dev/null || fail "set-filter --empty failed"
check_eq "filter after an empty nest" "filter=empty" "$($P get-filter)"
$P set-filter --failures-only >/dev/null || fail "set-filter --failures-only failed"
check_eq "filter of flags alone" "flags=0x1" "$($P get-filter)"
$P set-filter --none >/dev/null || fail "set-filter --none failed"
check_eq "filter after no filter attribute" "filter=empty" "$($P get-filter)"

info "malformed requests fail and change nothing"
$P set-filter --rule uid!=12345 >/dev/null || fail "set-filter failed"
before=$($P get-filter)
expect_fail EINVAL "reserved bit set" $P set-filter --flags 2
expect_fail EINVAL "reserved bit set" $P set-filter --flags 0x80000001
# A field number outside the enum is the one ERANGE the header promises.
expect_fail ERANGE "integer out of range" $P set-filter --rule 6=1
expect_fail ERANGE "integer out of range" $P set-filter --rule 0=1
expect_fail EINVAL "filter rule without a field" $P set-filter --rule none=1
expect_fail EINVAL "two filter rules on the same field" $P set-filter --rule tgid=1 --rule uid=0 --rule tgid=2
expect_fail EINVAL "more than 64 values in one filter rule" $P set-filter --rule tgid=1..65
expect_fail EINVAL "msqid filter values must be 0..INT_MAX" $P set-filter --rule msqid=3,-1
expect_fail EINVAL "msqid filter values must be 0..INT_MAX" $P set-filter --rule msqid=2147483648
# Values no call can have would make an include rule drop every call.
expect_fail EINVAL "tgid filter values must be 0..INT_MAX" $P set-filter --rule tgid=1,2147483648
expect_fail EINVAL "uid filter values must be 0..UINT32_MAX" $P set-filter --rule uid=4294967296
expect_fail EINVAL "ipc-ns filter values must be 0..UINT32_MAX" \
	$P set-filter --rule ipcns!=-1
expect_fail EINVAL "filter rule without values" $P set-filter --rule tgid=
# Wrong types or lengths, EINVAL by the header: 10 MSGTAP_A_FILTER; in it 2
# FLAGS (u32), 3 RULE (nest); in a rule 2 FIELD (u32), 3 EXCLUDE (flag, no
# payload), 4 VALUE (u64).
expect_fail EINVAL "invalid attribute length" $P raw SET_FILTER --attr 10:nest --attr 2:u64:1 --end
expect_fail EINVAL "invalid attribute length" $P raw SET_FILTER --attr 10:nest --attr 3:nest \
	--attr 2:u64:1 --attr 4:u64:1 --end --end
expect_fail EINVAL "invalid attribute length" $P raw SET_FILTER --attr 10:nest --attr 3:nest \
	--attr 2:u32:1 --attr 4:u32:1 --end --end
# A flag with a payload: the netlink core answers ERANGE (the header says so).
expect_fail ERANGE "Attribute failed policy validation" $P raw SET_FILTER --attr 10:nest --attr 3:nest \
	--attr 2:u32:1 --attr 3:u32:1 --attr 4:u64:1 --end --end
expect_fail EINVAL "NLA_F_NESTED is missing" $P raw SET_FILTER --attr 10:u32:1
expect_fail EINVAL "NLA_F_NESTED is missing" $P raw SET_FILTER --attr 10:nest --attr 3:nest-noflag \
	--attr 2:u32:1 --attr 4:u64:1 --end --end
expect_fail EINVAL "Unknown attribute type" $P raw SET_FILTER --attr 40:u32:1
expect_fail EINVAL "Unknown attribute type" $P raw SET_FILTER --attr 10:nest --attr 9:u32:1 --end
expect_fail EINVAL "Unknown attribute type" $P raw SET_FILTER --attr 10:nest --attr 3:nest \
	--attr 2:u32:1 --attr 4:u64:1 --attr 9:u32:1 --end --end
expect_fail EINVAL "genlmsghdr.reserved field is not 0" $P raw SET_FILTER --reserved 1 \
	--attr 10:nest --end
check_eq "filter after the refused requests" "$before" "$($P get-filter)"

info "commands without attributes refuse attributes and reserved bytes"
for cmd in REGISTER UNREGISTER GET_STATS FLUSH GET_FILTER ENABLE DISABLE; do
	expect_fail EINVAL "Unknown attribute type" $P raw $cmd --attr 3:u32:1
	expect_fail EINVAL "genlmsghdr.reserved field is not 0" $P raw $cmd --reserved 1
done
expect_fail EINVAL "genlmsghdr.reserved field is not 0" $P raw DISABLE --reserved 128
$P stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
check_eq "enabled after the refused DISABLEs" 1 "$(nl_stat enabled /tmp/stats)"
check_eq "listener after the refused REGISTERs" 0 "$(nl_stat listener_portid /tmp/stats)"
check_eq "filter after the refused requests" "$before" "$($P get-filter)"
$P set-filter --none >/dev/null || fail "set-filter --none failed"

# --- filtering, with exact counts -------------------------------------------

cg_root=/sys/fs/cgroup
cg=$cg_root/msgtap-filter
cg_mounted=
cleanup_cgroup() {
	[ -d $cg ] && rmdir $cg 2>/dev/null
	[ -n "$cg_mounted" ] && umount $cg_root 2>/dev/null
}
trap cleanup_cgroup EXIT
if ! grep -q " $cg_root cgroup2 " /proc/mounts; then
	mount -t cgroup2 cgroup2 $cg_root || fail "cannot mount cgroup2 on $cg_root"
	cg_mounted=1
fi
mkdir $cg || fail "cannot create the cgroup $cg"
cgid=$(stat -c %i $cg)
rootcgid=$(stat -c %i $cg_root)
initns=$(stat -L -c %i /proc/self/ns/ipc)

# start TAG [RUNNER...] -- WORKLOAD-ARG...: starts msgtap-workload in the
# background, held back until go TAG; waits until it has set up.
start() {
	_tag=$1
	shift
	_runner=
	while [ "$1" != -- ]; do
		_runner="$_runner $1"
		shift
	done
	shift
	$_runner msgtap-workload "$@" --truth "/tmp/$_tag.json" --ready "/tmp/$_tag.r" \
		--go "/tmp/$_tag.go" &
	echo $! >"/tmp/$_tag.bg"
	wait_for test -e "/tmp/$_tag.r" || fail "workload $_tag did not get ready"
}

# go TAG: lets the workload run and waits for it.
go() {
	touch "/tmp/$1.go"
	wait "$(cat "/tmp/$1.bg")" || fail "workload $1 deviated from its plan"
}

# run TAG [RUNNER...] -- WORKLOAD-ARG...: runs a workload to its end.
run() {
	start "$@"
	go "$1"
}

# ready TAG FIELD: pid, ipc_ns or msqid of a started workload.
ready() {
	sed -n "s/.*$2=\([0-9]*\).*/\1/p" "/tmp/$1.r"
}

in_cgroup() {
	sh -c 'echo $$ >'$cg'/cgroup.procs && exec "$@"' in_cgroup "$@"
}

n=0
# case_begin NAME FILTER-ARG...: sets the filter, starts a listener.
case_begin() {
	n=$((n + 1))
	info "case $n: $1"
	shift
	$P set-filter "$@" >/dev/null || fail "set-filter $* failed"
	listener_start /tmp/ev$n
	$P stats >/tmp/before$n || fail "msgtap-nlprobe stats failed"
}

# case_end FILTERED: stops the listener; checks the FILTERED increase.
case_end() {
	listener_stop >/dev/null
	$P stats >/tmp/after$n || fail "msgtap-nlprobe stats failed"
	check_eq "case $n: filtered" "$1" \
		$(($(nl_stat filtered /tmp/after$n) - $(nl_stat filtered /tmp/before$n)))
}

# records COND...: records of the current case that meet every condition.
records() {
	kv_count /tmp/ev$n "$@"
}

simple="--mode simple --count 30 --fail 3"
other="--mode simple --count 20 --fail 2"

start a1 -- $simple
case_begin "include a tgid" --rule tgid="$(ready a1 pid)"
run b1 -- $other
go a1
case_end 22
check_eq "records of the included process" 33 "$(records tgid="$(ready a1 pid)")"
check_eq "records" 33 "$(records)"

start b2 -- $other
case_begin "exclude a tgid" --rule tgid!="$(ready b2 pid)"
run a2 -- $simple
go b2
case_end 22
check_eq "records of the other process" 33 "$(records tgid="$(ready a2 pid)")"
check_eq "records" 33 "$(records)"

case_begin "include a uid" --rule uid=65534
run a3 run_as_nobody -- $simple
run b3 -- $other
case_end 22
check_eq "records of nobody's process" 33 "$(records tgid="$(ready a3 pid)" uid=65534)"
check_eq "records" 33 "$(records)"

case_begin "exclude a uid" --rule uid!=0
run a4 run_as_nobody -- $simple
run b4 -- $other
case_end 22
check_eq "records of nobody's process" 33 "$(records tgid="$(ready a4 pid)" uid=65534)"
check_eq "records" 33 "$(records)"

# The mix, children and early EFAULT included, in an IPC namespace of its own.
start a5 -- --new-ipcns
case_begin "include an IPC namespace" --rule ipcns="$(ready a5 ipc_ns)"
run b5 -- $other
go a5
case_end 22
check_eq "records" "$(truth_get /tmp/a5.json '*' calls)" "$(records ipc_ns="$(ready a5 ipc_ns)")"
check_eq "early records" 1 "$(records early=1)"
events_match_truth /tmp/ev$n /tmp/a5.json || fail "case $n: the records differ from the truth"

case_begin "exclude an IPC namespace" --rule ipcns!="$initns"
run a6 -- --new-ipcns $simple
run b6 -- $other
case_end 22
check_eq "records of the other namespace" 33 "$(records ipc_ns="$(ready a6 ipc_ns)")"
check_eq "records" 33 "$(records)"

start a7 -- $simple
case_begin "include a msqid" --rule msqid="$(ready a7 msqid)"
run b7 -- $other
go a7
case_end 22
check_eq "records of the included queue" 33 "$(records msqid="$(ready a7 msqid)")"
check_eq "records" 33 "$(records)"

start b8 -- $other
case_begin "exclude a msqid" --rule msqid!="$(ready b8 msqid)"
run a8 -- $simple
go b8
case_end 22
check_eq "records of the other queue" 33 "$(records msqid="$(ready a8 msqid)")"
check_eq "records" 33 "$(records)"

case_begin "include a cgroup" --rule cgroup="$cgid"
run a9 in_cgroup -- $simple
run b9 -- $other
case_end 22
check_eq "records of the cgroup's process" 33 "$(records tgid="$(ready a9 pid)" cgroup="$cgid")"
check_eq "records" 33 "$(records)"

case_begin "exclude a cgroup" --rule cgroup!="$rootcgid"
run a10 in_cgroup -- $simple
run b10 -- $other
case_end 22
check_eq "records of the cgroup's process" 33 "$(records tgid="$(ready a10 pid)" cgroup="$cgid")"
check_eq "records" 33 "$(records)"

# Successes are filtered when they return, failures of every kind recorded.
case_begin "failures only" --failures-only
run a11 -- --seed 11
ok=$(truth_get /tmp/a11.json '*' sends_ok)
calls=$(truth_get /tmp/a11.json '*' calls)
case_end "$ok"
check_eq "records (failures)" $((calls - ok)) "$(records)"
check_eq "records of successes" 0 "$(records result=0)"
check_eq "early EFAULT records" 1 "$(records result=-14 early=1)"
check_eq "interrupted records" 1 "$(records intr=1)"

start a12 run_as_nobody -- $simple
case_begin "rules and flags combine" --failures-only --rule uid=65534 --rule tgid="$(ready a12 pid)"
run b12 run_as_nobody -- $other
run c12 -- $other
go a12
case_end $((30 + 22 + 22))
check_eq "records of the process matching both rules (failures)" 3 \
	"$(records tgid="$(ready a12 pid)" result=-22)"
check_eq "records" 3 "$(records)"

case_begin "no filter" --none
run a13 -- $simple
run b13 run_as_nobody -- $other
case_end 0
check_eq "records" 55 "$(records)"

$P stats >/tmp/stats || fail "msgtap-nlprobe stats failed"
check_hits_add_up /tmp/stats
msgtap_unload
if [ -s /tmp/refusals ]; then
	cat /tmp/refusals
	fail "$(wc -l </tmp/refusals) malformed request(s) got another answer than the protocol promises"
fi
