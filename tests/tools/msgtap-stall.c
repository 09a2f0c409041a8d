// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap-stall: holds one thread of a process still, as a write to a disk
 * that does not answer would, until a file appears; the process's other
 * threads run on. A VM scenario uses it on msgtapd's file writer.
 *
 * Usage: msgtap-stall PID THREAD-NAME UNTIL-FILE
 * Finds the thread of PID whose name (/proc/PID/task/TID/comm) is
 * THREAD-NAME, attaches with PTRACE_SEIZE and holds it at its next entry to
 * fsync() or fdatasync(), prints "stalled TID", waits until UNTIL-FILE
 * exists, and lets it go. Held there, the thread holds no lock of its
 * process (a stop at any instruction could catch it inside malloc() with
 * the arena's lock, and stop the other threads too).
 * Exit status: 0 done, 1 the thread was not found or could not be stopped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t find_thread(const char *pid, const char *name)
{
	char path[512], comm[64];
	struct dirent *d;
	pid_t found = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "msgtap-stall: %s: %s\n", path, strerror(errno));
		return 0;
	}
	while (!found && (d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/comm", pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (!strcmp(comm, name))
				found = (pid_t)atoi(d->d_name);
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 50 * 1000 * 1000 };
	pid_t tid;
	int status;

	if (argc != 4) {
		fprintf(stderr, "usage: msgtap-stall PID THREAD-NAME UNTIL-FILE\n");
		return 1;
	}
	tid = find_thread(argv[1], argv[2]);
	if (!tid) {
		fprintf(stderr, "msgtap-stall: process %s has no thread named '%s'\n", argv[1],
			argv[2]);
		return 1;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0 ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		fprintf(stderr, "msgtap-stall: ptrace %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	/* Syscall stops until it enters fsync() or fdatasync(); other stops are
	 * passed on (a signal is delivered, a group stop or the interrupt's
	 * stop resumed). */
	for (;;) {
		struct __ptrace_syscall_info info;
		int sig = 0;

		if (waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status)) {
			fprintf(stderr, "msgtap-stall: thread %d did not stop\n", (int)tid);
			return 1;
		}
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), &info) > 0 &&
			    info.op == PTRACE_SYSCALL_INFO_ENTRY &&
			    (info.entry.nr == SYS_fsync || info.entry.nr == SYS_fdatasync))
				break;
		} else if (status >> 16 == 0 && WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status); /* a signal for the thread */
		}
		if (ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig) < 0) {
			fprintf(stderr, "msgtap-stall: ptrace %d: %s\n", (int)tid, strerror(errno));
			return 1;
		}
	}
	printf("stalled %d\n", (int)tid);
	fflush(stdout);
	while (access(argv[3], F_OK) != 0)
		nanosleep(&tick, NULL);
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0) {
		fprintf(stderr, "msgtap-stall: detach %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	return 0;
}
