#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Run one libFuzzer target for a bounded time, starting from its seeds.

Usage: run_fuzz.py BINARY SEED_DIR WORK_DIR [--dict FILE] [--seconds N]

New inputs go to WORK_DIR/corpus (the seed directory is only read), crash,
leak and timeout inputs to WORK_DIR/crashes/. The time comes from
--seconds, else from FUZZ_SECONDS in the environment, else 10. A finding
fails the run; copy the input it names into the seed directory (it then
replays as a regression test in every build) and fix the bug.

Last line of output: "1 passed, 0 failed" or "0 passed, 1 failed".
"""
import argparse
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("seeds")
    ap.add_argument("work")
    ap.add_argument("--dict")
    ap.add_argument("--seconds", type=int,
                    default=int(os.environ.get("FUZZ_SECONDS", "10") or 10))
    a = ap.parse_args()
    name = os.path.basename(a.binary)
    corpus = os.path.join(a.work, "corpus")
    crashes = os.path.join(a.work, "crashes")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    before = set(os.listdir(crashes))
    cmd = [a.binary, "-max_total_time=%d" % a.seconds, "-timeout=25", "-rss_limit_mb=4096",
           "-max_len=16384", "-print_final_stats=1", "-artifact_prefix=" + crashes + "/"]
    if a.dict:
        cmd.append("-dict=" + a.dict)
    cmd += [corpus, a.seeds]
    print(" ".join(cmd), flush=True)
    try:
        rc = subprocess.call(cmd, timeout=a.seconds + 300)
    except subprocess.TimeoutExpired:
        rc = -1
        print("%s: did not stop in time" % name)
    found = sorted(set(os.listdir(crashes)) - before)
    if rc == 0 and not found:
        print("%s: %d s of fuzzing, corpus of %d inputs, no finding" %
              (name, a.seconds, len(os.listdir(corpus))))
        print("1 passed, 0 failed")
        return 0
    for f in found:
        print("%s: finding saved as %s" % (name, os.path.join(crashes, f)))
    print("%s: copy the input into %s (a regression test from then on) and fix the bug" %
          (name, a.seeds))
    print("0 passed, 1 failed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
