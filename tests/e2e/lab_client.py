#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients that run inside the lab's client namespace (ip netns exec).

HOST and --src are IPv4 or IPv6 addresses (no brackets); the family of HOST
chooses the socket's.

  lab_client.py http N HOST PORT [--src IP] [--timeout S]
      N HTTP/1.0 requests, each on a new TCP connection; one line per
      request: the pod's answer ("pod-12 198.18.2.12:8080",
      "pod-12 [2001:db8:2::12]:8080"), or
      "ERROR refused", "ERROR timeout", "ERROR <text>".
  lab_client.py echo N HOST PORT [--src IP] [--timeout S]
      N TCP connections to an echo server, each sends "ping", prints the
      first answer ("pod-11 198.18.2.11:9000 ping") or an ERROR line, closes.
  lab_client.py tcp HOST PORT [--src IP] [--timeout S]
      one long-lived TCP connection; every line read on stdin is sent, the
      answer is printed as one line ("CLOSED" when the peer closed it).
  lab_client.py udp HOST PORT [--src IP] [--timeout S]
      one UDP socket (one source port for the whole run); every line on
      stdin is one datagram, the answer one line ("ERROR timeout",
      "ERROR refused" when an ICMP port unreachable came back).
  lab_client.py synflood N HOST PORT --dev IF --gw-mac MAC [--rate PPS]
      N TCP SYNs to HOST:PORT sent as raw Ethernet frames on IF to MAC, each
      from a random source in 198.18.0.128/25 and a random port, paced at
      PPS (default 4000). Prints "started" before the first frame and
      "sent N" at the end. Nothing is ever answered: the sources are not
      addresses of this namespace.
Output is flushed line by line, so a caller can talk to it over pipes.
"""
import argparse
import random
import socket
import struct
import sys
import time


def err(e):
    if isinstance(e, ConnectionRefusedError):
        return "ERROR refused"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "ERROR timeout"
    if isinstance(e, ConnectionResetError):
        return "ERROR reset"
    return "ERROR " + str(e).replace("\n", " ")


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(a):
    s = socket.socket(family(a.host), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    if a.src:
        s.bind((a.src, 0))
    s.connect((a.host, a.port))
    return s


def http(a):
    for _ in range(a.n):
        try:
            s = connect(a)
            with s:
                host = "[%s]" % a.host if ":" in a.host else a.host
                s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0].split(b" ")
            if len(status) < 2 or status[1] != b"200":
                print("ERROR status " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
            else:
                print(body.decode(errors="replace").strip())
        except OSError as e:
            print(err(e))
        sys.stdout.flush()


def echo(a):
    for _ in range(a.n):
        try:
            s = connect(a)
            with s:
                s.sendall(b"ping\n")
                data = s.recv(65536)
            print(data.decode(errors="replace").strip() if data else "CLOSED")
        except OSError as e:
            print(err(e))
        sys.stdout.flush()


def tcp(a):
    try:
        s = connect(a)
    except OSError as e:
        print(err(e), flush=True)
        return
    for line in sys.stdin:
        try:
            s.sendall(line.encode())
            data = s.recv(65536)
            print(data.decode(errors="replace").strip() if data else "CLOSED", flush=True)
        except OSError as e:
            print(err(e), flush=True)
    s.close()


def udp(a):
    s = socket.socket(family(a.host), socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    s.bind((a.src or ("::" if ":" in a.host else "0.0.0.0"), 0))
    s.connect((a.host, a.port))  # so ICMP errors reach this socket
    for line in sys.stdin:
        try:
            s.send(line.strip().encode())
            print(s.recv(65536).decode(errors="replace").strip(), flush=True)
        except OSError as e:
            print(err(e), flush=True)


def csum(data):
    """Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_frame(dst_mac, src_mac, src, dst, sport, dport, seq):
    """One Ethernet + IPv4 + TCP SYN frame (RFC 791, RFC 9293), checksums
    complete."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000,
                     64, socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def synflood(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    src_mac = s.getsockname()[4]
    dst_mac = bytes.fromhex(a.gw_mac.replace(":", ""))
    dst = socket.inet_aton(a.host)
    print("started", flush=True)
    sent = 0
    t0 = time.monotonic()
    while sent < a.n:
        src = bytes([198, 18, 0, random.randint(128, 255)])
        frame = syn_frame(dst_mac, src_mac, src, dst, random.randint(1024, 65535), a.port,
                          random.getrandbits(32))
        try:
            s.send(frame)
            sent += 1
        except OSError:  # a full queue: that frame is lost, as on a real link
            pass
        ahead = sent / a.rate - (time.monotonic() - t0)
        if ahead > 0.005:
            time.sleep(ahead)
    print("sent %d" % sent, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["http", "echo", "tcp", "udp", "synflood"])
    p.add_argument("rest", nargs="+")
    p.add_argument("--src")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--dev", default="eth0")
    p.add_argument("--gw-mac")
    p.add_argument("--rate", type=float, default=4000.0)
    a = p.parse_args()
    if a.mode in ("http", "echo", "synflood"):
        a.n, a.host, a.port = int(a.rest[0]), a.rest[1], int(a.rest[2])
        {"http": http, "echo": echo, "synflood": synflood}[a.mode](a)
    else:
        a.host, a.port = a.rest[0], int(a.rest[1])
        tcp(a) if a.mode == "tcp" else udp(a)


if __name__ == "__main__":
    main()
