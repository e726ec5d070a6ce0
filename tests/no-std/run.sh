#!/usr/bin/env bash
# Builds the `no_std` check program (this directory) for the three bare-metal
# targets Kiln supports without `std`, runs each (natively on x86_64, under
# user-mode qemu for riscv32 and arm; see src/main.rs), and reports the
# `.text` size of the release build of each.
#
#   tests/no-std/run.sh              all three targets
#   tests/no-std/run.sh TARGET...    just these
#
# Needs the rustup targets and qemu-user (ci/setup.sh installs both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-none thumbv7em-none-eabihf riscv32imac-unknown-none-elf)
# Our own target directory, beside the workspace's, so the release profile
# here (opt-level "s", panic = "abort") does not evict the workspace's.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target/no-std}"

status=0
for target in "${targets[@]}"; do
    echo "==> $target"
    cargo build --release --locked --target "$target"
    bin="$CARGO_TARGET_DIR/$target/release/kiln-no-std-check"
    case $target in
        x86_64-*) run=() ;;
        riscv32*) run=(qemu-riscv32) ;;
        thumb*) run=(qemu-arm) ;;
        *) echo "no runner for $target" >&2; exit 2 ;;
    esac
    if ! "${run[@]}" "$bin"; then
        echo "==> $target: FAILED" >&2
        status=1
    fi
    size -A "$bin" 2>/dev/null | awk -v t="$target" '$1 == ".text" { printf "==> %s: .text of the whole program %d bytes\n", t, $2 }'
done
exit $status
