#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of tests/bench/report.py, the arithmetic behind BENCHMARKS.md.

- The published run's console renders to the committed latest.md and
  latest.json: numbers quoted in BENCHMARKS.md cannot drift from the code
  that computes them without a new run being published.
- A small console with known answers: per-round ratios, --pair, a flood
  against its own untraced calls, a scale step's two halves, and floods
  of two builds alternating (--ab), and the same console counted in
  instructions (--icount).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")
RESULTS = os.path.join(HERE, "results")


def run_report(console, out, *extra):
    subprocess.run([sys.executable, REPORT, "--console", console, "--out", out, *extra],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "latest.json")) as f:
        doc = json.load(f)
    with open(os.path.join(out, "latest.md")) as f:
        md = f.read()
    return doc, md


class PublishedRun(unittest.TestCase):
    def test_renders_as_committed(self):
        with open(os.path.join(RESULTS, "latest.json")) as f:
            committed = json.load(f)
        with open(os.path.join(RESULTS, "latest.md")) as f:
            committed_md = f.read()
        host = committed["host"]
        with tempfile.TemporaryDirectory() as out:
            doc, md = run_report(
                os.path.join(RESULTS, "latest-console.log"), out,
                "--commit", committed["commit"], "--elapsed", str(committed["elapsed_s"]),
                "--host-cpu", host["cpu"], "--host-cpus", host["cpus"],
                "--qemu", host["qemu"], "--accel", host["accel"],
                "--receive-path", os.path.join(RESULTS, "latest-receive-path.txt"))
        # Only the time of rendering differs.
        for d in (doc, committed):
            del d["generated"]
        self.assertEqual(doc, committed)
        self.assertEqual(md.splitlines()[1:], committed_md.splitlines()[1:])


SMALL = """\
BENCH-INFO kernel test
BENCH-INFO ncpus 2
BENCH-INFO record_bytes 120
BENCH-INFO ns_record_bytes 24
BENCH-COST 1 baseline pair 100
BENCH-COST 1 old-e1 pair 110
BENCH-COST 1 msgtap-e1 pair 105
BENCH-COST 2 baseline pair 200
BENCH-COST 2 old-e1 pair 240
BENCH-COST 2 msgtap-e1 pair 250
BENCH-COST 3 baseline pair 100 300 100
BENCH-COST 3 old-e1 pair 130
BENCH-COST 3 msgtap-e1 pair 128
BENCH-COST 3 msgtapd-e1 pair 150
BENCH-KV tput senders=2 seconds=10 calls=100000 cpu_ticks=30 guest_busy_ticks=230 clk_tck=100 exact=1 untraced_ns=1000,3000,2000,2000
BENCH-JSON tput-2 {"daemon": {"events_received": 100000}, "loss": {"total": 0}, "kernel": {"ring_size": 4096, "ns_ring_size": 256, "nr_cpus": 2}}
BENCH-KV scale queues=10 sends=400 fresh_ticks=4 again_ticks=2 cpu_ticks=6 clk_tck=100 exact=1
BENCH-JSON scale-10 {"daemon": {"events_received": 400}, "loss": {"total": 0}, "kernel": {"ring_size": 64, "nr_cpus": 2}}
BENCH-KV ab variant=this round=1 senders=1 seconds=10 calls=50000 guest_busy_ticks=200 utime=10 stime=20 loop_utime=8 loop_stime=20 clk_tck=100 exact=1 untraced_ns=1000,2000,3000
BENCH-JSON ab-this-1-1 {"daemon": {"events_received": 100000}, "loss": {"total": 0}}
BENCH-KV ab variant=old round=1 senders=1 seconds=10 utime=30 stime=30 loop_utime=30 loop_stime=30 clk_tck=100 exact=0 untraced_ns=2000
BENCH-JSON ab-old-1-1 {"daemon": {"events_received": 200000}, "loss": {"total": 0}}
BENCH-KV ab variant=this round=2 senders=1 seconds=10 utime=20 stime=20 loop_utime=20 loop_stime=20 clk_tck=100 exact=1 untraced_ns=4000
BENCH-JSON ab-this-1-2 {"daemon": {"events_received": 100000}, "loss": {"total": 0}}
BENCH-END
"""


class SmallConsole(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        console = os.path.join(cls.dir.name, "console.log")
        with open(console, "w") as f:
            f.write(SMALL)
        cls.doc, cls.md = run_report(console, os.path.join(cls.dir.name, "out"),
                                     "--pair", "old-e1", "msgtap-e1")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_each_round_against_its_own_baseline(self):
        pair = self.doc["cost_per_send"]["pair"]
        # Ratios 1.10, 1.20, 1.30; differences 10, 40, 30.
        self.assertEqual(pair["old-e1"]["ratio"], 1.2)
        self.assertEqual(pair["old-e1"]["added_ns"], 30.0)
        # A round's repetitions count by their median (round 3: 100).
        self.assertEqual(pair["baseline"]["per_round_ns"]["3"], 100.0)
        # Only round 3 ran it.
        self.assertEqual(pair["msgtapd-e1"]["rounds"], 1)
        self.assertEqual(pair["msgtapd-e1"]["ratio"], 1.5)
        self.assertTrue(self.doc["complete"])

    def test_counted_in_time_unless_icount(self):
        self.assertNotIn("unit", self.doc)
        self.assertIn("| configuration | median ns |", self.md)
        with tempfile.TemporaryDirectory() as d:
            console = os.path.join(d, "console.log")
            with open(console, "w") as f:
                f.write(SMALL)
            doc, md = run_report(console, os.path.join(d, "out"), "--icount")
        self.assertEqual(doc["unit"], "instruction")
        # The numbers are the same; only what they are called changes.
        self.assertEqual(doc["cost_per_send"], self.doc["cost_per_send"])
        self.assertIn("| configuration | median instructions |", md)
        self.assertIn("(instructions per pair)", md)
        self.assertIn("Counted, not timed", md)

    def test_pair_is_per_round_difference_of_ratios(self):
        p = self.doc["pairs"]["pair"]
        # 1.05 - 1.10, 1.25 - 1.20, 1.28 - 1.30
        self.assertEqual(p["rounds"], 3)
        self.assertEqual(p["median_diff"], -0.02)
        self.assertEqual(p["mean_diff"], round((-0.05 + 0.05 - 0.02) / 3, 3))
        self.assertEqual(p["b_lower_rounds"], 2)
        self.assertNotIn("loop", self.doc["pairs"])
        self.assertIn("msgtap-e1 − old-e1, round by round", self.md)

    def test_flood_against_its_own_untraced_calls(self):
        (r,) = self.doc["throughput"]
        # 0.3 s of msgtapd CPU over 100,000 events; median call 2,000 ns.
        self.assertEqual(r["msgtapd_cpu_ns_per_event"], 3000.0)
        self.assertEqual(r["untraced_ns_per_call"], 2000.0)
        self.assertEqual(r["msgtapd_cpu_per_event_over_untraced_call"], 1.5)
        t = self.doc["targets"]["msgtapd_cpu_per_event"]
        self.assertEqual(t["measured"], "around the flood")
        self.assertEqual(t["fraction"], 1.5)
        self.assertFalse(t["met"])
        # The guest was busy 2.3 s, msgtapd 0.3 of it: 20,000 ns per call
        # for the rest, and 3,000 ns per event over that.
        self.assertEqual(r["rest_of_guest_ns_per_call"], 20000.0)
        self.assertEqual(t["fraction_of_rest_of_guest_per_call"], 0.15)
        self.assertIn("2 sender(s): msgtapd 0.130 of it, the rest 20,000.0 ns per call", self.md)

    def test_ring_bytes_count_the_namespace_rings_when_known(self):
        (t,) = self.doc["throughput"]
        self.assertEqual(t["ns_ring_size"], 256)
        self.assertEqual(t["ring_bytes"], 4096 * 2 * 120 + 256 * 2 * 24)
        # A module that does not say its namespace ring's size.
        (s,) = self.doc["scale"]
        self.assertNotIn("ns_ring_size", s)
        self.assertEqual(s["ring_bytes"], 64 * 2 * 120)

    def test_scale_halves_each_per_event(self):
        (r,) = self.doc["scale"]
        # 200 sends per half: 40 ms and 20 ms of msgtapd CPU.
        self.assertEqual(r["msgtapd_cpu_ns_per_event_fresh"], 200000.0)
        self.assertEqual(r["msgtapd_cpu_ns_per_event_again"], 100000.0)
        self.assertIn("| 200.00, 100.00 |", self.md)

    def test_builds_alternating_split_by_thread_and_mode(self):
        rows = {(r["variant"], r["round"]): r for r in self.doc["ab_floods"]["rounds"]}
        # Round 1 of this build: 30 ticks over 100,000 events; 28 of them
        # the event loop's, so 2 another thread's.
        r = rows[("this", 1)]
        self.assertEqual(r["ns_per_event_all"], 3000.0)
        self.assertEqual(r["ns_per_event_user"], 1000.0)
        self.assertEqual(r["ns_per_event_loop"], 2800.0)
        self.assertEqual(r["ns_per_event_other_threads"], 200.0)
        # The guest was busy 200 ticks, msgtapd 30 of them: the other 170
        # over 50,000 calls are 34,000 ns per call.
        self.assertEqual(r["msgtapd_share_of_guest_busy"], 0.15)
        self.assertEqual(r["rest_of_guest_ns_per_call"], 34000.0)
        self.assertEqual(r["msgtapd_cpu_per_event_over_rest_per_call"], round(3000 / 34000, 3))
        self.assertNotIn("msgtapd_share_of_guest_busy", rows[("this", 2)])
        this, old = sorted(self.doc["ab_floods"]["summary"], key=lambda x: x["variant"] != "this")
        # Medians over rounds 1 and 2 (3,000 and 4,000 ns per event).
        self.assertEqual(this["rounds"], 2)
        self.assertEqual(this["ns_per_event_all"], 3500.0)
        self.assertEqual(this["ns_per_event_other_threads"], 100.0)
        self.assertEqual(this["untraced_ns_per_call"], 3000.0)
        self.assertTrue(this["exact_all"])
        self.assertEqual(old["ns_per_event_all"], 3000.0)
        self.assertFalse(old["exact_all"])
        self.assertIn("| this | 1 | 2 | 10,000 | yes, 0 | 3,500.0 |", self.md)


if __name__ == "__main__":
    unittest.main()
