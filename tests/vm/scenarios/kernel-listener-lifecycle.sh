#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves the one-listener rule and what happens when the listener dies: a
# second listener gets EBUSY with a message naming the first one's port, and
# a socket that is not the listener cannot unregister it (ENOENT); a listener
# killed with SIGKILL is forgotten at once, by the socket release notifier
# when nothing is sent; one killed while a sender runs flat out too
# (GET_STATS right after: no listener), nothing more is queued (the sends
# count as DROP_NO_LISTENER), and what was queued but not delivered is
# counted as DROP_UNDELIVERABLE, exactly; a listener may unregister itself;
# and a restarted msgtapd registers again and counts a fresh workload exactly.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload msgtapd msgtapctl

P=msgtap-nlprobe
msgtap_load
listener_start /tmp/ev1
first=$LISTENER_PORT

info "a second listener"
$P register >/tmp/out 2>&1
check_eq "second REGISTER" "rc=1 EBUSY" "rc=$? $(sed -n 's/^error=//p' /tmp/out)"
extack=$(sed -n 's/^extack=//p' /tmp/out)
echo "extack: $extack"
case $extack in
*" $first "* | *" $first)"* | *" $first") echo "ok: the message names port $first" ;;
"another listener is registered")
	# Kernels without formatted extack messages (Debian 6.1): the module
	# logs the port instead.
	dmesg | grep -q "another listener (netlink port $first) is registered" ||
		fail "neither the extack message nor the kernel log names port $first"
	echo "ok: this kernel has no formatted extack messages; the kernel log names port $first"
	;;
*) fail "the EBUSY message does not name port $first: '$extack'" ;;
esac
$P unregister >/tmp/out 2>&1
check_eq "UNREGISTER from another socket" "rc=1 ENOENT this socket is not the listener" \
	"rc=$? $(sed -n 's/^error=//p' /tmp/out) $(sed -n 's/^extack=//p' /tmp/out)"
check_eq "listener" "$first" "$(nl_stat listener_portid)"

# With nothing to deliver, only the socket's release notifier can tell.
info "the listener is killed while nothing is sent"
kill -KILL "$LISTENER_PID"
wait "$LISTENER_PID" 2>/dev/null
check_eq "listener right after SIGKILL, no traffic" 0 "$(nl_stat listener_portid)"

info "the listener is killed while a sender runs flat out"
listener_start /tmp/ev2
msgtap-workload --mode flood --until /tmp/stop1 --truth /tmp/f1.json &
wpid=$!
delivered() { [ "$(nl_stat events_delivered)" -gt 1000 ]; }
wait_for -t 20 delivered || fail "nothing was delivered to the listener"
kill -KILL "$LISTENER_PID"
wait "$LISTENER_PID" 2>/dev/null
$P stats >/tmp/s1 || fail "msgtap-nlprobe stats failed"
check_eq "listener right after SIGKILL" 0 "$(nl_stat listener_portid /tmp/s1)"
sleep 1
$P stats >/tmp/s2 || fail "msgtap-nlprobe stats failed"
check_eq "events_queued while no one listens" "$(nl_stat events_queued /tmp/s1)" "$(nl_stat events_queued /tmp/s2)"
nl1=$(nl_stat drop_no_listener /tmp/s1)
nl2=$(nl_stat drop_no_listener /tmp/s2)
[ "$nl2" -gt "$nl1" ] || fail "drop_no_listener did not grow while the sender ran ($nl1, then $nl2)"
echo "ok: drop_no_listener grew from $nl1 to $nl2"
touch /tmp/stop1
wait $wpid || fail "the flood deviated from its plan"
$P stats >/tmp/s3 || fail "msgtap-nlprobe stats failed"
cat /tmp/s3
check_eq "events_queued = events_delivered + drop_undeliverable" "$(nl_stat events_queued /tmp/s3)" \
	$(($(nl_stat events_delivered /tmp/s3) + $(nl_stat drop_undeliverable /tmp/s3)))
check_hits_add_up /tmp/s3
check_eq "probe_hits (every send of the flood)" "$(truth_get /tmp/f1.json '*' calls)" "$(nl_stat probe_hits /tmp/s3)"

info "a listener that does not read is killed: its queued records are undeliverable"
$P register >/tmp/l2.out 2>&1 &
l2=$!
wait_for grep -q '^registered portid=' /tmp/l2.out || fail "the second listener did not register"
msgtap-workload --mode flood --until /tmp/stop2 --truth /tmp/f2.json &
wpid=$!
# Its socket fills, then a ring: records wait in the kernel. Both counters
# may have grown already while the first listener read (a reader slower than
# the flood), so only what they add from here on tells.
backlog() {
	msgtap-nlprobe stats >/tmp/s
	[ "$(nl_stat delivery_retries /tmp/s)" -gt "$(nl_stat delivery_retries /tmp/s3)" ] &&
		[ "$(nl_stat drop_ring_full /tmp/s)" -gt "$(nl_stat drop_ring_full /tmp/s3)" ]
}
wait_for -t 30 backlog || fail "the unread listener's socket and rings never filled"
kill -KILL $l2
wait $l2 2>/dev/null
check_eq "listener right after SIGKILL" 0 "$(nl_stat listener_portid)"
touch /tmp/stop2
wait $wpid || fail "the flood deviated from its plan"
$P stats >/tmp/s4 || fail "msgtap-nlprobe stats failed"
cat /tmp/s4
undeliverable=$(($(nl_stat drop_undeliverable /tmp/s4) - $(nl_stat drop_undeliverable /tmp/s3)))
# A ring that filled behind a socket that never drains stays full.
[ "$undeliverable" -ge "$(nl_stat ring_size /tmp/s4)" ] ||
	fail "$undeliverable records counted as undeliverable, fewer than the full ring ($(nl_stat ring_size /tmp/s4))"
echo "ok: $undeliverable records were undeliverable (a full ring holds $(nl_stat ring_size /tmp/s4))"
check_eq "events_queued = events_delivered + drop_undeliverable" "$(nl_stat events_queued /tmp/s4)" \
	$(($(nl_stat events_delivered /tmp/s4) + $(nl_stat drop_undeliverable /tmp/s4)))
check_hits_add_up /tmp/s4

info "a listener unregisters itself"
$P register --read --hold 0.5 --unregister >/tmp/l3.out 2>&1 || { cat /tmp/l3.out; fail "register --unregister failed"; }
grep -q '^unregistered$' /tmp/l3.out || fail "the listener did not unregister"
check_eq "listener after UNREGISTER" 0 "$(nl_stat listener_portid)"

info "msgtapd starts again and counts a fresh workload exactly"
daemon_start
msgtap-workload --truth /tmp/truth.json || fail "msgtap-workload deviated from its plan"
msgtapctl stats >/tmp/stats.txt || fail "msgtapctl stats failed"
cat /tmp/stats.txt
# As e2e-msgtapctl-table: one row per truth queue, found by IPCNS and MSQID.
ns=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' /tmp/truth.json)
sed -n 's/.*"msqid": \(-\{0,1\}[0-9][0-9]*\), "sends_ok": \([0-9][0-9]*\), "bytes_ok": \([0-9][0-9]*\), "errors": {\([^}]*\)}.*/\1 \2 \3 \4/p' \
	/tmp/truth.json >/tmp/queues.txt
[ -s /tmp/queues.txt ] || fail "no queues in /tmp/truth.json"
while read -r msqid sent bytes errors; do
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
check_eq "rows of msgtapctl stats (the fresh workload's queues only)" "$(wc -l </tmp/queues.txt)" \
	"$(awk -v ns="$ns" '$1 == "IPCNS" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		col["MSQID"] && $col["IPCNS"] ~ /^[0-9]+$/ { n++ } END { print n + 0 }' /tmp/stats.txt)"
daemon_stop || fail "msgtapd exited with status $?"
check_eq "listener after msgtapd stopped" 0 "$(nl_stat listener_portid)"

msgtap_unload
