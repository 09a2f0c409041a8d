#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Proves that records carry the queue's identity as IPC_STAT and ipcs report
# it: the key of a queue created with a fixed key, the owner uid/gid and mode
# set with IPC_SET, whoever sends (root or the new owner); the sender's uid
# and its cgroup v2 id (the inode of its cgroup directory); key 0 and the
# creator's identity for IPC_PRIVATE queues; and no identity (flag clear,
# fields 0) for a queue id that does not exist when the call begins.
. /tests/lib.sh

need msgtap-nlprobe msgtap-workload

cg_root=/sys/fs/cgroup
cg=$cg_root/msgtap-identity
cg_mounted=
cleanup_cgroup() {
	[ -d $cg ] && rmdir $cg 2>/dev/null
	[ -n "$cg_mounted" ] && umount $cg_root 2>/dev/null
}
trap cleanup_cgroup EXIT
if ! grep -q " $cg_root cgroup2 " /proc/mounts; then
	mount -t cgroup2 cgroup2 $cg_root || fail "cannot mount cgroup2 on $cg_root"
	cg_mounted=1
fi
mkdir $cg || fail "cannot create the cgroup $cg"
cgid=$(stat -c %i $cg)
info "cgroup $cg has inode $cgid"

msgtap_load
listener_start /tmp/ev

key=0x6d736774 # "msgt"
key_dec=$((key))
info "a queue with key $key, owner 65534:65534, mode 0640, from cgroup $cg"
# The workload joins the cgroup before exec; its child (the new owner) too.
sh -c 'echo $$ >'$cg'/cgroup.procs && exec msgtap-workload --mode identity --key '$key' \
	--owner 65534:65534 --perm 0640 --count 10 --truth /tmp/t.json --ready /tmp/r --go /tmp/go' &
wpid=$!
wait_for test -e /tmp/r || fail "the identity workload did not get ready"
q=$(sed -n 's/.* msqid=\([0-9]*\)$/\1/p' /tmp/r)
if command -v ipcs >/dev/null; then
	ipcs -q
	# key msqid owner perms used-bytes messages
	row=$(ipcs -q | awk -v q="$q" '$2 == q { print $1, $3, $4 }')
	check_eq "ipcs: key, owner, perms of queue $q" "$key nobody 640" "$row"
else
	info "no ipcs in the guest: IPC_STAT alone is the reference"
fi
touch /tmp/go
wait $wpid || fail "the identity workload deviated from its plan"

cat /tmp/t.json
sed -n 's/.*"queue": {\(.*\)},*$/\1/p' /tmp/t.json | tr -d '",:' >/tmp/stat
read -r _ st_q _ st_key _ st_uid _ st_gid _ st_cuid _ st_mode </tmp/stat
check_eq "IPC_STAT: msqid" "$q" "$st_q"
check_eq "IPC_STAT: key" "$key_dec" "$st_key"
check_eq "IPC_STAT: uid, gid, creator uid" "65534 65534 0" "$st_uid $st_gid $st_cuid"
check_eq "IPC_STAT: mode" $((0640)) "$st_mode"

info "a private queue, a removed one and msqid -1 (the mix), from the root cgroup"
msgtap-workload --truth /tmp/m.json --ready /tmp/rm || fail "msgtap-workload deviated from its plan"
listener_stop

qmode=$(printf '%#o' "$st_mode")
check_eq "records of queue $q with its key, owner, mode (root sender, cgroup $cgid)" 10 \
	"$(kv_count /tmp/ev msqid="$q" qknown=1 key="$key_dec" q_uid=65534 q_gid=65534 q_mode="$qmode" uid=0 gid=0 cgroup="$cgid" result=0)"
check_eq "records of queue $q with its key, owner, mode (owner sender, cgroup $cgid)" 10 \
	"$(kv_count /tmp/ev msqid="$q" qknown=1 key="$key_dec" q_uid=65534 q_gid=65534 q_mode="$qmode" uid=65534 gid=65534 cgroup="$cgid" result=0)"
check_eq "records of queue $q" 20 "$(kv_count /tmp/ev msqid="$q")"

# The mix: IPC_PRIVATE queues of root, mode 0600, from the root cgroup.
rootcg=$(stat -c %i $cg_root)
mpid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' /tmp/rm)
calls=$(truth_get /tmp/m.json '*' calls)
check_eq "mix records" "$calls" "$(kv_count /tmp/ev cgroup="$rootcg")"
check_eq "mix records of queues that exist" $((calls - 2)) \
	"$(kv_count /tmp/ev cgroup="$rootcg" qknown=1 key=0 q_uid=0 q_gid=0 q_mode=0600)"
# msqid -1 and the id of a queue already removed: nothing to identify.
check_eq "records of msqid -1 (no queue)" 1 \
	"$(kv_count /tmp/ev msqid=-1 qknown=0 key=0 q_uid=0 q_gid=0 q_mode=0 result=-22)"
check_eq "records of a removed queue's id (no queue)" 1 \
	"$(kv_count /tmp/ev msqid!=-1 qknown=0 key=0 q_uid=0 q_gid=0 q_mode=0 result=-22 msgflg=2048 tgid="$mpid")"
check_eq "mix records of the EACCES child (uid 65534)" 1 \
	"$(kv_count /tmp/ev cgroup="$rootcg" uid=65534 gid=65534 result=-13)"
events_match_truth /tmp/ev /tmp/t.json /tmp/m.json || fail "the records differ from the truth"

msgtap_unload
