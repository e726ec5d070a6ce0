#!/usr/bin/env bash
# Tiered against the Cranelift JIT, whole processes side by side.
#
#   benches/tiering.sh [RUNS]
#
# Runs every benchmark program (built by `cargo run -p kiln-bench`, in
# target/bench/build/wasm32-wasip1/release) with `kiln run` under
# -C compiler=cranelift (compile everything, then run: the JIT, compile
# time included), -C compiler=tiered and -C compiler=baseline, RUNS times
# each (default 5) in rotation, and prints each one's median wall time and
# the tiered/Cranelift and tiered/baseline ratios, with geometric means.
# On the large modules (large_*), whose programs do little, the process
# time is the time to the first instruction: that row is the start-up
# goal (tiered within 1.2x of baseline). Then the long kernels of
# benches/tiering/ (seconds each: one long loop entered once, recursion,
# nested loops, a hot callee), `kiln run --invoke run FILE ARG`, the same
# way. docs/performance.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
kiln="${KILN:-target/release/kiln}"
dir=target/bench/build/wasm32-wasip1/release
[ -x "$kiln" ] || cargo build --release -p kiln-cli
ls "$dir"/*.wasm >/dev/null 2>&1 || {
    echo "no benchmark programs in $dir: run \`cargo run --release -p kiln-bench -- --runs 1\` first" >&2
    exit 1
}
python3 - "$kiln" "$dir" "$runs" <<'PY'
import math, statistics, subprocess, sys, time, pathlib
kiln, d, runs = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
compilers = ["cranelift", "tiered", "baseline"]
progs = [(p.stem, [str(p)]) for p in sorted(d.glob("*.wasm")) if p.stem != "tiny"]
kernels = pathlib.Path("benches/tiering")
progs += [(f"kernel {k}", ["--invoke", "run", str(kernels / f"{k}.wat"), a])
          for k, a in [("seqhash", "2000000000"), ("fib", "42"), ("matmul", "600"), ("sieve", "6000")]]
print(f"{'program':22} {'cranelift':>10} {'tiered':>10} {'baseline':>10} {'t/cl':>6} {'t/bl':>6}")
ratios = {"t/cl": [], "t/bl": []}
large = {"t/bl": []}
long = {"t/cl": []}
for name, args in progs:
    times = {c: [] for c in compilers}
    outs = {}
    for _ in range(runs):
        for c in compilers:
            t0 = time.perf_counter()
            r = subprocess.run([kiln, "run", "-C", f"compiler={c}", *args],
                               capture_output=True, text=True)
            times[c].append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(f"{name} failed on {c}: {r.stderr[-400:]}")
            outs.setdefault(c, r.stdout)
    if len(set(outs.values())) != 1:
        sys.exit(f"{name}: outputs differ between compilers: {outs}")
    m = {c: statistics.median(times[c]) for c in compilers}
    tc, tb = m["tiered"] / m["cranelift"], m["tiered"] / m["baseline"]
    if name.startswith("large_"):
        large["t/bl"].append(tb)
    elif name.startswith("kernel"):
        long["t/cl"].append(tc)
    else:
        ratios["t/cl"].append(tc)
        ratios["t/bl"].append(tb)
    print(f"{name:22} {m['cranelift']*1e3:9.1f}ms {m['tiered']*1e3:9.1f}ms "
          f"{m['baseline']*1e3:9.1f}ms {tc:6.2f} {tb:6.2f}")
g = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")
print(f"geomean (programs): tiered/cranelift {g(ratios['t/cl']):.2f}, "
      f"max {max(ratios['t/cl']):.2f}; tiered/baseline {g(ratios['t/bl']):.2f}")
print(f"long kernels: tiered/cranelift {g(long['t/cl']):.2f}, max {max(long['t/cl']):.2f}")
if large["t/bl"]:
    print(f"large modules, start-up: tiered/baseline {', '.join(f'{x:.2f}' for x in large['t/bl'])}")
PY
