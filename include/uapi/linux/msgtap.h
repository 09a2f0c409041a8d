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
 *   socket is registered (the extack message gives its port id); registering
 *   the same socket again is a no-op. Events recorded while no listener was
 *   registered were never queued (see MSGTAP_STAT_DROP_NO_LISTENER).
 *   The module forgets the listener when its socket is closed (netlink
 *   release notifier) or when a delivery finds the port gone (ECONNREFUSED);
 *   records still queued at that moment are counted as
 *   MSGTAP_STAT_DROP_UNDELIVERABLE.
 *
 * MSGTAP_CMD_UNREGISTER
 *   Forgets the listener if the sending socket is the listener. Queued
 *   records are discarded and counted as MSGTAP_STAT_DROP_UNDELIVERABLE.
 *   Attributes: none. Fails with ENOENT if the sender is not the listener.
 *
 * MSGTAP_CMD_GET_STATS
 *   Answers with a MSGTAP_CMD_GET_STATS message carrying: MSGTAP_A_STATS
 *   (nest of MSGTAP_STAT_* counters, each summed over all CPUs),
 *   MSGTAP_A_LISTENER_PORTID (0: none), MSGTAP_A_RING_SIZE, MSGTAP_A_NR_CPUS,
 *   MSGTAP_A_FLUSH_MS and one MSGTAP_A_PROBE nest per attached probe.
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
 * Notifications (kernel -> the listener)
 * --------------------------------------
 * MSGTAP_CMD_EVENTS
 *   Sent by unicast to the registered listener only, with netlink sequence
 *   number 0. Never multicast: generic netlink multicast groups could be
 *   joined by unprivileged users on some kernels still in service.
 *   A batch carries one or more event attributes, in the order they were
 *   recorded on each CPU. Today the only event attribute is
 *   MSGTAP_A_EVENT_SEND; later kinds (the receive side) arrive as new
 *   attribute types in the same batches. Receivers skip attribute types they
 *   do not know.
 *   A batch message is at most MSGTAP_BATCH_MAX bytes long, netlink header
 *   included (about 80 send events): read with a buffer at least that big. The module drains its per-CPU rings
 *   every MSGTAP_A_FLUSH_MS milliseconds, sooner when a ring is half full,
 *   and on MSGTAP_CMD_FLUSH.
 *   If the listener's receive buffer is full, the batch is kept queued and
 *   retried (MSGTAP_STAT_DELIVERY_RETRIES); netlink then also reports an
 *   overrun (ENOBUFS) on the listener's socket although nothing was lost.
 *   Records are lost only where a MSGTAP_STAT_DROP_* counter says so.
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
 * Sequence numbers: each CPU numbers the records it queues 1, 2, 3, ...
 * (MSGTAP_STAT_EVENTS_QUEUED is the sum of the last numbers). A listener
 * that sees a jump on one CPU lost records between the kernel and itself.
 * Records dropped before queueing (ring full, no listener) take no number;
 * they are counted by the kernel instead.
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
	__MSGTAP_A_MAX
};
#define MSGTAP_A_MAX (__MSGTAP_A_MAX - 1)

/*
 * Kernel counters (nest MSGTAP_A_STATS), each a u64 summed over CPUs since
 * the module was loaded. Every probe hit ends in exactly one of
 * EVENTS_QUEUED, DROP_RING_FULL or DROP_NO_LISTENER, or is still running.
 * Calls the kretprobe could not follow at all are not hits: they are counted
 * per probe (MSGTAP_PROBE_A_NMISSED). Every queued record is eventually
 * EVENTS_DELIVERED or DROP_UNDELIVERABLE, or still queued.
 */
enum msgtap_stat {
	MSGTAP_STAT_UNSPEC,
	MSGTAP_STAT_PAD, /* padding; ignore */
	MSGTAP_STAT_PROBE_HITS, /* calls that entered the probed function */
	MSGTAP_STAT_EVENTS_QUEUED, /* records written to a per-CPU ring */
	MSGTAP_STAT_DROP_RING_FULL, /* record lost: its CPU's ring was full */
	MSGTAP_STAT_DROP_NO_LISTENER, /* not queued: nobody registered */
	/* queued, then discarded because the listener went away */
	MSGTAP_STAT_DROP_UNDELIVERABLE,
	/* batches not built for lack of memory; kept queued and retried */
	MSGTAP_STAT_DROP_NOMEM,
	MSGTAP_STAT_EVENTS_DELIVERED, /* records handed to the listener */
	MSGTAP_STAT_BATCHES_DELIVERED, /* EVENTS messages handed over */
	/* batches refused by a full receive buffer, kept queued and retried */
	MSGTAP_STAT_DELIVERY_RETRIES,
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
	 * or the probe fired recursively); these calls have no record */
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

/* Bits of msgtap_send_event.flags. */
enum msgtap_event_flags {
	/* the task slept voluntarily inside the call (its voluntary context
	 * switch count changed): a blocked sender waiting for room, or a
	 * sleep for memory */
	MSGTAP_EVF_SLEPT = 1U << 0,
	/* the call was made through a 32-bit (compat) system call */
	MSGTAP_EVF_COMPAT = 1U << 1,
	MSGTAP_EVF_ALL = MSGTAP_EVF_SLEPT | MSGTAP_EVF_COMPAT,
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
};

#endif /* _UAPI_LINUX_MSGTAP_H */
