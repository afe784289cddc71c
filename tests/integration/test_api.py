#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The REST API of the real edgelb binary, over HTTP.

Runs edgelb (EAL --no-huge) on two net_null ports that receive nothing, with
a temporary state_dir and a free loopback port, and drives it with urllib:

- every object of config/examples is PUT (as YAML), read back (the Services
  with nodePort and status.loadBalancer.ingress filled in), and PUT again as
  the JSON that GET returned, which must change nothing;
- Lists per namespace and cluster-wide hold exactly the right objects;
- edgelb_snapshot_generation in /metrics rises with every accepted change;
- each refusal comes with its code and a Status object (400 bad JSON,
  404 unknown, 405, 409 nodePort collision, 413 huge body, 415 content type,
  422 name mismatch, bad port, bad affinity timeout), and afterwards every
  List and the generation are as before;
- a restart after SIGTERM and one after kill -9 both serve every
  acknowledged object; the config's manifests apply only to an empty
  state_dir;
- with api.token_file set, requests without the bearer token get 401;
- traffic (as root, with scapy and tcpdump): edgelb on net_af_packet ports
  over veth pairs into two network namespaces the test makes (a client and
  a pod network, 198.18.0.0/24 and 198.18.2.0/24), the examples applied with
  edgelbctl (and read back with their allocations), a LoadBalancer service
  applied with edgelbctl; new TCP flows sent from the client namespace with
  scapy are captured with tcpdump on the pod side: they go to the first
  endpoint set, then, after the Endpoints change (snapshot generation up),
  every new flow goes to the new set while the flows opened before keep
  their backend. Namespaces and veths are removed at the end, also on
  failure.

Usage: test_api.py PATH/TO/edgelb  (edgelbctl is taken from BUILD/tools/)
Prints one line "N passed, M failed"; exit status 1 when anything failed.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elbtest  # noqa: E402
from elbtest import check, free_port  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "config", "examples")
POOL = ("198.18.0.100", "198.18.0.150")

def ip_in_pool(ip):
    def n(a):
        return tuple(int(x) for x in a.split("."))
    return n(POOL[0]) <= n(ip) <= n(POOL[1])


class Edgelb:
    """One edgelb process with its config, state and API port."""

    def __init__(self, binary, work, name, token=None, manifests=None, ifaces=None):
        self.binary = binary
        self.work = work
        self.name = name
        self.port = free_port()
        self.token = token
        self.proc = None
        self.log_path = os.path.join(work, name + ".log")
        self.config = os.path.join(work, name + ".yaml")
        api = '{listen: "127.0.0.1:%d"' % self.port
        if token is not None:
            tok = os.path.join(work, name + ".token")
            with open(tok, "w") as f:
                f.write(token + "\n")
            api += ', token_file: "%s"' % tok
        api += "}"
        lines = [
            'eal: ["-l", "0-1", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",'
            ' "--file-prefix", "edgelb-api-%s-%d", "--log-level", "lib.eal:warning"]'
            % (name, os.getpid()),
            "workers: [1]",
            "idle_sleep_us: 500",
            "interfaces:",
        ] + (ifaces or [
            '  - {name: ext, device: "net_null0,no-rx=1", addresses: ["198.18.0.1/24"]}',
            '  - {name: int, device: "net_null1,no-rx=1", addresses: ["198.18.2.1/24"]}',
        ]) + [
            'snat: {addresses: ["198.18.2.1"]}',
            'loadbalancer: {pools: ["%s-%s"]}' % POOL,
            "conntrack: {max_flows: 65536}",
            "api: " + api,
            'state_dir: "%s"' % os.path.join(work, name + "-state"),
        ]
        if manifests:
            lines.append("manifests: [%s]" % ", ".join('"%s"' % m for m in manifests))
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        self.proc = elbtest.spawn([self.binary, "--config", self.config], self.log_path)
        return elbtest.wait_ready(
            self.proc, lambda: self.request("GET", "/healthz", auth=False)[0] == 200, 30, 0.2)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def request(self, method, path, body=None, ctype=None, auth=True, token=None):
        """(code, headers, text) of one request; never raises for HTTP codes."""
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(url, data=data, method=method)
        if ctype:
            req.add_header("Content-Type", ctype)
        tok = token if token is not None else (self.token if auth else None)
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def get_json(self, path):
        code, _, text = self.request("GET", path)
        return code, (json.loads(text) if text.startswith("{") else None)

    def generation(self):
        code, _, text = self.request("GET", "/metrics")
        m = re.search(r"^edgelb_snapshot_generation (\d+)$", text, re.M)
        return int(m.group(1)) if code == 200 and m else -1


# ---- the examples -------------------------------------------------------------

RESOURCE = {"Service": ("/api/v1", "services"),
            "Endpoints": ("/api/v1", "endpoints"),
            "EndpointSlice": ("/apis/discovery.k8s.io/v1", "endpointslices")}


def object_path(kind, ns, name):
    group, res = RESOURCE[kind]
    return "%s/namespaces/%s/%s/%s" % (group, ns, res, name)


def example_documents():
    """(file, kind, namespace, name, yaml text) of every example document."""
    docs = []
    for fn in sorted(os.listdir(EXAMPLES)):
        if not fn.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(EXAMPLES, fn)) as f:
            text = f.read()
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            kind = re.search(r"^kind:\s*(\S+)", doc, re.M)
            if not kind:
                continue
            meta = re.search(r"^metadata:\s*\n((?:[ \t]+.*\n?)*)", doc, re.M)
            name = re.search(r"^\s+name:\s*(\S+)", meta.group(1), re.M)
            ns = re.search(r"^\s+namespace:\s*(\S+)", meta.group(1), re.M)
            docs.append((fn, kind.group(1), ns.group(1) if ns else "default",
                         name.group(1), doc))
    return docs


def without_version(obj):
    obj = json.loads(json.dumps(obj))
    obj.get("metadata", {}).pop("resourceVersion", None)
    return obj


def snapshot_state(e):
    """Every List (versions left out) and the generation."""
    state = {}
    for path in ("/api/v1/services", "/api/v1/endpoints",
                 "/apis/discovery.k8s.io/v1/endpointslices"):
        code, lst = e.get_json(path)
        state[path] = [without_version(i) for i in lst["items"]] if code == 200 else code
    state["generation"] = e.generation()
    return state


# ---- checks ---------------------------------------------------------------------

def put_examples(e, docs):
    for fn, kind, ns, name, doc in docs:
        gen = e.generation()
        code, _, text = e.request("PUT", object_path(kind, ns, name), doc, "application/yaml")
        check("PUT %s %s/%s from %s (YAML) is created" % (kind, ns, name, fn), code == 201,
              "%d %s" % (code, text[:300]))
        check("generation rises after PUT %s/%s" % (kind, name), e.generation() == gen + 1)


def check_allocations(e, docs):
    for fn, kind, ns, name, doc in docs:
        if kind != "Service":
            continue
        code, svc = e.get_json(object_path(kind, ns, name))
        if not check("GET Service %s/%s" % (ns, name), code == 200 and svc is not None):
            continue
        typ = svc["spec"].get("type")
        ports = svc["spec"]["ports"]
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress", [])
        if typ in ("NodePort", "LoadBalancer"):
            check("%s/%s: every port has a nodePort in 30000-32767" % (ns, name),
                  all(30000 <= p.get("nodePort", 0) <= 32767 for p in ports), str(ports))
        else:
            check("%s/%s: no nodePort on a %s" % (ns, name, typ),
                  all("nodePort" not in p for p in ports))
        if typ == "LoadBalancer":
            want = svc["spec"].get("loadBalancerIP")
            ok = len(ingress) == 1 and ip_in_pool(ingress[0]["ip"]) and \
                (want is None or ingress[0]["ip"] == want)
            check("%s/%s: status.loadBalancer.ingress from the pool%s" %
                  (ns, name, " (%s as asked)" % want if want else ""), ok, str(ingress))
        else:
            check("%s/%s: no ingress on a %s" % (ns, name, typ), ingress == [])
    # the explicit nodePort of frontend.yaml is honoured
    code, svc = e.get_json(object_path("Service", "default", "frontend"))
    check("frontend keeps the nodePort it asked for (30080)",
          code == 200 and svc["spec"]["ports"][0].get("nodePort") == 30080)


def check_json_round_trip(e, docs):
    for fn, kind, ns, name, doc in docs:
        path = object_path(kind, ns, name)
        code, before = e.get_json(path)
        code, _, text = e.request("PUT", path, json.dumps(before), "application/json")
        check("PUT back the JSON of %s %s/%s is a replace" % (kind, ns, name), code == 200,
              "%d %s" % (code, text[:300]))
        code, after = e.get_json(path)
        check("... and changes nothing", code == 200 and
              without_version(after) == without_version(before),
              "%s\n%s" % (before, after))


def check_lists(e, docs):
    n = {k: sum(1 for d in docs if d[1] == k) for k in RESOURCE}
    for kind, (group, res) in RESOURCE.items():
        code, lst = e.get_json("%s/%s" % (group, res))
        ok = code == 200 and lst["kind"] == kind + "List" and len(lst["items"]) == n[kind] \
            and all(i["kind"] == kind for i in lst["items"])
        check("cluster-wide %sList holds %d items" % (kind, n[kind]), ok,
              "%d %s" % (code, lst and len(lst.get("items", []))))
    # one object in another namespace
    svc = ("apiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: team-a}\n"
           "spec: {ports: [{port: 80}]}\n")
    code, _, _ = e.request("PUT", object_path("Service", "team-a", "other"), svc,
                           "application/x-yaml")
    check("PUT a Service in namespace team-a", code == 201)
    code, lst = e.get_json("/api/v1/namespaces/team-a/services")
    check("namespace List holds only team-a",
          code == 200 and [i["metadata"]["name"] for i in lst["items"]] == ["other"])
    code, lst = e.get_json("/api/v1/namespaces/default/services")
    check("namespace List of default leaves team-a out",
          code == 200 and len(lst["items"]) == n["Service"] and
          all(i["metadata"]["namespace"] == "default" for i in lst["items"]))
    code, lst = e.get_json("/api/v1/services")
    check("cluster-wide List holds both namespaces",
          code == 200 and len(lst["items"]) == n["Service"] + 1)
    code, lst = e.get_json("/apis/discovery.k8s.io/v1/namespaces/team-a/endpointslices")
    check("empty namespace List", code == 200 and lst["items"] == [])


def is_status(text, code, reason):
    try:
        st = json.loads(text)
    except ValueError:
        return False
    return st.get("kind") == "Status" and st.get("code") == code and \
        st.get("reason") == reason and st.get("status") == "Failure"


def refused(e, what, method, path, body, ctype, code, reason, field=None):
    before = snapshot_state(e)
    got, _, text = e.request(method, path, body, ctype)
    ok = got == code and is_status(text, code, reason)
    if ok and field:
        st = json.loads(text)
        causes = st.get("details", {}).get("causes", [])
        ok = field in st.get("message", "") and any(c.get("field") == field for c in causes)
    check("%s: %d %s%s" % (what, code, reason, " naming " + field if field else ""), ok,
          "%d %s" % (got, text[:400]))
    check("%s: nothing changed" % what, snapshot_state(e) == before)


def check_refusals(e):
    web = object_path("Service", "default", "web")
    good = ("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
            "spec: {type: NodePort, ports: [{port: 80, targetPort: 8080}]}\n")
    refused(e, "truncated JSON", "PUT", web, '{"apiVersion": "v1", "kind": ',
            "application/json", 400, "BadRequest")
    refused(e, "GET of an unknown object", "GET", web, None, None, 404, "NotFound")
    refused(e, "DELETE of an unknown object", "DELETE", web, None, None, 404, "NotFound")
    refused(e, "unknown path", "GET", "/api/v1/pods", None, None, 404, "NotFound")
    refused(e, "POST to an object", "POST", web, good, "application/yaml", 405,
            "MethodNotAllowed")
    refused(e, "nodePort held by frontend", "PUT", web,
            good.replace("targetPort: 8080", "targetPort: 8080, nodePort: 30080"),
            "application/yaml", 409, "Conflict", "spec.ports[0].nodePort")
    huge = good + "#" + "x" * (2 << 20) + "\n"
    refused(e, "2 MiB body", "PUT", web, huge, "application/yaml", 413,
            "RequestEntityTooLarge")
    refused(e, "text/plain body", "PUT", web, good, "text/plain", 415,
            "UnsupportedMediaType")
    refused(e, "name other than the URL's", "PUT", object_path("Service", "default", "web2"),
            good, "application/yaml", 422, "Invalid", "metadata.name")
    refused(e, "port 70000", "PUT", web, good.replace("port: 80,", "port: 70000,"),
            "application/yaml", 422, "Invalid", "spec.ports[0].port")
    refused(e, "affinity timeout 90000", "PUT", web,
            good.replace("spec: {", "spec: {sessionAffinity: ClientIP, sessionAffinityConfig: "
                         "{clientIP: {timeoutSeconds: 90000}}, "),
            "application/yaml", 422, "Invalid",
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds")
    refused(e, "loadBalancerIP outside the pool", "PUT", web,
            good.replace("type: NodePort", "type: LoadBalancer, loadBalancerIP: 198.18.0.200"),
            "application/yaml", 422, "Invalid", "spec.loadBalancerIP")


def check_delete(e):
    path = object_path("Service", "team-a", "other")
    gen = e.generation()
    code, _, text = e.request("DELETE", path)
    check("DELETE answers with the deleted object",
          code == 200 and json.loads(text)["metadata"]["name"] == "other")
    check("generation rises after DELETE", e.generation() == gen + 1)
    code, _, _ = e.request("GET", path)
    check("GET after DELETE is 404", code == 404)


def check_probes(e):
    code, _, text = e.request("GET", "/healthz")
    check("/healthz is ok", code == 200 and text == "ok")
    code, _, text = e.request("GET", "/readyz")
    check("/readyz is ok (ports up, worker polling)", code == 200, text)
    code, _, text = e.request("GET", "/api/v1/conns?limit=10")
    ok = code == 200 and json.loads(text)["kind"] == "ConnectionList"
    check("/api/v1/conns answers a ConnectionList", ok, text[:200])
    code, _, text = e.request("GET", "/metrics")
    check("/metrics is Prometheus text", code == 200 and "edgelb_drops_total" in text)


def check_restart(e, how):
    before = snapshot_state(e)
    if how == "kill":
        # a change acknowledged just before the crash must survive it
        body = ("apiVersion: v1\nkind: Service\nmetadata: {name: last-word}\n"
                "spec: {type: LoadBalancer, ports: [{port: 8443}]}\n")
        code, _, _ = e.request("PUT", object_path("Service", "default", "last-word"), body,
                               "application/yaml")
        check("PUT just before kill -9", code == 201)
        before = snapshot_state(e)
        rc = e.stop(signal.SIGKILL)
        check("kill -9 ends edgelb", rc == -signal.SIGKILL, str(rc))
    else:
        rc = e.stop(signal.SIGTERM)
        check("SIGTERM ends edgelb cleanly", rc == 0, "%s %s" % (rc, e.log()))
    if not check("edgelb starts again after %s" % how, e.start(), e.log()):
        return
    after = snapshot_state(e)
    for path in before:
        if path == "generation":
            continue
        check("after %s, %s holds every acknowledged object" % (how, path),
              after[path] == before[path],
              "\nbefore %s\nafter  %s" % (before[path], after[path]))


def check_manifests_only_on_empty_state(binary, work):
    manifest = os.path.join(work, "boot-manifests.yaml")
    with open(manifest, "w") as f:
        f.write("apiVersion: v1\nkind: Service\nmetadata: {name: booted}\n"
                "spec: {type: NodePort, ports: [{port: 80}]}\n")
    e = Edgelb(binary, work, "boot", manifests=[manifest])
    try:
        if not check("edgelb with manifests starts", e.start(), e.log()):
            return
        code, svc = e.get_json(object_path("Service", "default", "booted"))
        check("manifests apply to an empty state_dir, with allocations",
              code == 200 and 30000 <= svc["spec"]["ports"][0].get("nodePort", 0) <= 32767)
        code, _, _ = e.request("DELETE", object_path("Service", "default", "booted"))
        body = ("apiVersion: v1\nkind: Service\nmetadata: {name: kept}\n"
                "spec: {ports: [{port: 80}]}\n")
        e.request("PUT", object_path("Service", "default", "kept"), body, "application/yaml")
        e.stop()
        check("edgelb restarts", e.start(), e.log())
        code, _, _ = e.request("GET", object_path("Service", "default", "booted"))
        check("manifests do not apply to a state_dir that holds objects", code == 404)
        code, _, _ = e.request("GET", object_path("Service", "default", "kept"))
        check("... whose objects are served", code == 200)
    finally:
        e.stop(signal.SIGKILL)


def check_token(binary, work):
    e = Edgelb(binary, work, "token", token="T0ken-for-tests")
    try:
        if not check("edgelb with a token file starts", e.start(), e.log()):
            return
        code, hdrs, text = e.request("GET", "/api/v1/services", auth=False)
        check("no token: 401 Unauthorized", code == 401 and
              is_status(text, 401, "Unauthorized") and
              "Bearer" in (hdrs.get("WWW-Authenticate") or ""), "%d %s" % (code, text))
        code, _, _ = e.request("GET", "/api/v1/services", token="wrong")
        check("wrong token: 401", code == 401)
        body = ("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                "spec: {ports: [{port: 80}]}\n")
        code, _, _ = e.request("PUT", object_path("Service", "default", "web"), body,
                               "application/yaml", auth=False)
        check("no token: PUT refused with 401", code == 401)
        code, lst = e.get_json("/api/v1/services")
        check("right token: served, and the refused PUT stored nothing",
              code == 200 and lst["items"] == [])
        code, _, _ = e.request("GET", "/metrics", auth=False)
        check("no token: /metrics refused", code == 401)
        code, _, _ = e.request("GET", "/healthz", auth=False)
        check("no token: /healthz still answers", code == 200)
        check("the token is not in the log", "T0ken-for-tests" not in e.log())
    finally:
        e.stop(signal.SIGKILL)


# ---- traffic through af_packet ports: new flows follow the endpoints ---------

TRAFFIC_VIP = "198.18.0.140"
TRAFFIC_SET_A = ["198.18.2.30", "198.18.2.31"]
TRAFFIC_SET_B = ["198.18.2.32", "198.18.2.33"]
POD_MAC = "02:00:00:00:02:30"
EXT_MAC = "02:00:00:00:00:01"


def sh(*cmd, check_rc=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


class Lab:
    """Two namespaces, each holding the far end of a veth pair whose near
    end stays in the root namespace for edgelb's af_packet ports."""

    def __init__(self, tag):
        self.client = "elc%s" % tag
        self.pods = "elp%s" % tag
        self.ext = ("ele%s" % tag, "elx%s" % tag)  # root end, client end
        self.int = ("eli%s" % tag, "ely%s" % tag)  # root end, pod end

    def up(self):
        self.down()
        for ns in (self.client, self.pods):
            sh("ip", "netns", "add", ns)
        for (near, far), ns, mac in ((self.ext, self.client, None),
                                     (self.int, self.pods, POD_MAC)):
            sh("ip", "link", "add", near, "type", "veth", "peer", "name", far)
            sh("ip", "link", "set", far, "netns", ns)
            if mac:
                sh("ip", "netns", "exec", ns, "ip", "link", "set", far, "address", mac)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", far, "up")
            sh("ip", "link", "set", near, "up")
            # kernel senders on veth leave checksums to offload
            sh("ip", "netns", "exec", ns, "ethtool", "-K", far, "tx", "off", check_rc=False)
        sh("ip", "link", "set", self.ext[0], "address", EXT_MAC)

    def down(self):
        for ns in (self.client, self.pods):
            sh("ip", "netns", "del", ns, check_rc=False)
        for near in (self.ext[0], self.int[0]):
            sh("ip", "link", "del", near, check_rc=False)

    def capture(self, path):
        """tcpdump of TCP on the pod side, to a pcap file."""
        p = subprocess.Popen(["ip", "netns", "exec", self.pods, "tcpdump", "-n", "-U", "-i",
                              self.int[1], "-w", path, "tcp"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # tcpdump says "listening on" once it captures
        deadline = time.time() + 10
        line = b""
        while time.time() < deadline and b"listening" not in line:
            line = p.stderr.readline()
            if not line and p.poll() is not None:
                break
        return p

    def send_syns(self, sports, flags="S"):
        """TCP segments from the client namespace to the VIP, port 80."""
        script = (
            "import sys\n"
            "from scapy.all import Ether, IP, TCP, sendp\n"
            "pk = [Ether(src='02:00:00:00:00:02', dst='%s') / IP(src='198.18.0.2', dst='%s')"
            " / TCP(sport=p, dport=80, flags='%s', seq=1000) for p in %r]\n"
            "sendp(pk, iface='%s', verbose=False, inter=0.002)\n"
            % (EXT_MAC, TRAFFIC_VIP, flags, list(sports), self.ext[1]))
        sh("ip", "netns", "exec", self.client, "/usr/bin/python3", "-c", script)


def captured(path):
    """(sport, dst, flags) of every TCP segment in a pcap, sent by edgelb."""
    from scapy.all import rdpcap, IP, TCP  # noqa: E402
    out = []
    try:
        for pkt in rdpcap(path):
            if IP in pkt and TCP in pkt:
                out.append((pkt[IP].src, pkt[TCP].sport, pkt[IP].dst, int(pkt[TCP].flags)))
    except (OSError, Exception):  # an empty or missing capture reads as nothing
        pass
    return out


def ctl_run(ctl, url, *args):
    return subprocess.run([ctl, "--server", url] + list(args), capture_output=True, text=True,
                          timeout=60)


def traffic_manifest(path, pods):
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Service\nmetadata: {name: traffic, namespace: default}\n"
                "spec:\n  type: LoadBalancer\n  loadBalancerIP: %s\n"
                "  ports: [{name: http, port: 80, targetPort: 8080}]\n---\n"
                "apiVersion: v1\nkind: Endpoints\nmetadata: {name: traffic, namespace: default}\n"
                "subsets:\n  - ports: [{name: http, port: 8080}]\n    addresses:\n" % TRAFFIC_VIP)
        for ip in pods:
            f.write("      - {ip: %s}\n" % ip)


def send_and_capture(lab, work, name, sports, flags="S"):
    """Send segments of the given client ports; the (sport -> backend) edgelb
    sent to the pod side."""
    pcap = os.path.join(work, name + ".pcap")
    dump = lab.capture(pcap)
    try:
        lab.send_syns(sports, flags)
        deadline = time.time() + 10
        while time.time() < deadline:
            time.sleep(0.3)
            if len(captured(pcap)) >= len(sports):
                break
    finally:
        dump.send_signal(signal.SIGINT)
        try:
            dump.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dump.kill()
    # edgelb rewrites the client port to a SNAT port: match flows by count
    return captured(pcap)


def check_traffic(binary, work):
    ctl = os.path.join(os.path.dirname(binary), "tools", "edgelbctl")
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if shutil.which("tcpdump") is None or shutil.which("ip") is None:
        missing.append("tcpdump and ip")
    if not os.access(ctl, os.X_OK):
        missing.append(ctl)
    try:
        import scapy.all  # noqa: F401
    except ImportError:
        missing.append("scapy")
    if missing:
        print("skip  traffic through af_packet ports (needs %s)" % ", ".join(missing))
        return
    tag = str(os.getpid() % 100000)
    lab = Lab(tag)
    e = None
    try:
        lab.up()
        e = Edgelb(binary, work, "traffic", ifaces=[
            '  - {name: ext, device: "net_af_packet0,iface=%s,framecnt=4096,qdisc_bypass=1",'
            ' addresses: ["198.18.0.1/24"]}' % lab.ext[0],
            '  - name: int\n    device: "net_af_packet1,iface=%s,framecnt=4096,qdisc_bypass=1"\n'
            '    addresses: ["198.18.2.1/24"]\n    neighbors:\n%s' % (
                lab.int[0], "".join('      - {ip: "%s", mac: "%s"}\n' % (ip, POD_MAC)
                                    for ip in TRAFFIC_SET_A + TRAFFIC_SET_B).rstrip("\n"))])
        if not check("edgelb starts on af_packet ports", e.start(), e.log()):
            return
        url = "http://127.0.0.1:%d" % e.port
        r = ctl_run(ctl, url, "apply", "-f", EXAMPLES)
        check("edgelbctl apply -f config/examples succeeds", r.returncode == 0,
              r.stdout + r.stderr)
        r = ctl_run(ctl, url, "get", "services", "-A", "-o", "json")
        ok = r.returncode == 0
        items = json.loads(r.stdout)["items"] if ok else []
        by_name = {i["metadata"]["name"]: i for i in items}
        ok = ok and len(items) == sum(1 for d in example_documents() if d[1] == "Service")
        web = by_name.get("web-lb", {})
        ok = ok and ip_in_pool(web.get("status", {}).get("loadBalancer", {})
                               .get("ingress", [{}])[0].get("ip", "0.0.0.0"))
        ok = ok and all(30000 <= p.get("nodePort", 0) <= 32767 for p in web["spec"]["ports"])
        check("edgelbctl get services -A shows every example with its allocations", ok,
              r.stdout[:500] + r.stderr)

        manifest = os.path.join(work, "traffic.yaml")
        traffic_manifest(manifest, TRAFFIC_SET_A)
        r = ctl_run(ctl, url, "apply", "-f", manifest)
        check("edgelbctl apply of a LoadBalancer service and its Endpoints", r.returncode == 0,
              r.stdout + r.stderr)
        before = send_and_capture(lab, work, "set-a", range(20001, 20021))
        dsts = {d for (_, _, d, fl) in before if fl & 0x02}
        check("20 new flows reach the pod network, each to the first endpoint set",
              len(before) == 20 and dsts <= set(TRAFFIC_SET_A) and len(dsts) == 2,
              str(before))

        gen = e.generation()
        traffic_manifest(manifest, TRAFFIC_SET_B)
        r = ctl_run(ctl, url, "apply", "-f", manifest)
        check("edgelbctl apply of the changed Endpoints", r.returncode == 0,
              r.stdout + r.stderr)
        check("the snapshot generation rises with the change", e.generation() > gen,
              "%d -> %d" % (gen, e.generation()))
        after = send_and_capture(lab, work, "set-b", range(21001, 21021))
        dsts = {d for (_, _, d, fl) in after if fl & 0x02}
        check("after the change every new flow goes to the new set",
              len(after) == 20 and dsts <= set(TRAFFIC_SET_B) and len(dsts) == 2,
              str(after))
        old = send_and_capture(lab, work, "old-flows", range(20001, 20021), flags="A")
        dsts = {d for (_, _, d, _) in old}
        check("segments of the flows opened before keep their backend",
              len(old) == 20 and dsts <= set(TRAFFIC_SET_A), str(old))
        r = ctl_run(ctl, url, "describe", "service", "default/traffic")
        check("edgelbctl describe shows the service with its new endpoints",
              r.returncode == 0 and all(ip in r.stdout for ip in TRAFFIC_SET_B),
              r.stdout + r.stderr)
        code, _, text = e.request("GET", "/metrics")
        check("/metrics has edgelb_backend_flows_active for a backend with flows",
              re.search(r'^edgelb_backend_flows_active\{service="default/traffic:http",'
                        r'backend="198\.18\.2\.3[0-3]:8080"\} [1-9]', text, re.M) is not None,
              "\n".join(l for l in text.splitlines() if "backend_flows" in l))
    except (RuntimeError, OSError, ValueError, KeyError, IndexError,
            subprocess.TimeoutExpired) as exc:
        check("traffic section ran", False, repr(exc))
    finally:
        if e is not None:
            e.stop(signal.SIGKILL)
            if elbtest.failed:
                print("---- edgelb (traffic) log (tail)\n" + e.log())
        lab.down()


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="edgelb-api-")
    e = Edgelb(binary, work, "main")
    try:
        docs = example_documents()
        check("examples hold Services, Endpoints and EndpointSlices",
              {d[1] for d in docs} == set(RESOURCE), str({d[1] for d in docs}))
        if check("edgelb starts with an empty state_dir", e.start(), e.log()):
            check_probes(e)
            code, lst = e.get_json("/api/v1/services")
            check("empty state: no Services", code == 200 and lst["items"] == [])
            put_examples(e, docs)
            check_allocations(e, docs)
            check_json_round_trip(e, docs)
            check_lists(e, docs)
            check_refusals(e)
            check_delete(e)
            check_restart(e, "SIGTERM")
            check_restart(e, "kill")
            check_allocations(e, docs)
        e.stop(signal.SIGKILL)
        check_manifests_only_on_empty_state(binary, work)
        check_token(binary, work)
        check_traffic(binary, work)
    finally:
        e.stop(signal.SIGKILL)
        if elbtest.failed:
            print("---- edgelb log (tail)\n" + e.log())
        shutil.rmtree(work, ignore_errors=True)
    return elbtest.summary()


if __name__ == "__main__":
    sys.exit(main())
