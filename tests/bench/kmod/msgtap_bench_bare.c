// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap_bench_bare: the floor of msgtap's design, for the benchmark only.
 *
 * A kretprobe on the same function msgtap probes, with the same maxactive,
 * whose entry and return handlers only bump a per-CPU counter. What it adds
 * to a send is the cost of the kretprobe mechanism itself (ftrace entry,
 * instance get/put, return trampoline); whatever msgtap adds beyond it is
 * capture, ring and delivery.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>

static char *symbol = "do_msgsnd";
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "Function to probe (default do_msgsnd)");

static int maxactive = 4096;
module_param(maxactive, int, 0444);
MODULE_PARM_DESC(maxactive, "Calls followed at once (default 4096, as msgtap)");

static DEFINE_PER_CPU(u64, bare_entries);
static DEFINE_PER_CPU(u64, bare_returns);

static int bare_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(bare_entries);
	return 0;
}

static int bare_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(bare_returns);
	return 0;
}

static struct kretprobe bare_krp = {
	.entry_handler = bare_entry,
	.handler = bare_return,
};

/* The totals, read once at unload so the benchmark log shows the probe fired. */
static u64 bare_sum(u64 __percpu *v)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(v, cpu);
	return sum;
}

static int __init bare_init(void)
{
	int err;

	bare_krp.kp.symbol_name = symbol;
	bare_krp.maxactive = maxactive;
	err = register_kretprobe(&bare_krp);
	if (err) {
		pr_err("cannot attach a kretprobe to %s (error %d)\n", symbol, err);
		return err;
	}
	pr_info("attached kretprobe to %pS\n", bare_krp.kp.addr);
	return 0;
}

static void __exit bare_exit(void)
{
	unregister_kretprobe(&bare_krp);
	pr_info("entries %llu returns %llu nmissed %d\n", bare_sum(&bare_entries),
		bare_sum(&bare_returns), bare_krp.nmissed);
}

module_init(bare_init);
module_exit(bare_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("msgtap benchmark: a kretprobe that only counts");
