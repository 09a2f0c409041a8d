// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap-caps: runs a command as another user with only the capabilities
 * named, so a VM scenario can prove what msgtapd needs (busybox has no
 * setpriv --reuid/--bounding-set).
 *
 * Usage: msgtap-caps UID CAP[,CAP...] COMMAND [ARG...]
 *   CAP: net_admin, sys_admin, sys_ptrace, or "none".
 * The capabilities become ambient, so they survive the exec; every other
 * capability is gone from all sets and the bounding set.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	const char *name;
	int cap;
} known[] = {
	{ "net_admin", CAP_NET_ADMIN },
	{ "sys_admin", CAP_SYS_ADMIN },
	{ "sys_ptrace", CAP_SYS_PTRACE },
};

static void die(const char *what)
{
	fprintf(stderr, "msgtap-caps: %s: %s\n", what, strerror(errno));
	exit(127);
}

static int cap_of(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(name, known[i].name))
			return known[i].cap;
	fprintf(stderr, "msgtap-caps: unknown capability %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	unsigned long long keep = 0;
	char *list, *tok, *save;
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: msgtap-caps UID CAP[,CAP...]|none COMMAND [ARG...]\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[1], NULL, 10);
	list = argv[2];
	if (strcmp(list, "none"))
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			keep |= 1ULL << cap_of(tok);

	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die("PR_CAPBSET_DROP");
	/* Keep permitted capabilities across the uid change. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die("PR_SET_KEEPCAPS");
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		die("setresuid");
	data[0].permitted = data[0].effective = data[0].inheritable = (__u32)keep;
	data[1].permitted = data[1].effective = data[1].inheritable = (__u32)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset");
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if ((keep & (1ULL << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			die("PR_CAP_AMBIENT_RAISE");
	execvp(argv[3], argv + 3);
	die(argv[3]);
}
