/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference msgtap depends on, in one place.
 *
 * Tests look for the feature (a macro the kernel defines), not at
 * LINUX_VERSION_CODE: Debian backports netlink changes inside a stable series.
 */
#ifndef _MSGTAP_COMPAT_H
#define _MSGTAP_COMPAT_H

#include <linux/printk.h>
#include <net/genetlink.h>

/*
 * msgtap_err_fmt(info, fixed, fmt, ...) - extack message with details.
 * Formatted extack messages arrived in 6.2; Debian's 6.1 lacks them. There
 * the caller gets the fixed text and the details go to the kernel log.
 */
#ifdef GENL_SET_ERR_MSG_FMT
#define msgtap_err_fmt(info, fixed, fmt, args...)                              \
	GENL_SET_ERR_MSG_FMT(info, fmt, ##args)
#else
#define msgtap_err_fmt(info, fixed, fmt, args...)                              \
	do {                                                                   \
		GENL_SET_ERR_MSG(info, fixed);                                 \
		pr_info(fmt "\n", ##args);                                     \
	} while (0)
#endif

/*
 * msgtap_current_cgroup_id() - id of current's cgroup v2, 0 without cgroups.
 * Call under rcu_read_lock() (lockdep checks it in task_dfl_cgroup()).
 */
#ifdef CONFIG_CGROUPS
#include <linux/cgroup.h>
static inline u64 msgtap_current_cgroup_id(void)
{
	return cgroup_id(task_dfl_cgroup(current));
}
#else
static inline u64 msgtap_current_cgroup_id(void)
{
	return 0;
}
#endif

/*
 * msgtap_pending_data(rps, n) - the data of the innermost kretprobe instance
 * current has pending that belongs to one of @rps, or NULL.
 *
 * Called from a probe inside a function that @rps may be hooking further up
 * the stack (the syscall wrapper around do_msgsnd), to tell that instance
 * the inner function was reached. A task's pending return hooks are a list
 * only that task changes, so reading its own list from a handler is safe.
 * Kernels whose kretprobes are built on rethook (Debian 6.1 and 6.12 on
 * x86-64) keep it in current->rethooks; elsewhere this returns NULL and the
 * caller does without.
 */
#ifdef CONFIG_KRETPROBE_ON_RETHOOK
#include <linux/kprobes.h>
#include <linux/rethook.h>
#define MSGTAP_HAVE_PENDING_DATA 1
static inline void *msgtap_pending_data(struct kretprobe *const *rps,
					unsigned int n)
{
	struct llist_node *node = current->rethooks.first;
	unsigned int depth, i;

	/* Other tracers may have hooked frames in between: look a little. */
	for (depth = 0; node && depth < 4; depth++, node = node->next) {
		struct rethook_node *rn =
			container_of(node, struct rethook_node, llist);

		for (i = 0; i < n; i++)
			if (rn->rethook == rps[i]->rh)
				return container_of(rn,
						    struct kretprobe_instance,
						    node)->data;
	}
	return NULL;
}
#else
#define MSGTAP_HAVE_PENDING_DATA 0
static inline void *msgtap_pending_data(struct kretprobe *const *rps,
					unsigned int n)
{
	return NULL;
}
#endif

#endif /* _MSGTAP_COMPAT_H */
