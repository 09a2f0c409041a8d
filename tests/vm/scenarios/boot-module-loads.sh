#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Smoke test: msgtap.ko loads into the booted kernel and unloads again.
. /tests/lib.sh

msgtap_load
grep '^msgtap ' /proc/modules
msgtap_unload
msgtap_loaded && fail "msgtap is still in /proc/modules after rmmod"
# The kernel's own verdict (WARN, BUG, leaks) is checked by the harness.
exit 0
