#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what `make bench` needs beyond tests/deps.sh: gnuplot (without X)
# for the plot, valgrind for the receive path's instruction counts. Quiet and
# offline when they are already there.
set -euo pipefail

packages=(gnuplot-nox python3 valgrind)
missing=()
for p in "${packages[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: missing packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "bench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
