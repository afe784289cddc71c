#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# `make bench`: the dataplane benchmarks, one after the other.
#   1. perf/bench_worker: worker_process_burst() over prebuilt mbufs
#      (established flows, replies, new flows at 1K, 1M and 4M flows;
#      bytes per tracked flow);
#   2. perf/vdev_bench.sh: the edgelb binary on net_pcap -> net_null, next to
#      dpdk-testpmd on the same input.
# Numbers only: nothing here passes or fails on a timing. See perf/README.md
# for what each figure means and the targets.
#
# Usage: sh perf/run.sh [BUILD_DIR]
# Environment: BENCH_WORKER_ARGS (extra arguments for bench_worker after
# "--", e.g. "--quick"); VDEV_SECONDS and VDEV_ROUNDS (seconds per vdev run,
# default 8, and rounds, default 2).

set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$BUILD/perf/bench_worker

echo "== edgelb benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo "host: $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg) (other busy processes skew every figure)"

# bench_worker at 4M flows needs about 700 MB of EAL memory.
FREE_HP=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
if [ "$FREE_HP" -ge 400 ]; then
	MEM="--in-memory"
	echo "EAL memory: 2 MB hugepages ($FREE_HP free), --in-memory"
else
	MEM="--no-huge -m 2048 --no-shconf"
	echo "EAL memory: only $FREE_HP free 2 MB hugepages: --no-huge (4 KB pages: more TLB" \
		"misses, lower figures at 1M and 4M flows)"
fi

echo
echo "== 1. worker benchmark (perf/bench_worker)"
if [ -x "$BENCH" ]; then
	# lcore 1: the core an edgelb worker uses on this 2-CPU host.
	# $MEM and BENCH_WORKER_ARGS hold several arguments: split on purpose
	# shellcheck disable=SC2086
	"$BENCH" -l 1 $MEM --no-pci --file-prefix "elbw$$" --log-level lib.eal:error \
		--no-telemetry -- ${BENCH_WORKER_ARGS:-} ||
		echo "bench_worker failed (exit status $?)"
else
	echo "$BENCH is not built (the worker or the snapshot compiler is missing); skipped"
fi

echo
echo "== 2. vdev benchmark (perf/vdev_bench.sh)"
sh "$HERE/vdev_bench.sh" "$BUILD" "${VDEV_SECONDS:-8}" "${VDEV_ROUNDS:-2}"

echo
echo "== 3. control-plane benchmark (perf/api_bench.sh)"
sh "$HERE/api_bench.sh" "$BUILD"
