#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""IPv6 packet fixtures: the worker's IPv6 path (dataplane/worker6.c) as a
table of {description, input frame, expected output frames, verdict},
replayed by run_fixtures.c against a fresh worker per fixture with the
dual-stack appliance of edgelb6.yaml and the Services of manifests6/.

The format, the verdicts and the variables (a frame per pod when Maglev
chooses) are those of fixtures.py, whose builders this file reuses. IPv6
specifics:
  - Neighbor Advertisements sent count as ARP replies and Neighbor
    Solicitations as ARP requests (worker.h), so an answered NS has the
    verdict arp-reply;
  - every captured IPv6 frame has its TCP, UDP and ICMPv6 checksums
    verified by the runner (pseudo-header of RFC 8200 section 8.1), and
    frames are compared byte for byte: no field is left open here.

Usage: fixtures6.py OUTPUT_FILE
"""
import ipaddress
import sys

from scapy.all import (TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6Unknown, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, PadN, Raw, RouterAlert)

import fixtures as base
from fixtures import EXT, INT, MAC_EXT, MAC_GW, MAC_INT, MAC_NEAR, SYN_OPTS, Alt, Out

base.FIXTURES.clear()  # only the IPv6 fixtures go into this file
fixture = base.fixture

NODE = "2001:db8::1"
GW = "2001:db8::fe"
SNAT = "2001:db8:2::1"
CLIENT = "2001:db8:100::7"  # beyond the upstream router
CLIENT2 = "2001:db8:100::8"  # same /64 as CLIENT
NEAR = "2001:db8::5"  # on the ext link, inside the LB source range
ROUTER = "2001:db8:100::1"  # a router between edgelb and CLIENT

POD_MAC = {
    "2001:db8:2::11": "02:00:00:00:02:0b",
    "2001:db8:2::12": "02:00:00:00:02:0c",
    "2001:db8:2::13": "02:00:00:00:02:0d",
    "2001:db8:2::14": "02:00:00:00:02:0e",  # no static neighbour: learned by ND
}
PODS = ["2001:db8:2::11", "2001:db8:2::12", "2001:db8:2::13"]

# Services of manifests6/services.yaml
WEB_NODEPORT = 30080  # 3 pods, :8080
CIP = "2001:db8:3::20"  # ClusterIP :80 -> ::11:8080
LB = "2001:db8::100"  # LoadBalancer :80 -> ::13:8080, ranges 2001:db8::/124
LB_NODEPORT = 30081
STICKY = "2001:db8::101"  # ClientIP affinity 10 s :80 -> 3 pods :8080
DNS = "2001:db8::102"  # UDP :53 -> ::11:5353
EMPTY = "2001:db8:3::30"  # no endpoints: TCP 80, UDP 53
NDSVC = "2001:db8:3::50"  # :80 -> ::14:8080
DUAL = "2001:db8:3::60"  # dual-stack Service: its IPv6 pod is ::12

ETH = 14
L4 = ETH + 40


# ---- frame builders ----

def from_client(ip, src_mac=MAC_GW):
    return Ether(src=src_mac, dst=MAC_EXT) / ip


def from_pod(pod, ip):
    return Ether(src=POD_MAC[pod], dst=MAC_INT) / ip


def to_client(ip, dst_mac=MAC_GW):
    return Ether(src=MAC_EXT, dst=dst_mac) / ip


def to_pod(pod, ip):
    return Ether(src=MAC_INT, dst=POD_MAC[pod]) / ip


def syn(dst, dport, sport=40000, src=CLIENT, seq=1000, hlim=64, ext=None):
    ip = IPv6(src=src, dst=dst, hlim=hlim, fl=0x12345)
    if ext is not None:
        ip = ip / ext
    return ip / TCP(sport=sport, dport=dport, seq=seq, flags="S", window=64240,
                    options=SYN_OPTS)


def tcp(src, dst, sport, dport, flags, seq, ack, payload=b"", hlim=64):
    pkt = IPv6(src=src, dst=dst, hlim=hlim) / TCP(sport=sport, dport=dport, seq=seq, ack=ack,
                                                  flags=flags, window=502)
    return pkt / Raw(payload) if payload else pkt


def udp(src, dst, sport, dport, payload, chksum=None):
    u = UDP(sport=sport, dport=dport) if chksum is None else UDP(sport=sport, dport=dport,
                                                                   chksum=chksum)
    return IPv6(src=src, dst=dst, hlim=64) / u / Raw(payload)


def nat(ip, src=None, dst=None, sport=None, dport=None):
    """@ip as forwarded: addresses and ports rewritten, hop limit - 1,
    everything else (traffic class, flow label, extension headers, payload)
    kept; the L4 checksum recomputed by scapy."""
    out = ip.copy()
    out.hlim -= 1
    if src:
        out.src = src
    if dst:
        out.dst = dst
    l4 = out[TCP] if out.haslayer(TCP) else out[UDP]
    if sport is not None:
        l4.sport = sport
    if dport is not None:
        l4.dport = dport
    del l4.chksum
    return out


def solicited_node(addr):
    """ff02::1:ffXX:XXXX of @addr (RFC 4291 section 2.7.1) and its MAC."""
    low = ipaddress.IPv6Address(addr).packed[13:]
    group = str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))
    return group, "33:33:ff:%02x:%02x:%02x" % tuple(low)


def ns(src_mac, src, target, iface_mac, slla=True, hlim=255):
    group, gmac = solicited_node(target)
    pkt = Ether(src=src_mac, dst=gmac) / IPv6(src=src, dst=group, hlim=hlim) / \
        ICMPv6ND_NS(tgt=target)
    if slla:
        pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=src_mac)
    return pkt


def na(our_mac, target, peer_mac, peer, solicited=True):
    return Ether(src=our_mac, dst=peer_mac) / IPv6(src=target, dst=peer, hlim=255) / \
        ICMPv6ND_NA(R=0, S=1 if solicited else 0, O=1, tgt=target) / \
        ICMPv6NDOptDstLLAddr(lladdr=our_mac)


def our_ns(iface_mac, src, target):
    """The Neighbor Solicitation edgelb sends to resolve @target."""
    group, gmac = solicited_node(target)
    return Ether(src=iface_mac, dst=gmac) / IPv6(src=src, dst=group, hlim=255) / \
        ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=iface_mac)


# ---- neighbour discovery ----

fixture("nd_ns_for_interface_address",
        "Neighbor Solicitation for the ext interface address: solicited NA from the ext MAC "
        "with the Target Link-Layer Address option") \
    .step("arp-reply", EXT, ns(MAC_GW, GW, NODE, MAC_EXT),
          [Out(EXT, na(MAC_EXT, NODE, MAC_GW, GW))])

fixture("nd_ns_for_loadbalancer_ip", "Neighbor Solicitation for an IPv6 LoadBalancer IP is "
        "answered") \
    .step("arp-reply", EXT, ns(MAC_GW, GW, LB, MAC_EXT),
          [Out(EXT, na(MAC_EXT, LB, MAC_GW, GW))])

fixture("nd_ns_for_snat_address_from_pod",
        "a pod's Neighbor Solicitation for the IPv6 SNAT address is answered on int") \
    .step("arp-reply", INT, ns(POD_MAC[PODS[0]], PODS[0], SNAT, MAC_INT),
          [Out(INT, na(MAC_INT, SNAT, POD_MAC[PODS[0]], PODS[0]))])

fixture("nd_dad_probe_answered_to_all_nodes",
        "a duplicate address detection probe (source ::) for the node address is answered "
        "to ff02::1 with Solicited clear (RFC 4861 section 7.2.4)") \
    .step("arp-reply", EXT, ns(MAC_GW, "::", NODE, MAC_EXT, slla=False),
          [Out(EXT, Ether(src=MAC_EXT, dst="33:33:00:00:00:01") /
               IPv6(src=NODE, dst="ff02::1", hlim=255) /
               ICMPv6ND_NA(R=0, S=0, O=1, tgt=NODE) / ICMPv6NDOptDstLLAddr(lladdr=MAC_EXT))])

fixture("nd_ns_from_link_local_source",
        "a router's Neighbor Solicitation from its link-local address is answered to that "
        "address (link-local sources are refused for new flows only)") \
    .step("arp-reply", EXT, ns(MAC_GW, "fe80::fe", NODE, MAC_EXT),
          [Out(EXT, na(MAC_EXT, NODE, MAC_GW, "fe80::fe"))])

fixture("nd_ns_not_ours", "a Neighbor Solicitation for an address edgelb does not own is "
        "dropped") \
    .step("drop:not_ours", EXT, ns(MAC_GW, GW, "2001:db8::77", MAC_EXT))

fixture("nd_ns_hop_limit_not_255", "a Neighbor Solicitation with hop limit 64 (it crossed a "
        "router) is invalid") \
    .step("drop:bad_nd", EXT, ns(MAC_GW, GW, NODE, MAC_EXT, hlim=64))


def nd_wait_fixture():
    f = fixture("nd_resolution_releases_queued_syn",
                "first SYN to a backend without neighbour entry waits for neighbour discovery; "
                "the NA releases it rewritten; later packets go straight out")
    pod = "2001:db8:2::14"
    s = syn(NDSVC, 80)
    sp = f.snat_port()
    f.step("queued", EXT, from_client(s), [Out(INT, our_ns(MAC_INT, SNAT, pod))],
           note="NS to the solicited-node group from the int address in the pod's prefix")
    f.step("forward", INT, na(POD_MAC[pod], pod, MAC_INT, SNAT),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))],
           note="the solicited NA releases the held SYN")
    sa = tcp(pod, SNAT, 8080, sp, "SA", 7000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=NDSVC, dst=CLIENT, sport=80, dport=40000)))])
    a = tcp(CLIENT, NDSVC, 40000, 80, "A", 1001, 7001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, to_pod(pod, nat(a, src=SNAT, dst=pod, sport=sp, dport=8080)))],
           note="the learned MAC is used without asking again")


nd_wait_fixture()


def nd_learn_fixture():
    f = fixture("nd_ns_from_pod_teaches_its_mac",
                "a pod soliciting the SNAT address is learned from its Source Link-Layer "
                "Address option; traffic to it needs no solicitation")
    pod = "2001:db8:2::14"
    f.step("arp-reply", INT, ns(POD_MAC[pod], pod, SNAT, MAC_INT),
           [Out(INT, na(MAC_INT, SNAT, POD_MAC[pod], pod))])
    s = syn(NDSVC, 80)
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=f.snat_port(), dport=8080)))])


nd_learn_fixture()


def nd_unresolved_fixture():
    f = fixture("nd_unresolved_drops_after_three_solicitations",
                "one solicitation per second, three in all, then the held packet is dropped")
    pod = "2001:db8:2::14"
    req = Out(INT, our_ns(MAC_INT, SNAT, pod))
    f.step("queued", EXT, from_client(syn(NDSVC, 80)), [req], at=1000)
    f.step("none", at=1500, note="no second solicitation within a second")
    f.step("none", outs=[req], at=2000)
    f.step("none", outs=[req], at=3000)
    f.step("drop:neighbor_unresolved", at=4000)


nd_unresolved_fixture()


# ---- ICMPv6 echo ----

PING = b"edgelb-fixture-ping6-0123456789"


def echo_fixture(name, desc, iface, src, src_mac, dst, reply_mac, ext=None):
    req = IPv6(src=src, dst=dst, hlim=61, fl=0xbeef)
    if ext is not None:
        req = req / ext
    req = req / ICMPv6EchoRequest(id=0x4242, seq=7, data=PING)
    rep = IPv6(src=dst, dst=src, hlim=64, fl=0xbeef) / \
        ICMPv6EchoReply(id=0x4242, seq=7, data=PING)
    our = MAC_EXT if iface == EXT else MAC_INT
    fixture(name, desc).step("echo-reply", iface, Ether(src=src_mac, dst=our) / req,
                             [Out(iface, Ether(src=our, dst=reply_mac) / rep)])


echo_fixture("echo6_interface_address", "ICMPv6 echo to the ext interface address is answered "
             "(hop limit 64, traffic class and flow label as received)",
             EXT, CLIENT, MAC_GW, NODE, MAC_GW)
echo_fixture("echo6_loadbalancer_ip", "ICMPv6 echo to an IPv6 LoadBalancer IP is answered",
             EXT, CLIENT, MAC_GW, LB, MAC_GW)
echo_fixture("echo6_cluster_ip", "ICMPv6 echo to an IPv6 clusterIP routed here is answered",
             EXT, CLIENT, MAC_GW, CIP, MAC_GW)
echo_fixture("echo6_snat_address_from_pod", "a pod pinging the IPv6 SNAT address is answered "
             "on int", INT, PODS[0], POD_MAC[PODS[0]], SNAT, POD_MAC[PODS[0]])
echo_fixture("echo6_with_destination_options",
             "an echo request carrying a destination options header is answered without it",
             EXT, CLIENT, MAC_GW, NODE, MAC_GW,
             ext=IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]))

fixture("echo6_from_own_address", "an ICMPv6 echo request from an address edgelb owns "
        "is not answered") \
    .step("drop:martian", EXT,
          from_client(IPv6(src=LB, dst=NODE) / ICMPv6EchoRequest(id=1, seq=1)))

fixture("echo6_not_ours", "ICMPv6 echo to an address edgelb does not own is dropped") \
    .step("drop:not_ours", EXT,
          from_client(IPv6(src=CLIENT, dst="2001:db8::77") / ICMPv6EchoRequest(id=1, seq=1)))

fixture("icmp6_node_information_unsupported",
        "an ICMPv6 node information query (type 139) to the node address is dropped") \
    .step("drop:icmp_unsupported", EXT,
          from_client(IPv6(src=CLIENT, dst=NODE) / ICMPv6Unknown(type=139, msgbody=b"\0" * 12)))


# ---- connections ----

def nodeport_fixture():
    f = fixture("nodeport6_tcp_connection",
                "NodePort 30080 on the node's IPv6 address: SYN to a pod through the IPv6 SNAT "
                "address, SYN+ACK back to the client, ACK and data on the same backend")
    s = syn(NODE, WEB_NODEPORT)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp, dport=8080)),
                         PODS))],
           note="snat [2001:db8:2::1]:1024 -> pod:8080, pod MAC, int MAC, hop limit 63")
    sa = lambda p: tcp(p, SNAT, 8080, sp, "SA", 5000, 1001)
    f.step("forward", INT, Alt("A", lambda p: from_pod(p, sa(p)), PODS),
           [Out(EXT, to_client(nat(sa(PODS[0]), src=NODE, dst=CLIENT, sport=WEB_NODEPORT,
                                   dport=40000)))],
           note="reply leaves from node:30080 to the client via the router's MAC")
    a = tcp(CLIENT, NODE, 40000, WEB_NODEPORT, "A", 1001, 5001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(a, src=SNAT, dst=p, sport=sp, dport=8080)),
                         PODS))])
    d = tcp(CLIENT, NODE, 40000, WEB_NODEPORT, "PA", 1001, 5001,
            payload=b"GET / HTTP/1.1\r\nHost: edgelb\r\n\r\n")
    f.step("forward", EXT, from_client(d),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(d, src=SNAT, dst=p, sport=sp, dport=8080)),
                         PODS))])
    r = lambda p: tcp(p, SNAT, 8080, sp, "PA", 5001, 1033,
                      payload=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    f.step("forward", INT, Alt("A", lambda p: from_pod(p, r(p)), PODS),
           [Out(EXT, to_client(nat(r(PODS[0]), src=NODE, dst=CLIENT, sport=WEB_NODEPORT,
                                   dport=40000)))])
    fin = tcp(CLIENT, NODE, 40000, WEB_NODEPORT, "FA", 1033, 5040)
    f.step("forward", EXT, from_client(fin),
           [Out(INT, Alt("A", lambda p: to_pod(p, nat(fin, src=SNAT, dst=p, sport=sp,
                                                       dport=8080)), PODS))])


nodeport_fixture()


def ports_fixture():
    f = fixture("snat6_ports_in_order",
                "each new IPv6 flow of a fresh worker takes the next SNAT port from 1024")
    for i, cport in enumerate((40001, 40002, 40003)):
        s = syn(NODE, WEB_NODEPORT, sport=cport)
        sp = f.snat_port()
        f.step("forward", EXT, from_client(s),
               [Out(INT, Alt("B%d" % i, lambda p, s=s, sp=sp: to_pod(
                   p, nat(s, src=SNAT, dst=p, sport=sp, dport=8080)), PODS))])


ports_fixture()


def simple_service(name, desc, vip, vport, pod, tport, client=CLIENT, client_mac=MAC_GW,
                   ext=None):
    f = fixture(name, desc)
    s = syn(vip, vport, src=client, ext=ext)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s, client_mac),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=tport)))])
    sa = tcp(pod, SNAT, tport, sp, "SA", 9000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=vip, dst=client, sport=vport, dport=40000),
                               client_mac))])
    return f


simple_service("clusterip6_connection", "IPv6 clusterIP routed here: SYN to the pod, SYN+ACK "
               "back", CIP, 80, "2001:db8:2::11", 8080)
simple_service("loadbalancer6_source_range_allowed",
               "IPv6 LoadBalancer IP from a client inside loadBalancerSourceRanges is served; "
               "the reply goes to the client's own MAC (connected route)",
               LB, 80, "2001:db8:2::13", 8080, client=NEAR, client_mac=MAC_NEAR)
simple_service("dual_stack_service_ipv6_client_reaches_ipv6_pod",
               "a RequireDualStack Service with IPv4 and IPv6 endpoints: a client of its IPv6 "
               "clusterIP is sent to its IPv6 pod", DUAL, 80, "2001:db8:2::12", 8080)
simple_service("extension_headers_forwarded_unchanged",
               "a SYN carrying hop-by-hop (router alert), destination options, a routing "
               "header with no segments left and an atomic fragment header is forwarded with "
               "all four intact", CIP, 80, "2001:db8:2::11", 8080,
               ext=IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt() /
               IPv6ExtHdrRouting(segleft=0) / IPv6ExtHdrFragment(id=0x1234))

fixture("loadbalancer6_source_range_refused",
        "IPv6 LoadBalancer IP from a client outside loadBalancerSourceRanges is dropped") \
    .step("drop:source_range", EXT, from_client(syn(LB, 80)))


def lb_nodeport_fixture():
    f = fixture("loadbalancer6_nodeport_ignores_source_ranges",
                "source ranges apply to the LoadBalancer IP only, not to the service's NodePort "
                "on the node's IPv6 address")
    s = syn(NODE, LB_NODEPORT)
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod("2001:db8:2::13", nat(s, src=SNAT, dst="2001:db8:2::13",
                                                  sport=f.snat_port(), dport=8080)))])


lb_nodeport_fixture()


def padding_fixture():
    f = fixture("ethernet6_padding_removed",
                "bytes after the IPv6 payload length are not forwarded")
    s = IPv6(src=CLIENT, dst=CIP, hlim=64) / TCP(sport=40000, dport=80, seq=1000, flags="S",
                                                  window=1024)
    f.step("forward", EXT, bytes(from_client(s)) + b"\xee" * 6,
           [Out(INT, to_pod("2001:db8:2::11", nat(s, src=SNAT, dst="2001:db8:2::11",
                                                  sport=f.snat_port(), dport=8080)))])


padding_fixture()


def udp_fixture():
    f = fixture("udp6_query_and_answer",
                "UDP 53 on an IPv6 LoadBalancer IP to pod:5353 through SNAT, the answer back, a "
                "second query on the same flow")
    pod = "2001:db8:2::11"
    sp = f.snat_port()
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
            b"\x03www\x07example\x00\x00\x1c\x00\x01")
    f.step("forward", EXT, from_client(q),
           [Out(INT, to_pod(pod, nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)))])
    ans = udp(pod, SNAT, 5353, sp, b"\x12\x34\x81\x80" + b"\x00" * 8)
    f.step("forward", INT, from_pod(pod, ans),
           [Out(EXT, to_client(nat(ans, src=DNS, dst=CLIENT, sport=53, dport=50000)))])
    q2 = udp(CLIENT, DNS, 50000, 53, b"\x56\x78" + b"\x00" * 10)
    f.step("forward", EXT, from_client(q2),
           [Out(INT, to_pod(pod, nat(q2, src=SNAT, dst=pod, sport=sp, dport=5353)))])


udp_fixture()


# ---- rejects (no endpoints) ----

def reject_fixtures():
    s = syn(EMPTY, 80, seq=123456)
    rst = IPv6(src=EMPTY, dst=CLIENT, hlim=64) / TCP(sport=80, dport=40000, seq=0,
                                                     ack=123457, flags="RA", window=0)
    fixture("reject6_tcp_no_endpoint",
            "IPv6 SYN to a service without endpoints: RST+ACK from VIP:port, ack = seq + 1") \
        .step("reject", EXT, from_client(s), [Out(EXT, to_client(rst))])

    q = udp(CLIENT, EMPTY, 50000, 53, b"\xab\xcd" + b"\x00" * 10)
    unreach = IPv6(src=EMPTY, dst=CLIENT, hlim=64) / ICMPv6DestUnreach(code=4) / Raw(bytes(q))
    fixture("reject6_udp_no_endpoint",
            "UDP to an IPv6 service without endpoints: ICMPv6 port unreachable (type 1 code 4) "
            "quoting the whole datagram") \
        .step("reject", EXT, from_client(q), [Out(EXT, to_client(unreach))])

    big = udp(CLIENT, EMPTY, 50000, 53, bytes(range(256)) * 6)
    unreach = IPv6(src=EMPTY, dst=CLIENT, hlim=64) / ICMPv6DestUnreach(code=4) / \
        Raw(bytes(big)[:1280 - 48])
    fixture("reject6_udp_quote_fits_minimum_mtu",
            "the port unreachable for a 1584-byte datagram quotes its first 1232 bytes: the "
            "error is 1280 bytes, the IPv6 minimum MTU") \
        .step("reject", EXT, from_client(big), [Out(EXT, to_client(unreach))])


reject_fixtures()


# ---- session affinity ----

STICKY_PORTS = [41000 + 7 * k for k in range(11)]


def sticky_out(var, cport, sp, src=CLIENT):
    s = syn(STICKY, 80, sport=cport, src=src)
    return Out(INT, Alt(var, lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp, dport=8080)),
                        PODS))


for k, cport in enumerate(STICKY_PORTS):
    f = fixture("affinity6_fresh_choice_%d" % cport,
                "where a fresh worker sends a first IPv6 connection from port %d (no affinity "
                "yet); later fixtures compare with it" % cport)
    f.step("forward", EXT, from_client(syn(STICKY, 80, sport=cport)),
           [sticky_out("g_sticky6_%d" % k, cport, f.snat_port())])


def affinity_fixtures():
    f = fixture("affinity6_same_pod_within_timeout",
                "ClientIP affinity on the IPv6 source: eleven connections from one client within "
                "the 10 s timeout all go to the pod of the first")
    for k, cport in enumerate(STICKY_PORTS):
        f.step("forward", EXT, from_client(syn(STICKY, 80, sport=cport)),
               [sticky_out("A", cport, f.snat_port())], at=1000 + 500 * k)
    f.distinct = ["g_sticky6_%d" % k for k in range(len(STICKY_PORTS))]

    f = fixture("affinity6_expires_after_timeout",
                "after timeoutSeconds + 1 s without traffic a new IPv6 connection goes where a "
                "fresh worker would send it")
    for k, cport in enumerate(STICKY_PORTS):
        f.step("forward", EXT, from_client(syn(STICKY, 80, sport=cport)),
               [sticky_out("g_sticky6_%d" % k, cport, f.snat_port())], at=1000 + 11000 * k)


affinity_fixtures()


# ---- ICMPv6 errors ----

def icmp_error_fixtures():
    pod = "2001:db8:2::11"

    f = fixture("icmp6_packet_too_big_from_pod",
                "Packet Too Big from the pod side quoting a tracked flow is translated (outer "
                "from the frontend to the client, quote back to client -> frontend, MTU kept) "
                "and sent to the client")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    err = IPv6(src=pod, dst=SNAT, hlim=64) / ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(fwd))
    back = s.copy()
    back.hlim -= 1  # the quote is of the packet the pod got (hop limit 63)
    exp = IPv6(src=CIP, dst=CLIENT, hlim=63) / ICMPv6PacketTooBig(mtu=1400) / Raw(bytes(back))
    f.step("translate", INT, from_pod(pod, err), [Out(EXT, to_client(exp))])

    f = fixture("icmp6_packet_too_big_from_client_side",
                "Packet Too Big from a router on the client side, quoting a reply edgelb sent, "
                "is translated and sent to the pod")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "PA", 9000, 1001, payload=b"x" * 200)
    out = nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)
    f.step("forward", INT, from_pod(pod, sa), [Out(EXT, to_client(out))])
    err = IPv6(src=ROUTER, dst=CIP, hlim=250) / ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(out))
    orig = sa.copy()
    orig.hlim -= 1
    exp = IPv6(src=SNAT, dst=pod, hlim=249) / ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(orig))
    f.step("translate", EXT, from_client(err), [Out(INT, to_pod(pod, exp))])

    f = fixture("icmp6_time_exceeded_from_client_side",
                "time exceeded from a router on the client side, quoting a reply edgelb sent "
                "(hop limit 1 as the router saw it), is translated and sent to the pod")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    out = nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)
    f.step("forward", INT, from_pod(pod, sa), [Out(EXT, to_client(out))])
    expired = out.copy()
    expired.hlim = 1
    err = IPv6(src=ROUTER, dst=CIP, hlim=250) / ICMPv6TimeExceeded(code=0) / Raw(bytes(expired))
    orig = sa.copy()
    orig.hlim = 1
    exp = IPv6(src=SNAT, dst=pod, hlim=249) / ICMPv6TimeExceeded(code=0) / Raw(bytes(orig))
    f.step("translate", EXT, from_client(err), [Out(INT, to_pod(pod, exp))])

    f = fixture("icmp6_port_unreachable_for_udp_flow",
                "port unreachable from the pod for a tracked UDP flow goes back to the client")
    q = udp(CLIENT, DNS, 50000, 53, b"\x12\x34" + b"\x00" * 10)
    sp = f.snat_port()
    fwd = nat(q, src=SNAT, dst=pod, sport=sp, dport=5353)
    f.step("forward", EXT, from_client(q), [Out(INT, to_pod(pod, fwd))])
    err = IPv6(src=pod, dst=SNAT, hlim=64) / ICMPv6DestUnreach(code=4) / Raw(bytes(fwd))
    back = q.copy()
    back.hlim -= 1
    exp = IPv6(src=DNS, dst=CLIENT, hlim=63) / ICMPv6DestUnreach(code=4) / Raw(bytes(back))
    f.step("translate", INT, from_pod(pod, err), [Out(EXT, to_client(exp))])

    stray = IPv6(src=SNAT, dst=pod, hlim=63) / TCP(sport=2000, dport=8080, flags="S", seq=1)
    fixture("icmp6_error_for_unknown_flow",
            "an ICMPv6 error quoting a flow edgelb does not track is dropped") \
        .step("drop:icmp_untracked", INT,
              from_pod(pod, IPv6(src=pod, dst=SNAT) / ICMPv6PacketTooBig(mtu=1400) /
                       Raw(bytes(stray))))

    f = fixture("icmp6_error_hop_limit_1",
                "an ICMPv6 error quoting a tracked flow that arrives with hop limit 1 is "
                "dropped (forwarding would make it 0) without an error about it (RFC 4443 "
                "section 2.4 (e))")
    s = syn(CIP, 80)
    sp = f.snat_port()
    fwd = nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)
    f.step("forward", EXT, from_client(s), [Out(INT, to_pod(pod, fwd))])
    f.step("drop:ttl_exceeded", INT,
           from_pod(pod, IPv6(src=pod, dst=SNAT, hlim=1) / ICMPv6PacketTooBig(mtu=1400) /
                    Raw(bytes(fwd))))

    fixture("icmp6_error_quote_truncated",
            "an ICMPv6 error whose quote stops inside the quoted IPv6 header is dropped") \
        .step("drop:truncated", INT,
              from_pod(pod, IPv6(src=pod, dst=SNAT) / ICMPv6DestUnreach(code=4) /
                       Raw(bytes(stray)[:30])))


icmp_error_fixtures()


# ---- hop limit ----

def time_exceeded6(src, dst, quoted):
    """The ICMPv6 time exceeded edgelb sends (RFC 4443 section 3.3): header
    bytes of dataplane/icmp6.h, the packet as received quoted up to 1232
    bytes so the error fits the IPv6 minimum MTU."""
    return IPv6(src=src, dst=dst, hlim=64) / ICMPv6TimeExceeded(code=0) / \
        Raw(bytes(quoted)[:1280 - 48])


def hop_limit_fixtures():
    pod = "2001:db8:2::11"
    for hlim in (1, 0):
        s = syn(CIP, 80, hlim=hlim)
        fixture("hop_limit_%d_to_a_vip_gets_time_exceeded_from_the_vip" % hlim,
                "a SYN with hop limit %d to a service is dropped, no flow created, and "
                "answered with ICMPv6 time exceeded (type 3 code 0) from the service address "
                "quoting the SYN as received" % hlim) \
            .step("drop:ttl_exceeded", EXT, from_client(s),
                  [Out(EXT, to_client(time_exceeded6(CIP, CLIENT, s)))])

    big = IPv6(src=CLIENT, dst=DNS, hlim=1) / UDP(sport=50000, dport=53) / \
        Raw(bytes(range(256)) * 6)
    fixture("time_exceeded6_quote_fits_minimum_mtu",
            "the time exceeded for a 1584-byte datagram with hop limit 1 quotes its first "
            "1232 bytes: the error is 1280 bytes") \
        .step("drop:ttl_exceeded", EXT, from_client(big),
              [Out(EXT, to_client(time_exceeded6(DNS, CLIENT, big)))])

    f = fixture("hop_limit_1_on_tracked_flow",
                "a packet of a tracked flow with hop limit 1 is dropped in either direction "
                "and answered with time exceeded from the address it was sent to (the SNAT "
                "address for a reply, the service address for the client); the flow goes on")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001, hlim=1)
    f.step("drop:ttl_exceeded", INT, from_pod(pod, sa),
           [Out(INT, to_pod(pod, time_exceeded6(SNAT, pod, sa)))])
    a = tcp(CLIENT, CIP, 40000, 80, "A", 1001, 9001, hlim=1)
    f.step("drop:ttl_exceeded", EXT, from_client(a),
           [Out(EXT, to_client(time_exceeded6(CIP, CLIENT, a)))])
    sa = tcp(pod, SNAT, 8080, sp, "SA", 9000, 1001)
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])

    fixture("hop_limit_1_from_a_link_local_source_gets_no_time_exceeded",
            "a SYN with hop limit 1 from a link-local source is refused as a martian; nothing "
            "is sent back") \
        .step("drop:martian", EXT, from_client(syn(CIP, 80, src="fe80::7", hlim=1)))

    f = base.worker_settings(fixture(
        "generated_errors6_share_one_rate_limit",
        "1 error/s, burst 2: two time exceeded go out, the third in the same burst is not "
        "sent (icmp_rate_limited) and its packet is still dropped as ttl_exceeded; a port "
        "unreachable in that burst is not sent either (no_endpoint); a second later one "
        "goes out"), icmp_errors_per_second=1, icmp_errors_burst=2)
    for k in range(3):
        s = syn(CIP, 80, sport=45000 + k, hlim=1)
        if k < 2:
            f.step("drop:ttl_exceeded", EXT, from_client(s),
                   [Out(EXT, to_client(time_exceeded6(CIP, CLIENT, s)))],
                   note="error %d of the burst" % (k + 1))
        else:
            f.step("drop:ttl_exceeded+icmp_rate_limited", EXT, from_client(s),
                   note="the bucket is empty")
    q = udp(CLIENT, EMPTY, 50000, 53, b"\xab\xcd" + b"\x00" * 10)
    f.step("drop:no_endpoint+icmp_rate_limited", EXT, from_client(q),
           note="a reject takes from the same bucket")
    unreach = IPv6(src=EMPTY, dst=CLIENT, hlim=64) / ICMPv6DestUnreach(code=4) / Raw(bytes(q))
    f.step("reject", EXT, from_client(q), [Out(EXT, to_client(unreach))], at=f.now + 1000,
           note="a second later the bucket holds one again")
    f.step("drop:no_endpoint+icmp_rate_limited", EXT, from_client(q), note="and only one")


hop_limit_fixtures()


# ---- floods ----

def flood_syn(f, var, cport, src=CLIENT, src_mac=MAC_GW, at=None):
    s = syn(NODE, WEB_NODEPORT, sport=cport, src=src)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s, src_mac),
           [Out(INT, Alt(var, lambda p: to_pod(p, nat(s, src=SNAT, dst=p, sport=sp, dport=8080)),
                         PODS))], at=at, note="new flow from [%s]:%d" % (src, cport))
    return sp


def flood_refused(f, cport, label, src=CLIENT, src_mac=MAC_GW, at=None):
    f.step("drop:" + label, EXT, from_client(syn(NODE, WEB_NODEPORT, sport=cport, src=src),
                                             src_mac), at=at,
           note="SYN from [%s]:%d refused" % (src, cport))


def flood_fixtures():
    f = base.worker_settings(fixture(
        "flow_table6_full_refuses_new_flows",
        "with max_flows 2 a third IPv6 SYN is refused and counted (flow_table_full) while both "
        "tracked flows keep forwarding"), max_flows=2)
    flood_syn(f, "T1", 43001)
    sp2 = flood_syn(f, "T2", 43002)
    flood_refused(f, 43003, "flow_table_full")
    a = tcp(CLIENT, NODE, 43002, WEB_NODEPORT, "A", 1001, 5001)
    f.step("forward", EXT, from_client(a),
           [Out(INT, Alt("T2", lambda p: to_pod(p, nat(a, src=SNAT, dst=p, sport=sp2,
                                                        dport=8080)), PODS))])

    f = base.worker_settings(fixture(
        "source6_rate_limit_shared_by_a_slash_64",
        "1 new flow/s per source, burst 2: sources of one /64 share a bucket, so a second "
        "host of the client's /64 is refused after the first opened two flows; a source of "
        "another /64 is not limited"), new_flows_per_source=1, new_flows_burst=2)
    flood_syn(f, "R1", 44001)
    flood_syn(f, "R2", 44002)
    flood_refused(f, 44003, "source_rate_limited", src=CLIENT2)
    flood_syn(f, "N1", 44004, src=NEAR, src_mac=MAC_NEAR)
    flood_syn(f, "R3", 44003, src=CLIENT2, at=f.now + 1000)


flood_fixtures()


# ---- replies that are not ----

def spoof_fixtures():
    pod = "2001:db8:2::11"
    f = fixture("spoofed6_reply_from_another_pod",
                "a reply to a tracked IPv6 SNAT port from a pod that is not the flow's backend "
                "is dropped; the real backend's reply still goes through")
    s = syn(CIP, 80)
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    f.step("drop:unknown_reply", INT,
           from_pod("2001:db8:2::12", tcp("2001:db8:2::12", SNAT, 8080, sp, "SA", 6666, 1001)))
    sa = tcp(pod, SNAT, 8080, sp, "SA", 7000, 1001)
    f.step("drop:wrong_interface", EXT, Ether(src=MAC_GW, dst=MAC_EXT) / sa,
           note="the backend's address arriving on ext, where it is not routed")
    f.step("forward", INT, from_pod(pod, sa),
           [Out(EXT, to_client(nat(sa, src=CIP, dst=CLIENT, sport=80, dport=40000)))])


spoof_fixtures()


# ---- malformed and unwanted packets ----

def bad(name, desc, label, frame, iface=EXT):
    fixture(name, desc).step("drop:" + label, iface, bytes(frame))


GOOD = bytes(from_client(syn(CIP, 80)))
CHAIN = bytes(from_client(syn(CIP, 80, ext=IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                              IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(segleft=0) /
                              IPv6ExtHdrFragment())))


def set_plen(frame, plen):
    b = bytearray(frame)
    b[ETH + 4:ETH + 6] = plen.to_bytes(2, "big")
    return bytes(b)


for cut in range(1, ETH + 40):
    bad("truncated6_header_cut_at_%d" % cut, "an IPv6 SYN cut after %d bytes, inside the "
        "Ethernet or IPv6 header" % cut, "truncated", GOOD[:cut])
for cut in range(ETH + 40, len(CHAIN)):
    bad("truncated6_chain_cut_at_%d" % cut, "a SYN behind four extension headers cut after %d "
        "of its %d bytes (payload length as sent)" % (cut, len(CHAIN)), "truncated", CHAIN[:cut])
for plen in range(0, 4 * 8):
    bad("ext_chain_payload_ends_at_%d" % plen,
        "the payload length ends the packet %d bytes into its four extension headers" % plen,
        "bad_ext_header", set_plen(CHAIN[:ETH + 40 + plen], plen))

def dest_opts(n):
    chain = IPv6ExtHdrDestOpt()
    for _ in range(n - 1):
        chain = chain / IPv6ExtHdrDestOpt()
    return chain


bad("ext_too_many_headers", "nine destination options headers (at most eight are walked)",
    "bad_ext_header", from_client(syn(CIP, 80, ext=dest_opts(9))))
simple_service("ext_eight_headers_forwarded", "a SYN behind eight destination options headers "
               "(the most walked) is forwarded", CIP, 80, "2001:db8:2::11", 8080,
               ext=dest_opts(8))
bad("ext_hop_by_hop_not_first", "a hop-by-hop header after a destination options header",
    "bad_ext_header",
    from_client(IPv6(src=CLIENT, dst=CIP) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() /
                TCP(sport=40000, dport=80, flags="S")))
bad("ext_routing_segments_left", "a routing header with one segment left (a source route)",
    "ip_options",
    from_client(IPv6(src=CLIENT, dst=CIP) /
                IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8:2::11"]) /
                TCP(sport=40000, dport=80, flags="S")))
bad("ext_first_fragment", "a fragment header with more fragments (edgelb does not reassemble)",
    "fragment",
    from_client(IPv6(src=CLIENT, dst=CIP) / IPv6ExtHdrFragment(m=1, id=7) /
                TCP(sport=40000, dport=80, flags="S")))
bad("ext_later_fragment", "a fragment header with offset 8 bytes", "fragment",
    from_client(IPv6(src=CLIENT, dst=CIP) / IPv6ExtHdrFragment(offset=1, nh=6, id=7) /
                Raw(b"\x00" * 24)))
bad("ext_fragment_of_a_reply", "a fragment to the IPv6 SNAT address", "fragment",
    from_pod("2001:db8:2::11", IPv6(src="2001:db8:2::11", dst=SNAT) /
             IPv6ExtHdrFragment(m=1, id=9) / TCP(sport=8080, dport=1024, flags="SA")), INT)
bad("ext_option_overruns_header", "a destination option whose length runs past its header",
    "bad_ext_header",
    set_plen(bytes(from_client(IPv6(src=CLIENT, dst=CIP, nh=60))) +
             bytes([6, 0, 1, 9, 0, 0, 0, 0]) + bytes(TCP(sport=40000, dport=80, flags="S")),
             28))
bad("payload_length_beyond_frame", "an IPv6 payload length of 200 in a 74-byte frame",
    "truncated", set_plen(GOOD, 200))
bad("ipv6_ethertype_version_4", "version 4 in the first byte of an IPv6 frame",
    "bad_version", GOOD[:ETH] + b"\x45" + GOOD[ETH + 1:])
bad("udp6_checksum_zero", "a UDP datagram without checksum (invalid over IPv6, RFC 8200 8.1)",
    "bad_checksum", from_client(udp(CLIENT, DNS, 50000, 53, b"\x00" * 12, chksum=0)))
bad("udp6_length_7", "a UDP length below the header", "bad_l4_header",
    from_client(IPv6(src=CLIENT, dst=DNS) / UDP(sport=50000, dport=53, len=7) /
                Raw(b"\x00" * 4)))
bad("tcp6_header_beyond_packet", "a TCP segment of 10 bytes", "bad_l4_header",
    from_client(IPv6(src=CLIENT, dst=CIP, nh=6) /
                Raw(bytes(TCP(sport=40000, dport=80, flags="S"))[:10])))
bad("tcp6_syn_fin", "SYN+FIN", "bad_tcp_flags",
    from_client(IPv6(src=CLIENT, dst=CIP) / TCP(sport=40000, dport=80, flags="SF")))
bad("icmp6_header_truncated", "an ICMPv6 message of 4 bytes to the node", "bad_l4_header",
    from_client(IPv6(src=CLIENT, dst=NODE, nh=58) / Raw(b"\x80\x00\x00\x00")))
bad("multicast_source", "a SYN from a multicast source", "martian",
    from_client(syn(CIP, 80, src="ff02::1")))
bad("loopback_source", "a SYN from ::1", "martian", from_client(syn(CIP, 80, src="::1")))
bad("unspecified_source", "a SYN from ::", "martian", from_client(syn(CIP, 80, src="::")))
bad("link_local_source", "a SYN to a service from fe80::5: a link-local source never leaves its "
    "link (RFC 4291 section 2.5.6), so no flow is opened for it", "martian",
    from_client(syn(CIP, 80, src="fe80::5")))
bad("v4_mapped_destination", "a SYN to ::ffff:198.18.3.20", "martian",
    from_client(syn("::ffff:198.18.3.20", 80)))
bad("own_address_as_source", "a SYN to a service from the node's own IPv6 address", "martian",
    from_client(syn(CIP, 80, src=NODE)))
bad("tcp6_port_0", "a SYN to a service from source port 0", "bad_port",
    from_client(syn(CIP, 80, sport=0)))
bad("no_next_header_to_vip", "No Next Header (59) to an IPv6 LoadBalancer IP",
    "unsupported_protocol", from_client(IPv6(src=CLIENT, dst=LB, nh=59)))
bad("gre6_not_ours", "GRE to an IPv6 address edgelb does not own", "not_ours",
    from_client(IPv6(src=CLIENT, dst="2001:db8::77", nh=47) / Raw(b"\x00" * 8)))
bad("unknown6_reply_to_snat", "a SYN+ACK to the IPv6 SNAT address matching no flow",
    "unknown_reply",
    from_pod("2001:db8:2::11", tcp("2001:db8:2::11", SNAT, 8080, 1024, "SA", 5000, 1001)), INT)
bad("tcp6_to_owned_address_without_service", "a SYN to the node's IPv6 address on a port no "
    "service uses", "no_service", from_client(syn(NODE, 12345)))
bad("tcp6_first_packet_not_syn", "an ACK for an IPv6 service with no flow", "no_flow",
    from_client(tcp(CLIENT, CIP, 40000, 80, "A", 1001, 5001)))



# ---- group destination MACs (found by fuzzing: they were forwarded) ----

def group_mac_fixtures():
    s = syn(CIP, 80)
    for name, mac, what in (("broadcast", "ff:ff:ff:ff:ff:ff", "the broadcast MAC"),
                            ("all_nodes", "33:33:00:00:00:01", "the all-nodes multicast MAC"),
                            ("solicited_node", solicited_node(CIP)[1],
                             "the solicited-node multicast MAC of the clusterIP")):
        fixture("dst_mac_%s_ipv6_dropped" % name,
                "an IPv6 SYN to a service sent on ext to %s is dropped: group MACs carry "
                "only neighbour discovery, as for IPv4 only ARP" % what) \
            .step("drop:not_our_mac", EXT, Ether(src=MAC_GW, dst=mac) / s)

    f = fixture("dst_mac_multicast_on_tracked_ipv6_flow",
                "a segment of a tracked IPv6 flow sent to a multicast MAC is dropped; the same "
                "segment to the ext MAC goes through")
    pod = "2001:db8:2::11"
    sp = f.snat_port()
    f.step("forward", EXT, from_client(s),
           [Out(INT, to_pod(pod, nat(s, src=SNAT, dst=pod, sport=sp, dport=8080)))])
    a = tcp(CLIENT, CIP, 40000, 80, "A", 1001, 5001)
    f.step("drop:not_our_mac", EXT, Ether(src=MAC_GW, dst="33:33:00:00:00:01") / a)
    f.step("forward", EXT, from_client(a),
           [Out(INT, to_pod(pod, nat(a, src=SNAT, dst=pod, sport=sp, dport=8080)))])

    echo = IPv6(src=CLIENT, dst=NODE, hlim=64) / ICMPv6EchoRequest(id=1, seq=1, data=PING)
    fixture("echo6_to_multicast_mac_dropped",
            "an ICMPv6 echo request to the node address sent to the all-nodes MAC is dropped") \
        .step("drop:not_our_mac", EXT, Ether(src=MAC_GW, dst="33:33:00:00:00:01") / echo)


group_mac_fixtures()

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: fixtures6.py OUTPUT_FILE\n")
        sys.exit(2)
    n = base.write(sys.argv[1])
    print("%d fixtures written to %s" % (n, sys.argv[1]))
