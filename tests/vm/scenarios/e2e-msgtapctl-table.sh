#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves the human-readable msgtapctl output shows what the workload did:
# `msgtapctl stats` has a row per queue with its sends, bytes and errors as
# the workload saw them, and both it and `msgtapctl status` say nothing was
# lost.
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

# The truth file has one queue per line:
#   {"msqid": N, "sends_ok": N, "bytes_ok": N, "errors": {"EAGAIN": N, ...}, ...
# Both it and the table list errors by errno number; the table writes them
# as EAGAIN:N,EINVAL:N, or "-" for none.
ns=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' /tmp/truth.json)
[ -n "$ns" ] || fail "no ipc_ns in /tmp/truth.json"
sed -n 's/.*"msqid": \(-\{0,1\}[0-9][0-9]*\), "sends_ok": \([0-9][0-9]*\), "bytes_ok": \([0-9][0-9]*\), "errors": {\([^}]*\)}.*/\1 \2 \3 \4/p' \
	/tmp/truth.json >/tmp/queues.txt
[ -s /tmp/queues.txt ] || fail "no queues in /tmp/truth.json"
while read -r msqid sent bytes errors; do
	# Columns are found by their header names, rows by IPCNS and MSQID.
	awk -v ns="$ns" -v id="$msqid" -v sent="$sent" -v bytes="$bytes" \
		-v errors="$errors" '
		BEGIN { gsub(/[" ]/, "", errors); if (errors == "") errors = "-" }
		$1 == "IPCNS" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		col["MSQID"] && $col["IPCNS"] == ns && $col["MSQID"] == id {
			rows++
			if ($col["SENT"] == sent && $col["BYTES"] == bytes &&
			    $col["ERRORS"] == errors)
				ok++
		}
		END { exit !(rows == 1 && ok == 1) }' /tmp/stats.txt ||
		fail "msgtapctl stats: no single row 'ipc_ns $ns msqid $msqid: $sent sent, $bytes bytes, errors {$errors}'"
	echo "ok: ipc_ns $ns msqid $msqid: $sent sent, $bytes bytes, errors {$errors}"
done </tmp/queues.txt

for f in /tmp/stats.txt /tmp/status.txt; do
	grep -q '^lost: nothing$' $f || fail "$f does not say 'lost: nothing'"
done
echo "ok: msgtapctl stats and status say lost: nothing"

daemon_stop || fail "msgtapd exited with status $?"
msgtap_unload
