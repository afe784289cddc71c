#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The edgelb lab: three network namespaces joined by two veth pairs, with
# real servers in the pod network. It is the stage of `make demo`, of the
# end-to-end tests (tests/e2e) and of the kernel peers (perf/peers.sh).
#
#   NAME-client                  NAME-lb                         NAME-pods
#   eth0 198.18.0.10-19/24 ---- lb-ext  [edgelb]  lb-int ---- eth0 198.18.2.11-25/24
#        2001:db8::10-19/64     no kernel addresses:                2001:db8:2::11-25/64
#   198.18.1.0/24 (ClusterIPs)   edgelb owns both ports         nginx (HTTP) and one
#     and 198.18.2.1/32          through af_packet or af_xdp    echo process per pod
#     via 198.18.0.1             (IPv6 is off in the kernel     (TCP 5432 and 9000,
#   2001:db8:1::/64 (ClusterIPs),  of NAME-lb)                   UDP 5353), IPv4 and IPv6
#     2001:db8:100::/64 (LB pool)
#     and 2001:db8:2::1/128
#     via 2001:db8::1
#
# Addresses are RFC 2544 benchmarking space (198.18.0.0/15) and the IPv6
# documentation prefix (2001:db8::/32, RFC 3849); no namespace has a default
# route, so nothing leaves the lab. The veth pairs are created directly
# inside the namespaces: the host's root namespace gets nothing. Duplicate
# address detection and router advertisements are off on the lab's links, so
# IPv6 addresses are usable at once. The addresses edgelb will own
# (198.18.0.1-2, 198.18.2.1, 2001:db8::1-2, 2001:db8:2::1) are not given to
# the kernel; `up` lends the IPv6 ones to NAME-lb for a moment to check with
# ping -6 that both links carry IPv6, then takes them back.
# Every pod answers with its name and the address it was reached on, e.g.
# "pod-12 198.18.2.12:8080" or "pod-12 [2001:db8:2::12]:8080".
#
# usage: scripts/lab.sh COMMAND [-n NAME] [options]
#   up [--pods N]           namespaces, veths, addresses, N pod servers (default 15:
#                           pod-11..pod-25 at 198.18.2.11-25 and 2001:db8:2::11-25)
#   down                    stop everything of the lab and remove it
#   start --config FILE [--xdp] [--build DIR] [-- edgelb options]
#                           run edgelb in NAME-lb, wait until /readyz answers
#   stop                    stop edgelb (SIGTERM, then SIGKILL after 10 s)
#   exec client|lb|pods CMD ...   run CMD inside a namespace
#   ctl ARGS ...            build/tools/edgelbctl inside NAME-lb
#   status                  what is up
# NAME defaults to "elb" (namespaces elb-client, elb-lb, elb-pods). State
# (pids, logs, generated server configs) lives in $ELB_LAB_RUN/NAME
# (default /run/edgelb-lab/NAME). EAL memory: --in-memory when 2 MB
# hugepages are free, else --no-huge; ELB_LAB_MEM="..." chooses.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NAME=elb
PODS=15
XDP=0
BUILD=$ROOT/build
CONFIG=
PY=/usr/bin/python3

usage() {
	sed -n '/^# usage:/,/^# (default/p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

die() {
	echo "lab: $*" >&2
	exit 1
}

CMD=${1:-}
[ -n "$CMD" ] || usage
shift
EXTRA=()
while [ $# -gt 0 ]; do
	case $1 in
	-n | --name) NAME=$2; shift 2 ;;
	--pods) PODS=$2; shift 2 ;;
	--xdp) XDP=1; shift ;;
	--build) BUILD=$2; shift 2 ;;
	--config) CONFIG=$2; shift 2 ;;
	--) shift; EXTRA=("$@"); break ;;
	*) if [ "$CMD" = exec ] || [ "$CMD" = ctl ]; then EXTRA=("$@"); break; fi
	   usage ;;
	esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
case $NAME in *[!a-z0-9-]* | "") die "NAME: a-z 0-9 - only" ;; esac
if [ "$PODS" -lt 1 ] || [ "$PODS" -gt 40 ]; then die "--pods: 1..40"; fi

NS_C=$NAME-client
NS_L=$NAME-lb
NS_P=$NAME-pods
RUN=${ELB_LAB_RUN:-/run/edgelb-lab}/$NAME
FIRST_POD=11
LAST_POD=$((FIRST_POD + PODS - 1))
HTTP_PORTS="8080 8081 8443 8444 9100" # nginx, on every pod address
# What edgelb owns in the lab (config/demo.yaml): node addresses on each side
LB_EXT6=2001:db8::1
LB_INT6=2001:db8:2::1

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() {
	ip netns list | awk '{print $1}' | grep -qx "$1"
}

# Is pid $1 running? (a zombie waiting for its parent to reap it is not)
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Stop processes started by this script, given their pid files: each one's
# process group gets SIGTERM, and SIGKILL if it still runs after 10 s.
stop_pidfiles() {
	local f pid i pids=""
	for f in "$@"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		rm -f "$f"
		if [ -z "$pid" ] || ! alive "$pid"; then continue; fi
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		pids="$pids $pid"
	done
	for i in $(seq 1 100); do
		for pid in $pids; do
			alive "$pid" && break
			pids=${pids/ $pid/}
		done
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	for pid in $pids; do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
}

# Start "$@" in its own session (process group) inside namespace $1, output
# to $RUN/$2.log, pid to $RUN/$2.pid.
spawn() {
	local ns=$1 tag=$2
	shift 2
	ip netns exec "$ns" setsid "$@" </dev/null >"$RUN/$tag.log" 2>&1 &
	echo $! >"$RUN/$tag.pid"
}

lab_down() {
	local f ns pids
	stop_pidfiles "$RUN"/*.pid
	# Anything still running inside the lab's namespaces was started in them
	# by the lab (a client of a test, a server): end it with the namespace.
	for ns in $NS_C $NS_L $NS_P; do
		ns_exists "$ns" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		# shellcheck disable=SC2086 # a list of pids
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$RUN"
}

# ---- pod servers ----------------------------------------------------------

nginx_conf() {
	local l
	cat <<EOF
# generated by scripts/lab.sh: every pod address answers with its pod name
worker_processes 2;
pid $RUN/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 8192; multi_accept on; }
worker_rlimit_nofile 65536;
http {
	access_log off;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	client_body_temp_path $RUN/nginx-tmp;
	map \$server_addr \$pod {
		~^198\\.18\\.2\\.(?<n>[0-9]+)\$ pod-\$n;
		~^2001:db8:2::(?<n6>[0-9]+)\$ pod-\$n6;
		default unknown;
	}
	server {
$(for l in $HTTP_PORTS; do printf '\t\tlisten %s backlog=4096;\n' "$l"; done)
		location / {
			default_type text/plain;
			return 200 "\$pod \$server_addr:\$server_port\n";
		}
	}
	server {
$(for l in $HTTP_PORTS; do printf '\t\tlisten [::]:%s ipv6only=on backlog=4096;\n' "$l"; done)
		location / {
			default_type text/plain;
			return 200 "\$pod [\$server_addr]:\$server_port\n";
		}
	}
}
EOF
}

# One process per pod: TCP echo on 5432 and 9000, UDP echo on 5353, on each
# address given (IPv4 and IPv6). Every answer starts with "pod-N IP:PORT "
# ("pod-N [IPv6]:PORT " for IPv6), then the data received.
echo_server() {
	cat <<'EOF'
import selectors, socket, sys
name = sys.argv[1].encode()
sel = selectors.DefaultSelector()
for ip in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    shown = ("[%s]" % ip if fam == socket.AF_INET6 else ip).encode()
    for port in (5432, 9000):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", b"%s %s:%d " % (name, shown, port)))
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((ip, 5353))
    u.setblocking(False)
    sel.register(u, selectors.EVENT_READ, ("udp", b"%s %s:%d " % (name, shown, 5353)))
while True:
    for key, _ in sel.select():
        kind, tag = key.data
        if kind == "listen":
            try:
                c, _ = key.fileobj.accept()
            except OSError:
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, ("conn", tag))
        elif kind == "udp":
            try:
                data, peer = key.fileobj.recvfrom(65535)
                key.fileobj.sendto(tag + data, peer)
            except OSError:
                pass
        else:
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                continue
            try:
                key.fileobj.sendall(tag + data)
            except OSError:
                pass
EOF
}

wait_listening() {
	local want=$1 i n
	for i in $(seq 1 100); do
		n=$(in_ns "$NS_P" ss -Hltnu 2>/dev/null | wc -l)
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# IPv6 settings of a namespace, before its veth end arrives (new devices
# take the "default" values): on in the client and pod namespaces, with no
# duplicate address detection (addresses usable at once) and no router
# advertisements; off in the lb namespace, whose devices belong to edgelb.
ipv6_sysctls() {
	local ns=$1 on=$2 c
	if [ "$on" = 1 ]; then
		for c in all default; do
			in_ns "$ns" sysctl -qw net.ipv6.conf.$c.disable_ipv6=0 \
				net.ipv6.conf.$c.accept_dad=0 net.ipv6.conf.$c.dad_transmits=0 \
				net.ipv6.conf.$c.accept_ra=0 net.ipv6.conf.$c.router_solicitations=0
		done
	else
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	fi
}

# Before edgelb: lend its IPv6 node addresses to the kernel of NAME-lb and
# ping them from both sides (and a pod from NAME-lb), then take them back and
# forget the neighbours learned, so the first NS answered later is edgelb's.
check_ipv6_links() {
	local dev rc=0
	for dev in lb-ext lb-int; do
		in_ns "$NS_L" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" \
			"net.ipv6.conf.$dev.accept_ra=0" "net.ipv6.conf.$dev.disable_ipv6=0"
	done
	in_ns "$NS_L" ip -6 addr add "$LB_EXT6/64" dev lb-ext nodad
	in_ns "$NS_L" ip -6 addr add "$LB_INT6/64" dev lb-int nodad
	in_ns "$NS_C" ping -6 -q -c 1 -W 2 -I 2001:db8::10 "$LB_EXT6" >/dev/null ||
		{ echo "lab: ping -6 $NS_C -> $NS_L ($LB_EXT6) failed" >&2; rc=1; }
	in_ns "$NS_P" ping -6 -q -c 1 -W 2 -I "2001:db8:2::$FIRST_POD" "$LB_INT6" >/dev/null ||
		{ echo "lab: ping -6 $NS_P -> $NS_L ($LB_INT6) failed" >&2; rc=1; }
	in_ns "$NS_L" ping -6 -q -c 1 -W 2 "2001:db8:2::$LAST_POD" >/dev/null ||
		{ echo "lab: ping -6 $NS_L -> $NS_P (2001:db8:2::$LAST_POD) failed" >&2; rc=1; }
	for dev in lb-ext lb-int; do
		in_ns "$NS_L" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	done
	in_ns "$NS_C" ip -6 neigh flush dev eth0
	in_ns "$NS_P" ip -6 neigh flush dev eth0
	return $rc
}

lab_up() {
	local i
	command -v nginx >/dev/null || die "nginx is missing (apt-get install nginx-light)"
	for i in $NS_C $NS_L $NS_P; do
		ns_exists "$i" && die "namespace $i exists: scripts/lab.sh down -n $NAME first"
	done
	mkdir -p "$RUN/nginx-tmp"
	trap 'echo "lab: up failed, removing what was made" >&2; lab_down' EXIT
	for i in $NS_C $NS_L $NS_P; do
		ip netns add "$i"
		in_ns "$i" ip link set lo up
	done
	ipv6_sysctls "$NS_C" 1
	ipv6_sysctls "$NS_P" 1
	ipv6_sysctls "$NS_L" 0
	# veth ends are born in their namespaces: nothing in the root namespace
	ip link add eth0 netns "$NS_C" address 02:00:00:00:00:0a type veth \
		peer name lb-ext netns "$NS_L" address 02:00:00:00:00:01
	ip link add eth0 netns "$NS_P" address 02:00:00:00:02:0b type veth \
		peer name lb-int netns "$NS_L" address 02:00:00:00:02:01
	for i in $NS_C $NS_P; do
		# kernel senders on veth leave checksums partial: af_packet and
		# af_xdp would hand them on unfinished
		in_ns "$i" ethtool -K eth0 tx off >/dev/null
	done
	in_ns "$NS_L" ip link set lb-ext up
	in_ns "$NS_L" ip link set lb-int up

	in_ns "$NS_C" ip addr add 198.18.0.10/24 dev eth0
	for i in $(seq 11 19); do
		in_ns "$NS_C" ip addr add "198.18.0.$i/24" dev eth0
	done
	for i in $(seq 10 19); do
		in_ns "$NS_C" ip -6 addr add "2001:db8::$i/64" dev eth0 nodad
	done
	in_ns "$NS_C" ip link set eth0 up
	in_ns "$NS_C" ip route add 198.18.1.0/24 via 198.18.0.1
	in_ns "$NS_C" ip route add 198.18.2.1/32 via 198.18.0.1
	in_ns "$NS_C" ip -6 route add 2001:db8:1::/64 via "$LB_EXT6"
	in_ns "$NS_C" ip -6 route add 2001:db8:100::/64 via "$LB_EXT6"
	in_ns "$NS_C" ip -6 route add "$LB_INT6/128" via "$LB_EXT6"

	for i in $(seq $FIRST_POD $LAST_POD); do
		in_ns "$NS_P" ip addr add "198.18.2.$i/24" dev eth0
		in_ns "$NS_P" ip -6 addr add "2001:db8:2::$i/64" dev eth0 nodad
	done
	in_ns "$NS_P" ip link set eth0 up
	# many short connections from one SNAT address: reuse TIME_WAIT ports
	# (both settings apply to IPv6 as well)
	in_ns "$NS_C" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="10000 60999"
	in_ns "$NS_P" sysctl -qw net.core.somaxconn=4096
	check_ipv6_links || die "the lab's links do not carry IPv6"

	nginx_conf >"$RUN/nginx.conf"
	spawn "$NS_P" nginx nginx -p "$RUN" -c "$RUN/nginx.conf" -g "daemon off;"
	echo_server >"$RUN/echo_server.py"
	for i in $(seq $FIRST_POD $LAST_POD); do
		spawn "$NS_P" "pod-$i" $PY "$RUN/echo_server.py" "pod-$i" "198.18.2.$i" \
			"2001:db8:2::$i"
	done
	# nginx: 5 wildcard sockets per family; each pod: 2 TCP + 1 UDP per family
	wait_listening $((2 * 5 + 2 * 3 * PODS)) || die "pod servers did not start: see $RUN/*.log"
	trap - EXIT
	echo "lab $NAME up: $NS_C (198.18.0.10-19, 2001:db8::10-19), $NS_L (lb-ext, lb-int)," \
		"$NS_P (pod-$FIRST_POD..pod-$LAST_POD at 198.18.2.$FIRST_POD-$LAST_POD," \
		"2001:db8:2::$FIRST_POD-$LAST_POD)"
}

# ---- edgelb -----------------------------------------------------------------

# --in-memory when at least 128 free 2 MB hugepages (edgelb with the lab's
# configs takes about 40 MB), else plain memory; $ELB_LAB_MEM overrides.
eal_memory() {
	local free
	if [ -n "${ELB_LAB_MEM:-}" ]; then
		echo "$ELB_LAB_MEM"
		return
	fi
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo 2>/dev/null)
	if [ "${free:-0}" -ge 128 ]; then
		echo "--in-memory"
	else
		echo "--no-huge -m 512 --no-shconf"
	fi
}

api_url() {
	local listen
	listen=$(sed -n 's/^[[:space:]]*listen:[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | head -1)
	echo "http://${listen:-127.0.0.1:9180}"
}

lb_start() {
	local cfg i
	[ -n "$CONFIG" ] || die "start: --config FILE is required"
	[ -f "$CONFIG" ] || die "start: no such file: $CONFIG"
	[ -x "$BUILD/edgelb" ] || die "start: $BUILD/edgelb is missing (make build)"
	ns_exists "$NS_L" || die "start: the lab is not up (scripts/lab.sh up -n $NAME)"
	if [ -f "$RUN/edgelb.pid" ] && alive "$(cat "$RUN/edgelb.pid")"; then
		die "start: edgelb already runs (pid $(cat "$RUN/edgelb.pid"))"
	fi
	cfg=$RUN/edgelb.yaml
	if [ $XDP = 1 ]; then
		# af_xdp on veth: copy mode, one queue per device
		sed -E 's/net_af_packet([0-9]+),iface=([^,"]+)[^"]*/net_af_xdp\1,iface=\2,start_queue=0,queue_count=1/' \
			"$CONFIG" >"$cfg"
	else
		cp "$CONFIG" "$cfg"
	fi
	api_url "$cfg" >"$RUN/api"
	# shellcheck disable=SC2046 # eal_memory is a list of words
	spawn "$NS_L" edgelb "$BUILD/edgelb" --config "$cfg" "${EXTRA[@]}" -- \
		$(eal_memory) --no-pci --file-prefix "edgelb-lab-$NAME"
	for i in $(seq 1 300); do
		if in_ns "$NS_L" curl -fs -m 1 -o /dev/null "$(cat "$RUN/api")/readyz"; then
			echo "edgelb runs in $NS_L (pid $(cat "$RUN/edgelb.pid")," \
				"$([ $XDP = 1 ] && echo af_xdp || echo af_packet)), API $(cat "$RUN/api")," \
				"log $RUN/edgelb.log"
			return 0
		fi
		alive "$(cat "$RUN/edgelb.pid")" || break
		sleep 0.1
	done
	tail -20 "$RUN/edgelb.log" >&2
	stop_pidfiles "$RUN/edgelb.pid"
	die "start: edgelb did not become ready"
}

lab_status() {
	local ns
	for ns in $NS_C $NS_L $NS_P; do
		if ns_exists "$ns"; then
			echo "$ns: $(ip netns pids "$ns" | wc -l) processes"
			in_ns "$ns" ip -br addr show | grep -v '^lo' | sed 's/^/  /'
		else
			echo "$ns: absent"
		fi
	done
	if [ -f "$RUN/edgelb.pid" ] && alive "$(cat "$RUN/edgelb.pid")"; then
		echo "edgelb: pid $(cat "$RUN/edgelb.pid"), API $(cat "$RUN/api") (in $NS_L)"
	else
		echo "edgelb: not running"
	fi
}

case $CMD in
up) lab_up ;;
down) lab_down; echo "lab $NAME down" ;;
start) lb_start ;;
stop) stop_pidfiles "$RUN/edgelb.pid" ;;
exec)
	[ ${#EXTRA[@]} -ge 2 ] || usage
	ns=$NAME-${EXTRA[0]}
	exec ip netns exec "$ns" "${EXTRA[@]:1}"
	;;
ctl)
	[ -f "$RUN/api" ] || die "ctl: edgelb was not started by this lab"
	exec ip netns exec "$NS_L" "$BUILD/tools/edgelbctl" --server "$(cat "$RUN/api")" \
		"${EXTRA[@]}"
	;;
status) lab_status ;;
*) usage ;;
esac
