#!/usr/bin/env python3
"""What one work unit costs, from two callgrind runs that differ only in how many units
they do: callgrind_rows.py SMALL LARGE UNITS [--label TEXT] FUNCTION...
SMALL and LARGE are callgrind_annotate --inclusive=yes outputs of runs with the cache
simulation (nine events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw); UNITS is how many more
units LARGE did. For each FUNCTION found in both, one line: the function (after TEXT, if
given), then its inclusive instructions, D1 misses (reads and writes) and last-level
misses of LARGE less those of SMALL, divided by UNITS, so start-up and whatever both runs
did alike cancel out. Used by bench/flow_misses.sh and bench/flood_callgrind.sh."""
import re
import sys


def load(path):
    """Inclusive costs by function name (the first line of each name: its total)."""
    rows = {}
    for line in open(path):
        toks = re.sub(r"\(\s*[\d.]+%\)", "", line).split()
        vals = []
        while toks and len(vals) < 9 and re.fullmatch(r"[\d,]+|\.", toks[0]):
            t = toks.pop(0)
            vals.append(0 if t == "." else int(t.replace(",", "")))
        if len(vals) == 9 and toks:
            fn = re.sub(r"\s*\[.*\]$", "", " ".join(toks)).split(":")[-1]
            rows.setdefault(fn, vals)
    return rows


def main(argv):
    small, large, units, rest = argv[0], argv[1], float(argv[2]), argv[3:]
    label = None
    if rest[:1] == ["--label"]:
        label, rest = rest[1], rest[2:]
    a, b = load(small), load(large)
    for fn in rest:
        if fn in a and fn in b:
            d = [(y - x) / units for x, y in zip(a[fn], b[fn])]
            head = f"{label:>8s} " if label is not None else ""
            print(f"{head}{fn:30s} {d[0]:7.1f} {d[4] + d[5]:8.2f} {d[7] + d[8]:8.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
