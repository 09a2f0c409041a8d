// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap-workload: sends a known mix of msgsnd() calls to fresh queues and
 * writes what it observed (return values, errno, sleeps) as JSON ground truth.
 *
 * The truth is built only from what this process and its children saw: each
 * call's result, whether the calling thread's voluntary context switch count
 * changed across it (the same counter the module's SLEPT flag is based on),
 * and the time measured around it. Expectations (this step must fail with
 * EAGAIN, ...) are checked separately; a deviation makes the exit status 1
 * but never changes the truth.
 *
 * The mix, one queue per purpose:
 *   mix     every size in {0, 1, 100, 1000, 8000, msgmax} with every mtype in
 *           {1, 2, 7, 1<<30}, plus seeded random ones, each drained at once;
 *           mtype 0 and msgsz msgmax+1 (EINVAL); an unreadable msgp, which
 *           fails before do_msgsnd() runs (EFAULT); a msgp on a page not yet
 *           faulted in (succeeds, mtype 424242); a setuid child (EACCES)
 *   reader  small messages taken by a concurrent blocking reader (which
 *           exercises the direct hand-over to a waiting receiver); the total
 *           stays below msgmnb so the sender never has to wait
 *   full    filled with IPC_NOWAIT until EAGAIN; then a child's blocking
 *           send sleeps until the parent receives one message, and another
 *           child's until a signal ends it (EINTR: the kernel returns a
 *           restart code, which a handler without SA_RESTART turns into EINTR)
 *   doomed  one send, IPC_RMID, then a send to the stale id (EINVAL)
 *   -1      a negative msqid (EINVAL)
 *
 * Other modes (--mode) serve kernel tests that need one situation, exactly:
 *   simple    N successful sends and M EINVAL ones, one process, one queue
 *   blocked   N children blocked on a full queue, then drained, removed,
 *             signalled (EINTR) or stopped and continued (the kernel
 *             restarts the call: the send succeeds once drained)
 *   flood     N children sending flat out, each to its own queue
 *   identity  a queue with a fixed key, owner and mode set with IPC_SET,
 *             sent to by root and by its new owner
 *   stray     N sends, each to another made-up id that names no queue
 *             (EINVAL): in the truth as a count, not as queues
 *   doomed    the mix's doomed queue alone, its failing sends on a CPU
 *             of choice (the records of two CPUs then race to msgtapd)
 * --ready and --go let a test act at the interesting moment: the workload
 * writes the ready file (its pid, IPC namespace and main queue) once set up,
 * then waits for the go file before it goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__i386__)
#define WORKLOAD_COMPAT true /* a 32-bit binary on an x86-64 kernel */
#else
#define WORKLOAD_COMPAT false
#endif

/* ipc(2) multiplexer call number for msgsnd (include/uapi/linux/ipc.h). */
#define IPCCALL_MSGSND 11

#define MAX_QUEUES 16
#define MAX_ERRNO 256
#define BLOCK_WAIT_MS 300
#define SIGNAL_WAIT_MS 100

enum via { VIA_LIBC, VIA_SYSCALL, VIA_IPC };
static const char *const via_names[] = { "libc", "syscall", "ipc" };

/* One msgsnd() as its caller saw it; children send these through a pipe. */
struct send_rec {
	int msqid;
	int err; /* 0 or the errno the call failed with */
	uint64_t msgsz;
	uint64_t ns; /* CLOCK_MONOTONIC time measured around the call */
	int slept; /* voluntary context switches happened during the call */
};

struct queue_truth {
	int msqid;
	uint64_t sends_ok;
	uint64_t bytes_ok;
	uint64_t sends_slept;
	uint64_t slept_ns;
	uint64_t errors[MAX_ERRNO];
};

static enum via via = VIA_LIBC;
static struct queue_truth queues[MAX_QUEUES];
static int nr_queues;
static int deviations;
static long msgmax, msgmnb;
static uint32_t rng_state;
static unsigned long seed = 1;

enum mode { MODE_MIX, MODE_SIMPLE, MODE_BLOCKED, MODE_FLOOD, MODE_IDENTITY,
	    MODE_HOLD, MODE_STRAY, MODE_DOOMED };
static const char *const mode_names[] = { "mix", "simple", "blocked", "flood",
					  "identity", "hold", "stray", "doomed" };
enum then { THEN_DRAIN, THEN_RMID, THEN_SIGNAL, THEN_STOPCONT };
static const char *const then_names[] = { "drain", "rmid", "signal",
					  "stopcont" };
static enum mode mode = MODE_MIX;
static const char *ready_path, *go_path;
/* Extra top-level truth members of a mode, as JSON text ending in ",\n". */
static char truth_extra[512];

static void deviation(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "msgtap-workload: DEVIATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	deviations++;
}

static void die(const char *what)
{
	fprintf(stderr, "msgtap-workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint32_t rnd(uint32_t bound)
{
	/* xorshift32: reproducible for a seed on every libc */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return bound ? rng_state % bound : 0;
}

static const char *errno_name(int err)
{
	static char buf[16];

	switch (err) {
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EIDRM: return "EIDRM";
	case EINTR: return "EINTR";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case E2BIG: return "E2BIG";
	case ENOSYS: return "ENOSYS";
	}
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long read_sysctl(const char *path, long fallback)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return fallback;
	if (fscanf(f, "%ld", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

static struct queue_truth *queue_of(int msqid)
{
	for (int i = 0; i < nr_queues; i++)
		if (queues[i].msqid == msqid)
			return &queues[i];
	if (nr_queues == MAX_QUEUES) {
		fprintf(stderr, "msgtap-workload: too many queues\n");
		exit(1);
	}
	queues[nr_queues].msqid = msqid;
	return &queues[nr_queues++];
}

static void account(const struct send_rec *r)
{
	struct queue_truth *q = queue_of(r->msqid);

	if (r->err == 0) {
		q->sends_ok++;
		q->bytes_ok += r->msgsz;
	} else {
		q->errors[r->err < MAX_ERRNO ? r->err : 0]++;
	}
	if (r->slept) {
		q->sends_slept++;
		q->slept_ns += r->ns;
	}
}

/* Calls msgsnd the way --via asks and measures the call; accounts nothing. */
static struct send_rec send_raw(int msqid, void *msgp, size_t msgsz, int msgflg)
{
	struct send_rec r = { .msqid = msqid, .msgsz = msgsz };
	struct rusage ru0, ru1;
	uint64_t t0, t1;
	long rc = -1;

	getrusage(RUSAGE_THREAD, &ru0);
	t0 = now_ns();
	switch (via) {
	case VIA_LIBC:
		rc = msgsnd(msqid, msgp, msgsz, msgflg);
		break;
	case VIA_SYSCALL:
		rc = syscall(SYS_msgsnd, msqid, msgp, msgsz, msgflg);
		break;
	case VIA_IPC:
#ifdef SYS_ipc
		/* ksys_ipc: first = msqid, second = msgsz, third = msgflg,
		 * ptr = msgp */
		rc = syscall(SYS_ipc, IPCCALL_MSGSND, msqid, msgsz, msgflg,
			     msgp, 0);
#else
		errno = ENOSYS;
#endif
		break;
	}
	r.err = rc < 0 ? errno : 0;
	t1 = now_ns();
	getrusage(RUSAGE_THREAD, &ru1);
	r.ns = t1 - t0;
	r.slept = ru1.ru_nvcsw != ru0.ru_nvcsw;
	return r;
}

/*
 * Sends one message, accounts it and checks the expected errno. Only the
 * blocking step expects a sleep; an unexpected one is real and goes into the
 * truth, so it is only reported.
 */
static void send_expect(int msqid, void *msgp, size_t msgsz, int msgflg,
			int want_err, const char *step)
{
	struct send_rec r = send_raw(msqid, msgp, msgsz, msgflg);

	account(&r);
	if (r.err != want_err)
		deviation("%s: msqid %d msgsz %zu: expected %s, got %s", step,
			  msqid, msgsz, want_err ? errno_name(want_err) : "success",
			  r.err ? errno_name(r.err) : "success");
	if (r.slept)
		fprintf(stderr, "msgtap-workload: note: %s: send to %d slept\n",
			step, msqid);
}

static int new_queue(void)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);

	if (id < 0)
		die("msgget");
	queue_of(id); /* every created queue appears in the truth */
	return id;
}

static void remove_queue(int id)
{
	if (msgctl(id, IPC_RMID, NULL) < 0)
		deviation("IPC_RMID %d: %s", id, strerror(errno));
}

/* A message buffer big enough for msgmax + 1 bytes of text. */
struct msgbuf_any {
	long mtype;
	char mtext[];
};

static struct msgbuf_any *msg_alloc(void)
{
	struct msgbuf_any *m = calloc(1, sizeof(*m) + (size_t)msgmax + 1);

	if (!m)
		die("calloc");
	memset(m->mtext, 'm', (size_t)msgmax + 1);
	return m;
}

/*
 * Children: fork, run fn in the child with a pipe to report its send records
 * on, and later reap it and account what it reported.
 */
struct child {
	pid_t pid;
	int rfd;
};

static struct child spawn(int (*fn)(int wfd, void *arg), void *arg)
{
	struct child c;
	int fds[2];

	if (pipe(fds) < 0)
		die("pipe");
	fflush(NULL);
	c.pid = fork();
	if (c.pid < 0)
		die("fork");
	if (c.pid == 0) {
		close(fds[0]);
		_exit(fn(fds[1], arg));
	}
	close(fds[1]);
	c.rfd = fds[0];
	return c;
}

static void child_report(int wfd, const struct send_rec *r)
{
	/* a record is far below PIPE_BUF: the write is atomic */
	if (write(wfd, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(3);
}

/* Reaps the child; returns how many records it reported, into recs. */
static int reap(struct child c, const char *step, struct send_rec *recs,
		int max)
{
	struct send_rec r;
	int status, n = 0;
	ssize_t got;

	while ((got = read(c.rfd, &r, sizeof(r))) == (ssize_t)sizeof(r)) {
		account(&r);
		if (n < max)
			recs[n] = r;
		n++;
	}
	if (got != 0)
		deviation("%s: short report from child", step);
	close(c.rfd);
	if (waitpid(c.pid, &status, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		deviation("%s: child failed (status 0x%x)", step, status);
	return n;
}

static int child_eacces(int wfd, void *arg)
{
	int msqid = *(int *)arg;
	struct msgbuf_any *m = msg_alloc();
	struct send_rec r;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	m->mtype = 1;
	r = send_raw(msqid, m, 10, IPC_NOWAIT);
	child_report(wfd, &r);
	return 0;
}

struct blocker_arg {
	int msqid;
	size_t msgsz;
	int sync_fd; /* written right before the blocking call */
	bool interruptible; /* SIGUSR1 ends the call with EINTR */
};

static void on_sigusr1(int sig)
{
	(void)sig;
}

static int child_blocker(int wfd, void *arg)
{
	struct blocker_arg *a = arg;
	struct msgbuf_any *m = msg_alloc();
	struct send_rec r;
	char c = 'b';

	if (a->interruptible) {
		/* no SA_RESTART: the interrupted send returns EINTR */
		struct sigaction sa = { .sa_handler = on_sigusr1 };

		if (sigaction(SIGUSR1, &sa, NULL) < 0)
			return 2;
	}
	m->mtype = 3;
	if (write(a->sync_fd, &c, 1) != 1)
		return 2;
	r = send_raw(a->msqid, m, a->msgsz, 0);
	child_report(wfd, &r);
	return 0;
}

struct reader_arg {
	int msqid;
	int count;
};

static int child_reader(int wfd, void *arg)
{
	struct reader_arg *a = arg;
	struct msgbuf_any *m = msg_alloc();

	(void)wfd;
	for (int i = 0; i < a->count; i++)
		if (msgrcv(a->msqid, m, (size_t)msgmax, 0, 0) < 0)
			return 2;
	return 0;
}

/* Process state letter from /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void step_mix(int q, int rounds)
{
	static const long mtypes[] = { 1, 2, 7, 1L << 30 };
	const size_t sizes[] = { 0, 1, 100, 1000, 8000, (size_t)msgmax };
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();
	ssize_t got;

	for (int round = 0; round < rounds; round++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (size_t t = 0; t < 4; t++) {
				size_t sz = sizes[s];
				long mtype = mtypes[t];

				if (round > 0) { /* later rounds: seeded */
					sz = rnd((uint32_t)msgmax + 1);
					mtype = 1 + (long)rnd(1000);
				}
				if (sz > (size_t)msgmax)
					continue;
				m->mtype = mtype;
				send_expect(q, m, sz, 0, 0, "mix");
				/* drain at once: this queue never fills */
				got = msgrcv(q, in, (size_t)msgmax, 0, IPC_NOWAIT);
				if (got != (ssize_t)sz || in->mtype != mtype)
					deviation("mix: received %zd bytes type %ld, sent %zu type %ld",
						  got, in->mtype, sz, mtype);
			}
		}
	}

	m->mtype = 0;
	send_expect(q, m, 10, 0, EINVAL, "mtype 0");
	m->mtype = 1;
	send_expect(q, m, (size_t)msgmax + 1, 0, EINVAL, "msgsz > msgmax");
	free(in);
	free(m);
}

static void step_eacces(int q)
{
	struct send_rec r;
	struct child c = spawn(child_eacces, &q);

	if (reap(c, "EACCES child", &r, 1) != 1)
		deviation("EACCES child: expected one send record");
	else if (r.err != EACCES)
		deviation("EACCES child: expected EACCES, got %s",
			  r.err ? errno_name(r.err) : "success");
}

static void step_reader(int q)
{
	struct msgbuf_any *m = msg_alloc();
	struct reader_arg ra = { .msqid = q, .count = 20 + (int)rnd(21) };
	struct child c = spawn(child_reader, &ra);
	struct send_rec r;
	long budget = msgmnb / 2; /* never enough to make the sender wait */
	int ok = 0;

	for (int i = 0; i < ra.count; i++) {
		size_t sz = rnd((uint32_t)(budget / ra.count) + 1);

		m->mtype = 1 + (long)rnd(5);
		r = send_raw(q, m, sz, 0);
		account(&r);
		if (r.err)
			deviation("reader: send %d: %s", i, errno_name(r.err));
		else
			ok++;
		if (r.slept)
			fprintf(stderr, "msgtap-workload: note: reader: send slept\n");
	}
	if (ok != ra.count)
		kill(c.pid, SIGKILL); /* it would wait forever */
	reap(c, "reader", &r, 0);
	free(m);
}

/*
 * Starts a child whose blocking msgsnd of msgsz bytes to the full queue q has
 * to wait. Returns once the child has announced the call and is asleep, so
 * the send really waits for what the caller does next.
 */
static struct child start_blocked_sender(int q, size_t msgsz, bool interruptible,
					 const char *step)
{
	struct blocker_arg ba = { .msqid = q, .msgsz = msgsz,
				  .interruptible = interruptible };
	struct child c;
	int sync[2];
	char byte, st = 0;

	if (pipe(sync) < 0)
		die("pipe");
	ba.sync_fd = sync[1];
	c = spawn(child_blocker, &ba);
	close(sync[1]);
	if (read(sync[0], &byte, 1) != 1)
		deviation("%s: child did not start", step);
	close(sync[0]);
	for (int i = 0; i < 10000 && (st = proc_state(c.pid)) != 'S'; i++)
		sleep_ms(1);
	if (st != 'S')
		deviation("%s: child never went to sleep (state %c)", step,
			  st ? st : '?');
	return c;
}

/* Reaps a blocked sender and checks how its one send ended. */
static void check_blocked_sender(struct child c, const char *step, int want_err,
				 long min_ms)
{
	struct send_rec r;

	if (reap(c, step, &r, 1) != 1) {
		deviation("%s: expected one send record", step);
		return;
	}
	if (r.err != want_err)
		deviation("%s: expected %s, got %s", step,
			  want_err ? errno_name(want_err) : "success",
			  r.err ? errno_name(r.err) : "success");
	if (!r.slept)
		deviation("%s: send did not sleep", step);
	if (r.ns < (uint64_t)min_ms * 1000000u)
		deviation("%s: send took only %llu ns", step,
			  (unsigned long long)r.ns);
	printf("%s: send slept %llu ns\n", step, (unsigned long long)r.ns);
}

/*
 * Fills the queue until EAGAIN; then one child's blocking send waits until
 * the parent takes a message out (the queue is full again afterwards), and
 * another's until a signal interrupts it.
 */
static void step_full(int q)
{
	const size_t sz = 1000;
	struct msgbuf_any *m = msg_alloc();
	struct send_rec r;
	struct child c;
	int filled = 0;

	m->mtype = 1;
	for (int i = 0; i < 1000000; i++) {
		r = send_raw(q, m, sz, IPC_NOWAIT);
		account(&r);
		if (r.err)
			break;
		filled++;
	}
	if (r.err != EAGAIN || filled == 0)
		deviation("fill: expected EAGAIN after some sends, got %s after %d",
			  r.err ? errno_name(r.err) : "success", filled);
	printf("full: %d sends of %zu bytes fit before EAGAIN\n", filled, sz);

	c = start_blocked_sender(q, sz, false, "blocker");
	sleep_ms(BLOCK_WAIT_MS);
	if (msgrcv(q, m, (size_t)msgmax, 0, IPC_NOWAIT) < 0)
		deviation("blocker: msgrcv: %s", strerror(errno));
	check_blocked_sender(c, "blocker", 0, BLOCK_WAIT_MS);

	c = start_blocked_sender(q, sz, true, "interrupted");
	sleep_ms(SIGNAL_WAIT_MS);
	if (kill(c.pid, SIGUSR1) < 0)
		deviation("interrupted: kill: %s", strerror(errno));
	check_blocked_sender(c, "interrupted", EINTR, SIGNAL_WAIT_MS);
	free(m);
}

/* msgp on a page that cannot be read: ksys_msgsnd fails reading mtype. */
static void step_efault(int q)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	send_expect(q, p, 10, 0, EFAULT, "unreadable msgp");
	munmap(p, (size_t)page);
}

/*
 * msgp on a page this process has not touched yet: a file's page in the page
 * cache, mapped but not faulted in. msgtap's wrapper probe cannot read mtype
 * without a fault, so it follows the call; the kernel's own read faults the
 * page in and the send succeeds, recorded once by do_msgsnd() and not as an
 * early failure. The mtype (NOT_PRESENT_MTYPE) is one no other step uses.
 */
#define NOT_PRESENT_MTYPE 424242L
static void step_not_present(int q)
{
	char path[] = "/tmp/msgtap-workload-XXXXXX";
	long page = sysconf(_SC_PAGESIZE);
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();
	int fd = mkstemp(path);
	void *p;

	if (fd < 0)
		die("mkstemp");
	m->mtype = NOT_PRESENT_MTYPE;
	memcpy(m->mtext, "not there", 10);
	if (ftruncate(fd, page) < 0 ||
	    pwrite(fd, m, sizeof(*m) + 10, 0) != (ssize_t)(sizeof(*m) + 10))
		die(path);
	p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	unlink(path);
	send_expect(q, p, 10, 0, 0, "msgp on a page not faulted in");
	if (msgrcv(q, in, (size_t)msgmax, 0, IPC_NOWAIT) != 10 ||
	    in->mtype != NOT_PRESENT_MTYPE)
		deviation("not present: msgrcv: %s", strerror(errno));
	munmap(p, (size_t)page);
	free(in);
	free(m);
}

static void mode_doomed(int q, int fail, int fail_cpu);

static void step_doomed(void)
{
	struct msgbuf_any *m = msg_alloc();

	mode_doomed(new_queue(), 1, -1);
	m->mtype = 1;
	send_expect(-1, m, 10, 0, EINVAL, "msqid -1");
	free(m);
}

/*
 * --ready/--go: announces "pid=P ipc_ns=N msqid=Q" in the ready file (by
 * rename, so a reader never sees half of it), then waits for the go file.
 */
static void ready_and_go(int msqid)
{
	struct stat st;

	if (ready_path) {
		char tmp[4096];
		FILE *f;

		if (stat("/proc/self/ns/ipc", &st) < 0)
			die("stat /proc/self/ns/ipc");
		snprintf(tmp, sizeof(tmp), "%s.tmp", ready_path);
		f = fopen(tmp, "w");
		if (!f)
			die(tmp);
		fprintf(f, "pid=%d ipc_ns=%llu msqid=%d\n", (int)getpid(),
			(unsigned long long)st.st_ino, msqid);
		if (fclose(f) != 0 || rename(tmp, ready_path) < 0)
			die(ready_path);
	}
	if (go_path)
		while (access(go_path, F_OK) != 0)
			sleep_ms(10);
}

/* N successful sends, each received at once, then M with mtype 0 (EINVAL). */
static void mode_simple(int q, int count, int fail)
{
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();

	for (int i = 0; i < count; i++) {
		size_t sz = (size_t)(i % 200);

		m->mtype = 1 + i % 5;
		send_expect(q, m, sz, 0, 0, "simple");
		if (msgrcv(q, in, (size_t)msgmax, 0, IPC_NOWAIT) != (ssize_t)sz)
			deviation("simple: msgrcv: %s", strerror(errno));
	}
	m->mtype = 0;
	for (int i = 0; i < fail; i++)
		send_expect(q, m, 10, 0, EINVAL, "simple mtype 0");
	free(in);
	free(m);
}

/*
 * One send to queue @q, IPC_RMID, then @fail sends to its stale id (EINVAL,
 * and no queue for the module to find), on CPU @fail_cpu if that is not -1:
 * the module drains its rings one CPU after the other, so the failures may
 * reach the listener before the success that made the queue known.
 */
static void mode_doomed(int q, int fail, int fail_cpu)
{
	struct msgbuf_any *m = msg_alloc();

	m->mtype = 5;
	send_expect(q, m, 42, 0, 0, "doomed");
	remove_queue(q);
	if (fail_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(fail_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("sched_setaffinity(--fail-cpu)");
	}
	for (int i = 0; i < fail; i++)
		send_expect(q, m, 42, IPC_NOWAIT, EINVAL, "removed queue");
	free(m);
}

/* Waits (10 s at most) until the process is in state @want. */
static bool wait_state(pid_t pid, char want)
{
	for (int i = 0; i < 10000; i++) {
		if (proc_state(pid) == want)
			return true;
		sleep_ms(1);
	}
	return false;
}

/*
 * Fills q with IPC_NOWAIT sends until EAGAIN, puts @senders children to
 * sleep in blocking sends of the same size, then ends their wait as @then
 * says and checks each one's result. Returns false if it removed the queue.
 */
static bool mode_blocked(int q, int senders, enum then then)
{
	const size_t sz = 1000;
	struct msgbuf_any *m = msg_alloc();
	struct child c[64];
	struct send_rec r;
	int filled = 0, want_err = 0;

	if (senders < 1 || senders > 64) {
		fprintf(stderr, "msgtap-workload: --senders must be 1..64 here\n");
		exit(2);
	}
	m->mtype = 1;
	for (;;) {
		r = send_raw(q, m, sz, IPC_NOWAIT);
		account(&r);
		if (r.err)
			break;
		filled++;
	}
	if (r.err != EAGAIN || filled == 0)
		deviation("fill: expected EAGAIN after some sends, got %s after %d",
			  r.err ? errno_name(r.err) : "success", filled);
	printf("blocked: %d sends of %zu bytes fit before EAGAIN\n", filled, sz);
	snprintf(truth_extra, sizeof(truth_extra),
		 " \"filled\": %d, \"senders\": %d, \"then\": \"%s\",\n", filled,
		 senders, then_names[then]);

	for (int i = 0; i < senders; i++)
		c[i] = start_blocked_sender(q, sz, then == THEN_SIGNAL, "blocked");
	ready_and_go(q);
	/* Asleep long enough that the time around the call is mostly sleep:
	 * its truth (80% of it) then holds for the kernel's timing too. */
	sleep_ms(SIGNAL_WAIT_MS);

	switch (then) {
	case THEN_STOPCONT:
		/* No handler: the kernel restarts the interrupted call. */
		for (int i = 0; i < senders; i++) {
			kill(c[i].pid, SIGSTOP);
			if (!wait_state(c[i].pid, 'T'))
				deviation("stopcont: child %d never stopped", (int)c[i].pid);
			kill(c[i].pid, SIGCONT);
			if (!wait_state(c[i].pid, 'S'))
				deviation("stopcont: child %d did not block again", (int)c[i].pid);
		}
		/* fall through */
	case THEN_DRAIN:
		/* Each message taken makes room for exactly one sender. */
		for (int i = 0; i < senders; i++)
			if (msgrcv(q, m, (size_t)msgmax, 0, 0) < 0)
				deviation("drain: msgrcv: %s", strerror(errno));
		break;
	case THEN_RMID:
		remove_queue(q);
		want_err = EIDRM;
		break;
	case THEN_SIGNAL:
		for (int i = 0; i < senders; i++)
			kill(c[i].pid, SIGUSR1);
		want_err = EINTR;
		break;
	}
	for (int i = 0; i < senders; i++)
		check_blocked_sender(c[i], "blocked", want_err, SIGNAL_WAIT_MS);
	free(m);
	return then != THEN_RMID;
}

struct flood_arg {
	int msqid;
	double seconds;
	const char *until;
};

/* Sends and receives 64-byte messages flat out; reports one summary. */
static int child_flood(int wfd, void *arg)
{
	struct flood_arg *a = arg;
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();
	struct queue_truth t = { .msqid = a->msqid };
	uint64_t end = now_ns() + (uint64_t)(a->seconds * 1e9);

	m->mtype = 1;
	for (unsigned long i = 0;; i++) {
		if (a->until ? (i % 64 == 0 && access(a->until, F_OK) == 0) :
			       now_ns() >= end)
			break;
		if (msgsnd(a->msqid, m, 64, IPC_NOWAIT) == 0) {
			t.sends_ok++;
			t.bytes_ok += 64;
		} else {
			t.errors[errno < MAX_ERRNO ? errno : 0]++;
		}
		msgrcv(a->msqid, in, (size_t)msgmax, 0, IPC_NOWAIT);
	}
	if (write(wfd, &t, sizeof(t)) != (ssize_t)sizeof(t))
		return 3;
	return 0;
}

static void mode_flood(int senders, double seconds, const char *until)
{
	struct flood_arg fa[MAX_QUEUES];
	struct child c[MAX_QUEUES];

	if (senders < 1 || senders > MAX_QUEUES) {
		fprintf(stderr, "msgtap-workload: --senders must be 1..%d for flood\n",
			MAX_QUEUES);
		exit(2);
	}
	for (int i = 0; i < senders; i++)
		fa[i] = (struct flood_arg){ .msqid = new_queue(),
					    .seconds = seconds, .until = until };
	ready_and_go(fa[0].msqid);
	for (int i = 0; i < senders; i++)
		c[i] = spawn(child_flood, &fa[i]);
	for (int i = 0; i < senders; i++) {
		struct queue_truth t, *q = queue_of(fa[i].msqid);
		int status;

		if (read(c[i].rfd, &t, sizeof(t)) != (ssize_t)sizeof(t)) {
			deviation("flood: no report from child %d", (int)c[i].pid);
		} else {
			q->sends_ok += t.sends_ok;
			q->bytes_ok += t.bytes_ok;
			for (int e = 0; e < MAX_ERRNO; e++) {
				q->errors[e] += t.errors[e];
				if (t.errors[e])
					deviation("flood: %llu sends failed with %s",
						  (unsigned long long)t.errors[e],
						  errno_name(e));
			}
		}
		close(c[i].rfd);
		if (waitpid(c[i].pid, &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			deviation("flood: child failed (status 0x%x)", status);
		remove_queue(fa[i].msqid);
	}
}

struct owner_arg {
	int msqid;
	int count;
	uid_t uid;
	gid_t gid;
};

/* The queue's new owner sends too: its mode lets the owner write. */
static int child_owner(int wfd, void *arg)
{
	struct owner_arg *a = arg;
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();
	struct send_rec r;

	if (setgroups(0, NULL) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0)
		return 2;
	m->mtype = 2;
	for (int i = 0; i < a->count; i++) {
		r = send_raw(a->msqid, m, 20, IPC_NOWAIT);
		child_report(wfd, &r);
		msgrcv(a->msqid, in, (size_t)msgmax, 0, IPC_NOWAIT);
	}
	return 0;
}

/*
 * A queue with a fixed key whose owner and mode IPC_SET changes; root sends
 * @count messages, then the new owner @count more.
 */
static void mode_identity(key_t key, uid_t uid, gid_t gid, int perm, int count)
{
	struct msgbuf_any *m = msg_alloc(), *in = msg_alloc();
	struct owner_arg oa = { .count = count, .uid = uid, .gid = gid };
	struct send_rec recs[1];
	struct msqid_ds ds;
	struct child c;
	int q = msgget(key, IPC_CREAT | IPC_EXCL | 0600);

	if (q < 0)
		die("msgget(key, IPC_CREAT | IPC_EXCL)");
	queue_of(q);
	if (msgctl(q, IPC_STAT, &ds) < 0)
		die("IPC_STAT");
	ds.msg_perm.uid = uid;
	ds.msg_perm.gid = gid;
	ds.msg_perm.mode = (unsigned short)perm;
	if (msgctl(q, IPC_SET, &ds) < 0)
		die("IPC_SET");
	/* What the kernel now holds, as IPC_STAT (and ipcs) report it. */
	if (msgctl(q, IPC_STAT, &ds) < 0)
		die("IPC_STAT");
	snprintf(truth_extra, sizeof(truth_extra),
		 " \"queue\": {\"msqid\": %d, \"key\": %d, \"uid\": %u, \"gid\": %u, \"cuid\": %u, \"mode\": %u},\n",
		 q, (int)ds.msg_perm.__key, (unsigned)ds.msg_perm.uid,
		 (unsigned)ds.msg_perm.gid, (unsigned)ds.msg_perm.cuid,
		 (unsigned)(ds.msg_perm.mode & 0777));
	ready_and_go(q);

	m->mtype = 1;
	for (int i = 0; i < count; i++) {
		send_expect(q, m, 10, IPC_NOWAIT, 0, "identity root");
		msgrcv(q, in, (size_t)msgmax, 0, IPC_NOWAIT);
	}
	oa.msqid = q;
	c = spawn(child_owner, &oa);
	if (reap(c, "identity owner", recs, 1) != count)
		deviation("identity owner: expected %d send records", count);
	else if (count && recs[0].err)
		deviation("identity owner: send failed: %s", errno_name(recs[0].err));
	remove_queue(q);
	free(in);
	free(m);
}

/*
 * @count messages of 100 bytes left in a new queue (what msgctl reports as
 * its depth while the test looks), then the queue is removed.
 */
static void mode_hold(int count)
{
	struct msgbuf_any *m = msg_alloc();
	int q = new_queue();

	for (int i = 0; i < count; i++) {
		m->mtype = 1 + i % 3;
		send_expect(q, m, 100, IPC_NOWAIT, 0, "hold");
	}
	snprintf(truth_extra, sizeof(truth_extra),
		 " \"held\": {\"msqid\": %d, \"qnum\": %d, \"cbytes\": %d},\n", q,
		 count, count * 100);
	ready_and_go(q);
	remove_queue(q);
	free(m);
}

/*
 * N sends, each to its own id that names no queue, from --key on (16M by
 * default): each must fail with EINVAL. An id that does name a queue
 * (msgctl finds it) is passed over.
 */
static void mode_stray(int count, long long first)
{
	struct msgbuf_any *m = msg_alloc();
	struct msqid_ds ds;
	long long id = first;
	int einval = 0;

	m->mtype = 1;
	for (int i = 0; i < count; i++, id++) {
		struct send_rec r;

		while (id <= INT32_MAX && msgctl((int)id, IPC_STAT, &ds) == 0)
			id++;
		if (id > INT32_MAX) {
			deviation("stray: no made-up ids left below INT32_MAX");
			break;
		}
		r = send_raw((int)id, m, 10, IPC_NOWAIT);
		if (r.err == EINVAL)
			einval++;
		else
			deviation("stray: msqid %lld: expected EINVAL, got %s", id,
				  r.err ? errno_name(r.err) : "success");
	}
	snprintf(truth_extra, sizeof(truth_extra),
		 " \"stray\": {\"sends\": %d, \"einval\": %d, \"first\": %lld, \"last\": %lld},\n",
		 count, einval, first, id - 1);
	free(m);
}

/*
 * @new_ns: the workload made its own IPC namespace. The kernel gives a new
 * namespace the lowest free inode number, so the truth of a workload that ran
 * earlier, in a namespace that has ended since, may name the same ipc_ns:
 * msgtap-verify then replaces that truth with this one instead of adding.
 */
static int write_truth(const char *path, bool new_ns)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	struct stat st;

	if (!f)
		die(path);
	if (stat("/proc/self/ns/ipc", &st) < 0)
		die("stat /proc/self/ns/ipc");
	fprintf(f, "{\"ipc_ns\": %llu, \"compat\": %s, \"via\": \"%s\", \"seed\": %lu,\n",
		(unsigned long long)st.st_ino,
		WORKLOAD_COMPAT ? "true" : "false", via_names[via], seed);
	if (new_ns)
		fprintf(f, " \"new_ipcns\": true,\n");
	if (mode != MODE_MIX)
		fprintf(f, " \"mode\": \"%s\",\n%s", mode_names[mode], truth_extra);
	fprintf(f, " \"queues\": [");
	for (int i = 0; i < nr_queues; i++) {
		const struct queue_truth *q = &queues[i];
		const char *sep = "";

		fprintf(f, "%s\n  {\"msqid\": %d, \"sends_ok\": %llu, \"bytes_ok\": %llu, \"errors\": {",
			i ? "," : "", q->msqid,
			(unsigned long long)q->sends_ok,
			(unsigned long long)q->bytes_ok);
		for (int e = 0; e < MAX_ERRNO; e++) {
			if (!q->errors[e])
				continue;
			fprintf(f, "%s\"%s\": %llu", sep, errno_name(e),
				(unsigned long long)q->errors[e]);
			sep = ", ";
		}
		/* 80%: the kernel times do_msgsnd alone, this process the
		 * whole system call */
		fprintf(f, "}, \"sends_slept\": %llu, \"min_slept_ns\": %llu}",
			(unsigned long long)q->sends_slept,
			(unsigned long long)(q->slept_ns / 10 * 8));
	}
	fprintf(f, "\n]}\n");
	if (f != stdout && fclose(f) != 0)
		die(path);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: msgtap-workload [--via libc|syscall|ipc] [--new-ipcns] [--truth FILE] [--seed N]\n"
		"\n"
		"Sends a known mix of msgsnd() calls (successes, EAGAIN, EINVAL, EFAULT,\n"
		"EACCES, a sender that blocks, one a signal interrupts) to fresh\n"
		"private queues, removes them, and writes the ground truth it observed\n"
		"as JSON to FILE (default: standard output), keyed by IPC namespace\n"
		"inode and msqid.\n"
		"\n"
		"  --via libc      msgsnd() from libc (default)\n"
		"  --via syscall   syscall(SYS_msgsnd, ...)\n"
		"  --via ipc       the i386 ipc(2) multiplexer (32-bit build only)\n"
		"  --new-ipcns     unshare(CLONE_NEWIPC) first; the truth then says\n"
		"                  \"new_ipcns\": true\n"
		"  --truth FILE    where to write the JSON truth ('-': stdout)\n"
		"  --seed N        seed for the randomised part of the mix (default 1)\n"
		"\n"
		"Other modes, for kernel tests (truth in the same format):\n"
		"  --mode simple [--count N] [--fail M]\n"
		"                  N successful sends (default 100), then M with mtype 0\n"
		"                  (EINVAL), from this one process to one queue\n"
		"  --mode doomed [--fail M] [--fail-cpu C]\n"
		"                  one send to a new queue, IPC_RMID, then M sends to its\n"
		"                  stale id (default 1; EINVAL), on CPU C if given\n"
		"  --mode blocked [--senders N] [--then drain|rmid|signal|stopcont]\n"
		"                  fill a queue, block N children (default 1) in msgsnd,\n"
		"                  then: receive N messages (drain, the default); IPC_RMID\n"
		"                  (EIDRM); SIGUSR1 with a handler (EINTR); SIGSTOP and\n"
		"                  SIGCONT each, which restarts the call, then drain\n"
		"  --mode flood [--senders N] [--seconds S | --until FILE]\n"
		"                  N children (default 1) send and receive flat out, each\n"
		"                  on its own queue, for S seconds (default 2) or until FILE\n"
		"                  exists\n"
		"  --mode identity --key K [--owner UID:GID] [--perm MODE] [--count N]\n"
		"                  create the queue with key K, IPC_SET its owner (default\n"
		"                  65534:65534) and mode (default 0640); root sends N\n"
		"                  (default 10), then the new owner N\n"
		"  --mode hold [--count N]\n"
		"                  leave N messages of 100 bytes (default 10) in a new\n"
		"                  queue until --go, then remove it\n"
		"  --mode stray [--count N] [--key FIRST]\n"
		"                  N sends (default 1000), each to another id from FIRST\n"
		"                  (default 16777216) on that names no queue (EINVAL);\n"
		"                  the truth counts them under \"stray\", not as queues\n"
		"  --ready FILE    once set up, write 'pid=P ipc_ns=N msqid=Q' to FILE\n"
		"  --go FILE       then wait until FILE exists before going on\n"
		"  --linger FILE   at the end, wait until FILE exists before exiting\n"
		"\n"
		"Exit status: 0 if every step behaved as expected, 1 if one deviated\n"
		"(the truth file still records what happened), 2 on a usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "via", required_argument, NULL, 'v' },
		{ "new-ipcns", no_argument, NULL, 'n' },
		{ "truth", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "fail", required_argument, NULL, 'f' },
		{ "fail-cpu", required_argument, NULL, 'C' },
		{ "senders", required_argument, NULL, 'N' },
		{ "then", required_argument, NULL, 'T' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "owner", required_argument, NULL, 'o' },
		{ "perm", required_argument, NULL, 'p' },
		{ "ready", required_argument, NULL, 'r' },
		{ "go", required_argument, NULL, 'g' },
		{ "linger", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *truth = "-";
	bool new_ns = false;
	char *end;
	int opt, qmix, qreader, qfull;
	int count = -1, fail = 0, fail_cpu = -1, senders = 1, perm = 0640;
	enum then then = THEN_DRAIN;
	double seconds = 2;
	const char *until = NULL, *linger = NULL;
	long long key = 0, num;
	bool have_key = false;
	unsigned owner_uid = 65534, owner_gid = 65534;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			if (!strcmp(optarg, "libc")) {
				via = VIA_LIBC;
			} else if (!strcmp(optarg, "syscall")) {
				via = VIA_SYSCALL;
			} else if (!strcmp(optarg, "ipc")) {
#if !defined(__i386__) || !defined(SYS_ipc)
				fprintf(stderr, "msgtap-workload: --via ipc needs the 32-bit build: this architecture has no ipc(2) system call\n");
				return 2;
#endif
				via = VIA_IPC;
			} else {
				fprintf(stderr, "msgtap-workload: unknown --via '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'n':
			new_ns = true;
			break;
		case 't':
			truth = optarg;
			break;
		case 's':
			errno = 0;
			seed = strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "msgtap-workload: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'm':
			for (mode = 0; mode < sizeof(mode_names) / sizeof(mode_names[0]); mode++)
				if (!strcmp(optarg, mode_names[mode]))
					break;
			if (mode == sizeof(mode_names) / sizeof(mode_names[0])) {
				fprintf(stderr, "msgtap-workload: unknown --mode '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			for (then = 0; then < sizeof(then_names) / sizeof(then_names[0]); then++)
				if (!strcmp(optarg, then_names[then]))
					break;
			if (then == sizeof(then_names) / sizeof(then_names[0])) {
				fprintf(stderr, "msgtap-workload: unknown --then '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c':
		case 'f':
		case 'C':
		case 'N':
		case 'p':
		case 'k':
			errno = 0;
			num = strtoll(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "msgtap-workload: bad number '%s'\n", optarg);
				return 2;
			}
			if (opt == 'c') {
				count = (int)num;
			} else if (opt == 'f') {
				fail = (int)num;
			} else if (opt == 'C') {
				if (num < 0 || num >= CPU_SETSIZE) {
					fprintf(stderr, "msgtap-workload: bad --fail-cpu '%s'\n", optarg);
					return 2;
				}
				fail_cpu = (int)num;
			} else if (opt == 'N') {
				senders = (int)num;
			} else if (opt == 'p') {
				perm = (int)num;
			} else {
				key = num;
				have_key = true;
			}
			break;
		case 'S':
			seconds = strtod(optarg, NULL);
			break;
		case 'u':
			until = optarg;
			break;
		case 'o':
			if (sscanf(optarg, "%u:%u", &owner_uid, &owner_gid) != 2) {
				fprintf(stderr, "msgtap-workload: bad --owner '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			ready_path = optarg;
			break;
		case 'g':
			go_path = optarg;
			break;
		case 'L':
			linger = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	rng_state = (uint32_t)seed ? (uint32_t)seed : 1;

	if (new_ns && unshare(CLONE_NEWIPC) < 0)
		die("unshare(CLONE_NEWIPC)");
	/* per IPC namespace: read after the unshare */
	msgmax = read_sysctl("/proc/sys/kernel/msgmax", 8192);
	msgmnb = read_sysctl("/proc/sys/kernel/msgmnb", 16384);

	switch (mode) {
	case MODE_MIX:
		qmix = new_queue();
		qreader = new_queue();
		qfull = new_queue();
		ready_and_go(qmix);

		step_mix(qmix, 1 + (int)rnd(3));
		step_efault(qmix);
		step_not_present(qmix);
		step_eacces(qmix);
		step_reader(qreader);
		step_full(qfull);
		step_doomed();

		remove_queue(qmix);
		remove_queue(qreader);
		remove_queue(qfull);
		break;
	case MODE_SIMPLE:
		qmix = new_queue();
		ready_and_go(qmix);
		mode_simple(qmix, count < 0 ? 100 : count, fail);
		remove_queue(qmix);
		break;
	case MODE_DOOMED:
		qmix = new_queue();
		ready_and_go(qmix);
		mode_doomed(qmix, fail ? fail : 1, fail_cpu);
		break;
	case MODE_BLOCKED:
		qfull = new_queue();
		if (mode_blocked(qfull, senders, then))
			remove_queue(qfull);
		break;
	case MODE_FLOOD:
		mode_flood(senders, seconds, until);
		break;
	case MODE_HOLD:
		mode_hold(count < 0 ? 10 : count);
		break;
	case MODE_STRAY:
		mode_stray(count < 0 ? 1000 : count, have_key ? key : 1 << 24);
		break;
	case MODE_IDENTITY:
		if (!have_key) {
			fprintf(stderr, "msgtap-workload: --mode identity needs --key\n");
			return 2;
		}
		mode_identity((key_t)key, owner_uid, owner_gid, perm,
			      count < 0 ? 10 : count);
		break;
	}

	write_truth(truth, new_ns);
	/* Still in its IPC namespace after the queues are gone, so a test can
	 * look at that namespace from outside through /proc/PID/ns/ipc. */
	if (linger)
		while (access(linger, F_OK) != 0)
			sleep_ms(10);
	if (deviations) {
		fprintf(stderr, "msgtap-workload: %d step(s) deviated\n", deviations);
		return 1;
	}
	fprintf(stderr, "msgtap-workload: via %s, %d queues, all steps as expected\n",
		via_names[via], nr_queues);
	return 0;
}
