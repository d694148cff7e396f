#!/usr/bin/env python3
"""Runs scripts/bench/interp.aptp and its CPython peer alternately N times (default 7) and prints
the median seconds of each workload on both sides and their ratio (aptp / CPython). Alternating
keeps a slow spell of this shared machine from landing on one side only.

Usage: python3 tools/bench/interp_compare.py [N] [path/to/aptp]
"""
import re
import statistics
import subprocess
import sys

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
aptp = sys.argv[2] if len(sys.argv) > 2 else ".build/release/aptp"
commands = {"aptp": [aptp, "scripts/bench/interp.aptp"], "cpython": [sys.executable, "scripts/bench/interp_peer.py"]}
times = {}
for _ in range(runs):
    for side, command in commands.items():
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, _, rest = line.partition(":")
            seconds = re.findall(r"([0-9.]+) s\b", rest)
            if seconds:
                workload = re.sub(r"\s*=.*", "", name).strip()
                times.setdefault(workload, {}).setdefault(side, []).append(float(seconds[-1]))
print(f"{'workload':40s} {'aptp s':>8s} {'CPython s':>10s} {'ratio':>6s}")
for workload, sides in times.items():
    a, p = statistics.median(sides["aptp"]), statistics.median(sides["cpython"])
    print(f"{workload:40s} {a:8.3f} {p:10.3f} {a / p:6.2f}")
