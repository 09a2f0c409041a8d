#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Instructions per event of msgtapd's receive path (receive_bench.cpp), case
# by case: callgrind's inclusive count of visit_if_events(), which parses,
# sequence-checks and aggregates each record, divided by the records it
# handled (20 replays of each case's recording: the first inserts the
# queues). Exact and independent of the host's load, unlike the times.
# Usage: tests/bench/host/ir-per-event.sh [BENCH_BINARY]
set -euo pipefail
bench=${1:-build/bin/msgtap-receive-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MSGTAP_BENCH_ITERATIONS=20
for c in $("$bench" --benchmark_list_tests 2>/dev/null); do
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bench" \
		--benchmark_filter="^$c\$" >"$tmp/log" 2>&1
	records=$(sed -n 's/^records handled: //p' "$tmp/log")
	ir=$(callgrind_annotate --inclusive=yes "$tmp/out" 2>/dev/null |
		awk '/msgtap::genl::visit_if_events/ && !done { gsub(",", "", $1); print $1; done = 1 }')
	[ -n "$records" ] && [ -n "$ir" ] || { cat "$tmp/log" >&2; exit 1; }
	awk -v c="$c" -v ir="$ir" -v n="$records" \
		'BEGIN { printf "%-45s %8.1f instructions per record (%d records)\n", c, ir / n, n }'
done
