#!/usr/bin/env python3
"""GC side by side: Kiln (Cranelift and interpreter) against Wasmtime 48's
collectors on this folder's programs, interleaved, median wall time and
peak RSS of each run.

usage: benches/gc/race.py KILN WASMTIME [ROUNDS] [--programs a,b]
                          [--runners x,y] [--no-interp] [--timeout SECONDS]

Runners: kiln-cranelift, kiln-interp, wasmtime-drc (Wasmtime's default
collector, deferred reference counting), wasmtime-copying, and
wasmtime-null (never frees; only with --runners). --no-interp, or
KILN_RACE_NO_INTERP=1 in the environment, drops kiln-interp. A run that
exits non-zero or times out (default 600 s) fills its cell with the reason
and that pair is not run again in later rounds; the race goes on.
"""
import argparse, os, signal, statistics, subprocess, sys, tempfile, threading, time

PROGRAMS = ["binary_trees", "list_churn", "array_heavy", "large_heap"]
DEFAULT_RUNNERS = ["kiln-cranelift", "kiln-interp", "wasmtime-drc", "wasmtime-copying"]

parser = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("kiln")
parser.add_argument("wasmtime")
parser.add_argument("rounds", nargs="?", type=int, default=5)
parser.add_argument("--programs", default=",".join(PROGRAMS))
parser.add_argument("--runners", default=",".join(DEFAULT_RUNNERS))
parser.add_argument("--no-interp", action="store_true")
parser.add_argument("--timeout", type=float, default=600)
args = parser.parse_args()

all_runners = {
    "kiln-cranelift": [args.kiln, "run", "-C", "compiler=cranelift"],
    "kiln-interp": [args.kiln, "run", "-C", "compiler=interp"],
    "wasmtime-drc": [args.wasmtime, "run", "-W", "gc=y"],
    "wasmtime-copying": [args.wasmtime, "run", "-W", "gc=y", "-C", "collector=copying"],
    "wasmtime-null": [args.wasmtime, "run", "-W", "gc=y", "-C", "collector=null"],
}
programs = args.programs.split(",")
names = args.runners.split(",")
for p in programs:
    if p not in PROGRAMS:
        sys.exit(f"unknown program {p!r}; known: {', '.join(PROGRAMS)}")
for n in names:
    if n not in all_runners:
        sys.exit(f"unknown runner {n!r}; known: {', '.join(all_runners)}")
if args.no_interp or os.environ.get("KILN_RACE_NO_INTERP", "") not in ("", "0"):
    names = [n for n in names if n != "kiln-interp"]
here = os.path.dirname(os.path.abspath(__file__))
# With RUST_BACKTRACE=1 Wasmtime captures a backtrace for the internal
# "GC heap out of memory" error that precedes each of its collections,
# which made list_churn 35% slower on the copying collector; logging
# variables would slow either runtime the same way.
env = {k: v for k, v in os.environ.items()
       if k not in ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE", "RUST_LOG", "WASMTIME_LOG")}


def run(cmd):
    """Wall seconds, peak RSS in KiB, a failure reason (None if it exited
    0) and the line of its stderr that best says why, for one child.
    wait4 reports the rusage of that child alone, where
    getrusage(RUSAGE_CHILDREN) would give the maximum over every child
    reaped so far."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        lock, state = threading.Lock(), {"exited": False, "killed": False}

        def kill():
            with lock:
                if not state["exited"]:
                    state["killed"] = True
                    proc.kill()

        timer = threading.Timer(args.timeout, kill)
        timer.start()
        # WNOWAIT leaves the child a zombie, so its pid cannot be reused
        # before the timer learns it exited; wait4 then reaps it.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        elapsed = time.perf_counter() - start
        with lock:
            state["exited"] = True
        timer.cancel()
        _, status, usage = os.wait4(proc.pid, 0)
        # Popen must not try to reap the pid again later.
        proc.returncode = os.waitstatus_to_exitcode(status)
        rc = proc.returncode
        if state["killed"]:
            reason = f"timeout ({args.timeout:g}s)"
        elif rc < 0:
            reason = f"failed ({signal.Signals(-rc).name})"
        elif rc != 0:
            reason = f"failed (exit {rc})"
        else:
            reason = None
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines() or [""]
        # Wasmtime puts the trap a few lines down, under "Caused by".
        why = next((l.strip() for l in lines if "trap:" in l), lines[0])
        return elapsed, usage.ru_maxrss, reason, why


times, rss, failed = {}, {}, {}
for r in range(args.rounds):
    print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
    for p in programs:
        path = os.path.join(here, p + ".wat")
        for n in names:
            if (p, n) in failed:
                continue
            elapsed, peak, reason, why = run(all_runners[n] + [path])
            if reason:
                print(f"  {n} on {p}: {reason}: {why}", file=sys.stderr)
                failed[(p, n)] = reason
                continue
            times.setdefault((p, n), []).append(elapsed)
            rss[(p, n)] = max(rss.get((p, n), 0), peak)


def cell(p, n):
    if (p, n) in failed:
        return failed[(p, n)]
    return f"{statistics.median(times[(p, n)]):.3f}s {rss[(p, n)] / 1024:.0f}MB"


def ratio(p, a, b):
    if a not in names or b not in names or (p, a) in failed or (p, b) in failed:
        return "-"
    return f"{statistics.median(times[(p, a)]) / statistics.median(times[(p, b)]):.3f}"


ratios = [("kc/drc", "wasmtime-drc"), ("kc/copying", "wasmtime-copying")]
header = ["program"] + names + [label for label, _ in ratios]
rows = [[p] + [cell(p, n) for n in names] + [ratio(p, "kiln-cranelift", b) for _, b in ratios]
        for p in programs]
widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
print(f"median wall time and max peak RSS over {args.rounds} rounds; "
      "kc = kiln-cranelift's time over the runner's")
for row in [header] + rows:
    print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
