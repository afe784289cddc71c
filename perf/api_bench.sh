#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Control-plane benchmark: the edgelb binary taking Services and Endpoints
# over its REST API while its worker forwards at full rate.
#
#   1. forwarding rate with no change going on: net_pcap (rx_pcap,
#      infinite_rx) -> net_null, the input of perf/vdev_bench.sh (TCP and UDP
#      flows to one LoadBalancer service, every packet on an established
#      flow after the first pass);
#   2. apply: API_BENCH_SERVICES Services (ClusterIP, one TCP port), then as
#      many Endpoints of API_BENCH_ENDPOINTS addresses each, PUT over
#      API_BENCH_CONNS keep-alive connections (perf/api/api_bench.c): total
#      time, requests per second, latency of a request, and edgelb's memory
#      (VmRSS, VmHWM, HugetlbPages of /proc/PID/status) before and after;
#   3. churn: API_BENCH_RATE Endpoints updates per second (random services,
#      a new address set each) for API_BENCH_SECONDS, open loop, while the
#      worker forwards: latency from the time each update was due to its
#      answer (p50, p99), the forwarding rate meanwhile, and the packets
#      received but neither sent nor counted as dropped (rx - tx - drops);
#   4. the same updates from one connection at 100 per second: the latency
#      of a lone update, with no group commit to share.
#
# An answer is sent after the change is on disk (state_dir), compiled and
# published: publishing waits for the RCU grace period, so when a PUT is
# answered every worker already uses the snapshot holding it. The latencies
# printed are therefore "request sent -> change in use by every worker".
#
# Usage: sh perf/api_bench.sh [BUILD_DIR]       (default build)
# Environment: API_BENCH_SERVICES (10000), API_BENCH_ENDPOINTS (10),
#   API_BENCH_CONNS (32), API_BENCH_RATE (1000), API_BENCH_SECONDS (10),
#   API_BENCH_MAGLEV (maglev.table_size; default edgelb's, 65537),
#   API_BENCH_STATE (parent directory of state_dir; default /var/lib, where
#   production keeps it (/var/lib/edgelb); /dev/shm (tmpfs) shows what the
#   control plane costs without the disk; /var/tmp is the same disk but the
#   lab's busiest directory: every new file costs the file system far more
#   there, see perf/README.md), API_BENCH_PROFILE (a file: perf record of edgelb
#   during the apply phase, when perf is installed; API_BENCH_PERF_ARGS
#   replaces its default "-g", e.g. "--call-graph dwarf -F 999"), API_BENCH_APPLY_ONLY
#   (1: stop after the apply phase). Temporary files are removed at exit
#   (kept when EDGELB_BENCH_KEEP=1); the edgelb started here is stopped.

set -u

BUILD=$(cd "${1:-build}" && pwd) || exit 1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
EDGELB=$BUILD/edgelb
BENCH=$BUILD/perf/api/api_bench
PY=/usr/bin/python3
N=${API_BENCH_SERVICES:-10000}
EPS=${API_BENCH_ENDPOINTS:-10}
CONNS=${API_BENCH_CONNS:-32}
RATE=${API_BENCH_RATE:-1000}
SECS=${API_BENCH_SECONDS:-10}
PORT=$((20000 + $$ % 20000))
SERVER=127.0.0.1:$PORT

if [ ! -x "$EDGELB" ] || [ ! -x "$BENCH" ]; then
	echo "api_bench: $EDGELB or $BENCH not built; skipped"
	exit 0
fi
TMP=$(mktemp -d "${API_BENCH_STATE:-/var/lib}/edgelb-api-bench.XXXXXX") || exit 1
EL_PID=""

cleanup() {
	if [ -n "$EL_PID" ]; then
		kill "$EL_PID" 2>/dev/null
		wait "$EL_PID" 2>/dev/null
	fi
	if [ -n "${EDGELB_BENCH_KEEP:-}" ]; then
		echo "api_bench: files kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- input: the pcap of perf/vdev_bench.sh ----
PCAP=$BUILD/perf/vdev_flows.pcap
if [ ! -s "$PCAP" ]; then
	mkdir -p "$BUILD/perf"
	if ! "$PY" "$HERE/gen_pcap.py" "$PCAP.tmp" --tcp 512 --udp 512 --rounds 1 >/dev/null; then
		echo "api_bench: cannot write the pcap (scapy for $PY?); skipped"
		rm -f "$PCAP.tmp"
		exit 0
	fi
	mv "$PCAP.tmp" "$PCAP"
fi
PCAP=$(cd "$(dirname "$PCAP")" && pwd)/$(basename "$PCAP")

# ---- EAL memory: every service port holds a Maglev table (65537 x 2 bytes
# by default), so 10,000 services need about 1.3 GB of snapshot memory ----
FREE_HP=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
NEED_HP=$((N * 131 / 2048 + 160))
if [ "$FREE_HP" -ge "$NEED_HP" ]; then
	MEM_YAML='"--in-memory"'
	MEM_NOTE="2 MB hugepages (--in-memory, $FREE_HP free)"
else
	MEM_YAML='"--no-huge", "-m", "4096", "--no-shconf"'
	MEM_NOTE="4 KB pages (--no-huge -m 4096: $FREE_HP free hugepages, $NEED_HP wanted)"
fi

PODS=16
{
	echo "eal: [\"-l\", \"0-1\", $MEM_YAML, \"--no-pci\", \"--file-prefix\", \"elab$$\","
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
	i=10
	while [ $i -lt 70 ]; do
		printf '      - {ip: "198.18.2.%d", mac: "02:00:00:00:02:%02x"}\n' $i $i
		i=$((i + 1))
	done
	echo "snat: {addresses: [\"198.18.2.1\"]}"
	echo "loadbalancer: {pools: [\"198.18.0.100-198.18.0.150\"]}"
	echo "conntrack: {max_flows: 65536}"
	if [ -n "${API_BENCH_MAGLEV:-}" ]; then
		echo "maglev: {table_size: $API_BENCH_MAGLEV}"
	fi
	echo "api: {listen: \"$SERVER\"}"
	echo "state_dir: \"$TMP/state\""
	echo "manifests: [\"manifests.yaml\"]"
} >"$TMP/edgelb.yaml"
bench_manifests "$PODS" >"$TMP/manifests.yaml"

# key=value pairs of api_bench's RESULT lines into shell variables
results() {
	sed -n 's/^RESULT //p' | tr ' ' '\n' | tr -c 'A-Za-z0-9_=.\n' '_'
}

RX='edgelb_packets_total{port="ext",direction="rx"}'
TX='edgelb_packets_total{port="int",direction="tx"}'
counters() { # prefix: ${prefix}_rx, _tx, _drops, _gen, _t
	out=$("$BENCH" --server "$SERVER" --conns 1 metrics "$RX" "$TX" edgelb_drops_total \
		edgelb_snapshot_generation | sed -n 's/^RESULT //p')
	set -- $out
	eval "${P}_rx=\${1##*=} ${P}_tx=\${2##*=} ${P}_drops=\${3##*=} ${P}_gen=\${4##*=}"
	eval "${P}_t=$(date +%s.%N) ${P}_cpu=$(worker_ns)"
}

# CPU time (ns) the worker thread (DPDK names it rte-worker-1) has run: on a
# shared host other processes take turns on its CPU, which no edgelb change
# can help; the share it got is printed next to every rate.
worker_ns() {
	for t in /proc/"$EL_PID"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = "rte-worker-1" ]; then
			cut -d' ' -f1 "$t/schedstat"
			return
		fi
	done
	echo 0
}

# CPU time and run-queue wait (ns, "RUN WAIT") of edgelb's threads other
# than the workers: the control thread, the store's flush thread, EAL's
# service threads (the first two fields of /proc/PID/task/TID/schedstat).
control_ns() {
	run=0
	wait=0
	for t in /proc/"$EL_PID"/task/*; do
		case "$(cat "$t/comm" 2>/dev/null)" in
		rte-worker-*) ;;
		*)
			set -- $(cat "$t/schedstat" 2>/dev/null || echo 0 0)
			run=$((run + $1))
			wait=$((wait + $2))
			;;
		esac
	done
	echo "$run $wait"
}

memory() { # VmRSS, VmHWM, HugetlbPages of edgelb, in MB
	awk '/^(VmRSS|VmHWM|HugetlbPages):/ { printf "%s %.0f MB  ", $1, $2 / 1024 }' \
		"/proc/$EL_PID/status"
}

echo "control-plane benchmark: $N Services x $EPS endpoints over $CONNS connections," \
	"then $RATE updates/s for ${SECS}s; 1 forwarding lcore, $MEM_NOTE;" \
	"maglev table ${API_BENCH_MAGLEV:-65537 (default)}; state_dir on" \
	"$(df -T "$TMP" | awk 'NR == 2 { print $2 }') ($(dirname "$TMP"))"
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

(cd "$TMP" && exec "$EDGELB" --config "$TMP/edgelb.yaml") >"$TMP/edgelb.log" 2>&1 &
EL_PID=$!
tries=0
until curl -s -o /dev/null "http://$SERVER/healthz" 2>/dev/null; do
	tries=$((tries + 1))
	if [ $tries -gt 150 ] || ! kill -0 "$EL_PID" 2>/dev/null; then
		echo "api_bench: edgelb did not start; its output:"
		tail -20 "$TMP/edgelb.log" | sed 's/^/  | /'
		exit 0
	fi
	sleep 0.2
done
sleep 2 # past the first pass over the pcap

# ---- 1. forwarding with no change ----
P=b0 counters
sleep 5
P=b1 counters
BASE_PPS=$(awk -v a="$b0_tx" -v b="$b1_tx" -v s="$b0_t" -v e="$b1_t" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
awk -v a="$b0_tx" -v b="$b1_tx" -v s="$b0_t" -v e="$b1_t" -v c0="$b0_cpu" -v c1="$b1_cpu" 'BEGIN {
	cpu = (c1 - c0) / 1e9
	printf "  forwarding, no change:          %.2f Mpps; the worker ran %.0f%% of the time: %.2f Mpps per CPU second\n",
		(b - a) / (e - s) / 1e6, 100 * cpu / (e - s), (cpu > 0 ? (b - a) / cpu / 1e6 : 0)
}'

# ---- 2. apply ----
MEM0=$(memory)
CTL0=$(control_ns)
PERF_PID=""
if [ -n "${API_BENCH_PROFILE:-}" ]; then
	# shellcheck disable=SC2086
	perf record -q ${API_BENCH_PERF_ARGS:--g} -o "$API_BENCH_PROFILE" -p "$EL_PID" \
		>/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5
fi
"$BENCH" --server "$SERVER" --conns "$CONNS" apply "$N" "$EPS" >"$TMP/apply.out" 2>&1
RC=$?
if [ -n "$PERF_PID" ]; then
	kill -INT "$PERF_PID"
	wait "$PERF_PID"
	echo "  profile of the apply phase: perf report -i $API_BENCH_PROFILE"
fi
sed -n '/^RESULT/!s/^/  /p' "$TMP/apply.out"
if [ $RC -ne 0 ]; then
	echo "api_bench: apply failed; edgelb's output:"
	tail -20 "$TMP/edgelb.log" | sed 's/^/  | /'
	exit 0
fi
eval "$(results <"$TMP/apply.out")"
MEM1=$(memory)
CTL1=$(control_ns)
echo "  apply: $N Services + $N Endpoints in ${apply_total_seconds} s (target <= 5 s)"
echo "$CTL0 $CTL1 $apply_total_seconds" | awk '{
	cpu = ($3 - $1) / 1e9; rq = ($4 - $2) / 1e9
	printf "  control threads during the apply: %.2f s on a CPU, %.2f s waiting for one (busy host), the rest of the %.2f s blocked (disk, clients)\n",
		cpu, rq, $5
}'
echo "  memory before: $MEM0"
echo "  memory after:  $MEM1"
if [ -n "${API_BENCH_APPLY_ONLY:-}" ]; then
	exit 0
fi

# ---- 3. churn while forwarding ----
P=c0 counters
"$BENCH" --server "$SERVER" --conns "$CONNS" churn "$N" "$RATE" "$SECS" >"$TMP/churn.out" 2>&1
RC=$?
P=c1 counters
sed -n '/^RESULT/!s/^/  /p' "$TMP/churn.out"
[ $RC -eq 0 ] && eval "$(results <"$TMP/churn.out")"
awk -v rx0="$c0_rx" -v rx1="$c1_rx" -v tx0="$c0_tx" -v tx1="$c1_tx" -v d0="$c0_drops" \
	-v d1="$c1_drops" -v g0="$c0_gen" -v g1="$c1_gen" -v s="$c0_t" -v e="$c1_t" \
	-v base="$BASE_PPS" -v cc0="$c0_cpu" -v cc1="$c1_cpu" 'BEGIN {
	rx = rx1 - rx0; tx = tx1 - tx0; d = d1 - d0
	cpu = (cc1 - cc0) / 1e9
	printf "  forwarding during the updates:  %.2f Mpps (%.1f%% of no change); the worker ran %.0f%% of the time: %.2f Mpps per CPU second; %d snapshots published\n",
		tx / (e - s) / 1e6, (base > 0 ? 100 * tx / (e - s) / base : 0), 100 * cpu / (e - s),
		(cpu > 0 ? tx / cpu / 1e6 : 0), g1 - g0
	printf "  packets: rx %d, tx %d, dropped %d: rx - tx - drops = %d (the counters are read one burst of 32 apart)\n", rx, tx, d, rx - tx - d
}'
echo "  update latency (due -> answered = in use by every worker): p50 ${churn_p50_ms:-?} ms," \
	"p99 ${churn_p99_ms:-?} ms, max ${churn_max_ms:-?} ms (target p99 <= 1 ms)"

# ---- 4. one client, one update at a time ----
"$BENCH" --server "$SERVER" --conns 1 churn "$N" 100 5 >"$TMP/lone.out" 2>&1
[ $? -eq 0 ] && eval "$(results <"$TMP/lone.out")"
echo "  lone updates (1 connection, 100/s): p50 ${churn_p50_ms:-?} ms, p99 ${churn_p99_ms:-?} ms," \
	"max ${churn_max_ms:-?} ms"
PUB=$("$BENCH" --server "$SERVER" --conns 1 metrics edgelb_snapshot_publish_seconds |
	sed -n 's/^RESULT edgelb_snapshot_publish_seconds=//p')
echo "  last publish (pointer store -> grace period over -> old snapshot freed): $(awk -v p="${PUB:-0}" 'BEGIN { printf "%.1f", p * 1e6 }') us"
exit 0
