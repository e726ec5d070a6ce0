#!/usr/bin/env bash
# A real C library on memory64: LZ4 1.10.0 (fetched from crates.io's
# lz4-sys package, which vendors it; not kept here), driven by
# lz4/driver.c, built with clang for wasm32 and for wasm64 from the same
# source.
#
#   tests/real-programs/lz4.sh            outputs of Kiln (interpreter and
#                                         Cranelift) against Wasmtime 48's
#   tests/real-programs/lz4.sh --bench [N]
#                                         Cranelift, wasm64 build against
#                                         wasm32 build, N interleaved runs
#                                         (default 5), median times
#
# The checks: each build compresses and decompresses 16 MB of text-like
# data four times and returns a digest of what it produced; the wasm64
# build does it once more with every buffer placed above 4 GiB (address
# 5 GiB), where a 32-bit address cannot reach. (The two builds' digests
# differ from each other: LZ4 picks its hash table layout by pointer size.)
#
# Needs clang-16 and wasm-ld-16 (Debian's clang-16 and lld-16), curl, pip
# and unzip; builds target/release/kiln if it is missing. Not part of
# ci/test.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="$root/target/real-programs"
mkdir -p "$cache"

bench=0 runs=5
if [ "${1:-}" = --bench ]; then
    bench=1
    runs="${2:-5}"
fi

# LZ4's source, from the crate that vendors it (checked by hash).
crate=lz4-sys-1.11.1+lz4-1.10.0
sha=6bd8c0d6c6ed0cd30b3652886bb8711dc4bb01d637a68105a3d5158039b418e6
lz4="$cache/$crate/liblz4/lib"
if [ ! -f "$lz4/lz4.c" ]; then
    curl -sSfL -o "$cache/$crate.crate" "https://static.crates.io/crates/lz4-sys/${crate/+/%2B}.crate"
    echo "$sha  $cache/$crate.crate" | sha256sum -c --quiet
    tar -xzf "$cache/$crate.crate" -C "$cache"
fi

for bits in 32 64; do
    clang-16 --target="wasm$bits-unknown-unknown" -O2 -ffreestanding -nostdlib -mbulk-memory \
        -DLZ4_FREESTANDING=1 -DLZ4_memcpy=__builtin_memcpy -DLZ4_memset=__builtin_memset \
        -DLZ4_memmove=__builtin_memmove -DLZ4_USER_MEMORY_FUNCTIONS -I"$lz4" \
        "$here/lz4/driver.c" "$lz4/lz4.c" \
        -Wl,--no-entry -Wl,--export=run -Wl,-z,stack-size=1048576 -o "$cache/lz4-$bits.wasm"
done

kiln="$root/target/release/kiln"
[ -x "$kiln" ] || cargo build --release -p kiln-cli --manifest-path "$root/Cargo.toml"

if [ "$bench" -eq 1 ]; then
    # 64 MB, 8 rounds: about a second per run; the builds alternate.
    declare -A times
    for ((i = 0; i < runs; i++)); do
        for bits in 32 64; do
            t0=$(date +%s%N)
            "$kiln" run -C compiler=cranelift --invoke run "$cache/lz4-$bits.wasm" 0 64000000 8 >/dev/null
            times[$bits]+="$(( ($(date +%s%N) - t0) / 1000000 )) "
        done
    done
    median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    m32=$(echo "${times[32]}" | median)
    m64=$(echo "${times[64]}" | median)
    echo "Cranelift, LZ4 64 MB x 8 rounds, median of $runs: wasm32 ${m32} ms, wasm64 ${m64} ms," \
        "ratio $(awk -v a="$m64" -v b="$m32" 'BEGIN { printf "%.3f", a / b }')"
    exit 0
fi

# Wasmtime 48's release binary, as the reference.
# shellcheck source=tests/real-programs/fetch.sh
. "$here/fetch.sh"
fetch_wasmtime

status=0
check() { # check BITS BASE: every runtime must return the same digest
    local bits="$1" base="$2" want got compiler
    want="$("$wasmtime" run -W memory64=y --invoke run "$cache/lz4-$bits.wasm" "$base" 16000000 4 2>/dev/null)"
    case "$want" in
        -* | "") echo "FAIL  lz4 wasm$bits base $base: Wasmtime returned '$want'"; status=1; return ;;
    esac
    for compiler in interp cranelift; do
        got="$("$kiln" run -C compiler="$compiler" --invoke run "$cache/lz4-$bits.wasm" "$base" 16000000 4 2>&1)" || true
        if [ "$got" = "$want" ]; then
            echo "ok    lz4 wasm$bits base $base, $compiler: $got, as Wasmtime 48"
        else
            echo "FAIL  lz4 wasm$bits base $base, $compiler: '$got', Wasmtime 48 '$want'"
            status=1
        fi
    done
}
check 32 0
check 64 0
check 64 $((5 << 30))
exit "$status"
