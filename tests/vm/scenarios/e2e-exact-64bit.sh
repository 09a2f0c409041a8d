#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd counts exactly what a 64-bit workload saw, losing nothing:
# libc msgsnd() in the initial IPC namespace, syscall() in a fresh one.
. /tests/lib.sh

need msgtap-workload msgtapctl msgtap-verify

msgtap_load
daemon_start

run_workload msgtap-workload /tmp/t1.json --via libc --seed 1
run_workload msgtap-workload /tmp/t2.json --via syscall --new-ipcns --seed 2

# The daemon flushes the module's rings before it answers.
msgtapctl stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
verify_exact /tmp/snap.json /tmp/t1.json /tmp/t2.json

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
