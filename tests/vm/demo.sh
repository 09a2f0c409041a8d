#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`: loads msgtap, runs the daemon and a workload, shows what it saw.
. /tests/lib.sh

need msgtapd msgtapctl msgtap-workload
show() {
	echo
	echo "# $*"
	"$@"
}

echo "# insmod msgtap.ko"
msgtap_load
echo
echo "# dmesg | grep msgtap"
dmesg | grep msgtap
daemon_start
show msgtap-workload --truth /tmp/truth.json || fail "msgtap-workload failed"
# The daemon drains the module's rings on its interval: give it two.
sleep 2
show msgtapctl status || fail "msgtapctl status failed"
show msgtapctl stats || fail "msgtapctl stats failed"
daemon_stop
