#!/usr/bin/env bash
# Kiln's test command: what CI runs (through .ci/run) and what to run before
# pushing.
#
#   ./ci/test.sh              everything
#   ./ci/test.sh --quick      everything but the cross-target tests
#   ./ci/test.sh --no-cross   same as --quick
#
# Steps, each with a header and its elapsed seconds, and a table of them all
# at the end:
#   setup     ci/setup.sh (installs what is missing, ~0 s when warm)
#   fmt       cargo fmt --all -- --check (and fmt-programs, fmt-bench: the
#             WASI test programs and the benchmark programs, own workspaces)
#   clippy    cargo clippy --workspace --all-targets -- -D warnings, and
#             clippy-threaded: the interpreter's release (threaded) handlers
#   features  ci/features.sh: `kiln` without default features has no
#             Cranelift crate and builds; only the engine factory names
#             kiln_cranelift; without `std` it builds clippy-clean for
#             x86_64-unknown-none
#   no-std    tests/no-std/run.sh: a #![no_std] program with its own panic
#             handler links `kiln` (runtime + interp) and runs wasm on
#             x86_64-unknown-none, thumbv7em-none-eabihf (qemu-arm) and
#             riscv32imac-unknown-none-elf (qemu-riscv32)
#   test      cargo test --workspace --release (includes the spec suite)
#   tail-dispatch  ci/check-tail-dispatch.sh: on x86_64, every threaded
#             interpreter handler in the release test binary ends in a jump
#   bench     `kiln-bench --quick --runtimes kiln-interp,kiln-cranelift`:
#             builds the `fib` benchmark program for wasm32-wasip1 and races
#             it on Kiln's two backends (not natively: the host build of
#             the programs took 38 s). It proves the harness works; it
#             asserts no timing.
#   loader    ci/loader.sh: kiln-cli without the `cranelift` feature runs
#             modules (a WASI one included) precompiled by the full build,
#             and refuses one compiled for other settings
#   static-link  examples/static-link/test.sh: WASI programs compiled with
#             `kiln compile --emit-object` and linked into a host without a
#             compiler behave as `kiln run --dir .`, and strace sees no
#             executable memory mapped
#   min-platform  examples/min-platform/run.sh: a C host links the no_std
#             Kiln (custom-virtual-memory, custom-native-signals) as a static
#             library over a C platform; runs a module interpreted and
#             precompiled (signal-free and signals-based), checking results,
#             traps and the library's undefined symbols
#   wast      when ../shared/spec-testsuite/SCOPE-wasm2.txt exists: the release
#             `kiln` CLI, `kiln wast -C compiler=interp` and (on Linux x86_64
#             and aarch64) `-C compiler=cranelift`, and on Linux x86_64 also
#             `-C compiler=cranelift -W signals-based-traps=n` and
#             `-C compiler=baseline` (with fallback, then alone on the files
#             spec-exclusions.txt does not list as `@baseline-only`), over
#             every file it lists plus core-extra/memory_grow.wast
#             (ci/cross.sh --host-wast)
#   cross     ci/cross.sh: i686 and s390x (qemu) tests + the same spec files,
#             and the spec files on armv7 (qemu), Windows (Wine) and
#             wasm32-wasip1 (Kiln inside Kiln); `cargo check` for macOS
#
# Environment: KILN_SPEC_SUBSET, KILN_SHARED_DIR and KILN_WAST_TIMEOUT, as
# described in ci/cross.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

cross=1
for arg in "$@"; do
    case "$arg" in
        --quick | --no-cross) cross=0 ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set/d;p}' "$0"
            exit 0
            ;;
        *)
            echo "test.sh: unknown option: $arg" >&2
            exit 2
            ;;
    esac
done

# Colour from cargo/rustc is noise in CI logs.
if [ -n "${CI:-}" ]; then
    export CARGO_TERM_COLOR=never
fi

# shellcheck source=ci/disk.sh
. "$ROOT/ci/disk.sh"
disk_report start
# Incremental caches only pay off across edits; on a short disk they are
# hundreds of MB that a CI run never reuses.
if [ "$(free_gb)" -lt "${KILN_CI_MIN_FREE_GB:-20}" ]; then
    export CARGO_INCREMENTAL=0
fi

timings=()
total_start=$SECONDS

summary() {
    local rc=$?
    echo
    echo "==> step timings"
    local t
    for t in "${timings[@]}"; do
        echo "    $t"
    done
    echo "    total: $((SECONDS - total_start)) s"
    disk_report end
    if [ "$rc" -ne 0 ]; then
        echo "==> FAILED (exit $rc)"
    fi
}
trap summary EXIT

# step NAME CMD...: runs CMD under a header, records its time; a failing
# step ends the script (set -e) after the timing table.
step() {
    local name="$1"
    shift
    echo
    echo "==> [$name] $*"
    local t0=$SECONDS rc=0
    "$@" || rc=$?
    local dt=$((SECONDS - t0))
    if [ "$rc" -eq 0 ]; then
        echo "==> [$name] ok in ${dt} s"
        timings+=("$(printf '%-7s %5s s' "$name" "$dt")")
    else
        echo "==> [$name] FAILED (exit $rc) after ${dt} s"
        timings+=("$(printf '%-7s %5s s  FAILED' "$name" "$dt")")
        exit "$rc"
    fi
}

step setup ./ci/setup.sh
step fmt cargo fmt --all -- --check
# The WASI test programs are their own workspace (built for wasm32-wasip1).
TEST_PROGRAMS=crates/wasi/test-programs/Cargo.toml
step fmt-programs cargo fmt --manifest-path "$TEST_PROGRAMS" -- --check
step fmt-bench cargo fmt --manifest-path benches/programs/Cargo.toml --all -- --check
step fmt-no-std cargo fmt --manifest-path tests/no-std/Cargo.toml -- --check
step fmt-min-platform cargo fmt --manifest-path examples/min-platform/Cargo.toml -- --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
# Release builds compile the interpreter's threaded handlers instead of its
# portable loop (crates/interp/build.rs): lint those too.
step clippy-threaded cargo clippy --release -p kiln-interp --all-targets -- -D warnings
step clippy-programs cargo clippy --manifest-path "$TEST_PROGRAMS" --target wasm32-wasip1 \
    --target-dir target/wasi-test-programs-clippy --locked -- -D warnings
step features ./ci/features.sh
# Only the checks above use the debug and check profiles.
prune_when_low target/debug target/check target/x86_64-unknown-none \
    target/aarch64-unknown-linux-gnu/debug target/wasi-test-programs-clippy
step test cargo test --workspace --release
if [ "$(uname -m)" = x86_64 ]; then
    step tail-dispatch ./ci/check-tail-dispatch.sh
fi
step no-std ./tests/no-std/run.sh
prune_when_low target/no-std
# The harness and the `kiln` command the test step built (both packages have
# integration tests): `cargo run -p kiln-bench`, or the harness building
# `-p kiln-cli` itself, resolves features for that one package, not the
# workspace's test build, and compiles Cranelift and Kiln again (~2-3 min).
step bench ./target/release/kiln-bench --quick --runtimes kiln-interp,kiln-cranelift \
    --kiln target/release/kiln --out target/bench/ci
step loader ./ci/loader.sh
prune_when_low target/loader
step static-link ./examples/static-link/test.sh
step min-platform ./examples/min-platform/run.sh
prune_when_low target/min-platform target/min-platform-aarch64

# The wast step, the wasm32 row and ci/artifacts.sh run the host `kiln` the
# test step built, for the same reason as the bench step above.
export KILN_HOST="$ROOT/target/release/kiln"

SCOPE="${KILN_SHARED_DIR:-$ROOT/../shared}/spec-testsuite/SCOPE-wasm2.txt"
if [ -f "$SCOPE" ]; then
    step wast ./ci/cross.sh --host-wast
else
    echo
    echo "==> [wast] skipped: $SCOPE not found"
fi

if [ "$cross" -eq 1 ]; then
    step cross ./ci/cross.sh
else
    echo
    echo "==> [cross] skipped (--quick / --no-cross)"
fi
