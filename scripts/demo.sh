#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# make demo: edgelb between real clients and real servers. Brings up the lab
# of scripts/lab.sh (namespaces elb-client, elb-lb, elb-pods), starts edgelb
# in elb-lb with config/demo.yaml, applies the seed services of
# config/examples/ (and a UDP echo, config/lab/udp-echo.yaml, and the
# dual-stack services of config/lab/dualstack.yaml) with edgelbctl, then asks
# each service with curl from the client namespace which pod answers:
# NodePort, ClusterIP, LoadBalancer IPs, named target ports, ClientIP
# affinity, a TCP and a UDP echo, the same over IPv6 (curl -6, ping -6), a
# pod removed, endpoints scaled up, and the live counters. The lab stays up
# for trying more; `make demo-down` (scripts/demo.sh --down) removes it. A
# failure or Ctrl-C removes it at once.
#
# usage: scripts/demo.sh [BUILD_DIR] [--xdp]    (default: build; --xdp: af_xdp
#                                                instead of af_packet)
#        scripts/demo.sh --down
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build
XDP=
DOWN=0
for a in "$@"; do
	case $a in
	--xdp) XDP=--xdp ;;
	--down) DOWN=1 ;;
	-*) sed -n '/^# usage:/,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	*) BUILD=$a ;;
	esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LAB="$ROOT/scripts/lab.sh"
NAME=elb
STATE=/tmp/edgelb-demo-state # state_dir of config/demo.yaml

if [ $DOWN = 1 ]; then
	bash "$LAB" down -n $NAME
	rm -rf "$STATE"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }
[ -x "$BUILD/edgelb" ] || { echo "demo: $BUILD/edgelb is missing (make build)" >&2; exit 1; }

ok=0
cleanup() {
	if [ $ok = 0 ]; then
		echo "demo: stopped; removing the lab" >&2
		bash "$LAB" down -n $NAME >/dev/null 2>&1 || true
		rm -rf "$STATE"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

B=''
N=''
if [ -t 1 ]; then
	B=$(tput bold 2>/dev/null || true)
	N=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
client() { ip netns exec $NAME-client "$@"; }
ctl() { bash "$LAB" ctl -n $NAME --build "$BUILD" "$@"; }

# One request on a new connection; prints the request and the pod's answer.
# An IPv6 literal in URL ("http://[2001:db8::1]:30060/") makes it curl -6.
ask() { # URL [SOURCE]
	local out six=
	case $1 in *\[*) six=-6 ;; esac
	out=$(client curl -sS -g $six -m 2 ${2:+--interface "$2"} "$1" 2>&1) || true
	printf '   curl %-37s %s-> %s\n' "${six:+-6 }$1" "${2:+from $2 }" "$out"
}

# N requests, each on a new connection: how many each pod answered.
spread() { # N URL [SOURCE]
	local _
	for _ in $(seq 1 "$1"); do
		client curl -sS -g -m 2 ${3:+--interface "$3"} "$2" 2>&1 | cut -d' ' -f1 || true
	done | sort | uniq -c | awk -v n="$1" -v u="$2" -v s="${3:+ from $3}" '
		{ line = line sprintf("%s x%d  ", $2, $1) }
		END { printf "   %d x curl %s%s:  %s\n", n, u, s, line }'
}

say "the lab: network namespaces, veths, pods (scripts/lab.sh up)"
if ip netns list | grep -q "^$NAME-"; then
	note "an earlier lab is up: removing it first"
	bash "$LAB" down -n $NAME >/dev/null
fi
bash "$LAB" up -n $NAME | sed 's/^/   /'
cat <<'EOF'

   elb-client                    elb-lb                       elb-pods
   198.18.0.10-19 -- eth0 | lb-ext [edgelb] lb-int | eth0 -- pod-11 .. pod-25
   2001:db8::10-19                                          198.18.2.11-25
   routes 198.18.1.0/24 (ClusterIPs)                        2001:db8:2::11-25
     via 198.18.0.1;                                        nginx :8080 :8081 :8443 :8444 :9100
   2001:db8:1::/64 (ClusterIPs) and                         TCP echo :5432 :9000,
   2001:db8:100::/64 (LB pool)                              UDP echo :5353
     via 2001:db8::1                                        (IPv4 and IPv6)
EOF

say "edgelb in elb-lb with config/demo.yaml ($([ -n "$XDP" ] && echo af_xdp || echo af_packet))"
rm -rf "$STATE"
bash "$LAB" start -n $NAME --build "$BUILD" --config "$ROOT/config/demo.yaml" $XDP | sed 's/^/   /'

say "the seed services: edgelbctl apply -f config/examples/" \
	"-f config/lab/udp-echo.yaml -f config/lab/dualstack.yaml"
ctl apply -f "$ROOT/config/examples" | sed 's/^/   /'
ctl apply -f "$ROOT/config/lab/udp-echo.yaml" | sed 's/^/   /'
ctl apply -f "$ROOT/config/lab/dualstack.yaml" | sed 's/^/   /'
echo
ctl get services | sed 's/^/   /'
LB_WEB=$(ctl get services web-lb -n default | awk 'NR == 2 {print $4}')
LB_STICKY=$(ctl get services sticky -n default | awk 'NR == 2 {print $4}')
# hello is dual stack: one LoadBalancer address per family, comma-separated
LB_HELLO6=$(ctl get services hello -n default | awk 'NR == 2 {print $4}' | tr ',' '\n' | grep ':' |
	head -1) || true

say "frontend: NodePort 30080 on both node addresses, and its ClusterIP"
ask http://198.18.0.1:30080/
ask http://198.18.0.2:30080/
ask http://198.18.1.2/
spread 12 http://198.18.0.1:30080/
note "each new connection is placed by Maglev on its flow hash: the three pods share the load"

say "api-service: a ClusterIP routed to edgelb (Endpoints object)"
spread 8 http://198.18.1.10/

say "web-lb: LoadBalancer 443 -> 8443, address $LB_WEB taken from the pool (plain HTTP here)"
ask "http://$LB_WEB:443/"
ask http://198.18.0.120:443/ 198.18.0.10
note "web-lb-fixed asked for 198.18.0.120 and admits only 198.18.0.0/24 (loadBalancerSourceRanges)"

say "multiport: named targetPort 'http' is 8080 on pod-21/22, 8081 on pod-23"
for _ in 1 2 3 4 5 6; do ask http://198.18.1.40/; done | sort | uniq
ask http://198.18.1.40:9100/

say "manual-db: a selectorless service with hand-written Endpoints, a TCP echo on 5432"
out=$(client bash -c 'exec 3<>/dev/tcp/198.18.1.50/5432; echo "hello db" >&3; timeout 2 head -1 <&3' 2>&1) || true
note "send 'hello db' to 198.18.1.50:5432 -> $out"

say "udp-echo: UDP 53 -> 5353"
for _ in 1 2 3; do
	out=$(client bash -c 'exec 3<>/dev/udp/198.18.1.53/53; echo "hi" >&3; timeout 2 head -1 <&3' 2>&1) || true
	note "datagram 'hi' to 198.18.1.53:53 -> $out"
done

say "IPv6: hello is PreferDualStack (IPv6 first), echo-ds RequireDualStack" \
	"(config/lab/dualstack.yaml)"
ask "http://[2001:db8::1]:30060/"
ask "http://198.18.0.1:30060/"
ask "http://[2001:db8:1::60]/"
if [ -n "$LB_HELLO6" ]; then
	ask "http://[$LB_HELLO6]/"
	spread 8 "http://[$LB_HELLO6]/"
fi
note "one service, two families: each client reaches the pods in its own family" \
	"(2001:db8:2::N or 198.18.2.N)"
out=$(client bash -c 'exec 3<>/dev/udp/2001:db8:1::61/53; echo "hi over IPv6" >&3;
	timeout 2 head -1 <&3' 2>&1) || true
note "datagram 'hi over IPv6' to [2001:db8:1::61]:53 -> $out"
out=$(client bash -c 'exec 3<>/dev/tcp/2001:db8:1::61/9000; echo "hello v6" >&3;
	timeout 2 head -1 <&3' 2>&1) || true
note "send 'hello v6' to [2001:db8:1::61]:9000 -> $out"
PING6=${LB_HELLO6:-2001:db8::1}
out=$(client ping -6 -n -c 1 -W 2 "$PING6" 2>&1 | grep -E 'bytes from|received' | head -1) || true
note "ping -6 $PING6: ${out:-no answer}"
note "the client's neighbour entry for edgelb (Neighbour Discovery):" \
	"$(client ip -6 neigh show 2001:db8::1 dev eth0)"

say "sticky: sessionAffinity ClientIP on $LB_STICKY (LoadBalancer from the pool)"
spread 8 "http://$LB_STICKY/" 198.18.0.11
spread 8 "http://$LB_STICKY/" 198.18.0.12
spread 8 "http://$LB_STICKY/" 198.18.0.13
note "one client address, one pod, for as long as it keeps coming back within timeoutSeconds (600)"
note "compare frontend, no affinity, from one client:"
spread 8 http://198.18.0.1:30080/ 198.18.0.11

say "a pod is removed: edgelbctl apply -f config/lab/frontend-pod-removed.yaml"
ctl apply -f "$ROOT/config/lab/frontend-pod-removed.yaml" | sed 's/^/   /'
spread 12 http://198.18.0.1:30080/
note "pod-12 gets no new connection; any open one would drain"

say "endpoints change: edgelbctl apply -f config/lab/frontend-scaled-up.yaml (pod-12 back, pod-24 and pod-25 new)"
ctl apply -f "$ROOT/config/lab/frontend-scaled-up.yaml" | sed 's/^/   /'
spread 20 http://198.18.0.1:30080/

say "no endpoints: connections are refused at once (TCP RST), as kube-proxy does"
ctl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: nobody-home, namespace: default}
spec:
  type: ClusterIP
  clusterIP: 198.18.1.99
  selector: {app: nobody-home}
  ports: [{protocol: TCP, port: 80, targetPort: 8080}]
EOF
ask http://198.18.1.99/

say "a burst: wrk, 50 connections for 3 s, through the NodePort"
if command -v wrk >/dev/null; then
	client wrk -t2 -c50 -d3s http://198.18.0.1:30080/ 2>&1 | grep -E 'requests in|Requests/sec|Non-2xx|errors' | sed 's/^ */   /'
else
	note "wrk is not installed (apt-get install wrk)"
fi

say "live counters: edgelbctl stats"
ctl stats | sed 's/^/   /'
say "live connections: edgelbctl get conns --limit 8"
ctl get conns --limit 8 | sed 's/^/   /'

ok=1
say "the lab stays up: try more"
cat <<EOF
   scripts/lab.sh ctl get services                 # edgelbctl, inside elb-lb
   scripts/lab.sh ctl describe service default/frontend
   scripts/lab.sh ctl get endpointslices
   scripts/lab.sh ctl get conns
   scripts/lab.sh ctl stats
   scripts/lab.sh ctl apply -f config/examples/frontend.yaml   # back to three pods
   scripts/lab.sh ctl delete -f config/examples/api-service.yaml
   ip netns exec elb-client curl http://198.18.0.1:30080/
   ip netns exec elb-client curl --interface 198.18.0.15 http://$LB_STICKY/
   ip netns exec elb-client curl http://198.18.1.40:9100/
   ip netns exec elb-client curl -6 'http://[2001:db8::2]:30060/'
   ip netns exec elb-client curl -6 --interface 2001:db8::15 'http://[2001:db8:1::60]/'
   ip netns exec elb-client ping -6 -c 3 2001:db8::1
   ip netns exec elb-client wrk -c100 -d5s http://198.18.0.1:30080/
   ip netns exec elb-lb curl -s http://127.0.0.1:9180/metrics
   scripts/lab.sh status                           # namespaces, addresses, edgelb pid
   less /run/edgelb-lab/elb/edgelb.log             # edgelb's own output
   make demo-down                                  # remove everything
EOF
