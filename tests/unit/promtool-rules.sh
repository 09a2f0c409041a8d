#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# promtool-rules.sh SAMPLE: checks dist/msgtap-alerts.yml with Prometheus's
# own tools: `promtool check rules`, then `promtool test rules` on
# msgtap-alerts.test.yml (each alert fires on its series, with its text, and
# no other does); and every msgtap_* metric the rules read is one msgtapd
# exports (a family in what SAMPLE, the exporter's full rendering, prints).
# Exits 77 (skipped) without promtool.
sample=$1
here=$(dirname "$0")
rules=$here/../../dist/msgtap-alerts.yml
if ! command -v promtool >/dev/null 2>&1; then
	echo "SKIPPED: promtool not found; install Debian's prometheus package (tests/deps.sh does)"
	exit 77
fi
promtool check rules "$rules" || { echo "FAIL: promtool check rules"; exit 1; }
promtool test rules "$here/msgtap-alerts.test.yml" || { echo "FAIL: promtool test rules"; exit 1; }

text=$(mktemp)
trap 'rm -f "$text"' EXIT
"$sample" >"$text" || { echo "FAIL: $sample exited with status $?"; exit 1; }
names=$(grep -v '^ *#' "$rules" | grep -o 'msgtap_[a-z_]*' | sort -u)
[ -n "$names" ] || { echo "FAIL: found no msgtap metric in the rules' expressions"; exit 1; }
missing=0
for name in $names; do
	if ! grep -q "^# TYPE $name " "$text"; then
		echo "FAIL: the rules read $name, which msgtapd does not export"
		missing=1
	fi
done
[ $missing -eq 0 ] || exit 1
echo "ok: the rules read only exported families: $(echo $names)"
