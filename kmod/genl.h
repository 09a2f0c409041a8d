/* SPDX-License-Identifier: GPL-2.0-only */
/* The netlink stage: the msgtap family, its commands and event delivery. */
#ifndef _MSGTAP_GENL_H
#define _MSGTAP_GENL_H

#include <linux/compiler.h>
#include <linux/irq_work.h>
#include <linux/types.h>

/* Port id of the registered listener, 0 if none. Read by probe handlers. */
extern u32 msgtap_listener;

static __always_inline bool msgtap_listening(void)
{
	return READ_ONCE(msgtap_listener) != 0;
}

int msgtap_genl_init(unsigned int flush_ms);
void msgtap_genl_abort(void);
void msgtap_genl_exit(void);

/* irq_work callback of the rings: a ring is half full, drain now. */
void msgtap_genl_kick(struct irq_work *work);

#endif /* _MSGTAP_GENL_H */
