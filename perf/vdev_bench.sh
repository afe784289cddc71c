#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Forwarding rate of the edgelb binary on DPDK vdevs, next to dpdk-testpmd on
# the same input as the ceiling.
#
# Input: a pcap of many TCP and UDP flows to one LoadBalancer VIP (written by
# perf/gen_pcap.py with scapy), replayed forever by net_pcap
# (rx_pcap=FILE,infinite_rx=1) on the "ext" port. edgelb NATs every packet to
# a pod and sends it on the "int" port, a net_null (no-rx=1) that drops what
# it is given. After the first pass over the file every packet hits an
# established flow. The rate is read from edgelb's counters
# (--stats-interval 1, --duration): packets sent on "int" per second over
# the one-second intervals after a warm-up; the median and the best are
# printed.
#
# dpdk-testpmd runs the same ports with one forwarding lcore in "io" mode
# (no packet access) and "5tswap" mode (swaps MACs, IPs and ports: it reads
# and writes the headers, the least any NAT does); its "Tx-pps" of the
# net_null port is the ceiling. Printed: both rates and edgelb / 5tswap,
# over all samples and as the median of the per-round ratios.
#
# Usage: sh perf/vdev_bench.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#        (defaults: build, 8, 2). The programs run one after the other,
#        ROUNDS times in turn (edgelb, testpmd 5tswap, testpmd io, ...), so a
#        burst of load from elsewhere on the host hits all of them alike.
# Needs: BUILD_DIR/edgelb, /usr/bin/python3 with scapy; dpdk-testpmd
# (Debian package "dpdk") is optional. Temporary files go to a mktemp
# directory removed at exit (kept when EDGELB_BENCH_KEEP=1); every process
# started here is stopped.

set -u

BUILD=$(cd "${1:-build}" && pwd) || exit 1
SECS=${2:-8}
ROUNDS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
EDGELB=$BUILD/edgelb
TESTPMD=$(command -v dpdk-testpmd || true)
PY=/usr/bin/python3
WARMUP=2 # one-second samples skipped at the start

TMP=$(mktemp -d /tmp/edgelb-vdev-bench.XXXXXX) || exit 1
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${EDGELB_BENCH_KEEP:-}" ]; then
		echo "vdev_bench: files kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$EDGELB" ]; then
	echo "vdev_bench: $EDGELB not built; skipped"
	exit 0
fi

# ---- input ----
PCAP=$BUILD/perf/vdev_flows.pcap
if [ ! -s "$PCAP" ] || [ -n "$(find "$HERE/gen_pcap.py" -newer "$PCAP" 2>/dev/null)" ]; then
	mkdir -p "$BUILD/perf"
	if ! "$PY" "$HERE/gen_pcap.py" "$PCAP.tmp" --tcp 512 --udp 512 --rounds 1 >/dev/null; then
		echo "vdev_bench: cannot write the pcap (scapy for $PY?); skipped"
		rm -f "$PCAP.tmp"
		exit 0
	fi
	mv "$PCAP.tmp" "$PCAP"
fi
PCAP=$(cd "$(dirname "$PCAP")" && pwd)/$(basename "$PCAP")

# ---- EAL memory: 2 MB hugepages when enough are free, else --no-huge ----
FREE_HP=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
if [ "$FREE_HP" -ge 256 ]; then
	MEM="--in-memory"
	MEM_YAML='"--in-memory"'
	MEM_NOTE="hugepages (--in-memory)"
else
	MEM="--no-huge -m 1024 --no-shconf"
	MEM_YAML='"--no-huge", "-m", "1024", "--no-shconf"'
	MEM_NOTE="no hugepages (--no-huge: slower)"
fi

# ---- edgelb ----
PODS=16
{
	echo "eal: [\"-l\", \"0-1\", $MEM_YAML, \"--no-pci\", \"--file-prefix\", \"elvb$$\","
	echo "      \"--log-level\", \"lib.eal:error\", \"--no-telemetry\"]"
	echo "workers: [1]"
	echo "idle_sleep_us: 0"
	echo "interfaces:"
	echo "  - name: ext"
	echo "    device: \"net_pcap0,rx_pcap=$PCAP,infinite_rx=1\""
	echo "    addresses: [\"198.18.0.1/24\"]"
	echo "    routes: [{to: \"0.0.0.0/0\", via: \"198.18.0.254\"}]"
	echo "    neighbors: [{ip: \"198.18.0.254\", mac: \"02:00:00:00:00:fe\"}]"
	echo "  - name: int"
	echo "    device: \"net_null0,no-rx=1\""
	echo "    addresses: [\"198.18.2.1/24\"]"
	echo "    neighbors:"
	i=0
	while [ $i -lt $PODS ]; do
		printf '      - {ip: "198.18.2.%d", mac: "02:00:00:00:02:%02x"}\n' $((10 + i)) $((10 + i))
		i=$((i + 1))
	done
	echo "snat: {addresses: [\"198.18.2.1\"]}"
	echo "loadbalancer: {pools: [\"198.18.0.100-198.18.0.150\"]}"
	echo "conntrack: {max_flows: 65536}"
	echo "api: {listen: \"127.0.0.1:$((20000 + $$ % 20000))\"}"
	echo "state_dir: \"$TMP/state\""
	echo "manifests: [\"manifests.yaml\"]"
} >"$TMP/edgelb.yaml"
bench_manifests "$PODS" >"$TMP/manifests.yaml"
mkdir -p "$TMP/state"

# Drop the first $WARMUP lines of stdin when more than that many remain.
warm() {
	awk -v skip=$WARMUP '{ v[NR] = $0 } END { for (i = (NR > skip ? skip + 1 : 1); i <= NR; i++) print v[i] }'
}

# Median of the numbers on stdin (one per line); 0 when there are none.
median() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "vdev benchmark: $(basename "$PCAP") ($((($(stat -c %s "$PCAP") - 24) / 76)) packets," \
	"512 TCP + 512 UDP flows, 60-byte frames), net_pcap infinite_rx -> net_null," \
	"1 forwarding lcore, $MEM_NOTE; $ROUNDS rounds of ${SECS}s per program, alternating"

# One edgelb run; appends its per-second rates to $TMP/rate-edgelb.
run_edgelb() {
	(cd "$TMP" && exec "$EDGELB" --config "$TMP/edgelb.yaml" --duration "$SECS" \
		--stats-interval 1) >"$TMP/edgelb-$1.log" 2>&1 &
	PIDS="$!"
	wait "$PIDS"
	rc=$?
	PIDS=""
	# "edgelb counters after T s ..." then "  int  rx_packets rx_bytes tx_packets tx_bytes"
	awk '
		/^edgelb counters after/ { t = $4 }
		$1 == "int" && NF == 5 && t != "" {
			if (n++ > 0 && t > pt) print ($4 - ptx) / (t - pt)
			pt = t; ptx = $4; t = ""
		}' "$TMP/edgelb-$1.log" | warm >"$TMP/r"
	if [ $rc -ne 0 ] || [ ! -s "$TMP/r" ]; then
		echo "vdev_bench: edgelb exited with status $rc or printed no rates; its output:"
		tail -40 "$TMP/edgelb-$1.log" | sed 's/^/  | /'
	fi
	cat "$TMP/r" >>"$TMP/rate-edgelb"
	cp "$TMP/r" "$TMP/round-edgelb-$1"
	# drops of the last counters block
	awk '/^edgelb counters after/ { d = "" } /^  drops:/ { grab = 1; d = $0; next }
		grab && /^    / { d = d ", " $1 " " $2; next } { grab = 0 } END { print d }' \
		"$TMP/edgelb-$1.log" | sed 's/^  drops: *//; s/^, //' >"$TMP/drops"
}

# One testpmd run in mode $1; appends net_null's Tx-pps samples to $TMP/rate-$1.
run_testpmd() {
	# $MEM holds several EAL arguments: split on purpose
	# shellcheck disable=SC2086
	timeout -s INT $((SECS + 20)) "$TESTPMD" -l 0-1 $MEM --no-pci --file-prefix "tpvb$$" \
		--log-level lib.eal:error --no-telemetry \
		--vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev "net_null0,no-rx=1" -- \
		--forward-mode="$1" --nb-cores=1 --rxq=1 --txq=1 --no-flush-rx \
		--total-num-mbufs=16383 --stats-period 1 >"$TMP/testpmd-$1-$2.log" 2>&1 &
	PIDS="$!"
	sleep $((SECS + 2))
	kill -INT "$PIDS" 2>/dev/null
	wait "$PIDS" 2>/dev/null
	PIDS=""
	awk '
		/NIC statistics for port/ { port = $(NF - 1) + 0 }
		/Tx-pps:/ && port == 1 && $2 > 0 { print $2 }' "$TMP/testpmd-$1-$2.log" |
		warm >"$TMP/r"
	if [ ! -s "$TMP/r" ]; then
		echo "vdev_bench: dpdk-testpmd $1 forwarded nothing; its output:"
		tail -20 "$TMP/testpmd-$1-$2.log" | sed 's/^/  | /'
	fi
	cat "$TMP/r" >>"$TMP/rate-$1"
	cp "$TMP/r" "$TMP/round-$1-$2"
}

: >"$TMP/rate-edgelb"
: >"$TMP/rate-io"
: >"$TMP/rate-5tswap"
r=1
while [ $r -le "$ROUNDS" ]; do
	run_edgelb $r
	if [ -n "$TESTPMD" ]; then
		# 5tswap right after edgelb: the pair a round's ratio compares
		run_testpmd 5tswap $r
		run_testpmd io $r
	fi
	r=$((r + 1))
done

# "median best" of a file of rates
stats() {
	printf '%s %s\n' "$(median <"$1")" "$(sort -n "$1" | tail -1)"
}

echo "  (Mpps over one-second samples; median and best; best is the least disturbed)"
awk -v el="$(stats "$TMP/rate-edgelb")" -v io="$(stats "$TMP/rate-io")" \
	-v sw="$(stats "$TMP/rate-5tswap")" -v drops="$(cat "$TMP/drops")" -v tp="$TESTPMD" 'BEGIN {
	split(el, e, " "); split(io, i, " "); split(sw, s, " ")
	printf "  %-38s %8s %8s\n", "", "median", "best"
	printf "  %-38s %8.2f %8.2f\n", "edgelb (FullNAT, established flows)", e[1] / 1e6, e[2] / 1e6
	if (drops != "") printf "  %-38s %s\n", "  edgelb drops (last run)", drops
	if (tp == "") {
		print "  dpdk-testpmd not found (Debian package dpdk): no ceiling measured"
		exit
	}
	printf "  %-38s %8.2f %8.2f\n", "dpdk-testpmd io", i[1] / 1e6, i[2] / 1e6
	printf "  %-38s %8.2f %8.2f\n", "dpdk-testpmd 5tswap", s[1] / 1e6, s[2] / 1e6
	if (s[1] > 0 && s[2] > 0)
		printf "  %-38s %8.2f %8.2f   (target >= 0.60)\n", "edgelb / testpmd 5tswap",
			e[1] / s[1], e[2] / s[2]
}'
# The same ratio per round (medians of the two back-to-back runs of a round):
# host load that comes and goes between rounds moves it less.
if [ -n "$TESTPMD" ]; then
	: >"$TMP/ratios"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		e=$(median <"$TMP/round-edgelb-$r")
		t=$(median <"$TMP/round-5tswap-$r")
		awk -v e="$e" -v t="$t" 'BEGIN { if (t > 0) printf "%.2f\n", e / t }' >>"$TMP/ratios"
		r=$((r + 1))
	done
	printf '  %-38s %8.2f          (rounds: %s)\n' "edgelb / 5tswap, median of rounds" \
		"$(median <"$TMP/ratios")" "$(tr '\n' ' ' <"$TMP/ratios" | sed 's/ $//')"
fi
exit 0
