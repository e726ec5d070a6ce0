#!/usr/bin/env bash
# What native code compiled without signals-based traps costs
# (`-W signals-based-traps=n`, docs/signal-free.md): run time and code size
# of benchmark programs, each precompiled both ways.
#
#   benches/signal-free.sh [PROGRAM...]   default: sieve matmul sha256 json coremark
#
# For each program: `kiln compile` three ways (default: signals and guard
# pages; `-O memory_reservation=1G`: signals, explicit bounds checks;
# `-W signals-based-traps=n`: the mode, whose bounds checks are explicit
# too), then `kiln run --allow-precompiled` of the three artifacts,
# alternating, RUNS times each (default 3). Prints the median wall time of
# each and the size of each artifact's machine code (the text image, read
# from the artifact's header: docs/precompiled.md), and the mode's ratios
# to the default and to explicit checks.
#
# Environment: KILN (default target/release/kiln, which must exist),
# KILN_BENCH_PROGRAMS (the folder of <program>.wasm; default
# target/bench-programs/wasm32-wasip1/release, which `kiln-bench` builds),
# RUNS. Needs python3 for the header.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KILN="${KILN:-$ROOT/target/release/kiln}"
PROGRAMS_DIR="${KILN_BENCH_PROGRAMS:-$ROOT/target/bench-programs/wasm32-wasip1/release}"
RUNS="${RUNS:-3}"
if [ "$#" -eq 0 ]; then
    set -- sieve matmul sha256 json coremark
fi
[ -x "$KILN" ] || {
    echo "signal-free.sh: $KILN not found (cargo build --release -p kiln-cli)" >&2
    exit 2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# text_size ARTIFACT: the length of its text image.
text_size() {
    python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\0kilnaot", "not a Kiln artifact"
at = 12  # magic, format version
for _ in range(4):  # version, fingerprint, triple, wasm
    (n,) = struct.unpack_from("<Q", b, at)
    at += 8 + n
(n,) = struct.unpack_from("<Q", b, at)
print(n)
EOF
}

# seconds CMD...: runs CMD (output discarded; it must succeed) and prints
# its wall time in seconds.
seconds() {
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    local t1=$EPOCHREALTIME
    echo "$t1 - $t0" | bc -l
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

modes=(signals explicit free)
declare -A flags=(
    [signals]=""
    [explicit]="-O memory_reservation=1G"
    [free]="-W signals-based-traps=n"
)
printf '%-10s %9s %9s %9s %6s %6s   %8s %8s %8s %6s %6s\n' program \
    "signals" "explicit" "free" "f/s" "f/e" "text s" "text e" "text f" "f/s" "f/e"
for p in "$@"; do
    wasm="$PROGRAMS_DIR/$p.wasm"
    declare -A times=() size=()
    for m in "${modes[@]}"; do
        # shellcheck disable=SC2086 # the flags are words
        "$KILN" compile ${flags[$m]} "$wasm" -o "$work/$p.$m.kwasm"
        size[$m]="$(text_size "$work/$p.$m.kwasm")"
        times[$m]=""
    done
    for _ in $(seq "$RUNS"); do
        for m in "${modes[@]}"; do
            # shellcheck disable=SC2086
            times[$m]+="$(seconds "$KILN" run --allow-precompiled ${flags[$m]} \
                "$work/$p.$m.kwasm") "
        done
    done
    declare -A med=()
    for m in "${modes[@]}"; do
        med[$m]="$(printf '%s\n' ${times[$m]} | median)"
    done
    ratio() { echo "$1 / $2" | bc -l; }
    printf '%-10s %8.3fs %8.3fs %8.3fs %6.3f %6.3f   %8d %8d %8d %6.3f %6.3f\n' "$p" \
        "${med[signals]}" "${med[explicit]}" "${med[free]}" \
        "$(ratio "${med[free]}" "${med[signals]}")" "$(ratio "${med[free]}" "${med[explicit]}")" \
        "${size[signals]}" "${size[explicit]}" "${size[free]}" \
        "$(ratio "${size[free]}" "${size[signals]}")" "$(ratio "${size[free]}" "${size[explicit]}")"
done
