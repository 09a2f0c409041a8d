#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves msgtapd runs from its config file as an unprivileged user with only
# CAP_NET_ADMIN and counts exactly; queue depth in its own namespace needs
# nothing more, other namespaces need CAP_SYS_ADMIN and CAP_SYS_PTRACE
# (without them those queues say why they are unknown); a bad key or value
# is refused naming it; SIGHUP reloads the file; SIGTERM exits cleanly.
. /tests/lib.sh

need msgtap-caps msgtap-workload msgtap-verify

dir=/tmp/msgtapd-nobody
mkdir -p $dir && chown 65534:65534 $dir
conf=/tmp/msgtapd.conf
sock=$dir/msgtapd.sock

info "bad config files are refused, naming the key"
printf 'intervall = 3\n' >$conf
msgtapd --config $conf >/tmp/err 2>&1
check_eq "exit status for an unknown key" 2 $?
grep -q intervall /tmp/err || { cat /tmp/err; fail "the error does not name the key"; }
printf 'interval = 0\n' >$conf
msgtapd --config $conf >/tmp/err 2>&1
check_eq "exit status for a value out of range" 2 $?
grep -q -- --interval /tmp/err || { cat /tmp/err; fail "the error does not name the key"; }
msgtapd --config /tmp/no-such.conf >/tmp/err 2>&1
check_eq "exit status for a missing --config file" 2 $?

cat >$conf <<EOC
# written by the daemon-config-caps scenario
socket = $sock
json = $dir/stats.json
interval = 1
EOC

msgtap_load
info "a start that fails after the control socket was made leaves no socket file"
msgtapd --socket /tmp/failed.sock --json /tmp/failed.json --metrics-listen 192.0.2.1:9464 \
	>/tmp/err 2>&1
check_eq "exit status when /metrics cannot be served" 1 $?
grep -q 192.0.2.1 /tmp/err || { cat /tmp/err; fail "the error does not name the address"; }
[ ! -e /tmp/failed.sock ] || fail "the failed msgtapd left /tmp/failed.sock behind"

pid=
start_as_nobody() {
	msgtap-caps 65534 "$1" msgtapd --config $conf >/tmp/d.log 2>&1 &
	pid=$!
	wait_for -t 20 sh -c "msgtapctl --socket $sock status --json | grep -q '\"running\": *true'" || {
		cat /tmp/d.log
		fail "msgtapd as uid 65534 with $1 did not come up"
	}
	check_eq "msgtapd's uid" 65534 "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)"
	info "msgtapd runs as uid 65534 with $1: $(grep ^CapEff /proc/$pid/status)"
}
stop() {
	kill -TERM $pid
	wait $pid
	check_eq "msgtapd's exit status after SIGTERM" 0 $?
}
field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }
get() { msgtap-verify --get "$1" "$2" || fail "the snapshot has no $2"; }

start_as_nobody net_admin
rm -f /tmp/go /tmp/linger
msgtap-workload --mode hold --count 4 --new-ipcns --truth /tmp/h.json --ready /tmp/rh \
	--go /tmp/go --linger /tmp/linger &
hpid=$!
run_workload msgtap-workload /tmp/mix.json
wait_for test -e /tmp/rh || fail "the hold workload did not get ready"
H="$(field /tmp/rh ipc_ns):$(field /tmp/rh msqid)"
msgtapctl --socket $sock stats --json >/tmp/s1.json || fail "msgtapctl stats failed"
verify_exact /tmp/s1.json /tmp/mix.json
check_eq "queue $H in another namespace without CAP_SYS_ADMIN" unknown \
	"$(get /tmp/s1.json "queues[$H].live.state")"
note=$(get /tmp/s1.json "queues[$H].live.note")
info "why: $note"
[ -n "$note" ] || fail "the unknown state does not say why"

info "SIGHUP reloads the config file"
sed -i "s|^json = .*|json = $dir/other.json|; s|^interval = .*|interval = 0.5|" $conf
kill -HUP $pid
wait_for test -e $dir/other.json || { cat /tmp/d.log; fail "the reloaded json path was not written"; }
msgtapctl --socket $sock status --json >/tmp/st.json
grep -q '"interval_s": *0.5' /tmp/st.json || { cat /tmp/st.json; fail "the interval was not reloaded"; }
grep -q "reloaded $conf" /tmp/d.log || { cat /tmp/d.log; fail "no reload in the log"; }
stop

info "with CAP_SYS_ADMIN and CAP_SYS_PTRACE it looks into the other namespace"
start_as_nobody net_admin,sys_admin,sys_ptrace
msgtapctl --socket $sock stats --json >/tmp/s2.json || fail "msgtapctl stats failed"
check_eq "queue $H: state and depth" "present 4" \
	"$(get /tmp/s2.json "queues[$H].live.state") $(get /tmp/s2.json "queues[$H].live.qnum")"
stop
grep -q '^<[0-7]>msgtapd: ' /tmp/d.log || fail "the log lines lack syslog priority prefixes"

touch /tmp/go /tmp/linger
wait $hpid || fail "the hold workload deviated from its plan"
msgtap_unload
