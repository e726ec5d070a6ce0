#!/usr/bin/env bash
# Builds the `no_std` Kiln static library (src/lib.rs), the platform
# (platform.c) and the C host (host.c), precompiles module.wat with the
# workspace's `kiln compile` (signal-free and with signals-based traps),
# and runs the host, which prints every result and checks it. Then the
# same with the minimal platform (TLS and locks only) and the module's
# signal-free code linked into the host. Also checks that each library's
# undefined symbols are only its platform functions and the C memory
# routines.
#
#   examples/min-platform/run.sh           this host (x86_64 or aarch64 Linux)
#   examples/min-platform/run.sh aarch64   cross-built for aarch64 Linux and
#                                          run under qemu-aarch64 (ci/setup.sh
#                                          installs the cross gcc and qemu)
#
# Needs gcc, nm and wat2wasm (wabt; ci/setup.sh installs it). x86_64 and
# aarch64 Linux hosts (platform.c reads their machine contexts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
case "${1:-}" in
    "")
        target="" cc=gcc ld=ld run=() out="$root/target/min-platform" extra_import=""
        ;;
    aarch64)
        target=aarch64-unknown-linux-gnu cc=aarch64-linux-gnu-gcc ld=aarch64-linux-gnu-ld
        run=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
        out="$root/target/min-platform-aarch64"
        # The precompiled `core` of aarch64 Linux targets calls the outline
        # atomics helpers, whose start-up code asks the C library's
        # getauxval whether the CPU has LSE; bare-metal aarch64 targets
        # have neither. So this build also imports getauxval.
        extra_import='|getauxval'

        ;;
    *)
        echo "usage: $0 [aarch64]" >&2
        exit 2
        ;;
esac
mkdir -p "$out"
# `kiln compile` and cargo for the chosen target.
compile_for=(${target:+--target "$target"})
cargo_for=(${target:+--target "$target"})
release="$out/cargo/${target:+$target/}release"

echo "==> kiln compile (the workspace's CLI, with Cranelift)"
# The release build, which CI's test step has already made (as
# examples/static-link/build.sh does; rebuild it after changing Kiln).
kiln="$root/target/release/kiln"
[ -x "$kiln" ] || (cd "$root" && cargo build --locked -q --release -p kiln-cli)
"$kiln" compile "${compile_for[@]}" "$here/module.wat" -o "$out/signals.kwasm"
"$kiln" compile "${compile_for[@]}" -W signals-based-traps=n "$here/module.wat" \
    -o "$out/signal-free.kwasm"
wat2wasm "$here/module.wat" -o "$out/module.wasm"

"$kiln" compile "${compile_for[@]}" --emit-object --symbol minp_linked_module \
    -W signals-based-traps=n "$here/module.wat" -o "$out/linked.o"

# Its own target directory: its profile (panic = "abort", LTO) would
# otherwise rebuild the workspace's artifacts. Both builds write the same
# archive name, so each is copied out.
export CARGO_TARGET_DIR="$out/cargo"
echo "==> the no_std library: full platform (custom-virtual-memory, custom-native-signals)"
(cd "$here" && cargo clippy --locked -q "${cargo_for[@]}" -- -D warnings &&
    cargo build --locked -q --release "${cargo_for[@]}")
cp "$release/libkiln_min_platform.a" "$out/libkiln-full.a"
echo "==> the no_std library: minimal platform (TLS and locks only)"
(cd "$here" && cargo clippy --locked -q --no-default-features "${cargo_for[@]}" -- -D warnings &&
    cargo build --locked -q --release --no-default-features "${cargo_for[@]}")
cp "$release/libkiln_min_platform.a" "$out/libkiln-minimal.a"

# check_needs LIB ALLOWED: links just the library, rooted at its API, and
# lets the linker list every symbol it cannot resolve (exactly what a C host
# must provide; `nm -u` on the archive would also list what unused members
# need), then fails if any is outside the regex ALLOWED.
check_needs() {
    local lib=$1 allowed=$2 needed unexpected
    echo "==> what $(basename "$lib") needs from outside"
    needed="$("$ld" -o /dev/null -e minp_load -u minp_call -u minp_free -u minp_load_static "$lib" \
        --warn-unresolved-symbols 2>&1 | sed -n "s/.*undefined reference to \`\(.*\)'/\1/p" | sort -u)"
    echo "$needed" | tr '\n' ' '
    echo
    if ! echo "$needed" | grep -q '^kiln_tls_get$'; then
        echo "FAILED: the link probe found nothing (expected at least kiln_tls_get)" >&2
        exit 1
    fi
    unexpected="$(echo "$needed" | grep -Ev "^($allowed|memcpy|memmove|memset|memcmp$extra_import)\$" || true)"
    if [ -n "$unexpected" ]; then
        echo "FAILED: $(basename "$lib") needs symbols beyond its platform functions and the C memory routines:" >&2
        echo "$unexpected" >&2
        exit 1
    fi
}
check_needs "$out/libkiln-full.a" 'kiln_[a-z0-9_]+'
check_needs "$out/libkiln-minimal.a" 'kiln_tls_get|kiln_tls_set|kiln_lock_acquire|kiln_lock_release'

cflags=(-std=c11 -O2 -Wall -Wextra -Werror -I "$root/include")
echo "==> the C host, full platform"
"$cc" "${cflags[@]}" "$here/host.c" "$here/platform.c" "$out/libkiln-full.a" -o "$out/host"
"${run[@]}" "$out/host" "$out/module.wasm" "$out/signal-free.kwasm" "$out/signals.kwasm"
echo "==> the C host, minimal platform, with the module's code linked in"
"$cc" "${cflags[@]}" -DMINIMAL_PLATFORM "$here/host.c" "$here/platform.c" "$out/linked.o" \
    "$out/libkiln-minimal.a" -o "$out/host-minimal"
"${run[@]}" "$out/host-minimal" "$out/module.wasm"
