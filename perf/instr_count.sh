#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per packet of the worker, counted by valgrind's callgrind:
# unlike cycles, the count does not move with the load on the host, so two
# builds can be compared in one run each. bench_worker runs twice per test
# with a different number of packets (new flows for (c)); the difference of
# the instructions executed inside the worker's burst, transmit flush and
# housekeeping, over the difference of packets, is the cost of one more
# packet, without the set-up and the fill. The benchmark's own transmit
# callback (it frees the mbufs, as a driver would) is left out; for (c) the
# count includes the housekeeping that expires the flows again.
#
# Usage: sh perf/instr_count.sh [BUILD_DIR] [TESTS] [FLOWS] [FAMILY]
#        (defaults: build, abc, 1K, 4). TESTS as bench_worker's --tests.
# Needs: valgrind (Debian package "valgrind"); slow: about a minute a test.

set -u

BUILD=$(cd "${1:-build}" && pwd) || exit 1
TESTS=${2:-abc}
FLOWS=${3:-1K}
FAM=${4:-4}
BIN=$BUILD/perf/bench_worker
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
	echo "instr_count: valgrind is not installed; skipped"
	exit 0
fi
if [ ! -x "$BIN" ]; then
	echo "instr_count: $BIN not built; skipped"
	exit 0
fi
TMP=$(mktemp -d /tmp/edgelb-instr.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Instructions inside the worker, minus the benchmark's transmit callback,
# for one run of bench_worker with the extra arguments "$@".
count() {
	out=$TMP/cg.out
	valgrind --tool=callgrind "--toggle-collect=w_burst*" "--toggle-collect=w_tx_flush*" \
		--toggle-collect=worker_poll_housekeeping --callgrind-out-file="$out" \
		"$BIN" -l 0 --no-huge -m 1024 --no-pci --no-shconf --log-level lib.eal:error -- \
		--flows "$FLOWS" --runs 1 --family "$FAM" "$@" >/dev/null 2>&1 || return 1
	callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '
		/PROGRAM TOTALS/ { gsub(",", "", $1); tot = $1 }
		/bench_worker_tx/ && tx == "" { gsub(",", "", $1); tx = $1 }
		END { if (tot == "") exit 1; print tot - (tx == "" ? 0 : tx) }'
}

echo "instructions per packet in the worker (callgrind), $FLOWS flows, IPv$FAM, $(basename "$BUILD")"
for t in $(echo "$TESTS" | sed 's/./& /g'); do
	case $t in
	a) what="(a) established client->pod" ;;
	b) what="(b) reply pod->client" ;;
	c) what="(c) new flow" ;;
	*) continue ;;
	esac
	if [ "$t" = c ]; then
		lo=$(count --tests c --new-flows 16K --packets 64K) &&
			hi=$(count --tests c --new-flows 48K --packets 64K) &&
			n=$((48 * 1024 - 16 * 1024))
	else
		lo=$(count --tests "$t" --packets 64K --new-flows 16K) &&
			hi=$(count --tests "$t" --packets 192K --new-flows 16K) &&
			n=$((128 * 1024 * 5 / 4)) # the warm-up pass adds a quarter
	fi
	if [ -z "${hi:-}" ] || [ -z "${lo:-}" ]; then
		echo "instr_count: bench_worker failed under valgrind for $what"
		continue
	fi
	awk -v w="$what" -v lo="$lo" -v hi="$hi" -v n="$n" \
		'BEGIN { printf "  %-30s %8.1f\n", w, (hi - lo) / n }'
done
