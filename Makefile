# SPDX-License-Identifier: BSD-3-Clause
# The two user commands: `make demo` and `make test`. Both install what is
# missing (Debian packages), reserve hugepages when they can, build, run.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10
HUGEPAGES  ?= 512
PKGS = build-essential pkg-config meson ninja-build libdpdk-dev dpdk dpdk-dev libyaml-dev \
       libmicrohttpd-dev libjemalloc-dev libcmocka-dev libpcap-dev libsystemd-dev python3-scapy \
       tcpdump iproute2 iputils-ping ethtool curl clang libclang-rt-14-dev valgrind openssl nginx-light nftables wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps hugepages build build-asan test test-asan demo demo-down lab-up lab-down bench \
	fmt clean fuzz build-fuzz

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
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
		-Ddpdk_static=false >/dev/null

build-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

# libFuzzer targets (tests/fuzz): clang with ASan/UBSan and coverage for
# libFuzzer in every object; only the fuzz targets are built here.
$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
		-Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false -Ddpdk_static=false >/dev/null

build-fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ) fuzz-all

# Each target for FUZZ_SECONDS (default 60) from its seeds; findings land in
# $(BUILD_FUZZ)/tests/fuzz/work/TARGET/crashes/.
fuzz: build-fuzz
	@rm -f $(BUILD_FUZZ)/meson-logs/testlog.json
	FUZZ_SECONDS=$(FUZZ_SECONDS) meson test -C $(BUILD_FUZZ) --suite fuzz --no-rebuild \
		--num-processes 1 --print-errorlogs
	@python3 tests/summary.py $(BUILD_FUZZ)/meson-logs/testlog.json:fuzz

# Every suite of the release build, then the unit, packet, fuzz-corpus and
# integration suites under ASan/UBSan, then a short libFuzzer pass per
# target; one closing line "N passed, M failed" over all of them.
test: deps hugepages build build-asan
	@rm -f $(BUILD)/meson-logs/testlog.json $(BUILD_ASAN)/meson-logs/testlog.json \
		$(BUILD_FUZZ)/meson-logs/testlog.json
	-meson test -C $(BUILD) --print-errorlogs --num-processes 1
	-ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD_ASAN) --print-errorlogs --num-processes 1 --suite unit --suite packet \
		--suite fuzz --suite integration
	-$(MAKE) --no-print-directory build-fuzz && \
		FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) meson test -C $(BUILD_FUZZ) --suite fuzz \
		--no-rebuild --num-processes 1
	@python3 tests/summary.py $(BUILD)/meson-logs/testlog.json:release \
		$(BUILD_ASAN)/meson-logs/testlog.json:asan $(BUILD_FUZZ)/meson-logs/testlog.json:fuzz

# The lab (scripts/lab.sh): namespaces elb-client, elb-lb, elb-pods with
# edgelb between real clients and pods. XDP=1 attaches edgelb with af_xdp.
LAB_XDP = $(if $(filter 1 yes,$(XDP)),--xdp)

demo: deps hugepages build
	@bash scripts/demo.sh $(BUILD) $(LAB_XDP)

demo-down:
	@bash scripts/demo.sh --down

# The same lab without the demo's services: edgelb with config/demo.yaml,
# keeping what was applied before (state_dir); try it with scripts/lab.sh ctl.
lab-up: deps hugepages build
	@bash scripts/lab.sh up
	@bash scripts/lab.sh start --build $(BUILD) --config config/demo.yaml $(LAB_XDP) || \
		{ bash scripts/lab.sh down; exit 1; }

lab-down:
	@bash scripts/lab.sh down

bench: deps hugepages build
	@sh perf/run.sh $(BUILD)

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
