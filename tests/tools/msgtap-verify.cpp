// SPDX-License-Identifier: GPL-2.0-only
// msgtap-verify: checks a msgtapd snapshot against the ground truth that
// msgtap-workload wrote, exactly, and checks that nothing was lost on the way.
//
// Usage: msgtap-verify --snapshot SNAP.json TRUTH.json [TRUTH.json ...]
//
// Every truth queue must appear in the snapshot with the same counts; every
// snapshot queue of a namespace some truth file covers must be in the truth.
// Truth files are taken in the order the workloads ran. Files naming the same
// (ipc_ns, msqid) are summed (workloads run one after the other in one
// namespace), except that a file written in a namespace of its own
// ("new_ipcns": true) whose ipc_ns an earlier file named replaces what the
// earlier files said about that ipc_ns: the kernel gave the new namespace the
// inode number of one that had ended, msgtapd learnt of the end
// (MSGTAP_A_EVENT_IPCNS_GONE) and retired the old namespace's rows, so only
// the new one's are in the snapshot and the old counts are in its retired
// totals. Exit status: 0 all equal, 1 a mismatch, 2 unusable input.

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using json = nlohmann::json;

struct Key {
  std::uint64_t ipc_ns;
  std::int64_t msqid;
  auto operator<=>(const Key&) const = default;
};

std::string to_string(const Key& k) {
  return "ipc_ns=" + std::to_string(k.ipc_ns) + " msqid=" + std::to_string(k.msqid);
}

// What the truth files together say about one queue.
struct Expected {
  std::uint64_t sends_ok = 0;
  std::uint64_t bytes_ok = 0;
  std::uint64_t sends_failed = 0;
  std::uint64_t sends_slept = 0;
  std::uint64_t min_slept_ns = 0;
  std::uint64_t compat_sends = 0;
  std::map<std::string, std::uint64_t> errors;
};

// What replaced truth files had counted: msgtapd retired those rows.
struct Replaced {
  std::uint64_t entries = 0;
  std::uint64_t sends_ok = 0;
  std::uint64_t bytes_ok = 0;
  std::uint64_t sends_failed = 0;
};

// Input that cannot be compared at all (unreadable, not JSON, no such key in
// a truth file): exit status 2, not a mismatch.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

json load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not JSON: " + e.what());
  }
}

std::uint64_t truth_u64(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned())
    throw InputError(where + ": \"" + key + "\" missing or not a non-negative integer");
  return it->get<std::uint64_t>();
}

class Verifier {
 public:
  void add_truth(const std::string& path) {
    const json t = load(path);
    if (!t.is_object() || !t.contains("queues") || !t["queues"].is_array())
      throw InputError(path + ": no \"queues\" array");
    const std::uint64_t ns = truth_u64(t, "ipc_ns", path);
    auto compat = t.find("compat");
    if (compat == t.end() || !compat->is_boolean())
      throw InputError(path + ": \"compat\" missing or not a boolean");
    // Absent in the truth of workloads that stayed in their namespace, and
    // in that of older workloads.
    auto new_ns = t.find("new_ipcns");
    if (new_ns != t.end() && !new_ns->is_boolean())
      throw InputError(path + ": \"new_ipcns\" is not a boolean");

    // The whole file first, so that an error leaves nothing half replaced.
    std::map<Key, Expected> file;
    for (const json& q : t["queues"]) {
      auto id = q.find("msqid");
      if (id == q.end() || !id->is_number_integer())
        throw InputError(path + ": a queue without an integer \"msqid\"");
      const Key key{ns, id->get<std::int64_t>()};
      const std::string where = path + " " + to_string(key);
      Expected& e = file[key];
      const std::uint64_t ok = truth_u64(q, "sends_ok", where);
      std::uint64_t failed = 0;
      e.sends_ok += ok;
      e.bytes_ok += truth_u64(q, "bytes_ok", where);
      e.sends_slept += truth_u64(q, "sends_slept", where);
      e.min_slept_ns += truth_u64(q, "min_slept_ns", where);
      if (q.contains("errors")) {
        if (!q["errors"].is_object()) throw InputError(where + ": \"errors\" is not an object");
        for (const auto& [name, n] : q["errors"].items()) {
          if (!n.is_number_unsigned())
            throw InputError(where + ": errors." + name + " is not a count");
          e.errors[name] += n.get<std::uint64_t>();
          failed += n.get<std::uint64_t>();
        }
      }
      e.sends_failed += failed;
      if (compat->get<bool>()) e.compat_sends += ok + failed;
    }

    // The namespace an earlier file named has ended: the kernel hands out
    // the lowest free inode number, so a new namespace made right after
    // often carries it.
    if (new_ns != t.end() && new_ns->get<bool>() && namespaces_.contains(ns)) {
      const std::uint64_t before = replaced_.entries;
      std::erase_if(expected_, [&](const auto& kv) {
        if (kv.first.ipc_ns != ns) return false;
        ++replaced_.entries;
        replaced_.sends_ok += kv.second.sends_ok;
        replaced_.bytes_ok += kv.second.bytes_ok;
        replaced_.sends_failed += kv.second.sends_failed;
        return true;
      });
      std::cout << "msgtap-verify: " << path << ": new namespace with the reused ipc_ns=" << ns
                << ": replaces " << replaced_.entries - before
                << " queue(s) of earlier truth files\n";
    }
    namespaces_.insert(ns);
    for (const auto& [key, f] : file) {
      Expected& e = expected_[key];
      e.sends_ok += f.sends_ok;
      e.bytes_ok += f.bytes_ok;
      e.sends_failed += f.sends_failed;
      e.sends_slept += f.sends_slept;
      e.min_slept_ns += f.min_slept_ns;
      e.compat_sends += f.compat_sends;
      for (const auto& [name, n] : f.errors) e.errors[name] += n;
    }
  }

  void check(const json& snap) {
    if (!snap.is_object() || !snap.contains("schema") || snap["schema"] != 1)
      throw InputError("snapshot: not a msgtapd snapshot of schema 1");
    check_loss(snap);
    check_queues(snap);
    check_retired(snap);
  }

  int mismatches() const { return mismatches_; }
  std::size_t queues() const { return expected_.size(); }
  std::size_t namespaces() const { return namespaces_.size(); }

 private:
  template <typename... Args>
  void mismatch(const std::string& what, const Args&... details) {
    std::ostringstream line;
    line << "MISMATCH " << what << ": ";
    (line << ... << details);
    std::cout << line.str() << '\n';
    ++mismatches_;
  }

  // A counter of the snapshot at a dotted path; reports and returns nullopt
  // if it is absent, so a daemon that drops a field cannot pass.
  std::optional<std::uint64_t> counter(const json& root, std::string_view path,
                                       const std::string& what) {
    const json* node = &root;
    std::size_t start = 0;
    while (start <= path.size()) {
      const std::size_t dot = path.find('.', start);
      const std::string part(path.substr(start, dot - start));
      if (!node->is_object() || !node->contains(part)) {
        mismatch(what, path, " missing from the snapshot");
        return std::nullopt;
      }
      node = &(*node)[part];
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (!node->is_number_unsigned()) {
      mismatch(what, path, " is not a non-negative integer: ", node->dump());
      return std::nullopt;
    }
    return node->get<std::uint64_t>();
  }

  void expect_zero(const json& root, std::string_view path) {
    auto v = counter(root, path, "loss");
    if (v && *v != 0) mismatch("loss", path, " expected 0 got ", *v);
  }

  void check_loss(const json& snap) {
    const json& loss = snap.contains("loss") ? snap["loss"] : json();
    if (!loss.is_object()) {
      mismatch("loss", "no \"loss\" object in the snapshot");
    } else {
      auto nl = loss.find("nothing_lost");
      if (nl == loss.end() || !nl->is_boolean() || !nl->get<bool>())
        mismatch("loss", "loss.nothing_lost expected true got ",
                 nl == loss.end() ? "nothing" : nl->dump());
      // The named ones must be there; any further loss.* counter a newer
      // daemon adds must be zero as well.
      for (const char* k : {"total", "kernel_ring_full", "kernel_undeliverable", "probe_missed",
                            "seq_gaps", "restore_gap"})
        if (!loss.contains(k)) mismatch("loss", "loss.", k, " missing from the snapshot");
      for (const auto& [k, v] : loss.items()) {
        if (k == "nothing_lost") continue;
        if (!v.is_number_unsigned())
          mismatch("loss", "loss.", k, " is not a non-negative integer: ", v.dump());
        else if (v.get<std::uint64_t>() != 0)
          mismatch("loss", "loss.", k, " expected 0 got ", v.get<std::uint64_t>());
      }
    }

    // daemon.socket_drops is not checked: netlink counts batches it refused
    // although the module keeps and retries them; real loss is a seq gap.
    // The kernel never sends a record msgtapd cannot read: a malformed one
    // came from somewhere else, or was misread.
    for (const char* p : {"kernel.drop_ring_full", "kernel.drop_undeliverable", "daemon.seq_gaps",
                          "daemon.malformed"})
      expect_zero(snap, p);

    const json* probes = nullptr;
    if (snap.contains("kernel") && snap["kernel"].is_object() && snap["kernel"].contains("probes"))
      probes = &snap["kernel"]["probes"];
    if (!probes || !probes->is_array() || probes->empty()) {
      mismatch("loss", "kernel.probes: no attached probe in the snapshot");
    } else {
      for (std::size_t i = 0; i < probes->size(); ++i) {
        auto v = counter((*probes)[i], "nmissed", "loss");
        if (v && *v != 0)
          mismatch("loss", "kernel.probes[", i, "] (",
                   (*probes)[i].value("symbol", std::string("?")), ").nmissed expected 0 got ", *v);
      }
    }

    auto queued = counter(snap, "kernel.events_queued", "loss");
    auto received = counter(snap, "daemon.events_received", "loss");
    if (queued && received && *queued != *received)
      mismatch("loss", "daemon.events_received expected kernel.events_queued = ", *queued, " got ",
               *received);
  }

  void check_queues(const json& snap) {
    if (!snap.contains("queues") || !snap["queues"].is_array()) {
      mismatch("queues", "no \"queues\" array in the snapshot");
      return;
    }
    std::map<Key, const json*> seen;
    for (const json& q : snap["queues"]) {
      if (!q.is_object() || !q.contains("ipc_ns") || !q["ipc_ns"].is_number_unsigned() ||
          !q.contains("msqid") || !q["msqid"].is_number_integer()) {
        mismatch("queues", "snapshot queue without ipc_ns/msqid: ", q.dump());
        continue;
      }
      const Key key{q["ipc_ns"].get<std::uint64_t>(), q["msqid"].get<std::int64_t>()};
      if (!seen.emplace(key, &q).second) mismatch(to_string(key), "listed twice in the snapshot");
      // Only namespaces a truth file covers: other namespaces may carry
      // unrelated traffic (the harness, other scenarios).
      if (namespaces_.contains(key.ipc_ns) && !expected_.contains(key))
        mismatch(to_string(key), "queue not in the truth (extra events): sends_ok ",
                 q.value("sends_ok", json()).dump(), " sends_failed ",
                 q.value("sends_failed", json()).dump());
    }

    for (const auto& [key, e] : expected_) {
      const std::string what = to_string(key);
      auto it = seen.find(key);
      if (it == seen.end()) {
        mismatch(what, "missing from the snapshot (expected sends_ok ", e.sends_ok,
                 " sends_failed ", e.sends_failed, ")");
        continue;
      }
      const json& q = *it->second;
      auto equal = [&](const char* field, std::uint64_t want) {
        auto got = counter(q, field, what);
        if (got && *got != want) mismatch(what, field, " expected ", want, " got ", *got);
      };
      equal("sends_ok", e.sends_ok);
      equal("bytes_ok", e.bytes_ok);
      equal("sends_failed", e.sends_failed);
      equal("sends_slept", e.sends_slept);
      equal("compat_sends", e.compat_sends);
      if (auto slept = counter(q, "slept_ns", what); slept && *slept < e.min_slept_ns)
        mismatch(what, "slept_ns expected >= ", e.min_slept_ns, " got ", *slept);
      check_errors(what, e, q);
    }
  }

  // The rows of a replaced namespace were retired, so their counts are in
  // the retired totals. Only at least: the totals also hold every other
  // queue msgtapd retired (removed ones past --retire-after, other tests').
  void check_retired(const json& snap) {
    if (replaced_.entries == 0) return;
    auto at_least = [&](const char* path, std::uint64_t want) {
      auto got = counter(snap, path, "retired");
      if (got && *got < want)
        mismatch("retired", path, " expected >= ", want, " (replaced truth) got ", *got);
    };
    at_least("retired.sends_ok", replaced_.sends_ok);
    at_least("retired.bytes_ok", replaced_.bytes_ok);
    at_least("retired.sends_failed", replaced_.sends_failed);
  }

  void check_errors(const std::string& what, const Expected& e, const json& q) {
    std::map<std::string, std::uint64_t> got;
    if (q.contains("errors")) {
      if (!q["errors"].is_object()) {
        mismatch(what, "errors is not an object: ", q["errors"].dump());
        return;
      }
      for (const auto& [name, n] : q["errors"].items()) {
        if (!n.is_number_unsigned()) {
          mismatch(what, "errors.", name, " is not a count: ", n.dump());
          continue;
        }
        got[name] = n.get<std::uint64_t>();
      }
    }
    std::set<std::string> names;
    for (const auto& [name, n] : e.errors) names.insert(name);
    for (const auto& [name, n] : got) names.insert(name);
    for (const std::string& name : names) {
      const std::uint64_t want = e.errors.contains(name) ? e.errors.at(name) : 0;
      const std::uint64_t have = got.contains(name) ? got.at(name) : 0;
      if (want != have) mismatch(what, "errors.", name, " expected ", want, " got ", have);
    }
  }

  std::map<Key, Expected> expected_;
  std::set<std::uint64_t> namespaces_;
  Replaced replaced_;
  int mismatches_ = 0;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: msgtap-verify --snapshot SNAP.json TRUTH.json [TRUTH.json ...]\n"
      "\n"
      "Compares msgtapd's JSON snapshot with msgtap-workload ground truth files.\n"
      "For each truth queue (summed over files naming the same ipc_ns and msqid)\n"
      "sends_ok, bytes_ok, sends_failed, errors and sends_slept must be equal,\n"
      "slept_ns at least min_slept_ns, and compat_sends count the sends of the\n"
      "compat truth files. Queues of a truth namespace missing from the truth,\n"
      "and any loss (kernel drops, missed probes, sequence gaps, malformed\n"
      "records, events_queued != events_received) are mismatches.\n"
      "\n"
      "Give the truth files in the order the workloads ran. A truth file with\n"
      "\"new_ipcns\": true (msgtap-workload --new-ipcns) whose ipc_ns an earlier\n"
      "file named is a new namespace that was given the inode number of one\n"
      "that ended: its queues replace every queue of that ipc_ns the earlier\n"
      "files named, as msgtapd retires the ended namespace's rows, and the\n"
      "snapshot's retired.sends_ok, bytes_ok and sends_failed must be at least\n"
      "what the replaced queues counted.\n"
      "\n"
      "Exit status: 0 all equal, 1 a mismatch, 2 unusable input.\n"
      "\n"
      "usage: msgtap-verify --get SNAP.json PATH\n"
      "\n"
      "Prints one value of the snapshot, for scenario scripts without jq. PATH\n"
      "is dotted; queues[NS:MSQID] selects a queue, a number an array element:\n"
      "queues[4026531839:0].live.qnum, queues[1:0].senders.top.0.tgid,\n"
      "retired.queues. Exit status 1 if there is no such value.\n",
      out);
}

// --get: the value at @path, or nullptr if there is none.
const json* lookup(const json& root, std::string_view path) {
  const json* node = &root;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (part.starts_with("queues[") && part.ends_with("]")) {
      const std::string sel(part.substr(7, part.size() - 8));
      const size_t colon = sel.find(':');
      if (colon == std::string::npos || !node->contains("queues")) return nullptr;
      const json* found = nullptr;
      for (const json& q : (*node)["queues"])
        if (std::to_string(q.value("ipc_ns", std::uint64_t{0})) == sel.substr(0, colon) &&
            std::to_string(q.value("msqid", std::int64_t{-1})) == sel.substr(colon + 1))
          found = &q;
      if (!found) return nullptr;
      node = found;
      continue;
    }
    if (node->is_array()) {  // an index: senders.top.0.tgid
      size_t i = 0;
      auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), i);
      if (ec != std::errc() || end != part.data() + part.size() || i >= node->size())
        return nullptr;
      node = &(*node)[i];
      continue;
    }
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[std::string(part)];
  }
  return node;
}

int get_value(const std::string& snapshot, std::string_view path) {
  try {
    const json snap = load(snapshot);
    const json* v = lookup(snap, path);
    if (!v) {
      std::fprintf(stderr, "msgtap-verify: %s has no %.*s\n", snapshot.c_str(),
                   static_cast<int>(path.size()), path.data());
      return 1;
    }
    std::cout << (v->is_string() ? v->get<std::string>() : v->dump()) << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msgtap-verify: %s\n", e.what());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string snapshot;
  std::vector<std::string> truths;

  if (argc == 4 && std::string_view(argv[1]) == "--get") return get_value(argv[2], argv[3]);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if (arg == "--snapshot" && i + 1 < argc) {
      snapshot = argv[++i];
    } else if (arg.starts_with("--snapshot=")) {
      snapshot = std::string(arg.substr(11));
    } else if (arg.starts_with("-") && arg != "-") {
      std::fprintf(stderr, "msgtap-verify: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else {
      truths.emplace_back(arg);
    }
  }
  if (snapshot.empty() || truths.empty()) {
    usage(stderr);
    return 2;
  }

  Verifier v;
  try {
    for (const std::string& t : truths) v.add_truth(t);
    v.check(load(snapshot));
  } catch (const InputError& e) {
    std::fprintf(stderr, "msgtap-verify: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // a JSON value of an unexpected type
    std::fprintf(stderr, "msgtap-verify: unusable input: %s\n", e.what());
    return 2;
  }

  std::cout << "msgtap-verify: " << v.queues() << " queue(s) in " << v.namespaces()
            << " namespace(s) from " << truths.size() << " truth file(s): " << v.mismatches()
            << " mismatch(es): " << (v.mismatches() ? "FAIL" : "OK") << '\n';
  return v.mismatches() ? 1 : 0;
}
