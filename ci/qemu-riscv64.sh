#!/usr/bin/env bash
# Runs a riscv64gc Linux program under user-mode qemu with the vector
# extension (V, VLEN 128), which Cranelift needs for wasm SIMD: the qemu 10
# that ci/setup.sh unpacks from bookworm-backports (bookworm's own 7.2 lacks
# it), with the cross libc's sysroot. Cargo's runner for the target
# (.cargo/config.toml) and ci/cross.sh use it.
set -euo pipefail
export QEMU_CPU="${QEMU_CPU:-rv64,v=true,vlen=128}"
exec "${KILN_QEMU_DIR:-/opt/kiln-qemu}/qemu-riscv64" -L /usr/riscv64-linux-gnu "$@"
