#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves the human-readable msgtapctl output shows what the workload did:
# `msgtapctl stats` has a row per queue with its msqid and successful sends,
# `msgtapctl status` says nothing was lost.
. /tests/lib.sh

need msgtap-workload msgtapctl

msgtap_load
daemon_start

msgtap-workload --via libc --truth /tmp/truth.json ||
	fail "msgtap-workload deviated from its plan"

msgtapctl stats >/tmp/stats.txt || fail "msgtapctl stats failed"
cat /tmp/stats.txt
msgtapctl status >/tmp/status.txt || fail "msgtapctl status failed"
cat /tmp/status.txt

# One queue per line in the truth file: "msqid": N, "sends_ok": M, ...
sed -n 's/.*"msqid": \(-\{0,1\}[0-9][0-9]*\), "sends_ok": \([0-9][0-9]*\),.*/\1 \2/p' \
	/tmp/truth.json >/tmp/queues.txt
[ -s /tmp/queues.txt ] || fail "no queues in /tmp/truth.json"
while read -r msqid sends_ok; do
	grep -w -e "$msqid" /tmp/stats.txt | grep -qw -e "$sends_ok" ||
		fail "msgtapctl stats has no row with msqid $msqid and $sends_ok sends"
	echo "ok: msqid $msqid shown with $sends_ok sends"
done </tmp/queues.txt

grep -q 'lost: nothing' /tmp/status.txt ||
	fail "msgtapctl status does not say 'lost: nothing'"
echo "ok: msgtapctl status says lost: nothing"

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
