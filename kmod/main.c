// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap: exact per-queue telemetry of SysV msgsnd(2).
 *
 * The pipeline, one file per stage:
 *   probe.c  kretprobe on do_msgsnd: reads the call, writes one record
 *   filter.c which calls to record, evaluated in the probe
 *   ring.c   per-CPU rings of fixed-size records, lock-free, counted drops
 *   genl.c   the "msgtap" generic netlink family; a work item drains the
 *            rings into batches unicast to the one registered listener
 * This file holds the module parameters and the load/unload order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>

#include "filter.h"
#include "genl.h"
#include "probe.h"
#include "ring.h"

static char *symbol = "do_msgsnd";
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "Kernel function implementing msgsnd (default do_msgsnd)");

/* Every sender blocked on a full queue holds a kretprobe instance while it
 * sleeps; the kernel's default (about 2 per CPU) would miss most of them. */
static int maxactive = 4096;
module_param(maxactive, int, 0444);
MODULE_PARM_DESC(maxactive, "Calls followed at once, sleeping senders included (default 4096)");

static bool early = true;
module_param(early, bool, 0444);
MODULE_PARM_DESC(early, "Also probe the syscall wrappers to record sends that fail with EFAULT before do_msgsnd (default on)");

static unsigned int ring_size = 4096;
module_param(ring_size, uint, 0444);
MODULE_PARM_DESC(ring_size, "Records per CPU ring, a power of two from 64 to 1048576 (default 4096)");

/* Namespaces end seldom, but a host that stops containers while no msgtapd
 * runs may end more than the default holds. */
static unsigned int ns_ring_size = 256;
module_param(ns_ring_size, uint, 0444);
MODULE_PARM_DESC(ns_ring_size, "Ends of IPC namespaces each CPU holds until a listener reads them, a power of two from 16 to 65536 (default 256)");

static unsigned int flush_ms = 10;
module_param(flush_ms, uint, 0444);
MODULE_PARM_DESC(flush_ms, "Milliseconds between deliveries, 1 to 1000 (default 10)");

static int __init msgtap_init(void)
{
	int err;

	if (ring_size < 64 || ring_size > (1U << 20) ||
	    !is_power_of_2(ring_size)) {
		pr_err("ring_size=%u: must be a power of two from 64 to 1048576\n",
		       ring_size);
		return -EINVAL;
	}
	if (ns_ring_size < 16 || ns_ring_size > (1U << 16) ||
	    !is_power_of_2(ns_ring_size)) {
		pr_err("ns_ring_size=%u: must be a power of two from 16 to 65536\n",
		       ns_ring_size);
		return -EINVAL;
	}
	if (flush_ms < 1 || flush_ms > 1000) {
		pr_err("flush_ms=%u: must be from 1 to 1000\n", flush_ms);
		return -EINVAL;
	}
	if (maxactive < 1) {
		pr_err("maxactive=%d: must be at least 1\n", maxactive);
		return -EINVAL;
	}

	err = msgtap_ring_init(ring_size, ns_ring_size, msgtap_genl_kick);
	if (err)
		goto err_ring;
	err = msgtap_probe_init(symbol, maxactive, early);
	if (err)
		goto err_probe;
	/*
	 * Last: the family. Once it is registered a request may come at once
	 * (a monitoring loop, msgtapd restarting), and GET_STATS describes
	 * the probes. Until a listener registers, the probes only count
	 * calls (drop_no_listener), so no record waits for a family.
	 */
	err = msgtap_genl_init(flush_ms);
	if (err)
		goto err_genl;
	return 0;

err_genl:
	msgtap_probe_exit();
	msgtap_ring_quiesce();
	/* The namespace probe records with no listener: a half-full ring's
	 * kick may have queued the delivery work. */
	msgtap_genl_abort();
err_probe:
	msgtap_ring_exit();
err_ring:
	return err;
}

static void __exit msgtap_exit(void)
{
	msgtap_probe_exit();
	/* No handler runs now; let pending early-drain kicks finish so none
	 * re-arms the delivery work after it is cancelled. */
	msgtap_ring_quiesce();
	msgtap_genl_exit();
	msgtap_filter_exit();
	msgtap_ring_exit();
}

module_init(msgtap_init);
module_exit(msgtap_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-queue telemetry of SysV message queue sends");
MODULE_AUTHOR("msgtap developers");
MODULE_VERSION(MSGTAP_VERSION);
MODULE_ALIAS_GENL_FAMILY(MSGTAP_GENL_NAME);
