#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bad input to the real edgelb binary, and the API's security settings.

edgelb runs as in test_api.py (EAL --no-huge, net_null ports, a temporary
state_dir, a free loopback port). Every refused request is checked for its
answer (HTTP code, and the Status reason and field when edgelb answers with
one) and for leaving the state as it was: every List and the snapshot
generation are the same before and after.

- REST bodies: invalid YAML and JSON, wrong types, unknown kinds, bad names,
  deep nesting, a YAML alias bomb, invalid UTF-8, NUL bytes, empty and
  multi-document bodies; unknown fields are accepted and dropped, as the
  Kubernetes API server does.
- HTTP: a garbage request line, header floods, a body announced or sent
  beyond the cap (plain and chunked), a bad Content-Length, no Content-Type.
- Clients: one that sends its headers a byte at a time does not delay the
  others; one address holding api.max_connections_per_ip connections gets
  no more (the next is closed unanswered) while other addresses are served,
  and is served again once it lets go; more clients (from several loopback
  addresses) than the connection cap are turned away and served again once
  the idle ones time out.
- Security: the bearer token is never written to stdout/stderr; TLS
  (api.tls_cert, api.tls_key) serves HTTPS only, and a missing or
  mismatched key stops the start with a message that names the key and
  holds no secret; the listen address decides where the API answers.
- Config files: a bad file stops edgelb with "FILE:LINE: KEY: ..." and a
  non-zero exit status (every key and value is covered by the unit suite).
- valgrind: `edgelb --check` over the examples, and a running edgelb serving
  changes and refusals, are free of memory errors and definite leaks.

Usage: test_badinput.py PATH/TO/edgelb
Prints one line "N passed, M failed"; exit status 1 when anything failed.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elbtest  # noqa: E402
import test_api as base  # noqa: E402  (its Edgelb runner and state functions)
from elbtest import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
EXAMPLES = os.path.join(ROOT, "config", "examples")
TOKEN = "Tok3n-never-logged-4f1c9a"
MAX_CONNS = 64        # API_MAX_CONNS_DEFAULT
PER_IP = 32           # EL_CFG_API_CONNS_PER_IP: default of api.max_connections_per_ip
CONN_TIMEOUT = 10     # API_CONN_TIMEOUT_DEFAULT, seconds

class Edgelb(base.Edgelb):
    """test_api's runner with extra api keys, an optional wrapper command
    (valgrind) and HTTPS."""

    def __init__(self, binary, work, name, api_extra="", listen=None, wrapper=None,
                 cafile=None, token=None):
        super().__init__(binary, work, name, token=token)
        self.wrapper = wrapper or []
        self.cafile = cafile
        self.host = "127.0.0.1"
        with open(self.config) as f:
            text = f.read()
        if listen is not None:
            text = text.replace('listen: "127.0.0.1:%d"' % self.port, 'listen: "%s"' % listen)
            host, port = listen.rsplit(":", 1)
            self.host, self.port = host.strip("[]"), int(port)
        if api_extra:
            text = text.replace("api: {", "api: {%s, " % api_extra)
        with open(self.config, "w") as f:
            f.write(text)

    def start(self):
        self.proc = elbtest.spawn(self.wrapper + [self.binary, "--config", self.config],
                                  self.log_path)
        return elbtest.wait_ready(self.proc,
                                  lambda: self.request("GET", "/healthz", auth=False)[0] == 200,
                                  120 if self.wrapper else 30, 0.2,
                                  (OSError, http.client.HTTPException))

    def full_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def conn(self, timeout=15):
        if self.cafile:
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, ctype=None, auth=True, token=None,
                headers=None):
        """(code, headers, text) of one request."""
        c = self.conn()
        try:
            h = dict(headers or {})
            if ctype:
                h["Content-Type"] = ctype
            tok = token if token is not None else (self.token if auth else None)
            if tok:
                h["Authorization"] = "Bearer " + tok
            data = body.encode() if isinstance(body, str) else body
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, r.headers, r.read().decode(errors="replace")
        finally:
            c.close()

    def raw(self, data, timeout=10):
        """Send raw bytes, read until the server closes (or the timeout)."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        out = b""
        try:
            s.sendall(data)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            pass
        finally:
            s.close()
        return out


def alive(e):
    try:
        return e.request("GET", "/healthz", auth=False)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


# ---- REST bodies ----------------------------------------------------------------

WEB = base.object_path("Service", "default", "web")
GOOD = ("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
        "spec: {type: NodePort, ports: [{port: 80, targetPort: 8080}]}\n")


def alias_bomb():
    """Nine levels of nine aliases: 9^9 nodes when expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 9)))
    return "\n".join(lines) + "\n" + GOOD


# (what, method, path, body, content type, code, reason, field)
BODY_CASES = [
    ("YAML syntax error", "PUT", WEB, "apiVersion: v1\nkind: [Service\n", "application/yaml",
     400, "BadRequest", None),
    ("truncated JSON", "PUT", WEB, '{"apiVersion": "v1", "kind": "Serv', "application/json",
     400, "BadRequest", None),
    ("JSON array instead of an object", "PUT", WEB, "[1, 2]", "application/json",
     400, "BadRequest", None),
    ("JSON with trailing garbage", "PUT", WEB,
     '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}} x',
     "application/json", 400, "BadRequest", None),
    ("a bare scalar", "PUT", WEB, "hello", "application/yaml", 400, "BadRequest", None),
    ("empty body", "PUT", WEB, "", "application/yaml", 400, "BadRequest", None),
    ("two documents", "PUT", WEB, GOOD + "---\n" + GOOD, "application/yaml",
     400, "BadRequest", None),
    ("unknown kind Pod", "PUT", WEB, GOOD.replace("kind: Service", "kind: Pod"),
     "application/yaml", 400, "BadRequest", None),
    ("unknown apiVersion v2", "PUT", WEB, GOOD.replace("apiVersion: v1", "apiVersion: v2"),
     "application/yaml", 400, "BadRequest", None),
    ("a Service sent to the endpoints URL", "PUT",
     base.object_path("Endpoints", "default", "web"), GOOD, "application/yaml",
     400, "BadRequest", None),
    ("ports as a string", "PUT", WEB,
     GOOD.replace("ports: [{port: 80, targetPort: 8080}]", "ports: eighty"),
     "application/yaml", 422, "Invalid", "spec.ports"),
    ("port as a word", "PUT", WEB, GOOD.replace("port: 80,", "port: eighty,"),
     "application/yaml", 422, "Invalid", "spec.ports[0].port"),
    ("port beyond 64 bits", "PUT", WEB,
     GOOD.replace("port: 80,", "port: 99999999999999999999999,"), "application/yaml",
     422, "Invalid", "spec.ports[0].port"),
    ("negative port", "PUT", WEB, GOOD.replace("port: 80,", "port: -80,"),
     "application/yaml", 422, "Invalid", "spec.ports[0].port"),
    ("port tagged !!str", "PUT", WEB, GOOD.replace("port: 80,", "port: !!str 80,"),
     "application/yaml", 422, "Invalid", "spec.ports[0].port"),
    ("unknown Service type", "PUT", WEB, GOOD.replace("NodePort", "Foo"),
     "application/yaml", 422, "Invalid", "spec.type"),
    ("name as a list", "PUT", WEB, GOOD.replace("name: web,", "name: [web],"),
     "application/yaml", 422, "Invalid", "metadata.name"),
    ("upper-case name", "PUT", base.object_path("Service", "default", "WEB"),
     GOOD.replace("name: web", "name: WEB"), "application/yaml", 422, "Invalid",
     "metadata.name"),
    ("namespace other than the URL's", "PUT", WEB,
     GOOD.replace("namespace: default", "namespace: other"), "application/yaml",
     422, "Invalid", "metadata.namespace"),
    ("name longer than 253", "PUT", base.object_path("Service", "default", "a" * 300), GOOD,
     "application/yaml", 404, "NotFound", None),
    ("YAML nested 5000 deep", "PUT", WEB, "a: " + "[" * 5000, "application/yaml",
     400, "BadRequest", None),
    ("JSON nested 5000 deep", "PUT", WEB, '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
     "application/json", 400, "BadRequest", None),
    ("YAML alias bomb (9^9 nodes)", "PUT", WEB, alias_bomb(), "application/yaml",
     422, "Invalid", None),
    ("one alias inside the object", "PUT", WEB,
     GOOD.replace("targetPort: 8080", "targetPort: &p 8080, nodePort: *p"),
     "application/yaml", 422, "Invalid", None),
    ("invalid UTF-8", "PUT", WEB, GOOD.encode().replace(b"web,", b"w\xffb,"),
     "application/yaml", 400, "BadRequest", None),
    ("a NUL byte", "PUT", WEB, GOOD.encode().replace(b"web,", b"w\x00b,"),
     "application/yaml", 400, "BadRequest", None),
    ("method PATCH", "PATCH", WEB, GOOD, "application/yaml", 405, "MethodNotAllowed", None),
    ("Content-Type text/plain", "PUT", WEB, GOOD, "text/plain",
     415, "UnsupportedMediaType", None),
    ("POST without metadata.name", "POST", "/api/v1/namespaces/default/services",
     GOOD.replace("name: web, ", ""), "application/yaml", 422, "Invalid", "metadata.name"),
]


def refused(e, what, method, path, body, ctype, code, reason, field=None, headers=None):
    before = base.snapshot_state(e)
    t = time.time()
    try:
        got, _, text = e.request(method, path, body, ctype, headers=headers)
    except (OSError, http.client.HTTPException) as ex:
        got, text = -1, "%s: %s" % (type(ex).__name__, ex)
    took = time.time() - t
    ok = got == code and base.is_status(text, code, reason)
    if ok and field:
        st = json.loads(text)
        causes = st.get("details", {}).get("causes", [])
        ok = any(c.get("field") == field for c in causes)
    check("%s: %d %s%s" % (what, code, reason, " naming " + field if field else ""), ok,
          "%d %s" % (got, text[:300]))
    check("%s: answered in %.2f s" % (what, took), took < 5)
    check("%s: nothing changed" % what, base.snapshot_state(e) == before)


def check_bodies(e):
    for case in BODY_CASES:
        refused(e, *case)
    refused(e, "body of 2 MiB", "PUT", WEB, GOOD + "#" + "x" * (2 << 20) + "\n",
            "application/yaml", 413, "RequestEntityTooLarge")

    # Unknown fields are dropped, as the API server does without strict
    # field validation: accepted, and GET does not show them.
    before = base.snapshot_state(e)
    body = GOOD.replace("spec: {", "spec: {frobnicate: 1, ") + "extra: {a: b}\n"
    code, _, text = e.request("PUT", WEB, body, "application/yaml")
    check("unknown fields are accepted", code in (200, 201), "%d %s" % (code, text[:300]))
    code, _, text = e.request("GET", WEB)
    check("... and dropped", code == 200 and "frobnicate" not in text and "extra" not in text,
          text[:300])
    code, _, _ = e.request("DELETE", WEB)
    after = base.snapshot_state(e)
    before.pop("generation")
    after.pop("generation")
    check("... and deleting it leaves the Lists as before", code == 200 and after == before)


# ---- HTTP -----------------------------------------------------------------------

def check_http(e):
    put = b"PUT " + WEB.encode() + b" HTTP/1.1\r\nHost: x\r\n"
    cases = [
        ("garbage request line", b"GARBAGE\r\n\r\n", (b"", b"HTTP/1.1 400")),
        ("a request line without a version", b"GET /healthz\r\n\r\n", (b"HTTP/1.1 400",)),
        ("a 200 kB header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 200000 +
         b"\r\n\r\n", (b"HTTP/1.1 431",)),
        ("20000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 +
         b"\r\n", (b"HTTP/1.1 431",)),
        ("a body of 65 MiB announced", put + b"Content-Type: application/yaml\r\n"
         b"Content-Length: 68157440\r\n\r\nabc", (b"HTTP/1.1 413",)),
        ("Content-Length beyond 64 bits", put + b"Content-Type: application/yaml\r\n"
         b"Content-Length: 99999999999999999999999\r\n\r\nabc", (b"HTTP/1.1 413",)),
        ("a negative Content-Length", put + b"Content-Type: application/yaml\r\n"
         b"Content-Length: -5\r\n\r\nabc", (b"HTTP/1.1 400",)),
        ("no Content-Type", put + b"Content-Length: 3\r\n\r\nabc", (b"HTTP/1.1 415",)),
        ("2 MiB announced with Expect: 100-continue (answered before the body)",
         put + b"Content-Type: application/yaml\r\nContent-Length: 2097152\r\n"
         b"Expect: 100-continue\r\n\r\n", (b"HTTP/1.1 413",)),
    ]
    for what, data, answers in cases:
        before = base.snapshot_state(e)
        out = e.raw(data)
        check("%s: answered %s" % (what, " or ".join(a.decode() or "by closing"
                                                    for a in answers)),
              any(out.startswith(a) if a else out == b"" for a in answers), out[:120])
        check("%s: nothing changed, still serving" % what,
              alive(e) and base.snapshot_state(e) == before)

    # A chunked body that never ends: read and dropped up to 64 MiB, then
    # the connection is closed.
    before = base.snapshot_state(e)
    s = socket.create_connection((e.host, e.port), timeout=20)
    s.sendall(put + b"Content-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % 65536 + b"#" * 65536 + b"\r\n"
    sent = 0
    t = time.time()
    try:
        while sent < (96 << 20):
            s.sendall(chunk)
            sent += 65536
    except OSError:
        pass
    s.close()
    check("endless chunked body: the connection is closed (after %d MiB, %.1f s)" %
          (sent >> 20, time.time() - t), sent < (96 << 20))
    check("endless chunked body: nothing changed, still serving",
          alive(e) and base.snapshot_state(e) == before)


# ---- clients ----------------------------------------------------------------------

def check_slow_client(e):
    slow = socket.create_connection((e.host, e.port), timeout=30)
    req = b"GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 20 + b"\r\n\r\n"
    stop = threading.Event()

    def trickle():
        for c in req[:-2]:
            if stop.is_set():
                return
            try:
                slow.send(bytes([c]))
            except OSError:
                return
            time.sleep(0.2)

    th = threading.Thread(target=trickle)
    th.start()
    worst, codes = 0.0, set()
    for _ in range(15):
        t = time.time()
        code, _, _ = e.request("GET", "/api/v1/services")
        worst = max(worst, time.time() - t)
        codes.add(code)
        time.sleep(0.2)
    stop.set()
    th.join()
    slow.close()
    check("a client sending its headers byte by byte does not hold up the others "
          "(slowest answer %.3f s)" % worst, worst < 1.0 and codes == {200}, str(codes))


def connect_from(e, src, timeout=5):
    """A TCP connection to the API from loopback address @src."""
    return socket.create_connection((e.host, e.port), timeout=timeout, source_address=(src, 0))


def get_from(e, src, path="/healthz"):
    """HTTP status of GET @path from loopback address @src; None when the
    connection is closed or reset without an answer."""
    c = http.client.HTTPConnection(e.host, e.port, timeout=5, source_address=(src, 0))
    try:
        c.request("GET", path)
        return c.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def closed_unanswered(s):
    """Send a request on @s: True when the server closes or resets it
    without a byte of answer."""
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        return s.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except OSError:
        return False


def check_per_address_limit(e):
    before = base.snapshot_state(e)
    held = [connect_from(e, "127.0.0.1") for _ in range(PER_IP)]
    time.sleep(0.5)  # edgelb accepts them in its next poll rounds
    extra = connect_from(e, "127.0.0.1")
    check("with %d connections held from 127.0.0.1, one more from it is closed unanswered"
          % PER_IP, closed_unanswered(extra))
    extra.close()
    code = get_from(e, "127.0.0.2")
    check("meanwhile another address (127.0.0.2) is served", code == 200, str(code))
    ok = True
    for s in held[:4]:
        ok = not closed_unanswered(s) and ok  # held connections still answer
    check("the held connections themselves are served", ok)
    for s in held:
        s.close()
    time.sleep(0.5)
    code = get_from(e, "127.0.0.1")
    check("once they are closed 127.0.0.1 is served again", code == 200, str(code))
    check("the per-address limit changed no state", base.snapshot_state(e) == before)


def check_connection_cap(e):
    # From several addresses, each below the per-address limit, so it is the
    # cap on all connections that turns the last client away.
    socks = []
    for i in range(MAX_CONNS + 16):
        try:
            socks.append(connect_from(e, "127.0.0.%d" % (2 + i % 3)))
        except OSError:
            break
    time.sleep(0.5)
    code = get_from(e, "127.0.0.9")
    check("with %d idle connections open, one more client is turned away" % len(socks),
          code is None, "answered %s" % code)
    t = time.time()
    served = False
    while time.time() - t < CONN_TIMEOUT + 8 and not served:
        time.sleep(1)
        served = alive(e)
    check("idle connections time out and the API serves again (after %.0f s)" %
          (time.time() - t), served and time.time() - t < CONN_TIMEOUT + 8)
    for s in socks:
        s.close()
    check("edgelb still runs after the connection flood", e.proc.poll() is None)


# ---- security -----------------------------------------------------------------------

def check_token_never_logged(binary, work):
    e = Edgelb(binary, work, "token", token=TOKEN)
    try:
        if not check("edgelb with a token file starts", e.start(), e.log()):
            return
        svc = ("apiVersion: v1\nkind: Service\nmetadata: {name: t}\n"
               "spec: {ports: [{port: 80}]}\n")
        path = base.object_path("Service", "default", "t")
        probes = [
            ("GET", "/api/v1/services", None, None, TOKEN),
            ("GET", "/api/v1/services", None, None, TOKEN + "x"),
            ("GET", "/api/v1/services", None, None, TOKEN[:-1]),
            ("GET", "/api/v1/services?token=" + TOKEN, None, None, "wrong"),
            ("GET", "/" + TOKEN, None, None, TOKEN),
            ("PUT", path, svc, "application/yaml", TOKEN),
            ("PUT", path, svc.replace("port: 80", "port: " + TOKEN), "application/yaml", TOKEN),
            ("DELETE", path, None, None, TOKEN),
        ]
        codes = [e.request(m, p, b, ct, token=tok)[0] for m, p, b, ct, tok in probes]
        check("requests with the token, wrong tokens and the token in URLs and bodies are "
              "answered", codes == [200, 401, 401, 401, 404, 201, 422, 200], str(codes))
        e.stop()
        log = e.full_log()
        check("the token appears nowhere in edgelb's stdout/stderr",
              TOKEN not in log and TOKEN[:12] not in log, log[-2000:])
    finally:
        e.stop(signal.SIGKILL)


def make_cert(work, name, cn="edgelb-test"):
    key, cert = os.path.join(work, name + ".key"), os.path.join(work, name + ".crt")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=" + cn, "-addext",
                        "subjectAltName=IP:127.0.0.1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    return (cert, key) if r.returncode == 0 else (None, None)


def start_fails(binary, work, name, api_extra, want):
    e = Edgelb(binary, work, name, api_extra=api_extra)
    e.start()
    try:
        rc = e.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    e.stop(signal.SIGKILL)
    log = e.full_log()
    return e, rc, log, rc not in (None, 0) and rc > 0 and want in log


def check_tls(binary, work):
    if shutil.which("openssl") is None:
        check("openssl is installed (make deps)", False)
        return
    cert, key = make_cert(work, "api")
    other_cert, other_key = make_cert(work, "other", cn="other")
    if not check("a test certificate is made", cert is not None):
        return
    with open(key) as f:
        key_pem = f.read()
    key_body = "".join(key_pem.strip().splitlines()[1:-1])[:40]
    e = Edgelb(binary, work, "tls", api_extra='tls_cert: "%s", tls_key: "%s"' % (cert, key),
               cafile=cert, token=TOKEN)
    try:
        if not check("edgelb with api.tls_cert and api.tls_key starts", e.start(), e.log()):
            return
        code, _, text = e.request("GET", "/healthz", auth=False)
        check("HTTPS /healthz answers, verified against the certificate",
              code == 200 and text == "ok", "%d %s" % (code, text))
        code, _, _ = e.request("PUT", base.object_path("Service", "default", "s"),
                               "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
                               "spec: {ports: [{port: 80}]}\n", "application/yaml")
        check("HTTPS with the bearer token: a PUT is stored", code == 201, str(code))
        code, _, _ = e.request("GET", "/api/v1/services", auth=False)
        check("HTTPS without the token: 401", code == 401, str(code))
        out = e.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        check("plain HTTP to the TLS port gets no HTTP answer", not out.startswith(b"HTTP/"),
              out[:80])
        ctx = ssl.create_default_context(cafile=other_cert)
        try:
            c = http.client.HTTPSConnection("127.0.0.1", e.port, timeout=10, context=ctx)
            c.request("GET", "/healthz")
            c.getresponse().read()
            fooled = True
        except (ssl.SSLError, OSError):
            fooled = False
        check("a client trusting another certificate refuses the server", not fooled)
        check("edgelb reports HTTPS at start", "serving HTTPS" in e.full_log(), e.log())
        e.stop()
        log = e.full_log()
        check("neither the key nor the token appears in stdout/stderr",
              key_body not in log and TOKEN not in log, log[-1500:])
    finally:
        e.stop(signal.SIGKILL)

    _, rc, log, ok = start_fails(binary, work, "tls-mismatch",
                                 'tls_cert: "%s", tls_key: "%s"' % (cert, other_key),
                                 "api.tls_cert")
    check("a key that does not match the certificate stops the start, naming api.tls_cert",
          ok, "rc %s: %s" % (rc, log[-800:]))
    with open(other_key) as f:
        other_body = "".join(f.read().strip().splitlines()[1:-1])[:40]
    check("... without printing the key", other_body not in log)
    _, rc, log, ok = start_fails(binary, work, "tls-nokey",
                                 'tls_cert: "%s", tls_key: "%s"' %
                                 (cert, os.path.join(work, "missing.key")), "api.tls_key")
    check("a missing key file stops the start, naming api.tls_key", ok,
          "rc %s: %s" % (rc, log[-800:]))
    _, rc, log, ok = start_fails(binary, work, "tls-half", 'tls_cert: "%s"' % cert,
                                 "api.tls_key: required with api.tls_cert")
    check("a certificate without a key is a config error", ok, "rc %s: %s" % (rc, log[-800:]))


def check_listen(binary, work):
    port = base.free_port()
    e = Edgelb(binary, work, "listen2", listen="127.0.0.2:%d" % port)
    try:
        if not check("edgelb with api.listen 127.0.0.2 starts", e.start(), e.log()):
            return
        check("the API answers on 127.0.0.2", alive(e))
        s = socket.socket()
        s.settimeout(3)
        refused_here = s.connect_ex(("127.0.0.1", port)) != 0
        s.close()
        check("... and not on 127.0.0.1", refused_here)
    finally:
        e.stop(signal.SIGKILL)
    if not socket.has_ipv6:
        return
    port = base.free_port()
    e = Edgelb(binary, work, "listen6", listen="[::1]:%d" % port)
    try:
        check("edgelb with api.listen [::1] serves over IPv6", e.start() and alive(e), e.log())
    finally:
        e.stop(signal.SIGKILL)


# ---- config files -------------------------------------------------------------------

def check_bad_configs(binary, work):
    iface = ('interfaces:\n  - {name: ext, device: "net_null0", addresses: ["198.18.0.1/24"]}\n')
    cases = [
        ("unknown key", iface + "idle_sleep: 5\n", ":3: idle_sleep: "),
        ("YAML alias", "a: &x 1\n" + iface, ":1: "),
        ("bad listen address", iface + 'api: {listen: "localhost:1"}\n', ":3: api.listen: "),
        ("TLS certificate without key", iface + "api: {tls_cert: c.pem}\n", ":3: api.tls_key: "),
        ("not YAML", "\x00\x01\x02", "bad.yaml"),
        ("empty file", "", ":1: "),
    ]
    for what, text, where in cases:
        path = os.path.join(work, "bad.yaml")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([binary, "--config", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = r.stdout.decode(errors="replace")
        check("config with %s: refused with %s..." % (what, where),
              r.returncode > 0 and (path + where in out or where in out), "%d %s" %
              (r.returncode, out[-400:]))


# ---- valgrind -----------------------------------------------------------------------

# Definite leaks count as errors; EAL's threads, never joined, leave
# "possibly lost" stacks, which are neither shown nor counted.
VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "--quiet"]


def built_with_asan(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def check_valgrind(binary, work):
    if built_with_asan(binary):
        print("skip  valgrind: this edgelb is built with AddressSanitizer, which valgrind "
              "cannot run (the release build runs this part)")
        return
    if shutil.which("valgrind") is None:
        check("valgrind is installed (make deps)", False)
        return
    cfg = os.path.join(work, "check.yaml")
    with open(cfg, "w") as f:
        f.write('interfaces:\n'
                '  - {name: ext, device: "net_null0", addresses: ["198.18.0.1/24"]}\n'
                '  - {name: int, device: "net_null1", addresses: ["198.18.2.1/24"]}\n'
                'snat: {addresses: ["198.18.2.1"]}\n'
                'loadbalancer: {pools: ["198.18.0.100-198.18.0.150"]}\n'
                'manifests: ["%s"]\nstate_dir: "%s"\n' % (EXAMPLES, os.path.join(work, "vgc")))
    r = subprocess.run(VALGRIND + [binary, "--config", cfg, "--check"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    out = r.stdout.decode(errors="replace")
    check("valgrind: edgelb --check over the examples is clean", r.returncode == 0,
          "%d %s" % (r.returncode, out[-2000:]))

    e = Edgelb(binary, work, "valgrind", wrapper=VALGRIND)
    try:
        if not check("valgrind: edgelb starts under valgrind", e.start(), e.log()):
            return
        docs = base.example_documents()
        codes = [e.request("PUT", base.object_path(k, ns, n), d, "application/yaml")[0]
                 for _, k, ns, n, d in docs]
        check("valgrind: every example is stored", set(codes) == {201}, str(codes))
        for case in BODY_CASES[:12] + BODY_CASES[20:24]:
            what, method, path, body, ctype, code = case[:6]
            got = e.request(method, path, body, ctype)[0]
            check("valgrind: %s is refused with %d" % (what, code), got == code, str(got))
        got = [e.request("GET", p)[0] for p in ("/api/v1/services", "/metrics",
                                               "/api/v1/conns?limit=5")]
        got += [e.request("DELETE", base.object_path(k, ns, n))[0] for _, k, ns, n, _ in docs]
        check("valgrind: Lists, metrics, conns and DELETEs answer", set(got) == {200}, str(got))
        rc = e.stop()
        log = e.full_log()
        check("valgrind: no memory error and no definite leak in the running appliance "
              "(exit status %s)" % rc, rc == 0 and "== " not in log.split("---- start")[-1],
              log[-3000:])
    finally:
        e.stop(signal.SIGKILL)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="edgelb-bad-")
    e = Edgelb(binary, work, "main")
    try:
        if check("edgelb starts", e.start(), e.log()):
            docs = base.example_documents()
            codes = [e.request("PUT", base.object_path(k, ns, n), d, "application/yaml")[0]
                     for _, k, ns, n, d in docs]
            check("the examples are stored (the state the refusals must keep)",
                  set(codes) == {201}, str(codes))
            check_bodies(e)
            check_http(e)
            check_slow_client(e)
            check_per_address_limit(e)
            check_connection_cap(e)
            check("edgelb survived the catalogue", e.proc.poll() is None)
        e.stop(signal.SIGKILL)
        check_token_never_logged(binary, work)
        check_tls(binary, work)
        check_listen(binary, work)
        check_bad_configs(binary, work)
        check_valgrind(binary, work)
    finally:
        e.stop(signal.SIGKILL)
        if elbtest.failed:
            print("---- edgelb log (tail)\n" + e.log())
        shutil.rmtree(work, ignore_errors=True)
    return elbtest.summary()


if __name__ == "__main__":
    sys.exit(main())
