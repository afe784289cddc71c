#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# edgelb next to the kernel's own NAT, in the same lab (scripts/lab.sh): the
# same client namespace, the same three nginx pods (pod-11..13), the same
# wrk runs; only what sits in the lb namespace changes:
#
#   nftables   the lb namespace's kernel routes between lb-ext (198.18.0.1)
#              and lb-int (198.18.2.1) and NATs as kube-proxy's nftables
#              mode programs a NodePort Service with externalTrafficPolicy
#              Cluster: a verdict map from protocol . port to the service,
#              "numgen random mod N" over one chain per endpoint that DNATs,
#              and a mark that makes postrouting masquerade toward the pods
#   IPVS       the same with Linux IPVS (round robin, NAT) where the kernel
#              has it; skipped otherwise
#   edgelb     config/demo.yaml with config/examples/frontend.yaml applied,
#              on af_packet, then on af_xdp
#
# Each column gets keep-alive requests/s (wrk -t1 -c64) and new connections/s
# (the same with "Connection: close": one TCP connection per request) to
# NodePort 198.18.0.1:30080. These are kernel clients on a small machine: the
# figures compare setups run back to back, nothing more (LAB-NOTES).
#
# usage: perf/peers.sh [BUILD_DIR] [--duration S] [--conns N]
#        (default: build, 10 s, 64 connections)
# Prints a Markdown table; perf/README.md ("Peers") keeps the last one.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build
DURATION=10
CONNS=64
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=$2; shift 2 ;;
	--conns) CONNS=$2; shift 2 ;;
	-*) sed -n '/^# usage:/,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	*) BUILD=$1; shift ;;
	esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ "$(id -u)" = 0 ] || { echo "peers: needs root (network namespaces)" >&2; exit 1; }
for t in wrk nft nginx; do
	command -v $t >/dev/null || { echo "peers: $t is missing (make deps)" >&2; exit 1; }
done

NAME=elbp$$
LAB="$ROOT/scripts/lab.sh"
WORK=$(mktemp -d /tmp/edgelb-peers.XXXXXX)
export ELB_LAB_RUN=$WORK/run
cleanup() {
	bash "$LAB" down -n $NAME >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lb() { ip netns exec $NAME-lb "$@"; }
URL=http://198.18.0.1:30080/
PODS="11 12 13"

# wrk MODE -> "requests/s errors" (errors: socket errors + non-2xx responses)
measure() {
	local hdr=() out rps errs
	[ "$1" = close ] && hdr=(-H "Connection: close")
	# a short warm-up fills ARP caches and conntrack, then the run
	ip netns exec $NAME-client wrk -t1 -c"$CONNS" -d2s "${hdr[@]}" $URL >/dev/null 2>&1 || true
	out=$(ip netns exec $NAME-client wrk -t1 -c"$CONNS" -d"${DURATION}s" "${hdr[@]}" $URL 2>&1) ||
		true
	rps=$(echo "$out" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')
	errs=$(echo "$out" | awk '/Socket errors:/ {gsub(/[^0-9 ]/, " "); n = 0;
		for (i = 1; i <= NF; i++) n += $i} /Non-2xx/ {n += $NF} END {print n + 0}')
	echo "${rps:-0} $errs"
}

kernel_router_up() {
	lb ip addr add 198.18.0.1/24 dev lb-ext
	lb ip addr add 198.18.2.1/24 dev lb-int
	lb sysctl -qw net.ipv4.ip_forward=1
}

kernel_router_down() {
	lb nft flush ruleset
	lb ip addr flush dev lb-ext
	lb ip addr flush dev lb-int
	lb sysctl -qw net.ipv4.ip_forward=0
}

# kube-proxy's nftables mode for one NodePort service (clusterIP 198.18.1.2,
# nodePort 30080, targetPort 8080), written out for this lab.
nft_rules() {
	local n i=0 vmap=""
	for n in $PODS; do
		vmap="$vmap${vmap:+, }$i : goto endpoint-$n"
		i=$((i + 1))
	done
	cat <<EOF
table ip peer-kube-proxy {
	chain mark-for-masquerade {
		meta mark set meta mark or 0x4000
	}
	chain masquerading {
		type nat hook postrouting priority srcnat; policy accept;
		meta mark & 0x4000 == 0 return
		meta mark set meta mark xor 0x4000
		masquerade fully-random
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 198.18.1.2 . tcp . 80 : goto external-frontend }
	}
	map service-nodeports {
		type inet_proto . inet_service : verdict
		elements = { tcp . 30080 : goto external-frontend }
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
		fib daddr type local meta l4proto . th dport vmap @service-nodeports
	}
	chain external-frontend {
		jump mark-for-masquerade
		goto service-frontend
	}
	chain service-frontend {
		numgen random mod $i vmap { $vmap }
	}
EOF
	for n in $PODS; do
		cat <<EOF
	chain endpoint-$n {
		ip saddr 198.18.2.$n jump mark-for-masquerade
		meta l4proto tcp dnat to 198.18.2.$n:8080
	}
EOF
	done
	echo "}"
}

ipvs_available() {
	if ! command -v ipvsadm >/dev/null; then
		if lb sh -c 'modprobe -q ip_vs 2>/dev/null; test -e /proc/net/ip_vs'; then
			IPVS_WHY="ipvsadm is not installed (apt-get install ipvsadm)"
		else
			IPVS_WHY="not in this kernel (no /proc/net/ip_vs)"
		fi
		return 1
	fi
	lb ipvsadm -Ln >/dev/null 2>&1 || {
		IPVS_WHY="not in this kernel ($(lb ipvsadm -Ln 2>&1 | head -1))"
		return 1
	}
}

declare -A R
run_column() { # NAME: measure both modes into R[NAME,ka] R[NAME,new]
	local r
	r=$(measure keepalive)
	R[$1,ka]=${r% *}
	R[$1,kaerr]=${r#* }
	r=$(measure close)
	R[$1,new]=${r% *}
	R[$1,newerr]=${r#* }
	R[$1,err]=$((R[$1,kaerr] + R[$1,newerr]))
	printf '   %-18s keep-alive %8s req/s (%s errors), new connections %7s/s (%s errors)\n' \
		"$1" "${R[$1,ka]}" "${R[$1,kaerr]}" "${R[$1,new]}" "${R[$1,newerr]}"
}

echo "== lab $NAME: pods $PODS behind NodePort 198.18.0.1:30080; wrk -t1 -c$CONNS, ${DURATION} s"
bash "$LAB" up -n $NAME >/dev/null
COLS=()

echo "== nftables (kube-proxy nftables mode: numgen random DNAT, masquerade)"
kernel_router_up
nft_rules >"$WORK/rules.nft"
lb nft -f "$WORK/rules.nft"
run_column nftables
COLS+=(nftables)
kernel_router_down

if ipvs_available; then
	echo "== IPVS (round robin, NAT, masquerade toward the pods)"
	kernel_router_up
	lb sysctl -qw net.ipv4.vs.conntrack=1
	for a in 198.18.0.1:30080 198.18.1.2:80; do
		lb ipvsadm -A -t $a -s rr
		for n in $PODS; do lb ipvsadm -a -t $a -r 198.18.2.$n:8080 -m; done
	done
	lb nft -f - <<'EOF'
table ip peer-ipvs {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "lb-int" masquerade
	}
}
EOF
	run_column IPVS
	COLS+=(IPVS)
	lb ipvsadm -C
	kernel_router_down
else
	echo "== IPVS: skipped, $IPVS_WHY"
fi

sed "s|^state_dir:.*|state_dir: \"$WORK/state\"|" "$ROOT/config/demo.yaml" >"$WORK/edgelb.yaml"
for mode in af_packet af_xdp; do
	echo "== edgelb on $mode"
	flag=
	[ $mode = af_xdp ] && flag=--xdp
	if ! bash "$LAB" start -n $NAME --build "$BUILD" --config "$WORK/edgelb.yaml" $flag \
		>/dev/null; then
		echo "   edgelb did not start on $mode: skipped"
		continue
	fi
	bash "$LAB" ctl -n $NAME --build "$BUILD" apply -f "$ROOT/config/examples/frontend.yaml" \
		>/dev/null
	run_column "edgelb $mode"
	COLS+=("edgelb $mode")
	bash "$LAB" stop -n $NAME
done

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); wrk -t1 -c$CONNS -d${DURATION}s to" \
	"NodePort 198.18.0.1:30080, 3 nginx pods"
echo
line="| |"
sep="|---|"
for c in "${COLS[@]}"; do line="$line $c |"; sep="$sep---:|"; done
ipvs_note=
ipvs_available || ipvs_note=" IPVS: ${IPVS_WHY}."
echo "$line"
echo "$sep"
line="| keep-alive requests/s |"
for c in "${COLS[@]}"; do line="$line ${R[$c,ka]} |"; done
echo "$line"
line="| new connections/s |"
for c in "${COLS[@]}"; do line="$line ${R[$c,new]} |"; done
echo "$line"
line="| errors (socket + non-2xx) |"
for c in "${COLS[@]}"; do line="$line ${R[$c,err]} |"; done
echo "$line"
[ -n "$ipvs_note" ] && echo && echo "${ipvs_note# }"
exit 0
