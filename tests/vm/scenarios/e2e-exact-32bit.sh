#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd counts exactly what a 32-bit workload saw, as compat sends,
# losing nothing: libc in the initial IPC namespace, syscall() and the ipc(2)
# multiplexer each in a fresh one (their namespace inodes may coincide).
. /tests/lib.sh

need msgtap-workload32 msgtapctl msgtap-verify

# run_workload TRUTH ARG...: runs msgtap-workload, failing on any deviation.
run_workload() {
	_truth=$1
	shift
	info "msgtap-workload32 $* --truth $_truth"
	msgtap-workload32 "$@" --truth "$_truth" ||
		fail "msgtap-workload32 $* deviated from its plan"
}

# verify SNAPSHOT TRUTH...: the exact comparison; shows the inputs if it fails.
verify() {
	msgtap-verify --snapshot "$@" && return 0
	for _f in "$@"; do
		echo "== $_f"
		cat "$_f"
	done
	echo "== $MSGTAPD_LOG"
	cat "$MSGTAPD_LOG"
	fail "msgtapd's counts differ from the workloads' ground truth"
}

msgtap_load
daemon_start

run_workload /tmp/t1.json --via libc --seed 1
run_workload /tmp/t2.json --via syscall --new-ipcns --seed 2
run_workload /tmp/t3.json --via ipc --new-ipcns --seed 3

# The daemon flushes the module's rings before it answers.
msgtapctl stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
verify /tmp/snap.json /tmp/t1.json /tmp/t2.json /tmp/t3.json

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
