// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap-bench: the guest-side load generator of `make bench`.
 *
 *   loop     msgsnd() flat out to a queue that a child drains with blocking
 *            msgrcv(); prints ns per msgsnd for each repetition
 *   pair     msgsnd() then msgrcv() of the same message, one process; prints
 *            ns per pair for each repetition
 *   spread   sends round-robin over N fresh queues (each message received
 *            at once) and writes msgtap-workload's ground truth format;
 *            with --again as many sends again to the same queues, and with
 *            --watch PID the CPU ticks PID (msgtapd) used for each round
 *   blocked  fills a queue, puts N children to sleep in msgsnd(), drains it,
 *            and writes the ground truth (every child slept, then succeeded)
 *   recsize  prints sizeof(struct msgtap_send_event), the ring slot size
 *   nsrecsize  prints sizeof(struct msgtap_ipcns_event), the namespace ring's
 *
 * Timing is CLOCK_MONOTONIC around a whole repetition, divided by its calls:
 * nothing is read per call, so the clock costs nothing measurable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/msgtap.h>

#define MSG_BYTES 64
#define STOP_TYPE 2

struct msg64 {
	long mtype;
	char mtext[MSG_BYTES];
};

static void die(const char *what)
{
	fprintf(stderr, "msgtap-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int new_queue(void)
{
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);

	if (q < 0)
		die("msgget");
	return q;
}

static void remove_queue(int q)
{
	if (msgctl(q, IPC_RMID, NULL) < 0)
		die("msgctl IPC_RMID");
}

/* The receiver of `loop`: takes messages until the stop message. */
static void drain_until_stop(int q)
{
	struct msg64 m;

	for (;;) {
		if (msgrcv(q, &m, sizeof(m.mtext), 0, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("msgrcv");
		}
		if (m.mtype == STOP_TYPE)
			_exit(0);
	}
}

static void send_or_die(int q, struct msg64 *m)
{
	while (msgsnd(q, m, MSG_BYTES, 0) < 0)
		if (errno != EINTR)
			die("msgsnd");
}

static void bench_loop(long count, int reps)
{
	struct msg64 m = { .mtype = 1 };
	int q = new_queue();
	pid_t rx = fork();

	if (rx < 0)
		die("fork");
	if (rx == 0)
		drain_until_stop(q);
	/* Warm-up: page in, let the receiver block in msgrcv. */
	for (long i = 0; i < count / 10; i++)
		send_or_die(q, &m);
	printf("loop");
	for (int r = 0; r < reps; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < count; i++)
			send_or_die(q, &m);
		printf(" %.1f", (double)(now_ns() - t0) / (double)count);
	}
	printf("\n");
	m.mtype = STOP_TYPE;
	send_or_die(q, &m);
	waitpid(rx, NULL, 0);
	remove_queue(q);
}

static void bench_pair(long count, int reps)
{
	struct msg64 m = { .mtype = 1 }, in;
	int q = new_queue();

	for (long i = 0; i < count / 10; i++) {
		send_or_die(q, &m);
		if (msgrcv(q, &in, sizeof(in.mtext), 0, 0) < 0)
			die("msgrcv");
	}
	printf("pair");
	for (int r = 0; r < reps; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < count; i++) {
			send_or_die(q, &m);
			if (msgrcv(q, &in, sizeof(in.mtext), 0, 0) < 0)
				die("msgrcv");
		}
		printf(" %.1f", (double)(now_ns() - t0) / (double)count);
	}
	printf("\n");
	remove_queue(q);
}

static unsigned long long ipc_ns_inode(void)
{
	struct stat st;

	if (stat("/proc/self/ns/ipc", &st) < 0)
		die("stat /proc/self/ns/ipc");
	return (unsigned long long)st.st_ino;
}

struct truth_q {
	int msqid;
	unsigned long long sends_ok, bytes_ok, slept, eagain;
};

/* The ground truth in msgtap-workload's format, which msgtap-verify reads. */
static void write_truth(const char *path, const struct truth_q *t, int n,
			const char *mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(path);
	fprintf(f, "{\"ipc_ns\": %llu, \"compat\": false, \"via\": \"libc\", \"seed\": 0,\n",
		ipc_ns_inode());
	fprintf(f, " \"mode\": \"%s\",\n \"queues\": [", mode);
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s\n  {\"msqid\": %d, \"sends_ok\": %llu, \"bytes_ok\": %llu, \"errors\": {",
			i ? "," : "", t[i].msqid, t[i].sends_ok, t[i].bytes_ok);
		if (t[i].eagain)
			fprintf(f, "\"EAGAIN\": %llu", t[i].eagain);
		fprintf(f, "}, \"sends_slept\": %llu, \"min_slept_ns\": 0}", t[i].slept);
	}
	fprintf(f, "\n]}\n");
	if (fclose(f) != 0)
		die(path);
}

/* /proc/@pid/stat from its third field (state) on, into @buf; NULL if
 * the process is gone. comm, before it, may hold spaces and parentheses. */
static const char *proc_stat_fields(pid_t pid, char *buf, size_t size)
{
	char path[64], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p + 2 : NULL;
}

/* utime + stime of @pid in clock ticks (/proc/PID/stat fields 14 and 15). */
static unsigned long long cpu_ticks(pid_t pid)
{
	unsigned long long utime, stime;
	char buf[1024];
	const char *p = proc_stat_fields(pid, buf, sizeof(buf));

	if (!p || sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &utime, &stime) != 2) {
		fprintf(stderr, "msgtap-bench: cannot read the CPU time of %d\n", (int)pid);
		exit(1);
	}
	return utime + stime;
}

/* One round of @sends round-robin over the queues; ns per send. */
static double spread_round(struct truth_q *t, int nq, long sends)
{
	struct msg64 m = { .mtype = 1 }, in;
	uint64_t t0 = now_ns();

	for (long i = 0; i < sends; i++) {
		struct truth_q *q = &t[i % nq];

		if (msgsnd(q->msqid, &m, MSG_BYTES, IPC_NOWAIT) < 0) {
			fprintf(stderr, "msgtap-bench: msgsnd to %d: %s\n", q->msqid,
				strerror(errno));
			exit(1);
		}
		q->sends_ok++;
		q->bytes_ok += MSG_BYTES;
		if (msgrcv(q->msqid, &in, sizeof(in.mtext), 0, IPC_NOWAIT) < 0)
			die("msgrcv");
	}
	return (double)(now_ns() - t0) / (double)sends;
}

/* @watch's CPU ticks since *@last, once what it has to receive has
 * arrived (its ring drains every few ms): 100 ms later. */
static unsigned long long ticks_since(pid_t watch, unsigned long long *last)
{
	unsigned long long now, d;

	usleep(100 * 1000);
	now = cpu_ticks(watch);
	d = now - *last;
	*last = now;
	return d;
}

static void bench_spread(int nq, long sends, bool again, pid_t watch,
			 const char *truth)
{
	struct truth_q *t = calloc((size_t)nq, sizeof(*t));
	unsigned long long last = 0, fresh = 0, repeat = 0;
	double ns, ns_again = 0;

	if (!t)
		die("calloc");
	for (int i = 0; i < nq; i++)
		t[i].msqid = new_queue();
	if (watch)
		last = cpu_ticks(watch);
	ns = spread_round(t, nq, sends);
	if (watch)
		fresh = ticks_since(watch, &last);
	if (again) {
		ns_again = spread_round(t, nq, sends);
		if (watch)
			repeat = ticks_since(watch, &last);
	}
	printf("spread queues=%d sends=%ld ns_per_send=%.1f", nq, sends, ns);
	if (again)
		printf(" again_ns_per_send=%.1f", ns_again);
	printf("\n");
	if (watch) {
		printf("spread-cpu fresh_ticks=%llu", fresh);
		if (again)
			printf(" again_ticks=%llu", repeat);
		printf("\n");
	}
	for (int i = 0; i < nq; i++)
		remove_queue(t[i].msqid);
	write_truth(truth, t, nq, "spread");
	free(t);
}

/* 'S' when the process sleeps; 0 if it is gone. */
static char proc_state(pid_t pid)
{
	char buf[512];
	const char *p = proc_stat_fields(pid, buf, sizeof(buf));

	return p ? p[0] : 0;
}

/* A blocked sender: exit 0 if its send slept and succeeded, 1 if it
 * succeeded without sleeping, 2 if it failed. */
static int blocked_child(int q, size_t sz)
{
	struct {
		long mtype;
		char mtext[1000];
	} m = { .mtype = 1 };
	struct rusage before, after;

	getrusage(RUSAGE_THREAD, &before);
	if (msgsnd(q, &m, sz, 0) < 0)
		return 2;
	getrusage(RUSAGE_THREAD, &after);
	return after.ru_nvcsw != before.ru_nvcsw ? 0 : 1;
}

static void bench_blocked(int senders, const char *truth)
{
	const size_t sz = 1000;
	struct {
		long mtype;
		char mtext[1000];
	} m = { .mtype = 1 };
	struct truth_q t = { .msqid = new_queue() };
	pid_t *pid = calloc((size_t)senders, sizeof(*pid));
	int asleep = 0, slept = 0, failed = 0;
	uint64_t t0;

	if (!pid)
		die("calloc");
	for (;;) {
		if (msgsnd(t.msqid, &m, sz, IPC_NOWAIT) == 0) {
			t.sends_ok++;
			t.bytes_ok += sz;
			continue;
		}
		if (errno != EAGAIN)
			die("msgsnd (fill)");
		t.eagain++;
		break;
	}
	for (int i = 0; i < senders; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			die("fork");
		if (pid[i] == 0)
			_exit(blocked_child(t.msqid, sz));
	}
	/* All asleep in msgsnd() (the queue stays full, so none can finish). */
	t0 = now_ns();
	while (asleep < senders) {
		asleep = 0;
		for (int i = 0; i < senders; i++)
			asleep += proc_state(pid[i]) == 'S';
		if (now_ns() - t0 > 120 * 1000000000ull) {
			fprintf(stderr, "msgtap-bench: only %d of %d senders blocked\n",
				asleep, senders);
			exit(1);
		}
		if (asleep < senders)
			usleep(100000);
	}
	printf("blocked senders=%d asleep_after_s=%.1f\n", senders,
	       (double)(now_ns() - t0) / 1e9);
	fflush(stdout);
	/* Each message taken lets one sender in; then empty the queue. */
	for (int i = 0; i < senders; i++)
		if (msgrcv(t.msqid, &m, sz, 0, 0) < 0)
			die("msgrcv");
	for (int i = 0; i < senders; i++) {
		int status;

		if (waitpid(pid[i], &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 2) {
			failed++;
			continue;
		}
		t.sends_ok++;
		t.bytes_ok += sz;
		slept += WEXITSTATUS(status) == 0;
	}
	t.slept = (unsigned long long)slept;
	printf("blocked done slept=%d failed=%d\n", slept, failed);
	remove_queue(t.msqid);
	write_truth(truth, &t, 1, "blocked");
	free(pid);
	if (failed)
		exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: msgtap-bench loop|pair [--count N] [--reps R]\n"
		"       msgtap-bench spread --queues N --sends M [--again] [--watch PID] --truth FILE\n"
		"       msgtap-bench blocked --senders N --truth FILE\n"
		"       msgtap-bench recsize|nsrecsize\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "queues", required_argument, NULL, 'q' },
		{ "sends", required_argument, NULL, 's' },
		{ "senders", required_argument, NULL, 'n' },
		{ "truth", required_argument, NULL, 't' },
		{ "again", no_argument, NULL, 'a' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long count = 20000, sends = 100000;
	int reps = 3, queues = 1, senders = 1, c;
	bool again = false;
	pid_t watch = 0;
	const char *cmd, *truth = NULL;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': count = atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'q': queues = atoi(optarg); break;
		case 's': sends = atol(optarg); break;
		case 'n': senders = atoi(optarg); break;
		case 't': truth = optarg; break;
		case 'a': again = true; break;
		case 'w': watch = (pid_t)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "loop") && count > 0 && reps > 0) {
		bench_loop(count, reps);
	} else if (!strcmp(cmd, "pair") && count > 0 && reps > 0) {
		bench_pair(count, reps);
	} else if (!strcmp(cmd, "spread") && truth && queues > 0 && sends > 0) {
		bench_spread(queues, sends, again, watch, truth);
	} else if (!strcmp(cmd, "blocked") && truth && senders > 0) {
		bench_blocked(senders, truth);
	} else if (!strcmp(cmd, "recsize")) {
		printf("%zu\n", sizeof(struct msgtap_send_event));
	} else if (!strcmp(cmd, "nsrecsize")) {
		printf("%zu\n", sizeof(struct msgtap_ipcns_event));
	} else {
		usage(stderr);
		return 2;
	}
	return 0;
}
