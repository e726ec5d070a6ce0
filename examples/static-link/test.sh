#!/usr/bin/env bash
# Checks examples/static-link: programs linked by build.sh behave as
# `kiln run --dir .` does on the same .wasm (output, exit status, arguments,
# files in the current directory), and map no executable memory at run time:
# under strace there is no anonymous mapping with PROT_EXEC and no mprotect
# to PROT_EXEC. The same strace check run on `kiln run` of a .kwasm (which
# maps its code) must fail, so the check is known to see what it looks for.
#
# Needs the WASI test programs (built by `cargo test -p kiln-wasi`), the
# benchmark suite's fib.wasm if present, target/release/kiln, and strace.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
kiln=target/release/kiln
progs=target/wasi-test-programs/wasm32-wasip1/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "[static-link] FAIL: $*" >&2; exit 1; }
command -v strace >/dev/null || fail "strace is not installed (ci/setup.sh installs it)"

# jit_free LOG: no anonymous executable mapping, no mprotect to executable.
jit_free() {
    ! grep -E 'mmap\(.*PROT_EXEC.*MAP_ANONYMOUS|mprotect\(.*PROT_EXEC' "$1" >/dev/null
}

# same NAME WASM ARGS...: builds NAME from WASM, runs both ways in $work
# (which holds a file to read), compares output and status, checks strace.
same() {
    local name=$1 wasm=$2; shift 2
    examples/static-link/build.sh "$wasm" "$work/$name" >/dev/null 2>"$work/build.err" ||
        { cat "$work/build.err" >&2; fail "build.sh $wasm"; }
    local want got ws=0 gs=0
    want=$(cd "$work" && "$root/$kiln" run --dir . "$root/$wasm" "$@" 2>&1) || ws=$?
    got=$(cd "$work" && "./$name" "$@" 2>&1) || gs=$?
    # argv[0] is the program's name: the .wasm path for `kiln run`.
    want=$(grep -v '^arg 0:' <<<"$want" || true)
    got=$(grep -v '^arg 0:' <<<"$got" || true)
    [ "$got" = "$want" ] || fail "$name $*: printed\n$got\nbut kiln run printed\n$want"
    [ "$gs" = "$ws" ] || fail "$name $*: exit status $gs, kiln run's $ws"
    (cd "$work" && strace -f -qq -e trace=mmap,mprotect,pkey_mprotect -o "$work/$name.strace" \
        "./$name" "$@" >/dev/null 2>&1) || true
    jit_free "$work/$name.strace" || { grep EXEC "$work/$name.strace" >&2; fail "$name mapped executable memory"; }
    echo "[static-link] $name $*: same output and status ($gs) as kiln run; no executable memory mapped"
}

printf 'one two\nthree\n' >"$work/words.txt"
same exit_code "$progs/exit_code.wasm" 7
same args_env "$progs/args_env.wasm" a 'b c'
same wc "$progs/wc.wasm" words.txt
fib=target/bench-programs/wasm32-wasip1/release/fib.wasm
if [ -f "$fib" ]; then
    same fib "$fib"
fi

# The control: loading a .kwasm maps code, and the check sees it.
"$kiln" compile "$progs/exit_code.wasm" -o "$work/exit_code.kwasm"
strace -f -qq -e trace=mmap,mprotect,pkey_mprotect -o "$work/control.strace" \
    "$kiln" run --allow-precompiled "$work/exit_code.kwasm" 0 >/dev/null 2>&1 || true
if jit_free "$work/control.strace"; then
    fail "the strace check saw no executable mapping from kiln run of a .kwasm either"
fi
echo "[static-link] control: kiln run of a .kwasm is seen mapping executable memory"
