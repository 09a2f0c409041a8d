#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that msgtapd stopped (SIGTERM, as systemctl stop and restart do)
# while senders run flat out accounts in its last document for every record
# the module delivered to it: it unregisters before that document, reading
# the batches that arrive until the kernel's ack, and takes the kernel's
# counters from after it. A restarted msgtapd continues from that document,
# so a record delivered after it would be lost without a trace. Three stops,
# each with the module's own count after the daemon is gone.
. /tests/lib.sh

need msgtapd msgtapctl msgtap-workload msgtap-nlprobe msgtap-verify
msgtap_load

get() { msgtap-verify --get $MSGTAP_JSON "$1"; }

round=0
delivered_before=0
while [ $round -lt 3 ]; do
	round=$((round + 1))
	info "round $round: stop msgtapd while two senders run flat out"
	rm -f /tmp/stop
	MSGTAP_KEEP_STATE=1 daemon_start
	before=$(nl_stat events_delivered)
	msgtap-workload --mode flood --senders 2 --until /tmp/stop --truth /tmp/t$round.json &
	wpid=$!
	busy() { [ $(($(nl_stat events_delivered) - before)) -gt 20000 ]; }
	wait_for -t 60 busy || fail "the senders' records did not reach msgtapd"
	daemon_stop || {
		cat $MSGTAPD_LOG
		fail "msgtapd did not exit cleanly"
	}
	grep -q 'unregistered' $MSGTAPD_LOG || fail "msgtapd did not say it unregistered"
	msgtap-nlprobe stats >/tmp/k$round
	check_eq "listener after msgtapd stopped" 0 "$(nl_stat listener_portid /tmp/k$round)"
	# Every record the module delivered to this msgtapd is in its last
	# document (events_received counts this daemon's own, the module's
	# counters all since load), and that document's kernel counters are
	# the module's final ones.
	check_eq "records msgtapd received (last document) vs the module's delivered to it" \
		$(($(nl_stat events_delivered /tmp/k$round) - delivered_before)) \
		"$(get daemon.events_received)"
	check_eq "the document's kernel.events_delivered" \
		"$(nl_stat events_delivered /tmp/k$round)" "$(get kernel.events_delivered)"
	# A sender that passed the listener check just before msgtapd
	# unregistered may write its record after msgtapd's last GET_STATS: the
	# module counts it as undeliverable then, and the next msgtapd's
	# documents show it among the kernel's losses. At most one per CPU: the
	# handlers are not preempted.
	late=$(($(nl_stat drop_undeliverable /tmp/k$round) - $(get kernel.drop_undeliverable)))
	[ $late -ge 0 ] && [ $late -le $(grep -c ^processor /proc/cpuinfo) ] ||
		fail "the module counts $late more undeliverable records than msgtapd's last document"
	info "undeliverable records written after msgtapd's last GET_STATS: $late"
	check_eq "sequence gaps" 0 "$(get daemon.seq_gaps)"
	delivered_before=$(nl_stat events_delivered /tmp/k$round)
	touch /tmp/stop
	wait $wpid || fail "the senders failed"
done
msgtap_unload
exit 0
