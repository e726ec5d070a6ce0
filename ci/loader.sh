#!/usr/bin/env bash
# Checks a build of Kiln without a compiler (kiln-cli with the `cranelift`
# feature off): it runs modules precompiled by the full build's
# `kiln compile`, host calls (WASI) included, and refuses an artifact
# compiled for other settings with an error naming the field.
#
# Needs target/release/kiln (the full build, from `cargo test --release`
# or `cargo build --release -p kiln-cli`). Builds the loader as a debug
# binary in target/loader, so the release build stays as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

full=target/release/kiln
[ -x "$full" ] || cargo build --release -p kiln-cli
cargo build -q -p kiln-cli --no-default-features --target-dir target/loader
loader=target/loader/debug/kiln
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "[loader] FAIL: $*" >&2; exit 1; }

# A module of its own, through --invoke: a call chain and a trap.
cat >"$work/fac.wat" <<'WAT'
(module
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "oob") (result i32) (i32.load (i32.const 70000)))
  (memory 1))
WAT
"$full" compile "$work/fac.wat" -o "$work/fac.kwasm"
out=$("$loader" run -C compiler=cranelift --allow-precompiled --invoke fac "$work/fac.kwasm" 20)
[ "$out" = 2432902008176640000 ] || fail "fac(20) printed '$out'"
echo "[loader] precompiled fac(20) = $out"
if err=$("$loader" run -C compiler=cranelift --allow-precompiled --invoke oob "$work/fac.kwasm" 2>&1); then
    fail "an out-of-bounds load did not trap"
fi
grep -q "out of bounds memory access" <<<"$err" || fail "the trap said: $err"
echo "[loader] precompiled out-of-bounds load traps"

# WASI: host functions reached through the module's own trampolines.
wasm=target/bench-programs/wasm32-wasip1/release/fib.wasm
if [ -f "$wasm" ]; then
    "$full" compile "$wasm" -o "$work/fib.kwasm"
    want=$("$full" run --allow-precompiled "$work/fib.kwasm")
    got=$("$loader" run -C compiler=cranelift --allow-precompiled "$work/fib.kwasm")
    [ "$got" = "$want" ] || fail "fib printed '$got', the full build '$want'"
    # Without -C compiler=, a precompiled file picks the loader by itself.
    got=$("$loader" run --allow-precompiled "$work/fib.kwasm")
    [ "$got" = "$want" ] || fail "fib without -C compiler= printed '$got', the full build '$want'"
    echo "[loader] precompiled WASI program: $got"
else
    echo "[loader] $wasm not built; skipping the WASI program"
fi

# Code compiled without signals-based traps (docs/signal-free.md): the
# loader made with the same setting installs no signal handler, and the
# traps come through the runtime's trap builtin.
free=(-W signals-based-traps=n)
"$full" compile "${free[@]}" "$work/fac.wat" -o "$work/free.kwasm"
out=$("$loader" run -C compiler=cranelift "${free[@]}" --allow-precompiled --invoke fac \
    "$work/free.kwasm" 20)
[ "$out" = 2432902008176640000 ] || fail "signal-free fac(20) printed '$out'"
if err=$("$loader" run -C compiler=cranelift "${free[@]}" --allow-precompiled --invoke oob \
    "$work/free.kwasm" 2>&1); then
    fail "a signal-free out-of-bounds load did not trap"
fi
grep -q "out of bounds memory access" <<<"$err" || fail "the signal-free trap said: $err"
if err=$("$loader" run -C compiler=cranelift --allow-precompiled --invoke fac \
    "$work/free.kwasm" 5 2>&1); then
    fail "a signal-free artifact loaded into an engine with signals-based traps"
fi
grep -q "signals_based_traps" <<<"$err" || fail "the refusal said: $err"
echo "[loader] signal-free code runs and traps; the other mode is refused by name"

# Other settings: refused, naming what differs.
"$full" compile -W fuel=1000 "$work/fac.wat" -o "$work/fuel.kwasm"
if err=$("$loader" run -C compiler=cranelift --allow-precompiled --invoke fac "$work/fuel.kwasm" 5 2>&1); then
    fail "an artifact compiled with fuel loaded into an engine without"
fi
grep -q "memory or fuel settings" <<<"$err" || fail "the refusal said: $err"
echo "[loader] an artifact for other settings is refused: $(head -1 <<<"$err")"

# Compiling needs a compiler.
if err=$("$loader" compile -C compiler=cranelift "$work/fac.wat" -o "$work/x.kwasm" 2>&1); then
    fail "the loader compiled"
fi
grep -q "no native compiler" <<<"$err" || fail "compile said: $err"
echo "[loader] compiling is refused: $(head -1 <<<"$err")"
