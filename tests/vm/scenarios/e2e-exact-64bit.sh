#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd counts exactly what a 64-bit workload saw, losing nothing:
# libc msgsnd() in the initial IPC namespace, syscall() in a fresh one.
# Batches that a local process sends to msgtapd's port, as if it were the
# kernel, count as nothing: not events, not malformed ones (a 64 KiB one
# neither), which msgtap-verify's loss checks would show; msgtapd counts them
# as foreign datagrams.
. /tests/lib.sh

need msgtap-workload msgtapctl msgtap-verify msgtap-nlprobe

msgtap_load
daemon_start

port=$(nl_stat listener_portid)
for n in 10 600; do
	msgtap-nlprobe spoof "$port" --records $n --msqid 0 ||
		fail "could not send a batch of $n records to msgtapd's port $port"
done

run_workload msgtap-workload /tmp/t1.json --via libc --seed 1
run_workload msgtap-workload /tmp/t2.json --via syscall --new-ipcns --seed 2

# The daemon flushes the module's rings before it answers.
msgtapctl stats --json >/tmp/snap.json || fail "msgtapctl stats --json failed"
verify_exact /tmp/snap.json /tmp/t1.json /tmp/t2.json
check_eq "datagrams other processes sent to msgtapd's port" 2 \
	"$(msgtap-verify --get /tmp/snap.json daemon.foreign_datagrams)"

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
