#!/usr/bin/env bash
# Checks the `kiln` crate's feature promises (docs/architecture.md):
#   - with default features off (plus `std`), `cargo tree -p kiln` holds no
#     `cranelift-*` crate, and the crate builds;
#   - no file of the runtime outside the engine factory names a
#     `kiln_cranelift` or `kiln_baseline` item;
#   - `cranelift` without `baseline` builds warning-free;
#   - without `std` (`runtime,interp` only) the crate builds and is clippy
#     clean for a bare-metal target (tests/no-std/run.sh then links and
#     runs it on three of them), and so it is with the custom-virtual-memory
#     and custom-native-signals features, there and for aarch64 (whose
#     trampolines then build without the OS layer; examples/min-platform
#     runs the x86_64 build);
#   - without the `gc` feature GC modules are refused, and with it (and
#     without `std`) the collector builds clippy clean;
#   - the interpreter's op-profile feature builds and is clippy clean.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "[features] cargo tree -p kiln --no-default-features --features std"
tree="$(cargo tree -p kiln --no-default-features --features std --prefix none --edges normal)"
if grep -E '^(cranelift-|kiln-cranelift|kiln-baseline)' <<<"$tree"; then
    echo "[features] FAIL: the crates above are in kiln's tree with default features off" >&2
    exit 1
fi
echo "[features] no Cranelift crate in the tree ($(wc -l <<<"$tree") lines)"

echo "[features] cargo check -p kiln --no-default-features --features std (warnings denied)"
# `cargo rustc` passes -D warnings to kiln alone, so the dependencies'
# build cache (keyed on RUSTFLAGS) stays warm.
cargo rustc -q -p kiln --lib --profile check --no-default-features --features std -- -D warnings

# The runtime names a backend crate in one place: the engine's factory.
named="$(grep -rlnE 'kiln_(cranelift|baseline)' crates/kiln/src | grep -v '^crates/kiln/src/engine.rs$' || true)"
if [ -n "$named" ]; then
    echo "[features] FAIL: these runtime files name kiln_cranelift or kiln_baseline (only engine.rs may):" >&2
    echo "$named" >&2
    exit 1
fi
echo "[features] only crates/kiln/src/engine.rs names kiln_cranelift and kiln_baseline"

echo "[features] cargo check -p kiln --no-default-features --features std,cranelift (warnings denied)"
cargo rustc -q -p kiln --lib --profile check --no-default-features --features std,cranelift -- -D warnings

echo "[features] without gc: GC modules are refused (cargo test -p kiln --lib --no-default-features --features std)"
cargo test -q -p kiln --lib --no-default-features --features std gc_modules_need_the_proposal_and_the_feature

echo "[features] cargo clippy -p kiln --no-default-features --features runtime,interp --target x86_64-unknown-none"
cargo clippy -q -p kiln --no-default-features --features runtime,interp --target x86_64-unknown-none -- -D warnings
echo "[features] the same with gc: the collector builds without std"
cargo clippy -q -p kiln --no-default-features --features runtime,interp,gc --target x86_64-unknown-none -- -D warnings

echo "[features] the same with custom-virtual-memory,custom-native-signals (x86_64-unknown-none, aarch64)"
custom=runtime,interp,custom-virtual-memory,custom-native-signals
cargo clippy -q -p kiln --no-default-features --features "$custom" --target x86_64-unknown-none -- -D warnings
cargo clippy -q -p kiln --no-default-features --features "$custom" --target aarch64-unknown-linux-gnu -- -D warnings
# The op-profile measuring build (benches/compare-revisions.sh --backend
# ops) is in no default build; keep it compiling and lint-clean.
echo "[features] cargo clippy -p kiln-interp --features op-profile --all-targets"
cargo clippy -q -p kiln-interp --features op-profile --all-targets -- -D warnings
