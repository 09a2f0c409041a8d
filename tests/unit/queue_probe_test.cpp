// SPDX-License-Identifier: GPL-2.0-only
// The queue prober against the host kernel's real SysV queues: depth,
// removal, and a queue in another IPC namespace reached through a process
// living there.
#include "daemon/queue_probe.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace msgtap::daemon {
namespace {

struct Msg {
  long mtype;
  char text[100];
};

uint32_t own_ns() {
  struct stat st {};
  if (::stat("/proc/self/ns/ipc", &st) < 0) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

TEST(QueueProber, DepthOfAQueueThenItsRemoval) {
  const int q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) GTEST_SKIP() << "no SysV message queues here: " << std::strerror(errno);
  Msg m{1, {}};
  ASSERT_EQ(::msgsnd(q, &m, 40, IPC_NOWAIT), 0);
  ASSERT_EQ(::msgsnd(q, &m, 60, IPC_NOWAIT), 0);

  QueueProber prober;
  ASSERT_EQ(prober.home_ns(), own_ns());
  std::map<stats::QueueKey, stats::QueueStats> queues;
  queues[{own_ns(), q}];
  prober.probe(queues, 1000.0);
  const stats::QueueLive& live = queues.begin()->second.live;
  EXPECT_EQ(live.state, stats::QueueLive::State::present) << live.note;
  EXPECT_EQ(live.qnum, 2U);
  EXPECT_EQ(live.cbytes, 100U);
  EXPECT_GT(live.qbytes, 100U);
  EXPECT_EQ(queues.begin()->second.removed_at, 0);

  ASSERT_EQ(::msgctl(q, IPC_RMID, nullptr), 0);
  prober.probe(queues, 1001.0);
  EXPECT_EQ(live.state, stats::QueueLive::State::removed);
  EXPECT_EQ(queues.begin()->second.removed_at, 1001.0);
  prober.probe(queues, 1002.0);  // the first sighting stays the removal time
  EXPECT_EQ(queues.begin()->second.removed_at, 1001.0);
}

// A child unshares its IPC namespace and creates a queue there with the
// same id as one here; the prober must report each from its own namespace.
TEST(QueueProber, QueuesOfAnotherNamespaceThroughASender) {
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int q = -1;
    if (::unshare(CLONE_NEWIPC) == 0) {
      q = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
      Msg m{1, {}};
      for (int i = 0; i < 3; ++i) ::msgsnd(q, &m, 10, IPC_NOWAIT);
    }
    struct stat st {};
    ::stat("/proc/self/ns/ipc", &st);
    const int64_t msg[2] = {q, static_cast<int64_t>(st.st_ino)};
    (void)!::write(ready[1], msg, sizeof(msg));
    char c;
    (void)!::read(done[0], &c, 1);
    _exit(0);
  }
  int64_t got[2] = {-1, 0};
  ASSERT_EQ(::read(ready[0], got, sizeof(got)), static_cast<ssize_t>(sizeof(got)));
  auto finish = [&] {
    (void)!::write(done[1], "x", 1);
    ::waitpid(child, nullptr, 0);
  };
  if (got[0] < 0) {
    finish();
    GTEST_SKIP() << "cannot create an IPC namespace here (needs CAP_SYS_ADMIN)";
  }
  const auto ns = static_cast<uint32_t>(got[1]);
  std::map<stats::QueueKey, stats::QueueStats> queues;
  stats::QueueStats& theirs = queues[{ns, static_cast<int32_t>(got[0])}];
  QueueProber prober;

  prober.probe(queues, 5.0);  // no sender known: cannot enter
  EXPECT_EQ(theirs.live.state, stats::QueueLive::State::unknown);
  EXPECT_NE(theirs.live.note.find("no process"), std::string::npos) << theirs.live.note;

  theirs.last_tgid = static_cast<uint32_t>(child);
  prober.probe(queues, 6.0);
  EXPECT_EQ(theirs.live.state, stats::QueueLive::State::present) << theirs.live.note;
  EXPECT_EQ(theirs.live.qnum, 3U);
  EXPECT_EQ(theirs.live.cbytes, 30U);
  // Back home afterwards.
  EXPECT_EQ(own_ns(), prober.home_ns());
  finish();

  // The process has gone (and with it the namespace): unknown, with why.
  prober.probe(queues, 7.0);
  EXPECT_EQ(theirs.live.state, stats::QueueLive::State::unknown);
  EXPECT_FALSE(theirs.live.note.empty());
}

}  // namespace
}  // namespace msgtap::daemon
