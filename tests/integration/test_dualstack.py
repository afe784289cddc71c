#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Dual-stack Services through the REST API of the real edgelb binary.

Runs edgelb (EAL --no-huge) on two net_null ports that receive nothing, with
IPv4 and IPv6 interface and SNAT addresses, an IPv4 pool and a two-address
IPv6 pool, and drives it with edgelbctl and urllib:

- edgelbctl applies a dual-stack LoadBalancer Service (clusterIPs of both
  families) with an IPv4 and an IPv6 EndpointSlice; GET reads it back with
  ipFamilyPolicy, ipFamilies, clusterIPs and one ingress address per family
  (each from the pool of its family); `edgelbctl get services` shows both
  families in CLUSTER-IP and EXTERNAL-IP, `describe` the families and the
  endpoints of both; a Service without a policy reads back SingleStack IPv4;
- /metrics has one edgelb_flows_created_total series per service port, not
  one per family;
- refusals answer 422 (SingleStack with two families, clusterIPs of one
  family twice, dropping the second family without SingleStack) or 500
  (IPv6 pool exhausted) and change nothing (every List and the snapshot
  generation stay as they were);
- a SingleStack update gives the IPv6 address back, a delete gives both
  back; a restart serves the stored Services with their addresses;
- on an IPv4-only edgelb, RequireDualStack and an IPv6 family answer 422,
  PreferDualStack reads back IPv4 only; `edgelb --check`, the log and the
  API answer's Warning header tell about a family without a SNAT address.

Usage: test_dualstack.py PATH/TO/edgelb  (edgelbctl is taken from BUILD/tools/)
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
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elbtest  # noqa: E402
from elbtest import check, free_port  # noqa: E402

POOL4 = "198.18.0.100-198.18.0.150"
POOL6 = "2001:db8:1::10-2001:db8:1::11"
SVC = "/api/v1/namespaces/default/services/"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/"


class Edgelb:
    """One edgelb process: dual-stack unless told otherwise."""

    def __init__(self, binary, work, name, dual=True, snat6=True):
        self.binary = binary
        self.last_warnings = ""
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(work, name + ".log")
        self.config = os.path.join(work, name + ".yaml")
        ext = ['"198.18.0.1/24"'] + (['"2001:db8::1/64"'] if dual else [])
        int_ = ['"198.18.2.1/24"'] + (['"2001:db8:2::1/64"'] if dual else [])
        snat = ['"198.18.2.1"'] + (['"2001:db8:2::1"'] if dual and snat6 else [])
        pools = ['"%s"' % POOL4] + (['"%s"' % POOL6] if dual else [])
        lines = [
            'eal: ["-l", "0-1", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",'
            ' "--file-prefix", "edgelb-ds-%s-%d", "--log-level", "lib.eal:warning"]'
            % (name, os.getpid()),
            "workers: [1]",
            "idle_sleep_us: 500",
            "interfaces:",
            '  - {name: ext, device: "net_null0,no-rx=1", addresses: [%s]}' % ", ".join(ext),
            '  - {name: int, device: "net_null1,no-rx=1", addresses: [%s]}' % ", ".join(int_),
            "snat: {addresses: [%s]}" % ", ".join(snat),
            "loadbalancer: {pools: [%s]}" % ", ".join(pools),
            "conntrack: {max_flows: 65536}",
            'api: {listen: "127.0.0.1:%d"}' % self.port,
            'state_dir: "%s"' % os.path.join(work, name + "-state"),
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = elbtest.spawn([self.binary, "--config", self.config], self.log_path)
        return elbtest.wait_ready(self.proc, lambda: self.request("GET", "/healthz")[0] == 200,
                                  30, 0.2)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def request(self, method, path, body=None):
        """(code, text); the Warning headers of the answer go to last_warnings."""
        req = urllib.request.Request(self.url + path, method=method,
                                     data=body.encode() if body is not None else None)
        if body is not None:
            req.add_header("Content-Type", "application/yaml")
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                self.last_warnings = "\n".join(r.headers.get_all("Warning") or [])
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            self.last_warnings = ""
            return e.code, e.read().decode()

    def get(self, path):
        code, text = self.request("GET", path)
        return code, (json.loads(text) if code == 200 else None)

    def state(self):
        """Every List (resource versions left out) and the generation."""
        out = {}
        for path in ("/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"):
            code, lst = self.get(path)
            items = lst["items"] if code == 200 else []
            for i in items:
                i.get("metadata", {}).pop("resourceVersion", None)
            out[path] = items
        code, text = self.request("GET", "/metrics")
        m = re.search(r"^edgelb_snapshot_generation (\d+)$", text, re.M)
        out["generation"] = int(m.group(1)) if m else -1
        return out


def service(name, typ, spec):
    return ("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\n"
            "spec:\n  type: %s\n%s  ports: [{name: http, port: 80, targetPort: 8080}]\n"
            % (name, typ, spec))


WEB = service("web", "LoadBalancer",
              "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n"
              "  clusterIP: 198.18.1.50\n  clusterIPs: [198.18.1.50, \"2001:db8:3::50\"]\n")
SLICE4 = ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
          "metadata: {name: web-v4, namespace: default,"
          " labels: {kubernetes.io/service-name: web}}\n"
          "addressType: IPv4\nports: [{name: http, port: 8080}]\n"
          "endpoints: [{addresses: [198.18.2.11], conditions: {ready: true}}]\n")
SLICE6 = ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
          "metadata: {name: web-v6, namespace: default,"
          " labels: {kubernetes.io/service-name: web}}\n"
          "addressType: IPv6\nports: [{name: http, port: 8080}]\n"
          "endpoints: [{addresses: [\"2001:db8:2::11\"], conditions: {ready: true}}]\n")


def ctl(tools, e, *args, stdin=None):
    return subprocess.run([os.path.join(tools, "edgelbctl"), "--server", e.url] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=60)


def ingress(svc):
    return [i.get("ip") for i in svc.get("status", {}).get("loadBalancer", {}).get("ingress", [])]


def expect_refused(e, name, body, code, field):
    before = e.state()
    got, text = e.request("PUT", SVC + name, body)
    try:
        st = json.loads(text)
    except ValueError:
        st = {}
    check("%s: refused with %d naming %s" % (name, code, field or "-"),
          got == code and st.get("kind") == "Status" and
          (field is None or field in st.get("message", "")), "%d %s" % (got, text[:300]))
    check("%s: the refusal changed nothing" % name, e.state() == before)
    return st


def check_dual(e, tools, work):
    path = os.path.join(work, "web.yaml")
    with open(path, "w") as f:
        f.write(WEB + "---\n" + SLICE4 + "---\n" + SLICE6)
    r = ctl(tools, e, "apply", "-f", path)
    check("edgelbctl apply of a dual-stack Service and its v4/v6 slices succeeds",
          r.returncode == 0, r.stdout + r.stderr)

    code, svc = e.get(SVC + "web")
    if not check("GET the dual-stack Service", code == 200, str(code)):
        return
    spec = svc["spec"]
    check("ipFamilyPolicy and ipFamilies read back",
          spec.get("ipFamilyPolicy") == "RequireDualStack" and
          spec.get("ipFamilies") == ["IPv4", "IPv6"], json.dumps(spec))
    check("clusterIPs of both families read back",
          spec.get("clusterIPs") == ["198.18.1.50", "2001:db8:3::50"], json.dumps(spec))
    ing = ingress(svc)
    check("status.loadBalancer.ingress has one address per family, from its pool",
          len(ing) == 2 and ing[0].startswith("198.18.0.") and ing[1] == "2001:db8:1::10",
          str(ing))

    r = ctl(tools, e, "get", "services")
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("web ")]
    check("get services shows both cluster IPs and both ingress addresses",
          r.returncode == 0 and len(row) == 1 and
          "198.18.1.50,2001:db8:3::50" in row[0] and "%s,2001:db8:1::10" % ing[0] in row[0],
          r.stdout + r.stderr)
    r = ctl(tools, e, "describe", "service", "default/web")
    out = r.stdout
    check("describe shows the families and the endpoints of both",
          r.returncode == 0 and re.search(r"^IP Families:\s+IPv4,IPv6$", out, re.M) and
          re.search(r"^IPs:\s+198\.18\.1\.50,2001:db8:3::50$", out, re.M) and
          "198.18.2.11" in out and "2001:db8:2::11" in out, out + r.stderr)

    code, text = e.request("GET", "/metrics")
    series = re.findall(r'^edgelb_flows_created_total\{service="default/web:http"\}', text, re.M)
    check("/metrics: one edgelb_flows_created_total series for both families",
          code == 200 and len(series) == 1, str(series))

    code, plain = e.request("PUT", SVC + "plain", service("plain", "ClusterIP", ""))
    plain = json.loads(plain) if code in (200, 201) else {}
    check("a Service without a policy reads back SingleStack IPv4",
          plain.get("spec", {}).get("ipFamilyPolicy") == "SingleStack" and
          plain["spec"].get("ipFamilies") == ["IPv4"], json.dumps(plain)[:300])

    expect_refused(e, "two", service("two", "ClusterIP",
                                     "  ipFamilyPolicy: SingleStack\n"
                                     "  ipFamilies: [IPv4, IPv6]\n"),
                   422, "spec.ipFamilyPolicy")
    expect_refused(e, "same", service("same", "ClusterIP",
                                      "  ipFamilyPolicy: PreferDualStack\n"
                                      "  clusterIP: 198.18.1.51\n"
                                      "  clusterIPs: [198.18.1.51, 198.18.1.52]\n"),
                   422, "spec.clusterIPs[1]")
    expect_refused(e, "web", service("web", "LoadBalancer",
                                     "  ipFamilies: [IPv4]\n  clusterIP: 198.18.1.50\n"),
                   422, "spec.ipFamilyPolicy")
    # the IPv6 pool holds two addresses: web has one, six takes the other
    code, text = e.request("PUT", SVC + "six", service("six", "LoadBalancer",
                                                       "  ipFamilies: [IPv6]\n"))
    check("a single-stack IPv6 LoadBalancer takes the second IPv6 address",
          code == 201 and ingress(json.loads(text)) == ["2001:db8:1::11"], text[:300])
    st = expect_refused(e, "full", service("full", "LoadBalancer",
                                           "  ipFamilyPolicy: PreferDualStack\n"),
                        500, None)
    check("the exhausted IPv6 pool is named", "no free IPv6 address" in st.get("message", ""),
          st.get("message", ""))

    # SingleStack releases the IPv6 address; delete releases both
    code, text = e.request("PUT", SVC + "six", service("six", "LoadBalancer", ""))
    check("an update that leaves the families out keeps them",
          code == 200 and json.loads(text)["spec"].get("ipFamilies") == ["IPv6"] and
          ingress(json.loads(text)) == ["2001:db8:1::11"], text[:300])
    code, text = e.request("PUT", SVC + "web",
                           service("web", "LoadBalancer",
                                   "  ipFamilyPolicy: SingleStack\n  clusterIP: 198.18.1.50\n"
                                   "  clusterIPs: [198.18.1.50, \"2001:db8:3::50\"]\n"))
    web = json.loads(text) if code == 200 else {}
    check("SingleStack on update keeps the first family and its address",
          web.get("spec", {}).get("ipFamilies") == ["IPv4"] and
          web["spec"].get("clusterIPs") == ["198.18.1.50"] and ingress(web) == [ing[0]],
          "%d %s" % (code, text[:400]))
    code, text = e.request("PUT", SVC + "full", service("full", "LoadBalancer",
                                                        "  ipFamilyPolicy: PreferDualStack\n"))
    check("the IPv6 address web gave back goes to the next Service",
          code == 201 and "2001:db8:1::10" in ingress(json.loads(text)), text[:300])
    code, _ = e.request("DELETE", SVC + "full")
    code2, text = e.request("PUT", SVC + "again", service("again", "LoadBalancer",
                                                          "  ipFamilyPolicy: RequireDualStack\n"))
    check("a delete gives the addresses of both families back",
          code == 200 and code2 == 201 and "2001:db8:1::10" in ingress(json.loads(text)),
          text[:300])

    before = e.state()
    e.stop(signal.SIGTERM)
    if check("edgelb restarts on its state", e.start(), e.log()):
        after = e.state()
        check("after a restart every Service reads back as before (families, addresses)",
              after["/api/v1/services"] == before["/api/v1/services"])


def check_ipv4_only(binary, work):
    e = Edgelb(binary, work, "v4only", dual=False)
    try:
        if not check("IPv4-only edgelb starts", e.start(), e.log()):
            return
        expect_refused(e, "req", service("req", "LoadBalancer",
                                         "  ipFamilyPolicy: RequireDualStack\n"),
                       422, "spec.ipFamilyPolicy")
        expect_refused(e, "v6", service("v6", "ClusterIP", "  ipFamilies: [IPv6]\n"),
                       422, "spec.ipFamilies[0]")
        code, text = e.request("PUT", SVC + "pref", service("pref", "LoadBalancer",
                                                            "  ipFamilyPolicy: PreferDualStack\n"))
        svc = json.loads(text) if code == 201 else {}
        check("PreferDualStack on an IPv4-only edgelb reads back IPv4 only",
              svc.get("spec", {}).get("ipFamilies") == ["IPv4"] and len(ingress(svc)) == 1,
              "%d %s" % (code, text[:300]))
    finally:
        e.stop(signal.SIGKILL)
        if elbtest.failed:
            print("---- edgelb (IPv4 only) log (tail)\n" + e.log())


def check_snat_warning(binary, work):
    e = Edgelb(binary, work, "nosnat6", snat6=False)
    with open(os.path.join(work, "m.yaml"), "w") as f:
        f.write(service("web", "NodePort", "  ipFamilyPolicy: PreferDualStack\n"))
    with open(e.config, "a") as f:
        f.write('manifests: ["%s"]\n' % os.path.join(work, "m.yaml"))
    r = subprocess.run([binary, "--config", e.config, "--check"], capture_output=True,
                       text=True, timeout=60)
    check("--check accepts a dual-stack Service without an IPv6 SNAT address",
          r.returncode == 0, r.stdout + r.stderr)
    check("--check warns that its IPv6 connections are dropped",
          "default/web: no IPv6 SNAT address" in r.stderr, r.stderr)
    check("--check lists its nodePort on the IPv6 interface addresses",
          re.search(r"frontend \[2001:db8::1\]:3\d{4} +TCP +NodePort +default/web:http",
                    r.stdout) is not None, r.stdout)
    try:
        started = e.start()
        check("edgelb serves it and logs the missing IPv6 SNAT address",
              started and "warning: default/web: no IPv6 SNAT address" in e.log(), e.log())
        code, text = e.request("PUT", SVC + "web",
                               service("web", "NodePort", "  ipFamilyPolicy: PreferDualStack\n"))
        check("the API answer to a change of it carries the warning too",
              code == 200 and "no IPv6 SNAT address" in e.last_warnings, e.last_warnings)
    finally:
        e.stop(signal.SIGKILL)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    tools = os.path.join(os.path.dirname(binary), "tools")
    work = tempfile.mkdtemp(prefix="edgelb-ds-")
    e = Edgelb(binary, work, "dual")
    try:
        if check("dual-stack edgelb starts", e.start(), e.log()):
            check_dual(e, tools, work)
        e.stop(signal.SIGKILL)
        check_ipv4_only(binary, work)
        check_snat_warning(binary, work)
    finally:
        e.stop(signal.SIGKILL)
        if elbtest.failed:
            print("---- edgelb log (tail)\n" + e.log())
        shutil.rmtree(work, ignore_errors=True)
    return elbtest.summary()


if __name__ == "__main__":
    sys.exit(main())
