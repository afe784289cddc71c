# SPDX-License-Identifier: BSD-3-Clause
# The two user commands: `make demo` and `make test`. Both install what is
# missing (Debian packages), reserve hugepages when they can, build, run.

BUILD      ?= build
BUILD_ASAN ?= build-asan
HUGEPAGES  ?= 512
PKGS = build-essential pkg-config meson ninja-build libdpdk-dev dpdk dpdk-dev libyaml-dev \
       libmicrohttpd-dev libjemalloc-dev libcmocka-dev libpcap-dev python3-scapy \
       tcpdump iproute2 ethtool curl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps hugepages build build-asan test test-asan demo bench fmt clean

all: build

deps:
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# 2 MB pages for EAL --in-memory; scripts fall back to --no-huge when absent.
hugepages:
	@f=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; \
	if [ -w $$f ] && [ "$$(cat $$f)" -lt $(HUGEPAGES) ]; then \
		echo $(HUGEPAGES) > $$f 2>/dev/null || true; fi; \
	echo "hugepages (2 MB): $$(cat $$f 2>/dev/null || echo 0)"

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

# Every suite of the release build, then the unit and packet suites under
# ASan/UBSan; one closing line "N passed, M failed" over all of them.
test: deps hugepages build build-asan
	@rm -f $(BUILD)/meson-logs/testlog.json $(BUILD_ASAN)/meson-logs/testlog.json
	-meson test -C $(BUILD) --print-errorlogs --num-processes 1
	-ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD_ASAN) --print-errorlogs --num-processes 1 --suite unit --suite packet
	@python3 tests/summary.py $(BUILD)/meson-logs/testlog.json:release \
		$(BUILD_ASAN)/meson-logs/testlog.json:asan

demo: deps hugepages build
	@sh scripts/demo.sh $(BUILD)

bench: deps hugepages build
	@sh perf/run.sh $(BUILD)

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
