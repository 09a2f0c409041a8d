# SPDX-License-Identifier: GPL-2.0-only
# Entry points for building and testing msgtap: `make check` runs everything.
#
#   make [all]     msgtap.ko for KVER, the tools and the test workload
#   make module    msgtap.ko against KDIR (default: /lib/modules/KVER/build)
#   make tools     msgtapd, msgtapctl, msgtap-verify, unit tests (cmake, build/)
#   make workload  build/bin/msgtap-workload{,32}
#   make unit      the unit tests (ctest), also built with ASan and UBSan
#   make vm        the VM scenarios on MSGTAP_KERNELS (tests/vm/run)
#   make check     deps, tools, unit tests (also under ASan and UBSan), VM
#                  scenarios, the demo (as the README runs it), packaging
#                  tests (tests/pkg/run); ends "N passed, N failed"
#   make check-debug  only the debug kernel: KASAN/lockdep/kmemleak, built from
#                  linux-source-6.1 (tests/vm/debug-kernel.sh, cached)
#   make demo      boots a guest that loads msgtap and shows it counting a workload
#   make bench     boots one guest and measures cost per send, throughput and
#                  scale (tests/bench/run, ~15 min; not part of check): BENCHMARKS.md
#   make deps      installs the Debian packages all this needs (tests/deps.sh)
#   make dkms-install  copies the module's sources to /usr/src/msgtap-VERSION
#                  for `dkms add/build/install msgtap/VERSION`
#   make install   msgtapd, msgtapctl, the systemd unit, the default config,
#                  a modules-load.d entry, the man pages and Prometheus
#                  alerting rules (share/msgtap/msgtap-alerts.yml), under PREFIX
#                  (default /usr/local; packages use /usr) and DESTDIR
#   make uninstall removes them again (an edited config stays)
#   make pkg       msgtap and msgtap-dkms .debs in build/pkg (dpkg-buildpackage)
#   make check-pkg only the packaging tests (tests/pkg/run)
#   make clean     removes build/ and the module's objects in kmod/

BUILD := build
CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Kernel specs for the VM tests; see tests/vm/run --help.
MSGTAP_KERNELS ?= 6.1 6.1-generic 6.12 6.12-rt debug
export MSGTAP_KERNELS
# Limit for one kernel's whole VM run. The debug kernel's run of every
# scenario takes about 900 s on a busy 2-core machine; a hung scenario is
# still stopped by the per-scenario limit (tests/vm/run --help).
MSGTAP_VM_TIMEOUT ?= 1800
export MSGTAP_VM_TIMEOUT

# The module builds against the running kernel when its headers are
# installed; a build host or container usually runs some other kernel, so
# fall back to the newest Debian headers installed.
ifeq ($(origin KVER),undefined)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
KVER := $(shell uname -r)
else
KVER := $(patsubst /usr/src/linux-headers-%,%,$(lastword $(shell \
	ls -d /usr/src/linux-headers-* 2>/dev/null | grep -v -e '-common' | sort -V)))
KVER_NOTICE := no headers for the running kernel $(shell uname -r); building for $(KVER) (set KVER= or KDIR= to choose)
endif
endif
KDIR ?= /lib/modules/$(KVER)/build

all: module tools workload

module:
	$(if $(KVER_NOTICE),@echo "module: $(KVER_NOTICE)")
	@test -d "$(KDIR)" || { echo "module: no kernel build tree at $(KDIR): install linux-headers-$(KVER)"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

# TOOLS_TARGETS limits the build to some targets (debian/rules: msgtapd msgtapctl).
TOOLS_TARGETS ?=
# Extra cmake options; check and unit add the sanitized unit tests.
CMAKE_OPTIONS ?=
SANITIZED := -DMSGTAP_SANITIZED_UNIT_TESTS=ON
tools:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) $(CMAKE_OPTIONS)
	cmake --build $(BUILD) -j$(JOBS) $(if $(TOOLS_TARGETS),--target $(TOOLS_TARGETS))

workload:
	$(MAKE) -C tests/workload OUT=$(CURDIR)/$(BUILD)/bin

unit:
	$(MAKE) --no-print-directory tools CMAKE_OPTIONS="$(CMAKE_OPTIONS) $(SANITIZED)"
	ctest --test-dir $(BUILD) --output-on-failure

deps:
	tests/deps.sh

vm:
	tests/vm/run

# Runs every layer even when an earlier one failed, so one run shows all
# failures, then adds up the unit tests and the VM scenarios in one line.
# A build that fails counts as one failure.
check: deps
	@set -u; passed=0; failed=0; mkdir -p $(BUILD); \
	if ! $(MAKE) -k --no-print-directory tools workload \
		CMAKE_OPTIONS="$(CMAKE_OPTIONS) $(SANITIZED)"; then \
		echo "check: the userspace build failed"; failed=$$((failed + 1)); \
	fi; \
	ctest --test-dir $(BUILD) --output-on-failure 2>&1 | tee $(BUILD)/ctest.log; \
	line=$$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' $(BUILD)/ctest.log | tail -n1); \
	if [ -n "$$line" ]; then \
		total=$${line##* out of }; \
		bad=$$(echo "$$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/'); \
		skipped=$$(grep -cE '^[[:space:]]*[0-9]+ - .*\(Skipped\)$$' $(BUILD)/ctest.log); \
		[ "$$skipped" -eq 0 ] || echo "check: $$skipped unit tests skipped, not counted as passed"; \
		passed=$$((passed + total - bad - skipped)); failed=$$((failed + bad)); \
	elif grep -q 'No tests were found' $(BUILD)/ctest.log; then \
		echo "check: warning: ctest found no unit tests"; \
	else \
		echo "check: ctest did not finish"; failed=$$((failed + 1)); \
	fi; \
	count() { \
		line=$$(grep -E '^[0-9]+ passed, [0-9]+ failed$$' "$$1" | tail -n1); \
		if [ -n "$$line" ]; then \
			set -- $$line; passed=$$((passed + $$1)); failed=$$((failed + $$3)); \
		else \
			echo "check: $$2 did not finish"; failed=$$((failed + 1)); \
		fi; \
	}; \
	tests/vm/run --no-build 2>&1 | tee $(BUILD)/vm.log; \
	count $(BUILD)/vm.log "the VM run"; \
	$(MAKE) --no-print-directory demo 2>&1 | tee $(BUILD)/demo.log; \
	count $(BUILD)/demo.log "make demo"; \
	tests/pkg/run 2>&1 | tee $(BUILD)/pkg.log; \
	count $(BUILD)/pkg.log "the packaging tests"; \
	echo; echo "unit tests, VM scenarios, the demo and packaging tests together:"; \
	echo "$$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

check-debug:
	$(MAKE) check MSGTAP_KERNELS=debug

demo: deps tools workload
	tests/vm/run --no-build --demo --kernel $(firstword $(MSGTAP_KERNELS))

VERSION := $(shell cat VERSION)
DKMS_DIR = $(DESTDIR)/usr/src/msgtap-$(VERSION)

# Exactly what the module's build needs, in the layout kmod/Kbuild expects.
# dkms.conf's version placeholder is dh_dkms's, so debian/rules can hand it
# the same file.
dkms-install:
	install -d $(DKMS_DIR)/kmod $(DKMS_DIR)/include/uapi/linux
	install -m 0644 kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h $(DKMS_DIR)/kmod/
	install -m 0644 include/uapi/linux/msgtap.h $(DKMS_DIR)/include/uapi/linux/
	install -m 0644 VERSION $(DKMS_DIR)/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DKMS_DIR)/dkms.conf

# GNU defaults for a build from source; Debian packages set PREFIX=/usr and
# UNITDIR=/lib/systemd/system. The config lives in /etc whatever PREFIX is:
# msgtapd reads /etc/msgtap/msgtapd.conf by default.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d

install: tools
	install -D -m 0755 $(BUILD)/bin/msgtapd $(DESTDIR)$(SBINDIR)/msgtapd
	install -D -m 0755 $(BUILD)/bin/msgtapctl $(DESTDIR)$(BINDIR)/msgtapctl
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/msgtap \
		$(DESTDIR)$(MODULESLOADDIR) $(DESTDIR)$(MANDIR)/man8
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/msgtapd.service.in \
		> $(DESTDIR)$(UNITDIR)/msgtapd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/msgtapd.service
	install -m 0644 dist/msgtapd.conf $(DESTDIR)$(SYSCONFDIR)/msgtap/msgtapd.conf
	install -m 0644 dist/modules-load.msgtap.conf $(DESTDIR)$(MODULESLOADDIR)/msgtap.conf
	install -D -m 0644 dist/msgtap-alerts.yml $(DESTDIR)$(DATADIR)/msgtap/msgtap-alerts.yml
	for page in msgtapd.8 msgtapctl.8; do \
		sed 's/@VERSION@/$(VERSION)/' man/$$page > $(DESTDIR)$(MANDIR)/man8/$$page && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man8/$$page || exit 1; \
	done

# Removes what install installed (same PREFIX and DESTDIR), except a config
# that was changed since: cmp keeps an edited one.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/msgtapd $(DESTDIR)$(BINDIR)/msgtapctl \
		$(DESTDIR)$(UNITDIR)/msgtapd.service $(DESTDIR)$(MODULESLOADDIR)/msgtap.conf \
		$(DESTDIR)$(MANDIR)/man8/msgtapd.8 $(DESTDIR)$(MANDIR)/man8/msgtapctl.8 \
		$(DESTDIR)$(DATADIR)/msgtap/msgtap-alerts.yml
	rmdir $(DESTDIR)$(DATADIR)/msgtap 2>/dev/null || true
	if cmp -s dist/msgtapd.conf $(DESTDIR)$(SYSCONFDIR)/msgtap/msgtapd.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/msgtap/msgtapd.conf; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/msgtap 2>/dev/null || true; \
	fi

# Unsigned binary packages in build/pkg, built from a clean copy of the
# tree (what git tracks, and new files it would track, as they are now).
pkg:
	tests/pkg/build-debs $(BUILD)/pkg

check-pkg:
	tests/pkg/run

clean:
	rm -rf $(BUILD)
	cd kmod && rm -f *.o .*.o *.ko *.mod *.mod.c .*.cmd .*.d Module.symvers modules.order

.PHONY: all module tools workload unit deps vm check check-debug demo dkms-install install uninstall \
	pkg check-pkg clean

# Not part of check: it measures, it does not judge, and takes ~20 minutes.
bench: deps
	tests/bench/run

.PHONY: bench
