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
# A new msgtapd continues from the JSON file an earlier one left in this
# boot; scenarios start from zero unless MSGTAP_KEEP_STATE=1.
daemon_start() {
	[ "${MSGTAP_KEEP_STATE:-}" = 1 ] || rm -f $MSGTAP_JSON
	_msgtapd_launch --interval 1 "$@"
}

# daemon_start_default [ARG...]: msgtapd as a server runs it (its default 10 s
# interval), otherwise as daemon_start. For the benchmarks (tests/bench), whose
# numbers are of defaults. It always starts from zero: msgtapd would otherwise
# continue from the document an earlier step of the same boot left (--restore).
daemon_start_default() {
	rm -f $MSGTAP_JSON
	_msgtapd_launch "$@"
}

# Starts msgtapd ARG... (or $MSGTAPD_BIN, another build) with the test socket
# and JSON file and waits (10 s at most) until it answers `msgtapctl status`
# itself; sets MSGTAPD_PID.
_msgtapd_launch() {
	need msgtapd msgtapctl
	mkdir -p $MSGTAP_RUN
	${MSGTAPD_BIN:-msgtapd} --socket $MSGTAP_SOCKET --json $MSGTAP_JSON "$@" >$MSGTAPD_LOG 2>&1 &
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
	[ $_status -eq 0 ] || cat $MSGTAPD_LOG
	return $_status
}

# msgtapctl status succeeds with the module alone (it then asks the kernel);
# only msgtapd's own answer says that it has registered as the listener.
_msgtapd_answers() {
	msgtapctl --socket $MSGTAP_SOCKET status --json 2>/dev/null |
		grep -q '"answered": *true'
}

# A zombie still answers kill -0; ask /proc whether the process has exited.
_msgtapd_gone() {
	! [ -e "/proc/$MSGTAPD_PID" ] ||
		grep -q '^State:.*Z' "/proc/$MSGTAPD_PID/status" 2>/dev/null
}

# --- the raw protocol (msgtap-nlprobe) and event dumps -------------------------

# listener_start EVENTS [ARG...]: registers `msgtap-nlprobe register --events
# EVENTS ARG...` as the listener in the background (its output goes to
# EVENTS.out) and waits until it has registered; sets LISTENER_PID and
# LISTENER_PORT. Each record it reads becomes a line of EVENTS.
listener_start() {
	need msgtap-nlprobe
	LISTENER_EVENTS=$1
	shift
	msgtap-nlprobe register --events "$LISTENER_EVENTS" "$@" \
		>"$LISTENER_EVENTS.out" 2>&1 &
	LISTENER_PID=$!
	if ! wait_for grep -q '^registered portid=' "$LISTENER_EVENTS.out"; then
		cat "$LISTENER_EVENTS.out"
		fail "msgtap-nlprobe register did not register"
	fi
	LISTENER_PORT=$(sed -n 's/^registered portid=//p' "$LISTENER_EVENTS.out")
	info "listener registered (pid $LISTENER_PID, port $LISTENER_PORT)"
}

# listener_stop: stops the listener with SIGTERM; it flushes on its own
# socket first, so EVENTS then holds every record queued before. Fails if
# it failed or saw a gap in a CPU's sequence numbers.
listener_stop() {
	kill -TERM "$LISTENER_PID"
	wait "$LISTENER_PID"
	_status=$?
	sed 's/^/listener: /' "$LISTENER_EVENTS.out"
	[ $_status -eq 0 ] || fail "the msgtap-nlprobe listener exited with status $_status"
	grep -q '^seq_gaps=0 seq_backwards=0 bad_cpu=0$' "$LISTENER_EVENTS.out" ||
		fail "the listener saw sequence gaps"
	grep -q '^ipcns_seq_gaps=0 ipcns_seq_backwards=0 ipcns_bad_cpu=0$' "$LISTENER_EVENTS.out" ||
		fail "the listener saw gaps in the namespace records' sequence numbers"
	LISTENER_PID=
}

# nl_stat NAME [FILE]: a value of `msgtap-nlprobe stats` (NAME=VALUE lines),
# from FILE if given (a saved answer), else asked now.
nl_stat() {
	if [ -n "${2:-}" ]; then
		sed -n "s/^$1=//p" "$2"
	else
		msgtap-nlprobe stats | sed -n "s/^$1=//p"
	fi
}

# end_ipc_namespaces N FILE: creates and ends N IPC namespaces (unshare -i),
# then waits (120 s at most) until the module has accounted for each end,
# kept (ipcns_gone_queued) or counted lost, since FILE, a saved
# `msgtap-nlprobe stats`. Sets NS_KEPT and NS_LOST to those two steps and
# checks that they add up to N.
end_ipc_namespaces() {
	_ns_want=$1
	_ns_before=$2
	_n=0
	while [ $_n -lt "$_ns_want" ]; do
		unshare -i true || fail "unshare -i failed after $_n namespaces"
		_n=$((_n + 1))
	done
	wait_for -t 120 _ns_all_ended ||
		fail "the module did not account for the end of all $_ns_want namespaces"
	cat /tmp/.ns-ended
	NS_KEPT=$(($(nl_stat ipcns_gone_queued /tmp/.ns-ended) - $(nl_stat ipcns_gone_queued "$_ns_before")))
	NS_LOST=$(($(nl_stat ipcns_gone_lost /tmp/.ns-ended) - $(nl_stat ipcns_gone_lost "$_ns_before")))
	check_eq "kernel: each of the $_ns_want ends kept or counted lost, once" "$_ns_want" \
		$((NS_KEPT + NS_LOST))
}

_ns_all_ended() {
	msgtap-nlprobe stats >/tmp/.ns-ended &&
		[ $(($(nl_stat ipcns_gone_queued /tmp/.ns-ended) + $(nl_stat ipcns_gone_lost /tmp/.ns-ended) - \
			$(nl_stat ipcns_gone_queued "$_ns_before") - $(nl_stat ipcns_gone_lost "$_ns_before"))) \
			-ge "$_ns_want" ]
}

# check_hits_add_up [FILE]: every probe hit ended in exactly one counter
# (nothing may be in flight): probe_hits = events_queued + drop_ring_full +
# drop_no_listener + filtered + disabled.
check_hits_add_up() {
	_sf=${1:-/tmp/.hits-stats}
	[ -n "${1:-}" ] || msgtap-nlprobe stats >"$_sf" || fail "msgtap-nlprobe stats failed"
	_sum=$(($(nl_stat events_queued "$_sf") + $(nl_stat drop_ring_full "$_sf") + \
		$(nl_stat drop_no_listener "$_sf") + $(nl_stat filtered "$_sf") + \
		$(nl_stat disabled "$_sf")))
	check_eq "probe_hits = queued + ring_full + no_listener + filtered + disabled" \
		"$_sum" "$(nl_stat probe_hits "$_sf")"
}

# kv_count FILE [KEY=VALUE | KEY!=VALUE]...: how many lines of FILE, made of
# KEY=VALUE words, meet every condition (values compare as strings).
kv_count() {
	_kf=$1
	shift
	awk -v conds="$*" '
		BEGIN { n = split(conds, c, " ") }
		{
			split("", kv)
			for (i = 1; i <= NF; i++) {
				p = index($i, "=")
				if (p) kv[substr($i, 1, p - 1)] = substr($i, p + 1)
			}
			for (j = 1; j <= n; j++) {
				p = index(c[j], "!=")
				if (p) {
					if (kv[substr(c[j], 1, p - 1)] == substr(c[j], p + 2)) next
				} else {
					p = index(c[j], "=")
					if (kv[substr(c[j], 1, p - 1)] != substr(c[j], p + 1)) next
				}
			}
			count++
		}
		END { print count + 0 }' "$_kf"
}

# truth_get TRUTH MSQID NAME: a number from a msgtap-workload truth file,
# summed over its queues if MSQID is '*'. NAME: sends_ok, bytes_ok,
# sends_slept, an errno name (EAGAIN ...), or calls (sends_ok + errors).
truth_get() {
	awk -v id="$2" -v name="$3" '
		!/"msqid":/ { next }
		{
			s = $0
			gsub(/[{}":,]|\[|\]/, " ", s)
			n = split(s, t, " ")
			for (i = 1; i < n; i++) {
				if (t[i + 1] !~ /^-?[0-9]+$/) continue
				if (t[i] == "msqid") q = t[i + 1]
				if (id != "*" && q != id) continue
				if (t[i] == name) sum += t[i + 1]
				if (name == "calls" && (t[i] == "sends_ok" || t[i] ~ /^E/)) sum += t[i + 1]
			}
		}
		END { print sum + 0 }' "$1"
}

# events_match_truth EVENTS TRUTH...: checks, for every queue of the truth
# files (msgtap-workload), that the records of EVENTS (an event dump of
# msgtap-nlprobe) show exactly its successful sends, their bytes and its
# failures by errno; restart codes (-512..-516) count as EINTR, as
# userspace saw them. Prints each difference; returns 1 if there was one.
events_match_truth() {
	_ev=$1
	shift
	awk -v evfile="$_ev" '
		function errnum(name) {
			if (name == "EPERM") return 1
			if (name == "EINTR") return 4
			if (name == "E2BIG") return 7
			if (name == "EAGAIN") return 11
			if (name == "ENOMEM") return 12
			if (name == "EACCES") return 13
			if (name == "EFAULT") return 14
			if (name == "EINVAL") return 22
			if (name == "ENOSYS") return 38
			if (name == "EIDRM") return 43
			return substr(name, 2) + 0
		}
		FILENAME != evfile {
			if ($0 ~ /^\{"ipc_ns": /) {
				ns = $2
				sub(/,$/, "", ns)
			}
			if ($0 !~ /"msqid":/) next
			s = $0
			gsub(/[{}":,]|\[|\]/, " ", s)
			n = split(s, t, " ")
			for (i = 1; i < n; i++) {
				if (t[i + 1] !~ /^-?[0-9]+$/) continue
				if (t[i] == "msqid") { q = ns " " t[i + 1]; known[q] = 1 }
				else if (t[i] == "sends_ok") want[q, 0] += t[i + 1]
				else if (t[i] == "bytes_ok") wbytes[q] += t[i + 1]
				else if (t[i] ~ /^E/) want[q, -errnum(t[i])] += t[i + 1]
			}
			next
		}
		{
			split("", kv)
			for (i = 1; i <= NF; i++) {
				p = index($i, "=")
				if (p) kv[substr($i, 1, p - 1)] = substr($i, p + 1)
			}
			q = kv["ipc_ns"] " " kv["msqid"]
			if (!(q in known)) next
			r = kv["result"] + 0
			if (r <= -512 && r >= -516) r = -4
			got[q, r]++
			if (r == 0) gbytes[q] += kv["msgsz"]
		}
		END {
			for (k in want) if (!(k in got)) got[k] = 0
			for (k in got) {
				if (!(k in want)) want[k] = 0
				if (got[k] != want[k]) {
					split(k, p, SUBSEP)
					printf "MISMATCH queue %s: result %d: truth %d, recorded %d\n", p[1], p[2], want[k], got[k]
					bad = 1
				}
			}
			for (q in known) {
				if (wbytes[q] != gbytes[q] + 0) {
					printf "MISMATCH queue %s: bytes_ok: truth %d, recorded %d\n", q, wbytes[q], gbytes[q]
					bad = 1
				}
			}
			exit bad
		}' "$@" "$_ev"
}

# run_workload BIN TRUTH ARG...: runs the workload BIN with ARGs, writing its
# ground truth to TRUTH; fails if the workload deviated from its plan.
run_workload() {
	_bin=$1
	_truth=$2
	shift 2
	info "$_bin $* --truth $_truth"
	"$_bin" "$@" --truth "$_truth" || fail "$_bin $* deviated from its plan"
}

# verify_exact SNAPSHOT TRUTH...: msgtap-verify's exact comparison; on a
# mismatch shows the inputs and msgtapd's log, then fails.
verify_exact() {
	msgtap-verify --snapshot "$@" && return 0
	for _f in "$@" "$MSGTAPD_LOG"; do
		echo "== $_f"
		cat "$_f"
	done
	fail "msgtapd's counts differ from the workloads' ground truth"
}

# --- guest network and the host half (scenarios with "# vm: net") ------------

# net_up: loads the virtio NIC driver tests/vm/run packed into /lib/net and
# gives eth0 qemu user networking's guest address, 10.0.2.15/24. The host
# reaches guest ports 9464 and 9465 through forwarded host ports only.
net_up() {
	[ -d /lib/net ] || fail "no /lib/net: the scenario needs a '# vm: net' line"
	for _m in /lib/net/*.ko; do
		[ -e "$_m" ] || continue
		_n=$(basename "$_m" .ko)
		grep -q "^${_n#??-} " /proc/modules || insmod "$_m" || fail "insmod $_m failed"
	done
	wait_for -t 10 test -e /sys/class/net/eth0 || fail "no eth0 after loading the virtio NIC driver"
	ip link set lo up
	ip link set eth0 up || fail "ip link set eth0 up failed"
	ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
	ip -4 addr show dev eth0 | grep -q 'inet 10\.0\.2\.15/24' || fail "eth0 has no 10.0.2.15/24"
	info "eth0 up: 10.0.2.15/24"
}

# host_handshake SECONDS: tells the scenario's host half (NAME.host) to go,
# with "MSGTAP-HOST-GO NAME" on the console, then waits for its verdict on
# guest port 9465: a first line PASS, or FAIL and why. Prints what the host
# said; fails unless it said PASS.
host_handshake() {
	_name=$(basename "$0" .sh)
	echo "MSGTAP-HOST-GO $_name"
	timeout "$1" nc -l -p 9465 </dev/null >/tmp/host-verdict ||
		fail "no verdict from the host half within $1 s"
	sed 's/^/host: /' /tmp/host-verdict
	[ "$(head -n1 /tmp/host-verdict)" = PASS ] || fail "the host half failed"
}
