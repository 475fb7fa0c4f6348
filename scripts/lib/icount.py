#!/usr/bin/python3
"""icount.py — turns callgrind's dumps from ffibench_icount into icount.json.

Each dump is labelled "<name>|<iterations>|<ops per iteration>" (see bench/icount.c). For every name,
instructions per operation = (Ir(N2) - Ir(N1)) / (N2 - N1) / ops: the setup both dumps share cancels.
Usage: icount.py DUMP_DIR OUT.json
"""
import glob
import json
import os
import re
import sys


def parse_dump(path):
    label = total = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("desc: Trigger: Client Request: "):
                label = line.split("Client Request: ", 1)[1].strip()
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
    return label, total


def main(dump_dir, out):
    runs = {}
    for path in glob.glob(os.path.join(dump_dir, "cg.*")):
        label, total = parse_dump(path)
        if not label or total is None or label.count("|") != 2:
            continue
        name, n, ops = label.split("|")
        runs.setdefault(name, {"ops": int(ops)})[int(n)] = total
    rows = []
    for name, r in runs.items():
        ns = sorted(k for k in r if k != "ops")
        if len(ns) != 2:
            continue
        n1, n2 = ns
        per_iter = (r[n2] - r[n1]) / (n2 - n1)
        rows.append({"name": name, "n1": n1, "ir1": r[n1], "n2": n2, "ir2": r[n2], "ops": r["ops"],
                     "per_iteration": per_iter, "per_op": per_iter / r["ops"]})
    rows.sort(key=lambda row: row["name"])
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"tool": "valgrind --tool=callgrind (Ir: instructions executed)",
                   "method": "(Ir(n2) - Ir(n1)) / (n2 - n1) / ops", "benchmarks": rows}, f, indent=2)
    print(f"icount: {len(rows)} benchmarks -> {out}")
    return 0 if rows else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
