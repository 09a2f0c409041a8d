// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probe stage: a kretprobe on do_msgsnd() records every call into this
 * CPU's ring.
 *
 * The entry handler reads the arguments from registers (mtype is the value
 * the kernel already copied from userspace, so no user memory is touched)
 * and the return handler writes one record. Both run with preemption
 * disabled and must stay cheap: no locks, no allocation, no sleeping; what
 * they cannot do (a full ring, no listener) they count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/kprobes.h>
#include <linux/nsproxy.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "genl.h"
#include "probe.h"
#include "ring.h"

/* What the entry handler hands to the return handler (kretprobe data). */
struct msgtap_call {
	u64 ts_ns;
	unsigned long nvcsw;
	s64 mtype;
	u64 msgsz;
	u32 ipc_ns;
	s32 msqid;
	s32 msgflg;
	u32 flags;
};

static int msgtap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct msgtap_ring *r = this_cpu_ptr(msgtap_rings);
	struct msgtap_call *c = (struct msgtap_call *)ri->data;

	WRITE_ONCE(r->probe_hits, r->probe_hits + 1);
	/* Not following the call spares the return half, the costly one. */
	if (!msgtap_listening()) {
		WRITE_ONCE(r->drop_no_listener, r->drop_no_listener + 1);
		return 1;
	}

	/* do_msgsnd(int msqid, long mtype, void __user *mtext,
	 *           size_t msgsz, int msgflg) */
	c->msqid = (int)regs_get_kernel_argument(regs, 0);
	c->mtype = (long)regs_get_kernel_argument(regs, 1);
	c->msgsz = regs_get_kernel_argument(regs, 3);
	c->msgflg = (int)regs_get_kernel_argument(regs, 4);
	c->ipc_ns = current->nsproxy->ipc_ns->ns.inum;
	c->flags = in_compat_syscall() ? MSGTAP_EVF_COMPAT : 0;
	c->nvcsw = current->nvcsw;
	c->ts_ns = ktime_get_ns();
	return 0;
}

static int msgtap_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 now = ktime_get_ns();
	struct msgtap_ring *r = this_cpu_ptr(msgtap_rings);
	const struct msgtap_call *c = (const struct msgtap_call *)ri->data;
	struct msgtap_send_event *ev;

	/* The listener may have gone while this sender slept. */
	if (!msgtap_listening()) {
		WRITE_ONCE(r->drop_no_listener, r->drop_no_listener + 1);
		return 0;
	}
	ev = msgtap_ring_reserve(r);
	if (!ev)
		return 0;

	ev->ts_ns = c->ts_ns;
	ev->duration_ns = now - c->ts_ns;
	ev->mtype = c->mtype;
	ev->msgsz = c->msgsz;
	ev->ipc_ns = c->ipc_ns;
	ev->msqid = c->msqid;
	ev->msgflg = c->msgflg;
	ev->result = (s32)regs_return_value(regs);
	ev->cpu = smp_processor_id();
	ev->tgid = task_tgid_nr(current);
	ev->tid = task_pid_nr(current);
	ev->uid = from_kuid_munged(&init_user_ns, current_uid());
	ev->gid = from_kgid_munged(&init_user_ns, current_gid());
	ev->flags = c->flags;
	if (current->nvcsw != c->nvcsw)
		ev->flags |= MSGTAP_EVF_SLEPT;
	/* As trace events do: comm without task_lock, which may sleep on RT. */
	memcpy(ev->comm, current->comm, sizeof(ev->comm));
	msgtap_ring_commit(r);
	return 0;
}

static struct kretprobe msgtap_krp = {
	.entry_handler = msgtap_entry,
	.handler = msgtap_return,
	.data_size = sizeof(struct msgtap_call),
};

int msgtap_probe_init(const char *symbol, int maxactive)
{
	int err;

	msgtap_krp.kp.symbol_name = symbol;
	msgtap_krp.maxactive = maxactive;
	err = register_kretprobe(&msgtap_krp);
	if (err) {
		pr_err("cannot attach a kretprobe to %s (error %d): is it a traceable function of this kernel? Load with symbol=NAME to choose another\n",
		       symbol, err);
		return err;
	}
	pr_info("attached kretprobe to %pS (maxactive %d)\n",
		msgtap_krp.kp.addr, msgtap_krp.maxactive);
	return 0;
}

void msgtap_probe_exit(void)
{
	unregister_kretprobe(&msgtap_krp);
	if (msgtap_krp.nmissed)
		pr_info("%s: %d calls missed\n", msgtap_krp.kp.symbol_name,
			msgtap_krp.nmissed);
}

bool msgtap_probe_get(unsigned int i, struct msgtap_probe_info *info)
{
	if (i > 0)
		return false;
	info->symbol = msgtap_krp.kp.symbol_name;
	info->kind = MSGTAP_PROBE_KIND_KRETPROBE;
	info->maxactive = msgtap_krp.maxactive;
	/* kp.nmissed counts recursion; nmissed counts instance shortage. */
	info->nmissed = (u64)READ_ONCE(msgtap_krp.nmissed) +
			READ_ONCE(msgtap_krp.kp.nmissed);
	return true;
}
