// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-kernel filters: the filter in force and its evaluation in the probe.
 *
 * A filter is replaced whole (RCU), never edited in place, so a probe
 * handler sees either the old or the new one, and nothing is locked on the
 * hot path. Parsing and validation of SET_FILTER live in genl.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/slab.h>

#include "filter.h"

struct msgtap_filter __rcu *msgtap_filter;
static DEFINE_MUTEX(msgtap_filter_lock);

static bool msgtap_rule_has(const struct msgtap_rule *r, u64 v)
{
	u32 i;

	/* At most 64 values: a linear scan beats sorting and searching. */
	for (i = 0; i < r->nvalues; i++)
		if (r->values[i] == v)
			return true;
	return false;
}

bool msgtap_filter_match(const struct msgtap_filter *f,
			 const struct msgtap_subject *s)
{
	u32 i;

	for (i = 0; i < f->nrules; i++) {
		const struct msgtap_rule *r = &f->rules[i];

		if (msgtap_rule_has(r, s->value[r->field]) == r->exclude)
			return false;
	}
	return true;
}

void msgtap_filter_set(struct msgtap_filter *f)
{
	struct msgtap_filter *old;

	mutex_lock(&msgtap_filter_lock);
	old = rcu_replace_pointer(msgtap_filter, f,
				  lockdep_is_held(&msgtap_filter_lock));
	mutex_unlock(&msgtap_filter_lock);
	if (old)
		kfree_rcu(old, rcu);
}

void msgtap_filter_exit(void)
{
	msgtap_filter_set(NULL);
	/* kfree_rcu callbacks must not outlive the module's code: they don't
	 * run module code, but rcu_barrier keeps the order obvious. */
	rcu_barrier();
}
