# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2034 # variables for the tests that source this
# Helpers for the packaging tests (bash); source with `. tests/pkg/lib.sh`.
# tests/pkg/run sets MSGTAP_ROOT (the source tree) and MSGTAP_PKG_OUT
# (build/pkg); a test may also run on its own from the tree's top.

set -euo pipefail
MSGTAP_ROOT=${MSGTAP_ROOT:-$(pwd)}
MSGTAP_PKG_OUT=${MSGTAP_PKG_OUT:-$MSGTAP_ROOT/build/pkg}
MSGTAP_VERSION=$(cat "$MSGTAP_ROOT/VERSION")
mkdir -p "$MSGTAP_PKG_OUT"

fail() {
	echo "FAIL: $*"
	exit 1
}

ok() {
	echo "ok: $*"
}

info() {
	echo "-- $*"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	ok "$1 = $2"
}

# kver_of SPEC: the Debian kernel version of a spec (6.1, 6.12, ...), the
# one the VM tests boot.
kver_of() {
	"$MSGTAP_ROOT/tests/vm/kernel.sh" resolve "$1"
}

# tree_listing DIR: every file, link and directory under DIR with its mode,
# one per line, sorted; what a test compares to prove DIR was left alone.
tree_listing() {
	if [ -e "$1" ]; then
		(cd "$1" && find . -printf '%M %s %p\n' | LC_ALL=C sort)
	else
		echo "absent"
	fi
}
