#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/)
from the project's own examples: the reference and test configs, the
example manifests, REST requests made of them, and the input frames of the
packet fixtures (tests/packet/fixtures.py and fixtures6.py, which need
scapy: run this with /usr/bin/python3) and a few packet sequences of its own
for the dual-stack appliance.

Seeds are small on purpose: libFuzzer mutates them, and every build replays
them. Files whose names start with "regress-" are inputs that once found a
bug; this script never touches them.

Usage: seeds.py [TARGET...]  (from anywhere; writes next to itself; every
target when none is named). Seeds of a target are rewritten as a whole:
files other than "regress-*" in its directory are removed first.
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


# Bits of a packet record's length field (tests/fuzz/fuzz_packet.c).
PKT_LEN_DUAL = 0x2000  # first record: the dual-stack appliance (edgelb6.yaml);
PKT_LEN_FLUSH = 0x2000  # later records: control flushes the UDP backends
PKT_LEN_CSUM = 0x4000  # the harness writes correct checksums into the frame
PKT_LEN_SPLIT = 0x8000  # the frame arrives as two chained segments


def pkt_record(frame, iface=0, worker=0, v=0, csum=True, split=False, dual=False,
               flush=False):
    """One record of a packet input: control byte, length field, frame.
    @dual belongs to a first record, @flush to a later one (the same bit)."""
    lenf = len(frame) | (PKT_LEN_CSUM if csum else 0) | (PKT_LEN_SPLIT if split else 0) | \
        (PKT_LEN_DUAL if dual else 0) | (PKT_LEN_FLUSH if flush else 0)
    return struct.pack(">BH", (v << 2) | (worker << 1) | iface, lenf) + bytes(frame)


def clock_v(secs):
    """The largest v with v*v <= @secs (the record's clock step), at most 63."""
    v = 0
    while (v + 1) * (v + 1) <= secs and v < 63:
        v += 1
    return v


def fixture_seeds(script, prefix, dual):
    """Every fixture of @script (fixtures.py or fixtures6.py) as one input:
    its input frames in order on worker 0, the clock advanced as between its
    steps, checksums written by the harness (they are right already, except
    where a fixture spoils one on purpose). A frame that depends on the pod
    Maglev picks is sent once from each pod: one of them hits the flow."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "fixtures.txt")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "packet", script),
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
                    v = clock_v(max(0, (now - t - 1) // 1000))
                    t = now
                    recs.append([v, None])
                elif w[0] == "in":
                    split = any(x.startswith("seg=") for x in w[2:])
                    frames = [b"" if x == "-" else bytes.fromhex(x) for x in w[2:]
                              if not x.startswith("@") and not x.startswith("seg=")]
                    recs[-1][1] = (int(w[1]), frames, split)
                elif w[0] == "end" and "_cut_at_" in name:
                    continue  # every prefix of a frame: the fuzzer cuts frames itself
                elif w[0] == "end":
                    data = b""
                    for v, inp in recs:
                        if inp is None:
                            continue
                        iface, frames, split = inp
                        for k, frame in enumerate(frames):
                            data += pkt_record(frame, iface, v=v if k == 0 else 0,
                                               split=split, dual=dual and not data)
                    if data:
                        write("packet", prefix + name, data)


def ipv6_seeds():
    """Inputs for the dual-stack appliance that no single fixture plays:
    both workers, hand-offs, both families at once, expiry, neighbour
    discovery racing the first packet, ICMPv6 errors quoting chains."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "packet"))
    import fixtures6 as f6
    from scapy.all import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                           IPv6ExtHdrRouting, ICMPv6DestUnreach, ICMPv6EchoRequest,
                           ICMPv6PacketTooBig, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, Ether, IP,
                           TCP, UDP, Raw, RouterAlert, PadN)

    EXT, INT = f6.EXT, f6.INT
    w1_port = 1024 + (65535 - 1024 + 1) // 2  # first SNAT port of worker 1

    def seq(name, recs):
        data = b""
        for r in recs:
            frame, kw = r if isinstance(r, tuple) else (r, {})
            data += pkt_record(bytes(frame), dual=not data, **kw)
        write("packet", "ipv6-" + name, data)

    def from_pods(make, **kw):
        return [(f6.from_pod(p, make(p)), dict(iface=INT, **kw)) for p in f6.PODS]

    # a NodePort flow opened on worker 0, its replies arriving at worker 1
    # (handed off by SNAT port), client data back on worker 0, FIN both ways
    s = f6.syn(f6.NODE, f6.WEB_NODEPORT)
    seq("nodeport-handoff-fin", [f6.from_client(s)] +
        from_pods(lambda p: f6.tcp(p, f6.SNAT, 8080, 1024, "SA", 5000, 1001), worker=1) +
        [f6.from_client(f6.tcp(f6.CLIENT, f6.NODE, 40000, f6.WEB_NODEPORT, "A", 1001, 5001)),
         f6.from_client(f6.tcp(f6.CLIENT, f6.NODE, 40000, f6.WEB_NODEPORT, "FA", 1001,
                               5001))] +
        from_pods(lambda p: f6.tcp(p, f6.SNAT, 8080, 1024, "FA", 5001, 1002), worker=1) +
        [f6.from_client(f6.tcp(f6.CLIENT, f6.NODE, 40000, f6.WEB_NODEPORT, "A", 1002,
                               5002))])

    # a flow on each worker, a Packet Too Big for each arriving at the other
    pod = "2001:db8:2::11"
    s0 = f6.syn(f6.CIP, 80, sport=40000)
    s1 = f6.syn(f6.CIP, 80, sport=40001)
    fwd0 = f6.nat(s0, src=f6.SNAT, dst=pod, sport=1024, dport=8080)
    fwd1 = f6.nat(s1, src=f6.SNAT, dst=pod, sport=w1_port, dport=8080)
    seq("ptb-across-workers", [
        f6.from_client(s0), (f6.from_client(s1), dict(worker=1)),
        (f6.from_pod(pod, IPv6(src=pod, dst=f6.SNAT) / ICMPv6PacketTooBig(mtu=1280) /
                     Raw(bytes(fwd0))), dict(iface=INT, worker=1)),
        (f6.from_pod(pod, IPv6(src=pod, dst=f6.SNAT) / ICMPv6DestUnreach(code=1) /
                     Raw(bytes(fwd1))), dict(iface=INT)),
        (f6.from_pod(pod, f6.tcp(pod, f6.SNAT, 8080, w1_port, "SA", 1, 1001)),
         dict(iface=INT))])

    # IPv4 and IPv6 clients of the dual-stack Service, and the UDP service,
    # interleaved; then 30 s of silence (past the SYN and UDP timeouts)
    # before the replies come
    c4 = "198.18.100.7"
    syn4 = IP(src=c4, dst="198.18.3.60", ttl=64) / TCP(sport=40000, dport=80, flags="S")
    q6 = f6.udp(f6.CLIENT, f6.DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)
    seq("dual-family-then-expiry", [
        f6.from_client(f6.syn(f6.DUAL, 80)),
        Ether(src=f6.MAC_GW, dst=f6.MAC_EXT) / syn4,
        f6.from_client(q6),
        (f6.from_pod("2001:db8:2::12", f6.tcp("2001:db8:2::12", f6.SNAT, 8080, 1024, "SA", 1,
                                              1001)), dict(iface=INT, v=6)),
        (f6.from_pod(pod, f6.udp(pod, f6.SNAT, 5353, 1025, b"\x12\x34\x81\x80")),
         dict(iface=INT)),
        f6.from_client(q6)])

    # the first SYN to a backend left to ND queued on worker 0; the pod's
    # NA arrives at worker 1, which tells worker 0
    ndpod = "2001:db8:2::14"
    seq("nd-answer-at-other-worker", [
        f6.from_client(f6.syn(f6.NDSVC, 80)),
        (f6.na(f6.POD_MAC[ndpod], ndpod, f6.MAC_INT, f6.SNAT), dict(iface=INT, worker=1)),
        (f6.from_pod(ndpod, f6.tcp(ndpod, f6.SNAT, 8080, 1024, "SA", 1, 1001)),
         dict(iface=INT))])

    # an unsolicited NA with a changed MAC for a static pod, a DAD probe
    # for the SNAT address from a pod, an NS without options
    seq("nd-unsolicited-and-dad", [
        (Ether(src="02:00:00:00:02:99", dst="33:33:00:00:00:01") /
         IPv6(src=pod, dst="ff02::1", hlim=255) / ICMPv6ND_NA(R=0, S=0, O=1, tgt=pod) /
         ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:02:99"), dict(iface=INT)),
        (f6.ns(f6.POD_MAC[pod], "::", f6.SNAT, f6.MAC_INT, slla=False), dict(iface=INT)),
        (f6.ns(f6.POD_MAC[pod], pod, f6.SNAT, f6.MAC_INT, slla=False), dict(iface=INT)),
        f6.from_client(f6.syn(f6.CIP, 80))])

    # extension-header chains: all four kinds with options, the longest
    # chain walked, an echo behind a chain; an ICMPv6 error quoting a
    # packet with a chain and a non-first fragment
    chain = IPv6ExtHdrHopByHop(options=[RouterAlert(), PadN(optdata=b"\0" * 2)]) / \
        IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 12)]) / \
        IPv6ExtHdrRouting(segleft=0) / IPv6ExtHdrFragment(id=0x1234)
    s = f6.syn(f6.LB, 80, src=f6.NEAR, ext=chain)
    fwd = f6.nat(s, src=f6.SNAT, dst="2001:db8:2::13", sport=1024, dport=8080)
    seq("ext-chains", [
        f6.from_client(s, f6.MAC_NEAR),
        f6.from_client(IPv6(src=f6.CLIENT, dst=f6.NODE) / chain /
                       ICMPv6EchoRequest(id=1, seq=1, data=b"x" * 40)),
        f6.from_client(f6.syn(f6.CIP, 80, ext=f6.dest_opts(8))),
        (f6.from_pod("2001:db8:2::13", IPv6(src="2001:db8:2::13", dst=f6.SNAT) /
                     ICMPv6PacketTooBig(mtu=1300) / Raw(bytes(fwd))), dict(iface=INT)),
        (f6.from_pod(pod, IPv6(src=pod, dst=f6.SNAT) / ICMPv6DestUnreach(code=4) /
                     Raw(bytes(IPv6(src=f6.SNAT, dst=pod) /
                                IPv6ExtHdrFragment(offset=3, nh=6, id=9) /
                                Raw(b"\0" * 16)))), dict(iface=INT))])

    # an affinity client across both workers and 11 s later (timeout 10 s)
    seq("affinity-both-workers", [
        f6.from_client(f6.syn(f6.STICKY, 80, sport=41000)),
        (f6.from_client(f6.syn(f6.STICKY, 80, sport=41001)), dict(worker=1)),
        (f6.from_client(f6.syn(f6.STICKY, 80, sport=41002)), dict(v=3, worker=1)),
        f6.from_client(f6.syn(f6.STICKY, 80, sport=41003))])

    # a connection closed by FIN both ways (TIME_WAIT), the client port
    # reused by a new SYN, then reset (CLOSE) and reused again
    pod = "2001:db8:2::11"
    c = lambda flags, sq, ak: f6.from_client(f6.tcp(f6.CLIENT, f6.CIP, 40000, 80, flags, sq, ak))
    b = lambda flags, sq, ak: (f6.from_pod(pod, f6.tcp(pod, f6.SNAT, 8080, 1024, flags, sq, ak)),
                               dict(iface=INT))
    seq("port-reuse-after-close", [
        f6.from_client(f6.syn(f6.CIP, 80)), b("SA", 5000, 1001), c("A", 1001, 5001),
        c("FA", 1001, 5001), b("FA", 5001, 1002), c("A", 1002, 5002),
        f6.from_client(f6.syn(f6.CIP, 80, seq=9000)), b("SA", 7000, 9001),
        c("R", 9001, 0), f6.from_client(f6.syn(f6.CIP, 80, seq=12000))])

    # a Packet Too Big quoting a flow that went idle past its timeout
    s = f6.syn(f6.CIP, 80)
    fwd = f6.nat(s, src=f6.SNAT, dst=pod, sport=1024, dport=8080)
    seq("icmp6-error-after-expiry", [
        f6.from_client(s),
        (f6.from_pod(pod, IPv6(src=pod, dst=f6.SNAT) / ICMPv6PacketTooBig(mtu=1280) /
                     Raw(bytes(fwd))), dict(iface=INT, v=12))])

    # the ND backend: learned, its entry stale after five minutes, probed
    # three times unanswered, then resolved from scratch; nine SYNs wait
    # for it at once (one more than an entry holds); an NA with Override
    # clear may not change its MAC, one with Override set does
    ndsyn = lambda port, **kw: (f6.from_client(f6.syn(f6.NDSVC, 80, sport=port)), kw)
    seq("nd-stale-probes-and-queue", [
        (f6.ns(f6.POD_MAC[ndpod], ndpod, f6.SNAT, f6.MAC_INT), dict(iface=INT)),
        ndsyn(41000), ndsyn(41001, v=18), ndsyn(41002, v=1), ndsyn(41003, v=1),
        ndsyn(41004, v=1), ndsyn(41005, v=2)] +
        [ndsyn(42000 + k) for k in range(9)] +
        [(Ether(src=mac, dst=f6.MAC_INT) / IPv6(src=ndpod, dst=f6.SNAT, hlim=255) /
          ICMPv6ND_NA(R=0, S=1, O=o, tgt=ndpod) / ICMPv6NDOptDstLLAddr(lladdr=mac),
          dict(iface=INT))
         for mac, o in (("02:00:00:00:02:77", 1), ("02:00:00:00:02:78", 0))] +
        [ndsyn(43000),
         (Ether(src="02:00:00:00:02:78", dst=f6.MAC_INT) /
          IPv6(src=ndpod, dst=f6.SNAT, hlim=255) / ICMPv6ND_NA(R=0, S=0, O=1, tgt=ndpod) /
          ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:02:78"), dict(iface=INT)),
         ndsyn(43001)])

    # UDP flows on both workers, their backend flushed by control (bit 13
    # of a later record), queries and late answers after it
    q = lambda port: f6.from_client(f6.udp(f6.CLIENT, f6.DNS, port, 53, b"\x12\x34" + b"\0" * 10))
    ans = lambda port, **kw: (f6.from_pod(pod, f6.udp(pod, f6.SNAT, 5353, port, b"\x12\x34")),
                              dict(iface=INT, **kw))
    seq("udp-flush", [q(50000), (q(50001), dict(worker=1)), ans(1024),
                      (q(50000), dict(flush=True)), q(50000), ans(1024), ans(w1_port, worker=1),
                      q(50001), (q(50002), dict(v=1))])

    # worker 1 (16 flows, 4 new flows per second per source): a source's
    # fifth SYN in a second is refused, other sources fill the table
    seq("worker1-limits", [(f6.from_client(f6.syn(f6.CIP, 80, sport=44000 + k)),
                            dict(worker=1)) for k in range(6)] +
        [(f6.from_client(f6.syn(f6.CIP, 80, src="2001:db8:%x::9" % (0x200 + k))),
          dict(worker=1)) for k in range(16)])

    # a reject quoting a large datagram, chained in two segments
    big = f6.udp(f6.CLIENT, f6.EMPTY, 50000, 53, bytes(range(256)) * 8)
    seq("reject-chained", [(f6.from_client(big), dict(split=True)),
                           f6.from_client(f6.syn(f6.EMPTY, 80))])


def packet_seeds():
    clear("packet")
    fixture_seeds("fixtures.py", "", False)
    fixture_seeds("fixtures6.py", "ipv6-", True)
    ipv6_seeds()
    # frames of 0 and 1 bytes on both interfaces, then a frame split over two
    # segments (bit 15 of the length)
    syn = bytes.fromhex("02000000000102000000 00fe0800".replace(" ", ""))
    write("packet", "tiny-and-split-frames",
          struct.pack(">BH", 0, 0) + struct.pack(">BH", 1, 0) + struct.pack(">BH", 0, 1) + b"\x00" +
          struct.pack(">BH", 0, 0x8000 | len(syn)) + syn)
    return 0


def main():
    makers = {"config": config_seeds, "manifest": manifest_seeds, "api": api_seeds,
              "ctl_doc": ctl_doc_seeds, "packet": packet_seeds}
    targets = sys.argv[1:] or list(makers)
    for t in targets:
        if t not in makers:
            sys.stderr.write("unknown target %s (one of %s)\n" % (t, " ".join(makers)))
            return 2
    for t in targets:
        makers[t]()
    for t in sorted(targets):
        print("%-10s %3d seeds" % (t, len(os.listdir(os.path.join(CORPUS, t)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
