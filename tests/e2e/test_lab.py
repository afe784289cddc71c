#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""edgelb end to end: real clients, real servers, network namespaces.

Brings up a lab of its own with scripts/lab.sh (namespaces named
elbt<pid>-client, -lb, -pods, so a demo lab left up is never touched), runs
edgelb in the lb namespace on af_packet, programs services with edgelbctl
and checks what curl, wrk and small socket clients (lab_client.py) in the
client namespace get back from the pods (nginx and echo servers that name
themselves: "pod-12 198.18.2.12:8080"). Kubernetes semantics follow
kube-proxy: endpoints, named target ports, ClientIP affinity, rejection
without endpoints, loadBalancerSourceRanges, terminating endpoints.

The lab is dual stack (config/demo.yaml): the cases named ipv6_* reach
dual-stack and IPv6-only services over IPv6 (clients 2001:db8::10-19, node
addresses 2001:db8::1-2 and 2001:db8:2::1, pods 2001:db8:2::11-25, pool
2001:db8:100::100-150) with curl -6, ping -6 and the socket clients, and
check that edgelb answers Neighbour Solicitation for its addresses.

Every check is one test case; the last line is "N passed, M failed". The lab
is removed at the end, also when a check or the harness fails or the run is
interrupted.

usage: test_lab.py BUILD/edgelb BUILD/tools/edgelbctl [--xdp] [--keep] [--only=WORD]
  --xdp        attach edgelb with af_xdp instead of af_packet for the whole run
  --keep       leave the lab up at the end (the last lines say how to remove it)
  --only=WORD  run only the cases whose name contains WORD (e.g. --only=ipv6);
               some cases build on what an earlier one left
Exit status 0 all passed, 1 something failed, 77 skipped (not root, or a
tool of the lab is missing).
"""
import functools
import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(ROOT, "scripts", "lab.sh")
CLIENT = os.path.join(HERE, "lab_client.py")
PY = "/usr/bin/python3"
NS = "e2e"  # Kubernetes namespace of every object the test applies

POOL = ("198.18.0.100", "198.18.0.150")
NODE_ADDRS = ["198.18.0.1", "198.18.0.2", "198.18.2.1"]
AFFINITY_TIMEOUT = 2

POOL6 = ("2001:db8:100::100", "2001:db8:100::150")
NODE_ADDRS6 = ["2001:db8::1", "2001:db8::2", "2001:db8:2::1"]
CLIENTS6 = ["2001:db8::%d" % n for n in range(10, 20)]
LB_EXT_MAC = "02:00:00:00:00:01"  # scripts/lab.sh: lb-ext and lb-int, edgelb's ports
LB_INT_MAC = "02:00:00:00:02:01"


def pod_ip(n):
    return "198.18.2.%d" % n


def pod_ip6(n):
    return "2001:db8:2::%d" % n


def url(host, port=80):
    """http://HOST:PORT/, with the brackets an IPv6 literal needs."""
    return "http://%s:%d/" % ("[%s]" % host if ":" in host else host, port)


def ip6_in(ip, first, last):
    return ip is not None and ":" in ip and \
        ipaddress.IPv6Address(first) <= ipaddress.IPv6Address(ip) <= ipaddress.IPv6Address(last)


# ---- manifests -----------------------------------------------------------------


def service(name, ports, kind="ClusterIP", cluster_ip=None, lb_ip=None, affinity=None,
            ranges=None, cluster_ips=None, families=None, policy=None):
    """A Service; cluster_ips, families and policy are spec.clusterIPs,
    spec.ipFamilies and spec.ipFamilyPolicy (cluster_ips[0] is also
    spec.clusterIP)."""
    spec = {"type": kind, "selector": {"app": name}, "ports": ports}
    if cluster_ips:
        cluster_ip = cluster_ips[0]
        spec["clusterIPs"] = cluster_ips
    if families:
        spec["ipFamilies"] = families
    if policy:
        spec["ipFamilyPolicy"] = policy
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if lb_ip:
        spec["loadBalancerIP"] = lb_ip
    if ranges:
        spec["loadBalancerSourceRanges"] = ranges
    if affinity is not None:
        spec["sessionAffinity"] = "ClientIP"
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": affinity}}
    else:
        spec["sessionAffinity"] = "None"
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def port(p, target, proto="TCP", name=None, node_port=None):
    d = {"protocol": proto, "port": p, "targetPort": target}
    if name:
        d["name"] = name
    if node_port:
        d["nodePort"] = node_port
    return d


READY = {"ready": True, "serving": True, "terminating": False}
TERMINATING = {"ready": False, "serving": True, "terminating": True}


def eslice(svc, name, ports, endpoints, family="IPv4"):
    """EndpointSlice of addressType family; endpoints: [(pod number, conditions)]."""
    ip = pod_ip6 if family == "IPv6" else pod_ip
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": NS,
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": family,
            "ports": [{"name": n, "protocol": pr, "port": p} for n, pr, p in ports],
            "endpoints": [{"addresses": [ip(n)], "conditions": cond}
                          for n, cond in endpoints]}


def endpoints(name, pods, ports):
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": NS},
            "subsets": [{"addresses": [{"ip": pod_ip(n)} for n in pods],
                         "ports": [{"name": n, "protocol": pr, "port": p}
                                   for n, pr, p in ports]}]}


def docs(*objs):
    return "\n---\n".join(json.dumps(o) for o in objs) + "\n"


def web_objs():
    return [service("web", [port(80, 8080, name="http", node_port=30080)], kind="LoadBalancer",
                    cluster_ip="198.18.1.2"),
            eslice("web", "web-1", [("http", "TCP", 8080)], [(n, READY) for n in (11, 12, 13)])]


def multi_objs():
    ports = [port(80, "http", name="http"), port(9100, 9100, name="metrics")]
    return [service("multi", ports, cluster_ip="198.18.1.40"),
            eslice("multi", "multi-v1", [("http", "TCP", 8080), ("metrics", "TCP", 9100)],
                   [(21, READY), (22, READY)]),
            eslice("multi", "multi-v2", [("http", "TCP", 8081), ("metrics", "TCP", 9100)],
                   [(23, READY)])]


def churn_objs(pods):
    return [service("churn", [port(80, 8080, name="http")], cluster_ip="198.18.1.60"),
            endpoints("churn", pods, [("http", "TCP", 8080)])]


def sticky_objs(affinity):
    return [service("sticky", [port(80, 8080, name="http")], cluster_ip="198.18.1.70",
                    affinity=affinity),
            eslice("sticky", "sticky-1", [("http", "TCP", 8080)],
                   [(n, READY) for n in (14, 15, 16, 17, 18)])]


def empty_objs():
    return [service("empty", [port(80, 8080, name="http"),
                              port(53, 5353, proto="UDP", name="dns")],
                    cluster_ip="198.18.1.80")]


def ranges_objs():
    return [service("ranges", [port(80, 8080, name="http")], kind="LoadBalancer",
                    cluster_ip="198.18.1.85", lb_ip="198.18.0.130",
                    ranges=["198.18.0.10/31"]),
            eslice("ranges", "ranges-1", [("http", "TCP", 8080)], [(11, READY)])]


def term_objs(endpoint_list):
    return [service("term", [port(80, 8080, name="http")], cluster_ip="198.18.1.90"),
            eslice("term", "term-1", [("http", "TCP", 8080)], endpoint_list)]


def echo_objs(endpoint_list):
    return [service("echo", [port(9000, 9000, name="echo")], cluster_ip="198.18.1.110"),
            eslice("echo", "echo-1", [("echo", "TCP", 9000)], endpoint_list)]


def uecho_objs(pods):
    return [service("uecho", [port(53, 5353, proto="UDP", name="dns")],
                    cluster_ip="198.18.1.111"),
            eslice("uecho", "uecho-1", [("dns", "UDP", 5353)], [(n, READY) for n in pods])]


# IPv6: one slice per family, as the EndpointSlice controller writes them for
# a dual-stack service.

WEB6_CLUSTER_IPS = ["198.18.1.140", "2001:db8:1::140"]
WEB6_NODE_PORT = 30081


def web6_objs():
    """PreferDualStack LoadBalancer with a NodePort: pods 11-13 in both families."""
    pods = [(n, READY) for n in (11, 12, 13)]
    return [service("web6", [port(80, 8080, name="http", node_port=WEB6_NODE_PORT)],
                    kind="LoadBalancer", cluster_ips=WEB6_CLUSTER_IPS,
                    families=["IPv4", "IPv6"], policy="PreferDualStack"),
            eslice("web6", "web6-v4", [("http", "TCP", 8080)], pods),
            eslice("web6", "web6-v6", [("http", "TCP", 8080)], pods, family="IPv6")]


def uecho6_objs():
    """RequireDualStack ClusterIP with a UDP and a TCP echo port: pods 11-13."""
    ports = [port(53, 5353, proto="UDP", name="dns"), port(9000, 9000, name="echo")]
    slice_ports = [("dns", "UDP", 5353), ("echo", "TCP", 9000)]
    pods = [(n, READY) for n in (11, 12, 13)]
    return [service("uecho6", ports, cluster_ips=["198.18.1.150", "2001:db8:1::150"],
                    families=["IPv4", "IPv6"], policy="RequireDualStack"),
            eslice("uecho6", "uecho6-v4", slice_ports, pods),
            eslice("uecho6", "uecho6-v6", slice_ports, pods, family="IPv6")]


def sticky6_objs():
    """IPv6 SingleStack with ClientIP affinity: pods 14-18."""
    return [service("sticky6", [port(80, 8080, name="http")], cluster_ips=["2001:db8:1::170"],
                    families=["IPv6"], policy="SingleStack", affinity=600),
            eslice("sticky6", "sticky6-v6", [("http", "TCP", 8080)],
                   [(n, READY) for n in (14, 15, 16, 17, 18)], family="IPv6")]


def churn6_objs(pods):
    return [service("churn6", [port(80, 8080, name="http")], cluster_ips=["2001:db8:1::160"],
                    families=["IPv6"], policy="SingleStack"),
            eslice("churn6", "churn6-v6", [("http", "TCP", 8080)], [(n, READY) for n in pods],
                   family="IPv6")]


def empty6_objs():
    return [service("empty6", [port(80, 8080, name="http"),
                               port(53, 5353, proto="UDP", name="dns")],
                    cluster_ips=["2001:db8:1::180"], families=["IPv6"], policy="SingleStack")]


# ---- the lab -------------------------------------------------------------------


class Lab:
    def __init__(self, edgelb, edgelbctl, xdp):
        self.name = "elbt%d" % os.getpid()
        self.build = os.path.dirname(os.path.abspath(edgelb))
        self.ctl_bin = os.path.abspath(edgelbctl)
        self.xdp = xdp
        self.dir = tempfile.mkdtemp(prefix="edgelb-e2e-")
        self.config = os.path.join(self.dir, "edgelb.yaml")
        self.procs = []
        self.v6_error = "the IPv6 services were not applied"
        with open(os.path.join(ROOT, "config", "demo.yaml")) as fh:
            text = fh.read()
        # the demo's appliance, with a state directory of this run
        text = re.sub(r'(?m)^state_dir:.*$', 'state_dir: "%s/state"' % self.dir, text)
        with open(self.config, "w") as fh:
            fh.write(text)

    def lab(self, *args, timeout=120):
        env = dict(os.environ, ELB_LAB_RUN=os.path.join(self.dir, "run"))
        p = subprocess.run(["bash", LAB, args[0], "-n", self.name, "--build", self.build,
                            *args[1:]], capture_output=True, text=True, timeout=timeout,
                           env=env)
        if p.returncode != 0:
            raise RuntimeError("lab.sh %s: %s%s" % (args[0], p.stdout, p.stderr))
        return p.stdout

    def up(self):
        self.lab("up")

    def start(self, xdp=None):
        xdp = self.xdp if xdp is None else xdp
        self.lab("start", "--config", self.config, *(["--xdp"] if xdp else []))

    def stop(self):
        self.lab("stop")

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.lab("down")
        shutil.rmtree(self.dir, ignore_errors=True)

    def edgelb_log(self):
        try:
            with open(os.path.join(self.dir, "run", self.name, "edgelb.log")) as fh:
                return fh.read()
        except OSError:
            return ""

    def ns(self, which, *cmd, timeout=60, stdin=None):
        return subprocess.run(["ip", "netns", "exec", "%s-%s" % (self.name, which), *cmd],
                              capture_output=True, text=True, timeout=timeout, input=stdin)

    def ctl(self, *args, stdin=None):
        p = self.ns("lb", self.ctl_bin, "--server", "http://127.0.0.1:9180", *args, stdin=stdin)
        if p.returncode != 0:
            raise RuntimeError("edgelbctl %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def apply(self, *objs):
        self.ctl("apply", "-f", "-", stdin=docs(*objs))

    def delete(self, *objs):
        self.ctl("delete", "-f", "-", stdin=docs(*objs))

    def api(self, path):
        p = self.ns("lb", "curl", "-fsS", "-m", "5", "http://127.0.0.1:9180" + path)
        if p.returncode != 0:
            raise RuntimeError("GET %s: %s" % (path, p.stderr))
        return p.stdout

    def metric(self, name, labels=""):
        m = re.search(r"(?m)^%s%s (\S+)$" % (re.escape(name), re.escape(labels)),
                      self.api("/metrics"))
        return float(m.group(1)) if m else None

    def metric_series(self, name):
        """{labels: value} of every series of the metric family name."""
        text = self.api("/metrics")
        return {k: float(v) for k, v in
                re.findall(r"(?m)^%s(\{[^}]*\})? (\S+)$" % re.escape(name), text)}

    def curl(self, url, src=None, timeout=3):
        args = ["curl", "-sS", "-m", str(timeout)] + (["--interface", src] if src else [])
        if "[" in url:  # an IPv6 literal: not a curl URL glob
            args += ["-6", "-g"]
        t0 = time.monotonic()
        p = self.ns("client", *args, url, timeout=timeout + 10)
        return p.returncode, p.stdout.strip(), time.monotonic() - t0

    def run_client(self, mode, n, host, port, src=None, timeout=2):
        args = [PY, CLIENT, mode, str(n), host, str(port), "--timeout", str(timeout)]
        if src:
            args += ["--src", src]
        p = self.ns("client", *args, timeout=n * (timeout + 1) + 30)
        return p.stdout.splitlines()

    def http(self, n, host, port=80, src=None):
        return self.run_client("http", n, host, port, src)

    def open_client(self, mode, host, port, src=None):
        args = ["ip", "netns", "exec", self.name + "-client", PY, CLIENT, mode, host, str(port)]
        if src:
            args += ["--src", src]
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             bufsize=1)
        self.procs.append(p)
        return Session(p)


class Session:
    """A long-lived client: one line out, one line back."""

    def __init__(self, proc):
        self.p = proc

    def say(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def pod_of(answer):
    """'pod-12 198.18.2.12:8080 ...' -> 'pod-12'; errors -> the error text."""
    return answer.split()[0] if answer.startswith("pod-") else answer


def addr_of(answer):
    return answer.split()[1] if answer.startswith("pod-") else None


def pods_of(answers):
    return {pod_of(a) for a in answers}


def errors_in(answers):
    return [a for a in answers if not a.startswith("pod-")]


def until(fn, timeout=3.0, step=0.2):
    """Call fn until it returns something true or timeout passes; the last
    value either way (edgelb publishes a change within milliseconds; the
    margin is for a loaded 2-core machine)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


# ---- the checks ------------------------------------------------------------------

TESTS = []


def case(fn):
    TESTS.append(fn)
    return fn


@case
def nodeport_answers_on_every_edgelb_address(lab):
    got = {}
    for a in NODE_ADDRS:
        rc, out, _ = lab.curl("http://%s:30080/" % a)
        got[a] = out if rc == 0 else "curl exit %d" % rc
    ok = all(pod_of(v) in ("pod-11", "pod-12", "pod-13") for v in got.values())
    return ok, str(got)


@case
def loadbalancer_ip_comes_from_the_pool_and_serves(lab):
    svc = json.loads(lab.api("/api/v1/namespaces/%s/services/web" % NS))
    ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress", [])
    ip = ingress[0].get("ip") if ingress else None
    in_pool = ip is not None and tuple(map(int, POOL[0].split("."))) <= \
        tuple(map(int, ip.split("."))) <= tuple(map(int, POOL[1].split(".")))
    rc, out, _ = lab.curl("http://%s/" % ip) if ip else (-1, "", 0)
    return in_pool and pod_of(out) in ("pod-11", "pod-12", "pod-13"), "ip %s: %s" % (ip, out)


@case
def clusterip_routed_to_edgelb_serves(lab):
    rc, out, _ = lab.curl("http://198.18.1.2/")
    return rc == 0 and pod_of(out) in ("pod-11", "pod-12", "pod-13"), "curl %d %s" % (rc, out)


@case
def new_connections_spread_over_every_endpoint(lab):
    answers = lab.http(30, "198.18.0.1", 30080)
    return pods_of(answers) == {"pod-11", "pod-12", "pod-13"}, str(sorted(pods_of(answers)))


@case
def named_target_port_resolves_per_endpoint_slice(lab):
    answers = lab.http(30, "198.18.1.40", 80)
    want = {"pod-21 198.18.2.21:8080", "pod-22 198.18.2.22:8080", "pod-23 198.18.2.23:8081"}
    return set(answers) == want, str(sorted(set(answers)))


@case
def metrics_port_of_a_multiport_service_uses_its_own_target(lab):
    answers = lab.http(12, "198.18.1.40", 9100)
    return bool(answers) and all(addr_of(a) and addr_of(a).endswith(":9100") for a in answers), \
        str(sorted(set(answers)))


@case
def added_endpoint_receives_traffic(lab):
    lab.apply(*churn_objs([14, 15, 16]))
    answers = until(lambda: [a for a in lab.http(20, "198.18.1.60") if pod_of(a) == "pod-16"])
    return bool(answers), answers[0] if answers else "pod-16 never answered"


@case
def removed_endpoint_never_gets_a_new_flow(lab):
    lab.apply(*churn_objs([15, 16]))
    answers = lab.http(40, "198.18.1.60")
    return "pod-14" not in pods_of(answers) and not errors_in(answers), \
        str(sorted(pods_of(answers)))


@case
def client_ip_affinity_holds_for_20_connections(lab):
    answers = lab.http(20, "198.18.1.70", src="198.18.0.13")
    return len(pods_of(answers)) == 1 and not errors_in(answers), str(sorted(pods_of(answers)))


@case
def client_ip_affinity_moves_after_its_timeout(lab):
    # Past timeoutSeconds the client is free again: its next connection is
    # placed by the flow hash, so over a few idle gaps it lands elsewhere
    # (1 in 5 to stay on the same pod each time).
    first = pod_of(lab.http(1, "198.18.1.70", src="198.18.0.14")[0])
    seen = []
    for _ in range(5):
        time.sleep(AFFINITY_TIMEOUT + 1.5)
        seen.append(pod_of(lab.http(1, "198.18.1.70", src="198.18.0.14")[0]))
        if seen[-1] != first and seen[-1].startswith("pod-"):
            break
    return seen[-1] != first and seen[-1].startswith("pod-"), "first %s then %s" % (first, seen)


@case
def affinity_none_spreads_one_client(lab):
    lab.apply(*sticky_objs(None))
    answers = lab.http(20, "198.18.1.70", src="198.18.0.13")
    return len(pods_of(answers)) > 1 and not errors_in(answers), str(sorted(pods_of(answers)))


@case
def affinity_client_ip_again_sticks(lab):
    lab.apply(*sticky_objs(AFFINITY_TIMEOUT))
    answers = lab.http(20, "198.18.1.70", src="198.18.0.15")
    return len(pods_of(answers)) == 1 and not errors_in(answers), str(sorted(pods_of(answers)))


@case
def no_endpoints_refuses_tcp_within_a_second(lab):
    rc, out, took = lab.curl("http://198.18.1.80/", timeout=5)
    # curl exit 7: could not connect (RST); 28 would be a timeout
    return rc == 7 and took < 1.0, "curl exit %d after %.2f s %s" % (rc, took, out)


@case
def no_endpoints_answers_udp_with_port_unreachable(lab):
    s = lab.open_client("udp", "198.18.1.80", 53)
    try:
        out = s.say("anyone")
    finally:
        s.close()
    return out == "ERROR refused", out


@case
def source_ranges_admit_a_listed_client(lab):
    rc, out, _ = lab.curl("http://198.18.0.130/", src="198.18.0.11")
    return rc == 0 and pod_of(out) == "pod-11", "curl %d %s" % (rc, out)


@case
def source_ranges_give_other_clients_nothing(lab):
    before = lab.metric("edgelb_drops_total", '{reason="source_range"}') or 0
    rc, out, _ = lab.curl("http://198.18.0.130/", src="198.18.0.12", timeout=2)
    after = lab.metric("edgelb_drops_total", '{reason="source_range"}') or 0
    # exit 28: timed out, so no answer at all (not even a RST)
    return rc == 28 and after > before, "curl exit %d %s, source_range drops %s -> %s" % (
        rc, out, before, after)


@case
def terminating_endpoint_idle_while_a_ready_one_exists(lab):
    answers = lab.http(20, "198.18.1.90")
    return pods_of(answers) == {"pod-19"}, str(sorted(pods_of(answers)))


@case
def terminating_endpoint_serves_when_no_ready_one_exists(lab):
    lab.apply(*term_objs([(20, TERMINATING)]))
    answers = until(lambda: (lambda a: a if pods_of(a) == {"pod-20"} else None)(
        lab.http(10, "198.18.1.90"))) or []
    return pods_of(answers) == {"pod-20"}, str(sorted(pods_of(answers)))


class LongLived:
    session = None
    pod = None


@case
def long_lived_connection_survives_unrelated_updates(lab):
    s = lab.open_client("tcp", "198.18.1.110", 9000)
    LongLived.session = s
    a = s.say("one")
    LongLived.pod = pod_of(a)
    extra = service("extra", [port(81, 8080, name="http")], cluster_ip="198.18.1.120")
    lab.apply(*churn_objs([14, 15, 16]))
    lab.apply(extra)
    lab.apply(*sticky_objs(AFFINITY_TIMEOUT + 1))
    lab.delete(extra)
    b = s.say("two")
    return a.startswith("pod-") and pod_of(b) == pod_of(a) and b.endswith(" two"), \
        "before %r after %r" % (a, b)


@case
def long_lived_connection_drains_when_its_endpoint_terminates(lab):
    s, mine = LongLived.session, LongLived.pod
    if s is None or not mine.startswith("pod-"):
        return False, "no long-lived connection from the previous case"
    n = int(mine[4:])
    others = [x for x in (11, 12, 13) if x != n]
    lab.apply(*echo_objs([(n, TERMINATING)] + [(x, READY) for x in others]))
    still = s.say("three")
    fresh = lab.run_client("echo", 10, "198.18.1.110", 9000)
    # then gone from the slice altogether: the flow still drains
    lab.apply(*echo_objs([(x, READY) for x in others]))
    last = s.say("four")
    s.close()
    ok = (pod_of(still) == mine and still.endswith(" three") and pod_of(last) == mine
          and last.endswith(" four") and mine not in pods_of(fresh) and not errors_in(fresh))
    return ok, "old conn %r, %r; new conns %s" % (still, last, sorted(pods_of(fresh)))


@case
def udp_flow_moves_after_its_pod_is_removed(lab):
    s = lab.open_client("udp", "198.18.1.111", 53)
    try:
        a = s.say("first")
        b = s.say("again")
        n = int(pod_of(a)[4:]) if a.startswith("pod-") else 0
        lab.apply(*uecho_objs([x for x in (11, 12, 13) if x != n]))
        c = until(lambda: (lambda r: r if r.startswith("pod-") and pod_of(r) != pod_of(a)
                           else None)(s.say("after")))
    finally:
        s.close()
    return pod_of(b) == pod_of(a) and a.startswith("pod-") and bool(c), \
        "before %r %r, after removal %r" % (a, b, c)


# ---- IPv6 --------------------------------------------------------------------------


def case6(fn):
    """A case that needs the IPv6 services of setup(): it fails with the
    reason when they could not be applied."""
    @functools.wraps(fn)
    def run(lab):
        if lab.v6_error:
            return False, lab.v6_error
        return fn(lab)
    return case(run)


def over_ipv6(answer, port=None):
    """'pod-12 [2001:db8:2::12]:8080 ...': the pod was reached on its own
    IPv6 address (and on port, when given)."""
    m = re.match(r"pod-(\d+) \[2001:db8:2::(\d+)\]:(\d+)", answer)
    return bool(m) and m.group(1) == m.group(2) and (port is None or int(m.group(3)) == port)


def lb_ip6(lab, name):
    """The IPv6 address of status.loadBalancer.ingress of service name."""
    svc = json.loads(lab.api("/api/v1/namespaces/%s/services/%s" % (NS, name)))
    for ing in svc.get("status", {}).get("loadBalancer", {}).get("ingress", []):
        if ":" in ing.get("ip", ""):
            return ing["ip"]
    return None


def neigh(lab, which, ip):
    """'lladdr MAC STATE' of ip in the neighbour table of a lab namespace."""
    p = lab.ns(which, "ip", "-6", "neigh", "show", ip, "dev", "eth0")
    return p.stdout.strip()


@case6
def ipv6_loadbalancer_ip_comes_from_the_ipv6_pool_and_serves(lab):
    ip = lb_ip6(lab, "web6")
    rc, out, _ = lab.curl(url(ip)) if ip else (-1, "", 0)
    return ip6_in(ip, *POOL6) and rc == 0 and over_ipv6(out, 8080), "ip %s: curl -6 %d %s" % (
        ip, rc, out)


@case6
def ipv6_nodeport_answers_on_every_ipv6_node_address(lab):
    got = {}
    for a in NODE_ADDRS6:
        rc, out, _ = lab.curl(url(a, WEB6_NODE_PORT))
        got[a] = out if rc == 0 else "curl exit %d" % rc
    ok = all(over_ipv6(v, 8080) and pod_of(v) in ("pod-11", "pod-12", "pod-13")
             for v in got.values())
    return ok, str(got)


@case6
def ipv6_clusterip_routed_to_edgelb_serves(lab):
    rc, out, _ = lab.curl(url(WEB6_CLUSTER_IPS[1]))
    return rc == 0 and over_ipv6(out, 8080), "curl -6 %d %s" % (rc, out)


@case6
def dual_stack_service_reaches_pods_in_the_family_of_the_client(lab):
    v4 = lab.http(6, WEB6_CLUSTER_IPS[0])
    v6 = lab.http(6, WEB6_CLUSTER_IPS[1])
    ok = (all(a.startswith("pod-") and addr_of(a).startswith("198.18.2.") for a in v4)
          and all(over_ipv6(a) for a in v6) and len(v4) == 6 and len(v6) == 6)
    return ok, "IPv4 %s; IPv6 %s" % (sorted(set(v4)), sorted(set(v6)))


@case6
def ipv6_new_connections_spread_over_every_endpoint(lab):
    answers = lab.http(30, NODE_ADDRS6[0], WEB6_NODE_PORT)
    ok = pods_of(answers) == {"pod-11", "pod-12", "pod-13"} and all(map(over_ipv6, answers))
    return ok, str(sorted(set(answers)))


@case6
def ipv6_clients_on_different_addresses_reach_different_pods(lab):
    ip = lb_ip6(lab, "web6")
    if ip is None:
        return False, "web6 has no IPv6 LoadBalancer address"
    got = {src: pod_of(lab.http(1, ip, src=src)[0]) for src in CLIENTS6}
    pods = set(got.values())
    return len(pods) > 1 and all(p.startswith("pod-") for p in pods), str(got)


@case6
def ipv6_client_ip_affinity_holds_for_20_connections(lab):
    answers = lab.http(20, "2001:db8:1::170", src=CLIENTS6[3])
    return len(pods_of(answers)) == 1 and all(map(over_ipv6, answers)), \
        str(sorted(pods_of(answers)))


@case6
def ipv6_client_ip_affinity_keeps_each_client_on_its_own_pod(lab):
    # the whole 128-bit source is the affinity key: ten clients of one /64
    # are placed independently, and each keeps its pod
    per_client = {src: pods_of(lab.http(4, "2001:db8:1::170", src=src)) for src in CLIENTS6}
    each_sticks = all(len(p) == 1 and all(x.startswith("pod-") for x in p)
                      for p in per_client.values())
    used = set().union(*per_client.values())
    return each_sticks and len(used) > 1, str({k[len("2001:db8::"):]: sorted(v)
                                               for k, v in per_client.items()})


@case6
def ipv6_udp_client_gets_echoed(lab):
    s = lab.open_client("udp", "2001:db8:1::150", 53)
    try:
        a = s.say("hello6")
        b = s.say("again6")
    finally:
        s.close()
    ok = (over_ipv6(a, 5353) and a.endswith(" hello6") and pod_of(b) == pod_of(a)
          and b.endswith(" again6"))
    return ok, "%r then %r" % (a, b)


@case6
def ipv6_tcp_echo_through_a_require_dual_stack_service(lab):
    answers = lab.run_client("echo", 6, "2001:db8:1::150", 9000)
    ok = len(answers) == 6 and all(over_ipv6(a, 9000) and a.endswith(" ping") for a in answers)
    return ok, str(sorted(set(answers)))


@case6
def ipv6_ping_of_the_loadbalancer_ip_and_node_address_is_answered(lab):
    got = {}
    for ip in (lb_ip6(lab, "web6"), NODE_ADDRS6[0]):
        if ip is None:
            return False, "web6 has no IPv6 LoadBalancer address"
        p = lab.ns("client", "ping", "-6", "-n", "-c", "3", "-i", "0.2", "-W", "2", ip)
        m = re.search(r"(\d+) received", p.stdout)
        got[ip] = int(m.group(1)) if m else 0
    return all(n > 0 for n in got.values()), "echo replies %s" % got


@case6
def ipv6_edgelb_answers_neighbour_solicitation_for_its_addresses(lab):
    # forget edgelb's MACs, then talk to each address: every IPv6 packet to
    # it needs a Neighbour Advertisement from edgelb first
    for ip in NODE_ADDRS6[:2]:
        lab.ns("client", "ip", "-6", "neigh", "del", ip, "dev", "eth0")
    lab.ns("pods", "ip", "-6", "neigh", "del", NODE_ADDRS6[2], "dev", "eth0")
    rc1, out1, _ = lab.curl(url(NODE_ADDRS6[1], WEB6_NODE_PORT))
    p = lab.ns("client", "ping", "-6", "-n", "-c", "1", "-W", "2", NODE_ADDRS6[0])
    q = lab.ns("pods", "ping", "-6", "-n", "-c", "1", "-W", "2", "-I", pod_ip6(11),
               NODE_ADDRS6[2])
    seen = {NODE_ADDRS6[0]: neigh(lab, "client", NODE_ADDRS6[0]),
            NODE_ADDRS6[1]: neigh(lab, "client", NODE_ADDRS6[1]),
            NODE_ADDRS6[2]: neigh(lab, "pods", NODE_ADDRS6[2])}
    want = {NODE_ADDRS6[0]: LB_EXT_MAC, NODE_ADDRS6[1]: LB_EXT_MAC, NODE_ADDRS6[2]: LB_INT_MAC}
    macs_ok = all(re.search(r"lladdr %s (REACHABLE|STALE|DELAY|PROBE)" % want[ip], seen[ip])
                  for ip in want)
    ok = macs_ok and rc1 == 0 and p.returncode == 0 and q.returncode == 0
    return ok, "%s; curl -6 %d %s" % (seen, rc1, out1)


@case6
def ipv6_no_endpoints_refuses_tcp(lab):
    rc, out, _ = lab.curl(url("2001:db8:1::180"), timeout=5)
    sock = lab.run_client("http", 1, "2001:db8:1::180", 80, timeout=5)
    # curl exit 7: could not connect (28 would be a timeout); the socket
    # client names the reason
    return rc == 7 and sock == ["ERROR refused"], "curl -6 exit %d %s; socket %s" % (
        rc, out, sock)


@case6
def ipv6_no_endpoints_answers_udp_with_port_unreachable(lab):
    s = lab.open_client("udp", "2001:db8:1::180", 53)
    try:
        out = s.say("anyone6")
    finally:
        s.close()
    return out == "ERROR refused", out


@case6
def ipv6_added_endpoint_receives_traffic(lab):
    lab.apply(*churn6_objs([14, 15, 16]))
    answers = until(lambda: [a for a in lab.http(20, "2001:db8:1::160")
                             if pod_of(a) == "pod-16"])
    return bool(answers) and over_ipv6(answers[0]), \
        answers[0] if answers else "pod-16 never answered"


@case6
def ipv6_removed_endpoint_never_gets_a_new_flow(lab):
    lab.apply(*churn6_objs([15, 16]))
    answers = lab.http(40, "2001:db8:1::160")
    return "pod-14" not in pods_of(answers) and all(map(over_ipv6, answers)), \
        str(sorted(pods_of(answers)))


@case6
def ipv6_wrk_50_connections_3_seconds_without_errors(lab):
    p = lab.ns("client", "wrk", "-t1", "-c50", "-d3s", url(NODE_ADDRS6[0], WEB6_NODE_PORT),
               timeout=60)
    out = p.stdout + p.stderr
    m = re.search(r"(\d+) requests in", out)
    n = int(m.group(1)) if m else 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    ok = p.returncode == 0 and n > 0 and bad is None and errs is None
    return ok, "%d requests" % n if ok else out


@case
def restart_keeps_every_service_and_traffic_resumes(lab):
    def snapshot():
        lst = json.loads(lab.api("/api/v1/services"))
        return sorted((s["metadata"]["namespace"], s["metadata"]["name"],
                       json.dumps(s.get("spec", {}).get("ports"), sort_keys=True),
                       json.dumps(s.get("status", {}), sort_keys=True))
                      for s in lst.get("items", []))
    before = snapshot()
    lab.stop()
    lab.start()
    after = snapshot()
    answers = lab.http(6, "198.18.0.1", 30080)
    rc, out, _ = lab.curl("http://198.18.1.40/")
    ok = before == after and len(before) >= 8 and not errors_in(answers) and rc == 0
    return ok, "%d services before, %d after; traffic %s, multi %s" % (
        len(before), len(after), sorted(pods_of(answers)), out)


@case
def wrk_200_connections_10_seconds_without_errors(lab):
    p = lab.ns("client", "wrk", "-t2", "-c200", "-d10s", "http://198.18.0.1:30080/", timeout=60)
    out = p.stdout + p.stderr
    m = re.search(r"(\d+) requests in", out)
    n = int(m.group(1)) if m else 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    ok = p.returncode == 0 and n > 0 and bad is None and errs is None
    summary = "%d requests%s%s" % (n, "; non-2xx " + bad.group(1) if bad else "",
                                    "; socket errors " + errs.group(1) if errs else "")
    return ok, summary if ok else out


FLOOD_SYNS = 20000
FLOOD_RATE = 4000  # packets per second: the flood lasts about 5 s


@case
def spoofed_syn_flood_does_not_stop_established_flows(lab):
    # SYNs to the web NodePort from random sources in 198.18.0.128/25 that
    # nobody owns: each one may make a flow and a SYN+ACK from a pod that is
    # never answered. Meanwhile an established echo connection and a new
    # connection to another service must both be served.
    s = lab.open_client("tcp", "198.18.1.110", 9000)
    flood = None
    try:
        first = s.say("before")
        created0 = lab.metric_series("edgelb_flows_created_total")
        drops0 = lab.metric_series("edgelb_drops_total")
        flood = subprocess.Popen(
            ["ip", "netns", "exec", lab.name + "-client", PY, CLIENT, "synflood",
             str(FLOOD_SYNS), "198.18.0.1", "30080", "--dev", "eth0",
             "--gw-mac", "02:00:00:00:00:01", "--rate", str(FLOOD_RATE)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lab.procs.append(flood)
        started = flood.stdout.readline().strip()
        during = []
        for i in range(5):
            time.sleep(0.4)
            during.append(s.say("flood-%d" % i))
        rc, fresh, _ = lab.curl("http://198.18.1.40/")
        flooding = flood.poll() is None  # the checks above ran during the flood
        out, _ = flood.communicate(timeout=FLOOD_SYNS / FLOOD_RATE + 10)
        created = lab.metric_series("edgelb_flows_created_total").get(
            '{service="%s/web:http"}' % NS, 0) - created0.get('{service="%s/web:http"}' % NS, 0)
        drops = {k: v - drops0.get(k, 0) for k, v in
                 lab.metric_series("edgelb_drops_total").items() if v > drops0.get(k, 0)}
        after = s.say("after")
    finally:
        if flood is not None and flood.poll() is None:
            flood.kill()
            flood.wait()
        s.close()
    mine = pod_of(first)
    echoed = all(pod_of(a) == mine and a.endswith(" " + w) for a, w in
                 zip(during + [after], ["flood-%d" % i for i in range(5)] + ["after"]))
    sent = "sent %d" % FLOOD_SYNS in out
    # every SYN is accounted for: a flow of the web service or a drop that
    # refuses a new flow (a few may be lost on the veth before edgelb; a
    # source of 198.18.0.255, the ext prefix's broadcast, is a martian)
    refused = sum(drops.get('{reason="%s"}' % r, 0) for r in (
        "flow_table_full", "no_snat_port", "source_rate_limited", "martian"))
    counted = created + refused >= FLOOD_SYNS * 0.9
    ok = (started == "started" and mine.startswith("pod-") and echoed and flooding and sent
          and rc == 0 and pod_of(fresh) in ("pod-21", "pod-22", "pod-23") and counted)
    dropped = {k[len('{reason="'):-len('"}')]: int(v) for k, v in drops.items()}
    return ok, "%s, %d web flows created%s, drops %s; echo %s then %r; multi %r%s" % (
        out.strip() or started, created, "" if flooding else " (flood ended before the checks)",
        dropped, sorted(set(map(pod_of, during))), after, fresh,
        "" if rc == 0 else " (curl exit %d)" % rc)


@case
def af_xdp_attachment_serves_the_same_lab(lab):
    if lab.xdp:
        return None, "the whole run used af_xdp"
    if not glob.glob("/usr/lib/*/dpdk/pmds-*/librte_net_af_xdp.so*"):
        return None, "no af_xdp PMD"
    lab.stop()
    lab.start(xdp=True)
    answers = lab.http(10, "198.18.0.1", 30080)
    s = lab.open_client("udp", "198.18.1.111", 53)
    try:
        u = s.say("xdp")
    finally:
        s.close()
    return not errors_in(answers) and u.startswith("pod-"), "tcp %s udp %r" % (
        sorted(pods_of(answers)), u)


@case6
def af_xdp_attachment_serves_ipv6_too(lab):
    if not lab.xdp and not glob.glob("/usr/lib/*/dpdk/pmds-*/librte_net_af_xdp.so*"):
        return None, "no af_xdp PMD"
    answers = lab.http(10, NODE_ADDRS6[0], WEB6_NODE_PORT)
    s = lab.open_client("udp", "2001:db8:1::150", 53)
    try:
        u = s.say("xdp6")
    finally:
        s.close()
    return all(map(over_ipv6, answers)) and over_ipv6(u, 5353), "tcp %s udp %r" % (
        sorted(pods_of(answers)), u)


def setup(lab):
    lab.up()
    lab.start()
    lab.apply(*web_objs(), *multi_objs(), *churn_objs([14, 15]),
              *sticky_objs(AFFINITY_TIMEOUT), *empty_objs(), *ranges_objs(),
              *term_objs([(19, READY), (20, TERMINATING)]),
              *echo_objs([(n, READY) for n in (11, 12, 13)]), *uecho_objs([11, 12, 13]))
    # IPv6 apart: if the control plane refuses them, only the ipv6 cases fail
    try:
        lab.apply(*web6_objs(), *uecho6_objs(), *sticky6_objs(), *churn6_objs([14, 15]),
                  *empty6_objs())
        lab.v6_error = None
    except RuntimeError as e:
        lab.v6_error = "IPv6 services not applied: %s" % e


def missing_tools():
    need = ["ip", "curl", "wrk", "nginx", "ethtool", "ss", "setsid", "ping"]
    return [t for t in need if shutil.which(t) is None and
            not os.path.exists("/usr/sbin/" + t)]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("not root: network namespaces need root - skipped")
        return 77
    missing = missing_tools()
    if missing:
        print("missing %s (make deps installs them) - skipped" % " ".join(missing))
        return 77

    def stop(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, stop)

    lab = Lab(args[0], args[1], "--xdp" in sys.argv)
    passed = failed = skipped = 0
    t_start = time.monotonic()
    try:
        try:
            setup(lab)
        except Exception as e:  # noqa: BLE001 - the lab itself is one failed case
            print("FAIL lab setup: %s" % e)
            print(lab.edgelb_log()[-3000:])
            print("0 passed, 1 failed")
            return 1
        print("lab %s up in %.1f s (%s)" % (lab.name, time.monotonic() - t_start,
                                            "af_xdp" if lab.xdp else "af_packet"))
        only = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")]
        for fn in TESTS:
            if only and not any(w in fn.__name__ for w in only):
                continue
            t0 = time.monotonic()
            try:
                ok, detail = fn(lab)
            except Exception as e:  # noqa: BLE001 - a crash is a failure of that case
                ok, detail = False, "%s: %s" % (type(e).__name__, e)
            took = time.monotonic() - t0
            if ok is None:
                skipped += 1
                print("skip %-60s %5.1fs  %s" % (fn.__name__, took, detail))
            elif ok:
                passed += 1
                print("ok   %-60s %5.1fs  %s" % (fn.__name__, took, detail[:100]))
            else:
                failed += 1
                print("FAIL %-60s %5.1fs\n     %s" % (fn.__name__, took, detail))
        if failed:
            print("---- edgelb log (tail)")
            print(lab.edgelb_log()[-3000:])
    finally:
        if "--keep" in sys.argv:
            print("lab kept: ELB_LAB_RUN=%s/run scripts/lab.sh down -n %s" % (lab.dir, lab.name))
        else:
            lab.down()
    print("e2e took %.1f s" % (time.monotonic() - t_start))
    line = "%d passed, %d failed" % (passed, failed)
    print(line + (", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
