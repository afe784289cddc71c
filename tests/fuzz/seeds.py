#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
from the project's own examples: the reference and test configs, the
example manifests, REST requests made of them, and the input frames of the
packet fixtures (tests/packet/fixtures.py, which needs scapy: run this with
/usr/bin/python3).

Seeds are small on purpose: libFuzzer mutates them, and every build replays
them. Files whose names start with "regress-" are inputs that once found a
bug; this script never touches them.

Usage: seeds.py  (from anywhere; writes next to itself)
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clear(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for fn in os.listdir(d):
            if not fn.startswith("regress-"):
                os.remove(os.path.join(d, fn))


def read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def strip_comments(text):
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")) + "\n"


def documents(text):
    return [d.strip() + "\n" for d in re.split(r"^---\s*$", text, flags=re.M)
            if re.search(r"^kind:", d, re.M)]


def example_docs():
    out = []
    for fn in sorted(os.listdir(os.path.join(ROOT, "config", "examples"))):
        if fn.endswith(".yaml"):
            out.append((fn[:-5], read("config", "examples", fn)))
    out.append(("packet-services", read("tests", "packet", "manifests", "services.yaml")))
    return out


def config_seeds():
    clear("config")
    write("config", "reference.yaml", strip_comments(read("config", "edgelb.yaml")))
    write("config", "packet.yaml", strip_comments(read("tests", "packet", "edgelb.yaml")))
    write("config", "minimal.yaml",
          'interfaces: [{name: ext, device: "net_null0", addresses: ["198.18.0.1/24"]}]\n')
    write("config", "flow.yaml",
          '{"eal": ["--no-huge"], "workers": [1], "idle_sleep_us": 5, "interfaces": '
          '[{"name": "a", "device": "net_null0", "addresses": ["2001:db8::1/64"], '
          '"routes": [{"to": "::/0", "via": "2001:db8::fe"}], "neighbors": '
          '[{"ip": "2001:db8::fe", "mac": "02:00:00:00:00:fe"}], "mtu": 1500}], '
          '"snat": {"addresses": ["2001:db8::1"]}, "loadbalancer": {"pools": '
          '["198.18.0.0/30", "2001:db8::100-2001:db8::1ff"]}, "nodeport_range": "1-65535", '
          '"conntrack": {"max_flows": 1024, "timeouts": {"udp": 1, "icmp": 604800}}, '
          '"maglev": {"table_size": 251}, "api": {"listen": "[::1]:0", '
          '"token_file": "t", "tls_cert": "c.pem", "tls_key": "k.pem"}, '
          '"state_dir": "s", "manifests": ["m"]}\n')
    write("config", "alias.yaml", "a: &x [1]\nb: *x\n")
    write("config", "two-docs.yaml", "workers: [1]\n---\nworkers: [2]\n")


def manifest_seeds():
    clear("manifest")
    for name, text in example_docs():
        write("manifest", name + ".yaml", text)
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "j", "namespace": "default", "labels": {"app": "j"}},
           "spec": {"type": "LoadBalancer", "ports": [{"name": "dns", "protocol": "UDP",
                                                       "port": 53, "targetPort": "dns"}],
                    "sessionAffinity": "ClientIP",
                    "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
                    "externalTrafficPolicy": "Cluster",
                    "loadBalancerSourceRanges": ["198.18.0.0/16"]}}
    eps = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "j"},
           "subsets": [{"addresses": [{"ip": "198.18.2.30"}],
                        "notReadyAddresses": [{"ip": "198.18.2.31"}],
                        "ports": [{"name": "dns", "port": 5353, "protocol": "UDP"}]}]}
    write("manifest", "list.json", json.dumps({"apiVersion": "v1", "kind": "List",
                                               "items": [svc, eps]}))
    write("manifest", "terminating-slice.yaml",
          "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
          "metadata: {name: s-1, labels: {kubernetes.io/service-name: s}}\n"
          "addressType: IPv4\nports: [{port: 80}]\nendpoints:\n"
          "  - addresses: [198.18.2.40]\n"
          "    conditions: {ready: false, serving: true, terminating: true}\n")
    write("manifest", "headless.yaml",
          "apiVersion: v1\nkind: Service\nmetadata: {name: h}\n"
          "spec: {clusterIP: None, ports: [{port: 80}]}\n---\n"
          "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
          "spec: {type: ExternalName, externalName: example.org}\n")


def api_seeds():
    clear("api")
    paths = {"Service": "/api/v1/namespaces/%s/services/%s",
             "Endpoints": "/api/v1/namespaces/%s/endpoints/%s",
             "EndpointSlice": "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s"}
    for name, text in example_docs():
        reqs = []
        for doc in documents(text):
            kind = re.search(r"^kind:\s*(\S+)", doc, re.M).group(1)
            meta = re.search(r"^metadata:\s*(\{.*\}|\n(?:[ \t]+.*\n?)*)", doc, re.M).group(1)
            n = re.search(r"name:\s*([\w.-]+)", meta).group(1)
            ns = re.search(r"namespace:\s*([\w-]+)", meta)
            reqs.append("PUT %s\napplication/yaml\n%s" %
                        (paths[kind] % (ns.group(1) if ns else "default", n), doc))
        write("api", name + ".txt", "\n%%\n".join(reqs))
    write("api", "post-get-delete.txt",
          "POST /api/v1/namespaces/team-a/services\napplication/json\n"
          '{"apiVersion":"v1","kind":"Service","metadata":{"name":"p"},'
          '"spec":{"type":"NodePort","ports":[{"port":8080,"nodePort":30099}]}}'
          "\n%%\nGET /api/v1/namespaces/team-a/services/p\n\n"
          "\n%%\nGET /api/v1/services\n\n"
          "\n%%\nDELETE /api/v1/namespaces/team-a/services/p\n\n"
          "\n%%\nDELETE /api/v1/namespaces/default/services/web\n\n")
    write("api", "refusals.txt",
          "PUT /api/v1/namespaces/default/services/web\napplication/json\n{\"kind\": "
          "\n%%\nPUT /api/v1/namespaces/default/services/web\ntext/plain\nx"
          "\n%%\nPUT /api/v1/namespaces/default/services/other\napplication/yaml\n"
          "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 1}]}\n"
          "\n%%\nPUT /api/v1/namespaces/default/endpoints/web\nBearer s3cret-token\n"
          "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
          "subsets: [{addresses: [{ip: 999.1.1.1}]}]\n")


def ctl_doc_seeds():
    clear("ctl_doc")
    for name, text in example_docs()[:4]:
        write("ctl_doc", name + ".yaml", text)
    write("ctl_doc", "scalars.yaml",
          "a: [~, null, yes, No, ON, y, 0x1f, 017, 0b101, 1_000, -0, 1.5e3, .inf, -.Inf, .nan,"
          " '8080', \"x\\ty\", !!str 12, !!int '7', !!float 1, !!bool 'true', !!null '']\n"
          "b: |\n  two\n  lines\n"
          "c: &anchor {k: v}\nd: *anchor\n")
    write("ctl_doc", "answer.json",
          '{"apiVersion":"v1","kind":"ServiceList","metadata":{"resourceVersion":"7"},'
          '"items":[{"metadata":{"name":"a","namespace":"default"},"spec":{"ports":'
          '[{"port":80,"nodePort":30000}]},"status":{"loadBalancer":{"ingress":'
          '[{"ip":"198.18.0.100"}]}}}],"x":"\\u0000\\u00e9\\ud83d\\ude00"}')


def packet_seeds():
    clear("packet")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "fixtures.txt")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "packet", "fixtures.py"),
                        out], check=True, stdout=subprocess.DEVNULL)
        name, recs, t = None, [], 1000
        with open(out) as fh:
            for line in fh:
                w = line.split()
                if not w or w[0] == "#":
                    continue
                if w[0] == "fixture":
                    name, recs, t = w[1], [], 1000
                elif w[0] == "step":
                    now = int(w[1])
                    secs = max(0, (now - t - 1) // 1000)
                    v = 0
                    while (v + 1) * (v + 1) <= secs and v < 63:
                        v += 1
                    t = now
                    recs.append([v, None])
                elif w[0] == "in":
                    frames = [x for x in w[2:] if not x.startswith("@")]
                    recs[-1][1] = (int(w[1]), bytes.fromhex(frames[0]))
                elif w[0] == "end" and "_cut_at_" in name:
                    continue  # every prefix of a frame: the fuzzer cuts frames itself
                elif w[0] == "end":
                    data = b""
                    for v, inp in recs:
                        if inp is None:
                            continue
                        iface, frame = inp
                        data += struct.pack(">BH", (v << 2) | iface, len(frame)) + frame
                    if data:
                        write("packet", name, data)
    # frames of 0 and 1 bytes on both interfaces, then a frame split over two
    # segments (bit 15 of the length)
    syn = bytes.fromhex("02000000000102000000 00fe0800".replace(" ", ""))
    write("packet", "tiny-and-split-frames",
          struct.pack(">BH", 0, 0) + struct.pack(">BH", 1, 0) + struct.pack(">BH", 0, 1) + b"\x00" +
          struct.pack(">BH", 0, 0x8000 | len(syn)) + syn)
    return 0


def main():
    config_seeds()
    manifest_seeds()
    api_seeds()
    ctl_doc_seeds()
    packet_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print("%-10s %3d seeds" % (t, len(os.listdir(os.path.join(CORPUS, t)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
