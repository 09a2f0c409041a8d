# SPDX-License-Identifier: GPL-2.0-only
# Helpers for VM scenario scripts (busybox ash); source with `. /tests/lib.sh`.
#
# A scenario is a POSIX sh script that exits 0 when what it proves holds.
# The guest's /init runs it with a timeout and cleans up after it (msgtapd,
# msgtap.ko, SysV objects, /tmp, /run), so a scenario may simply fail out.

MSGTAP_KO=/lib/msgtap/msgtap.ko
MSGTAP_RUN=/run/msgtap
MSGTAP_SOCKET=$MSGTAP_RUN/msgtapd.sock
MSGTAP_JSON=$MSGTAP_RUN/stats.json
MSGTAPD_LOG=/tmp/msgtapd.log
MSGTAPD_PID=

# fail MESSAGE: ends the scenario as failed.
fail() {
	echo "FAIL: $*"
	exit 1
}

# info MESSAGE: a progress line, told apart from the programs' own output.
info() {
	echo "-- $*"
}

# need PROGRAM...: fails unless each program is in the guest.
need() {
	for _p in "$@"; do
		command -v "$_p" >/dev/null ||
			fail "$_p is not in the guest (was it built into build/bin?)"
	done
}

# check_eq NAME EXPECTED ACTUAL: fails unless the two strings are equal.
check_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: expected '$2', got '$3'"
	fi
	echo "ok: $1 = $2"
}

# wait_for [-t SECONDS] COMMAND...: runs COMMAND every 0.1 s until it
# succeeds (returns 0) or SECONDS (default 10) have passed (returns 1).
wait_for() {
	_timeout=10
	if [ "$1" = -t ]; then
		_timeout=$2
		shift 2
	fi
	_tries=$((_timeout * 10))
	while ! "$@" >/dev/null 2>&1; do
		_tries=$((_tries - 1))
		[ $_tries -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

# run_as_nobody COMMAND...: runs COMMAND as nobody:nogroup (65534), keeping
# its arguments intact; returns COMMAND's exit status.
run_as_nobody() {
	# busybox su parses options after the user name too; "--" ends them.
	su -s /bin/sh -c 'exec "$@"' -- nobody run_as_nobody "$@"
}

# msgtap_load [PARAM=VALUE...]: inserts msgtap.ko with module parameters.
msgtap_load() {
	[ -f $MSGTAP_KO ] || fail "$MSGTAP_KO missing from the initramfs"
	insmod $MSGTAP_KO "$@" || fail "insmod msgtap.ko $* failed"
	[ -d /sys/module/msgtap ] || fail "msgtap.ko loaded but /sys/module/msgtap is missing"
	info "msgtap.ko loaded $*"
}

# msgtap_unload: removes msgtap.ko.
msgtap_unload() {
	rmmod msgtap || fail "rmmod msgtap failed"
	info "msgtap.ko unloaded"
}

# msgtap_loaded: succeeds while msgtap.ko is loaded.
msgtap_loaded() {
	grep -q '^msgtap ' /proc/modules
}

# daemon_start [ARG...]: starts msgtapd in the background with the test
# socket, JSON file and a 1 s interval, then waits (10 s at most) until it
# answers `msgtapctl status` itself. Its output goes to $MSGTAPD_LOG.
daemon_start() {
	need msgtapd msgtapctl
	mkdir -p $MSGTAP_RUN
	msgtapd --socket $MSGTAP_SOCKET --json $MSGTAP_JSON --interval 1 "$@" \
		>$MSGTAPD_LOG 2>&1 &
	MSGTAPD_PID=$!
	_tries=100
	while ! _msgtapd_answers; do
		if ! kill -0 $MSGTAPD_PID 2>/dev/null; then
			wait $MSGTAPD_PID
			_status=$?
			cat $MSGTAPD_LOG
			MSGTAPD_PID=
			fail "msgtapd $* exited with status $_status during start-up"
		fi
		_tries=$((_tries - 1))
		if [ $_tries -le 0 ]; then
			cat $MSGTAPD_LOG
			fail "msgtapd $* did not answer msgtapctl status within 10 s"
		fi
		sleep 0.1
	done
	info "msgtapd running (pid $MSGTAPD_PID)"
}

# daemon_stop: sends SIGTERM to the msgtapd that daemon_start started and
# waits (10 s at most) for it to exit; returns its exit status.
daemon_stop() {
	[ -n "$MSGTAPD_PID" ] || fail "daemon_stop: msgtapd was not started"
	kill -TERM "$MSGTAPD_PID" 2>/dev/null
	wait_for -t 10 _msgtapd_gone || {
		cat $MSGTAPD_LOG
		fail "msgtapd did not exit within 10 s of SIGTERM"
	}
	wait "$MSGTAPD_PID"
	_status=$?
	MSGTAPD_PID=
	info "msgtapd stopped (status $_status)"
	return $_status
}

# msgtapctl status succeeds with the module alone (it then asks the kernel);
# only msgtapd's own answer says that it has registered as the listener.
_msgtapd_answers() {
	msgtapctl --socket $MSGTAP_SOCKET status --json 2>/dev/null |
		grep -q '"running": *true'
}

# A zombie still answers kill -0; ask /proc whether the process has exited.
_msgtapd_gone() {
	! [ -e "/proc/$MSGTAPD_PID" ] ||
		grep -q '^State:.*Z' "/proc/$MSGTAPD_PID/status" 2>/dev/null
}
