/* SPDX-License-Identifier: GPL-2.0-only */
/* In-kernel filters: which calls the probe records. */
#ifndef _MSGTAP_FILTER_H
#define _MSGTAP_FILTER_H

#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/msgtap.h>

struct msgtap_rule {
	u32 field; /* enum msgtap_filter_field */
	bool exclude;
	u32 nvalues;
	u64 values[MSGTAP_FILTER_MAX_VALUES];
};

struct msgtap_filter {
	struct rcu_head rcu;
	u32 flags; /* MSGTAP_FILTER_F_* */
	u32 nrules;
	struct msgtap_rule rules[MSGTAP_FIELD_MAX];
};

/* What a rule can look at, known when a call begins. */
struct msgtap_subject {
	u64 value[MSGTAP_FIELD_MAX + 1]; /* indexed by enum msgtap_filter_field */
};

/* The filter in force, NULL when none. Probe handlers read it under RCU. */
extern struct msgtap_filter __rcu *msgtap_filter;

/* Whether a call that began with @s passes every rule. */
bool msgtap_filter_match(const struct msgtap_filter *f,
			 const struct msgtap_subject *s);

/* Process context: replaces the filter (NULL clears it) and frees the old
 * one after a grace period. */
void msgtap_filter_set(struct msgtap_filter *f);
void msgtap_filter_exit(void);

#endif /* _MSGTAP_FILTER_H */
