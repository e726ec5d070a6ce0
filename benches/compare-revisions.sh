#!/usr/bin/env bash
# Races `kiln run` of two git revisions on the suite's programs, with code
# placement held equal, and prints each program's median time and the ratio
# (NEW / OLD), then the geomean.
#
# Placement: the interpreter's old `match` dispatch loop was sensitive to
# where the linker put it. Two builds whose loop compiled to the same
# instructions differed by 15-25% in wall time on one VM, with equal
# instruction counts under callgrind (docs/performance.md, issue 10).
# `--align` builds both revisions with every function aligned to a page,
# which makes the loop's offset within its page, and so its cache-line and
# 32-byte-window layout, the same in both. Do not use it for the threaded
# interpreter (issue 13): its ~250 handlers are separate functions, and
# page-aligning each puts them all at one page offset, in the same few L1
# instruction-cache sets; json ran 1.58x slower aligned than not. The
# default is therefore the build users get.
#
# `--backend ops` counts instead of timing: both revisions are built with
# the interpreter's `op-profile` feature (portable loop, every executed op
# counted), each program runs once per revision, and the table shows the
# ops executed. Counts are exact and repeatable where timings on a shared
# VM are not, so they show what a bytecode change saves (dispatches), not
# what each op costs.
#
# usage: benches/compare-revisions.sh OLD NEW [-- options]
#   options (after --):
#     --backend interp|cranelift|ops  (default interp; cranelift runs
#                                   .kwasm precompiled by each revision;
#                                   ops counts executed interpreter ops,
#                                   the reports in target/compare/ops-*)
#     --programs "a b c"           (default: the 16 run-time programs)
#     --rounds N                   (default 3; interleaved OLD, NEW)
#     --align                      page-align every function (see above)
#     --no-align                   the default: build as users do
#
# Builds go to target/compare/<rev>/ (worktrees in target/compare/src-<rev>);
# the suite's .wasm files must be built already (`kiln-bench` does that, into
# target/bench-programs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,33p' "$0"; exit 2; }
old=$1 new=$2; shift 2
[ "${1:-}" = "--" ] && shift
backend=interp rounds=3 align=0
programs="bytecode_vm coremark deflate fannkuch fib json mandelbrot markdown matmul nbody regex sha256 sieve simd sort spectral_norm"
while [ $# -gt 0 ]; do
    case $1 in
        --backend) backend=$2; shift 2 ;;
        --programs) programs=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --no-align) align=0; shift ;;
        --align) align=1; shift ;;
        *) echo "compare-revisions: unknown option $1" >&2; exit 2 ;;
    esac
done
case $backend in interp|cranelift|ops) ;; *) echo "compare-revisions: --backend is interp, cranelift or ops" >&2; exit 2 ;; esac
# Counts are the same on every run.
[ "$backend" = ops ] && rounds=1

wasm_dir=$root/target/bench-programs/wasm32-wasip1/release
for p in $programs; do
    [ -f "$wasm_dir/$p.wasm" ] || { echo "compare-revisions: $wasm_dir/$p.wasm missing; run kiln-bench once to build the suite" >&2; exit 1; }
done

out=$root/target/compare
mkdir -p "$out"
features=()
[ "$backend" = interp ] && features=(--no-default-features)
[ "$backend" = ops ] && features=(--no-default-features --features op-profile)
flags=""
[ $align = 1 ] && flags="-C llvm-args=-align-all-functions=12"

# build REV -> prints the binary's path
build() {
    local rev sha src bin
    rev=$1
    sha=$(git -C "$root" rev-parse --short=12 "$rev^{commit}")
    src=$out/src-$sha
    bin=$out/$sha-$backend-align$align/kiln
    if [ ! -x "$bin" ]; then
        [ -d "$src" ] || git -C "$root" worktree add --detach -q "$src" "$sha"
        # One target directory per revision: with one shared by all, cargo
        # once linked an old revision's crates against a newer revision's
        # `kiln-environ` (same name and version, different paths).
        (cd "$src" && RUSTFLAGS="$flags" CARGO_TARGET_DIR=$out/target-$sha \
            cargo build --release -p kiln-cli "${features[@]}" >&2)
        mkdir -p "$(dirname "$bin")"
        cp "$out/target-$sha/release/kiln" "$bin"
    fi
    echo "$bin"
}
old_bin=$(build "$old")
new_bin=$(build "$new")

# run BIN PROGRAM -> wall seconds (ops: executed ops)
run() {
    local bin=$1 p=$2 s e
    if [ "$backend" = ops ]; then
        local report
        report=$out/ops-$(basename "$(dirname "$bin")")-$p.txt
        KILN_OP_PROFILE=$report "$bin" run "$wasm_dir/$p.wasm" >/dev/null
        sed -n 's/^total //p' "$report"
        return
    fi
    if [ "$backend" = interp ]; then
        s=$(date +%s.%N); "$bin" run -C compiler=interp "$wasm_dir/$p.wasm" >/dev/null; e=$(date +%s.%N)
    else
        s=$(date +%s.%N); "$bin" run --allow-precompiled "$out/$p.$(basename "$(dirname "$bin")").kwasm" >/dev/null; e=$(date +%s.%N)
    fi
    echo "$e - $s" | bc
}
median() { sort -n | sed -n "$(( (rounds + 1) / 2 ))p"; }

echo "old $old ($old_bin)"
echo "new $new ($new_bin)"
echo "backend $backend, rounds $rounds, aligned $align"
printf '%-14s %9s %9s %7s\n' program old new new/old
logsum=0 n=0
for p in $programs; do
    if [ "$backend" = cranelift ]; then
        for b in "$old_bin" "$new_bin"; do
            "$b" compile "$wasm_dir/$p.wasm" -o "$out/$p.$(basename "$(dirname "$b")").kwasm"
        done
    fi
    a=() b=()
    for _ in $(seq "$rounds"); do
        a+=("$(run "$old_bin" "$p")")
        b+=("$(run "$new_bin" "$p")")
    done
    ma=$(printf '%s\n' "${a[@]}" | median)
    mb=$(printf '%s\n' "${b[@]}" | median)
    r=$(echo "scale=4; $mb / $ma" | bc)
    if [ "$backend" = ops ]; then
        printf '%-14s %13s %13s %7.3f\n' "$p" "$ma" "$mb" "$r"
    else
        printf '%-14s %9.3f %9.3f %7.3f\n' "$p" "$ma" "$mb" "$r"
    fi
    logsum=$(echo "scale=8; $logsum + l($r)" | bc -l)
    n=$((n + 1))
done
printf 'geomean new/old over %d programs: %.3f\n' "$n" "$(echo "scale=8; e($logsum / $n)" | bc -l)"
