#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves every msgtapctl command works against the real module and msgtapd:
# status, queues, stats and stats QUEUE show the workloads' ground truth
# exactly (histograms included), a bare msqid in two IPC namespaces is
# refused as ambiguous, top refreshes with rates, filter/enable/disable
# answer, reset forgets everything counted before it and counts anew from
# zero, --json of each is a document, --help exits 0, usage errors exit 2,
# and without the module, without msgtapd or without root msgtapctl exits 1
# saying what to do.
. /tests/lib.sh

need msgtap-workload msgtapctl msgtap-verify

# exits_with STATUS NAME COMMAND...: runs COMMAND with its stderr in
# /tmp/err, shows that, and fails unless it exited with STATUS.
exits_with() {
	_want=$1
	_name=$2
	shift 2
	"$@" >/tmp/out 2>/tmp/err
	_got=$?
	cat /tmp/err
	check_eq "exit status of $_name" "$_want" "$_got"
}

# json_doc FILE: fails unless FILE looks like one JSON object (the guest has
# no JSON parser: first and last non-blank characters, balanced braces).
json_doc() {
	awk '
		{ s = s $0 "\n" }
		END {
			t = s
			gsub(/"([^"\\]|\\.)*"/, "\"\"", t)  # strings may hold braces
			o = gsub(/[{]/, "{", t); c = gsub(/[}]/, "}", t)
			sub(/^[ \n]*/, "", t); sub(/[ \n]*$/, "", t)
			exit !(o > 0 && o == c && t ~ /^[{]/ && t ~ /[}]$/)
		}' "$1" || {
		cat "$1"
		fail "$1 is not a JSON document"
	}
}

# section FILE FIRST LAST: the lines of FILE after the one starting with
# FIRST, up to (not including) the next one starting with LAST.
section() {
	awk -v a="$2" -v b="$3" '
		index($0, b) == 1 && on { exit }
		on { print }
		index($0, a) == 1 { on = 1 }' "$1"
}

# histogram_sum: the sum of the counts of bpftrace-style lines on stdin
# ("(32, 64]   12 |@@@   |").
histogram_sum() {
	awk '/\|$/ { sub(/ *\|.*$/, ""); n += $NF } END { print n + 0 }'
}

info "--help and usage errors, before anything is loaded"
exits_with 0 "msgtapctl --help" msgtapctl --help
for cmd in status queues stats top reset filter enable disable; do
	exits_with 0 "msgtapctl $cmd --help" msgtapctl $cmd --help
	grep -q '^Example' /tmp/out || fail "msgtapctl $cmd --help shows no example"
done
exits_with 2 "msgtapctl (no command)" msgtapctl
exits_with 2 "msgtapctl frobnicate" msgtapctl frobnicate
exits_with 2 "msgtapctl stats 1:x" msgtapctl stats 1:x
grep -q 'MSQID or IPCNS:MSQID' /tmp/err || fail "the QUEUE usage error does not say what is expected"
exits_with 2 "msgtapctl top -n 0" msgtapctl top -n 0
exits_with 2 "msgtapctl queues --bogus" msgtapctl queues --bogus

info "no module, no msgtapd: say what to do"
exits_with 1 "msgtapctl queues without the module" msgtapctl queues
grep -q 'modprobe msgtap' /tmp/err || fail "no modprobe hint without the module"
msgtap_load
exits_with 1 "msgtapctl stats without msgtapd" msgtapctl stats
grep -q 'systemctl start msgtapd' /tmp/err || fail "no hint how to start msgtapd"

daemon_start

info "workloads: one in this IPC namespace, one in a new one"
run_workload msgtap-workload /tmp/t1.json --seed 3
run_workload msgtap-workload /tmp/t2.json --new-ipcns --seed 4
# A queue with a key, owner and mode of its own, for the identity columns.
run_workload msgtap-workload /tmp/ti.json --mode identity --key 0x6d7467 --perm 0640 --count 3
ns1=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' /tmp/t1.json)
ns2=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' /tmp/t2.json)
[ -n "$ns1" ] && [ -n "$ns2" ] && [ "$ns1" != "$ns2" ] || fail "truth namespaces '$ns1' '$ns2'"
# The first queue of each is the "mix" queue: every size, mtype and error.
mix1=$(sed -n 's/.*{"msqid": \([0-9][0-9]*\),.*/\1/p' /tmp/t1.json | head -n 1)
mix2=$(sed -n 's/.*{"msqid": \([0-9][0-9]*\),.*/\1/p' /tmp/t2.json | head -n 1)

info "status"
exits_with 0 "msgtapctl status" msgtapctl status
cat /tmp/out
grep -q '^module: *loaded' /tmp/out || fail "status does not say the module is loaded"
grep -q '^msgtapd: *running' /tmp/out || fail "status does not say msgtapd runs"
grep -q '^lost: nothing$' /tmp/out || fail "status does not say nothing was lost"
grep -q '^rings: *4096 records per CPU x [0-9]* CPUs, drained every 10 ms$' /tmp/out ||
	fail "status does not show the rings"
grep -q '^ *256 ends of IPC namespaces per CPU kept for msgtapd (ns_ring_size)$' /tmp/out ||
	fail "status does not show the namespace rings"
exits_with 0 "msgtapctl status --json" msgtapctl status --json
json_doc /tmp/out
grep -q '"running": true' /tmp/out || fail "status --json does not say msgtapd runs"
grep -q '"answered": true' /tmp/out || fail "status --json does not say msgtapd answered"

info "stats --json is exact"
exits_with 0 "msgtapctl stats --json" msgtapctl stats --json
json_doc /tmp/out
cp /tmp/out /tmp/snap.json
verify_exact /tmp/snap.json /tmp/t1.json /tmp/t2.json /tmp/ti.json
nqueues=$(grep -c '"msqid":' /tmp/snap.json)

info "queues and stats tables match the truth"
exits_with 0 "msgtapctl queues" msgtapctl queues
cp /tmp/out /tmp/queues.txt
cat /tmp/queues.txt
exits_with 0 "msgtapctl stats" msgtapctl stats
cp /tmp/out /tmp/stats.txt
for t in /tmp/t1.json /tmp/t2.json /tmp/ti.json; do
	ns=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' $t)
	for id in $(sed -n 's/.*{"msqid": \(-\{0,1\}[0-9][0-9]*\),.*/\1/p' $t); do
		sent=$(truth_get $t "$id" sends_ok)
		failed=$(($(truth_get $t "$id" calls) - sent))
		for f in /tmp/queues.txt /tmp/stats.txt; do
			awk -v ns="$ns" -v id="$id" -v sent="$sent" -v failed="$failed" '
				$1 == "IPCNS" { for (i = 1; i <= NF; i++) col[$i] = i; next }
				$col["IPCNS"] == ns && $col["MSQID"] == id {
					rows++
					if ($col["SENT"] == sent && $col["FAILED"] == failed) ok++
				}
				END { exit !(rows == 1 && ok == 1) }' $f ||
				fail "$f: no single row 'ipc_ns $ns msqid $id: $sent sent, $failed failed'"
		done
		echo "ok: queues and stats: ipc_ns $ns msqid $id: $sent sent, $failed failed"
	done
done
grep -q '^lost: nothing$' /tmp/queues.txt || fail "queues does not say nothing was lost"
idq=$(sed -n 's/.*{"msqid": \([0-9][0-9]*\),.*/\1/p' /tmp/ti.json | head -n 1)
awk -v ns="$ns1" -v id="$idq" '
	$1 == "IPCNS" { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$col["IPCNS"] == ns && $col["MSQID"] == id && $col["KEY"] == "0x006d7467" &&
	    $col["OWNER"] == 65534 && $col["PERMS"] == 640 { ok = 1 }
	END { exit !ok }' /tmp/queues.txt ||
	fail "queues: msqid $idq does not show key 0x006d7467, owner 65534, perms 640"
echo "ok: queues shows msqid $idq with key 0x006d7467, owner 65534, perms 640"
# The workloads removed their queues; msgtapd looks in this namespace (the
# second one is gone with its last process, so there it cannot tell).
for id in $(sed -n 's/.*{"msqid": \([0-9][0-9]*\),.*/\1/p' /tmp/t1.json /tmp/ti.json); do
	awk -v ns="$ns1" -v id="$id" '
		$1 == "IPCNS" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["IPCNS"] == ns && $col["MSQID"] == id && $NF == "removed" { ok = 1 }  # LAST is two words
		END { exit !ok }' /tmp/queues.txt || fail "queues: msqid $id is not marked removed"
done
echo "ok: queues marks the workloads' removed queues"
exits_with 0 "msgtapctl queues --json" msgtapctl queues --json
json_doc /tmp/out
check_eq "queues in queues --json" "$nqueues" "$(grep -c '"msqid":' /tmp/out)"

info "stats QUEUE: the mix queue in detail"
exits_with 0 "msgtapctl stats $ns1:$mix1" msgtapctl stats "$ns1:$mix1"
cp /tmp/out /tmp/detail.txt
cat /tmp/detail.txt
sent=$(truth_get /tmp/t1.json "$mix1" sends_ok)
bytes=$(truth_get /tmp/t1.json "$mix1" bytes_ok)
calls=$(truth_get /tmp/t1.json "$mix1" calls)
grep -qx "queue $ns1:$mix1 (IPC namespace $ns1, msqid $mix1)" /tmp/detail.txt ||
	fail "stats QUEUE does not name the queue"
grep -qx "  ok  *$sent ($bytes bytes)" /tmp/detail.txt || fail "stats QUEUE: not '$sent ($bytes bytes)' ok"
grep -qx "  failed  *$((calls - sent))" /tmp/detail.txt || fail "stats QUEUE: not $((calls - sent)) failed"
for e in $(sed -n "s/.*{\"msqid\": $mix1, .*\"errors\": {\([^}]*\)}.*/\1/p" /tmp/t1.json |
	tr -d '" ' | tr ',' ' '); do
	grep -qx "    ${e%%:*}  *${e#*:}" /tmp/detail.txt || fail "stats QUEUE: no line '${e%%:*} ${e#*:}'"
	echo "ok: stats QUEUE shows ${e%%:*} ${e#*:}"
done
check_eq "message size histogram total (successful sends)" "$sent" \
	"$(section /tmp/detail.txt 'message size' 'call latency' | histogram_sum)"
check_eq "latency histogram total (calls)" "$calls" \
	"$(section /tmp/detail.txt 'call latency' 'top mtypes' | histogram_sum)"
grep -q '^  (64, 128] ' /tmp/detail.txt || fail "no (64, 128] size bucket (the mix sends 100 bytes)"
grep -q '^top mtypes (' /tmp/detail.txt || fail "stats QUEUE has no top mtypes"
grep -q '^top senders (' /tmp/detail.txt || fail "stats QUEUE has no top senders"
grep -q ' msgtap-workload' /tmp/detail.txt || fail "stats QUEUE does not name the sender"
grep -qx 'loss (all queues): nothing lost' /tmp/detail.txt || fail "stats QUEUE does not say nothing lost"
for n in kernel_ring_full kernel_undeliverable probe_missed seq_gaps; do
	grep -qx "  $n  *0" /tmp/detail.txt || fail "stats QUEUE does not name loss $n"
done
exits_with 0 "msgtapctl stats $ns2:$mix2 --json" msgtapctl stats "$ns2:$mix2" --json
json_doc /tmp/out
grep -q '"queue": {' /tmp/out || fail "stats QUEUE --json has no queue object"
grep -q "\"ipc_ns\": $ns2," /tmp/out || fail "stats QUEUE --json shows another namespace"
check_eq "stats QUEUE --json sends_ok" "$(truth_get /tmp/t2.json "$mix2" sends_ok)" \
	"$(sed -n 's/^ *"sends_ok": \([0-9]*\),$/\1/p' /tmp/out | head -n 1)"
# Both workloads sent to msqid -1 (EINVAL), each in its namespace.
exits_with 1 "msgtapctl stats -- -1 (in two namespaces)" msgtapctl stats -- -1
grep -q "$ns1:-1" /tmp/err && grep -q "$ns2:-1" /tmp/err ||
	fail "the ambiguity error does not list both queues"
exits_with 0 "msgtapctl stats $ns2:-1" msgtapctl stats "$ns2:-1"
grep -qx "    EINVAL  *1" /tmp/out || fail "stats $ns2:-1 does not show its EINVAL"
exits_with 1 "msgtapctl stats $ns1:99999" msgtapctl stats "$ns1:99999"
grep -q 'msgtapctl queues' /tmp/err || fail "a missing queue does not point at msgtapctl queues"

info "top: two refreshes, rates between them"
# The flood runs until top is done, however slow this kernel is (a debug
# kernel under TCG can take seconds to start msgtapctl).
rm -f /tmp/flood.stop
msgtap-workload --mode flood --senders 1 --until /tmp/flood.stop --truth /tmp/flood.json &
flood=$!
sleep 1
exits_with 0 "msgtapctl top -n 2 -d 1" msgtapctl top -n 2 -d 1
cat /tmp/out
check_eq "top frames" 2 "$(grep -c '^msgtapctl top - ' /tmp/out)"
check_eq "top loss lines" 2 "$(grep -c '^lost: nothing$' /tmp/out)"
# The second frame's first row is the flood queue: the only one sending.
rate=$(awk '/^ *SENDS\/s/ { f++; next } f == 2 && !done { print $1; done = 1 }' /tmp/out)
awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0) }' || fail "top's busiest queue has rate '$rate'"
echo "ok: top's busiest queue sends $rate/s"
exits_with 0 "msgtapctl top -n 2 -d 1 --json" msgtapctl top -n 2 -d 1 --json
check_eq "top --json lines" 2 "$(grep -c '^{"timestamp":.*}$' /tmp/out)"
tail -n 1 /tmp/out | grep -q '"interval_s":[0-9]' || fail "the second top --json frame has no interval"
touch /tmp/flood.stop
wait $flood || fail "the flood workload failed"

info "filter, disable, enable"
exits_with 0 "msgtapctl filter show" msgtapctl filter show
check_eq "filter show" "no filter" "$(cat /tmp/out)"
exits_with 0 "msgtapctl filter show --json" msgtapctl filter show --json
json_doc /tmp/out
exits_with 0 "msgtapctl disable" msgtapctl disable
msgtapctl status | grep -q '^capture: *disabled' || fail "status does not show capture disabled"
exits_with 0 "msgtapctl enable" msgtapctl enable
msgtapctl status | grep -q '^capture: *enabled' || fail "status does not show capture enabled"

info "permission denied: say so"
exits_with 1 "msgtapctl queues as nobody" run_as_nobody msgtapctl queues
grep -q 'run as root' /tmp/err || fail "the permission error does not say to run as root"

info "reset forgets everything before it; counting starts from zero"
# Every successful send so far, retired queues included, is in the answer.
sent=0
for t in /tmp/t1.json /tmp/t2.json /tmp/ti.json /tmp/flood.json; do
	sent=$((sent + $(truth_get $t '*' sends_ok)))
done
exits_with 0 "msgtapctl reset" msgtapctl reset
cat /tmp/out
grep -q "^reset: forgot $sent sends ok (" /tmp/out || fail "reset does not say it forgot $sent sends"
exits_with 0 "msgtapctl stats after reset" msgtapctl stats
cat /tmp/out
grep -qx '(no msgsnd() calls seen yet)' /tmp/out || fail "stats after reset still shows queues"
msgtapctl stats --json >/tmp/after.json || fail "msgtapctl stats --json failed"
grep -q '"queues": *\[\]' /tmp/after.json || fail "stats --json after reset still has queues"
exits_with 0 "msgtapctl reset --json" msgtapctl reset --json
json_doc /tmp/out
grep -q '"queues": 0,' /tmp/out || fail "a second reset found queues"
run_workload msgtap-workload /tmp/t3.json --seed 5
msgtapctl stats --json >/tmp/snap3.json || fail "msgtapctl stats --json failed"
verify_exact /tmp/snap3.json /tmp/t3.json

info "msgtapd stopped: say how to start it"
daemon_stop || fail "msgtapd exited with status $?"
for cmd in queues stats reset "top -n 1"; do
	# shellcheck disable=SC2086 # "top -n 1" is three words
	exits_with 1 "msgtapctl $cmd without msgtapd" msgtapctl $cmd
	grep -q 'systemctl start msgtapd' /tmp/err || fail "msgtapctl $cmd: no hint how to start msgtapd"
done
exits_with 1 "msgtapctl status without msgtapd" msgtapctl status
grep -q 'systemctl start msgtapd' /tmp/err || fail "status: no hint how to start msgtapd"
msgtap_unload
