// SPDX-License-Identifier: GPL-2.0-only
/*
 * msgtap-nlprobe: speaks the msgtap generic netlink protocol directly, one
 * request per run, so VM scenarios can test the kernel module without
 * msgtapd: every command, a listener that checks sequence numbers and dumps
 * each record as a line, and deliberately malformed requests.
 *
 * Output is made for scripts: one "name=value" item per line (the event dump
 * has one record per line of such words). A request the kernel refuses
 * prints "error=ENAME" and "extack=TEXT" (empty without a message) on
 * stdout and exits 1; success exits 0, a usage error 2.
 *
 * It builds against the project's uapi header, so a protocol change shows up
 * here as a compile error or a test failure, never as silent agreement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/msgtap.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MAX_CPUS 1024

/* What the kernel answered to the last request. */
struct reply {
	int error; /* 0 or a positive errno */
	char extack[512];
	bool have_offset;
	uint32_t offset;
	int (*on_msg)(struct nl_msg *msg, void *arg); /* replies and events */
	void *arg;
	bool acked;
};

static struct nl_sock *sk;
static int family;
static struct reply rep;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: msgtap-nlprobe COMMAND [OPTION]...\n"
		"\n"
		"Commands (each sends one msgtap request; all need CAP_NET_ADMIN except\n"
		"family and listen):\n"
		"  register [--read] [--events FILE] [--ipcns-events FILE] [--hold SECONDS]\n"
		"           [--unregister]\n"
		"      registers this socket as the listener and prints 'registered\n"
		"      portid=N'; then waits --hold seconds, or until SIGTERM/SIGINT.\n"
		"      --read reads the events meanwhile, checks the per-CPU sequence\n"
		"      numbers and, when stopping, flushes on this socket (so every\n"
		"      record queued before is read) and prints the counts: send\n"
		"      records ('events=N ...', 'seq_gaps=N ...'), then namespace\n"
		"      records, numbered in a series of their own ('ipcns_gone=N ...',\n"
		"      'ipcns_seq_gaps=N ...'); --events writes each send record as a\n"
		"      line of name=value words, --ipcns-events each namespace record\n"
		"      ('cpu=C seq=S ipc_ns=N ts=T len=L'); --unregister unregisters\n"
		"      before closing (otherwise closing forgets it)\n"
		"  unregister | flush | enable | disable\n"
		"  stats           every GET_STATS counter and field as name=value lines,\n"
		"                  one 'probe=SYMBOL kind=K nmissed=N maxactive=N' per probe\n"
		"  set-filter [--failures-only] [--flags N] [--rule FIELD[!]=V,...]...\n"
		"             [--empty | --none]\n"
		"      FIELD: tgid, uid, ipcns, msqid, cgroup, a number, or 'none' (rule\n"
		"      without a field); a value is a number (negative ones are sent as\n"
		"      their 64-bit two's complement) or a range A..B; '!=' excludes.\n"
		"      --flags sends exactly N as the flags; --empty sends an empty filter\n"
		"      nest, --none no filter attribute (both clear the filter)\n"
		"  get-filter      the filter in force: 'flags=0xN' and 'rule FIELD[!]=V,...'\n"
		"                  lines, or 'filter=empty'\n"
		"  family          the family as the controller describes it (no privilege):\n"
		"                  id, version, maxattr, its multicast groups, its operations\n"
		"  listen [--seconds N | --until FILE]\n"
		"      joins every multicast group of the family and counts what arrives\n"
		"      on a socket that never registered, for N seconds (default 2) or\n"
		"      until FILE exists: 'received_ipcns_gone=N', then\n"
		"      'received_events=N received_msgs=N' (send records, messages)\n"
		"  raw CMD [--reserved N] [--version N] [--attr SPEC | --end]...\n"
		"      sends command CMD (a name such as GET_STATS, or a number) with\n"
		"      exactly the attributes given: SPEC is TYPE:u8:V, TYPE:u16:V,\n"
		"      TYPE:u32:V, TYPE:u64:V, TYPE:str:TEXT, TYPE:flag, TYPE:bin:HEX,\n"
		"      TYPE:nest (opens a nest, with NLA_F_NESTED), TYPE:nest-noflag;\n"
		"      --end closes the innermost nest. --reserved sets the genetlink\n"
		"      header's reserved byte\n"
		"  poll-stats --until FILE\n"
		"      until FILE exists: resolves the family and sends GET_STATS,\n"
		"      again and again, while the module may come and go; checks that\n"
		"      every answer names each probe, and prints 'polls=N answered=N\n"
		"      absent=N refused=N'. Exit status 1 if an answer was not whole\n"
		"  spoof PORT [--records N] [--msqid ID]\n"
		"      sends, from this process, one EVENTS batch of N (default 10)\n"
		"      well-formed records of 1-byte sends to queue ID (default 0) of\n"
		"      this IPC namespace to netlink port PORT, as if the kernel had:\n"
		"      a listener must ignore it (600 records make it longer than\n"
		"      64 KiB)\n"
		"\n"
		"Exit status: 0 success, 1 the kernel refused (error=ENAME and\n"
		"extack=TEXT on stdout) or another failure, 2 usage error.\n");
}

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "msgtap-nlprobe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(2);
}

static const char *errno_name(int err)
{
	static char buf[16];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

/* Prints the machine-readable failure lines and returns exit status 1. */
static int report_error(int err, const char *extack)
{
	printf("error=%s\n", errno_name(err));
	printf("extack=%s\n", extack ? extack : "");
	if (rep.have_offset)
		printf("extack_offset=%u\n", rep.offset);
	fflush(stdout);
	return 1;
}

/* A failure of this program rather than a kernel answer. */
static int local_error(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "msgtap-nlprobe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return report_error(err, NULL);
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	/* libnl hands over the payload; the header is right before it. */
	const struct nlmsghdr *nlh =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	size_t off = sizeof(*e);

	(void)nla;
	(void)arg;
	rep.error = -e->error;
	rep.acked = true;
	rep.extack[0] = 0;
	rep.have_offset = false;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return NL_STOP;

	struct nlattr *a = (struct nlattr *)((char *)e + NLMSG_ALIGN(off));
	int len = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(off));
	struct nlattr *pos;
	int rem;

	nla_for_each_attr(pos, a, len, rem) {
		if (nla_type(pos) == NLMSGERR_ATTR_MSG) {
			snprintf(rep.extack, sizeof(rep.extack), "%.*s",
				 nla_len(pos), (const char *)nla_data(pos));
		} else if (nla_type(pos) == NLMSGERR_ATTR_OFFS &&
			   nla_len(pos) >= 4) {
			rep.have_offset = true;
			rep.offset = nla_get_u32(pos);
		}
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	rep.acked = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	(void)arg;
	if (rep.on_msg)
		return rep.on_msg(msg, rep.arg);
	return NL_OK;
}

/* Opens the generic netlink socket and resolves the family if @resolve. */
static int open_socket(bool resolve)
{
	struct timeval tmo = { .tv_sec = 10 };
	int one = 1, fd;

	sk = nl_socket_alloc();
	if (!sk)
		return local_error(ENOMEM, "nl_socket_alloc failed");
	if (genl_connect(sk) < 0)
		return local_error(EIO, "cannot open a generic netlink socket");
	fd = nl_socket_get_fd(sk);
	/* Extended acks carry the kernel's message; off by default. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* A request the kernel never answers fails instead of hanging. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	if (resolve) {
		family = genl_ctrl_resolve(sk, MSGTAP_GENL_NAME);
		if (family < 0) {
			fprintf(stderr, "msgtap-nlprobe: generic netlink family \"%s\" not found (%s): is msgtap.ko loaded?\n",
				MSGTAP_GENL_NAME, nl_geterror(family));
			return report_error(ENOENT, NULL);
		}
	}
	/* Batches are up to MSGTAP_BATCH_MAX: one recvmsg each, no peeking. */
	nl_socket_disable_msg_peek(sk);
	nl_socket_set_msg_buf_size(sk, 4 * MSGTAP_BATCH_MAX);
	/* Events carry sequence number 0. */
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, NULL);
	nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, NULL);
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, NULL);
	return 0;
}

static struct nl_msg *new_request(int fam, uint8_t cmd, uint8_t version,
				  uint8_t reserved)
{
	struct nl_msg *msg = nlmsg_alloc_size(65536);
	struct genlmsghdr *g;

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0,
				 cmd, version)) {
		fprintf(stderr, "msgtap-nlprobe: cannot build a request\n");
		exit(1);
	}
	g = nlmsg_data(nlmsg_hdr(msg));
	g->reserved = reserved;
	return msg;
}

/*
 * Sends @msg (freed here) and reads until its ack or error; replies go to
 * @on_msg. Returns 0 or a positive errno (rep.extack holds the message).
 */
static int transact(struct nl_msg *msg, int (*on_msg)(struct nl_msg *, void *),
		    void *arg)
{
	int err;

	rep.error = 0;
	rep.extack[0] = 0;
	rep.have_offset = false;
	rep.acked = false;
	rep.on_msg = on_msg;
	rep.arg = arg;
	err = nl_send_auto(sk, msg); /* adds NLM_F_ACK */
	nlmsg_free(msg);
	if (err < 0) {
		fprintf(stderr, "msgtap-nlprobe: send: %s\n", nl_geterror(err));
		return EIO;
	}
	while (!rep.acked) {
		err = nl_recvmsgs_default(sk);
		if (rep.acked)
			break;
		if (err == -NLE_NOMEM) /* ENOBUFS: the socket overran */
			continue;
		if (err < 0) {
			fprintf(stderr, "msgtap-nlprobe: receive: %s\n",
				nl_geterror(err));
			return EIO;
		}
	}
	return rep.error;
}

/* Sends a command without attributes; 0 or exit status 1 after reporting. */
static int simple_command(uint8_t cmd, int (*on_msg)(struct nl_msg *, void *),
			  void *arg)
{
	int err = transact(new_request(family, cmd, MSGTAP_GENL_VERSION, 0),
			   on_msg, arg);

	return err ? report_error(err, rep.extack) : 0;
}

/* --- parsing helpers ------------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s == '-') {
		long long x = strtoll(s, &end, 0);

		*v = (uint64_t)x;
	} else {
		*v = strtoull(s, &end, 0);
	}
	return !errno && end != s && !*end;
}

static uint64_t need_u64(const char *s, const char *what)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		die_usage("%s: '%s' is not a number", what, s);
	return v;
}

static const char *const field_names[] = {
	[MSGTAP_FIELD_TGID] = "tgid",	[MSGTAP_FIELD_UID] = "uid",
	[MSGTAP_FIELD_IPC_NS] = "ipcns", [MSGTAP_FIELD_MSQID] = "msqid",
	[MSGTAP_FIELD_CGROUP] = "cgroup",
};

static const char *field_name(uint32_t f, char *buf, size_t len)
{
	if (f < sizeof(field_names) / sizeof(field_names[0]) && field_names[f])
		return field_names[f];
	snprintf(buf, len, "%u", f);
	return buf;
}

static const char *const cmd_names[] = {
	[MSGTAP_CMD_UNSPEC] = "UNSPEC",
	[MSGTAP_CMD_REGISTER] = "REGISTER",
	[MSGTAP_CMD_UNREGISTER] = "UNREGISTER",
	[MSGTAP_CMD_GET_STATS] = "GET_STATS",
	[MSGTAP_CMD_FLUSH] = "FLUSH",
	[MSGTAP_CMD_EVENTS] = "EVENTS",
	[MSGTAP_CMD_SET_FILTER] = "SET_FILTER",
	[MSGTAP_CMD_GET_FILTER] = "GET_FILTER",
	[MSGTAP_CMD_ENABLE] = "ENABLE",
	[MSGTAP_CMD_DISABLE] = "DISABLE",
};

/* --- stats -------------------------------------------------------------- */

static const char *const stat_names[] = {
	[MSGTAP_STAT_PROBE_HITS] = "probe_hits",
	[MSGTAP_STAT_EVENTS_QUEUED] = "events_queued",
	[MSGTAP_STAT_DROP_RING_FULL] = "drop_ring_full",
	[MSGTAP_STAT_DROP_NO_LISTENER] = "drop_no_listener",
	[MSGTAP_STAT_DROP_UNDELIVERABLE] = "drop_undeliverable",
	[MSGTAP_STAT_DELIVERY_NOMEM] = "delivery_nomem",
	[MSGTAP_STAT_EVENTS_DELIVERED] = "events_delivered",
	[MSGTAP_STAT_BATCHES_DELIVERED] = "batches_delivered",
	[MSGTAP_STAT_DELIVERY_RETRIES] = "delivery_retries",
	[MSGTAP_STAT_FILTERED] = "filtered",
	[MSGTAP_STAT_DISABLED] = "disabled",
	[MSGTAP_STAT_IPCNS_GONE_QUEUED] = "ipcns_gone_queued",
	[MSGTAP_STAT_IPCNS_GONE_DELIVERED] = "ipcns_gone_delivered",
	[MSGTAP_STAT_IPCNS_GONE_LOST] = "ipcns_gone_lost",
};

static void print_probe(const struct nlattr *nest)
{
	const struct nlattr *a;
	int rem;
	char sym[128] = "?";
	uint32_t kind = 0, maxactive = 0;
	uint64_t nmissed = 0;

	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		switch (nla_type(a)) {
		case MSGTAP_PROBE_A_SYMBOL:
			snprintf(sym, sizeof(sym), "%.*s", nla_len(a),
				 (const char *)nla_data(a));
			break;
		case MSGTAP_PROBE_A_KIND:
			kind = nla_get_u32((struct nlattr *)a);
			break;
		case MSGTAP_PROBE_A_NMISSED:
			nmissed = nla_get_u64((struct nlattr *)a);
			break;
		case MSGTAP_PROBE_A_MAXACTIVE:
			maxactive = nla_get_u32((struct nlattr *)a);
			break;
		}
	}
	printf("probe=%s kind=%s nmissed=%" PRIu64 " maxactive=%u\n", sym,
	       kind == MSGTAP_PROBE_KIND_KRETPROBE ? "kretprobe" :
	       kind == MSGTAP_PROBE_KIND_KPROBE	   ? "kprobe" :
							     "unknown",
	       nmissed, maxactive);
}

static int on_stats(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const struct nlattr *a, *s;
	int rem, srem;

	(void)arg;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		switch (nla_type(a)) {
		case MSGTAP_A_STATS:
			nla_for_each_nested(s, (struct nlattr *)a, srem) {
				int t = nla_type(s);

				if (t == MSGTAP_STAT_PAD)
					continue;
				if (t < (int)(sizeof(stat_names) / sizeof(stat_names[0])) &&
				    stat_names[t])
					printf("%s=", stat_names[t]);
				else
					printf("stat%d=", t);
				printf("%" PRIu64 "\n",
				       nla_get_u64((struct nlattr *)s));
			}
			break;
		case MSGTAP_A_LISTENER_PORTID:
			printf("listener_portid=%u\n", nla_get_u32((struct nlattr *)a));
			break;
		case MSGTAP_A_RING_SIZE:
			printf("ring_size=%u\n", nla_get_u32((struct nlattr *)a));
			break;
		case MSGTAP_A_NS_RING_SIZE:
			printf("ns_ring_size=%u\n", nla_get_u32((struct nlattr *)a));
			break;
		case MSGTAP_A_NR_CPUS:
			printf("nr_cpus=%u\n", nla_get_u32((struct nlattr *)a));
			break;
		case MSGTAP_A_FLUSH_MS:
			printf("flush_ms=%u\n", nla_get_u32((struct nlattr *)a));
			break;
		case MSGTAP_A_ENABLED:
			printf("enabled=%u\n", nla_get_u8((struct nlattr *)a));
			break;
		case MSGTAP_A_PROBE:
			print_probe(a);
			break;
		default:
			printf("attr%d=len%d\n", nla_type(a), nla_len(a));
		}
	}
	return NL_OK;
}

/* --- filters ------------------------------------------------------------ */

static void put_rule(struct nl_msg *msg, const char *spec)
{
	const char *eq = strchr(spec, '=');
	bool exclude = false;
	char field[32], *values, *tok, *save = NULL;
	size_t flen;
	struct nlattr *rule;

	if (!eq)
		die_usage("--rule '%s': expected FIELD=V,... or FIELD!=V,...", spec);
	flen = (size_t)(eq - spec);
	if (flen && spec[flen - 1] == '!') {
		exclude = true;
		flen--;
	}
	if (flen == 0 || flen >= sizeof(field))
		die_usage("--rule '%s': bad field", spec);
	memcpy(field, spec, flen);
	field[flen] = 0;

	rule = nla_nest_start(msg, NLA_F_NESTED | MSGTAP_FILTER_A_RULE);
	if (strcmp(field, "none")) {
		uint32_t f = 0;

		for (uint32_t i = 1; i <= MSGTAP_FIELD_MAX; i++)
			if (!strcmp(field, field_names[i]))
				f = i;
		if (!f)
			f = (uint32_t)need_u64(field, "--rule field");
		nla_put_u32(msg, MSGTAP_RULE_A_FIELD, f);
	}
	if (exclude)
		nla_put_flag(msg, MSGTAP_RULE_A_EXCLUDE);
	values = strdup(eq + 1);
	for (tok = strtok_r(values, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dots = strstr(tok, "..");

		if (dots && dots != tok) {
			uint64_t a, b;

			*dots = 0;
			a = need_u64(tok, "--rule range");
			b = need_u64(dots + 2, "--rule range");
			for (uint64_t v = a; v <= b; v++)
				nla_put_u64(msg, MSGTAP_RULE_A_VALUE, v);
		} else {
			nla_put_u64(msg, MSGTAP_RULE_A_VALUE,
				    need_u64(tok, "--rule value"));
		}
	}
	free(values);
	nla_nest_end_keep_empty(msg, rule);
}

static int cmd_set_filter(int argc, char **argv)
{
	struct nl_msg *msg = new_request(family, MSGTAP_CMD_SET_FILTER,
					 MSGTAP_GENL_VERSION, 0);
	bool failures_only = false, empty = false, none = false;
	bool have_flags = false;
	uint64_t flags = 0;
	struct nlattr *nest;
	int i, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--failures-only")) {
			failures_only = true;
		} else if (!strcmp(argv[i], "--flags") && i + 1 < argc) {
			flags = need_u64(argv[++i], "--flags");
			have_flags = true;
		} else if (!strcmp(argv[i], "--empty")) {
			empty = true;
		} else if (!strcmp(argv[i], "--none")) {
			none = true;
		} else if (!strcmp(argv[i], "--rule") && i + 1 < argc) {
			i++; /* rules are added below, in order */
		} else {
			die_usage("set-filter: unknown argument '%s'", argv[i]);
		}
	}
	if (!none) {
		nest = nla_nest_start(msg, NLA_F_NESTED | MSGTAP_A_FILTER);
		if (!empty) {
			if (failures_only && !have_flags)
				flags = MSGTAP_FILTER_F_FAILURES_ONLY;
			if (failures_only || have_flags)
				nla_put_u32(msg, MSGTAP_FILTER_A_FLAGS, (uint32_t)flags);
			for (i = 0; i < argc; i++)
				if (!strcmp(argv[i], "--rule"))
					put_rule(msg, argv[++i]);
				else if (!strcmp(argv[i], "--flags"))
					i++;
		}
		nla_nest_end_keep_empty(msg, nest);
	}
	err = transact(msg, NULL, NULL);
	if (err)
		return report_error(err, rep.extack);
	printf("filter set\n");
	return 0;
}

static void print_rule(const struct nlattr *nest)
{
	const struct nlattr *a;
	int rem;
	bool have_field = false, exclude = false, first = true;
	uint32_t field = 0;
	char buf[16];

	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		if (nla_type(a) == MSGTAP_RULE_A_FIELD) {
			field = nla_get_u32((struct nlattr *)a);
			have_field = true;
		} else if (nla_type(a) == MSGTAP_RULE_A_EXCLUDE) {
			exclude = true;
		}
	}
	printf("rule %s%s=", have_field ? field_name(field, buf, sizeof(buf)) : "none",
	       exclude ? "!" : "");
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		if (nla_type(a) != MSGTAP_RULE_A_VALUE)
			continue;
		printf("%s%" PRIu64, first ? "" : ",", nla_get_u64((struct nlattr *)a));
		first = false;
	}
	printf("\n");
}

static int on_filter(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const struct nlattr *a, *f;
	int rem, frem;
	bool seen = false;

	(void)arg;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) != MSGTAP_A_FILTER) {
			printf("attr%d=len%d\n", nla_type(a), nla_len(a));
			continue;
		}
		seen = true;
		if (!nla_len(a))
			printf("filter=empty\n");
		nla_for_each_nested(f, (struct nlattr *)a, frem) {
			if (nla_type(f) == MSGTAP_FILTER_A_FLAGS)
				printf("flags=%#x\n", nla_get_u32((struct nlattr *)f));
			else if (nla_type(f) == MSGTAP_FILTER_A_RULE)
				print_rule(f);
			else
				printf("filter_attr%d=len%d\n", nla_type(f), nla_len(f));
		}
	}
	if (!seen)
		printf("filter=absent\n");
	return NL_OK;
}

/* --- the listener ----------------------------------------------------------- */

/* One CPU's series of one record kind (see "Sequence numbers" in the uapi
 * header): each kind is numbered on its own, so each has its own gaps. */
struct seq_series {
	uint64_t count[MAX_CPUS], first_seq[MAX_CPUS], last_seq[MAX_CPUS];
	uint64_t gaps, backwards, bad_cpu;
};

struct listen_state {
	FILE *events, *ipcns_events;
	uint64_t nevents, nbatches, unknown_attrs, short_records, overruns;
	uint64_t other_msgs;
	struct seq_series send;
	/* namespace records (MSGTAP_A_EVENT_IPCNS_GONE) */
	uint64_t nipcns, ipcns_short_records;
	struct seq_series ipcns;
};

static void seq_note(struct seq_series *s, uint32_t cpu, uint64_t seq)
{
	if (cpu >= MAX_CPUS) {
		s->bad_cpu++;
		return;
	}
	if (!s->count[cpu])
		s->first_seq[cpu] = seq;
	else if (seq <= s->last_seq[cpu])
		s->backwards++;
	else if (seq != s->last_seq[cpu] + 1)
		s->gaps += seq - s->last_seq[cpu] - 1;
	s->last_seq[cpu] = seq;
	s->count[cpu]++;
}

static void dump_event(FILE *f, const struct msgtap_send_event *ev,
		       unsigned int len)
{
	char comm[MSGTAP_COMM_LEN + 1];
	unsigned int i;

	for (i = 0; i < MSGTAP_COMM_LEN && ev->comm[i]; i++)
		comm[i] = (ev->comm[i] > ' ' && ev->comm[i] < 127) ? ev->comm[i] : '_';
	comm[i] = 0;
	fprintf(f,
		"cpu=%u seq=%" PRIu64 " tgid=%u tid=%u uid=%u gid=%u comm=%s"
		" ipc_ns=%u msqid=%d mtype=%" PRId64 " msgsz=%" PRIu64
		" msgflg=%d result=%d flags=%#x early=%d compat=%d slept=%d"
		" intr=%d qknown=%d key=%d q_uid=%u q_gid=%u q_mode=%#o"
		" cgroup=%" PRIu64 " ts=%" PRIu64 " dur=%" PRIu64 " len=%u\n",
		ev->cpu, (uint64_t)ev->seq, ev->tgid, ev->tid, ev->uid, ev->gid,
		comm[0] ? comm : "-", ev->ipc_ns, ev->msqid, (int64_t)ev->mtype,
		(uint64_t)ev->msgsz, ev->msgflg, ev->result, ev->flags,
		!!(ev->flags & MSGTAP_EVF_EARLY), !!(ev->flags & MSGTAP_EVF_COMPAT),
		!!(ev->flags & MSGTAP_EVF_SLEPT),
		!!(ev->flags & MSGTAP_EVF_INTERRUPTED),
		!!(ev->flags & MSGTAP_EVF_QUEUE_KNOWN), ev->key, ev->q_uid,
		ev->q_gid, ev->q_mode, (uint64_t)ev->cgroup_id,
		(uint64_t)ev->ts_ns, (uint64_t)ev->duration_ns, len);
}

static void on_ipcns_gone(struct listen_state *ls, const struct nlattr *a)
{
	struct msgtap_ipcns_event ev;
	unsigned int len = (unsigned int)nla_len(a);

	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, nla_data(a), len < sizeof(ev) ? len : sizeof(ev));
	if (len < sizeof(ev))
		ls->ipcns_short_records++;
	ls->nipcns++;
	seq_note(&ls->ipcns, ev.cpu, ev.seq);
	if (ls->ipcns_events)
		fprintf(ls->ipcns_events,
			"cpu=%u seq=%" PRIu64 " ipc_ns=%u ts=%" PRIu64 " len=%u\n",
			ev.cpu, (uint64_t)ev.seq, ev.ipc_ns, (uint64_t)ev.ts_ns, len);
}

static int on_event_msg(struct nl_msg *msg, void *arg)
{
	struct listen_state *ls = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	const struct nlattr *a;
	int rem;

	if (nlh->nlmsg_type != family || g->cmd != MSGTAP_CMD_EVENTS) {
		ls->other_msgs++;
		return NL_OK;
	}
	ls->nbatches++;
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		struct msgtap_send_event ev;
		unsigned int len = (unsigned int)nla_len(a);

		if (nla_type(a) == MSGTAP_A_EVENT_IPCNS_GONE) {
			on_ipcns_gone(ls, a);
			continue;
		}
		if (nla_type(a) != MSGTAP_A_EVENT_SEND) {
			ls->unknown_attrs++;
			continue;
		}
		/* Records grow at the end: take what both sides know. */
		memset(&ev, 0, sizeof(ev));
		memcpy(&ev, nla_data(a), len < sizeof(ev) ? len : sizeof(ev));
		if (len < sizeof(ev))
			ls->short_records++;
		ls->nevents++;
		seq_note(&ls->send, ev.cpu, ev.seq);
		if (ls->events)
			dump_event(ls->events, &ev, len);
	}
	if (ls->events)
		fflush(ls->events);
	if (ls->ipcns_events)
		fflush(ls->ipcns_events);
	return NL_OK;
}

static void print_listen_summary(const struct listen_state *ls)
{
	printf("events=%" PRIu64 " batches=%" PRIu64 " unknown_attrs=%" PRIu64
	       " short_records=%" PRIu64 " overruns=%" PRIu64 " other_msgs=%" PRIu64 "\n",
	       ls->nevents, ls->nbatches, ls->unknown_attrs, ls->short_records,
	       ls->overruns, ls->other_msgs);
	for (unsigned int c = 0; c < MAX_CPUS; c++)
		if (ls->send.count[c])
			printf("cpu=%u events=%" PRIu64 " first_seq=%" PRIu64
			       " last_seq=%" PRIu64 "\n",
			       c, ls->send.count[c], ls->send.first_seq[c],
			       ls->send.last_seq[c]);
	printf("seq_gaps=%" PRIu64 " seq_backwards=%" PRIu64 " bad_cpu=%" PRIu64 "\n",
	       ls->send.gaps, ls->send.backwards, ls->send.bad_cpu);
	/* After the send lines, which scripts match as they are. */
	printf("ipcns_gone=%" PRIu64 " ipcns_short_records=%" PRIu64 "\n",
	       ls->nipcns, ls->ipcns_short_records);
	for (unsigned int c = 0; c < MAX_CPUS; c++)
		if (ls->ipcns.count[c])
			printf("ipcns_cpu=%u ipcns_gone=%" PRIu64
			       " first_seq=%" PRIu64 " last_seq=%" PRIu64 "\n",
			       c, ls->ipcns.count[c], ls->ipcns.first_seq[c],
			       ls->ipcns.last_seq[c]);
	printf("ipcns_seq_gaps=%" PRIu64 " ipcns_seq_backwards=%" PRIu64
	       " ipcns_bad_cpu=%" PRIu64 "\n",
	       ls->ipcns.gaps, ls->ipcns.backwards, ls->ipcns.bad_cpu);
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads what the socket holds now, without blocking. */
static void drain_socket(struct listen_state *ls)
{
	rep.on_msg = on_event_msg;
	rep.arg = ls;
	for (;;) {
		struct pollfd p = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
		int err;

		if (poll(&p, 1, 0) <= 0)
			return;
		err = nl_recvmsgs_default(sk);
		if (err == -NLE_NOMEM)
			ls->overruns++;
		else if (err < 0)
			return;
	}
}

static int cmd_register(int argc, char **argv)
{
	static struct listen_state ls;
	bool read_events = false, unregister = false;
	const char *events_path = NULL, *ipcns_path = NULL;
	double hold = -1, deadline;
	sigset_t mask;
	int sfd, i, err, status = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--read"))
			read_events = true;
		else if (!strcmp(argv[i], "--unregister"))
			unregister = true;
		else if (!strcmp(argv[i], "--events") && i + 1 < argc)
			events_path = argv[++i];
		else if (!strcmp(argv[i], "--ipcns-events") && i + 1 < argc)
			ipcns_path = argv[++i];
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = strtod(argv[++i], NULL);
		else
			die_usage("register: unknown argument '%s'", argv[i]);
	}
	if (events_path) {
		read_events = true;
		ls.events = fopen(events_path, "w");
		if (!ls.events)
			return local_error(errno, "cannot write %s", events_path);
	}
	if (ipcns_path) {
		read_events = true;
		ls.ipcns_events = fopen(ipcns_path, "w");
		if (!ls.ipcns_events)
			return local_error(errno, "cannot write %s", ipcns_path);
	}

	/* Signals arrive through a descriptor polled with the socket. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	err = transact(new_request(family, MSGTAP_CMD_REGISTER,
				   MSGTAP_GENL_VERSION, 0),
		       read_events ? on_event_msg : NULL, &ls);
	if (err)
		return report_error(err, rep.extack);
	printf("registered portid=%u\n", nl_socket_get_local_port(sk));
	fflush(stdout);

	deadline = hold >= 0 ? now_s() + hold : 0;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = nl_socket_get_fd(sk), .events = POLLIN },
		};
		int timeout = -1;

		if (hold >= 0) {
			double left = deadline - now_s();

			if (left <= 0)
				break;
			timeout = (int)(left * 1000) + 1;
		}
		if (poll(p, read_events ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (read_events && p[1].revents)
			drain_socket(&ls);
	}

	if (read_events) {
		/* Every record queued before this is read before its ack. */
		err = transact(new_request(family, MSGTAP_CMD_FLUSH,
					   MSGTAP_GENL_VERSION, 0),
			       on_event_msg, &ls);
		if (err) {
			printf("flush_error=%s\nflush_extack=%s\n",
			       errno_name(err), rep.extack);
			status = 1;
		}
		drain_socket(&ls);
		print_listen_summary(&ls);
	}
	if (unregister) {
		err = transact(new_request(family, MSGTAP_CMD_UNREGISTER,
					   MSGTAP_GENL_VERSION, 0),
			       read_events ? on_event_msg : NULL, &ls);
		if (err)
			return report_error(err, rep.extack);
		printf("unregistered\n");
	}
	if (ls.events)
		fclose(ls.events);
	if (ls.ipcns_events)
		fclose(ls.ipcns_events);
	fflush(stdout);
	return status;
}

/* --- unprivileged views: the family and what a plain socket receives -------- */

struct family_info {
	int id;
	uint32_t groups[32];
	int ngroups;
	bool print;
};

static int on_family(struct nl_msg *msg, void *arg)
{
	struct family_info *fi = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const struct nlattr *n, *a;
	int rem, arem;

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[CTRL_ATTR_FAMILY_ID])
		fi->id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (fi->print) {
		if (tb[CTRL_ATTR_FAMILY_NAME])
			printf("name=%s\n", nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]));
		printf("id=%d\n", fi->id);
		if (tb[CTRL_ATTR_VERSION])
			printf("version=%u\n", nla_get_u32(tb[CTRL_ATTR_VERSION]));
		if (tb[CTRL_ATTR_MAXATTR])
			printf("maxattr=%u\n", nla_get_u32(tb[CTRL_ATTR_MAXATTR]));
	}
	if (tb[CTRL_ATTR_OPS] && fi->print) {
		nla_for_each_nested(n, tb[CTRL_ATTR_OPS], rem) {
			uint32_t id = 0, flags = 0;

			nla_for_each_nested(a, (struct nlattr *)n, arem) {
				if (nla_type(a) == CTRL_ATTR_OP_ID)
					id = nla_get_u32((struct nlattr *)a);
				else if (nla_type(a) == CTRL_ATTR_OP_FLAGS)
					flags = nla_get_u32((struct nlattr *)a);
			}
			printf("op=%s admin_perm=%d flags=%#x\n",
			       id < sizeof(cmd_names) / sizeof(cmd_names[0]) ?
				       cmd_names[id] : "?",
			       !!(flags & GENL_ADMIN_PERM), flags);
		}
	}
	if (tb[CTRL_ATTR_MCAST_GROUPS]) {
		nla_for_each_nested(n, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
			uint32_t id = 0;
			const char *name = "?";

			nla_for_each_nested(a, (struct nlattr *)n, arem) {
				if (nla_type(a) == CTRL_ATTR_MCAST_GRP_ID)
					id = nla_get_u32((struct nlattr *)a);
				else if (nla_type(a) == CTRL_ATTR_MCAST_GRP_NAME)
					name = nla_get_string((struct nlattr *)a);
			}
			if (fi->print)
				printf("mcast_group=%s id=%u\n", name, id);
			if (fi->ngroups < 32)
				fi->groups[fi->ngroups++] = id;
		}
	}
	if (fi->print)
		printf("mcast_groups=%d\n", fi->ngroups);
	return NL_OK;
}

static int get_family(struct family_info *fi)
{
	struct nl_msg *msg = new_request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	int err;

	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, MSGTAP_GENL_NAME);
	err = transact(msg, on_family, fi);
	return err ? report_error(err, rep.extack) : 0;
}

static int cmd_family(void)
{
	struct family_info fi = { .print = true };

	return get_family(&fi);
}

static int cmd_listen(int argc, char **argv)
{
	static struct listen_state ls;
	struct family_info fi = { .print = false };
	double seconds = 2, deadline;
	const char *until = NULL;
	int i, status;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--until") && i + 1 < argc)
			until = argv[++i];
		else
			die_usage("listen: unknown argument '%s'", argv[i]);
	}
	status = get_family(&fi);
	if (status)
		return status;
	for (i = 0; i < fi.ngroups; i++) {
		int err = nl_socket_add_membership(sk, (int)fi.groups[i]);

		printf("join_group=%u result=%s\n", fi.groups[i],
		       err < 0 ? nl_geterror(err) : "ok");
	}
	printf("mcast_groups=%d\n", fi.ngroups);
	fflush(stdout);
	family = fi.id;
	deadline = now_s() + seconds;
	for (;;) {
		double left = deadline - now_s();
		struct pollfd p = { .fd = nl_socket_get_fd(sk), .events = POLLIN };

		if (until ? access(until, F_OK) == 0 : left <= 0)
			break;
		if (poll(&p, 1, until ? 100 : (int)(left * 1000) + 1) > 0)
			drain_socket(&ls);
	}
	/* The last line stays the one scripts compare whole. */
	printf("received_ipcns_gone=%" PRIu64 "\n", ls.nipcns);
	printf("received_events=%" PRIu64 " received_msgs=%" PRIu64 "\n",
	       ls.nevents, ls.nbatches + ls.other_msgs);
	return 0;
}

/* --- raw requests ----------------------------------------------------------- */

static uint8_t parse_cmd(const char *s)
{
	for (unsigned int i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (cmd_names[i] && !strcasecmp(s, cmd_names[i]))
			return (uint8_t)i;
	return (uint8_t)need_u64(s, "raw: command");
}

static void put_raw_attr(struct nl_msg *msg, const char *spec,
			 struct nlattr **stack, int *depth)
{
	char *copy = strdup(spec), *type_s, *kind, *value;
	int type;

	type_s = strtok(copy, ":");
	kind = strtok(NULL, ":");
	value = strtok(NULL, "");
	if (!type_s || !kind)
		die_usage("--attr '%s': expected TYPE:KIND[:VALUE]", spec);
	type = (int)need_u64(type_s, "--attr type");
	if (!strcmp(kind, "nest") || !strcmp(kind, "nest-noflag")) {
		if (*depth == 8)
			die_usage("--attr: nests too deep");
		/* By hand: libnl's nla_nest_start always sets NLA_F_NESTED. */
		stack[*depth] = nlmsg_tail(nlmsg_hdr(msg));
		nla_put(msg, type | (strcmp(kind, "nest") ? 0 : NLA_F_NESTED), 0,
			NULL);
		(*depth)++;
	} else if (!strcmp(kind, "flag")) {
		nla_put_flag(msg, type);
	} else if (!value) {
		die_usage("--attr '%s': %s needs a value", spec, kind);
	} else if (!strcmp(kind, "u8")) {
		nla_put_u8(msg, type, (uint8_t)need_u64(value, "--attr"));
	} else if (!strcmp(kind, "u16")) {
		nla_put_u16(msg, type, (uint16_t)need_u64(value, "--attr"));
	} else if (!strcmp(kind, "u32")) {
		nla_put_u32(msg, type, (uint32_t)need_u64(value, "--attr"));
	} else if (!strcmp(kind, "u64")) {
		nla_put_u64(msg, type, need_u64(value, "--attr"));
	} else if (!strcmp(kind, "str")) {
		nla_put_string(msg, type, value);
	} else if (!strcmp(kind, "bin")) {
		size_t n = strlen(value) / 2;
		unsigned char *buf = calloc(1, n + 1);

		for (size_t i = 0; i < n; i++)
			if (sscanf(value + 2 * i, "%2hhx", &buf[i]) != 1)
				die_usage("--attr '%s': bad hex", spec);
		nla_put(msg, type, (int)n, buf);
		free(buf);
	} else {
		die_usage("--attr '%s': unknown kind '%s'", spec, kind);
	}
	free(copy);
}

/* The message buffer never moves (it is allocated at its full size). */
static void raw_nest_end(struct nl_msg *msg, struct nlattr *start)
{
	start->nla_len = (uint16_t)((char *)nlmsg_tail(nlmsg_hdr(msg)) -
				    (char *)start);
}

static int on_raw_reply(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);

	(void)arg;
	printf("reply cmd=%u len=%u\n", g->cmd, nlh->nlmsg_len);
	return NL_OK;
}

static int cmd_raw(int argc, char **argv)
{
	struct nlattr *stack[8];
	int depth = 0, i, err;
	uint8_t cmd, version = MSGTAP_GENL_VERSION, reserved = 0;
	struct nl_msg *msg;

	if (argc < 1)
		die_usage("raw: which command?");
	cmd = parse_cmd(argv[0]);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reserved") && i + 1 < argc)
			reserved = (uint8_t)need_u64(argv[++i], "--reserved");
		else if (!strcmp(argv[i], "--version") && i + 1 < argc)
			version = (uint8_t)need_u64(argv[++i], "--version");
		else if (!strcmp(argv[i], "--attr") && i + 1 < argc)
			i++;
		else if (!strcmp(argv[i], "--end"))
			;
		else
			die_usage("raw: unknown argument '%s'", argv[i]);
	}
	msg = new_request(family, cmd, version, reserved);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--attr")) {
			put_raw_attr(msg, argv[++i], stack, &depth);
		} else if (!strcmp(argv[i], "--end")) {
			if (!depth)
				die_usage("raw: --end without an open nest");
			raw_nest_end(msg, stack[--depth]);
		} else if (!strcmp(argv[i], "--reserved") ||
			   !strcmp(argv[i], "--version")) {
			i++;
		}
	}
	while (depth)
		raw_nest_end(msg, stack[--depth]);
	err = transact(msg, on_raw_reply, NULL);
	if (err)
		return report_error(err, rep.extack);
	printf("ok\n");
	return 0;
}

/* --- a batch from user space ------------------------------------------------ */

static int cmd_spoof(int argc, char **argv)
{
	const size_t attr = NLA_HDRLEN + NLA_ALIGN(sizeof(struct msgtap_send_event));
	uint64_t records = 10, msqid = 0, port;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	char link[64] = "";
	uint32_t ipc_ns = 0;
	size_t len, i;
	ssize_t sent;
	char *buf;
	int sndbuf;

	if (argc < 1)
		die_usage("spoof: which port?");
	port = need_u64(argv[0], "spoof: port");
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--records") && a + 1 < argc)
			records = need_u64(argv[++a], "--records");
		else if (!strcmp(argv[a], "--msqid") && a + 1 < argc)
			msqid = need_u64(argv[++a], "--msqid");
		else
			die_usage("spoof: unknown argument '%s'", argv[a]);
	}
	if (port > UINT32_MAX || msqid > INT_MAX || records > 100000)
		die_usage("spoof: port, --msqid or --records out of range");
	if (readlink("/proc/self/ns/ipc", link, sizeof(link) - 1) > 0)
		sscanf(link, "ipc:[%" SCNu32 "]", &ipc_ns);

	len = NLMSG_HDRLEN + GENL_HDRLEN + records * attr;
	buf = calloc(1, len);
	if (!buf)
		return local_error(ENOMEM, "spoof: out of memory");
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = (uint16_t)family;
	g = NLMSG_DATA(nlh);
	g->cmd = MSGTAP_CMD_EVENTS;
	g->version = MSGTAP_GENL_VERSION;
	for (i = 0; i < records; i++) {
		struct nlattr *nla = (struct nlattr *)(buf + NLMSG_HDRLEN +
						       GENL_HDRLEN + i * attr);
		struct msgtap_send_event *ev = (void *)((char *)nla + NLA_HDRLEN);

		nla->nla_type = MSGTAP_A_EVENT_SEND;
		nla->nla_len = (uint16_t)(NLA_HDRLEN + sizeof(*ev));
		ev->seq = i;
		ev->msgsz = 1;
		ev->ipc_ns = ipc_ns;
		ev->msqid = (int32_t)msqid;
		ev->tgid = ev->tid = (uint32_t)getpid();
		ev->flags = MSGTAP_EVF_QUEUE_KNOWN;
		memcpy(ev->comm, "spoof", 6);
	}
	/* Room for the whole datagram on the sending side. */
	sndbuf = (int)(2 * len);
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
		   sizeof(sndbuf));
	to.nl_pid = (uint32_t)port;
	sent = sendto(nl_socket_get_fd(sk), buf, len, 0,
		      (struct sockaddr *)&to, sizeof(to));
	free(buf);
	if (sent < 0)
		return local_error(errno, "spoof: sendto port %" PRIu64 ": %s",
				   port, strerror(errno));
	printf("spoofed records=%" PRIu64 " bytes=%zu portid=%u\n", records,
	       len, nl_socket_get_local_port(sk));
	return 0;
}

/* --- poll-stats ----------------------------------------------------------- */

struct poll_answer {
	unsigned int probes;
	unsigned int unnamed; /* probe nests without a symbol */
};

static int on_poll_stats(struct nl_msg *msg, void *arg)
{
	struct poll_answer *pa = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	const struct nlattr *a, *p;
	int rem, prem;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		bool named = false;

		if (nla_type(a) != MSGTAP_A_PROBE)
			continue;
		nla_for_each_nested(p, (struct nlattr *)a, prem)
			if (nla_type(p) == MSGTAP_PROBE_A_SYMBOL &&
			    nla_len(p) > 1)
				named = true;
		pa->probes++;
		if (!named)
			pa->unnamed++;
	}
	return NL_OK;
}

/*
 * GET_STATS as fast as one socket allows while a script loads and removes
 * the module: a request that lands while the module is half set up or half
 * torn down must get a whole answer or a clean error, never an oops.
 */
static int cmd_poll_stats(int argc, char **argv)
{
	unsigned long polls = 0, answered = 0, absent = 0, refused = 0;
	unsigned long bad = 0;
	const char *until = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--until") && i + 1 < argc)
			until = argv[++i];
		else
			die_usage("poll-stats: unexpected '%s'", argv[i]);
	}
	if (!until)
		die_usage("poll-stats: --until FILE is required");
	while (access(until, F_OK)) {
		struct poll_answer pa = { 0 };
		int fam, err;

		polls++;
		fam = genl_ctrl_resolve(sk, MSGTAP_GENL_NAME);
		if (fam < 0) {
			absent++;
			continue;
		}
		err = transact(new_request(fam, MSGTAP_CMD_GET_STATS,
					   MSGTAP_GENL_VERSION, 0),
			       on_poll_stats, &pa);
		if (err) {
			/* e.g. the family went between resolving and asking */
			refused++;
			continue;
		}
		answered++;
		if (!pa.probes || pa.unnamed) {
			bad++;
			fprintf(stderr, "msgtap-nlprobe: answer %lu: %u probes, %u without a symbol\n",
				answered, pa.probes, pa.unnamed);
		}
	}
	printf("polls=%lu answered=%lu absent=%lu refused=%lu\n", polls,
	       answered, absent, refused);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int status;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	/* Unprivileged views resolve through the controller themselves. */
	status = open_socket(strcmp(cmd, "family") && strcmp(cmd, "listen") &&
			     strcmp(cmd, "poll-stats"));
	if (status)
		return status;

	if (!strcmp(cmd, "register")) {
		status = cmd_register(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "unregister")) {
		status = simple_command(MSGTAP_CMD_UNREGISTER, NULL, NULL);
		if (!status)
			printf("unregistered\n");
	} else if (!strcmp(cmd, "flush")) {
		status = simple_command(MSGTAP_CMD_FLUSH, NULL, NULL);
		if (!status)
			printf("flushed\n");
	} else if (!strcmp(cmd, "enable")) {
		status = simple_command(MSGTAP_CMD_ENABLE, NULL, NULL);
		if (!status)
			printf("enabled\n");
	} else if (!strcmp(cmd, "disable")) {
		status = simple_command(MSGTAP_CMD_DISABLE, NULL, NULL);
		if (!status)
			printf("disabled\n");
	} else if (!strcmp(cmd, "stats")) {
		status = simple_command(MSGTAP_CMD_GET_STATS, on_stats, NULL);
	} else if (!strcmp(cmd, "get-filter")) {
		status = simple_command(MSGTAP_CMD_GET_FILTER, on_filter, NULL);
	} else if (!strcmp(cmd, "set-filter")) {
		status = cmd_set_filter(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "family")) {
		status = cmd_family();
	} else if (!strcmp(cmd, "listen")) {
		status = cmd_listen(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "raw")) {
		status = cmd_raw(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "poll-stats")) {
		status = cmd_poll_stats(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "spoof")) {
		status = cmd_spoof(argc - 2, argv + 2);
	} else {
		die_usage("unknown command '%s'", cmd);
	}
	fflush(stdout);
	nl_socket_free(sk);
	return status;
}
