#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that a msgtap request arriving while the module is being loaded or
# removed gets a whole answer or a clean error, never an oops (the harness
# fails the scenario on any oops, WARN or leak in the kernel log). A
# monitoring loop, or msgtapd restarting, may poll the family at any time:
# here one process sends GET_STATS as fast as it can while msgtap.ko is
# loaded and removed 20 times, and loaded with a missing symbol (init fails
# after the wrapper probes were attached) 5 times. Every answer must name
# each of its probes.
. /tests/lib.sh

need msgtap-nlprobe
[ -f $MSGTAP_KO ] || fail "$MSGTAP_KO missing from the initramfs"

rm -f /tmp/stop
msgtap-nlprobe poll-stats --until /tmp/stop >/tmp/poll.out 2>/tmp/poll.err &
ppid=$!

info "load and remove 20 times while GET_STATS is polled"
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	insmod $MSGTAP_KO || fail "insmod failed (round $i)"
	rmmod msgtap || fail "rmmod failed (round $i)"
done
echo "ok: 20 loads and removals"

info "a load that fails after attaching the wrapper probes, 5 times"
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	insmod $MSGTAP_KO symbol=no_such_function 2>/dev/null &&
		fail "insmod with a missing symbol succeeded (round $i)"
	msgtap_loaded && fail "msgtap stayed loaded after a failed load (round $i)"
done
echo "ok: 5 failed loads"

# The last rounds with the module present, so that some answers are sure.
msgtap_load
sleep 1
msgtap_unload
touch /tmp/stop
wait $ppid
status=$?
cat /tmp/poll.out
cat /tmp/poll.err
[ $status -eq 0 ] || fail "an answer did not name every probe (status $status)"
answered=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' /tmp/poll.out)
[ "${answered:-0}" -gt 0 ] || fail "no GET_STATS was answered"
echo "ok: $answered answers, each whole"
exit 0
