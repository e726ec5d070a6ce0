#!/usr/bin/env python3
"""Exceptions side by side: Kiln (Cranelift and interpreter) against
Wasmtime 48 on this folder's programs, interleaved, median wall time.

usage: benches/exceptions/race.py KILN WASMTIME [ROUNDS]

throwloop: 200,000 throws caught one frame up; deep: 100,000 throws through
100 frames; fib_plain / fib_outer / fib_try: fib(40) with no handler, with
one handler around the whole computation (every call may throw, none
does), and with every call inside a try_table.
"""
import os, statistics, subprocess, sys, time

kiln, wasmtime = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
here = os.path.dirname(os.path.abspath(__file__))
programs = ["throwloop", "deep", "fib_plain", "fib_outer", "fib_try"]
runners = {
    "kiln-cranelift": [kiln, "run", "-C", "compiler=cranelift"],
    "kiln-interp": [kiln, "run", "-C", "compiler=interp"],
    "wasmtime": [wasmtime, "run", "-W", "exceptions=y"],
}
times = {}
for _ in range(rounds):
    for p in programs:
        for name, cmd in runners.items():
            if name == "kiln-interp" and p.startswith("fib"):
                continue
            start = time.perf_counter()
            rc = subprocess.run(cmd + [os.path.join(here, p + ".wat")], capture_output=True).returncode
            elapsed = time.perf_counter() - start
            if rc != 0:
                sys.exit(f"{name} failed on {p} (exit {rc})")
            times.setdefault((p, name), []).append(elapsed)
for p in programs:
    row = {n: statistics.median(t) for (q, n), t in times.items() if q == p}
    cells = "  ".join(f"{n} {s:.3f}s" for n, s in row.items())
    print(f"{p:10s} {cells}  kiln-cranelift/wasmtime {row['kiln-cranelift'] / row['wasmtime']:.3f}")
