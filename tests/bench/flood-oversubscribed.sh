#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A VM scenario, not part of the suite: more flat-out senders (4) than vCPUs
# (2), msgtap at defaults and msgtapd as `make bench` runs it, three floods
# of 20 s. Prints the kernel's counters after each: drop_ring_full is what a
# delivery kworker that runs too late costs (BENCHMARKS.md, "Delivery at
# high priority"; results/flood-oversubscribed-*.txt).
#   MSGTAP_QEMU_APPEND="clocksource=tsc tsc=reliable" tests/vm/run --kernel 6.1 \
#     --verbose tests/bench/flood-oversubscribed.sh
. /tests/lib.sh
need msgtap-workload msgtapd msgtapctl msgtap-nlprobe
msgtap_load
daemon_start_default
for i in 1 2 3; do
	msgtap-workload --mode flood --senders 4 --seconds 20 --truth /tmp/flood.json \
		>/dev/null 2>/tmp/flood.err || fail "flood $i failed: $(cat /tmp/flood.err)"
	echo "flood $i: $(msgtap-nlprobe stats |
		grep -e '^events_queued=' -e '^drop_ring_full=' -e '^delivery_retries=' | tr '\n' ' ')"
done
daemon_stop || fail "msgtapd exited with status $?"
exit 0
