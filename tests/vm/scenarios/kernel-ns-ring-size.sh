#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that the module parameter ns_ring_size sets how many ends of IPC
# namespaces each CPU keeps for a listener: values that are not a power of
# two from 16 to 65536 are refused with a message naming the parameter;
# GET_STATS reports the size; with ns_ring_size=16 and no listener, more ends
# than the rings hold are each kept or counted lost exactly once, no CPU
# keeps more than 16, and a listener then receives exactly the kept ones;
# with ns_ring_size=4096 the same burst and more is kept whole.
. /tests/lib.sh

need msgtap-nlprobe

for bad in 8 100 131072; do
	dmesg -c >/dev/null
	if insmod $MSGTAP_KO ns_ring_size=$bad 2>/tmp/insmod.err; then
		fail "insmod with ns_ring_size=$bad succeeded"
	fi
	msgtap_loaded && fail "msgtap is loaded after ns_ring_size=$bad was refused"
	dmesg | grep "msgtap: ns_ring_size=$bad: must be a power of two from 16 to 65536" ||
		fail "the kernel log does not say why ns_ring_size=$bad was refused"
done
echo "ok: ns_ring_size 8, 100 and 131072 refused, each with its reason"

# received_ends FILE: the namespace records a listener's summary counts.
received_ends() {
	sed -n 's/^ipcns_gone=\([0-9]*\) .*/\1/p' "$1"
}

info "ns_ring_size=16: more ends than the rings hold, no listener"
msgtap_load ns_ring_size=16
check_eq "parameter" 16 "$(cat /sys/module/msgtap/parameters/ns_ring_size)"
msgtap-nlprobe stats >/tmp/k0.txt || fail "msgtap-nlprobe stats failed"
check_eq "GET_STATS ns_ring_size" 16 "$(nl_stat ns_ring_size /tmp/k0.txt)"
cpus=$(nl_stat nr_cpus /tmp/k0.txt)
# More than all rings together hold overflows one CPU's, wherever they fall.
ends=$((16 * cpus + 20))
end_ipc_namespaces $ends /tmp/k0.txt
kept=$NS_KEPT
lost=$NS_LOST
[ "$lost" -gt 0 ] || fail "no end was lost: the rings kept all $ends, so this proves nothing"
[ "$kept" -le $((16 * cpus)) ] || fail "the rings kept $kept ends, more than $cpus CPUs x 16"
[ "$kept" -ge 16 ] || fail "the rings kept $kept ends, fewer than one full ring of 16"
echo "ok: $kept of $ends ends kept, $lost counted lost"

listener_start /tmp/ev16
listener_stop
check_eq "the listener received every kept end" "$kept" "$(received_ends /tmp/ev16.out)"
most=$(sed -n 's/^ipcns_cpu=[0-9]* ipcns_gone=\([0-9]*\) .*/\1/p' /tmp/ev16.out | sort -n | tail -1)
check_eq "ends of the fullest CPU (a full ring)" 16 "$most"
msgtap-nlprobe stats >/tmp/k2.txt || fail "msgtap-nlprobe stats failed"
check_eq "kernel: ends delivered" "$(nl_stat ipcns_gone_queued /tmp/k2.txt)" \
	"$(nl_stat ipcns_gone_delivered /tmp/k2.txt)"
msgtap_unload

info "ns_ring_size=4096: the same burst and more is kept whole"
msgtap_load ns_ring_size=4096
msgtap-nlprobe stats >/tmp/k0.txt || fail "msgtap-nlprobe stats failed"
check_eq "GET_STATS ns_ring_size" 4096 "$(nl_stat ns_ring_size /tmp/k0.txt)"
# More than the default rings (256 per CPU) together hold.
ends=$((256 * cpus + 88))
end_ipc_namespaces $ends /tmp/k0.txt
kept=$NS_KEPT
lost=$NS_LOST
check_eq "kernel: ends lost with rings of 4096" 0 "$lost"
listener_start /tmp/ev4096
listener_stop
check_eq "the listener received every end" "$ends" "$(received_ends /tmp/ev4096.out)"
msgtap_unload
exit 0
