#!/usr/bin/env python3
"""Compares two outputs of make_driver.py's driver number by number.

    compare_outputs.py EXPECTED.txt ACTUAL.txt [--rtol R] [--atol A]

Each line is "NAME INDEX VALUE" (or "loss STEP VALUE"); the files must have the same lines in
the same order, and each value must satisfy |a - e| <= atol + rtol * |e|. Prints the worst
relative difference and exits 1 on any mismatch."""
import argparse
import math
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-6)
    a = ap.parse_args()
    want = open(a.expected).read().split("\n")
    got = open(a.actual).read().split("\n")
    if len(want) != len(got) or len(want) < 3:
        sys.exit(f"FAIL: {a.actual} has {len(got)} lines, {a.expected} {len(want)}")
    worst, bad = 0.0, 0
    for lw, lg in zip(want, got):
        if not lw:
            continue
        kw, vw = lw.rsplit(" ", 1)
        kg, vg = lg.rsplit(" ", 1)
        if kw != kg:
            sys.exit(f"FAIL: line '{lg}' where '{lw}' was expected")
        e, x = float(vw), float(vg)
        if not (math.isfinite(e) and math.isfinite(x)) or abs(x - e) > a.atol + a.rtol * abs(e):
            bad += 1
            if bad <= 10:
                print(f"mismatch {kw}: expected {e!r}, got {x!r}")
        elif e != 0:
            worst = max(worst, abs(x - e) / abs(e))
    print(f"{len(want) - 1} numbers, worst relative difference {worst:.3g}"
          f" (rtol {a.rtol}, atol {a.atol})")
    if bad:
        sys.exit(f"FAIL: {bad} numbers differ")


if __name__ == "__main__":
    main()
