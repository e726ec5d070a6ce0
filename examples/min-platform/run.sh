#!/usr/bin/env bash
# Builds the `no_std` Kiln static library (src/lib.rs), the platform
# (platform.c) and the C host (host.c), precompiles module.wat with the
# workspace's `kiln compile` twice (signal-free and with signals-based
# traps), and runs the host, which prints every result and checks it.
# Also checks that the library's undefined symbols are only the platform
# header's `kiln_*` functions and the C memory routines.
#
#   examples/min-platform/run.sh
#
# Needs gcc, nm and wat2wasm (wabt; ci/setup.sh installs it). x86_64 and
# aarch64 Linux hosts (platform.c reads their machine contexts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/min-platform"
mkdir -p "$out"

echo "==> kiln compile (the workspace's CLI, with Cranelift)"
(cd "$root" && cargo build --locked -q -p kiln-cli)
kiln="$root/target/debug/kiln"
"$kiln" compile "$here/module.wat" -o "$out/signals.kwasm"
"$kiln" compile -W signals-based-traps=n "$here/module.wat" -o "$out/signal-free.kwasm"
wat2wasm "$here/module.wat" -o "$out/module.wasm"

echo "==> the no_std library"
# Its own target directory: its profile (panic = "abort", LTO) would
# otherwise rebuild the workspace's artifacts.
export CARGO_TARGET_DIR="$out/cargo"
(cd "$here" && cargo clippy --locked -q -- -D warnings && cargo build --locked -q --release)
lib="$out/cargo/release/libkiln_min_platform.a"

echo "==> what the library needs from outside"
# Link just the library, rooted at its API, and let the linker list every
# symbol it cannot resolve: exactly what a C host must provide. (`nm -u` on
# the archive would also list what unused members need.) bcmp is memcmp
# for equality only; LLVM calls it where the target's C library has it.
needed="$(ld -o /dev/null -e minp_load -u minp_call -u minp_free "$lib" \
    --warn-unresolved-symbols 2>&1 | sed -n "s/.*undefined reference to \`\(.*\)'/\1/p" | sort -u)"
echo "$needed" | tr '\n' ' '
echo
if ! echo "$needed" | grep -q '^kiln_tls_get$'; then
    echo "FAILED: the link probe found nothing (expected at least kiln_tls_get)" >&2
    exit 1
fi
unexpected="$(echo "$needed" | grep -Ev '^(kiln_[a-z0-9_]+|memcpy|memmove|memset|memcmp|bcmp)$' || true)"
if [ -n "$unexpected" ]; then
    echo "FAILED: the library needs symbols beyond the platform header and the C memory routines:" >&2
    echo "$unexpected" >&2
    exit 1
fi

echo "==> the C host"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I "$root/include" \
    "$here/host.c" "$here/platform.c" "$lib" -o "$out/host"
"$out/host" "$out/module.wasm" "$out/signal-free.kwasm" "$out/signals.kwasm"
