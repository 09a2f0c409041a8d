#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Summarises the "AB round config workload ns..." lines of tests/bench/ab-fine.sh.

Each boot (the AB lines after a "## " heading, or the whole file) is
summarised alone. Each run is compared with the baseline of its own round: for every
configuration, the median over rounds of that ratio ("x base") and of the
difference in ns ("added"). With --pair A B it also prints, round by round,
B's ratio minus A's: their median, mean, and in how many rounds B was lower.

  tests/bench/ab-summary.py console.log [--pair old-e1 msgtap-e1]
"""
import argparse
import statistics
import sys
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--pair", nargs=2, metavar=("A", "B"))
    args = ap.parse_args()

    # A results file may hold several boots, each after a "## " heading.
    boots = []  # (heading, runs, configs)
    heading = ""
    runs = None
    with open(args.log, errors="replace") as f:
        for line in f:
            if line.startswith("## "):
                heading, runs = line[3:].strip(), None
                continue
            words = line.split()
            if len(words) < 5 or words[0] != "AB":
                continue
            if runs is None:
                runs = defaultdict(dict)  # (workload, round) -> config -> ns
                boots.append((heading, runs, []))
            _, rnd, config, workload, *ns = words
            runs[(workload, int(rnd))][config] = statistics.median(map(float, ns))
            if config not in boots[-1][2]:
                boots[-1][2].append(config)
    if not boots:
        sys.exit(f"{args.log}: no AB lines")
    for heading, runs, configs in boots:
        if len(boots) > 1:
            print(f"== {heading}")
        summarise(runs, configs, args.pair)


def summarise(runs, configs, pair):
    for workload in ("pair", "loop"):
        rounds = [m for (w, _), m in sorted(runs.items()) if w == workload and "base" in m]
        if not rounds:
            continue
        print(f"{workload}: {len(rounds)} rounds")
        print(f"  {'configuration':<20} {'x base':>7} {'added ns':>9}")
        for c in configs:
            have = [m for m in rounds if c in m]
            ratio = statistics.median(m[c] / m["base"] for m in have)
            added = statistics.median(m[c] - m["base"] for m in have)
            print(f"  {c:<20} {ratio:7.3f} {added:9.1f}")
        if pair:
            a, b = pair
            d = [m[b] / m["base"] - m[a] / m["base"] for m in rounds if a in m and b in m]
            lower = sum(x < 0 for x in d)
            print(f"  {b} - {a} (x base): median {statistics.median(d):+.3f}, "
                  f"mean {statistics.mean(d):+.3f}, {b} lower in {lower} of {len(d)} rounds")


if __name__ == "__main__":
    main()
