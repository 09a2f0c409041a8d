#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# promtool-check.sh SAMPLE [--broken]: runs `promtool check metrics` on what
# SAMPLE prints. Passes when promtool reports nothing (or, with --broken,
# when it reports the broken family); exits 77 (skipped) without promtool.
sample=$1
mode=${2:-}
if ! command -v promtool >/dev/null 2>&1; then
	echo "SKIPPED: promtool not found; install Debian's prometheus package (tests/deps.sh does)"
	exit 77
fi
text=$(mktemp)
trap 'rm -f "$text"' EXIT
"$sample" $mode >"$text" || { echo "FAIL: $sample exited with status $?"; exit 1; }
report=$(promtool check metrics <"$text" 2>&1)
status=$?
echo "promtool check metrics: status $status on $(wc -l <"$text") lines"
[ -n "$report" ] && echo "$report"
if [ "$mode" = --broken ]; then
	if [ $status -ne 0 ] && echo "$report" | grep -q 'msgtap_broken_sends'; then
		echo "ok: promtool rejects the broken family"
		exit 0
	fi
	echo "FAIL: promtool did not report msgtap_broken_sends"
	exit 1
fi
if [ $status -ne 0 ] || [ -n "$report" ]; then
	echo "FAIL: promtool reported problems"
	exit 1
fi
echo "ok: promtool reports nothing"
