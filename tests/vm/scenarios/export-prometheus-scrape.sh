#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves a real Prometheus server scraping msgtapd's /metrics stores exactly
# what the workload did: in the guest, /metrics and the --textfile file show
# each queue's sends, bytes and failures as the workload's ground truth says,
# with every loss stage at 0; on the host (export-prometheus-scrape.host),
# promtool finds nothing to report in the page, and Debian's prometheus,
# scraping through a forwarded port every second, answers queries with the
# same numbers.
# vm: net
. /tests/lib.sh

need msgtap-workload msgtapctl wget

net_up
msgtap_load
# The host's connections arrive from qemu's gateway on eth0, so the test
# listens on every address; the default is loopback only.
daemon_start --metrics-listen 0.0.0.0:9464 --textfile /tmp/msgtap.prom \
	--json-lines /tmp/stats.jsonl
grep -q 'serving Prometheus metrics on http://0.0.0.0:9464/metrics' "$MSGTAPD_LOG" ||
	fail "msgtapd did not say where it serves /metrics"

run_workload msgtap-workload /tmp/truth.json --via libc --seed 7

# No sleep: a scrape waits for the daemon to flush the module's rings.
wget -q -O /tmp/metrics http://127.0.0.1:9464/metrics || fail "GET /metrics failed"
wget -O /dev/null http://127.0.0.1:9464/nope 2>/tmp/wget-404.txt &&
	fail "GET /nope did not fail"
grep -q '404' /tmp/wget-404.txt || fail "GET /nope: $(cat /tmp/wget-404.txt), not a 404"

# metric NAME LABELS: the value of the sample NAME{LABELS} in /tmp/metrics.
metric() {
	awk -v want="$1{$2}" '$1 == want { print $2; n++ } END { exit n != 1 }' /tmp/metrics ||
		fail "/metrics has no single sample $1{$2}"
}

ns=$(sed -n 's/^{"ipc_ns": \([0-9][0-9]*\),.*/\1/p' /tmp/truth.json)
[ -n "$ns" ] || fail "no ipc_ns in /tmp/truth.json"
sed -n 's/.*"msqid": \(-\{0,1\}[0-9][0-9]*\), "sends_ok": \([0-9][0-9]*\), "bytes_ok": \([0-9][0-9]*\), "errors": {\([^}]*\)}.*/\1 \2 \3 \4/p' \
	/tmp/truth.json >/tmp/queues.txt
[ -s /tmp/queues.txt ] || fail "no queues in /tmp/truth.json"
: >/tmp/expect.txt
while read -r msqid sent bytes errors; do
	# msqid -1 is the workload's call on a queue that does not exist: the
	# kernel never finds a queue for it, but msgtap still counts it there.
	labels="ipc_ns=\"$ns\",msqid=\"$msqid\""
	check_eq "msgtap_queue_sends_total{$labels}" "$sent" "$(metric msgtap_queue_sends_total "$labels")"
	check_eq "msgtap_queue_send_bytes_total{$labels}" "$bytes" \
		"$(metric msgtap_queue_send_bytes_total "$labels")"
	check_eq "msgtap_queue_message_size_bytes_count{$labels}" "$sent" \
		"$(metric msgtap_queue_message_size_bytes_count "$labels")"
	echo "$ns $msqid sends_ok $sent" >>/tmp/expect.txt
	echo "$ns $msqid bytes_ok $bytes" >>/tmp/expect.txt
	for e in $(echo "$errors" | tr -d '" ' | tr ',' ' '); do
		check_eq "msgtap_queue_send_failures_total{$labels,errno=\"${e%%:*}\"}" "${e#*:}" \
			"$(metric msgtap_queue_send_failures_total "$labels,errno=\"${e%%:*}\"")"
		echo "$ns $msqid errno.${e%%:*} ${e#*:}" >>/tmp/expect.txt
	done
done </tmp/queues.txt
for stage in kernel_ring_full kernel_undeliverable probe_missed seq_gaps restore_gap; do
	check_eq "msgtap_lost_events_total{stage=\"$stage\"}" 0 \
		"$(metric msgtap_lost_events_total "stage=\"$stage\"")"
done

# The textfile is node_exporter's to read: world-readable, whole, and from a
# round after the workload (the timer writes it every second).
wait_for -t 5 grep -q "^msgtap_queue_sends_total{ipc_ns=\"$ns\",msqid=\"$(head -n1 /tmp/queues.txt | cut -d' ' -f1)\"} $(head -n1 /tmp/queues.txt | cut -d' ' -f2)\$" /tmp/msgtap.prom ||
	fail "/tmp/msgtap.prom does not show the first queue's sends"
check_eq "mode of /tmp/msgtap.prom" 644 "$(stat -c %a /tmp/msgtap.prom)"
tail -n1 /tmp/msgtap.prom | grep -q '^msgtap_' || fail "/tmp/msgtap.prom ends mid-line"
# JSON lines: one compact document per line, growing every interval.
lines=$(wc -l </tmp/stats.jsonl)
jsonl_grew() { [ "$(wc -l </tmp/stats.jsonl)" -gt "$lines" ]; }
wait_for -t 5 jsonl_grew || fail "/tmp/stats.jsonl does not grow past $lines lines"
grep -v -c '^{"schema":1,.*}$' /tmp/stats.jsonl | grep -qx 0 || fail "/tmp/stats.jsonl has a line that is not a compact snapshot"

# What the host half compares Prometheus's answers with: IPCNS MSQID WHAT N.
sed 's/^/MSGTAP-HOST-EXPECT /' /tmp/expect.txt
host_handshake 200

daemon_stop || fail "msgtapd exited with status $?"
# The final SIGTERM export rewrote the textfile.
grep -q '^msgtap_build_info{version="' /tmp/msgtap.prom || fail "no final /tmp/msgtap.prom"
msgtap_unload
