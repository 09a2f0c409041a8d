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

#endif /* _MSGTAP_COMPAT_H */
