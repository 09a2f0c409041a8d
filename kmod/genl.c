// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netlink stage: the "msgtap" generic netlink family, its commands, and
 * delivery of the per-CPU rings to the one registered listener.
 *
 * Delivery is a single delayed work item that drains every CPU's ring into
 * MSGTAP_CMD_EVENTS batches and unicasts them to the listener. It runs every
 * flush_ms while a listener exists, at once when a ring is half full, and
 * synchronously for MSGTAP_CMD_FLUSH. One consumer keeps each CPU's records in
 * order on the wire. A batch the listener's full socket refuses stays in the
 * ring and is retried; the ring filling up is then what drops records, and
 * the probe counts that.
 *
 * The work runs on the high-priority system workqueue. With more flat-out
 * senders than CPUs, a kworker of normal priority queued behind them for
 * long enough that a ring filled after its half-full kick (BENCHMARKS.md,
 * "Delivery at high priority").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/random.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "filter.h"
#include "genl.h"
#include "probe.h"
#include "ring.h"

u32 msgtap_listener;
/*
 * The listener's socket, held while it is registered (under
 * msgtap_deliver_lock). Delivery goes by port id, and a released socket
 * gives its port up before the NETLINK_URELEASE notifier tells us: another
 * socket, of any user, could bind that port meanwhile. Delivery stops as
 * soon as this socket is dead instead of waiting for the notifier, and
 * checks that just before each send, after the batch is built. What is left
 * open is the release's own step between giving the port up and marking the
 * socket dead (netlink_release()): the kernel exports no way to send to a
 * socket rather than to a port. A socket that binds the port in that step
 * and registers replaces this one (msgtap_cmd_register()).
 */
static struct sock *msgtap_listener_sk;

/* Serialises the consumer side: delivery, listener changes, discards. */
static DEFINE_MUTEX(msgtap_deliver_lock);
static unsigned long msgtap_flush_jiffies;
static unsigned int msgtap_flush_ms;
/* Drawn once per load; GET_STATS answers it (MSGTAP_A_LOAD_ID). */
static u64 msgtap_load_id;
static bool msgtap_stopping;

static atomic64_t msgtap_delivered = ATOMIC64_INIT(0);
static atomic64_t msgtap_batches = ATOMIC64_INIT(0);
static atomic64_t msgtap_retries = ATOMIC64_INIT(0);
static atomic64_t msgtap_undeliverable = ATOMIC64_INIT(0);
static atomic64_t msgtap_nomem = ATOMIC64_INIT(0);
static atomic64_t msgtap_ns_delivered = ATOMIC64_INIT(0);

static void msgtap_drain_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(msgtap_drain, msgtap_drain_fn);

static struct genl_family msgtap_family;

/*
 * Without a listener nothing will deliver what the rings hold: discards it,
 * counted as undeliverable. That is what was queued when the listener went,
 * and any record a sender that saw the listener just before it went wrote
 * after that; REGISTER and GET_STATS discard those, so that the counters of
 * a quiet module add up.
 * Called with msgtap_deliver_lock held.
 */
static void msgtap_discard_orphans(void)
{
	if (!msgtap_listener)
		atomic64_add(msgtap_ring_discard_all(), &msgtap_undeliverable);
}

/* Called with msgtap_deliver_lock held. */
static void msgtap_forget_listener(void)
{
	WRITE_ONCE(msgtap_listener, 0);
	if (msgtap_listener_sk) {
		sock_put(msgtap_listener_sk);
		msgtap_listener_sk = NULL;
	}
	msgtap_discard_orphans();
}

/*
 * Builds one MSGTAP_CMD_EVENTS message of @n records of @size bytes each,
 * attribute @type, from the ring @slots (@mask + 1 slots) starting at @pos,
 * and unicasts it. Inline so that each kind's copy has a known size
 * (inline moves, not a call to memcpy).
 */
static __always_inline int msgtap_unicast_records(u32 portid, int type,
						  const void *slots, u64 mask,
						  size_t size, u64 pos,
						  unsigned int n)
{
	const unsigned int attr_size = nla_total_size(size);
	struct sk_buff *skb;
	u8 *attrs;
	unsigned int i;
	void *hdr;

	/* The message is sized to the records it carries: Debian's kernels
	 * zero every allocation (init_on_alloc), and at low rates a batch
	 * holds a few records, not NLMSG_GOODSIZE's worth. */
	skb = genlmsg_new(n * attr_size, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &msgtap_family, 0, MSGTAP_CMD_EVENTS);
	if (!hdr) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	/* What nla_put() does for each record, with one reservation for
	 * all. */
	attrs = skb_put(skb, n * attr_size);
	for (i = 0; i < n; i++) {
		struct nlattr *nla = (struct nlattr *)(attrs + i * attr_size);

		nla->nla_type = type;
		nla->nla_len = nla_attr_size(size);
		memcpy(nla_data(nla),
		       (const u8 *)slots + ((pos + i) & mask) * size, size);
	}
	genlmsg_end(skb, hdr);
	/* Last, with nothing that may sleep between it and the send: a closing
	 * socket may have given its port up already (msgtap_listener_sk). */
	if (sock_flag(msgtap_listener_sk, SOCK_DEAD)) {
		nlmsg_free(skb);
		return -ECONNREFUSED;
	}
	return genlmsg_unicast(&init_net, skb, portid);
}

/* Size of one event attribute, and how many fit one batch: as many as
 * NLMSG_GOODSIZE holds. With 4 KiB pages that is 30 of today's records, and
 * a full batch with its skb_shared_info is one 4 KiB allocation. (Batches of
 * 63 in 8 KiB, as many as MSGTAP_BATCH_MAX allows, were measured: no
 * cheaper per record. BENCHMARKS.md, "Short interleaved runs".) */
#define MSGTAP_ATTR_SIZE nla_total_size(sizeof(struct msgtap_send_event))
#define MSGTAP_BATCH_RECORDS ((NLMSG_GOODSIZE - GENL_HDRLEN) / MSGTAP_ATTR_SIZE)
#define MSGTAP_NS_ATTR_SIZE nla_total_size(sizeof(struct msgtap_ipcns_event))
#define MSGTAP_NS_BATCH_RECORDS                                                \
	((NLMSG_GOODSIZE - GENL_HDRLEN) / MSGTAP_NS_ATTR_SIZE)

/*
 * Sends one batch of the send records [*tail, head) of @r. Returns 0 when
 * the batch went out (and advances *tail), or a negative errno.
 */
static int msgtap_send_batch(struct msgtap_ring *r, u64 *tail, u64 head,
			     u32 portid)
{
	const unsigned int n = min_t(u64, head - *tail, MSGTAP_BATCH_RECORDS);
	int err;

	BUILD_BUG_ON(NLMSG_HDRLEN + GENL_HDRLEN +
			     MSGTAP_BATCH_RECORDS * MSGTAP_ATTR_SIZE >
		     MSGTAP_BATCH_MAX);
	/* No padding after a record for stale bytes to leak through. */
	BUILD_BUG_ON(nla_attr_size(sizeof(struct msgtap_send_event)) !=
		     MSGTAP_ATTR_SIZE);
	err = msgtap_unicast_records(portid, MSGTAP_A_EVENT_SEND, r->slots,
				     r->mask, sizeof(struct msgtap_send_event),
				     *tail, n);
	if (err)
		return err;
	*tail += n;
	msgtap_ring_consume(r, *tail);
	atomic64_add(n, &msgtap_delivered);
	atomic64_inc(&msgtap_batches);
	return 0;
}

/* As msgtap_send_batch(), for the namespace records of @r. */
static int msgtap_send_ns_batch(struct msgtap_ring *r, u64 *tail, u64 head,
				u32 portid)
{
	const unsigned int n =
		min_t(u64, head - *tail, MSGTAP_NS_BATCH_RECORDS);
	int err;

	BUILD_BUG_ON(NLMSG_HDRLEN + GENL_HDRLEN +
			     MSGTAP_NS_BATCH_RECORDS * MSGTAP_NS_ATTR_SIZE >
		     MSGTAP_BATCH_MAX);
	BUILD_BUG_ON(nla_attr_size(sizeof(struct msgtap_ipcns_event)) !=
		     MSGTAP_NS_ATTR_SIZE);
	err = msgtap_unicast_records(portid, MSGTAP_A_EVENT_IPCNS_GONE,
				     r->ns_slots, r->ns_mask,
				     sizeof(struct msgtap_ipcns_event), *tail,
				     n);
	if (err)
		return err;
	*tail += n;
	msgtap_ns_consume(r, *tail);
	atomic64_add(n, &msgtap_ns_delivered);
	atomic64_inc(&msgtap_batches);
	return 0;
}

/*
 * Sends the next batch of @r's namespace records (@ns) or send records, and
 * deals with a failure: a listener found gone is forgotten (-ENOTCONN); a
 * full receive buffer and a failed allocation are counted.
 */
static int msgtap_next_batch(struct msgtap_ring *r, bool ns, u64 *tail,
			     u64 head, u32 portid)
{
	int err;

	if (ns)
		err = msgtap_send_ns_batch(r, tail, head, portid);
	else
		err = msgtap_send_batch(r, tail, head, portid);
	if (err == -ECONNREFUSED) {
		pr_info("listener (port %u) is gone\n", portid);
		msgtap_forget_listener();
		return -ENOTCONN;
	}
	if (err == -EAGAIN)
		atomic64_inc(&msgtap_retries);
	else if (err == -ENOMEM)
		atomic64_inc(&msgtap_nomem);
	return err;
}

/*
 * Drains every ring to the listener. Returns 0 when all records queued at
 * the start went out, -ENOTCONN without a listener (or when it vanished),
 * -EAGAIN when its receive buffer is full, -ENOMEM.
 *
 * Namespace records go first, and after them the send records that were
 * queued before the namespace rings were read. A call made in a namespace
 * that got a freed one's inode number was recorded after that namespace's
 * end (see msgtap_ns_gone()): if this pass sends the call, it sends the
 * end before it.
 */
static int msgtap_deliver(void)
{
	u32 portid = msgtap_listener;
	int cpu, err;

	lockdep_assert_held(&msgtap_deliver_lock);
	if (!portid)
		return -ENOTCONN;

	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);
		u64 tail;

		/* Acquire: the namespace records read below are at least as
		 * new as the send records this makes readable. */
		r->snap = msgtap_ring_readable(r, &tail);
	}
	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);
		u64 tail, head = msgtap_ns_readable(r, &tail);

		while (tail != head) {
			err = msgtap_next_batch(r, true, &tail, head, portid);
			if (err)
				return err;
		}
	}
	for_each_possible_cpu(cpu) {
		struct msgtap_ring *r = per_cpu_ptr(msgtap_rings, cpu);
		u64 tail = r->tail, head = r->snap;

		while (tail != head) {
			err = msgtap_next_batch(r, false, &tail, head, portid);
			if (err)
				return err;
		}
	}
	return 0;
}

static void msgtap_drain_fn(struct work_struct *work)
{
	mutex_lock(&msgtap_deliver_lock);
	msgtap_deliver();
	if (msgtap_listener && !msgtap_stopping)
		queue_delayed_work(system_highpri_wq, &msgtap_drain,
				   msgtap_flush_jiffies);
	mutex_unlock(&msgtap_deliver_lock);
}

void msgtap_genl_kick(struct irq_work *work)
{
	if (!READ_ONCE(msgtap_stopping))
		mod_delayed_work(system_highpri_wq, &msgtap_drain, 0);
}

static int msgtap_cmd_register(struct sk_buff *skb, struct genl_info *info)
{
	int err = 0;

	mutex_lock(&msgtap_deliver_lock);
	/* A listener whose socket is closing, or whose port another socket
	 * (this one) has bound since, is gone: the notifier has not told us
	 * yet. */
	if (msgtap_listener &&
	    (sock_flag(msgtap_listener_sk, SOCK_DEAD) ||
	     (msgtap_listener == info->snd_portid &&
	      msgtap_listener_sk != NETLINK_CB(skb).sk))) {
		pr_info("listener (port %u) is gone\n", msgtap_listener);
		msgtap_forget_listener();
	}
	if (msgtap_listener && msgtap_listener != info->snd_portid) {
		msgtap_err_fmt(info, "another listener is registered",
			       "another listener (netlink port %u) is registered",
			       msgtap_listener);
		err = -EBUSY;
	} else if (!msgtap_listener) {
		/* Records queued for the old listener are not this one's. */
		msgtap_discard_orphans();
		msgtap_listener_sk = NETLINK_CB(skb).sk;
		sock_hold(msgtap_listener_sk);
		WRITE_ONCE(msgtap_listener, info->snd_portid);
		pr_info("listener registered (port %u)\n", info->snd_portid);
		queue_delayed_work(system_highpri_wq, &msgtap_drain,
				   msgtap_flush_jiffies);
	}
	mutex_unlock(&msgtap_deliver_lock);
	return err;
}

static int msgtap_cmd_unregister(struct sk_buff *skb, struct genl_info *info)
{
	int err = 0;

	mutex_lock(&msgtap_deliver_lock);
	if (msgtap_listener != info->snd_portid) {
		GENL_SET_ERR_MSG(info, "this socket is not the listener");
		err = -ENOENT;
	} else {
		msgtap_forget_listener();
		pr_info("listener unregistered (port %u)\n", info->snd_portid);
	}
	mutex_unlock(&msgtap_deliver_lock);
	return err;
}

static int msgtap_cmd_flush(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	mutex_lock(&msgtap_deliver_lock);
	err = msgtap_deliver();
	mutex_unlock(&msgtap_deliver_lock);
	if (err == -ENOTCONN)
		GENL_SET_ERR_MSG(info, "no listener is registered");
	else if (err == -EAGAIN)
		GENL_SET_ERR_MSG(info, "listener's receive buffer is full: read, then flush again");
	return err;
}

static int msgtap_put_u64(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_u64_64bit(skb, type, value, MSGTAP_STAT_PAD);
}

static int msgtap_put_stats(struct sk_buff *skb)
{
	struct msgtap_ring_totals t;
	struct nlattr *nest;

	msgtap_ring_sum(&t);
	nest = nla_nest_start(skb, MSGTAP_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (msgtap_put_u64(skb, MSGTAP_STAT_PROBE_HITS, t.probe_hits) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_EVENTS_QUEUED, t.events_queued) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DROP_RING_FULL, t.drop_ring_full) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DROP_NO_LISTENER,
			   t.drop_no_listener) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DROP_UNDELIVERABLE,
			   atomic64_read(&msgtap_undeliverable)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DELIVERY_NOMEM,
			   atomic64_read(&msgtap_nomem)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_EVENTS_DELIVERED,
			   atomic64_read(&msgtap_delivered)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_BATCHES_DELIVERED,
			   atomic64_read(&msgtap_batches)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DELIVERY_RETRIES,
			   atomic64_read(&msgtap_retries)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_FILTERED, t.filtered) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_DISABLED, t.disabled) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_IPCNS_GONE_QUEUED, t.ns_queued) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_IPCNS_GONE_DELIVERED,
			   atomic64_read(&msgtap_ns_delivered)) ||
	    msgtap_put_u64(skb, MSGTAP_STAT_IPCNS_GONE_LOST,
			   t.ns_lost + msgtap_probe_ns_missed())) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int msgtap_put_probes(struct sk_buff *skb)
{
	struct msgtap_probe_info p;
	unsigned int i;

	for (i = 0; msgtap_probe_get(i, &p); i++) {
		struct nlattr *nest = nla_nest_start(skb, MSGTAP_A_PROBE);

		if (!nest)
			return -EMSGSIZE;
		if (nla_put_string(skb, MSGTAP_PROBE_A_SYMBOL, p.symbol) ||
		    nla_put_u32(skb, MSGTAP_PROBE_A_KIND, p.kind) ||
		    nla_put_u64_64bit(skb, MSGTAP_PROBE_A_NMISSED, p.nmissed,
				      MSGTAP_PROBE_A_PAD) ||
		    nla_put_u32(skb, MSGTAP_PROBE_A_MAXACTIVE, p.maxactive)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int msgtap_cmd_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	/* Only without a listener: a delivery may hold the lock a while. */
	if (!READ_ONCE(msgtap_listener)) {
		mutex_lock(&msgtap_deliver_lock);
		msgtap_discard_orphans();
		mutex_unlock(&msgtap_deliver_lock);
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &msgtap_family, 0,
				MSGTAP_CMD_GET_STATS);
	if (!hdr)
		goto too_big;
	if (msgtap_put_stats(msg) ||
	    nla_put_u32(msg, MSGTAP_A_LISTENER_PORTID,
			READ_ONCE(msgtap_listener)) ||
	    nla_put_u32(msg, MSGTAP_A_RING_SIZE, msgtap_ring_size()) ||
	    nla_put_u32(msg, MSGTAP_A_NS_RING_SIZE, msgtap_ns_ring_size()) ||
	    nla_put_u32(msg, MSGTAP_A_NR_CPUS, num_possible_cpus()) ||
	    nla_put_u32(msg, MSGTAP_A_FLUSH_MS, msgtap_flush_ms) ||
	    nla_put_u8(msg, MSGTAP_A_ENABLED, READ_ONCE(msgtap_enabled)) ||
	    nla_put_u64_64bit(msg, MSGTAP_A_LOAD_ID, msgtap_load_id,
			      MSGTAP_A_PAD) ||
	    msgtap_put_probes(msg))
		goto too_big;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct nla_policy msgtap_rule_policy[MSGTAP_RULE_A_MAX + 1] = {
	[MSGTAP_RULE_A_FIELD] = NLA_POLICY_RANGE(NLA_U32, MSGTAP_FIELD_TGID,
						 MSGTAP_FIELD_MAX),
	[MSGTAP_RULE_A_EXCLUDE] = { .type = NLA_FLAG },
	[MSGTAP_RULE_A_VALUE] = { .type = NLA_U64 },
};

static const struct nla_policy msgtap_filter_policy[MSGTAP_FILTER_A_MAX + 1] = {
	[MSGTAP_FILTER_A_FLAGS] = NLA_POLICY_MASK(NLA_U32,
						  MSGTAP_FILTER_F_ALL),
	[MSGTAP_FILTER_A_RULE] = NLA_POLICY_NESTED(msgtap_rule_policy),
};

static const struct nla_policy msgtap_set_filter_policy[MSGTAP_A_MAX + 1] = {
	[MSGTAP_A_FILTER] = NLA_POLICY_NESTED(msgtap_filter_policy),
};

/*
 * Whether @value is one a call can have in @field: a rule with another value
 * could never match (and an include rule would drop every call). If not,
 * says which range it left; the extack macros take literals only.
 */
static bool msgtap_value_fits(struct genl_info *info, const struct nlattr *v,
			      u32 field, u64 value)
{
	switch (field) {
	case MSGTAP_FIELD_TGID:
		if (value <= INT_MAX)
			return true;
		NL_SET_ERR_MSG_ATTR(info->extack, v,
				    "tgid filter values must be 0..INT_MAX");
		return false;
	case MSGTAP_FIELD_UID:
		if (value <= U32_MAX)
			return true;
		NL_SET_ERR_MSG_ATTR(info->extack, v,
				    "uid filter values must be 0..UINT32_MAX");
		return false;
	case MSGTAP_FIELD_IPC_NS:
		if (value <= U32_MAX)
			return true;
		NL_SET_ERR_MSG_ATTR(info->extack, v,
				    "ipc-ns filter values must be 0..UINT32_MAX");
		return false;
	case MSGTAP_FIELD_MSQID:
		if (value <= INT_MAX)
			return true;
		NL_SET_ERR_MSG_ATTR(info->extack, v,
				    "msqid filter values must be 0..INT_MAX");
		return false;
	case MSGTAP_FIELD_CGROUP:
		return true;	/* any u64 */
	default:		/* a field this function does not know yet */
		NL_SET_ERR_MSG_ATTR(info->extack, v,
				    "no value range known for this filter field");
		return false;
	}
}

/* Adds one validated MSGTAP_FILTER_A_RULE nest to @f. */
static int msgtap_parse_rule(struct msgtap_filter *f, const struct nlattr *nla,
			     struct genl_info *info)
{
	struct nlattr *tb[MSGTAP_RULE_A_MAX + 1];
	struct msgtap_rule *r = &f->rules[f->nrules];
	const struct nlattr *v;
	u32 field, i;
	int err, rem;

	err = nla_parse_nested(tb, MSGTAP_RULE_A_MAX, nla, msgtap_rule_policy,
			       info->extack);
	if (err)
		return err;
	if (!tb[MSGTAP_RULE_A_FIELD]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla, "filter rule without a field");
		return -EINVAL;
	}
	field = nla_get_u32(tb[MSGTAP_RULE_A_FIELD]);
	for (i = 0; i < f->nrules; i++) {
		if (f->rules[i].field == field) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "two filter rules on the same field");
			return -EINVAL;
		}
	}
	r->field = field;
	r->exclude = nla_get_flag(tb[MSGTAP_RULE_A_EXCLUDE]);
	r->nvalues = 0;
	nla_for_each_nested(v, nla, rem) {
		u64 value;

		if (nla_type(v) != MSGTAP_RULE_A_VALUE)
			continue;
		if (r->nvalues == MSGTAP_FILTER_MAX_VALUES) {
			NL_SET_ERR_MSG_ATTR(info->extack, v,
					    "more than 64 values in one filter rule");
			return -EINVAL;
		}
		value = nla_get_u64(v);
		if (!msgtap_value_fits(info, v, field, value))
			return -EINVAL;
		r->values[r->nvalues++] = value;
	}
	if (!r->nvalues) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla, "filter rule without values");
		return -EINVAL;
	}
	f->nrules++;
	return 0;
}

static int msgtap_cmd_set_filter(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *nest = info->attrs[MSGTAP_A_FILTER];
	struct msgtap_filter *f;
	const struct nlattr *a;
	int err, rem;

	if (!nest || !nla_len(nest)) {
		msgtap_filter_set(NULL);
		pr_info("filter cleared\n");
		return 0;
	}
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	/* The policy has validated every attribute in the nest already. */
	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case MSGTAP_FILTER_A_FLAGS:
			f->flags = nla_get_u32(a);
			break;
		case MSGTAP_FILTER_A_RULE:
			if (f->nrules == ARRAY_SIZE(f->rules)) {
				NL_SET_ERR_MSG_ATTR(info->extack, a,
						    "two filter rules on the same field");
				err = -EINVAL;
				goto err_free;
			}
			err = msgtap_parse_rule(f, a, info);
			if (err)
				goto err_free;
			break;
		}
	}
	msgtap_filter_set(f);
	pr_info("filter set: %u rules, flags %#x\n", f->nrules, f->flags);
	return 0;

err_free:
	kfree(f);
	return err;
}

static int msgtap_put_filter(struct sk_buff *skb,
			     const struct msgtap_filter *f)
{
	struct nlattr *nest, *rule;
	u32 i, j;

	nest = nla_nest_start(skb, MSGTAP_A_FILTER);
	if (!nest)
		return -EMSGSIZE;
	if (f && nla_put_u32(skb, MSGTAP_FILTER_A_FLAGS, f->flags))
		return -EMSGSIZE;
	for (i = 0; f && i < f->nrules; i++) {
		const struct msgtap_rule *r = &f->rules[i];

		rule = nla_nest_start(skb, MSGTAP_FILTER_A_RULE);
		if (!rule || nla_put_u32(skb, MSGTAP_RULE_A_FIELD, r->field) ||
		    (r->exclude && nla_put_flag(skb, MSGTAP_RULE_A_EXCLUDE)))
			return -EMSGSIZE;
		for (j = 0; j < r->nvalues; j++)
			if (nla_put_u64_64bit(skb, MSGTAP_RULE_A_VALUE,
					      r->values[j], MSGTAP_RULE_A_PAD))
				return -EMSGSIZE;
		nla_nest_end(skb, rule);
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int msgtap_cmd_get_filter(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &msgtap_family, 0,
				MSGTAP_CMD_GET_FILTER);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	rcu_read_lock();
	err = msgtap_put_filter(msg, rcu_dereference(msgtap_filter));
	rcu_read_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int msgtap_cmd_enable(struct sk_buff *skb, struct genl_info *info)
{
	bool on = info->genlhdr->cmd == MSGTAP_CMD_ENABLE;

	if (READ_ONCE(msgtap_enabled) != on)
		pr_info("capture %s\n", on ? "enabled" : "disabled");
	WRITE_ONCE(msgtap_enabled, on);
	return 0;
}

/*
 * Commands without a policy take no attributes: the core rejects every
 * attribute for them, and strict validation (resv_start_op left at 0)
 * rejects non-zero reserved header bytes.
 */
static const struct genl_ops msgtap_ops[] = {
	{
		.cmd = MSGTAP_CMD_REGISTER,
		.doit = msgtap_cmd_register,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_UNREGISTER,
		.doit = msgtap_cmd_unregister,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_GET_STATS,
		.doit = msgtap_cmd_get_stats,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_FLUSH,
		.doit = msgtap_cmd_flush,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_SET_FILTER,
		.doit = msgtap_cmd_set_filter,
		.policy = msgtap_set_filter_policy,
		.maxattr = MSGTAP_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_GET_FILTER,
		.doit = msgtap_cmd_get_filter,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_ENABLE,
		.doit = msgtap_cmd_enable,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = MSGTAP_CMD_DISABLE,
		.doit = msgtap_cmd_enable,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family msgtap_family __ro_after_init = {
	.name = MSGTAP_GENL_NAME,
	.version = MSGTAP_GENL_VERSION,
	.maxattr = MSGTAP_A_MAX,
	.module = THIS_MODULE,
	.ops = msgtap_ops,
	.n_ops = ARRAY_SIZE(msgtap_ops),
	/* host-wide IPC activity: answer in the initial netns only */
	.netnsok = false,
};

/* Forgets the listener as soon as its socket is released. */
static int msgtap_netlink_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	const struct netlink_notify *n = ptr;

	/* Every generic netlink socket's release comes here: without the
	 * lock unless it is the listener's port. A released socket cannot
	 * register, so the port becomes the listener's meanwhile only by a new
	 * socket, which must stay. */
	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid ||
	    n->portid != READ_ONCE(msgtap_listener))
		return NOTIFY_DONE;

	mutex_lock(&msgtap_deliver_lock);
	/* The port may be a new listener's already (see msgtap_cmd_register());
	 * the released socket is marked dead before this runs. */
	if (n->portid == msgtap_listener &&
	    sock_flag(msgtap_listener_sk, SOCK_DEAD)) {
		pr_info("listener (port %u) closed its socket\n", n->portid);
		msgtap_forget_listener();
	}
	mutex_unlock(&msgtap_deliver_lock);
	return NOTIFY_DONE;
}

static struct notifier_block msgtap_netlink_nb = {
	.notifier_call = msgtap_netlink_event,
};

int msgtap_genl_init(unsigned int flush_ms)
{
	int err;

	msgtap_flush_ms = flush_ms;
	msgtap_flush_jiffies = msecs_to_jiffies(flush_ms);
	do
		msgtap_load_id = get_random_u64();
	while (!msgtap_load_id);

	err = netlink_register_notifier(&msgtap_netlink_nb);
	if (err)
		return err;
	err = genl_register_family(&msgtap_family);
	if (err) {
		netlink_unregister_notifier(&msgtap_netlink_nb);
		return err;
	}
	return 0;
}

/* Undoes what a kick may have started when msgtap_genl_init() failed:
 * call after the probes are gone and the rings' kicks have finished. */
void msgtap_genl_abort(void)
{
	cancel_delayed_work_sync(&msgtap_drain);
}

/* Call after the probe is gone: nothing new reaches the rings then. */
void msgtap_genl_exit(void)
{
	/* No command can re-arm the drain once the family is gone. */
	genl_unregister_family(&msgtap_family);
	netlink_unregister_notifier(&msgtap_netlink_nb);

	mutex_lock(&msgtap_deliver_lock);
	WRITE_ONCE(msgtap_stopping, true);
	mutex_unlock(&msgtap_deliver_lock);
	cancel_delayed_work_sync(&msgtap_drain);

	mutex_lock(&msgtap_deliver_lock);
	if (msgtap_listener)
		msgtap_forget_listener();
	mutex_unlock(&msgtap_deliver_lock);
}
