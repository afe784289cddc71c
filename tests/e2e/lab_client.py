#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients that run inside the lab's client namespace (ip netns exec).

  lab_client.py http N HOST PORT [--src IP] [--timeout S]
      N HTTP/1.0 requests, each on a new TCP connection; one line per
      request: the pod's answer ("pod-12 198.18.2.12:8080"), or
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
Output is flushed line by line, so a caller can talk to it over pipes.
"""
import argparse
import socket
import sys


def err(e):
    if isinstance(e, ConnectionRefusedError):
        return "ERROR refused"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "ERROR timeout"
    if isinstance(e, ConnectionResetError):
        return "ERROR reset"
    return "ERROR " + str(e).replace("\n", " ")


def connect(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
                s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % a.host.encode())
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
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    s.bind((a.src or "0.0.0.0", 0))
    s.connect((a.host, a.port))  # so ICMP errors reach this socket
    for line in sys.stdin:
        try:
            s.send(line.strip().encode())
            print(s.recv(65536).decode(errors="replace").strip(), flush=True)
        except OSError as e:
            print(err(e), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["http", "echo", "tcp", "udp"])
    p.add_argument("rest", nargs="+")
    p.add_argument("--src")
    p.add_argument("--timeout", type=float, default=2.0)
    a = p.parse_args()
    if a.mode in ("http", "echo"):
        a.n, a.host, a.port = int(a.rest[0]), a.rest[1], int(a.rest[2])
        http(a) if a.mode == "http" else echo(a)
    else:
        a.host, a.port = a.rest[0], int(a.rest[1])
        tcp(a) if a.mode == "tcp" else udp(a)


if __name__ == "__main__":
    main()
