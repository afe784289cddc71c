# SPDX-License-Identifier: BSD-3-Clause
"""Write the pcap that perf/vdev_bench.sh replays (net_pcap infinite_rx).

Client traffic to one LoadBalancer VIP: TCP flows to port 80 and UDP flows
to port 53, from distinct client addresses and ports behind the upstream
gateway. The file starts with the packet that opens each flow (a SYN, or the
first datagram) and then holds the further packets of every flow, round by
round, so on the first pass edgelb creates the flows and on every later pass
(infinite_rx replays the file) all packets hit established flows.

Frames are 60 bytes (64 on the wire with the FCS) with valid IPv4, TCP and
UDP checksums.

Usage: /usr/bin/python3 gen_pcap.py OUT.pcap [--tcp N] [--udp N] [--rounds R]
Needs scapy (Debian python3-scapy, for /usr/bin/python3).
"""
import argparse
import sys

from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap  # noqa: E402

VIP = "198.18.0.100"
GW_MAC = "02:00:00:00:00:fe"
# edgelb takes IPv4 frames addressed to its interface only: this is the
# MAC net_pcap gives its first port (the ext interface in vdev_bench.sh).
EXT_MAC = "02:70:63:61:70:00"


def client(i):
    """Address and port of flow i: 198.19.0.0/16, ports from 1024."""
    return "198.19.%d.%d" % ((i >> 8) & 0xFF, i & 0xFF), 1024 + (i >> 16)


def frame(l4, payload_len):
    pkt = Ether(src=GW_MAC, dst=EXT_MAC) / l4 / Raw(b"\x00" * payload_len)
    return Ether(bytes(pkt))  # checksums computed now


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--tcp", type=int, default=512, help="TCP flows (default 512)")
    ap.add_argument("--udp", type=int, default=512, help="UDP flows (default 512)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="packets per flow after the first (default 1)")
    a = ap.parse_args()

    opens, rounds = [], [[] for _ in range(a.rounds)]
    for i in range(a.tcp + a.udp):
        src, sport = client(i)
        ip = IP(src=src, dst=VIP, ttl=64, flags="DF")
        if i < a.tcp:
            opens.append(frame(ip / TCP(sport=sport, dport=80, flags="S", seq=1000), 6))
            for r in range(a.rounds):
                rounds[r].append(frame(
                    ip / TCP(sport=sport, dport=80, flags="A", seq=1001 + 6 * r, ack=1), 6))
        else:
            opens.append(frame(ip / UDP(sport=sport, dport=53), 18))
            for r in range(a.rounds):
                rounds[r].append(frame(ip / UDP(sport=sport, dport=53), 18))
    pkts = opens + [p for r in rounds for p in r]
    for p in pkts:
        assert len(p) == 60, len(p)
    wrpcap(a.out, pkts)
    print("%s: %d packets, %d TCP + %d UDP flows" % (a.out, len(pkts), a.tcp, a.udp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
