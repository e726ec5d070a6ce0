#!/usr/bin/env bash
# Precompiled modules across machines: a module compiled on this (x86_64)
# host for TARGET with `kiln compile --target TARGET` must run on TARGET
# (under user-mode qemu) with exactly the output the host gets running the
# same module natively: stdout, stderr and exit status, byte for byte.
#
#   ci/artifacts.sh TARGET...
#   ci/artifacts.sh --kiln TARGET=PATH... TARGET...
#
# TARGET: s390x-unknown-linux-gnu, riscv64gc-unknown-linux-gnu or
# aarch64-unknown-linux-gnu (the runners below). For each target the
# cross-built `kiln` is PATH when given with --kiln TARGET=PATH, otherwise
# it is built here (`cargo build --release --target TARGET -p kiln-cli`).
# The host `kiln` is built here too (or taken from $KILN_HOST when set).
#
# The cases are the examples' exported functions (integer, float and
# multi-value results, a trap with its wasm backtrace) plus a module in
# this script that reads and writes memory, globals and a table with every
# width, where a big-endian target's byte order would show.
#
# riscv64gc artifacts are compiled for RV64GC + V (crates/cranelift/src/isa.rs)
# and a host loads only code whose CPU features it has, so they run under
# ci/qemu-riscv64.sh, which enables V (bookworm's qemu 7.2 cannot).
#
# Then, per target, static linking: the WASI test program exit_code (built by
# `cargo test -p kiln-wasi`) compiled with `kiln compile --emit-object
# --target TARGET`, linked into examples/static-link's host built for
# TARGET, and run under the runner.
#
# Prints wall times per target (build, compile + run). Exit status 1 on any
# mismatch or failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

declare -A given=()
targets=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --kiln)
            given["${2%%=*}"]="${2#*=}"
            shift 2
            ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set/d;p}' "$0"
            exit 0
            ;;
        *)
            targets+=("$1")
            shift
            ;;
    esac
done
if [ "${#targets[@]}" -eq 0 ]; then
    echo "usage: ci/artifacts.sh [--kiln TARGET=PATH]... TARGET..." >&2
    exit 2
fi

runner_of() {
    case "$1" in
        s390x-unknown-linux-gnu) echo "qemu-s390x -L /usr/s390x-linux-gnu" ;;
        riscv64gc-unknown-linux-gnu) echo "$ROOT/ci/qemu-riscv64.sh" ;;
        aarch64-unknown-linux-gnu) echo "qemu-aarch64 -L /usr/aarch64-linux-gnu" ;;
        *) return 1 ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A module whose results depend on byte order if anything is wrong: stores
# of every width read back at other widths, a global of each type, a table.
cat >"$work/bytes.wat" <<'EOF'
(module
  (memory 1)
  (global $g32 (mut i32) (i32.const 0x11223344))
  (global $g64 (mut i64) (i64.const 0x1122334455667788))
  (global $gf (mut f32) (f32.const 1.5))
  (global $gd (mut f64) (f64.const -2.25))
  (table 2 funcref)
  (elem (i32.const 1) $one)
  (type $t (func (result i32)))
  (func $one (result i32) (i32.const 1))
  (data (i32.const 16) "\01\02\03\04\05\06\07\08")
  (func (export "mixed") (result i64)
    (i64.store (i32.const 0) (i64.const 0x0102030405060708))
    (i64.add
      (i64.load32_u (i32.const 4))
      (i64.extend_i32_u (i32.load16_s (i32.const 1)))))
  (func (export "data") (result i32 i64)
    (i32.load (i32.const 16)) (i64.load (i32.const 16)))
  (func (export "globals") (param i32) (result i32 i64 f32 f64)
    (global.set $g32 (i32.add (global.get $g32) (local.get 0)))
    (global.set $g64 (i64.add (global.get $g64) (i64.extend_i32_s (local.get 0))))
    (global.set $gf (f32.add (global.get $gf) (f32.convert_i32_s (local.get 0))))
    (global.set $gd (f64.sub (global.get $gd) (f64.convert_i32_s (local.get 0))))
    (global.get $g32) (global.get $g64) (global.get $gf) (global.get $gd))
  (func (export "table") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0)))
  (func (export "bytes") (param i32) (result i32)
    (i32.store8 (i32.const 100) (local.get 0))
    (i32.store16 (i32.const 101) (local.get 0))
    (i32.load (i32.const 100))))
EOF

# name|file|function|args...
CASES=(
    "fib|examples/hello.wat|fib|30"
    "fib_rec|examples/hello.wat|fib_rec|20"
    "add|examples/hello.wat|add|2|40"
    "hypot|examples/floats.wat|hypot|3|4"
    "divmod|examples/floats.wat|divmod|--|-7|2"
    "divide|examples/trap.wat|divide|7|2"
    "divide0|examples/trap.wat|divide|1|0"
    "crash|examples/trap.wat|crash"
    "mixed|$work/bytes.wat|mixed"
    "data|$work/bytes.wat|data"
    "globals|$work/bytes.wat|globals|-3"
    "table|$work/bytes.wat|table|1"
    "table0|$work/bytes.wat|table|0"
    "bytes|$work/bytes.wat|bytes|0x1ff"
)

# run_case OUTFILE KILN... -- FILE FUNC ARGS...: runs one invocation and
# records stdout, stderr and the exit status in OUTFILE.
record() {
    local out="$1"
    shift
    local rc=0
    "$@" >"$out.stdout" 2>"$out.stderr" || rc=$?
    echo "$rc" >"$out.status"
}

host_kiln="${KILN_HOST:-}"
if [ -z "$host_kiln" ]; then
    t0=$SECONDS
    cargo build --release -p kiln-cli
    echo "==> host kiln built in $((SECONDS - t0)) s"
    host_kiln="$TARGET_DIR/release/kiln"
fi

# Host reference outputs: the same modules compiled and run on the host.
mkdir -p "$work/host"
for case in "${CASES[@]}"; do
    IFS='|' read -r -a f <<<"$case"
    name="${f[0]}" file="${f[1]}" func="${f[2]}"
    args=("${f[@]:3}")
    record "$work/host/$name" "$host_kiln" run -C compiler=cranelift "$file" --invoke "$func" "${args[@]}"
done

status=0
for target in "${targets[@]}"; do
    if ! runner="$(runner_of "$target")"; then
        echo "artifacts.sh: no runner known for $target" >&2
        exit 2
    fi
    kiln="${given[$target]:-}"
    if [ -z "$kiln" ]; then
        t0=$SECONDS
        cargo build --release --target "$target" -p kiln-cli
        echo "==> [$target] kiln built in $((SECONDS - t0)) s"
        kiln="$TARGET_DIR/$target/release/kiln"
    fi
    t0=$SECONDS
    dir="$work/$target"
    mkdir -p "$dir"
    ok=0 bad=0
    for case in "${CASES[@]}"; do
        IFS='|' read -r -a f <<<"$case"
        name="${f[0]}" file="${f[1]}" func="${f[2]}"
        args=("${f[@]:3}")
        art="$dir/$name.kwasm"
        why=""
        if ! "$host_kiln" compile --target "$target" "$file" -o "$art" 2>"$dir/$name.compile"; then
            why="kiln compile --target failed: $(head -c 300 "$dir/$name.compile")"
        else
            # The target's `kiln` may be a loader without Cranelift: a
            # precompiled file picks the Cranelift strategy by itself.
            # shellcheck disable=SC2086 # the runner is words
            record "$dir/$name" $runner "$kiln" run --allow-precompiled "$art" \
                --invoke "$func" "${args[@]}"
            for part in stdout stderr status; do
                if ! cmp -s "$work/host/$name.$part" "$dir/$name.$part"; then
                    why="$why $part differs;"
                fi
            done
        fi
        if [ -z "$why" ]; then
            ok=$((ok + 1))
            printf '  ok    %-10s %s\n' "$name" "$(tr '\n' ' ' <"$dir/$name.stdout" | head -c 60)"
        else
            bad=$((bad + 1))
            printf '  FAIL  %-10s %s\n' "$name" "$why"
            for part in stdout stderr status; do
                if [ -f "$dir/$name.$part" ] && ! cmp -s "$work/host/$name.$part" "$dir/$name.$part"; then
                    diff <(cat "$work/host/$name.$part") <(cat "$dir/$name.$part") |
                        sed -n '1,12{s/^/        | /;p}' || true
                fi
            done
        fi
    done
    echo "==> [$target] $ok ok, $bad failed (compile + run in $((SECONDS - t0)) s)"
    [ "$bad" -eq 0 ] || status=1

    # Static linking for the target: a WASI program compiled with
    # --emit-object, linked into examples/static-link's host built for the
    # target (no compiler), run under the runner.
    exit_code="$TARGET_DIR/wasi-test-programs/wasm32-wasip1/release/exit_code.wasm"
    if [ -f "$exit_code" ]; then
        t0=$SECONDS
        obj="$dir/exit_code.o"
        "$host_kiln" compile --emit-object --target "$target" --symbol kiln_static_module \
            "$exit_code" -o "$obj"
        KILN_STATIC_OBJECT="$obj" cargo build -q --release --target "$target" \
            -p kiln-static-link-example
        rc=0
        # shellcheck disable=SC2086 # the runner is words
        out="$($runner "$TARGET_DIR/$target/release/kiln-static-host" 5 2>/dev/null)" || rc=$?
        if [ "$rc" = 5 ] && [ "$out" = "exiting with 5" ]; then
            echo "==> [$target] statically linked WASI program: ok ($((SECONDS - t0)) s)"
        else
            echo "==> [$target] statically linked WASI program: FAIL (status $rc, printed '$out')"
            status=1
        fi
    else
        echo "==> [$target] $exit_code not built; static linking not checked"
    fi
done
exit "$status"
