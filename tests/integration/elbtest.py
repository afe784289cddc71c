# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the integration scripts that run the edgelb binary.

- check(): count and print one result ("ok   NAME" or "FAIL NAME DETAIL");
  summary() prints "N passed, M failed" and gives the exit status;
- free_port(): a TCP port on 127.0.0.1 that nothing listens on right now;
- spawn() and wait_ready(): start a process with its output appended to a
  log file, and wait until a probe (usually GET /healthz) succeeds.

The scripts import it after putting their own directory on sys.path.
"""
import socket
import subprocess
import time

passed = 0
failed = 0


def check(name, ok, detail=""):
    """Count one result and print it; returns ok."""
    global passed, failed
    if ok:
        passed += 1
        print("ok   ", name)
    else:
        failed += 1
        print("FAIL ", name, detail)
    return ok


def summary():
    """Print the totals; returns the exit status (1 when anything failed)."""
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def spawn(cmd, log_path):
    """Start cmd with stdout and stderr appended to log_path, after a
    "---- start" line; returns the Popen."""
    log = open(log_path, "a")
    log.write("---- start\n")
    log.flush()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def wait_ready(proc, probe, timeout, interval, errors=(OSError,)):
    """Call probe() every interval seconds until it returns true (True), proc
    exits (False) or timeout seconds pass (False). Exceptions of the types in
    errors count as "not yet"."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if probe():
                return True
        except errors:
            pass
        time.sleep(interval)
    return False
