#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The capture demo: edgelb serving the seed services of config/examples/ on two pcap
# ports. Generates a client capture with scapy from the frontends that
# `edgelb --check` lists (so allocated LoadBalancer IPs and NodePorts are
# found, not guessed), forwards it for a few seconds, then shows each
# connection as client -> frontend => SNAT -> backend pod, read back from what
# edgelb transmitted, and the counters edgelb printed at exit.
#
# usage: scripts/demo-pcap.sh [BUILD_DIR]      (default: build)
# (`make demo` is the lab demo with real clients and servers: scripts/demo.sh)
set -eu

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/edgelb
CONFIG=$ROOT/config/demo-pcap.yaml
PY=/usr/bin/python3

if [ ! -x "$BIN" ]; then
	echo "demo: $BIN is missing: build first (make build)" >&2
	exit 1
fi
if ! $PY -c 'import scapy' 2>/dev/null; then
	echo "demo: scapy is missing for $PY (apt-get install python3-scapy)" >&2
	exit 1
fi

# state_dir of config/demo-pcap.yaml: emptied so config/examples is what is served
STATE=/tmp/edgelb-demo-pcap-state
WORK=$(mktemp -d /tmp/edgelb-demo.XXXXXX)
trap 'rm -rf "$WORK" "$STATE"' EXIT
rm -rf "$STATE"
trap 'exit 130' INT TERM

# Memory for EAL: 2 MB hugepages when some are free (reserving them when we
# may), else plain memory.
NEED_PAGES=256
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
free_pages() { awk '/^HugePages_Free:/ {print $2}' /proc/meminfo; }
if [ "$(free_pages)" -lt $NEED_PAGES ] && [ -w $HP ]; then
	echo $(($(cat $HP) + NEED_PAGES - $(free_pages))) >$HP 2>/dev/null || true
fi
if [ "$(id -u)" = 0 ] && [ "$(free_pages)" -ge $NEED_PAGES ]; then
	MEM="--in-memory"
	MEM_NOTE="2 MB hugepages (--in-memory)"
else
	MEM="--no-huge -m 512 --no-shconf"
	MEM_NOTE="no hugepages (--no-huge)"
fi

echo "== edgelb capture demo: config/demo-pcap.yaml, manifests config/examples/, $MEM_NOTE"
"$BIN" --config "$CONFIG" --check >"$WORK/check.txt" || {
	cat "$WORK/check.txt"
	exit 1
}

# ---- the client capture -------------------------------------------------------
$PY - "$WORK" <<'PY'
import json, logging, re, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw, wrpcap

work = sys.argv[1]
EXT_MAC = "02:70:63:61:70:00"  # net_pcap's MAC for the first pcap port
ROUTER = ("198.18.0.254", "02:00:00:00:00:fe")
NODE_IP = "198.18.0.1"

fes = {}  # (service, kind) -> [(ip, port)]
line = re.compile(r"^\s+frontend (\S+):(\d+)\s+(TCP|UDP)\s+(\S+)\s+(\S+)\s+(\d+) backends")
for l in open(f"{work}/check.txt"):
    m = line.match(l)
    if m:
        ip, port, proto, kind, svc, _ = m.groups()
        fes.setdefault((svc, kind), []).append((ip, int(port)))

def fe(svc, kind, ip=None):
    for a in fes.get((svc, kind), []):
        if ip is None or a[0] == ip:
            return a
    sys.exit(f"demo: no {kind} frontend for {svc} in `edgelb --check`")

flows, pkts = [], []
def conn(svc, kind, client, cport, frontend, note=""):
    fid = len(flows)
    flows.append(dict(fid=fid, svc=svc, kind=kind, client=client, cport=cport,
                      fe=frontend, note=note, isn=1000000 * (fid + 1)))

for i in range(6):
    conn("default/frontend:80", "NodePort", f"198.18.100.{11 + i}", 40000 + i,
         fe("default/frontend:80", "NodePort", NODE_IP))
for i in range(3):
    conn("default/api-service:80", "ClusterIP", f"198.18.100.{21 + i}", 41000 + i,
         fe("default/api-service:80", "ClusterIP"))
for i in range(4):
    conn("default/web-lb:https", "LoadBalancer", f"198.18.100.{31 + i}", 42000 + i,
         fe("default/web-lb:https", "LoadBalancer"))
for i in range(6):
    conn("default/sticky:80", "LoadBalancer", "198.18.100.77", 43000 + i,
         fe("default/sticky:80", "LoadBalancer"), "same client each time")
for k, port in enumerate(("http", "https", "metrics")):
    for i in range(2):
        conn(f"default/multiport:{port}", "ClusterIP", f"198.18.100.{41 + i}",
             44000 + 10 * k + i, fe(f"default/multiport:{port}", "ClusterIP"))
for i in range(2):
    conn("default/manual-db:5432", "ClusterIP", f"198.18.100.{51 + i}", 45000 + i,
         fe("default/manual-db:5432", "ClusterIP"))
for i, client in enumerate(("198.18.0.50", "198.18.0.51", "198.18.100.99")):
    conn("default/web-lb-fixed:https", "LoadBalancer", client, 46000 + i,
         fe("default/web-lb-fixed:https", "LoadBalancer"),
         "inside loadBalancerSourceRanges" if client.startswith("198.18.0.")
         else "outside loadBalancerSourceRanges")

def l2():
    return Ether(src=ROUTER[1], dst=EXT_MAC)

pkts.append(Ether(src=ROUTER[1], dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=ROUTER[1], psrc=ROUTER[0], pdst=NODE_IP))
lb = fe("default/web-lb:https", "LoadBalancer")[0]
pkts.append(l2() / IP(src="198.18.100.5", dst=lb) / ICMP(id=1, seq=1) / Raw(b"ping"))
for f in flows:  # SYNs, then one request per connection
    pkts.append(l2() / IP(src=f["client"], dst=f["fe"][0]) /
                TCP(sport=f["cport"], dport=f["fe"][1], flags="S", seq=f["isn"]))
for f in flows:
    pkts.append(l2() / IP(src=f["client"], dst=f["fe"][0]) /
                TCP(sport=f["cport"], dport=f["fe"][1], flags="PA", seq=f["isn"] + 1, ack=1) /
                Raw(b"GET / HTTP/1.1\r\n\r\n"))
pkts.append(l2() / IP(src="198.18.100.6", dst=NODE_IP) / TCP(sport=47000, dport=31999, flags="S"))
pkts.append(Ether(src=ROUTER[1], dst=EXT_MAC, type=0x0800) / Raw(b"\x45\x00\x00"))  # cut off

wrpcap(f"{work}/ext-in.pcap", pkts)
wrpcap(f"{work}/int-in.pcap", [])
json.dump(dict(flows=flows, n_pkts=len(pkts)), open(f"{work}/flows.json", "w"))
print(f"   {len(pkts)} client frames: {len(flows)} TCP connections, an ARP request, a ping,"
      " a SYN to a port nobody serves, a cut-off frame")
PY

# ---- run ------------------------------------------------------------------------
echo "== running edgelb for 3 s"
# shellcheck disable=SC2086 # MEM is a list of words
if ! (cd "$WORK" && "$BIN" --config "$CONFIG" --duration 3 -- $MEM \
	--file-prefix "edgelb-demo-$$" >"$WORK/edgelb.out" 2>&1); then
	cat "$WORK/edgelb.out"
	echo "demo: edgelb failed" >&2
	exit 1
fi
grep '^edgelb: ' "$WORK/edgelb.out" | sed 's/^/   /'

# ---- what came out ----------------------------------------------------------------
$PY - "$WORK" <<'PY'
import json, logging, os, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, TCP, rdpcap

work = sys.argv[1]
meta = json.load(open(f"{work}/flows.json"))
flows = meta["flows"]

def read(name):
    p = f"{work}/{name}"
    return list(rdpcap(p)) if os.path.getsize(p) > 24 else []

out_int, out_ext = read("int-out.pcap"), read("ext-out.pcap")

def ep(ip, port):
    return f"{ip}:{port}"

print()
print(f"{'client':21} {'frontend':20} {'kind':12} {'service':27} => {'SNAT':17} backend pod")
print("-" * 118)
forwarded = 0
by_client = {}
for f in flows:
    syn = [p for p in out_int if TCP in p and p[TCP].seq == f["isn"]]
    fe = ep(*f["fe"])
    head = f"{ep(f['client'], f['cport']):21} {fe:20} {f['kind']:12} {f['svc']:27}"
    if not syn:
        print(f"{head} => dropped{'  (' + f['note'] + ')' if f['note'] else ''}")
        continue
    p = syn[0]
    forwarded += 1
    snat = ep(p[IP].src, p[TCP].sport)
    pod = ep(p[IP].dst, p[TCP].dport)
    by_client.setdefault((f["svc"], f["client"]), set()).add(pod)
    note = f"  ({f['note']})" if f["note"] else ""
    print(f"{head} => {snat:17} {pod}{note}")
print("-" * 118)
print(f"{forwarded} of {len(flows)} connections forwarded to pods "
      f"({len(out_int)} packets out on int, TTL {out_int[0][IP].ttl if out_int else '-'}).")
for (svc, client), pods in by_client.items():
    n = sum(1 for f in flows if f["svc"] == svc and f["client"] == client)
    if n > 1:
        print(f"sessionAffinity: {n} connections of {client} to {svc} went to "
              f"{', '.join(sorted(pods))}")
for p in out_ext:
    if ARP in p and p[ARP].op == 2:
        print(f"ARP: answered who-has {p[ARP].psrc}: is-at {p[ARP].hwsrc}")
    elif ICMP in p and p[ICMP].type == 0:
        print(f"ICMP: echo reply from {p[IP].src} to {p[IP].dst}")
PY

echo
echo "== counters edgelb printed at exit"
sed -n '/^edgelb counters after/,$p' "$WORK/edgelb.out" | grep -v '^TELEMETRY'
