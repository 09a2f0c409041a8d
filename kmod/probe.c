// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probe stage: kretprobes that turn every msgsnd() into one record in
 * this CPU's ring.
 *
 * The main probe sits on do_msgsnd(), where every path into msgsnd meets
 * (64-bit msgsnd, 32-bit msgsnd, the 32-bit ipc(MSGSND) multiplexer). Its
 * entry handler reads the arguments from registers (mtype is the value the
 * kernel already copied from userspace: no user memory is read) and its
 * return handler writes the record.
 *
 * A call whose msgp cannot be read fails with EFAULT in the syscall wrapper,
 * before do_msgsnd() runs. Kretprobes on the wrappers catch those: their
 * entry handler follows a call only when it cannot read mtype itself, so
 * ordinary calls pay for an entry probe only. If such a call reaches
 * do_msgsnd() after all (the page was merely not present), the main probe
 * marks the wrapper's instance and the wrapper records nothing.
 *
 * A kprobe on msg_exit_ns() records the end of each IPC namespace, so that
 * a listener can tell a later namespace given the same inode number apart.
 *
 * Handlers run with preemption disabled: no locks, no allocation, no
 * sleeping. What they cannot do (a full ring, no listener) they count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/idr.h>
#include <linux/ipc.h>
#include <linux/ipc_namespace.h>
#include <linux/kprobes.h>
#include <linux/nsproxy.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "filter.h"
#include "genl.h"
#include "probe.h"
#include "ring.h"

/* ipc/util.h (private): ids[] index of message queues and the two possible
 * widths of the index part of an IPC id (ipcmni_extend widens it). */
#define MSGTAP_IPC_MSG_IDS 1
#define MSGTAP_IPCMNI_SHIFT 15
#define MSGTAP_IPCMNI_EXTEND_SHIFT 24

/* i386 ipc(2) call number of msgsnd (include/uapi/linux/ipc.h). */
#define MSGTAP_IPC_MSGSND 11

/* A call being followed: kretprobe instance data of every probe. */
struct msgtap_call {
	u64 ts_ns;
	unsigned long nvcsw;
	s64 mtype;
	u64 msgsz;
	u64 cgroup_id;
	u32 ipc_ns;
	s32 msqid;
	s32 msgflg;
	u32 flags;
	s32 key;
	u32 q_uid;
	u32 q_gid;
	u32 q_mode;
	bool reached; /* wrappers: do_msgsnd() ran inside this call */
	bool failures_only; /* its filter records failed calls only */
};

bool msgtap_enabled = true;

/*
 * Ids as records carry them, as the initial user namespace sees them. That
 * namespace maps every id to itself, so this is from_kuid_munged(
 * &init_user_ns, uid) without its extent lookup: four of those per send
 * were a tenth of the handlers' time in a profile (BENCHMARKS.md).
 */
static __always_inline u32 msgtap_uid(kuid_t uid)
{
	return uid_valid(uid) ? __kuid_val(uid) : (u32)overflowuid;
}

static __always_inline u32 msgtap_gid(kgid_t gid)
{
	return gid_valid(gid) ? __kgid_val(gid) : (u32)overflowgid;
}

/*
 * Looks the queue up the way the kernel will, without its private structs:
 * the IPC idr maps an id's index part to the queue's public kern_ipc_perm,
 * freed only after an RCU grace period. Call under rcu_read_lock().
 */
static void msgtap_queue_identity(struct msgtap_call *c,
				  struct ipc_namespace *ns)
{
	static const int shifts[] = { MSGTAP_IPCMNI_SHIFT,
				      MSGTAP_IPCMNI_EXTEND_SHIFT };
	const struct kern_ipc_perm *perm;
	unsigned int i;

	if (c->msqid < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		unsigned long idx = c->msqid & ((1UL << shifts[i]) - 1);

		perm = idr_find(&ns->ids[MSGTAP_IPC_MSG_IDS].ipcs_idr, idx);
		if (perm && READ_ONCE(perm->id) == c->msqid &&
		    !READ_ONCE(perm->deleted)) {
			c->key = READ_ONCE(perm->key);
			c->q_uid = msgtap_uid(perm->uid);
			c->q_gid = msgtap_gid(perm->gid);
			c->q_mode = READ_ONCE(perm->mode) & 0777;
			c->flags |= MSGTAP_EVF_QUEUE_KNOWN;
			break;
		}
	}
}

/*
 * A call begins: counts the hit and decides whether to follow it (enabled,
 * someone listening, the filter lets it through), filling @c if so.
 */
static bool msgtap_begin(struct msgtap_ring *r, struct msgtap_call *c,
			 int msqid, long mtype, u64 msgsz, int msgflg)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	const struct msgtap_filter *f;
	bool pass = true;

	WRITE_ONCE(r->probe_hits, r->probe_hits + 1);
	if (!READ_ONCE(msgtap_enabled)) {
		WRITE_ONCE(r->disabled, r->disabled + 1);
		return false;
	}
	/* Not following the call spares the return half, the costly one. */
	if (!msgtap_listening()) {
		WRITE_ONCE(r->drop_no_listener, r->drop_no_listener + 1);
		return false;
	}

	c->msqid = msqid;
	c->mtype = mtype;
	c->msgsz = msgsz;
	c->msgflg = msgflg;
	c->ipc_ns = ns->ns.inum;
	c->flags = in_compat_syscall() ? MSGTAP_EVF_COMPAT : 0;
	c->key = 0;
	c->q_uid = 0;
	c->q_gid = 0;
	c->q_mode = 0;

	/* One read-side section for all three: on preemptible-RCU kernels
	 * (Debian's) each lock/unlock pair is two calls. */
	rcu_read_lock();
	c->cgroup_id = msgtap_current_cgroup_id();
	f = rcu_dereference(msgtap_filter);
	c->failures_only = f && (f->flags & MSGTAP_FILTER_F_FAILURES_ONLY);
	if (f && f->nrules) {
		struct msgtap_subject s = { .value = {
			[MSGTAP_FIELD_TGID] = task_tgid_nr(current),
			[MSGTAP_FIELD_UID] = msgtap_uid(current_uid()),
			[MSGTAP_FIELD_IPC_NS] = c->ipc_ns,
			[MSGTAP_FIELD_MSQID] = (u32)msqid,
			[MSGTAP_FIELD_CGROUP] = c->cgroup_id,
		} };

		pass = msgtap_filter_match(f, &s);
	}
	if (pass)
		msgtap_queue_identity(c, ns);
	rcu_read_unlock();
	if (!pass) {
		WRITE_ONCE(r->filtered, r->filtered + 1);
		return false;
	}

	c->nvcsw = current->nvcsw;
	c->ts_ns = ktime_get_ns();
	return true;
}

/* A followed call returns: writes its record. */
static void msgtap_end(struct msgtap_ring *r, const struct msgtap_call *c,
		       long result, u32 flags)
{
	u64 now = ktime_get_ns();
	struct msgtap_send_event *ev;

	/* The listener may have gone while this sender slept. */
	if (!msgtap_listening()) {
		WRITE_ONCE(r->drop_no_listener, r->drop_no_listener + 1);
		return;
	}
	if (c->failures_only && !result) {
		WRITE_ONCE(r->filtered, r->filtered + 1);
		return;
	}

	ev = msgtap_ring_reserve(r);
	if (!ev)
		return;
	ev->ts_ns = c->ts_ns;
	ev->duration_ns = now - c->ts_ns;
	ev->mtype = c->mtype;
	ev->msgsz = c->msgsz;
	ev->ipc_ns = c->ipc_ns;
	ev->msqid = c->msqid;
	ev->msgflg = c->msgflg;
	ev->result = (s32)result;
	ev->cpu = smp_processor_id();
	ev->tgid = task_tgid_nr(current);
	ev->tid = task_pid_nr(current);
	ev->uid = msgtap_uid(current_uid());
	ev->gid = msgtap_gid(current_gid());
	ev->flags = c->flags | flags;
	if (current->nvcsw != c->nvcsw)
		ev->flags |= MSGTAP_EVF_SLEPT;
	/* -ERESTARTSYS .. -ERESTART_RESTARTBLOCK: a signal ended the wait. */
	if (result <= -512 && result >= -516)
		ev->flags |= MSGTAP_EVF_INTERRUPTED;
	/* As trace events do: comm without task_lock, which may sleep on RT. */
	memcpy(ev->comm, current->comm, sizeof(ev->comm));
	ev->cgroup_id = c->cgroup_id;
	ev->key = c->key;
	ev->q_uid = c->q_uid;
	ev->q_gid = c->q_gid;
	ev->q_mode = c->q_mode;
	msgtap_ring_commit(r);
}

/* The syscall-wrapper probes, and how each finds msgsnd's arguments. */
enum msgtap_wrapper_abi { MSGTAP_ABI_X64, MSGTAP_ABI_IA32, MSGTAP_ABI_IA32_IPC };

struct msgtap_wrapper {
	struct kretprobe krp;
	enum msgtap_wrapper_abi abi;
	bool attached;
};

static int msgtap_wrapper_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs);
static int msgtap_wrapper_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs);

#define MSGTAP_WRAPPER(sym, _abi)                                              \
	{                                                                      \
		.krp = {                                                       \
			.kp.symbol_name = sym,                                 \
			.entry_handler = msgtap_wrapper_entry,                 \
			.handler = msgtap_wrapper_return,                      \
			.data_size = sizeof(struct msgtap_call),               \
		},                                                             \
		.abi = _abi,                                                   \
	}

static struct msgtap_wrapper msgtap_wrappers[] = {
	MSGTAP_WRAPPER("__x64_sys_msgsnd", MSGTAP_ABI_X64),
	MSGTAP_WRAPPER("__ia32_compat_sys_msgsnd", MSGTAP_ABI_IA32),
	MSGTAP_WRAPPER("__ia32_compat_sys_ipc", MSGTAP_ABI_IA32_IPC),
};

/* Attached wrapper kretprobes, for msgtap_pending_data(). */
static struct kretprobe *msgtap_wrapper_krps[ARRAY_SIZE(msgtap_wrappers)];
static unsigned int msgtap_nr_wrappers;

/*
 * Whether the kernel's own read of mtype at @msgp will find it, without
 * faulting a page in (a page not present counts as unreadable: then the
 * wrapper follows the call, and do_msgsnd() tells it if the read worked).
 * What copy_from_user_nofault() does, as one load instead of a generic copy:
 * the early probe's count fell by a seventh (BENCHMARKS.md, "Counted in
 * instructions"). Its check that current's mm is the one loaded is for an
 * NMI that interrupts a switch of mm; a probe on a syscall wrapper fires in
 * the calling task, whose mm is loaded.
 */
static bool msgtap_mtype_readable(const void __user *msgp, bool compat)
{
	int err;

	/* Not access_ok(): debug kernels warn when it is called outside task
	 * context, and a kprobe that cannot use ftrace fires from an int3. */
	if (!__access_ok(msgp, compat ? sizeof(compat_long_t) : sizeof(long)))
		return false;
	pagefault_disable();
	if (compat) {
		compat_long_t mtype;

		err = __get_user(mtype, (const compat_long_t __user *)msgp);
	} else {
		long mtype;

		err = __get_user(mtype, (const long __user *)msgp);
	}
	pagefault_enable();
	return !err;
}

static int msgtap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct msgtap_ring *r = this_cpu_ptr(msgtap_rings);
	struct msgtap_call *c = (struct msgtap_call *)ri->data;

	if (msgtap_nr_wrappers) {
		struct msgtap_call *outer = msgtap_pending_data(
			msgtap_wrapper_krps, msgtap_nr_wrappers);

		if (outer)
			outer->reached = true;
	}

	/* do_msgsnd(int msqid, long mtype, void __user *mtext,
	 *           size_t msgsz, int msgflg) */
	return msgtap_begin(r, c, (int)regs_get_kernel_argument(regs, 0),
			    (long)regs_get_kernel_argument(regs, 1),
			    regs_get_kernel_argument(regs, 3),
			    (int)regs_get_kernel_argument(regs, 4)) ?
		       0 :
		       1;
}

static int msgtap_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	msgtap_end(this_cpu_ptr(msgtap_rings),
		   (const struct msgtap_call *)ri->data,
		   regs_return_value(regs), 0);
	return 0;
}

static int msgtap_wrapper_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct msgtap_wrapper *w =
		container_of(get_kretprobe(ri), struct msgtap_wrapper, krp);
	/* Syscall wrappers take the user registers as their one argument. */
	const struct pt_regs *u =
		(const struct pt_regs *)regs_get_kernel_argument(regs, 0);
	struct msgtap_call *c = (struct msgtap_call *)ri->data;
	const void __user *msgp;

	switch (w->abi) {
	case MSGTAP_ABI_X64:
		c->msqid = (int)u->di;
		msgp = (const void __user *)u->si;
		c->msgsz = u->dx;
		c->msgflg = (int)u->r10;
		break;
	case MSGTAP_ABI_IA32:
		c->msqid = (int)u->bx;
		msgp = compat_ptr((u32)u->cx);
		c->msgsz = (u64)(s64)(s32)u->dx;
		c->msgflg = (int)u->si;
		break;
	case MSGTAP_ABI_IA32_IPC:
		if (((u32)u->bx & 0xffff) != MSGTAP_IPC_MSGSND)
			return 1;
		c->msqid = (int)u->cx;
		c->msgsz = (u64)(s64)(s32)u->dx;
		c->msgflg = (int)u->si;
		msgp = compat_ptr((u32)u->di);
		break;
	default:
		return 1;
	}
	/* Readable: the kernel will read it too and do_msgsnd() records the
	 * call. (A concurrent munmap in between could still make the kernel
	 * fail; that race is not followed.) */
	if (msgtap_mtype_readable(msgp, w->abi != MSGTAP_ABI_X64))
		return 1;
	c->reached = false;
	c->nvcsw = current->nvcsw;
	c->ts_ns = ktime_get_ns();
	return 0;
}

static int msgtap_wrapper_return(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	const struct msgtap_call *w = (const struct msgtap_call *)ri->data;
	struct msgtap_ring *r = this_cpu_ptr(msgtap_rings);
	long result = regs_return_value(regs);
	struct msgtap_call c;

	/* Reached do_msgsnd(), which recorded the call; or not a failure
	 * ksys_msgsnd() makes before do_msgsnd(). */
	if (w->reached || result != -EFAULT)
		return 0;
	if (msgtap_begin(r, &c, w->msqid, 0, w->msgsz, w->msgflg)) {
		c.ts_ns = w->ts_ns;
		c.nvcsw = w->nvcsw;
		msgtap_end(r, &c, result, MSGTAP_EVF_EARLY);
	}
	return 0;
}

static struct kretprobe msgtap_krp = {
	.entry_handler = msgtap_entry,
	.handler = msgtap_return,
	.data_size = sizeof(struct msgtap_call),
};

/*
 * The end of an IPC namespace. free_ipc_ns() calls msg_exit_ns() before it
 * gives the namespace's inode number back, so the record is in this CPU's
 * ring before any later namespace can be given that number (the number
 * allocator's lock orders the two), and so before any call made in such a
 * namespace is recorded. Recorded whether or not capture is enabled,
 * whatever the filter and with no listener: listeners need it to keep rows
 * of different namespaces apart.
 */
static int msgtap_ns_gone(struct kprobe *p, struct pt_regs *regs)
{
	/* void msg_exit_ns(struct ipc_namespace *ns) */
	const struct ipc_namespace *ns =
		(const struct ipc_namespace *)regs_get_kernel_argument(regs, 0);
	struct msgtap_ring *r = this_cpu_ptr(msgtap_rings);
	struct msgtap_ipcns_event *ev;

	/* Queued with or without a listener: a msgtapd that restarts and
	 * continues its rows needs the ends it did not see. */
	ev = msgtap_ns_reserve(r);
	if (!ev)
		return 0;
	ev->ts_ns = ktime_get_ns();
	ev->ipc_ns = ns->ns.inum;
	ev->cpu = smp_processor_id();
	msgtap_ns_commit(r);
	return 0;
}

static struct kprobe msgtap_ns_kp = {
	.symbol_name = "msg_exit_ns",
	.pre_handler = msgtap_ns_gone,
};
static bool msgtap_ns_attached;

/* Optional: without it msgtap works, but cannot tell listeners that an
 * IPC namespace's inode number may be reused. */
static void msgtap_ns_init(void)
{
	int err = register_kprobe(&msgtap_ns_kp);

	if (err) {
		pr_info("not attached to msg_exit_ns (error %d): IPC namespace ends are not recorded\n",
			err);
		return;
	}
	msgtap_ns_attached = true;
	pr_info("attached kprobe to %pS\n", msgtap_ns_kp.addr);
}

static void msgtap_ns_exit(void)
{
	if (msgtap_ns_attached)
		unregister_kprobe(&msgtap_ns_kp);
	msgtap_ns_attached = false;
}

static void msgtap_wrappers_init(void)
{
	unsigned int i;

	if (!MSGTAP_HAVE_PENDING_DATA) {
		pr_info("this kernel's kretprobes are not built on rethook: calls failing with EFAULT before do_msgsnd are not recorded\n");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(msgtap_wrappers); i++) {
		struct msgtap_wrapper *w = &msgtap_wrappers[i];
		int err;

		/* Followed calls are rare and short: few instances suffice. */
		w->krp.maxactive = 0;
		err = register_kretprobe(&w->krp);
		if (err) {
			/* e.g. no IA32_EMULATION: those calls cannot happen */
			pr_info("not attached to %s (error %d)\n",
				w->krp.kp.symbol_name, err);
			continue;
		}
		w->attached = true;
		msgtap_wrapper_krps[msgtap_nr_wrappers++] = &w->krp;
		pr_info("attached kretprobe to %pS\n", w->krp.kp.addr);
	}
}

static void msgtap_wrappers_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(msgtap_wrappers); i++) {
		if (msgtap_wrappers[i].attached)
			unregister_kretprobe(&msgtap_wrappers[i].krp);
		msgtap_wrappers[i].attached = false;
	}
	msgtap_nr_wrappers = 0;
}

int msgtap_probe_init(const char *symbol, int maxactive, bool early)
{
	int err;

	/* Wrappers first: the main probe looks for their instances. */
	if (early)
		msgtap_wrappers_init();

	msgtap_krp.kp.symbol_name = symbol;
	msgtap_krp.maxactive = maxactive;
	err = register_kretprobe(&msgtap_krp);
	if (err == -ENOENT) {
		pr_err("no function %s in this kernel (error %d): load with symbol=NAME naming the function that implements msgsnd\n",
		       symbol, err);
		msgtap_wrappers_exit();
		return err;
	}
	if (err) {
		pr_err("cannot attach a kretprobe to %s (error %d): is it a traceable function of this kernel? Load with symbol=NAME to choose another\n",
		       symbol, err);
		msgtap_wrappers_exit();
		return err;
	}
	pr_info("attached kretprobe to %pS (maxactive %d)\n",
		msgtap_krp.kp.addr, msgtap_krp.maxactive);
	msgtap_ns_init();
	return 0;
}

void msgtap_probe_exit(void)
{
	msgtap_ns_exit();
	unregister_kretprobe(&msgtap_krp);
	msgtap_wrappers_exit();
}

static void msgtap_probe_fill(const struct kretprobe *krp,
			      struct msgtap_probe_info *info)
{
	info->symbol = krp->kp.symbol_name;
	info->kind = MSGTAP_PROBE_KIND_KRETPROBE;
	info->maxactive = krp->maxactive;
	/* nmissed: no free instance; kp.nmissed: the probe fired while
	 * another kprobe handler ran on this CPU. The kernel keeps the first
	 * in an int, bumped without atomics: read as the u32 it counts up
	 * (not sign-extended past 2^31), a count that may run short when
	 * CPUs miss at once (the uapi says so). */
	info->nmissed = (u64)(u32)READ_ONCE(krp->nmissed) +
			READ_ONCE(krp->kp.nmissed);
}

u64 msgtap_probe_ns_missed(void)
{
	return msgtap_ns_attached ? READ_ONCE(msgtap_ns_kp.nmissed) : 0;
}

bool msgtap_probe_get(unsigned int i, struct msgtap_probe_info *info)
{
	if (i == 0) {
		msgtap_probe_fill(&msgtap_krp, info);
		return true;
	}
	if (i - 1 < msgtap_nr_wrappers) {
		msgtap_probe_fill(msgtap_wrapper_krps[i - 1], info);
		return true;
	}
	if (i - 1 == msgtap_nr_wrappers && msgtap_ns_attached) {
		info->symbol = msgtap_ns_kp.symbol_name;
		info->kind = MSGTAP_PROBE_KIND_KPROBE;
		info->maxactive = 0;
		/* fired while another kprobe handler ran on this CPU: that
		 * namespace's end has no record */
		info->nmissed = msgtap_probe_ns_missed();
		return true;
	}
	return false;
}
