// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-CPU rings: allocation at load, totals for GET_STATS, and discarding.
 * The hot-path producer and consumer helpers are inline in ring.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "ring.h"

struct msgtap_ring __percpu *msgtap_rings;
static unsigned int msgtap_ring_records;
static unsigned int msgtap_ns_ring_records;

unsigned int msgtap_ring_size(void)
{
	return msgtap_ring_records;
}

unsigned int msgtap_ns_ring_size(void)
{
	return msgtap_ns_ring_records;
}

int msgtap_ring_init(unsigned int size, unsigned int ns_size,
		     void (*kick)(struct irq_work *))
{
	int cpu;

	if (!is_power_of_2(size) || !is_power_of_2(ns_size))
		return -EINVAL;

	msgtap_rings = alloc_percpu(struct msgtap_ring);
	if (!msgtap_rings)
		return -ENOMEM;
	msgtap_ring_records = size;
	msgtap_ns_ring_records = ns_size;

	/* The rings are too large for the module per-CPU area: allocate each
	 * on its CPU's node. */
	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);

		r->slots = kvzalloc_node(array_size(size, sizeof(*r->slots)),
					 GFP_KERNEL, cpu_to_node(cpu));
		if (!r->slots) {
			msgtap_ring_exit();
			return -ENOMEM;
		}
		r->ns_slots = kvzalloc_node(
			array_size(ns_size, sizeof(*r->ns_slots)), GFP_KERNEL,
			cpu_to_node(cpu));
		if (!r->ns_slots) {
			msgtap_ring_exit();
			return -ENOMEM;
		}
		r->mask = size - 1;
		r->ns_mask = ns_size - 1;
		init_irq_work(&r->kick, kick);
	}
	return 0;
}

void msgtap_ring_quiesce(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		irq_work_sync(&per_cpu_ptr(msgtap_rings, cpu)->kick);
}

void msgtap_ring_exit(void)
{
	int cpu;

	if (!msgtap_rings)
		return;
	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);

		irq_work_sync(&r->kick);
		kvfree(r->slots);
		kvfree(r->ns_slots);
	}
	free_percpu(msgtap_rings);
	msgtap_rings = NULL;
}

void msgtap_ring_sum(struct msgtap_ring_totals *t)
{
	int cpu;

	memset(t, 0, sizeof(*t));
	for_each_possible_cpu(cpu) {
		const struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);

		t->probe_hits += READ_ONCE(r->probe_hits);
		t->events_queued += READ_ONCE(r->head);
		t->drop_ring_full += READ_ONCE(r->drop_ring_full);
		t->drop_no_listener += READ_ONCE(r->drop_no_listener);
		t->filtered += READ_ONCE(r->filtered);
		t->disabled += READ_ONCE(r->disabled);
		t->ns_queued += READ_ONCE(r->ns_head);
		t->ns_lost += READ_ONCE(r->ns_lost);
	}
}

u64 msgtap_ring_discard_all(void)
{
	u64 dropped = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);
		u64 tail, head = msgtap_ring_readable(r, &tail);

		dropped += head - tail;
		msgtap_ring_consume(r, head);
	}
	return dropped;
}
