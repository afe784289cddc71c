#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count every test case meson ran and print one line "N passed, M failed".

A meson test is one executable; inside it there may be many cases. Cases are
counted from the runner's own closing lines: cmocka's "[  PASSED  ] N test(s)."
and "[  FAILED  ] N test(s)", or a line "N passed, M failed" (packet fixtures,
integration scripts). A test that printed neither counts as one case, passed
or failed by its exit status. A test that failed without reporting a failed
case (a crash, a sanitizer finding) counts one more failure. Exit status is 1
when anything failed or nothing ran.
"""
import json
import re
import sys

CMOCKA_PASS = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CMOCKA_FAIL = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)
PLAIN = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed", re.M)


def count(entry):
    out = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL")
    skipped = entry.get("result") == "SKIP"
    p = sum(int(x) for x in CMOCKA_PASS.findall(out))
    f = sum(int(x) for x in CMOCKA_FAIL.findall(out))
    for a, b in PLAIN.findall(out):
        p += int(a)
        f += int(b)
    if skipped:
        return p, f, 1
    if p == 0 and f == 0:
        return (1, 0, 0) if ok else (0, 1, 0)
    if not ok and f == 0:
        f = 1
    return p, f, 0


def main():
    tot_p = tot_f = tot_s = 0
    for arg in sys.argv[1:]:
        path, _, tag = arg.partition(":")
        try:
            with open(path) as fh:
                lines = [json.loads(l) for l in fh if l.strip()]
        except FileNotFoundError:
            print(f"{tag}: no test log at {path}: counted as one failure")
            tot_f += 1
            continue
        for e in lines:
            p, f, s = count(e)
            tot_p += p
            tot_f += f
            tot_s += s
            status = "ok" if f == 0 else "FAILED"
            print(f"  {tag:8} {e.get('name', '?'):48} {p:4} passed {f:3} failed  {status}")
    line = f"{tot_p} passed, {tot_f} failed"
    if tot_s:
        line += f", {tot_s} skipped"
    print(line)
    return 1 if tot_f or tot_p == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
