#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd counts exactly what a 32-bit workload saw, as compat sends,
# losing nothing: libc in the initial IPC namespace, syscall() and the ipc(2)
# multiplexer each in a fresh one (their namespace inodes may coincide).
. /tests/lib.sh

need msgtap-workload32 msgtapctl msgtap-verify

msgtap_load
daemon_start

run_workload msgtap-workload32 /tmp/t1.json --via libc --seed 1
run_workload msgtap-workload32 /tmp/t2.json --via syscall --new-ipcns --seed 2
run_workload msgtap-workload32 /tmp/t3.json --via ipc --new-ipcns --seed 3

# The daemon flushes the module's rings before it answers.
msgtapctl stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
verify_exact /tmp/snap.json /tmp/t1.json /tmp/t2.json /tmp/t3.json

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
