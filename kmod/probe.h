/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe stage: a kretprobe on the kernel's msgsnd implementation. */
#ifndef _MSGTAP_PROBE_H
#define _MSGTAP_PROBE_H

#include <linux/types.h>

struct msgtap_probe_info {
	const char *symbol;
	u32 kind; /* enum msgtap_probe_kind */
	u32 maxactive;
	u64 nmissed;
};

/* Capture on/off (ENABLE/DISABLE); read by the handlers. */
extern bool msgtap_enabled;

/* @early: also probe the syscall wrappers, for calls that fail before
 * do_msgsnd() runs. */
int msgtap_probe_init(const char *symbol, int maxactive, bool early);
void msgtap_probe_exit(void);

/* Attached probes, for GET_STATS: fills @info for probe @i, false past the
 * last one. */
bool msgtap_probe_get(unsigned int i, struct msgtap_probe_info *info);

/* Namespace ends the msg_exit_ns() probe missed (another kprobe handler
 * ran on that CPU): they have no record. */
u64 msgtap_probe_ns_missed(void);

#endif /* _MSGTAP_PROBE_H */
