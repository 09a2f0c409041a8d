#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Proves that `make install` honours PREFIX (default /usr/local) and DESTDIR
# and installs exactly: msgtapd (sbin), msgtapctl (bin), a systemd unit that
# systemd-analyze accepts and that starts the installed msgtapd, the default
# config (every key commented out, with msgtapd's own defaults), a
# modules-load.d entry that loads nothing until edited, the Prometheus
# alerting rules (which promtool accepts), and the two man pages, which man
# and groff render without a warning and which document every option and
# subcommand the built tools offer; and that `make uninstall` removes it all
# again but an edited config.
# shellcheck source=tests/pkg/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MSGTAP_ROOT" || exit 1

dest=$MSGTAP_PKG_OUT/install
rm -rf "$dest"

# install_tree PREFIX [MAKE ARG...]: installs into $dest/PREFIX-NAME, checks
# the list of files, prints the root.
expect_tree() { # expect_tree ROOT FILE...
	local root=$1 expected actual
	shift
	expected=$(printf '%s\n' "$@" | LC_ALL=C sort)
	actual=$(cd "$root" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort)
	if [ "$expected" != "$actual" ]; then
		diff <(echo "$expected") <(echo "$actual") || true
		fail "make install under $root installed other files (- expected, + installed)"
	fi
	ok "installed exactly: $(echo $actual)"
}

# Default PREFIX: a build from source goes to /usr/local, the config to /etc.
make --no-print-directory install DESTDIR="$dest/local" >/dev/null
expect_tree "$dest/local" /usr/local/sbin/msgtapd /usr/local/bin/msgtapctl \
	/usr/local/lib/systemd/system/msgtapd.service /etc/msgtap/msgtapd.conf \
	/usr/local/lib/modules-load.d/msgtap.conf \
	/usr/local/share/man/man8/msgtapd.8 /usr/local/share/man/man8/msgtapctl.8 \
	/usr/local/share/msgtap/msgtap-alerts.yml
check_eq "ExecStart with the default PREFIX" "ExecStart=/usr/local/sbin/msgtapd" \
	"$(grep '^ExecStart=' "$dest/local/usr/local/lib/systemd/system/msgtapd.service")"

# What the Debian package asks for.
make --no-print-directory install DESTDIR="$dest/usr" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
d=$dest/usr
expect_tree "$d" /usr/sbin/msgtapd /usr/bin/msgtapctl /lib/systemd/system/msgtapd.service \
	/etc/msgtap/msgtapd.conf /usr/lib/modules-load.d/msgtap.conf \
	/usr/share/man/man8/msgtapd.8 /usr/share/man/man8/msgtapctl.8 \
	/usr/share/msgtap/msgtap-alerts.yml
for f in usr/sbin/msgtapd usr/bin/msgtapctl; do
	check_eq "mode of /$f" 755 "$(stat -c %a "$d/$f")"
done
for f in lib/systemd/system/msgtapd.service etc/msgtap/msgtapd.conf \
	usr/lib/modules-load.d/msgtap.conf usr/share/man/man8/msgtapd.8 \
	usr/share/msgtap/msgtap-alerts.yml; do
	check_eq "mode of /$f" 644 "$(stat -c %a "$d/$f")"
done
"$d/usr/sbin/msgtapd" --version | grep -qx "$MSGTAP_VERSION" || fail "the installed msgtapd does not run"
"$d/usr/bin/msgtapctl" --version | grep -qx "$MSGTAP_VERSION" || fail "the installed msgtapctl does not run"
ok "the installed binaries run and say $MSGTAP_VERSION"

# --- the alerting rules ---------------------------------------------------
if command -v promtool >/dev/null; then
	out=$(promtool check rules "$d/usr/share/msgtap/msgtap-alerts.yml" 2>&1) ||
		fail "promtool check rules rejects the installed alerting rules: $out"
	ok "promtool check rules accepts the installed alerting rules"
else
	info "no promtool: the installed alerting rules are not checked"
fi

# --- the unit ------------------------------------------------------------
unit=$d/lib/systemd/system/msgtapd.service
check_eq ExecStart "ExecStart=/usr/sbin/msgtapd" "$(grep '^ExecStart=' "$unit")"
for want in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' \
	StateDirectory=msgtap RuntimeDirectory=msgtap ProtectSystem=strict \
	'CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_PTRACE' \
	'RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6'; do
	grep -qxF "$want" "$unit" || fail "the unit lacks '$want'"
done
ok "the unit is Type=notify, reloads with SIGHUP and keeps only its three capabilities"
if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart to exist: point it into DESTDIR.
	mkdir -p "$dest/verify"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$d/usr/sbin/|" "$unit" >"$dest/verify/msgtapd.service"
	out=$(systemd-analyze verify --man=no "$dest/verify/msgtapd.service" 2>&1) ||
		fail "systemd-analyze verify failed: $out"
	# Unknown keys are only warnings, and still mistakes.
	[ -z "$out" ] || fail "systemd-analyze verify complained: $out"
	ok "systemd-analyze verify accepts the unit"
else
	info "no systemd-analyze: the unit is not verified"
fi

# --- the config ------------------------------------------------------------
conf=$d/etc/msgtap/msgtapd.conf
active=$(grep -v -e '^#' -e '^[[:space:]]*$' "$conf" || true)
[ -z "$active" ] || fail "the default config sets something: $active"
keys=$(sed -n 's/^#\([a-z-]*\) =.*/\1/p' "$conf" | LC_ALL=C sort | tr '\n' ' ')
# Every option of msgtapd but --config, --help and --version is a key.
"$d/usr/sbin/msgtapd" --help >"$dest/msgtapd.help"
options=$(sed -n 's/^ *--\([a-z-]*\).*/\1/p' "$dest/msgtapd.help" |
	grep -v -x -e config -e help -e version | LC_ALL=C sort | tr '\n' ' ')
check_eq "keys of the default config (msgtapd's options)" "$options" "$keys"
# Where msgtapd --help shows a default, the config shows the same.
while read -r key value; do
	value=${value# }
	helpdef=$(sed -n "s/^ *--$key .*=\([^ ]*\)\$/\1/p" "$dest/msgtapd.help")
	[ -n "$helpdef" ] || continue
	check_eq "default of $key (config vs msgtapd --help)" "$helpdef" "$value"
done < <(sed -n 's/^#\([a-z-]*\) =\(.*\)/\1 \2/p' "$conf")

# --- modules-load.d ----------------------------------------------------------
ml=$d/usr/lib/modules-load.d/msgtap.conf
active=$(grep -v -e '^[#;]' -e '^[[:space:]]*$' "$ml" || true)
[ -z "$active" ] || fail "modules-load.d/msgtap.conf loads something by default: $active"
grep -qx '#msgtap' "$ml" || fail "modules-load.d/msgtap.conf has no '#msgtap' line to uncomment"
ok "modules-load.d/msgtap.conf loads nothing until '#msgtap' is uncommented"

# --- man pages ---------------------------------------------------------------
for page in msgtapd msgtapctl; do
	f=$d/usr/share/man/man8/$page.8
	grep -q '@VERSION@' "$f" && fail "$page.8 still has @VERSION@"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null) || fail "man -l $page.8 failed"
	[ -z "$out" ] || fail "man --warnings on $page.8: $out"
	out=$(groff -man -ww -z -Tutf8 "$f" 2>&1) || fail "groff failed on $page.8"
	[ -z "$out" ] || fail "groff -ww on $page.8: $out"
	ok "$page.8 renders without warnings"
	LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$f" 2>/dev/null | sed 's/‐/-/g' >"$dest/$page.txt"
done
# Every option msgtapd takes and every key of the config are in msgtapd(8).
for opt in $(grep -o '^ *--[a-z-]*' "$dest/msgtapd.help") $(echo "$keys" | sed 's/\([^ ]*\)/--\1/g'); do
	grep -q -- "$opt" "$dest/msgtapd.txt" || fail "msgtapd(8) does not document $opt"
done
ok "msgtapd(8) documents every option of msgtapd --help and every config key"
# Every subcommand msgtapctl offers is in msgtapctl(8).
subs=$("$d/usr/bin/msgtapctl" --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z]\+\) .*/\1/p')
[ -n "$subs" ] || fail "msgtapctl --help lists no subcommands"
for sub in $subs; do
	grep -Eq "^ {7}$sub( |$)" "$dest/msgtapctl.txt" || fail "msgtapctl(8) does not document '$sub'"
done
ok "msgtapctl(8) documents every subcommand: $(echo $subs)"
for opt in --socket --json --tgid --uid --ipc-ns --msqid --cgroup --failures-only; do
	grep -q -- "$opt" "$dest/msgtapctl.txt" || fail "msgtapctl(8) does not document $opt"
done
ok "msgtapctl(8) documents the global and filter options"

# --- make uninstall ------------------------------------------------------------
echo "# edited" >>"$dest/local/etc/msgtap/msgtapd.conf"
make --no-print-directory uninstall DESTDIR="$dest/local" >/dev/null
left=$(cd "$dest/local" && find . ! -type d | sed 's|^\.||')
check_eq "files left by make uninstall (an edited config stays)" /etc/msgtap/msgtapd.conf "$left"
make --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
left=$(cd "$d" && find . ! -type d | sed 's|^\.||')
check_eq "files left by make uninstall" "" "$left"
