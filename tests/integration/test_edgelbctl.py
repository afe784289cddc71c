#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""edgelbctl end to end.

Part 1 runs edgelbctl against a small fake of the edgelb REST API
(http.server on 127.0.0.1, a random port). The fake stores what is PUT,
answers GET with the stored objects and Kubernetes List objects, DELETE with a
Status, and has canned /metrics and /api/v1/conns answers; it records every
request. The checks look at what edgelbctl sent (method, path, headers, the
JSON body against the YAML document) and at what it printed and returned.

Part 2 runs the same commands against the real edgelb (net_null vdevs,
--no-huge) when a binary is given and it serves the API: apply -f
config/examples, get services, describe, delete. When the binary is absent or
has no API yet, part 2 is reported as skipped.

Usage: test_edgelbctl.py PATH/TO/edgelbctl [PATH/TO/edgelb]
Prints "N passed, M failed, K skipped"; exit status 1 when anything failed.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import yaml
except ImportError:  # the Debian python3 has PyYAML; compare JSON only without it
    yaml = None

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))

OBJ_RE = re.compile(r"^(?:/api/v1|/apis/discovery\.k8s\.io/v1)/namespaces/([^/]+)/"
                    r"(services|endpoints|endpointslices)/([^/]+)$")
NS_LIST_RE = re.compile(r"^(?:/api/v1|/apis/discovery\.k8s\.io/v1)/namespaces/([^/]+)/"
                        r"(services|endpoints|endpointslices)$")
ALL_LIST_RE = re.compile(r"^(?:/api/v1|/apis/discovery\.k8s\.io/v1)/"
                         r"(services|endpoints|endpointslices)$")
LIST_KIND = {"services": "ServiceList", "endpoints": "EndpointsList",
             "endpointslices": "EndpointSliceList"}

METRICS = """# HELP edgelb_packets_total Packets received (rx) and sent (tx) per interface.
# TYPE edgelb_packets_total counter
edgelb_packets_total{port="ext",direction="rx"} 1200
edgelb_packets_total{port="ext",direction="tx"} 1100
edgelb_packets_total{port="int",direction="rx"} 1100
edgelb_packets_total{port="int",direction="tx"} 1190
# TYPE edgelb_drops_total counter
edgelb_drops_total{reason="no_service"} 7
edgelb_drops_total{reason="bad_checksum"} 0
edgelb_drops_total{reason="src_range"} 3
edgelb_flows_active 12
edgelb_flows_created_total{service="default/web:http"} 40
edgelb_flows_created_total{service="default/dns:53"} 2
edgelb_backend_flows_active{service="default/web:http",backend="198.18.2.11:8080"} 5
edgelb_backend_flows_active{service="default/web:http",backend="198.18.2.12:8080"} 4
edgelb_snapshot_generation 17
edgelb_snapshot_publish_seconds 0.000321
"""

CONNS = {"apiVersion": "edgelb/v1", "kind": "ConnectionList", "items": [
    {"protocol": "TCP", "client": "198.18.0.10:40001", "frontend": "198.18.0.100:80",
     "snat": "198.18.2.1:20001", "backend": "198.18.2.11:8080", "service": "default/web:http",
     "state": "ESTABLISHED", "age": 125, "idle": 3},
    {"protocol": "UDP", "client": "198.18.0.11:5353", "frontend": "198.18.0.102:53",
     "snat": "198.18.2.1:20002", "backend": "198.18.2.11:5353", "service": "default/dns:dns",
     "state": "UDP", "age": 4, "idle": 4},
]}


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class FakeApi(BaseHTTPRequestHandler):
    """The REST API as edgelbctl sees it; state lives on the server object."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, obj=None, text=None, chunked=False):
        body = (text if text is not None else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type",
                         "text/plain; version=0.0.4" if text is not None else "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def handle_any(self, method):
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        srv.requests.append({"method": method, "path": self.path, "body": body,
                             "headers": dict(self.headers.items())})
        if srv.token is not None and self.headers.get("Authorization") != "Bearer " + srv.token:
            return self.answer(401, status(401, "Unauthorized", "Unauthorized"))
        if path == "/metrics" and method == "GET":
            return self.answer(200, text=METRICS)
        if path == "/api/v1/conns" and method == "GET":
            srv.conns_query = url.query
            return self.answer(200, CONNS)
        m = OBJ_RE.match(path)
        if m:
            ns, res, name = (urllib.parse.unquote(x) for x in m.groups())
            key = (res, ns, name)
            if method == "PUT":
                obj = json.loads(body)
                if name == "refused":
                    return self.answer(422, status(
                        422, "Invalid", 'Service "refused" is invalid: spec.ports[0].port: '
                        'Invalid value: 0: must be between 1 and 65535'))
                created = key not in srv.store
                srv.store[key] = obj
                return self.answer(201 if created else 200, obj)
            if method == "GET":
                if key in srv.store:
                    return self.answer(200, srv.store[key])
            if method == "DELETE":
                if key in srv.store:
                    del srv.store[key]
                    return self.answer(200, {"kind": "Status", "status": "Success", "code": 200})
            return self.answer(404, status(404, "NotFound",
                                           f'{res} "{name}" not found in namespace "{ns}"'))
        m = NS_LIST_RE.match(path)
        if m and method == "GET":
            ns, res = m.groups()
            items = [o for (r, n, _), o in sorted(srv.store.items()) if r == res and n == ns]
            return self.answer(200, {"apiVersion": "v1", "kind": LIST_KIND[res],
                                     "metadata": {}, "items": items},
                               chunked=(ns == "chunked"))
        m = ALL_LIST_RE.match(path)
        if m and method == "GET":
            res = m.group(1)
            items = [o for (r, _, _), o in sorted(srv.store.items()) if r == res]
            return self.answer(200, {"apiVersion": "v1", "kind": LIST_KIND[res],
                                     "metadata": {}, "items": items})
        return self.answer(404, status(404, "NotFound", "the server could not find " + path))

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def start_fake(host="127.0.0.1"):
    cls = Server6 if ":" in host else ThreadingHTTPServer
    srv = cls((host, 0), FakeApi)
    srv.daemon_threads = True
    srv.store, srv.requests, srv.token, srv.conns_query = {}, [], None, None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Checker:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def case(self, name, fn):
        try:
            fn()
        except AssertionError as e:
            self.failed += 1
            print(f"FAIL {name}: {e}")
        except Exception as e:  # a crash of the check is a failure too
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        else:
            self.passed += 1
            print(f"ok   {name}")

    def skip(self, name, why):
        self.skipped += 1
        print(f"skip {name}: {why}")


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


MANIFEST = """# endpoints first: edgelbctl must still send the Service first
apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
  - addresses: [{ip: 198.18.2.11}, {ip: 198.18.2.12}]
    ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web, tier: "1"}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
    - name: http
      port: 80
      targetPort: "8080"
      nodePort: 30080
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
  publishNotReadyAddresses: false
  externalTrafficPolicy: Cluster
  loadBalancerSourceRanges: [198.18.0.0/24]
  healthCheckNodePort: null
  ratio: 0.5
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
  - addresses: [198.18.2.13]
    conditions: {ready: false, serving: true, terminating: true}
ports: [{name: http, port: 8080, protocol: TCP}]
"""


class Suite:
    def __init__(self, ctl, edgelb):
        self.ctl, self.edgelb = ctl, edgelb
        self.tmp = tempfile.mkdtemp(prefix="edgelbctl-it-")
        self.srv = start_fake()
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.c = Checker()

    def run(self, *args, stdin=None, env=None, server=True, timeout=30):
        argv = [self.ctl] + (["--server", self.url] if server else []) + list(args)
        e = dict(os.environ)
        e.pop("EDGELB_SERVER", None)
        e.pop("EDGELB_TOKEN_FILE", None)
        e.update(env or {})
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, env=e,
                              timeout=timeout)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def reset(self):
        self.srv.store.clear()
        self.srv.requests.clear()
        self.srv.token = None

    # ---- apply ----

    def apply_puts_services_first_with_bodies_equal_to_the_documents(self):
        self.reset()
        f = self.write("m.yaml", MANIFEST)
        r = self.run("apply", "-f", f)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        paths = [(q["method"], q["path"]) for q in self.srv.requests]
        expect(paths == [
            ("PUT", "/api/v1/namespaces/default/services/web"),
            ("PUT", "/api/v1/namespaces/default/endpoints/web"),
            ("PUT", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12"),
        ], f"requests {paths}")
        docs = [d for d in yaml.safe_load_all(MANIFEST)] if yaml else None
        bodies = [json.loads(q["body"]) for q in self.srv.requests]
        if docs:
            expect(bodies == [docs[1], docs[0], docs[2]], f"bodies differ: {bodies}")
        svc = bodies[0]
        expect(svc["spec"]["ports"][0]["targetPort"] == "8080", "quoted 8080 became a number")
        expect(svc["spec"]["ports"][0]["port"] == 80, "port 80 is not a number")
        expect(svc["metadata"]["labels"]["tier"] == "1", "quoted label lost its quotes")
        expect(svc["spec"]["publishNotReadyAddresses"] is False, "false is not a boolean")
        expect(svc["spec"]["healthCheckNodePort"] is None, "null is not null")
        expect(svc["spec"]["ratio"] == 0.5, "0.5 is not a float")
        for q in self.srv.requests:
            expect(q["headers"].get("Content-Type") == "application/json",
                   f"Content-Type {q['headers'].get('Content-Type')}")
        expect(r.stdout == "service/web created\nendpoints/web created\n"
               "endpointslice.discovery.k8s.io/web-abc12 created\n", f"stdout {r.stdout!r}")

    def apply_again_says_configured(self):
        f = self.write("m.yaml", MANIFEST)
        r = self.run("apply", "-f", f)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(r.stdout.splitlines()[0] == "service/web configured", f"stdout {r.stdout!r}")

    def apply_reads_a_directory_in_name_order_with_json_and_lists(self):
        self.reset()
        d = os.path.join(self.tmp, "dir")
        self.write("dir/b.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n")
        self.write("dir/a.json", json.dumps({"apiVersion": "v1", "kind": "Service",
                                             "metadata": {"name": "a", "namespace": "x"}}))
        self.write("dir/c.yaml", "apiVersion: v1\nkind: List\nitems:\n"
                   "- {apiVersion: v1, kind: Service, metadata: {name: c1}}\n"
                   "- {apiVersion: v1, kind: Service, metadata: {name: c2}}\n")
        self.write("dir/README.md", "not a manifest: [\n")
        r = self.run("apply", "-f", d)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        paths = [q["path"].rsplit("/", 3)[-3] + "/" + q["path"].rsplit("/", 1)[1]
                 for q in self.srv.requests]
        expect(paths == ["x/a", "default/b", "default/c1", "default/c2"], f"order {paths}")

    def apply_reads_standard_input(self):
        self.reset()
        r = self.run("apply", "-f", "-",
                     stdin='{"apiVersion":"v1","kind":"Service","metadata":{"name":"in"}}')
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[0]["path"] == "/api/v1/namespaces/default/services/in",
               "wrong path")

    def apply_namespace_flag_places_objects_without_one(self):
        self.reset()
        f = self.write("ns.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
        r = self.run("apply", "-n", "shop", "-f", f)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[0]["path"] == "/api/v1/namespaces/shop/services/s",
               f"path {self.srv.requests[0]['path']}")

    def apply_refusal_prints_the_status_message_continues_and_exits_1(self):
        self.reset()
        f = self.write("r.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: refused}\n"
                       "---\napiVersion: v1\nkind: Service\nmetadata: {name: fine}\n")
        r = self.run("apply", "-f", f)
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect("Error from server (Invalid)" in r.stderr, f"stderr {r.stderr!r}")
        expect("spec.ports[0].port: Invalid value: 0: must be between 1 and 65535" in r.stderr,
               f"stderr {r.stderr!r}")
        expect("r.yaml, document 1" in r.stderr, f"origin missing: {r.stderr!r}")
        expect(len(self.srv.requests) == 2, "the second object was not sent")
        expect(r.stdout == "service/fine created\n", f"stdout {r.stdout!r}")

    def apply_bad_yaml_names_the_file_and_line_and_sends_nothing(self):
        self.reset()
        f = self.write("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: [x\n")
        r = self.run("apply", "-f", f)
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect(f + ": document 1, line " in r.stderr, f"stderr {r.stderr!r}")
        expect(self.srv.requests == [], "something was sent")

    def apply_unsupported_kind_is_reported_and_the_rest_sent(self):
        self.reset()
        f = self.write("k.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
                       "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
        r = self.run("apply", "-f", f)
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect("k.yaml, document 1: kind Deployment is not served" in r.stderr,
               f"stderr {r.stderr!r}")
        expect(len(self.srv.requests) == 1, "the Service was not sent")

    def apply_missing_file_is_an_error_naming_it(self):
        r = self.run("apply", "-f", "/nonexistent/x.yaml")
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect("/nonexistent/x.yaml: No such file or directory" in r.stderr, r.stderr)

    # ---- get ----

    def preload(self):
        self.reset()
        st = self.srv.store
        st[("services", "default", "web")] = {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web",
                                                                "namespace": "default"},
            "spec": {"type": "LoadBalancer", "clusterIP": "198.18.3.10", "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080,
                                "protocol": "TCP"},
                               {"name": "https", "port": 443, "targetPort": 8443,
                                "nodePort": 31443, "protocol": "TCP"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "198.18.0.100"}]}}}
        st[("services", "default", "pending")] = {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "pending",
                                                                "namespace": "default"},
            "spec": {"type": "LoadBalancer", "clusterIP": "198.18.3.11",
                     "ports": [{"port": 53, "protocol": "UDP", "nodePort": 30053}]},
            "status": {"loadBalancer": {}}}
        st[("services", "shop", "cart")] = {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart",
                                                                "namespace": "shop"},
            "spec": {"type": "ClusterIP", "clusterIP": "198.18.3.12",
                     "externalIPs": ["198.18.0.20"], "ports": [{"port": 8080}]}}
        st[("endpoints", "default", "web")] = {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web",
                                                                  "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "198.18.2.11"}, {"ip": "198.18.2.12"},
                                       {"ip": "198.18.2.14"}, {"ip": "198.18.2.15"}],
                         "notReadyAddresses": [{"ip": "198.18.2.16"}],
                         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}
        st[("endpointslices", "default", "web-abc12")] = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abc12", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["198.18.2.13"],
                           "conditions": {"ready": False, "serving": True,
                                          "terminating": True}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}

    def get_services_prints_a_kubectl_table(self):
        self.preload()
        r = self.run("get", "services")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[-1]["path"] == "/api/v1/namespaces/default/services", "path")
        want = ("NAME      TYPE           CLUSTER-IP    EXTERNAL-IP    PORT(S)\n"
                "pending   LoadBalancer   198.18.3.11   <pending>      53:30053/UDP\n"
                "web       LoadBalancer   198.18.3.10   198.18.0.100   "
                "80:30080/TCP,443:31443/TCP\n")
        expect(r.stdout == want, f"table:\n{r.stdout}")

    def get_services_all_namespaces_adds_the_namespace_column(self):
        self.preload()
        r = self.run("get", "svc", "-A", "-o", "wide")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[-1]["path"] == "/api/v1/services", "path")
        lines = r.stdout.splitlines()
        expect(lines[0].split() == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
                                    "PORT(S)", "SELECTOR"], lines[0])
        row = [l.split() for l in lines if " cart " in l][0]
        expect(row == ["shop", "cart", "ClusterIP", "198.18.3.12", "198.18.0.20", "8080/TCP",
                       "<none>"], f"row {row}")

    def get_endpoints_lists_three_then_counts(self):
        self.preload()
        r = self.run("get", "ep")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(r.stdout.splitlines()[1] == "web    198.18.2.11:8080,198.18.2.12:8080,"
               "198.18.2.14:8080 + 1 more...", f"table:\n{r.stdout}")

    def get_endpointslices_prints_address_type_ports_endpoints(self):
        self.preload()
        r = self.run("get", "endpointslices")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(r.stdout == "NAME        ADDRESSTYPE   PORTS   ENDPOINTS\n"
               "web-abc12   IPv4          8080    198.18.2.13\n", f"table:\n{r.stdout}")

    def get_one_service_as_json_is_the_server_object(self):
        self.preload()
        r = self.run("get", "service", "web", "-o", "json")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(json.loads(r.stdout) == self.srv.store[("services", "default", "web")],
               "JSON differs")
        expect(r.stdout.startswith('{\n    "apiVersion": "v1",'), "not pretty-printed")

    def get_list_as_yaml_reads_back_as_the_list(self):
        self.preload()
        r = self.run("get", "svc", "-n", "shop", "-o", "yaml")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        if yaml:
            got = yaml.safe_load(r.stdout)
            expect(got["kind"] == "ServiceList", "kind")
            expect(got["items"] == [self.srv.store[("services", "shop", "cart")]], "items")
        expect("kind: ServiceList" in r.stdout, r.stdout)

    def get_missing_service_is_not_found_and_exits_1(self):
        self.preload()
        r = self.run("get", "service", "nope")
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect(r.stderr.startswith("Error from server (NotFound): "), r.stderr)

    def get_empty_namespace_says_no_resources(self):
        self.preload()
        r = self.run("get", "svc", "-n", "empty")
        expect(r.returncode == 0, f"exit {r.returncode}")
        expect(r.stderr == "No resources found in empty namespace.\n", r.stderr)

    def get_decodes_a_chunked_answer(self):
        self.preload()
        self.srv.store[("services", "chunked", "c")] = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "c", "namespace": "chunked"},
            "spec": {"clusterIP": "198.18.3.99", "ports": [{"port": 1}]}}
        r = self.run("get", "svc", "-n", "chunked", "-o", "name")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(r.stdout == "service/c\n", r.stdout)

    def get_conns_prints_flows(self):
        r = self.run("get", "conns", "--limit", "10")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.conns_query == "limit=10", f"query {self.srv.conns_query}")
        lines = r.stdout.splitlines()
        expect(lines[0].split() == ["CLIENT", "FRONTEND", "BACKEND", "PROTO", "STATE", "AGE",
                                    "IDLE"], lines[0])
        expect(lines[1].split() == ["198.18.0.10:40001", "198.18.0.100:80", "198.18.2.11:8080",
                                    "TCP", "ESTABLISHED", "2m5s", "3s"], lines[1])

    # ---- stats, describe ----

    def stats_summarises_the_metrics(self):
        r = self.run("stats")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        out = r.stdout
        expect(re.search(r"^  ext\s+rx\s+1200$", out, re.M), out)
        expect(re.search(r"^  no_service\s+7$", out, re.M), out)
        expect(re.search(r"^  src_range\s+3$", out, re.M), out)
        expect("bad_checksum" not in out, "a zero drop reason was listed")
        expect(re.search(r"^Flows active:\s+12$", out, re.M), out)
        expect(re.search(r"^Snapshot generation:\s+17$", out, re.M), out)
        expect(re.search(r"^  default/web:http\s+40$", out, re.M), out)

    def describe_shows_ports_allocations_endpoints_and_flows(self):
        self.preload()
        r = self.run("describe", "service", "default/web")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        out = r.stdout
        for pat in [r"^Name:\s+web$", r"^Type:\s+LoadBalancer$", r"^IP:\s+198.18.3.10$",
                    r"^LoadBalancer Ingress:\s+198.18.0.100$", r"^Port:\s+http  80/TCP$",
                    r"^TargetPort:\s+8080/TCP$", r"^NodePort:\s+http  30080/TCP$",
                    r"^Flows created:\s+40$",
                    r"^  198.18.2.11\s+http:8080/TCP\s+true\s+true\s+false\s+endpoints/web\s+5$",
                    r"^  198.18.2.16\s+http:8080/TCP\s+false\s+false\s+false\s+endpoints/web\s+0$",
                    r"^  198.18.2.13\s+http:8080/TCP\s+false\s+true\s+true\s+"
                    r"endpointslice/web-abc12\s+0$"]:
            expect(re.search(pat, out, re.M), f"no line /{pat}/ in:\n{out}")

    def describe_takes_endpoints_from_slices_without_an_endpoints_object(self):
        self.preload()
        st = self.srv.store
        st[("services", "shop", "sliced")] = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "sliced", "namespace": "shop"},
            "spec": {"type": "ClusterIP", "clusterIP": "198.18.3.30",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
        st[("endpointslices", "shop", "sliced-x1")] = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "sliced-x1", "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "sliced"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["198.18.2.31"]},
                          {"addresses": ["198.18.2.32"], "conditions": {"ready": False}}],
            "ports": [{"name": "http", "port": 8080}]}
        r = self.run("describe", "service", "sliced", "-n", "shop")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(re.search(r"^Endpoints:\s+198.18.2.31:8080$", r.stdout, re.M), r.stdout)
        expect(re.search(r"^  198.18.2.32\s+http:8080/TCP\s+false\s+false\s+false\s+"
                         r"endpointslice/sliced-x1", r.stdout, re.M), r.stdout)

    # ---- delete ----

    def delete_file_sends_delete_in_reverse_kind_order(self):
        self.reset()
        f = self.write("m.yaml", MANIFEST)
        self.run("apply", "-f", f)
        self.srv.requests.clear()
        r = self.run("delete", "-f", f)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        got = [(q["method"], q["path"].split("/")[-2]) for q in self.srv.requests]
        expect(got == [("DELETE", "endpointslices"), ("DELETE", "endpoints"),
                       ("DELETE", "services")], f"requests {got}")
        expect(r.stdout.splitlines()[-1] == "service/web deleted", r.stdout)
        expect(self.srv.store == {}, "objects left")

    def delete_by_kind_and_name(self):
        self.preload()
        r = self.run("delete", "svc", "cart", "-n", "shop")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[-1]["method"] == "DELETE" and
               self.srv.requests[-1]["path"] == "/api/v1/namespaces/shop/services/cart", "request")
        expect(r.stdout == "service/cart deleted\n", r.stdout)

    def delete_missing_object_exits_1_unless_ignored(self):
        self.preload()
        r = self.run("delete", "service/nope")
        expect(r.returncode == 1 and "(NotFound)" in r.stderr, f"{r.returncode} {r.stderr}")
        r = self.run("delete", "service/nope", "--ignore-not-found")
        expect(r.returncode == 0 and r.stderr == "", f"{r.returncode} {r.stderr}")

    # ---- connection, auth, usage ----

    def token_file_sends_a_bearer_token(self):
        self.preload()
        self.srv.token = "s3cret"
        tf = self.write("token", "s3cret\n")
        r = self.run("--token-file", tf, "get", "svc")
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect(self.srv.requests[-1]["headers"].get("Authorization") == "Bearer s3cret",
               "no Authorization header")
        r = self.run("get", "svc")
        expect(r.returncode == 1 and "(Unauthorized)" in r.stderr, f"{r.returncode} {r.stderr}")
        self.srv.token = None

    def server_from_the_environment(self):
        self.preload()
        r = self.run("get", "svc", "-o", "name", server=False, env={"EDGELB_SERVER": self.url})
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        expect("service/web" in r.stdout, r.stdout)

    def server_down_says_connection_refused(self):
        port = free_port()
        r = self.run("--server", f"http://127.0.0.1:{port}", "get", "svc", server=False)
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect(r.stderr == f"error: cannot connect to http://127.0.0.1:{port}: "
               "Connection refused\n", r.stderr)

    def silent_server_times_out(self):
        with socket.socket() as s:  # accepts connections (backlog), never answers
            s.bind(("127.0.0.1", 0))
            s.listen(4)
            url = "http://127.0.0.1:%d" % s.getsockname()[1]
            t0 = time.monotonic()
            r = self.run("--server", url, "--timeout", "1", "stats", server=False)
            took = time.monotonic() - t0
        expect(r.returncode == 1, f"exit {r.returncode}")
        expect("no answer from" in r.stderr, r.stderr)
        expect(took < 10, f"took {took:.1f} s")

    def ipv6_server_is_reached(self):
        try:
            srv6 = start_fake("::1")
        except OSError as e:
            raise AssertionError(f"no IPv6 loopback: {e}")
        try:
            srv6.store[("services", "default", "v6")] = {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "v6", "namespace": "default"}}
            url = "http://[::1]:%d" % srv6.server_address[1]
            r = self.run("--server", url, "get", "svc", "-o", "name", server=False)
            expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            expect(r.stdout == "service/v6\n", r.stdout)
            expect(srv6.requests[0]["headers"].get("Host") == "[::1]:%d" % srv6.server_address[1],
                   "Host header")
        finally:
            srv6.shutdown()
            srv6.server_close()

    def usage_errors_exit_2(self):
        for args in (["frobnicate"], ["get"], ["get", "pods"], ["get", "svc", "-o", "xml"],
                     ["apply"], ["stats", "--bogus"], ["apply", "-f", "x", "-A"],
                     ["--server", "https://127.0.0.1:1", "stats"]):
            r = self.run(*args)
            expect(r.returncode == 2, f"{args}: exit {r.returncode}")
            expect(r.stderr.startswith("error: "), f"{args}: {r.stderr!r}")

    def help_per_command_exits_0(self):
        for cmd in ("apply", "delete", "get", "describe", "stats"):
            r = self.run(cmd, "--help")
            expect(r.returncode == 0 and r.stdout.startswith("Usage: edgelbctl " + cmd),
                   f"{cmd}: {r.returncode} {r.stdout[:40]!r}")
        r = self.run("version")
        expect(r.returncode == 0 and r.stdout.startswith("edgelbctl "), r.stdout)

    # ---- the real edgelb ----

    def live(self):
        name = "live edgelb"
        if not self.edgelb or not os.access(self.edgelb, os.X_OK):
            return self.c.skip(name, "no edgelb binary given")
        port = free_port()
        state = os.path.join(self.tmp, "state")
        os.makedirs(state)
        prefix = "ctltest%d" % os.getpid()
        cfg = self.write("edgelb.yaml", f"""eal: ["--no-huge", "-m", "512", "--no-shconf",
      "--no-pci", "-l", "0-1", "--file-prefix", "{prefix}",
      "--vdev", "net_null0", "--vdev", "net_null1"]
workers: [1]
idle_sleep_us: 100
interfaces:
  - name: ext
    device: "net_null0"
    addresses: ["198.18.0.1/24"]
  - name: int
    device: "net_null1"
    addresses: ["198.18.2.1/24"]
snat: {{addresses: ["198.18.2.1"]}}
loadbalancer: {{pools: ["198.18.0.100-198.18.0.150"]}}
api: {{listen: "127.0.0.1:{port}"}}
state_dir: "{state}"
""")
        log = open(os.path.join(self.tmp, "edgelb.log"), "w+")
        proc = subprocess.Popen([self.edgelb, "--config", cfg, "--duration", "120"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            up = False
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    h = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    h.request("GET", "/healthz")
                    h.getresponse().read()
                    h.close()
                    up = True
                    break
                except OSError:
                    time.sleep(0.3)
            if not up:
                log.seek(0)
                tail = log.read()[-300:].strip().replace("\n", " | ")
                return self.c.skip(name, "edgelb does not serve the API on its api.listen "
                                   f"address (yet): {tail or 'no output'}")
            self.live_commands(f"http://127.0.0.1:{port}")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()

    def live_commands(self, url):
        examples = os.path.join(SRCDIR, "config", "examples")
        if not any(n.endswith((".yaml", ".yml", ".json")) for n in os.listdir(examples)):
            examples = os.path.join(SRCDIR, "tests", "packet", "manifests")

        def ctl(*args):
            return self.run("--server", url, *args, server=False)

        names = []

        def apply():
            r = ctl("apply", "-f", examples)
            expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            for line in r.stdout.splitlines():
                m = re.match(r"^service/(\S+) (created|configured)$", line)
                if m:
                    names.append(m.group(1))
            expect(names, f"no service applied: {r.stdout!r}")

        def get():
            r = ctl("get", "services", "-A")
            expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            listed = {l.split()[1] for l in r.stdout.splitlines()[1:]}
            expect(set(names) <= listed, f"{names} not all in:\n{r.stdout}")

        def describe():
            r = ctl("get", "services", "-A", "-o", "json")
            svc = json.loads(r.stdout)["items"][0]
            ref = svc["metadata"].get("namespace", "default") + "/" + svc["metadata"]["name"]
            r = ctl("describe", "service", ref)
            expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            expect(re.search(r"^Name:\s+" + re.escape(svc["metadata"]["name"]) + "$",
                             r.stdout, re.M), r.stdout)
            expect("Backends:" in r.stdout, r.stdout)

        def delete():
            r = ctl("delete", "-f", examples)
            expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            r = ctl("get", "services", "-A", "-o", "name")
            expect(r.returncode == 0 and r.stdout == "", f"left: {r.stdout!r}")

        self.c.case("live: apply -f " + os.path.relpath(examples, SRCDIR), apply)
        self.c.case("live: get services -A", get)
        self.c.case("live: describe service", describe)
        self.c.case("live: delete -f", delete)

    def main(self):
        cases = [
            self.apply_puts_services_first_with_bodies_equal_to_the_documents,
            self.apply_again_says_configured,
            self.apply_reads_a_directory_in_name_order_with_json_and_lists,
            self.apply_reads_standard_input,
            self.apply_namespace_flag_places_objects_without_one,
            self.apply_refusal_prints_the_status_message_continues_and_exits_1,
            self.apply_bad_yaml_names_the_file_and_line_and_sends_nothing,
            self.apply_unsupported_kind_is_reported_and_the_rest_sent,
            self.apply_missing_file_is_an_error_naming_it,
            self.get_services_prints_a_kubectl_table,
            self.get_services_all_namespaces_adds_the_namespace_column,
            self.get_endpoints_lists_three_then_counts,
            self.get_endpointslices_prints_address_type_ports_endpoints,
            self.get_one_service_as_json_is_the_server_object,
            self.get_list_as_yaml_reads_back_as_the_list,
            self.get_missing_service_is_not_found_and_exits_1,
            self.get_empty_namespace_says_no_resources,
            self.get_decodes_a_chunked_answer,
            self.get_conns_prints_flows,
            self.stats_summarises_the_metrics,
            self.describe_shows_ports_allocations_endpoints_and_flows,
            self.describe_takes_endpoints_from_slices_without_an_endpoints_object,
            self.delete_file_sends_delete_in_reverse_kind_order,
            self.delete_by_kind_and_name,
            self.delete_missing_object_exits_1_unless_ignored,
            self.token_file_sends_a_bearer_token,
            self.server_from_the_environment,
            self.server_down_says_connection_refused,
            self.silent_server_times_out,
            self.ipv6_server_is_reached,
            self.usage_errors_exit_2,
            self.help_per_command_exits_0,
        ]
        try:
            for fn in cases:
                self.c.case(fn.__name__.replace("_", " "), fn)
            self.live()
        finally:
            self.srv.shutdown()
            self.srv.server_close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        print(f"{self.c.passed} passed, {self.c.failed} failed, {self.c.skipped} skipped")
        return 1 if self.c.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        sys.exit(2)
    sys.exit(Suite(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None).main())
