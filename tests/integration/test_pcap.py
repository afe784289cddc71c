#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The edgelb binary end to end on pcap vdevs.

Builds input captures with scapy, runs the real binary (EAL --no-huge) with
two net_pcap ports (ext: clients, int: pods) and reads what it transmitted.

Run 1 feeds the client side only: ARP and ICMP echo for owned addresses, TCP
flows to a NodePort and to a LoadBalancer IP, UDP flows to a ClusterIP, and
malformed frames. It checks the FullNAT rewrite of every packet (SNAT source,
a backend of the right service on its targetPort, one backend and one SNAT
port per flow, TTL - 1, valid IP/TCP/UDP checksums, next-hop MACs), the
ARP and echo replies, the counters printed at exit, and the Prometheus text
(the --metrics-file written at exit, and GET /metrics while it runs).

Run 2 adds the pod side. net_pcap reads each rx file burst by burst as it is
polled and ignores timestamps, and the single worker polls ext before int in
every loop iteration, so the int capture starts with enough filler frames
(ARP requests for an address edgelb does not own) that its replies are read
only after every client packet was processed. The replies are built from the
SNAT ports run 1 observed; identical input gives identical port choices, and
run 2 checks that too. The replies must leave on ext rewritten to
frontend -> client.

Usage: test_pcap.py PATH/TO/edgelb   (EDGELB_TEST_KEEP=1 keeps the files)
Prints one line "N passed, M failed"; exit status 1 when anything failed,
77 (skipped) when scapy is missing.
"""
import logging
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
try:
    from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, rdpcap, wrpcap
except ImportError:
    print("scapy is not available for", sys.executable, "- skipped")
    sys.exit(77)

# net_pcap gives its ports 02:70:63:61:70:NN, NN counting ports in probe order
# (ext is probed first). The run checks this against what edgelb prints.
EXT_MAC = "02:70:63:61:70:00"
INT_MAC = "02:70:63:61:70:01"
ROUTER_IP, ROUTER_MAC = "198.18.0.254", "02:00:00:00:00:fe"
NODE_IP = "198.18.0.1"
SNAT_IP = "198.18.2.1"
LB_IP = "198.18.0.100"
DNS_CLUSTER_IP = "198.18.1.53"
NODEPORT = 30080


def pod_mac(ip):
    return "02:00:00:00:02:%02x" % int(ip.rsplit(".", 1)[1])


# service -> (frontend ip, port, proto, backends, targetPort)
SERVICES = {
    "web": (NODE_IP, NODEPORT, "tcp", ["198.18.2.11", "198.18.2.12", "198.18.2.13"], 8080),
    "lb": (LB_IP, 443, "tcp", ["198.18.2.21", "198.18.2.22"], 8443),
    "dns": (DNS_CLUSTER_IP, 53, "udp", ["198.18.2.31", "198.18.2.32"], 5353),
}
PODS = sorted({ip for s in SERVICES.values() for ip in s[3]})

MANIFESTS = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: test}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: test}
subsets:
- addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}, {ip: 198.18.2.13}]
  ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: test}
spec:
  type: LoadBalancer
  loadBalancerIP: 198.18.0.100
  selector: {app: lb}
  ports: [{name: https, protocol: TCP, port: 443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: lb-1
  namespace: test
  labels: {kubernetes.io/service-name: lb}
addressType: IPv4
endpoints:
- addresses: [198.18.2.21]
  conditions: {ready: true}
- addresses: [198.18.2.22]
  conditions: {ready: true}
ports: [{name: https, port: 8443, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: test}
spec:
  type: ClusterIP
  clusterIP: 198.18.1.53
  selector: {app: dns}
  ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: dns, namespace: test}
subsets:
- addresses: [{ip: 198.18.2.31}, {ip: 198.18.2.32}]
  ports: [{name: dns, port: 5353, protocol: UDP}]
"""


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(d, int_rx, api_port):
    """The appliance config; state and REST API kept to this test (a fresh
    state directory per run, so the manifests apply every time)."""
    neigh = ", ".join('{ip: "%s", mac: "%s"}' % (ip, pod_mac(ip)) for ip in PODS)
    return f"""\
idle_sleep_us: 50
api: {{listen: "127.0.0.1:{api_port}"}}
interfaces:
  - name: ext
    device: "net_pcap0,rx_pcap={d}/in_ext.pcap,tx_pcap={d}/out_ext.pcap"
    addresses: ["{NODE_IP}/24"]
    routes: [{{to: "0.0.0.0/0", via: "{ROUTER_IP}"}}]
    neighbors: [{{ip: "{ROUTER_IP}", mac: "{ROUTER_MAC}"}}]
  - name: int
    device: "net_pcap1,rx_pcap={int_rx},tx_pcap={d}/out_int.pcap"
    addresses: ["{SNAT_IP}/24"]
    neighbors: [{neigh}]
snat: {{addresses: ["{SNAT_IP}"]}}
loadbalancer: {{pools: ["198.18.0.100-198.18.0.150"]}}
conntrack: {{max_flows: 65536}}
manifests: ["manifests.yaml"]
state_dir: "{d}/state"
"""


# ---- client traffic ----------------------------------------------------------

class Flow:
    """One client connection; packets carry the flow's id in seq or payload."""

    def __init__(self, fid, svc, client, cport):
        self.fid, self.svc, self.client, self.cport = fid, svc, client, cport
        fe_ip, fe_port, proto, _, _ = SERVICES[svc]
        self.fe_ip, self.fe_port, self.proto = fe_ip, fe_port, proto
        self.isn = 1000000 * (fid + 1)
        self.sent = 0

    def l2l3(self):
        return Ether(src=ROUTER_MAC, dst=EXT_MAC) / IP(src=self.client, dst=self.fe_ip, ttl=64)

    def packet(self, n):
        """n-th packet of the flow (TCP: 0 = SYN, then data)."""
        self.sent += 1
        if self.proto == "udp":
            return self.l2l3() / UDP(sport=self.cport, dport=self.fe_port) / Raw(
                b"flow%d-%d" % (self.fid, n))
        if n == 0:
            return self.l2l3() / TCP(sport=self.cport, dport=self.fe_port, flags="S",
                                     seq=self.isn, window=64240)
        data = b"GET /flow%d/%d HTTP/1.1\r\n\r\n" % (self.fid, n)
        return self.l2l3() / TCP(sport=self.cport, dport=self.fe_port, flags="PA",
                                 seq=self.isn + 1 + 100 * (n - 1), ack=1) / Raw(data)

    def owns(self, pkt):
        """Does an output packet (either side) belong to this flow?"""
        if self.proto == "udp":
            # (scapy may dissect the payload as DNS: take the bytes)
            return UDP in pkt and bytes(pkt[UDP].payload).startswith(b"flow%d-" % self.fid)
        return TCP in pkt and self.isn <= pkt[TCP].seq < self.isn + 100000


def build_flows():
    flows = []
    for i in range(8):
        flows.append(Flow(len(flows), "web", "198.18.100.%d" % (10 + i), 40000 + i))
    for i in range(5):
        flows.append(Flow(len(flows), "lb", "198.18.100.%d" % (30 + i), 41000 + i))
    for i in range(5):
        flows.append(Flow(len(flows), "dns", "198.18.100.%d" % (50 + i), 5000 + i))
    return flows


def malformed():
    """Frames that must be dropped, with the counter each must land in."""
    l2 = Ether(src=ROUTER_MAC, dst=EXT_MAC, type=0x0800)
    out = []
    # IHL 3 (12 bytes): shorter than the minimal IPv4 header
    p = IP(src="198.18.100.90", dst=NODE_IP, ihl=3) / TCP(dport=NODEPORT, flags="S")
    out.append((l2 / Raw(bytes(p)), "bad_ihl"))
    # IPv4 header cut after 10 bytes
    p = bytes(IP(src="198.18.100.91", dst=NODE_IP) / TCP(dport=NODEPORT, flags="S"))
    out.append((l2 / Raw(p[:10]), "truncated"))
    # total length 16: less than the 20-byte header it sits in
    p = IP(src="198.18.100.92", dst=NODE_IP, len=16) / TCP(dport=NODEPORT, flags="S")
    out.append((l2 / Raw(bytes(p)), "bad_length"))
    return out


def client_capture(flows):
    pkts = [Ether(src=ROUTER_MAC, dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=ROUTER_MAC, psrc=ROUTER_IP, pdst=NODE_IP)]
    pkts.append(Ether(src=ROUTER_MAC, dst=EXT_MAC) /
                IP(src="198.18.100.5", dst=LB_IP, ttl=64) /
                ICMP(type=8, id=0x4242, seq=7) / Raw(b"edgelb-echo"))
    bad = malformed()
    for n in range(3):  # interleave the flows: packet n of every flow
        for f in flows:
            pkts.append(f.packet(n))
        if n == 1:
            pkts.extend(p for p, _ in bad)
    return pkts, bad


# ---- reading results ---------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok    " + name)
        else:
            self.failed += 1
            print("FAIL  " + name + (": " + detail if detail else ""))
        return ok


def csums_valid(pkt):
    """Recompute IP and L4 checksums with scapy and compare."""
    ip = IP(bytes(pkt[IP]))
    copy = ip.copy()
    del copy.chksum
    l4 = TCP if TCP in copy else UDP if UDP in copy else ICMP if ICMP in copy else None
    if l4 is not None:
        del copy[l4].chksum
    again = IP(bytes(copy))
    if again.chksum != ip.chksum:
        return False
    return l4 is None or again[l4].chksum == ip[l4].chksum


def read(path):
    return list(rdpcap(path)) if os.path.exists(path) and os.path.getsize(path) > 24 else []


def run_edgelb(binary, d, tag, api_port=None):
    """Run edgelb for 3 s; with @api_port, GET /metrics while it runs.
    Returns (CompletedProcess, the /metrics body or an error text)."""
    shutil.rmtree(f"{d}/state", ignore_errors=True)
    cmd = [binary, "--config", f"{d}/edgelb.yaml", "--duration", "3",
           "--metrics-file", f"{d}/metrics-{tag}.txt", "--",
           "--no-huge", "-m", "512", "--no-shconf", "--no-pci", "-l", "0-1",
           "--file-prefix", f"edgelb-pcap-{os.getpid()}-{tag}",
           "--log-level", "lib.eal:warning", "--no-telemetry"]
    live = "not fetched"
    with open(f"{d}/stdout-{tag}", "w+") as out, open(f"{d}/stderr-{tag}", "w+") as err:
        proc = subprocess.Popen(cmd, cwd=d, stdout=out, stderr=err, text=True)
        if api_port is not None:
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.2)
                try:
                    url = f"http://127.0.0.1:{api_port}/metrics"
                    with urllib.request.urlopen(url, timeout=2) as r:
                        live = r.read().decode()
                    break
                except (OSError, ValueError) as e:
                    live = f"GET /metrics: {e}"
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.seek(0)
        err.seek(0)
        p = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
    with open(f"{d}/edgelb-{tag}.log", "w") as fh:
        fh.write(p.stdout + p.stderr)
    return p, live


def final_stats(stdout):
    """Counters of the last block edgelb printed."""
    i = stdout.rfind("edgelb counters after")
    block = stdout[i:] if i >= 0 else ""
    st = {"ifaces": {}, "drops": {}, "flows": {}}
    for m in re.finditer(r"^  (\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", block, re.M):
        st["ifaces"][m.group(1)] = tuple(int(m.group(k)) for k in range(2, 6))
    m = re.search(r"flows: created (\d+)\s+active (\d+)\s+expired (\d+)", block)
    if m:
        st["flows"] = dict(zip(("created", "active", "expired"), map(int, m.groups())))
    d = re.search(r"^  drops:(.*?)(?=^  \S|\Z)", block, re.M | re.S)
    if d:
        for m in re.finditer(r"^    (\w+)\s+(\d+)$", d.group(1), re.M):
            st["drops"][m.group(1)] = int(m.group(2))
    m = re.search(r"^  arp: replies (\d+).*echo_replies (\d+)", block, re.M)
    if m:
        st["arp_replies"], st["echo_replies"] = int(m.group(1)), int(m.group(2))
    return st


PROM_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
PROM_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_prometheus(text):
    """Parse exposition text; return ({(name, labels): value}, error or None)."""
    types, samples = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                if parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    return samples, f"line {n}: unknown type {parts[3]}"
                types[parts[2]] = parts[3]
            continue
        m = PROM_SAMPLE.match(line)
        if not m:
            return samples, f"line {n}: not a sample: {line!r}"
        name, lab, val = m.groups()
        if name not in types:
            return samples, f"line {n}: {name} has no TYPE line before it"
        labels = []
        if lab:
            pos = 0
            while pos < len(lab):
                lm = PROM_LABEL.match(lab, pos)
                if not lm:
                    return samples, f"line {n}: bad labels {lab!r}"
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
        try:
            v = float(val)
        except ValueError:
            return samples, f"line {n}: bad value {val!r}"
        key = (name, tuple(sorted(labels)))
        if key in samples:
            return samples, f"line {n}: duplicate series {key}"
        samples[key] = v
    return samples, None


# ---- the checks --------------------------------------------------------------

def check_cli(c, binary, d):
    p = subprocess.run([binary, "--config", f"{d}/edgelb.yaml", "--check"], cwd=d,
                       capture_output=True, text=True, timeout=60)
    c.check("--check accepts the test config and its manifests", p.returncode == 0,
            p.stdout + p.stderr)
    bad = f"{d}/bad.yaml"
    with open(f"{d}/edgelb.yaml") as fh, open(bad, "w") as out:
        out.write(fh.read().replace(f'"{NODE_IP}/24"', '"198.18.0.300/24"'))
    p = subprocess.run([binary, "--config", bad, "--", "--no-huge", "--no-pci"], cwd=d,
                       capture_output=True, text=True, timeout=60)
    msg = p.stdout + p.stderr
    c.check("a bad address is refused as FILE:LINE: KEY before EAL starts",
            p.returncode == 1 and re.search(re.escape(bad) + r":\d+: \S", msg) is not None
            and "EAL:" not in msg, msg.strip())
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    c.check("--help prints usage and exits 0", p.returncode == 0 and "--config" in p.stdout)


def check_nat_side(c, flows, out_int, label):
    """Every client packet left on int, FullNAT-rewritten; returns flow -> mapping."""
    mapping = {}
    problems = {k: [] for k in ("count", "snat", "backend", "consistent", "ttl", "csum",
                                "l2")}
    for f in flows:
        _, _, _, backends, tport = SERVICES[f.svc]
        mine = [p for p in out_int if IP in p and p[IP].dst in backends and f.owns(p)]
        if len(mine) != f.sent:
            problems["count"].append(f"flow {f.fid}: {len(mine)}/{f.sent}")
        l4 = TCP if f.proto == "tcp" else UDP
        seen = set()
        for p in mine:
            if p[IP].src != SNAT_IP:
                problems["snat"].append(f"flow {f.fid}: src {p[IP].src}")
            if p[IP].dst not in backends or p[l4].dport != tport:
                problems["backend"].append(f"flow {f.fid}: {p[IP].dst}:{p[l4].dport}")
            if p[IP].ttl != 63:
                problems["ttl"].append(f"flow {f.fid}: ttl {p[IP].ttl}")
            if not csums_valid(p):
                problems["csum"].append(f"flow {f.fid}: {p.summary()}")
            if p[Ether].src != INT_MAC or p[Ether].dst != pod_mac(p[IP].dst):
                problems["l2"].append(f"flow {f.fid}: {p[Ether].src} -> {p[Ether].dst}")
            seen.add((p[IP].dst, p[l4].dport, p[l4].sport))
        if len(seen) > 1:
            problems["consistent"].append(f"flow {f.fid}: {sorted(seen)}")
        if len(seen) == 1:
            mapping[f.fid] = seen.pop()
    c.check(f"{label}: every client packet leaves on int", not problems["count"],
            "; ".join(problems["count"]))
    c.check(f"{label}: source rewritten to the SNAT address", not problems["snat"],
            "; ".join(problems["snat"][:5]))
    c.check(f"{label}: destination is a backend of the service on its targetPort",
            not problems["backend"], "; ".join(problems["backend"][:5]))
    c.check(f"{label}: one backend and one SNAT port per flow", not problems["consistent"],
            "; ".join(problems["consistent"][:5]))
    c.check(f"{label}: TTL decremented by one", not problems["ttl"],
            "; ".join(problems["ttl"][:5]))
    c.check(f"{label}: IP and TCP/UDP checksums valid", not problems["csum"],
            "; ".join(problems["csum"][:5]))
    c.check(f"{label}: sent from the int MAC to the pod's MAC", not problems["l2"],
            "; ".join(problems["l2"][:5]))
    return mapping


def check_run1(c, flows, bad, n_in, d, p):
    out = p.stdout
    c.check("run 1: edgelb exits 0 after --duration", p.returncode == 0,
            (p.stdout + p.stderr)[-2000:])
    c.check("run 1: net_pcap MACs are the ones the captures were built for",
            re.search(r"interface ext .*%s" % EXT_MAC, out) is not None and
            re.search(r"interface int .*%s" % INT_MAC, out) is not None,
            "\n".join(l for l in out.splitlines() if "interface" in l))
    out_int, out_ext = read(f"{d}/out_int.pcap"), read(f"{d}/out_ext.pcap")

    tcp = [f for f in flows if f.proto == "tcp"]
    udp = [f for f in flows if f.proto == "udp"]
    m_tcp = check_nat_side(c, tcp, out_int, "tcp flows")
    m_udp = check_nat_side(c, udp, out_int, "udp flows")
    mapping = {**m_tcp, **m_udp}

    snat = [mapping[f.fid][2] for f in flows if f.fid in mapping]
    c.check("each flow has its own SNAT port", len(snat) == len(set(snat)), str(sorted(snat)))
    web = {mapping[f.fid][0] for f in flows if f.svc == "web" and f.fid in mapping}
    c.check("NodePort flows are spread over more than one backend", len(web) > 1, str(web))

    arp = [q for q in out_ext if ARP in q and q[ARP].op == 2]
    c.check("ARP request for the node address is answered on ext",
            len(arp) == 1 and arp[0][ARP].psrc == NODE_IP and arp[0][ARP].hwsrc == EXT_MAC
            and arp[0][ARP].pdst == ROUTER_IP and arp[0][Ether].dst == ROUTER_MAC,
            "; ".join(q.summary() for q in arp) or "no ARP reply")
    echo = [q for q in out_ext if ICMP in q and q[ICMP].type == 0]
    c.check("ICMP echo to the LoadBalancer IP is answered on ext",
            len(echo) == 1 and echo[0][IP].src == LB_IP and echo[0][IP].dst == "198.18.100.5"
            and echo[0][ICMP].id == 0x4242 and echo[0][ICMP].seq == 7
            and bytes(echo[0][Raw].load) == b"edgelb-echo" and csums_valid(echo[0])
            and echo[0][Ether].dst == ROUTER_MAC,
            "; ".join(q.summary() for q in echo) or "no echo reply")
    c.check("nothing else leaves on ext", len(out_ext) == len(arp) + len(echo),
            "; ".join(q.summary() for q in out_ext[:6]))
    leaked = [q for q in out_int if IP in q and q[IP].src.startswith("198.18.100.9")]
    c.check("malformed frames are not forwarded", not leaked,
            "; ".join(q.summary() for q in leaked))

    st = final_stats(out)
    c.check("exit counters: ext received every input frame",
            st["ifaces"].get("ext", (None,))[0] == n_in, str(st["ifaces"]))
    c.check("exit counters: int sent every forwarded packet",
            st["ifaces"].get("int", (0, 0, None))[2] == len(out_int), str(st["ifaces"]))
    c.check("exit counters: one flow created per client flow",
            st["flows"].get("created") == len(flows), str(st["flows"]))
    for _, reason in bad:
        c.check(f"exit counters: the malformed frame is counted as {reason}",
                st["drops"].get(reason, 0) >= 1, str(st["drops"]))
    c.check("exit counters: ARP and echo replies counted",
            st.get("arp_replies") == 1 and st.get("echo_replies") == 1,
            f"arp {st.get('arp_replies')} echo {st.get('echo_replies')}")
    m = re.search(r"^  test/web:http\s+(\d+)\s+(\d+)$", out, re.M)
    n_web = sum(1 for f in flows if f.svc == "web")
    c.check("exit counters: per service port flows_created",
            m is not None and int(m.group(1)) == n_web,
            m.group(0) if m else "no line for test/web:http")

    try:
        with open(f"{d}/metrics-1.txt") as fh:
            text = fh.read()
    except OSError as e:
        text, err = "", str(e)
    samples, err = parse_prometheus(text) if text else ({}, "no metrics file")
    c.check("metrics text parses as Prometheus exposition format", err is None, err or "")
    names = {k[0] for k in samples}
    want = {"edgelb_packets_total", "edgelb_drops_total", "edgelb_flows_active",
            "edgelb_flows_created_total", "edgelb_snapshot_generation",
            "edgelb_snapshot_publish_seconds"}
    c.check("metrics text has every DESIGN.md family", want <= names,
            "missing " + ", ".join(sorted(want - names)))
    rx = samples.get(("edgelb_packets_total", (("direction", "rx"), ("port", "ext"))))
    c.check("metrics agree with the printed counters (ext rx packets)", rx == n_in,
            f"metrics {rx}, input {n_in}")
    created = samples.get(("edgelb_flows_created_total", (("service", "test/web:http"),)))
    c.check("metrics count flows per service", created == n_web, f"{created}")
    gen = samples.get(("edgelb_snapshot_generation", ()))
    c.check("metrics report the published snapshot generation", gen is not None and gen >= 1,
            f"{gen}")
    return mapping


def pod_replies(flows, mapping, n_ext):
    """Filler (an ARP request not for us) to hold the replies back, then one
    reply per flow to the SNAT address and port run 1 observed."""
    filler = Ether(src=pod_mac("198.18.2.11"), dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=pod_mac("198.18.2.11"), psrc="198.18.2.11", pdst="198.18.2.77")
    n_fill = 32 * (math.ceil(n_ext / 32) + 1)
    pkts = [filler] * n_fill
    for f in flows:
        if f.fid not in mapping:
            continue
        pod, tport, sport = mapping[f.fid]
        l2l3 = Ether(src=pod_mac(pod), dst=INT_MAC) / IP(src=pod, dst=SNAT_IP, ttl=64)
        if f.proto == "tcp":
            pkts.append(l2l3 / TCP(sport=tport, dport=sport, flags="SA", seq=7000 + f.fid,
                                   ack=f.isn + 1, window=65160))
        else:
            pkts.append(l2l3 / UDP(sport=tport, dport=sport) / Raw(b"reply%d" % f.fid))
    return pkts, n_fill


def check_run2(c, flows, mapping, d, p, n_fill):
    c.check("run 2: edgelb exits 0 after --duration", p.returncode == 0,
            (p.stdout + p.stderr)[-2000:])
    out_int, out_ext = read(f"{d}/out_int.pcap"), read(f"{d}/out_ext.pcap")
    again = check_nat_side(c, flows, out_int, "run 2")
    c.check("run 2: identical input picks identical backends and SNAT ports",
            again == mapping, f"run 1 {mapping} run 2 {again}")
    problems = []
    for f in flows:
        if f.fid not in mapping:
            problems.append(f"flow {f.fid}: no mapping from run 1")
            continue
        want_l4 = TCP if f.proto == "tcp" else UDP
        got = [q for q in out_ext if IP in q and want_l4 in q and q[IP].dst == f.client
               and q[want_l4].dport == f.cport]
        if len(got) != 1:
            problems.append(f"flow {f.fid}: {len(got)} replies on ext")
            continue
        q = got[0]
        ok = (q[IP].src == f.fe_ip and q[want_l4].sport == f.fe_port and q[IP].ttl == 63
              and csums_valid(q) and q[Ether].src == EXT_MAC and q[Ether].dst == ROUTER_MAC)
        if f.proto == "tcp":
            ok = ok and q[TCP].flags == "SA" and q[TCP].ack == f.isn + 1
        else:
            ok = ok and bytes(q[UDP].payload) == b"reply%d" % f.fid
        if not ok:
            problems.append(f"flow {f.fid}: {q.summary()} ttl {q[IP].ttl}")
    c.check("replies from pods leave on ext as frontend -> client", not problems,
            "; ".join(problems[:6]))
    st = final_stats(p.stdout)
    c.check("run 2: filler ARP for a foreign address is dropped as not_ours",
            st["drops"].get("not_ours", 0) >= n_fill, str(st["drops"]))
    c.check("run 2: no reply was unknown", st["drops"].get("unknown_reply", 0) == 0,
            str(st["drops"]))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    c = Checks()
    d = tempfile.mkdtemp(prefix="edgelb-pcap-")
    try:
        flows = build_flows()
        pkts, bad = client_capture(flows)
        wrpcap(f"{d}/in_ext.pcap", pkts)
        wrpcap(f"{d}/empty.pcap", [])
        with open(f"{d}/manifests.yaml", "w") as fh:
            fh.write(MANIFESTS)
        with open(f"{d}/edgelb.yaml", "w") as fh:
            fh.write(config_text(d, f"{d}/empty.pcap", free_tcp_port()))

        check_cli(c, binary, d)

        api_port = free_tcp_port()
        with open(f"{d}/edgelb.yaml", "w") as fh:
            fh.write(config_text(d, f"{d}/empty.pcap", api_port))
        p1, live = run_edgelb(binary, d, "1", api_port)
        mapping = check_run1(c, flows, bad, len(pkts), d, p1)
        samples, err = parse_prometheus(live) if live.startswith("#") else ({}, live)
        c.check("GET /metrics on the running appliance parses as Prometheus text",
                err is None and ("edgelb_snapshot_generation", ()) in samples, err or "")

        # run 2: same client capture, pod replies on int
        for f in flows:
            f.sent = 0
        client_capture(flows)
        replies, n_fill = pod_replies(flows, mapping, len(pkts))
        wrpcap(f"{d}/in_int.pcap", replies)
        with open(f"{d}/edgelb.yaml", "w") as fh:
            fh.write(config_text(d, f"{d}/in_int.pcap", free_tcp_port()))
        p2, _ = run_edgelb(binary, d, "2")
        check_run2(c, flows, mapping, d, p2, n_fill)

        if c.failed:
            for tag in ("1", "2"):
                path = f"{d}/edgelb-{tag}.log"
                if os.path.exists(path):
                    print(f"---- edgelb output, run {tag}")
                    with open(path) as fh:
                        print(fh.read()[-4000:])
    except Exception as e:  # a crash of the harness is one failed case
        import traceback
        traceback.print_exc()
        c.check("harness ran to the end", False, repr(e))
    finally:
        if os.environ.get("EDGELB_TEST_KEEP"):
            print("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
