#!/usr/bin/env bash
# Fills fuzz/corpus/instantiate_and_run/ (git-ignored) with the modules of the
# WebAssembly spec scripts, as .wasm seeds. Random bytes almost never form a
# valid module; starting from real ones lets libFuzzer mutate its way into
# the validator, the translator and the interpreter.
#
#   fuzz/seed.sh                 scripts listed in $SPEC/SCOPE-wasm2.txt
#   fuzz/seed.sh FILE.wast...    the given scripts
#
# SPEC defaults to ../shared/spec-testsuite next to the repository. Seeds are
# named by a hash of their bytes, so running again adds nothing twice.
set -euo pipefail

FUZZ="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SPEC="${SPEC:-$FUZZ/../../shared/spec-testsuite}"
OUT="${OUT:-$FUZZ/corpus/instantiate_and_run}"

if [ "$#" -gt 0 ]; then
    files=("$@")
else
    if [ ! -f "$SPEC/SCOPE-wasm2.txt" ]; then
        echo "seed.sh: $SPEC/SCOPE-wasm2.txt not found (set SPEC=DIR or pass .wast files)" >&2
        exit 2
    fi
    files=()
    while IFS= read -r name; do
        [ -n "$name" ] && files+=("$SPEC/$name")
    done < <(grep -v '^\s*#' "$SPEC/SCOPE-wasm2.txt")
fi

# Its own target dir under fuzz/target (git-ignored), apart from the fuzz
# builds' instrumented artifacts.
cargo run --quiet --release \
    --manifest-path "$FUZZ/seed/Cargo.toml" \
    --target-dir "$FUZZ/target/seed" \
    -- "$OUT" "${files[@]}"
