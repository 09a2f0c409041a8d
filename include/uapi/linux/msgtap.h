/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * msgtap: the generic netlink protocol between msgtap.ko and its listeners.
 *
 * This header is the specification. The kernel module and the userspace tools
 * both build against this copy; nothing else defines the wire format.
 *
 * Family
 * ------
 * Generic netlink family MSGTAP_GENL_NAME ("msgtap"), version
 * MSGTAP_GENL_VERSION. Resolve it through the generic netlink controller;
 * the module declares MODULE_ALIAS_GENL_FAMILY, so resolving the name loads
 * the module where modprobe can find it. The family exists only in the
 * initial network namespace: IPC activity is host-wide information, and a
 * container with its own network namespace must not see it.
 *
 * Every command validates its attributes strictly: unknown attributes,
 * attributes of the wrong type or length, and non-zero reserved header bytes
 * are rejected with EINVAL and an extended ack message naming the problem.
 *
 * Commands (userspace -> kernel)
 * ------------------------------
 * All commands need CAP_NET_ADMIN in the initial user namespace
 * (GENL_ADMIN_PERM): each one either changes state or reveals other users'
 * IPC activity. An unprivileged caller gets EPERM.
 *
 * MSGTAP_CMD_REGISTER
 *   Makes the sending socket (its netlink port id) the one event listener.
 *   Attributes: none. Answers with an ack. Fails with EBUSY if another
 *   socket is registered: the extack message gives its port id (kernels
 *   without formatted extack messages, such as 6.1, write it to the kernel
 *   log instead). A registered socket that is being closed no longer
 *   counts, even before the release notifier below has run. Registering the
 *   same socket again is a no-op. Send
 *   records of calls made while no listener was registered are not queued
 *   (see MSGTAP_STAT_DROP_NO_LISTENER); a record that a sender was writing
 *   at the moment the last listener went away is discarded at the next
 *   REGISTER or GET_STATS and counted as MSGTAP_STAT_DROP_UNDELIVERABLE, so
 *   a new listener only receives what was recorded after it registered.
 *   Namespace records (MSGTAP_A_EVENT_IPCNS_GONE) are the exception: they
 *   are queued with or without a listener and kept for the next one, so a
 *   listener that continues from where an earlier one stopped learns which
 *   namespaces ended meanwhile.
 *   The module forgets the listener when its socket is closed (netlink
 *   release notifier) or when a delivery finds the port gone (ECONNREFUSED);
 *   records still queued at that moment are counted as
 *   MSGTAP_STAT_DROP_UNDELIVERABLE.
 *
 * MSGTAP_CMD_UNREGISTER
 *   Forgets the listener if the sending socket is the listener. Queued
 *   send records are discarded and counted as
 *   MSGTAP_STAT_DROP_UNDELIVERABLE.
 *   Attributes: none. Fails with ENOENT if the sender is not the listener.
 *
 * MSGTAP_CMD_GET_STATS
 *   Answers with a MSGTAP_CMD_GET_STATS message carrying: MSGTAP_A_STATS
 *   (nest of MSGTAP_STAT_* counters, each summed over all CPUs),
 *   MSGTAP_A_LISTENER_PORTID (0: none), MSGTAP_A_RING_SIZE,
 *   MSGTAP_A_NS_RING_SIZE, MSGTAP_A_NR_CPUS, MSGTAP_A_FLUSH_MS,
 *   MSGTAP_A_ENABLED, MSGTAP_A_LOAD_ID and one MSGTAP_A_PROBE nest per
 *   attached probe.
 *   MSGTAP_A_LOAD_ID tells loads of the module apart: a listener that
 *   compares it with a value read earlier knows whether the counters it
 *   read then still run on (same value) or started again from zero at a
 *   later load (different value). Modules older than it do not send it.
 *   Attributes: none.
 *
 * MSGTAP_CMD_FLUSH
 *   Delivers every record queued so far to the listener before answering.
 *   Because event batches and the answer travel through the same socket in
 *   order, once the ack of a FLUSH sent on the listener socket is read, every
 *   event recorded before the FLUSH was sent has been read too. Fails with
 *   ENOTCONN if there is no listener and with EAGAIN if the listener's
 *   receive buffer filled up before the rings were empty (what was not
 *   delivered stays queued: read, then flush again).
 *   Attributes: none.
 *
 * MSGTAP_CMD_SET_FILTER
 *   Replaces the filter (see "Filters" below) with the one in MSGTAP_A_FILTER
 *   (absent or empty: no filter). The new filter applies to calls that begin
 *   after the ack. Fails with an extack message naming the problem: EINVAL
 *   for a rule without a field, two rules on one field, a rule with no
 *   values or more than MSGTAP_FILTER_MAX_VALUES, a value out of its
 *   field's range (see "Filters"), unknown flag bits, a wrong attribute
 *   type or length; ERANGE for a field number outside enum
 *   msgtap_filter_field and for a flag attribute (MSGTAP_RULE_A_EXCLUDE)
 *   that carries a payload, as the netlink core answers those.
 *
 * MSGTAP_CMD_GET_FILTER
 *   Answers a MSGTAP_CMD_GET_FILTER message with MSGTAP_A_FILTER (an empty
 *   nest when no filter is set). Attributes: none.
 *
 * MSGTAP_CMD_ENABLE, MSGTAP_CMD_DISABLE
 *   Starts or stops recording without unloading the module (the module
 *   loads enabled). While disabled, probe hits are only counted
 *   (MSGTAP_STAT_DISABLED); calls already under way are still recorded.
 *   Attributes: none. GET_STATS reports the state (MSGTAP_A_ENABLED).
 *
 * Notifications (kernel -> the listener)
 * --------------------------------------
 * MSGTAP_CMD_EVENTS
 *   Sent by unicast to the registered listener only, with netlink sequence
 *   number 0. Never multicast: generic netlink multicast groups could be
 *   joined by unprivileged users on some kernels still in service.
 *   A batch carries one or more event attributes, in the order they were
 *   recorded on each CPU. The event attributes are MSGTAP_A_EVENT_SEND (one
 *   msgsnd() call) and MSGTAP_A_EVENT_IPCNS_GONE (an IPC namespace was
 *   freed); later kinds (the receive side) arrive as new attribute types in
 *   the same batches. Receivers skip attribute types they do not know.
 *   A batch message is at most MSGTAP_BATCH_MAX bytes long, netlink header
 *   included (room for about 60 of today's send events; today's module puts
 *   at most 30 in one, as many as NLMSG_GOODSIZE holds with 4 KiB pages):
 *   read with a buffer at least MSGTAP_BATCH_MAX big. The module drains
 *   its per-CPU rings every MSGTAP_A_FLUSH_MS milliseconds, sooner when a
 *   ring is half full, and on MSGTAP_CMD_FLUSH.
 *   If the listener's receive buffer is full, the batch is kept queued and
 *   retried (MSGTAP_STAT_DELIVERY_RETRIES); netlink then also reports an
 *   overrun (ENOBUFS) on the listener's socket although nothing was lost.
 *   Records are lost only where a MSGTAP_STAT_DROP_* counter says so, with
 *   one exception the module cannot see: a socket filter (SO_ATTACH_FILTER,
 *   or a security module) on the listener's socket that drops a batch,
 *   which netlink reports as delivered. Do not attach one.
 *
 * Event records
 * -------------
 * An event attribute's payload is a fixed-layout record (struct
 * msgtap_send_event). Records only ever grow at the end; the attribute
 * length tells how long this kernel's record is. A receiver copies
 * min(nla_len, sizeof(its struct)) bytes into a zeroed struct, which keeps
 * old receivers and new kernels (and the reverse) compatible. Netlink aligns
 * attributes to 4 bytes only: copy the record out before reading its 64-bit
 * fields.
 *
 * Sequence numbers: each CPU numbers the records of each kind it queues
 * 1, 2, 3, ... on their own: send records in one series
 * (MSGTAP_STAT_EVENTS_QUEUED is the sum of their last numbers), namespace
 * records in another (MSGTAP_STAT_IPCNS_GONE_QUEUED). A listener that sees
 * a jump in one CPU's series of one kind lost records of that kind between
 * the kernel and itself; a listener that skips a kind sees no false gaps in
 * the others. Records dropped before queueing (ring full, no listener) take
 * no number; they are counted by the kernel instead.
 *
 * Namespace ends and reused inodes: when an IPC namespace is freed its
 * inode number goes back to the kernel, which gives the lowest free number
 * to the next namespace it creates, so a new container's namespace often
 * carries the number of one that just ended, and its first queue the same
 * msqid. The module records each freed namespace (MSGTAP_A_EVENT_IPCNS_GONE,
 * probe on msg_exit_ns(), which runs before the number is given up) and
 * delivers it before any send record of a later namespace with that number.
 * Send records of calls made in the freed namespace itself may still arrive
 * after it (a CPU's ring drained later); their ts_ns is lower than the
 * namespace record's. A listener therefore keeps the queues of the old and
 * the new namespace apart by the namespace record and ts_ns.
 * Namespace records are written whether or not capture is enabled, whatever
 * the filter and with no listener (kept for the next one, see REGISTER);
 * each CPU keeps up to MSGTAP_A_NS_RING_SIZE of them (module parameter
 * ns_ring_size, default 256; modules older than the attribute keep 256).
 * The probe is optional: GET_STATS lists it (symbol msg_exit_ns, kind
 * MSGTAP_PROBE_KIND_KPROBE) when it is attached.
 */
#ifndef _UAPI_LINUX_MSGTAP_H
#define _UAPI_LINUX_MSGTAP_H

#include <linux/types.h>

#define MSGTAP_GENL_NAME "msgtap"
#define MSGTAP_GENL_VERSION 1

/* Upper bound of the length of one MSGTAP_CMD_EVENTS message. */
#define MSGTAP_BATCH_MAX 8192

/* Length of the comm field of a record, as TASK_COMM_LEN. */
#define MSGTAP_COMM_LEN 16

enum msgtap_cmd {
	MSGTAP_CMD_UNSPEC,
	MSGTAP_CMD_REGISTER, /* admin; no attributes; ack */
	MSGTAP_CMD_UNREGISTER, /* admin; no attributes; ack */
	MSGTAP_CMD_GET_STATS, /* admin; answers the counters */
	MSGTAP_CMD_FLUSH, /* admin; delivers queued records, then acks */
	MSGTAP_CMD_EVENTS, /* kernel -> listener: a batch of events */
	MSGTAP_CMD_SET_FILTER, /* admin; MSGTAP_A_FILTER; ack */
	MSGTAP_CMD_GET_FILTER, /* admin; answers MSGTAP_A_FILTER */
	MSGTAP_CMD_ENABLE, /* admin; no attributes; ack */
	MSGTAP_CMD_DISABLE, /* admin; no attributes; ack */
	__MSGTAP_CMD_MAX
};
#define MSGTAP_CMD_MAX (__MSGTAP_CMD_MAX - 1)

/* Top-level attributes. */
enum msgtap_attr {
	MSGTAP_A_UNSPEC,
	MSGTAP_A_PAD, /* padding for 64-bit attributes; ignore */
	/* binary, struct msgtap_send_event: one msgsnd() call (EVENTS) */
	MSGTAP_A_EVENT_SEND,
	MSGTAP_A_STATS, /* nest of enum msgtap_stat (GET_STATS) */
	MSGTAP_A_LISTENER_PORTID, /* u32: listener port id, 0 if none */
	MSGTAP_A_RING_SIZE, /* u32: records each per-CPU ring holds */
	MSGTAP_A_NR_CPUS, /* u32: CPUs with a ring (possible CPUs) */
	MSGTAP_A_FLUSH_MS, /* u32: drain period in milliseconds */
	MSGTAP_A_PROBE, /* nest of enum msgtap_probe_attr, one per probe */
	MSGTAP_A_ENABLED, /* u8: 1 if capture is enabled */
	MSGTAP_A_FILTER, /* nest of enum msgtap_filter_attr */
	/* u64: random, never 0, drawn when the module was loaded (GET_STATS) */
	MSGTAP_A_LOAD_ID,
	/* binary, struct msgtap_ipcns_event: an IPC namespace was freed
	 * (EVENTS) */
	MSGTAP_A_EVENT_IPCNS_GONE,
	/* u32: namespace records each per-CPU ring holds (GET_STATS) */
	MSGTAP_A_NS_RING_SIZE,
	__MSGTAP_A_MAX
};
#define MSGTAP_A_MAX (__MSGTAP_A_MAX - 1)

/*
 * Kernel counters (nest MSGTAP_A_STATS), each a u64 summed over CPUs since
 * the module was loaded. Every probe hit ends in exactly one of
 * EVENTS_QUEUED, DROP_RING_FULL, DROP_NO_LISTENER, FILTERED or DISABLED, or
 * is still running.
 * Calls the kretprobe could not follow at all are not hits: they are counted
 * per probe (MSGTAP_PROBE_A_NMISSED). Every queued record is eventually
 * EVENTS_DELIVERED or DROP_UNDELIVERABLE, or still queued. With no listener
 * and no call running, none is still queued when GET_STATS answers:
 * EVENTS_QUEUED = EVENTS_DELIVERED + DROP_UNDELIVERABLE.
 */
enum msgtap_stat {
	MSGTAP_STAT_UNSPEC,
	MSGTAP_STAT_PAD, /* padding; ignore */
	/* calls that entered the probed function, and calls that failed
	 * with EFAULT before it (MSGTAP_EVF_EARLY) */
	MSGTAP_STAT_PROBE_HITS,
	MSGTAP_STAT_EVENTS_QUEUED, /* records written to a per-CPU ring */
	MSGTAP_STAT_DROP_RING_FULL, /* record lost: its CPU's ring was full */
	MSGTAP_STAT_DROP_NO_LISTENER, /* not queued: nobody registered */
	/* queued, then discarded because the listener went away */
	MSGTAP_STAT_DROP_UNDELIVERABLE,
	/* batches not built for lack of memory; kept queued and retried */
	MSGTAP_STAT_DELIVERY_NOMEM,
	MSGTAP_STAT_EVENTS_DELIVERED, /* send records handed to the listener */
	MSGTAP_STAT_BATCHES_DELIVERED, /* EVENTS messages handed over (of
					* either kind of record) */
	/* batches refused by a full receive buffer, kept queued and retried */
	MSGTAP_STAT_DELIVERY_RETRIES,
	MSGTAP_STAT_FILTERED, /* hits the filter excluded; not queued */
	MSGTAP_STAT_DISABLED, /* hits while capture was disabled */
	/*
	 * Namespace records (MSGTAP_A_EVENT_IPCNS_GONE), counted apart from
	 * the send records above. Every freed namespace ends in exactly one of
	 * IPCNS_GONE_DELIVERED or IPCNS_GONE_LOST, or is still queued.
	 */
	MSGTAP_STAT_IPCNS_GONE_QUEUED, /* written to a per-CPU ring */
	MSGTAP_STAT_IPCNS_GONE_DELIVERED, /* handed to the listener */
	/* no record will be delivered: the CPU's namespace ring was full,
	 * or the probe missed the call (MSGTAP_PROBE_A_NMISSED) */
	MSGTAP_STAT_IPCNS_GONE_LOST,
	__MSGTAP_STAT_MAX
};
#define MSGTAP_STAT_MAX (__MSGTAP_STAT_MAX - 1)

/* One attached probe (nest MSGTAP_A_PROBE in GET_STATS answers). */
enum msgtap_probe_attr {
	MSGTAP_PROBE_A_UNSPEC,
	MSGTAP_PROBE_A_PAD, /* padding; ignore */
	MSGTAP_PROBE_A_SYMBOL, /* string: the probed kernel function */
	MSGTAP_PROBE_A_KIND, /* u32: enum msgtap_probe_kind */
	/* u64: calls the probe could not follow (kretprobe instances ran out,
	 * or the probe fired recursively). A call do_msgsnd()'s probe missed
	 * has no record, or (rarely) an EARLY one if the call failed with
	 * EFAULT; a call a syscall-entry probe missed has none only if it
	 * failed with EFAULT before do_msgsnd(). So the sum over probes is an
	 * upper bound of the calls without a record. The kernel counts
	 * running out of instances without atomics: CPUs that miss at the
	 * same moment may be counted once */
	MSGTAP_PROBE_A_NMISSED,
	MSGTAP_PROBE_A_MAXACTIVE, /* u32: kretprobe instances (0: kprobe) */
	__MSGTAP_PROBE_A_MAX
};
#define MSGTAP_PROBE_A_MAX (__MSGTAP_PROBE_A_MAX - 1)

enum msgtap_probe_kind {
	MSGTAP_PROBE_KIND_UNSPEC,
	MSGTAP_PROBE_KIND_KRETPROBE, /* entry and return */
	MSGTAP_PROBE_KIND_KPROBE, /* entry only */
};

/*
 * Filters (nest MSGTAP_A_FILTER), evaluated in the probe so that excluded
 * calls cost little and are only counted (MSGTAP_STAT_FILTERED).
 *
 * A filter is a set of rules, at most one per field, plus flags. A call is
 * recorded when it passes every rule: an include rule requires the call's
 * value to be one of the rule's values, an exclude rule requires it to be
 * none of them. SET_FILTER replaces the whole filter at once; an empty
 * MSGTAP_A_FILTER nest (or none) clears it. GET_FILTER answers the filter in
 * force in the same form. A call is judged by the filter in force when it
 * begins, including MSGTAP_FILTER_F_FAILURES_ONLY, which then looks at the
 * call's result when it returns. An EARLY call (MSGTAP_EVF_EARLY) is judged
 * when it returns, by the filter and the enabled state in force then.
 * Values that no call can have are refused (EINVAL): tgid and msqid above
 * INT_MAX, uid and ipc-ns above U32_MAX.
 */
#define MSGTAP_FILTER_MAX_VALUES 64 /* values in one rule */

enum msgtap_filter_attr {
	MSGTAP_FILTER_A_UNSPEC,
	MSGTAP_FILTER_A_PAD, /* padding; ignore */
	MSGTAP_FILTER_A_FLAGS, /* u32: MSGTAP_FILTER_F_* (unknown bits: EINVAL) */
	MSGTAP_FILTER_A_RULE, /* nest of enum msgtap_rule_attr; repeated */
	__MSGTAP_FILTER_A_MAX
};
#define MSGTAP_FILTER_A_MAX (__MSGTAP_FILTER_A_MAX - 1)

enum msgtap_filter_flags {
	/* record failed calls only (result != 0) */
	MSGTAP_FILTER_F_FAILURES_ONLY = 1U << 0,
	MSGTAP_FILTER_F_ALL = MSGTAP_FILTER_F_FAILURES_ONLY,
};

enum msgtap_rule_attr {
	MSGTAP_RULE_A_UNSPEC,
	MSGTAP_RULE_A_PAD, /* padding; ignore */
	MSGTAP_RULE_A_FIELD, /* u32: enum msgtap_filter_field (required) */
	MSGTAP_RULE_A_EXCLUDE, /* flag: exclude the values (default: include) */
	/* u64, repeated 1..MSGTAP_FILTER_MAX_VALUES times: one value each */
	MSGTAP_RULE_A_VALUE,
	__MSGTAP_RULE_A_MAX
};
#define MSGTAP_RULE_A_MAX (__MSGTAP_RULE_A_MAX - 1)

/* What a rule compares; values are given as u64. */
enum msgtap_filter_field {
	MSGTAP_FIELD_UNSPEC,
	MSGTAP_FIELD_TGID, /* process id, initial PID namespace */
	MSGTAP_FIELD_UID, /* caller's uid, initial user namespace */
	MSGTAP_FIELD_IPC_NS, /* IPC namespace inode number */
	MSGTAP_FIELD_MSQID, /* queue id as passed (must be >= 0) */
	MSGTAP_FIELD_CGROUP, /* cgroup v2 id */
	__MSGTAP_FIELD_MAX
};
#define MSGTAP_FIELD_MAX (__MSGTAP_FIELD_MAX - 1)

/* Bits of msgtap_send_event.flags. */
enum msgtap_event_flags {
	/* the task slept voluntarily inside the call (its voluntary context
	 * switch count changed): a blocked sender waiting for room, a sleep
	 * for memory or for a page of msgp, or, on PREEMPT_RT kernels, a wait
	 * for the queue's lock (a sleeping lock there) */
	MSGTAP_EVF_SLEPT = 1U << 0,
	/* the call was made through a 32-bit (compat) system call */
	MSGTAP_EVF_COMPAT = 1U << 1,
	/* @key, @q_uid, @q_gid and @q_mode are valid: the queue existed when
	 * the call began */
	MSGTAP_EVF_QUEUE_KNOWN = 1U << 2,
	/* a signal ended the sleep: @result is a kernel restart code
	 * (-512..-516). Userspace saw EINTR, or, when the signal had no
	 * handler, the kernel restarted the call and another record follows */
	MSGTAP_EVF_INTERRUPTED = 1U << 3,
	/* the call failed before do_msgsnd() ran: the kernel could not read
	 * mtype from msgp (@result is -EFAULT, @mtype is 0). Recorded by the
	 * syscall-entry probes (see MSGTAP_PROBE_A_SYMBOL) */
	MSGTAP_EVF_EARLY = 1U << 4,
	MSGTAP_EVF_ALL = MSGTAP_EVF_SLEPT | MSGTAP_EVF_COMPAT |
			 MSGTAP_EVF_QUEUE_KNOWN | MSGTAP_EVF_INTERRUPTED |
			 MSGTAP_EVF_EARLY,
};

/*
 * struct msgtap_send_event - payload of MSGTAP_A_EVENT_SEND: one msgsnd()
 * as the kernel's do_msgsnd() saw it.
 * @seq:         per-CPU record number, from 1 (see "Sequence numbers")
 * @ts_ns:       entry time, CLOCK_MONOTONIC nanoseconds (ktime_get_ns)
 * @duration_ns: time from entry to return, nanoseconds
 * @mtype:       message type as the kernel copied it from the caller
 * @msgsz:       message text size in bytes as passed by the caller
 * @ipc_ns:      inode number of the caller's IPC namespace
 *               (as in the link /proc/PID/ns/ipc -> ipc:[INODE])
 * @msqid:       queue identifier as passed by the caller (unique only
 *               within @ipc_ns, and reused after IPC_RMID)
 * @msgflg:      flags as passed (IPC_NOWAIT = 04000, MSG_NOERROR ...)
 * @result:      0 on success, else the negative errno the kernel returned;
 *               -512 (ERESTARTSYS) .. -516 mean a signal interrupted a
 *               sleeping sender (userspace saw EINTR or a restarted call)
 * @cpu:         CPU that recorded the event (where the call returned)
 * @tgid, @tid:  caller's process and thread id in the initial PID namespace
 * @uid, @gid:   caller's real uid/gid in the initial user namespace
 * @flags:       MSGTAP_EVF_* bits
 * @comm:        caller's command name, NUL-padded
 * @cgroup_id:   id of the caller's cgroup v2 (as bpf_get_current_cgroup_id();
 *               the inode number of its cgroup2 directory), 0 without cgroups
 * @key:         the queue's IPC key (0 = IPC_PRIVATE)      } valid with
 * @q_uid:       the queue owner's uid, initial user ns     } MSGTAP_EVF_
 * @q_gid:       the queue owner's gid, initial user ns     } QUEUE_KNOWN,
 * @q_mode:      the queue's permission bits (0777 mask)    } else 0
 */
struct msgtap_send_event {
	__u64 seq;
	__u64 ts_ns;
	__u64 duration_ns;
	__s64 mtype;
	__u64 msgsz;
	__u32 ipc_ns;
	__s32 msqid;
	__s32 msgflg;
	__s32 result;
	__u32 cpu;
	__u32 tgid;
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 flags;
	char comm[MSGTAP_COMM_LEN];
	__u64 cgroup_id;
	__s32 key;
	__u32 q_uid;
	__u32 q_gid;
	__u32 q_mode;
};

/*
 * struct msgtap_ipcns_event - payload of MSGTAP_A_EVENT_IPCNS_GONE: an IPC
 * namespace was freed, and with it every queue in it. Its inode number may
 * be given to a namespace created later (see "Namespace ends").
 * @seq:    per-CPU number in the series of namespace records, from 1
 * @ts_ns:  when the namespace was freed, CLOCK_MONOTONIC nanoseconds
 * @ipc_ns: the freed namespace's inode number
 * @cpu:    CPU that recorded it
 */
struct msgtap_ipcns_event {
	__u64 seq;
	__u64 ts_ns;
	__u32 ipc_ns;
	__u32 cpu;
};

#endif /* _UAPI_LINUX_MSGTAP_H */
