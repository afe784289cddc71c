#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Crash consistency of the durable state: kill -9 during a stream of changes.

edgelb runs (EAL --no-huge, two net_null ports that receive nothing) with a
state_dir that persists across every round. In each of 20 rounds a client
sends a stream of changes as fast as the API answers them: PUTs that create
or replace NodePort and LoadBalancer Services and Endpoints, and DELETEs,
chosen at random from a small set of names so objects are replaced and
deleted again and again. After a random delay edgelb is killed with
SIGKILL, mid-stream, and started again. Then:

- edgelb starts on the state it left (the state loads; no file is skipped
  as damaged);
- every change that was acknowledged (a 2xx answer) is there: each object
  holds the version of its last acknowledged PUT, or is absent after an
  acknowledged DELETE. The one change in flight at the kill may or may not
  have been applied: either outcome is accepted, nothing else;
- allocations survive: a Service keeps the nodePort and LoadBalancer
  ingress address it was acknowledged with.

The client model (what was acknowledged) carries over between rounds, so a
later round also checks what earlier rounds stored.

Usage: test_crash.py PATH/TO/edgelb [ROUNDS]
Prints one line "N passed, M failed"; exit status 1 when anything failed.
"""
import http.client
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elbtest  # noqa: E402
from elbtest import check, free_port  # noqa: E402,F401

ROUNDS = 20
NAMES = ["svc-%d" % i for i in range(12)]
LB_NAMES = ["lb-%d" % i for i in range(4)]
POOL = ("198.18.0.100", "198.18.0.150")

class Edgelb:
    def __init__(self, binary, work):
        self.binary = binary
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(work, "edgelb.log")
        self.config = os.path.join(work, "edgelb.yaml")
        self.state = os.path.join(work, "state")
        with open(self.config, "w") as f:
            f.write("\n".join([
                'eal: ["-l", "0-1", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",'
                ' "--file-prefix", "edgelb-crash-%d", "--log-level", "lib.eal:warning"]'
                % os.getpid(),
                "workers: [1]",
                "idle_sleep_us: 500",
                "interfaces:",
                '  - {name: ext, device: "net_null0,no-rx=1", addresses: ["198.18.0.1/24"]}',
                '  - {name: int, device: "net_null1,no-rx=1", addresses: ["198.18.2.1/24"]}',
                'snat: {addresses: ["198.18.2.1"]}',
                'loadbalancer: {pools: ["%s-%s"]}' % POOL,
                "conntrack: {max_flows: 4096}",
                'api: {listen: "127.0.0.1:%d"}' % self.port,
                'state_dir: "%s"' % self.state,
            ]) + "\n")

    def start(self):
        self.proc = elbtest.spawn([self.binary, "--config", self.config], self.log_path)
        return elbtest.wait_ready(self.proc, lambda: self.request("GET", "/healthz")[0] == 200,
                                  30, 0.1)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            return self.proc.wait()
        return None

    def request(self, method, path, body=None, timeout=10):
        """(code, text); raises OSError when the connection fails."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def log_tail(self, n=3000):
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def last_start_log(self):
        try:
            with open(self.log_path) as f:
                return f.read().rsplit("---- start\n", 1)[-1]
        except OSError:
            return ""


# ---- the change stream ------------------------------------------------------

def svc_path(name):
    return "/api/v1/namespaces/default/services/" + name


def eps_path(name):
    return "/api/v1/namespaces/default/endpoints/" + name


def service(name, version, lb):
    port = 1000 + version % 60000
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default",
                         "labels": {"edgelb-test/version": str(version)}},
            "spec": {"type": "LoadBalancer" if lb else "NodePort",
                     "ports": [{"name": "p", "protocol": "TCP", "port": port,
                                "targetPort": 8080}]}}


def endpoints(name, version):
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": "default",
                         "labels": {"edgelb-test/version": str(version)}},
            "subsets": [{"addresses": [{"ip": "198.18.2.%d" % (10 + version % 200)}],
                         "ports": [{"name": "p", "port": 8080, "protocol": "TCP"}]}]}


class Model:
    """What the client knows was stored. For each object: the acknowledged
    version (None = absent) and, while a change is in flight or was cut by
    the crash, the version it would leave."""

    def __init__(self):
        self.acked = {}      # path -> version or None
        self.pending = {}    # path -> version or None (outcome unknown)
        self.alloc = {}      # service path -> (nodePort, ingress ip) acknowledged
        self.version = 0
        self.n_acked = 0

    def allowed(self, path):
        out = {self.acked.get(path)}
        if path in self.pending:
            out.add(self.pending[path])
        return out


def version_of(text):
    try:
        obj = json.loads(text)
        return int(obj["metadata"]["labels"]["edgelb-test/version"])
    except (ValueError, KeyError, TypeError):
        return "unreadable"


def allocation_of(obj):
    ports = obj.get("spec", {}).get("ports", [])
    node_port = ports[0].get("nodePort") if ports else None
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress", [])
    return node_port, ingress[0].get("ip") if ingress else None


def stream(e, model, rng, stop, errors):
    """Send changes until the connection fails (edgelb was killed)."""
    while not stop.is_set():
        model.version += 1
        v = model.version
        r = rng.random()
        name = rng.choice(NAMES + LB_NAMES)
        if r < 0.15:
            path = svc_path(name) if rng.random() < 0.6 else eps_path(name)
            method, body, want = "DELETE", None, None
        elif r < 0.45:
            path, method, want = eps_path(name), "PUT", v
            body = json.dumps(endpoints(name, v))
        else:
            path, method, want = svc_path(name), "PUT", v
            body = json.dumps(service(name, v, name in LB_NAMES))
        model.pending[path] = want
        try:
            code, text = e.request(method, path, body)
        except (OSError, http.client.HTTPException):
            return  # killed: this change stays pending
        del model.pending[path]
        if method == "DELETE" and code == 404:
            continue
        if code not in (200, 201):
            errors.append("%s %s: %d %s" % (method, path, code, text[:200]))
            continue
        model.acked[path] = want
        model.n_acked += 1
        if method == "PUT" and path.startswith(svc_path("")):
            model.alloc[path] = allocation_of(json.loads(text))
        elif method == "DELETE":
            model.alloc.pop(path, None)


def verify(e, model, rnd):
    """Compare what edgelb serves with the model; resolve the pending ones."""
    bad = []
    for name in NAMES + LB_NAMES:
        for path in (svc_path(name), eps_path(name)):
            code, text = e.request("GET", path)
            got = None if code == 404 else version_of(text) if code == 200 else "code %d" % code
            allowed = model.allowed(path)
            if got not in allowed:
                bad.append("%s: holds version %s, acknowledged %s" %
                           (path, got, sorted(allowed, key=str)))
                continue
            model.acked[path] = got
            model.pending.pop(path, None)
            if path.startswith(svc_path("")):
                if got is None:
                    model.alloc.pop(path, None)
                    continue
                alloc = allocation_of(json.loads(text))
                want = model.alloc.get(path)
                if want is not None and alloc != want:
                    bad.append("%s: allocation %s, acknowledged %s" % (path, alloc, want))
                model.alloc[path] = alloc
    check("round %d: every acknowledged change is served after the restart" % rnd,
          not bad, "\n  ".join([""] + bad))


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) == 3 else ROUNDS
    seed = int(os.environ.get("EDGELB_CRASH_SEED", str(int(time.time()))))
    print("seed %d (EDGELB_CRASH_SEED reproduces the stream)" % seed)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="edgelb-crash-")
    e = Edgelb(binary, work)
    model = Model()
    try:
        if not check("edgelb starts with an empty state_dir", e.start(), e.log_tail()):
            return 1
        for rnd in range(1, rounds + 1):
            stop = threading.Event()
            errors = []
            acked_before = model.n_acked
            t = threading.Thread(target=stream, args=(e, model, rng, stop, errors))
            t.start()
            time.sleep(rng.uniform(0.3, 1.2))
            rc = e.kill()
            stop.set()
            t.join(timeout=30)
            check("round %d: kill -9 mid-stream (%d changes acknowledged, %d in flight)" %
                  (rnd, model.n_acked - acked_before, len(model.pending)),
                  rc == -signal.SIGKILL and not t.is_alive() and not errors,
                  "rc %s, errors %s" % (rc, errors[:3]))
            if not check("round %d: edgelb starts on the state it left" % rnd, e.start(),
                         e.log_tail()):
                return 1
            log = e.last_start_log()
            m = re.search(r"\((\d+) skipped\)", log)
            check("round %d: no stored object is skipped as damaged" % rnd,
                  m is None or m.group(1) == "0", log[-1500:])
            verify(e, model, rnd)
        code, text = e.request("GET", "/api/v1/services")
        check("the final state lists as a ServiceList",
              code == 200 and json.loads(text)["kind"] == "ServiceList")
    finally:
        e.kill()
        if elbtest.failed:
            print("---- edgelb log (tail)\n" + e.log_tail())
        shutil.rmtree(work, ignore_errors=True)
    return elbtest.summary()


if __name__ == "__main__":
    sys.exit(main())
