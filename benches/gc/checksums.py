#!/usr/bin/env python3
"""The checksum each program in this folder compares against, computed
from a model of what it does rather than by running it, so a program and
its constant never come from the same code.

usage: benches/gc/checksums.py [PROGRAM SIZE]

Without arguments, prints every program's checksum at the size it ships
with; with them, the checksum of PROGRAM at SIZE (binary_trees: the
exponent E of its 2^(E-d) trees per depth d; list_churn and large_heap:
steps; array_heavy: rounds), for a smaller copy to try on a runtime
that cannot yet run the full size. All four at full size take about
20 s.
"""
import sys

M64 = (1 << 64) - 1


def signed(v):
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def binary_trees(e=23):
    # stretch tree (depth 17), long-lived tree (16), 2^(e-d) trees of depth d
    total = (2**18 - 1) + (2**17 - 1)
    for d in range(4, 17, 2):
        total += 2 ** (e - d) * (2 ** (d + 1) - 1)
    return total


def list_churn(steps=60_000_000, queue=1500):
    k = 0x9E3779B97F4A7C15
    total = 0
    # The cell popped at step i is the one pushed at step i - queue.
    for i in range(queue, steps):
        total += ((i - queue) * k & M64) ^ i
    total += sum(j * k for j in range(steps - queue, steps))
    return signed(total)


def array_heavy(rounds=50_000):
    total = 0
    ring = [0] * 8
    for r in range(rounds):
        n = 200 + (r * 7919 & 0xFFFFFFFF) % 3000
        half = n // 2
        # a[j] = 3 * (r ^ 0x5555 or r) + j; b is 8 zeros, a[0..8], then a.
        # No value comes near 2^31 at these sizes, so i32 wrapping never
        # happens and plain sums stand in for the program's loops.
        a_sum = 3 * ((r ^ 0x5555) * half + r * (n - half)) + n * (n - 1) // 2
        first8 = sum(3 * (r ^ 0x5555) + j for j in range(8))
        total += a_sum + first8
        # y = x[half..n] then ones; x[j] = j/4 + r, all exact in f64.
        m = n - half
        total += int(sum(range(half, n)) / 4 + r * m + (n - m))
        # n/8 boxes r*1000 + j, the first half replaced by -1.
        nb = n >> 3
        boxes = -(nb // 2) + sum((r * 1000 + j) & 0xFFFFFFFF for j in range(nb // 2, nb))
        total += boxes
        ring[r & 7] = boxes
    total += sum(s * (k + 1) for k, s in enumerate(ring))
    return signed(total)


def large_heap(steps=8_000_000):
    table = [s << 4 for s in range(1 << 20)]
    x = total = 0
    for t in range(steps):
        x = (x * 6364136223846793005 + 1442695040888963407) & M64
        total += 8 * x + 28
        if t & 15 == 0:
            s = x >> 44
            total += 4 * table[s] + 6
            table[s] = t * 7
    total += 4 * sum(table) + 6 * len(table)
    return signed(total)


programs = {"binary_trees": binary_trees, "list_churn": list_churn,
            "array_heavy": array_heavy, "large_heap": large_heap}
if len(sys.argv) == 3:
    print(programs[sys.argv[1]](int(sys.argv[2])))
elif len(sys.argv) == 1:
    for name, f in programs.items():
        print(name, f())
else:
    sys.exit(__doc__)
