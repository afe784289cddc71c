#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Packet fixtures: the behaviour of the worker's packet path (DESIGN.md
section 2) as a table of {description, input frame, expected output frames,
verdict}, replayed by run_fixtures.c against a fresh worker per fixture.

Every expected frame is built here with scapy from the fields it should
have; checksums are left for scapy to compute, so a byte-exact match also
checks the worker's incremental checksum updates (RFC 1624).

A fixture is a sequence of steps sharing one worker (flows, affinity and
neighbours carry over between its steps). A step has a time (now_ms), at
most one input frame (none: only housekeeping runs), the frames expected on
each interface, and a verdict checked against the worker's counters:

  forward     nothing dropped, frames sent
  queued      nothing dropped (a packet waits for ARP)
  none        nothing dropped (housekeeping only)
  arp-reply   arp_replies + 1
  echo-reply  icmp_echo_replies + 1
  reject      rejects_sent + 1 (TCP RST or ICMP port unreachable)
  translate   icmp_errors_translated + 1
  drop:LABEL  the drop counter with that Prometheus label + 1, no other
  drop:A+B    the drop counters A and B + 1 each, no other (a packet dropped
              for A and the error about it not sent: icmp_rate_limited)

Backend choice: which pod Maglev picks is not known here, so a frame that
depends on it is given once per pod (an "alternative") with a variable name.
The first frame that matches binds the variable to that pod; later frames
and inputs with the same variable use the bound pod. Variables named g_*
keep their binding across fixtures (a fresh worker's choice for a flow,
reused by a later fixture).

Fields the contract leaves open are excluded from the comparison with
per-frame byte ranges (ign=offset:length), each with a comment saying why;
the runner still checks every IPv4, TCP, UDP and ICMP checksum of every frame
it captures, so ignoring a field never hides a wrong checksum.

Every "drop:" step must also leave the flow table as it was (the runner
compares flows_active and flows_created before and after).

Output format (text, one record a line, hex frames):
  fixture NAME DESCRIPTION
  step NOW_MS VERDICT NOTE
  in IFACE [@VAR] [seg=N] HEX...    (HEX "-": a zero-length frame; seg=N: the
                                     frame arrives as a chain of N-byte mbufs)
  out IFACE [@VAR] [ign=OFF:LEN,...] [badl4] HEX...
                                    (badl4: the TCP/UDP checksum must not verify)
  distinct VAR VAR...      (the bound pods must not all be the same)
  end

Usage: fixtures.py OUTPUT_FILE
"""
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption_Router_Alert, IPv6, Raw

EXT, INT = 0, 1
MAC_EXT = "02:00:00:00:00:01"
MAC_INT = "02:00:00:00:02:01"
MAC_GW = "02:00:00:00:00:fe"
MAC_NEAR = "02:00:00:00:00:05"  # 198.18.0.5: client inside the LB source range
MAC_BCAST = "ff:ff:ff:ff:ff:ff"
MAC_ZERO = "00:00:00:00:00:00"

NODE = "198.18.0.1"
GW = "198.18.0.254"
SNAT = "198.18.2.1"
CLIENT = "198.18.100.7"  # beyond the upstream router
NEAR = "198.18.0.5"
ROUTER = "198.18.100.1"  # a router between edgelb and CLIENT

POD_MAC = {
    "198.18.2.11": "02:00:00:00:02:0b",
    "198.18.2.12": "02:00:00:00:02:0c",
    "198.18.2.13": "02:00:00:00:02:0d",
    "198.18.2.14": "02:00:00:00:02:0e",  # no static neighbour: learned by ARP
}
PODS3 = ["198.18.2.11", "198.18.2.12", "198.18.2.13"]

# Services of manifests/services.yaml
WEB_NODEPORT = 30080  # 3 pods, :8080
CIP = "198.18.3.20"  # ClusterIP :80 -> 198.18.2.11:8080
EXTIP = "198.18.0.20"  # externalIP :443 -> 198.18.2.12:8443
LB = "198.18.0.100"  # LoadBalancer :80 -> 198.18.2.13:8080, ranges 198.18.0.0/28
LB_NODEPORT = 30081
STICKY = "198.18.0.101"  # ClientIP affinity 10 s :80 -> 3 pods :8080
DNS = "198.18.0.102"  # UDP :53 -> 198.18.2.11:5353
EMPTY = "198.18.3.30"  # no endpoints: TCP 80, UDP 53
DRAINING = "198.18.3.40"  # only a terminating endpoint 198.18.2.12:8080
ARPSVC = "198.18.3.50"  # :80 -> 198.18.2.14:8080

SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
            ("WScale", 7)]

# Byte ranges of an Ethernet + IPv4 (no options) frame
ETH = 14
IP_TOS = (ETH + 1, 1)
IP_ID = (ETH + 4, 2)
IP_FLAGS = (ETH + 6, 2)
IP_TTL = (ETH + 8, 1)
IP_CSUM = (ETH + 10, 2)
IP_SRC = (ETH + 12, 4)
L4 = ETH + 20
ICMP_CSUM = (L4 + 2, 2)


class Alt:
    """One frame per pod of @pods; the pod is chosen by variable @var."""

    def __init__(self, var, make, pods=PODS3):
        self.var = var
        self.frames = [bytes(make(p)) for p in pods]


class Out:
    def __init__(self, iface, frame, ignore=(), bad_l4=False):
        self.iface = iface
        self.frame = frame if isinstance(frame, Alt) else bytes(frame)
        self.ignore = list(ignore)
        self.bad_l4 = bad_l4


class Chained(bytes):
    """An input frame that arrives as a chain of @seg-byte mbufs."""

    def __new__(cls, frame, seg):
        b = super().__new__(cls, bytes(frame))
        b.seg = seg
        return b


class Fixture:
    def __init__(self, name, desc):
        self.name = name
        self.desc = desc
        self.steps = []
        self.distinct = []
        self.now = 1000
        self.snat_next = 1024

    def snat_port(self):
        """SNAT ports are handed out in order from 1024 on a fresh worker."""
        p = self.snat_next
        self.snat_next += 1
        return p

    def step(self, verdict, iface=None, frame=None, outs=(), at=None, note=""):
        self.now = at if at is not None else self.now + 1
        if frame is not None and not isinstance(frame, (Alt, Chained)):
            frame = bytes(frame)
        self.steps.append((self.now, verdict, iface, frame, list(outs), note))
        return self


FIXTURES = []


def fixture(name, desc):
    f = Fixture(name, desc)
    FIXTURES.append(f)
    return f


# ---- frame builders ----

def from_client(ip, src_mac=MAC_GW):
    return Ether(src=src_mac, dst=MAC_EXT) / ip


def from_pod(pod, ip):
    return Ether(src=POD_MAC[pod], dst=MAC_INT) / ip


def to_client(ip, dst_mac=MAC_GW):
    return Ether(src=MAC_EXT, dst=dst_mac) / ip


def to_pod(pod, ip):
    return Ether(src=MAC_INT, dst=POD_MAC[pod]) / ip


def syn(dst, dport, sport=40000, src=CLIENT, seq=1000, ipid=0x1234, ttl=64, **ipkw):
    return IP(src=src, dst=dst, ttl=ttl, id=ipid, flags="DF", **ipkw) / TCP(
        sport=sport, dport=dport, seq=seq, flags="S", window=64240, options=SYN_OPTS)


def tcp(src, dst, sport, dport, flags, seq, ack, ipid=0x2000, payload=b"", ttl=64):
    pkt = IP(src=src, dst=dst, ttl=ttl, id=ipid, flags="DF") / TCP(
        sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=502)
    return pkt / Raw(payload) if payload else pkt


def udp(src, dst, sport, dport, payload, ipid=0x3000, chksum=None):
    u = UDP(sport=sport, dport=dport) if chksum is None else UDP(sport=sport, dport=dport,
                                                                   chksum=chksum)
    return IP(src=src, dst=dst, ttl=64, id=ipid) / u / Raw(payload)


def nat(ip, src=None, dst=None, sport=None, dport=None):
    """@ip as forwarded: addresses and ports rewritten, TTL - 1, everything
    else (id, flags, options, payload) kept; checksums recomputed by scapy."""
    out = ip.copy()  # a copy of the layers as built: payload bytes stay raw
    out.ttl -= 1
    if src:
        out.src = src
    if dst:
        out.dst = dst
    l4 = out.payload
    if sport is not None:
        l4.sport = sport
    if dport is not None:
        l4.dport = dport
    del out.chksum
    del out.len
    if isinstance(l4, (TCP, UDP)):
        if not (isinstance(l4, UDP) and l4.chksum == 0):
            del l4.chksum
        if isinstance(l4, UDP):
            del l4.len
    return out


def quote(ip):
    """What an ICMP error carries: the IP header and 8 bytes beyond it."""
    b = bytes(ip)
    return b[:(b[0] & 0xF) * 4 + 8]


def arp_request(sender_mac, sender_ip, target_ip, pad=0):
    f = Ether(src=sender_mac, dst=MAC_BCAST) / ARP(
        op=1, hwsrc=sender_mac, psrc=sender_ip, hwdst=MAC_ZERO, pdst=target_ip)
    return bytes(f) + b"\0" * pad


def arp_reply(our_mac, our_ip, peer_mac, peer_ip):
    return Ether(src=our_mac, dst=peer_mac) / ARP(
        op=2, hwsrc=our_mac, psrc=our_ip, hwdst=peer_mac, pdst=peer_ip)


def ip_csum_fix(frame, hlen=None):
    """Recompute the IPv4 header checksum of a hand-edited frame over @hlen
    bytes (default: the IHL)."""
    b = bytearray(frame)
    ihl = hlen or (b[ETH] & 0xF) * 4
    b[ETH + 10:ETH + 12] = b"\0\0"
    s = 0
    for i in range(ETH, ETH + ihl, 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    c = ~s & 0xFFFF
    b[ETH + 10] = c >> 8
    b[ETH + 11] = c & 0xFF
    return bytes(b)


# ---- ARP ----

fixture("arp_reply_interface_address",
        "ARP request for the ext interface address is answered from the ext MAC") \
    .step("arp-reply", EXT, arp_request(MAC_GW, GW, NODE, pad=18),
          [Out(EXT, arp_reply(MAC_EXT, NODE, MAC_GW, GW))],
          note="the 60-byte padded request gives a 42-byte reply")

fixture("arp_reply_vip", "ARP request for a LoadBalancer IP is answered") \
    .step("arp-reply", EXT, arp_request(MAC_GW, GW, LB),
          [Out(EXT, arp_reply(MAC_EXT, LB, MAC_GW, GW))])

fixture("arp_reply_external_ip", "ARP request for an externalIP is answered") \
    .step("arp-reply", EXT, arp_request(MAC_GW, GW, EXTIP),
          [Out(EXT, arp_reply(MAC_EXT, EXTIP, MAC_GW, GW))])

fixture("arp_reply_snat_address", "a pod's ARP request for the SNAT address is answered on int") \
    .step("arp-reply", INT, arp_request(POD_MAC["198.18.2.11"], "198.18.2.11", SNAT),
          [Out(INT, arp_reply(MAC_INT, SNAT, POD_MAC["198.18.2.11"], "198.18.2.11"))])

fixture("arp_request_not_ours", "ARP request for an address edgelb does not own is dropped") \
    .step("drop:not_ours", EXT, arp_request(MAC_GW, GW, "198.18.0.77"))

fixture("arp_invalid_protocol_length", "ARP with a protocol length other than 4 is invalid") \
    .step("drop:arp_invalid", EXT,
          bytes(Ether(src=MAC_GW, dst=MAC_BCAST, type=0x0806) /
                Raw(bytes.fromhex("0001 0800 0606 0001") + bytes.fromhex("02000000 00fe") +
                    b"\xc6\x12\x00\xfe\x00\x00" + b"\0" * 6 + b"\xc6\x12\x00\x01\x00\x00")))

fixture("arp_invalid_short_frame", "ARP frame shorter than an ARP packet is invalid") \
    .step("drop:arp_invalid", EXT, arp_request(MAC_GW, GW, NODE)[:ETH + 20])


def arp_wait_fixture():
    """A backend without a static neighbour: the SYN waits for ARP."""
    f = fixture("arp_resolution_releases_queued_syn",
                "first SYN to a backend without neighbour entry waits for ARP, the reply "
                "releases it rewritten; later packets go straight out")
    pod = "198.18.2.14"
    s = syn(ARPSVC, 80)
    sp = f.snat_port()
    f.step("queued", EXT, from_client(s),
           [Out(INT, arp_request(MAC_INT, SNAT, pod))],
           note="ARP request from the int MAC and the int address")
    f.step("forward", INT, arp_reply(POD_MAC[pod], pod, MAC_INT, SNAT),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))],
           note="the ARP reply releases the held SYN")
    sa = tcp(pod, SNAT, 8080, sp, "SA", 7000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=ARPSVC, dst=CLIENT, sport=80, dport=40000)))])
    a = tcp(CLIENT, ARPSVC, 40000, 80, "A", 1001, 7001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, to_pod(pod, nat(a, src=SNAT, dst=pod, sport=sp, dport=8080)))],
           note="the learned MAC is used without asking again")


arp_wait_fixture()


def arp_unresolved_fixture():
    f = fixture("arp_unresolved_drops_after_three_requests",
                "one ARP request per second, three in all, then the held packet is dropped")
    pod = "198.18.2.14"
    req = Out(INT, arp_request(MAC_INT, SNAT, pod))
    f.step("queued", EXT, from_client(syn(ARPSVC, 80)), [req], at=1000)
    f.step("none", at=1500, note="no second request within a second")
    f.step("none", outs=[req], at=2000)
    f.step("none", outs=[req], at=3000)
    f.step("drop:neighbor_unresolved", at=4000)


arp_unresolved_fixture()


def arp_learn_fixture():
    f = fixture("arp_request_from_pod_teaches_its_mac",
                "a pod asking for the SNAT address is learned; traffic to it needs no ARP")
    pod = "198.18.2.14"
    f.step("arp-reply", INT, arp_request(POD_MAC[pod], pod, SNAT),
           [Out(INT, arp_reply(MAC_INT, SNAT, POD_MAC[pod], pod))])
    s = syn(ARPSVC, 80)
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=f.snat_port(), dport=8080)))])


arp_learn_fixture()


# ---- ICMP echo ----

def echo_fixture(name, desc, iface, src, src_mac, dst, reply_mac):
    req = IP(src=src, dst=dst, ttl=64, id=0x0bad) / ICMP(type=8, id=0x4242, seq=7) / \
        Raw(b"edgelb-fixture-ping-0123456789")
    rep = IP(src=dst, dst=src, ttl=64, id=0) / ICMP(type=0, id=0x4242, seq=7) / \
        Raw(b"edgelb-fixture-ping-0123456789")
    inp = Ether(src=src_mac, dst=MAC_EXT if iface == EXT else MAC_INT) / req
    out = Ether(src=MAC_EXT if iface == EXT else MAC_INT, dst=reply_mac) / rep
    # IP id, flags, TTL and TOS of a generated reply are not part of the
    # contract (nor, therefore, the header checksum: the runner verifies it).
    fixture(name, desc).step("echo-reply", iface, inp,
                             [Out(iface, out, [IP_TOS, IP_ID, IP_FLAGS, IP_TTL, IP_CSUM])])


echo_fixture("echo_interface_address", "ICMP echo to the ext interface address is answered",
             EXT, CLIENT, MAC_GW, NODE, MAC_GW)
echo_fixture("echo_loadbalancer_ip", "ICMP echo to a LoadBalancer IP is answered",
             EXT, CLIENT, MAC_GW, LB, MAC_GW)
echo_fixture("echo_cluster_ip", "ICMP echo to a clusterIP routed here is answered",
             EXT, CLIENT, MAC_GW, CIP, MAC_GW)
echo_fixture("echo_snat_address_from_pod", "a pod pinging the SNAT address is answered on int",
             INT, "198.18.2.11", POD_MAC["198.18.2.11"], SNAT, POD_MAC["198.18.2.11"])

for _name, _src in (("loopback", "127.0.0.1"), ("own_address", LB),
                    ("broadcast", "198.18.0.255")):
    fixture("echo_from_martian_%s" % _name,
            "an ICMP echo request from %s is not answered" % _src) \
        .step("drop:martian", EXT,
              from_client(IP(src=_src, dst=NODE) / ICMP(type=8, id=1, seq=1)))

fixture("echo_not_ours", "ICMP echo to an address edgelb does not own is dropped") \
    .step("drop:not_ours", EXT,
          from_client(IP(src=CLIENT, dst="198.18.0.77") / ICMP(type=8, id=1, seq=1)))

fixture("icmp_timestamp_unsupported", "ICMP timestamp request to an owned address is dropped") \
    .step("drop:icmp_unsupported", EXT,
          from_client(IP(src=CLIENT, dst=NODE) / ICMP(type=13, id=1, seq=1) / Raw(b"\0" * 12)))


# ---- NodePort, full connection ----

def nodeport_fixture():
    f = fixture("nodeport_tcp_connection",
                "NodePort 30080 on the node address: SYN to a pod through SNAT, SYN+ACK back "
                "to the client, ACK and data on the same backend")
    s = syn(NODE, WEB_NODEPORT)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp,
                                                       dport=8080))))],
           note="snat 198.18.2.1:1024 -> pod:8080, pod MAC, int MAC, TTL 63")
    sa = lambda p: tcp(p, SNAT, 8080, sp, "SA", 5000, 1001, ipid=0x5000)
    f.step("forward", INT, Alt("A", lambda p: from_pod(p, sa(p))),
           [Out(EXT, to_client(nat(sa(PODS3[0]), src=NODE, dst=CLIENT, sport=WEB_NODEPORT,
                                   dport=40000)))],
           note="reply leaves from node:30080 to the client via the router's MAC")
    a = tcp(CLIENT, NODE, 40000, WEB_NODEPORT, "A", 1001, 5001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(a, src=SNAT, dst=p, sport=sp,
                                                       dport=8080))))])
    d = tcp(CLIENT, NODE, 40000, WEB_NODEPORT, "PA", 1001, 5001, ipid=0x1236,
            payload=b"GET / HTTP/1.1\r\nHost: edgelb\r\n\r\n")
    f.step("forward", EXT, from_client(d),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(d, src=SNAT, dst=p, sport=sp,
                                                       dport=8080))))])
    r = lambda p: tcp(p, SNAT, 8080, sp, "PA", 5001, 1033, ipid=0x5001,
                      payload=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    f.step("forward", INT, Alt("A", lambda p: from_pod(p, r(p))),
           [Out(EXT, to_client(nat(r(PODS3[0]), src=NODE, dst=CLIENT, sport=WEB_NODEPORT,
                                   dport=40000)))])


nodeport_fixture()


def nodeport_ports_fixture():
    f = fixture("snat_ports_in_order",
                "each new flow of a fresh worker takes the next SNAT port from 1024")
    for i, cport in enumerate((40001, 40002, 40003)):
        s = syn(NODE, WEB_NODEPORT, sport=cport)
        sp = f.snat_port()
        f.step("forward", EXT, from_client(s),
               [Out(INT, Alt("B%d" % i, lambda p, s=s, sp=sp: to_pod(
                   p, nat(s, src=SNAT, dst=p, sport=sp, dport=8080))))])


nodeport_ports_fixture()


def simple_service(name, desc, vip, vport, pod, tport, client=CLIENT, client_mac=MAC_GW):
    f = fixture(name, desc)
    s = syn(vip, vport, src=client)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s, client_mac),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=tport)))])
    sa = tcp(pod, SNAT, tport, sp, "SA", 9000, 1001, ipid=0x6000)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=vip, dst=client, sport=vport, dport=40000),
                               client_mac))])
    return f


simple_service("clusterip_connection", "clusterIP routed here: SYN to the pod, SYN+ACK back",
               CIP, 80, "198.18.2.11", 8080)
simple_service("externalip_connection", "externalIP 198.18.0.20:443 -> pod:8443 and back",
               EXTIP, 443, "198.18.2.12", 8443)
simple_service("loadbalancer_source_range_allowed",
               "LoadBalancer IP from a client inside loadBalancerSourceRanges is served; the "
               "reply goes to the client's own MAC (connected route)",
               LB, 80, "198.18.2.13", 8080, client=NEAR, client_mac=MAC_NEAR)
simple_service("terminating_endpoint_still_serves",
               "a service whose only endpoint is serving+terminating takes new flows",
               DRAINING, 80, "198.18.2.12", 8080)

fixture("loadbalancer_source_range_refused",
        "LoadBalancer IP from a client outside loadBalancerSourceRanges is dropped") \
    .step("drop:source_range", EXT, from_client(syn(LB, 80)))


def lb_nodeport_fixture():
    f = fixture("loadbalancer_nodeport_ignores_source_ranges",
                "source ranges apply to the LoadBalancer IP only, not to the service's NodePort")
    s = syn(NODE, LB_NODEPORT)
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod("198.18.2.13", nat(s, src=SNAT, dst="198.18.2.13",
                                               sport=f.snat_port(), dport=8080)))])


lb_nodeport_fixture()


def ip_options_fixture():
    f = fixture("ip_options_preserved", "a SYN with an IP option (router alert) is forwarded "
                "with the option intact")
    s = syn(CIP, 80, options=[IPOption_Router_Alert()])
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod("198.18.2.11", nat(s, src=SNAT, dst="198.18.2.11",
                                               sport=f.snat_port(), dport=8080)))])


ip_options_fixture()


def padding_fixture():
    f = fixture("ethernet_padding_removed",
                "a minimum-size frame with Ethernet padding is forwarded without the padding")
    s = IP(src=CLIENT, dst=CIP, ttl=64, id=0x4444, flags="DF") / TCP(
        sport=40000, dport=80, seq=1000, flags="S", window=1024)
    f.step("forward", EXT, bytes(from_client(s)) + b"\xee" * 6,
           [Out(INT, to_pod("198.18.2.11", nat(s, src=SNAT, dst="198.18.2.11",
                                               sport=f.snat_port(), dport=8080)))],
           note="54-byte SYN padded to 60 bytes")


padding_fixture()


# ---- UDP ----

def udp_fixture():
    f = fixture("udp_query_and_answer",
                "UDP 53 on a LoadBalancer IP to pod:5353 through SNAT, the answer back, a "
                "second query on the same flow")
    pod = "198.18.2.11"
    sp = f.snat_port()
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
            b"\x03www\x07example\x00\x00\x01\x00\x01")
    f.step("forward", EXT, from_client(q),
           [Out(INT, to_pod(pod, nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)))])
    ans = udp(pod, SNAT, 5353, sp, b"\x12\x34\x81\x80" + b"\x00" * 8, ipid=0x7000)
    f.step("forward", INT, from_pod(pod, ans),
           [Out(EXT, to_client(nat(ans, src=DNS, dst=CLIENT, sport=53, dport=50000)))])
    q2 = udp(CLIENT, DNS, 50000, 53, b"\x56\x78" + b"\x00" * 10, ipid=0x3001)
    f.step("forward", EXT, from_client(q2),
           [Out(INT, to_pod(pod, nat(q2, src=SNAT, dst=pod, sport=sp, dport=5353)))])


udp_fixture()


def udp_zero_csum_fixture():
    f = fixture("udp_without_checksum", "a UDP datagram without checksum (0) is forwarded with "
                "either no checksum or a correct one")
    pod = "198.18.2.11"
    q = udp(CLIENT, DNS, 50001, 53, b"\x00\x01" + b"\x00" * 10, chksum=0)
    out = to_pod(pod, nat(q, src=SNAT, dst=pod, sport=f.snat_port(), dport=5353))
    # RFC 768: 0 = no checksum; keeping 0 and computing one are both right,
    # so the UDP checksum field is left to the runner's checksum check.
    f.step("forward", EXT, from_client(q), [Out(INT, out, [(L4 + 6, 2)])])


udp_zero_csum_fixture()


# ---- rejects (no endpoints) ----

def reject_fixtures():
    s = syn(EMPTY, 80, seq=123456)
    rst = IP(src=EMPTY, dst=CLIENT, ttl=64, id=0, flags="DF") / TCP(
        sport=80, dport=40000, seq=0, ack=123457, flags="RA", window=0)
    # TOS of a generated packet is not part of the contract.
    fixture("reject_tcp_no_endpoint",
            "SYN to a service without endpoints: RST+ACK from VIP:port, ack = seq + 1") \
        .step("reject", EXT, from_client(s), [Out(EXT, to_client(rst), [IP_TOS])])

    q = udp(CLIENT, EMPTY, 50000, 53, b"\xab\xcd" + b"\x00" * 10)
    unreach = IP(src=EMPTY, dst=CLIENT, ttl=64, id=0) / ICMP(type=3, code=3) / Raw(quote(q))
    # IP id, flags and TOS of a generated packet are not part of the contract,
    # nor is the source of the error (the VIP here; the client matches the
    # error by the quoted datagram).
    fixture("reject_udp_no_endpoint",
            "UDP to a service without endpoints: ICMP port unreachable quoting the datagram") \
        .step("reject", EXT, from_client(q),
              [Out(EXT, to_client(unreach), [IP_TOS, IP_ID, IP_FLAGS, IP_CSUM, IP_SRC])])


reject_fixtures()


# ---- session affinity ----

STICKY_PORTS = [41000 + 7 * k for k in range(11)]


def sticky_out(var, cport, sp):
    s = syn(STICKY, 80, sport=cport)
    return Out(INT, Alt(var, lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp,
                                                      dport=8080))))


for k, cport in enumerate(STICKY_PORTS):
    f = fixture("affinity_fresh_choice_%d" % cport,
                "where a fresh worker sends a first connection from port %d (no affinity "
                "yet); later fixtures compare with it" % cport)
    f.step("forward", EXT, from_client(syn(STICKY, 80, sport=STICKY_PORTS[k])),
           [sticky_out("g_sticky_%d" % k, cport, f.snat_port())])


def affinity_fixtures():
    f = fixture("affinity_same_pod_within_timeout",
                "ClientIP affinity: eleven connections from one client within the 10 s timeout "
                "all go to the pod of the first")
    for k, cport in enumerate(STICKY_PORTS):
        f.step("forward", EXT, from_client(syn(STICKY, 80, sport=cport)),
               [sticky_out("A", cport, f.snat_port())], at=1000 + 500 * k)
    # Without affinity these ports do not all land on one pod; else this
    # fixture would prove nothing.
    f.distinct = ["g_sticky_%d" % k for k in range(len(STICKY_PORTS))]

    f = fixture("affinity_expires_after_timeout",
                "after timeoutSeconds + 1 s without traffic a new connection goes where a "
                "fresh worker would send it, not to the remembered pod")
    for k, cport in enumerate(STICKY_PORTS):
        f.step("forward", EXT, from_client(syn(STICKY, 80, sport=cport)),
               [sticky_out("g_sticky_%d" % k, cport, f.snat_port())], at=1000 + 11000 * k)


affinity_fixtures()


# ---- ICMP errors ----

def icmp_error_fixtures():
    pod = "198.18.2.11"

    f = fixture("icmp_frag_needed_from_pod",
                "fragmentation needed from the pod side quoting a tracked flow is translated "
                "and sent to the client")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    err = IP(src=pod, dst=SNAT, ttl=64, id=0x0e0e) / ICMP(type=3, code=4, nexthopmtu=1400) / \
        Raw(quote(fwd))
    back = s.copy()
    back.ttl -= 1  # the quote is of the packet the pod got (TTL 63)
    del back.chksum
    exp = IP(src=CIP, dst=CLIENT, ttl=63, id=0x0e0e) / ICMP(type=3, code=4, nexthopmtu=1400) / \
        Raw(quote(back))
    # Outer source after translation is not part of the contract (the VIP
    # here, as netfilter does); the header checksum follows it.
    f.step("translate", INT, from_pod(pod, err), [Out(EXT, to_client(exp), [IP_SRC, IP_CSUM])])

    f = fixture("icmp_time_exceeded_from_client_side",
                "time exceeded from a router on the client side, quoting a reply edgelb sent, "
                "is translated and sent to the pod")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001, ipid=0x6000)
    out = nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)
    f.step("forward", INT, from_pod(pod, sa), [Out(EXT, to_client(out))])
    expired = out.copy()
    expired.ttl = 1  # as the router saw it
    del expired.chksum
    err = IP(src=ROUTER, dst=CIP, ttl=250, id=0x0f0f) / ICMP(type=11, code=0) / \
        Raw(quote(expired))
    orig = sa.copy()
    orig.ttl = 1
    del orig.chksum
    exp = IP(src=SNAT, dst=pod, ttl=249, id=0x0f0f) / ICMP(type=11, code=0) / Raw(quote(orig))
    # Outer source after translation is not part of the contract (the SNAT
    # address here, as netfilter does).
    f.step("translate", EXT, from_client(err), [Out(INT, to_pod(pod, exp), [IP_SRC, IP_CSUM])])

    f = fixture("icmp_port_unreachable_for_udp_flow",
                "port unreachable from the pod for a tracked UDP flow goes back to the client")
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)
    sp = f.snat_port()
    fwd = nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)
    f.step("forward", EXT, from_client(q), [Out(INT, to_pod(pod, fwd))])
    err = IP(src=pod, dst=SNAT, ttl=64, id=0x0d0d) / ICMP(type=3, code=3) / Raw(quote(fwd))
    back = q.copy()
    back.ttl -= 1
    del back.chksum
    exp = IP(src=DNS, dst=CLIENT, ttl=63, id=0x0d0d) / ICMP(type=3, code=3) / Raw(quote(back))
    # Outer source is open (see above); whether the quoted UDP checksum is
    # rewritten is open too, and the ICMP checksum follows it.
    f.step("translate", INT, from_pod(pod, err),
           [Out(EXT, to_client(exp), [IP_SRC, IP_CSUM, ICMP_CSUM, (L4 + 8 + 20 + 6, 2)])])

    stray = IP(src=SNAT, dst=pod, ttl=63, id=1, flags="DF") / TCP(sport=2000, dport=8080,
                                                                   flags="S", seq=1)
    fixture("icmp_error_for_unknown_flow",
            "an ICMP error quoting a flow edgelb does not track is dropped") \
        .step("drop:icmp_untracked", INT,
              from_pod(pod, IP(src=pod, dst=SNAT) / ICMP(type=3, code=4, nexthopmtu=1400) /
                       Raw(quote(stray))))


icmp_error_fixtures()


# ---- time exceeded (RFC 792, RFC 1812 section 5.3.1) ----

def time_exceeded(src, dst, quoted):
    """The ICMP time exceeded edgelb sends: exact header bytes of
    dataplane/icmp.h (TOS 0, ID 0, no DF, TTL 64), the quote as received."""
    return IP(src=src, dst=dst, ttl=64, id=0) / ICMP(type=11, code=0) / Raw(quote(quoted))


def time_exceeded_fixtures():
    pod = "198.18.2.11"
    for ttl in (1, 0):
        s = syn(CIP, 80, ttl=ttl)
        fixture("ttl_%d_to_a_vip_gets_time_exceeded_from_the_vip" % ttl,
                "a SYN with TTL %d to a ClusterIP is dropped, no flow created, and answered "
                "with ICMP time exceeded from the ClusterIP quoting the SYN as received" % ttl) \
            .step("drop:ttl_exceeded", EXT, from_client(s),
                  [Out(EXT, to_client(time_exceeded(CIP, CLIENT, s)))])

    s = syn(CIP, 80, ttl=1, options=[IPOption_Router_Alert()])
    fixture("time_exceeded_quotes_ip_options",
            "the quote of a time exceeded is the whole IP header, options included, and 8 "
            "bytes beyond it") \
        .step("drop:ttl_exceeded", EXT, from_client(s),
              [Out(EXT, to_client(time_exceeded(CIP, CLIENT, s)))])

    q = IP(src=CLIENT, dst=DNS, ttl=1, id=0x3001) / UDP(sport=50000, dport=53) / \
        Raw(b"\x12\x34" + b"\x00" * 30)
    fixture("udp_ttl_1_gets_time_exceeded_quoting_8_bytes",
            "a UDP datagram with TTL 1 to a service: time exceeded from the VIP quoting the "
            "IP header and the UDP header only") \
        .step("drop:ttl_exceeded", EXT, from_client(q),
              [Out(EXT, to_client(time_exceeded(DNS, CLIENT, q)))])

    f = fixture("ttl_1_on_a_tracked_flow_gets_time_exceeded_from_the_address_it_was_sent_to",
                "on a tracked flow a client packet with TTL 1 gets time exceeded from the VIP, "
                "a reply with TTL 1 gets it from the SNAT address; the flow goes on")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001, ipid=0x6001, ttl=1)
    f.step("drop:ttl_exceeded", INT, from_pod(pod, sa),
           [Out(INT, to_pod(pod, time_exceeded(SNAT, pod, sa)))])
    a = tcp(CLIENT, CIP, 40000, 80, "A", 1001, 9001, ipid=0x6002, ttl=1)
    f.step("drop:ttl_exceeded", EXT, from_client(a),
           [Out(EXT, to_client(time_exceeded(CIP, CLIENT, a)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001, ipid=0x6003)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])

    f = fixture("icmp_error_with_ttl_1_gets_no_time_exceeded",
                "an ICMP error quoting a tracked flow that arrives with TTL 1 is dropped "
                "without an error about it (RFC 1122 section 3.2.2)")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    f.step("drop:ttl_exceeded", INT,
           from_pod(pod, IP(src=pod, dst=SNAT, ttl=1) / ICMP(type=3, code=4, nexthopmtu=1400) /
                    Raw(quote(fwd))))

    fixture("ttl_1_from_a_multicast_source_gets_no_time_exceeded",
            "a SYN with TTL 1 from a multicast source is refused as a martian; nothing is "
            "sent back") \
        .step("drop:martian", EXT, from_client(syn(CIP, 80, src="224.0.0.5", ttl=1)))


time_exceeded_fixtures()


# ---- malformed and unwanted packets ----

def bad(name, desc, label, frame, iface=EXT):
    fixture(name, desc).step("drop:" + label, iface, frame)


GOOD = bytes(from_client(syn(CIP, 80)))

bad("truncated_ethernet_header", "a 10-byte frame", "truncated", GOOD[:10])
bad("truncated_after_ethertype", "a frame ending right after the Ethernet header",
    "truncated", GOOD[:ETH])
bad("truncated_ip_header_1", "a frame ending 1 byte into the IPv4 header", "truncated",
    GOOD[:ETH + 1])
bad("truncated_ip_header_12", "a frame ending 12 bytes into the IPv4 header", "truncated",
    GOOD[:ETH + 12])
bad("truncated_ip_header_19", "a frame ending 19 bytes into the IPv4 header", "truncated",
    GOOD[:ETH + 19])


def with_byte(frame, off, value, fix=True, hlen=None):
    b = bytearray(frame)
    b[off] = value
    return ip_csum_fix(bytes(b), hlen) if fix else bytes(b)


bad("ihl_below_5", "IHL 4 (checksum valid over 20 bytes)", "bad_ihl",
    with_byte(GOOD, ETH, 0x44, hlen=20))
bad("bad_version", "version 6 in an IPv4 frame", "bad_version", with_byte(GOOD, ETH, 0x65))
# A total length beyond the frame means the frame was cut short: counted as
# truncated (the parser's documented mapping, dataplane/pkt.h).
bad("total_length_beyond_frame", "IPv4 total length larger than the frame", "truncated",
    bytes(from_client(IP(src=CLIENT, dst=CIP, len=200, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("total_length_below_header", "IPv4 total length 19, below the header", "bad_length",
    bytes(from_client(IP(src=CLIENT, dst=CIP, len=19, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("tcp_header_beyond_packet", "a TCP segment of 10 bytes", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=CIP, proto=6, flags="DF") /
                      Raw(bytes(TCP(sport=40000, dport=80, flags="S"))[:10]))))
bad("tcp_data_offset_below_5", "TCP data offset 4", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=CIP, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S", dataofs=4))))
bad("tcp_data_offset_beyond_packet", "TCP data offset 15 with a 20-byte segment",
    "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=CIP, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S", dataofs=15))))
bad("udp_header_beyond_packet", "a UDP datagram of 6 bytes", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=DNS, proto=17) /
                      Raw(bytes(UDP(sport=50000, dport=53))[:6]))))
bad("first_fragment", "more-fragments flag set", "fragment",
    bytes(from_client(IP(src=CLIENT, dst=CIP, flags="MF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("later_fragment", "fragment offset 64 bytes", "fragment",
    bytes(from_client(IP(src=CLIENT, dst=CIP, frag=8, proto=6) / Raw(b"\x00" * 24))))
bad("bad_ip_checksum", "IPv4 header checksum off by one", "bad_checksum",
    with_byte(GOOD, ETH + 11, GOOD[ETH + 11] ^ 1, fix=False))
bad("ip_option_length_beyond_header", "an IP option whose length runs past the header",
    "ip_options",
    with_byte(bytes(from_client(syn(CIP, 80, options=[IPOption_Router_Alert()]))),
              ETH + 21, 8))
bad("tcp_syn_fin", "SYN+FIN", "bad_tcp_flags",
    bytes(from_client(IP(src=CLIENT, dst=CIP) / TCP(sport=40000, dport=80, flags="SF"))))
bad("tcp_no_flags", "a segment with no flags", "bad_tcp_flags",
    bytes(from_client(IP(src=CLIENT, dst=CIP) / TCP(sport=40000, dport=80, flags=0))))
bad("tcp_first_packet_not_syn", "an ACK for a service with no flow", "no_flow",
    bytes(from_client(tcp(CLIENT, CIP, 40000, 80, "A", 1001, 5001))))
bad("unknown_reply_to_snat", "a SYN+ACK to the SNAT address matching no flow",
    "unknown_reply",
    bytes(from_pod("198.18.2.11", tcp("198.18.2.11", SNAT, 8080, 1024, "SA", 5000, 1001))),
    iface=INT)
bad("tcp_to_address_not_ours", "a SYN to an address edgelb does not own", "not_ours",
    bytes(from_client(syn("198.18.0.77", 80))))
bad("tcp_to_owned_address_without_service", "a SYN to the node address on a port no "
    "service uses", "no_service", bytes(from_client(syn(NODE, 12345))))
bad("not_ip", "an LLDP frame", "not_ip",
    bytes(Ether(src=MAC_GW, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(b"\x02\x07\x04" +
                                                                       b"\x00" * 40)))
bad("ipv6_to_address_not_ours", "an IPv6 SYN to an address edgelb does not own (IPv6 cases: "
    "fixtures6.py)", "not_ours",
    bytes(Ether(src=MAC_GW, dst=MAC_EXT) / IPv6(src="2001:db8::7", dst="2001:db8::1") /
          TCP(sport=40000, dport=80, flags="S")))
bad("unsupported_protocol", "GRE to a LoadBalancer IP", "unsupported_protocol",
    bytes(from_client(IP(src=CLIENT, dst=LB, proto=47) / Raw(b"\x00\x00\x08\x00" +
                                                            b"\x00" * 20))))


# ---- floods: a full flow table, per-source new-flow limits ----

def worker_settings(f, **kw):
    """Worker configuration of fixture @f, applied before its worker is
    created (a "set:" step, see run_fixtures.c)."""
    verdict = "set:" + ",".join("%s=%d" % kv for kv in sorted(kw.items()))
    f.steps.insert(0, (f.now, verdict, None, None, [], ""))
    return f


def flood_syn(f, var, cport, src=CLIENT, src_mac=MAC_GW, at=None):
    """A SYN to NodePort 30080 that opens a flow; returns its SNAT port."""
    s = syn(NODE, WEB_NODEPORT, sport=cport, src=src)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s, src_mac),
           [Out(INT, Alt(var, lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp,
                                                       dport=8080))))], at=at,
           note="new flow from %s:%d" % (src, cport))
    return sp


def flood_refused(f, cport, label, src=CLIENT, src_mac=MAC_GW, at=None):
    f.step("drop:" + label, EXT, from_client(syn(NODE, WEB_NODEPORT, sport=cport, src=src),
                                             src_mac), at=at,
           note="SYN from %s:%d refused" % (src, cport))


def flood_ack(f, var, cport, sp):
    a = tcp(CLIENT, NODE, cport, WEB_NODEPORT, "A", 1001, 5001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, Alt(var, lambda p: to_pod(p, nat(a, src=SNAT, dst=p, sport=sp,
                                                       dport=8080))))],
           note="established flow :%d still forwards" % cport)


def flood_reply(f, var, cport, sp):
    sa = lambda p: tcp(p, SNAT, 8080, sp, "SA", 5000, 1001, ipid=0x5000)
    f.step("forward", INT, Alt(var, lambda p: from_pod(p, sa(p))),
           [Out(EXT, to_client(nat(sa(PODS3[0]), src=NODE, dst=CLIENT, sport=WEB_NODEPORT,
                                   dport=cport)))],
           note="reply of flow :%d still forwards" % cport)


def flood_table_full_fixture():
    f = worker_settings(fixture(
        "flow_table_full_refuses_new_flows",
        "with max_flows 2 a third SYN is refused and counted (flow_table_full) while both "
        "tracked flows keep forwarding in both directions"), max_flows=2)
    sp1 = flood_syn(f, "T1", 43001)
    sp2 = flood_syn(f, "T2", 43002)
    flood_refused(f, 43003, "flow_table_full")
    flood_reply(f, "T1", 43001, sp1)
    flood_ack(f, "T1", 43001, sp1)
    flood_reply(f, "T2", 43002, sp2)
    flood_refused(f, 43003, "flow_table_full")
    flood_ack(f, "T2", 43002, sp2)


flood_table_full_fixture()


def flood_source_limit_fixture():
    f = worker_settings(fixture(
        "source_rate_limit_refuses_excess_new_flows",
        "1 new flow/s per source, burst 2: a source's third SYN in a burst is refused "
        "(source_rate_limited), its open flows and other sources are not limited, and a "
        "second later it may open one more"), new_flows_per_source=1, new_flows_burst=2)
    sp1 = flood_syn(f, "R1", 44001)
    sp2 = flood_syn(f, "R2", 44002)
    flood_refused(f, 44003, "source_rate_limited")
    flood_ack(f, "R1", 44001, sp1)
    flood_reply(f, "R2", 44002, sp2)
    flood_syn(f, "N1", 44004, src=NEAR, src_mac=MAC_NEAR)
    flood_refused(f, 44003, "source_rate_limited")
    flood_syn(f, "R3", 44003, at=f.now + 1000)


flood_source_limit_fixture()


def error_limit_fixtures():
    f = worker_settings(fixture(
        "generated_errors_share_one_rate_limit",
        "1 error/s, burst 2: two time exceeded go out, the third in the same burst is not "
        "sent (icmp_rate_limited) while its packet is still dropped as ttl_exceeded; a "
        "reject in that burst is not sent either (no_endpoint); a second later one goes "
        "out"), icmp_errors_per_second=1, icmp_errors_burst=2)
    for k in range(3):
        s = syn(CIP, 80, sport=45000 + k, ttl=1)
        if k < 2:
            f.step("drop:ttl_exceeded", EXT, from_client(s),
                   [Out(EXT, to_client(time_exceeded(CIP, CLIENT, s)))],
                   note="error %d of the burst" % (k + 1))
        else:
            f.step("drop:ttl_exceeded+icmp_rate_limited", EXT, from_client(s),
                   note="the bucket is empty")
    q = udp(CLIENT, EMPTY, 50000, 53, b"\xab\xcd" + b"\x00" * 10)
    f.step("drop:no_endpoint+icmp_rate_limited", EXT, from_client(q),
           note="a reject takes from the same bucket")
    s = syn(EMPTY, 80, seq=123456)
    f.step("drop:no_endpoint+icmp_rate_limited", EXT, from_client(s),
           note="so does a TCP reset")
    rst = IP(src=EMPTY, dst=CLIENT, ttl=64, id=0, flags="DF") / TCP(
        sport=80, dport=40000, seq=0, ack=123457, flags="RA", window=0)
    f.step("reject", EXT, from_client(s), [Out(EXT, to_client(rst))], at=f.now + 1000,
           note="a second later the bucket holds one again")
    f.step("drop:no_endpoint+icmp_rate_limited", EXT, from_client(s), note="and only one")


error_limit_fixtures()


# ---- bad input catalogue: every offset, every field, options, flags ----

def truncations(name, desc, frame, label=lambda cut: "truncated"):
    """The frame cut at every offset: each prefix is dropped as truncated (a
    zero-length frame cannot be written here; the packet fuzz target sends them)."""
    for cut in range(1, len(frame)):
        bad("%s_cut_at_%d" % (name, cut), "%s cut after %d of its %d bytes" %
            (desc, cut, len(frame)), label(cut), frame[:cut])


truncations("truncated_tcp_syn", "a SYN with TCP options", GOOD)
truncations("truncated_udp_query", "a UDP query",
            bytes(from_client(udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10))))
truncations("truncated_icmp_echo", "an ICMP echo request",
            bytes(from_client(IP(src=CLIENT, dst=NODE, id=0x77) /
                              ICMP(type=8, id=1, seq=1) / Raw(b"ping1234"))))
# Past the Ethernet header a short ARP packet is an invalid one (as in
# arp_invalid_short_frame above).
truncations("truncated_arp_request", "an ARP request for the node address",
            arp_request(MAC_GW, GW, NODE), lambda cut: "truncated" if cut < ETH else "arp_invalid")


def ip_field(name, desc, label, off, value, frame=GOOD, hlen=None):
    bad(name, desc, label, with_byte(frame, ETH + off, value, hlen=hlen))


for v in (0, 5, 7, 15):
    ip_field("ip_version_%d" % v, "IP version %d in an IPv4 frame" % v, "bad_version", 0,
             (v << 4) | 5)
ip_field("ihl_0", "IHL 0", "bad_ihl", 0, 0x40, hlen=20)
SHORT_SYN = bytes(from_client(IP(src=CLIENT, dst=CIP, flags="DF") /
                              TCP(sport=40000, dport=80, flags="S")))
ip_field("ihl_15_beyond_frame", "IHL 15 (60 bytes) in a 40-byte packet", "truncated", 0,
         0x4f, frame=SHORT_SYN, hlen=20)
bad("total_length_0", "IPv4 total length 0", "bad_length",
    bytes(from_client(IP(src=CLIENT, dst=CIP, len=0, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("total_length_65535", "IPv4 total length 65535 in a 54-byte frame", "truncated",
    bytes(from_client(IP(src=CLIENT, dst=CIP, len=65535, flags="DF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("protocol_255_to_vip", "IP protocol 255 to a LoadBalancer IP", "unsupported_protocol",
    bytes(from_client(IP(src=CLIENT, dst=LB, proto=255) / Raw(b"\x00" * 20))))
bad("protocol_255_not_ours", "IP protocol 255 to an address edgelb does not own", "not_ours",
    bytes(from_client(IP(src=CLIENT, dst="198.18.0.77", proto=255) / Raw(b"\x00" * 20))))
bad("bad_ip_checksum_zero", "IPv4 header checksum 0", "bad_checksum",
    bytes(from_client(IP(src=CLIENT, dst=CIP, chksum=0) / TCP(sport=40000, dport=80,
                                                            flags="S"))))
bad("bad_ip_checksum_over_options", "a header checksum that leaves out the options",
    "bad_checksum",
    with_byte(bytes(from_client(syn(CIP, 80, options=[IPOption_Router_Alert()]))),
              ETH + 8, 64, hlen=20))


def option_frame(opts):
    """A SYN whose IPv4 header carries the raw option bytes @opts (a multiple of 4)."""
    ip = IP(src=CLIENT, dst=CIP, ttl=64, id=0x1234, flags="DF", ihl=5 + len(opts) // 4,
            options=[]) / TCP(sport=40000, dport=80, seq=1000, flags="S", window=64240)
    b = bytearray(bytes(ip))
    b[20:20] = opts
    b[2:4] = len(b).to_bytes(2, "big")
    return ip_csum_fix(bytes(Ether(src=MAC_GW, dst=MAC_EXT, type=0x0800)) + bytes(b))


bad("ip_option_loose_source_route", "a loose source route option", "ip_options",
    option_frame(bytes([131, 7, 4]) + bytes([198, 18, 2, 11]) + b"\x00"))
bad("ip_option_strict_source_route", "a strict source route option", "ip_options",
    option_frame(bytes([137, 7, 4]) + bytes([198, 18, 2, 11]) + b"\x00"))
bad("ip_option_length_0", "an option of length 0 (would never end)", "ip_options",
    option_frame(bytes([68, 0, 0, 0])))
bad("ip_option_length_1", "an option of length 1", "ip_options",
    option_frame(bytes([68, 1, 0, 0])))
bad("ip_option_without_length_byte", "an option type as the last header byte", "ip_options",
    option_frame(bytes([1, 1, 1, 68])))
bad("ip_option_40_bytes_overrun", "40 bytes of options whose last one overruns", "ip_options",
    option_frame(b"\x01" * 36 + bytes([7, 8, 4, 0])))

bad("fragment_df_and_mf", "DF and MF both set", "fragment",
    bytes(from_client(IP(src=CLIENT, dst=CIP, flags="DF+MF") /
                      TCP(sport=40000, dport=80, flags="S"))))
bad("last_fragment", "the last fragment (offset 8, no MF)", "fragment",
    bytes(from_client(IP(src=CLIENT, dst=CIP, frag=1, proto=6) / Raw(b"\x00" * 24))))
bad("fragment_of_a_reply", "a fragment to the SNAT address", "fragment",
    bytes(from_pod("198.18.2.11", IP(src="198.18.2.11", dst=SNAT, flags="MF") /
                   TCP(sport=8080, dport=1024, flags="SA"))), iface=INT)
bad("udp_fragment", "a UDP first fragment to a service", "fragment",
    bytes(from_client(IP(src=CLIENT, dst=DNS, flags="MF") /
                      UDP(sport=50000, dport=53) / Raw(b"\x00" * 16))))

for flags, desc in (("SR", "SYN+RST"), ("FR", "FIN+RST"), ("SFR", "SYN+FIN+RST"),
                    ("F", "FIN without ACK"), ("U", "URG alone"), ("P", "PSH alone"),
                    ("FPU", "FIN+PSH+URG (xmas)"), ("SFRPAU", "every flag")):
    bad("tcp_flags_%s" % flags.lower(), desc, "bad_tcp_flags",
        bytes(from_client(IP(src=CLIENT, dst=CIP) / TCP(sport=40000, dport=80,
                                                         flags=flags))))
for flags, desc in (("SA", "SYN+ACK"), ("R", "RST"), ("RA", "RST+ACK"), ("FA", "FIN+ACK")):
    bad("tcp_%s_without_flow" % flags.lower(), "%s for a service with no flow" % desc,
        "no_flow",
        bytes(from_client(IP(src=CLIENT, dst=CIP) / TCP(sport=40000, dport=80,
                                                         flags=flags))))
bad("udp_length_7", "a UDP length below the header", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=DNS) / UDP(sport=50000, dport=53, len=7) /
                      Raw(b"\x00" * 4))))
bad("udp_length_beyond_packet", "a UDP length past the IP payload", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=DNS) / UDP(sport=50000, dport=53, len=200) /
                      Raw(b"\x00" * 4))))
bad("icmp_header_truncated", "an ICMP message of 4 bytes to the node", "bad_l4_header",
    bytes(from_client(IP(src=CLIENT, dst=NODE, proto=1) / Raw(b"\x08\x00\xf7\xff"))))


def spoof_fixtures():
    pod = "198.18.2.11"
    f = fixture("spoofed_reply_from_another_pod",
                "a reply to a tracked SNAT port from a pod that is not the flow's backend "
                "is dropped; the real backend's reply still goes through")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    fake = tcp("198.18.2.12", SNAT, 8080, sp, "SA", 6666, 1001)
    f.step("drop:unknown_reply", INT, from_pod("198.18.2.12", fake))
    fake = tcp(pod, SNAT, 8081, sp, "SA", 6666, 1001)
    f.step("drop:unknown_reply", INT, from_pod(pod, fake), note="right pod, wrong port")
    sa = tcp(pod, SNAT, 8080, sp, "SA", 7000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])

    f = fixture("spoofed_udp_reply_to_snat",
                "a UDP datagram to a SNAT port that no flow uses is dropped")
    f.step("drop:unknown_reply", INT,
           from_pod(pod, udp(pod, SNAT, 5353, 1024, b"\x12\x34" + b"\x00" * 10)))

    f = fixture("icmp_error_quoting_unknown_flow_from_client_side",
                "an ICMP error from the client side quoting a flow edgelb does not track is "
                "dropped")
    stray = IP(src=CIP, dst=CLIENT, ttl=1, id=9) / TCP(sport=80, dport=40123, flags="SA")
    f.step("drop:icmp_untracked", EXT,
           from_client(IP(src=ROUTER, dst=CIP) / ICMP(type=11, code=0) / Raw(quote(stray))))

    f = fixture("icmp_error_quoting_a_tracked_flow_with_other_ports",
                "an ICMP error quoting a tracked flow's addresses with other ports is dropped")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    other = nat(s, src=SNAT, dst=pod, sport=sp + 1, dport=8080)
    f.step("drop:icmp_untracked", INT,
           from_pod(pod, IP(src=pod, dst=SNAT) / ICMP(type=3, code=4, nexthopmtu=1400) /
                    Raw(quote(other))))


spoof_fixtures()


# ---- robustness: layer 2, sizes, checksums, martians, reverse path ----

OTHER_MAC = "02:00:00:00:00:99"  # a host on the ext segment that is not edgelb


def l2_fixtures():
    s = syn(CIP, 80)
    for name, mac, what in (("other_host", OTHER_MAC, "another host's MAC"),
                            ("broadcast", MAC_BCAST, "the broadcast MAC"),
                            ("multicast", "01:00:5e:00:00:01", "an IPv4 multicast MAC"),
                            ("int_interface", MAC_INT, "the int interface's MAC")):
        fixture("dst_mac_%s_ipv4_dropped" % name,
                "an IPv4 SYN to a service sent on ext to %s is dropped" % what) \
            .step("drop:not_our_mac", EXT, Ether(src=MAC_GW, dst=mac) / s)

    f = fixture("dst_mac_wrong_on_established_flow",
                "a segment of an established flow sent to another host's MAC is dropped; "
                "the same segment to the ext MAC goes through")
    pod = "198.18.2.11"
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    a = tcp(CLIENT, CIP, 40000, 80, "A", 1001, 5001)
    f.step("drop:not_our_mac", EXT, Ether(src=MAC_GW, dst=OTHER_MAC) / a)
    f.step("forward", EXT, from_client(a),
           [Out(INT, to_pod(pod, nat(a, src=SNAT, dst=pod, sport=sp, dport=8080)))])

    req = Ether(src=MAC_GW, dst=OTHER_MAC) / ARP(op=1, hwsrc=MAC_GW, psrc=GW,
                                                  hwdst=MAC_ZERO, pdst=NODE)
    fixture("arp_unicast_to_other_host_dropped",
            "an ARP request sent to another host's unicast MAC is dropped") \
        .step("drop:not_our_mac", EXT, req)
    req = Ether(src=MAC_GW, dst=MAC_EXT) / ARP(op=1, hwsrc=MAC_GW, psrc=GW,
                                                hwdst=MAC_EXT, pdst=NODE)
    fixture("arp_unicast_to_us_answered",
            "an ARP request sent to the ext MAC (a cache refresh) is answered") \
        .step("arp-reply", EXT, req, [Out(EXT, arp_reply(MAC_EXT, NODE, MAC_GW, GW))])


l2_fixtures()


def size_fixtures():
    fixture("zero_length_frame", "an mbuf with data_len 0 is dropped as truncated") \
        .step("drop:truncated", EXT, b"")
    # A frame to another host's MAC, cut short: shorter than an Ethernet
    # header it is truncated whatever its first bytes say.
    foreign = bytes(Ether(src=MAC_GW, dst=MAC_BCAST) / syn(CIP, 80))
    for n in range(1, ETH):
        fixture("short_frame_%d_bytes" % n,
                "a %d-byte frame (the start of a broadcast IPv4 frame) is dropped as "
                "truncated, not as a MAC mismatch" % n) \
            .step("drop:truncated", EXT, foreign[:n])

    jumbo = from_client(udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 9000))
    fixture("oversize_frame_dropped",
            "a %d-byte frame (9000 bytes of UDP payload, beyond any MTU the ports are set "
            "up for) arrives as a chain no single buffer holds: dropped as oversize, no flow"
            % len(bytes(jumbo))) \
        .step("drop:oversize", EXT, jumbo)

    f = fixture("chained_frame_forwarded",
                "a 1042-byte UDP frame arriving as two 521-byte segments is joined and "
                "forwarded like any other")
    pod = "198.18.2.11"
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x5a" * 998)
    frame = bytes(from_client(q))
    assert len(frame) == 1042
    f.step("forward", EXT, Chained(frame, 521),
           [Out(INT, to_pod(pod, nat(q, src=SNAT, dst=pod, sport=f.snat_port(), dport=5353)))])


size_fixtures()


def oc_add(a, b):
    """One's complement sum of two 16-bit values."""
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def damaged(frame, d=0x0101):
    """@frame with its TCP/UDP checksum wrong by @d (one's complement): what
    the wire delivers when bits flip. An incremental update (RFC 1624) keeps
    a checksum wrong by the same amount, so the frame expected out is the
    correct one damaged the same way."""
    b = bytearray(bytes(frame))
    ihl = (b[ETH] & 0xF) * 4
    off = ETH + ihl + (16 if b[ETH + 9] == 6 else 6)
    c = oc_add(b[off] << 8 | b[off + 1], d)
    assert c not in (0, 0xFFFF), "pick another d: the result must not be a zero"
    b[off:off + 2] = c.to_bytes(2, "big")
    return bytes(b)


def checksum_fixtures():
    pod = "198.18.2.11"

    f = fixture("tcp_bad_checksum_new_flow",
                "a SYN with a wrong TCP checksum opens its flow (L4 checksums are not "
                "verified) and reaches the pod still wrong by the same amount, so the pod "
                "drops it")
    s = syn(CIP, 80)
    f.step("forward", EXT, damaged(from_client(s)),
           [Out(INT, damaged(to_pod(pod, nat(s, src=SNAT, dst=pod, sport=f.snat_port(),
                                                 dport=8080))), bad_l4=True)])

    f = fixture("tcp_bad_checksum_established",
                "on an established flow a data segment and a reply with wrong TCP checksums "
                "are forwarded still wrong by the same amount")
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])
    d = tcp(CLIENT, CIP, 40000, 80, "PA", 1001, 9001, payload=b"GET / HTTP/1.0\r\n\r\n")
    f.step("forward", EXT, damaged(from_client(d)),
           [Out(INT, damaged(to_pod(pod, nat(d, src=SNAT, dst=pod, sport=sp, dport=8080))),
                bad_l4=True)])
    r = tcp(pod, SNAT, 8080, sp, "PA", 9001, 1019, payload=b"HTTP/1.0 200 OK\r\n\r\n")
    f.step("forward", INT, damaged(from_pod(pod, r), 0x2222),
           [Out(EXT, damaged(to_client(nat(r, src=CIP, dst=CLIENT, sport=80, dport=40000)),
                             0x2222), bad_l4=True)])

    f = fixture("udp_bad_checksum_new_flow",
                "a UDP query with a wrong checksum opens its flow and reaches the pod still "
                "wrong by the same amount")
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)
    f.step("forward", EXT, damaged(from_client(q)),
           [Out(INT, damaged(to_pod(pod, nat(q, src=SNAT, dst=pod, sport=f.snat_port(),
                                                 dport=5353))), bad_l4=True)])

    f = fixture("udp_bad_checksum_established",
                "on a UDP flow a query and an answer with wrong checksums are forwarded still "
                "wrong by the same amount")
    sp = f.snat_port()
    f.step("forward", EXT, from_client(q),
           [Out(INT, to_pod(pod, nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)))])
    q2 = udp(CLIENT, DNS, 50000, 53, b"\x56\x78" + b"\x00" * 10, ipid=0x3001)
    f.step("forward", EXT, damaged(from_client(q2), 0x0f00),
           [Out(INT, damaged(to_pod(pod, nat(q2, src=SNAT, dst=pod, sport=sp, dport=5353)),
                             0x0f00), bad_l4=True)])
    ans = udp(pod, SNAT, 5353, sp, b"\x56\x78\x81\x80" + b"\x00" * 8, ipid=0x7000)
    f.step("forward", INT, damaged(from_pod(pod, ans)),
           [Out(EXT, damaged(to_client(nat(ans, src=DNS, dst=CLIENT, sport=53, dport=50000))),
                bad_l4=True)])


checksum_fixtures()


MARTIANS = (
    ("this_network", "0.0.0.1", "0.0.0.0/8 (this network)"),
    ("loopback", "127.0.0.1", "loopback"),
    ("link_local", "169.254.1.1", "link-local, which never leaves its link"),
    ("multicast", "224.0.0.5", "multicast"),
    ("multicast_top", "239.255.255.250", "the last multicast block"),
    ("reserved", "240.0.0.1", "240.0.0.0/4 (reserved)"),
    ("limited_broadcast", "255.255.255.255", "the limited broadcast"),
    ("interface_address", NODE, "edgelb's own interface address"),
    ("loadbalancer_ip", LB, "a LoadBalancer IP edgelb serves"),
    ("external_ip", EXTIP, "an externalIP edgelb serves"),
    ("cluster_ip", CIP, "a clusterIP routed to edgelb"),
    ("snat_address", SNAT, "the SNAT address"),
    ("ext_directed_broadcast", "198.18.0.255", "the broadcast of the ext prefix"),
    ("int_directed_broadcast", "198.18.2.255", "the broadcast of the int prefix"),
)


def martian_fixtures():
    for name, src, what in MARTIANS:
        fixture("martian_source_%s" % name,
                "a SYN to NodePort 30080 from %s (%s) opens no flow" % (src, what)) \
            .step("drop:martian", EXT, from_client(syn(NODE, WEB_NODEPORT, src=src)))
    fixture("martian_source_udp", "a UDP query from loopback opens no flow") \
        .step("drop:martian", EXT,
              from_client(udp("127.0.0.1", DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)))
    fixture("martian_source_gets_no_reject",
            "a SYN from loopback to a service without endpoints is dropped, not answered "
            "with a RST") \
        .step("drop:martian", EXT, from_client(syn(EMPTY, 80, src="127.0.0.1")))
    fixture("martian_source_from_pod_side",
            "a SYN to a clusterIP from the int prefix's broadcast, on int, opens no flow") \
        .step("drop:martian", INT,
              from_pod("198.18.2.12", syn(CIP, 80, src="198.18.2.255")))
    fixture("source_port_0", "a SYN to NodePort 30080 from port 0 opens no flow") \
        .step("drop:bad_port", EXT, from_client(syn(NODE, WEB_NODEPORT, sport=0)))
    fixture("destination_port_0", "a SYN to port 0 of a clusterIP is dropped as a bad port") \
        .step("drop:bad_port", EXT, from_client(syn(CIP, 0)))
    fixture("udp_source_port_0", "a UDP query from port 0 opens no flow") \
        .step("drop:bad_port", EXT,
              from_client(udp(CLIENT, DNS, 0, 53, b"\x12\x34" + b"\x00" * 10)))
    fixture("reply_from_port_0", "a datagram to the SNAT address from port 0 is dropped") \
        .step("drop:bad_port", INT,
              from_pod("198.18.2.11", udp("198.18.2.11", SNAT, 0, 1024, b"\x00" * 12)))


martian_fixtures()


def reverse_path_fixtures():
    pod = "198.18.2.11"

    f = fixture("reply_on_client_interface_dropped",
                "a reply matching a flow but arriving on ext (its backend is routed via int) "
                "is dropped; the same reply on int goes through")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    f.step("drop:wrong_interface", EXT, from_client(sa),
           note="the backend's address and the flow's ports, sent from the client side")
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])

    f = fixture("udp_reply_on_client_interface_dropped",
                "a UDP answer matching a flow but arriving on ext is dropped")
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(q),
           [Out(INT, to_pod(pod, nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)))])
    ans = udp(pod, SNAT, 5353, sp, b"\x12\x34\x81\x80" + b"\x00" * 8)
    f.step("drop:wrong_interface", EXT, from_client(ans))
    f.step("forward", INT, from_pod(pod, ans),
           [Out(EXT, to_client(nat(ans, src=DNS, dst=CLIENT, sport=53, dport=50000)))])

    f = fixture("icmp_error_from_pod_side_on_client_interface",
                "an ICMP error quoting a flow's pod-side packet but arriving on ext is dropped")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    err = IP(src=pod, dst=SNAT, ttl=64) / ICMP(type=3, code=4, nexthopmtu=1400) / \
        Raw(quote(fwd))
    f.step("drop:wrong_interface", EXT, from_client(err))

    f = fixture("one_armed_pod_to_clusterip",
                "a pod on int calling a clusterIP whose backend is also on int: request and "
                "reply both in and out of int")
    client = "198.18.2.12"
    s = syn(CIP, 80, src=client)
    sp = f.snat_port()
    f.step("forward", INT, from_pod(client, s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(INT, to_pod(client, nat(sa, src=CIP, dst=client, sport=80, dport=40000)))])

    f = fixture("client_packets_on_either_interface",
                "client-side packets of a flow are taken on any interface: the SYN on ext, "
                "an ACK on int")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    a = tcp(CLIENT, CIP, 40000, 80, "A", 1001, 9001)
    f.step("forward", INT, Ether(src=POD_MAC["198.18.2.13"], dst=MAC_INT) / a,
           [Out(INT, to_pod(pod, nat(a, src=SNAT, dst=pod, sport=sp, dport=8080)))])


reverse_path_fixtures()


def spoofed_reply_fixtures():
    pod = "198.18.2.11"
    f = fixture("spoofed_reply_from_address_not_a_backend",
                "replies to a tracked SNAT port from an address no service uses as a backend, "
                "on int and on ext, are dropped; the flow goes on")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    f.step("drop:unknown_reply", INT,
           Ether(src="02:00:00:00:02:63", dst=MAC_INT) / tcp("198.18.2.99", SNAT, 8080, sp,
                                                             "SA", 6666, 1001))
    f.step("drop:unknown_reply", EXT, from_client(tcp(CLIENT, SNAT, 8080, sp, "SA", 6666, 1001)),
           note="the client itself, from the internet side")
    f.step("drop:unknown_reply", EXT,
           from_client(tcp("198.18.200.9", SNAT, 8080, sp, "RA", 0, 1001)),
           note="a RST from an unrelated internet address")
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])


spoofed_reply_fixtures()


# ---- output ----

def hexs(b):
    return bytes(b).hex()


def write(path):
    names = set()
    with open(path, "w") as fh:
        fh.write("# generated by tests/packet/fixtures.py; do not edit\n")
        for f in FIXTURES:
            assert f.name not in names, f.name
            names.add(f.name)
            fh.write("fixture %s %s\n" % (f.name, f.desc))
            for now, verdict, iface, frame, outs, note in f.steps:
                fh.write("step %d %s %s\n" % (now, verdict, note or "-"))
                if isinstance(frame, Alt):
                    fh.write("in %d @%s %s\n" % (iface, frame.var,
                                                 " ".join(hexs(x) for x in frame.frames)))
                elif frame is not None:
                    seg = " seg=%d" % frame.seg if isinstance(frame, Chained) else ""
                    fh.write("in %d%s %s\n" % (iface, seg, hexs(frame) if frame else "-"))
                for o in outs:
                    parts = ["out", str(o.iface)]
                    if isinstance(o.frame, Alt):
                        parts.append("@" + o.frame.var)
                    if o.ignore:
                        parts.append("ign=" + ",".join("%d:%d" % r for r in o.ignore))
                    if o.bad_l4:
                        parts.append("badl4")
                    if isinstance(o.frame, Alt):
                        parts += [hexs(x) for x in o.frame.frames]
                    else:
                        parts.append(hexs(o.frame))
                    fh.write(" ".join(parts) + "\n")
            if f.distinct:
                fh.write("distinct %s\n" % " ".join(f.distinct))
            fh.write("end\n")
    return len(FIXTURES)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: fixtures.py OUTPUT_FILE\n")
        sys.exit(2)
    n = write(sys.argv[1])
    print("%d fixtures written to %s" % (n, sys.argv[1]))
