/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-CPU rings: the buffer stage between the probe handlers (one producer
 * per CPU, preemption disabled) and the delivery work (the single consumer).
 */
#ifndef _MSGTAP_RING_H
#define _MSGTAP_RING_H

#include <linux/cache.h>
#include <linux/irq_work.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <linux/msgtap.h>

/*
 * One CPU's ring and counters. The producer fields are written only by probe
 * handlers on the owning CPU and the consumer field only by the delivery work,
 * which runs under a mutex; other readers use READ_ONCE and tolerate a count
 * that is a moment old. No lock is shared across CPUs.
 */
struct msgtap_ring {
	/* producer side */
	u64 head; /* records ever written here; also the last sequence number */
	u64 probe_hits;
	u64 drop_ring_full;
	u64 drop_no_listener;
	u64 filtered;
	u64 disabled;
	struct msgtap_send_event *slots;
	u32 mask; /* ring size - 1; the size is a power of two */
	struct irq_work kick; /* asks for an early drain when half full */

	/*
	 * Namespace records (MSGTAP_A_EVENT_IPCNS_GONE) in a small ring of
	 * their own, numbered on their own: the send path never looks at it.
	 */
	u64 ns_head; /* records ever written; the last sequence number */
	u64 ns_lost; /* not queued: the ring was full */
	struct msgtap_ipcns_event *ns_slots;
	u32 ns_mask; /* namespace ring size - 1; a power of two */

	/* consumer side, on its own cache line */
	u64 tail ____cacheline_aligned_in_smp;
	u64 ns_tail;
	/* the send records one delivery pass drains (msgtap_deliver()) */
	u64 snap;
};

extern struct msgtap_ring __percpu *msgtap_rings;

/* @size send records and @ns_size namespace records per CPU, both powers
 * of two. */
int msgtap_ring_init(unsigned int size, unsigned int ns_size,
		     void (*kick)(struct irq_work *));
void msgtap_ring_exit(void);
/* Waits for pending early-drain kicks; call once no producer runs. */
void msgtap_ring_quiesce(void);
unsigned int msgtap_ring_size(void);
unsigned int msgtap_ns_ring_size(void);

/* Counters summed over all CPUs, for GET_STATS. */
struct msgtap_ring_totals {
	u64 probe_hits;
	u64 events_queued;
	u64 drop_ring_full;
	u64 drop_no_listener;
	u64 filtered;
	u64 disabled;
	u64 ns_queued;
	u64 ns_lost;
};
void msgtap_ring_sum(struct msgtap_ring_totals *t);

/*
 * Empties every send ring (consumer only); returns how many records it
 * dropped. Namespace records stay for the next listener.
 */
u64 msgtap_ring_discard_all(void);

/*
 * Producer: the slot for the next record, with its sequence number set, or
 * NULL (and a counted drop) when the ring is full. Call with preemption
 * disabled, on this CPU's ring, and follow with msgtap_ring_commit().
 */
static __always_inline struct msgtap_send_event *
msgtap_ring_reserve(struct msgtap_ring *r)
{
	struct msgtap_send_event *ev;

	/* Pairs with the release in msgtap_ring_consume(): the consumer has
	 * finished copying every slot below tail. */
	if (unlikely(r->head - smp_load_acquire(&r->tail) > r->mask)) {
		WRITE_ONCE(r->drop_ring_full, r->drop_ring_full + 1);
		return NULL;
	}
	ev = &r->slots[r->head & r->mask];
	ev->seq = r->head + 1;
	return ev;
}

static __always_inline void msgtap_ring_commit(struct msgtap_ring *r)
{
	u64 head = r->head + 1;

	/* Publishes the record: pairs with the acquire in
	 * msgtap_ring_readable(). */
	smp_store_release(&r->head, head);
	/* Kick once, on the crossing, not on every record past it. */
	if (unlikely(head - READ_ONCE(r->tail) == (r->mask + 1) / 2))
		irq_work_queue(&r->kick);
}

/*
 * Producer of namespace records: as msgtap_ring_reserve() and _commit(),
 * on the namespace ring. The namespace probe is the only producer, and a
 * kprobe handler does not nest on its CPU.
 */
static __always_inline struct msgtap_ipcns_event *
msgtap_ns_reserve(struct msgtap_ring *r)
{
	struct msgtap_ipcns_event *ev;

	/* Pairs with the release in msgtap_ns_consume(). */
	if (unlikely(r->ns_head - smp_load_acquire(&r->ns_tail) > r->ns_mask)) {
		WRITE_ONCE(r->ns_lost, r->ns_lost + 1);
		return NULL;
	}
	ev = &r->ns_slots[r->ns_head & r->ns_mask];
	ev->seq = r->ns_head + 1;
	return ev;
}

static __always_inline void msgtap_ns_commit(struct msgtap_ring *r)
{
	u64 head = r->ns_head + 1;

	smp_store_release(&r->ns_head, head);
	if (unlikely(head - READ_ONCE(r->ns_tail) == (r->ns_mask + 1) / 2))
		irq_work_queue(&r->kick);
}

static inline u64 msgtap_ns_readable(struct msgtap_ring *r, u64 *tail)
{
	*tail = r->ns_tail;
	return smp_load_acquire(&r->ns_head);
}

static inline void msgtap_ns_consume(struct msgtap_ring *r, u64 tail)
{
	smp_store_release(&r->ns_tail, tail);
}

/* Consumer: the records [*tail, return value) are readable. */
static inline u64 msgtap_ring_readable(struct msgtap_ring *r, u64 *tail)
{
	*tail = r->tail;
	return smp_load_acquire(&r->head);
}

/* Consumer: frees the slots below @tail for the producer. */
static inline void msgtap_ring_consume(struct msgtap_ring *r, u64 tail)
{
	smp_store_release(&r->tail, tail);
}

#endif /* _MSGTAP_RING_H */
