#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves --json-lines never makes msgtapd wait: pointed at a FIFO (a log
# shipper's pipe) with no reader, msgtapd still starts, answers and counts,
# and logs that it could not append; once a reader is there, it gets whole
# compact snapshots.
. /tests/lib.sh

need msgtap-workload msgtap-verify

rm -f /tmp/lines.fifo
mkfifo /tmp/lines.fifo
msgtap_load
daemon_start --json-lines /tmp/lines.fifo
run_workload msgtap-workload /tmp/truth.json --mode simple --count 5
msgtapctl --socket $MSGTAP_SOCKET stats --json >/tmp/s.json || fail "msgtapctl stats failed"
verify_exact /tmp/s.json /tmp/truth.json
grep -q "cannot append to /tmp/lines.fifo" $MSGTAPD_LOG ||
	{ cat $MSGTAPD_LOG; fail "msgtapd did not say it could not append"; }

info "a reader on the FIFO gets a whole snapshot line"
head -n 1 /tmp/lines.fifo >/tmp/line &
reader=$!
wait_for -t 10 sh -c '! kill -0 '$reader' 2>/dev/null' || fail "no line reached the FIFO's reader"
grep -q '^{"schema":1,.*}$' /tmp/line || { cat /tmp/line; fail "the line is not a compact snapshot"; }
daemon_stop || fail "msgtapd did not stop cleanly"
msgtap_unload
